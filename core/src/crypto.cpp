// Argon2id password hashes, CSPRNG tokens, SHA-256 digests and constant-time comparison.
// The primitives are libargon2's and OpenSSL's; this file only adapts them to our types.
#include "lkk/crypto.h"
#include "lkk/turns.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace lkk::crypto {

namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr size_t kTokenBytes = 32;

const unsigned char* bytes_of(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// Reads "NAME=DIGITS" at the front of text and advances past it; false when absent.
bool take_param(std::string_view& text, std::string_view name, uint32_t& out) {
    if (text.substr(0, name.size()) != name) return false;
    text.remove_prefix(name.size());
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    if (ec != std::errc{} || ptr == text.data()) return false;
    text.remove_prefix(static_cast<size_t>(ptr - text.data()));
    return true;
}

// The slots every process forked after share_hash_slots() takes its turns in; nullptr: the
// process hashes alone (lkk-admin, tests, a server that never called it).
std::atomic<Turns*> g_shared_slots{nullptr};

// One slot per CPU for the whole server.
unsigned hash_slots_wanted() {
    return std::max(1U, std::thread::hardware_concurrency());
}

// The threads of this process that run its Argon2 computations, made as they are needed (at
// most one per slot the process holds at once) and kept. They run under SCHED_IDLE for their
// whole life: any other thread that becomes runnable, an event loop woken by a request above
// all, takes their CPU at once, so static files stay fast during a login storm. (Under nice +5,
// the scheduler lets a hash finish its time slice first: a static file's p99 under login load
// was a median 1.97 times its p99 alone, 1.60 times under SCHED_IDLE; issue 11.) The price: while
// other work keeps every CPU busy, hashes wait; the pool threads waiting for them then serve
// no pages, which frees the CPUs again. Where the system refuses SCHED_IDLE, nice +5. The pool
// thread that asks waits for its hash: its own priority never changes, which matters because
// an unprivileged worker could not raise it again once lowered, and every later page of that
// thread would run at the lower priority.
class Hashers {
  public:
    // Runs job on a hashing thread and returns when it is done; on the calling thread when no
    // thread can be made.
    static void run(const std::function<void()>& job) {
        Hashers& h = mine();
        Job mine_to_do{&job};
        {
            std::unique_lock lock(h.mu_);
            // Every idle thread already has a job waiting for it: one more thread.
            if (h.idle_ <= h.queue_.size() && !h.spawn()) {
                lock.unlock();
                job();
                return;
            }
            h.queue_.push_back(&mine_to_do);
            h.work_.notify_one();
            h.finished_.wait(lock, [&] { return mine_to_do.done; });
        }
    }

  private:
    static constexpr int kHashNice = 5;  // where SCHED_IDLE is refused
    struct Job {
        const std::function<void()>* fn;
        bool done = false;
    };

    explicit Hashers(pid_t pid) : pid_(pid) {}

    // One per process: after a fork the child starts afresh (the threads stayed behind in the
    // parent). Never destroyed, as its detached threads wait on it until the process exits.
    static Hashers& mine() {
        static std::mutex made_mu;
        static Hashers* made = nullptr;
        const pid_t pid = getpid();
        const std::lock_guard lock(made_mu);
        if (made == nullptr || made->pid_ != pid) made = new Hashers(pid);
        return *made;
    }

    // Under mu_. False when the system refuses a thread.
    bool spawn() {
        try {
            std::thread(&Hashers::serve, this).detach();
        } catch (const std::system_error&) {
            return false;
        }
        ++idle_;
        return true;
    }

    void serve() {
        const sched_param none{};
        if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &none) != 0) {
            // setpriority(PRIO_PROCESS, tid) sets one thread's nice value on Linux.
            errno = 0;
            const int now = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
            if (errno == 0) {
                setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()),
                            std::min(now + kHashNice, 19));
            }
        }
        std::unique_lock lock(mu_);
        for (;;) {
            work_.wait(lock, [&] { return !queue_.empty(); });
            Job* job = queue_.front();
            queue_.pop_front();
            --idle_;
            lock.unlock();
            (*job->fn)();  // the Argon2 calls: C, no exceptions
            lock.lock();
            ++idle_;
            job->done = true;
            finished_.notify_all();
        }
    }

    const pid_t pid_;
    std::mutex mu_;
    std::condition_variable work_;
    std::condition_variable finished_;
    std::deque<Job*> queue_;
    unsigned idle_ = 0;  // threads waiting for work
};

