// The web layer inside the library: HTTP in, Cabinet calls, HTML or JSON out. Private to
// core/src (app.cpp and app_*.cpp); the public face is lkk/app.h.
//
// The web layer translates only: it parses and checks what arrived (size, media type,
// UTF-8, CSRF, Origin), calls one Cabinet operation, and renders the Reply. Every business
// rule (validation, throttling, matching, sessions, mail) lives in the Cabinet.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lkk/app.h"
#include "lkk/cabinet.h"
#include "lkk/clock.h"
#include "lkk/crypto.h"
#include "lkk/health.h"
#include "lkk/http_parse.h"
#include "lkk/log.h"
#include "lkk/mailer.h"
#include "lkk/metrics.h"
#include "lkk/notifications.h"
#include "lkk/session_store.h"
#include "lkk/storage.h"
#include "lkk/templates.h"

namespace lkk::web {

inline constexpr std::string_view kSessionCookie = "lkk_session";
inline constexpr std::string_view kCsrfCookie = "lkk_csrf";

// One HTTP exchange as the routes see it: parsed once, then handed to a route.
struct Exchange {
    explicit Exchange(const HttpRequest& r) : http(r) {}

    const HttpRequest& http;
    std::string route;  // the path below the base path, always starting with '/'
    int64_t id = 0;     // the {id} of routes like /accounts/{id}
    std::string month;  // the {month} "YYYY-MM" of routes like /accounts/{id}/bill/{month}
    std::map<std::string, std::string> cookies;
    http::Form query;
    RequestContext ctx;
    std::string session_cookie;             // raw lkk_session value when sent
    std::optional<CurrentSession> session;  // resolved when the cookie names a live session
    bool html = false;                      // dispatch_html() took it: its pages have forms
    std::string anon_csrf_sent;             // the lkk_csrf cookie the browser sent, if a token
    std::vector<std::string> set_cookies;   // Set-Cookie values added by the route
    // The route label of lkk_requests_total (set by match()).
    metrics::Route metric = metrics::Route::other;

    // The double-submit token of anonymous forms: the one the browser sent, or one made for
    // this reply (set in it as a cookie) the first time a page of dispatch_html() asks. A page
    // for a logged-in user carries the session's token instead and makes none; the error pages
    // dispatch() answers before (outside the base path, 405 on the stylesheet) carry none.
    const std::string& anon_csrf() const {
        if (!anon_csrf_sent.empty() || !html) return anon_csrf_sent;
        if (anon_csrf_made.empty()) anon_csrf_made = crypto::random_token();
        return anon_csrf_made;
    }
    const std::string& anon_csrf_to_set() const { return anon_csrf_made; }

  private:
    mutable std::string anon_csrf_made;
};

// The kinds of error page (templates/<locale>/error.html has one section for each).
enum class ErrorPage {
    bad_request,
    forbidden,
    not_found,
    method_not_allowed,
    too_large,
    unsupported,
    throttled,
    unavailable,
    internal
};

// Which token a state-changing HTML form must carry.
enum class CsrfKind {
    anonymous,  // the lkk_csrf double-submit cookie (login, register, forgot, resend, reset)
    session     // the logged-in session's token (logout, link, unlink, change password)
};

class Portal;
class ReadingsPages;
class SettingsPages;
class MoneyPages;
class BillPages;
using Handler = HttpResponse (Portal::*)(Exchange&);

struct Route {
    std::string method;  // "GET", "POST", "DELETE"
    // "/accounts/{id}/unlink"; {id} is a positive decimal number, {month} a month "YYYY-MM"
    // (a pattern segment may go on after it: "{month}.pdf").
    std::string pattern;
    metrics::Route metric;  // its `route` label in the metrics (lkk/metrics.h)
    Handler handler = nullptr;
    // Routes of the feature files (their own classes, e.g. ReadingsPages) instead of handler.
    std::function<HttpResponse(Exchange&)> call = {};
    // The pattern's '/'-separated segments, counted once the tables are complete: match()
    // passes over the routes of another length without reading their patterns.
    size_t segments = 0;
};

// The string fields of a JSON API body (and the body, for anything else it carries).
struct JsonFields {
    nlohmann::json body;
    std::map<std::string, std::string> values;
    std::string get(const std::string& name) const {
        auto it = values.find(name);
        return it == values.end() ? std::string() : it->second;
    }
};

// Re-renders a form page with the given status and data (values and errors filled in).
using FormView = std::function<HttpResponse(Exchange&, int, TemplateData)>;

// Retry-After of a throttled answer (at least a minute when the wait is unknown).
void add_retry_after(HttpResponse& r, int64_t seconds);

// Logs why a request could not be served: a backend failure is an error for the admin, a
// not_found (an unknown account id) or bad input only an info line.
void log_request_failure(const HttpRequest& request, const Status& status) noexcept;

class Portal final : public Application {
  public:
    Portal(Settings settings, std::unique_ptr<Storage> storage,
           std::unique_ptr<SessionStore> sessions, std::unique_ptr<CounterStore> counters,
           std::unique_ptr<Mailer> mailer, TemplateSet templates, std::string consent_text,
           Clock& clock);
    ~Portal() override;

