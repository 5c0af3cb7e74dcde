/* defer.c: expensive requests handed to the offload pool (see defer.h). */
#include "http/defer.h"

#include <stdlib.h>
#include <unistd.h>

#include "http/offload.h"

/* On a pool thread (or the caller's, when the pool refused): the handler, the end at the gate,
 * then the connection back to libmicrohttpd. Nothing touches d after the resume: the connection's
 * thread owns it again. */
static void run(void *arg)
{
    msh_deferred *d = arg;
    d->route->handler(&d->r, d->rest);
    msh_admit_end(&d->r, &d->ticket);
    msh_http_resume(d->r.conn);
}

bool msh_defer_start(msh_req *r, const msh_route *route, const char *rest, const msh_admit_ticket *t, double t0,
                     void **con_cls)
{
    if (!r->app->offload)
        return false;
    msh_deferred *d = malloc(sizeof *d);
    if (!d)
        return false;
    *d = (msh_deferred){MSH_CONN_DEFERRED, *r, route, rest, *t, t0};
    *con_cls = d;
    /* suspended before the job can resume it */
    msh_http_suspend(r->conn);
    if (!msh_offload_submit(r->app->offload, run, d))
        run(d);
    return true;
}

msh_req *msh_defer_park(msh_req *r)
{
    msh_deferred *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->kind = MSH_CONN_DEFERRED;
    d->r = *r;
    d->r.body = NULL;
    d->r.body_len = 0;
    /* suspended before another thread can resume it; libmicrohttpd calls again for this connection
     * only after dispatch (http.c) has returned and stored d as its context */
    msh_http_suspend(r->conn);
    r->parked = d;
    return &d->r;
}

void msh_defer_unpark(msh_req *parked)
{
    msh_http_resume(parked->conn);
}

void msh_defer_take(msh_deferred *d, msh_req *out, double *t0)
{
    *out = d->r;
    *t0 = d->t0;
    free(d);
}

void msh_defer_drop(msh_deferred *d)
{
    msh_resp *resp = &d->r.resp;
    msh_buf_free(&resp->body);
    if (resp->ext_free)
        resp->ext_free(resp->ext_cls);
    if (resp->fd >= 0)
        close(resp->fd);
    if (resp->stream_free)
        resp->stream_free(resp->stream_cls);
    free(d);
}
