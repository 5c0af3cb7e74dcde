/* serve_live.c: the live feeds of `mashaer serve` (serve.h): the state and its write-ahead log,
 * the observers that turn updates into events, incident records and KPI inputs, the geofence
 * rasters and the snapshots that bound the replay after a restart. */
#include <stdio.h>
#include <stdlib.h>

#include "core/msh_time.h"
#include "routes/events.h"
#include "core/msh_buf.h"
#include "core/msh_tilemath.h"
#include "live/dispersion.h"
#include "live/geofence.h"
#include "kpi/kpi.h"
#include "live/incident_log.h"
#include "live/ops_ids.h"
#include "live/sensor_history.h"
#include "services/bin_service.h"
#include "services/playback_service.h"
#include "live/ingest.h"
#include "live/counting.h"
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
    msh_serve_counting_lines(app, cat); /* the move observer reads them under the same lock */
    msh_live_unlock(app->live);
    msh_fences_free(old);
}

/* Write faults are logged when they start and end, and a lasting one at most once a minute. */
#define FAULT_LOG_S 60.0

/* A snapshot bounds the replay after a restart; taken when something was logged since the last.
 * Called by the reload thread, and at shutdown after it stopped. */
void msh_serve_take_snapshot(msh_app *app)
{
    if (!msh_ingest_unsnapshotted(app->ingest))
        return;
    double t0 = msh_serve_now_s();
    uint64_t bytes = 0;
    msh_err err;
    if (msh_ingest_snapshot(app->ingest, &bytes, &err)) {
        if (!app->storage.snap_failed || t0 - app->storage.last_log >= FAULT_LOG_S) {
            fprintf(stderr, "mashaer: snapshot failed (the log still holds everything; %lu more failures not logged): %s\n",
                    app->storage.quiet, err.msg);
            app->storage.last_log = t0;
            app->storage.quiet = 0;
        } else {
            app->storage.quiet++;
        }
        app->storage.snap_failed = true;
        return;
    }
    if (app->storage.snap_failed)
        fprintf(stderr, "mashaer: snapshots written again\n");
    app->storage.snap_failed = false;
    app->storage.quiet = 0;
    fprintf(stderr, "mashaer: live snapshot: %.1f MB in %.2f s\n", bytes / 1e6, msh_serve_now_s() - t0);
}

double msh_serve_snapshot_period(const msh_app *app)
{
    double p = app->cfg.snapshot_s;
    return app->storage.snap_failed && p > 5 ? 5 : p;
}

void msh_serve_storage_tick(msh_app *app)
{
    if (!app->ingest)
        return;
    msh_ingest_retry(app->ingest);
    char why[256];
    bool degraded = !msh_ingest_health(app->ingest, why, sizeof why);
    if (degraded != app->storage.degraded)
        fprintf(stderr, degraded ? "mashaer: storage degraded, feed posts answer 503 until writes succeed: %s\n"
                                 : "mashaer: storage writable again%s\n",
                degraded ? why : "");
    app->storage.degraded = degraded;
}

static int push_incident(void *ud, const msh_live_item *it)
{
    msh_incident_log_push(ud, it);
    return 0;
}

static int push_sensor(void *ud, const msh_live_item *it)
{
    msh_incident_log_push_sensor(ud, it);
    return 0;
}

static int push_gate(void *ud, const msh_live_item *it)
{
    msh_incident_log_push_gate(ud, it); /* the last operator write replayed, if any */
    return 0;
}

/* The live store's observer: events for everyone, and incidents into the store. */
static void on_item(void *ud, msh_feed feed, const msh_live_item *it, const msh_feed_rec *prev)
{
    msh_app *app = ud;
    msh_events_on_item(app->events, feed, it, prev);
    if (feed == MSH_FEED_INCIDENTS)
        msh_incident_log_push(app->incident_log, it);
    if (feed == MSH_FEED_GATES)
        msh_incident_log_push_gate(app->incident_log, it); /* an operator's open or close only */
    if (feed == MSH_FEED_SENSORS)
        msh_incident_log_push_sensor(app->incident_log, it); /* the season's readings */
    if (feed == MSH_FEED_CREWS)
        msh_kpi_crew_moved(app->kpi, it, prev); /* cleaning coverage: where crews went */
    msh_serve_gates_on_item(app, feed, it); /* 5-minute counts, permit alerts (serve_gates.c) */
    if (feed == MSH_FEED_BINS)
        msh_bin_service_push(app->bins, it); /* overflow raised or cleared: an event with a crew, next pass */
}

typedef struct {
    msh_app *app;
    const char *id;
    size_t n;
    uint32_t wx, wy;
    int64_t t_ms;
} move_ctx;

/* One crossing of a zone or camp boundary, as a geofence event (personal: ops tokens only). */
static void fence_event(void *ud, int kind, const char *name, bool enter)
{
    move_ctx *m = ud;
    double lon, lat;
    msh_world_to_lonlat(m->wx / 4294967296.0, m->wy / 4294967296.0, &lon, &lat);
    msh_buf b;
    msh_buf_init(&b, 2048);
    msh_buf_printf(&b, "{\"event\":\"%s\",\"kind\":\"%s\",\"%s\":\"", enter ? "enter" : "exit",
                   kind ? "camp" : "zone", kind ? "camp_id" : "zone_id");
    msh_buf_json_str(&b, name);
    msh_buf_printf(&b, "\",\"id\":\"");
    char idz[MSH_FEED_ID_MAX + 1];
    snprintf(idz, sizeof idz, "%.*s", (int)m->n, m->id);
    msh_buf_json_str(&b, idz);
    msh_buf_printf(&b, "\",\"lon\":%.7f,\"lat\":%.7f,\"time\":%lld}", lon, lat, (long long)m->t_ms);
    msh_buf_putc(&b, 0);
    msh_events_publish(m->app->events, MSH_EV_GEOFENCE, lon, lat, (const char *)b.data);
    msh_buf_free(&b);
}

