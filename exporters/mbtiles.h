/* mbtiles.h: an MBTiles 1.3 writer (SQLite) for vector or PNG tiles.
 *
 * Schema: `metadata` (name, format pbf or png, bounds, center, minzoom, maxzoom, type, version,
 * description, attribution, and for vector tiles `json` holding `vector_layers`), each distinct tile once in
 * `images` (tile_data, tile_id = the hex of its digest), `map` from (zoom_level, tile_column,
 * tile_row) to it with TMS rows (y up: row = 2^z - 1 - y), and the `tiles` view over the two that
 * readers of the specification query. The file is built under a temporary name in one
 * transaction without a journal (a failed export is thrown away whole), then fsync'ed and renamed
 * (outfile.h). One thread at a time.
 */
#ifndef MSH_MBTILES_H
#define MSH_MBTILES_H

#include <stdint.h>

#include "core/msh_err.h"
#include "export.h"

typedef struct msh_mbtiles msh_mbtiles;

typedef struct msh_mbtiles_info {
    const char *name;
    int minzoom, maxzoom;
    double bounds[4]; /* lon/lat W,S,E,N */
    double center[3]; /* lon, lat, zoom */
    const char *description;
    const char *json; /* {"vector_layers":[...]}; NULL for PNG tiles */
    const char *format; /* "pbf" or "png" */
} msh_mbtiles_info;

/** Start a file that will be `path` (nothing appears there until msh_mbtiles_finish). */
msh_rc msh_mbtiles_open(const char *path, msh_mbtiles **out, msh_err *err);
/** Add a tile: an msh_export_tile_fn (ud is the writer). */
msh_rc msh_mbtiles_add(void *w, const msh_export_tile *t, msh_err *err);
/** Write the metadata, commit, and give the file its name; *size gets its size in bytes. */
msh_rc msh_mbtiles_finish(msh_mbtiles *w, const msh_mbtiles_info *info, uint64_t *size, msh_err *err);
/** Free the writer; a file not finished is removed. */
void msh_mbtiles_free(msh_mbtiles *w);

#endif
