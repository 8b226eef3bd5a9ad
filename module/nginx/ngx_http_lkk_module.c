/*
 * ngx_http_lkk_module: the nginx glue of the lkk subscriber portal.
 *
 * Only glue lives here: the directive table, the copy of a request into plain bytes, the hand-off
 * to nginx's thread pool and the response on the way back. The portal itself is the C++ core
 * behind lkk/capi.h, which knows nothing of nginx. A GET that needs no backend (the core
 * decides: lkk_app_handle_inline) is answered on the event loop, without the hand-off.
 *
 *   lkk_config FILE;         http        the settings file (TOML); `nginx -t` validates it;
 *                                        default /etc/lkk/lkk.toml (where lkk-admin looks too)
 *   lkk;                     location    the portal answers this location
 *   lkk_thread_pool NAME;    http, server, location   default "lkk"
 *   lkk_metrics;             location    Prometheus metrics of every worker (SPEC 13)
 *
 * Everything that blocks (database, Argon2, SMTP) runs in the thread pool, following the
 * development guide's "Threads" section: the task context holds copies only, the request is
 * kept alive by r->main->blocked while the task runs, and the completion handler on the event
 * loop sends the response and finalizes the request exactly once.
 *
 * The thread pool named `lkk` is created with a modest size when the admin did not declare it
 * with `thread_pool lkk threads=N;`. nginx only sizes the pool called "default" by itself, so a
 * small companion core module (ngx_lkk_thread_pool_module, ordered before
 * ngx_thread_pool_module) declares the missing pools once the whole configuration is read.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#if !(NGX_THREADS)
#error "ngx_http_lkk_module needs nginx built with --with-threads"
#endif

#include <ngx_thread_pool.h>

#include <lkk/capi.h>


/* Threads of a pool that the admin did not declare: enough to overlap database waits, few
 * enough that Argon2 (about 19 MiB per hash) cannot eat the machine. Every idle thread is one
 * more sleeper to wake for a task: on 2 CPUs, 4 threads per worker served the registry 10-25%
 * faster than 8 on both backends (issue 11), so 2 per CPU. At least 4: a hash, a mail round
 * and two pages at once. */
#define NGX_LKK_MIN_THREADS      4
#define NGX_LKK_MAX_THREADS      32
#define NGX_LKK_THREADS_PER_CPU  2

/* While a task runs the request has no timer of its own, and a worker that is shutting down
 * leaves as soon as no timer is left: this one keeps it (re-armed until the task is back). */
#define NGX_LKK_IN_FLIGHT_MS     60000

/* Delay before retrying a failed application start (database down at boot). */
#define NGX_LKK_RETRY_MS         5000

#define NGX_LKK_ERRLEN           1024

/* The settings file when the http block names none: the Debian package's conffile, and
 * lkk-admin's default, so `include snippets/lkk.conf;` in a server block is all a site needs. */
#define NGX_LKK_DEFAULT_CONFIG   "/etc/lkk/lkk.toml"


typedef struct {
    ngx_str_t                 config_file;     /* absolute, NUL-terminated */
    ngx_shm_zone_t           *metrics_zone;    /* NULL: no lkk_metrics anywhere */
} ngx_http_lkk_main_conf_t;


typedef struct {
    ngx_flag_t                enable;
    ngx_str_t                 thread_pool_name;
    ngx_thread_pool_t        *thread_pool;     /* looked up lazily in the worker */
} ngx_http_lkk_loc_conf_t;


/* Thread pools the portal posts to, collected while the configuration is read. */
typedef struct {
    ngx_array_t               names;           /* of ngx_str_t */
} ngx_lkk_thread_pool_conf_t;


/* A region of the request body that nginx spooled to its temporary file. */
typedef struct {
    ngx_fd_t                  fd;
    off_t                     offset;
    size_t                    len;
    u_char                   *dst;
} ngx_http_lkk_body_part_t;


/* Everything a pool thread may touch for one request: plain bytes copied out of nginx. */
typedef struct {
    ngx_http_request_t       *request;         /* for the event loop; never read in a thread */
    lkk_app                  *app;
    lkk_request               in;
    ngx_array_t              *file_parts;      /* NULL or of ngx_http_lkk_body_part_t */
    ngx_err_t                 read_error;      /* set by the thread */
    lkk_response             *out;             /* set by the thread */
    ngx_event_t               in_flight;       /* a timer that holds off worker exit */
    unsigned                  done:1;          /* the task has come back */
} ngx_http_lkk_ctx_t;


/* Per worker process: the application and the outbox timer. */
typedef struct {
    lkk_app                  *app;
    u_char                   *config_file;
    ngx_thread_pool_t        *pool;
    ngx_event_t               timer;
    ngx_thread_task_t        *task;
    lkk_app                  *started;         /* set by a retry in the thread */
    int                       sent;            /* set by a delivery round */
    ngx_uint_t                failures;
    char                      error[NGX_LKK_ERRLEN];
    char                      last_error[NGX_LKK_ERRLEN];
} ngx_http_lkk_worker_t;


