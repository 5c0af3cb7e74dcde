/* ogr_import.h: bring any vector source GDAL/OGR reads into the store.
 *
 * Each source layer becomes one store layer in one transaction: geometry is
 * reprojected to EPSG:4326, flattened to 2D, curves linearised, and checked
 * with GEOS; invalid geometry is repaired with MakeValid (the same feature,
 * same family: a polygon stays polygonal). Features with no geometry are
 * skipped, features that cannot be read or repaired are rejected with a
 * reason; a read error part-way through rolls the layer back and names the
 * file, layer and feature. Nothing here prints: progress and notes go through
 * the callbacks in msh_import_opts.
 */
#ifndef MSH_OGR_IMPORT_H
#define MSH_OGR_IMPORT_H

#include <stdint.h>

#include "core/msh_err.h"
#include "store.h"

typedef struct msh_import_report {
    char layer[64];        /* store layer name */
    char source_layer[128];
    uint64_t imported, repaired, skipped, rejected;
    uint64_t version;
    double seconds;
} msh_import_report;

typedef struct msh_import_opts {
    const char *layer_name;   /* target layer name; only with a single source layer */
    const char *source_layer; /* import only this layer of the source */
    const char *source_srs;   /* override or supply the source CRS ("EPSG:32637", WKT, PROJ) */
    int minzoom, maxzoom;
    void *ud;
    /** Called now and then while a layer imports; total is 0 when unknown. */
    void (*progress)(void *ud, const char *layer, uint64_t done, uint64_t total);
    /** A note for the user: a rejected feature, a renamed field. */
    void (*note)(void *ud, const char *msg);
    /** Called once per layer when it is committed. */
    void (*done)(void *ud, const msh_import_report *r);
} msh_import_opts;

/** Default options: zoom 0-18, no callbacks. */
void msh_import_opts_init(msh_import_opts *o);

/** Make a store layer name from any source layer name ("Makkah Walkways" -> "makkah_walkways"). */
void msh_import_layer_name(const char *src, char *out, size_t cap);

/** Import `path` into `s`. Layers committed before a failure stay committed. */
msh_rc msh_import_file(msh_store *s, const char *path, const msh_import_opts *o, msh_err *err);

#endif
