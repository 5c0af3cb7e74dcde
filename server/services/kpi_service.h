/* kpi_service.h: the KPI service of a running server: configuration, the recording tick, the
 * kpi_zones layer, and fresh results for the /kpi endpoints (server/routes/routes_kpi.c; the
 * computations live in layers/kpi/).
 *
 * Design: one msh_kpi engine per server (app->kpi). The reload thread calls
 * msh_kpi_service_tick() about once a second; every `interval_s` it computes and records the
 * KPIs into the store (msh_kpi_history). A /kpi request computes afresh when the latest result
 * is more than a second old, so what officials read is never staler than that. At start the
 * recorded history of the last window is replayed, so time-integrated indicators survive a
 * restart.
 */
#ifndef MSH_KPI_SERVICE_H
#define MSH_KPI_SERVICE_H

#include "kpi/kpi.h"
#include "serve/app.h"

/**
 * Read the configuration (app->cfg.kpi_config, or the defaults), open the history in the store,
 * replay it and add the kpi_zones layer to app->live_layers. Call before the first catalog load.
 */
msh_rc msh_kpi_service_open(msh_app *app, msh_err *err);
struct msh_kpi_result;
/** Compute and record when the interval has passed (reload thread); the result computed (the caller
 * releases it: msh_kpi_result_release), NULL when it was not time or the computation failed. */
struct msh_kpi_result *msh_kpi_service_tick(msh_app *app);
void msh_kpi_service_close(msh_app *app);
/** The KPIs at `now`: the latest result when under `max_age` ms old, else computed afresh (release it). */
msh_rc msh_kpi_service_current(msh_app *app, int64_t now, int64_t max_age, msh_kpi_result **out, msh_err *err);

#endif
