// The SessionStore and CounterStore contract, run against every backend: the database
// ("storage", on a fresh SQLite file) always, the MariaDB database ("mysql": sessions.url =
// "storage" on LKK_TEST_MYSQL_URL) and Redis when their variables name test servers. Keys carry
// a random tag so runs on a shared server do not see each other.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lkk/redis_store.h"
#include "lkk/session_store.h"
#include "lkk/storage.h"
#include "test_servers.h"

namespace lkk {
namespace {

constexpr int64_t kIdle = 1800;       // 30 min
constexpr int64_t kAbsolute = 43200;  // 12 h

std::string random_tag() {
    std::random_device rd;
    std::uniform_int_distribution<uint32_t> d;
    char buf[20];
    std::snprintf(buf, sizeof buf, "%08x%08x", d(rd), d(rd));
    return buf;
}

// MariaDB and Redis are always listed: without LKK_TEST_MYSQL_URL or LKK_TEST_REDIS_URL their
// tests show as skipped. So is Redis behind Sentinel (scripts/services.sh ha:
// LKK_TEST_SENTINEL_URL).
std::vector<std::string> backends() {
    return {"storage", "mysql", "redis", "sentinel"};
}

class SessionContract : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        std::string pattern = std::filesystem::temp_directory_path() / "lkk-sessions-XXXXXX";
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        db_url_ = "sqlite:" + dir_ + "/lkk.db";
        if (GetParam() == "mysql") LKK_TEST_SERVER_URL(db_url_, "LKK_TEST_MYSQL_URL");
        auto st = open_storage(db_url_);
        ASSERT_TRUE(st.ok()) << st.error().message();
        storage_ = std::move(st.value());
        ASSERT_TRUE(storage_->migrate().ok());
        std::string url = "storage";
        if (GetParam() == "redis") LKK_TEST_SERVER_URL(url, "LKK_TEST_REDIS_URL");
        if (GetParam() == "sentinel") LKK_TEST_HA_URL(url, "LKK_TEST_SENTINEL_URL");
        auto s = open_session_store(url, *storage_);
        ASSERT_TRUE(s.ok()) << s.error().message();
        sessions_ = std::move(s.value());
        auto c = open_counter_store(url, *storage_);
        ASSERT_TRUE(c.ok()) << c.error().message();
        counters_ = std::move(c.value());
        tag_ = random_tag();
        // Real time, so a store that also expires keys itself (Redis TTL) agrees with the
        // timestamps given here.
        now_ = static_cast<int64_t>(std::time(nullptr));
    }
    void TearDown() override {
        sessions_.reset();
        counters_.reset();
        storage_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    Session session(const std::string& id, int64_t user, int64_t at) const {
        return {id + tag_, user, "csrf-" + id, at, at, ""};
    }
    std::optional<Session> find(const std::string& id, int64_t at) {
        auto r = sessions_->find(id + tag_, at, kIdle, kAbsolute);
        EXPECT_TRUE(r.ok()) << r.error().message();
        return r.ok() ? *r : std::nullopt;
    }
    std::string key(const std::string& k) const { return k + ":" + tag_; }

    std::string dir_;
    std::string db_url_;  // the database behind storage_
    std::unique_ptr<Storage> storage_;
    std::unique_ptr<SessionStore> sessions_;
    std::unique_ptr<CounterStore> counters_;
    std::string tag_;
    int64_t now_ = 0;
};

TEST_P(SessionContract, Ping) {
    EXPECT_TRUE(sessions_->ping().ok());
}

TEST_P(SessionContract, CountsReadsEachKeyInOrder) {
    ASSERT_TRUE(counters_->hit(key("a"), 60, now_).ok());
    ASSERT_TRUE(counters_->hit(key("a"), 60, now_).ok());
    ASSERT_TRUE(counters_->hit(key("b"), 60, now_).ok());
    ASSERT_TRUE(counters_->hit(key("over"), 10, now_ - 20).ok());
    auto c = counters_->counts({key("b"), key("none"), key("a"), key("over"), key("a")}, now_);
    ASSERT_TRUE(c.ok()) << c.error().message();
    EXPECT_EQ(*c, (std::vector<int64_t>{1, 0, 2, 0, 2})) << "a window that is over counts 0";
    auto none = counters_->counts({}, now_);
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
}

TEST_P(SessionContract, HitAndCountsHitsTheFirstKeyThenReadsTheOthers) {
    ASSERT_TRUE(counters_->hit(key("ip"), 60, now_).ok());
    ASSERT_TRUE(counters_->hit(key("lock"), 60, now_).ok());
    ASSERT_TRUE(counters_->hit(key("over"), 10, now_ - 20).ok());
    auto c = counters_->hit_and_counts(key("ip"), 60,
                                       {key("lock"), key("none"), key("over"), key("ip")}, now_);
    ASSERT_TRUE(c.ok()) << c.error().message();
    EXPECT_EQ(*c, (std::vector<int64_t>{2, 1, 0, 0, 2})) << "the hit's count, then the reads";
    EXPECT_EQ(*counters_->count(key("ip"), now_), 2);
    EXPECT_EQ(*counters_->count(key("none"), now_), 0) << "a key only read is not created";

    auto only = counters_->hit_and_counts(key("fresh"), 60, {}, now_);
    ASSERT_TRUE(only.ok()) << only.error().message();
    EXPECT_EQ(*only, (std::vector<int64_t>{1}));
    // A window that is over starts again at the hit.
    auto again = counters_->hit_and_counts(key("over"), 10, {key("fresh")}, now_);
    ASSERT_TRUE(again.ok()) << again.error().message();
    EXPECT_EQ(*again, (std::vector<int64_t>{1, 1}));

    EXPECT_FALSE(counters_->hit(key("zero"), 0, now_).ok()) << "a window must be positive";
    EXPECT_FALSE(counters_->hit_and_counts(key("zero"), 0, {key("ip")}, now_).ok());
    EXPECT_EQ(*counters_->count(key("zero"), now_), 0);
}

TEST_P(SessionContract, CreateFindRemove) {
    ASSERT_TRUE(sessions_->create(session("a", 7, now_), kIdle, kAbsolute).ok());
    auto s = find("a", now_ + 1);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->id_hash, "a" + tag_);
    EXPECT_EQ(s->user_id, 7);
    EXPECT_EQ(s->csrf, "csrf-a");
    EXPECT_EQ(s->created_at, now_);
    EXPECT_EQ(s->last_seen_at, now_);

