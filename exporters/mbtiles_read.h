/* mbtiles_read.h: an MBTiles reader (SQLite, read-only), for serving archives made elsewhere.
 *
 * Opening reads the `metadata` table (format, bounds, center, minzoom, maxzoom, name,
 * attribution, and `json` with vector_layers for vector tiles; a missing zoom is taken from the
 * tiles) and checks that `tiles` can be queried. Tiles are looked up by z/x/y with the TMS row
 * (row = 2^z - 1 - y) of the specification.
 *
 * Lock contract: one read-only connection per archive, guarded by the reader's mutex, taken for
 * the whole of one lookup (a statement step and the copy of its blob); no other lock is taken
 * while it is held. The metadata is read once at open and is read-only afterwards.
 */
#ifndef MSH_MBTILES_READ_H
#define MSH_MBTILES_READ_H

#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"

typedef struct msh_mbtiles_meta {
    char format[16];   /* pbf, png, jpg, webp */
    int minzoom, maxzoom;
    double bounds[4];  /* lon/lat W,S,E,N (the world when missing) */
    double center[3];  /* lon, lat, zoom */
    char *name, *attribution; /* may be NULL */
    char *json;        /* the `json` row (vector_layers), may be NULL */
} msh_mbtiles_meta;

typedef struct msh_mbtiles_reader msh_mbtiles_reader;

msh_rc msh_mbtiles_reader_open(const char *path, msh_mbtiles_reader **out, msh_err *err);
void msh_mbtiles_reader_free(msh_mbtiles_reader *r);
const msh_mbtiles_meta *msh_mbtiles_reader_meta(const msh_mbtiles_reader *r);

/** Tile z/x/y (XYZ, y down) as stored into out (reset first); MSH_ENOTFOUND when absent. */
msh_rc msh_mbtiles_reader_tile(msh_mbtiles_reader *r, int z, uint32_t x, uint32_t y, msh_buf *out, msh_err *err);

#endif
