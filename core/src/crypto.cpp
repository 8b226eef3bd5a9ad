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
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
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

// RFC 4648 base64 without '=' padding: the standard alphabet (PHC strings) or the URL-safe one.
std::string base64_unpadded(std::string_view bytes, bool url_safe) {
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
    if (url_safe) {
        for (char& c : out) {
            if (c == '+') c = '-';
            if (c == '/') c = '_';
        }
    }
    return out;
}

// The standard alphabet without padding, in its one canonical form; nullopt for anything else.
std::optional<std::string> base64_unpadded_decode(std::string_view text) {
    if (text.size() % 4 == 1 || text.size() > 4096) return std::nullopt;
    for (char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (!ok) return std::nullopt;
    }
    const size_t pad = (4 - text.size() % 4) % 4;
    std::string padded(text);
    padded.append(pad, '=');
    std::string out(padded.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes_of(padded),
                                  static_cast<int>(padded.size()));
    if (n < 0 || static_cast<size_t>(n) != out.size()) return std::nullopt;
    out.resize(out.size() - pad);  // EVP_DecodeBlock counts the padding as zero bytes
    // Only the canonical form: the bits the padding drops must be zero (as libargon2 checks).
    if (base64_unpadded(out, false) != text) return std::nullopt;
    return out;
}

// The memory of a hashing thread's Argon2 runs (19 MiB by default): mapped once, page aligned,
// and reused by each run of that thread (libargon2 wipes it before it hands it back). With
// libargon2's own malloc per run, in the allocator's arena of the thread, the same hashes ran
// 2 to 4% slower on this VM (issue 11). Other threads (a hash on the calling thread when no
// hashing thread could be made) keep libargon2's malloc.
class HashMemory {
  public:
    ~HashMemory() { drop(); }

    // Made the memory of this thread's Argon2 runs until the thread ends.
    static HashMemory& adopt() {
        thread_local HashMemory mine;
        current_ = &mine;
        return mine;
    }

    // Unmapped until the next run: a hashing thread idle for a while gives its memory back to
    // the system, so a worker holds Argon2's memory only around logins.
    void drop() noexcept {
        if (base_ != nullptr) munmap(base_, size_);
        base_ = nullptr;
        size_ = 0;
    }

    // Fills ctx's memory callbacks when this thread has adopted one.
    static void lend_to(argon2_context& ctx) {
        if (current_ == nullptr) return;
        ctx.allocate_cbk = &HashMemory::allocate;
        ctx.free_cbk = &HashMemory::give_back;
    }

  private:
    static int allocate(uint8_t** memory, size_t bytes) {
        HashMemory& m = *current_;
        if (bytes > m.size_) {
            m.drop();
            m.base_ =
                mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m.base_ == MAP_FAILED) {
                m.base_ = nullptr;
                return ARGON2_MEMORY_ALLOCATION_ERROR;
            }
            m.size_ = bytes;
        }
        *memory = static_cast<uint8_t*>(m.base_);
        return ARGON2_OK;
    }

    static void give_back(uint8_t* /*memory*/, size_t /*bytes*/) {}  // kept for the next run

    static thread_local HashMemory* current_;
    void* base_ = nullptr;
    size_t size_ = 0;
};

thread_local HashMemory* HashMemory::current_ = nullptr;

// A context for argon2id_ctx/argon2_verify_ctx: out receives the hash.
argon2_context argon2_context_for(std::string_view password, std::string_view salt,
                                  const Argon2Params& params, std::string& out) {
    argon2_context ctx{};
    ctx.out = reinterpret_cast<uint8_t*>(out.data());
    ctx.outlen = static_cast<uint32_t>(out.size());
    ctx.pwd = reinterpret_cast<uint8_t*>(const_cast<char*>(password.data()));
    ctx.pwdlen = static_cast<uint32_t>(password.size());
    ctx.salt = reinterpret_cast<uint8_t*>(const_cast<char*>(salt.data()));
    ctx.saltlen = static_cast<uint32_t>(salt.size());
    ctx.t_cost = params.iterations;
    ctx.m_cost = params.memory_kib;
    ctx.lanes = params.parallelism;
    // The lanes one after the other on the hashing thread (the same hash): a slot is one CPU,
    // and the thread is bound to it (Hashers::Cpus).
    ctx.threads = 1;
    ctx.version = ARGON2_VERSION_NUMBER;
    ctx.flags = ARGON2_DEFAULT_FLAGS;
    HashMemory::lend_to(ctx);
    return ctx;
}

// "$argon2id$v=19$m=M,t=T,p=P$" and the parameters in it; false when text starts otherwise.
bool take_phc_head(std::string_view& text, Argon2Params& params) {
    uint32_t version = 0;
    if (text.substr(0, 10) != "$argon2id$") return false;
    text.remove_prefix(10);
    if (!take_param(text, "v=", version) || version != ARGON2_VERSION_NUMBER) return false;
    if (!take_param(text, "$m=", params.memory_kib) ||
        !take_param(text, ",t=", params.iterations) ||
        !take_param(text, ",p=", params.parallelism)) {
        return false;
    }
    if (text.empty() || text.front() != '$') return false;
    text.remove_prefix(1);
    return true;
}

