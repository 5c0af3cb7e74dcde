/* geom_clean.h: one geometry made fit for the store, as the importer makes every feature fit.
 *
 * Reprojected to EPSG:4326 (when a transformation is given), flattened to 2D, curves linearised,
 * checked with GEOS (`_r` API, one context per msh_geos_env: a thread uses its own); an invalid
 * geometry is repaired with MakeValid keeping only the parts of its own dimension (a bow-tie
 * polygon becomes a multipolygon, never a line). Used by the importer (ogr_import.c) for files and
 * by the edit path (geom_fit.c) for a feature a client sends.
 */
#ifndef MSH_GEOM_CLEAN_H
#define MSH_GEOM_CLEAN_H

#include <geos_c.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stddef.h>
#include <stdint.h>

typedef struct msh_geos_env {
    GEOSContextHandle_t geos;
    GEOSWKBReader *rd;
    GEOSWKBWriter *wr;
    char geos_msg[256];
} msh_geos_env;

/** A GEOS context with a WKB reader and a 2D little-endian writer; 0 on success. */
int msh_geos_env_init(msh_geos_env *ge);
/** Free what msh_geos_env_init made (safe on a zeroed env). */
void msh_geos_env_free(msh_geos_env *ge);

/**
 * Clean one OGR geometry into 2D WKB in EPSG:4326 (`ct` NULL: already in it). Returns 0 and the
 * WKB (free with free()), with *repaired set when MakeValid ran; or non-zero and a reason in `why`.
 */
int msh_geom_clean(msh_geos_env *ge, OGRGeometryH src, OGRCoordinateTransformationH ct, uint8_t **wkb,
                   size_t *wlen, int *repaired, char *why, size_t whycap);

#endif
