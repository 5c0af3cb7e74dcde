/* cmd_serve.c: `mashaer serve`: load the catalog, start HTTP, watch the store for new data. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "events.h"
#include "geofence.h"
#include "http.h"
#include "live/incident_log.h"
#include "live/ingest.h"
#include "live/live_layers.h"
#include "kpi/kpi.h"
#include "mqtt.h"
#include "png.h"
#include "routes_kpi.h"
#include "routes_fonts.h"
#include "routes_raster.h"
#include "walknet.h"
#include "tile.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct msh_graph *msh_app_graph(msh_app *app)
{
    msh_netview *v = msh_walknet_view(app->walknet);
    msh_graph *g = v ? msh_graph_retain(v->graph) : NULL;
    msh_netview_release(v);
    return g;
}

msh_catalog *msh_app_catalog(msh_app *app)
{
    pthread_mutex_lock(&app->cat_lock);
    msh_catalog *c = msh_catalog_retain(app->cat);
    pthread_mutex_unlock(&app->cat_lock);
    return c;
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
}

/* Rebuild the geofence rasters from a catalog and swap them in under the live write lock
 * (the move observer reads them under it). */
static void swap_fences(msh_app *app, const msh_catalog *cat)
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
static void take_snapshot(msh_app *app)
{
    if (!msh_ingest_unsnapshotted(app->ingest))
        return;
    double t0 = now_s();
    uint64_t bytes = 0;
    msh_err err;
    if (msh_ingest_snapshot(app->ingest, &bytes, &err))
        fprintf(stderr, "mashaer: snapshot failed (the log still holds everything): %s\n", err.msg);
    else
        fprintf(stderr, "mashaer: live snapshot: %.1f MB in %.2f s\n", bytes / 1e6, now_s() - t0);
}

