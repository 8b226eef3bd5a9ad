// The JSON API under base/api/v1/ (SPEC 5): the same Cabinet operations as the HTML pages.
//
// Rules of the API:
// - Request bodies are application/json objects (anything else is 415, broken JSON 400);
//   string fields must be strings (an amount too: "1234,50", never a float).
// - When the browser sends Origin it must be the portal's own (settings.portal.base_url's
//   origin, or the Host header's http/https origin), else 403: a cross-site page cannot use
//   the visitor's cookie here.
// - The session is the same lkk_session cookie as the HTML pages. Calls that change the
//   state of a logged-in session (POST logout, POST accounts, DELETE accounts/{id}) need the
//   header X-CSRF-Token equal to the session's token, which POST login and GET me return as
//   "csrf"; without it they are 403.
// - Errors are application/problem+json (RFC 9457): type, title, status, detail, code, and
//   for form errors "errors": {field: message} with "error_codes": {field: code}.
#include <cctype>

#include "app_internal.h"
#include "lkk/crypto.h"
#include "lkk/rules.h"

namespace lkk::web {

namespace {

using nlohmann::json;

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// "https://lkk.example.org/some/path" -> "https://lkk.example.org".
std::string origin_of(const std::string& url) {
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos) return {};
    const size_t path = url.find('/', scheme + 3);
    return lower(path == std::string::npos ? url : url.substr(0, path));
}

int status_of(Outcome outcome) {
    switch (outcome) {
        case Outcome::ok:
            return 200;
        case Outcome::form_error:
            return 400;
        case Outcome::throttled:
            return 429;
        case Outcome::invalid_token:
            return 400;
        case Outcome::link_replaced:
            return 410;
        case Outcome::wrong_credentials:
            return 401;
        case Outcome::not_confirmed:
            return 403;
        case Outcome::mismatch:
            return 422;
        case Outcome::already_linked:
            return 409;
        case Outcome::not_found:
            return 404;
        case Outcome::unavailable:
            return 503;
        case Outcome::internal:
            return 500;
    }
    return 500;
}

const char* reason(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 409:
            return "Conflict";
        case 413:
            return "Content Too Large";
        case 415:
            return "Unsupported Media Type";
        case 422:
            return "Unprocessable Content";
        case 429:
            return "Too Many Requests";
        case 503:
            return "Service Unavailable";
        default:
            return "Internal Server Error";
    }
}

json office_json(const Office& o) {
    return {{"code", o.code}, {"name", o.name}, {"phones", o.phones}, {"email", o.email}};
}

json account_json(const LinkedAccount& l) {
    json j = {{"id", l.link_id},
              {"office", office_json(l.office)},
              {"account", l.account.account_number},
              {"address", l.account.address},
              {"last_payment_kopecks", l.account.last_payment},
              {"last_payment_date", l.account.last_payment_date},
              {"linked_at", l.linked_at}};
    j["balance_kopecks"] = l.account.balance ? json(*l.account.balance) : json(nullptr);
    return j;
}

}  // namespace

// SPEC 4: the API checks Origin when present. Two forms count as our own: the configured
// base_url (links in mails) and the Host the browser used (a portal reached by IP or alias).
bool Portal::origin_allowed(const Exchange& x) const {
    if (x.http.origin.empty()) return true;
    const std::string origin = lower(x.http.origin);
    if (origin == origin_of(settings_.portal.base_url)) return true;
    if (!x.http.host.empty()) {
        const std::string host = lower(x.http.host);
        if (origin == "http://" + host || origin == "https://" + host) return true;
    }
    return false;
}

// JSON replies hold personal data too: never cached, and sniffing is off.
HttpResponse Portal::json(Exchange& x, int status, const nlohmann::json& body) {
    HttpResponse r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    r.headers.emplace_back("Cache-Control", "no-store");
    add_security_headers(r);
    add_cookies(x, r);
    if (status != 204) r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
}

