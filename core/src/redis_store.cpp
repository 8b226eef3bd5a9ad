// Sessions and throttle counters in Redis through hiredis 0.14.
//
// hiredis 0.14 has no TLS and no redisConnectWithOptions (NOTES.md): we connect with
// redisConnectWithTimeout and bound every command with redisSetTimeout, so a hung Redis
// holds a pool thread for at most the timeout. A redisContext is not thread-safe, hence one
// per thread. Multi-key updates run as Lua scripts so they are atomic without MULTI.
//
// Time: the interface passes `now` in; expiry decisions compare stored times with it (as
// the database backend does), and Redis TTLs only collect garbage, a little after the
// logical expiry.
#include "lkk/redis_store.h"

#include <hiredis/hiredis.h>

#include <charconv>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace lkk {
namespace {

constexpr int kConnectTimeoutMs = 2000;
constexpr int kCommandTimeoutMs = 2000;
constexpr int64_t kGraceSeconds = 60;  // TTLs outlive the logical expiry by this much

struct RedisAddress {
    std::string host = "127.0.0.1";
    int port = 6379;
    int db = 0;
    std::string password;
};

Result<RedisAddress> parse_redis_url(const std::string& url) {
    constexpr std::string_view scheme = "redis://";
    if (url.rfind(scheme, 0) != 0) return Status::Invalid("redis url must start with redis://");
    std::string rest = url.substr(scheme.size());
    RedisAddress a;
    if (auto at = rest.rfind('@'); at != std::string::npos) {
        std::string cred = rest.substr(0, at);
        rest = rest.substr(at + 1);
        auto colon = cred.find(':');
        a.password = colon == std::string::npos ? cred : cred.substr(colon + 1);
    }
    if (auto slash = rest.find('/'); slash != std::string::npos) {
        std::string db = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
        if (!db.empty()) {
            auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), a.db);
            if (ec != std::errc() || p != db.data() + db.size() || a.db < 0)
                return Status::Invalid("redis url: bad database number '" + db + "'");
        }
    }
    if (auto colon = rest.rfind(':'); colon != std::string::npos) {
        std::string port = rest.substr(colon + 1);
        rest = rest.substr(0, colon);
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
        if (ec != std::errc() || p != port.data() + port.size() || a.port <= 0 || a.port > 65535)
            return Status::Invalid("redis url: bad port '" + port + "'");
    }
    if (!rest.empty()) a.host = rest;
    return a;
}

struct ReplyDeleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
    void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

