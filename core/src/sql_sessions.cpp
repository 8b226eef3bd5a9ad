// Sessions and throttle counters in the database ([sessions] url = "storage").
#include <string>

#include "lkk/crypto.h"
#include "sql_storage.h"

namespace lkk {

using db::Connection;
using db::Row;

// ---- sessions ----

// Every so many new sessions (logins) of a process also sweep the sessions that expired
// unseen, so people who never come back do not leave rows forever; both sweeps use an index.
// An expired session is refused whether swept or not (find), so sweeping at every login would
// only cost each login one more write.
Status SqlStorage::create(const Session& s, int64_t idle_timeout, int64_t absolute_timeout) {
    return with_connection([&](Connection& c) -> Status {
        if (sweep_due(created_)) {
            auto swept = c.exec("DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?",
                                {s.created_at - idle_timeout, s.created_at - absolute_timeout});
            if (!swept) return swept.error();
        }
        auto r = c.exec(
            "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at) "
            "VALUES (?, ?, ?, ?, ?)",
            {s.id_hash, s.user_id, s.csrf, s.created_at, s.last_seen_at});
        return r ? Status::Ok() : r.error();
    });
}

// An expired session is deleted when it is found, so the table does not keep dead rows of
// people who come back. The read cache's generation (migration 009) comes in the same query,
// so a registry view served from the cache costs this one query; without its row it is ""
// and nothing is cached.
Result<std::optional<Session>> SqlStorage::find(const std::string& id_hash, int64_t now,
                                                int64_t idle_timeout, int64_t absolute_timeout) {
    return with_connection([&](Connection& c) -> Result<std::optional<Session>> {
        std::optional<Session> found;
        Status st = c.query(
            "SELECT id_hash, user_id, csrf, created_at, last_seen_at, "
            "(SELECT value FROM cache_generation WHERE id = 1) FROM sessions WHERE id_hash = ?",
            {id_hash}, [&](const Row& r) {
                Session s;
                s.id_hash = r.text(0);
                s.user_id = r.integer(1);
                s.csrf = r.text(2);
                s.created_at = r.integer(3);
                s.last_seen_at = r.integer(4);
                s.generation = r.text(5);
                found = std::move(s);
            });
        if (!st.ok()) return st;
        if (!found) return found;
        if (now - found->last_seen_at > idle_timeout ||
            now - found->created_at > absolute_timeout) {
            auto r = c.exec("DELETE FROM sessions WHERE id_hash = ?", {id_hash});
            if (!r) return r.error();
            return std::optional<Session>();
        }
        return found;
    });
}

Status SqlStorage::touch(const std::string& id_hash, int64_t now, int64_t /*idle_timeout*/) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", {now, id_hash});
        return r ? Status::Ok() : r.error();
    });
}

Status SqlStorage::remove(const std::string& id_hash) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec("DELETE FROM sessions WHERE id_hash = ?", {id_hash});
        return r ? Status::Ok() : r.error();
    });
}

Status SqlStorage::remove_all_of_user(int64_t user_id) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec("DELETE FROM sessions WHERE user_id = ?", {user_id});
        return r ? Status::Ok() : r.error();
    });
}

// Runs after the writer's outermost commit (SqlStorage::unit_over), never before, and is no
// change of cached data itself (db::changes_cached_data). Why a reader never keeps stale
// answers under a generation that stays: a reader keeps what it reads under the generation it
// read with its session. If it read the old one, whatever it keeps, from before or after the
// writer's commit, is dropped by its next request, which reads the new value (written after
// the commit). If it read the new value, it read it after the bump, hence after the commit:
// its reads see the change. The database serializes the bumps, and every value is new and
// random, so a later bump never brings back a value kept under. A change written behind lkk's
// back is not announced: cache_max_age bounds that.
Status SqlStorage::bump_generation() {
    return with_connection([&](Connection& c) -> Status {
        auto r =
            c.exec("UPDATE cache_generation SET value = ? WHERE id = 1", {crypto::random_token()});
        return r ? Status::Ok() : r.error();
    });
}

// ---- counters ----

// One statement, atomic on its own: the upsert starts a window that is over again at 1,
// otherwise the count grows, and RETURNING answers the count this very hit made, whatever other
// threads, processes and hosts do at the same time (SQLite 3.35+, MariaDB 10.5+).
Result<int64_t> SqlStorage::hit(const std::string& key, int64_t window_seconds, int64_t now) {
    if (window_seconds <= 0) return Status::Invalid("counter window must be positive");
    return with_connection([&](Connection& c) -> Result<int64_t> {
        std::optional<int64_t> count;
        Status st = c.query("INSERT INTO counters (`key`, count, window_end) VALUES (?, 1, ?) " +
                                std::string(dialect_.upsert_counter) + " RETURNING count",
                            {key, now + window_seconds, now, now},
                            [&](const Row& r) { count = r.integer(0); });
        if (!st.ok()) return st;
        if (!count) return Status::Internal("the counter's upsert returned no count");
        // Keys are per e-mail and per IP, so the table only grows unless swept; an expired
        // window counts as 0 anyway, so sweeping it changes no answer.
        if (sweep_due(hits_)) {
            auto swept = c.exec("DELETE FROM counters WHERE window_end <= ?", {now});
            if (!swept) return swept.error();
        }
        return *count;
    });
}

// All keys in one query (logins read three); count() is this with one key.
Result<std::vector<int64_t>> SqlStorage::counts(const std::vector<std::string>& keys, int64_t now) {
    std::vector<int64_t> out(keys.size(), 0);
    if (keys.empty()) return out;
    std::string sql = "SELECT `key`, count FROM counters WHERE window_end > ? AND `key` IN (?";
    std::vector<db::Param> params{now, keys.front()};
    for (size_t i = 1; i < keys.size(); ++i) {
        sql += ", ?";
        params.emplace_back(keys[i]);
    }
    sql += ")";
    Status st = with_connection([&](Connection& c) {
        return c.query(sql, params, [&](const Row& r) {
            const std::string key = r.text(0);
            for (size_t i = 0; i < keys.size(); ++i) {
                if (keys[i] == key) out[i] = r.integer(1);
            }
        });
    });
    if (!st.ok()) return st;
    return out;
}

Status SqlStorage::clear(const std::string& key) {
    return with_connection([&](Connection& c) -> Status {
        auto r = c.exec("DELETE FROM counters WHERE `key` = ?", {key});
        return r ? Status::Ok() : r.error();
    });
}

// A range on the primary key instead of LIKE (no escaping, uses the index): every key that
// starts with prefix sorts below prefix + U+10FFFF, the last code point (MySQL's utf8mb4
// refuses a bare 0xFF byte, which would otherwise be the natural bound).
Status SqlStorage::clear_prefix(const std::string& prefix) {
    return with_connection([&](Connection& c) -> Status {
        const std::string upper = prefix + "\xF4\x8F\xBF\xBF";
        auto r = c.exec("DELETE FROM counters WHERE `key` >= ? AND `key` < ?", {prefix, upper});
        return r ? Status::Ok() : r.error();
    });
}

}  // namespace lkk
