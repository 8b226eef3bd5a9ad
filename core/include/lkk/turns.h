// Slots taken in the order they were asked for: a counting semaphore that is fair. The Argon2
// hash slots (crypto.cpp) are one: with std::counting_semaphore a waiting login could lose its
// turn to later ones again and again during a storm of logins, and wait many rounds.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace lkk {

class Turns {
  public:
    explicit Turns(unsigned slots) : free_(slots) {}
    Turns(const Turns&) = delete;
    Turns& operator=(const Turns&) = delete;

    // Blocks until every earlier caller has had its slot and a slot is free.
    void acquire() {
        std::unique_lock lock(mutex_);
        const uint64_t ticket = next_++;
        changed_.wait(lock, [&] { return ticket == serving_ && free_ > 0; });
        ++serving_;
        --free_;
        if (free_ > 0) changed_.notify_all();  // the next ticket may take another free slot
    }

    void release() {
        {
            const std::lock_guard lock(mutex_);
            ++free_;
        }
        changed_.notify_all();
    }

    // Callers that asked and have not got their slot yet.
    uint64_t waiting() {
        const std::lock_guard lock(mutex_);
        return next_ - serving_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    unsigned free_;
    uint64_t next_ = 0;     // the ticket the next caller gets
    uint64_t serving_ = 0;  // the ticket whose turn it is
};

}  // namespace lkk
