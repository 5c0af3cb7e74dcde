/* http.c: libmicrohttpd glue: dispatch, common headers, conditional requests, metrics. */
#include "http/http.h"
#include "http/host_links.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/msh_time.h"
#include "http/admit.h"
#include "http/auth.h"
#include "http/defer.h"
#include "http/http_guard.h"
#include "http/httphdr.h"
#include "http/route_table.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *msh_req_header(msh_req *r, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_HEADER_KIND, name);
}

const char *msh_req_arg(msh_req *r, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct {
    int (*fn)(void *ud, const char *key, const char *value);
    void *ud;
} args_walk;

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    args_walk *w = cls;
    return w->fn(w->ud, key, value) ? MHD_NO : MHD_YES;
}

void msh_req_args(msh_req *r, int (*fn)(void *ud, const char *key, const char *value), void *ud)
{
    args_walk w = {fn, ud};
    MHD_get_connection_values((struct MHD_Connection *)r->conn, MHD_GET_ARGUMENT_KIND, on_arg, &w);
}

bool msh_req_accepts_gzip(msh_req *r)
{
    return msh_hdr_accepts_gzip(msh_req_header(r, MHD_HTTP_HEADER_ACCEPT_ENCODING));
}

void msh_req_base_url(msh_req *r, char *out, size_t cap)
{
    if (r->app->cfg.public_url) {
        snprintf(out, cap, "%s", r->app->cfg.public_url);
        return;
    }
    r->resp.vary_host = true;
    const char *host = msh_req_header(r, MHD_HTTP_HEADER_HOST);
    if (msh_hdr_host_ok(host))
        snprintf(out, cap, "http://%s", host);
    else
        snprintf(out, cap, "http://%s:%d", r->app->cfg.bind, r->app->cfg.port);
}

bool msh_req_etag_matches(msh_req *r, const char *etag)
{
    return msh_hdr_etag_matches(msh_req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH), etag);
}

void msh_resp_body(msh_req *r, int status, const char *ctype, const void *data, size_t len)
{
    r->resp.status = status;
    r->resp.ctype = ctype;
    msh_buf_reset(&r->resp.body);
    r->resp.gzip = false;
    r->resp.vary_encoding = true;
    if (len > 1024 && msh_req_accepts_gzip(r) && msh_gzip(data, len, &r->resp.body, 6) == MSH_OK) {
        r->resp.gzip = true;
        return;
    }
    if (msh_buf_append(&r->resp.body, data, len)) {
        r->resp.status = 500;
        r->resp.ctype = "application/json";
        msh_buf_reset(&r->resp.body);
        msh_buf_printf(&r->resp.body, "{\"error\":\"response too large\",\"status\":500}\n");
    }
}

void msh_resp_buf(msh_req *r, int status, const char *ctype, const msh_buf *b)
{
    msh_rc rc = msh_buf_error(b);
    if (rc == MSH_ETOOBIG)
        msh_resp_error(r, 413, "the response would be larger than this server sends (%zu MiB): ask for less "
                               "(a smaller bbox, limit or zoom range)", b->limit >> 20);
    else if (rc)
        msh_resp_error(r, 500, "the response could not be made: %s", msh_rc_str(rc));
    else
        msh_resp_body(r, status, ctype, b->data, b->len);
}

void msh_resp_stream(msh_req *r, const char *ctype, long (*fn)(void *cls, char *buf, size_t max),
                     void (*free_fn)(void *cls), void *cls)
{
    r->resp.status = 200;
    r->resp.ctype = ctype;
    r->resp.stream = fn;
    r->resp.stream_free = free_fn;
    r->resp.stream_cls = cls;
}

void msh_http_suspend(void *conn)
{
    MHD_suspend_connection((struct MHD_Connection *)conn);
}

void msh_http_resume(void *conn)
{
    MHD_resume_connection((struct MHD_Connection *)conn);
}

