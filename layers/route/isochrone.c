/* isochrone.c: reachable network -> buffered polygon (see isochrone.h). */
#include "isochrone.h"

#include <geos_c.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/msh_grow.h"

typedef struct plane {
    double lon0, lat0, kx, ky;
} plane;

typedef struct pieces {
    GEOSContextHandle_t ctx;
    const plane *pl;
    GEOSGeometry **lines;
    size_t n, cap;
    msh_buf pts;
    double reach_m;
    bool oom;
} pieces;

/* Add the part of edge e from d0 to d1 metres along it. */
static void add_piece(pieces *P, const msh_graph *g, uint32_t e, double d0, double d1)
{
    if (P->oom || fabs(d1 - d0) < 1e-6)
        return;
    msh_buf_reset(&P->pts);
    if (msh_graph_edge_sub(g, e, d0, d1, &P->pts)) {
        P->oom = true;
        return;
    }
    const double *ll = (const double *)P->pts.data;
    unsigned n = (unsigned)(P->pts.len / (2 * sizeof *ll));
    if (n < 2)
        return;
    if (msh_grow_from((void **)&P->lines, &P->cap, P->n + 1, sizeof *P->lines, 256)) {
        P->oom = true;
        return;
    }
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(P->ctx, n, 2);
    for (unsigned i = 0; cs && i < n; i++)
        GEOSCoordSeq_setXY_r(P->ctx, cs, i, (ll[2 * i] - P->pl->lon0) * P->pl->kx,
                             (ll[2 * i + 1] - P->pl->lat0) * P->pl->ky);
    GEOSGeometry *line = cs ? GEOSGeom_createLineString_r(P->ctx, cs) : NULL;
    if (!line) {
        P->oom = true;
        return;
    }
    P->lines[P->n++] = line;
    P->reach_m += fabs(d1 - d0);
}

static msh_rc put_ring(GEOSContextHandle_t ctx, const GEOSGeometry *ring, const plane *pl, msh_buf *out)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(ctx, ring);
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(ctx, cs, &n))
        return MSH_EINTERNAL;
    msh_rc rc = msh_buf_putc(out, '[');
    for (unsigned i = 0; i < n && !rc; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(ctx, cs, i, &x, &y);
        rc = msh_buf_printf(out, "%s[%.7f,%.7f]", i ? "," : "", pl->lon0 + x / pl->kx, pl->lat0 + y / pl->ky);
    }
    return rc ? rc : msh_buf_putc(out, ']');
}

static msh_rc put_polygon(GEOSContextHandle_t ctx, const GEOSGeometry *poly, const plane *pl, msh_buf *out)
{
    msh_rc rc = msh_buf_putc(out, '[');
    if (!rc)
        rc = put_ring(ctx, GEOSGetExteriorRing_r(ctx, poly), pl, out);
    int holes = GEOSGetNumInteriorRings_r(ctx, poly);
    for (int i = 0; i < holes && !rc; i++) {
        rc = msh_buf_putc(out, ',');
        if (!rc)
            rc = put_ring(ctx, GEOSGetInteriorRingN_r(ctx, poly, i), pl, out);
    }
    return rc ? rc : msh_buf_putc(out, ']');
}

static msh_rc to_geojson(GEOSContextHandle_t ctx, const GEOSGeometry *g, const plane *pl, msh_buf *out)
{
    int type = GEOSGeomTypeId_r(ctx, g);
    if (type == GEOS_POLYGON) {
        msh_rc rc = msh_buf_printf(out, "{\"type\":\"Polygon\",\"coordinates\":");
        if (!rc)
            rc = put_polygon(ctx, g, pl, out);
        return rc ? rc : msh_buf_putc(out, '}');
    }
    if (type != GEOS_MULTIPOLYGON)
        return MSH_EINTERNAL;
    msh_rc rc = msh_buf_printf(out, "{\"type\":\"MultiPolygon\",\"coordinates\":[");
    int n = GEOSGetNumGeometries_r(ctx, g);
    for (int i = 0; i < n && !rc; i++) {
        if (i)
            rc = msh_buf_putc(out, ',');
        if (!rc)
            rc = put_polygon(ctx, GEOSGetGeometryN_r(ctx, g, i), pl, out);
    }
    return rc ? rc : msh_buf_printf(out, "]}");
}

/*
 * The union of every line buffered by buffer_m. Each piece is buffered on its own (a few dozen
 * vertices each) and the polygons are unioned as a tree (GEOS's cascaded union). Buffering the
 * whole network as one MultiLineString instead makes GEOS node every offset curve against every
 * other in one graph: on the demo network a 60-minute isochrone took 6-8 s of CPU and about 1 GB
 * that way, and takes about a fifth of the time and an eighth of the memory this way (the areas
 * agree within 0.01%). The lines stay owned by the caller.
 */
