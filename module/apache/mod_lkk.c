/*
 * mod_lkk: the Apache httpd 2.4 glue of the lkk subscriber portal.
 *
 * Only glue lives here: the directive, the copy of a request into plain bytes, and the
 * response on the way back. The portal itself is the C++ core behind lkk/capi.h, which knows
 * nothing of Apache (the nginx glue in module/nginx/ is the same thing for nginx).
 *
 *   LkkConfig FILE      server config   the settings file (TOML); `apache2 -t` validates it
 *   SetHandler lkk      <Location>      the portal answers there
 *   SetHandler lkk-metrics  <Location>  Prometheus metrics of every child (SPEC 13); protect it
 *                                       with `Require ip ...`
 *
 * Apache calls a handler on one of its own threads (mpm_event, mpm_worker) or in a process of
 * its own (mpm_prefork), where blocking is fine: the request is handled right in the handler.
 * Per child process (child_init, never in the parent: connections must not cross fork) the
 * application is created, and one APR thread delivers the outbox every [mail] poll_interval,
 * or retries the start every 5 s when it failed. A pre-cleanup of the child's pool stops and
 * joins that thread and destroys the application when the child exits.
 *
 * The metrics live in anonymous APR shared memory that the parent creates in post_config,
 * before it forks: every child counts into the same block. The block is kept in the process
 * pool, which outlives configuration reads and graceful restarts, so the counts do too. The
 * Argon2 hash slots that all children share are kept the same way, so that after a graceful
 * restart the old children still hashing and the new ones take turns in the same slots.
 */

/* httpd.h first: the other headers use its types */
#include "httpd.h"

#include "ap_mpm.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "apr_atomic.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"
#include "apr_time.h"

#include <string.h>

#include <lkk/capi.h>

APLOG_USE_MODULE(lkk);

/* Delay before retrying a failed application start (database down at boot). */
#define LKK_RETRY_MS 5000

#define LKK_ERRLEN 1024

/* The settings file of LkkConfig (absolute, from pconf); reset before every configuration
 * read, since Apache reads its configuration twice and again on every restart. */
static const char* lkk_settings_file;

/* Per child process: the application and the delivery thread. */
typedef struct {
    server_rec* server;
    const char* settings_file;
    volatile void* app;              /* lkk_app *, published with apr_atomic_casptr() */
    volatile apr_uint32_t in_flight; /* requests inside lkk_app_handle() */
    apr_thread_t* thread;
    apr_thread_mutex_t* mutex;
    apr_thread_cond_t* cond;
    int stopping; /* under mutex */
} lkk_child_t;

static lkk_child_t* lkk_child;

/* The metrics block of this configuration (NULL: none, the handler shows zeros). */
static void* lkk_metrics_mem;

#define LKK_METRICS_KEY "lkk_metrics_shm"
#define LKK_HASH_SLOTS_KEY "lkk_hash_slots_shm"

/* ------------------------------------------------------------------------------------------
 * Configuration
 */

/* LkkConfig FILE: the settings are parsed right here so that `apache2 -t` names the line of a
 * mistake, instead of a child failing later. */
static const char* lkk_cmd_config(cmd_parms* cmd, void* dummy, const char* arg) {
    char err[LKK_ERRLEN];
    const char* path;
    const char* bad;

    (void)dummy;

    bad = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (bad != NULL) {
        return bad;
    }

    if (lkk_settings_file != NULL) {
        return "LkkConfig is duplicate";
    }

    path = ap_server_root_relative(cmd->pool, arg);
    if (path == NULL) {
        return apr_pstrcat(cmd->pool, "LkkConfig: invalid path ", arg, NULL);
    }

    if (lkk_settings_check(path, err, sizeof(err)) != 0) {
        return apr_pstrcat(cmd->pool, "invalid lkk settings: ", err, NULL);
    }

    lkk_settings_file = path;
    return NULL;
}

static const command_rec lkk_cmds[] = {
    AP_INIT_TAKE1("LkkConfig", lkk_cmd_config, NULL, RSRC_CONF,
                  "the lkk settings file (TOML); `SetHandler lkk` serves the portal"),
    {0}};