static char *ngx_http_lkk_config(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_lkk_check_settings(ngx_conf_t *cf,
    ngx_http_lkk_main_conf_t *lmcf);
static char *ngx_http_lkk(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_lkk_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_lkk_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_lkk_metrics_handler(ngx_http_request_t *r);
static void *ngx_http_lkk_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_lkk_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_lkk_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_lkk_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_lkk_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_lkk_init_process(ngx_cycle_t *cycle);
static void ngx_http_lkk_exit_process(ngx_cycle_t *cycle);
static void ngx_http_lkk_log(void *ctx, int level, const char *msg,
    size_t len);

static ngx_int_t ngx_http_lkk_handler(ngx_http_request_t *r);
static ngx_http_lkk_ctx_t *ngx_http_lkk_create_ctx(ngx_http_request_t *r);
static void ngx_http_lkk_body_read(ngx_http_request_t *r);
static ngx_int_t ngx_http_lkk_copy_request(ngx_http_request_t *r,
    ngx_http_lkk_ctx_t *ctx);
static ngx_int_t ngx_http_lkk_copy_body(ngx_http_request_t *r,
    ngx_http_lkk_ctx_t *ctx);
static ngx_int_t ngx_http_lkk_post(ngx_http_request_t *r,
    ngx_http_lkk_ctx_t *ctx);
static void ngx_http_lkk_thread(void *data, ngx_log_t *log);
static void ngx_http_lkk_thread_done(ngx_event_t *ev);
static void ngx_http_lkk_in_flight(ngx_event_t *ev);
static void ngx_http_lkk_wake(ngx_http_request_t *r);
static ngx_int_t ngx_http_lkk_send(ngx_http_request_t *r,
    ngx_http_lkk_ctx_t *ctx);
static ngx_int_t ngx_http_lkk_unavailable(ngx_http_request_t *r,
    ngx_http_lkk_ctx_t *ctx);
static ngx_int_t ngx_http_lkk_send_body(ngx_http_request_t *r, u_char *data,
    size_t len);
static void ngx_http_lkk_free_response(void *data);

static void ngx_http_lkk_mail_tick(ngx_event_t *ev);
static void ngx_http_lkk_mail_thread(void *data, ngx_log_t *log);
static void ngx_http_lkk_mail_done(ngx_event_t *ev);

static ngx_int_t ngx_lkk_need_thread_pool(ngx_conf_t *cf, ngx_str_t *name);
static void *ngx_lkk_thread_pool_create_conf(ngx_cycle_t *cycle);
static char *ngx_lkk_thread_pool_init_conf(ngx_cycle_t *cycle, void *conf);


static ngx_str_t  ngx_http_lkk_default_pool = ngx_string("lkk");
static ngx_str_t  ngx_http_lkk_metrics_zone_name = ngx_string("lkk_metrics");

static ngx_http_lkk_worker_t  ngx_http_lkk_worker;


static ngx_command_t  ngx_http_lkk_commands[] = {

    { ngx_string("lkk_config"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_lkk_config,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lkk"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_lkk,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lkk_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_lkk_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("lkk_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_lkk_loc_conf_t, thread_pool_name),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_lkk_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_lkk_postconfiguration,        /* postconfiguration */

    ngx_http_lkk_create_main_conf,         /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_lkk_create_loc_conf,          /* create location configuration */
    ngx_http_lkk_merge_loc_conf            /* merge location configuration */
};


ngx_module_t  ngx_http_lkk_module = {
    NGX_MODULE_V1,
    &ngx_http_lkk_module_ctx,              /* module context */
    ngx_http_lkk_commands,                 /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_lkk_init_module,              /* init module */
    ngx_http_lkk_init_process,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_lkk_exit_process,             /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_core_module_t  ngx_lkk_thread_pool_module_ctx = {
    ngx_string("lkk_thread_pool"),
    ngx_lkk_thread_pool_create_conf,
    ngx_lkk_thread_pool_init_conf
};


ngx_module_t  ngx_lkk_thread_pool_module = {
    NGX_MODULE_V1,
    &ngx_lkk_thread_pool_module_ctx,       /* module context */
    NULL,                                  /* module directives */
    NGX_CORE_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* ------------------------------------------------------------------------------------------
 * Configuration
 */

/* lkk_config FILE: the settings are parsed right here so that `nginx -t` names the line of a
 * mistake, instead of a worker failing later. */
static char *
ngx_http_lkk_config(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lkk_main_conf_t *lmcf = conf;

    ngx_str_t  *value;

    if (lmcf->config_file.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lmcf->config_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &lmcf->config_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_lkk_check_settings(cf, lmcf);
}


static char *
ngx_http_lkk_check_settings(ngx_conf_t *cf, ngx_http_lkk_main_conf_t *lmcf)
{
    char  err[NGX_LKK_ERRLEN];

    if (lkk_settings_check((const char *) lmcf->config_file.data, err,
                           sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid lkk settings: %s", err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_lkk(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_lkk_loc_conf_t *llcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (llcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    llcf->enable = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_lkk_handler;

    return NGX_CONF_OK;
}


/* lkk_metrics: the location answers the Prometheus text format of the counters in a shared
 * zone, which every worker counts into; the first such location creates the zone. Without
 * any, no zone exists and the portal counts nothing at all. The location's own allow/deny
 * (or auth_basic) protect it: the module does not. */
static char *
ngx_http_lkk_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    size_t                     size;
    ngx_http_lkk_main_conf_t  *lmcf;
    ngx_http_core_loc_conf_t  *clcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lkk_module);

    if (lmcf->metrics_zone == NULL) {
        /* the block in whole pages (ngx_slab_alloc() gives it whole pages), plus room for
         * the slab pool's own bookkeeping */
        size = ngx_align(lkk_metrics_block_size(), ngx_pagesize)
               + 8 * ngx_pagesize;

        lmcf->metrics_zone = ngx_shared_memory_add(cf,
                                 &ngx_http_lkk_metrics_zone_name, size,
                                 &ngx_http_lkk_module);
        if (lmcf->metrics_zone == NULL) {
            return NGX_CONF_ERROR;
        }

        lmcf->metrics_zone->init = ngx_http_lkk_metrics_init_zone;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_lkk_metrics_handler;

    return NGX_CONF_OK;
}


/* Runs in the master, before the workers are forked. A reload hands over the previous
 * cycle's zone (same name, size and tag) in data: its block keeps counting. */
static ngx_int_t
ngx_http_lkk_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    void             *block;
    size_t            size;
    ngx_slab_pool_t  *shpool;

    size = lkk_metrics_block_size();

    if (data != NULL) {
        /* a block of another layout (another build of the module) starts from zero */
        if (lkk_metrics_init(data, size) != 0) {
            return NGX_ERROR;
        }

        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    block = ngx_slab_alloc(shpool, size);
    if (block == NULL || lkk_metrics_init(block, size) != 0) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "lkk: cannot set up the metrics in zone \"%V\"",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    shpool->data = block;
    shm_zone->data = block;

    return NGX_OK;
}


static void *
ngx_http_lkk_create_main_conf(ngx_conf_t *cf)
{
    /* set by ngx_pcalloc(): config_file = { 0, NULL }, metrics_zone = NULL */
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_lkk_main_conf_t));
}


static void *
ngx_http_lkk_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_lkk_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lkk_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->thread_pool_name = { 0, NULL };
     *     conf->thread_pool = NULL;
     */

    conf->enable = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_lkk_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_lkk_loc_conf_t *prev = parent;
    ngx_http_lkk_loc_conf_t *conf = child;

    ngx_http_lkk_main_conf_t  *lmcf;

    /* "lkk" is not inherited: a nested location must say it again */
    if (conf->enable == NGX_CONF_UNSET) {
        conf->enable = 0;
    }

    ngx_conf_merge_str_value(conf->thread_pool_name, prev->thread_pool_name,
                             "lkk");

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lkk_module);

    if (lmcf->config_file.data == NULL) {
        ngx_str_set(&lmcf->config_file, NGX_LKK_DEFAULT_CONFIG);

        if (ngx_http_lkk_check_settings(cf, lmcf) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_lkk_need_thread_pool(cf, &conf->thread_pool_name) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* The outbox timer posts to the pool named at the http level. */
static ngx_int_t
ngx_http_lkk_postconfiguration(ngx_conf_t *cf)
{
    ngx_str_t                  *name;
    ngx_http_lkk_loc_conf_t    *llcf;
    ngx_http_lkk_main_conf_t   *lmcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lkk_module);

    if (lmcf->config_file.data == NULL) {
        return NGX_OK;
    }

    llcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_lkk_module);

    name = llcf->thread_pool_name.data ? &llcf->thread_pool_name
                                       : &ngx_http_lkk_default_pool;

    return ngx_lkk_need_thread_pool(cf, name);
}


/* Remembers a pool the portal will post to; ngx_lkk_thread_pool_init_conf() declares it
 * when the configuration did not. */
static ngx_int_t
ngx_lkk_need_thread_pool(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_str_t                   *names, *n;
    ngx_uint_t                   i;
    ngx_lkk_thread_pool_conf_t  *ltcf;

    ltcf = (ngx_lkk_thread_pool_conf_t *)
               ngx_get_conf(cf->cycle->conf_ctx, ngx_lkk_thread_pool_module);

    names = ltcf->names.elts;

    for (i = 0; i < ltcf->names.nelts; i++) {
        if (names[i].len == name->len
            && ngx_strncmp(names[i].data, name->data, name->len) == 0)
        {
            return NGX_OK;
        }
    }

    n = ngx_array_push(&ltcf->names);
    if (n == NULL) {
        return NGX_ERROR;
    }

    *n = *name;

    return NGX_OK;
}


static void *
ngx_lkk_thread_pool_create_conf(ngx_cycle_t *cycle)
{
    ngx_lkk_thread_pool_conf_t  *ltcf;

    ltcf = ngx_pcalloc(cycle->pool, sizeof(ngx_lkk_thread_pool_conf_t));
    if (ltcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&ltcf->names, cycle->pool, 2, sizeof(ngx_str_t))
        != NGX_OK)
    {
        return NULL;
    }

    return ltcf;
}


/* Runs after the whole configuration is read and just before ngx_thread_pool_module checks
 * that every pool has a size. A pool nobody declared is declared here exactly as if
 * "thread_pool NAME threads=N;" had been written in the main context, so nginx's own parser
 * and directive handler do the work. */
static char *
ngx_lkk_thread_pool_init_conf(ngx_cycle_t *cycle, void *conf)
{
    ngx_lkk_thread_pool_conf_t *ltcf = conf;

    char             *rv;
    u_char           *text, *last;
    ngx_buf_t         b;
    ngx_str_t        *names;
    ngx_uint_t        i, threads;
    ngx_conf_t        cf;
    ngx_conf_file_t   conf_file;

    if (ltcf == NULL) {
        return NGX_CONF_OK;
    }

    threads = ngx_ncpu * NGX_LKK_THREADS_PER_CPU;
    threads = ngx_max(threads, NGX_LKK_MIN_THREADS);
    threads = ngx_min(threads, NGX_LKK_MAX_THREADS);

    names = ltcf->names.elts;

    for (i = 0; i < ltcf->names.nelts; i++) {

        if (ngx_thread_pool_get(cycle, &names[i]) != NULL) {
            continue;
        }

        text = ngx_pnalloc(cycle->pool, names[i].len + 64);
        if (text == NULL) {
            return NGX_CONF_ERROR;
        }

        last = ngx_sprintf(text, "thread_pool %V threads=%ui;", &names[i],
                           threads);

        ngx_memzero(&b, sizeof(ngx_buf_t));
        b.start = text;
        b.pos = text;
        b.last = last;
        b.end = last;
        b.temporary = 1;

        ngx_memzero(&conf_file, sizeof(ngx_conf_file_t));
        conf_file.file.fd = NGX_INVALID_FILE;
        conf_file.buffer = &b;

        ngx_memzero(&cf, sizeof(ngx_conf_t));
        cf.args = ngx_array_create(cycle->pool, 4, sizeof(ngx_str_t));
        if (cf.args == NULL) {
            return NGX_CONF_ERROR;
        }

        cf.temp_pool = ngx_create_pool(NGX_CYCLE_POOL_SIZE, cycle->log);
        if (cf.temp_pool == NULL) {
            return NGX_CONF_ERROR;
        }

        cf.ctx = cycle->conf_ctx;
        cf.cycle = cycle;
        cf.pool = cycle->pool;
        cf.log = cycle->log;
        cf.module_type = NGX_CORE_MODULE;
        cf.cmd_type = NGX_MAIN_CONF;
        cf.conf_file = &conf_file;

        rv = ngx_conf_parse(&cf, NULL);

        ngx_destroy_pool(cf.temp_pool);

        if (rv != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

        ngx_log_debug2(NGX_LOG_DEBUG_CORE, cycle->log, 0,
                       "lkk: thread pool \"%V\" declared with %ui threads",
                       &names[i], threads);
    }

    return NGX_CONF_OK;
}


/* ------------------------------------------------------------------------------------------
 * Process life
 */

/* libcurl and OpenSSL want their global init while the process has a single thread: the
 * master, before any fork or pool thread; the password-hashing slots that all workers share
 * are mapped there too. */
static ngx_int_t
ngx_http_lkk_init_module(ngx_cycle_t *cycle)
{
    lkk_global_init();
    return NGX_OK;
}


/* The application opens database connections and owns per-thread state, which must not
 * cross a fork: it is created in each worker, never in the master. */
static ngx_int_t
ngx_http_lkk_init_process(ngx_cycle_t *cycle)
{
    ngx_str_t                  *name;
    ngx_http_lkk_worker_t      *w;
    ngx_http_lkk_loc_conf_t    *llcf;
    ngx_http_lkk_main_conf_t   *lmcf;
    ngx_http_conf_ctx_t        *ctx;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    lmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_lkk_module);

    if (lmcf == NULL) {
        return NGX_OK;
    }

    /* the shared zone was mapped by the master before the fork: the same counters here */
    lkk_metrics_attach(lmcf->metrics_zone ? lmcf->metrics_zone->data : NULL);

    if (lmcf->config_file.data == NULL) {
        return NGX_OK;
    }

    w = &ngx_http_lkk_worker;
    ngx_memzero(w, sizeof(ngx_http_lkk_worker_t));

    w->config_file = lmcf->config_file.data;

    ctx = (ngx_http_conf_ctx_t *) cycle->conf_ctx[ngx_http_module.index];
    llcf = ctx->loc_conf[ngx_http_lkk_module.ctx_index];

    name = llcf->thread_pool_name.data ? &llcf->thread_pool_name
                                       : &ngx_http_lkk_default_pool;

    w->pool = ngx_thread_pool_get(cycle, name);
    if (w->pool == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "lkk: thread pool \"%V\" not found", name);
        return NGX_ERROR;
    }

    w->task = ngx_thread_task_alloc(cycle->pool, 0);
    if (w->task == NULL) {
        return NGX_ERROR;
    }

    w->task->ctx = w;
    w->task->handler = ngx_http_lkk_mail_thread;
    w->task->event.handler = ngx_http_lkk_mail_done;
    w->task->event.data = w;
    w->task->event.log = cycle->log;

    w->timer.handler = ngx_http_lkk_mail_tick;
    w->timer.data = w;
    w->timer.log = cycle->log;
    w->timer.cancelable = 1;

    /* the core's lines go to this cycle's error log, with nginx's levels */
    lkk_set_logger(ngx_http_lkk_log, cycle->log);

    w->app = lkk_app_create((const char *) w->config_file, w->error,
                            sizeof(w->error));

    if (w->app == NULL) {
        /* the worker stays up and answers 503; the timer retries the start */
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "lkk: the portal cannot start: %s "
                      "(answering 503, retrying every %d s)",
                      w->error, NGX_LKK_RETRY_MS / 1000);
        ngx_cpystrn((u_char *) w->last_error, (u_char *) w->error,
                    sizeof(w->last_error));
        ngx_add_timer(&w->timer, NGX_LKK_RETRY_MS);

    } else {
        ngx_add_timer(&w->timer,
                      (ngx_msec_t) lkk_mail_poll_interval_ms(w->app));
    }

    return NGX_OK;
}


/* ngx_thread_pool_module comes earlier in the module list, so by now its threads are joined
 * and no task can still be using the application. */
static void
ngx_http_lkk_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_lkk_worker_t  *w;

    w = &ngx_http_lkk_worker;

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }

    if (w->started != NULL) {
        lkk_app_destroy(w->started);
        w->started = NULL;
    }

    if (w->app != NULL) {
        lkk_app_destroy(w->app);
        w->app = NULL;
    }

    lkk_set_logger(NULL, NULL);
}


