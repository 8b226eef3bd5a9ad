// The extern "C" boundary the nginx module calls (lkk/capi.h), driven exactly as the C glue
// drives it: settings check for `nginx -t`, application start, a request in plain
// (pointer, length) strings, the response read back through the accessors, NULL handles.
#include "lkk/capi.h"
#include "lkk/crypto.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <strings.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

using lkk::test::TempDir;

std::string write_file(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
    return path;
}

lkk_str str(const char* s) {
    return lkk_str{s, std::strlen(s)};
}

std::string text(lkk_str s) {
    return s.data == nullptr ? std::string() : std::string(s.data, s.len);
}

// A request as the glue builds it: every field set, empty ones as "" with length 0.
lkk_request request(const char* method, const char* path) {
    lkk_request r{};
    r.method = str(method);
    r.path = str(path);
    r.query = str("");
    r.cookie = str("");
    r.content_type = str("");
    r.origin = str("");
    r.host = str("127.0.0.1");
    r.user_agent = str("capi test");
    r.accept_language = str("ru");
    r.remote_addr = str("127.0.0.1");
    r.csrf_token = str("");
    r.body = str("");
    return r;
}

std::string header(const lkk_response* response, const std::string& name) {
    for (size_t i = 0; i < lkk_response_header_count(response); ++i) {
        lkk_str n{};
        lkk_str v{};
        lkk_response_header(response, i, &n, &v);
        if (strncasecmp(text(n).c_str(), name.c_str(), name.size() + 1) == 0) return text(v);
    }
    return {};
}

class CapiApp : public ::testing::Test {
  protected:
    void SetUp() override {
        lkk_global_init();
        fs::create_directories(dir_.path() + "/mail");
        settings_ = write_file(dir_.path() + "/lkk.toml",
                               "[storage]\nurl = \"sqlite:" + dir_.path() +
                                   "/lkk.db\"\n[mail]\nurl = \"file:" + dir_.path() +
                                   "/mail\"\npoll_interval = \"2s\"\n[sessions]\n"
                                   "cookie_secure = false\n");
        char err[512] = "untouched";
        app_ = lkk_app_create(settings_.c_str(), err, sizeof(err));
        ASSERT_NE(app_, nullptr) << err;
        EXPECT_STREQ(err, "");
    }
    void TearDown() override { lkk_app_destroy(app_); }

    TempDir dir_;
    std::string settings_;
    lkk_app* app_ = nullptr;
};

TEST(CapiSettings, AcceptsAValidFile) {
    TempDir dir;
    const std::string path = write_file(dir.path() + "/ok.toml", "[portal]\nlocale = \"en\"\n");
    char err[256] = "untouched";
    EXPECT_EQ(lkk_settings_check(path.c_str(), err, sizeof(err)), 0);
    EXPECT_STREQ(err, "");
}

TEST(CapiSettings, NamesFileAndLineOfAMistake) {
    TempDir dir;
    const std::string path =
        write_file(dir.path() + "/bad.toml", "[portal]\nlocale = \"en\"\nno_such_key = 1\n");
    char err[512];
    EXPECT_EQ(lkk_settings_check(path.c_str(), err, sizeof(err)), 1);
    EXPECT_EQ(std::string(err).rfind(path + ":3:", 0), 0u) << err;
}

TEST(CapiSettings, MissingFileAndNullPathAreErrorsNotCrashes) {
    char err[256];
    EXPECT_EQ(lkk_settings_check("/nonexistent/lkk.toml", err, sizeof(err)), 1);
    EXPECT_NE(std::string(err).find("/nonexistent/lkk.toml"), std::string::npos) << err;
    EXPECT_EQ(lkk_settings_check(nullptr, err, sizeof(err)), 1);
    EXPECT_GT(std::strlen(err), 0u);
}

TEST(CapiSettings, TruncatesTheMessageToTheBuffer) {
    char err[8];
    std::memset(err, 'x', sizeof(err));
    EXPECT_EQ(lkk_settings_check("/nonexistent/a-long-path/lkk.toml", err, sizeof(err)), 1);
    EXPECT_EQ(std::strlen(err), sizeof(err) - 1);  // NUL-terminated inside the buffer
    EXPECT_EQ(lkk_settings_check("/nonexistent/lkk.toml", nullptr, 0), 1);
}

