// The shared metrics block: its layout check, the attached block of this process, and the
// count_* calls of the hot path (one relaxed atomic add each, no lock).
#include "lkk/metrics.h"

#include <algorithm>
#include <new>

#include "metrics_names.h"

namespace lkk::metrics {

namespace {

// The block of this process. Relaxed is enough: attach() runs once, before the worker serves.
std::atomic<MetricsBlock*> g_block{nullptr};

// FNV-1a, to fingerprint the layout and the label names.
void mix(uint64_t& h, std::string_view bytes) {
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    h ^= 0xff;  // a separator, so "ab","c" differs from "a","bc"
    h *= 0x100000001b3ULL;
}

void mix(uint64_t& h, uint64_t value) {
    char bytes[sizeof value];
    for (char& b : bytes) {
        b = static_cast<char>(value & 0xff);
        value >>= 8;
    }
    mix(h, std::string_view(bytes, sizeof bytes));
}

template <typename E>
inline size_t idx(E e) {
    return static_cast<size_t>(e);
}

// The slot of a label, clamped so a bad enum value can never write outside the block.
template <typename E>
inline size_t slot(E e) {
    const size_t i = idx(e);
    return i < kSlots<E> ? i : kSlots<E> - 1;
}

inline void bump(Counter& c) {
    c.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

uint64_t layout_id() noexcept {
    static const uint64_t id = [] {
        uint64_t h = 0xcbf29ce484222325ULL;
        mix(h, sizeof(MetricsBlock));
        for (auto n : kRouteNames) mix(h, n);
        for (int s : kStatuses) mix(h, static_cast<uint64_t>(s));
        for (int64_t ns : kBucketBoundsNs) mix(h, static_cast<uint64_t>(ns));
        for (auto n : kLoginResultNames) mix(h, n);
        for (auto n : kLinkResultNames) mix(h, n);
        for (auto n : kThrottleKindNames) mix(h, n);
        for (auto n : kMailResultNames) mix(h, n);
        for (auto n : kBackendNames) mix(h, n);
        return h;
    }();
    return id;
}

bool init(void* mem, size_t size) noexcept {
    if (mem == nullptr || size < sizeof(MetricsBlock) ||
        reinterpret_cast<uintptr_t>(mem) % alignof(MetricsBlock) != 0) {
        return false;
    }
    auto* existing = static_cast<MetricsBlock*>(mem);
    if (existing->magic == kMagic && existing->layout == layout_id()) return true;
    auto* block = new (mem) MetricsBlock();
    block->layout = layout_id();
    block->magic = kMagic;
    return true;
}

void attach(MetricsBlock* block) noexcept {
    g_block.store(block, std::memory_order_relaxed);
}

MetricsBlock* attached() noexcept {
    return g_block.load(std::memory_order_relaxed);
}

size_t status_slot(int status) noexcept {
    const auto* it = std::find(kStatuses.begin(), kStatuses.end(), status);
    return static_cast<size_t>(it - kStatuses.begin());  // kStatuses.size(): "other"
}

size_t bucket_slot(int64_t duration_ns) noexcept {
    // In whole nanoseconds, so that a bound is inclusive exactly ("le": less or equal).
    const auto* it = std::lower_bound(kBucketBoundsNs.begin(), kBucketBoundsNs.end(), duration_ns);
    return static_cast<size_t>(it - kBucketBoundsNs.begin());  // past the last: "+Inf"
}

void count_request(Route route, int status, int64_t duration_ns) noexcept {
    MetricsBlock* b = attached();
    if (b == nullptr) return;
    const size_t r = slot(route);
    const uint64_t ns = duration_ns > 0 ? static_cast<uint64_t>(duration_ns) : 0;
    bump(b->requests[r][status_slot(status)]);
    bump(b->duration_buckets[r][bucket_slot(duration_ns)]);
    b->duration_sum_ns[r].fetch_add(ns, std::memory_order_relaxed);
}

void count_login(LoginResult result) noexcept {
    if (MetricsBlock* b = attached()) bump(b->logins[slot(result)]);
}

void count_registration() noexcept {
    if (MetricsBlock* b = attached()) bump(b->registrations);
}

void count_link(LinkResult result) noexcept {
    if (MetricsBlock* b = attached()) bump(b->links[slot(result)]);
}

void count_throttled(ThrottleKind kind) noexcept {
    if (MetricsBlock* b = attached()) bump(b->throttled[slot(kind)]);
}

void count_reading() noexcept {
    if (MetricsBlock* b = attached()) bump(b->readings);
}

void count_mail(MailResult result) noexcept {
    if (MetricsBlock* b = attached()) bump(b->mail_sent[slot(result)]);
}

void set_outbox(int64_t pending, int64_t oldest_created_at) noexcept {
    if (MetricsBlock* b = attached()) {
        b->outbox_pending.store(pending, std::memory_order_relaxed);
        b->outbox_oldest_created_at.store(oldest_created_at, std::memory_order_relaxed);
    }
}

void set_backend_up(Backend backend, bool up) noexcept {
    if (MetricsBlock* b = attached()) {
        b->backend_up[slot(backend)].store(up ? 1 : 0, std::memory_order_relaxed);
    }
}

void add_pool_queue(int64_t delta) noexcept {
    if (MetricsBlock* b = attached()) b->pool_queue.fetch_add(delta, std::memory_order_relaxed);
}

}  // namespace lkk::metrics
