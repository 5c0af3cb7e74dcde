/* walkreq.h: what the walking routes (/route, /isochrone, the /query routes) share: the network view,
 * snapping a request's point with a clear answer when it is off the network, feature lookups. */
#ifndef MSH_WALKREQ_H
#define MSH_WALKREQ_H

#include "http/http.h"
#include "route/params.h"
#include "route/phrases.h"
#include "route/walknet.h"

/** Snapping reach when the request gives no max_snap, metres. */
#define MSH_WALK_SNAP_DEFAULT 300.0

/** The current network view, or NULL after answering 503 (no walking layer loaded). */
msh_netview *msh_walk_view(msh_req *r);

/** max_snap (metres, 1..5000; default MSH_WALK_SNAP_DEFAULT); false after answering 400. */
bool msh_walk_max_snap(msh_req *r, double *out);

/** The phrase table of `lang` (absent: English); NULL after answering 400 for a language without one. */
const msh_phrases *msh_walk_lang(msh_req *r);

/** Snap lon/lat; false after answering 422 naming `what` and how far the network is. */
bool msh_walk_snap(msh_req *r, const msh_graph *g, const char *what, double lon, double lat, double max_m,
                   msh_snap *out);

/** A point of a feature to walk to: the point itself, or the vertex of a line or area nearest to lon/lat. */
void msh_walk_feature_point(const msh_feature *f, double lon, double lat, double *plon, double *plat);

/**
 * Resolve a place: a point as is; camp:ID / asset:ID to the camp's entrance (entrance_lon /
 * entrance_lat fields when the camp has them, else its outline's point nearest the network)
 * or the asset's position. False after answering 404/400.
 */
bool msh_walk_place(msh_req *r, const msh_graph *g, const char *what, const msh_place *p, double *lon, double *lat);

/**
 * The route of profile=wheelchair (routes_wheelchair.c) over costs `w` (NULL: lengths) with the
 * walkways a wheelchair cannot use closed; *barred counts those. Nonzero after answering 422/404/5xx.
 */
msh_rc msh_wheelchair_route(msh_req *r, const msh_graph *g, const float *w, double minw, const msh_snap *a,
                            const msh_snap *b, msh_path *p, uint32_t *barred);

#endif