TEST(CapiCreate, FailsWithAMessageOnBadSettings) {
    char err[512] = "";
    EXPECT_EQ(lkk_app_create("/nonexistent/lkk.toml", err, sizeof(err)), nullptr);
    EXPECT_NE(std::string(err).find("/nonexistent/lkk.toml"), std::string::npos) << err;
    EXPECT_EQ(lkk_app_create(nullptr, err, sizeof(err)), nullptr);
    EXPECT_GT(std::strlen(err), 0u);
}

TEST(CapiCreate, FailsWithAMessageWhenStorageCannotOpen) {
    TempDir dir;
    const std::string path = write_file(dir.path() + "/lkk.toml",
                                        "[storage]\nurl = \"sqlite:/nonexistent-dir/lkk.db\"\n");
    char err[512] = "";
    EXPECT_EQ(lkk_app_create(path.c_str(), err, sizeof(err)), nullptr);
    EXPECT_NE(std::string(err).find("/nonexistent-dir"), std::string::npos) << err;
}

TEST(CapiNull, EveryEntryPointToleratesNullHandles) {
    lkk_app_destroy(nullptr);
    lkk_response_free(nullptr);
    EXPECT_EQ(lkk_app_deliver_mail(nullptr), -1);
    EXPECT_EQ(lkk_mail_poll_interval_ms(nullptr), 5000);
    EXPECT_EQ(lkk_response_status(nullptr), 500);
    EXPECT_EQ(lkk_response_body(nullptr).len, 0u);
    EXPECT_EQ(lkk_response_header_count(nullptr), 0u);
    lkk_str n{"x", 1};
    lkk_str v{"y", 1};
    lkk_response_header(nullptr, 0, &n, &v);
    EXPECT_EQ(n.len, 0u);
    EXPECT_EQ(v.len, 0u);

    // a request without an application is still an answer, never a crash
    lkk_request r = request("GET", "/lkk/");
    lkk_response* response = lkk_app_handle(nullptr, &r);
    ASSERT_NE(response, nullptr);
    EXPECT_EQ(lkk_response_status(response), 500);
    lkk_response_free(response);
}

TEST(CapiLimits, MaxBodyIs16KiB) {
    EXPECT_EQ(lkk_max_body_bytes(), 16u * 1024u);
}

