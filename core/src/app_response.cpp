// Building the replies of the web layer: pages with their security headers, redirects,
// error pages, cookies, and the checks every HTML form POST passes (413, 415, 400, 403).

#include "app_internal.h"
#include "lkk/crypto.h"
#include "lkk/rules.h"

namespace lkk::web {

namespace {

// SPEC 4: no inline script or style anywhere, nothing framed, nothing leaked in Referer.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

const char* error_section(ErrorPage kind) {
    switch (kind) {
        case ErrorPage::bad_request:
            return "bad_request";
        case ErrorPage::forbidden:
            return "forbidden";
        case ErrorPage::not_found:
            return "not_found";
        case ErrorPage::method_not_allowed:
            return "method_not_allowed";
        case ErrorPage::too_large:
            return "too_large";
        case ErrorPage::unsupported:
            return "unsupported";
        case ErrorPage::throttled:
            return "throttled";
        case ErrorPage::unavailable:
            return "unavailable";
        case ErrorPage::internal:
            return "internal";
    }
    return "internal";
}

}  // namespace

bool is_form_media_type(std::string_view content_type) {
    return http::media_type(content_type) == "application/x-www-form-urlencoded";
}

bool is_json_media_type(std::string_view content_type) {
    return http::media_type(content_type) == "application/json";
}

std::string display_date(std::string_view iso_date) {
    if (iso_date.size() == 10 && iso_date[4] == '-' && iso_date[7] == '-') {
        return std::string(iso_date.substr(8, 2)) + "." + std::string(iso_date.substr(5, 2)) + "." +
               std::string(iso_date.substr(0, 4));
    }
    return std::string(iso_date);
}

// What every page and the layout need: where the portal lives, whom to write to, who is
// logged in, and the CSRF token the page's forms carry.
TemplateData Portal::page_data(const Exchange& x) const {
    TemplateData d(TemplateData::type::object);
    put(d, "base", base_);
    put(d, "support_email", settings_.portal.support_email);
    put(d, "lang", std::string(locale_name(locale())));
    put(d, "min_length", std::to_string(settings_.passwords.min_length));
    put(d, "csrf", csrf_for_page(x));
    if (x.session) {
        put(d, "logged_in", true);
        put(d, "user_email", x.session->user.email);
    }
    return d;
}

std::string Portal::csrf_for_page(const Exchange& x) const {
    return x.session ? x.session->session.csrf : x.anon_csrf();
}

// Room for the headers of a page or a redirect: Content-Type, Cache-Control, Location, the
// four of add_security_headers() and the cookies, so the list is not moved as it grows.
constexpr size_t kPageHeaders = 10;

// SPEC 4 headers, on every HTML reply including redirects and error pages.
void Portal::add_security_headers(HttpResponse& r) const {
    r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    r.headers.emplace_back("X-Frame-Options", "DENY");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
}

void Portal::add_cookies(const Exchange& x, HttpResponse& r) const {
    if (!x.anon_csrf_to_set().empty()) {
        r.headers.emplace_back("Set-Cookie", csrf_cookie(x.anon_csrf_to_set()));
    }
    for (const std::string& c : x.set_cookies) r.headers.emplace_back("Set-Cookie", c);
}

std::string Portal::cookie_path() const {
    return base_.empty() ? "/" : base_;
}

// SPEC 4: HttpOnly (no script reads it), Lax (sent on the link from a mail, not on foreign
// POSTs), scoped to the portal's path, Secure unless the settings say the site is plain HTTP.
std::string Portal::session_cookie(const std::string& value) const {
    return std::string(kSessionCookie) + "=" + value + "; Path=" + cookie_path() +
           "; HttpOnly; SameSite=Lax" + (settings_.sessions.cookie_secure ? "; Secure" : "");
}

std::string Portal::clear_session_cookie() const {
    return std::string(kSessionCookie) + "=; Path=" + cookie_path() +
           "; Max-Age=0; HttpOnly; SameSite=Lax" +
           (settings_.sessions.cookie_secure ? "; Secure" : "");
}

// The anonymous forms' double-submit token. Strict: a foreign site never gets it sent.
std::string Portal::csrf_cookie(const std::string& value) const {
    return std::string(kCsrfCookie) + "=" + value + "; Path=" + cookie_path() +
           "; HttpOnly; SameSite=Strict" + (settings_.sessions.cookie_secure ? "; Secure" : "");
}

// A page from a template, with the headers every page carries; no-store because the pages
// hold personal data or one-time tokens.
HttpResponse Portal::html(Exchange& x, int status, std::string_view page,
                          const TemplateData& data) {
    auto body = templates_.render_page(page, data);
    if (!body.ok()) {
        log(LogLevel::error, "template " + std::string(page) + ": " + body.error().message());
        if (page == "error.html") throw std::runtime_error(body.error().message());
        return error_page(x, 500, ErrorPage::internal);
    }
    HttpResponse r;
    r.status = status;
    r.headers.reserve(kPageHeaders);
    r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
    r.headers.emplace_back("Cache-Control", "no-store");
    add_security_headers(r);
    add_cookies(x, r);
    r.body = std::move(body.value());
    return r;
}

HttpResponse Portal::redirect(Exchange& x, const std::string& location, int status) {
    HttpResponse r;
    r.status = status;
    r.headers.reserve(kPageHeaders);
    r.headers.emplace_back("Location", location);
    r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    r.headers.emplace_back("Cache-Control", "no-store");
    add_security_headers(r);
    add_cookies(x, r);
    return r;
}

HttpResponse Portal::error_page(Exchange& x, int status, ErrorPage kind, std::string message) {
    TemplateData d = page_data(x);
    put(d, error_section(kind), true);
    if (!message.empty()) put(d, "message", message);
    return html(x, status, "error.html", d);
}

// A human "try again in N minutes", rounded up so that waiting that long always works.
std::string Portal::wait_text(int64_t seconds) const {
    const int64_t minutes = seconds <= 0 ? 1 : (seconds + 59) / 60;
    if (locale() == Locale::en) {
        return "Too many attempts. Please try again in " + std::to_string(minutes) + " min.";
    }
    return "Слишком много попыток. Попробуйте снова через " + std::to_string(minutes) + " мин.";
}

void add_retry_after(HttpResponse& r, int64_t seconds) {
    r.headers.emplace_back("Retry-After", std::to_string(seconds > 0 ? seconds : 60));
}

HttpResponse Portal::throttled_page(Exchange& x, int64_t retry_after) {
    HttpResponse r = error_page(x, 429, ErrorPage::throttled, wait_text(retry_after));
    add_retry_after(r, retry_after);
    return r;
}

HttpResponse Portal::throttled_form(Exchange& x, const FormView& view, TemplateData data,
                                    int64_t retry_after) {
    put(data, "error", wait_text(retry_after));
    HttpResponse r = view(x, 429, data);
    add_retry_after(r, retry_after);
    return r;
}

void log_request_failure(const HttpRequest& request, const Status& status) noexcept {
    try {
        const bool ordinary = status.code() == StatusCode::not_found ||
                              status.code() == StatusCode::invalid_argument ||
                              status.code() == StatusCode::conflict;
        log(ordinary ? LogLevel::info : LogLevel::error,
            request.method + " " + request.path + ": " + status.message());
    } catch (...) {
        // Out of memory while building the line: the answer still goes out.
    }
}

// The backend failed: the person gets a calm 503/500 page with the support address; the
// detail goes to the server's error log.
HttpResponse Portal::failure_page(Exchange& x, const Status& status) {
    log_request_failure(x.http, status);
    if (status.code() == StatusCode::unavailable) {
        HttpResponse r = error_page(x, 503, ErrorPage::unavailable);
        r.headers.emplace_back("Retry-After", "120");
        return r;
    }
    if (status.code() == StatusCode::not_found) return error_page(x, 404, ErrorPage::not_found);
    return error_page(x, 500, ErrorPage::internal);
}

HttpResponse Portal::outcome_failure_page(Exchange& x, const Reply& reply) {
    switch (reply.outcome) {
        case Outcome::unavailable:
            return failure_page(
                x, reply.status.ok() ? Status::Unavailable("backend unavailable") : reply.status);
        case Outcome::throttled:
            return throttled_page(x, reply.retry_after);
        case Outcome::not_found:
            return error_page(x, 404, ErrorPage::not_found);
        default:
            return failure_page(x, reply.status.ok()
                                       ? Status::Internal(std::string(outcome_code(reply.outcome)))
                                       : reply.status);
    }
}

void Portal::put_field_errors(TemplateData& data, const Reply& reply,
                              std::initializer_list<std::string_view> fields) const {
    std::string general;
    for (const FieldError& e : reply.errors) {
        bool shown = false;
        for (std::string_view f : fields) {
            if (e.field != f) continue;
            const std::string key = e.field + "_error";
            if (data.get(key) == nullptr) put(data, key, std::string(e.text(locale())));
            shown = true;
        }
        if (!shown) {
            if (!general.empty()) general += " ";
            general += e.text(locale());
        }
    }
    if (!general.empty() && data.get("error") == nullptr) put(data, "error", general);
}

bool Portal::csrf_ok(const Exchange& x, CsrfKind kind, const http::Form& form) const {
    const std::string* sent = form.get("csrf");
    if (sent == nullptr || sent->empty()) return false;
    if (kind == CsrfKind::session) {
        return x.session && crypto::constant_time_equal(*sent, x.session->session.csrf);
    }
    // The double-submit cookie must have come from the browser: a token we only just made
    // up for this reply proves nothing.
    return !x.anon_csrf_sent.empty() && crypto::constant_time_equal(*sent, x.anon_csrf_sent);
}

Result<http::Form, HttpResponse> Portal::accept_form(Exchange& x, CsrfKind kind,
                                                     std::initializer_list<std::string_view> fields,
                                                     const FormView& view) {
    if (x.http.body_too_large || x.http.body.size() > kMaxBodyBytes) {
        return error_page(x, 413, ErrorPage::too_large);
    }
    if (!is_form_media_type(x.http.content_type)) {
        return error_page(x, 415, ErrorPage::unsupported);
    }
    auto form = http::parse_form(x.http.body);
    if (!form.ok()) {
        const http::ParseError& e = form.error();
        if (e.kind == http::ParseError::too_large) return error_page(x, 413, ErrorPage::too_large);
        // SPEC 4: bad UTF-8 or control characters are a form error shown next to the field.
        TemplateData d = page_data(x);
        const std::string text(http::describe(e).in(locale()));
        bool next_to_field = false;
        for (std::string_view f : fields) next_to_field = next_to_field || f == e.field;
        put(d, next_to_field ? e.field + "_error" : std::string("error"), text);
        return view(x, 400, d);
    }
    if (!csrf_ok(x, kind, form.value())) return error_page(x, 403, ErrorPage::forbidden);
    return std::move(form.value());
}

}  // namespace lkk::web
