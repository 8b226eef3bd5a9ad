// What the SQL backends have in common: a connection of one thread that runs statements
// with bound parameters, and the row it hands back.
//
// Private to core/src. SQLite (sqlite_connection.h) and MySQL (mysql_connection.h)
// implement it, so the records, sessions and counters code (sql_storage.h) is written once.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lkk/status.h"

namespace lkk::db {

// A bound parameter: NULL, an integer or text.
using Param = std::variant<std::nullptr_t, int64_t, std::string_view>;
// The parameters of one statement, in order: a braced list written at the call, or a vector
// when their number is known only at run time. A view: what it shows must outlive the call.
class Params {
  public:
    Params(std::initializer_list<Param> list) : first_(std::data(list)), size_(list.size()) {}
    Params(const std::vector<Param>& all) : first_(all.data()), size_(all.size()) {}
    const Param* begin() const { return first_; }
    const Param* end() const { return first_ + size_; }

  private:
    const Param* first_;
    size_t size_;
};

inline Param nullable(const std::optional<int64_t>& v) {
    return v ? Param(*v) : Param(nullptr);
}

// The current row of a running statement; columns count from 0.
class Row {
  public:
    virtual ~Row() = default;
    virtual int64_t integer(int col) const = 0;
    virtual std::optional<int64_t> nullable(int col) const = 0;
    virtual std::string text(int col) const = 0;
};

// True when the statement may change what the read cache keeps (sql_cache.h): every statement
// except reads, transaction control and writes to the tables the cached answers never read
// (sessions, counters, audit log, outbox, tokens, consents, readings, notifications) and to the
// generation itself (cache_generation). Unknown statements count as changes.
bool changes_cached_data(std::string_view sql);

class Connection {
  public:
    virtual ~Connection() = default;
    // Runs one statement; answers the number of rows it changed.
    virtual Result<int64_t> exec(const std::string& sql, Params params) = 0;
    // Runs an INSERT; answers the id of the new row.
    virtual Result<int64_t> insert(const std::string& sql, Params params) = 0;
    // Runs one statement and calls on_row for every row it yields (a read, or a write with
    // RETURNING).
    virtual Status query(const std::string& sql, Params params,
                         const std::function<void(const Row&)>& on_row) = 0;
    // Runs a script of statements without parameters (migrations only).
    virtual Status exec_script(const std::string& sql) = 0;

    // After a transport-level failure the connection is not trusted any more: the storage
    // drops it and opens a new one on the next call (never inside a transaction).
    bool broken() const { return broken_; }
    void mark_broken() { broken_ = true; }

    // Transaction nesting depth on this connection (0: autocommit).
    int depth = 0;

    // Set by a failure after which the server holds nothing of the current unit of work (one
    // outer transaction, or one storage call in autocommit): it rolled it back (a deadlock, a
    // Galera certification failure, a lost connection before COMMIT) or never ran it (a node
    // not ready yet, a connection lost before a read). The storage then runs the unit again
    // (see SqlStorage::in_transaction). Only the MySQL backend sets it.
    bool aborted = false;
    // Set when a write committed on its own (autocommit) in the current unit: after that the
    // unit is never run again, whatever fails next.
    bool wrote = false;
    bool rerunnable() const { return aborted && !wrote; }
    // True while a unit of work runs on this connection (its flags above belong to it).
    bool in_unit = false;
    // Set before a statement that may change cached data runs; the storage clears it when it
    // tells the read cache, once the outermost unit of work is over.
    bool dirty = false;
    void note_write(std::string_view sql) {
        if (!dirty && changes_cached_data(sql)) dirty = true;
    }

  private:
    bool broken_ = false;
};

}  // namespace lkk::db
