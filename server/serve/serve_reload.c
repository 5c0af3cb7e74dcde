/* serve_reload.c: the background thread of `mashaer serve` (serve.h): every --reload-ms it
 * expires old positions, scans density for alerts, refreshes walking costs and KPIs, snapshots the
 * live state, and when another connection committed to the store (PRAGMA data_version) publishes
 * a new catalog snapshot, geofences and walking graph, picks up the broadcasts another node wrote,
 * and reloads the write tokens (ending the event streams of a revoked token). */
#include <stdio.h>
#include <time.h>

#include "core/msh_time.h"
#include "routes/events.h"
#include "live/ingest.h"
#include "live/live.h"
#include "services/forecast_service.h"
#include "services/cleaning_service.h"
#include "services/bin_service.h"
#include "services/broadcast_service.h"
#include "services/kpi_service.h"
#include "serve/serve.h"
#include "route/walknet.h"

double msh_serve_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Write tokens: load the valid ones and swap them in when they changed. The old set is freed
 * only after the swap, under no lock: auth.c reads a set only while holding tok_lock. */
static void reload_tokens(msh_app *app)
{
    msh_token_set *next = NULL;
    msh_err err;
    if (msh_token_set_load(app->store, &next, &err)) {
        fprintf(stderr, "mashaer: reloading tokens failed, keeping the previous ones: %s\n", err.msg);
        return;
    }
    pthread_mutex_lock(&app->tok_lock);
    msh_token_set *old = app->tokens;
    bool same = msh_token_set_same(old, next);
    if (!same)
        app->tokens = next;
    pthread_mutex_unlock(&app->tok_lock);
    if (same) {
        msh_token_set_free(next);
        return;
    }
    msh_token_set_free(old);
    fprintf(stderr, "mashaer: write tokens changed: %zu valid\n", msh_token_set_count(next));
    msh_events_revalidate(app->events, app); /* a revoked token's open streams end now */
}

/* Geofences and the walking graph follow the catalog; only the reload thread rebuilds them. */
static void update_derived(msh_app *app, msh_catalog *cat)
{
    msh_serve_swap_fences(app, cat);
    msh_walknet_update_graph(app->walknet, cat);
}

/* Build a catalog from `via` and swap it in when it differs; *published (a reference, or NULL
 * when nothing changed). Loads and swaps are ordered by pub_lock, so a slower load never
 * replaces a newer catalog. */
static msh_rc publish(msh_app *app, msh_store *via, msh_catalog **published, msh_err *err)
{
    *published = NULL;
    pthread_mutex_lock(&app->pub_lock);
    msh_catalog *cur = msh_app_catalog(app);
    msh_catalog *next = NULL;
    msh_rc rc = msh_catalog_load_with(via, cur, app->live_layers, app->nlive, &next, err);
    if (!rc && msh_catalog_digest(next) != msh_catalog_digest(cur)) {
        pthread_mutex_lock(&app->cat_lock);
        msh_catalog *old = app->cat;
        app->cat = msh_catalog_retain(next);
        pthread_mutex_unlock(&app->cat_lock);
        msh_catalog_release(old);
        *published = next;
        next = NULL;
    }
    pthread_mutex_unlock(&app->pub_lock);
    msh_catalog_release(next);
    msh_catalog_release(cur);
    return rc;
}

msh_rc msh_serve_publish(msh_app *app, msh_store *via, msh_err *err)
{
    msh_catalog *next = NULL;
    msh_rc rc = publish(app, via, &next, err);
    if (next) {
        atomic_store(&app->derived_stale, true); /* the reload thread wakes and rebuilds the rest */
        msh_catalog_release(next);
    }
    return rc;
}

msh_rc msh_serve_publish_layers(msh_app *app, msh_layer *const *layers, size_t n, msh_err *err)
{
    pthread_mutex_lock(&app->pub_lock);
    msh_catalog *cur = msh_app_catalog(app);
    msh_catalog *next = NULL;
    msh_rc rc = msh_catalog_with(cur, layers, n, &next, err);
    if (!rc) {
        pthread_mutex_lock(&app->cat_lock);
        msh_catalog *old = app->cat;
        app->cat = next;
        pthread_mutex_unlock(&app->cat_lock);
        msh_catalog_release(old);
        atomic_store(&app->derived_stale, true);
    }
    pthread_mutex_unlock(&app->pub_lock);
    msh_catalog_release(cur);
    return rc;
}

/* Reload thread: PRAGMA data_version changes when another connection commits. */
void *msh_serve_reload_main(void *arg)
{
    msh_app *app = arg;
    long seen = msh_store_data_version(app->store);
    double last_expire = msh_serve_now_s(), last_snapshot = msh_serve_now_s();
    while (!atomic_load(&app->stop)) {
        /* sleep in short steps so that shutdown is prompt; an edit (msh_serve_publish) wakes it early, and so
         * does a commit by another connection (PRAGMA data_version reads shared memory: about a microsecond) */
        for (int slept = 0; slept < app->cfg.reload_ms && !atomic_load(&app->stop) && !atomic_load(&app->derived_stale) &&
                            msh_store_data_version(app->store) == seen;
             slept += 50) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
            msh_serve_cluster_tick(app, msh_serve_now_s()); /* lease and alert ledger, rate-limited inside */
        }
        if (app->live && msh_serve_now_s() - last_expire >= 1.0) {
            msh_live_expire(app->live, msh_now_ms());
            msh_serve_timers_tick(app, NULL);
            msh_events_scan_density(app->events, app);
            msh_events_tick(app->events);
            msh_walknet_update_costs(app->walknet, app->live);
            msh_cleaning_service_tick(app); /* task progress written back, overdue events */
            msh_bin_service_tick(app);      /* bins' overflow events with the nearest crew */
            last_expire = msh_serve_now_s();
        }
        msh_kpi_result *kr = msh_kpi_service_tick(app);
        if (kr && app->events)
            msh_events_zones(app->events, kr); /* service zones over their population capacity */
        msh_kpi_result_release(kr);
        msh_forecast_service_tick(app);
        msh_serve_storage_tick(app);
        if (app->ingest && msh_serve_now_s() - last_snapshot >= msh_serve_snapshot_period(app)) {
            msh_serve_take_snapshot(app);
            last_snapshot = msh_serve_now_s();
        }
        if (atomic_exchange(&app->derived_stale, false)) {
            /* an edit published a catalog: what is derived from it follows here, on this thread */
            msh_catalog *cur = msh_app_catalog(app);
            update_derived(app, cur);
            msh_catalog_release(cur);
        }
        long v = msh_store_data_version(app->store);
        if (v == seen)
            continue;
        seen = v;
        msh_broadcasts_sync(app); /* another node's broadcasts: first, they are what phones are waiting for */
        msh_catalog *next = NULL;
        msh_err err;
        if (publish(app, app->store, &next, &err)) {
            fprintf(stderr, "mashaer: reload failed, still serving the previous data: %s\n", err.msg);
        } else if (next) {
            fprintf(stderr, "mashaer: data changed: now serving %zu layers\n", msh_catalog_count(next));
            update_derived(app, next);
        }
        msh_catalog_release(next);
        reload_tokens(app);
    }
    return NULL;
}
