// Password hashing, tokens and digests: the properties SPEC 4 relies on.
#include "lkk/crypto.h"

#include <argon2.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lkk::crypto {
namespace {

// Small parameters keep the suite fast; one test below uses the real defaults.
const Argon2Params kFast{1024, 1, 1};

TEST(Crypto, HashVerifyRoundtrip) {
    auto hash = hash_password("correct horse 42", kFast);
    ASSERT_TRUE(hash.ok()) << hash.error().message();
    EXPECT_EQ(hash->rfind("$argon2id$v=19$m=1024,t=1,p=1$", 0), 0u) << *hash;
    EXPECT_TRUE(verify_password("correct horse 42", *hash));
}

TEST(Crypto, WrongPasswordFails) {
    auto hash = hash_password("secret1", kFast);
    ASSERT_TRUE(hash.ok());
    EXPECT_FALSE(verify_password("secret2", *hash));
    EXPECT_FALSE(verify_password("", *hash));
    EXPECT_FALSE(verify_password("Secret1", *hash));
}

TEST(Crypto, SamePasswordGetsDifferentSalt) {
    auto a = hash_password("same", kFast);
    auto b = hash_password("same", kFast);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE(*a, *b);
    EXPECT_TRUE(verify_password("same", *a));
    EXPECT_TRUE(verify_password("same", *b));
}

TEST(Crypto, EmptyAndUnicodePasswords) {
    auto empty = hash_password("", kFast);
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(verify_password("", *empty));
    auto cyr = hash_password("пароль", kFast);
    ASSERT_TRUE(cyr.ok());
    EXPECT_TRUE(verify_password("пароль", *cyr));
    EXPECT_FALSE(verify_password("gfhjkm", *cyr));
}

TEST(Crypto, VerifyRejectsGarbageAndOtherVariants) {
    EXPECT_FALSE(verify_password("x", ""));
    EXPECT_FALSE(verify_password("x", "not a hash"));
    EXPECT_FALSE(verify_password("x", "$argon2id$v=19$m=1024,t=1,p=1$AAAA$BBBB"));
    auto hash = hash_password("x", kFast);
    ASSERT_TRUE(hash.ok());
    std::string argon2i = *hash;
    argon2i.replace(0, 10, "$argon2i$");
    EXPECT_FALSE(verify_password("x", argon2i));
}

// libargon2's own PHC string of password (m=1024, t=1, a fixed salt); "" when it fails.
std::string libargon2_encoded(const std::string& password, uint32_t lanes) {
    const std::string salt = "0123456789abcdef";
    std::string out(argon2_encodedlen(1, 1024, lanes, 16, 32, Argon2_id), '\0');
    if (argon2id_hash_encoded(1, 1024, lanes, password.data(), password.size(), salt.data(),
                              salt.size(), 32, out.data(), out.size()) != ARGON2_OK) {
        return "";
    }
    out.resize(std::char_traits<char>::length(out.c_str()));
    return out;
}

// Our PHC strings are libargon2's: a hash libargon2 encoded verifies here, and a hash made here
// verifies with libargon2's own decoder (the stored hashes of earlier versions keep working,
// and nothing else would be needed to read ours).
TEST(Crypto, HashesAreInterchangeableWithLibargon2sEncodedForm) {
    const std::string theirs = libargon2_encoded("correct horse", 1);
    EXPECT_TRUE(verify_password("correct horse", theirs)) << theirs;
    EXPECT_FALSE(verify_password("correct horsE", theirs));

    auto ours = hash_password("correct horse", kFast);
    ASSERT_TRUE(ours.ok());
    EXPECT_EQ(argon2id_verify(ours->c_str(), "correct horse", 13), ARGON2_OK) << *ours;
    EXPECT_EQ(argon2id_verify(ours->c_str(), "correct horsE", 13), ARGON2_VERIFY_MISMATCH);
    // "$argon2id$v=19$m=1024,t=1,p=1$" + 16 bytes of salt and 32 of hash in unpadded base64.
    EXPECT_EQ(ours->size(), 30 + 22 + 1 + 43) << *ours;

    // Two lanes: computed one after the other here, on two threads by libargon2; one hash.
    auto two_lanes = hash_password("correct horse", Argon2Params{1024, 1, 2});
    ASSERT_TRUE(two_lanes.ok());
    EXPECT_EQ(argon2id_verify(two_lanes->c_str(), "correct horse", 13), ARGON2_OK) << *two_lanes;
    const std::string theirs2 = libargon2_encoded("correct horse", 2);
    EXPECT_TRUE(verify_password("correct horse", theirs2)) << theirs2;
}

// A stored hash whose salt or hash is not canonical unpadded base64 matches nothing, like one
// cut short or with a changed byte.
TEST(Crypto, VerifyRejectsDamagedEncodings) {
    auto hash = hash_password("pw", kFast);
    ASSERT_TRUE(hash.ok());
    ASSERT_TRUE(verify_password("pw", *hash));
    const size_t salt_at = hash->find("$", 30);  // the '$' after the parameters
    ASSERT_NE(salt_at, std::string::npos);
    std::vector<std::string> damaged = {
        hash->substr(0, hash->size() - 1),  // a character of the hash missing
        *hash + "A",                        // one too many
        *hash + "=",                        // padding
        hash->substr(0, salt_at) + "$$" + hash->substr(salt_at + 1),  // an empty field
        hash->substr(0, hash->rfind('$')),                            // no hash at all
    };
    std::string flipped = *hash;
    flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
    damaged.push_back(flipped);
    std::string bad_char = *hash;
    bad_char[bad_char.size() - 5] = '-';
    damaged.push_back(bad_char);
    for (const auto& d : damaged) EXPECT_FALSE(verify_password("pw", d)) << d;
}

TEST(Crypto, DefaultParametersMatchSpec) {
    Argon2Params defaults;
    EXPECT_EQ(defaults.memory_kib, 19456u);
    EXPECT_EQ(defaults.iterations, 2u);
    EXPECT_EQ(defaults.parallelism, 1u);
    auto hash = hash_password("default params", defaults);
    ASSERT_TRUE(hash.ok());
    EXPECT_EQ(hash->rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << *hash;
    EXPECT_TRUE(verify_password("default params", *hash));
    EXPECT_FALSE(needs_rehash(*hash, defaults));
}

TEST(Crypto, BadParametersAreAnError) {
    auto hash = hash_password("x", Argon2Params{1024, 0, 1});
    ASSERT_FALSE(hash.ok());
    EXPECT_EQ(hash.error().code(), StatusCode::internal);
}

TEST(Crypto, NeedsRehashWhenParametersChange) {
    auto hash = hash_password("pw", kFast);
    ASSERT_TRUE(hash.ok());
    EXPECT_FALSE(needs_rehash(*hash, kFast));
    EXPECT_TRUE(needs_rehash(*hash, Argon2Params{2048, 1, 1}));
    EXPECT_TRUE(needs_rehash(*hash, Argon2Params{1024, 2, 1}));
    EXPECT_TRUE(needs_rehash(*hash, Argon2Params{1024, 1, 2}));
}

TEST(Crypto, NeedsRehashForUnreadableOrOldHashes) {
    EXPECT_TRUE(needs_rehash("", kFast));
    EXPECT_TRUE(needs_rehash("$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA", kFast));
    EXPECT_TRUE(needs_rehash("$argon2id$v=16$m=1024,t=1,p=1$c2FsdA$aGFzaA", kFast));
    EXPECT_TRUE(needs_rehash("$argon2id$v=19$m=1024,t=1$c2FsdA$aGFzaA", kFast));
    EXPECT_TRUE(needs_rehash("$argon2id$v=19$m=1024,t=1,p=1", kFast));
    EXPECT_FALSE(needs_rehash("$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA", kFast));
}

TEST(Crypto, TokenIs43UrlSafeCharacters) {
    for (int i = 0; i < 50; ++i) {
        const std::string t = random_token();
        ASSERT_EQ(t.size(), 43u);
        for (char c : t) {
            const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_';
            ASSERT_TRUE(ok) << t;
        }
    }
}

TEST(Crypto, TokensAreUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) seen.insert(random_token());
    EXPECT_EQ(seen.size(), 1000u);
}

// Tokens come from a per-thread block of the CSPRNG's output: a process forked after its parent
// drew a block must not hand out the bytes the parent hands out next.
TEST(Crypto, AForkedChildNeverRepeatsItsParentsTokens) {
    (void)random_token();  // the parent's block is drawn
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        std::string mine;
        for (int i = 0; i < 40; ++i) mine += random_token();
        const ssize_t n = write(fds[1], mine.data(), mine.size());
        _exit(n == static_cast<ssize_t>(mine.size()) ? 0 : 1);
    }
    close(fds[1]);
    std::string theirs;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) theirs.append(buf, n);
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_EQ(theirs.size(), 40u * 43u);
    std::set<std::string> seen;
    for (size_t i = 0; i < theirs.size(); i += 43) seen.insert(theirs.substr(i, 43));
    for (int i = 0; i < 40; ++i) seen.insert(random_token());
    EXPECT_EQ(seen.size(), 80u);
}

