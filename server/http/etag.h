/* etag.h: the ETag of a set of layers, shared by vector tiles, raster tiles and TileJSON: a hash of
 * the store id and every layer's name and version; for a live layer, the version of its data under
 * the tile (`box`, world units; NULL for the whole layer), so a tile's ETag changes exactly when
 * what it shows may have changed. */
#ifndef MSH_ETAG_H
#define MSH_ETAG_H

#include <stddef.h>

#include "catalog.h"

/** Write the quoted ETag into out[cap] (cap >= 19). */
void msh_layers_etag(const msh_catalog *cat, msh_layer *const *layers, int n, int z, const double *box, char *out,
                     size_t cap);

#endif
