/* geom_fit.c: a client's GeoJSON geometry made fit for a layer (geom_fit.h). */
#include "geom_fit.h"

#include <cpl_error.h>
#include <ogr_srs_api.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geom_clean.h"
#include "makevalid_child.h"

static int family_dim(msh_gtype f)
{
    return f == MSH_GT_POINT ? 0 : f == MSH_GT_LINE ? 1 : f == MSH_GT_POLYGON ? 2 : -1;
}

msh_rc msh_geom_fit(const char *geojson, size_t len, int epsg, msh_gtype family, uint8_t **wkb, size_t *wlen,
                    double bbox[4], bool *repaired, msh_err *err)
{
    *wkb = NULL;
    *wlen = 0;
    *repaired = false;
    msh_rc rc = MSH_OK;
    OGRGeometryH g = NULL;
    OGRSpatialReferenceH src = NULL, dst = NULL;
    OGRCoordinateTransformationH ct = NULL;
    msh_geom_cleaner gc;
    memset(&gc, 0, sizeof gc);
    msh_clean_out co;
    memset(&co, 0, sizeof co);
    msh_geom_buf gb;
    msh_geom_buf_init(&gb, MSH_GEOM_FIT_MAX_VERTICES);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    if (!geojson || strlen(geojson) != len) {
        rc = msh_err_set(err, MSH_EINVAL, "geometry: not a GeoJSON geometry object");
        goto out;
    }
    g = OGR_G_CreateGeometryFromJson(geojson);
    if (!g) {
        rc = msh_err_set(err, MSH_EINVAL, "geometry: not a GeoJSON geometry GDAL can read (%.200s)", CPLGetLastErrorMsg());
        goto out;
    }
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbGeometryCollection || t == wkbUnknown) {
        rc = msh_err_set(err, MSH_EINVAL, "geometry: a %s is not stored: send one Point, LineString or Polygon "
                                          "(or its Multi form)", OGR_G_GetGeometryName(g));
        goto out;
    }
    if (OGR_G_IsEmpty(g)) {
        rc = msh_err_set(err, MSH_EINVAL, "geometry: empty");
        goto out;
    }
    int want = family_dim(family);
    if (want >= 0 && OGR_G_GetDimension(g) != want) {
        rc = msh_err_set(err, MSH_EINVAL, "geometry: a %s does not fit this collection of %ss", OGR_G_GetGeometryName(g),
                         msh_gtype_name(family));
        goto out;
    }
    if ((size_t)OGR_G_WkbSize(g) / 16 > MSH_GEOM_FIT_MAX_VERTICES) {
        rc = msh_err_set(err, MSH_EINVAL, "geometry: more than %d vertices", MSH_GEOM_FIT_MAX_VERTICES);
        goto out;
    }
    if (epsg == 4326) {
        OGR_G_SwapXY(g); /* EPSG:4326 is latitude, longitude */
    } else if (epsg > 0) {
        src = OSRNewSpatialReference(NULL);
        dst = OSRNewSpatialReference(NULL);
        if (!src || !dst || OSRImportFromEPSG(src, epsg) != OGRERR_NONE || OSRImportFromEPSG(dst, 4326) != OGRERR_NONE) {
            rc = msh_err_set(err, MSH_EINVAL, "Content-Crs: EPSG:%d is not a coordinate system this server knows", epsg);
            goto out;
        }
        OSRSetAxisMappingStrategy(src, OAMS_AUTHORITY_COMPLIANT); /* as Part 2 says: the CRS's own axis order */
        OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
        if (!(ct = OCTNewCoordinateTransformation(src, dst))) {
            rc = msh_err_set(err, MSH_EINVAL, "Content-Crs: no transformation from EPSG:%d to EPSG:4326", epsg);
            goto out;
        }
    }
    /* not the importer's GEOS budget (geos_budget.h: process-wide in GEOS 3.11); a repair runs in
     * a child process under its own limits (makevalid_child.h), and the size is capped by
     * MSH_GEOM_FIT_MAX_VERTICES */
    if (msh_geom_cleaner_init(&gc, 0, 0)) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory (GEOS)");
        goto out;
    }
    gc.make_valid = msh_makevalid_child; /* the repair, when one is needed, under its own budget */
    gc.repair_wall_ms = MSH_MAKEVALID_WALL_MS;
    gc.repair_bytes = MSH_MAKEVALID_MEM_BYTES;
    char why[300];
    if (msh_geom_clean(&gc, g, ct, &co, why, sizeof why)) {
        rc = msh_err_set(err, gc.too_complex ? MSH_ETOOBIG : MSH_EINVAL, "geometry: %s", why);
        goto out;
    }
    if (co.n != 1) { /* a GeometryCollection is refused above; one family gives one part */
        rc = msh_err_set(err, MSH_EINVAL, "geometry: mixes points, lines and polygons");
        goto out;
    }
    *wkb = co.wkb[0];
    *wlen = co.len[0];
    co.wkb[0] = NULL;
    *repaired = co.repaired != 0;
    msh_err werr;
    if (msh_wkb_read(*wkb, *wlen, &gb, &werr)) {
        rc = msh_err_set(err, MSH_EINVAL, "geometry: %s", werr.msg);
        goto out;
    }
    msh_geom v = msh_geom_buf_view(&gb);
    bbox[0] = bbox[1] = INFINITY;
    bbox[2] = bbox[3] = -INFINITY;
    for (uint32_t i = 0; i < v.npts; i++) {
        double x = v.xy[2 * i], y = v.xy[2 * i + 1];
        if (!isfinite(x) || !isfinite(y) || x < -180 || x > 180 || y < -90 || y > 90) {
            rc = msh_err_set(err, MSH_EINVAL, "geometry: coordinate (%g, %g) is outside the world (longitude -180..180, "
                                              "latitude -90..90)", x, y);
            goto out;
        }
        bbox[0] = fmin(bbox[0], x);
        bbox[1] = fmin(bbox[1], y);
        bbox[2] = fmax(bbox[2], x);
        bbox[3] = fmax(bbox[3], y);
    }
    if (!v.npts)
        rc = msh_err_set(err, MSH_EINVAL, "geometry: empty");
out:
    if (rc) {
        free(*wkb);
        *wkb = NULL;
        *wlen = 0;
    }
    msh_geom_buf_free(&gb);
    msh_clean_out_free(&co);
    msh_geom_cleaner_free(&gc);
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    if (src)
        OSRDestroySpatialReference(src);
    if (dst)
        OSRDestroySpatialReference(dst);
    if (g)
        OGR_G_DestroyGeometry(g);
    CPLPopErrorHandler();
    return rc;
}
