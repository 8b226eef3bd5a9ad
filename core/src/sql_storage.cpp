// The SQL backends' frame: a connection per thread, transactions, migrations, and the
// statements in which SQLite and MySQL differ. The queries are in sql_records.cpp and
// sql_sessions.cpp.
#include "sql_storage.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lkk/embedded.h"

namespace lkk {

const SqlDialect kSqliteDialect = {
    // BEGIN IMMEDIATE takes the write lock up front: two writers then queue on busy_timeout
    // instead of both reading and deadlocking when they upgrade.
    .begin = "BEGIN IMMEDIATE",
    .migrations_dir = "sqlite/",
    .upsert_billing =
        "ON CONFLICT (office_code, account_number) DO UPDATE SET "
        "surname = excluded.surname, surname_key = excluded.surname_key, "
        "last_payment = excluded.last_payment, last_payment_date = excluded.last_payment_date, "
        "address = excluded.address, balance = excluded.balance",
    .upsert_counter =
        "ON CONFLICT (`key`) DO UPDATE SET "
        "count = CASE WHEN counters.window_end <= ? THEN 1 ELSE counters.count + 1 END, "
        "window_end = CASE WHEN counters.window_end <= ? THEN excluded.window_end "
        "ELSE counters.window_end END",
    .upsert_meter =
        "ON CONFLICT (billing_account_id, serial) DO UPDATE SET name = excluded.name, "
        "model = excluded.model, digits = excluded.digits, "
        "verification_due = excluded.verification_due",
    .upsert_reading =
        "ON CONFLICT (meter_id, period) DO UPDATE SET value = excluded.value, "
        "source = excluded.source, submitted_at = excluded.submitted_at, "
        "user_id = excluded.user_id",
    .upsert_preference =
        "ON CONFLICT (user_id, kind) DO UPDATE SET enabled = excluded.enabled, "
        "updated_at = excluded.updated_at",
    .upsert_statement =
        "ON CONFLICT (billing_account_id, period) DO UPDATE SET "
        "opening_balance = excluded.opening_balance, accrued = excluded.accrued, "
        "paid = excluded.paid, closing_balance = excluded.closing_balance, "
        "consumption = excluded.consumption, tariff = excluded.tariff",
    .upsert_payment =
        "ON CONFLICT (office_code, payment_id) DO UPDATE SET "
        "billing_account_id = excluded.billing_account_id, paid_on = excluded.paid_on, "
        "amount = excluded.amount, channel = excluded.channel",
};

const SqlDialect kMysqlDialect = {
    .begin = "START TRANSACTION",
    .migrations_dir = "mysql/",
    .upsert_billing =
        "ON DUPLICATE KEY UPDATE surname = VALUES(surname), surname_key = VALUES(surname_key), "
        "last_payment = VALUES(last_payment), last_payment_date = VALUES(last_payment_date), "
        "address = VALUES(address), balance = VALUES(balance)",
    // MySQL applies the assignments left to right: window_end is still the old one when
    // the count is decided, as in SQLite.
    .upsert_counter =
        "ON DUPLICATE KEY UPDATE count = IF(window_end <= ?, 1, count + 1), "
        "window_end = IF(window_end <= ?, VALUES(window_end), window_end)",
    .upsert_meter =
        "ON DUPLICATE KEY UPDATE name = VALUES(name), model = VALUES(model), "
        "digits = VALUES(digits), verification_due = VALUES(verification_due)",
    .upsert_reading =
        "ON DUPLICATE KEY UPDATE value = VALUES(value), source = VALUES(source), "
        "submitted_at = VALUES(submitted_at), user_id = VALUES(user_id)",
    .upsert_preference =
        "ON DUPLICATE KEY UPDATE enabled = VALUES(enabled), updated_at = VALUES(updated_at)",
    .upsert_statement =
        "ON DUPLICATE KEY UPDATE opening_balance = VALUES(opening_balance), "
        "accrued = VALUES(accrued), paid = VALUES(paid), "
        "closing_balance = VALUES(closing_balance), consumption = VALUES(consumption), "
        "tariff = VALUES(tariff)",
    .upsert_payment =
        "ON DUPLICATE KEY UPDATE billing_account_id = VALUES(billing_account_id), "
        "paid_on = VALUES(paid_on), amount = VALUES(amount), channel = VALUES(channel)",
};

namespace {

struct Migration {
    int version = 0;
    std::string_view name;
    std::string_view sql;
};

// The embedded files sql/<dir>/NNN_*.sql, ordered by their number.
std::vector<Migration> migrations_in(std::string_view dir) {
    std::vector<Migration> out;
    for (const auto& [key, text] : embedded_sql::files()) {
        if (key.substr(0, dir.size()) != dir || !key.ends_with(".sql")) continue;
        const std::string_view name = key.substr(dir.size());
        int version = 0;
        size_t i = 0;
        while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])) != 0) {
            version = version * 10 + (name[i] - '0');
            ++i;
        }
        if (i == 0) continue;  // not a numbered migration
        out.push_back({version, name, text});
    }
    std::sort(out.begin(), out.end(),
              [](const Migration& a, const Migration& b) { return a.version < b.version; });
    return out;
}

