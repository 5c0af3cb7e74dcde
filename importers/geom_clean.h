/* geom_clean.h: one source geometry into clean 2D WKB parts in EPSG:4326.
 *
 * The steps, in order: curves linearised, Z and M dropped, reprojected (OGR); then in GEOS,
 * under the per-feature budget (geos_budget.h): the geometry split by family (a
 * GeometryCollection gives up to three parts: its points, its lines, its polygons, each kept
 * whole as a Multi* of that family, because a served feature and a vector-tile feature hold
 * one family), each line or polygon part split at the antimeridian (antimeridian.h), checked
 * with GEOSisValid and, when invalid, repaired with GEOSMakeValid keeping only its own family.
 * A geometry that cannot be read, repaired, or cleaned within the budget is rejected with a
 * reason naming the stage; so is one with coordinates outside EPSG:4326 (checked first, so the
 * parts of one feature are all stored or none is).
 */
#ifndef MSH_GEOM_CLEAN_H
#define MSH_GEOM_CLEAN_H

#include <geos_c.h>
#include <ogr_api.h>
#include <stddef.h>
#include <stdint.h>

typedef struct msh_geom_cleaner {
    GEOSContextHandle_t geos;
    GEOSWKBReader *rd;
    GEOSWKBWriter *wr;
    double seconds;   /* budget per feature; 0: none */
    size_t bytes;     /* resident memory growth per feature; 0: none */
    char geos_msg[256];
    /* NULL: GEOSMakeValid_r here; else the repair elsewhere (makevalid_child.h), which sets
     * too_complex (a msh_budget_state: 1 time, 2 memory) when its budget ran out */
    GEOSGeometry *(*make_valid)(struct msh_geom_cleaner *c, const GEOSGeometry *g);
    int too_complex;
    /* that repair's budget (0: none): CPU seconds and wall milliseconds of the repair's process,
     * bytes of address space it may add */
    double repair_cpu_s, repair_wall_ms;
    size_t repair_bytes;
    int inproc_vertices; /* up to this many vertices GEOSMakeValid_r here all the same (0: never) */
} msh_geom_cleaner;

typedef struct msh_clean_out {
    int n;               /* parts: 1, or up to 3 for a GeometryCollection of several families */
    uint8_t *wkb[3];     /* malloc'd 2D WKB, one family each */
    size_t len[3];
    int repaired;        /* MakeValid ran on some part */
    int split_families;  /* a GeometryCollection gave more than one part */
    int split_antimeridian;
} msh_clean_out;

/** Set up the GEOS context (the budget callback is installed by the caller: see geos_budget.h). */
int msh_geom_cleaner_init(msh_geom_cleaner *c, double seconds, size_t bytes);
void msh_geom_cleaner_free(msh_geom_cleaner *c);

/** Clean `src` (transformed with `ct` when not NULL). 0 and *out filled, or non-zero and a reason. */
int msh_geom_clean(msh_geom_cleaner *c, OGRGeometryH src, OGRCoordinateTransformationH ct, msh_clean_out *out,
                   char *why, size_t whycap);
void msh_clean_out_free(msh_clean_out *o);

#endif
