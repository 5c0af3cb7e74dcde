/* forecast_service.h: the crowd density forecast of a running server (layers/forecast/ has the
 * models; server/routes/routes_forecast.c serves them).
 *
 * Design: one service per server (app->forecast), with its own thread. The reload thread's tick
 * (the serving timer, driven by the test clock in tests) asks for a refresh every
 * --forecast-every seconds of server time; POST /forecast/refresh asks for one and waits until
 * it is done. A refresh copies the occupied base cells and the gates out of the live state under
 * the read lock (a scan of the occupied chunks: the ingest waits no longer than that copy), lets
 * the lock go, then runs the three models (the cell-transmission model, persistence, advection)
 * over the walking network's current view (its closed edges closed) and the schedule
 * (--forecast-schedule), and publishes an immutable, reference-counted result. Requests take the
 * current result with one short mutex; they never wait for a refresh. At the end of a refresh the
 * forecast events are raised, updated and cleared (forecast_alerts.c), and the warnings standing after
 * them are kept in the result (GET /forecast/warnings reads the set the events described).
 *
 * Locks: `mu` guards the request counters and the current result; the live read lock is held
 * only while copying; no lock is held while the models run.
 */
#ifndef MSH_FORECAST_SERVICE_H
#define MSH_FORECAST_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>

#include "forecast/ctm.h"
#include "forecast/fc_alerts.h"
#include "serve/app.h"

enum { MSH_FC_MODEL_CTM = 0, MSH_FC_MODEL_PERSISTENCE, MSH_FC_MODEL_ADVECTION, MSH_FC_NMODELS };
extern const char *const msh_fc_model_names[MSH_FC_NMODELS];

/** One refresh's forecasts, immutable once published. */
typedef struct msh_forecast_result {
    atomic_int refs;
    int64_t issued_ms;                          /* server time of the live state it started from */
    uint64_t seq;                               /* this server's refresh number (1, 2, ...): with issued_ms
                                                 * the forecast's identity, for ETags */
    msh_fc_grid grid[MSH_FC_NMODELS][MSH_FC_NH]; /* read through msh_forecast_grid */
    msh_fc_stats stats;
    double cpu_ms, wall_ms, copy_ms;            /* the refresh's thread CPU, wall time, time under the read lock */
    size_t cells;                               /* occupied base cells copied */
    msh_fc_warning *warnings;                   /* standing after this refresh's events (fc_alerts.h order) */
    size_t nwarnings;
    /* the advection baseline is drawn when first asked for (model=advection: an evaluation, not the
     * operations room), from the cells this refresh copied, under adv_mu; a refresh does not pay for it */
    msh_fc_cell *observed;
    size_t nobserved;
    pthread_mutex_t adv_mu;
    atomic_bool adv_done;                       /* drawn (a failed try leaves it false: the next one tries again) */
} msh_forecast_result;

/** The cells of `model` at horizon index h (persistence and every horizon 0 are the observed cells);
 * NULL when the advection baseline, drawn on its first use, could not be (out of memory). */
const msh_fc_grid *msh_forecast_grid(const msh_forecast_result *r, int model, int h);
/** Load the schedule (app->cfg.forecast_schedule) and start the thread. Call after the live state and the
 * walking network exist; without a live state, or with --forecast-every 0, nothing starts (app->forecast
 * stays NULL and the endpoints answer 404). */
msh_rc msh_forecast_service_open(msh_app *app, msh_err *err);
/** Ask for a refresh when --forecast-every has passed since the last one started (reload thread). */
void msh_forecast_service_tick(msh_app *app);
/** Refresh now and return when it is published. */
msh_rc msh_forecast_service_refresh(msh_app *app, msh_err *err);
/** The current result (one reference; release it), NULL before the first refresh. */
msh_forecast_result *msh_forecast_service_current(msh_app *app);
void msh_forecast_result_release(msh_forecast_result *r);
/** Prometheus lines: refreshes, last refresh CPU and wall time. */
void msh_forecast_service_metrics(msh_app *app, msh_buf *out);
void msh_forecast_service_close(msh_app *app);

#endif
