// The SQLite backend's frame: opening the file, a connection per thread, transactions and
// migrations. The queries themselves are in sqlite_records.cpp and sqlite_sessions.cpp.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "lkk/embedded.h"
#include "lkk/sqlite_storage.h"
#include "sqlite_backend.h"

namespace lkk {

namespace {

struct Migration {
    int version = 0;
    std::string_view name;
    std::string_view sql;
};

// The embedded files sql/sqlite/NNN_*.sql, ordered by their number.
const std::vector<Migration>& migrations() {
    static const std::vector<Migration> list = [] {
        std::vector<Migration> out;
        constexpr std::string_view dir = "sqlite/";
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
    }();
    return list;
}

// Undoes a transaction or savepoint after its body failed. A connection that cannot get
// back to a clean state is marked broken so the next call starts on a fresh one.
void undo(sqlite::Connection& conn, bool outer, const std::string& savepoint) {
    if (outer) {
        if (!conn.autocommit() && !conn.exec("ROLLBACK", {}).ok()) conn.mark_broken();
        return;
    }
    if (!conn.exec("ROLLBACK TO " + savepoint, {}).ok() ||
        !conn.exec("RELEASE " + savepoint, {}).ok()) {
        conn.mark_broken();
    }
}

}  // namespace

SqliteStorage::~SqliteStorage() {
    const long pid = static_cast<long>(getpid());
    std::lock_guard lock(mu_);
    for (auto& [thread, conn] : connections_) {
        // A connection inherited through fork() belongs to the parent: closing it here
        // would release the parent's file locks, so the child lets it go unclosed.
        if (conn && conn->owner_pid() != pid) static_cast<void>(conn.release());
    }
    connections_.clear();
}

Result<sqlite::Connection*> SqliteStorage::connection() {
    const auto me = std::this_thread::get_id();
    const long pid = static_cast<long>(getpid());
    {
        std::lock_guard lock(mu_);
        auto it = connections_.find(me);
        if (it != connections_.end()) {
            auto& conn = it->second;
            if (conn->owner_pid() != pid) {
                static_cast<void>(conn.release());  // see the destructor
                connections_.erase(it);
            } else if (conn->broken() && conn->depth == 0) {
                connections_.erase(it);
            } else {
                return conn.get();
            }
        }
    }
    // Opened outside the lock: the pragmas may wait on another process's lock.
    auto opened = sqlite::Connection::open(path_);
    if (!opened) return opened.error();
    std::lock_guard lock(mu_);
    auto& slot = connections_[me];
    slot = std::move(opened.value());
    return slot.get();
}

// BEGIN IMMEDIATE takes the write lock up front: two writers then queue on busy_timeout
// instead of both reading and deadlocking when they upgrade. A nested call becomes a
// savepoint of the outer transaction, so its failure undoes only its own work.
Status SqliteStorage::in_transaction(const std::function<Status()>& body) {
    auto c = connection();
    if (!c) return c.error();
    sqlite::Connection& conn = **c;
    const bool outer = conn.depth == 0;
    const std::string savepoint = "lkk_sp" + std::to_string(conn.depth);
    auto begin = conn.exec(outer ? std::string("BEGIN IMMEDIATE") : "SAVEPOINT " + savepoint, {});
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
    if (!s.ok()) {
        undo(conn, outer, savepoint);
        return s;
    }
    auto end = conn.exec(outer ? std::string("COMMIT") : "RELEASE " + savepoint, {});
    if (!end) {
        undo(conn, outer, savepoint);
        return end.error();
    }
    return Status::Ok();
}

Status SqliteStorage::ping() {
    return with_connection([](sqlite::Connection& c) -> Status {
        return c.query("SELECT 1", {}, [](const sqlite::Row&) {});
    });
}

Result<int> SqliteStorage::schema_version() {
    return with_connection([](sqlite::Connection& c) -> Result<int> {
        int version = 0;
        Status s = c.query("SELECT coalesce(max(version), 0) FROM schema_migrations", {},
                           [&](const sqlite::Row& r) { version = static_cast<int>(r.integer(0)); });
        if (!s.ok()) return s;
        return version;
    });
}

int SqliteStorage::expected_schema_version() const {
    return migrations().empty() ? 0 : migrations().back().version;
}

// Each migration runs in its own IMMEDIATE transaction and re-checks whether it is applied
// inside it, so two processes opening a new file at once apply it exactly once.
Status SqliteStorage::migrate() {
    Status s = with_connection([](sqlite::Connection& conn) {
        return conn.exec_script(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    });
    if (!s.ok()) return s;
    for (const Migration& m : migrations()) {
        s = in_transaction([&] {
            return with_connection([&](sqlite::Connection& conn) -> Status {
                bool applied = false;
                Status q =
                    conn.query("SELECT 1 FROM schema_migrations WHERE version = ?",
                               {int64_t{m.version}}, [&](const sqlite::Row&) { applied = true; });
                if (!q.ok() || applied) return q;
                q = conn.exec_script(std::string(m.sql));
                if (!q.ok()) return q;
                auto ins = conn.exec(
                    "INSERT INTO schema_migrations (version, applied_at) "
                    "VALUES (?, CAST(strftime('%s', 'now') AS INTEGER))",
                    {int64_t{m.version}});
                return ins ? Status::Ok() : ins.error();
            });
        });
        if (!s.ok()) {
            return Status(s.code(), "migration " + std::string(m.name) + ": " + s.message());
        }
    }
    return Status::Ok();
}

// Refuses what cannot work with a connection per thread (":memory:" would give every
// thread its own empty database) and names a missing or read-only directory plainly,
// instead of SQLite's "unable to open database file".
Result<std::unique_ptr<Storage>> open_sqlite_storage(const std::string& path) {
    if (path.empty()) return Status::Invalid("sqlite: the database path is empty");
    if (path == ":memory:" || path.starts_with("file:")) {
        return Status::Invalid("sqlite: give a file path (\"" + path +
                               "\" is not shared between threads)");
    }
    namespace fs = std::filesystem;
    fs::path dir = fs::path(path).parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return Status::Invalid("sqlite: the directory " + dir.string() + " of " + path +
                               " does not exist");
    }
    // WAL mode creates PATH-wal and PATH-shm beside the file, so the directory itself
    // must be writable, not only the file.
    if (access(dir.c_str(), W_OK | X_OK) != 0) {
        return Status::Invalid("sqlite: the directory " + dir.string() +
                               " is not writable by this process (uid " + std::to_string(getuid()) +
                               ")");
    }
    auto storage = std::make_unique<SqliteStorage>(path);
    if (auto c = storage->connection(); !c) return c.error();
    if (Status s = storage->migrate(); !s.ok()) return s;
    return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace lkk
