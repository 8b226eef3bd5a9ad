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
#include "sql_connection.h"

namespace lkk::sqlite {

using db::Param;
using db::Params;

// The current row of a running statement.
class Row final : public db::Row {
  public:
    explicit Row(sqlite3_stmt* stmt) : stmt_(stmt) {}
    int64_t integer(int col) const override;
    std::optional<int64_t> nullable(int col) const override;
    std::string text(int col) const override;

  private:
    sqlite3_stmt* stmt_;
};

// getpid() without a system call on every request: kept until the next fork() (a handler
// registered with pthread_atfork forgets it in the child; glibc drops the handler when the
// module is unloaded).
long process_id();

class Connection final : public db::Connection {
  public:
    // Opens (creating if needed) the database file with the pragmas every connection needs.
    static Result<std::unique_ptr<Connection>> open(const std::string& path);
    ~Connection() override;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    Result<int64_t> exec(const std::string& sql, Params params) override;
    Result<int64_t> insert(const std::string& sql, Params params) override;
    // on_row only reads the row: running the same SQL again from inside it would reset the
    // cached statement.
    Status query(const std::string& sql, Params params,
                 const std::function<void(const db::Row&)>& on_row) override;
    Status exec_script(const std::string& sql) override;
    // False while a transaction is open on this connection.
    bool autocommit() const { return sqlite3_get_autocommit(db_) != 0; }
    // The process that opened it: a connection must never be used across fork().
    long owner_pid() const { return owner_pid_; }

  private:
    Connection(sqlite3* db, long pid) : db_(db), owner_pid_(pid) {}
    Result<sqlite3_stmt*> prepare(const std::string& sql);
    Status bind(sqlite3_stmt* stmt, Params params);
    Status fail(int rc, std::string_view what);

    sqlite3* db_;
    long owner_pid_;
    std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace lkk::sqlite
