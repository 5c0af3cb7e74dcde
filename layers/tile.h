/* tile.h: assembling one vector tile from layers.
 *
 * A tiler is one thread's working memory (encoder, geometry scratch); reuse
 * it across requests. For each layer, in the order given: ask the layer for
 * the features in the buffered tile box, run each through the geometry
 * pipeline (tilegeom.h) and encode the survivors with their typed attributes
 * as one MVT layer named after the layer.
 */
#ifndef MSH_TILE_H
#define MSH_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "layer.h"

typedef struct msh_tiler msh_tiler;

/** A tiler whose tiles may grow to `max_bytes`. */
msh_tiler *msh_tiler_new(size_t max_bytes);
void msh_tiler_free(msh_tiler *t);

typedef struct msh_tile_stats {
    uint64_t features; /* encoded */
    uint64_t scanned;  /* returned by the layers' queries */
} msh_tile_stats;

/**
 * Render tile z/x/y of `layers` as MVT. Layers outside their zoom range are
 * left out. `*data` is valid until the next call on this tiler; `*len` is 0
 * for a tile with no features.
 */
msh_rc msh_tile_mvt(msh_tiler *t, msh_layer *const *layers, size_t nlayers, int z, uint32_t x, uint32_t y,
                    const uint8_t **data, size_t *len, msh_tile_stats *stats, msh_err *err);

#endif
