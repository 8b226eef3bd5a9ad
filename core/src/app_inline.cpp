// The requests the event loop answers itself, without the thread-pool hop (issue 11): those that
// need no backend. Decided here, before anything runs; answered by the same routes as handle(),
// through the same Portal::answer (the same metrics), so the bytes are the same as from the pool.
//
// Nothing here may block: no database, no session store, no mail, no Argon2, no lock held for
// long. What qualifies:
// - everything dispatch() answers before it looks at cookies, except a /healthz whose memo is
//   stale: the base path's redirect, the 404 outside the base path, the stylesheet;
// - /healthz from the last real check while it is younger than a second (lkk/health.h);
// - the GET pages below for a visitor who sends no session cookie. With one, dispatch_html()
//   must look the session up first (a logged-in person sees their e-mail in the menu, the start
//   page redirects them): that is the pool's.
#include <algorithm>
#include <array>
#include <string_view>

#include "app_internal.h"

namespace lkk::web {

namespace {

// GET routes whose handler, for a visitor without a session, renders a template from the
// settings and asks nothing of a backend: the start page (the login form), /login's redirect
// to it, the registration, resend and forgotten-password forms, help and the consent document.
// (The anonymous CSRF token of their forms comes from OpenSSL's RNG, which does not block.)
constexpr std::array<std::string_view, 7> kPagesWithoutBackend = {
    "/", "/login", "/register", "/confirm/resend", "/password/forgot", "/help", "/consent"};

enum class Where { pool, here, health_memo };

// Mirrors the decisions of Portal::dispatch() and dispatch_html() up to the route's handler.
Where where(const HttpRequest& request, std::string_view base) {
    if (request.method != "GET" && request.method != "HEAD") return Where::pool;
    const std::string_view path = request.path;
    if (!base.empty() && path == base) return Where::here;  // the redirect to base + "/"
    if (path.size() < base.size() + 1 || path.substr(0, base.size()) != base ||
        path[base.size()] != '/') {
        return Where::here;  // 404
    }
    const std::string_view route = path.substr(base.size());
    if (route == "/lkk.css") return Where::here;
    if (route == "/healthz") return Where::health_memo;
    if (std::find(kPagesWithoutBackend.begin(), kPagesWithoutBackend.end(), route) ==
        kPagesWithoutBackend.end()) {
        return Where::pool;
    }
    if (auto cookies = http::parse_cookies(request.cookie); cookies.ok()) {
        auto it = cookies->find(std::string(kSessionCookie));
        if (it != cookies->end() && !it->second.empty()) return Where::pool;
    }
    return Where::here;
}

}  // namespace

std::optional<HttpResponse> Portal::handle_inline(const HttpRequest& request) noexcept {
    std::optional<Health> health;
    try {
        switch (where(request, base_)) {
            case Where::pool:
                return std::nullopt;
            case Where::health_memo:
                health = health_.fresh();
                if (!health) return std::nullopt;  // the pool checks afresh and remembers it
                break;
            case Where::here:
                break;
        }
    } catch (...) {
        return std::nullopt;  // out of memory while deciding: the pool will say
    }
    // The memo read above is the answer, even if it turns a second old meanwhile: pinging here
    // would block the event loop.
    return answer(request, [this, &health](Exchange& x) {
        if (!health) return dispatch(x);
        x.metric = metrics::Route::health;
        return health_response(*health);
    });
}

}  // namespace lkk::web