/* The core's logger (capi.h): its syslog levels mapped to nginx's. Called from pool threads
 * too, which is what nginx's own thread pool does with the cycle log. */
static void
ngx_http_lkk_log(void *ctx, int level, const char *msg, size_t len)
{
    ngx_log_t  *log = ctx;
    ngx_uint_t  ngx_level;

    switch (level) {
    case LKK_LOG_WARN:
        ngx_level = NGX_LOG_WARN;
        break;
    case LKK_LOG_NOTICE:
        ngx_level = NGX_LOG_NOTICE;
        break;
    case LKK_LOG_INFO:
        ngx_level = NGX_LOG_INFO;
        break;
    case LKK_LOG_DEBUG:
        ngx_level = NGX_LOG_DEBUG;
        break;
    default:
        ngx_level = NGX_LOG_ERR;
    }

    ngx_log_error(ngx_level, log, 0, "lkk: %*s", len, msg);
}


/* ------------------------------------------------------------------------------------------
 * Outbox timer: one delivery round in the pool at a time, re-armed when it comes back.
 */

static void
ngx_http_lkk_mail_tick(ngx_event_t *ev)
{
    ngx_http_lkk_worker_t  *w = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    w->sent = 0;
    w->started = NULL;
    w->error[0] = '\0';

    if (ngx_thread_task_post(w->pool, w->task) != NGX_OK) {
        /* queue full: try again at the next tick */
        ngx_add_timer(&w->timer, NGX_LKK_RETRY_MS);
    }
}


