// The raw Argon2id rate of the given parameters on T threads, libargon2 directly (what a login
// can cost at best): each thread hashes a password with its own salt for the given seconds.
//   lkk-argon2-rate MEMORY_KIB ITERATIONS PARALLELISM THREADS SECONDS
// prints "hashes_per_second N" on stdout.
#include <argon2.h>

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
    if (argc != 6) {
        std::fprintf(stderr,
                     "usage: lkk-argon2-rate MEMORY_KIB ITERATIONS PARALLELISM THREADS SECONDS\n");
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
            while (std::chrono::steady_clock::now() < until) {
                if (argon2id_hash_raw(iterations, memory, lanes, password.data(), password.size(),
                                      salt.data(), salt.size(), out, sizeof out) != ARGON2_OK) {
                    failed = true;
                    return;
                }
                ++hashes;
            }
        });
    }
    for (auto& t : pool) t.join();
    if (failed) {
        std::fprintf(stderr, "lkk-argon2-rate: argon2id_hash_raw failed\n");
        return 1;
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::printf("hashes_per_second %.1f\n", static_cast<double>(hashes.load()) / took.count());
    return 0;
}