static int lkk_pre_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp) {
    (void)pconf;
    (void)plog;
    (void)ptemp;
    lkk_settings_file = NULL;
    return OK;
}

/* Shared memory of the Apache parent for its whole life: made at the first configuration read
 * and found again in the process pool at every later one (the module itself is unloaded and
 * loaded in between, so it cannot keep a pointer). fill() makes the memory what this build
 * wants; when it refuses what an earlier read left (another build's layout), a fresh block
 * replaces it. NULL: no memory (logged as what_is_lost). */
static void* lkk_parent_shm(server_rec* s, const char* key, apr_size_t size,
                            int (*fill)(void* mem, size_t size), const char* what_is_lost) {
    apr_pool_t* pool = s->process->pool;
    apr_shm_t* shm;
    apr_status_t rv;
    void* data = NULL;

    apr_pool_userdata_get(&data, key, pool);
    shm = data;
    if (shm != NULL && apr_shm_size_get(shm) >= size &&
        fill(apr_shm_baseaddr_get(shm), apr_shm_size_get(shm)) == 0) {
        return apr_shm_baseaddr_get(shm);
    }
    rv = apr_shm_create(&shm, size, NULL, pool);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "lkk: no shared memory: %s", what_is_lost);
        return NULL;
    }
    apr_pool_userdata_set(shm, key, apr_pool_cleanup_null, pool);
    if (fill(apr_shm_baseaddr_get(shm), apr_shm_size_get(shm)) != 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "lkk: cannot set up shared memory: %s",
                     what_is_lost);
        return NULL;
    }
    return apr_shm_baseaddr_get(shm);
}

/* libcurl and OpenSSL want their global init while the process has a single thread: the
 * parent, before it forks the children (idempotent; post_config runs on every read); the
 * password-hashing slots that all children share are mapped there too. */
static int lkk_post_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp, server_rec* s) {
    (void)pconf;
    (void)plog;
    (void)ptemp;
    if (lkk_settings_file != NULL) {
        /* Before lkk_global_init, which would otherwise map slots of its own. */
        lkk_parent_shm(s, LKK_HASH_SLOTS_KEY, lkk_hash_slots_size(), lkk_hash_slots_init,
                       "each configuration read hashes in slots of its own");
        lkk_global_init();
        lkk_metrics_mem = lkk_parent_shm(s, LKK_METRICS_KEY, lkk_metrics_block_size(),
                                         lkk_metrics_init, "lkk-metrics shows zeros");
    }
    return OK;
}

/* ------------------------------------------------------------------------------------------
 * Child process life
 */

static lkk_app* lkk_current_app(lkk_child_t* c) {
    return (lkk_app*)apr_atomic_casptr(&c->app, NULL, NULL);
}

/* One wait of the delivery thread: until ms have passed or the child is stopping.
 * Called and returns with the mutex held; answers non-zero when stopping. */
static int lkk_wait(lkk_child_t* c, long ms) {
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(ms);
    apr_time_t now;

    while (!c->stopping && (now = apr_time_now()) < deadline) {
        apr_thread_cond_timedwait(c->cond, c->mutex, deadline - now);
    }
    return c->stopping;
}

/* The delivery thread: one outbox round every [mail] poll_interval; while the application
 * could not start, a new attempt every LKK_RETRY_MS (logging only when the reason changes). */
static void* APR_THREAD_FUNC lkk_mail_loop(apr_thread_t* thread, void* data) {
    lkk_child_t* c = data;
    lkk_app* app;
    int sent;
    unsigned long failures = 0;
    char err[LKK_ERRLEN];
    char last_err[LKK_ERRLEN] = "";

    apr_thread_mutex_lock(c->mutex);
    for (;;) {
        app = lkk_current_app(c);
        if (lkk_wait(c, app != NULL ? lkk_mail_poll_interval_ms(app) : LKK_RETRY_MS)) {
            break;
        }
        apr_thread_mutex_unlock(c->mutex);

        if (app != NULL) {
            sent = lkk_app_deliver_mail(app);
            if (sent > 0) {
                ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, c->server, "lkk: %d mails delivered",
                             sent);
            }
            /* the outbox and backend gauges, here rather than on a scrape */
            lkk_app_refresh_metrics(app);
        } else {
            app = lkk_app_create(c->settings_file, err, sizeof(err));
            if (app != NULL) {
                apr_atomic_casptr(&c->app, app, NULL);
                ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, c->server,
                             "lkk: the portal started at attempt %lu", failures + 2);
                failures = 0;
            } else {
                failures++;
                if (strcmp(err, last_err) != 0) {
                    ap_log_error(APLOG_MARK, APLOG_ERR, 0, c->server,
                                 "lkk: the portal still cannot start: %s", err);
                    apr_cpystrn(last_err, err, sizeof(last_err));
                }
            }
        }

        apr_thread_mutex_lock(c->mutex);
    }
    apr_thread_mutex_unlock(c->mutex);

    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