// RFC 9457 problem details; `code` is stable for programs, `detail` is for people.
HttpResponse Portal::problem(Exchange& x, int status, std::string_view code, std::string_view title,
                             std::string detail, const nlohmann::json& errors) {
    nlohmann::json body = {{"type", "urn:lkk:problem:" + std::string(code)},
                           {"title", title.empty() ? reason(status) : std::string(title)},
                           {"status", status},
                           {"code", std::string(code)}};
    if (!detail.empty()) body["detail"] = detail;
    if (errors.is_object() && !errors.empty()) body["errors"] = errors;
    HttpResponse r = json(x, status, body);
    for (auto& [name, value] : r.headers) {
        if (name == "Content-Type") value = "application/problem+json; charset=utf-8";
    }
    return r;
}

// The database or session store failed: 503 (come back later) or 500; the detail goes to the
// error log only.
HttpResponse Portal::backend_problem(Exchange& x, const Status& status) {
    log_request_failure(x.http, status);
    if (status.code() == StatusCode::unavailable) {
        HttpResponse r = problem(
            x, 503, "unavailable", "",
            locale() == Locale::en
                ? "The service is temporarily unavailable, please try again in a few minutes."
                : "Сервис временно недоступен, попробуйте через несколько минут.");
        r.headers.emplace_back("Retry-After", "120");
        return r;
    }
    if (status.code() == StatusCode::not_found) return problem(x, 404, "not_found", "");
    return problem(x, 500, "internal", "");
}

