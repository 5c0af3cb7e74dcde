/* routes_kpi.h: the KPI service of a running server: configuration, the recording tick, the
 * kpi_zones layer, and the /kpi endpoints (the computations live in layers/kpi/).
 *
 * Design: one msh_kpi engine per server (app->kpi). The reload thread calls
 * msh_kpi_service_tick() about once a second; every `interval_s` it computes and records the
 * KPIs into the store (msh_kpi_history). A /kpi request computes afresh when the latest result
 * is more than a second old, so what officials read is never staler than that. At start the
 * recorded history of the last window is replayed, so time-integrated indicators survive a
 * restart.
 */
#ifndef MSH_ROUTES_KPI_H
#define MSH_ROUTES_KPI_H

#include "serve/app.h"

/**
 * Read the configuration (app->cfg.kpi_config, or the defaults), open the history in the store,
 * replay it and add the kpi_zones layer to app->live_layers. Call before the first catalog load.
 */
msh_rc msh_kpi_service_open(msh_app *app, msh_err *err);
/** Compute and record when the interval has passed (reload thread). */
void msh_kpi_service_tick(msh_app *app);
void msh_kpi_service_close(msh_app *app);

#endif
