/* vector_layers.h: what a set of layers looks like to a vector-tile client: TileJSON 3.0's
 * `vector_layers` (id, description, zooms, fields by type) and the extent the layers cover.
 *
 * Written once for every place that describes composite tiles: the server's TileJSON
 * (server/routes/routes_tiles.c) and the metadata of PMTiles and MBTiles archives (exporters/).
 */
#ifndef MSH_VECTOR_LAYERS_H
#define MSH_VECTOR_LAYERS_H

#include <stddef.h>

#include "core/msh_buf.h"
#include "layer.h"

/** Append `"vector_layers":[...]` (the key included, no braces around it) to b. */
void msh_vector_layers_json(msh_buf *b, msh_layer *const *layers, size_t n);

/** The union of the layers' bounds (lon/lat W,S,E,N; the Web Mercator world when none has
 * features) and their zoom range. */
void msh_layers_extent(msh_layer *const *layers, size_t n, double bounds[4], int *minzoom, int *maxzoom);

#endif
