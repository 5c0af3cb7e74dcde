/* serve_live.c: the live feeds of `mashaer serve` (serve.h): the state and its write-ahead log,
 * the observers that turn updates into events, incident records and KPI inputs, the geofence
 * rasters and the snapshots that bound the replay after a restart. */
#include <stdio.h>
#include <stdlib.h>

#include "core/msh_time.h"
#include "routes/events.h"
#include "geofence.h"
#include "kpi/kpi.h"
#include "live/incident_log.h"
#include "live/ingest.h"
#include "live/live_layers.h"
#include "serve/serve.h"

/* Rebuild the geofence rasters from a catalog and swap them in under the live write lock
 * (the move observer reads them under it). */
void msh_serve_swap_fences(msh_app *app, const msh_catalog *cat)
{
    if (!app->live)
        return;
    msh_fences *f = msh_fences_build(cat);
    msh_live_wrlock(app->live);
    msh_fences *old = app->fences;
    app->fences = f;
    msh_live_unlock(app->live);
    msh_fences_free(old);
}

/* A snapshot bounds the replay after a restart; taken when something was logged since the last. */
void msh_serve_take_snapshot(msh_app *app)
{
    if (!msh_ingest_unsnapshotted(app->ingest))
        return;
    double t0 = msh_serve_now_s();
    uint64_t bytes = 0;
    msh_err err;
    if (msh_ingest_snapshot(app->ingest, &bytes, &err))
        fprintf(stderr, "mashaer: snapshot failed (the log still holds everything): %s\n", err.msg);
    else
        fprintf(stderr, "mashaer: live snapshot: %.1f MB in %.2f s\n", bytes / 1e6, msh_serve_now_s() - t0);
}

static int push_incident(void *ud, const msh_live_item *it)
{
    msh_incident_log_push(ud, it);
    return 0;
}

/* The live store's observer: events for everyone, and incidents into the store. */
static void on_item(void *ud, msh_feed feed, const msh_live_item *it, const msh_feed_rec *prev)
{
    msh_app *app = ud;
    msh_events_on_item(app->events, feed, it, prev);
    if (feed == MSH_FEED_INCIDENTS)
        msh_incident_log_push(app->incident_log, it);
    if (feed == MSH_FEED_CREWS)
        msh_kpi_crew_moved(app->kpi, it, prev); /* cleaning coverage: where crews went */
}

/* Live feeds: the state, its write-ahead log (replayed now) and its layers. */
msh_rc msh_serve_open_live(msh_app *app, msh_err *err)
{
    msh_live_config lc;
    msh_live_config_init(&lc);
    lc.max_age_s = app->cfg.position_max_age;
    msh_rc rc = msh_live_new(&lc, &app->live, err);
    if (rc)
        return rc;
    double t0 = msh_serve_now_s();
    uint64_t replayed = 0;
    if ((rc = msh_ingest_open(app->cfg.live_dir, app->live, &app->ingest, &replayed, err)))
        return rc;
    msh_live_expire(app->live, msh_now_ms());
    msh_live_stats st;
    msh_live_get_stats(app->live, &st);
    fprintf(stderr, "mashaer: live feeds: replayed %llu updates from %s in %.2f s (%llu people, %llu active)\n",
            (unsigned long long)replayed, app->cfg.live_dir, msh_serve_now_s() - t0, (unsigned long long)st.people,
            (unsigned long long)st.active);
    app->events = msh_events_new();
    if (!app->events)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    /* incidents into the store: everything the log and snapshot restored, then every update */
    if ((rc = msh_incident_log_open(app->cfg.db_path, &app->incident_log, err)))
        return rc;
    msh_live_rdlock(app->live);
    msh_live_items(app->live, MSH_FEED_INCIDENTS, push_incident, app->incident_log);
    msh_live_unlock(app->live);
    msh_live_set_observer(app->live, on_item, app);
    msh_live_set_move_observer(app->live, msh_geofence_on_move, app);
    return msh_live_layers_new(app->live, app->cfg.k_anon, &app->live_layers, &app->nlive, err);
}

void msh_serve_close_live(msh_app *app)
{
    msh_incident_log_close(app->incident_log);
    app->incident_log = NULL;
    msh_ingest_close(app->ingest);
    app->ingest = NULL;
    for (size_t i = 0; i < app->nlive; i++)
        msh_layer_release(app->live_layers[i]);
    free(app->live_layers);
    app->live_layers = NULL;
    app->nlive = 0;
    msh_live_free(app->live);
    app->live = NULL;
    msh_events_free(app->events);
    app->events = NULL;
    msh_fences_free(app->fences);
    app->fences = NULL;
}