/* Pool thread: touches only the worker record, which the event loop leaves alone while the
 * task is out. */
static void
ngx_http_lkk_mail_thread(void *data, ngx_log_t *log)
{
    ngx_http_lkk_worker_t  *w = data;

    if (w->app == NULL) {
        w->started = lkk_app_create((const char *) w->config_file, w->error,
                                    sizeof(w->error));
        return;
    }

    w->sent = lkk_app_deliver_mail(w->app);

    /* the outbox and backend gauges, here rather than on a scrape (a no-op without metrics) */
    lkk_app_refresh_metrics(w->app);
}


static void
ngx_http_lkk_mail_done(ngx_event_t *ev)
{
    ngx_http_lkk_worker_t  *w = ev->data;

    ngx_msec_t  delay;

    if (w->app == NULL) {
        if (w->started != NULL) {
            w->app = w->started;
            w->started = NULL;
            ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                          "lkk: the portal started at attempt %ui",
                          w->failures + 2);
            w->failures = 0;

        } else {
            w->failures++;

            /* the same reason every five seconds would drown the log */
            if (ngx_strcmp(w->error, w->last_error) != 0) {
                ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                              "lkk: the portal still cannot start: %s",
                              w->error);
                ngx_cpystrn((u_char *) w->last_error, (u_char *) w->error,
                            sizeof(w->last_error));
            }
        }

    } else if (w->sent > 0) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "lkk: %d mails delivered", w->sent);
    }

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    delay = w->app ? (ngx_msec_t) lkk_mail_poll_interval_ms(w->app)
                   : NGX_LKK_RETRY_MS;

    ngx_add_timer(&w->timer, delay);
}


