/* feature_in.h: a GeoJSON Feature a client sends, checked against a layer's schema.
 *
 * The rules are the importer's, told to a client: every property must be a field of the layer
 * (an unknown one is a 400 naming it and the fields there are), of the field's type (integer:
 * a JSON integer; number: any JSON number; string: a string of at most MSH_FEATURE_IN_MAX_STR
 * bytes; boolean: true or false) or null; a field left out is null. The Feature's own members are
 * `type` ("Feature"), `geometry` (an object: required, as the layers serve only features with
 * one), `properties`, and `id`, `bbox`, `links` (read and ignored: the server owns ids); any
 * other member is refused, so a typo never passes silently. The geometry is only picked out here;
 * importers/geom_fit.h makes it fit. Pure: no allocation beyond `out->values`, no state.
 */
#ifndef MSH_FEATURE_IN_H
#define MSH_FEATURE_IN_H

#include <jansson.h>
#include <stdbool.h>

#include "core/msh_err.h"
#include "layer.h"

#define MSH_FEATURE_IN_MAX_STR 65536

typedef struct msh_feature_in {
    msh_value *values;      /* info.nfields values (owned; strings borrow from the JSON tree) */
    const json_t *geometry; /* borrowed from the tree */
} msh_feature_in;

/**
 * Check `feature` against `li`; on success fill `out` (free with msh_feature_in_free). Without
 * `need_geometry` (a merge patch that keeps the stored geometry) a missing geometry leaves
 * out->geometry NULL. Errors: MSH_EINVAL, MSH_ENOMEM.
 */
msh_rc msh_feature_in_read(const json_t *feature, const msh_layer_info *li, bool need_geometry, msh_feature_in *out,
                           msh_err *err);
void msh_feature_in_free(msh_feature_in *f);

/** A feature's properties as a JSON object from typed values (nulls included): the merge target of a PATCH. */
json_t *msh_feature_in_props(const msh_layer_info *li, const msh_value *values);

#endif
