// The read cache of the SQL storage (README "Read cache"): each pool thread keeps the answers
// of find_user, list_links and latest_statement that it read under the current cache
// generation, for at most max_age seconds. The generation is read from the session store in
// the same round trip as the session (Cabinet::current_session) and changes after every
// committed write of a table those answers come from, whoever writes (this host, another host,
// lkk-admin): a change is seen by the next request on every host. Private to core/src.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "lkk/meter_store.h"
#include "lkk/money_store.h"
#include "lkk/storage.h"
#include "sql_connection.h"

namespace lkk::db {

template <class T>
inline constexpr bool is_list = false;
template <class T>
inline constexpr bool is_list<std::vector<T>> = true;

class ReadCache {
  public:
    template <class T>
    struct Entry {
        std::chrono::steady_clock::time_point at;
        T value;
    };
    struct Thread {
        bool active = false;     // false: this thread reads around the cache
        std::string generation;  // of what it kept
        std::map<int64_t, Entry<std::optional<User>>> users;
        std::map<int64_t, Entry<std::vector<LinkedAccount>>> links;
        std::map<int64_t, Entry<std::optional<Statement>>> statements;
        // The account page's imported data (statements, payments, meters); the readings are
        // not kept (a submission does not renew the generation).
        std::map<std::pair<int64_t, std::string>, Entry<std::vector<Statement>>> histories;
        std::map<std::tuple<int64_t, std::string, int>, Entry<std::vector<Payment>>> payments;
        std::map<int64_t, Entry<std::vector<Meter>>> meters;
    };

    // 0 keeps nothing (the process only announces its changes: lkk-admin, or a cache turned
    // off in the settings).
    void set_max_age(int64_t seconds) { max_age_ = std::chrono::seconds(seconds); }

    // This thread's generation for the request it serves; "" reads around the cache (and
    // keeps what the thread kept for its next request). A new generation drops it.
    void use(const std::string& generation);
    // After this thread wrote: it drops what it kept and reads around the cache until its
    // next use(), which then brings a generation read after the write.
    void forget();

    // The answer kept for key under this thread's generation, or fetch()'s (kept when ok).
    template <class K, class T, class Fetch>
    Result<T> through(std::map<K, Entry<T>> Thread::*table, const std::type_identity_t<K>& key,
                      Fetch fetch) {
        Thread* t = mine();
        const auto now = std::chrono::steady_clock::now();
        if (t != nullptr) {
            auto& kept = t->*table;
            if (auto it = kept.find(key); it != kept.end() && now - it->second.at < max_age_)
                return it->second.value;
        }
        Result<T> fresh = fetch();
        if (t != nullptr && fresh.ok()) {
            auto& kept = t->*table;
            // Lists hold up to 36 months or 200 payments each: fewer of them per thread.
            if (kept.size() >= (is_list<T> ? kMaxLists : kMaxEntries)) kept.clear();
            kept[key] = Entry<T>{now, *fresh};
        }
        return fresh;
    }

  private:
    static constexpr size_t kMaxEntries = 10000;  // per table and thread
    static constexpr size_t kMaxLists = 256;
    // This thread's part when it reads through the cache, else nullptr. Only its own thread
    // touches a part; the lock guards the map of parts.
    Thread* mine();

    std::chrono::seconds max_age_{0};
    std::mutex mu_;
    std::map<std::thread::id, Thread> threads_;
};

}  // namespace lkk::db
