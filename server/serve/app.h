/* app.h: the running server's state, shared by the route handlers.
 *
 * Design: request threads never touch SQLite (one exception: /kpi/history reads its own
 * connection, under its lock; docs/ARCHITECTURE.md). They read an immutable catalog
 * snapshot (layers/catalog.h) taken under a short lock; a reload thread
 * watches the store and publishes a new snapshot when data changes. Each
 * worker thread keeps its own tiler (thread-specific data), so rendering
 * needs no locks; the tile cache is sharded with a lock per shard.
 */
#ifndef MSH_APP_H
#define MSH_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "catalog.h"
#include "http/client_limits.h"
#include "http/metrics.h"
#include "http/admission.h"
#include "http/render_gate.h"
#include "store.h"
#include "http/tile_cache.h"
#include "live/live_timers.h"
#include "tokens.h"

typedef struct msh_config {
    const char *db_path;
    const char *bind;
    int port;
    const char *web_dir;
    const char *public_url; /* --public-url, normalised (http/host_links.h); NULL: links from the Host header */
    const char *styles_dir;
    const char *packages_dir; /* --packages: the offline packages served at /packages, or NULL */
#define MSH_TILES_FILES_MAX 64
    const char *tiles_files[MSH_TILES_FILES_MAX]; /* --tiles FILE: archives served as tile sources */
    size_t ntiles_files;
    size_t cache_bytes;
    int threads;
    int render_threads;     /* PNG renders at once (server/render_gate.h); default: the cores */
    int admit_budget;       /* cost units of expensive requests in flight (http/admission.h) */
    int admit_slots;        /* expensive requests in flight */
    int max_age;            /* Cache-Control max-age for tiles, seconds */
    int max_connections;    /* --max-connections: open connections in all (libmicrohttpd's limit) */
    int reload_ms;          /* how often the store is checked for new data */
    size_t max_tile_bytes;  /* a tile larger than this is an error */
    const char *live_dir;   /* write-ahead log of the live feeds; NULL: live feeds off */
    size_t max_body_bytes;  /* largest feed batch accepted */
    int position_max_age;   /* seconds after which a position stops counting */
    int track_hours;        /* --track-hours: trail kept per person (live/track.h), 0 = none */
    double group_radius;    /* --group-radius: metres from its centroid a group may spread (live/dispersion.h) */
    double max_incline;     /* --max-incline: steepest walkway of the wheelchair profile, percent */
    double bin_overflow;    /* --bin-overflow: a bin's fill level that makes it overflowing (live/bins.h) */
    int k_anon;             /* density cells with fewer people are not shown */
    int snapshot_s;         /* seconds between snapshots of the live state */
    double alert_density;   /* persons/m2 that raise a density alert */
    double alert_pressure;  /* crowd pressure (1/s2) that raises an alert */
    const char *mqtt_addr;          /* --mqtt HOST:PORT (server/mqtt.h); NULL: no MQTT */
    const char *mqtt_user;          /* NULL: anonymous */
    const char *mqtt_password_file; /* the password is read from this file, never from argv */
    const char *mqtt_client_id;     /* set: persistent session under this id; NULL: clean session */
    int mqtt_qos;                   /* subscription QoS, 0 or 1 */
    const char *kpi_config;         /* --kpi-config FILE (docs/KPIS.md); NULL: the defaults */
    const char *walk_layers;        /* line layers the walking graph is built from (comma-separated) */
    double incident_radius;         /* metres around an active incident closed to routes */
    int close_severity;             /* incidents of at least this severity close walkways */
    const char *access_file;        /* --access FILE: who may edit which collection (http/access.h); NULL: defaults */
    int edit_overlay_max;           /* --edit-overlay-max N: edited features and boxes held over a layer (edit_batch.h) */
#define MSH_EDIT_OVERLAY_MAX 16384
    msh_client_limits_cfg clients;  /* per-client limits (server/http/client_limits.h) */
    msh_timers_cfg timers;          /* escalation, retention, stale crews (layers/live/live_timers.h) */
    bool test_clock;                /* --test-clock: POST /test/clock may move the clock (tests only) */
    int sensor_history_days;        /* --sensor-history-days D: every sensor reading kept this long (60) */
    int playback_hours;             /* --playback-hours H: density cells of every minute kept this long (48; 0 off) */
    int gate_history_days;          /* --gate-history-days D: gates' 5-minute counts kept this long (60) */
    double permit_denied_share;     /* --permit-denied-share X: a gate's denied share that raises `permit` (0.05) */
    int permit_min_scans;           /* --permit-min-scans N: scans in the 5 minutes before the share counts (20) */
    int forecast_every;             /* --forecast-every S: seconds of server time between forecast refreshes */
    const char *report_sla;         /* --report-sla SPEC: SLA minutes per report category over the defaults */
    double report_rate;             /* --report-rate N: reports a reporter token may create per minute (10) */
    double report_photo_mb;         /* --report-photo-mb N: photo megabytes a reporter token may send per hour (30) */
    int report_photos;              /* --report-photos N: photos per report (5) */
    const char *forecast_schedule;  /* --forecast-schedule FILE: planned group movements (forecast/schedule.h) */
    int forecast_width;             /* --forecast-width M: a walkway's width when its data has none (forecast/ctm.h) */
    const char *feed_log;           /* --feed-log URLS: NATS JetStream as the feed log (services/feed_log.h); NULL: the local WAL */
    const char *feed_stream;        /* --feed-stream NAME (MASHAER_FEED) */
    int feed_apply_delay_ms;        /* --feed-apply-delay-ms N: tests only, a slow consumer */
    int feed_retain_hours;          /* --feed-retain-hours N (48; 0: no age limit): the stream's MaxAge */
    long feed_retain_mb;            /* --feed-retain-mb N (0: no size limit): the stream's MaxBytes */
} msh_config;