/* A pre-cleanup of the child's pool, so it runs before APR destroys the thread's sub-pool:
 * stop and join the delivery thread, then destroy the application. The MPM has joined its
 * worker threads by then; prefork may instead run this from a signal handler in the middle
 * of a request, and then the application is left to the exiting process. */
static apr_status_t lkk_child_exit(void* data) {
    lkk_child_t* c = data;
    apr_status_t rv;
    lkk_app* app;

    if (c->thread != NULL) {
        apr_thread_mutex_lock(c->mutex);
        c->stopping = 1;
        apr_thread_cond_broadcast(c->cond);
        apr_thread_mutex_unlock(c->mutex);
        apr_thread_join(&rv, c->thread);
        c->thread = NULL;
    }

    app = (lkk_app*)apr_atomic_xchgptr(&c->app, NULL);
    if (apr_atomic_read32(&c->in_flight) == 0) {
        if (app != NULL) {
            lkk_app_destroy(app);
        }
        lkk_set_logger(NULL, NULL);
    }

    lkk_child = NULL;
    return APR_SUCCESS;
}

/* The core's logger (capi.h): its syslog levels are Apache's, on the child's server log.
 * Called from request threads and the delivery thread alike, as ap_log_error() may be. */
static void lkk_log(void* ctx, int level, const char* msg, size_t len) {
    const server_rec* s = ctx;

    switch (level) {
        case LKK_LOG_WARN:
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "lkk: %.*s", (int)len, msg);
            break;
        case LKK_LOG_NOTICE:
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "lkk: %.*s", (int)len, msg);
            break;
        case LKK_LOG_INFO:
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "lkk: %.*s", (int)len, msg);
            break;
        case LKK_LOG_DEBUG:
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "lkk: %.*s", (int)len, msg);
            break;
        default:
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "lkk: %.*s", (int)len, msg);
    }
}

static void lkk_child_init(apr_pool_t* pchild, server_rec* s) {
    lkk_child_t* c;
    apr_status_t rv;
    char err[LKK_ERRLEN];

    /* mapped by the parent before the fork: the same counters in every child */
    lkk_metrics_attach(lkk_metrics_mem);

    if (lkk_settings_file == NULL) {
        return;
    }

    c = apr_pcalloc(pchild, sizeof(*c));
    c->server = s;
    c->settings_file = lkk_settings_file;

    lkk_set_logger(lkk_log, s);

    c->app = lkk_app_create(c->settings_file, err, sizeof(err));
    if (c->app == NULL) {
        /* the child stays up and answers 503; the delivery thread retries the start */
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "lkk: the portal cannot start: %s (answering 503, retrying every %d s)", err,
                     LKK_RETRY_MS / 1000);
    }

    lkk_child = c;
    apr_pool_pre_cleanup_register(pchild, c, lkk_child_exit);

    rv = apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, pchild);
    if (rv == APR_SUCCESS) {
        rv = apr_thread_cond_create(&c->cond, pchild);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_thread_create(&c->thread, NULL, lkk_mail_loop, c, pchild);
    }
    if (rv != APR_SUCCESS) {
        c->thread = NULL;
        ap_log_error(APLOG_MARK, APLOG_ALERT, rv, s,
                     "lkk: cannot start the mail delivery thread: no mail goes out "
                     "from this process");
    }
}