/* ------------------------------------------------------------------------------------------
 * Requests
 */

/* The request's context, from its pool; a cleanup of the pool frees the response the context
 * will hold. NULL when memory ran out. */
static ngx_http_lkk_ctx_t *
ngx_http_lkk_create_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;
    ngx_http_lkk_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_lkk_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_lkk_free_response;
    cln->data = ctx;

    return ctx;
}


static ngx_int_t
ngx_http_lkk_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_lkk_ctx_t      *ctx;

    if (r != r->main) {
        /* an SSI include or a mirror would share the main request's blocked count */
        return NGX_HTTP_NOT_FOUND;
    }

    ctx = ngx_http_lkk_create_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_lkk_worker.app == NULL) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_lkk_unavailable(r, ctx);
    }

    ctx->request = r;
    ctx->app = ngx_http_lkk_worker.app;
    ngx_http_set_ctx(r, ctx, ngx_http_lkk_module);

    if (ngx_http_lkk_copy_request(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method == NGX_HTTP_POST
        && (r->headers_in.content_length_n < 0
            || (size_t) r->headers_in.content_length_n <= lkk_max_body_bytes()))
    {
        /* read_client_request_body() takes its own reference (r->main->count) which
         * the final ngx_http_finalize_request() in ngx_http_lkk_wake() releases */
        rc = ngx_http_read_client_request_body(r, ngx_http_lkk_body_read);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    /* no body wanted, or one declared too big to read at all: the application
     * renders its 413 page without ever seeing the bytes */
    if (r->method == NGX_HTTP_POST) {
        ctx->in.body_too_large = 1;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    /* a page that needs no backend is answered right here: no thread hop */
    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        ctx->out = lkk_app_handle_inline(ctx->app, &ctx->in);

        if (ctx->out != NULL) {
            return ngx_http_lkk_send(r, ctx);
        }
    }

    rc = ngx_http_lkk_post(r, ctx);

    if (rc == NGX_DECLINED) {
        return ngx_http_lkk_unavailable(r, ctx);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    /* the reference that ngx_http_lkk_wake()'s ngx_http_finalize_request() releases */
    r->main->count++;

    return NGX_DONE;
}


/* The scrape, on the event loop: the core only reads the shared counters, no backend is
 * asked (the timer refreshes the gauges that need one). Works while the portal cannot start. */
static ngx_int_t
ngx_http_lkk_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_http_lkk_ctx_t  *ctx;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_http_lkk_create_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->out = lkk_metrics_response();

    return ngx_http_lkk_send(r, ctx);
}


/* Body handler of ngx_http_read_client_request_body(); the request holds a reference. */
static void
ngx_http_lkk_body_read(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_http_lkk_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_lkk_module);

    if (ngx_http_lkk_copy_body(r, ctx) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_lkk_post(r, ctx);

    if (rc == NGX_DECLINED) {
        rc = ngx_http_lkk_unavailable(r, ctx);
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, rc);
    }
}