/* Reload thread: PRAGMA data_version changes when another connection commits. */
static void *reload_main(void *arg)
{
    msh_app *app = arg;
    long seen = msh_store_data_version(app->store);
    double last_expire = now_s(), last_snapshot = now_s();
    while (!atomic_load(&app->stop)) {
        /* sleep in short steps so that shutdown is prompt */
        for (int slept = 0; slept < app->cfg.reload_ms && !atomic_load(&app->stop); slept += 50) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (app->live && now_s() - last_expire >= 1.0) {
            msh_live_expire(app->live, msh_now_ms());
            msh_events_scan_density(app->events, app);
            msh_events_tick(app->events);
            msh_walknet_update_costs(app->walknet, app->live);
            last_expire = now_s();
        }
        msh_kpi_service_tick(app);
        if (app->ingest && now_s() - last_snapshot >= app->cfg.snapshot_s) {
            take_snapshot(app);
            last_snapshot = now_s();
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
            swap_fences(app, next);
            msh_walknet_update_graph(app->walknet, next);
            next = NULL;
        }
        msh_catalog_release(next);
        msh_catalog_release(cur);
        reload_tokens(app);
    }
    return NULL;
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
static msh_rc open_live(msh_app *app, msh_err *err)
{
    msh_live_config lc;
    msh_live_config_init(&lc);
    lc.max_age_s = app->cfg.position_max_age;
    msh_rc rc = msh_live_new(&lc, &app->live, err);
    if (rc)
        return rc;
    double t0 = now_s();
    uint64_t replayed = 0;
    if ((rc = msh_ingest_open(app->cfg.live_dir, app->live, &app->ingest, &replayed, err)))
        return rc;
    msh_live_expire(app->live, msh_now_ms());
    msh_live_stats st;
    msh_live_get_stats(app->live, &st);
    fprintf(stderr, "mashaer: live feeds: replayed %llu updates from %s in %.2f s (%llu people, %llu active)\n",
            (unsigned long long)replayed, app->cfg.live_dir, now_s() - t0, (unsigned long long)st.people,
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

static void close_live(msh_app *app)
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

static void tiler_free(void *p)
{
    msh_tiler_free(p);
}

static void png_enc_free(void *p)
{
    msh_png_enc_free(p);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: mashaer serve --db FILE [options]\n"
            "\n"
            "Serve the layers of a store over HTTP:\n"
            "  /tiles/{layers}/{z}/{x}/{y}.mvt, /tiles/{layers}.json, /catalog, /styles/{name}.json,\n"
            "  /health, /metrics and the web viewer at /.\n"
            "\n"
            "Options:\n"
            "  --db FILE            the SpatiaLite store (made by 'mashaer import')\n"
            "  --bind ADDR          IPv4 address to listen on (default 127.0.0.1)\n"
            "  --port N             port (default 8080; 0 picks a free port)\n"
            "  --threads N          HTTP worker threads (default: 4 per CPU)\n"
            "  --cache-mb N         tile cache size in MiB (default 256; 0 disables)\n"
            "  --max-age S          Cache-Control max-age for tiles in seconds (default 60)\n"
            "  --reload-ms N        how often to look for new data in the store (default 1000)\n"
            "  --web DIR            the web viewer folder (default %s)\n"
            "  --styles DIR         the styles folder (default %s)\n"
            "  --live-dir DIR       write-ahead log of the live feeds (default FILE.live next to the store)\n"
            "  --no-live            serve without live feeds (POST /feeds answers 503)\n"
            "  --max-body-mb N      largest feed batch in MiB (default 16)\n"
            "  --position-max-age S seconds after which a tracked position stops counting (default 600)\n"
            "  --k-anon N           density cells with fewer people are not shown (default 5)\n"
            "  --snapshot-s S       seconds between snapshots of the live state (default 60)\n"
            "  --alert-density D    persons/m2 that raise a density alert on /events (default 4.0)\n"
            "  --alert-pressure P   crowd pressure (1/s2) that raises an alert on /events (default 0.02)\n"
            "  --mqtt HOST:PORT     also take the feeds from an MQTT broker: topics mashaer/feeds/{feed},\n"
            "                       results on mashaer/feeds/{feed}/result (retries while the broker is down)\n"
            "  --mqtt-user NAME     MQTT user name\n"
            "  --mqtt-password-file FILE  the MQTT password, read from FILE (first line)\n"
            "  --mqtt-client-id ID  MQTT client id; makes the session persistent (default: own id, clean)\n"
            "  --mqtt-qos 0|1       subscription QoS (default 1)\n"
            "  --kpi-config FILE    KPI thresholds and composite weights, JSON (docs/KPIS.md; default: data/kpi.json's values)\n"
            "  --walk-layers LIST   line layers the walking graph is built from, comma-separated\n"
            "                       (default walkways,site_walkways; missing ones are skipped)\n"
            "  --incident-radius M  metres around an active incident closed to routes (default 50)\n"
            "  --close-severity S   incidents of at least this severity close walkways: 0 informational,\n"
            "                       1 low, 2 medium, 3 high, 4 critical (default 2)\n"
            "  -h, --help           this help\n"
            "\n"
            "When listening, prints one line 'mashaer: listening on http://ADDR:PORT' to stdout.\n",
            MSH_WEB_DIR, MSH_STYLES_DIR);
}

static int parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "mashaer serve: %s takes a whole number from %ld to %ld, not '%s'\n", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int msh_cmd_serve(int argc, char **argv)
{
    msh_app app;
    memset(&app, 0, sizeof app);
    app.cfg.bind = "127.0.0.1";
    app.cfg.port = 8080;
    app.cfg.web_dir = MSH_WEB_DIR;
    app.cfg.styles_dir = MSH_STYLES_DIR;
    app.cfg.cache_bytes = (size_t)256 << 20;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    /* workers block in the log's fdatasync while they acknowledge a feed batch: more threads than
     * cores keep tile requests from queueing behind a disk flush */
    app.cfg.threads = ncpu > 0 ? (int)ncpu * 4 : 8;
    app.cfg.max_age = 60;
    app.cfg.reload_ms = 1000;
    app.cfg.max_tile_bytes = (size_t)32 << 20;
    app.cfg.max_body_bytes = (size_t)16 << 20;
    app.cfg.position_max_age = 600;
    app.cfg.k_anon = 5;
    app.cfg.snapshot_s = 60;
    app.cfg.alert_density = 4.0;   /* G. Keith Still: critical density, docs/HAJJ-FACTS.md */
    app.cfg.alert_pressure = 0.02; /* Helbing et al.: the alarm level of crowd pressure */
    app.cfg.mqtt_qos = 1;
    app.cfg.walk_layers = "walkways,site_walkways";
    app.cfg.incident_radius = 50;
    app.cfg.close_severity = 2;
    enum { OPT_MQTT = 1000, OPT_MQTT_USER, OPT_MQTT_PASSWORD_FILE, OPT_MQTT_CLIENT_ID, OPT_MQTT_QOS, OPT_WALK_LAYERS,
           OPT_INCIDENT_RADIUS, OPT_CLOSE_SEVERITY, OPT_KPI_CONFIG };
    int no_live = 0;
    char live_dir_default[4096];
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},       {"bind", required_argument, 0, 'b'},
        {"port", required_argument, 0, 'p'},     {"threads", required_argument, 0, 't'},
        {"cache-mb", required_argument, 0, 'c'}, {"max-age", required_argument, 0, 'a'},
        {"reload-ms", required_argument, 0, 'r'}, {"web", required_argument, 0, 'w'},
        {"styles", required_argument, 0, 's'},   {"help", no_argument, 0, 'h'},
        {"live-dir", required_argument, 0, 'L'}, {"no-live", no_argument, 0, 'N'},
        {"max-body-mb", required_argument, 0, 'B'}, {"position-max-age", required_argument, 0, 'A'},
        {"k-anon", required_argument, 0, 'K'},   {"snapshot-s", required_argument, 0, 'S'},
        {"alert-density", required_argument, 0, 'D'}, {"alert-pressure", required_argument, 0, 'P'},
        {"mqtt", required_argument, 0, OPT_MQTT}, {"mqtt-user", required_argument, 0, OPT_MQTT_USER},
        {"mqtt-password-file", required_argument, 0, OPT_MQTT_PASSWORD_FILE},
        {"mqtt-client-id", required_argument, 0, OPT_MQTT_CLIENT_ID}, {"mqtt-qos", required_argument, 0, OPT_MQTT_QOS},
        {"walk-layers", required_argument, 0, OPT_WALK_LAYERS},
        {"incident-radius", required_argument, 0, OPT_INCIDENT_RADIUS},
        {"close-severity", required_argument, 0, OPT_CLOSE_SEVERITY},
        {"kpi-config", required_argument, 0, OPT_KPI_CONFIG},
        {0, 0, 0, 0}};
    int c;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': app.cfg.db_path = optarg; break;
        case 'b': app.cfg.bind = optarg; break;
        case 'p': if (parse_int("--port", optarg, 0, 65535, &v)) return 2; app.cfg.port = (int)v; break;
        case 't': if (parse_int("--threads", optarg, 1, 256, &v)) return 2; app.cfg.threads = (int)v; break;
        case 'c': if (parse_int("--cache-mb", optarg, 0, 1 << 20, &v)) return 2; app.cfg.cache_bytes = (size_t)v << 20; break;
        case 'a': if (parse_int("--max-age", optarg, 0, 86400 * 365, &v)) return 2; app.cfg.max_age = (int)v; break;
        case 'r': if (parse_int("--reload-ms", optarg, 50, 3600000, &v)) return 2; app.cfg.reload_ms = (int)v; break;
        case 'w': app.cfg.web_dir = optarg; break;
        case 's': app.cfg.styles_dir = optarg; break;
        case 'L': app.cfg.live_dir = optarg; break;
        case 'N': no_live = 1; break;
        case 'B': if (parse_int("--max-body-mb", optarg, 1, 1024, &v)) return 2; app.cfg.max_body_bytes = (size_t)v << 20; break;
        case 'A': if (parse_int("--position-max-age", optarg, 1, 86400 * 7, &v)) return 2; app.cfg.position_max_age = (int)v; break;
        case 'D': case 'P': {
            char *end;
            double d = strtod(optarg, &end);
            if (*end || end == optarg || !(d > 0 && d < 100)) {
                fprintf(stderr, "mashaer serve: --alert-%s takes a number above 0, not '%s'\n",
                        c == 'D' ? "density" : "pressure", optarg);
                return 2;
            }
            if (c == 'D') app.cfg.alert_density = d; else app.cfg.alert_pressure = d;
            break;
        }
        case 'S': if (parse_int("--snapshot-s", optarg, 1, 86400, &v)) return 2; app.cfg.snapshot_s = (int)v; break;
        case 'K': if (parse_int("--k-anon", optarg, 1, 1000, &v)) return 2; app.cfg.k_anon = (int)v; break;
        case OPT_MQTT: app.cfg.mqtt_addr = optarg; break;
        case OPT_MQTT_USER: app.cfg.mqtt_user = optarg; break;
        case OPT_MQTT_PASSWORD_FILE: app.cfg.mqtt_password_file = optarg; break;
        case OPT_MQTT_CLIENT_ID: app.cfg.mqtt_client_id = optarg; break;
        case OPT_MQTT_QOS: if (parse_int("--mqtt-qos", optarg, 0, 1, &v)) return 2; app.cfg.mqtt_qos = (int)v; break;
        case OPT_WALK_LAYERS: app.cfg.walk_layers = optarg; break;
        case OPT_INCIDENT_RADIUS: if (parse_int("--incident-radius", optarg, 0, 5000, &v)) return 2; app.cfg.incident_radius = (double)v; break;
        case OPT_CLOSE_SEVERITY: if (parse_int("--close-severity", optarg, 0, 5, &v)) return 2; app.cfg.close_severity = (int)v; break;
        case OPT_KPI_CONFIG: app.cfg.kpi_config = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mashaer serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!app.cfg.db_path) {
        fprintf(stderr, "mashaer serve: --db FILE is required\n\n");
        usage(stderr);
        return 2;
    }
    if (access(app.cfg.db_path, F_OK) != 0) {
        fprintf(stderr, "mashaer serve: %s does not exist: create it with 'mashaer import --db %s DATA...'\n",
                app.cfg.db_path, app.cfg.db_path);
        return 1;
    }
    if (no_live) {
        app.cfg.live_dir = NULL;
    } else if (!app.cfg.live_dir) {
        snprintf(live_dir_default, sizeof live_dir_default, "%s.live", app.cfg.db_path);
        app.cfg.live_dir = live_dir_default;
    }
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
    msh_err err;
    int code = 1;
    void *daemon = NULL;
    if (msh_store_open(app.cfg.db_path, false, &app.store, &err)) {
        fprintf(stderr, "mashaer serve: %s\n", err.msg);
        return 1;
    }
    double t0 = now_s();
    if (app.cfg.live_dir && open_live(&app, &err)) {
        fprintf(stderr, "mashaer serve: %s\n", err.msg);
        close_live(&app);
        msh_store_close(app.store);
        return 1;
    }
    if (app.cfg.live_dir && msh_kpi_service_open(&app, &err)) { /* KPIs read the live state: none without it */
        fprintf(stderr, "mashaer serve: %s\n", err.msg);
        close_live(&app);
        msh_kpi_service_close(&app);
        msh_store_close(app.store);
        return 1;
    }
    if (msh_catalog_load_with(app.store, NULL, app.live_layers, app.nlive, &app.cat, &err)) {
        fprintf(stderr, "mashaer serve: %s\n", err.msg);
        close_live(&app);
        msh_store_close(app.store);
        return 1;
    }
    uint64_t nfeat = 0;
    for (size_t i = 0; i < msh_catalog_count(app.cat); i++)
        nfeat += msh_catalog_at(app.cat, i)->info.feature_count;
    fprintf(stderr, "mashaer: loaded %zu layers, %llu features from %s in %.2f s (and %zu live layers)\n",
            msh_catalog_count(app.cat) - app.nlive, (unsigned long long)nfeat, app.cfg.db_path, now_s() - t0,
            app.nlive);
    pthread_mutex_init(&app.cat_lock, NULL);
    swap_fences(&app, app.cat);
    msh_livecost_cfg lcc;
    msh_livecost_cfg_init(&lcc);
    lcc.close_radius_m = app.cfg.incident_radius;
    lcc.close_severity = app.cfg.close_severity;
    app.walknet = msh_walknet_new(app.cfg.walk_layers, &lcc);
    if (!app.walknet) {
        fprintf(stderr, "mashaer serve: out of memory\n");
        msh_catalog_release(app.cat);
        close_live(&app);
        msh_store_close(app.store);
        return 1;
    }
    msh_walknet_update_graph(app.walknet, app.cat);
    msh_walknet_update_costs(app.walknet, app.live);
    /* write tokens (auth.c): loaded now, reloaded with the data by reload_main */
    pthread_mutex_init(&app.tok_lock, NULL);
    if (msh_token_set_load(app.store, &app.tokens, &err)) {
        fprintf(stderr, "mashaer serve: %s\n", err.msg);
        msh_walknet_free(app.walknet);
        msh_catalog_release(app.cat);
        close_live(&app);
        msh_store_close(app.store);
        return 1;
    }
    fprintf(stderr, "mashaer: write tokens: %zu valid\n", msh_token_set_count(app.tokens));
    pthread_key_create(&app.tiler_key, tiler_free);
    pthread_key_create(&app.png_key, png_enc_free);
    app.cache = msh_tile_cache_new(app.cfg.cache_bytes);
    app.metrics = msh_metrics_new();
    app.fonts = msh_font_service_new();
    app.raster = msh_raster_service_new(app.cfg.styles_dir);
    app.started_at = now_s();
    atomic_init(&app.stop, false);
    if (!app.metrics || !app.fonts || !app.raster || (app.cfg.cache_bytes && !app.cache)) {
        fprintf(stderr, "mashaer serve: out of memory\n");
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
    if (pthread_create(&app.reload_thread, NULL, reload_main, &app) != 0) {
        fprintf(stderr, "mashaer serve: cannot start the reload thread\n");
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
    pthread_join(app.reload_thread, NULL);
    msh_events_shutdown(app.events); /* streams end; no connection may stay suspended */
    struct timespec drain = {0, 200 * 1000000L};
    nanosleep(&drain, NULL);
    msh_http_stop(daemon); /* no more writers: the last snapshot makes the next start quick */
    daemon = NULL;
    msh_mqtt_stop(app.mqtt); /* the other writer: waits for a batch in progress */
    app.mqtt = NULL;
    if (app.ingest)
        take_snapshot(&app);
    code = 0;
out:
    msh_http_stop(daemon);
    msh_mqtt_stop(app.mqtt);
    msh_catalog_release(app.cat);
    msh_token_set_free(app.tokens);
    close_live(&app);
    msh_kpi_service_close(&app); /* after the layers: kpi_zones reads the engine */
    msh_store_close(app.store);
    msh_tile_cache_free(app.cache);
    msh_metrics_free(app.metrics);
    msh_font_service_free(app.fonts);
    msh_raster_service_free(app.raster);
    msh_walknet_free(app.walknet);
    msh_tiler_free(pthread_getspecific(app.tiler_key));
    pthread_key_delete(app.tiler_key);
    msh_png_enc_free(pthread_getspecific(app.png_key));
    pthread_key_delete(app.png_key);
    return code;
}
