// Sessions and throttle counters in the database ([sessions] url = "storage").
#include <string>

#include "sql_storage.h"

namespace lkk {

using db::Connection;
using db::Row;

// ---- sessions ----

// Creating a session (a login) also sweeps the sessions that expired unseen, so people who
// never come back do not leave rows forever; both sweeps use an index.
Status SqlStorage::create(const Session& s, int64_t idle_timeout, int64_t absolute_timeout) {
    return with_connection([&](Connection& c) -> Status {
        auto swept = c.exec("DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?",
                            {s.created_at - idle_timeout, s.created_at - absolute_timeout});
        if (!swept) return swept.error();
        auto r = c.exec(
            "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at) "
            "VALUES (?, ?, ?, ?, ?)",
            {s.id_hash, s.user_id, s.csrf, s.created_at, s.last_seen_at});
        return r ? Status::Ok() : r.error();
    });
}

// An expired session is deleted when it is found, so the table does not keep dead rows of
// people who come back.
Result<std::optional<Session>> SqlStorage::find(const std::string& id_hash, int64_t now,
                                                int64_t idle_timeout, int64_t absolute_timeout) {
    return with_connection([&](Connection& c) -> Result<std::optional<Session>> {
        std::optional<Session> found;
        Status st = c.query(
            "SELECT id_hash, user_id, csrf, created_at, last_seen_at FROM sessions "
            "WHERE id_hash = ?",
            {id_hash}, [&](const Row& r) {
                Session s;
                s.id_hash = r.text(0);
                s.user_id = r.integer(1);
                s.csrf = r.text(2);
                s.created_at = r.integer(3);
                s.last_seen_at = r.integer(4);
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

// ---- counters ----

// One upsert: a window that is over starts again at 1, otherwise the count grows. The
// upsert and the read of the new count share a transaction, so the count answered is the
// one this hit made, whatever other threads, processes and hosts do at the same time.
Result<int64_t> SqlStorage::hit(const std::string& key, int64_t window_seconds, int64_t now) {
    if (window_seconds <= 0) return Status::Invalid("counter window must be positive");
    int64_t count = 0;
    Status st = in_transaction([&] {
        return with_connection([&](Connection& c) -> Status {
            auto up = c.exec("INSERT INTO counters (`key`, count, window_end) VALUES (?, 1, ?) " +
                                 std::string(dialect_.upsert_counter),
                             {key, now + window_seconds, now, now});
            if (!up) return up.error();
            Status q = c.query("SELECT count FROM counters WHERE `key` = ?", {key},
                               [&](const Row& r) { count = r.integer(0); });
            if (!q.ok()) return q;
            // Keys are per e-mail and per IP, so the table only grows unless swept; an
            // expired window counts as 0 anyway, so sweeping it changes no answer.
            if (hits_.fetch_add(1, std::memory_order_relaxed) % 256 == 255) {
                auto swept = c.exec("DELETE FROM counters WHERE window_end <= ?", {now});
                if (!swept) return swept.error();
            }
            return Status::Ok();
        });
    });
    if (!st.ok()) return st;
    return count;
}

Result<int64_t> SqlStorage::count(const std::string& key, int64_t now) {
    return with_connection([&](Connection& c) -> Result<int64_t> {
        int64_t count = 0;
        Status st = c.query("SELECT count FROM counters WHERE `key` = ? AND window_end > ?",
                            {key, now}, [&](const Row& r) { count = r.integer(0); });
        if (!st.ok()) return st;
        return count;
    });
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