/* The live store's move observer: geofence crossings (under the live write lock, which also
 * guards app->fences). */
static void on_move(void *ud, const char *id, size_t n, bool had_old, uint32_t owx, uint32_t owy, uint32_t nwx,
                    uint32_t nwy, int64_t t_ms)
{
    move_ctx m = {ud, id, n, nwx, nwy, t_ms};
    msh_fences_crossings(m.app->fences, had_old, owx, owy, nwx, nwy, fence_event, &m);
    if (had_old)
        msh_counting_cross(m.app->counting, owx, owy, nwx, nwy, t_ms); /* counting lines (serve_counting.c) */
}

/* Live feeds: the state, its write-ahead log (replayed now) and its layers. */
msh_rc msh_serve_open_live(msh_app *app, msh_err *err)
{
    msh_live_config lc;
    msh_live_config_init(&lc);
    lc.max_age_s = app->cfg.position_max_age;
    lc.track_hours = app->cfg.track_hours;
    lc.bin_overflow = app->cfg.bin_overflow;
    msh_rc rc = msh_live_new(&lc, &app->live, err);
    if (rc)
        return rc;
    double t0 = msh_serve_now_s();
    uint64_t replayed = 0;
    if ((rc = msh_serve_open_gates(app, err)) || (rc = msh_serve_open_counting(app, err))) /* before the replay */
        return rc;
    if (app->cfg.feed_log) { /* the stream is the log: a snapshot of it now, the rest once connected (feed_log.c) */
        char prefix[96];
        snprintf(prefix, sizeof prefix, "stream-%s", app->cfg.feed_stream);
        rc = msh_ingest_open_log(app->cfg.live_dir, prefix, app->live, &app->ingest, &replayed, err);
    } else {
        rc = msh_ingest_open(app->cfg.live_dir, app->live, &app->ingest, &replayed, err);
    }
    if (rc)
        return rc;
    char why[256];
    if (!msh_ingest_health(app->ingest, why, sizeof why)) { /* e.g. a read-only folder: serve, do not write */
        fprintf(stderr, "mashaer: live folder %s cannot be written, serving what it holds read-only (feed posts "
                "answer 503 until it can; retried every second): %s\n", app->cfg.live_dir, why);
        app->storage.degraded = true;
    }
    msh_live_expire(app->live, msh_now_ms());
    msh_live_stats st;
    msh_live_get_stats(app->live, &st);
    fprintf(stderr, "mashaer: live feeds: replayed %llu updates from %s in %.2f s (%llu people, %llu active)\n",
            (unsigned long long)replayed, app->cfg.live_dir, msh_serve_now_s() - t0, (unsigned long long)st.people,
            (unsigned long long)st.active);
    app->events = msh_events_new();
    app->bins = msh_bin_service_new();
    if (!app->events || !app->bins)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    /* incidents into the store: everything the log and snapshot restored, then every update */
    /* and every sensor reading: the store's within the horizon, then each sensor's latest (a reading
     * accepted just before a crash may not have reached the store; its sensor's latest is restored) */
    if (app->cfg.sensor_history_days > 0 &&
        !(app->sensor_history = msh_sensor_history_new((int64_t)app->cfg.sensor_history_days * 86400000,
                                                       MSH_SENSOR_HISTORY_MAX)))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    if ((rc = msh_incident_log_open(app->cfg.db_path, app->sensor_history, &app->incident_log, err)) ||
        (rc = msh_ops_ids_open(app->cfg.db_path, &app->ops_ids, err)))
        return rc;
    msh_live_rdlock(app->live);
    msh_live_items(app->live, MSH_FEED_INCIDENTS, push_incident, app->incident_log);
    msh_live_items(app->live, MSH_FEED_GATES, push_gate, app->incident_log);
    msh_live_items(app->live, MSH_FEED_SENSORS, push_sensor, app->incident_log);
    msh_live_unlock(app->live);
    msh_live_set_observer(app->live, on_item, app);
    msh_live_set_move_observer(app->live, on_move, app);
    if ((rc = msh_playback_service_open(app, err)))
        return rc;
    if ((rc = msh_live_layers_new(app->live, app->sensor_history, app->cfg.k_anon, &app->live_layers, &app->nlive, err)))
        return rc;
    if ((rc = msh_serve_gates_start(app, err)))
        return rc;
    return msh_serve_counting_start(app, err);
}

void msh_serve_close_live(msh_app *app)
{
    msh_incident_log_close(app->incident_log);
    app->incident_log = NULL;
    msh_ops_ids_close(app->ops_ids);
    app->ops_ids = NULL;
    msh_ingest_close(app->ingest);
    app->ingest = NULL;
    for (size_t i = 0; i < app->nlive; i++)
        msh_layer_release(app->live_layers[i]);
    free(app->live_layers);
    app->live_layers = NULL;
    app->nlive = 0;
    msh_playback_service_close(app); /* after the layers (a past layer holds its minute by reference) */
    msh_live_free(app->live);
    app->live = NULL;
    msh_serve_close_gates(app); /* after the layer that reads it and the log that feeds it */
    msh_serve_close_counting(app);
    msh_sensor_history_free(app->sensor_history); /* after the layers that read it and the writer that fills it */
    app->sensor_history = NULL;
    msh_events_free(app->events);
    app->events = NULL;
    msh_bin_service_free(app->bins);
    app->bins = NULL;
    msh_fences_free(app->fences);
    app->fences = NULL;
    msh_dispersion_free(app->dispersion);
    app->dispersion = NULL;
}
