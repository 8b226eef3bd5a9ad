// The fair slots of the Argon2 hashes (lkk/turns.h): first come, first served, never more at
// once than there are slots, across the processes that share them, and nothing lost when one of
// those processes dies.
#include "lkk/turns.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace lkk {
namespace {

TEST(Turns, WaitersGetTheirSlotInTheOrderTheyAsked) {
    Turns turns(1);
    const unsigned first = turns.acquire();
    std::mutex m;
    std::vector<int> order;
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i) {
        threads.emplace_back([&, i] {
            const unsigned slot = turns.acquire();
            {
                const std::lock_guard lock(m);
                order.push_back(i);
            }
            turns.release(slot);
        });
        // The next one starts only once this one waits in the queue.
        while (turns.waiting() != static_cast<uint64_t>(i + 1)) std::this_thread::yield();
    }
    turns.release(first);
    for (auto& t : threads) t.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(turns.waiting(), 0u);
}

TEST(Turns, NeverMoreAtOnceThanSlots) {
    Turns turns(2);
    std::atomic<int> inside{0};
    std::atomic<int> most{0};
    std::atomic<bool> held[2] = {false, false};  // by slot number
    std::atomic<int> shared{0};                  // a number given to two holders at once
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            for (int k = 0; k < 20; ++k) {
                const unsigned slot = turns.acquire();
                if (slot >= 2 || held[slot].exchange(true)) {
                    ++shared;
                    turns.release(slot);
                    continue;
                }
                const int now = ++inside;
                int seen = most.load();
                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                }
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                --inside;
                held[slot] = false;
                turns.release(slot);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(most.load(), 2);
    EXPECT_EQ(inside.load(), 0);
    EXPECT_EQ(shared.load(), 0) << "a slot number was held twice at once, or out of range";
}

