/* geom_clean.c: one geometry to clean WKB parts (the steps are in the header).
 *
 * Design: every GEOS call that can run long happens between msh_geos_budget_arm and
 * msh_geos_budget_disarm, so a hostile geometry (2,000 vertices crossing each other a million
 * times) is stopped after the budget with the stage named, not after minutes and gigabytes.
 * Parts are gathered by a recursive walk (nested collections included) into one flat list
 * per family.
 */
#include "geom_clean.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "antimeridian.h"
#include "makevalid_child.h"
#include "geos_budget.h"

static void geos_msg(const char *msg, void *ud)
{
    msh_geom_cleaner *c = ud;
    snprintf(c->geos_msg, sizeof c->geos_msg, "%s", msg);
}

int msh_geom_cleaner_init(msh_geom_cleaner *c, double seconds, size_t bytes)
{
    memset(c, 0, sizeof *c);
    c->seconds = seconds;
    c->bytes = bytes;
    if (!(c->geos = GEOS_init_r()))
        return 1;
    GEOSContext_setErrorMessageHandler_r(c->geos, geos_msg, c);
    GEOSContext_setNoticeMessageHandler_r(c->geos, geos_msg, c);
    c->rd = GEOSWKBReader_create_r(c->geos);
    c->wr = GEOSWKBWriter_create_r(c->geos);
    if (!c->rd || !c->wr)
        return 1;
    GEOSWKBWriter_setOutputDimension_r(c->geos, c->wr, 2);
    GEOSWKBWriter_setByteOrder_r(c->geos, c->wr, GEOS_WKB_NDR);
    return 0;
}

void msh_geom_cleaner_free(msh_geom_cleaner *c)
{
    if (!c->geos)
        return;
    if (c->rd)
        GEOSWKBReader_destroy_r(c->geos, c->rd);
    if (c->wr)
        GEOSWKBWriter_destroy_r(c->geos, c->wr);
    GEOS_finish_r(c->geos);
    memset(c, 0, sizeof *c);
}

void msh_clean_out_free(msh_clean_out *o)
{
    for (int i = 0; i < o->n; i++)
        free(o->wkb[i]);
    memset(o, 0, sizeof *o);
}

typedef struct {
    GEOSGeometry **v;
    int n, cap;
} part_list;

static int dim_of_type(int t)
{
    switch (t) {
    case GEOS_POINT: case GEOS_MULTIPOINT: return 0;
    case GEOS_LINESTRING: case GEOS_LINEARRING: case GEOS_MULTILINESTRING: return 1;
    case GEOS_POLYGON: case GEOS_MULTIPOLYGON: return 2;
    default: return -1;
    }
}

/* Clone every non-empty simple part of g (any depth) into lists[its dimension]. */
static int collect(GEOSContextHandle_t h, const GEOSGeometry *g, part_list lists[3], int depth)
{
    int t = GEOSGeomTypeId_r(h, g);
    if (depth > 64)
        return 1;
    if (t >= GEOS_MULTIPOINT) {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++)
            if (collect(h, GEOSGetGeometryN_r(h, g, i), lists, depth + 1))
                return 1;
        return 0;
    }
    int d = dim_of_type(t);
    if (d < 0 || GEOSisEmpty_r(h, g))
        return 0;
    part_list *l = &lists[d];
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 4;
        GEOSGeometry **nv = realloc(l->v, (size_t)nc * sizeof *nv);
        if (!nv)
            return 1;
        l->v = nv;
        l->cap = nc;
    }
    GEOSGeometry *c = GEOSGeom_clone_r(h, g);
    if (t == GEOS_LINEARRING && c) { /* a bare ring is a line */
        GEOSGeometry *line = GEOSGeom_createLineString_r(h, GEOSCoordSeq_clone_r(h, GEOSGeom_getCoordSeq_r(h, c)));
        GEOSGeom_destroy_r(h, c);
        c = line;
    }
    if (!c)
        return 1;
    l->v[l->n++] = c;
    return 0;
}

