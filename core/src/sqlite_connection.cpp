// One SQLite connection of one thread: opening with the pragmas, the statement cache, and the
// translation of SQLite result codes into Status.
#include "sqlite_connection.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>

#include <string>

namespace lkk::sqlite {

namespace {

// Result codes after which the connection itself is suspect (file gone, disk error): the
// storage reopens rather than reusing it.
bool breaks_connection(int rc) {
    switch (rc & 0xff) {
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
        case SQLITE_NOMEM:
            return true;
        default:
            return false;
    }
}

// The Status a caller needs: unavailable is "retry later" (503), conflict is a unique key,
// not_found is a missing referenced row.
Status status_of(int rc, std::string message) {
    switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
        case SQLITE_FULL:
        case SQLITE_READONLY:
        case SQLITE_PROTOCOL:
            return Status::Unavailable(std::move(message));
        case SQLITE_CONSTRAINT:
            if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
                return Status::Conflict(std::move(message));
            }
            if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return Status::NotFound(std::move(message));
            return Status::Invalid(std::move(message));
        default:
            return Status::Internal(std::move(message));
    }
}

// Resets a cached statement when the call that used it ends, whatever the way out.
struct ResetOnExit {
    sqlite3_stmt* stmt;
    ~ResetOnExit() {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
    }
};

std::atomic<long> g_pid{0};  // 0: not known in this process yet

void forget_pid() {
    g_pid.store(0, std::memory_order_relaxed);
}

}  // namespace

long process_id() {
    long pid = g_pid.load(std::memory_order_relaxed);
    if (pid == 0) {
        static const int registered = pthread_atfork(nullptr, nullptr, forget_pid);
        static_cast<void>(registered);
        pid = static_cast<long>(getpid());
        g_pid.store(pid, std::memory_order_relaxed);
    }
    return pid;
}

int64_t Row::integer(int col) const {
    return sqlite3_column_int64(stmt_, col);
}

std::optional<int64_t> Row::nullable(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(stmt_, col);
}

std::string Row::text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    if (p == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path) {
    // SQLite counts every allocation of the process under one global mutex, for statistics
    // we never read (sqlite3_memory_used, a soft heap limit): some 24 allocations a query on
    // every pool thread, about 2% of a registry view. Off, when this process has not started
    // SQLite yet (otherwise SQLite refuses the change and keeps counting; nothing else differs).
    static const bool uncounted = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
    (void)uncounted;
    sqlite3* db = nullptr;
    // NOMUTEX: a connection belongs to one thread at a time, SQLite's own mutex is waste.
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = "cannot open SQLite database " + path + ": " +
                          (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return status_of(rc, std::move(msg));
    }
    sqlite3_extended_result_codes(db, 1);
    // Two writers wait for each other (up to 5 s) instead of failing at once.
    sqlite3_busy_timeout(db, 5000);
    std::unique_ptr<Connection> conn(new Connection(db, process_id()));
    // WAL lets readers run beside one writer; NORMAL sync is durable enough under WAL
    // (a power cut may lose the last commits, never corrupt the file).
    // Several processes opening a new file at once (nginx workers, Apache's prefork children)
    // race to switch it to WAL, and the loser is told "database is locked" without the busy
    // handler being asked: such an answer is retried for up to 10 s like a busy wait.
    for (const char* pragma :
         {"PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL"}) {
        Status s = conn->exec_script(pragma);
        for (int attempt = 0; !s.ok() && attempt < 200; ++attempt) {
            const int code = sqlite3_errcode(db) & 0xff;
            if (code != SQLITE_BUSY && code != SQLITE_LOCKED) break;
            usleep(50 * 1000);
            s = conn->exec_script(pragma);
        }
        if (!s.ok()) {
            return Status(s.code(), "cannot prepare SQLite database " + path + ": " + s.message());
        }
    }
    return conn;
}

Connection::~Connection() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
}

Status Connection::fail(int rc, std::string_view what) {
    if (breaks_connection(rc)) mark_broken();
    std::string msg(what);
    msg += ": ";
    msg += sqlite3_errmsg(db_);
    return status_of(rc, std::move(msg));
}

// Statements are prepared once per connection and kept (SQLITE_PREPARE_PERSISTENT tells
// SQLite they live long), so the hot paths do no SQL parsing.
Result<sqlite3_stmt*> Connection::prepare(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return fail(rc, "prepare");
    if (stmt == nullptr) return Status::Internal("empty SQL statement");
    statements_.emplace(sql, stmt);
    return stmt;
}

Status Connection::bind(sqlite3_stmt* stmt, Params params) {
    int i = 1;
    for (const Param& p : params) {
        int rc = SQLITE_OK;
        if (std::holds_alternative<int64_t>(p)) {
            rc = sqlite3_bind_int64(stmt, i, std::get<int64_t>(p));
        } else if (std::holds_alternative<std::string_view>(p)) {
            const auto& t = std::get<std::string_view>(p);
            // SQLITE_TRANSIENT: SQLite copies, the caller's buffer may go away before step.
            rc = sqlite3_bind_text64(stmt, i, t.data(), t.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        } else {
            rc = sqlite3_bind_null(stmt, i);
        }
        if (rc != SQLITE_OK) return fail(rc, "bind");
        ++i;
    }
    return Status::Ok();
}

Result<int64_t> Connection::exec(const std::string& sql, Params params) {
    note_write(sql);
    auto stmt = prepare(sql);
    if (!stmt) return stmt.error();
    ResetOnExit reset{*stmt};
    if (Status s = bind(*stmt, params); !s.ok()) return s;
    int rc = SQLITE_ROW;
    while (rc == SQLITE_ROW) rc = sqlite3_step(*stmt);
    if (rc != SQLITE_DONE) return fail(rc, "exec");
    return static_cast<int64_t>(sqlite3_changes64(db_));
}

Result<int64_t> Connection::insert(const std::string& sql, Params params) {
    auto changed = exec(sql, params);
    if (!changed) return changed.error();
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Status Connection::query(const std::string& sql, Params params,
                         const std::function<void(const db::Row&)>& on_row) {
    note_write(sql);  // a write with RETURNING yields rows too
    auto stmt = prepare(sql);
    if (!stmt) return stmt.error();
    ResetOnExit reset{*stmt};
    if (Status s = bind(*stmt, params); !s.ok()) return s;
    const Row row(*stmt);
    for (;;) {
        const int rc = sqlite3_step(*stmt);
        if (rc == SQLITE_DONE) return Status::Ok();
        if (rc != SQLITE_ROW) return fail(rc, "query");
        on_row(row);
    }
}

Status Connection::exec_script(const std::string& sql) {
    note_write(sql);
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    if (breaks_connection(rc)) mark_broken();
    return status_of(rc, std::move(msg));
}

}  // namespace lkk::sqlite
