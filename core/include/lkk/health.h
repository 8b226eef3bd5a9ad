// The health check of /healthz (SPEC: 200 when storage and sessions answer, else 503) and the
// per-process memo of its last real run, which lets the event loop answer the check without a
// backend and without the thread-pool hop (issue 11).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include "lkk/clock.h"

namespace lkk {

// What a real check of the backends found (the session store is asked only when the database
// answered).
enum class Health { ok, storage_down, sessions_down };

// The last real check, kept while it is younger than kMaxAgeMs. A monitor or balancer polling
// every worker then costs each worker at most one ping of each backend per second, and an
// answer from the memo is never more than a second behind. A failed check is remembered the
// same way: a 503 may outlive the recovery by up to a second, as a 200 may outlive a failure.
// Lock-free (one atomic word), because the event loop reads it while pool threads write it.
class HealthMemo {
  public:
    static constexpr int64_t kMaxAgeMs = 1000;

    explicit HealthMemo(Clock& clock) : clock_(clock) {}

    // The last check while it is younger than kMaxAgeMs; nullopt when there was none yet, when
    // it is older, or when the clock went back behind it.
    std::optional<Health> fresh() const {
        const int64_t last = last_.load(std::memory_order_acquire);
        if (last < 0) return std::nullopt;
        const int64_t age = clock_.now_ms() - last / kKinds;
        if (age < 0 || age >= kMaxAgeMs) return std::nullopt;
        return static_cast<Health>(last % kKinds);
    }

    void remember(Health health) {
        last_.store(clock_.now_ms() * kKinds + static_cast<int64_t>(health),
                    std::memory_order_release);
    }

  private:
    static constexpr int64_t kKinds = 3;  // the values of Health

    Clock& clock_;
    // When (Unix ms) * kKinds + the Health found, so that both change together; -1: no check.
    std::atomic<int64_t> last_{-1};
};

}  // namespace lkk