// Undoes a transaction or savepoint after its body failed. A connection that cannot get
// back to a clean state is marked broken so the next call starts on a fresh one.
void undo(db::Connection& conn, bool outer, const std::string& savepoint) {
    if (outer) {
        if (!conn.exec("ROLLBACK", {}).ok()) conn.mark_broken();
        return;
    }
    // Aborted: the outermost transaction rolls everything back and runs again.
    if (conn.aborted) return;
    if (!conn.exec("ROLLBACK TO SAVEPOINT " + savepoint, {}).ok() ||
        !conn.exec("RELEASE SAVEPOINT " + savepoint, {}).ok()) {
        conn.mark_broken();
    }
}

}  // namespace

SqlStorage::~SqlStorage() = default;

void SqlStorage::release_foreign_connections() {
    std::lock_guard lock(mu_);
    for (auto& [thread, conn] : connections_) {
        if (conn && foreign(*conn)) static_cast<void>(conn.release());
    }
    connections_.clear();
}

Result<db::Connection*> SqlStorage::connection() {
    const auto me = std::this_thread::get_id();
    {
        std::lock_guard lock(mu_);
        auto it = connections_.find(me);
        if (it != connections_.end()) {
            auto& conn = it->second;
            if (foreign(*conn)) {
                static_cast<void>(conn.release());  // never close another process's handle
                connections_.erase(it);
            } else if (conn->depth == 0 && !conn->in_unit && (conn->broken() || stale(*conn))) {
                connections_.erase(it);
            } else {
                return conn.get();
            }
        }
    }
    // Opened outside the lock: opening may wait on the network or another process's lock.
    auto opened = open_connection();
    if (!opened) return opened.error();
    std::lock_guard lock(mu_);
    auto& slot = connections_[me];
    slot = std::move(opened.value());
    return slot.get();
}

void SqlStorage::pause_before_rerun(int attempt) {
    thread_local std::minstd_rand random(
        static_cast<unsigned>(std::hash<std::thread::id>()(std::this_thread::get_id())));
    const int base_ms = 5 << attempt;
    std::this_thread::sleep_for(std::chrono::milliseconds(base_ms + random() % base_ms));
}

// A nested call becomes a savepoint of the outer transaction, so its failure undoes only
// its own work. The outermost transaction is one unit of work: when the database aborted it
// (db::Connection::rerunnable) it is rolled back and the body runs again, at most kMaxReruns
// times, so a body must be safe to run again (it starts over from what it reads).
Status SqlStorage::in_transaction(const std::function<Status()>& body) {
    for (int attempt = 0;; ++attempt) {
        auto c = connection();
        if (!c) return c.error();
        db::Connection& conn = **c;
        if (conn.depth > 0 || conn.in_unit) return transaction(conn, body);
        conn.aborted = conn.wrote = false;
        conn.in_unit = true;
        Status s;
        try {
            s = transaction(conn, body);
        } catch (...) {
            conn.in_unit = false;
            unit_over(conn);
            throw;
        }
        conn.in_unit = false;
        const bool rerun = !s.ok() && conn.rerunnable() && attempt < kMaxReruns;
        unit_over(conn);  // may replace this thread's connection: conn is not used after it
        if (!rerun) return s;
        pause_before_rerun(attempt);
    }
}

