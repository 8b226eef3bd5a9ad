// Sessions and throttle counters: in the database by default, or in Redis.
// Like Storage, implementations are shared by all threads and keep a connection per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lkk/status.h"

namespace lkk {

class Storage;

struct Session {
    std::string id_hash;  // SHA-256 (hex) of the cookie value; the cookie value is not stored
    int64_t user_id = 0;
    std::string csrf;  // the CSRF token of this session's forms
    int64_t created_at = 0;
    int64_t last_seen_at = 0;
    // The read cache's generation (Storage::use_read_cache), read by find() in the same round
    // trip as the session (Redis' lkk:generation, or the database's cache_generation row);
    // empty when the store has none, and then nothing is cached.
    std::string generation;
};

class SessionStore {
  public:
    virtual ~SessionStore() = default;
    virtual Status ping() = 0;
    virtual Status create(const Session& s, int64_t idle_timeout, int64_t absolute_timeout) = 0;
    // Answers nullopt for an unknown, idle-expired or absolutely-expired session.
    virtual Result<std::optional<Session>> find(const std::string& id_hash, int64_t now,
                                                int64_t idle_timeout, int64_t absolute_timeout) = 0;
    virtual Status touch(const std::string& id_hash, int64_t now, int64_t idle_timeout) = 0;
    virtual Status remove(const std::string& id_hash) = 0;
    virtual Status remove_all_of_user(int64_t user_id) = 0;
    // A new read cache generation after a change of cached data (Storage::set_read_cache): the
    // next find() on every host answers it. Stores without a generation do nothing.
    virtual Status bump_generation() { return Status::Ok(); }
    // True when the sessions live in the storage's own database ([sessions] url = "storage"):
    // a session created inside Storage::in_transaction then commits with the rest.
    virtual bool in_storage() const { return false; }
};

// Fixed-window counters and locks for throttling ("login:email:x@y", "reg:ip:1.2.3.4", ...).
class CounterStore {
  public:
    virtual ~CounterStore() = default;
    // Adds one to key's counter in the window that started at its first hit and lasts
    // window_seconds; answers the count after the increment.
    virtual Result<int64_t> hit(const std::string& key, int64_t window_seconds, int64_t now) = 0;
    // The current count of each key, in order (0 when absent or the window is over), in one
    // round trip.
    virtual Result<std::vector<int64_t>> counts(const std::vector<std::string>& keys,
                                                int64_t now) = 0;
    // counts() of one key.
    Result<int64_t> count(const std::string& key, int64_t now);
    // hit(key, window_seconds, now), then count() of each of others: the hit's count first,
    // then the others' in order. In one round trip where the store can (Redis); this default
    // asks hit() and counts().
    virtual Result<std::vector<int64_t>> hit_and_counts(const std::string& key,
                                                        int64_t window_seconds,
                                                        const std::vector<std::string>& others,
                                                        int64_t now);
    virtual Status clear(const std::string& key) = 0;
    // Clears every key that starts with prefix (users unlock, accounts unlock).
    virtual Status clear_prefix(const std::string& prefix) = 0;
};

// url is "storage" (use the database behind storage) or "redis://host:port/db".
Result<std::unique_ptr<SessionStore>> open_session_store(const std::string& url, Storage& storage);
Result<std::unique_ptr<CounterStore>> open_counter_store(const std::string& url, Storage& storage);

// Ties storage's read cache (Storage::set_read_cache) to the sessions' generation: every change
// of cached data renews the generation, so the next request on every host reads it afresh. A
// process that serves pages keeps answers for max_age_seconds; lkk-admin passes 0 (it only
// announces its changes: imports, blocks, deletions).
void attach_read_cache(Storage& storage, SessionStore& sessions, int64_t max_age_seconds);

}  // namespace lkk
