// The fair slots of the Argon2 hashes (lkk/turns.h): first come, first served, never more at
// once than there are slots.
#include "lkk/turns.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace lkk {
namespace {

TEST(Turns, WaitersGetTheirSlotInTheOrderTheyAsked) {
    Turns turns(1);
    turns.acquire();
    std::mutex m;
    std::vector<int> order;
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i) {
        threads.emplace_back([&, i] {
            turns.acquire();
            {
                const std::lock_guard lock(m);
                order.push_back(i);
            }
            turns.release();
        });
        // The next one starts only once this one waits in the queue.
        while (turns.waiting() != static_cast<uint64_t>(i + 1)) std::this_thread::yield();
    }
    turns.release();
    for (auto& t : threads) t.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(turns.waiting(), 0u);
}

TEST(Turns, NeverMoreAtOnceThanSlots) {
    Turns turns(2);
    std::atomic<int> inside{0};
    std::atomic<int> most{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            for (int k = 0; k < 20; ++k) {
                turns.acquire();
                const int now = ++inside;
                int seen = most.load();
                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                }
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                --inside;
                turns.release();
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(most.load(), 2);
    EXPECT_EQ(inside.load(), 0);
}

}  // namespace
}  // namespace lkk
