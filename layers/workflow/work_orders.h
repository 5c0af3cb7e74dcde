/* work_orders.h: the rules of assets and their work orders (issue 12's first workflow).
 *
 * Assets (the imported static layer `assets`): `status` is null or one of working, faulty,
 * maintenance. Work orders (`work_orders`, a store layer the server creates when the store lacks
 * it: Point, the fields below, registered like an import so its history starts) move
 *
 *     open -> assigned -> done          open | assigned -> cancelled
 *
 * and nothing else (409 invalid_transition). `assigned` needs an `assigned_crew`, `cancelled` a
 * `note`; a new work order needs `asset_id` and `fault` and is `open`. The times `opened_at`,
 * `assigned_at`, `done_at` belong to the server: set when the status gets there (ISO 8601 UTC,
 * ms); a client may send them back unchanged or null, any other value is a 400. A work order stays
 * on its asset (`asset_id` cannot change). `report` names the report an escalation made it from
 * (layers/workflow/reports.h; added to the layer of an older store at start).
 *
 * The coupling with the asset is decided here and written by the caller in the same transaction
 * as the work order (layers/edit.h msh_edit_apply_n): opening a work order on a `working` asset
 * makes it `faulty`; `done` makes it `working` again, unless another work order on the same asset
 * is still open or assigned (the asset is not fixed until all of them are). Cancelling leaves it.
 *
 * Pure (no I/O) but for msh_wo_ensure_layer, which writes through the store.
 */
#ifndef MSH_WORK_ORDERS_H
#define MSH_WORK_ORDERS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "core/msh_time.h"
#include "layer.h"
#include "store.h"
#include "workflow/wf_rules.h"

#define MSH_WO_LAYER "work_orders"
#define MSH_ASSETS_LAYER "assets"

/** The asset statuses, NULL-terminated. */
extern const char *const msh_asset_statuses[];

/** Check an asset's values before they are written (status domain). False with `ref` filled. */
bool msh_asset_check(const msh_layer_info *li, const msh_value *vals, msh_wf_refusal *ref);

/**
 * Create the `work_orders` layer (empty, Point, the fields above) when `s` has an `assets` layer
 * and no `work_orders`, in one transaction with its `import` audit row; *created says whether it
 * did. Errors: MSH_EIO.
 */
msh_rc msh_wo_ensure_layer(msh_store *s, bool *created, msh_err *err);

/** The work order's `asset_id` (a non-empty text): its bytes and length, or false with `ref` filled. */
bool msh_wo_asset_id(const msh_layer_info *li, const msh_value *vals, const char **id, size_t *len,
                     msh_wf_refusal *ref);

/** Is this work order still open or assigned? */
bool msh_wo_active(const msh_layer_info *li, const msh_value *vals);

typedef struct msh_wo_plan {
    const char *asset_status;            /* the asset's new status, or NULL: leave it */
    char times[3][MSH_TIME_ISO_CAP];     /* room for the times the server sets */
} msh_wo_plan;

/**
 * Check one write of a work order and fill in what the server owns. `before`: the stored values
 * (NULL for a create); `after`: the values about to be written (li->nfields; status defaulted and
 * times set here, strings then borrow from `plan`); `asset_status`: the asset's status now (NULL
 * when it has none); `others_active`: another open or assigned work order is on the same asset.
 * False with `ref` filled (400 or 409) when the write must not happen.
 */
bool msh_wo_check(const msh_layer_info *li, const msh_value *before, msh_value *after, const char *asset_status,
                  bool others_active, int64_t now_ms, msh_wo_plan *plan, msh_wf_refusal *ref);

#endif
