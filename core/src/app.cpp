// create_application and the request dispatch of the web layer: base path, route tables,
// cookies, the current session, and the catch-all that keeps every failure inside handle().
#include "lkk/app.h"

#include <charconv>
#include <chrono>
#include <fstream>
#include <sstream>

#include "app_bill.h"
#include "app_internal.h"
#include "app_money.h"
#include "app_readings.h"
#include "app_settings.h"
#include "lkk/crypto.h"

namespace lkk {

namespace {

// The base path as a prefix: "/lkk/" -> "/lkk", "/" -> "".
std::string normalized_base(std::string base) {
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (!base.empty() && base.front() != '/') base.insert(base.begin(), '/');
    return base;
}

// A bare 500 for when even the error page could not be rendered.
HttpResponse last_resort() {
    HttpResponse r;
    r.status = 500;
    r.headers = {{"Content-Type", "text/plain; charset=utf-8"},
                 {"Cache-Control", "no-store"},
                 {"X-Content-Type-Options", "nosniff"}};
    r.body = "Internal Server Error\n";
    return r;
}

std::optional<int64_t> parse_id(std::string_view s) {
    if (s.empty() || s.size() > 18 || s.front() == '0') return std::nullopt;
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

// A month "YYYY-MM" (01..12), as the {month} of routes like /accounts/{id}/bill/{month}.
bool is_month(std::string_view s) {
    if (s.size() != 7 || s[4] != '-') return false;
    for (size_t i : {0, 1, 2, 3, 5, 6}) {
        if (s[i] < '0' || s[i] > '9') return false;
    }
    const int month = (s[5] - '0') * 10 + (s[6] - '0');
    return month >= 1 && month <= 12 && s.substr(0, 4) != "0000";
}

// A path segment against a pattern segment; {id} and {month} (with what follows it in the
// pattern, e.g. "{month}.pdf") fill x.
bool segment_matches(std::string_view pattern, std::string_view segment, std::optional<int64_t>& id,
                     std::string& month) {
    constexpr std::string_view kMonth = "{month}";
    if (pattern == "{id}") {
        id = parse_id(segment);
        return id.has_value();
    }
    if (pattern.substr(0, kMonth.size()) == kMonth) {
        const std::string_view suffix = pattern.substr(kMonth.size());
        if (segment.size() < suffix.size() ||
            segment.substr(segment.size() - suffix.size()) != suffix) {
            return false;
        }
        const std::string_view value = segment.substr(0, segment.size() - suffix.size());
        if (!is_month(value)) return false;
        month = std::string(value);
        return true;
    }
    return pattern == segment;
}

// The '/'-separated segment of text that starts at from ("" between two slashes and at either
// end); from moves past it, beyond text.size() after the last one.
std::string_view next_segment(std::string_view text, size_t& from) {
    size_t to = text.find('/', from);
    if (to == std::string_view::npos) to = text.size();
    const std::string_view segment = text.substr(from, to - from);
    from = to + 1;
    return segment;
}

std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    for (size_t from = 0; from <= path.size();) out.push_back(next_segment(path, from));
    return out;
}

// Whether pattern's segments match path's, taken one at a time rather than split first: this
// runs for every route of the table on every request, and most routes differ in their first
// or second segment.
bool pattern_matches(std::string_view pattern, const std::vector<std::string_view>& path,
                     std::optional<int64_t>& id, std::string& month) {
    size_t i = 0;
    for (size_t from = 0; from <= pattern.size(); ++i) {
        const std::string_view segment = next_segment(pattern, from);
        if (i == path.size() || !segment_matches(segment, path[i], id, month)) return false;
    }
    return i == path.size();
}

}  // namespace

namespace web {

Portal::Portal(Settings settings, std::unique_ptr<Storage> storage,
               std::unique_ptr<SessionStore> sessions, std::unique_ptr<CounterStore> counters,
               std::unique_ptr<Mailer> mailer, TemplateSet templates, std::string consent_text,
               Clock& clock)
    : settings_(std::move(settings)),
      base_(normalized_base(settings_.portal.base_path)),
      storage_(std::move(storage)),
      sessions_(std::move(sessions)),
      counters_(std::move(counters)),
      mailer_(std::move(mailer)),
      templates_(std::move(templates)),
      consent_text_(std::move(consent_text)),
      clock_(clock),
      cabinet_(settings_, *storage_, *sessions_, *counters_, clock_) {
    using Page = metrics::Route;
    html_routes_ = {
        {"GET", "/", Page::start, &Portal::get_start},
        {"GET", "/login", Page::login, &Portal::get_login},
        {"POST", "/login", Page::login, &Portal::post_login},
        {"POST", "/logout", Page::logout, &Portal::post_logout},
        {"GET", "/register", Page::register_, &Portal::get_register},
        {"POST", "/register", Page::register_, &Portal::post_register},
        {"GET", "/confirm", Page::confirm, &Portal::get_confirm},
        {"GET", "/confirm/resend", Page::confirm, &Portal::get_resend},
        {"POST", "/confirm/resend", Page::confirm, &Portal::post_resend},
        {"GET", "/accounts", Page::accounts, &Portal::get_accounts},
        {"GET", "/accounts/link", Page::link, &Portal::get_link},
        {"POST", "/accounts/link", Page::link, &Portal::post_link},
        {"GET", "/accounts/{id}", Page::accounts, &Portal::get_account},
        {"POST", "/accounts/{id}/unlink", Page::link, &Portal::post_unlink},
        {"GET", "/password/forgot", Page::password, &Portal::get_forgot},
        {"POST", "/password/forgot", Page::password, &Portal::post_forgot},
        {"GET", "/password/reset", Page::password, &Portal::get_reset},
        {"POST", "/password/reset", Page::password, &Portal::post_reset},
        {"GET", "/password/change", Page::password, &Portal::get_change},
        {"POST", "/password/change", Page::password, &Portal::post_change},
        {"GET", "/help", Page::static_, &Portal::get_help},
        {"GET", "/consent", Page::static_, &Portal::get_consent},
    };
    api_routes_ = {
        {"POST", "/register", Page::register_, &Portal::api_register},
        {"POST", "/confirm", Page::confirm, &Portal::api_confirm},
        {"POST", "/confirm/resend", Page::confirm, &Portal::api_resend},
        {"POST", "/login", Page::login, &Portal::api_login},
        {"POST", "/logout", Page::logout, &Portal::api_logout},
        {"GET", "/me", Page::accounts, &Portal::api_me},
        {"GET", "/offices", Page::accounts, &Portal::api_offices},
        {"GET", "/accounts", Page::accounts, &Portal::api_accounts},
        {"POST", "/accounts", Page::link, &Portal::api_link},
        {"DELETE", "/accounts/{id}", Page::link, &Portal::api_unlink},
        {"POST", "/password/forgot", Page::password, &Portal::api_forgot},
        {"POST", "/password/reset", Page::password, &Portal::api_reset},
    };
    readings_pages_ = std::make_unique<ReadingsPages>(*this, settings_, *storage_, clock_);
    readings_pages_->add_routes(html_routes_, api_routes_);
    notifications_ = std::make_unique<Notifications>(settings_, *storage_, clock_, templates_);
    settings_pages_ = std::make_unique<SettingsPages>(*this, *notifications_);
    settings_pages_->add_routes(html_routes_);
    money_pages_ = std::make_unique<MoneyPages>(*this, *storage_, clock_);
    money_pages_->add_routes(html_routes_, api_routes_);
    bill_pages_ = std::make_unique<BillPages>(*this, settings_, *storage_, clock_);
    bill_pages_->add_routes(html_routes_, api_routes_);
    for (std::vector<Route>* table : {&html_routes_, &api_routes_}) {
        for (Route& r : *table) r.segments = segments(r.pattern).size();
    }
}

Portal::~Portal() = default;

namespace {

// A request that threw: a bug, so an error line, built without letting anything escape.
void log_request_crash(const HttpRequest& request, const char* what) noexcept {
    try {
        log(LogLevel::error, request.method + " " + request.path + " failed: " + what);
    } catch (...) {
        log(LogLevel::error, "a request failed");
    }
}

// Only a request with a session reads through the cache, and only under the generation read
// with that session (Cabinet::current_session).
struct ReadCacheOff {
    Storage& storage;
    explicit ReadCacheOff(Storage& s) : storage(s) { storage.use_read_cache({}); }
    ~ReadCacheOff() { storage.use_read_cache({}); }
    ReadCacheOff(const ReadCacheOff&) = delete;
    ReadCacheOff& operator=(const ReadCacheOff&) = delete;
};

}  // namespace

HttpResponse Portal::handle(const HttpRequest& request) noexcept {
    return answer(request, [this](Exchange& x) {
        const ReadCacheOff cache_off(*storage_);
        return dispatch(x);
    });
}

// Counts the answer in the metrics: the route the request matched, its status, and the time
// spent here (the wait in the thread pool's queue is lkk_pool_queue's business). handle() and
// handle_inline() both answer through here.
HttpResponse Portal::answer(const HttpRequest& request,
                            const std::function<HttpResponse(Exchange&)>& route) noexcept {
    const auto started = std::chrono::steady_clock::now();
    metrics::Route label = metrics::Route::other;
    auto counted = [&](HttpResponse r) {
        const auto spent = std::chrono::steady_clock::now() - started;
        metrics::count_request(label, r.status,
                               std::chrono::duration_cast<std::chrono::nanoseconds>(spent).count());
        return r;
    };
    try {
        Exchange x(request);
        HttpResponse r = route(x);
        label = x.metric;
        return counted(std::move(r));
    } catch (const std::exception& e) {
        log_request_crash(request, e.what());
    } catch (...) {
        log_request_crash(request, "unknown exception");
    }
    try {
        Exchange x(request);
        return counted(error_page(x, 500, ErrorPage::internal));
    } catch (...) {
        return counted(last_resort());
    }
}

// The readings reminder rides on the outbox timer: its check costs a clock read while the
// window is closed, and the mails it enqueues leave in this same round.
int Portal::deliver_mail() noexcept {
    try {
        notifications_->remind_readings();
        return deliver_outbox(*storage_, *mailer_, clock_.now(), delivery_policy(settings_),
                              bill_pages_->attachment_renderer());
    } catch (...) {
        return 0;
    }
}

// The gauges that need a backend, refreshed by the module's timer and never by a scrape. With
// SQLite sessions the session store is the database, asked once more all the same.
void Portal::refresh_metrics() noexcept {
    try {
        auto backlog = storage_->outbox_backlog();
        metrics::set_backend_up(metrics::Backend::storage, backlog.ok());
        if (backlog.ok()) metrics::set_outbox(backlog->pending, backlog->oldest_created_at);
        metrics::set_backend_up(metrics::Backend::sessions, sessions_->ping().ok());
    } catch (...) {
        // Storage and session stores answer errors as values; this only keeps noexcept.
    }
}

const Route* Portal::match(const std::vector<Route>& table, Exchange& x, std::string& allow) const {
    const auto path = segments(x.route);
    const std::string method = x.http.method == "HEAD" ? "GET" : x.http.method;
    const Route* found = nullptr;
    allow.clear();
    for (const Route& r : table) {
        if (r.segments != path.size()) continue;
        std::optional<int64_t> id;
        std::string month;
        if (!pattern_matches(r.pattern, path, id, month)) continue;
        if (!allow.empty()) allow += ", ";
        allow += r.method;
        if (r.method == "GET") allow += ", HEAD";
        if (r.method == method && found == nullptr) {
            found = &r;
            x.metric = r.metric;
            if (id) x.id = *id;
            x.month = std::move(month);
        }
    }
    return found;
}

HttpResponse Portal::dispatch(Exchange& x) {
    const HttpRequest& request = x.http;
    x.ctx.ip = request.remote_addr;
    x.ctx.user_agent = request.user_agent;
    x.ctx.locale = locale();

    const std::string& path = request.path;
    if (!base_.empty() && path == base_) {
        // "/lkk" -> "/lkk/": relative links and the cookie path both want the slash.
        return redirect(x, base_ + "/" + (request.query.empty() ? "" : "?" + request.query), 301);
    }
    if (path.size() < base_.size() + 1 || path.compare(0, base_.size(), base_) != 0 ||
        path[base_.size()] != '/') {
        return error_page(x, 404, ErrorPage::not_found);
    }
    x.route = path.substr(base_.size());
    if (x.route == "/lkk.css") {
        x.metric = metrics::Route::static_;
        if (request.method != "GET" && request.method != "HEAD") {
            HttpResponse r = error_page(x, 405, ErrorPage::method_not_allowed);
            r.headers.emplace_back("Allow", "GET, HEAD");
            return r;
        }
        return get_stylesheet(x);
    }
    if (x.route == "/healthz") {
        x.metric = metrics::Route::health;
        return get_healthz(x);
    }

    if (auto cookies = http::parse_cookies(request.cookie); cookies.ok()) {
        x.cookies = std::move(cookies.value());
    }
    if (auto it = x.cookies.find(std::string(kSessionCookie)); it != x.cookies.end()) {
        x.session_cookie = it->second;
    }
    if (x.route == "/api/v1" || x.route.rfind("/api/v1/", 0) == 0) return dispatch_api(x);
    return dispatch_html(x);
}

HttpResponse Portal::dispatch_html(Exchange& x) {
    x.html = true;
    if (auto it = x.cookies.find(std::string(kCsrfCookie));
        it != x.cookies.end() && crypto::looks_like_token(it->second)) {
        x.anon_csrf_sent = it->second;
    }
    auto query = http::parse_query(x.http.query);
    if (!query.ok()) return error_page(x, 400, ErrorPage::bad_request);
    x.query = std::move(query.value());

    std::string allow;
    const Route* route = match(html_routes_, x, allow);
    if (route == nullptr) {
        if (allow.empty()) return error_page(x, 404, ErrorPage::not_found);
        HttpResponse r = error_page(x, 405, ErrorPage::method_not_allowed);
        r.headers.emplace_back("Allow", allow);
        return r;
    }
    if (!x.session_cookie.empty()) {
        auto current = cabinet_.current_session(x.session_cookie);
        if (!current.ok()) return failure_page(x, current.error());
        x.session = std::move(current.value());
        // A cookie naming no live session (expired, logged out elsewhere) is dropped.
        if (!x.session) x.set_cookies.push_back(clear_session_cookie());
    }
    return route->call ? route->call(x) : (this->*(route->handler))(x);
}

}  // namespace web

Result<std::unique_ptr<Application>> create_application(const Settings& settings, Clock& clock) {
    try {
        // Until the timer's first refresh, lkk_backend_up says how the start went.
        auto storage = open_storage(settings.storage.url);
        metrics::set_backend_up(metrics::Backend::storage, storage.ok());
        if (!storage.ok()) {
            return Status(storage.error().code(),
                          "storage " + settings.storage.url + ": " + storage.error().message());
        }
        auto version = storage.value()->schema_version();
        if (!version.ok()) {
            return Status(version.error().code(),
                          "cannot read the database schema version: " + version.error().message());
        }
        const int expected = storage.value()->expected_schema_version();
        if (version.value() < expected) {
            return Status::Invalid(
                "database schema is behind: run lkk-admin migrate (the database is at version " +
                std::to_string(version.value()) + ", this build needs " + std::to_string(expected) +
                ")");
        }
        auto sessions = open_session_store(settings.sessions.url, *storage.value());
        metrics::set_backend_up(metrics::Backend::sessions, sessions.ok());
        if (!sessions.ok()) {
            return Status(sessions.error().code(),
                          "sessions " + settings.sessions.url + ": " + sessions.error().message());
        }
        auto counters = open_counter_store(settings.sessions.url, *storage.value());
        if (!counters.ok()) {
            return Status(counters.error().code(), "throttle counters " + settings.sessions.url +
                                                       ": " + counters.error().message());
        }
        attach_read_cache(*storage.value(), *sessions.value(),
                          settings.sessions.cache ? settings.sessions.cache_max_age : 0);
        auto mailer = open_mailer(settings.mail.url, settings.mail.from);
        if (!mailer.ok()) {
            return Status(mailer.error().code(),
                          "mail " + settings.mail.url + ": " + mailer.error().message());
        }
        auto templates =
            TemplateSet::load(parse_locale(settings.portal.locale), settings.portal.templates_dir);
        if (!templates.ok()) return templates.error();
        std::string consent;
        if (!settings.portal.consent_file.empty()) {
            std::ifstream in(settings.portal.consent_file, std::ios::binary);
            std::ostringstream text;
            if (in) text << in.rdbuf();
            if (!in || in.bad()) {
                return Status::Invalid("cannot read consent_file " + settings.portal.consent_file);
            }
            consent = text.str();
        } else if (const std::string* built_in = templates.value().text("consent.md")) {
            consent = *built_in;
        }
        std::unique_ptr<Application> app = std::make_unique<web::Portal>(
            settings, std::move(storage.value()), std::move(sessions.value()),
            std::move(counters.value()), std::move(mailer.value()), std::move(templates.value()),
            std::move(consent), clock);
        return app;
    } catch (const std::exception& e) {
        return Status::Internal(std::string("cannot start the application: ") + e.what());
    }
}

}  // namespace lkk