static GEOSGeometry *buffer_union(GEOSContextHandle_t ctx, GEOSGeometry *const *lines, size_t n, double buffer_m)
{
    GEOSGeometry *out = NULL, *all = NULL;
    GEOSGeometry **polys = calloc(n ? n : 1, sizeof *polys);
    GEOSBufferParams *bp = GEOSBufferParams_create_r(ctx);
    if (!polys || !bp)
        goto out;
    GEOSBufferParams_setQuadrantSegments_r(ctx, bp, 4);
    GEOSBufferParams_setEndCapStyle_r(ctx, bp, GEOSBUF_CAP_ROUND);
    for (size_t i = 0; i < n; i++)
        if (!(polys[i] = GEOSBufferWithParams_r(ctx, lines[i], bp, buffer_m)))
            goto out;
    all = GEOSGeom_createCollection_r(ctx, GEOS_GEOMETRYCOLLECTION, polys, (unsigned)n);
    if (!all)
        goto out;
    n = 0; /* the collection owns the polygons now */
    out = GEOSUnaryUnion_r(ctx, all);
out:
    for (size_t i = 0; polys && i < n; i++)
        if (polys[i])
            GEOSGeom_destroy_r(ctx, polys[i]);
    free(polys);
    if (all)
        GEOSGeom_destroy_r(ctx, all);
    if (bp)
        GEOSBufferParams_destroy_r(ctx, bp);
    return out;
}

msh_rc msh_isochrone(const msh_graph *g, const float *w, const msh_snap *src, double cutoff, double buffer_m,
                     msh_buf *out, msh_isochrone_stats *st, msh_err *err)
{
    memset(st, 0, sizeof *st);
    uint32_t nn = msh_graph_node_count(g), ne = msh_graph_edge_count(g);
    double *cost = malloc((nn ? nn : 1) * sizeof *cost);
    if (!cost)
        return msh_err_set(err, MSH_ENOMEM, "out of memory for an isochrone");
    msh_rc rc = msh_graph_reach(g, w, src, 1, cutoff, cost, err);
    if (rc) {
        free(cost);
        return rc;
    }
    plane pl = {src->lon, src->lat, 0, 0};
    pl.kx = msh_metres(src->lon, src->lat, src->lon + 1e-3, src->lat) * 1e3;
    pl.ky = msh_metres(src->lon, src->lat, src->lon, src->lat + 1e-3) * 1e3;
    pieces P = {.ctx = GEOS_init_r(), .pl = &pl};
    msh_buf_init(&P.pts, (size_t)1 << 26);
    for (uint32_t e = 0; e < ne && !P.oom; e++) {
        uint32_t a, b;
        msh_graph_edge_nodes(g, e, &a, &b);
        double L = msh_graph_edge_length(g, e), W = w ? w[e] : L;
        double fa = 0, fb = 0; /* fractions reached from each end */
        if (isfinite(cost[a]) && isfinite(W) && W > 0)
            fa = fmin(1, (cutoff - cost[a]) / W);
        if (isfinite(cost[b]) && isfinite(W) && W > 0)
            fb = fmin(1, (cutoff - cost[b]) / W);
        if (e == src->edge && isfinite(W) && W > 0) {
            /* the origin's own edge, both ways from the origin */
            double f = cutoff / W;
            double lo = fmax(0, src->t - f), hi = fmin(1, src->t + f);
            if (hi > lo)
                add_piece(&P, g, e, lo * L, hi * L), st->edges++;
            continue;
        }
        if (fa <= 0 && fb <= 0)
            continue;
        st->edges++;
        if (fa + fb >= 1)
            add_piece(&P, g, e, 0, L);
        else {
            if (fa > 0)
                add_piece(&P, g, e, 0, fa * L);
            if (fb > 0)
                add_piece(&P, g, e, L, (1 - fb) * L);
        }
    }
    free(cost);
    msh_buf_free(&P.pts);
    st->reach_m = P.reach_m;
    if (!P.oom && P.n == 0)
        rc = msh_err_set(err, MSH_ENOTFOUND, "nothing is reachable from this point within the limit");
    else if (P.oom)
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory for an isochrone");
    GEOSGeometry *area = NULL;
    if (!rc) {
        GEOSGeometry *buf = buffer_union(P.ctx, P.lines, P.n, buffer_m);
        /* drop vertices closer than a metre to the outline: the polygon stays within 1 m */
        area = buf ? GEOSTopologyPreserveSimplify_r(P.ctx, buf, 1.0) : NULL;
        if (buf)
            GEOSGeom_destroy_r(P.ctx, buf);
        if (!area)
            rc = msh_err_set(err, MSH_EINTERNAL, "the isochrone polygon could not be built");
    }
    if (!rc) {
        GEOSArea_r(P.ctx, area, &st->area_m2);
        if (to_geojson(P.ctx, area, &pl, out))
            rc = msh_err_set(err, MSH_ETOOBIG, "the isochrone polygon is too large to send");
    }
    for (size_t i = 0; i < P.n; i++)
        GEOSGeom_destroy_r(P.ctx, P.lines[i]);
    free(P.lines);
    if (area)
        GEOSGeom_destroy_r(P.ctx, area);
    GEOS_finish_r(P.ctx);
    return rc;
}