    EXPECT_FALSE(find("unknown", now_).has_value());
    ASSERT_TRUE(sessions_->remove("a" + tag_).ok());
    EXPECT_FALSE(find("a", now_ + 1).has_value());
    EXPECT_TRUE(sessions_->remove("a" + tag_).ok()) << "removing twice is harmless";
}

// The read cache's generation comes with every session found: a value that stays until a bump
// replaces it, shared by every process on the same Redis database, or on the same database
// with sessions in it (its cache_generation row, read in the session's query).
TEST_P(SessionContract, GenerationComesWithTheSessionAndChangesOnBump) {
    ASSERT_TRUE(sessions_->create(session("g", 7, now_), kIdle, kAbsolute).ok());
    const std::string first = find("g", now_)->generation;
    EXPECT_FALSE(first.empty());
    EXPECT_EQ(find("g", now_)->generation, first);
    ASSERT_TRUE(sessions_->bump_generation().ok());
    const std::string second = find("g", now_)->generation;
    EXPECT_FALSE(second.empty());
    EXPECT_NE(second, first);
    EXPECT_EQ(find("g", now_)->generation, second);
    // Another process on the same Redis database, or the same database, sees the same one.
    std::string url = "storage";
    std::unique_ptr<Storage> other_db;
    if (GetParam() == "storage" || GetParam() == "mysql") {
        auto opened = open_storage(db_url_);
        ASSERT_TRUE(opened.ok()) << opened.error().message();
        other_db = std::move(opened.value());
    } else {
        LKK_TEST_SERVER_URL(url,
                            GetParam() == "redis" ? "LKK_TEST_REDIS_URL" : "LKK_TEST_SENTINEL_URL");
    }
    auto other = open_session_store(url, other_db ? *other_db : *storage_);
    ASSERT_TRUE(other.ok()) << other.error().message();
    auto seen = (*other)->find("g" + tag_, now_, kIdle, kAbsolute);
    ASSERT_TRUE(seen.ok() && seen->has_value());
    EXPECT_EQ((*seen)->generation, second);
    // And a bump there is seen here.
    ASSERT_TRUE((*other)->bump_generation().ok());
    EXPECT_NE(find("g", now_)->generation, second);
}

