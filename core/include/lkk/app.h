// The server-agnostic application: an HTTP request in, an HTTP response out.
// It knows nothing of nginx; the module (or a test) fills an HttpRequest and sends the
// HttpResponse. handle() is thread-safe and blocking (database, Argon2): the nginx glue
// calls it from its thread pool only. handle_inline() never blocks: the glue calls it on its
// event loop first, for the requests that need no backend.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lkk/clock.h"
#include "lkk/settings.h"
#include "lkk/status.h"

namespace lkk {

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string path;    // raw path without the query, e.g. "/lkk/accounts/5/unlink"
    std::string query;   // raw query string without '?'
    std::string cookie;  // raw Cookie header(s), joined with "; "
    std::string content_type;
    std::string origin;  // Origin header, empty when absent
    std::string host;    // Host header
    std::string user_agent;
    std::string accept_language;
    std::string remote_addr;
    std::string csrf_token;  // X-CSRF-Token header (JSON API calls of a logged-in session)
    std::string body;
    bool body_too_large = false;  // the glue refused to read a body over the limit
};

struct HttpResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;  // incl. Content-Type
    std::string body;
};

// Largest request body accepted (SPEC 4): bigger ones are 413.
inline constexpr size_t kMaxBodyBytes = 16 * 1024;

class Application {
  public:
    virtual ~Application() = default;
    // Never throws: any failure becomes a 4xx/5xx page.
    virtual HttpResponse handle(const HttpRequest& request) noexcept = 0;
    // The answer to a request that needs no backend (no database, session store, mail, Argon2
    // or lock held for long), so that the caller can give it without a thread hop; nullopt when
    // the request must go to handle() in the pool. Which requests qualify: app_inline.cpp.
    // The answer is handle()'s (status, headers, body), counted in the metrics the same way.
    // Never blocks, never throws; thread-safe.
    virtual std::optional<HttpResponse> handle_inline(const HttpRequest& request) noexcept = 0;
    // One round of outbox delivery (claims due mails and sends them). Blocking; run it in
    // the thread pool from a timer. Answers how many mails were sent.
    virtual int deliver_mail() noexcept = 0;
    // Refreshes the metrics that need a backend (lkk_outbox_pending, the oldest mail's age,
    // lkk_backend_up): the module's timer runs it in the thread pool after each delivery
    // round, so a scrape never waits for a backend. Blocking; never throws.
    virtual void refresh_metrics() noexcept = 0;
    virtual const Settings& settings() const = 0;
};

// Opens storage, session store and mailer from settings. Fails with a human message
// (e.g. "schema is behind: run lkk-admin migrate"). Tests pass a ManualClock.
Result<std::unique_ptr<Application>> create_application(const Settings& settings,
                                                        Clock& clock = system_clock());

}  // namespace lkk