// The slots every process forked after share_hash_slots() takes its turns in; nullptr: the
// process hashes alone (lkk-admin, tests, a server that never called it).
std::atomic<Turns*> g_shared_slots{nullptr};

// One slot per CPU for the whole server. Read once: glibc answers hardware_concurrency() by
// opening and reading /sys/devices/system/cpu/online, and Hashers::run asks under its lock on
// every hash (that was 5% of a login storm's CPU outside the hashing threads).
unsigned hash_slots_wanted() {
    static const unsigned cpus = std::max(1U, std::thread::hardware_concurrency());
    return cpus;
}

// The threads of this process that run its Argon2 computations, made as they are needed and
// kept: at most one per CPU, as no more hashes run at once. Each takes the next job of the
// process, waits for a slot of the server (Turns), hashes, gives the slot back and takes the
// next job. So when a hash ends, the slot passes straight to the next waiting hashing thread,
// of this process or another, and this thread goes on with the next job of its own process
// without sleeping: the caller that asked for the finished hash is woken meanwhile. (When the
// calling pool threads took the slots, a slot passed through three wake-ups in a row: finished
// hash, its caller, the next caller, that caller's hashing thread.) The CPUs idled 2 to 3% of a
// login storm on a 2-CPU VM then, and under 1% with this and Cpus (issue 11).
//
// They run under SCHED_IDLE for their whole life: any other thread that becomes runnable, an
// event loop woken by a request above all, takes their CPU at once, so static files stay fast
// during a login storm. (Under nice +5, the scheduler lets a hash finish its time slice first: a
// static file's p99 under login load was a median 1.97 times its p99 alone, 1.60 times under
// SCHED_IDLE; issue 11.) The price: while other work keeps every CPU busy, hashes wait; the pool
// threads waiting for them then serve no pages, which frees the CPUs again. Only hashing threads
// wait for the slots' lock, so one preempted while holding it delays only other hashes. Where
// the system refuses SCHED_IDLE, nice +5. The pool thread that asks waits for its hash: its own
// priority never changes, which matters because an unprivileged worker could not raise it again
// once lowered, and every later page of that thread would run at the lower priority.
class Hashers {
  public:
    // Runs job in one of slots on a hashing thread and returns when it is done; on the calling
    // thread when the process has no hashing thread and cannot make one.
    static void run(Turns& slots, const std::function<void()>& job) {
        Hashers& h = mine();
        Job mine_to_do{&slots, &job};
        {
            std::unique_lock lock(h.mu_);
            // Every idle thread already has a job waiting for it: one more thread, if fewer than
            // the CPUs.
            const bool more = h.idle_ <= h.queue_.size() && h.threads_ < hash_slots_wanted();
            if (!(more && h.spawn()) && h.threads_ == 0) {
                lock.unlock();
                in_a_slot(mine_to_do, nullptr);
            } else {
                h.queue_.push_back(&mine_to_do);
                h.work_.notify_one();
                mine_to_do.finished.wait(lock, [&] { return mine_to_do.done; });
            }
        }
        if (mine_to_do.error) std::rethrow_exception(mine_to_do.error);
    }

  private:
    // Each slot's hash runs on a CPU of its own: slot i on the i-th CPU this thread was allowed
    // when it was made (modulo their count; none bound when that is one CPU, e.g. a worker
    // pinned by worker_cpu_affinity). Left to the scheduler, a hash woken when another ended
    // was often put on the CPU where it ran before, beside the other hash, while the CPU just
    // freed idled until the next balancing.
    class Cpus {
      public:
        Cpus() {
            CPU_ZERO(&allowed_);
            if (sched_getaffinity(0, sizeof allowed_, &allowed_) != 0) CPU_ZERO(&allowed_);
            count_ = static_cast<unsigned>(CPU_COUNT(&allowed_));
        }

        void settle(unsigned slot) noexcept {
            if (count_ < 2 || slot % count_ == last_) return;
            last_ = slot % count_;
            unsigned seen = 0;
            for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
                if (!CPU_ISSET(cpu, &allowed_) || seen++ != last_) continue;
                cpu_set_t one;
                CPU_ZERO(&one);
                CPU_SET(cpu, &one);
                (void)sched_setaffinity(0, sizeof one, &one);  // refused: the scheduler's choice
                return;
            }
        }