// With sessions in the database, every committed write of cached data renews the generation
// (attach_read_cache), the bump itself is no such write (it would renew itself forever), and
// writes of sessions and counters renew nothing.
class DatabaseSessions : public SessionContract {};

TEST_P(DatabaseSessions, WritesOfCachedDataRenewTheGeneration) {
    attach_read_cache(*storage_, *sessions_, 60);
    ASSERT_TRUE(sessions_->create(session("w", 7, now_), kIdle, kAbsolute).ok());
    const std::string first = find("w", now_)->generation;
    ASSERT_TRUE(sessions_->touch("w" + tag_, now_ + 1, kIdle).ok());
    ASSERT_TRUE(counters_->hit(key("w"), 60, now_).ok());
    EXPECT_EQ(find("w", now_ + 1)->generation, first);
    ASSERT_TRUE(storage_->insert_user("w." + tag_ + "@example.org", "$argon2id$x", now_).ok());
    const std::string second = find("w", now_ + 1)->generation;
    EXPECT_NE(second, first);
    EXPECT_EQ(find("w", now_ + 1)->generation, second) << "the bump renewed itself";
}

TEST_P(SessionContract, IdleTimeout) {
    ASSERT_TRUE(sessions_->create(session("idle", 1, now_), kIdle, kAbsolute).ok());
    EXPECT_TRUE(find("idle", now_ + kIdle).has_value()) << "exactly the idle timeout is still ok";
    ASSERT_TRUE(sessions_->create(session("idle2", 1, now_), kIdle, kAbsolute).ok());
    EXPECT_FALSE(find("idle2", now_ + kIdle + 1).has_value());
}

TEST_P(SessionContract, TouchExtendsTheIdleTimeout) {
    ASSERT_TRUE(sessions_->create(session("t", 1, now_), kIdle, kAbsolute).ok());
    ASSERT_TRUE(sessions_->touch("t" + tag_, now_ + kIdle - 10, kIdle).ok());
    auto s = find("t", now_ + 2 * kIdle - 20);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->last_seen_at, now_ + kIdle - 10);
    EXPECT_EQ(s->created_at, now_);
}

TEST_P(SessionContract, AbsoluteTimeoutEndsEvenAnActiveSession) {
    ASSERT_TRUE(sessions_->create(session("abs", 1, now_), kIdle, kAbsolute).ok());
    for (int64_t t = now_ + 1000; t < now_ + kAbsolute; t += 1000) {
        ASSERT_TRUE(sessions_->touch("abs" + tag_, t, kIdle).ok());
    }
    EXPECT_TRUE(find("abs", now_ + kAbsolute).has_value());
    EXPECT_FALSE(find("abs", now_ + kAbsolute + 1).has_value());
}