// Giving back a slot one does not hold (a number out of range, or another holder's) frees
// nothing: the waiter still waits for the slot's holder.
TEST(Turns, ReleasingASlotNotHeldFreesNothing) {
    Turns turns(1);
    const unsigned mine = turns.acquire();
    EXPECT_EQ(mine, 0u);
    std::atomic<bool> got{false};
    std::thread waiter([&] {
        turns.release(turns.acquire());
        got = true;
    });
    while (turns.waiting() != 1) std::this_thread::yield();
    turns.release(mine + 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(got.load()) << "a slot out of range freed the one slot";
    turns.release(mine);
    waiter.join();
    EXPECT_TRUE(got.load());
}

// Counters that forked children write and the parent reads.
struct Seen {
    std::atomic<int> inside{0};
    std::atomic<int> most{0};
};

Seen* shared_seen() {
    void* mem =
        mmap(nullptr, sizeof(Seen), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    return new (mem) Seen;
}

void note_inside(Seen& seen) {
    const int now = ++seen.inside;
    int most = seen.most.load();
    while (now > most && !seen.most.compare_exchange_weak(most, now)) {
    }
}

void wait_until_waiting(Turns& turns, uint64_t n) {
    while (turns.waiting() != n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

int exit_code(pid_t pid) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The workers of one server: four processes hashing at once never run more than the 2 slots.
TEST(Turns, SharedSlotsBoundEveryProcessTogether) {
    Turns* turns = Turns::create_shared(2);
    Seen* seen = shared_seen();
    ASSERT_NE(turns, nullptr);
    ASSERT_NE(seen, nullptr);
    std::vector<pid_t> children;
    for (int i = 0; i < 4; ++i) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            alarm(10);  // a child that hangs dies rather than outlive the test
            for (int k = 0; k < 30; ++k) {
                const unsigned slot = turns->acquire();
                note_inside(*seen);
                usleep(300);
                --seen->inside;
                turns->release(slot);
            }
            _exit(0);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) EXPECT_EQ(exit_code(pid), 0);
    EXPECT_EQ(seen->most.load(), 2);
    EXPECT_EQ(seen->inside.load(), 0);
    EXPECT_EQ(turns->waiting(), 0u);
}

// One busy process may take every slot while the others idle.
TEST(Turns, OneProcessMayHoldEverySharedSlot) {
    Turns* turns = Turns::create_shared(2);
    ASSERT_NE(turns, nullptr);
    const pid_t idle = fork();
    ASSERT_GE(idle, 0);
    if (idle == 0) {
        alarm(10);
        pause();
        _exit(0);
    }
    alarm(10);  // a hang fails the test instead of the suite's timeout
    const unsigned first = turns->acquire();
    unsigned second_slot = first;
    std::thread second([&] { second_slot = turns->acquire(); });
    second.join();
    EXPECT_EQ(turns->waiting(), 0u);
    EXPECT_NE(first, second_slot);
    turns->release(first);
    turns->release(second_slot);
    alarm(0);
    kill(idle, SIGKILL);
    exit_code(idle);
}

// Apache's parent places the slots in memory it keeps across configuration reads: a later
// read finds the same slots, with what the children of the earlier one hold, instead of new
// ones beside them. Memory holding anything else is refused and left as it was.
TEST(Turns, PlacedAgainInTheSameMemoryTheSlotsAreTheSame) {
    std::vector<std::byte> too_small(sizeof(Turns) - 1);
    EXPECT_EQ(Turns::place_shared(too_small.data(), too_small.size(), 1), nullptr);
    EXPECT_EQ(Turns::place_shared(nullptr, sizeof(Turns), 1), nullptr);

    void* mem =
        mmap(nullptr, sizeof(Turns), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    Turns* first = Turns::place_shared(mem, sizeof(Turns), 1);
    ASSERT_EQ(first, mem);
    const unsigned old = first->acquire();  // an old child, hashing through the restart

    Turns* again = Turns::place_shared(mem, sizeof(Turns), 1);
    ASSERT_EQ(again, first);
    std::atomic<bool> got{false};
    std::thread newcomer([&] {
        const unsigned slot = again->acquire();
        got = true;
        again->release(slot);
    });
    while (again->waiting() != 1) std::this_thread::yield();
    EXPECT_FALSE(got.load()) << "the one slot was taken twice";
    first->release(old);
    newcomer.join();
    EXPECT_TRUE(got.load());
    munmap(mem, sizeof(Turns));

    std::vector<unsigned char> other(sizeof(Turns) + 8, 0);
    other[sizeof(Turns) / 2] = 0x5a;
    auto* aligned =
        reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(other.data()) + 7) & ~uintptr_t{7});
    EXPECT_EQ(Turns::place_shared(aligned, sizeof(Turns), 1), nullptr);
    EXPECT_EQ(other[sizeof(Turns) / 2], 0x5a);
}

// A worker killed while hashing: its slot is free again for the others.
TEST(Turns, TheSlotOfAProcessThatDiedIsTakenBack) {
    Turns* turns = Turns::create_shared(1);
    ASSERT_NE(turns, nullptr);
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    const pid_t holder = fork();
    ASSERT_GE(holder, 0);
    if (holder == 0) {
        alarm(10);
        turns->acquire();
        char c = 'h';
        (void)!write(pipe_fds[1], &c, 1);
        pause();
        _exit(0);
    }
    char c = 0;
    ASSERT_EQ(read(pipe_fds[0], &c, 1), 1);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    kill(holder, SIGKILL);
    EXPECT_EQ(exit_code(holder), 128 + SIGKILL);
    alarm(10);
    turns->release(turns->acquire());  // within Turns::kRecheck
    alarm(0);
    EXPECT_EQ(turns->waiting(), 0u);
}

// A worker killed while it waited for its turn: the turns behind it are not held up.
TEST(Turns, TheTurnOfAProcessThatDiedWaitingIsSkipped) {
    Turns* turns = Turns::create_shared(1);
    ASSERT_NE(turns, nullptr);
    const unsigned held = turns->acquire();
    const pid_t waiter = fork();
    ASSERT_GE(waiter, 0);
    if (waiter == 0) {
        alarm(10);
        turns->acquire();
        _exit(3);  // never reached: killed while waiting
    }
    wait_until_waiting(*turns, 1);
    const pid_t next = fork();
    ASSERT_GE(next, 0);
    if (next == 0) {
        alarm(10);
        turns->release(turns->acquire());
        _exit(0);
    }
    wait_until_waiting(*turns, 2);
    kill(waiter, SIGKILL);
    EXPECT_EQ(exit_code(waiter), 128 + SIGKILL);
    turns->release(held);
    alarm(10);
    EXPECT_EQ(exit_code(next), 0);
    alarm(0);
    EXPECT_EQ(turns->waiting(), 0u);
}

// Processes killed at any moment, inside the lock too (a robust mutex): the slots still work.
TEST(Turns, ProcessesKilledAtAnyMomentLeaveTheSlotsWorking) {
    Turns* turns = Turns::create_shared(1);
    ASSERT_NE(turns, nullptr);
    for (int i = 0; i < 20; ++i) {
        const pid_t busy = fork();
        ASSERT_GE(busy, 0);
        if (busy == 0) {
            alarm(10);
            for (;;) {
                turns->release(turns->acquire());
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5 + i));
        kill(busy, SIGKILL);
        EXPECT_EQ(exit_code(busy), 128 + SIGKILL);
    }
    alarm(10);
    turns->release(turns->acquire());
    alarm(0);
    EXPECT_EQ(turns->waiting(), 0u);
}

}  // namespace
}  // namespace lkk