typedef struct {
    long (*fn)(void *cls, char *buf, size_t max);
    void (*free_fn)(void *cls);
    void *cls;
} stream_ctx;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream_ctx *s = cls;
    long n = s->fn(s->cls, buf, max);
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream_ctx *s = cls;
    if (s->free_fn)
        s->free_fn(s->cls);
    free(s);
}

/* The error answer: {"error": the message[, "retry_after_s": N], "status": status}, and Retry-After
 * when N > 0. */
static void error_answer(msh_req *r, int status, unsigned retry_after_s, const char *fmt, va_list ap)
{
    char msg[600];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msh_buf b;
    msh_buf_init(&b, 4096);
    msh_buf_printf(&b, "{\"error\":\"");
    msh_buf_json_str(&b, msg);
    if (retry_after_s) {
        msh_buf_printf(&b, "\",\"retry_after_s\":%u,\"status\":%d}\n", retry_after_s, status);
        r->resp.retry_after = retry_after_s;
    } else {
        msh_buf_printf(&b, "\",\"status\":%d}\n", status);
    }
    r->resp.etag[0] = 0;
    r->resp.cache_control = "no-store";
    r->resp.nextra = 0; /* no Content-Crs or Content-Disposition on an error */
    r->resp.past = false; /* an error is now: it carries the server's time (a refused asof too) */
    msh_resp_body(r, status, "application/json", b.data, b.len);
    msh_buf_free(&b);
}

void msh_resp_error(msh_req *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_answer(r, status, 0, fmt, ap);
    va_end(ap);
}

void msh_resp_unavailable(msh_req *r, unsigned retry_after_s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_answer(r, 503, retry_after_s, fmt, ap);
    va_end(ap);
}

void msh_resp_header(msh_req *r, const char *name, const char *fmt, ...)
{
    if (r->resp.nextra == MSH_RESP_EXTRA)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->resp.extra[r->resp.nextra].value, sizeof r->resp.extra[0].value, fmt, ap);
    va_end(ap);
    r->resp.extra[r->resp.nextra++].name = name;
}

/* Answer from the route table: 405 when the path's endpoint does not take the method, the
 * row's role checked, then its handler. True when an expensive request went to the offload
 * pool (http/defer.h): it is answered when its connection resumes. */
static bool dispatch(msh_req *r, const msh_route_match *m, double t0, void **con_cls)
{
    if (!m->route) {
        char allow[64];
        msh_route_allow_header(m->allowed, allow, sizeof allow);
        r->resp.allow = m->allowed;
        msh_resp_error(r, 405, "method %s not allowed on %.80s: it answers %s", r->method, r->path, allow);
        return false;
    }
    if (m->route->role != MSH_ROLE_NONE && !msh_auth_require(r, m->route->role))
        return false;
    msh_admit_ticket t; /* expensive requests through the admission gate (http/admit.h) */
    if (!msh_admit_begin(r, m->route, &t))
        return false;
    if (t.units >= MSH_ADMIT_SLOT_UNITS && msh_defer_start(r, m->route, m->rest, &t, t0, con_cls))
        return true;
    m->route->handler(r, m->rest);
    msh_admit_end(r, &t);
    if (r->parked) { /* the handler answers later, from another thread (http/defer.h) */
        ((msh_deferred *)r->parked)->t0 = t0;
        *con_cls = r->parked;
        return true;
    }
    return false;
}

static bool has_extra(const msh_resp *resp, const char *name)
{
    for (int i = 0; i < resp->nextra; i++)
        if (!strcasecmp(resp->extra[i].name, name))
            return true;
    return false;
}

/* Mashaer-Time on every answer: the server's clock as it answers (msh_now_ms, which --test-clock
 * moves), to the millisecond, so that a browser whose own clock is wrong still tells how old a time
 * it is shown is (web/clock.js). An answer that shows another instant names it itself (a playback
 * tile: its minute) or has none (an asof answer: resp.past). */
