// Operations metrics (SPEC 13): the counters a Prometheus server scrapes from the
// `lkk_metrics` location (nginx) or the `lkk-metrics` handler (Apache).
//
// Every number lives in one fixed-layout MetricsBlock of lock-free atomics. The web-server
// glue places the block in shared memory before it forks its workers (nginx: a shared zone,
// Apache: APR shared memory), so every worker adds to the same numbers and a scrape answered by
// any worker covers them all. Updating costs one relaxed atomic add, no lock, no system call.
//
// Labels come from small fixed sets (the enums below), never from what a client sent: a raw
// URL as a label would let anyone grow the block, and the block cannot grow.
//
// A process counts into the block attached with attach(); with none attached (lkk-admin, the
// module without any `lkk_metrics` location) every count_* call is a no-op, so metrics that are
// off cost nothing.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lkk::metrics {

// The `route` label: what the request was for, one value per group of the portal's routes
// (HTML and JSON API alike). `other` is everything no route matched (404, 405, the base path's
// redirect); `unavailable` the 503 of a server whose portal cannot start or whose thread pool
// is full.
enum class Route {
    start,
    login,
    logout,
    register_,
    confirm,
    password,
    accounts,
    link,
    readings,
    static_,
    health,
    other,
    unavailable,
    count_
};

// The `status` label: these HTTP statuses as they are, anything else as "other".
inline constexpr std::array<int, 22> kStatuses = {200, 201, 204, 301, 302, 303, 304, 400,
                                                  401, 403, 404, 405, 409, 410, 413, 415,
                                                  422, 429, 500, 502, 503, 504};
inline constexpr size_t kStatusSlots = kStatuses.size() + 1;  // + "other"

// Upper bounds (seconds) of lkk_request_duration_seconds' buckets: Prometheus' defaults, which
// span a cached page (a few ms) to an Argon2 login under load (hundreds of ms) and beyond.
inline constexpr std::array<double, 11> kDurationBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                            0.5,   1.0,  2.5,   5.0,  10.0};
inline constexpr size_t kBucketSlots = kDurationBuckets.size() + 1;  // + "+Inf"

// lkk_logins_total{result}: success; failure (wrong e-mail or password, blocked cabinet);
// not_confirmed (right password, e-mail not confirmed); throttled; invalid (the form was
// incomplete or malformed); error (a backend failed).
enum class LoginResult { success, failure, not_confirmed, throttled, invalid, error, count_ };

// lkk_links_total{result}: success; mismatch (the data do not match billing); already_linked;
// throttled; invalid; error.
enum class LinkResult { success, mismatch, already_linked, throttled, invalid, error, count_ };

// lkk_throttled_total{kind}: which limit of SPEC 4 refused a request.
enum class ThrottleKind {
    login_ip,         // login attempts per IP
    login_email,      // the login lock of an e-mail after repeated failures
    register_ip,      // registrations per IP
    resend_email,     // confirmation links resent per e-mail
    forgot_email,     // password recovery mails per e-mail
    password_change,  // wrong current passwords of a logged-in cabinet
    link_user,        // failed links per cabinet
    link_account,     // failed links per billing account
    count_
};

// lkk_mail_sent_total{result}: sent (the SMTP server accepted it); failed (to be retried);
// given_up (expired or undeliverable, never retried).
enum class MailResult { sent, failed, given_up, count_ };

// lkk_backend_up{backend}: the database, and the session store (Redis, or the database again).
enum class Backend { storage, sessions, count_ };

template <typename E>
inline constexpr size_t kSlots = static_cast<size_t>(E::count_);

using Counter = std::atomic<uint64_t>;
using Gauge = std::atomic<int64_t>;

// Shared between processes, so it must not need a lock or a futex of the C++ runtime.
static_assert(Counter::is_always_lock_free && Gauge::is_always_lock_free,
              "metrics in shared memory need lock-free 64-bit atomics");

// The shared block. Plain data only (no pointers: every process maps it at its own address);
// std::atomic's default constructor zeroes (C++20), so MetricsBlock{} counts from 0.
struct MetricsBlock {
    uint64_t magic = 0;   // kMagic once init() made it a block
    uint64_t layout = 0;  // layout_id() of the build that made it

    Counter requests[kSlots<Route>][kStatusSlots];
    Counter duration_buckets[kSlots<Route>][kBucketSlots];  // not cumulative
    Counter duration_sum_ns[kSlots<Route>];
    Counter logins[kSlots<LoginResult>];
    Counter registrations;
    Counter links[kSlots<LinkResult>];
    Counter throttled[kSlots<ThrottleKind>];
    Counter readings;
    Counter mail_sent[kSlots<MailResult>];

    // Gauges, set by the module's timer (refresh) and by the pool's hand-off.
    Gauge outbox_pending;
    Gauge outbox_oldest_created_at;  // Unix seconds of the oldest pending mail, 0: none
    Gauge backend_up[kSlots<Backend>];
    Gauge pool_queue;
};

inline constexpr uint64_t kMagic = 0x6c6b6b2d6d657472;  // "lkk-metr"

// A fingerprint of the block's layout and of every label name: a reload of nginx keeps the
// shared zone, and a zone made by a build with other labels must not be read with these.
uint64_t layout_id() noexcept;

// Makes size bytes at mem a MetricsBlock. A block of the same layout already there (a shared
// zone that survived a reload) keeps its counts; anything else is zeroed. False when mem is
// null, too small or misaligned.
bool init(void* mem, size_t size) noexcept;

// The block this process counts into; nullptr stops counting. Called once per worker.
void attach(MetricsBlock* block) noexcept;
MetricsBlock* attached() noexcept;

// ---- counting (any thread; no-ops with no block attached) ----
void count_request(Route route, int status, int64_t duration_ns) noexcept;
void count_login(LoginResult result) noexcept;
void count_registration() noexcept;
void count_link(LinkResult result) noexcept;
void count_throttled(ThrottleKind kind) noexcept;
void count_reading() noexcept;
void count_mail(MailResult result) noexcept;

// ---- gauges ----
void set_outbox(int64_t pending, int64_t oldest_created_at) noexcept;
void set_backend_up(Backend backend, bool up) noexcept;
void add_pool_queue(int64_t delta) noexcept;

// ---- exposition ----

// The label value of each enum (what the README documents).
std::string_view route_name(Route route);
std::string_view login_result_name(LoginResult result);
std::string_view link_result_name(LinkResult result);
std::string_view throttle_kind_name(ThrottleKind kind);
std::string_view mail_result_name(MailResult result);
std::string_view backend_name(Backend backend);

// The slot of an HTTP status in MetricsBlock::requests, and a slot's label value.
size_t status_slot(int status) noexcept;
std::string status_label(size_t slot);

// The bucket of a duration: the first upper bound it does not exceed ("le" is inclusive).
size_t bucket_slot(int64_t duration_ns) noexcept;

// The Prometheus text format (version 0.0.4) of a block, with HELP and TYPE for every metric.
// now: Unix seconds, for the age of the oldest pending mail. Reads atomics only: no backend is
// asked anything at scrape time.
std::string exposition(const MetricsBlock& block, int64_t now);

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace lkk::metrics
