/* http_guard.c: connection records, the header deadline, framing and rate checks (see http_guard.h). */
#define _GNU_SOURCE /* POLLRDHUP */
#include "http/http_guard.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "http/auth.h"
#include "http/framing.h"

#define TICK_NS (200 * 1000000L)
#define LOG_LINES_PER_INTERVAL 5 /* libmicrohttpd's own messages shown per interval; the rest counted */

typedef struct gconn {
    struct gconn *prev, *next; /* every open connection: the deadline thread's list */
    int fd;
    bool counted;              /* in its peer's connection count */
    bool shut;                 /* shut down by the deadline thread */
    double deadline;           /* header due by then (monotonic s); 0: not waiting for a header */
    msh_client_key peer;       /* the socket's address */
    msh_client_key client;     /* whom the current request counts against (the peer, or X-Forwarded-For) */
    const char *uri;           /* the raw request target, as the URI log saw it */
    size_t uri_len;
    bool nul;                  /* the last string decoded held a NUL: libmicrohttpd decodes the path last */
} gconn;

struct msh_http_guard {
    msh_app *app;
    msh_climits *cl;
    pthread_mutex_t mu; /* the list, deadlines and `shut` */
    gconn *head;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    atomic_uint lib_lines;     /* library messages printed this interval */
    atomic_ulong lib_dropped;  /* ... and not printed */
    struct MHD_OptionItem opts[5];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static gconn *conn_rec(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

const msh_client_key *msh_http_guard_client(struct MHD_Connection *conn)
{
    gconn *gc = conn_rec(conn);
    return gc ? &gc->client : NULL;
}

bool msh_http_peer_gone(void *conn)
{
    const union MHD_ConnectionInfo *f =
        MHD_get_connection_info((struct MHD_Connection *)conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!f)
        return false;
    struct pollfd p = {f->connect_fd, POLLRDHUP, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

msh_climits *msh_http_guard_limits(msh_http_guard *g)
{
    return g ? g->cl : NULL;
}

enum MHD_Result msh_http_guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    msh_http_guard *g = cls;
    msh_client_key k;
    (void)addrlen;
    if (msh_client_key_from_sockaddr(addr, &k))
        return MHD_YES;
    return msh_climits_conn_allowed(g->cl, &k, now_s()) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    msh_http_guard *g = cls;
    double now = now_s();
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        gconn *gc = calloc(1, sizeof *gc);
        if (!gc)
            return; /* unguarded, but served */
        const union MHD_ConnectionInfo *a = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const union MHD_ConnectionInfo *f = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        gc->fd = f ? f->connect_fd : -1;
        bool over = false;
        if (a && !msh_client_key_from_sockaddr(a->client_addr, &gc->peer)) {
            gc->counted = true;
            over = !msh_climits_conn_open(g->cl, &gc->peer, now);
        }
        gc->client = gc->peer;
        gc->deadline = now + msh_climits_cfg(g->cl)->header_timeout_s;
        pthread_mutex_lock(&g->mu);
        gc->next = g->head;
        if (g->head)
            g->head->prev = gc;
        g->head = gc;
        if (over && gc->fd >= 0) {
            shutdown(gc->fd, SHUT_RDWR); /* over its limit after accepts on several threads at once */
            gc->shut = true;
        }
        pthread_mutex_unlock(&g->mu);
        *socket_context = gc;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        gconn *gc = *socket_context;
        if (!gc)
            return;
        pthread_mutex_lock(&g->mu); /* after this the deadline thread cannot reach the descriptor */
        if (gc->prev) gc->prev->next = gc->next; else g->head = gc->next;
        if (gc->next) gc->next->prev = gc->prev;
        pthread_mutex_unlock(&g->mu);
        if (gc->counted)
            msh_climits_conn_close(g->cl, &gc->peer, now);
        free(gc);
        *socket_context = NULL;
    }
}

/* Called with the raw request target before libmicrohttpd splits and decodes it. Returns no request
 * context: http.c's first call must see NULL. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    gconn *gc = conn_rec(conn);
    if (gc) {
        gc->uri = uri;
        gc->uri_len = uri ? strlen(uri) : 0;
        gc->nul = false;
    }
    return NULL;
}

/* libmicrohttpd's decoding of the path and each argument, noting a decoded NUL (%00). */
static size_t on_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    size_t n = MHD_http_unescape(s);
    gconn *gc = conn_rec(conn);
    if (gc)
        gc->nul = memchr(s, 0, n) != NULL; /* arguments are checked by their stored lengths */
    return n;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    msh_http_guard *g = cls;
    if (atomic_fetch_add(&g->lib_lines, 1) < LOG_LINES_PER_INTERVAL) {
        fputs("mashaer: libmicrohttpd: ", stderr);
        vfprintf(stderr, fmt, ap);
    } else {
        atomic_fetch_add(&g->lib_dropped, 1);
    }
}

struct MHD_OptionItem *msh_http_guard_options(msh_http_guard *g)
{
    return g->opts;
}

static void refuse(msh_refusal *no, int status, bool close, double retry_after, const char *fmt, const char *arg)
{
    no->status = status;
    no->close = close;
    no->retry_after = retry_after > 0 ? (int)retry_after + 1 : 0;
    snprintf(no->why, sizeof no->why, fmt, arg);
}

typedef struct {
    msh_hdr_ref *h;
    size_t n, cap;
} hdr_list;

/* A query argument whose name or value holds a decoded NUL: libmicrohttpd keeps the decoded
 * lengths, the C strings stop at the NUL. */
static enum MHD_Result find_nul_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                    const char *value, size_t value_size)
{
    (void)kind;
    const char **bad = cls;
    if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
        *bad = key;
        return MHD_NO;
    }
    return MHD_YES;
}

