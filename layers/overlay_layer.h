/* overlay_layer.h: a served static layer as its loaded base plus the features edited since.
 *
 * Publishing an edit used to reload the whole layer from SQLite. An overlay layer instead wraps
 * the layer that was served (a static layer, static_layer.h, loaded once) and holds the features
 * written since, by id: a replaced or created feature in full (its own vertices and values), a
 * deleted one as a tombstone. A query asks the base for the box, passes over the ids the overlay
 * holds, and merges in the overlay's own features that meet the box, in id order as the base
 * answers (so output is stable). A feature's lookup by id is a binary search in the overlay, then
 * in the base.
 *
 * Per-region versions: each edit keeps the version it made and the lon/lat box its old and new
 * geometry touched (as msh_audit stores it); a tile's version is the largest of the base's answer
 * and the versions of the overlay's edits whose box meets the tile. A static layer loaded from the
 * store after the same edits answers the same (it reads those boxes back from the audit), so
 * swapping one for the other (a compaction) changes no ETag.
 *
 * An overlay is immutable once made. A batch of edits builds the next one with an msh_overlay_edit
 * (one writer: the edit committer), which copies the table of entries (the entries themselves are
 * shared, reference counted) and the list of edit boxes: O(edits since the base) per batch, so the
 * owner rebuilds the base from the store (msh_static_layer_load) once msh_overlay_size grows past a
 * few thousand.
 */
#ifndef MSH_OVERLAY_LAYER_H
#define MSH_OVERLAY_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layer.h"

/** Feature `id` of `l` (an overlay, a static layer, or any layer by a whole-world query); false
 * when it has none. The feature borrows the layer's memory. */
bool msh_overlay_find(msh_layer *l, uint64_t id, msh_feature *out);

/** Features and edit boxes an overlay holds over its base (0 for any other layer). */
size_t msh_overlay_size(const msh_layer *l);

typedef struct msh_overlay_edit msh_overlay_edit;

/** Start changes over `cur` (retained until finish or abort). */
msh_rc msh_overlay_begin(msh_layer *cur, msh_overlay_edit **out, msh_err *err);

/** Feature `id` as the changes so far leave it; false when absent or deleted. Borrowed until the next put. */
bool msh_overlay_edit_find(msh_overlay_edit *e, uint64_t id, msh_feature *out);

/**
 * Record one committed edit: feature `id` is now `g` (world units) with `values` (nfields, strings
 * copied), or deleted when `g` is NULL; `version` is the layer version it made, `touched` its lon/lat
 * box (NULL: none). The info follows the store: version, count (+1 create, -1 delete) and bounds grown
 * by `after` (lon/lat, NULL: none).
 */
msh_rc msh_overlay_put(msh_overlay_edit *e, uint64_t id, bool created, const msh_geom *g, const msh_value *values,
                       uint64_t version, const double touched[4], const double after[4], msh_err *err);

/** The same with the geometry as 2D WKB in lon/lat (an edit's). */
msh_rc msh_overlay_put_wkb(msh_overlay_edit *e, uint64_t id, bool created, const uint8_t *wkb, size_t len,
                           const msh_value *values, uint64_t version, const double touched[4], const double after[4],
                           msh_err *err);

/** True when no put happened. */
bool msh_overlay_edit_empty(const msh_overlay_edit *e);

/** The new layer (one reference); frees e. */
msh_rc msh_overlay_finish(msh_overlay_edit *e, msh_layer **out, msh_err *err);

/** Drop the changes. */
void msh_overlay_abort(msh_overlay_edit *e);

#endif