void SqlStorage::set_read_cache(int64_t max_age_seconds, std::function<void()> on_change) {
    cache_.set_max_age(max_age_seconds);
    on_change_ = std::move(on_change);
}

void SqlStorage::use_read_cache(const std::string& generation) {
    cache_.use(generation);
}

// Announced after the commit (or the rollback: announcing too often costs only cache misses),
// never before: a reader that saw the new generation must find the change in the database.
void SqlStorage::unit_over(db::Connection& conn) {
    if (!conn.dirty) return;
    conn.dirty = false;
    cache_.forget();
    if (on_change_) on_change_();
}

Status SqlStorage::transaction(db::Connection& conn, const std::function<Status()>& body) {
    const bool outer = conn.depth == 0;
    const std::string savepoint = "lkk_sp" + std::to_string(conn.depth);
    auto begin = conn.exec(outer ? std::string(dialect_.begin) : "SAVEPOINT " + savepoint, {});
    if (!begin) return begin.error();
    ++conn.depth;
    Status s;
    try {
        s = body();
    } catch (...) {
        --conn.depth;
        undo(conn, outer, savepoint);
        throw;
    }
    --conn.depth;
    // A body that went on after its transaction was aborted must not commit what is left.
    if (s.ok() && outer && conn.aborted) s = Status::Unavailable("the transaction was aborted");
    if (!s.ok()) {
        undo(conn, outer, savepoint);
        return s;
    }
    auto end = conn.exec(outer ? std::string("COMMIT") : "RELEASE SAVEPOINT " + savepoint, {});
    if (!end) {
        undo(conn, outer, savepoint);
        return end.error();
    }
    return Status::Ok();
}

Status SqlStorage::ping() {
    return with_connection(
        [](db::Connection& c) -> Status { return c.query("SELECT 1", {}, [](const db::Row&) {}); });
}

// A database without the migrations table is at version 0 (not yet migrated), not broken.
Result<int> SqlStorage::schema_version() {
    return with_connection([](db::Connection& c) -> Result<int> {
        int version = 0;
        Status s = c.query("SELECT coalesce(max(version), 0) FROM schema_migrations", {},
                           [&](const db::Row& r) { version = static_cast<int>(r.integer(0)); });
        if (!s.ok()) {
            if (s.code() == StatusCode::unavailable) return s;
            return 0;
        }
        return version;
    });
}

int SqlStorage::expected_schema_version() const {
    auto list = migrations_in(dialect_.migrations_dir);
    return list.empty() ? 0 : list.back().version;
}

// Each migration runs in its own transaction and re-checks whether it is applied inside it,
// so two processes migrating at once apply it exactly once (MySQL commits DDL implicitly:
// there the caller also holds a named lock, see mysql_storage.cpp).
Status SqlStorage::migrate() {
    Status s = with_connection([](db::Connection& conn) {
        return conn.exec_script(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)");
    });
    if (!s.ok()) return s;
    for (const Migration& m : migrations_in(dialect_.migrations_dir)) {
        s = in_transaction([&] {
            return with_connection([&](db::Connection& conn) -> Status {
                bool applied = false;
                Status q =
                    conn.query("SELECT 1 FROM schema_migrations WHERE version = ?",
                               {int64_t{m.version}}, [&](const db::Row&) { applied = true; });
                if (!q.ok() || applied) return q;
                q = conn.exec_script(std::string(m.sql));
                if (!q.ok()) return q;
                auto ins =
                    conn.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                              {int64_t{m.version}, static_cast<int64_t>(std::time(nullptr))});
                return ins ? Status::Ok() : ins.error();
            });
        });
        if (!s.ok()) {
            return Status(s.code(), "migration " + std::string(m.name) + ": " + s.message());
        }
    }
    return Status::Ok();
}

}  // namespace lkk
