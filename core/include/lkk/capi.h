/* The narrow C boundary between the nginx glue (module/, plain C) and the C++ core.
 *
 * Only opaque handles and plain types cross it (the ModSecurity habit), and no exception
 * ever does: every function catches everything inside, because an exception unwinding
 * through an nginx C frame kills the worker. Strings are (pointer, length) pairs and are
 * never assumed to be NUL-terminated, since nginx's ngx_str_t are not.
 *
 * Threading: lkk_app_handle(), lkk_app_deliver_mail() and lkk_app_refresh_metrics() block
 * (database, Argon2, SMTP) and are called from nginx's thread pool only; they are safe to call from
 * several threads at once. The other functions, lkk_app_handle_inline() among them, never block:
 * they run on the event loop or at configuration time. */
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

/* Once in the server's parent while it is still single-threaded, before it forks the workers
 * (libcurl, OpenSSL, and the password-hashing slots every worker shares: one per CPU for the
 * whole server). Idempotent. */
void lkk_global_init(void) LKK_NOEXCEPT;

/* A glue whose module is unloaded between configuration reads (Apache) keeps the hash slots in
 * shared memory it owns for the server's life, and gives it here on every read before
 * lkk_global_init: the slots an earlier read made are found again, so the children of the old
 * generation still hashing after a graceful restart and the new ones share the same slots (and
 * no read maps memory that is never freed). New memory must be zeros, aligned to 8 bytes.
 * Answers 0, or -1 (nothing changed) when mem is NULL, smaller than lkk_hash_slots_size(),
 * misaligned, or holds anything else, such as another build's slots: give fresh memory then.
 * nginx keeps the module loaded and need not call it: lkk_global_init maps the slots itself. */
size_t lkk_hash_slots_size(void) LKK_NOEXCEPT;
int lkk_hash_slots_init(void* mem, size_t size) LKK_NOEXCEPT;

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

/* Event-loop safe: the answer to a request that needs no backend, given at once so that it skips
 * the thread-pool hop: the stylesheet; for a visitor without a session cookie the start page,
 * help, consent and the other pages that read nothing stored; /healthz from a check younger
 * than a second. It never blocks: no database, session store, SMTP, Argon2 or lock held for long.
 * NULL: the request needs the pool; hand the same request to lkk_app_handle() there (NULL also for
 * a NULL app or request, and when memory ran out). The answer is lkk_app_handle()'s (status,
 * headers, body), counted in the metrics the same way; freed with lkk_response_free(). */
lkk_response* lkk_app_handle_inline(lkk_app* app, const lkk_request* request) LKK_NOEXCEPT;

/* The plain 503 page of a server whose application could not start (or is overloaded), with
 * Retry-After and Cache-Control: no-store; needs no application. NULL only when memory ran out.
 * Freed with lkk_response_free() like any other response. Counted in the metrics as
 * lkk_requests_total{route="unavailable",status="503"}. */
lkk_response* lkk_unavailable_response(void) LKK_NOEXCEPT;

/* Pool thread only: one outbox round. Answers the number of mails sent, or -1. */
int lkk_app_deliver_mail(lkk_app* app) LKK_NOEXCEPT;

/* ---- Metrics (SPEC 13; lkk/metrics.h) ----
 * The counters live in one block of lock-free atomics that the glue places in shared memory
 * before it forks (nginx: a shared zone, Apache: APR shared memory), so that every worker counts
 * into the same numbers and a scrape answered by any worker covers them all. */

/* Bytes the block needs; the memory must be aligned to 8 bytes (a page is). */
size_t lkk_metrics_block_size(void) LKK_NOEXCEPT;

/* Master/parent, before the fork: makes size bytes at mem the block. A block of this build's
 * layout already there (a zone kept across `nginx -s reload`) keeps its counts; anything else
 * starts from zero. Answers 0, or -1 when mem is NULL, too small or misaligned. */
int lkk_metrics_init(void* mem, size_t size) LKK_NOEXCEPT;

/* Per worker/child, before it serves: the block this process counts into (initialized with
 * lkk_metrics_init). NULL: this process counts nothing (no metrics location configured). */
void lkk_metrics_attach(void* mem) LKK_NOEXCEPT;

/* The scrape: 200 with the Prometheus text format of the attached block (a block of zeros when
 * none is attached). Reads atomics only, so it may run on the event loop. NULL only when memory
 * ran out. Freed with lkk_response_free(). */
lkk_response* lkk_metrics_response(void) LKK_NOEXCEPT;

/* The request hand-off: +1 when a request is queued for the thread pool, -1 when a thread takes
 * it (or the post failed); lkk_pool_queue is the sum over every worker. Any thread. */
void lkk_metrics_pool_queue(int delta) LKK_NOEXCEPT;

/* Pool thread, from the module's timer: refreshes the gauges that need a backend (outbox depth
 * and age, lkk_backend_up). Nothing to do, and no query, when no block is attached. */
void lkk_app_refresh_metrics(lkk_app* app) LKK_NOEXCEPT;

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