TEST_P(SessionContract, RemoveAllOfUser) {
    const int64_t user = 1000 + static_cast<int64_t>(std::random_device{}() % 1000000);
    ASSERT_TRUE(sessions_->create(session("u1", user, now_), kIdle, kAbsolute).ok());
    ASSERT_TRUE(sessions_->create(session("u2", user, now_), kIdle, kAbsolute).ok());
    ASSERT_TRUE(sessions_->create(session("other", user + 1, now_), kIdle, kAbsolute).ok());
    ASSERT_TRUE(sessions_->remove_all_of_user(user).ok());
    EXPECT_FALSE(find("u1", now_).has_value());
    EXPECT_FALSE(find("u2", now_).has_value());
    EXPECT_TRUE(find("other", now_).has_value());
}

TEST_P(SessionContract, CounterWindow) {
    const std::string k = key("login:email");
    EXPECT_EQ(*counters_->count(k, now_), 0);
    EXPECT_EQ(*counters_->hit(k, 900, now_), 1);
    EXPECT_EQ(*counters_->hit(k, 900, now_ + 10), 2);
    EXPECT_EQ(*counters_->hit(k, 900, now_ + 899), 3);
    EXPECT_EQ(*counters_->count(k, now_ + 899), 3);
    // The window is fixed from the first hit: it ends at now + 900 whatever came after.
    EXPECT_EQ(*counters_->count(k, now_ + 900), 0);
    EXPECT_EQ(*counters_->hit(k, 900, now_ + 900), 1);
    EXPECT_EQ(*counters_->count(k, now_ + 901), 1);
}

TEST_P(SessionContract, CountersClear) {
    const std::string k = key("reg:ip");
    ASSERT_TRUE(counters_->hit(k, 3600, now_).ok());
    ASSERT_TRUE(counters_->hit(k, 3600, now_).ok());
    ASSERT_TRUE(counters_->clear(k).ok());
    EXPECT_EQ(*counters_->count(k, now_), 0);
    EXPECT_EQ(*counters_->hit(k, 3600, now_), 1);
    EXPECT_TRUE(counters_->clear(key("never-set")).ok());
}

TEST_P(SessionContract, CountersClearPrefix) {
    const std::string p = "lock:" + tag_ + ":";
    const std::vector<std::string> gone = {p + "a", p + "иван@почта.рф", p + "x:y"};
    const std::vector<std::string> kept = {"lock:" + tag_, "lock:" + tag_ + "b:a",
                                           "other:" + tag_ + ":a"};
    for (const auto& k : gone) ASSERT_TRUE(counters_->hit(k, 3600, now_).ok());
    for (const auto& k : kept) ASSERT_TRUE(counters_->hit(k, 3600, now_).ok());
    ASSERT_TRUE(counters_->clear_prefix(p).ok());
    for (const auto& k : gone) EXPECT_EQ(*counters_->count(k, now_), 0) << k;
    for (const auto& k : kept) EXPECT_EQ(*counters_->count(k, now_), 1) << k;

    // Wildcard characters in a prefix are literal.
    ASSERT_TRUE(counters_->hit(key("pct") + "a", 3600, now_).ok());
    ASSERT_TRUE(counters_->clear_prefix(key("p%")).ok());
    ASSERT_TRUE(counters_->clear_prefix(key("p_t")).ok());
    EXPECT_EQ(*counters_->count(key("pct") + "a", now_), 1);
}

