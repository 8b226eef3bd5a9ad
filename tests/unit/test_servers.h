// The MariaDB and Redis that the contract suites also run against, named by environment
// variables (LKK_TEST_MYSQL_URL, LKK_TEST_REDIS_URL; scripts/services.sh prints them).
// Without them a backend's tests are skipped and CTest lists them as skipped (never as passed);
// where the servers are required (CI=true, or LKK_TEST_REQUIRE_SERVERS=1 as scripts/test.sh
// sets after starting them) a missing one fails the test instead.
#pragma once

#include <cstdlib>
#include <cstring>
#include <string>

namespace lkk::test {

inline bool servers_required() {
    const char* ci = std::getenv("CI");
    const char* require = std::getenv("LKK_TEST_REQUIRE_SERVERS");
    return (ci != nullptr && (std::strcmp(ci, "true") == 0 || std::strcmp(ci, "1") == 0)) ||
           (require != nullptr && std::strcmp(require, "1") == 0);
}

// The Galera cluster and Redis Sentinel (scripts/services.sh ha) are required where CI=true or
// LKK_TEST_REQUIRE_HA=1 (scripts/test.sh sets it after starting them): their fixed ports allow
// one cluster per machine, so parallel developers run those tests only on purpose.
inline bool ha_required() {
    const char* ci = std::getenv("CI");
    const char* require = std::getenv("LKK_TEST_REQUIRE_HA");
    return (ci != nullptr && (std::strcmp(ci, "true") == 0 || std::strcmp(ci, "1") == 0)) ||
           (require != nullptr && std::strcmp(require, "1") == 0);
}

inline std::string server_url(const char* variable) {
    const char* url = std::getenv(variable);
    return url != nullptr ? std::string(url) : std::string();
}

}  // namespace lkk::test

// In a test's SetUp or body: `url` gets the server's URL from `variable`, or the test is
// skipped (failed where the servers are required).
#define LKK_TEST_SERVER_URL(url, variable) \
    LKK_TEST_URL_REQUIRED_IF(url, variable, ::lkk::test::servers_required())
// The same for the HA cluster's URLs (LKK_TEST_GALERA_URL, LKK_TEST_SENTINEL_URL).
#define LKK_TEST_HA_URL(url, variable) \
    LKK_TEST_URL_REQUIRED_IF(url, variable, ::lkk::test::ha_required())
#define LKK_TEST_URL_REQUIRED_IF(url, variable, required)                                      \
    do {                                                                                       \
        (url) = ::lkk::test::server_url(variable);                                             \
        if ((url).empty()) {                                                                   \
            if (required) {                                                                    \
                FAIL() << (variable) << " is not set, and the test servers are required here"; \
            }                                                                                  \
            GTEST_SKIP() << (variable)                                                         \
                         << " is not set: run eval \"$(bash scripts/services.sh start)\" "     \
                            "(or ha for the cluster)";                                         \
        }                                                                                      \
    } while (0)
