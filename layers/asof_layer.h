/* asof_layer.h: a static layer as it was at an instant, from the audit (GET .../items?asof=T).
 *
 * The layer served now, with every feature the audit shows changed after T set back: the
 * `before` of each feature's first change after T (since the layer's latest import) replaces
 * it, or hides it when that `before` is null (created after T). Features deleted since T come
 * back from their `before` the same way. Unchanged features are the current layer's own (no
 * copy); only the changed ones are decoded (their geometry through SpatiaLite's
 * GeomFromGeoJSON, their properties checked against the layer's fields). Before the layer's
 * latest import the audit knows nothing: the layer is empty then, as an item asof is absent.
 *
 * The result is a msh_layer like any other (query, destroy), so the items page, its paging,
 * bbox, datetime and filters work on it unchanged. It holds a reference to the current layer.
 */
#ifndef MSH_ASOF_LAYER_H
#define MSH_ASOF_LAYER_H

#include <stdint.h>

#include "layer.h"
#include "store.h"

/**
 * Make the view of `cur` (a static layer of store `s`) at `t_ms` (UTC ms). `s` is used only
 * during the call (the edit connection, under its lock). Errors: MSH_EIO, MSH_ENOMEM.
 */
msh_rc msh_asof_layer_new(msh_store *s, msh_layer *cur, int64_t t_ms, msh_layer **out, msh_err *err);

#endif