// A Cabinet answer that is not ok, as a problem with per-field messages and, for linking,
// the office to call.
HttpResponse Portal::reply_problem(Exchange& x, const Reply& reply) {
    if (reply.outcome == Outcome::unavailable || reply.outcome == Outcome::internal) {
        return backend_problem(
            x, reply.status.ok()
                   ? Status(reply.outcome == Outcome::unavailable ? StatusCode::unavailable
                                                                  : StatusCode::internal,
                            std::string(outcome_code(reply.outcome)))
                   : reply.status);
    }
    const int status = status_of(reply.outcome);
    std::string detail(outcome_message(reply.outcome).in(locale()));
    if (reply.outcome == Outcome::throttled) detail = wait_text(reply.retry_after);
    nlohmann::json errors = nlohmann::json::object();
    nlohmann::json codes = nlohmann::json::object();
    for (const FieldError& e : reply.errors) {
        if (!errors.contains(e.field)) {
            errors[e.field] = std::string(e.text(locale()));
            codes[e.field] = e.code;
        }
    }
    HttpResponse r = problem(x, status, outcome_code(reply.outcome), "", detail, errors);
    if (!codes.empty() || reply.office) {
        // Extension members: machine-readable error codes and whom to call.
        auto body = nlohmann::json::parse(r.body, nullptr, false);
        if (!codes.empty()) body["error_codes"] = codes;
        if (reply.office) body["office"] = office_json(*reply.office);
        r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    if (reply.outcome == Outcome::throttled) {
        add_retry_after(r, reply.retry_after);
    }
    return r;
}

Result<nlohmann::json, HttpResponse> Portal::json_body(Exchange& x) {
    if (x.http.body_too_large || x.http.body.size() > kMaxBodyBytes) {
        return problem(x, 413, "too_large", "", "The request body is over 16 KiB.");
    }
    if (!is_json_media_type(x.http.content_type)) {
        return problem(x, 415, "unsupported_media_type", "",
                       "Request bodies must be application/json.");
    }
    if (x.http.body.empty()) return nlohmann::json::object();
    // No exceptions: a broken body is a 400, not an unwinding.
    nlohmann::json body = nlohmann::json::parse(x.http.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        return problem(x, 400, "bad_json", "", "The body is not a valid JSON object.");
    }
    return body;
}

std::optional<HttpResponse> Portal::api_session(Exchange& x, bool state_changing) {
    if (!x.session) {
        return problem(
            x, 401, "not_logged_in", "",
            locale() == Locale::en ? "Log in first." : "Сначала войдите в личный кабинет.");
    }
    if (state_changing &&
        (x.http.csrf_token.empty() ||
         !crypto::constant_time_equal(x.http.csrf_token, x.session->session.csrf))) {
        return problem(x, 403, "csrf", "", "The X-CSRF-Token header is missing or wrong.");
    }
    return std::nullopt;
}

// Origin first (nothing runs for a foreign page), then the route, then the session.
HttpResponse Portal::dispatch_api(Exchange& x) {
    x.route = x.route == "/api/v1" ? "/" : x.route.substr(7);
    if (!origin_allowed(x)) {
        return problem(x, 403, "origin", "", "Cross-origin requests are not accepted.");
    }
    std::string allow;
    const Route* route = match(api_routes_, x, allow);
    if (route == nullptr) {
        if (allow.empty()) return problem(x, 404, "not_found", "");
        HttpResponse r = problem(x, 405, "method_not_allowed", "");
        r.headers.emplace_back("Allow", allow);
        return r;
    }
    if (!x.session_cookie.empty()) {
        auto current = cabinet_.current_session(x.session_cookie);
        if (!current.ok()) return backend_problem(x, current.error());
        x.session = std::move(current.value());
        if (!x.session) x.set_cookies.push_back(clear_session_cookie());
    }
    return route->call ? route->call(x) : (this->*(route->handler))(x);
}

// The string fields of a JSON body. A missing field reads as "" (the Cabinet reports it as
// required); a non-string (an amount sent as a float) or a string with control characters
// is refused here, like a form field that fails to parse.
Result<JsonFields, HttpResponse> Portal::api_fields(Exchange& x,
                                                    std::initializer_list<const char*> names) {
    auto body = json_body(x);
    if (!body.ok()) return body.error();
    JsonFields f;
    f.body = std::move(body.value());
    nlohmann::json errors = nlohmann::json::object();
    for (const char* name : names) {
        auto it = f.body.find(name);
        if (it == f.body.end() || it->is_null()) continue;
        if (!it->is_string()) {
            errors[name] = locale() == Locale::en ? "must be a string" : "должно быть строкой";
            continue;
        }
        const std::string& v = it->get_ref<const std::string&>();
        if (!rules::is_clean_text(v)) {
            errors[name] = std::string(rules::message(rules::RuleError::text_invalid).in(locale()));
            continue;
        }
        f.values[name] = v;
    }
    if (!errors.empty()) return problem(x, 400, "form_error", "", "", errors);
    return f;
}

HttpResponse Portal::api_register(Exchange& x) {
    auto fields = api_fields(x, {"email", "password", "password_confirm"});
    if (!fields.ok()) return fields.error();
    const JsonFields& f = fields.value();
    const auto consent = f.body.find("consent");
    const bool consented =
        consent != f.body.end() &&
        ((consent->is_boolean() && consent->get<bool>()) ||
         (consent->is_string() && !consent->get_ref<const std::string&>().empty() &&
          consent->get_ref<const std::string&>() != "0" &&
          consent->get_ref<const std::string&>() != "false"));
    Reply reply = cabinet_.register_user(f.get("email"), f.get("password"),
                                         f.get("password_confirm"), consented, x.ctx);
    if (!reply.ok()) return reply_problem(x, reply);
    return json(x, 202, {{"ok", true}});
}

HttpResponse Portal::api_confirm(Exchange& x) {
    auto fields = api_fields(x, {"token"});
    if (!fields.ok()) return fields.error();
    const JsonFields& f = fields.value();
    Reply reply = cabinet_.confirm(f.get("token"), x.ctx);
    if (!reply.ok()) return reply_problem(x, reply);
    return json(x, 200, {{"ok", true}});
}

HttpResponse Portal::api_resend(Exchange& x) {
    auto fields = api_fields(x, {"email"});
    if (!fields.ok()) return fields.error();
    const JsonFields& f = fields.value();
    Reply reply = cabinet_.resend_confirmation(f.get("email"), x.ctx);
    if (!reply.ok()) return reply_problem(x, reply);
    return json(x, 202, {{"ok", true}});
}

// The same cookie as the HTML login; the body gives the CSRF token a script needs for the
// state-changing calls.
HttpResponse Portal::api_login(Exchange& x) {
    auto fields = api_fields(x, {"email", "password"});
    if (!fields.ok()) return fields.error();
    const JsonFields& f = fields.value();
    LoginReply reply = cabinet_.login(f.get("email"), f.get("password"), x.ctx);
    if (!reply.ok()) return reply_problem(x, reply);
    if (!reply.session) return backend_problem(x, Status::Internal("login without a session"));
    if (x.session) cabinet_.logout(x.session->session, x.ctx);
    x.session.reset();
    x.set_cookies = {session_cookie(reply.session->cookie_value)};
    nlohmann::json out = {{"csrf", reply.session->session.csrf}};
    if (reply.user) out["email"] = reply.user->email;
    return json(x, 200, out);
}

HttpResponse Portal::api_logout(Exchange& x) {
    if (auto refused = api_session(x, true)) return *refused;
    auto body = json_body(x);
    if (!body.ok()) return body.error();
    Reply reply = cabinet_.logout(x.session->session, x.ctx);
    if (!reply.ok()) return reply_problem(x, reply);
    x.session.reset();
    x.set_cookies = {clear_session_cookie()};
    return json(x, 200, {{"ok", true}});
}

// Also answers the CSRF token, so a reloaded page can recover it without logging in again.
HttpResponse Portal::api_me(Exchange& x) {
    if (auto refused = api_session(x, false)) return *refused;
    const User& u = x.session->user;
    nlohmann::json out = {{"id", u.id},
                          {"email", u.email},
                          {"status", std::string(user_status_name(u.status))},
                          {"created_at", u.created_at},
                          {"csrf", x.session->session.csrf}};
    out["confirmed_at"] =
        u.confirmed_at ? nlohmann::json(*u.confirmed_at) : nlohmann::json(nullptr);
    return json(x, 200, out);
}

// Public: the office list is on every bill anyway, and the link form needs it.
HttpResponse Portal::api_offices(Exchange& x) {
    auto offices = cabinet_.offices();
    if (!offices.ok()) return backend_problem(x, offices.error());
    nlohmann::json list = nlohmann::json::array();
    for (const Office& o : offices.value()) list.push_back(office_json(o));
    return json(x, 200, {{"offices", list}});
}

HttpResponse Portal::api_accounts(Exchange& x) {
    if (auto refused = api_session(x, false)) return *refused;
    auto links = cabinet_.accounts(x.session->user.id);
    if (!links.ok()) return backend_problem(x, links.error());
    nlohmann::json list = nlohmann::json::array();
    for (const LinkedAccount& l : links.value()) list.push_back(account_json(l));
    return json(x, 200, {{"accounts", list}});
}

HttpResponse Portal::api_link(Exchange& x) {
    if (auto refused = api_session(x, true)) return *refused;
    auto fields = api_fields(x, {"office", "account", "surname", "amount"});
    if (!fields.ok()) return fields.error();
    const JsonFields& f = fields.value();
    LinkReply reply = cabinet_.link_account(x.session->user.id, f.get("office"), f.get("account"),
                                            f.get("surname"), f.get("amount"), x.ctx);
    if (!reply.ok()) return reply_problem(x, reply);
    if (!reply.linked) return json(x, 201, {{"ok", true}});
    return json(x, 201, {{"account", account_json(*reply.linked)}});
}

// 204 on success; someone else's link id is 404 like a missing one.
HttpResponse Portal::api_unlink(Exchange& x) {
    if (auto refused = api_session(x, true)) return *refused;
    Reply reply = cabinet_.unlink(x.session->user.id, x.id, x.ctx);
    if (!reply.ok()) return reply_problem(x, reply);
    return json(x, 204, nullptr);
}

HttpResponse Portal::api_forgot(Exchange& x) {
    auto fields = api_fields(x, {"email"});
    if (!fields.ok()) return fields.error();
    const JsonFields& f = fields.value();
    Reply reply = cabinet_.forgot_password(f.get("email"), x.ctx);
    if (!reply.ok()) return reply_problem(x, reply);
    return json(x, 202, {{"ok", true}});
}

HttpResponse Portal::api_reset(Exchange& x) {
    auto fields = api_fields(x, {"token", "password", "password_confirm"});
    if (!fields.ok()) return fields.error();
    const JsonFields& f = fields.value();
    Reply reply = cabinet_.reset_password(f.get("token"), f.get("password"),
                                          f.get("password_confirm"), x.ctx);
    if (!reply.ok()) return reply_problem(x, reply);
    if (!x.session_cookie.empty()) x.set_cookies = {clear_session_cookie()};
    x.session.reset();
    return json(x, 200, {{"ok", true}});
}

}  // namespace lkk::web
