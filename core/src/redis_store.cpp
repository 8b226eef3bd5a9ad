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

#include "lkk/crypto.h"

#include <hiredis/hiredis.h>

#include <charconv>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace lkk {
namespace {

constexpr int kConnectTimeoutMs = 2000;
constexpr int kCommandTimeoutMs = 2000;
constexpr int kSentinelTimeoutMs = 500;  // a sentinel that does not answer soon is skipped
constexpr int64_t kGraceSeconds = 60;    // TTLs outlive the logical expiry by this much

struct Endpoint {
    std::string host = "127.0.0.1";
    int port = 6379;
};

struct RedisAddress {
    Endpoint server;                  // redis://: the one server
    std::vector<Endpoint> sentinels;  // redis-sentinel://: asked for the master's address
    std::string master_name;
    int db = 0;
    std::string password;
};

Result<int> parse_port(const std::string& port) {
    int v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || p != port.data() + port.size() || v <= 0 || v > 65535)
        return Status::Invalid("redis url: bad port '" + port + "'");
    return v;
}

// "host:port" or "host" (default port) or ":port" (default host).
Result<Endpoint> parse_endpoint(std::string text, int default_port) {
    Endpoint e;
    e.port = default_port;
    if (auto colon = text.rfind(':'); colon != std::string::npos) {
        auto port = parse_port(text.substr(colon + 1));
        if (!port) return port.error();
        e.port = *port;
        text.resize(colon);
    }
    if (!text.empty()) e.host = text;
    return e;
}

Result<int> parse_db(const std::string& db) {
    int v = 0;
    if (db.empty()) return v;
    auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), v);
    if (ec != std::errc() || p != db.data() + db.size() || v < 0)
        return Status::Invalid("redis url: bad database number '" + db + "'");
    return v;
}

