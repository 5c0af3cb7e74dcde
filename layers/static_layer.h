/* static_layer.h: a layer read from the store into memory for serving.
 *
 * The whole table is loaded once per data version into flat arrays (vertices
 * in world units, part lengths, typed values, one string pool) with a packed
 * Hilbert R-tree over feature boxes, so a tile query touches no SQLite and
 * allocates only its result list. A re-import makes a new layer object; the
 * old one lives until its last reader lets go.
 */
#ifndef MSH_STATIC_LAYER_H
#define MSH_STATIC_LAYER_H

#include "layer.h"
#include "store.h"

/** Load the layer `info` describes from `s`. The new layer has one reference. */
msh_rc msh_static_layer_load(msh_store *s, const msh_layer_info *info, msh_layer **out, msh_err *err);

/** True when `l` was made by msh_static_layer_load. */
bool msh_static_layer_is(const msh_layer *l);

/** Feature `id` of a static layer (msh_static_layer_is) by binary search; false when it has none.
 * The feature borrows the layer's memory. */
bool msh_static_layer_get(msh_layer *l, uint64_t id, msh_feature *out);

#endif
