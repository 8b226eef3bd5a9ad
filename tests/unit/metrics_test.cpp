// The metrics block (lkk/metrics.h): histogram buckets, the Prometheus text format, the layout
// check that lets a reloaded nginx keep its zone, and counting from several processes into one
// block of shared memory, as nginx's workers and Apache's children do.
#include "lkk/metrics.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lkk::metrics {
namespace {

constexpr int64_t kMs = 1'000'000;  // nanoseconds

// Attaches a fresh block for one test and detaches it after.
class MetricsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        block_ = std::make_unique<MetricsBlock>();
        ASSERT_TRUE(init(block_.get(), sizeof(MetricsBlock)));
        attach(block_.get());
    }
    void TearDown() override { attach(nullptr); }

    std::string text(int64_t now = 1'700'000'000) { return exposition(*block_, now); }

    std::unique_ptr<MetricsBlock> block_;
};

// The lines of the exposition that start with prefix.
std::vector<std::string> lines_with(const std::string& text, const std::string& prefix) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(prefix, 0) == 0) out.push_back(line);
    }
    return out;
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(MetricsBuckets, UpperBoundsAreInclusiveInWholeNanoseconds) {
    EXPECT_EQ(bucket_slot(0), 0u);
    EXPECT_EQ(bucket_slot(-5), 0u);
    EXPECT_EQ(bucket_slot(5 * kMs), 0u);      // le="0.005"
    EXPECT_EQ(bucket_slot(5 * kMs + 1), 1u);  // le="0.01"
    EXPECT_EQ(bucket_slot(100 * kMs), 4u);    // le="0.1"
    EXPECT_EQ(bucket_slot(1000 * kMs), 7u);   // le="1"
    EXPECT_EQ(bucket_slot(10'000 * kMs), 10u);
    EXPECT_EQ(bucket_slot(10'000 * kMs + 1), kBucketSlots - 1);  // +Inf
    EXPECT_EQ(bucket_slot(INT64_MAX), kBucketSlots - 1);
}

TEST(MetricsStatuses, KnownCodesAsThemselvesTheRestAsOther) {
    EXPECT_EQ(status_label(status_slot(200)), "200");
    EXPECT_EQ(status_label(status_slot(429)), "429");
    EXPECT_EQ(status_label(status_slot(503)), "503");
    EXPECT_EQ(status_label(status_slot(418)), "other");
    EXPECT_EQ(status_label(status_slot(-1)), "other");
    EXPECT_EQ(status_slot(418), kStatusSlots - 1);
}

TEST_F(MetricsTest, EveryMetricHasHelpAndTypeAndTheFixedLabelSetsStartAtZero) {
    const std::string t = text();
    for (const char* family :
         {"lkk_requests_total counter", "lkk_request_duration_seconds histogram",
          "lkk_logins_total counter", "lkk_registrations_total counter", "lkk_links_total counter",
          "lkk_throttled_total counter", "lkk_readings_total counter", "lkk_outbox_pending gauge",
          "lkk_outbox_oldest_age_seconds gauge", "lkk_mail_sent_total counter",
          "lkk_backend_up gauge", "lkk_pool_queue gauge"}) {
        const std::string name = std::string(family).substr(0, std::string(family).find(' '));
        EXPECT_TRUE(has_line(t, std::string("# TYPE ") + family)) << family;
        EXPECT_EQ(lines_with(t, "# HELP " + name + " ").size(), 1u) << name;
    }
    // Nothing answered yet: no request series, no histogram series.
    EXPECT_TRUE(lines_with(t, "lkk_requests_total{").empty());
    EXPECT_TRUE(lines_with(t, "lkk_request_duration_seconds_").empty());
    EXPECT_TRUE(has_line(t, R"(lkk_logins_total{result="success"} 0)"));
    EXPECT_TRUE(has_line(t, R"(lkk_logins_total{result="failure"} 0)"));
    EXPECT_EQ(lines_with(t, "lkk_logins_total{").size(), 6u);
    EXPECT_EQ(lines_with(t, "lkk_links_total{").size(), 6u);
    EXPECT_EQ(lines_with(t, "lkk_throttled_total{").size(), 8u);
    EXPECT_EQ(lines_with(t, "lkk_mail_sent_total{").size(), 3u);
    EXPECT_TRUE(has_line(t, "lkk_registrations_total 0"));
    EXPECT_TRUE(has_line(t, "lkk_readings_total 0"));
    EXPECT_TRUE(has_line(t, "lkk_outbox_pending 0"));
    EXPECT_TRUE(has_line(t, "lkk_outbox_oldest_age_seconds 0"));
    EXPECT_TRUE(has_line(t, R"(lkk_backend_up{backend="storage"} 0)"));
    EXPECT_TRUE(has_line(t, R"(lkk_backend_up{backend="sessions"} 0)"));
    EXPECT_TRUE(has_line(t, "lkk_pool_queue 0"));
    EXPECT_EQ(t.back(), '\n');
}

TEST_F(MetricsTest, RequestsByRouteAndStatusAndTheirCumulativeHistogram) {
    count_request(Route::accounts, 200, 3 * kMs);
    count_request(Route::accounts, 200, 5 * kMs);
    count_request(Route::accounts, 303, 70 * kMs);
    count_request(Route::login, 418, 20'000 * kMs);
    const std::string t = text();

    EXPECT_TRUE(has_line(t, R"(lkk_requests_total{route="accounts",status="200"} 2)"));
    EXPECT_TRUE(has_line(t, R"(lkk_requests_total{route="accounts",status="303"} 1)"));
    EXPECT_TRUE(has_line(t, R"(lkk_requests_total{route="login",status="other"} 1)"));
    EXPECT_EQ(lines_with(t, "lkk_requests_total{").size(), 3u);

    const std::vector<std::string> accounts =
        lines_with(t, R"(lkk_request_duration_seconds_bucket{route="accounts",)");
    const std::vector<std::string> expected = {
        R"(lkk_request_duration_seconds_bucket{route="accounts",le="0.005"} 2)",
        R"(lkk_request_duration_seconds_bucket{route="accounts",le="0.01"} 2)",
        R"(lkk_request_duration_seconds_bucket{route="accounts",le="0.025"} 2)",
        R"(lkk_request_duration_seconds_bucket{route="accounts",le="0.05"} 2)",
        R"(lkk_request_duration_seconds_bucket{route="accounts",le="0.1"} 3)",
        R"(lkk_request_duration_seconds_bucket{route="accounts",le="0.25"} 3)",
        R"(lkk_request_duration_seconds_bucket{route="accounts",le="0.5"} 3)",
        R"(lkk_request_duration_seconds_bucket{route="accounts",le="1"} 3)",
        R"(lkk_request_duration_seconds_bucket{route="accounts",le="2.5"} 3)",
        R"(lkk_request_duration_seconds_bucket{route="accounts",le="5"} 3)",
        R"(lkk_request_duration_seconds_bucket{route="accounts",le="10"} 3)",
        R"(lkk_request_duration_seconds_bucket{route="accounts",le="+Inf"} 3)"};
    EXPECT_EQ(accounts, expected);
    EXPECT_TRUE(has_line(t, R"(lkk_request_duration_seconds_sum{route="accounts"} 0.078)"));
    EXPECT_TRUE(has_line(t, R"(lkk_request_duration_seconds_count{route="accounts"} 3)"));

    // Slower than the last bound: only +Inf has it.
    EXPECT_TRUE(has_line(t, R"(lkk_request_duration_seconds_bucket{route="login",le="10"} 0)"));
    EXPECT_TRUE(has_line(t, R"(lkk_request_duration_seconds_bucket{route="login",le="+Inf"} 1)"));
    EXPECT_TRUE(has_line(t, R"(lkk_request_duration_seconds_sum{route="login"} 20)"));
    // Routes nobody asked for have no series.
    EXPECT_TRUE(lines_with(t, R"(lkk_request_duration_seconds_count{route="start"})").empty());
}

TEST_F(MetricsTest, OutcomeCountersCarryTheirLabels) {
    count_login(LoginResult::success);
    count_login(LoginResult::failure);
    count_login(LoginResult::failure);
    count_registration();
    count_link(LinkResult::mismatch);
    count_throttled(ThrottleKind::login_email);
    count_reading();
    count_mail(MailResult::sent);
    count_mail(MailResult::given_up);
    const std::string t = text();
    EXPECT_TRUE(has_line(t, R"(lkk_logins_total{result="success"} 1)"));
    EXPECT_TRUE(has_line(t, R"(lkk_logins_total{result="failure"} 2)"));
    EXPECT_TRUE(has_line(t, R"(lkk_logins_total{result="throttled"} 0)"));
    EXPECT_TRUE(has_line(t, "lkk_registrations_total 1"));
    EXPECT_TRUE(has_line(t, R"(lkk_links_total{result="mismatch"} 1)"));
    EXPECT_TRUE(has_line(t, R"(lkk_links_total{result="success"} 0)"));
    EXPECT_TRUE(has_line(t, R"(lkk_throttled_total{kind="login_email"} 1)"));
    EXPECT_TRUE(has_line(t, R"(lkk_throttled_total{kind="link_account"} 0)"));
    EXPECT_TRUE(has_line(t, "lkk_readings_total 1"));
    EXPECT_TRUE(has_line(t, R"(lkk_mail_sent_total{result="sent"} 1)"));
    EXPECT_TRUE(has_line(t, R"(lkk_mail_sent_total{result="given_up"} 1)"));
}

TEST_F(MetricsTest, GaugesAsTheTimerLeftThem) {
    set_outbox(3, 1'700'000'000 - 90);
    set_backend_up(Backend::storage, true);
    set_backend_up(Backend::sessions, false);
    add_pool_queue(2);
    std::string t = text(1'700'000'000);
    EXPECT_TRUE(has_line(t, "lkk_outbox_pending 3"));
    EXPECT_TRUE(has_line(t, "lkk_outbox_oldest_age_seconds 90"));
    EXPECT_TRUE(has_line(t, R"(lkk_backend_up{backend="storage"} 1)"));
    EXPECT_TRUE(has_line(t, R"(lkk_backend_up{backend="sessions"} 0)"));
    EXPECT_TRUE(has_line(t, "lkk_pool_queue 2"));

    // The age grows between refreshes: it is computed at the scrape from the stored time.
    EXPECT_TRUE(has_line(text(1'700'000'010), "lkk_outbox_oldest_age_seconds 100"));

    // An empty outbox has no age; a queue never shows below zero.
    set_outbox(0, 0);
    add_pool_queue(-5);
    t = text();
    EXPECT_TRUE(has_line(t, "lkk_outbox_oldest_age_seconds 0"));
    EXPECT_TRUE(has_line(t, "lkk_pool_queue 0"));
}

TEST_F(MetricsTest, NothingIsCountedWithoutABlock) {
    attach(nullptr);
    count_login(LoginResult::success);
    count_request(Route::start, 200, kMs);
    set_outbox(5, 1);
    EXPECT_EQ(attached(), nullptr);
    const std::string t = text();
    EXPECT_TRUE(has_line(t, R"(lkk_logins_total{result="success"} 0)"));
    EXPECT_TRUE(lines_with(t, "lkk_requests_total{").empty());
    EXPECT_TRUE(has_line(t, "lkk_outbox_pending 0"));
}

TEST(MetricsInit, KeepsABlockOfTheSameLayoutAndZeroesAnythingElse) {
    auto block = std::make_unique<MetricsBlock>();
    ASSERT_TRUE(init(block.get(), sizeof(MetricsBlock)));
    block->registrations.store(7);
    // A reload hands the same zone over: the counts stay.
    ASSERT_TRUE(init(block.get(), sizeof(MetricsBlock)));
    EXPECT_EQ(block->registrations.load(), 7u);
    // A block written by a build with other labels is not trusted.
    block->layout ^= 1;
    ASSERT_TRUE(init(block.get(), sizeof(MetricsBlock)));
    EXPECT_EQ(block->registrations.load(), 0u);
    EXPECT_EQ(block->layout, layout_id());
    // Garbage (fresh memory that is not zero) is zeroed.
    std::memset(static_cast<void*>(block.get()), 0xab, sizeof(MetricsBlock));
    ASSERT_TRUE(init(block.get(), sizeof(MetricsBlock)));
    EXPECT_EQ(block->logins[0].load(), 0u);
    EXPECT_EQ(block->magic, kMagic);

    EXPECT_FALSE(init(nullptr, sizeof(MetricsBlock)));
    EXPECT_FALSE(init(block.get(), sizeof(MetricsBlock) - 1));
    EXPECT_FALSE(init(reinterpret_cast<char*>(block.get()) + 1, sizeof(MetricsBlock) - 8));
}

TEST_F(MetricsTest, ThreadsCountExactly) {
    constexpr int kThreads = 4;
    constexpr int kEach = 20000;
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([] {
            for (int n = 0; n < kEach; ++n) {
                count_request(Route::accounts, 200, kMs);
                count_login(LoginResult::failure);
            }
        });
    }
    for (auto& t : threads) t.join();
    const std::string t = text();
    EXPECT_TRUE(has_line(t, R"(lkk_requests_total{route="accounts",status="200"} 80000)"));
    EXPECT_TRUE(has_line(t, R"(lkk_request_duration_seconds_count{route="accounts"} 80000)"));
    EXPECT_TRUE(has_line(t, R"(lkk_logins_total{result="failure"} 80000)"));
}

// What nginx does with its zone: memory mapped shared before fork, each worker attaches and
// counts, and any process reads the sum of all.
TEST(MetricsSharedMemory, ProcessesCountIntoOneBlock) {
    const size_t size = sizeof(MetricsBlock);
    void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    ASSERT_TRUE(init(mem, size));
    constexpr int kWorkers = 3;
    constexpr int kEach = 30000;
    std::vector<pid_t> pids;
    for (int w = 0; w < kWorkers; ++w) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            attach(static_cast<MetricsBlock*>(mem));
            for (int n = 0; n < kEach; ++n) {
                count_request(Route::login, 303, 2 * kMs);
                count_login(LoginResult::success);
            }
            count_registration();
            _exit(0);
        }
        pids.push_back(pid);
    }
    for (pid_t pid : pids) {
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    const std::string t = exposition(*static_cast<MetricsBlock*>(mem), 0);
    EXPECT_TRUE(has_line(t, R"(lkk_requests_total{route="login",status="303"} 90000)"));
    EXPECT_TRUE(
        has_line(t, R"(lkk_request_duration_seconds_bucket{route="login",le="0.005"} 90000)"));
    EXPECT_TRUE(has_line(t, R"(lkk_request_duration_seconds_sum{route="login"} 180)"));
    EXPECT_TRUE(has_line(t, R"(lkk_logins_total{result="success"} 90000)"));
    EXPECT_TRUE(has_line(t, "lkk_registrations_total 3"));
    munmap(mem, size);
}

TEST(MetricsNames, LabelValuesAreTheDocumentedOnes) {
    EXPECT_EQ(route_name(Route::register_), "register");
    EXPECT_EQ(route_name(Route::static_), "static");
    EXPECT_EQ(route_name(Route::unavailable), "unavailable");
    EXPECT_EQ(login_result_name(LoginResult::not_confirmed), "not_confirmed");
    EXPECT_EQ(link_result_name(LinkResult::already_linked), "already_linked");
    EXPECT_EQ(throttle_kind_name(ThrottleKind::password_change), "password_change");
    EXPECT_EQ(mail_result_name(MailResult::given_up), "given_up");
    EXPECT_EQ(backend_name(Backend::sessions), "sessions");
}

}  // namespace
}  // namespace lkk::metrics
