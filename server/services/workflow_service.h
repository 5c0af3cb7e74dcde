/* workflow_service.h: the workflow rules (layers/workflow/) applied on the edit path.
 *
 * Design: the Part 4 write path (server/routes/routes_ogc_write.c) asks here once, with the edit
 * lock held and the body checked, just before it writes. For `assets` the status value is checked;
 * for `work_orders` the transition is checked, the server's fields set (status on create, times),
 * the asset looked up by its `asset_id` in the served catalog (400 when none), a create without a
 * geometry given the asset's point, and the coupled write of the asset's status planned. For
 * `reports` (layers/workflow/reports.h) the category, text and transition are checked and the
 * server's fields set: the reporter (the token's name), the times, the SLA deadline from
 * services/report_service.h, the service zone the point falls in (`service_zones` of `cat`). The
 * caller writes the work order and that asset change in one savepoint of the committer's transaction
 * (server/services/edit_batch.h, layers/edit.h msh_edit_apply_in_n), so a
 * work order is never stored without the status change it makes, or the other way round. Other
 * collections pass untouched.
 *
 * Lock contract: called with the edit lock held and a reference on `cat` (the catalog the write
 * was checked against); the planned write borrows the asset's values from `cat` until the caller
 * releases it, which it does only after the write. `cleaning_tasks`: the rules of
 * layers/workflow/cleaning_tasks.h, the route looked up in the served `cleaning_routes` (400
 * unknown_route) and a route task's geometry set to the route's box widened by 15 m.
 */
#ifndef MSH_WORKFLOW_SERVICE_H
#define MSH_WORKFLOW_SERVICE_H

#include <stdbool.h>

#include "catalog.h"
#include "edit.h"
#include "geom.h"
#include "http/http.h"
#include "serve/app.h"
#include "workflow/reports.h"
#include "workflow/cleaning_tasks.h"
#include "workflow/work_orders.h"

/**
 * At start, with the edit connection `s`, before the catalog is first loaded (cmd_serve.c opens the
 * edit service before the data): create the `work_orders` layer when the store has assets and no
 * work orders (layers/workflow/work_orders.h), so the first catalog holds it.
 */
msh_rc msh_workflow_start(msh_app *app, msh_store *s, msh_err *err);

/** May a create in collection `coll` leave the geometry out (the workflow supplies it)? */
bool msh_workflow_geometry_optional(const char *coll);

/** Who writes, for the rules that record it (reports: the reporter), and whether the write is an
 * escalation's link (reports: incident / work_order set). */
typedef struct msh_workflow_by {
    msh_app *app;
    const char *who;
    bool link;
} msh_workflow_by;

typedef struct msh_workflow_write {
    msh_wf_refusal ref;        /* why it was refused */
    bool has_extra;            /* a coupled write follows the caller's: `extra` */
    msh_edit_op extra;         /* its kind, layer, fid, values (who, role, at: the caller's) */
    int extra_field;           /* the one field it sets (the asset's status): the others are the item's */
    msh_value *extra_values;   /* owned */
    uint8_t point[21];         /* the default geometry (WKB Point) when the create had none */
    uint8_t area[MSH_WKB_BOX_LEN]; /* a route task's area (WKB Polygon, 5 vertices) */
    msh_wo_plan plan;          /* strings the written values borrow */
    msh_report_plan rplan;     /* the same for a report */
} msh_workflow_write;

/**
 * Check a write of kind `kind` to layer `l` of `cat`: `before` the current values (NULL for a
 * create), `after` the values about to be written (changed here where the server owns them), *wkb
 * the geometry (NULL: kept, or for a create set here to the asset's point), `self` the item's id
 * (0 for a create). False when the write must not happen (w->ref says why: answer it with
 * msh_workflow_refuse). Call msh_workflow_write_free either way.
 */
bool msh_workflow_prepare(msh_catalog *cat, const msh_layer *l, msh_edit_kind kind, const msh_value *before,
                          msh_value *after, const uint8_t **wkb, size_t *wkb_len, int64_t now_ms, uint64_t self,
                          const msh_workflow_by *by, msh_workflow_write *w);
void msh_workflow_write_free(msh_workflow_write *w);

/** Answer a refusal: 400 or 409 `{"code","description",...}` (409: from, to, allowed). */
void msh_workflow_refuse(msh_req *r, const msh_wf_refusal *ref);

#endif