static enum MHD_Result add_hdr(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                               const char *value, size_t value_size)
{
    (void)kind;
    hdr_list *l = cls;
    if (l->n < l->cap)
        l->h[l->n++] = (msh_hdr_ref){key, key_size, value ? value : "", value ? value_size : 0};
    return MHD_YES;
}

/* The framing verdict of the request's header block, or NULL. */
static const char *framing(struct MHD_Connection *conn, const char *method, hdr_list *l)
{
    const union MHD_ConnectionInfo *hs = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (!hs)
        return NULL;
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, add_hdr, l);
    return msh_framing_check(l->h, l->n, method + hs->header_size);
}

bool msh_http_guard_headers(msh_http_guard *g, struct MHD_Connection *conn, const char *method, const char *version,
                            msh_refusal *no)
{
    gconn *gc = conn_rec(conn);
    if (!gc)
        return false;
    double now = now_s();
    pthread_mutex_lock(&g->mu);
    gc->deadline = 0;
    pthread_mutex_unlock(&g->mu);
    gc->client = gc->peer;
    /* a NUL in the target: decoded (%00), or raw (the target's bytes run to the version) */
    if (gc->nul || (gc->uri && version && *version && (size_t)(version - 1 - gc->uri) != gc->uri_len)) {
        refuse(no, 400, true, 0, "%s", "a NUL byte (or %00) in the request target");
        return true;
    }
    const char *nul_arg = NULL;
    MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, find_nul_arg, &nul_arg);
    if (nul_arg) {
        refuse(no, 400, true, 0, "a NUL byte (%%00) in the query argument '%.80s'", nul_arg);
        return true;
    }
    int nh = MHD_get_connection_values(conn, MHD_HEADER_KIND, NULL, NULL);
    hdr_list l = {calloc(nh > 0 ? (size_t)nh : 1, sizeof(msh_hdr_ref)), 0, nh > 0 ? (size_t)nh : 0};
    if (!l.h) {
        refuse(no, 503, true, 1, "%s", "out of memory");
        return true;
    }
    const char *bad = framing(conn, method, &l);
    if (bad) {
        free(l.h);
        refuse(no, 400, true, 0, "ambiguous or malformed request framing: %s", bad);
        return true;
    }
    /* who: the peer, or what a trusted proxy reports (its last X-Forwarded-For address) */
    if (msh_climits_trusted(g->cl, &gc->peer)) {
        const char *xff = NULL;
        for (size_t i = 0; i < l.n; i++)
            if (l.h[i].key_len == 15 && !strncasecmp(l.h[i].key, "X-Forwarded-For", 15))
                xff = l.h[i].value;
        msh_client_key k;
        if (xff && !msh_client_key_from_xff(xff, &k))
            gc->client = k;
    }
    free(l.h);
    /* the budget: a valid token's own, else the client address's */
    msh_client_key budget = gc->client;
    const char *tok;
    size_t len;
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth && !msh_auth_parse_bearer(auth, &tok, &len)) {
        pthread_mutex_lock(&g->app->tok_lock);
        msh_role role = msh_token_set_check(g->app->tokens, tok, len);
        pthread_mutex_unlock(&g->app->tok_lock);
        if (role != MSH_ROLE_NONE)
            msh_client_key_token(tok, len, &budget);
    }
    double retry = 0;
    if (!msh_climits_request(g->cl, &budget, now, &retry)) {
        char who[64];
        msh_client_key_format(&budget, who, sizeof who);
        refuse(no, 429, false, retry, "too many requests from %s: slow down (see Retry-After)", who);
        return true;
    }
    return false;
}