/* ------------------------------------------------------------------------------------------
 * Requests
 */

static lkk_str lkk_str_of(const char* s) {
    lkk_str out;

    out.data = s != NULL ? s : "";
    out.len = s != NULL ? strlen(s) : 0;
    return out;
}

static lkk_str lkk_header(request_rec* r, const char* name) {
    return lkk_str_of(apr_table_get(r->headers_in, name));
}

/* Every Cookie header joined with "; ", as one header would have carried them. Apache has
 * already merged repeated request headers into one value with ", " between them; a cookie
 * value has no comma or space (RFC 6265 cookie-octet), so each ", " is such a seam. */
static lkk_str lkk_cookies(request_rec* r) {
    const char* value = apr_table_get(r->headers_in, "Cookie");
    char* joined;
    char* p;

    if (value == NULL || strstr(value, ", ") == NULL) {
        return lkk_str_of(value);
    }
    joined = apr_pstrdup(r->pool, value);
    for (p = strstr(joined, ", "); p != NULL; p = strstr(p + 2, ", ")) {
        *p = ';';
    }
    return lkk_str_of(joined);
}

/* Reads a POST body with the client-block API (chunked bodies de-chunked), at most
 * lkk_max_body_bytes(). A declared or read size over the limit is not read on: the portal
 * renders its 413 page, and the connection is closed after the answer (Apache's lingering
 * close takes care of the rest of the body). Answers OK or an HTTP status. */
static int lkk_read_body(request_rec* r, lkk_request* in) {
    const char* declared;
    apr_off_t length;
    char* end;
    char* buf;
    size_t max, len;
    long n;
    int rv;

    max = lkk_max_body_bytes();

    declared = apr_table_get(r->headers_in, "Content-Length");
    if (declared != NULL && apr_strtoff(&length, declared, &end, 10) == APR_SUCCESS &&
        *end == '\0' && length > (apr_off_t)max) {
        in->body_too_large = 1;
        r->connection->keepalive = AP_CONN_CLOSE;
        return OK;
    }

    rv = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rv != OK) {
        return rv;
    }

    if (!ap_should_client_block(r)) {
        return OK;
    }

    /* one byte more than allowed tells a body that is too large */
    buf = apr_palloc(r->pool, max + 1);
    len = 0;

    while (len <= max) {
        n = ap_get_client_block(r, buf + len, max + 1 - len);
        if (n < 0) {
            return HTTP_BAD_REQUEST;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
    }

    if (len > max) {
        in->body_too_large = 1;
        r->connection->keepalive = AP_CONN_CLOSE;
        return OK;
    }

    in->body.data = buf;
    in->body.len = len;
    return OK;
}

/* Copies what the application needs out of the request. */
static void lkk_copy_request(request_rec* r, lkk_request* in) {
    const char* uri;
    const char* q;

    memset(in, 0, sizeof(*in));

    /* HEAD is answered as GET; Apache drops the body on the way out */
    in->method = lkk_str_of(r->header_only ? "GET" : r->method);

    /* the raw path and query as the client sent them; the application decodes them */
    uri = r->unparsed_uri != NULL ? r->unparsed_uri : "";
    q = strchr(uri, '?');
    in->path.data = uri;
    in->path.len = q != NULL ? (size_t)(q - uri) : strlen(uri);
    in->query = lkk_str_of(q != NULL ? q + 1 : "");

    in->cookie = lkk_cookies(r);
    in->content_type = lkk_header(r, "Content-Type");
    in->origin = lkk_header(r, "Origin");
    in->host = lkk_header(r, "Host");
    in->user_agent = lkk_header(r, "User-Agent");
    in->accept_language = lkk_header(r, "Accept-Language");
    in->remote_addr = lkk_str_of(r->useragent_ip);
    in->csrf_token = lkk_header(r, "X-CSRF-Token");
    in->body = lkk_str_of("");
}

static int lkk_header_is(const lkk_str* name, const char* what) {
    size_t len = strlen(what);

    return name->len == len && strncasecmp(name->data, what, len) == 0;
}

static apr_status_t lkk_free_response(void* data) {
    lkk_response_free(data);
    return APR_SUCCESS;
}