TEST(Crypto, Base64UrlKnownVectors) {
    // RFC 4648 section 10, with padding removed.
    EXPECT_EQ(base64url_encode(""), "");
    EXPECT_EQ(base64url_encode("f"), "Zg");
    EXPECT_EQ(base64url_encode("fo"), "Zm8");
    EXPECT_EQ(base64url_encode("foo"), "Zm9v");
    EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
    EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
    EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
    // The bytes that map to '+' and '/' in standard base64 become '-' and '_'.
    EXPECT_EQ(base64url_encode(std::string("\xfb\xff\xbf", 3)), "-_-_");
}

TEST(Crypto, Base64UrlLongInputCrossesChunks) {
    const std::string input(10000, '\xff');
    const std::string out = base64url_encode(input);
    EXPECT_EQ(out.size(), (10000 * 4 + 2) / 3);  // unpadded length
    EXPECT_EQ(out.substr(13332), "_w");          // 0xff alone is "/w=="
}

TEST(Crypto, Sha256KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, Sha1KnownVectors) {
    EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

// Field n of stat(5) (counted from 1) of each thread of this process other than the caller.
std::vector<int> other_threads_stat(int n) {
    std::vector<int> values;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        if (task.path().filename() == std::to_string(gettid())) continue;
        std::ifstream in(task.path() / "stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::istringstream after_name(stat.substr(stat.rfind(')') + 1));  // from field 3 on
        std::string field;
        for (int i = 3; i <= n && after_name >> field; ++i) {
        }
        values.push_back(std::stoi(field));
    }
    return values;
}

// The Argon2 computation runs on a hashing thread under SCHED_IDLE, so event loops come first
// during a login storm; the thread that asked keeps its policy and priority. It matters in a
// process that could not raise a lowered priority again: an nginx worker running as www-data
// would otherwise serve every later page of that pool thread at the lower priority. The child
// drops root (as nginx's workers do) before it hashes.
TEST(Crypto, HashingRunsOnAnIdlePriorityThreadAndTheCallerKeepsItsOwn) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        alarm(20);
        if (geteuid() == 0 && setuid(65534) != 0) _exit(10);  // nobody: no CAP_SYS_NICE
        errno = 0;
        const int before = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
        if (errno != 0) _exit(11);
        const Argon2Params cheap{64, 1, 1};
        for (int i = 0; i < 3; ++i) {
            auto hashed = hash_password("pw", cheap);
            if (!hashed.ok()) _exit(12);
            if (!verify_password("pw", hashed.value())) _exit(13);
            if (getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())) != before ||
                sched_getscheduler(0) != SCHED_OTHER) {
                _exit(14);
            }
        }
        const std::vector<int> policies = other_threads_stat(41);  // policy
        if (policies.empty()) _exit(15);                           // no hashing thread
        for (int policy : policies) {
            if (policy != SCHED_IDLE) _exit(16);
        }
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 0)
        << "10 setuid, 12/13 hashing, 14 the caller's priority or policy changed, 15 no hashing "
           "thread, 16 a hashing thread not under SCHED_IDLE";
}

long rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}

// A hashing thread keeps Argon2's memory through a storm of logins (mapped once, reused), and
// gives it back to the system when no login came for a while: an idle worker holds none of it.
TEST(Crypto, AnIdleHashingThreadGivesItsMemoryBack) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        alarm(20);
        const Argon2Params big{65536, 1, 1};  // 64 MiB
        const long before = rss_kib();
        auto hashed = hash_password("pw", big);
        if (!hashed.ok()) _exit(10);
        if (!verify_password("pw", hashed.value())) _exit(11);
        const long kept = rss_kib();
        if (kept - before < 60000) _exit(12);  // the memory is still there between hashes
        std::this_thread::sleep_for(std::chrono::seconds(4));
        if (kept - rss_kib() < 60000) _exit(13);  // and gone after a while without work
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 0)
        << "10/11 hashing, 12 the memory was not kept after a hash, 13 not given back when idle";
}

// Logins that reach one process at once hash side by side, each on a hashing thread of its own.
TEST(Crypto, ConcurrentHashesOfOneProcessAllComplete) {
    const Argon2Params cheap{256, 1, 1};
    std::vector<std::thread> threads;
    std::atomic<int> verified{0};
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] {
            const std::string pw = "pw" + std::to_string(i);
            auto hashed = hash_password(pw, cheap);
            if (hashed.ok() && verify_password(pw, hashed.value()) &&
                !verify_password(pw + "x", hashed.value())) {
                ++verified;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(verified.load(), 8);
}

TEST(Crypto, ConstantTimeEqual) {
    EXPECT_TRUE(constant_time_equal("", ""));
    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "abcd"));
    EXPECT_FALSE(constant_time_equal("abcd", "abc"));
    EXPECT_FALSE(constant_time_equal("", "a"));
    EXPECT_TRUE(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
    EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

}  // namespace
}  // namespace lkk::crypto