TEST(CapiUnavailable, A503PageWithRetryAfterWithoutAnApplication) {
    // what every server's glue sends while the application cannot start
    lkk_response* response = lkk_unavailable_response();
    ASSERT_NE(response, nullptr);
    EXPECT_EQ(lkk_response_status(response), 503);
    EXPECT_EQ(header(response, "Retry-After"), "30");
    EXPECT_EQ(header(response, "Cache-Control"), "no-store");
    EXPECT_EQ(header(response, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(text(lkk_response_body(response)).find("временно недоступен"), std::string::npos);
    lkk_response_free(response);
}

// What Apache's glue does at every configuration read: the same kept memory is given again and
// accepted; memory holding something else is refused, so the glue makes a fresh block.
TEST(CapiHashSlots, TheSameMemoryIsAcceptedAtEveryReadAndOtherContentIsRefused) {
    const size_t size = lkk_hash_slots_size();
    ASSERT_GT(size, 0u);
    // Kept for the process's life, as Apache keeps it: the hashes below take their turns in it.
    static void* const kept = std::calloc(1, size);
    ASSERT_NE(kept, nullptr);
    EXPECT_EQ(lkk_hash_slots_init(nullptr, size), -1);
    EXPECT_EQ(lkk_hash_slots_init(kept, size - 1), -1);
    ASSERT_EQ(lkk_hash_slots_init(kept, size), 0);
    ASSERT_EQ(lkk_hash_slots_init(kept, size), 0);  // the next read
    lkk_global_init();                              // keeps them: no slots of its own

    std::vector<unsigned char> other(size, 0);
    other[size / 2] = 1;
    EXPECT_EQ(lkk_hash_slots_init(other.data(), size), -1);

    const lkk::crypto::Argon2Params cheap{8, 1, 1};
    auto hashed = lkk::crypto::hash_password("correct horse", cheap);
    ASSERT_TRUE(hashed.ok());
    EXPECT_TRUE(lkk::crypto::verify_password("correct horse", hashed.value()));
}

// What the glue does: memory for the block (a shared zone in nginx), init in the master,
// attach in the worker, the scrape answered from the event loop.
TEST(CapiMetrics, InitAttachCountAndScrape) {
    const size_t size = lkk_metrics_block_size();
    ASSERT_GT(size, 1000u);
    void* mem = std::aligned_alloc(4096, (size + 4095) / 4096 * 4096);
    ASSERT_NE(mem, nullptr);
    std::memset(mem, 0x5a, size);  // fresh shared memory promises nothing
    EXPECT_EQ(lkk_metrics_init(nullptr, size), -1);
    EXPECT_EQ(lkk_metrics_init(mem, size - 1), -1);
    ASSERT_EQ(lkk_metrics_init(mem, size), 0);
    lkk_metrics_attach(mem);

    lkk_response_free(lkk_unavailable_response());
    lkk_metrics_pool_queue(1);
    lkk_app_refresh_metrics(nullptr);  // no application: nothing to refresh, no crash

    lkk_response* response = lkk_metrics_response();
    ASSERT_NE(response, nullptr);
    EXPECT_EQ(lkk_response_status(response), 200);
    EXPECT_EQ(header(response, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    const std::string body = text(lkk_response_body(response));
    EXPECT_NE(body.find("lkk_requests_total{route=\"unavailable\",status=\"503\"} 1\n"),
              std::string::npos)
        << body;
    EXPECT_NE(body.find("\nlkk_pool_queue 1\n"), std::string::npos);
    lkk_response_free(response);
    lkk_metrics_pool_queue(-1);

    // Without a block nothing is counted and the scrape shows zeros.
    lkk_metrics_attach(nullptr);
    lkk_response_free(lkk_unavailable_response());
    response = lkk_metrics_response();
    ASSERT_NE(response, nullptr);
    EXPECT_EQ(text(lkk_response_body(response)).find("lkk_requests_total{"), std::string::npos);
    lkk_response_free(response);
    std::free(mem);
}

TEST_F(CapiApp, PollIntervalComesFromSettings) {
    EXPECT_EQ(lkk_mail_poll_interval_ms(app_), 2000);
}

TEST_F(CapiApp, StartPageThroughTheBoundary) {
    lkk_request r = request("GET", "/lkk/");
    lkk_response* response = lkk_app_handle(app_, &r);
    ASSERT_NE(response, nullptr);
    EXPECT_EQ(lkk_response_status(response), 200);
    EXPECT_NE(header(response, "Content-Type").find("text/html"), std::string::npos);
    EXPECT_NE(text(lkk_response_body(response)).find("<html"), std::string::npos);
    EXPECT_GT(lkk_response_header_count(response), 1u);

    // past the end: empty strings, not garbage
    lkk_str n{"x", 1};
    lkk_str v{"y", 1};
    lkk_response_header(response, lkk_response_header_count(response), &n, &v);
    EXPECT_EQ(n.len, 0u);
    EXPECT_EQ(v.len, 0u);
    lkk_response_free(response);
}

TEST_F(CapiApp, BodyTooLargeFlagIs413) {
    lkk_request r = request("POST", "/lkk/login");
    r.content_type = str("application/x-www-form-urlencoded");
    r.body_too_large = 1;
    lkk_response* response = lkk_app_handle(app_, &r);
    ASSERT_NE(response, nullptr);
    EXPECT_EQ(lkk_response_status(response), 413);
    lkk_response_free(response);
}

TEST_F(CapiApp, StringsAreLengthDelimitedNotNulTerminated) {
    // the glue passes ngx_str_t data: no NUL at the end, bytes after it must not be read
    const char path[] = "/lkk/healthzGARBAGE";
    lkk_request r = request("GET", "/");
    r.path = lkk_str{path, std::strlen("/lkk/healthz")};
    lkk_response* response = lkk_app_handle(app_, &r);
    ASSERT_NE(response, nullptr);
    EXPECT_EQ(lkk_response_status(response), 200);
    lkk_response_free(response);
}

TEST_F(CapiApp, NullDataWithZeroLengthIsAnEmptyField) {
    lkk_request r = request("GET", "/lkk/");
    r.cookie = lkk_str{nullptr, 0};
    r.body = lkk_str{nullptr, 0};
    lkk_response* response = lkk_app_handle(app_, &r);
    ASSERT_NE(response, nullptr);
    EXPECT_EQ(lkk_response_status(response), 200);
    lkk_response_free(response);
}

TEST_F(CapiApp, DeliverMailRunsARound) {
    EXPECT_GE(lkk_app_deliver_mail(app_), 0);
}

}  // namespace
