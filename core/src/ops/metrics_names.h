// The label values of the metrics enums (lkk/metrics.h), in enum order. Private to core/src/ops:
// the exposition writes them and layout_id() fingerprints them.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "lkk/metrics.h"

namespace lkk::metrics {

inline constexpr std::array<std::string_view, kSlots<Route>> kRouteNames = {
    "start", "login",    "logout", "register", "confirm", "password",   "accounts",
    "link",  "readings", "static", "health",   "other",   "unavailable"};

inline constexpr std::array<std::string_view, kSlots<LoginResult>> kLoginResultNames = {
    "success", "failure", "not_confirmed", "throttled", "invalid", "error"};

inline constexpr std::array<std::string_view, kSlots<LinkResult>> kLinkResultNames = {
    "success", "mismatch", "already_linked", "throttled", "invalid", "error"};

inline constexpr std::array<std::string_view, kSlots<ThrottleKind>> kThrottleKindNames = {
    "login_ip",     "login_email",     "register_ip", "resend_email",
    "forgot_email", "password_change", "link_user",   "link_account"};

inline constexpr std::array<std::string_view, kSlots<MailResult>> kMailResultNames = {
    "sent", "failed", "given_up"};

inline constexpr std::array<std::string_view, kSlots<Backend>> kBackendNames = {"storage",
                                                                                "sessions"};

// kDurationBuckets in whole nanoseconds.
inline constexpr std::array<int64_t, kDurationBuckets.size()> kBucketBoundsNs = [] {
    std::array<int64_t, kDurationBuckets.size()> ns{};
    for (size_t i = 0; i < ns.size(); ++i) {
        ns[i] = static_cast<int64_t>(kDurationBuckets[i] * 1e9 + 0.5);
    }
    return ns;
}();

}  // namespace lkk::metrics
