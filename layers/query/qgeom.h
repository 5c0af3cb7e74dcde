/* qgeom.h: geometry for query predicates (OGC bbox, CQL2 S_INTERSECTS), in lon/lat degrees.
 *
 * Design: a query geometry is a flat list of paths over one vertex array: single points,
 * open lines and polygon rings (rings carry the index of their polygon, so a point-in-area
 * test runs even-odd over exactly that polygon's outer ring and holes). Any mix is allowed,
 * which makes GEOMETRYCOLLECTION, MULTI* and a feature's geometry the same thing.
 *
 * Two geometries intersect when a vertex of one lies in or on the other, or a segment of one
 * meets a segment of the other (touching and collinear overlap count). That is exact for
 * points, lines and polygons with holes: if no boundaries meet and no vertex of either is in
 * the other, they are disjoint. Tests run in lon/lat because that is the store's CRS (what
 * OGR and GEOS compute on); feature vertices are converted from world units on the way in.
 *
 * A msh_qgeom owns its arrays; it is not shared between threads.
 */
#ifndef MSH_QGEOM_H
#define MSH_QGEOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "geom.h"

/** Most vertices a WKT literal may carry. */
#define MSH_QGEOM_MAX_POINTS 100000
/** Deepest GEOMETRYCOLLECTION nesting read from WKT. */
#define MSH_QGEOM_MAX_DEPTH 8

enum { MSH_QP_POINT = 1, MSH_QP_LINE = 2, MSH_QP_RING = 3 };

typedef struct msh_qpath {
    uint32_t off, n; /* vertices [off, off + n) */
    int32_t poly;    /* rings: their polygon's index; -1 otherwise */
    uint8_t kind;    /* MSH_QP_* */
} msh_qpath;

typedef struct msh_qgeom {
    double *xy;
    size_t npts, cap_pts;
    msh_qpath *paths;
    size_t npaths, cap_paths;
    int32_t npolys;
    double bbox[4]; /* west, south, east, north of every vertex; valid when npts > 0 */
} msh_qgeom;

void msh_qgeom_init(msh_qgeom *g);
void msh_qgeom_free(msh_qgeom *g);
/** Forget the content, keep the memory. */
void msh_qgeom_reset(msh_qgeom *g);

/** Add the polygon of a lon/lat box (west, south, east, north; west <= east). */
msh_rc msh_qgeom_add_box(msh_qgeom *g, double w, double s, double e, double n);

/**
 * Read one WKT geometry (POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON,
 * GEOMETRYCOLLECTION, each maybe EMPTY; Z/M coordinates are read and dropped) or a CQL2 BBOX(w,s,e,n)
 * / BBOX(w,s,zmin,e,n,zmax) from the start of s[0..len) into g (appended). Keywords in any case.
 * *used gets the characters consumed. MSH_EINVAL with a message naming the position on bad input
 * (unclosed rings, polygons rings under 4 points, lines under 2, non-finite numbers, too deep, too big).
 */
msh_rc msh_qgeom_parse_wkt(const char *s, size_t len, size_t *used, msh_qgeom *g, msh_err *err);

/** Replace g's content with a feature geometry (world units, layer.h) in lon/lat. */
msh_rc msh_qgeom_from_feature(msh_qgeom *g, const msh_geom *fg);

/** True when a and b share at least one point (boundaries included). */
bool msh_qgeom_intersects(const msh_qgeom *a, const msh_qgeom *b);

#endif
