/* cmd_serve.c: `mashaer serve`: open the store and the live feeds, start every service, listen,
 * and on SIGINT or SIGTERM stop them in the order that loses nothing. The options are read in
 * serve_args.c, the live feeds opened in serve_live.c, the background thread is serve_reload.c. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/commands.h"
#include "routes/events.h"
#include "http/offload.h"
#include "http/http.h"
#include "http/http_guard.h"
#include "serve/mqtt.h"
#include "http/route_table.h"
#include "png.h"
#include "services/broadcast_service.h"
#include "services/edit_service.h"
#include "services/font_service.h"
#include "services/forecast_service.h"
#include "services/cleaning_service.h"
#include "services/kpi_service.h"
#include "services/archive_service.h"
#include "services/raster_service.h"
#include "serve/serve.h"
#include "store_sql.h"
#include "services/package_rebuild.h"
#include "tile.h"
#include "route/walknet.h"
#include "services/feed_log.h"

static void tiler_free(void *p)
{
    msh_tiler_free(p);
}

static void png_enc_free(void *p)
{
    msh_png_enc_free(p);
}

/* The store's layers plus the live ones, the geofences and the walking graph over them. */
static msh_rc open_data(msh_app *app, msh_err *err)
{
    double t0 = msh_serve_now_s();
    msh_rc rc = msh_catalog_load_with(app->store, NULL, app->live_layers, app->nlive, &app->cat, err);
    if (rc)
        return rc;
    uint64_t nfeat = 0;
    for (size_t i = 0; i < msh_catalog_count(app->cat); i++)
        nfeat += msh_catalog_at(app->cat, i)->info.feature_count;
    fprintf(stderr, "mashaer: loaded %zu layers, %llu features from %s in %.2f s (and %zu live layers)\n",
            msh_catalog_count(app->cat) - app->nlive, (unsigned long long)nfeat, app->cfg.db_path,
            msh_serve_now_s() - t0, app->nlive);
    msh_serve_swap_fences(app, app->cat);
    msh_livecost_cfg lcc;
    msh_livecost_cfg_init(&lcc);
    lcc.close_radius_m = app->cfg.incident_radius;
    lcc.close_severity = app->cfg.close_severity;
    app->walknet = msh_walknet_new(app->cfg.walk_layers, &lcc);
    if (!app->walknet)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    msh_walknet_update_graph(app->walknet, app->cat);
    msh_walknet_update_costs(app->walknet, app->live);
    /* write tokens (auth.c): loaded now, reloaded with the data by the reload thread */
    if ((rc = msh_token_set_load(app->store, &app->tokens, err)))
        return rc;
    fprintf(stderr, "mashaer: write tokens: %zu valid\n", msh_token_set_count(app->tokens));
    return MSH_OK;
}

