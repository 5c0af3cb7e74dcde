/* gateclose.h: gates an operator closed, closed to walking.
 *
 * A gate is a point (its feed record's location). Closing it (layers/live/live_ops.h) closes
 * every walkway edge within gate_radius_m of that point to routing: cost INFINITY in the live
 * costs, so routes, isochrones and nearest-by-walking go around it at once (the PATCH that
 * closes it recomputes the costs before it answers). The costs remember which gate closed each
 * edge, so that a route that finds no way can say which closed gate stands in its way: the
 * shortest path with every closure lifted, and the gates on it, and until when each edge is planned
 * to stay closed (the forecast lets people through from then on): the latest planned reopening
 * (`reopens_at`) of the gates that close it, or never when an incident or a gate with no planned
 * reopening closes it too.
 */
#ifndef MSH_GATECLOSE_H
#define MSH_GATECLOSE_H

#include <stddef.h>

#include "graph.h"
#include "live/live.h"
#include "livecost.h"

/**
 * Close the edges near every closed gate of `live` in `lc` (w and secs set). Takes the live read
 * lock. Fills lc->edge_gate, lc->edge_reopens and lc->gate_ids (freed by msh_livecost_clear). Run
 * after the incidents' closures (msh_livecost_compute does).
 */
msh_rc msh_gateclose_apply(const msh_graph *g, msh_live *live, double radius_m, msh_livecost *lc, msh_err *err);

/**
 * Which closed gates stand between two snapped points that have no route: the ids of the gates
 * that closed edges of the shortest path with every closure lifted, comma separated, into
 * out[cap]. Returns how many (0: no gate is in the way, or no path at all).
 */
int msh_gateclose_blocking(const msh_graph *g, const msh_livecost *lc, const msh_snap *a, const msh_snap *b,
                           char *out, size_t cap);

#endif
