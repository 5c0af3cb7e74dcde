/* geom_clean.c: a geometry made fit for the store (geom_clean.h): reprojection, 2D, GEOS validity, MakeValid. */
#include "geom_clean.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void geos_msg(const char *msg, void *ud)
{
    msh_geos_env *g = ud;
    snprintf(g->geos_msg, sizeof g->geos_msg, "%s", msg);
}

int msh_geos_env_init(msh_geos_env *ge)
{
    memset(ge, 0, sizeof *ge);
    ge->geos = GEOS_init_r();
    if (!ge->geos)
        return -1;
    GEOSContext_setErrorMessageHandler_r(ge->geos, geos_msg, ge);
    GEOSContext_setNoticeMessageHandler_r(ge->geos, geos_msg, ge);
    ge->rd = GEOSWKBReader_create_r(ge->geos);
    ge->wr = GEOSWKBWriter_create_r(ge->geos);
    if (!ge->rd || !ge->wr) {
        msh_geos_env_free(ge);
        return -1;
    }
    GEOSWKBWriter_setOutputDimension_r(ge->geos, ge->wr, 2);
    GEOSWKBWriter_setByteOrder_r(ge->geos, ge->wr, GEOS_WKB_NDR);
    return 0;
}

void msh_geos_env_free(msh_geos_env *ge)
{
    if (!ge->geos)
        return;
    if (ge->rd)
        GEOSWKBReader_destroy_r(ge->geos, ge->rd);
    if (ge->wr)
        GEOSWKBWriter_destroy_r(ge->geos, ge->wr);
    GEOS_finish_r(ge->geos);
    memset(ge, 0, sizeof *ge);
}

/* Keep only the parts of `g` of dimension `dim` (0, 1, 2); returns a new geometry or NULL if none. */
static GEOSGeometry *keep_dim(GEOSContextHandle_t h, const GEOSGeometry *g, int dim)
{
    int n = GEOSGetNumGeometries_r(h, g);
    int type = GEOSGeomTypeId_r(h, g);
    if (type != GEOS_GEOMETRYCOLLECTION && type != GEOS_MULTIPOLYGON && type != GEOS_MULTILINESTRING &&
        type != GEOS_MULTIPOINT)
        return GEOSGeom_getDimensions_r(h, g) == dim && !GEOSisEmpty_r(h, g) ? GEOSGeom_clone_r(h, g) : NULL;
    GEOSGeometry **parts = calloc((size_t)(n > 0 ? n : 1) * 4, sizeof *parts);
    int k = 0, cap = (n > 0 ? n : 1) * 4;
    for (int i = 0; i < n; i++) {
        const GEOSGeometry *c = GEOSGetGeometryN_r(h, g, i);
        if (GEOSGeom_getDimensions_r(h, c) != dim || GEOSisEmpty_r(h, c))
            continue;
        int ct = GEOSGeomTypeId_r(h, c);
        if (ct == GEOS_MULTIPOLYGON || ct == GEOS_MULTILINESTRING || ct == GEOS_MULTIPOINT ||
            ct == GEOS_GEOMETRYCOLLECTION) {
            int m = GEOSGetNumGeometries_r(h, c);
            for (int j = 0; j < m && k < cap; j++)
                parts[k++] = GEOSGeom_clone_r(h, GEOSGetGeometryN_r(h, c, j));
        } else if (k < cap) {
            parts[k++] = GEOSGeom_clone_r(h, c);
        }
    }
    GEOSGeometry *out = NULL;
    if (k > 0) {
        int mt = dim == 2 ? GEOS_MULTIPOLYGON : dim == 1 ? GEOS_MULTILINESTRING : GEOS_MULTIPOINT;
        out = k == 1 ? parts[0] : GEOSGeom_createCollection_r(h, mt, parts, (unsigned)k);
    }
    free(parts);
    return out;
}

/*
 * Clean one OGR geometry into 2D WKB in EPSG:4326. Returns 0 and the WKB
 * (free with free()), with *repaired set when MakeValid ran; or non-zero and a
 * reason in `why`.
 */
int msh_geom_clean(msh_geos_env *ge, OGRGeometryH src, OGRCoordinateTransformationH ct, uint8_t **wkb,
                          size_t *wlen, int *repaired, char *why, size_t whycap)
{
    *wkb = NULL;
    *repaired = 0;
    OGRGeometryH g = OGR_G_HasCurveGeometry(src, TRUE) ? OGR_G_GetLinearGeometry(src, 0, NULL) : OGR_G_Clone(src);
    GEOSGeometry *gg = NULL, *fixed = NULL;
    unsigned char *buf = NULL;
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
    int dim = OGR_G_GetDimension(g);
    ge->geos_msg[0] = 0;
    gg = GEOSWKBReader_read_r(ge->geos, ge->rd, buf, (size_t)size);
    if (!gg) {
        snprintf(why, whycap, "GEOS cannot read the geometry: %s", ge->geos_msg);
        goto out;
    }
    char valid = GEOSisValid_r(ge->geos, gg);
    if (valid == 2) {
        snprintf(why, whycap, "GEOS validity check failed: %s", ge->geos_msg);
        goto out;
    }
    const GEOSGeometry *use = gg;
    if (!valid) {
        char *reason = GEOSisValidReason_r(ge->geos, gg);
        GEOSGeometry *mv = GEOSMakeValid_r(ge->geos, gg);
        fixed = mv ? keep_dim(ge->geos, mv, dim) : NULL;
        if (mv)
            GEOSGeom_destroy_r(ge->geos, mv);
        if (!fixed) {
            snprintf(why, whycap, "invalid geometry (%s) could not be repaired without changing its type",
                     reason ? reason : "?");
            GEOSFree_r(ge->geos, reason);
            goto out;
        }
        GEOSFree_r(ge->geos, reason);
        use = fixed;
        *repaired = 1;
    }
    if (GEOSisEmpty_r(ge->geos, use)) {
        snprintf(why, whycap, "empty geometry");
        goto out;
    }
    size_t n = 0;
    unsigned char *out = GEOSWKBWriter_write_r(ge->geos, ge->wr, use, &n);
    if (!out) {
        snprintf(why, whycap, "GEOS cannot write the geometry");
        goto out;
    }
    *wkb = malloc(n);
    if (*wkb) {
        memcpy(*wkb, out, n);
        *wlen = n;
        rc = 0;
    }
    GEOSFree_r(ge->geos, out);
out:
    if (gg)
        GEOSGeom_destroy_r(ge->geos, gg);
    if (fixed)
        GEOSGeom_destroy_r(ge->geos, fixed);
    free(buf);
    OGR_G_DestroyGeometry(g);
    return rc;
}