timeval ms_to_timeval(int ms) {
    timeval tv{};
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

// The connection pool: one context per thread, created lazily, dropped after any error.
class RedisConnections {
  public:
    explicit RedisConnections(RedisAddress address) : address_(std::move(address)) {}

    // Runs one command (argv form: binary-safe, no format strings). A transport error drops
    // this thread's connection and answers unavailable; a Redis error reply answers internal.
    Result<ReplyPtr> command(const std::vector<std::string>& args) {
        auto ctx = connection();
        if (!ctx.ok()) return ctx.error();
        std::vector<const char*> argv;
        std::vector<size_t> lens;
        for (const auto& a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        auto* raw = redisCommandArgv(*ctx, static_cast<int>(argv.size()), argv.data(), lens.data());
        if (raw == nullptr) {
            std::string why = (*ctx)->errstr;
            drop();
            return Status::Unavailable("redis: " + why);
        }
        ReplyPtr reply(static_cast<redisReply*>(raw));
        if (reply->type == REDIS_REPLY_ERROR)
            return Status::Internal("redis: " + std::string(reply->str, reply->len));
        return reply;
    }

  private:
    Result<redisContext*> connection() {
        std::lock_guard lock(mu_);
        auto& slot = per_thread_[std::this_thread::get_id()];
        if (slot) return slot.get();
        ContextPtr c(redisConnectWithTimeout(address_.host.c_str(), address_.port,
                                             ms_to_timeval(kConnectTimeoutMs)));
        if (!c) return Status::Unavailable("redis: out of memory");
        if (c->err) return Status::Unavailable("redis " + address_.host + ": " + c->errstr);
        if (redisSetTimeout(c.get(), ms_to_timeval(kCommandTimeoutMs)) != REDIS_OK)
            return Status::Unavailable("redis: cannot set timeout");
        if (!address_.password.empty() && !simple_ok(c.get(), {"AUTH", address_.password}))
            return Status::Unavailable("redis: AUTH failed");
        if (address_.db != 0 && !simple_ok(c.get(), {"SELECT", std::to_string(address_.db)}))
            return Status::Unavailable("redis: SELECT failed");
        slot = std::move(c);
        return slot.get();
    }

    static bool simple_ok(redisContext* c, const std::vector<std::string>& args) {
        std::vector<const char*> argv;
        std::vector<size_t> lens;
        for (const auto& a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        ReplyPtr r(static_cast<redisReply*>(
            redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
        return r && r->type != REDIS_REPLY_ERROR;
    }

    void drop() {
        std::lock_guard lock(mu_);
        per_thread_.erase(std::this_thread::get_id());
    }

    RedisAddress address_;
    std::mutex mu_;  // guards the map only; each context is used by its own thread
    std::map<std::thread::id, ContextPtr> per_thread_;
};

int64_t as_int(const redisReply* r) {
    if (r == nullptr) return 0;
    if (r->type == REDIS_REPLY_INTEGER) return r->integer;
    if (r->type == REDIS_REPLY_STRING) {
        int64_t v = 0;
        std::from_chars(r->str, r->str + r->len, v);
        return v;
    }
    return 0;
}

std::string as_string(const redisReply* r) {
    return r && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : std::string();
}

const std::string kSessionPrefix = "lkk:session:";
const std::string kUserPrefix = "lkk:user_sessions:";
const std::string kCounterPrefix = "lkk:counter:";

// KEYS: session, user set. ARGV: user_id, csrf, created_at, last_seen_at, abs_expires,
// ttl, id_hash, user-set ttl.
const char* kCreateScript = R"(
redis.call('HSET', KEYS[1], 'user_id', ARGV[1], 'csrf', ARGV[2], 'created_at', ARGV[3],
           'last_seen_at', ARGV[4], 'abs_expires', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('SADD', KEYS[2], ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[8])
return 1)";

// KEYS: session. ARGV: now, idle timeout, grace.
const char* kTouchScript = R"(
local exp = redis.call('HGET', KEYS[1], 'abs_expires')
if not exp then return 0 end
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local rest = tonumber(exp) - now
if rest < ttl then ttl = rest end
if ttl <= 0 then redis.call('DEL', KEYS[1]) return 0 end
redis.call('HSET', KEYS[1], 'last_seen_at', ARGV[1])
redis.call('EXPIRE', KEYS[1], ttl + tonumber(ARGV[3]))
return 1)";

// KEYS: session. ARGV: session prefix... user prefix, id_hash.
const char* kRemoveScript = R"(
local uid = redis.call('HGET', KEYS[1], 'user_id')
redis.call('DEL', KEYS[1])
if uid then redis.call('SREM', ARGV[1] .. uid, ARGV[2]) end
return 1)";

// KEYS: user set. ARGV: session prefix.
const char* kRemoveAllScript = R"(
local ids = redis.call('SMEMBERS', KEYS[1])
for _, id in ipairs(ids) do redis.call('DEL', ARGV[1] .. id) end
redis.call('DEL', KEYS[1])
return #ids)";

// KEYS: counter. ARGV: now, window, grace. A fixed window that starts at its first hit.
const char* kHitScript = R"(
local now, win = tonumber(ARGV[1]), tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 'count', 'window_end')
local c
if (not v[1]) or tonumber(v[2]) <= now then
  c = 1
  redis.call('HSET', KEYS[1], 'count', 1, 'window_end', now + win)
else
  c = redis.call('HINCRBY', KEYS[1], 'count', 1)
end
redis.call('EXPIRE', KEYS[1], win + tonumber(ARGV[3]))
return c)";

class RedisSessionStore final : public SessionStore {
  public:
    explicit RedisSessionStore(RedisAddress a) : redis_(std::move(a)) {}

    Status ping() override {
        auto r = redis_.command({"PING"});
        return r.ok() ? Status::Ok() : r.error();
    }

    Status create(const Session& s, int64_t idle_timeout, int64_t absolute_timeout) override {
        const int64_t abs_expires = s.created_at + absolute_timeout;
        const int64_t ttl = std::min(idle_timeout, absolute_timeout) + kGraceSeconds;
        auto r =
            redis_.command({"EVAL", kCreateScript, "2", kSessionPrefix + s.id_hash,
                            kUserPrefix + std::to_string(s.user_id), std::to_string(s.user_id),
                            s.csrf, std::to_string(s.created_at), std::to_string(s.last_seen_at),
                            std::to_string(abs_expires), std::to_string(ttl), s.id_hash,
                            std::to_string(absolute_timeout + kGraceSeconds)});
        return r.ok() ? Status::Ok() : r.error();
    }

    Result<std::optional<Session>> find(const std::string& id_hash, int64_t now,
                                        int64_t idle_timeout, int64_t absolute_timeout) override {
        auto r = redis_.command(
            {"HMGET", kSessionPrefix + id_hash, "user_id", "csrf", "created_at", "last_seen_at"});
        if (!r.ok()) return r.error();
        const redisReply* a = r->get();
        if (a->type != REDIS_REPLY_ARRAY || a->elements != 4 ||
            a->element[0]->type != REDIS_REPLY_STRING)
            return std::optional<Session>();
        Session s;
        s.id_hash = id_hash;
        s.user_id = as_int(a->element[0]);
        s.csrf = as_string(a->element[1]);
        s.created_at = as_int(a->element[2]);
        s.last_seen_at = as_int(a->element[3]);
        if (now - s.last_seen_at > idle_timeout || now - s.created_at > absolute_timeout) {
            auto removed = remove(id_hash);
            if (!removed.ok()) return removed;
            return std::optional<Session>();
        }
        return std::optional<Session>(std::move(s));
    }

    Status touch(const std::string& id_hash, int64_t now, int64_t idle_timeout) override {
        auto r = redis_.command({"EVAL", kTouchScript, "1", kSessionPrefix + id_hash,
                                 std::to_string(now), std::to_string(idle_timeout),
                                 std::to_string(kGraceSeconds)});
        return r.ok() ? Status::Ok() : r.error();
    }

    Status remove(const std::string& id_hash) override {
        auto r = redis_.command(
            {"EVAL", kRemoveScript, "1", kSessionPrefix + id_hash, kUserPrefix, id_hash});
        return r.ok() ? Status::Ok() : r.error();
    }

    Status remove_all_of_user(int64_t user_id) override {
        auto r = redis_.command(
            {"EVAL", kRemoveAllScript, "1", kUserPrefix + std::to_string(user_id), kSessionPrefix});
        return r.ok() ? Status::Ok() : r.error();
    }

  private:
    RedisConnections redis_;
};

// Escapes the glob characters of a SCAN MATCH pattern so a prefix matches only itself.
std::string glob_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

class RedisCounterStore final : public CounterStore {
  public:
    explicit RedisCounterStore(RedisAddress a) : redis_(std::move(a)) {}

    Result<int64_t> hit(const std::string& key, int64_t window_seconds, int64_t now) override {
        auto r = redis_.command({"EVAL", kHitScript, "1", kCounterPrefix + key, std::to_string(now),
                                 std::to_string(window_seconds), std::to_string(kGraceSeconds)});
        if (!r.ok()) return r.error();
        return as_int(r->get());
    }

    Result<int64_t> count(const std::string& key, int64_t now) override {
        auto r = redis_.command({"HMGET", kCounterPrefix + key, "count", "window_end"});
        if (!r.ok()) return r.error();
        const redisReply* a = r->get();
        if (a->type != REDIS_REPLY_ARRAY || a->elements != 2 ||
            a->element[0]->type != REDIS_REPLY_STRING)
            return int64_t{0};
        if (as_int(a->element[1]) <= now) return int64_t{0};
        return as_int(a->element[0]);
    }

    Status clear(const std::string& key) override {
        auto r = redis_.command({"DEL", kCounterPrefix + key});
        return r.ok() ? Status::Ok() : r.error();
    }

    Status clear_prefix(const std::string& prefix) override {
        const std::string pattern = glob_escape(kCounterPrefix + prefix) + "*";
        std::string cursor = "0";
        do {
            auto r = redis_.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "500"});
            if (!r.ok()) return r.error();
            const redisReply* a = r->get();
            if (a->type != REDIS_REPLY_ARRAY || a->elements != 2)
                return Status::Internal("redis: unexpected SCAN reply");
            cursor = as_string(a->element[0]);
            const redisReply* keys = a->element[1];
            if (keys->elements > 0) {
                std::vector<std::string> del{"DEL"};
                for (size_t i = 0; i < keys->elements; ++i)
                    del.push_back(as_string(keys->element[i]));
                auto d = redis_.command(del);
                if (!d.ok()) return d.error();
            }
        } while (cursor != "0");
        return Status::Ok();
    }

  private:
    RedisConnections redis_;
};

}  // namespace

Result<std::unique_ptr<SessionStore>> open_redis_session_store(const std::string& url) {
    auto a = parse_redis_url(url);
    if (!a.ok()) return a.error();
    return std::unique_ptr<SessionStore>(std::make_unique<RedisSessionStore>(std::move(*a)));
}

Result<std::unique_ptr<CounterStore>> open_redis_counter_store(const std::string& url) {
    auto a = parse_redis_url(url);
    if (!a.ok()) return a.error();
    return std::unique_ptr<CounterStore>(std::make_unique<RedisCounterStore>(std::move(*a)));
}

}  // namespace lkk
