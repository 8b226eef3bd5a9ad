// The extern "C" side of the nginx glue (lkk/capi.h). Every entry point is noexcept with a
// catch (...) inside: an exception unwinding through nginx's C frames would kill the worker,
// so the worst a bug here may cause is a 500 page or a logged error.
#include "lkk/capi.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "lkk/app.h"
#include "lkk/clock.h"
#include "lkk/crypto.h"
#include "lkk/log.h"
#include "lkk/mailer.h"
#include "lkk/metrics.h"
#include "lkk/settings.h"

struct lkk_app {
    std::unique_ptr<lkk::Application> application;
};

struct lkk_response {
    lkk::HttpResponse response;
};

namespace {

// Copies a message into a caller's C buffer, always NUL-terminated, truncated to fit.
void copy_message(const std::string& message, char* out, size_t out_len) noexcept {
    if (out == nullptr || out_len == 0) {
        return;
    }
    const size_t n = std::min(message.size(), out_len - 1);
    std::memcpy(out, message.data(), n);
    out[n] = '\0';
}

std::string to_string(lkk_str s) {
    if (s.data == nullptr || s.len == 0) {
        return {};
    }
    return {s.data, s.len};
}

lkk_str view(const std::string& s) noexcept {
    return lkk_str{s.data(), s.size()};
}

lkk::HttpRequest http_request(const lkk_request& request) {
    lkk::HttpRequest http;
    const std::pair<std::string*, lkk_str> fields[] = {
        {&http.method, request.method},
        {&http.path, request.path},
        {&http.query, request.query},
        {&http.cookie, request.cookie},
        {&http.content_type, request.content_type},
        {&http.origin, request.origin},
        {&http.host, request.host},
        {&http.user_agent, request.user_agent},
        {&http.accept_language, request.accept_language},
        {&http.remote_addr, request.remote_addr},
        {&http.csrf_token, request.csrf_token},
        {&http.body, request.body}};
    for (const auto& [to, from] : fields) *to = to_string(from);
    http.body_too_large = request.body_too_large != 0;
    return http;
}

// The answer when even building the request failed (out of memory, a bug in the copy):
// still a valid HTTP response, so the glue has one path for everything.
lkk_response* internal_error_response() noexcept {
    try {
        auto* r = new lkk_response{};
        r->response.status = 500;
        r->response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
        r->response.body = "Internal error\n";
        return r;
    } catch (...) {
        return nullptr;
    }
}

}  // namespace

