/* serve_reload.c: the background thread of `mashaer serve` (serve.h): every --reload-ms it
 * expires old positions, scans density for alerts, refreshes walking costs and KPIs, snapshots the
 * live state, and when another connection committed to the store (PRAGMA data_version) publishes
 * a new catalog snapshot, geofences and walking graph, and reloads the write tokens (ending the
 * event streams of a revoked token). */
#include <stdio.h>
#include <time.h>

#include "core/msh_time.h"
#include "routes/events.h"
#include "live/ingest.h"
#include "live/live.h"
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

/* Reload thread: PRAGMA data_version changes when another connection commits. */
void *msh_serve_reload_main(void *arg)
{
    msh_app *app = arg;
    long seen = msh_store_data_version(app->store);
    double last_expire = msh_serve_now_s(), last_snapshot = msh_serve_now_s();
    while (!atomic_load(&app->stop)) {
        /* sleep in short steps so that shutdown is prompt */
        for (int slept = 0; slept < app->cfg.reload_ms && !atomic_load(&app->stop); slept += 50) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (app->live && msh_serve_now_s() - last_expire >= 1.0) {
            msh_live_expire(app->live, msh_now_ms());
            msh_events_scan_density(app->events, app);
            msh_events_tick(app->events);
            msh_walknet_update_costs(app->walknet, app->live);
            last_expire = msh_serve_now_s();
        }
        msh_kpi_service_tick(app);
        if (app->ingest && msh_serve_now_s() - last_snapshot >= app->cfg.snapshot_s) {
            msh_serve_take_snapshot(app);
            last_snapshot = msh_serve_now_s();
        }
        long v = msh_store_data_version(app->store);
        if (v == seen)
            continue;
        seen = v;
        msh_catalog *cur = msh_app_catalog(app);
        msh_catalog *next = NULL;
        msh_err err;
        if (msh_catalog_load_with(app->store, cur, app->live_layers, app->nlive, &next, &err)) {
            fprintf(stderr, "mashaer: reload failed, still serving the previous data: %s\n", err.msg);
        } else if (msh_catalog_digest(next) != msh_catalog_digest(cur)) {
            pthread_mutex_lock(&app->cat_lock);
            msh_catalog *old = app->cat;
            app->cat = next;
            pthread_mutex_unlock(&app->cat_lock);
            msh_catalog_release(old);
            fprintf(stderr, "mashaer: data changed: now serving %zu layers\n", msh_catalog_count(next));
            msh_serve_swap_fences(app, next);
            msh_walknet_update_graph(app->walknet, next);
            next = NULL;
        }
        msh_catalog_release(next);
        msh_catalog_release(cur);
        reload_tokens(app);
    }
    return NULL;
}
