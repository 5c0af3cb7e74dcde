/* owned_layer.h: a layer narrowed to one owner's features (a reporter reading its own reports).
 *
 * The features of `cur` whose text field `field` equals `owner`, and no others: a msh_layer like
 * any (query, destroy), so the items page, its paging, bbox, filters and downloads run on it
 * unchanged and cannot reach another owner's feature. Its info is the layer's, made public
 * (access 0): the view itself is the access rule. It holds a reference to `cur`; nothing is copied.
 */
#ifndef MSH_OWNED_LAYER_H
#define MSH_OWNED_LAYER_H

#include "layer.h"

/** The view of `cur` for `owner` by field `field` (a name of cur's fields). Errors: MSH_EINVAL (no such field), MSH_ENOMEM. */
msh_rc msh_owned_layer_new(msh_layer *cur, const char *field, const char *owner, msh_layer **out, msh_err *err);

#endif
