// The core's logger (lkk/log.h) and its C boundary (lkk_set_logger in capi.h): lines reach
// the glue's function with their level, any thread may log, and NULL brings back stderr with
// a time and the level.
#include <gtest/gtest.h>

#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lkk/capi.h"
#include "lkk/log.h"

namespace {

struct Captured {
    std::mutex mutex;
    std::vector<std::pair<int, std::string>> lines;
};

extern "C" void capture(void* ctx, int level, const char* msg, size_t len) {
    auto* c = static_cast<Captured*>(ctx);
    std::lock_guard<std::mutex> lock(c->mutex);
    c->lines.emplace_back(level, std::string(msg, len));
}

class LogTest : public ::testing::Test {
  protected:
    void TearDown() override { lkk_set_logger(nullptr, nullptr); }
    Captured captured_;
};

TEST_F(LogTest, LinesReachTheGlueWithTheirSyslogLevel) {
    lkk_set_logger(capture, &captured_);
    lkk::log(lkk::LogLevel::error, "database down");
    lkk::log(lkk::LogLevel::info, "GET /lkk/accounts/7: not found");
    lkk::log(lkk::LogLevel::debug, "detail");
    ASSERT_EQ(captured_.lines.size(), 3u);
    EXPECT_EQ(captured_.lines[0], std::make_pair(int{LKK_LOG_ERR}, std::string("database down")));
    EXPECT_EQ(captured_.lines[1].first, LKK_LOG_INFO);
    EXPECT_EQ(captured_.lines[2].first, LKK_LOG_DEBUG);
    lkk::log(lkk::LogLevel::warn, "w");
    lkk::log(lkk::LogLevel::notice, "n");
    EXPECT_EQ(captured_.lines[3].first, LKK_LOG_WARN);
    EXPECT_EQ(captured_.lines[4].first, LKK_LOG_NOTICE);
}

TEST_F(LogTest, AnyThreadMayLog) {
    lkk_set_logger(capture, &captured_);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([] {
            for (int i = 0; i < 100; ++i) lkk::log(lkk::LogLevel::warn, "from a pool thread");
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(captured_.lines.size(), 400u);
}

TEST_F(LogTest, NullRestoresStderrWithTimeAndLevel) {
    lkk_set_logger(capture, &captured_);
    lkk_set_logger(nullptr, &captured_);
    ::testing::internal::CaptureStderr();
    lkk::log(lkk::LogLevel::error, "smtp refused");
    const std::string out = ::testing::internal::GetCapturedStderr();
    EXPECT_TRUE(captured_.lines.empty());
    EXPECT_TRUE(std::regex_match(
        out, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[error\] lkk: smtp refused\n)")))
        << out;
}

}  // namespace
