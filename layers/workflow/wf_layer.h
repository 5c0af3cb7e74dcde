/* wf_layer.h: a workflow's own layer, made by the server in a store that lacks it.
 *
 * Design: a workflow collection (work orders, cleaning tasks, reports) is an ordinary static layer
 * of the store, so tiles, OGC items, queryables, history and asof serve it like any other. The
 * server creates it empty at start, in one transaction with its registry row (typed: an empty
 * layer's type would otherwise be "Geometry") and the `import` audit row that starts its history,
 * and only when the store holds the layer the workflow refers to (assets, cleaning routes). Every
 * workflow layer is made here, by one function (msh_wf_create_layer). A layer made or imported
 * before a workflow needed a text field of its own (work orders' `report`, the zones' contacts)
 * gets it at start, by one function too (msh_wf_ensure_fields).
 */
#ifndef MSH_WF_LAYER_H
#define MSH_WF_LAYER_H

#include <stdbool.h>

#include "core/msh_err.h"
#include "store.h"

/**
 * Create the empty layer `spec` of geometry type `gtype` ("Point", "Polygon"), in one transaction with
 * its registry row and the `import` audit row that starts its history. Errors: MSH_EIO (the layer
 * exists already, or the store failed: nothing written).
 */
msh_rc msh_wf_create_layer(msh_store *s, const msh_layer_spec *spec, const char *gtype, msh_err *err);

/**
 * Create layer `spec` (empty, of geometry type `gtype`) when `s` has layer `needs` (NULL: no
 * condition) and no layer named spec->name; *created says whether it did. Errors: MSH_EIO.
 */
msh_rc msh_wf_ensure_layer(msh_store *s, const msh_layer_spec *spec, const char *needs, const char *gtype,
                           bool *created, msh_err *err);

/**
 * Add to layer `layer` each text field of the NULL-terminated `names` it lacks (null in every
 * feature), the columns and the registry's field list in one transaction; *added says how many
 * were added. A store without the layer is left alone (*added 0). Errors: MSH_EIO (nothing changed,
 * *added 0), MSH_EINVAL (more than 16 names).
 */
msh_rc msh_wf_ensure_fields(msh_store *s, const char *layer, const char *const names[], int *added, msh_err *err);

#endif