void msh_http_guard_done(msh_http_guard *g, struct MHD_Connection *conn)
{
    gconn *gc = conn_rec(conn);
    if (!gc)
        return;
    pthread_mutex_lock(&g->mu);
    gc->deadline = now_s() + msh_climits_cfg(g->cl)->header_timeout_s;
    pthread_mutex_unlock(&g->mu);
    gc->uri = NULL; /* the next request's URI log sets it again */
}

/* Every TICK: shut down connections past their header deadline; every --client-log-s: the summary. */
static void *guard_main(void *arg)
{
    msh_http_guard *g = arg;
    double last_report = now_s();
    while (!atomic_load(&g->stop)) {
        struct timespec ts = {0, TICK_NS};
        nanosleep(&ts, NULL);
        double now = now_s();
        pthread_mutex_lock(&g->mu);
        for (gconn *gc = g->head; gc; gc = gc->next)
            if (gc->deadline > 0 && now > gc->deadline && !gc->shut && gc->fd >= 0) {
                shutdown(gc->fd, SHUT_RDWR);
                gc->shut = true;
                msh_climits_note_header_timeout(g->cl, &gc->peer, now);
            }
        pthread_mutex_unlock(&g->mu);
        if (now - last_report >= msh_climits_cfg(g->cl)->log_interval_s) {
            char extra[96] = "", line[1024];
            unsigned long dropped = atomic_exchange(&g->lib_dropped, 0);
            atomic_store(&g->lib_lines, 0);
            if (dropped)
                snprintf(extra, sizeof extra, "%lu more libmicrohttpd messages not shown", dropped);
            if (msh_climits_report(g->cl, now, now - last_report, extra, line, sizeof line))
                fprintf(stderr, "mashaer: %s\n", line);
            last_report = now;
        }
    }
    return NULL;
}

msh_http_guard *msh_http_guard_new(msh_app *app, const char **why)
{
    msh_http_guard *g = calloc(1, sizeof *g);
    *why = "out of memory";
    if (!g)
        return NULL;
    g->app = app;
    if (!(g->cl = msh_climits_new(&app->cfg.clients))) {
        *why = "--trusted-proxy: give up to 8 IPv4 or IPv6 addresses, comma-separated";
        free(g);
        return NULL;
    }
    pthread_mutex_init(&g->mu, NULL);
    atomic_init(&g->stop, false);
    atomic_init(&g->lib_lines, 0);
    atomic_init(&g->lib_dropped, 0);
    g->opts[0] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_log, g}; /* first: all messages */
    g->opts[1] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, g};
    g->opts[2] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, g};
    g->opts[3] = (struct MHD_OptionItem){MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)on_unescape, g};
    g->opts[4] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
        *why = "cannot start the connection guard thread";
        msh_http_guard_free(g);
        return NULL;
    }
    g->thread_started = true;
    return g;
}

void msh_http_guard_free(msh_http_guard *g)
{
    if (!g)
        return;
    atomic_store(&g->stop, true);
    if (g->thread_started)
        pthread_join(g->thread, NULL);
    msh_climits_free(g->cl);
    pthread_mutex_destroy(&g->mu);
    free(g);
}
