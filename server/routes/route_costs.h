/* route_costs.h: cost estimates of the endpoints whose work grows with their parameters, for
 * the admission gate (server/http/admit.h, named in the route table's `cost` column).
 *
 * A unit is about 10 ms of one core; the figures come from the demo network and layers
 * (docs/BENCHMARKS.md, "Hardening: admission control"). An estimate reads the query string
 * only (and, for isochrones, the result cache): it never searches or builds geometry. A request
 * with bad parameters costs 0: its handler refuses it with a 400 before doing any work.
 */
#ifndef MSH_ROUTE_COSTS_H
#define MSH_ROUTE_COSTS_H

#include "http/http.h"

/** /isochrone: 100 units for 60 minutes, growing with the square of the minutes (the area
 * reached); answered from the isochrone cache when the same one was computed before. */
int msh_cost_isochrone(msh_req *r);
/** /route: an A* search over the network. */
int msh_cost_route(msh_req *r);
/** /query/nearest: grows with limit, max_m and a filter. */
int msh_cost_nearest(msh_req *r);
/** /incidents/{id}/responders: two one-to-all searches over the walking graph. */
int msh_cost_responders(msh_req *r);
/** /ogc: item pages grow with `limit`, downloads (f=gpkg|shp|csv|kml) more so; landing pages, collections
 * and single items are cheap. */
int msh_cost_ogc(msh_req *r);

#endif