typedef struct msh_app {
    msh_config cfg;
    msh_store *store;       /* used by the reload thread only after start */
    pthread_mutex_t cat_lock;
    msh_catalog *cat;
    pthread_mutex_t pub_lock;       /* orders catalog loads and swaps (reload thread, edits): serve_reload.c */
    atomic_bool derived_stale;      /* an edit published a catalog: the reload thread rebuilds fences and graph */
    struct msh_report_service *reports; /* reports' SLA, budgets, photos (server/services/report_service.h) */
    struct msh_edit_service *edit;  /* OGC API Part 4 writes (server/services/edit_service.h) */
    pthread_mutex_t tok_lock; /* guards `tokens`: swapped by the reload thread, read by auth.c */
    msh_token_set *tokens;    /* the valid write tokens; checked only under tok_lock */
    msh_tile_cache *cache;
    msh_metrics *metrics;
    struct msh_live *live;          /* live state (layers/live/live.h), NULL when off */
    struct msh_ingest *ingest;      /* the one write path into it */
    struct {                        /* write faults, as the reload thread saw them (serve_live.c) */
        bool degraded, snap_failed;
        double last_log;            /* when a fault was last logged (rate limit) */
        unsigned long quiet;        /* snapshot failures not logged since */
    } storage;
    struct msh_mqtt *mqtt;          /* MQTT client feeding `ingest` (server/mqtt.h), NULL when off */
    struct msh_feed_log *feed_log;  /* --feed-log: the stream `ingest` writes to and applies from (services/feed_log.h) */
    msh_layer **live_layers;        /* movement, positions, incidents, ... as layers */
    size_t nlive;
    struct msh_events *events;      /* the SSE event stream (server/events.h) */
    struct msh_emitter *emitter;    /* the cluster's emitter lease (services/emitter_lease.h): ticked by the reload thread */
    struct msh_alert_ledger *alert_ledger; /* a cluster's alerts, once (services/alert_ledger.h); NULL on SpatiaLite */
    bool own_events;                /* `events` made by serve_cluster.c (no live feeds): freed there */
    double own_events_tick;         /* when serve_cluster.c last woke that ring's idle subscribers */
    struct msh_broadcasts *broadcasts; /* broadcasts to an area (server/services/broadcast_service.h) */
    struct msh_incident_log *incident_log; /* incidents and their history in the store */
    struct msh_ops_ids *ops_ids;   /* INC-OPS-<n> numbers across a cluster (NULL on SpatiaLite) */
    struct msh_sensor_history *sensor_history; /* the season's sensor readings (layers/live/sensor_history.h) */
    struct msh_playback *playback;  /* the last hours of density cells (layers/live/playback.h), NULL when off */
    struct msh_gate_counts *gate_counts; /* gates' 5-minute counts and permit alerts (layers/live/gate_counts.h) */
    struct msh_counting *counting;  /* counting lines (layers/live/counting.h) */
    struct msh_dispersion *dispersion; /* group dispersion states (layers/live/dispersion.h), serve_groups.c */
    struct msh_fences *fences;      /* zone and camp rasters (server/geofence.h); swapped under the live write lock */
    struct msh_kpi *kpi;            /* the KPI engine (layers/kpi/kpi.h, server/routes_kpi.h) */
    struct msh_kpi_history *kpi_history; /* KPIs recorded in the store */
    struct msh_cleaning_service *cleaning; /* cleaning tasks' progress and overdue events (reload thread) */
    struct msh_bin_service *bins;  /* bins' overflow events with the nearest crew (services/bin_service.h) */
    int64_t kpi_last_record_ms;     /* when the reload thread last recorded them */
    unsigned long long kpi_epoch;   /* the emitter lease's epoch at that tick (a change: the lease is new) */
    struct msh_forecast_service *forecast; /* the density forecast (server/services/forecast_service.h), NULL when off */
    struct msh_walknet *walknet;    /* the walking graph and its live costs (server/walknet.h) */
    struct msh_font_service *fonts; /* glyph ranges and sprite sheets (server/services/font_service.h) */
    struct msh_package_rebuild *packages; /* rebuilds --packages folders (server/services/package_rebuild.h) */
    struct msh_raster_service *raster; /* compiled styles and PNG renderers (server/services/raster_service.h) */
    struct msh_archive_service *archives; /* --tiles archives (server/services/archive_service.h), read-only */
    msh_render_gate render_gate;    /* PNG renders at once: raster tiles and heatmaps */
    msh_admission admission;        /* expensive requests in flight: isochrones, routes, ... (http/admit.h) */
    struct msh_offload *offload;    /* the threads that run them (http/offload.h); NULL: on the HTTP workers */
    struct msh_http_guard *guard;   /* connection and per-client limits (server/http/http_guard.h) */
    pthread_key_t tiler_key;
    pthread_key_t png_key;          /* each worker's PNG encoder (layers/render/png.h), made on first use */
    pthread_t reload_thread;
    atomic_bool stop;
    double started_at;
    char tile_cache_control[64]; /* "public, max-age=N" from cfg.max_age */
} msh_app;

/** The current walking graph (one reference; msh_graph_release it), or NULL when none is loaded. */
struct msh_graph *msh_app_graph(msh_app *app);

/** The current catalog snapshot, with a reference the caller releases. */
msh_catalog *msh_app_catalog(msh_app *app);

#endif
