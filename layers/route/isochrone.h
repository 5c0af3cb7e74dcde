/* isochrone.h: the area reachable on foot, as a polygon.
 *
 * The reachable part of the network (whole edges, and the reached part of the edges at the
 * edge of reach) is buffered by `buffer_m` on each side and unioned with GEOS, in a local
 * metric plane around the origin; the result is a GeoJSON Polygon or MultiPolygon in lon/lat.
 */
#ifndef MSH_ISOCHRONE_H
#define MSH_ISOCHRONE_H

#include "core/msh_buf.h"
#include "graph.h"

typedef struct msh_isochrone_stats {
    double reach_m;   /* network length reached */
    double area_m2;   /* area of the polygon */
    uint32_t edges;   /* edges reached (wholly or in part) */
} msh_isochrone_stats;

/**
 * From `src` within `cutoff` (units of w; w NULL: metres), append the GeoJSON geometry to `out`.
 * MSH_ENOTFOUND when nothing but the point itself is reachable.
 */
msh_rc msh_isochrone(const msh_graph *g, const float *w, const msh_snap *src, double cutoff, double buffer_m,
                     msh_buf *out, msh_isochrone_stats *st, msh_err *err);

#endif
