// The SQLite backend (the embedded default): opening the file and a connection per thread
// that is never used across fork(). Everything else is the shared SQL code (sql_storage.h).

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "lkk/sqlite_storage.h"
#include "sql_storage.h"
#include "sqlite_connection.h"

namespace lkk {

namespace {

class SqliteStorage final : public SqlStorage {
  public:
    explicit SqliteStorage(std::string path) : SqlStorage(kSqliteDialect), path_(std::move(path)) {}
    // A connection inherited through fork() belongs to the parent: closing it here would
    // release the parent's file locks, so the child lets it go unclosed.
    ~SqliteStorage() override { release_foreign_connections(); }

  protected:
    Result<std::unique_ptr<db::Connection>> open_connection() override {
        auto c = sqlite::Connection::open(path_);
        if (!c) return c.error();
        return std::unique_ptr<db::Connection>(std::move(c.value()));
    }
    bool foreign(const db::Connection& c) const override {
        return static_cast<const sqlite::Connection&>(c).owner_pid() != sqlite::process_id();
    }

  private:
    std::string path_;
};

}  // namespace

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
    // Several nginx workers start at once on a new file: one creates the schema while the
    // others may find it locked for longer than busy_timeout covers, so they try again
    // (about 10 s in all) instead of failing their start.
    Status s = storage->migrate();
    for (int attempt = 0; !s.ok() && s.code() == StatusCode::unavailable && attempt < 50;
         ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        s = storage->migrate();
    }
    if (!s.ok()) return s;
    return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace lkk
