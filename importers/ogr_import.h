/* ogr_import.h: bring any vector source GDAL/OGR reads into the store.
 *
 * Each source layer becomes one store layer, and one source file is one transaction: all
 * its layers are committed together or none is. Layer names in any script become distinct
 * store names (layer_names.h), the source name kept as the layer's title; SQL views are
 * refused before anything is written. Geometry is cleaned by geom_clean.h (reprojected to
 * EPSG:4326, 2D, curves linearised, collections split by family, antimeridian crossings
 * split, MakeValid within a per-feature time and memory budget). A feature that cannot be
 * read, repaired or cleaned within the budget is rejected alone with a reason, the layer
 * goes on; with `strict` any rejection fails the file. A read error part-way through (a
 * truncated file) fails the file and names the file, layer and feature. Nothing here
 * prints: progress and notes go through the callbacks in msh_import_opts.
 */
#ifndef MSH_OGR_IMPORT_H
#define MSH_OGR_IMPORT_H

#include <stdint.h>

#include "core/msh_err.h"
#include "layer_names.h"
#include "store.h"

typedef struct msh_import_report {
    char layer[64];        /* store layer name */
    char source_layer[256]; /* the source's name for it (its title when it differs) */
    char source[512];       /* the file */
    uint64_t imported, repaired, skipped, rejected;
    uint64_t split_families;     /* collections stored as one row per geometry family */
    uint64_t split_antimeridian; /* features split at 180 degrees */
    uint64_t version;
    double seconds;
} msh_import_report;

typedef struct msh_import_opts {
    const char *layer_name;   /* target layer name; only with a single source layer */
    const char *source_layer; /* import only this layer of the source */
    const char *source_srs;   /* override or supply the source CRS ("EPSG:32637", WKT, PROJ) */
    int minzoom, maxzoom;
    double feature_seconds; /* GEOS time per feature before it is rejected (default 1; 0: none) */
    size_t feature_bytes;   /* resident memory growth per feature (default 512 MB; 0: none) */
    int strict;             /* any rejected feature fails the whole file */
    int max_reject_notes;   /* rejected features named one by one per layer (default 5) */
    msh_names *names;       /* names given in this command, kept distinct across files; NULL: per file */
    void *ud;
    /** Called now and then while a layer imports; total is 0 when unknown. */
    void (*progress)(void *ud, const char *layer, uint64_t done, uint64_t total);
    /** A note for the user: a rejected feature, a renamed field. */
    void (*note)(void *ud, const char *msg);
    /** Called once per layer after its file is committed. */
    void (*done)(void *ud, const msh_import_report *r);
} msh_import_opts;

/** Default options: zoom 0-18, 1 s and 512 MB per feature, 5 notes, no callbacks. */
void msh_import_opts_init(msh_import_opts *o);

/** Import `path` into `s`, all its layers or none (on failure the store is as it was). */
msh_rc msh_import_file(msh_store *s, const char *path, const msh_import_opts *o, msh_err *err);

#endif