// "redis://[:password@]host:port/db" or
// "redis-sentinel://[:password@]s1:26379,s2:26379/master-name/db" (the password is the
// master's).
Result<RedisAddress> parse_redis_url(const std::string& url) {
    constexpr std::string_view plain = "redis://";
    constexpr std::string_view sentinel = "redis-sentinel://";
    const bool via_sentinels = url.starts_with(sentinel);
    if (!via_sentinels && !url.starts_with(plain))
        return Status::Invalid("redis url must start with redis:// or redis-sentinel://");
    std::string rest = url.substr(via_sentinels ? sentinel.size() : plain.size());
    RedisAddress a;
    if (auto at = rest.rfind('@'); at != std::string::npos) {
        std::string cred = rest.substr(0, at);
        rest = rest.substr(at + 1);
        auto colon = cred.find(':');
        a.password = colon == std::string::npos ? cred : cred.substr(colon + 1);
    }
    std::string path;
    if (auto slash = rest.find('/'); slash != std::string::npos) {
        path = rest.substr(slash + 1);
        rest.resize(slash);
    }
    if (!via_sentinels) {
        auto db = parse_db(path);
        if (!db) return db.error();
        a.db = *db;
        auto server = parse_endpoint(rest, 6379);
        if (!server) return server.error();
        a.server = *server;
        return a;
    }
    const auto slash = path.find('/');
    a.master_name = path.substr(0, slash);
    if (a.master_name.empty())
        return Status::Invalid(
            "redis-sentinel url needs the master's name: redis-sentinel://s1:26379,s2:26379/"
            "mymaster/0");
    auto db = parse_db(slash == std::string::npos ? std::string() : path.substr(slash + 1));
    if (!db) return db.error();
    a.db = *db;
    size_t start = 0;
    while (true) {
        const size_t comma = rest.find(',', start);
        auto e = parse_endpoint(
            rest.substr(start, comma == std::string::npos ? comma : comma - start), 26379);
        if (!e) return e.error();
        a.sentinels.push_back(*e);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
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

ReplyPtr run(redisContext* c, const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    return ReplyPtr(static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
}

bool simple_ok(redisContext* c, const std::vector<std::string>& args) {
    ReplyPtr r = run(c, args);
    return r && r->type != REDIS_REPLY_ERROR;
}

bool is_string(const redisReply* r) {
    return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

ContextPtr connect(const Endpoint& e, int timeout_ms) {
    ContextPtr c(redisConnectWithTimeout(e.host.c_str(), e.port, ms_to_timeval(timeout_ms)));
    if (c && c->err == 0 && redisSetTimeout(c.get(), ms_to_timeval(timeout_ms)) != REDIS_OK)
        c->err = REDIS_ERR_IO;
    return c;
}

// A Lua script, sent by its SHA-1 (EVALSHA) so a request carries a few bytes instead of the
// whole text; RedisConnections::script sends the text once more where the server does not know
// it yet (NOSCRIPT: a new or restarted Redis, a failover).
struct Script {
    explicit Script(const char* text) : body(text), sha(crypto::sha1_hex(text)) {}
    std::string body, sha;
};

// The connection pool: one context per thread, created lazily, dropped after any error.
// Behind Sentinel (issue 14) the master's address is asked of the sentinels, the first that
// answers, and kept until a connection to it fails or it refuses a write (READONLY: it was
// demoted), so the next connection asks again; a connection is used only once the server
// it reaches says it is the master (ROLE), so nothing is written to a replica.
class RedisConnections {
  public:
    explicit RedisConnections(RedisAddress address) : address_(std::move(address)) {}

    // Runs one command (argv form: binary-safe, no format strings). A transport error drops
    // this thread's connection and answers unavailable; a Redis error reply answers internal.
    // A write refused by a demoted master runs once more on the master the sentinels name.
    Result<ReplyPtr> command(const std::vector<std::string>& args) {
        for (int attempt = 0;; ++attempt) {
            auto ctx = connection();
            if (!ctx.ok()) return ctx.error();
            ReplyPtr reply = run(*ctx, args);
            if (!reply) {
                std::string why = (*ctx)->errstr;
                drop();
                return Status::Unavailable("redis: " + why);
            }
            if (reply->type != REDIS_REPLY_ERROR) return reply;
            std::string error(reply->str, reply->len);
            if (address_.sentinels.empty() || error.find("READONLY") == std::string::npos)
                return Status::Internal("redis: " + error);
            drop();
            if (attempt > 0) return Status::Unavailable("redis: " + error);
        }
    }

    // EVALSHA script args (numkeys, keys, argv); EVAL with the text when Redis does not know it.
    Result<ReplyPtr> script(const Script& s, std::vector<std::string> args) {
        args.insert(args.begin(), {"EVALSHA", s.sha});
        auto r = command(args);
        if (r.ok() || r.error().message().find("NOSCRIPT") == std::string::npos) return r;
        args[0] = "EVAL";
        args[1] = s.body;
        return command(args);
    }

  private:
    Result<redisContext*> connection() {
        {
            std::lock_guard lock(mu_);
            auto it = per_thread_.find(std::this_thread::get_id());
            if (it != per_thread_.end()) return it->second.get();
        }
        Endpoint where = address_.server;
        if (!address_.sentinels.empty()) {
            auto m = master();
            if (!m) return m.error();
            where = *m;
        }
        const std::string name = where.host + ":" + std::to_string(where.port);
        ContextPtr c = connect(where, kConnectTimeoutMs);
        if (!c) return Status::Unavailable("redis: out of memory");
        if (c->err) {
            forget_master();
            return Status::Unavailable("redis " + name + ": " + c->errstr);
        }
        if (redisSetTimeout(c.get(), ms_to_timeval(kCommandTimeoutMs)) != REDIS_OK)
            return Status::Unavailable("redis: cannot set timeout");
        if (!address_.password.empty() && !simple_ok(c.get(), {"AUTH", address_.password}))
            return Status::Unavailable("redis: AUTH failed");
        if (address_.db != 0 && !simple_ok(c.get(), {"SELECT", std::to_string(address_.db)}))
            return Status::Unavailable("redis: SELECT failed");
        if (!address_.sentinels.empty()) {
            ReplyPtr role = run(c.get(), {"ROLE"});
            if (!role || role->type != REDIS_REPLY_ARRAY || role->elements == 0 ||
                !is_string(role->element[0]) ||
                std::string(role->element[0]->str, role->element[0]->len) != "master") {
                forget_master();
                return Status::Unavailable("redis " + name + " is not the master (yet)");
            }
        }
        std::lock_guard lock(mu_);
        auto& slot = per_thread_[std::this_thread::get_id()];
        slot = std::move(c);
        return slot.get();
    }

    // The master's address: the one known, or the answer of the first sentinel that gives one.
    Result<Endpoint> master() {
        {
            std::lock_guard lock(mu_);
            if (master_) return *master_;
        }
        for (const Endpoint& s : address_.sentinels) {
            ContextPtr c = connect(s, kSentinelTimeoutMs);
            if (!c || c->err) continue;
            ReplyPtr r =
                run(c.get(), {"SENTINEL", "get-master-addr-by-name", address_.master_name});
            if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
                !is_string(r->element[0]) || !is_string(r->element[1]))
                continue;
            auto port = parse_port(std::string(r->element[1]->str, r->element[1]->len));
            if (!port) continue;
            Endpoint m{std::string(r->element[0]->str, r->element[0]->len), *port};
            std::lock_guard lock(mu_);
            master_ = m;
            return m;
        }
        return Status::Unavailable("redis: no sentinel names a master '" + address_.master_name +
                                   "'");
    }

    void forget_master() {
        std::lock_guard lock(mu_);
        master_.reset();
    }

    // Drops this thread's connection; behind Sentinel the master is asked for again.
    void drop() {
        std::lock_guard lock(mu_);
        per_thread_.erase(std::this_thread::get_id());
        master_.reset();
    }

    RedisAddress address_;
    std::mutex mu_;  // guards the map and master_; each context is used by its own thread
    std::map<std::thread::id, ContextPtr> per_thread_;
    std::optional<Endpoint> master_;
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
const std::string kGenerationKey = "lkk:generation";

// KEYS: session, generation. ARGV: a fresh generation, set when there is none (a Redis that
// restarted empty must not answer a generation some worker still keeps data under).
const Script kFindScript(R"(
local v = redis.call('HMGET', KEYS[1], 'user_id', 'csrf', 'created_at', 'last_seen_at')
redis.call('SET', KEYS[2], ARGV[1], 'NX')
return {v[1], v[2], v[3], v[4], redis.call('GET', KEYS[2])})");

// KEYS: session, user set. ARGV: user_id, csrf, created_at, last_seen_at, abs_expires,
// ttl, id_hash, user-set ttl.
const Script kCreateScript(R"(
redis.call('HSET', KEYS[1], 'user_id', ARGV[1], 'csrf', ARGV[2], 'created_at', ARGV[3],
           'last_seen_at', ARGV[4], 'abs_expires', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('SADD', KEYS[2], ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[8])
return 1)");

// KEYS: session. ARGV: now, idle timeout, grace.
const Script kTouchScript(R"(
local exp = redis.call('HGET', KEYS[1], 'abs_expires')
if not exp then return 0 end
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local rest = tonumber(exp) - now
if rest < ttl then ttl = rest end
if ttl <= 0 then redis.call('DEL', KEYS[1]) return 0 end
redis.call('HSET', KEYS[1], 'last_seen_at', ARGV[1])
redis.call('EXPIRE', KEYS[1], ttl + tonumber(ARGV[3]))
return 1)");

// KEYS: session. ARGV: session prefix... user prefix, id_hash.
const Script kRemoveScript(R"(
local uid = redis.call('HGET', KEYS[1], 'user_id')
redis.call('DEL', KEYS[1])
if uid then redis.call('SREM', ARGV[1] .. uid, ARGV[2]) end
return 1)");

// KEYS: user set. ARGV: session prefix.
const Script kRemoveAllScript(R"(
local ids = redis.call('SMEMBERS', KEYS[1])
for _, id in ipairs(ids) do redis.call('DEL', ARGV[1] .. id) end
redis.call('DEL', KEYS[1])
return #ids)");

// KEYS: the counter to hit when ARGV[2], its window, is over 0; then the counters to read.
// ARGV: now, window, grace. A hit counts in a fixed window that starts at the counter's first
// hit. Answers the hit's count after it (when there is a hit), then each counter read: 0 when
// absent or its window is over.
const Script kCountersScript(R"(
local now, win = tonumber(ARGV[1]), tonumber(ARGV[2])
local out, first = {}, 1
if win > 0 then
  local v = redis.call('HMGET', KEYS[1], 'count', 'window_end')
  if (not v[1]) or tonumber(v[2]) <= now then
    out[1] = 1
    redis.call('HSET', KEYS[1], 'count', 1, 'window_end', now + win)
  else
    out[1] = redis.call('HINCRBY', KEYS[1], 'count', 1)
  end
  redis.call('EXPIRE', KEYS[1], win + tonumber(ARGV[3]))
  first = 2
end
for i = first, #KEYS do
  local v = redis.call('HMGET', KEYS[i], 'count', 'window_end')
  if v[1] and tonumber(v[2]) > now then out[i] = tonumber(v[1]) else out[i] = 0 end
end
return out)");

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
        auto r = redis_.script(
            kCreateScript,
            {"2", kSessionPrefix + s.id_hash, kUserPrefix + std::to_string(s.user_id),
             std::to_string(s.user_id), s.csrf, std::to_string(s.created_at),
             std::to_string(s.last_seen_at), std::to_string(abs_expires), std::to_string(ttl),
             s.id_hash, std::to_string(absolute_timeout + kGraceSeconds)});
        return r.ok() ? Status::Ok() : r.error();
    }

    Result<std::optional<Session>> find(const std::string& id_hash, int64_t now,
                                        int64_t idle_timeout, int64_t absolute_timeout) override {
        auto r = redis_.script(
            kFindScript, {"2", kSessionPrefix + id_hash, kGenerationKey, crypto::random_token()});
        if (!r.ok()) return r.error();
        const redisReply* a = r->get();
        if (a->type != REDIS_REPLY_ARRAY || a->elements != 5 ||
            a->element[0]->type != REDIS_REPLY_STRING)
            return std::optional<Session>();
        Session s;
        s.id_hash = id_hash;
        s.user_id = as_int(a->element[0]);
        s.csrf = as_string(a->element[1]);
        s.created_at = as_int(a->element[2]);
        s.last_seen_at = as_int(a->element[3]);
        s.generation = as_string(a->element[4]);
        if (now - s.last_seen_at > idle_timeout || now - s.created_at > absolute_timeout) {
            auto removed = remove(id_hash);
            if (!removed.ok()) return removed;
            return std::optional<Session>();
        }
        return std::optional<Session>(std::move(s));
    }

    Status touch(const std::string& id_hash, int64_t now, int64_t idle_timeout) override {
        auto r = redis_.script(kTouchScript,
                               {"1", kSessionPrefix + id_hash, std::to_string(now),
                                std::to_string(idle_timeout), std::to_string(kGraceSeconds)});
        return r.ok() ? Status::Ok() : r.error();
    }

    Status remove(const std::string& id_hash) override {
        auto r =
            redis_.script(kRemoveScript, {"1", kSessionPrefix + id_hash, kUserPrefix, id_hash});
        return r.ok() ? Status::Ok() : r.error();
    }

    Status remove_all_of_user(int64_t user_id) override {
        auto r = redis_.script(kRemoveAllScript,
                               {"1", kUserPrefix + std::to_string(user_id), kSessionPrefix});
        return r.ok() ? Status::Ok() : r.error();
    }

    // A random value rather than a count, so a Redis that restarted empty never hands out
    // again a generation a worker still keeps data under. A bump lost in a failover (written
    // to the old master, not yet replicated) is not seen: the cache's max_age bounds that.
    Status bump_generation() override {
        auto r = redis_.command({"SET", kGenerationKey, crypto::random_token()});
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
        auto c = hit_and_counts(key, window_seconds, {}, now);
        if (!c) return c.error();
        return c->front();
    }

    Result<std::vector<int64_t>> counts(const std::vector<std::string>& keys,
                                        int64_t now) override {
        return run(keys, 0, now);
    }

    Result<std::vector<int64_t>> hit_and_counts(const std::string& key, int64_t window_seconds,
                                                const std::vector<std::string>& others,
                                                int64_t now) override {
        if (window_seconds <= 0) return Status::Invalid("counter window must be positive");
        std::vector<std::string> keys{key};
        keys.insert(keys.end(), others.begin(), others.end());
        return run(keys, window_seconds, now);
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
    // kCountersScript: with window_seconds > 0 the first key is hit, the others are read.
    Result<std::vector<int64_t>> run(const std::vector<std::string>& keys, int64_t window_seconds,
                                     int64_t now) {
        std::vector<std::string> args{std::to_string(keys.size())};
        for (const std::string& key : keys) args.push_back(kCounterPrefix + key);
        args.push_back(std::to_string(now));
        args.push_back(std::to_string(window_seconds));
        args.push_back(std::to_string(kGraceSeconds));
        auto r = redis_.script(kCountersScript, std::move(args));
        if (!r.ok()) return r.error();
        const redisReply* a = r->get();
        if (a->type != REDIS_REPLY_ARRAY || a->elements != keys.size())
            return Status::Internal("redis: unexpected answer to the counters' script");
        std::vector<int64_t> out;
        out.reserve(a->elements);
        for (size_t i = 0; i < a->elements; ++i) out.push_back(as_int(a->element[i]));
        return out;
    }

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