    HttpResponse handle(const HttpRequest& request) noexcept override;
    std::optional<HttpResponse> handle_inline(const HttpRequest& request) noexcept override;
    int deliver_mail() noexcept override;
    void refresh_metrics() noexcept override;
    const Settings& settings() const override { return settings_; }

  private:
    // The feature files share the request plumbing below.
    friend class ReadingsPages;
    friend class SettingsPages;
    friend class MoneyPages;
    friend class BillPages;

    // ---- app.cpp: dispatch ----
    // route's answer to request, counted in the metrics; a throw becomes the 500 page.
    HttpResponse answer(const HttpRequest& request,
                        const std::function<HttpResponse(Exchange&)>& route) noexcept;
    HttpResponse dispatch(Exchange& x);
    HttpResponse dispatch_html(Exchange& x);
    // Finds the route of x.route and method; fills x.id and x.metric. nullptr with `allow` filled
    // when the path exists under other methods (405), empty when it does not exist (404).
    const Route* match(const std::vector<Route>& table, Exchange& x, std::string& allow) const;

    // ---- app_response.cpp: building replies ----
    TemplateData page_data(const Exchange& x) const;
    HttpResponse html(Exchange& x, int status, std::string_view page, const TemplateData& data);
    HttpResponse redirect(Exchange& x, const std::string& location, int status = 303);
    HttpResponse error_page(Exchange& x, int status, ErrorPage kind, std::string message = {});
    HttpResponse throttled_page(Exchange& x, int64_t retry_after);
    // 503/500 pages for a Reply or a Status that failed in the backend.
    HttpResponse failure_page(Exchange& x, const Status& status);
    HttpResponse outcome_failure_page(Exchange& x, const Reply& reply);
    void add_security_headers(HttpResponse& r) const;
    void add_cookies(const Exchange& x, HttpResponse& r) const;
    std::string cookie_path() const;
    std::string session_cookie(const std::string& value) const;
    std::string clear_session_cookie() const;
    std::string csrf_cookie(const std::string& value) const;
    std::string wait_text(int64_t seconds) const;
    // A form shown again with 429, the wait in its general error, and Retry-After.
    HttpResponse throttled_form(Exchange& x, const FormView& view, TemplateData data,
                                int64_t retry_after);
    // Puts each FieldError next to its field (`<field>_error`); errors of fields this form
    // does not have go to the general `error`.
    void put_field_errors(TemplateData& data, const Reply& reply,
                          std::initializer_list<std::string_view> fields) const;

    // The checks every HTML POST passes before its route runs: body size (413), media type
    // (415), parsing (400 with the form re-shown) and CSRF (403). The form on success, the
    // refusal otherwise.
    // `fields` are the fields the form shows (where an error can be put next to its field).
    Result<http::Form, HttpResponse> accept_form(Exchange& x, CsrfKind kind,
                                                 std::initializer_list<std::string_view> fields,
                                                 const FormView& view);
    bool csrf_ok(const Exchange& x, CsrfKind kind, const http::Form& form) const;
    std::string csrf_for_page(const Exchange& x) const;

