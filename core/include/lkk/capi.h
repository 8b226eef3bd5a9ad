/* The narrow C boundary between the nginx glue (module/, plain C) and the C++ core.
 *
 * Only opaque handles and plain types cross it (the ModSecurity habit), and no exception
 * ever does: every function catches everything inside, because an exception unwinding
 * through an nginx C frame kills the worker. Strings are (pointer, length) pairs and are
 * never assumed to be NUL-terminated, since nginx's ngx_str_t are not.
 *
 * Threading: lkk_app_handle() and lkk_app_deliver_mail() block (database, Argon2, SMTP) and
 * are called from nginx's thread pool only; they are safe to call from several threads at
 * once. The other functions run on the event loop or at configuration time. */
#ifndef LKK_CAPI_H
#define LKK_CAPI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
#define LKK_NOEXCEPT noexcept
#else
#define LKK_NOEXCEPT
#endif

typedef struct lkk_app lkk_app;
typedef struct lkk_response lkk_response;

typedef struct lkk_str {
    const char* data;
    size_t len;
} lkk_str;

/* One HTTP request, copied out of nginx before it is handed to a pool thread. */
typedef struct lkk_request {
    lkk_str method;
    lkk_str path;   /* raw path without the query */
    lkk_str query;  /* raw query without '?' */
    lkk_str cookie; /* every Cookie header, joined with "; " */
    lkk_str content_type;
    lkk_str origin;
    lkk_str host;
    lkk_str user_agent;
    lkk_str accept_language;
    lkk_str remote_addr;
    lkk_str csrf_token; /* X-CSRF-Token header */
    lkk_str body;
    int body_too_large; /* the glue refused to read a body over lkk_max_body_bytes() */
} lkk_request;

/* Log levels (syslog numbering); the glue maps them to its server's levels. */
enum { LKK_LOG_ERR = 3, LKK_LOG_WARN = 4, LKK_LOG_NOTICE = 5, LKK_LOG_INFO = 6, LKK_LOG_DEBUG = 7 };
typedef void (*lkk_log_fn)(void* ctx, int level, const char* msg, size_t len);
/* Process-wide; may be called from any thread; NULL restores stderr. */
void lkk_set_logger(lkk_log_fn fn, void* ctx) LKK_NOEXCEPT;

/* Once per process while it is still single-threaded (libcurl, OpenSSL). Idempotent. */
void lkk_global_init(void) LKK_NOEXCEPT;

/* Largest request body the application accepts; the glue does not read bigger ones. */
size_t lkk_max_body_bytes(void) LKK_NOEXCEPT;

/* Parses and validates the settings file for `nginx -t` without opening anything.
 * Answers 0 when it is fine; otherwise 1 and "FILE:LINE:COLUMN: message" in err
 * (always NUL-terminated, truncated to errlen). */
int lkk_settings_check(const char* path, char* err, size_t errlen) LKK_NOEXCEPT;

/* Loads the settings and creates the application (per worker process, after fork).
 * NULL on failure with a human message in err ("schema is behind: run lkk-admin migrate"). */
lkk_app* lkk_app_create(const char* settings_path, char* err, size_t errlen) LKK_NOEXCEPT;
void lkk_app_destroy(lkk_app* app) LKK_NOEXCEPT;

/* Seconds-based [mail] poll_interval, in milliseconds (at least 100). */
long lkk_mail_poll_interval_ms(const lkk_app* app) LKK_NOEXCEPT;

/* Pool thread only. Never NULL unless memory ran out; a failure inside is a 5xx response. */
lkk_response* lkk_app_handle(lkk_app* app, const lkk_request* request) LKK_NOEXCEPT;

/* The plain 503 page of a server whose application could not start (or is overloaded), with
 * Retry-After and Cache-Control: no-store; needs no application. NULL only when memory ran out.
 * Freed with lkk_response_free() like any other response. */
lkk_response* lkk_unavailable_response(void) LKK_NOEXCEPT;

/* Pool thread only: one outbox round. Answers the number of mails sent, or -1. */
int lkk_app_deliver_mail(lkk_app* app) LKK_NOEXCEPT;

/* The response's memory lives until lkk_response_free(). */
int lkk_response_status(const lkk_response* response) LKK_NOEXCEPT;
lkk_str lkk_response_body(const lkk_response* response) LKK_NOEXCEPT;
size_t lkk_response_header_count(const lkk_response* response) LKK_NOEXCEPT;
void lkk_response_header(const lkk_response* response, size_t i, lkk_str* name,
                         lkk_str* value) LKK_NOEXCEPT;
void lkk_response_free(lkk_response* response) LKK_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* LKK_CAPI_H */
