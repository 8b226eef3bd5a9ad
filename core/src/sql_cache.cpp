// The read cache of the SQL storage: which statements change cached data, and each thread's
// part of the cache (sql_cache.h).
#include "sql_cache.h"

#include <array>
#include <cctype>

namespace lkk::db {

namespace {

// The next word of sql from pos on (letters, digits, '_' and backquotes dropped), upper-cased.
std::string next_word(std::string_view sql, size_t& pos) {
    while (pos < sql.size() && (std::isspace(static_cast<unsigned char>(sql[pos])) != 0 ||
                                sql[pos] == '`' || sql[pos] == '"'))
        ++pos;
    std::string word;
    while (pos < sql.size() &&
           (std::isalnum(static_cast<unsigned char>(sql[pos])) != 0 || sql[pos] == '_')) {
        word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[pos])));
        ++pos;
    }
    return word;
}

bool is_one_of(const std::string& word, std::initializer_list<std::string_view> list) {
    for (std::string_view w : list) {
        if (word == w) return true;
    }
    return false;
}

}  // namespace

bool changes_cached_data(std::string_view sql) {
    size_t pos = 0;
    std::string verb = next_word(sql, pos);
    if (is_one_of(verb, {"SELECT", "START", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE",
                         "SET", "SHOW", "PRAGMA"})) {
        return false;
    }
    if (!is_one_of(verb, {"INSERT", "REPLACE", "UPDATE", "DELETE"})) return true;
    std::string table = next_word(sql, pos);
    // INSERT [OR REPLACE|OR IGNORE|IGNORE] INTO t, REPLACE INTO t, DELETE FROM t, UPDATE t.
    while (is_one_of(table, {"OR", "REPLACE", "IGNORE", "INTO", "FROM", "LOW_PRIORITY"}))
        table = next_word(sql, pos);
    // CACHE_GENERATION: renewing the generation announces a change, it is none itself.
    return !is_one_of(table, {"SESSIONS", "COUNTERS", "AUDIT_LOG", "OUTBOX", "TOKENS", "CONSENTS",
                              "READINGS", "NOTIFICATION_PREFERENCES", "SENT_NOTIFICATIONS",
                              "UNSUBSCRIBE_TOKENS", "CACHE_GENERATION"});
}

void ReadCache::use(const std::string& generation) {
    if (max_age_.count() == 0) return;
    std::lock_guard lock(mu_);
    if (generation.empty()) {
        if (auto it = threads_.find(std::this_thread::get_id()); it != threads_.end())
            it->second.active = false;
        return;
    }
    Thread& t = threads_[std::this_thread::get_id()];
    if (t.generation != generation) {
        t = Thread{};
        t.generation = generation;
    }
    t.active = true;
}

void ReadCache::forget() {
    if (max_age_.count() == 0) return;
    std::lock_guard lock(mu_);
    threads_.erase(std::this_thread::get_id());
}

ReadCache::Thread* ReadCache::mine() {
    if (max_age_.count() == 0) return nullptr;
    std::lock_guard lock(mu_);
    auto it = threads_.find(std::this_thread::get_id());
    return it == threads_.end() || !it->second.active ? nullptr : &it->second;
}

}  // namespace lkk::db