static void add_server_time(struct MHD_Response *resp, const msh_req *r)
{
    if (r->resp.past || has_extra(&r->resp, "Mashaer-Time"))
        return;
    char iso[MSH_TIME_ISO_CAP];
    msh_time_format_iso(msh_now_ms(), iso, sizeof iso, 3);
    MHD_add_response_header(resp, "Mashaer-Time", iso);
}

static enum MHD_Result add_common_headers(struct MHD_Response *resp, msh_req *r)
{
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", "ETag, Content-Length, Content-Range, Accept-Ranges, WWW-Authenticate, Retry-After, Location, Content-Crs, Content-Disposition, Mashaer-Time");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, "Mashaer/" MSH_VERSION);
    if (r->resp.ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->resp.ctype);
    if (r->resp.gzip)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    if (r->resp.vary_encoding || r->resp.vary_accept || r->resp.vary_host) {
        char vary[48];
        snprintf(vary, sizeof vary, "%s%s%s", r->resp.vary_encoding ? ", Accept-Encoding" : "",
                 r->resp.vary_accept ? ", Accept" : "", r->resp.vary_host ? ", Host" : "");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, vary + 2);
    }
    if (r->resp.etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->resp.etag);
    if (r->resp.cache_control)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->resp.cache_control);
    if (r->resp.accept_ranges)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    if (r->resp.content_range[0] && r->resp.status != 304)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, r->resp.content_range);
    if (r->resp.www_authenticate)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, r->resp.www_authenticate);
    if (r->resp.retry_after) {
        char ra[16];
        snprintf(ra, sizeof ra, "%u", r->resp.retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (r->resp.location[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->resp.location);
    if (r->resp.close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    for (int i = 0; i < r->resp.nextra; i++)
        MHD_add_response_header(resp, r->resp.extra[i].name, r->resp.extra[i].value);
    add_server_time(resp, r);
    return MHD_YES;
}

/* Per-request state of a request whose route takes a body: the body, capped at the row's body_max. */
typedef struct {
    int kind; /* MSH_CONN_BODY (http/defer.h) */
    msh_buf body;
    size_t cap;
    bool too_large;
} body_state;

static int seen_headers; /* address only: marks "headers seen" in a GET's request context */

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    msh_app *app = cls;
    (void)toe;
    msh_http_guard_done(app->guard, conn); /* the next request's header deadline starts */
    if (*con_cls && *con_cls != &seen_headers && *(int *)*con_cls == MSH_CONN_DEFERRED) {
        msh_defer_drop(*con_cls); /* the client left while its request ran */
    } else if (*con_cls && *con_cls != &seen_headers) {
        body_state *bs = *con_cls;
        msh_buf_free(&bs->body);
        free(bs);
    }
    *con_cls = NULL;
}

static void req_init(msh_req *r, msh_app *app, struct MHD_Connection *conn, const char *method, const char *url,
                     int label)
{
    memset(r, 0, sizeof *r);
    r->app = app;
    r->conn = conn;
    r->method = method;
    r->path = url;
    r->label = label;
    r->client = msh_http_guard_client(conn);
    r->resp.fd = -1;
    msh_buf_init(&r->resp.body, MSH_MAX_BODY);
}

static enum MHD_Result answer(msh_app *app, struct MHD_Connection *conn, msh_req *rp, bool is_options, double t0);

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    msh_app *app = cls;
    bool is_options = !strcmp(method, "OPTIONS");
    msh_route_match m = msh_route_find(method, url);
    bool takes_body = m.route && m.route->body_max;
    if (*con_cls == NULL) {
        msh_refusal no; /* framing, NULs, the client's request rate: refused before a byte of body */
        if (msh_http_guard_headers(app->guard, conn, method, version, &no)) {
            msh_req r;
            req_init(&r, app, conn, method, url, m.label);
            msh_resp_error(&r, no.status, "%s", no.why);
            r.resp.retry_after = no.retry_after;
            r.resp.close = no.close;
            return answer(app, conn, &r, false, now_s());
        }
        /* First call: headers only. Answer once the request is complete; a response queued
         * now would make MHD close the connection. A route that takes a body gets a buffer with a cap. */
        if (takes_body) {
            size_t cap = m.route->body_max == MSH_BODY_CONFIGURED ? app->cfg.max_body_bytes : m.route->body_max;
            body_state *bs = calloc(1, sizeof *bs);
            if (!bs)
                return MHD_NO;
            bs->kind = MSH_CONN_BODY;
            msh_buf_init(&bs->body, cap + 1);
            bs->cap = cap;
            *con_cls = bs;
            /* a declared length over the cap is refused before a byte of the body is read */
            const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            char *end;
            unsigned long long declared = cl ? strtoull(cl, &end, 10) : 0;
            if (!cl || *end || declared <= cap)
                return MHD_YES;
            bs->too_large = true;
            msh_buf_free(&bs->body);
        } else {
            *con_cls = &seen_headers;
            return MHD_YES;
        }
    }
    body_state *bs = takes_body && *con_cls != &seen_headers ? *con_cls : NULL;
    if (*upload_data_size) {
        /* the buffer keeps a byte for the NUL: a body of cap + 1 bytes would fit in it, cut by one */
        if (bs && !bs->too_large && (msh_buf_append(&bs->body, upload_data, *upload_data_size) ||
                                     bs->body.len > bs->cap)) {
            bs->too_large = true; /* keep reading and dropping; answer 413 when the upload ends */
            msh_buf_free(&bs->body);
        }
        *upload_data_size = 0; /* a body on a route that takes none: read and dropped */
        return MHD_YES;
    }
    double t0;
    msh_req r;
    if (*con_cls != &seen_headers && *(int *)*con_cls == MSH_CONN_DEFERRED) {
        msh_defer_take(*con_cls, &r, &t0); /* back from the offload pool, answered */
        *con_cls = &seen_headers;
        return answer(app, conn, &r, false, t0);
    }
    t0 = now_s();
    req_init(&r, app, conn, method, url, m.label);
    if (bs) {
        msh_buf_putc(&bs->body, 0); /* the cap has room for it */
        r.body = bs->body.len ? (const char *)bs->body.data : NULL;
        r.body_len = bs->body.len ? bs->body.len - 1 : 0;
        r.body_too_large = bs->too_large;
    }
    if (is_options) {
        r.resp.status = 204;
        r.resp.allow = m.allowed ? m.allowed : MSH_M_GET;
        if (m.allow) /* what this caller's token may do here (Part 4 editing) */
            r.resp.allow_caller = m.allow(&r, m.rest) | MSH_M_GET;
    } else if (!url || url[0] != '/') {
        msh_resp_error(&r, 400, "malformed request path");
    } else if (dispatch(&r, &m, t0, con_cls)) {
        if (bs && r.parked) { /* a parked handler has read its body already */
            msh_buf_free(&bs->body);
            free(bs);
        }
        return MHD_YES; /* suspended until the offload pool (or a parked handler) has answered it */
    }
    return answer(app, conn, &r, is_options, t0);
}

/* Send what r->resp holds (304 when If-None-Match matches), with the common headers; count it. */
static enum MHD_Result answer(msh_app *app, struct MHD_Connection *conn, msh_req *rp, bool is_options, double t0)
{
    msh_req r = *rp;
    if (r.resp.vary_host && r.resp.etag[0]) /* links from the Host header: the tag names the host too */
        msh_etag_fold_host(r.resp.etag, sizeof r.resp.etag, msh_req_header(&r, MHD_HTTP_HEADER_HOST));
    /* conditional GET: the handler set an ETag; a match answers 304 with no body */
    if (r.resp.status == 200 && r.resp.etag[0] && msh_req_etag_matches(&r, r.resp.etag)) {
        r.resp.status = 304;
        msh_buf_reset(&r.resp.body);
        if (r.resp.ext_free) {
            r.resp.ext_free(r.resp.ext_cls);
            r.resp.ext_free = NULL;
        }
        r.resp.ext = NULL;
        r.resp.ext_len = 0;
        if (r.resp.fd >= 0) {
            close(r.resp.fd);
            r.resp.fd = -1;
        }
        r.resp.gzip = false;
        r.resp.ctype = NULL;
    }
    struct MHD_Response *resp;
    uint64_t sent = 0;
    if (r.resp.fd >= 0) {
        resp = MHD_create_response_from_fd_at_offset64(r.resp.fd_size, r.resp.fd, r.resp.fd_offset);
        sent = r.resp.fd_size;
    } else if (r.resp.stream) {
        stream_ctx *sc = malloc(sizeof *sc);
        resp = NULL;
        if (sc) {
            *sc = (stream_ctx){r.resp.stream, r.resp.stream_free, r.resp.stream_cls};
            resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, sc, stream_free);
            if (!resp)
                free(sc);
        }
        if (!resp && r.resp.stream_free)
            r.resp.stream_free(r.resp.stream_cls);
        sent = 0;
    } else if (r.resp.ext) {
        resp = MHD_create_response_from_buffer_with_free_callback_cls(r.resp.ext_len, (void *)(uintptr_t)r.resp.ext,
                                                                      r.resp.ext_free, r.resp.ext_cls);
        if (!resp && r.resp.ext_free)
            r.resp.ext_free(r.resp.ext_cls);
        sent = r.resp.ext_len;
    } else {
        resp = MHD_create_response_from_buffer(r.resp.body.len, r.resp.body.data, MHD_RESPMEM_MUST_COPY);
        sent = r.resp.body.len;
    }
    msh_buf_free(&r.resp.body);
    if (!resp)
        return MHD_NO;
    add_common_headers(resp, &r);
    if (r.resp.allow) {
        char allow[64];
        msh_route_allow_header(r.resp.allow, allow, sizeof allow);
        if (is_options) {
            MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_METHODS, allow);
            MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                    "Authorization, Content-Type, Content-Crs, If-Match, If-None-Match, Range, If-Range");
            MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
            msh_route_allow_header(r.resp.allow_caller ? r.resp.allow_caller : r.resp.allow, allow, sizeof allow);
            MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
        } else {
            MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
        }
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r.resp.status, resp);
    MHD_destroy_response(resp);
    msh_metrics_request(app->metrics, r.label, r.resp.status, now_s() - t0, sent);
    return ret;
}