extern "C" {

// The log levels of capi.h are lkk::LogLevel's values; the core calls the glue's function as is.
static_assert(LKK_LOG_ERR == static_cast<int>(lkk::LogLevel::error));
static_assert(LKK_LOG_WARN == static_cast<int>(lkk::LogLevel::warn));
static_assert(LKK_LOG_NOTICE == static_cast<int>(lkk::LogLevel::notice));
static_assert(LKK_LOG_INFO == static_cast<int>(lkk::LogLevel::info));
static_assert(LKK_LOG_DEBUG == static_cast<int>(lkk::LogLevel::debug));

void lkk_set_logger(lkk_log_fn fn, void* ctx) noexcept {
    lkk::set_log_sink(fn, ctx);
}

void lkk_global_init(void) noexcept {
    // libcurl's global init is not thread-safe and must happen before any pool thread runs;
    // called in nginx's master, the once-flag is inherited by every forked worker.
    try {
        lkk::mail_global_init();
    } catch (...) {
        // std::call_once may throw std::system_error; libcurl then initialises lazily.
    }
    // Mapped before the fork, so every worker takes its turns in the same slots (unless the
    // glue gave its own memory with lkk_hash_slots_init).
    lkk::crypto::share_hash_slots();
}

size_t lkk_hash_slots_size(void) noexcept {
    return lkk::crypto::hash_slots_size();
}

int lkk_hash_slots_init(void* mem, size_t size) noexcept {
    return lkk::crypto::share_hash_slots(mem, size) ? 0 : -1;
}

size_t lkk_max_body_bytes(void) noexcept {
    return lkk::kMaxBodyBytes;
}

int lkk_settings_check(const char* path, char* err, size_t errlen) noexcept {
    try {
        if (path == nullptr) {
            copy_message("no settings file given", err, errlen);
            return 1;
        }
        auto settings = lkk::load_settings_file(path);
        if (!settings.ok()) {
            copy_message(settings.error().to_string(), err, errlen);
            return 1;
        }
        copy_message("", err, errlen);
        return 0;
    } catch (const std::exception& e) {
        copy_message(std::string("cannot check settings: ") + e.what(), err, errlen);
    } catch (...) {
        copy_message("cannot check settings: unknown error", err, errlen);
    }
    return 1;
}

lkk_app* lkk_app_create(const char* settings_path, char* err, size_t errlen) noexcept {
    try {
        if (settings_path == nullptr) {
            copy_message("no settings file given (lkk_config)", err, errlen);
            return nullptr;
        }
        auto settings = lkk::load_settings_file(settings_path);
        if (!settings.ok()) {
            copy_message(settings.error().to_string(), err, errlen);
            return nullptr;
        }
        auto application = lkk::create_application(settings.value());
        if (!application.ok()) {
            copy_message(application.error().message(), err, errlen);
            return nullptr;
        }
        auto app = std::make_unique<lkk_app>();
        app->application = std::move(application.value());
        copy_message("", err, errlen);
        return app.release();
    } catch (const std::exception& e) {
        copy_message(std::string("cannot start the portal: ") + e.what(), err, errlen);
    } catch (...) {
        copy_message("cannot start the portal: unknown error", err, errlen);
    }
    return nullptr;
}

void lkk_app_destroy(lkk_app* app) noexcept {
    try {
        delete app;
    } catch (...) {
        // A destructor that throws has already lost; the worker is exiting anyway.
    }
}

long lkk_mail_poll_interval_ms(const lkk_app* app) noexcept {
    constexpr long kDefaultMs = 5000;
    constexpr long kMinimumMs = 100;
    if (app == nullptr || !app->application) {
        return kDefaultMs;
    }
    try {
        const int64_t seconds = app->application->settings().mail.poll_interval;
        if (seconds <= 0) {
            return kMinimumMs;
        }
        // Clamp to a day so the multiplication cannot overflow a long.
        return static_cast<long>(std::min<int64_t>(seconds, 86400) * 1000);
    } catch (...) {
        return kDefaultMs;
    }
}

lkk_response* lkk_app_handle(lkk_app* app, const lkk_request* request) noexcept {
    if (app == nullptr || !app->application || request == nullptr) {
        return internal_error_response();
    }
    try {
        auto response = std::make_unique<lkk_response>();
        response->response = app->application->handle(http_request(*request));
        return response.release();
    } catch (...) {
        return internal_error_response();
    }
}

lkk_response* lkk_app_handle_inline(lkk_app* app, const lkk_request* request) noexcept {
    if (app == nullptr || !app->application || request == nullptr) {
        return nullptr;
    }
    try {
        // Allocated first: once answered (and counted), the answer must not get lost.
        auto response = std::make_unique<lkk_response>();
        auto answer = app->application->handle_inline(http_request(*request));
        if (!answer) {
            return nullptr;
        }
        response->response = std::move(*answer);
        return response.release();
    } catch (...) {
        return nullptr;  // the pool answers instead
    }
}

lkk_response* lkk_unavailable_response(void) noexcept {
    lkk::metrics::count_request(lkk::metrics::Route::unavailable, 503, 0);
    try {
        auto r = std::make_unique<lkk_response>();
        r->response.status = 503;
        r->response.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
        r->response.headers.emplace_back("Retry-After", "30");
        r->response.headers.emplace_back("Cache-Control", "no-store");
        r->response.body =
            "<!DOCTYPE html>\n"
            "<html lang=\"ru\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>Личный кабинет временно недоступен</title></head>\n"
            "<body><h1>Личный кабинет временно недоступен</h1>\n"
            "<p>Пожалуйста, попробуйте через несколько минут.</p>\n"
            "<p lang=\"en\">The portal is temporarily unavailable. "
            "Please try again in a few minutes.</p>\n"
            "</body></html>\n";
        return r.release();
    } catch (...) {
        return nullptr;
    }
}

int lkk_app_deliver_mail(lkk_app* app) noexcept {
    if (app == nullptr || !app->application) {
        return -1;
    }
    try {
        return app->application->deliver_mail();
    } catch (...) {
        return -1;
    }
}

size_t lkk_metrics_block_size(void) noexcept {
    return sizeof(lkk::metrics::MetricsBlock);
}

int lkk_metrics_init(void* mem, size_t size) noexcept {
    return lkk::metrics::init(mem, size) ? 0 : -1;
}

void lkk_metrics_attach(void* mem) noexcept {
    lkk::metrics::attach(static_cast<lkk::metrics::MetricsBlock*>(mem));
}

lkk_response* lkk_metrics_response(void) noexcept {
    try {
        static const lkk::metrics::MetricsBlock kNothingCounted{};
        const lkk::metrics::MetricsBlock* block = lkk::metrics::attached();
        auto r = std::make_unique<lkk_response>();
        r->response.status = 200;
        r->response.headers.emplace_back("Content-Type", lkk::metrics::kContentType);
        r->response.headers.emplace_back("Cache-Control", "no-store");
        r->response.body = lkk::metrics::exposition(block != nullptr ? *block : kNothingCounted,
                                                    lkk::system_clock().now());
        return r.release();
    } catch (...) {
        return nullptr;
    }
}

void lkk_metrics_pool_queue(int delta) noexcept {
    lkk::metrics::add_pool_queue(delta);
}

void lkk_app_refresh_metrics(lkk_app* app) noexcept {
    if (app == nullptr || !app->application || lkk::metrics::attached() == nullptr) return;
    try {
        app->application->refresh_metrics();
    } catch (...) {
        // refresh_metrics() is noexcept; this only keeps the promise of this boundary.
    }
}

int lkk_response_status(const lkk_response* response) noexcept {
    return response != nullptr ? response->response.status : 500;
}

lkk_str lkk_response_body(const lkk_response* response) noexcept {
    if (response == nullptr) {
        return lkk_str{nullptr, 0};
    }
    return view(response->response.body);
}

size_t lkk_response_header_count(const lkk_response* response) noexcept {
    return response != nullptr ? response->response.headers.size() : 0;
}

void lkk_response_header(const lkk_response* response, size_t i, lkk_str* name,
                         lkk_str* value) noexcept {
    lkk_str empty{nullptr, 0};
    if (response == nullptr || i >= response->response.headers.size()) {
        if (name != nullptr) {
            *name = empty;
        }
        if (value != nullptr) {
            *value = empty;
        }
        return;
    }
    const auto& header = response->response.headers[i];
    if (name != nullptr) {
        *name = view(header.first);
    }
    if (value != nullptr) {
        *value = view(header.second);
    }
}

void lkk_response_free(lkk_response* response) noexcept {
    try {
        delete response;
    } catch (...) {
        // Nothing sensible to do: the memory is lost, the worker goes on.
    }
}

}  // extern "C"
