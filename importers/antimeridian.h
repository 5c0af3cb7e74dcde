/* antimeridian.h: lines and polygons that cross ±180° split into parts on either side.
 *
 * In EPSG:4326 a polygon around Fiji written 179 -> -179 has an edge 358° long: drawn as it
 * is, it becomes a band around the world. The rule here: an edge whose longitudes differ by
 * more than 180° crosses the antimeridian the short way. Such a geometry is unwrapped (each
 * ring or line made continuous by adding or taking 360° at each crossing, holes placed next
 * to their shell), cut by the windows [-540,-180], [-180,180], [180,540] (GEOS
 * intersection) and each piece shifted back by its multiple of 360°: a MultiPolygon (or
 * MultiLineString) whose parts all lie within [-180, 180]. A ring that does not close after
 * unwrapping goes around a pole: it cannot be split this way and is refused.
 */
#ifndef MSH_ANTIMERIDIAN_H
#define MSH_ANTIMERIDIAN_H

#include <geos_c.h>

typedef enum { MSH_AM_NONE = 0, MSH_AM_SPLIT = 1, MSH_AM_POLE = 2, MSH_AM_FAIL = 3 } msh_am_result;

/**
 * If `g` (2D lon/lat, any type) has an edge crossing the antimeridian, set *out to the split
 * geometry (free with GEOSGeom_destroy_r) and return MSH_AM_SPLIT; MSH_AM_NONE when nothing
 * crosses (*out NULL); MSH_AM_POLE for a ring around a pole; MSH_AM_FAIL when GEOS failed
 * (for example interrupted by the budget).
 */
msh_am_result msh_antimeridian_split(GEOSContextHandle_t h, const GEOSGeometry *g, GEOSGeometry **out);

#endif
