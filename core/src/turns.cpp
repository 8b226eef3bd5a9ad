// Fair slots for the threads of one or several processes (lkk/turns.h): a robust mutex guards
// the tickets and the holders; each waiter sleeps on its own futex word.
#include "lkk/turns.h"

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <new>
#include <system_error>
#include <thread>

namespace lkk {

namespace {

// A futex word in memory that other processes may map too: no FUTEX_PRIVATE_FLAG.
void futex_wait(std::atomic<uint32_t>& word, uint32_t seen, std::chrono::milliseconds most) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(most).count();
    timespec timeout{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT, seen, &timeout, nullptr, 0);
}

void futex_wake(std::atomic<uint32_t>& word) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

// EPERM means it exists under another user: alive all the same.
bool gone(pid_t pid) {
    return pid != 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

// The mutex is robust: when a process died holding it, the next owner is told (EOWNERDEAD),
// marks it consistent and takes back what the dead held.
void Turns::lock() {
    const int rc = pthread_mutex_lock(&mutex_);
    if (rc == EOWNERDEAD) {
        pthread_mutex_consistent(&mutex_);
        take_back_from_the_dead();
    } else if (rc != 0) {
        throw std::system_error(rc, std::generic_category(), "hash slots lock");
    }
}

void Turns::unlock() {
    pthread_mutex_unlock(&mutex_);
}

class Turns::Lock {
  public:
    explicit Lock(Turns& t) : t_(t) { t_.lock(); }
    ~Lock() { t_.unlock(); }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

  private:
    Turns& t_;
};

Turns::Turns(unsigned slots) : slots_(std::clamp(slots, 1U, kMaxSlots)) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&mutex_, &attr);
    pthread_mutexattr_destroy(&attr);
}

Turns::~Turns() {
    pthread_mutex_destroy(&mutex_);
}

Turns* Turns::create_shared(unsigned slots) noexcept {
    void* mem =
        mmap(nullptr, sizeof(Turns), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    return place_shared(mem, sizeof(Turns), slots);
}

// What another build would lay out differently: the sizes the slots and the queue have.
uint64_t Turns::layout() noexcept {
    return (uint64_t{sizeof(Turns)} << 32) ^ (uint64_t{kMaxSlots} << 16) ^ kMaxWaiting;
}

Turns* Turns::place_shared(void* mem, size_t size, unsigned slots) noexcept {
    if (mem == nullptr || size < sizeof(Turns) ||
        reinterpret_cast<uintptr_t>(mem) % alignof(Turns) != 0) {
        return nullptr;
    }
    auto* there = static_cast<Turns*>(mem);
    if (there->magic_ == kMagic && there->layout_ == layout()) return there;
    const auto* bytes = static_cast<const unsigned char*>(mem);
    if (std::any_of(bytes, bytes + sizeof(Turns), [](unsigned char b) { return b != 0; })) {
        return nullptr;
    }
    auto* made = new (mem) Turns(slots);
    made->layout_ = layout();
    made->magic_ = kMagic;
    return made;
}

unsigned Turns::acquire() {
    const pid_t pid = getpid();
    Lock locked(*this);
    while (next_ - serving_ >= kMaxWaiting) {  // a full queue: wait for a ticket, unordered
        unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        lock();
    }
    const uint64_t ticket = next_;
    Waiter& me = waiters_[ticket % kMaxWaiting];
    me.pid = pid;
    me.wake.store(0);
    next_ = ticket + 1;
    for (;;) {
        if (ticket == serving_) {
            if (pid_t* slot = free_slot()) {
                *slot = pid;
                ++serving_;
                wake_next();  // another slot may be free for the next ticket
                return static_cast<unsigned>(slot - holders_);
            }
        }
        const uint32_t seen = me.wake.load();
        unlock();
        futex_wait(me.wake, seen, kRecheck);
        lock();
        if (me.wake.load() == seen) take_back_from_the_dead();  // no word within kRecheck
    }
}

void Turns::release(unsigned slot) {
    const pid_t pid = getpid();
    Lock locked(*this);
    if (slot < slots_ && holders_[slot] == pid) holders_[slot] = 0;
    wake_next();
}

uint64_t Turns::waiting() {
    Lock locked(*this);
    return next_ - serving_;
}

pid_t* Turns::free_slot() {
    pid_t* free = std::find(holders_, holders_ + slots_, 0);
    return free == holders_ + slots_ ? nullptr : free;
}

// Under the lock: tells the waiter whose turn it is, if a slot is free for it.
void Turns::wake_next() {
    if (serving_ == next_) return;
    if (free_slot() == nullptr) return;
    Waiter& w = waiters_[serving_ % kMaxWaiting];
    w.wake.fetch_add(1);
    futex_wake(w.wake);
}

// Under the lock: the slots of processes that died holding them are free again, and the turns
// of processes that died waiting are skipped.
void Turns::take_back_from_the_dead() {
    for (unsigned i = 0; i < slots_; ++i) {
        if (gone(holders_[i])) holders_[i] = 0;
    }
    while (serving_ != next_ && gone(waiters_[serving_ % kMaxWaiting].pid)) ++serving_;
    wake_next();
}

}  // namespace lkk
