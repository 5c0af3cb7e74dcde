/* cleaning_layer.h: the `cleaning_progress` layer: every piece of the cleaning routes as the sweeps
 * left it.
 *
 * Design: the KPI engine cuts the cleaning routes into pieces of at most 10 m and credits a piece
 * when the crew of an active task covering it passes (kpi_tasks.c); this layer shows those pieces
 * as they stand, one LineString each (its id: its number among the pieces now cut, which a
 * re-import of the routes renumbers), with `route` (the route's feature id), `swept` (a sweep is on
 * record), `swept_at` (ISO 8601, the last), `crew` and `task` (the task it counted for). Read
 * under the engine's lock, straight from its pieces: the state after the engine last applied the
 * crews' moves (once a second, or a /kpi request). region_version is the engine's sweep version,
 * which changes whenever a piece is swept or the pieces are cut again, so tiles and ETags follow
 * the sweeps and nothing else. Public, like the routes.
 */
#ifndef MSH_CLEANING_LAYER_H
#define MSH_CLEANING_LAYER_H

#include "kpi.h"
#include "layer.h"

#define MSH_CLEANING_PROGRESS_LAYER "cleaning_progress"

/** A new cleaning_progress layer over `k` (borrowed: it must outlive the layer). One reference. */
msh_rc msh_cleaning_layer_new(msh_kpi *k, msh_layer **out, msh_err *err);

#endif
