/* serve_cluster.c: a node of a cluster (serve.h): the emitter lease and the alert ledger.
 *
 * On a PostgreSQL store any number of nodes may serve one database; of them one at a time holds
 * the emitter lease (services/emitter_lease.h: records KPI history, writes alerts) and every one
 * publishes the alerts of the ledger (services/alert_ledger.h) to its own event stream. A node
 * without live feeds of its own still gets an event ring, so its subscribers see those alerts.
 * On SpatiaLite the lease is held for ever, there is no ledger, and nothing else changes.
 *
 * Lock contract: open and close run on the main thread before the reload thread starts and after
 * it stopped; msh_serve_cluster_tick runs on the reload thread only (and once inside open, before
 * that thread exists).
 */
#include "routes/events.h"
#include "serve/serve.h"
#include "services/alert_ledger.h"
#include "services/emitter_lease.h"

msh_rc msh_serve_open_cluster(msh_app *app, msh_err *err)
{
    msh_rc rc = msh_emitter_open(app->cfg.db_path, NULL, &app->emitter, err);
    if (rc || !msh_store_is_pg(app->store))
        return rc;
    if (!app->events) {
        if (!(app->events = msh_events_new()))
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
        app->own_events = true;
    }
    if ((rc = msh_alert_ledger_open(app->emitter, app->events, &app->alert_ledger, err)))
        return rc;
    /* one tick now, on the main thread (the reload thread has not started): the lease's session and the
     * ledger's starting point are set before the node answers, so an alert written after its /health
     * says ok reaches its subscribers (the first reload tick came later and started past it) */
    msh_serve_cluster_tick(app, msh_serve_now_s());
    return MSH_OK;
}

void msh_serve_cluster_tick(msh_app *app, double now_s)
{
    msh_emitter_tick(app->emitter, now_s);
    msh_alert_ledger_tick(app->alert_ledger, now_s);
    if (app->own_events && now_s - app->own_events_tick >= 1.0) { /* heartbeats: the live feeds' timer does it otherwise */
        msh_events_tick(app->events);
        app->own_events_tick = now_s;
    }
}

void msh_serve_close_cluster(msh_app *app)
{
    msh_alert_ledger_close(app->alert_ledger);
    app->alert_ledger = NULL;
    msh_emitter_close(app->emitter); /* the session ends: the lease goes to another node */
    app->emitter = NULL;
    if (app->own_events) {
        msh_events_free(app->events);
        app->events = NULL;
        app->own_events = false;
    }
}
