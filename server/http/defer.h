/* defer.h: an admitted expensive request run on the offload pool (offload.h) while its
 * connection waits, suspended, off libmicrohttpd's worker threads.
 *
 * http.c hands the request over once the admission gate let it through (admit.h): the request
 * is copied into a context that becomes the connection's request context, the connection is
 * suspended, and a pool thread runs the handler and the gate's end, then resumes the
 * connection. libmicrohttpd then calls http.c again for that connection, which takes the
 * answered request back and sends it as any other. When the pool refuses (closing at shutdown,
 * or out of memory) the job runs on the calling thread, through the same steps.
 */
#ifndef MSH_DEFER_H
#define MSH_DEFER_H

#include <stdbool.h>

#include "http/admit.h"
#include "http/http.h"
#include "http/route_table.h"

/** The first field of every request context http.c keeps on a connection, to tell them apart. */
enum { MSH_CONN_BODY = 1, MSH_CONN_DEFERRED = 2 };

typedef struct msh_deferred {
    int kind;               /* MSH_CONN_DEFERRED */
    msh_req r;              /* the request; the handler fills its response */
    const msh_route *route;
    const char *rest;
    msh_admit_ticket ticket;
    double t0;              /* when the request came in (for the metrics) */
} msh_deferred;

/**
 * Run route's handler for `r` off this thread: r is moved into a new context stored in
 * *con_cls and the connection suspended. False (nothing changed) when out of memory or the
 * server has no pool: the caller runs the handler itself.
 */
bool msh_defer_start(msh_req *r, const msh_route *route, const char *rest, const msh_admit_ticket *t, double t0,
                     void **con_cls);

/**
 * Park `r` for a handler that finishes on another thread (an edit waiting for its batch,
 * services/edit_batch.h): r is moved into a new context and the connection suspended; the
 * handler returns at once and answers through the returned request, then calls msh_defer_unpark.
 * Marks r->parked, which dispatch (http.c) reads. The body (r->body) must not be read after this.
 * NULL (nothing changed) when out of memory: the handler answers on its own thread.
 */
msh_req *msh_defer_park(msh_req *r);
/** The parked request is answered: the connection goes back to libmicrohttpd (nothing may touch it after). */
void msh_defer_unpark(msh_req *parked);

/** The answered request of a resumed connection, moved into *out; frees d. */
void msh_defer_take(msh_deferred *d, msh_req *out, double *t0);

/** Free a context whose connection ended before its answer was taken. */
void msh_defer_drop(msh_deferred *d);

#endif