// At most as many Argon2 runs at once on the machine as it has CPUs (issue 11): each run fills
// its memory cost (19 MiB by default) with random accesses, so more runs than cores only evict
// one another from the caches and every login gets slower. The slots are shared by all the
// server's processes (share_hash_slots), so the logins of one busy worker may use every CPU
// while the others idle; the pool threads beyond that wait here, in the order they came. The
// computation itself runs on a hashing thread (Hashers).
void hash_in_a_slot(const std::function<void()>& job) {
    // Taken in order (lkk/turns.h), so no login waits for more than its place in the queue.
    Turns* slots = g_shared_slots.load();
    if (slots == nullptr) {
        static Turns mine(hash_slots_wanted());
        slots = &mine;
    }
    slots->acquire();
    struct Release {
        Turns* slots;
        ~Release() { slots->release(); }
    } release{slots};
    Hashers::run(job);
}

// OpenSSL 3's RAND_bytes costs about as much for 32 bytes as for a kilobyte (its provider
// layers, a lock, a getpid), and the start page asks for a token on every anonymous view: so
// each thread draws a block of the CSPRNG's output and hands it out token by token, wiping
// each token's bytes from the block as it goes. A block drawn before a fork is dropped in the
// child (pthread_atfork), so two processes never hand out the same bytes.
std::atomic<uint64_t> g_fork_epoch{0};

class TokenBytes {
  public:
    using Token = std::array<unsigned char, kTokenBytes>;

    // Fills out with the next kTokenBytes of this thread's block, drawing a new block when
    // the block is used up or was drawn before a fork.
    static void take(Token& out) {
        static const bool registered = [] {
            return pthread_atfork(nullptr, nullptr, [] { g_fork_epoch.fetch_add(1); }) == 0;
        }();
        if (!registered) {  // no way to tell a fork: every token from the CSPRNG itself
            draw(out.data(), out.size());
            return;
        }
        thread_local TokenBytes mine;
        const uint64_t epoch = g_fork_epoch.load(std::memory_order_relaxed);
        if (mine.epoch_ != epoch || mine.used_ == kBlock) {
            draw(mine.block_.data(), kBlock);
            mine.used_ = 0;
            mine.epoch_ = epoch;
        }
        std::copy_n(mine.block_.data() + mine.used_, kTokenBytes, out.data());
        OPENSSL_cleanse(mine.block_.data() + mine.used_, kTokenBytes);
        mine.used_ += kTokenBytes;
    }

  private:
    static constexpr size_t kBlock = 32 * kTokenBytes;

    static void draw(unsigned char* out, size_t n) {
        if (RAND_bytes(out, static_cast<int>(n)) != 1) {
            // No entropy means no safe token; continuing would hand out predictable secrets.
            OPENSSL_die("RAND_bytes failed", __FILE__, __LINE__);
        }
    }

    ~TokenBytes() { OPENSSL_cleanse(block_.data(), kBlock); }

    std::array<unsigned char, kBlock> block_{};
    size_t used_ = kBlock;  // nothing drawn yet
    uint64_t epoch_ = 0;
};

}  // namespace

void share_hash_slots() noexcept {
    if (g_shared_slots.load() != nullptr) return;  // made by an earlier read of the settings
    g_shared_slots.store(Turns::create_shared(hash_slots_wanted()));
}

bool share_hash_slots(void* mem, size_t size) noexcept {
    Turns* placed = Turns::place_shared(mem, size, hash_slots_wanted());
    if (placed == nullptr) return false;
    g_shared_slots.store(placed);
    return true;
}

size_t hash_slots_size() noexcept {
    return sizeof(Turns);
}

// Argon2id with a fresh salt per password, so equal passwords never share a hash.
Result<std::string> hash_password(std::string_view password, const Argon2Params& params) {
    if (password.size() > std::numeric_limits<uint32_t>::max()) {
        return Status::Invalid("password too long");
    }
    std::array<unsigned char, kSaltBytes> salt{};
    if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
        return Status::Internal("the OS random generator failed");
    }
    const size_t len = argon2_encodedlen(params.iterations, params.memory_kib, params.parallelism,
                                         kSaltBytes, kHashBytes, Argon2_id);
    std::string encoded(len, '\0');
    int rc = ARGON2_OK;
    hash_in_a_slot([&] {
        rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism,
                                   password.data(), password.size(), salt.data(), salt.size(),
                                   kHashBytes, encoded.data(), encoded.size());
    });
    if (rc != ARGON2_OK) {
        return Status::Internal(std::string("argon2id: ") + argon2_error_message(rc));
    }
    encoded.resize(std::char_traits<char>::length(encoded.c_str()));  // drop the NUL
    return encoded;
}