int msh_cmd_serve(int argc, char **argv)
{
    msh_app app;
    memset(&app, 0, sizeof app);
    char live_dir_default[4096];
    int code = msh_serve_args(argc, argv, &app.cfg, live_dir_default, sizeof live_dir_default);
    if (code >= 0)
        return code;
    code = 1;
    umask(077); /* every file the server makes (store journals, log, snapshots) is the owner's alone */
    snprintf(app.tile_cache_control, sizeof app.tile_cache_control,
             app.cfg.max_age ? "public, max-age=%d" : "no-cache", app.cfg.max_age);
    /* SIGINT and SIGTERM are blocked before any thread starts, so every thread inherits the
     * block and the main thread alone takes them, in sigwait() below: no handler, no race between
     * testing a flag and sleeping, and no worker thread swallowing the signal */
    sigset_t stop_sigs;
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGINT);
    sigaddset(&stop_sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
    pthread_mutex_init(&app.cat_lock, NULL);
    pthread_mutex_init(&app.pub_lock, NULL);
    pthread_mutex_init(&app.tok_lock, NULL);
    msh_render_gate_init(&app.render_gate, (unsigned)app.cfg.render_threads);
    msh_admission_init(&app.admission, (unsigned)app.cfg.admit_budget, (unsigned)app.cfg.admit_slots);
    app.offload = msh_offload_new((unsigned)app.cfg.admit_slots);
    pthread_key_create(&app.tiler_key, tiler_free);
    pthread_key_create(&app.png_key, png_enc_free);
    atomic_init(&app.stop, false);
    msh_err err;
    void *daemon = NULL;
    bool reloading = false;
    if (msh_store_open(app.cfg.db_path, false, &app.store, &err)) {
        fprintf(stderr, "mashaer serve: %s\n", err.msg);
        goto out;
    }
    /* Nodes of a cluster that start together would each add the same tables and layers: one at a time */
    msh_store_start_lock(app.store, true);
    bool opened = !((app.cfg.live_dir && msh_serve_open_live(&app, &err)) ||
        (app.cfg.live_dir && msh_kpi_service_open(&app, &err)) || /* KPIs read the live state: none without it */
        msh_serve_open_cluster(&app, &err) || /* after the live feeds' event ring: a cluster's alerts go through it */
        msh_edit_service_open(&app, &err) || /* first: it may add the work_orders layer the data then holds */
        open_data(&app, &err) ||
        msh_archive_service_open(app.cfg.tiles_files, app.cfg.ntiles_files, app.cat, &app.archives, &err));
    if (!opened) {
        msh_store_start_lock(app.store, false);
        fprintf(stderr, "mashaer serve: %s\n", err.msg);
        goto out;
    }
    if (msh_broadcasts_open(&app, &err)) /* a store we may not write: served without them (503) */
        fprintf(stderr, "mashaer: broadcasts are off: %s\n", err.msg);
    msh_store_start_lock(app.store, false);
    app.cache = msh_tile_cache_new(app.cfg.cache_bytes);
    int nlabels;
    const char *const *labels = msh_route_labels(&nlabels);
    app.metrics = msh_metrics_new(labels, nlabels);
    app.fonts = msh_font_service_new();
    app.raster = msh_raster_service_new(app.cfg.styles_dir);
    app.started_at = msh_serve_now_s();
    if (!app.metrics || !app.fonts || !app.raster || (app.cfg.cache_bytes && !app.cache)) {
        fprintf(stderr, "mashaer serve: out of memory\n");
        goto out;
    }
    if (msh_forecast_service_open(&app, &err)) { /* its thread reads the live state and the walking network */
        fprintf(stderr, "mashaer serve: %s\n", err.msg);
        goto out;
    }
    if (app.cfg.feed_log && msh_feed_log_open(&app, &err)) { /* consumes in the background: /health says when caught up */
        fprintf(stderr, "mashaer serve: %s\n", err.msg);
        goto out;
    }
    int port = 0;
    if (msh_http_start(&app, &daemon, &port, &err)) {
        fprintf(stderr, "mashaer serve: %s\n", err.msg);
        goto out;
    }
    app.cfg.port = port;
    /* MQTT: connects (and reconnects) in the background; fails only on a bad configuration */
    if (app.cfg.mqtt_addr && msh_mqtt_start(&app, &app.mqtt, &err)) {
        fprintf(stderr, "mashaer serve: %s\n", err.msg);
        goto out;
    }
    msh_events_set_tap(app.events, app.mqtt ? msh_mqtt_change_tap : NULL, app.mqtt); /* changes on MQTT too */
    if (pthread_create(&app.reload_thread, NULL, msh_serve_reload_main, &app) != 0) {
        fprintf(stderr, "mashaer serve: cannot start the reload thread\n");
        goto out;
    }
    reloading = true;
    if (msh_package_rebuild_start(&app, &app.packages, &err)) {
        fprintf(stderr, "mashaer serve: %s\n", err.msg);
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    printf("mashaer: listening on http://%s:%d\n", app.cfg.bind, port);
    fflush(stdout);
    int sig = 0;
    while (sigwait(&stop_sigs, &sig) != 0)
        ;
    fprintf(stderr, "mashaer: shutting down\n");
    atomic_store(&app.stop, true);
    msh_package_rebuild_stop(app.packages); /* a rebuild in progress stops and leaves the old package */
    app.packages = NULL;
    pthread_join(app.reload_thread, NULL);
    reloading = false;
    msh_events_shutdown(app.events); /* streams end; no connection may stay suspended */
    struct timespec drain = {0, 200 * 1000000L};
    nanosleep(&drain, NULL);
    msh_offload_close(app.offload); /* expensive requests running finish and resume their connections */
    msh_edit_service_drain(&app);   /* so do the parked edits */
    msh_http_stop(daemon); /* no more writers: the last snapshot makes the next start quick */
    daemon = NULL;
    msh_events_set_tap(app.events, NULL, NULL);
    msh_mqtt_stop(app.mqtt); /* the other writer: waits for a batch in progress */
    app.mqtt = NULL;
    msh_feed_log_close(&app); /* no writer left: the consumer stops between two messages */
    if (app.ingest)
        msh_serve_take_snapshot(&app);
    code = 0;
out:
    msh_package_rebuild_stop(app.packages);
    if (reloading) {
        atomic_store(&app.stop, true);
        pthread_join(app.reload_thread, NULL);
    }
    msh_offload_close(app.offload);
    msh_edit_service_drain(&app);
    msh_http_stop(daemon);
    msh_offload_free(app.offload);
    msh_events_set_tap(app.events, NULL, NULL);
    msh_mqtt_stop(app.mqtt);
    msh_feed_log_close(&app);
    msh_forecast_service_close(&app); /* its thread stops before the live state and the network go */
    msh_edit_service_close(&app); /* no request left: the daemon is stopped */
    msh_broadcasts_close(&app);
    msh_catalog_release(app.cat);
    msh_token_set_free(app.tokens);
    msh_serve_close_cluster(&app); /* after the reload thread and the producers; before the event ring goes */
    msh_serve_close_live(&app);
    msh_cleaning_service_close(&app);
    msh_kpi_service_close(&app); /* after the layers: kpi_zones reads the engine */
    msh_store_close(app.store);
    msh_tile_cache_free(app.cache);
    msh_metrics_free(app.metrics);
    msh_font_service_free(app.fonts);
    msh_raster_service_free(app.raster);
    msh_archive_service_free(app.archives);
    msh_http_guard_free(app.guard); /* after the daemon: its callbacks and the event streams use it */
    msh_walknet_free(app.walknet);
    msh_tiler_free(pthread_getspecific(app.tiler_key));
    pthread_key_delete(app.tiler_key);
    msh_png_enc_free(pthread_getspecific(app.png_key));
    pthread_key_delete(app.png_key);
    msh_render_gate_destroy(&app.render_gate);
    msh_admission_destroy(&app.admission);
    return code;
}