static void free_list(GEOSContextHandle_t h, part_list *l)
{
    for (int i = 0; i < l->n; i++)
        GEOSGeom_destroy_r(h, l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* One geometry of dimension d from the list (takes its parts): the part itself or a Multi*. */
static GEOSGeometry *make_family(GEOSContextHandle_t h, part_list *l, int d)
{
    if (l->n == 0)
        return NULL;
    GEOSGeometry *g;
    if (l->n == 1) {
        g = l->v[0];
    } else {
        int mt = d == 2 ? GEOS_MULTIPOLYGON : d == 1 ? GEOS_MULTILINESTRING : GEOS_MULTIPOINT;
        g = GEOSGeom_createCollection_r(h, mt, l->v, (unsigned)l->n);
        if (!g)
            return NULL; /* the parts stay in the list: freed by the caller */
    }
    l->n = 0;
    return g;
}

/* The parts of `g` of dimension d as one geometry (NULL when none or out of memory). */
static GEOSGeometry *keep_dim(GEOSContextHandle_t h, const GEOSGeometry *g, int d)
{
    part_list lists[3] = {{0}};
    GEOSGeometry *out = NULL;
    if (!collect(h, g, lists, 0))
        out = make_family(h, &lists[d], d);
    for (int i = 0; i < 3; i++)
        free_list(h, &lists[i]);
    return out;
}

/* Split at the antimeridian, check and repair one family's geometry; takes *g (replaced in place). */
static int clean_family(msh_geom_cleaner *c, GEOSGeometry **g, int d, msh_clean_out *out, const char **stage,
                        char *why, size_t whycap)
{
    GEOSContextHandle_t h = c->geos;
    if (d > 0) {
        *stage = "the antimeridian split";
        GEOSGeometry *split = NULL;
        msh_am_result r = msh_antimeridian_split(h, *g, &split);
        if (r == MSH_AM_POLE) {
            snprintf(why, whycap, "a ring crosses the antimeridian and goes around a pole: it cannot be split");
            return 1;
        }
        if (r == MSH_AM_FAIL) {
            snprintf(why, whycap, "splitting at the antimeridian failed: %s", c->geos_msg);
            return 1;
        }
        if (r == MSH_AM_SPLIT) {
            GEOSGeom_destroy_r(h, *g);
            *g = split;
            out->split_antimeridian = 1;
        }
    }
    *stage = "the validity check";
    char valid = GEOSisValid_r(h, *g);
    if (valid == 2) {
        snprintf(why, whycap, "GEOS validity check failed: %s", c->geos_msg);
        return 1;
    }
    if (valid)
        return 0;
    char *reason = GEOSisValidReason_r(h, *g);
    *stage = "MakeValid";
    /* a small geometry is repaired here when the caller's GEOS budget is armed (the importer): its
     * memory cannot blow up (n vertices cross at most n^2/2 times), the budget's interrupt stops its
     * time, and a process costs about 4 ms */
    int nv = GEOSGetNumCoordinates_r(h, *g);
    GEOSGeometry *mv = c->make_valid && (nv < 0 || nv > c->inproc_vertices) ? c->make_valid(c, *g)
                                                                           : GEOSMakeValid_r(h, *g);
    if (c->too_complex) {
        if (c->repair_wall_ms > 0) /* the edit path: a wall deadline */
            snprintf(why, whycap, "invalid geometry (%s) too complex to repair within %.0f ms and %zu MB",
                     reason ? reason : "?", c->repair_wall_ms, c->repair_bytes >> 20);
        else if (c->too_complex == MSH_BUDGET_TIME)
            snprintf(why, whycap, "over the per-feature budget: more than %.1f s in MakeValid (repair stopped)",
                     c->repair_cpu_s);
        else
            snprintf(why, whycap, "over the per-feature budget: more than %zu MB of memory in MakeValid (repair "
                     "stopped)", c->repair_bytes >> 20);
        GEOSFree_r(h, reason);
        return 1;
    }
    GEOSGeometry *fixed = mv ? keep_dim(h, mv, d) : NULL;
    if (mv)
        GEOSGeom_destroy_r(h, mv);
    if (!fixed) {
        snprintf(why, whycap, "invalid geometry (%s) could not be repaired without changing its type%s%s",
                 reason ? reason : "?", c->geos_msg[0] ? ": " : "", c->geos_msg);
        GEOSFree_r(h, reason);
        return 1;
    }
    GEOSFree_r(h, reason);
    GEOSGeom_destroy_r(h, *g);
    *g = fixed;
    out->repaired = 1;
    return 0;
}

static int to_wkb(msh_geom_cleaner *c, const GEOSGeometry *g, msh_clean_out *out, char *why, size_t whycap)
{
    size_t n = 0;
    unsigned char *w = GEOSWKBWriter_write_r(c->geos, c->wr, g, &n);
    if (!w) {
        snprintf(why, whycap, "GEOS cannot write the geometry");
        return 1;
    }
    out->wkb[out->n] = malloc(n);
    if (!out->wkb[out->n]) {
        GEOSFree_r(c->geos, w);
        snprintf(why, whycap, "out of memory");
        return 1;
    }
    memcpy(out->wkb[out->n], w, n);
    out->len[out->n++] = n;
    GEOSFree_r(c->geos, w);
    return 0;
}

int msh_geom_clean(msh_geom_cleaner *c, OGRGeometryH src, OGRCoordinateTransformationH ct, msh_clean_out *out,
                   char *why, size_t whycap)
{
    memset(out, 0, sizeof *out);
    OGRGeometryH g = OGR_G_HasCurveGeometry(src, TRUE) ? OGR_G_GetLinearGeometry(src, 0, NULL) : OGR_G_Clone(src);
    GEOSContextHandle_t h = c->geos;
    GEOSGeometry *gg = NULL, *fam[3] = {NULL, NULL, NULL};
    part_list lists[3] = {{0}};
    unsigned char *buf = NULL;
    const char *stage = "reading";
    int rc = 1;
    if (!g) {
        snprintf(why, whycap, "geometry could not be read");
        return 1;
    }
    OGR_G_Set3D(g, FALSE);
    OGR_G_SetMeasured(g, FALSE);
    if (ct && OGR_G_Transform(g, ct) != OGRERR_NONE) {
        snprintf(why, whycap, "reprojection to EPSG:4326 failed");
        goto out;
    }
    int size = OGR_G_WkbSize(g);
    if (size <= 0) {
        snprintf(why, whycap, "empty geometry");
        goto out;
    }
    buf = malloc((size_t)size);
    if (!buf || OGR_G_ExportToIsoWkb(g, wkbNDR, buf) != OGRERR_NONE) {
        snprintf(why, whycap, "geometry could not be encoded");
        goto out;
    }
    c->geos_msg[0] = 0;
    msh_geos_budget_arm(c->seconds, c->bytes);
    gg = GEOSWKBReader_read_r(h, c->rd, buf, (size_t)size);
    if (!gg) {
        snprintf(why, whycap, "GEOS cannot read the geometry: %s", c->geos_msg);
        goto out;
    }
    /* before the antimeridian rule reads long edges as crossings: metres read as degrees are not */
    double x0, y0, x1, y1;
    if (!GEOSisEmpty_r(h, gg) && GEOSGeom_getXMin_r(h, gg, &x0) && GEOSGeom_getYMin_r(h, gg, &y0) &&
        GEOSGeom_getXMax_r(h, gg, &x1) && GEOSGeom_getYMax_r(h, gg, &y1) &&
        !(x0 >= -180.0 && x1 <= 180.0 && y0 >= -90.0 && y1 <= 90.0)) {
        snprintf(why, whycap, "coordinates outside EPSG:4326 bounds (x %.6f to %.6f, y %.6f to %.6f)", x0, x1, y0, y1);
        goto out;
    }
    int gt = GEOSGeomTypeId_r(h, gg);
    if (gt != GEOS_GEOMETRYCOLLECTION && gt != GEOS_LINEARRING && dim_of_type(gt) >= 0) {
        fam[dim_of_type(gt)] = gg; /* one family already (the common case): no copy */
        gg = NULL;
    } else if (collect(h, gg, lists, 0)) {
        snprintf(why, whycap, "geometry nested too deep or out of memory");
        goto out;
    }
    int nfam = 0;
    for (int d = 0; d < 3; d++) {
        if (fam[d])
            nfam++;
        if (lists[d].n == 0)
            continue;
        if (!(fam[d] = make_family(h, &lists[d], d))) {
            snprintf(why, whycap, "out of memory");
            goto out;
        }
        nfam++;
    }
    if (nfam == 0) {
        snprintf(why, whycap, "empty geometry");
        goto out;
    }
    out->split_families = nfam > 1;
    for (int d = 0; d < 3; d++) {
        if (!fam[d])
            continue;
        if (clean_family(c, &fam[d], d, out, &stage, why, whycap))
            goto out;
        if (GEOSisEmpty_r(h, fam[d]))
            continue;
        if (to_wkb(c, fam[d], out, why, whycap))
            goto out;
    }
    if (out->n == 0) {
        snprintf(why, whycap, "empty geometry");
        goto out;
    }
    rc = 0;
out:;
    msh_budget_state b = msh_geos_budget_disarm();
    if (b != MSH_BUDGET_OK) {
        if (b == MSH_BUDGET_TIME)
            snprintf(why, whycap, "over the per-feature budget: more than %.1f s in %s (GEOS interrupted)",
                     c->seconds, stage);
        else
            snprintf(why, whycap, "over the per-feature budget: more than %zu MB of memory in %s (GEOS interrupted)",
                     c->bytes >> 20, stage);
        rc = 1;
    }
    if (rc)
        msh_clean_out_free(out);
    for (int d = 0; d < 3; d++) {
        free_list(h, &lists[d]);
        if (fam[d])
            GEOSGeom_destroy_r(h, fam[d]);
    }
    if (gg)
        GEOSGeom_destroy_r(h, gg);
    free(buf);
    OGR_G_DestroyGeometry(g);
    return rc;
}