// argon2id_verify recomputes the hash and compares it in constant time.
bool verify_password(std::string_view password, const std::string& encoded) {
    if (password.size() > std::numeric_limits<uint32_t>::max()) return false;
    if (encoded.rfind("$argon2id$", 0) != 0) return false;
    int rc = ARGON2_OK;
    hash_in_a_slot(
        [&] { rc = argon2id_verify(encoded.c_str(), password.data(), password.size()); });
    return rc == ARGON2_OK;
}

// Reads "$argon2id$v=19$m=M,t=T,p=P$" so a changed cost in the settings upgrades hashes as
// users log in; anything else (old version, other variant, garbage) also asks for a rehash.
bool needs_rehash(const std::string& encoded, const Argon2Params& params) {
    std::string_view text = encoded;
    uint32_t version = 0, m = 0, t = 0, p = 0;
    if (text.substr(0, 10) != "$argon2id$") return true;
    text.remove_prefix(10);
    if (!take_param(text, "v=", version) || version != ARGON2_VERSION_NUMBER) return true;
    if (!take_param(text, "$m=", m) || !take_param(text, ",t=", t) || !take_param(text, ",p=", p)) {
        return true;
    }
    if (text.empty() || text.front() != '$') return true;
    return m != params.memory_kib || t != params.iterations || p != params.parallelism;
}

// Tokens carry 256 bits of entropy: unguessable even with many online attempts.
std::string random_token() {
    TokenBytes::Token raw{};
    TokenBytes::take(raw);
    std::string token =
        base64url_encode(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
    OPENSSL_cleanse(raw.data(), raw.size());
    return token;
}

// OpenSSL's standard base64, then the URL-safe alphabet, so tokens travel in links and cookies.
bool looks_like_token(std::string_view v) {
    if (v.size() != 43) return false;
    for (char c : v) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    constexpr size_t kChunk = 3 * 1024;  // a multiple of 3: no padding inside the output
    std::array<unsigned char, kChunk / 3 * 4 + 1> buf{};
    while (!bytes.empty()) {
        const std::string_view piece = bytes.substr(0, kChunk);
        const int n = EVP_EncodeBlock(buf.data(), bytes_of(piece), static_cast<int>(piece.size()));
        out.append(reinterpret_cast<const char*>(buf.data()), static_cast<size_t>(n));
        bytes.remove_prefix(piece.size());
    }
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return out;
}

namespace {

std::string digest_hex(std::string_view data, const EVP_MD* md_type) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int md_len = 0;
    if (EVP_Digest(data.data(), data.size(), md.data(), &md_len, md_type, nullptr) != 1) {
        OPENSSL_die("EVP_Digest failed", __FILE__, __LINE__);
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(md_len * 2);
    for (unsigned int i = 0; i < md_len; ++i) {
        out.push_back(kHex[md[i] >> 4]);
        out.push_back(kHex[md[i] & 0x0f]);
    }
    return out;
}

// OpenSSL 3 looks an algorithm up in its providers at every use of EVP_sha256() (a lock and a
// property query: half the cost of hashing a session id). Fetched once, kept for the process.
const EVP_MD* fetched(const char* name) {
    const EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
    if (md == nullptr) OPENSSL_die("EVP_MD_fetch failed", __FILE__, __LINE__);
    return md;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    static const EVP_MD* const md = fetched("SHA256");
    return digest_hex(data, md);
}

std::string sha1_hex(std::string_view data) {
    static const EVP_MD* const md = fetched("SHA1");
    return digest_hex(data, md);
}

// CRYPTO_memcmp does not stop at the first difference. When the lengths differ we still run
// a comparison of the same length as `a`, so the time says nothing about the content.
bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        (void)CRYPTO_memcmp(a.data(), a.data(), a.size());
        return false;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace lkk::crypto