/* Turns the application's answer into Apache's response. The handler returns OK with
 * r->status set, so Apache sends the portal's own page for every status (never its own error
 * page); the headers of an error status go to err_headers_out all the same, so that they
 * survive should anything later turn the answer into an error response. */
static int lkk_send(request_rec* r, lkk_response* out) {
    int status;
    size_t i, n;
    lkk_str name, value, body;
    apr_table_t* headers;

    apr_pool_cleanup_register(r->pool, out, lkk_free_response, apr_pool_cleanup_null);

    status = lkk_response_status(out);
    if (status < 100 || status > 599) {
        ap_log_rerror(APLOG_MARK, APLOG_ALERT, 0, r, "lkk: the portal answered status %d", status);
        return HTTP_INTERNAL_SERVER_ERROR;
    }

    r->status = status;
    headers = status >= 400 ? r->err_headers_out : r->headers_out;

    n = lkk_response_header_count(out);
    for (i = 0; i < n; i++) {
        lkk_response_header(out, i, &name, &value);

        if (lkk_header_is(&name, "Content-Length")) {
            continue;
        }

        if (lkk_header_is(&name, "Content-Type")) {
            ap_set_content_type(r, apr_pstrmemdup(r->pool, value.data, value.len));
            continue;
        }

        /* add, not set: Set-Cookie comes several times */
        apr_table_add(headers, apr_pstrmemdup(r->pool, name.data, name.len),
                      apr_pstrmemdup(r->pool, value.data, value.len));
    }

    body = lkk_response_body(out);
    ap_set_content_length(r, (apr_off_t)body.len);

    if (body.len > 0 && !r->header_only) {
        ap_rwrite(body.data, (int)body.len, r);
    }

    return OK;
}

/* SetHandler lkk-metrics: the Prometheus text format of the shared counters. Reads them only;
 * the delivery thread refreshes the gauges that need a backend. */
static int lkk_metrics_handler(request_rec* r) {
    lkk_response* out;
    int rv;

    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }

    rv = ap_discard_request_body(r);
    if (rv != OK) {
        return rv;
    }

    out = lkk_metrics_response();
    if (out == NULL) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return lkk_send(r, out);
}

static int lkk_handler(request_rec* r) {
    lkk_app* app;
    lkk_request in;
    lkk_response* out;
    int rv;

    if (r->handler != NULL && strcmp(r->handler, "lkk-metrics") == 0) {
        return lkk_metrics_handler(r);
    }

    if (r->handler == NULL || strcmp(r->handler, "lkk") != 0) {
        return DECLINED;
    }

    if (r->main != NULL) {
        /* a sub-request (SSI, mod_include) gets nothing from the portal */
        return HTTP_NOT_FOUND;
    }

    lkk_copy_request(r, &in);

    if (r->method_number == M_POST) {
        rv = lkk_read_body(r, &in);
        if (rv != OK) {
            return rv;
        }
    } else {
        rv = ap_discard_request_body(r);
        if (rv != OK) {
            return rv;
        }
    }

    if (lkk_child == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "lkk: `SetHandler lkk` without LkkConfig in the server config");
        return HTTP_INTERNAL_SERVER_ERROR;
    }

    app = lkk_current_app(lkk_child);

    apr_atomic_inc32(&lkk_child->in_flight);
    out = app != NULL ? lkk_app_handle(app, &in) : lkk_unavailable_response();
    apr_atomic_dec32(&lkk_child->in_flight);

    if (out == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ALERT, 0, r,
                      "lkk: no response from the portal (out of memory?)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }

    return lkk_send(r, out);
}

static void lkk_register_hooks(apr_pool_t* p) {
    (void)p;
    ap_hook_pre_config(lkk_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(lkk_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(lkk_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(lkk_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA lkk_module = {
    STANDARD20_MODULE_STUFF,
    NULL,               /* per-directory config creator */
    NULL,               /* per-directory config merger */
    NULL,               /* per-server config creator */
    NULL,               /* per-server config merger */
    lkk_cmds,           /* command table */
    lkk_register_hooks, /* hook registration */
    AP_MODULE_FLAG_NONE /* flags */
};
