// Small helpers over db::Connection that every SQL query file uses: one row, all rows, a
// scalar, and "this statement must have touched a row". Private to core/src.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sql_connection.h"

namespace lkk::db {

// A statement that must touch exactly the row it names: none touched means not_found.
inline Status one_row(const Result<int64_t>& changed, const std::string& what) {
    if (!changed) return changed.error();
    if (*changed == 0) return Status::NotFound(what);
    return Status::Ok();
}

// Runs a query that yields at most one T.
template <class T, class Read>
Result<std::optional<T>> find_one(Connection& c, const std::string& sql, Params params, Read read) {
    std::optional<T> found;
    Status s = c.query(sql, params, [&](const Row& r) { found = read(r); });
    if (!s.ok()) return s;
    return found;
}

template <class T, class Read>
Result<std::vector<T>> find_all(Connection& c, const std::string& sql, Params params, Read read) {
    std::vector<T> out;
    Status s = c.query(sql, params, [&](const Row& r) { out.push_back(read(r)); });
    if (!s.ok()) return s;
    return out;
}

inline Result<int64_t> scalar(Connection& c, const std::string& sql, Params params) {
    int64_t v = 0;
    Status s = c.query(sql, params, [&](const Row& r) { v = r.integer(0); });
    if (!s.ok()) return s;
    return v;
}

}  // namespace lkk::db