static lkk_str
ngx_http_lkk_str(ngx_pool_t *pool, u_char *data, size_t len)
{
    lkk_str   s;
    u_char   *p;

    s.data = "";
    s.len = 0;

    if (data == NULL || len == 0) {
        return s;
    }

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        s.data = NULL;
        return s;
    }

    ngx_memcpy(p, data, len);

    s.data = (const char *) p;
    s.len = len;

    return s;
}


static lkk_str
ngx_http_lkk_header(ngx_pool_t *pool, ngx_table_elt_t *h)
{
    lkk_str  s;

    if (h == NULL) {
        s.data = "";
        s.len = 0;
        return s;
    }

    return ngx_http_lkk_str(pool, h->value.data, h->value.len);
}


/* The first header of that name, for the ones nginx does not index for us. */
static ngx_table_elt_t *
ngx_http_lkk_find_header(ngx_http_request_t *r, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0 && h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/* Every Cookie header, joined with "; " as a single header would have carried them
 * (nginx 1.22 keeps them as an array of pointers). */
static lkk_str
ngx_http_lkk_cookies(ngx_http_request_t *r)
{
    size_t             len;
    u_char            *p, *start;
    lkk_str            s;
    ngx_uint_t         i, n;
    ngx_table_elt_t  **h;

    s.data = "";
    s.len = 0;

    n = r->headers_in.cookies.nelts;
    h = r->headers_in.cookies.elts;

    if (n == 0) {
        return s;
    }

    len = 0;
    for (i = 0; i < n; i++) {
        len += h[i]->value.len + 2;
    }

    start = ngx_pnalloc(r->pool, len);
    if (start == NULL) {
        s.data = NULL;
        return s;
    }

    p = start;
    for (i = 0; i < n; i++) {
        if (i > 0) {
            *p++ = ';';
            *p++ = ' ';
        }

        p = ngx_cpymem(p, h[i]->value.data, h[i]->value.len);
    }

    s.data = (const char *) start;
    s.len = (size_t) (p - start);

    return s;
}


/* Copies what the application needs out of the request, before any thread is involved:
 * the thread must never read nginx's structures. */
static ngx_int_t
ngx_http_lkk_copy_request(ngx_http_request_t *r, ngx_http_lkk_ctx_t *ctx)
{
    u_char       *q;
    size_t        path_len;
    lkk_request  *in;

    in = &ctx->in;

    /* HEAD is answered as GET; nginx drops the body on the way out */
    if (r->method == NGX_HTTP_HEAD) {
        in->method.data = "GET";
        in->method.len = 3;

    } else {
        in->method = ngx_http_lkk_str(r->pool, r->method_name.data,
                                      r->method_name.len);
    }

    /* the raw path and query as the client sent them; the application decodes them */
    q = ngx_strlchr(r->unparsed_uri.data,
                    r->unparsed_uri.data + r->unparsed_uri.len, '?');
    path_len = q ? (size_t) (q - r->unparsed_uri.data) : r->unparsed_uri.len;

    in->path = ngx_http_lkk_str(r->pool, r->unparsed_uri.data, path_len);

    if (q) {
        in->query = ngx_http_lkk_str(r->pool, q + 1,
                                     r->unparsed_uri.len - path_len - 1);
    } else {
        in->query = ngx_http_lkk_str(r->pool, NULL, 0);
    }

    in->cookie = ngx_http_lkk_cookies(r);
    in->content_type = ngx_http_lkk_header(r->pool, r->headers_in.content_type);
    in->origin = ngx_http_lkk_header(r->pool,
                                     ngx_http_lkk_find_header(r, "Origin"));
    in->host = ngx_http_lkk_header(r->pool, r->headers_in.host);
    in->user_agent = ngx_http_lkk_header(r->pool, r->headers_in.user_agent);
    in->accept_language = ngx_http_lkk_header(r->pool,
                              ngx_http_lkk_find_header(r, "Accept-Language"));
    in->remote_addr = ngx_http_lkk_str(r->pool, r->connection->addr_text.data,
                                       r->connection->addr_text.len);
    in->csrf_token = ngx_http_lkk_header(r->pool,
                         ngx_http_lkk_find_header(r, "X-CSRF-Token"));
    in->body.data = "";
    in->body.len = 0;

    if (in->method.data == NULL || in->path.data == NULL
        || in->query.data == NULL || in->cookie.data == NULL
        || in->content_type.data == NULL || in->origin.data == NULL
        || in->host.data == NULL || in->user_agent.data == NULL
        || in->accept_language.data == NULL || in->remote_addr.data == NULL
        || in->csrf_token.data == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* The body as read by nginx: memory buffers are copied now; parts spooled to the temporary
 * file (a body bigger than client_body_buffer_size) are read by the thread with pread(),
 * since file I/O must not run on the event loop. A chunked body only shows its size here. */
static ngx_int_t
ngx_http_lkk_copy_body(ngx_http_request_t *r, ngx_http_lkk_ctx_t *ctx)
{
    off_t                      total;
    size_t                     len;
    u_char                    *body, *p;
    ngx_buf_t                 *b;
    ngx_chain_t               *cl;
    ngx_http_lkk_body_part_t  *part;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    total = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        total += ngx_buf_size(cl->buf);
    }

    if (total > (off_t) lkk_max_body_bytes()) {
        ctx->in.body_too_large = 1;
        return NGX_OK;
    }

    if (total == 0) {
        return NGX_OK;
    }

    body = ngx_pnalloc(r->pool, (size_t) total);
    if (body == NULL) {
        return NGX_ERROR;
    }

    p = body;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        if (!b->in_file || b->file == NULL) {
            continue;
        }

        len = (size_t) (b->file_last - b->file_pos);

        if (ctx->file_parts == NULL) {
            ctx->file_parts = ngx_array_create(r->pool, 1,
                                          sizeof(ngx_http_lkk_body_part_t));
            if (ctx->file_parts == NULL) {
                return NGX_ERROR;
            }
        }

        part = ngx_array_push(ctx->file_parts);
        if (part == NULL) {
            return NGX_ERROR;
        }

        part->fd = b->file->fd;
        part->offset = b->file_pos;
        part->len = len;
        part->dst = p;

        p += len;
    }

    ctx->in.body.data = (const char *) body;
    ctx->in.body.len = (size_t) (p - body);

    return NGX_OK;
}


/* The thread-pool hand-off of the development guide: the request stays alive through
 * r->main->blocked until ngx_http_lkk_thread_done() runs on the event loop.
 * NGX_OK: posted; NGX_DECLINED: the queue is full; else an HTTP status to finalize with. */
static ngx_int_t
ngx_http_lkk_post(ngx_http_request_t *r, ngx_http_lkk_ctx_t *ctx)
{
    ngx_thread_task_t        *task;
    ngx_http_lkk_loc_conf_t  *llcf;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_lkk_module);

    if (llcf->thread_pool == NULL) {
        llcf->thread_pool = ngx_thread_pool_get((ngx_cycle_t *) ngx_cycle,
                                                &llcf->thread_pool_name);
        if (llcf->thread_pool == NULL) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "lkk: thread pool \"%V\" not found",
                          &llcf->thread_pool_name);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    task = ngx_thread_task_alloc(r->pool, 0);
    if (task == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    task->ctx = ctx;
    task->handler = ngx_http_lkk_thread;
    task->event.handler = ngx_http_lkk_thread_done;
    task->event.data = ctx;

    /* counted before the post: the thread may take the task before the post returns */
    lkk_metrics_pool_queue(1);

    if (ngx_thread_task_post(llcf->thread_pool, task) != NGX_OK) {
        lkk_metrics_pool_queue(-1);

        /* the queue is full (max_queue): the portal is overloaded, say so */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "lkk: thread pool \"%V\" queue is full",
                      &llcf->thread_pool_name);
        return NGX_DECLINED;
    }

    r->main->blocked++;
    r->aio = 1;
    r->write_event_handler = ngx_http_lkk_wake;

    ctx->in_flight.handler = ngx_http_lkk_in_flight;
    ctx->in_flight.data = r->connection;   /* for the debug log only */
    ctx->in_flight.log = r->connection->log;
    ngx_add_timer(&ctx->in_flight, NGX_LKK_IN_FLIGHT_MS);

    return NGX_OK;
}


