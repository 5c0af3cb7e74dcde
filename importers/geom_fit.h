/* geom_fit.h: the geometry of a feature a client sends (OGC API - Features Part 4), made fit
 * for a layer the way the importer makes a file's features fit.
 *
 * The GeoJSON geometry is read by OGR, reprojected from the request's `Content-Crs` (CRS84 and
 * EPSG:4326 without GDAL's help; EPSG:3857 and 32637, the other CRSs the server lists
 * (exporters/features/crs_ref.h), through OGR), flattened to 2D and checked
 * with GEOS (geom_clean.h: MakeValid where invalid, keeping the geometry's own dimension). It
 * must then be of the layer's family (a point layer takes Point or MultiPoint, ...; a mixed
 * layer takes any but a GeometryCollection), every coordinate finite and inside EPSG:4326,
 * and no larger than MSH_GEOM_FIT_MAX_VERTICES. Thread-safe: each call has its own GEOS context.
 */
#ifndef MSH_GEOM_FIT_H
#define MSH_GEOM_FIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "geom.h"

/** Most vertices in one edited geometry. */
#define MSH_GEOM_FIT_MAX_VERTICES 100000

/**
 * Fit `geojson` (a GeoJSON geometry object, `len` bytes) in EPSG code `epsg` (0: CRS84) to a
 * layer of `family` (MSH_GT_NONE: mixed). On success *wkb (free()) holds 2D WKB in EPSG:4326,
 * bbox its lon/lat bounds and *repaired says MakeValid ran. Errors: MSH_EINVAL with the reason
 * (wrong type, unreadable, invalid beyond repair, outside the world, too large); MSH_ETOOBIG when
 * the repair of an invalid geometry ran out of its budget (makevalid_child.h).
 */
msh_rc msh_geom_fit(const char *geojson, size_t len, int epsg, msh_gtype family, uint8_t **wkb, size_t *wlen,
                    double bbox[4], bool *repaired, msh_err *err);

#endif
