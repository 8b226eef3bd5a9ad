// Picks where sessions and throttle counters live from the settings' [sessions] url.
#include <string>

#include "lkk/log.h"
#include "lkk/redis_store.h"
#include "lkk/session_store.h"
#include "lkk/storage.h"

namespace lkk {

namespace {

// "storage": the database backend implements the session side itself; these adapters only
// forward, and do not own it (the Storage outlives them, it is owned by the application).
class StorageSessions final : public SessionStore {
  public:
    explicit StorageSessions(SessionStore& inner) : inner_(inner) {}
    Status ping() override { return inner_.ping(); }
    Status create(const Session& s, int64_t idle, int64_t absolute) override {
        return inner_.create(s, idle, absolute);
    }
    Result<std::optional<Session>> find(const std::string& id_hash, int64_t now, int64_t idle,
                                        int64_t absolute) override {
        return inner_.find(id_hash, now, idle, absolute);
    }
    Status touch(const std::string& id_hash, int64_t now, int64_t idle) override {
        return inner_.touch(id_hash, now, idle);
    }
    Status remove(const std::string& id_hash) override { return inner_.remove(id_hash); }
    Status remove_all_of_user(int64_t user_id) override {
        return inner_.remove_all_of_user(user_id);
    }
    Status bump_generation() override { return inner_.bump_generation(); }
    bool in_storage() const override { return true; }

  private:
    SessionStore& inner_;
};

class StorageCounters final : public CounterStore {
  public:
    explicit StorageCounters(CounterStore& inner) : inner_(inner) {}
    Result<int64_t> hit(const std::string& key, int64_t window, int64_t now) override {
        return inner_.hit(key, window, now);
    }
    Result<std::vector<int64_t>> counts(const std::vector<std::string>& keys,
                                        int64_t now) override {
        return inner_.counts(keys, now);
    }
    Status clear(const std::string& key) override { return inner_.clear(key); }
    Status clear_prefix(const std::string& prefix) override { return inner_.clear_prefix(prefix); }

  private:
    CounterStore& inner_;
};

}  // namespace

Result<int64_t> CounterStore::count(const std::string& key, int64_t now) {
    auto c = counts({key}, now);
    if (!c) return c.error();
    return c->front();
}

Result<std::vector<int64_t>> CounterStore::hit_and_counts(const std::string& key,
                                                          int64_t window_seconds,
                                                          const std::vector<std::string>& others,
                                                          int64_t now) {
    auto first = hit(key, window_seconds, now);
    if (!first) return first.error();
    auto rest = counts(others, now);
    if (!rest) return rest.error();
    rest->insert(rest->begin(), *first);
    return std::move(*rest);
}

Result<std::unique_ptr<SessionStore>> open_session_store(const std::string& url, Storage& storage) {
    if (url == "storage") {
        auto* inner = dynamic_cast<SessionStore*>(&storage);
        if (inner == nullptr) return Status::Invalid("this storage backend keeps no sessions");
        return std::unique_ptr<SessionStore>(std::make_unique<StorageSessions>(*inner));
    }
    if (url.starts_with("redis://") || url.starts_with("redis-sentinel://")) {
        return open_redis_session_store(url);
    }
    return Status::Invalid("unknown sessions url \"" + url +
                           "\": expected storage, redis://host:port/db or "
                           "redis-sentinel://s1:26379,s2:26379/master/db");
}

Result<std::unique_ptr<CounterStore>> open_counter_store(const std::string& url, Storage& storage) {
    if (url == "storage") {
        auto* inner = dynamic_cast<CounterStore*>(&storage);
        if (inner == nullptr) return Status::Invalid("this storage backend keeps no counters");
        return std::unique_ptr<CounterStore>(std::make_unique<StorageCounters>(*inner));
    }
    if (url.starts_with("redis://") || url.starts_with("redis-sentinel://")) {
        return open_redis_counter_store(url);
    }
    return Status::Invalid("unknown counters url \"" + url +
                           "\": expected storage, redis://host:port/db or "
                           "redis-sentinel://s1:26379,s2:26379/master/db");
}

// The generation lives where the sessions do (Redis, or the database's cache_generation):
// the store every host asks anyway, in the round trip it makes for the session.
void attach_read_cache(Storage& storage, SessionStore& sessions, int64_t max_age_seconds) {
    storage.set_read_cache(max_age_seconds, [&sessions] {
        if (Status s = sessions.bump_generation(); !s.ok()) {
            log(LogLevel::warn,
                "read cache generation not renewed after a change (" + s.message() +
                    "): other hosts may show the old data until their cache_max_age is over");
        }
    });
}

}  // namespace lkk