/* Only there to be a timer (see NGX_LKK_IN_FLIGHT_MS); a slow task is not cut short. */
static void
ngx_http_lkk_in_flight(ngx_event_t *ev)
{
    ngx_add_timer(ev, NGX_LKK_IN_FLIGHT_MS);
}


/* Pool thread: only the task context is touched here; no request, no pool. The core logs
 * through ngx_http_lkk_log() on the cycle log only. */
static void
ngx_http_lkk_thread(void *data, ngx_log_t *log)
{
    ngx_http_lkk_ctx_t  *ctx = data;

    size_t                     done;
    ssize_t                    n;
    ngx_uint_t                 i;
    ngx_http_lkk_body_part_t  *parts;

    lkk_metrics_pool_queue(-1);

    if (ctx->file_parts != NULL) {
        parts = ctx->file_parts->elts;

        for (i = 0; i < ctx->file_parts->nelts; i++) {
            for (done = 0; done < parts[i].len; done += (size_t) n) {
                n = pread(parts[i].fd, parts[i].dst + done,
                          parts[i].len - done,
                          parts[i].offset + (off_t) done);

                if (n == -1 && ngx_errno == NGX_EINTR) {
                    n = 0;
                    continue;
                }

                if (n <= 0) {
                    ctx->read_error = (n == 0) ? EIO : ngx_errno;
                    return;
                }
            }
        }
    }

    ctx->out = lkk_app_handle(ctx->app, &ctx->in);
}


