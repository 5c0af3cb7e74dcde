/* antimeridian.c: split at ±180° (the rule and its limits are in the header).
 *
 * Design: work per simple part (point, line, polygon) of the input, so a MultiPolygon with
 * one crossing part keeps its other parts as they are. Coordinates are copied out of GEOS
 * coordinate sequences, unwrapped in place, and new geometries built from them; the cut is
 * GEOSIntersection_r with a rectangle, the shift GEOSGeom_transformXY_r. Every GEOS object
 * made here is destroyed on every path (goto-out per function).
 */
#include "antimeridian.h"

#include <math.h>
#include <stdlib.h>

static int seq_crosses(GEOSContextHandle_t h, const GEOSCoordSequence *s)
{
    unsigned n = 0;
    double px = 0, x, y;
    if (!GEOSCoordSeq_getSize_r(h, s, &n))
        return 0;
    for (unsigned i = 0; i < n; i++) {
        if (!GEOSCoordSeq_getXY_r(h, s, i, &x, &y))
            return 0;
        if (i > 0 && fabs(x - px) > 180.0)
            return 1;
        px = x;
    }
    return 0;
}

/* Does any line or ring of the simple geometry g cross? */
static int part_crosses(GEOSContextHandle_t h, const GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(h, g);
    if (t == GEOS_LINESTRING || t == GEOS_LINEARRING)
        return seq_crosses(h, GEOSGeom_getCoordSeq_r(h, g));
    if (t != GEOS_POLYGON)
        return 0;
    if (seq_crosses(h, GEOSGeom_getCoordSeq_r(h, GEOSGetExteriorRing_r(h, g))))
        return 1;
    int nh = GEOSGetNumInteriorRings_r(h, g);
    for (int i = 0; i < nh; i++)
        if (seq_crosses(h, GEOSGeom_getCoordSeq_r(h, GEOSGetInteriorRingN_r(h, g, i))))
            return 1;
    return 0;
}

/*
 * A copy of the sequence of `line`, unwrapped so no step exceeds 180°, its first x moved by a
 * multiple of 360 to lie within 180° of `near` (NAN: as it is). *closed_ok is 0 when the last x
 * does not come back to the first (a ring around a pole).
 */
static GEOSCoordSequence *unwrap(GEOSContextHandle_t h, const GEOSGeometry *line, double near, int *closed_ok)
{
    const GEOSCoordSequence *s = GEOSGeom_getCoordSeq_r(h, line);
    unsigned n = 0;
    *closed_ok = 1;
    if (!s || !GEOSCoordSeq_getSize_r(h, s, &n) || n == 0)
        return NULL;
    GEOSCoordSequence *o = GEOSCoordSeq_create_r(h, n, 2);
    if (!o)
        return NULL;
    double off = 0, px = 0, x0 = 0, first = 0, x, y;
    for (unsigned i = 0; i < n; i++) {
        if (!GEOSCoordSeq_getXY_r(h, s, i, &x, &y))
            goto fail;
        if (i == 0) {
            if (!isnan(near))
                off = 360.0 * round((near - x) / 360.0);
            x0 = x;
            first = x + off;
        } else if (x - px > 180.0) {
            off -= 360.0;
        } else if (x - px < -180.0) {
            off += 360.0;
        }
        px = x;
        if (!GEOSCoordSeq_setXY_r(h, o, i, x + off, y))
            goto fail;
    }
    /* a closed ring that does not come back to its first longitude went around a pole */
    if (n > 1 && px == x0 && fabs(px + off - first) > 1e-9)
        *closed_ok = 0;
    return o;
fail:
    GEOSCoordSeq_destroy_r(h, o);
    return NULL;
}

/* The simple part g (line or polygon) unwrapped; *pole set for a ring around a pole. */
static GEOSGeometry *unwrap_part(GEOSContextHandle_t h, const GEOSGeometry *g, int *pole)
{
    int ok = 1;
    *pole = 0;
    if (GEOSGeomTypeId_r(h, g) == GEOS_LINESTRING) {
        GEOSCoordSequence *s = unwrap(h, g, NAN, &ok);
        return s ? GEOSGeom_createLineString_r(h, s) : NULL;
    }
    const GEOSGeometry *ext = GEOSGetExteriorRing_r(h, g);
    int nh = GEOSGetNumInteriorRings_r(h, g);
    GEOSGeometry *shell = NULL, **holes = calloc((size_t)(nh > 0 ? nh : 1), sizeof *holes), *out = NULL;
    int k = 0;
    double x0 = 0, y0;
    if (!holes)
        return NULL;
    GEOSCoordSequence *s = unwrap(h, ext, NAN, &ok);
    if (s && !ok) { /* not closed any more: no ring can be made of it */
        GEOSCoordSeq_destroy_r(h, s);
        *pole = 1;
        goto out;
    }
    if (!s || !(shell = GEOSGeom_createLinearRing_r(h, s)))
        goto out;
    GEOSCoordSeq_getXY_r(h, GEOSGeom_getCoordSeq_r(h, shell), 0, &x0, &y0);
    for (; k < nh; k++) {
        GEOSCoordSequence *hs = unwrap(h, GEOSGetInteriorRingN_r(h, g, k), x0, &ok);
        if (hs && !ok) {
            GEOSCoordSeq_destroy_r(h, hs);
            *pole = 1;
            goto out;
        }
        if (!hs || !(holes[k] = GEOSGeom_createLinearRing_r(h, hs)))
            goto out;
    }
    out = GEOSGeom_createPolygon_r(h, shell, holes, (unsigned)nh);
    if (out)
        shell = NULL, k = 0; /* owned by out now */
out:
    if (shell)
        GEOSGeom_destroy_r(h, shell);
    for (int i = 0; i < k; i++)
        GEOSGeom_destroy_r(h, holes[i]);
    free(holes);
    return out;
}

