/* crs_ref.h: the coordinate reference systems features are served in (OGC API - Features Part 2,
 * "Coordinate Reference Systems by Reference"), and the conversions between them.
 *
 * Design: a short fixed list, not "any EPSG code": every CRS listed is tested end to end, and
 * an open list would let a request make PROJ search its database for every new code it names.
 * CRS84 (lon/lat) is the store's own; EPSG:4326 is the same datum with the axes in the order its
 * definition gives (latitude, longitude); EPSG:3857 is the Web Mercator of the world units the
 * layers keep (a scale and a shift, exact, no PROJ); EPSG:32637 (UTM zone 37N, the agencies'
 * grid) goes through PROJ. PROJ objects are not thread-safe, so each thread keeps its own
 * context and transformations (thread-specific data, made at its first use, freed when the thread
 * ends): a request pays for the PROJ database once per thread, never per feature.
 *
 * PROJ rather than OGR's OSR: OSR's transformation is PROJ's behind a C++ wrapper that copies
 * each coordinate array and works one point at a time through a virtual call; proj_trans_generic
 * converts a whole ring in place, and the projection is all this room needs.
 */
#ifndef MSH_CRS_REF_H
#define MSH_CRS_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/msh_err.h"

typedef enum {
    MSH_CRS_CRS84 = 0, /* http://www.opengis.net/def/crs/OGC/1.3/CRS84: lon, lat degrees */
    MSH_CRS_4326,      /* EPSG:4326: lat, lon degrees */
    MSH_CRS_3857,      /* EPSG:3857: x, y metres on the sphere */
    MSH_CRS_32637,     /* EPSG:32637: easting, northing metres (UTM 37N) */
    MSH_CRS_COUNT
} msh_crs;

/** The CRS's URI (http://www.opengis.net/def/crs/...). */
const char *msh_crs_uri(msh_crs c);
/** Its EPSG code, 0 for CRS84. */
int msh_crs_epsg(msh_crs c);
/** Decimals written for a coordinate: 9 for degrees (0.1 mm), 4 for metres (0.1 mm). */
int msh_crs_decimals(msh_crs c);

/**
 * The CRS a parameter value names: its URI, the URI in angle brackets (as Content-Crs writes it),
 * a safe CURIE `[EPSG:n]` / `[OGC:CRS84]`, or `EPSG:n` / `OGC:CRS84`. MSH_EINVAL naming `param`
 * and the CRSs served when it is none of them.
 */
msh_rc msh_crs_parse(const char *param, const char *v, msh_crs *out, msh_err *err);

/** World units (layers/core/msh_tilemath.h) to `c`'s coordinates in its axis order, n pairs in place. */
msh_rc msh_crs_from_world(msh_crs c, double *xy, size_t n, msh_err *err);
/** Lon/lat degrees to `c`'s coordinates in its axis order, n pairs in place. */
msh_rc msh_crs_from_lonlat(msh_crs c, double *xy, size_t n, msh_err *err);
/** `c`'s coordinates (its axis order) to lon/lat degrees, n pairs in place; MSH_EINVAL when a point has none. */
msh_rc msh_crs_to_lonlat(msh_crs c, double *xy, size_t n, msh_err *err);

/** Vertices per side of a box converted to lon/lat by msh_crs_bbox (a straight side of a UTM box is
 * a curve in lon/lat: 64 segments keep it within a millimetre over the zone's width). */
#define MSH_CRS_BBOX_SIDE 64

/**
 * A `bbox` given in `c` (4 numbers in the CRS's axis order: min, min, max, max) as lon/lat: `ll`
 * the lon/lat box that holds it, and, when the box is not a lon/lat box (a projected CRS whose
 * sides are curves in lon/lat), `ring` gets the closed ring of 4 * MSH_CRS_BBOX_SIDE + 1 lon/lat
 * vertices and *has_ring is set. MSH_EINVAL, naming the CRS's bounds, for values outside them
 * or min above max.
 */
msh_rc msh_crs_bbox(msh_crs c, const double in[4], double ll[4], double ring[2 * (4 * MSH_CRS_BBOX_SIDE + 1)],
                    bool *has_ring, msh_err *err);

#endif
