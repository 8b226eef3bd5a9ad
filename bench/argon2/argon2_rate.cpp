// The raw Argon2id rate of the given parameters on T threads, libargon2 directly (what a login
// can cost at best): each thread hashes a password with its own salt for the given seconds.
//   lkk-argon2-rate MEMORY_KIB ITERATIONS PARALLELISM THREADS SECONDS [lkk]
// prints "hashes_per_second N" on stdout. With "lkk", each thread verifies a password through
// the portal's own path instead (lkk::crypto::verify_password: the hash slots, the hashing
// threads and their memory), without HTTP: give it more threads than CPUs, as a login storm
// queues more logins than there are slots.
#include <argon2.h>

#include "lkk/crypto.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

long arg(char** argv, int i) {
    return std::strtol(argv[i], nullptr, 10);
}

}  // namespace

int main(int argc, char** argv) {
    const bool through_lkk = argc == 7 && std::string(argv[6]) == "lkk";
    if (argc != 6 && !through_lkk) {
        std::fprintf(
            stderr,
            "usage: lkk-argon2-rate MEMORY_KIB ITERATIONS PARALLELISM THREADS SECONDS [lkk]\n");
        return 2;
    }
    const auto memory = static_cast<uint32_t>(arg(argv, 1));
    const auto iterations = static_cast<uint32_t>(arg(argv, 2));
    const auto lanes = static_cast<uint32_t>(arg(argv, 3));
    const long threads = arg(argv, 4);
    const auto seconds = std::chrono::duration<double>(static_cast<double>(arg(argv, 5)));
    if (memory < 8 || iterations < 1 || lanes < 1 || threads < 1 || seconds.count() <= 0) {
        std::fprintf(stderr, "lkk-argon2-rate: every figure must be positive\n");
        return 2;
    }
    std::string encoded;  // what a login verifies against, for "lkk"
    if (through_lkk) {
        auto made = lkk::crypto::hash_password("bench-password", {memory, iterations, lanes});
        if (!made.ok()) {
            std::fprintf(stderr, "lkk-argon2-rate: %s\n", made.error().message().c_str());
            return 1;
        }
        encoded = made.value();
    }
    std::atomic<long> hashes{0};
    std::atomic<bool> failed{false};
    const auto start = std::chrono::steady_clock::now();
    const auto until = start + seconds;
    std::vector<std::thread> pool;
    for (long t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            const std::string password = "bench-password-" + std::to_string(t);
            std::string salt = "lkk-bench-salt-" + std::to_string(t);
            unsigned char out[32];
            const auto hash_once = [&] {
                if (through_lkk) return lkk::crypto::verify_password("bench-password", encoded);
                return argon2id_hash_raw(iterations, memory, lanes, password.data(),
                                         password.size(), salt.data(), salt.size(), out,
                                         sizeof out) == ARGON2_OK;
            };
            while (std::chrono::steady_clock::now() < until) {
                if (!hash_once()) {
                    failed = true;
                    return;
                }
                ++hashes;
            }
        });
    }
    for (auto& t : pool) t.join();
    if (failed) {
        std::fprintf(stderr, "lkk-argon2-rate: a hash failed\n");
        return 1;
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::printf("hashes_per_second %.1f\n", static_cast<double>(hashes.load()) / took.count());
    return 0;
}