/* Event loop, when the task is back (the pattern of nginx's own thread reads). If the
 * client went away meanwhile, nginx has replaced the write handler with its finalizer. */
static void
ngx_http_lkk_thread_done(ngx_event_t *ev)
{
    ngx_http_lkk_ctx_t *ctx = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    r->main->blocked--;
    r->aio = 0;

    ctx->done = 1;

    if (ctx->in_flight.timer_set) {
        ngx_del_timer(&ctx->in_flight);
    }

    r->write_event_handler(r);

    ngx_http_run_posted_requests(c);
}


/* The request's write handler while the portal works: a write event that arrives before the
 * task is back must do nothing. */
static void
ngx_http_lkk_wake(ngx_http_request_t *r)
{
    ngx_http_lkk_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_lkk_module);

    if (ctx == NULL || !ctx->done) {
        return;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_finalize_request(r, ngx_http_lkk_send(r, ctx));
}


static ngx_int_t
ngx_http_lkk_header_is(lkk_str *name, const char *what)
{
    size_t  len;

    len = ngx_strlen(what);

    return name->len == len
           && ngx_strncasecmp((u_char *) name->data, (u_char *) what, len) == 0;
}


/* A header the application produced must not split the response. */
static ngx_int_t
ngx_http_lkk_header_ok(lkk_str *name, lkk_str *value)
{
    size_t  i;

    if (name->len == 0) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        if (name->data[i] <= ' ' || name->data[i] == ':'
            || name->data[i] == 0x7f)
        {
            return 0;
        }
    }

    /* memchr looks at a word or more at a time: a page's policy header is long */
    return memchr(value->data, '\r', value->len) == NULL
           && memchr(value->data, '\n', value->len) == NULL
           && memchr(value->data, '\0', value->len) == NULL;
}


/* Turns the application's answer into nginx's response. The body is sent straight from the
 * response object, which lives until the request pool goes (ngx_http_lkk_free_response). */
static ngx_int_t
ngx_http_lkk_send(ngx_http_request_t *r, ngx_http_lkk_ctx_t *ctx)
{
    int               status;
    size_t            i, n;
    lkk_str           name, value, body;
    ngx_table_elt_t  *h;

    if (ctx->read_error) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, ctx->read_error,
                      "lkk: cannot read the request body from its "
                      "temporary file");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->out == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "lkk: no response from the portal (out of memory?)");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    status = lkk_response_status(ctx->out);
    if (status < 100 || status > 599) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "lkk: the portal answered status %d", status);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = (ngx_uint_t) status;

    n = lkk_response_header_count(ctx->out);

    for (i = 0; i < n; i++) {
        lkk_response_header(ctx->out, i, &name, &value);

        if (!ngx_http_lkk_header_ok(&name, &value)) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "lkk: the portal produced an invalid header, "
                          "dropped");
            continue;
        }

        if (ngx_http_lkk_header_is(&name, "Content-Length")) {
            continue;
        }

        if (ngx_http_lkk_header_is(&name, "Content-Type")) {
            r->headers_out.content_type.data = (u_char *) value.data;
            r->headers_out.content_type.len = value.len;
            r->headers_out.content_type_len = value.len;
            r->headers_out.content_type_lowcase = NULL;
            continue;
        }

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        /* the strings stay valid as long as ctx->out, i.e. the request */
        h->hash = 1;
        h->key.data = (u_char *) name.data;
        h->key.len = name.len;
        h->value.data = (u_char *) value.data;
        h->value.len = value.len;
        h->lowcase_key = NULL;
    }

    body = lkk_response_body(ctx->out);

    r->headers_out.content_length_n = (off_t) body.len;

    if (body.len == 0) {
        r->header_only = 1;
    }

    return ngx_http_lkk_send_body(r, (u_char *) body.data, body.len);
}


/* The portal could not start (or is overloaded): the core's plain 503 page, sent from the
 * event loop, so that a broken database never costs a worker. */
static ngx_int_t
ngx_http_lkk_unavailable(ngx_http_request_t *r, ngx_http_lkk_ctx_t *ctx)
{
    ctx->out = lkk_unavailable_response();

    return ngx_http_lkk_send(r, ctx);
}


/* Sends the headers set on r, then len bytes at data, which live as long as r does. */
static ngx_int_t
ngx_http_lkk_send_body(ngx_http_request_t *r, u_char *data, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static void
ngx_http_lkk_free_response(void *data)
{
    ngx_http_lkk_ctx_t  *ctx = data;

    if (ctx->out != NULL) {
        lkk_response_free(ctx->out);
        ctx->out = NULL;
    }
}
