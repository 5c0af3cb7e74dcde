/* admit.h: the dispatcher's side of admission control (admission.h): a route row's cost
 * estimate, the gate, and the 503 a refused request gets.
 *
 * Design: every row of the route table may name a cost estimate (route_table.h): a function of
 * the request's parameters, cheap to call (no search, no geometry), that returns the units the
 * request will cost, 0 for a cheap one, or MSH_COST_ANSWERED when it answered the request
 * itself from a cache (an isochrone computed before). http.c calls msh_admit_begin before the
 * handler and msh_admit_end after it; a request refused gets 503, `Retry-After` and a JSON
 * body naming the reason, and its handler never runs.
 */
#ifndef MSH_ADMIT_H
#define MSH_ADMIT_H

#include <stdbool.h>

#include "core/msh_buf.h"
#include "http/http.h"
#include "http/route_table.h"

/** What msh_admit_begin hands to msh_admit_end. */
typedef struct msh_admit_ticket {
    unsigned units; /* 0: not through the gate */
    double t0;
} msh_admit_ticket;

/** True: run the handler (then msh_admit_end). False: the request is answered (503, or from a cache). */
bool msh_admit_begin(msh_req *r, const msh_route *route, msh_admit_ticket *t);
void msh_admit_end(msh_req *r, const msh_admit_ticket *t);

/** The admission counters in the Prometheus text format (for /metrics). */
void msh_admit_metrics(msh_app *app, msh_buf *out);

#endif
