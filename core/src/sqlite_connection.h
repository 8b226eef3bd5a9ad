// One SQLite connection of one thread, with its cache of prepared statements.
//
// Private to the SQLite backend. A Connection is used by one thread at a time (the storage
// keeps one per thread), so it takes no locks. Every value reaches SQL as a bound parameter.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "lkk/status.h"

namespace lkk::sqlite {

// A bound parameter: NULL, an integer or text.
using Param = std::variant<std::nullptr_t, int64_t, std::string_view>;
using Params = std::initializer_list<Param>;

inline Param nullable(const std::optional<int64_t>& v) {
    return v ? Param(*v) : Param(nullptr);
}

// The current row of a running statement.
class Row {
  public:
    explicit Row(sqlite3_stmt* stmt) : stmt_(stmt) {}
    int64_t integer(int col) const;
    std::optional<int64_t> nullable(int col) const;
    std::string text(int col) const;

  private:
    sqlite3_stmt* stmt_;
};

class Connection {
  public:
    // Opens (creating if needed) the database file with the pragmas every connection needs.
    static Result<std::unique_ptr<Connection>> open(const std::string& path);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Runs one statement; answers the number of rows it changed.
    Result<int64_t> exec(const std::string& sql, Params params);
    // Runs one statement and calls on_row for every row it yields. on_row only reads the
    // row: running the same SQL again from inside it would reset the cached statement.
    Status query(const std::string& sql, Params params,
                 const std::function<void(const Row&)>& on_row);
    // Runs a script of statements without parameters (migrations only).
    Status exec_script(const std::string& sql);

    // After an I/O-level failure the connection is not trusted any more: the storage drops it
    // and opens a new one on the next call.
    bool broken() const { return broken_; }
    void mark_broken() { broken_ = true; }
    // False while a transaction is open on this connection.
    bool autocommit() const { return sqlite3_get_autocommit(db_) != 0; }
    // The process that opened it: a connection must never be used across fork().
    long owner_pid() const { return owner_pid_; }

    // Transaction nesting depth on this connection (0: autocommit).
    int depth = 0;

  private:
    Connection(sqlite3* db, long pid) : db_(db), owner_pid_(pid) {}
    Result<sqlite3_stmt*> prepare(const std::string& sql);
    Status bind(sqlite3_stmt* stmt, Params params);
    Status fail(int rc, std::string_view what);

    sqlite3* db_;
    long owner_pid_;
    bool broken_ = false;
    std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace lkk::sqlite