TEST_P(SessionContract, HitsFromSeveralThreadsAreNotLost) {
    constexpr int kThreads = 4;
    constexpr int kHits = 100;
    const std::string k = key("race");
    std::atomic<int> failures{0};
    std::vector<std::vector<int64_t>> answers(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kHits; ++i) {
                auto c = counters_->hit(k, 3600, now_);
                if (c.ok()) {
                    answers[t].push_back(*c);
                } else {
                    ++failures;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(*counters_->count(k, now_), kThreads * kHits);
    // Each hit answers the count it made itself: 1 to kThreads * kHits, each once.
    std::vector<int64_t> all;
    for (const auto& a : answers) all.insert(all.end(), a.begin(), a.end());
    std::sort(all.begin(), all.end());
    std::vector<int64_t> expected(kThreads * kHits);
    std::iota(expected.begin(), expected.end(), 1);
    EXPECT_EQ(all, expected);
}

TEST_P(SessionContract, SessionsFromSeveralThreads) {
    constexpr int kThreads = 4;
    constexpr int kEach = 25;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                const std::string id = "th" + std::to_string(t) + "-" + std::to_string(i);
                if (!sessions_->create(session(id, t, now_), kIdle, kAbsolute).ok()) ++failures;
                auto found = sessions_->find(id + tag_, now_ + 1, kIdle, kAbsolute);
                if (!found.ok() || !found->has_value()) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, SessionContract, ::testing::ValuesIn(backends()),
                         [](const auto& p) { return p.param; });
INSTANTIATE_TEST_SUITE_P(Backends, DatabaseSessions, ::testing::Values("storage", "mysql"),
                         [](const auto& p) { return p.param; });

// ---- Redis Sentinel (SPEC 14) ----

TEST(Sentinel, AsksTheFirstSentinelThatAnswersAndWritesToTheMaster) {
    std::string url;
    LKK_TEST_HA_URL(url, "LKK_TEST_SENTINEL_URL");
    // Port 1 on loopback refuses at once: the next sentinel is asked.
    const std::string scheme = "redis-sentinel://";
    auto sessions = open_redis_session_store(scheme + "127.0.0.1:1," + url.substr(scheme.size()));
    ASSERT_TRUE(sessions.ok()) << sessions.error().message();
    Session s{"sentinel-" + random_tag(), 7, "csrf", 1000, 1000, ""};
    ASSERT_TRUE((*sessions)->create(s, 600, 3600).ok());
    auto found = (*sessions)->find(s.id_hash, 1001, 600, 3600);
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ((*found)->user_id, 7);
}

TEST(Sentinel, UnknownMasterOrNoSentinelIsUnavailable) {
    std::string url;
    LKK_TEST_HA_URL(url, "LKK_TEST_SENTINEL_URL");
    auto other = open_redis_counter_store(url.substr(0, url.find("/mymaster")) + "/nosuch/0");
    ASSERT_TRUE(other.ok());
    auto hit = (*other)->hit("k", 60, 1000);
    ASSERT_FALSE(hit.ok());
    EXPECT_EQ(hit.error().code(), StatusCode::unavailable);
    EXPECT_NE(hit.error().message().find("nosuch"), std::string::npos) << hit.error().message();
    auto none = open_redis_counter_store("redis-sentinel://127.0.0.1:1,127.0.0.1:2/mymaster/0");
    ASSERT_TRUE(none.ok());
    EXPECT_EQ((*none)->hit("k", 60, 1000).error().code(), StatusCode::unavailable);
}

TEST(Sentinel, BadUrlsAreRefused) {
    for (const char* bad : {"redis-sentinel://127.0.0.1:26379", "redis-sentinel://h:1//0",
                            "redis-sentinel://h:x/m/0", "redis-sentinel://h:1/m/x"}) {
        auto r = open_redis_session_store(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().code(), StatusCode::invalid_argument) << bad;
    }
}

TEST(SessionStoreOpen, RefusesUnknownUrls) {
    std::string pattern = std::filesystem::temp_directory_path() / "lkk-sessions-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    {
        auto st = open_storage("sqlite:" + pattern + "/lkk.db");
        ASSERT_TRUE(st.ok());
        EXPECT_EQ(open_session_store("memcached://x", **st).error().code(),
                  StatusCode::invalid_argument);
        EXPECT_EQ(open_counter_store("", **st).error().code(), StatusCode::invalid_argument);
    }
    std::filesystem::remove_all(pattern);
}

// The database keeps rows only while they can still matter: every so many logins sweep
// sessions that expired unseen, and every so many hits counters whose window is over.
TEST(SqliteSessions, ExpiredRowsAreSwept) {
    std::string dir = std::filesystem::temp_directory_path() / "lkk-sessions-XXXXXX";
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    const std::string path = dir + "/lkk.db";
    {
        auto st = open_storage("sqlite:" + path);
        ASSERT_TRUE(st.ok());
        auto sessions = open_session_store("storage", **st);
        auto counters = open_counter_store("storage", **st);
        ASSERT_TRUE(sessions.ok() && counters.ok());
        ASSERT_TRUE((*sessions)->create({"old", 1, "c", 1000, 1000, ""}, kIdle, kAbsolute).ok());
        ASSERT_TRUE((*sessions)->create({"recent", 1, "c", 1000, 1000, ""}, kIdle, kAbsolute).ok());
        ASSERT_TRUE((*sessions)->touch("recent", 1000 + kIdle, kIdle).ok());
        // Sweeping is not every login's work, but within 64 it is done.
        for (int i = 0; i < 64; ++i) {
            const std::string id = "new" + std::to_string(i);
            ASSERT_TRUE((*sessions)
                            ->create({id, 2, "c", 1001 + kIdle, 1001 + kIdle, ""}, kIdle, kAbsolute)
                            .ok());
        }
        for (int i = 0; i < 600; ++i) {
            ASSERT_TRUE((*counters)->hit("k" + std::to_string(i), 10, 5000 + 100 * i).ok());
        }
        EXPECT_EQ(*(*counters)->count("k599", 5000 + 100 * 599), 1);
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    auto count_rows = [&](const char* sql) {
        sqlite3_stmt* stmt = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK);
        EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
        const int64_t n = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
        return n;
    };
    EXPECT_EQ(count_rows("SELECT count(*) FROM sessions WHERE id_hash = 'old'"), 0);
    EXPECT_EQ(count_rows("SELECT count(*) FROM sessions WHERE id_hash = 'recent'"), 1);
    EXPECT_EQ(count_rows("SELECT count(*) FROM sessions"), 65);
    EXPECT_LT(count_rows("SELECT count(*) FROM counters"), 300);
    sqlite3_close(db);
    std::filesystem::remove_all(dir);
}

// The Lua scripts go by their SHA-1 (EVALSHA); a Redis that forgot them (restarted, failed
// over, SCRIPT FLUSH) gets the text once more and every operation goes on working.
TEST(RedisScripts, SentAgainWhenTheServerForgetsThem) {
    std::string url;
    LKK_TEST_SERVER_URL(url, "LKK_TEST_REDIS_URL");
    const std::string tag = random_tag();
    const auto db = std::filesystem::temp_directory_path() / ("lkk-scripts-" + tag + ".db");
    auto storage = open_storage("sqlite:" + db.string());
    ASSERT_TRUE(storage.ok()) << storage.error().message();
    auto sessions = open_session_store(url, **storage);
    ASSERT_TRUE(sessions.ok()) << sessions.error().message();
    auto counters = open_counter_store(url, **storage);
    ASSERT_TRUE(counters.ok()) << counters.error().message();
    const int64_t now = static_cast<int64_t>(std::time(nullptr));
    auto flush = [&] {
        ASSERT_EQ(std::system(("redis-cli -u '" + url + "' SCRIPT FLUSH >/dev/null").c_str()), 0);
    };
    flush();
    ASSERT_TRUE((*sessions)->create({"s" + tag, 3, "c", now, now, ""}, kIdle, kAbsolute).ok());
    flush();
    auto found = (*sessions)->find("s" + tag, now, kIdle, kAbsolute);
    ASSERT_TRUE(found.ok()) << found.error().message();
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->user_id, 3);
    flush();
    EXPECT_EQ(*(*counters)->hit("k" + tag, 60, now), 1);
    EXPECT_EQ(*(*counters)->hit("k" + tag, 60, now), 2) << "by its SHA-1 now";
    flush();
    ASSERT_TRUE((*sessions)->remove("s" + tag).ok());
    EXPECT_FALSE(*(*sessions)->find("s" + tag, now, kIdle, kAbsolute));
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(db.string() + suffix, ec);
}

}  // namespace
}  // namespace lkk