      private:
        cpu_set_t allowed_;
        unsigned count_ = 0;
        unsigned last_ = ~0U;
    };

    static constexpr int kHashNice = 5;  // where SCHED_IDLE is refused
    // How long a hashing thread without work keeps its Argon2 memory: through a storm of logins
    // it is reused (mapping it afresh costs a page fault per 4 KiB, 4,864 per hash by default),
    // and a worker that saw no login for this long holds none of it.
    static constexpr std::chrono::seconds kKeepMemory{2};
    struct Job {
        Job(Turns* s, const std::function<void()>* f) : slots(s), fn(f) {}
        Turns* slots;
        const std::function<void()>* fn;
        bool done = false;
        std::exception_ptr error;  // the slots' lock failed (lkk/turns.h): the caller's to throw
        // Its caller's own, so a finished hash wakes that caller alone (with one for all, every
        // waiting caller woke and took the lock at each hash's end).
        std::condition_variable finished;
    };

    explicit Hashers(pid_t pid) : pid_(pid) {}

    // cpus: where a hashing thread may run (nullptr on the calling thread, whose CPUs stay as
    // they are).
    static void in_a_slot(Job& job, Cpus* cpus) noexcept {
        try {
            const unsigned slot = job.slots->acquire();
            if (cpus != nullptr) cpus->settle(slot);
            (*job.fn)();  // the Argon2 calls: C, no exceptions
            job.slots->release(slot);
        } catch (...) {  // only from the slots' lock
            job.error = std::current_exception();
        }
    }

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
        ++threads_;
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
        Cpus cpus;
        HashMemory& memory = HashMemory::adopt();
        std::unique_lock lock(mu_);
        for (;;) {
            if (!work_.wait_for(lock, kKeepMemory, [&] { return !queue_.empty(); })) {
                memory.drop();
                work_.wait(lock, [&] { return !queue_.empty(); });
            }
            Job* job = queue_.front();
            queue_.pop_front();
            --idle_;
            lock.unlock();
            in_a_slot(*job, &cpus);
            lock.lock();
            ++idle_;
            job->done = true;
            // Under mu_: the caller cannot return, and take the Job away, before this is done.
            job->finished.notify_one();
        }
    }

    const pid_t pid_;
    std::mutex mu_;
    std::condition_variable work_;
    std::deque<Job*> queue_;
    unsigned idle_ = 0;     // threads waiting for work
    unsigned threads_ = 0;  // threads made
};

// At most as many Argon2 runs at once on the machine as it has CPUs (issue 11): each run fills
// its memory cost (19 MiB by default) with random accesses, so more runs than cores only evict
// one another from the caches and every login gets slower. The slots are shared by all the
// server's processes (share_hash_slots), so the logins of one busy worker may use every CPU
// while the others idle. They are taken in order (lkk/turns.h), so no hash waits for more than
// its place in the queue; the computation runs on a hashing thread (Hashers).
void hash_in_a_slot(const std::function<void()>& job) {
    Turns* slots = g_shared_slots.load();
    if (slots == nullptr) {
        static Turns mine(hash_slots_wanted());
        slots = &mine;
    }
    Hashers::run(*slots, job);
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
    std::string salt(kSaltBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) !=
        1) {
        return Status::Internal("the OS random generator failed");
    }
    std::string hash(kHashBytes, '\0');
    int rc = ARGON2_OK;
    hash_in_a_slot([&] {
        argon2_context ctx = argon2_context_for(password, salt, params, hash);
        rc = argon2id_ctx(&ctx);
    });
    if (rc != ARGON2_OK) {
        return Status::Internal(std::string("argon2id: ") + argon2_error_message(rc));
    }
    // The PHC string form, as libargon2's argon2id_hash_encoded writes it.
    return "$argon2id$v=" + std::to_string(ARGON2_VERSION_NUMBER) +
           "$m=" + std::to_string(params.memory_kib) + ",t=" + std::to_string(params.iterations) +
           ",p=" + std::to_string(params.parallelism) + "$" + base64_unpadded(salt, false) + "$" +
           base64_unpadded(hash, false);
}

// Recomputes the hash with the encoded salt and parameters; argon2_verify_ctx compares it in
// constant time.
bool verify_password(std::string_view password, const std::string& encoded) {
    if (password.size() > std::numeric_limits<uint32_t>::max()) return false;
    std::string_view text = encoded;
    Argon2Params params;
    if (!take_phc_head(text, params)) return false;
    const size_t dollar = text.find('$');
    if (dollar == std::string_view::npos) return false;
    const auto salt = base64_unpadded_decode(text.substr(0, dollar));
    const auto want = base64_unpadded_decode(text.substr(dollar + 1));
    if (!salt || !want || want->empty() || want->size() > 1024) return false;
    std::string hash(want->size(), '\0');
    int rc = ARGON2_OK;
    hash_in_a_slot([&] {
        argon2_context ctx = argon2_context_for(password, *salt, params, hash);
        rc = argon2_verify_ctx(&ctx, want->data(), Argon2_id);
    });
    OPENSSL_cleanse(hash.data(), hash.size());
    return rc == ARGON2_OK;
}

// Reads "$argon2id$v=19$m=M,t=T,p=P$" so a changed cost in the settings upgrades hashes as
// users log in; anything else (old version, other variant, garbage) also asks for a rehash.
bool needs_rehash(const std::string& encoded, const Argon2Params& params) {
    std::string_view text = encoded;
    Argon2Params made;
    if (!take_phc_head(text, made)) return true;
    return made.memory_kib != params.memory_kib || made.iterations != params.iterations ||
           made.parallelism != params.parallelism;
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
    return base64_unpadded(bytes, true);
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