static int shift_x(double *x, double *y, void *ud)
{
    (void)y;
    *x += *(const double *)ud;
    if (*x < -180.0) *x = -180.0; /* rounding at the cut: stay inside EPSG:4326 */
    if (*x > 180.0) *x = 180.0;
    return 1;
}

/* Append the simple parts of g to parts[]; takes g. */
static int add_parts(GEOSContextHandle_t h, GEOSGeometry *g, GEOSGeometry ***parts, int *n, int *cap)
{
    int m = GEOSGetNumGeometries_r(h, g);
    int simple = GEOSGeomTypeId_r(h, g) < GEOS_MULTIPOINT;
    for (int i = 0; i < (simple ? 1 : m); i++) {
        const GEOSGeometry *c = simple ? g : GEOSGetGeometryN_r(h, g, i);
        if (GEOSisEmpty_r(h, c))
            continue;
        if (*n == *cap) {
            int nc = *cap ? *cap * 2 : 8;
            GEOSGeometry **np = realloc(*parts, (size_t)nc * sizeof *np);
            if (!np)
                goto fail;
            *parts = np;
            *cap = nc;
        }
        if (!((*parts)[*n] = GEOSGeom_clone_r(h, c)))
            goto fail;
        (*n)++;
    }
    GEOSGeom_destroy_r(h, g);
    return 0;
fail:
    GEOSGeom_destroy_r(h, g);
    return 1;
}

msh_am_result msh_antimeridian_split(GEOSContextHandle_t h, const GEOSGeometry *g, GEOSGeometry **out)
{
    *out = NULL;
    int m = GEOSGetNumGeometries_r(h, g), simple = GEOSGeomTypeId_r(h, g) < GEOS_MULTIPOINT;
    int any = 0;
    for (int i = 0; i < (simple ? 1 : m) && !any; i++) {
        const GEOSGeometry *c = simple ? g : GEOSGetGeometryN_r(h, g, i);
        if (GEOSGeomTypeId_r(h, c) >= GEOS_MULTIPOINT) /* nested collection: not split */
            continue;
        any = part_crosses(h, c);
    }
    if (!any)
        return MSH_AM_NONE;
    msh_am_result r = MSH_AM_FAIL;
    GEOSGeometry **parts = NULL;
    int n = 0, cap = 0, types = 0;
    for (int i = 0; i < (simple ? 1 : m); i++) {
        const GEOSGeometry *c = simple ? g : GEOSGetGeometryN_r(h, g, i);
        int t = GEOSGeomTypeId_r(h, c);
        types |= 1 << t;
        if (t >= GEOS_MULTIPOINT || !part_crosses(h, c)) {
            GEOSGeometry *cl = GEOSGeom_clone_r(h, c);
            if (!cl || add_parts(h, cl, &parts, &n, &cap))
                goto out;
            continue;
        }
        int pole = 0;
        GEOSGeometry *u = unwrap_part(h, c, &pole);
        if (pole) {
            if (u)
                GEOSGeom_destroy_r(h, u);
            r = MSH_AM_POLE;
            goto out;
        }
        if (!u)
            goto out;
        for (int k = -1; k <= 1; k++) {
            GEOSGeometry *box = GEOSGeom_createRectangle_r(h, -180.0 + 360.0 * k, -90.0, 180.0 + 360.0 * k, 90.0);
            GEOSGeometry *piece = box ? GEOSIntersection_r(h, u, box) : NULL;
            if (box)
                GEOSGeom_destroy_r(h, box);
            if (!piece) {
                GEOSGeom_destroy_r(h, u);
                goto out;
            }
            double dx = -360.0 * k;
            GEOSGeometry *moved = GEOSGeom_transformXY_r(h, piece, shift_x, &dx);
            GEOSGeom_destroy_r(h, piece);
            if (!moved || add_parts(h, moved, &parts, &n, &cap)) {
                GEOSGeom_destroy_r(h, u);
                goto out;
            }
        }
        GEOSGeom_destroy_r(h, u);
    }
    /* one family in, one family out: polygons stay polygons (the cut can leave slivers of lower dimension) */
    int want = (types & ((1 << GEOS_POLYGON) | (1 << GEOS_MULTIPOLYGON))) ? GEOS_POLYGON : GEOS_LINESTRING;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (GEOSGeomTypeId_r(h, parts[i]) == want)
            parts[k++] = parts[i];
        else
            GEOSGeom_destroy_r(h, parts[i]);
    }
    n = k;
    if (n == 0)
        goto out;
    *out = GEOSGeom_createCollection_r(h, want == GEOS_POLYGON ? GEOS_MULTIPOLYGON : GEOS_MULTILINESTRING, parts,
                                       (unsigned)n);
    if (*out) {
        n = 0; /* owned by *out */
        r = MSH_AM_SPLIT;
    }
out:
    for (int i = 0; i < n; i++)
        GEOSGeom_destroy_r(h, parts[i]);
    free(parts);
    return r;
}
