// The Prometheus text format (version 0.0.4) of the shared metrics block: what the
// `lkk_metrics` location answers. Only atomics are read here, never a backend, so a scrape
// costs microseconds on nginx's event loop however the database is doing.
#include <charconv>
#include <string>

#include "lkk/metrics.h"
#include "metrics_names.h"

namespace lkk::metrics {

namespace {

uint64_t read(const Counter& c) {
    return c.load(std::memory_order_relaxed);
}

// Shortest round-trip form, as Prometheus' own clients print floats ("0.005", "1", "2.5").
std::string number(double v) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    if (ec != std::errc()) return "0";
    return std::string(buf, end);
}

class Writer {
  public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }

    // name{label="value",...} value; labels as alternating names and values.
    template <typename V>
    void sample(std::string_view name, std::initializer_list<std::string_view> labels, V value) {
        out_ += name;
        if (labels.size() > 0) {
            out_ += '{';
            bool first = true;
            for (auto it = labels.begin(); it != labels.end(); it += 2) {
                if (!first) out_ += ',';
                first = false;
                out_ += *it;
                out_ += "=\"";
                out_ += *(it + 1);  // fixed ASCII names: nothing to escape
                out_ += '"';
            }
            out_ += '}';
        }
        out_ += ' ';
        if constexpr (std::is_floating_point_v<V>) {
            out_ += number(value);
        } else {
            out_ += std::to_string(value);
        }
        out_ += '\n';
    }

    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

template <typename E, size_t N>
void counter_by(Writer& w, std::string_view name, std::string_view label, std::string_view help,
                const Counter (&counters)[N], const std::array<std::string_view, N>& names) {
    static_assert(N == kSlots<E>);
    w.family(name, "counter", help);
    for (size_t i = 0; i < N; ++i) w.sample(name, {label, names[i]}, read(counters[i]));
}

void requests(Writer& w, const MetricsBlock& b) {
    // Only the route and status pairs seen so far: most of the 300 never happen.
    w.family("lkk_requests_total", "counter",
             "Requests the portal answered, by route (a group of pages and API calls) and HTTP "
             "status.");
    for (size_t r = 0; r < kSlots<Route>; ++r) {
        for (size_t s = 0; s < kStatusSlots; ++s) {
            const uint64_t n = read(b.requests[r][s]);
            if (n == 0) continue;
            const std::string status = status_label(s);
            w.sample("lkk_requests_total", {"route", kRouteNames[r], "status", status}, n);
        }
    }
}

void durations(Writer& w, const MetricsBlock& b) {
    constexpr std::string_view name = "lkk_request_duration_seconds";
    w.family(name, "histogram",
             "Time the portal took to answer a request (database, password hashing, "
             "rendering), by route.");
    static const auto bounds = [] {
        std::array<std::string, kBucketSlots> le;
        for (size_t i = 0; i < kDurationBuckets.size(); ++i) le[i] = number(kDurationBuckets[i]);
        le.back() = "+Inf";
        return le;
    }();
    for (size_t r = 0; r < kSlots<Route>; ++r) {
        // One read of each bucket, summed here: the count is then always the +Inf bucket.
        uint64_t cumulative = 0;
        std::array<uint64_t, kBucketSlots> at{};
        for (size_t i = 0; i < kBucketSlots; ++i) {
            cumulative += read(b.duration_buckets[r][i]);
            at[i] = cumulative;
        }
        if (cumulative == 0) continue;
        const std::string_view route = kRouteNames[r];
        for (size_t i = 0; i < kBucketSlots; ++i) {
            w.sample("lkk_request_duration_seconds_bucket", {"route", route, "le", bounds[i]},
                     at[i]);
        }
        const double seconds = static_cast<double>(read(b.duration_sum_ns[r])) / 1e9;
        w.sample("lkk_request_duration_seconds_sum", {"route", route}, seconds);
        w.sample("lkk_request_duration_seconds_count", {"route", route}, cumulative);
    }
}

}  // namespace

std::string_view route_name(Route route) {
    const auto i = static_cast<size_t>(route);
    return i < kRouteNames.size() ? kRouteNames[i] : "other";
}
std::string_view login_result_name(LoginResult result) {
    return kLoginResultNames.at(static_cast<size_t>(result));
}
std::string_view link_result_name(LinkResult result) {
    return kLinkResultNames.at(static_cast<size_t>(result));
}
std::string_view throttle_kind_name(ThrottleKind kind) {
    return kThrottleKindNames.at(static_cast<size_t>(kind));
}
std::string_view mail_result_name(MailResult result) {
    return kMailResultNames.at(static_cast<size_t>(result));
}
std::string_view backend_name(Backend backend) {
    return kBackendNames.at(static_cast<size_t>(backend));
}

std::string status_label(size_t slot) {
    return slot < kStatuses.size() ? std::to_string(kStatuses[slot]) : "other";
}

std::string exposition(const MetricsBlock& b, int64_t now) {
    Writer w;
    requests(w, b);
    durations(w, b);

    counter_by<LoginResult>(w, "lkk_logins_total", "result",
                            "Login attempts (HTML form and JSON API), by result.", b.logins,
                            kLoginResultNames);
    w.family("lkk_registrations_total", "counter",
             "New cabinets registered (pending until the e-mail is confirmed).");
    w.sample("lkk_registrations_total", {}, read(b.registrations));
    counter_by<LinkResult>(w, "lkk_links_total", "result",
                           "Attempts to link a personal account to a cabinet, by result.", b.links,
                           kLinkResultNames);
    counter_by<ThrottleKind>(w, "lkk_throttled_total", "kind",
                             "Requests refused by a throttling limit, by the limit.", b.throttled,
                             kThrottleKindNames);
    w.family("lkk_readings_total", "counter", "Meter readings stored.");
    w.sample("lkk_readings_total", {}, read(b.readings));
    counter_by<MailResult>(w, "lkk_mail_sent_total", "result",
                           "Outbox delivery attempts, by result.", b.mail_sent, kMailResultNames);

    const int64_t pending = b.outbox_pending.load(std::memory_order_relaxed);
    const int64_t oldest = b.outbox_oldest_created_at.load(std::memory_order_relaxed);
    w.family("lkk_outbox_pending", "gauge",
             "Mails waiting in the outbox to be sent (as of the last refresh by the timer).");
    w.sample("lkk_outbox_pending", {}, pending > 0 ? pending : 0);
    w.family("lkk_outbox_oldest_age_seconds", "gauge",
             "Age of the oldest mail waiting in the outbox; 0 when none waits.");
    w.sample("lkk_outbox_oldest_age_seconds", {},
             pending > 0 && oldest > 0 && now > oldest ? now - oldest : int64_t{0});
    w.family("lkk_backend_up", "gauge",
             "1 when the backend answered the timer's last check, 0 when it did not.");
    for (size_t i = 0; i < kSlots<Backend>; ++i) {
        w.sample("lkk_backend_up", {"backend", kBackendNames[i]},
                 b.backend_up[i].load(std::memory_order_relaxed) != 0 ? 1 : 0);
    }
    const int64_t queue = b.pool_queue.load(std::memory_order_relaxed);
    w.family("lkk_pool_queue", "gauge",
             "Requests waiting for a thread of nginx's thread pool (0 on Apache).");
    w.sample("lkk_pool_queue", {}, queue > 0 ? queue : 0);
    return w.take();
}

}  // namespace lkk::metrics
