// Slots taken in the order they were asked for: a counting semaphore that is fair, for the
// threads of one process or of several. The Argon2 hash slots (crypto.cpp) are one.
//
// - Fair: with std::counting_semaphore a waiting login could lose its turn to later ones again
//   and again during a storm of logins, and wait many rounds.
// - Shared: the web server's parent makes one before it forks its workers (create_shared), so
//   the machine runs at most as many hashes as it has CPUs, whichever worker the logins reach.
//   With a count per process, the logins that all landed on one nginx worker (nginx does not
//   spread connections evenly) got 1 of 2 CPUs while the other worker idled.
// - Safe when a process dies: the slots it held and the turns it waited for are taken back by
//   the others within kRecheck (by process id), and the lock is a robust mutex. Waiters sleep on
//   a futex of their own, so a process that dies while waiting leaves nothing behind that
//   another must wait for (a process-shared condition variable would).
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace lkk {

class Turns {
  public:
    static constexpr unsigned kMaxSlots = 256;
    static constexpr uint32_t kMaxWaiting = 4096;  // more waiters than this queue for a ticket
    static constexpr std::chrono::milliseconds kRecheck{100};

    // In this process's memory: the slots of its threads.
    explicit Turns(unsigned slots);
    ~Turns();
    Turns(const Turns&) = delete;
    Turns& operator=(const Turns&) = delete;

    // In memory shared with every process forked afterwards (never unmapped: the children keep
    // using it). nullptr when the system refuses the mapping.
    static Turns* create_shared(unsigned slots) noexcept;
    // In shared memory the caller keeps (Apache's parent, across configuration reads): the slots
    // already there when an earlier placement left them, so the workers of every generation take
    // their turns in the same slots; new ones in memory that is all zeros. nullptr when mem is
    // too small or misaligned, or holds anything else (another build's slots, still in use).
    static Turns* place_shared(void* mem, size_t size, unsigned slots) noexcept;

    // Blocks until every earlier caller has had its slot and a slot is free; that slot's number,
    // below the count of slots. No two holders have the same number at once.
    unsigned acquire();
    // Gives back the slot acquire() returned (a slot another process holds, or a free one, stays
    // as it is).
    void release(unsigned slot);
    // Callers that asked and have not got their slot yet.
    uint64_t waiting();

  private:
    class Lock;
    struct Waiter {
        pid_t pid;
        std::atomic<uint32_t> wake;  // a futex word: bumped when it may be this waiter's turn
    };

    void lock();
    void unlock();
    pid_t* free_slot();  // under the lock; nullptr: every slot is held
    void wake_next();
    void take_back_from_the_dead();

    static constexpr uint64_t kMagic = 0x736e7275546b6b6cULL;  // "lkkTurns"
    static uint64_t layout() noexcept;

    uint64_t magic_ = 0;  // kMagic and layout() once place_shared has made them
    uint64_t layout_ = 0;
    pthread_mutex_t mutex_;
    unsigned slots_;
    pid_t holders_[kMaxSlots] = {};     // 0: free
    uint64_t next_ = 0;                 // the ticket the next caller gets
    uint64_t serving_ = 0;              // the ticket whose turn it is
    Waiter waiters_[kMaxWaiting] = {};  // ticket t waits at t % kMaxWaiting
};

}  // namespace lkk