msh_rc msh_http_start(msh_app *app, void **daemon, int *port, msh_err *err)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)app->cfg.port);
    if (inet_pton(AF_INET, app->cfg.bind, &sa.sin_addr) != 1)
        return msh_err_set(err, MSH_EINVAL, "--bind: '%s' is not an IPv4 address", app->cfg.bind);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    const char *why;
    if (!(app->guard = msh_http_guard_new(app, &why))) /* its logger takes libmicrohttpd's diagnostics */
        return msh_err_set(err, MSH_EINVAL, "%s", why);
    struct MHD_Daemon *d =
        MHD_start_daemon(flags, (uint16_t)app->cfg.port, msh_http_guard_accept, app->guard, on_request, app,
                         MHD_OPTION_ARRAY, msh_http_guard_options(app->guard), MHD_OPTION_SOCK_ADDR, &sa,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, app,
                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned)app->cfg.threads, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned)(app->cfg.max_connections > 0 ? app->cfg.max_connections : 4096), MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024, MHD_OPTION_LISTEN_BACKLOG_SIZE,
                         (unsigned)1024, MHD_OPTION_END);
    if (!d)
        return msh_err_set(err, MSH_EIO, "cannot listen on %s:%d (in use, or not allowed)", app->cfg.bind,
                           app->cfg.port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : app->cfg.port;
    *daemon = d;
    return MSH_OK;
}

void msh_http_stop(void *daemon)
{
    if (daemon)
        MHD_stop_daemon((struct MHD_Daemon *)daemon);
}
