// Throttling (SPEC 4): fixed-window counters in the CounterStore, and the login lock that
// doubles each time it is imposed again within a day.
#include <algorithm>
#include <string>

#include "cabinet_internal.h"
#include "lkk/cabinet.h"

namespace lkk {

using namespace cabinet_detail;

// Counting first and comparing after makes the check and the increment one atomic step of
// the store, so parallel requests cannot all slip under the limit.
Result<bool> Cabinet::over_limit(const std::string& key, int limit, int64_t window) {
    auto count = counters_.hit(key, window, clock_.now());
    if (!count) return count.error();
    return *count > limit;
}

Result<bool> Cabinet::at_limit(const std::string& key, int limit) {
    auto count = counters_.count(key, clock_.now());
    if (!count) return count.error();
    return *count >= limit;
}

// The length of the n-th lock: base, 2*base, 4*base, ... capped at a day so the shift
// cannot overflow and a forgotten password never locks someone out for weeks.
int64_t Cabinet::lock_duration(int64_t nth_lock) const {
    const int64_t base = std::max<int64_t>(1, settings_.throttle.login_lock_base);
    const int64_t shift = std::clamp<int64_t>(nth_lock - 1, 0, 16);
    return std::min<int64_t>(base << shift, std::max<int64_t>(base, kLockMemorySeconds));
}

// The IP's hit and one read of the lock, the number of locks and the failures: one round trip
// to Redis.
Result<Cabinet::LoginCounters> Cabinet::login_counters(std::string_view ip,
                                                       const std::string& email) {
    auto c = counters_.hit_and_counts(
        key_login_ip(ip), settings_.throttle.login_ip_window,
        {key_login_lock(email), key_login_locks(email), key_login_failures(email)}, clock_.now());
    if (!c) return c.error();
    LoginCounters out;
    out.ip_attempts = (*c)[0];
    out.failures = (*c)[3];
    // The store does not say when the window ends; the length of the current lock is an
    // honest upper bound for Retry-After.
    if ((*c)[1] > 0) out.lock_remaining = lock_duration(std::max<int64_t>(1, (*c)[2]));
    return out;
}

Status Cabinet::record_login_failure(const std::string& email) {
    const int64_t now = clock_.now();
    const auto& t = settings_.throttle;
    auto failures = counters_.hit(key_login_failures(email), t.login_failure_window, now);
    if (!failures) return failures.error();
    if (*failures < t.login_failures_per_email) return Status::Ok();
    auto locks = counters_.hit(key_login_locks(email), kLockMemorySeconds, now);
    if (!locks) return locks.error();
    auto lock = counters_.hit(key_login_lock(email), lock_duration(*locks), now);
    if (!lock) return lock.error();
    // The failures that caused this lock are paid for; after it the count starts over.
    return counters_.clear(key_login_failures(email));
}

Status Cabinet::clear_login_failures(const std::string& email) {
    return counters_.clear(key_login_failures(email));
}

// Counted for unknown e-mails too, so the answer never depends on the cabinet existing.
Result<std::optional<User>, Reply> Cabinet::user_for_mail_request(
    std::string_view email, std::string (*key_of)(std::string_view), metrics::ThrottleKind kind) {
    auto canonical = rules::normalize_email(email);
    if (!canonical) {
        Reply r = with_outcome(Outcome::form_error);
        r.errors.push_back(rule_error("email", canonical.error()));
        return r;
    }
    auto throttled = over_limit(key_of(*canonical), settings_.throttle.resend_per_email,
                                settings_.throttle.resend_window);
    if (!throttled) return failure(throttled.error());
    if (*throttled) {
        metrics::count_throttled(kind);
        Reply r = with_outcome(Outcome::throttled);
        r.retry_after = settings_.throttle.resend_window;
        return r;
    }
    auto user = storage_.find_user_by_email(*canonical);
    if (!user) return failure(user.error());
    return std::move(user.value());
}

}  // namespace lkk