    // ---- app_html_auth.cpp: start screen, registration, login, passwords ----
    HttpResponse get_start(Exchange& x);
    HttpResponse get_login(Exchange& x);
    HttpResponse post_login(Exchange& x);
    HttpResponse post_logout(Exchange& x);
    HttpResponse get_register(Exchange& x);
    HttpResponse post_register(Exchange& x);
    HttpResponse get_confirm(Exchange& x);
    HttpResponse get_resend(Exchange& x);
    HttpResponse post_resend(Exchange& x);
    HttpResponse get_forgot(Exchange& x);
    HttpResponse post_forgot(Exchange& x);
    HttpResponse post_email_only(Exchange& x, std::string_view form_page,
                                 std::string_view done_page,
                                 const std::function<Reply(const std::string&)>& op);
    HttpResponse get_reset(Exchange& x);
    HttpResponse post_reset(Exchange& x);
    HttpResponse get_change(Exchange& x);
    HttpResponse post_change(Exchange& x);
    HttpResponse login_view(Exchange& x, int status, TemplateData data);

    // ---- app_html_accounts.cpp: the registry ----
    HttpResponse get_accounts(Exchange& x);
    HttpResponse get_link(Exchange& x);
    HttpResponse post_link(Exchange& x);
    HttpResponse get_account(Exchange& x);
    HttpResponse post_unlink(Exchange& x);
    HttpResponse link_view(Exchange& x, int status, TemplateData data);

    // ---- app_static.cpp: pages without a form, the stylesheet, the health check ----
    HttpResponse get_help(Exchange& x);
    HttpResponse get_consent(Exchange& x);
    HttpResponse get_healthz(Exchange& x);
    HttpResponse get_stylesheet(Exchange& x);

    // ---- app_api.cpp: JSON API under base/api/v1/ ----
    HttpResponse dispatch_api(Exchange& x);
    HttpResponse json(Exchange& x, int status, const nlohmann::json& body);
    HttpResponse problem(Exchange& x, int status, std::string_view code, std::string_view title,
                         std::string detail = {}, const nlohmann::json& errors = nullptr);
    HttpResponse reply_problem(Exchange& x, const Reply& reply);
    HttpResponse backend_problem(Exchange& x, const Status& status);
    bool origin_allowed(const Exchange& x) const;
    // The body as a JSON object, or the 400/413/415 problem.
    Result<nlohmann::json, HttpResponse> json_body(Exchange& x);
    Result<JsonFields, HttpResponse> api_fields(Exchange& x,
                                                std::initializer_list<const char*> names);
    // The logged-in session (401 problem when none), with the CSRF header checked for
    // state-changing calls (403 problem).
    std::optional<HttpResponse> api_session(Exchange& x, bool state_changing);
    HttpResponse api_register(Exchange& x);
    HttpResponse api_confirm(Exchange& x);
    HttpResponse api_resend(Exchange& x);
    HttpResponse api_login(Exchange& x);
    HttpResponse api_logout(Exchange& x);
    HttpResponse api_me(Exchange& x);
    HttpResponse api_offices(Exchange& x);
    HttpResponse api_accounts(Exchange& x);
    HttpResponse api_link(Exchange& x);
    HttpResponse api_unlink(Exchange& x);
    HttpResponse api_forgot(Exchange& x);
    HttpResponse api_reset(Exchange& x);

    Locale locale() const { return templates_.locale(); }

    Settings settings_;
    std::string base_;  // base path without a trailing slash ("" when the portal is at "/")
    std::unique_ptr<Storage> storage_;
    std::unique_ptr<SessionStore> sessions_;
    std::unique_ptr<CounterStore> counters_;
    std::unique_ptr<Mailer> mailer_;
    TemplateSet templates_;
    std::string consent_text_;
    Clock& clock_;
    Cabinet cabinet_;
    std::vector<Route> html_routes_;
    std::vector<Route> api_routes_;
    std::unique_ptr<ReadingsPages> readings_pages_;  // app_html_readings.cpp
    std::unique_ptr<Notifications> notifications_;   // the settings page, unsubscribe, reminder
    std::unique_ptr<SettingsPages> settings_pages_;  // app_html_settings.cpp
    std::unique_ptr<MoneyPages> money_pages_;        // app_html_money.cpp
    std::unique_ptr<BillPages> bill_pages_;          // app_html_bill.cpp
    HealthMemo health_{clock_};                      // /healthz's last real check
};

// Helpers shared by the route files (app_response.cpp).
bool is_form_media_type(std::string_view content_type);
bool is_json_media_type(std::string_view content_type);
// A billing date "YYYY-MM-DD" as people read it in Russia: "DD.MM.YYYY".
std::string display_date(std::string_view iso_date);
// The /healthz answer for what a check found (app_static.cpp).
HttpResponse health_response(Health health);

}  // namespace lkk::web
