/* http.h: requests and responses as the route handlers see them.
 *
 * http.c is the only file that knows libmicrohttpd. A handler reads the
 * request through msh_req_* and fills req->resp; http.c adds the common
 * headers (CORS, Vary, ETag, Cache-Control), answers 304 when If-None-Match
 * matches, queues the response and counts it in the metrics.
 */
#ifndef MSH_HTTP_H
#define MSH_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "serve/app.h"
#include "core/msh_buf.h"
#include "gzip.h" /* msh_gzip, MSH_TILE_GZIP_LEVEL */

#define MSH_MAX_BODY ((size_t)64 << 20)
/** Most extra headers one answer carries (msh_resp_header). */
#define MSH_RESP_EXTRA 3

typedef struct msh_resp {
    int status;
    const char *ctype;
    msh_buf body;      /* owned */
    const uint8_t *ext; /* or bytes owned elsewhere, sent without a copy ... */
    size_t ext_len;
    void (*ext_free)(void *cls); /* ... and handed back through this when sent */
    void *ext_cls;
    int fd;            /* or a file to send (closed by http.c), -1 if none */
    uint64_t fd_size;  /* its bytes from fd_offset */
    uint64_t fd_offset;
    char content_range[80]; /* Content-Range value (206, 416), or empty */
    bool accept_ranges; /* Accept-Ranges: bytes */
    char etag[96];     /* with quotes, or empty */
    const char *cache_control;
    const char *www_authenticate; /* WWW-Authenticate value (static string), or NULL */
    bool gzip;         /* body is gzip-encoded */
    long (*stream)(void *cls, char *buf, size_t max); /* or a stream: bytes, 0 = none now (suspended), -1 = end */
    void (*stream_free)(void *cls);
    void *stream_cls;
    bool vary_encoding;
    bool vary_accept;  /* the body depends on the Accept header too (OGC f=json|html negotiation) */
    bool vary_host;    /* links made from the Host header (no --public-url): http/host_links.h */
    unsigned allow;    /* MSH_M_* methods for the Allow header (405) or CORS preflight (OPTIONS); 0: none */
    unsigned retry_after; /* seconds for a Retry-After header (429, 503); 0: none */
    unsigned allow_caller; /* OPTIONS: the methods this caller may use (`Allow`); 0: `allow` */
    char location[512]; /* Location header (201 Created), or empty */
    bool close;        /* Connection: close (the request's framing could not be trusted) */
    bool past;         /* the answer shows another instant than now (an asof answer): no Mashaer-Time of the
                        * server's clock (add_common_headers in http.c) */
    struct {           /* more headers of a successful answer (msh_resp_header): Content-Crs, Content-Disposition */
        const char *name; /* a static string */
        char value[240];
    } extra[MSH_RESP_EXTRA];
    int nextra;
} msh_resp;

typedef struct msh_req {
    msh_app *app;
    void *conn;        /* struct MHD_Connection * */
    const char *method;
    const char *path;
    int label;            /* the metrics label id of the endpoint (server/route_table.h) */
    const char *body;     /* request body (POST), NUL-terminated; NULL when none */
    size_t body_len;
    bool body_too_large;  /* the body went past cfg.max_body_bytes and was dropped */
    const struct msh_client_key *client; /* who asks (server/http/http_guard.h); NULL outside a daemon */
    msh_resp resp;
    void *parked;         /* set by msh_defer_park (http/defer.h): answered later, from another thread */
} msh_req;

/**
 * Answer `status` with the content of `b` (gzipped when it pays), or, when a write into `b` failed
 * (msh_buf_error: past its cap, out of memory), 413 or 500 saying so: a document with a hole in
 * it never goes out. The one place handlers' buffer errors are checked.
 */
void msh_resp_buf(msh_req *r, int status, const char *ctype, const msh_buf *b);

const char *msh_req_header(msh_req *r, const char *name);
const char *msh_req_arg(msh_req *r, const char *name);
/** Call fn(ud, key, value) for every query argument in order (value NULL for "?key"); fn != 0 stops. */
void msh_req_args(msh_req *r, int (*fn)(void *ud, const char *key, const char *value), void *ud);
bool msh_req_accepts_gzip(msh_req *r);
/** --public-url, else "http://host:port" from the Host header (checked; marks the answer vary_host), or the bind address. */
void msh_req_base_url(msh_req *r, char *out, size_t cap);
/** True when If-None-Match names `etag` (or its gzip twin, or "*"). */
bool msh_req_etag_matches(msh_req *r, const char *etag);

/** A one-line JSON error: {"error": "...", "status": N}. */
void msh_resp_error(msh_req *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** A refusal that passes: 503 with `Retry-After: retry_after_s` and
 * {"error": "...", "retry_after_s": N, "status": 503}; retry_after_s 0: a plain 503 error. */
void msh_resp_unavailable(msh_req *r, unsigned retry_after_s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** Add a header `name` (a static string) to the answer; dropped when the answer turns into an error. */
void msh_resp_header(msh_req *r, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** Set a body and content type; the body is gzipped when the client accepts it and it is worth it. */
void msh_resp_body(msh_req *r, int status, const char *ctype, const void *data, size_t len);

/** Answer 200 with a stream of unknown length read through `fn` (Server-Sent Events). */
void msh_resp_stream(msh_req *r, const char *ctype, long (*fn)(void *cls, char *buf, size_t max),
                     void (*free_fn)(void *cls), void *cls);
/** Take a streaming connection out of the event loop until msh_http_resume (only from its stream callback). */
void msh_http_suspend(void *conn);
void msh_http_resume(void *conn);

/** Start serving `app` on its configured address; returns the daemon (opaque) and the bound port. */
msh_rc msh_http_start(msh_app *app, void **daemon, int *port, msh_err *err);
void msh_http_stop(void *daemon);

#endif
