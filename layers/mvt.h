/* mvt.h: a streaming Mapbox Vector Tile 2.1 encoder.
 *
 * Hand-written protobuf output (no message structs, no per-feature
 * allocations): features are appended to the current layer's buffer as they
 * come; keys and values are interned per layer by their encoded bytes. Call
 * order: layer_begin, then for each feature feature_begin, attributes,
 * feature_geom, feature_end; then layer_end; finally finish. A layer with no
 * features is left out of the tile; a tile with no layers is empty (len 0).
 */
#ifndef MSH_MVT_H
#define MSH_MVT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "tilegeom.h"

typedef struct msh_mvt msh_mvt;

/** A new encoder whose tile may grow up to `limit` bytes. */
msh_mvt *msh_mvt_new(size_t limit);
void msh_mvt_free(msh_mvt *m);
/** Forget everything encoded, keep the memory. */
void msh_mvt_reset(msh_mvt *m);

msh_rc msh_mvt_layer_begin(msh_mvt *m, const char *name, uint32_t extent);
msh_rc msh_mvt_feature_begin(msh_mvt *m, bool has_id, uint64_t id);
msh_rc msh_mvt_attr_string(msh_mvt *m, const char *key, const char *val, size_t len);
msh_rc msh_mvt_attr_int(msh_mvt *m, const char *key, int64_t v);
msh_rc msh_mvt_attr_double(msh_mvt *m, const char *key, double v);
msh_rc msh_mvt_attr_bool(msh_mvt *m, const char *key, bool v);
/** The feature's geometry; a geometry of type MSH_GT_NONE is an error. */
msh_rc msh_mvt_feature_geom(msh_mvt *m, const msh_tgeom *g);
/** Append the feature to the layer; `drop` discards it instead. */
msh_rc msh_mvt_feature_end(msh_mvt *m, bool drop);
msh_rc msh_mvt_layer_end(msh_mvt *m);
/** The encoded tile; valid until the next reset. */
msh_rc msh_mvt_finish(msh_mvt *m, const uint8_t **data, size_t *len);
/** Number of features in the finished tile so far. */
uint64_t msh_mvt_feature_count(const msh_mvt *m);

#endif
