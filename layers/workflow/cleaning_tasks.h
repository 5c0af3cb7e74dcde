/* cleaning_tasks.h: the rules of cleaning tasks (issue 13, cleaning operations).
 *
 * A cleaning task asks one crew to sweep a cleaning route (`route`: a feature id of the imported
 * `cleaning_routes`) or an area (the task's own polygon) within a shift, by a due time. The
 * `cleaning_tasks` layer is a store layer the server creates at start when the store has
 * `cleaning_routes` and no `cleaning_tasks` (Polygon, the fields below, registered like an import
 * so that its history starts). Its geometry is the area: the polygon a client gives, or for a
 * route task the route's bounding box widened by the sweep buffer (set by the server, so a route
 * task shows on the map where it is).
 *
 *     open -> in_progress -> done          open | in_progress -> cancelled
 *
 * and nothing else (409 invalid_transition). A new task is `open` and needs `crew` and `due`, and
 * `route` or a geometry; `shift_start`/`shift_end` are optional (a task without a shift is active
 * whenever it is open or in progress); every time is ISO 8601 and a shift ends after it starts.
 * `route` cannot change once written (open another task). `progress` (0-100) belongs to the
 * server, computed from the crew's sweeps (layers/kpi/kpi_tasks.c): a client may send it back as
 * it is or leave it out; any other value is a 400 `server_field`. Cancelling needs a `note`.
 *
 * Pure (no I/O) but for msh_ct_ensure_layer, which writes through the store.
 */
#ifndef MSH_CLEANING_TASKS_H
#define MSH_CLEANING_TASKS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "layer.h"
#include "store.h"
#include "workflow/wf_rules.h"

#define MSH_CT_LAYER "cleaning_tasks"
#define MSH_CT_ROUTES_LAYER "cleaning_routes"

/** The task statuses, NULL-terminated. */
extern const char *const msh_ct_statuses[];

/**
 * Create the `cleaning_tasks` layer (empty, Polygon) when `s` has `cleaning_routes` and no
 * `cleaning_tasks`, in one transaction with its `import` audit row; *created says whether it did.
 * Errors: MSH_EIO.
 */
msh_rc msh_ct_ensure_layer(msh_store *s, bool *created, msh_err *err);

/** A task as the sweep matching reads it (times in ms, 0 when not given). */
typedef struct msh_ct_task {
    int64_t route;          /* the route's fid, or 0: the task's area */
    const char *crew;       /* borrowed from the values; NULL when none */
    uint32_t crew_len;
    int64_t shift_start, shift_end, due;
    int status;             /* index into msh_ct_statuses, -1 when outside the table */
    int64_t progress;       /* the stored value, -1 when null */
} msh_ct_task;

/** Read a stored task's values (no check: an external edit may have written anything). */
void msh_ct_read(const msh_layer_info *li, const msh_value *vals, msh_ct_task *out);

/** Does a task of this status credit its crew's sweeps (open or in_progress)? */
bool msh_ct_active_status(int status);

/** Is a task of this status finished (done or cancelled)? */
bool msh_ct_finished_status(int status);

/**
 * Check one write of a task. `before`: the stored values (NULL for a create); `after`: the values
 * about to be written (status and progress defaulted here on a create, progress kept on an update).
 * `has_geometry`: the write carries a geometry. False with `ref` filled (400 or 409) when the
 * write must not happen; *route gets the task's route (0: an area task).
 */
bool msh_ct_check(const msh_layer_info *li, const msh_value *before, msh_value *after, bool has_geometry,
                  int64_t *route, msh_wf_refusal *ref);

#endif
