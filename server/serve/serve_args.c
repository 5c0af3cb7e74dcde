/* serve_args.c: the options of `mashaer serve`, their defaults and --help (serve.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/serve.h"
#include "http/host_links.h"
#include "core/msh_constants.h"
#include "forecast/ctm.h"

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
            "  --db FILE            the SpatiaLite store (made by 'mashaer import'), or a PostgreSQL one:\n"
            "                       postgresql://USER@HOST:PORT/DB (changes by other nodes served within 1 s)\n"
            "  --bind ADDR          IPv4 address to listen on (default 127.0.0.1)\n"
            "  --port N             port (default 8080; 0 picks a free port)\n"
            "  --threads N          HTTP worker threads (default: 4 per CPU)\n"
            "  --render-threads N   PNG tiles and heatmaps drawn at once; more wait their turn in order\n"
            "                       (default: one per CPU)\n"
            "  --admit-budget U     cost units of expensive requests (isochrones, routes, filtered\n"
            "                       nearest searches, OGC item pages) running at once; one unit is\n"
            "                       about 10 ms of CPU, a 60-minute isochrone 100. Over it: 503 with\n"
            "                       Retry-After (default: 100 per CPU)\n"
            "  --admit-slots N      expensive requests (5 units or more) running at once, each on a\n"
            "                       thread of its own (default: one per CPU, at most half the --threads)\n"
            "  --cache-mb N         tile cache size in MiB (default 256; 0 disables)\n"
            "  --max-age S          Cache-Control max-age for tiles in seconds (default 60)\n"
            "  --reload-ms N        how often to look for new data in the store (default 1000)\n"
            "  --web DIR            the web viewer folder (default %s)\n"
            "  --styles DIR         the styles folder (default %s)\n"
            "  --packages DIR       serve the *.pmtiles files (mashaer export) and package folders (mashaer\n"
            "                       package) of DIR at /packages, with range requests for PMTiles clients;\n"
            "                       a package whose layers change is rebuilt in the background (default: none)\n"
            "  --tiles FILE         serve a tile archive made elsewhere (.pmtiles or .mbtiles, vector or\n"
            "                       raster) at /tiles/NAME/{z}/{x}/{y}.mvt|.png and /tiles/NAME.json, NAME\n"
            "                       being the file's stem (not a layer's name); repeatable\n"
            "  --public-url URL     the base of every absolute link (TileJSON, styles, OGC, /catalog), e.g.\n"
            "                       https://maps.example.org; without it links come from the Host header\n"
            "                       and those answers carry Vary: Host\n"
            "  --live-dir DIR       write-ahead log of the live feeds (default FILE.live next to the store;\n"
            "                       a PostgreSQL store has live feeds only when DIR is given: the folder\n"
            "                       stays local, the incidents, counts and KPI history go to the database);\n"
            "                       one that cannot be written (read-only, full) is served read-only:\n"
            "                       feed posts and /health answer 503 until it can, then resume by themselves\n"
            "  --no-live            serve without live feeds, --live-dir or not (POST /feeds answers 503)\n"
            "  --max-body-mb N      largest feed batch in MiB (default 16)\n"
            "  --position-max-age S seconds after which a tracked position stops counting (default 600)\n"
            "  --track-hours H      hours of trail kept per tracked person for /tracking (0 = none, at most\n"
            "                       18; default 6)\n"
            "  --group-radius M     metres from their centroid a group's members may spread before a\n"
            "                       `group` event (default 300)\n"
            "  --max-incline PCT    steepest walkway of /route?profile=wheelchair, percent (default 6)\n"
            "  --bin-overflow X     a bin's fill level (0..1) that raises its `overflow` event; it clears\n"
            "                       below 80%% of it (default 0.8)\n"
            "  --bin-stale-min M    a bin not heard from for M minutes is marked stale: grey on the map,\n"
            "                       counted as bins_stale, not as overflowing (default 30)\n"
            "  --k-anon N           k-anonymity: no public count (movement, heatmaps, zone KPIs) under N\n"
            "                       people, nor a difference under N between them (default 5)\n"
            "  --snapshot-s S       seconds between snapshots of the live state (default 60)\n"
            "  --alert-density D    persons/m2 that raise a density alert on /events (default 4.0)\n"
            "  --alert-pressure P   crowd pressure (1/s2) that raises an alert on /events (default 0.02)\n"
            "  --mqtt HOST:PORT     also take the feeds from an MQTT broker: topics mashaer/feeds/{feed},\n"
            "                       results on mashaer/feeds/{feed}/result (retries while the broker is down)\n"
            "  --mqtt-user NAME     MQTT user name\n"
            "  --mqtt-password-file FILE  the MQTT password, read from FILE (first line)\n"
            "  --mqtt-client-id ID  MQTT client id; makes the session persistent (default: own id, clean)\n"
            "  --mqtt-qos 0|1       subscription QoS (default 1)\n"
            "  --feed-log URLS      NATS JetStream as the replicated feed log, e.g. nats://h1:4222,h2:4222:\n"
            "                       every accepted batch is stored on the stream (answered after its\n"
            "                       quorum ack; 503 when it is not) and every node applies the stream in\n"
            "                       order; the local write-ahead log is not used (default: none)\n"
            "  --feed-stream NAME   the stream's name (default MASHAER_FEED; letters, digits, _ and -)\n"
            "  --feed-apply-delay-ms N  for tests only: wait N ms before applying each stream message\n"
            "  --feed-retain-hours N  the stream keeps messages N hours (default 48; 0: no age limit)\n"
            "  --feed-retain-mb N   and at most N MB, the oldest dropped first (default 0: no size limit);\n"
            "                       a node whose snapshot is older than what the stream keeps answers 503\n"
            "                       \"stream_gap\" on /health (README: the feed log)\n"
            "  --kpi-config FILE    KPI thresholds and composite weights, JSON (docs/KPIS.md; default: data/kpi.json's values)\n"
            "  --walk-layers LIST   line layers the walking graph is built from, comma-separated\n"
            "                       (default walkways,site_walkways; missing ones are skipped)\n"
            "  --incident-radius M  metres around an active incident closed to routes (default 50)\n"
            "  --close-severity S   incidents of at least this severity close walkways: 0 informational,\n"
            "                       1 low, 2 medium, 3 high, 4 critical (default 2)\n"
            "  --access FILE        who may edit which collection through OGC API - Features Part 4,\n"
            "                       JSON rules (README; default: data/access.json's rules)\n"
            "  --report-sla SPEC    SLA minutes per report category over the defaults, e.g. medical=10,crowding=5\n"
            "                       (defaults: medical 15, lost_person 15, crowding 10, cleanliness 60,\n"
            "                       facility_fault 240, other 120)\n"
            "  --report-rate N      reports one reporter token may create per minute (default 10; 0: no limit)\n"
            "  --report-photo-mb N  photo megabytes one reporter token may send per hour (default 30; 0: no limit)\n"
            "  --report-photos N    photos per report (default 5)\n"
            "  --edit-overlay-max N edited features and edit boxes served in memory over a layer before\n"
            "                       it is reloaded from the store, after the edits' answers (default 16384)\n"
            "  --max-conn-per-client N  open connections per client address, loopback included (default 128;\n"
            "                       0: no limit); more are refused at accept\n"
            "  --rate-per-client R  requests per second per client address, bursts of 2 s worth (default 1000;\n"
            "                       0: no limit); more answer 429 with Retry-After\n"
            "  --rate-per-token R   the same per valid token: feed writers get their own budget (default 2000)\n"
            "  --max-sse-per-client N  open /events streams per client (default 32; more: 429)\n"
            "  --max-sse N          open /events streams in all (default 1024; more: 503)\n"
            "  --max-connections N  open connections in all, /events streams included (default 4096; the\n"
            "                       open-file limit must allow them)\n"
            "  --header-timeout S   a request's header must be complete S seconds after the connection opened\n"
            "                       or the previous response ended; bytes do not extend it (default 10)\n"
            "  --auth-fail-per-min N  failed tokens a client address may send per minute before its token\n"
            "                       requests answer 429 (default 10; 0: no limit)\n"
            "  --trusted-proxy ADDR a load balancer (up to 8, comma-separated): requests from it count against\n"
            "                       the last X-Forwarded-For address; it is exempt from --max-conn-per-client\n"
            "  --client-log-s S     seconds between the summary lines of refused clients (default 10)\n"
            "  --escalate-after S   an incident of severity high or critical still reported after S seconds\n"
            "                       raises an `escalation` event on /events, once (default 120)\n"
            "  --incident-retention S  resolved and cancelled incidents leave the live map S seconds after\n"
            "                       they ended; their history stays in the store (default 1800)\n"
            "  --crew-stale S       a crew not heard from for S seconds is stale: shown so, never offered\n"
            "                       as a responder (default 120)\n"
            "  --crew-drop S        a crew not heard from for S seconds leaves the live map (default 900)\n"
            "  --sensor-stale S     a sensor not heard from for S seconds is marked stale (default 900)\n"
            "  --sensor-history-days D  every sensor reading is kept D days, in the store and served as the\n"
            "                       `sensor_readings` collection (default 60; 0 keeps none)\n"
            "  --playback-hours H   the density cells of every minute are kept H hours on disk (in the live\n"
            "                       folder) for `?time=` on movement tiles and the density heatmap\n"
            "                       (default 48; 0 keeps none; GET /playback)\n"
            "  --gate-history-days D  each gate's counts per 5 minutes are kept D days, in the store and\n"
            "                       served as the `gate_counts` collection (default 60, 1..3660)\n"
            "  --permit-denied-share X  a gate whose denied permit scans over the last 5 minutes are more\n"
            "                       than this share raises a `permit` event (default 0.05; clears under 80%%)\n"
            "  --permit-min-scans N  scans a gate needs in those 5 minutes before its share counts (default 20)\n"
            "  --test-clock         for tests only: POST /test/clock?advance_s=N (admin token) moves the\n"
            "                       server's clock forward and runs the time rules at once; POST\n"
            "                       /test/alert?subject=S&state=raised|cleared raises a test alert\n"
            "  --forecast-every S   seconds of server time between crowd density forecast refreshes\n"
            "                       (default 30; 0: no forecast; GET /forecast/density)\n"
            "  --forecast-schedule FILE  planned group movements the forecast adds, JSON or CSV: group,\n"
            "                       size, origin, destination, departure window; optionally its\n"
            "                       stay at the destination and where it waits before (README, Forecast)\n"
            "  --forecast-width M   metres of width the forecast gives a walkway whose data has no width_m\n"
            "                       (default 4: a lane between camps; 1..500)\n"
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

int msh_serve_args(int argc, char **argv, msh_config *cfg, char *live_dir_buf, size_t cap)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->bind = "127.0.0.1";
    cfg->port = 8080;
    cfg->web_dir = MSH_WEB_DIR;
    cfg->styles_dir = MSH_STYLES_DIR;
    cfg->cache_bytes = (size_t)256 << 20;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    /* workers block in the log's fdatasync while they acknowledge a feed batch: more threads than
     * cores keep tile requests from queueing behind a disk flush */
    cfg->threads = ncpu > 0 ? (int)ncpu * 4 : 8;
    cfg->max_connections = 4096;
    /* drawing PNGs is all CPU: more at once than cores only makes each one slower */
    cfg->render_threads = ncpu > 0 ? (int)ncpu : 2;
    cfg->max_age = 60;
    cfg->reload_ms = 1000;
    cfg->edit_overlay_max = MSH_EDIT_OVERLAY_MAX;
    cfg->report_rate = 10;
    cfg->report_photo_mb = 30;
    cfg->report_photos = 5;
    cfg->max_tile_bytes = (size_t)32 << 20;
    cfg->max_body_bytes = (size_t)16 << 20;
    cfg->position_max_age = 600;
    cfg->track_hours = 6;
    cfg->group_radius = 300;
    cfg->max_incline = 6;
    cfg->bin_overflow = 0.8;
    cfg->k_anon = 5;
    cfg->sensor_history_days = 60;
    cfg->playback_hours = 48;
    cfg->gate_history_days = 60;
    cfg->permit_denied_share = 0.05;
    cfg->permit_min_scans = 20;
    cfg->snapshot_s = 60;
    cfg->alert_density = MSH_STILL_CRITICAL_DENSITY;
    cfg->alert_pressure = MSH_HELBING_PRESSURE_ALARM;
    cfg->mqtt_qos = 1;
    cfg->walk_layers = "walkways,site_walkways";
    cfg->forecast_every = 30;
    cfg->forecast_width = (int)MSH_FC_DEFAULT_WIDTH_M;
    cfg->feed_stream = "MASHAER_FEED";
    cfg->feed_retain_hours = 48;
    cfg->incident_radius = 50;
    cfg->close_severity = 2;
    msh_client_limits_defaults(&cfg->clients);
    msh_timers_cfg_init(&cfg->timers);
    enum { OPT_MQTT = 1000, OPT_MQTT_USER, OPT_MQTT_PASSWORD_FILE, OPT_MQTT_CLIENT_ID, OPT_MQTT_QOS, OPT_WALK_LAYERS,
           OPT_INCIDENT_RADIUS, OPT_PACKAGES, OPT_TILES, OPT_CLOSE_SEVERITY, OPT_KPI_CONFIG, OPT_RENDER_THREADS, OPT_ADMIT_BUDGET,
           OPT_EDIT_OVERLAY_MAX,
           OPT_ADMIT_SLOTS, OPT_ACCESS, OPT_PUBLIC_URL,

           OPT_MAX_CONN_PER_CLIENT, OPT_RATE_PER_CLIENT, OPT_RATE_PER_TOKEN, OPT_MAX_SSE_PER_CLIENT, OPT_MAX_SSE, OPT_MAX_CONNECTIONS,
           OPT_HEADER_TIMEOUT, OPT_AUTH_FAIL_PER_MIN, OPT_TRUSTED_PROXY, OPT_CLIENT_LOG_S,
           OPT_ESCALATE_AFTER, OPT_INCIDENT_RETENTION, OPT_CREW_STALE, OPT_CREW_DROP, OPT_SENSOR_STALE, OPT_SENSOR_HISTORY,
           OPT_GATE_HISTORY, OPT_PERMIT_SHARE, OPT_PERMIT_MIN,
           OPT_TEST_CLOCK, OPT_FORECAST_EVERY, OPT_FORECAST_SCHEDULE, OPT_FORECAST_WIDTH,
           OPT_REPORT_SLA, OPT_REPORT_RATE, OPT_REPORT_PHOTO_MB, OPT_REPORT_PHOTOS, OPT_PLAYBACK_HOURS,
           OPT_TRACK_HOURS, OPT_GROUP_RADIUS, OPT_MAX_INCLINE, OPT_BIN_OVERFLOW, OPT_BIN_STALE,
           OPT_FEED_LOG, OPT_FEED_STREAM, OPT_FEED_APPLY_DELAY,
           OPT_FEED_RETAIN_HOURS, OPT_FEED_RETAIN_MB };
    int no_live = 0;
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
        {"feed-log", required_argument, 0, OPT_FEED_LOG}, {"feed-stream", required_argument, 0, OPT_FEED_STREAM},
        {"feed-apply-delay-ms", required_argument, 0, OPT_FEED_APPLY_DELAY},
        {"feed-retain-hours", required_argument, 0, OPT_FEED_RETAIN_HOURS},
        {"feed-retain-mb", required_argument, 0, OPT_FEED_RETAIN_MB},
        {"incident-radius", required_argument, 0, OPT_INCIDENT_RADIUS},
        {"packages", required_argument, 0, OPT_PACKAGES}, {"tiles", required_argument, 0, OPT_TILES},
        {"close-severity", required_argument, 0, OPT_CLOSE_SEVERITY},
        {"kpi-config", required_argument, 0, OPT_KPI_CONFIG},
        {"render-threads", required_argument, 0, OPT_RENDER_THREADS},
        {"admit-budget", required_argument, 0, OPT_ADMIT_BUDGET}, {"admit-slots", required_argument, 0, OPT_ADMIT_SLOTS},
        {"access", required_argument, 0, OPT_ACCESS},
        {"edit-overlay-max", required_argument, 0, OPT_EDIT_OVERLAY_MAX},
        {"public-url", required_argument, 0, OPT_PUBLIC_URL},
        {"max-conn-per-client", required_argument, 0, OPT_MAX_CONN_PER_CLIENT},
        {"rate-per-client", required_argument, 0, OPT_RATE_PER_CLIENT},
        {"rate-per-token", required_argument, 0, OPT_RATE_PER_TOKEN},
        {"max-sse-per-client", required_argument, 0, OPT_MAX_SSE_PER_CLIENT},
        {"max-sse", required_argument, 0, OPT_MAX_SSE},
        {"max-connections", required_argument, 0, OPT_MAX_CONNECTIONS},
        {"header-timeout", required_argument, 0, OPT_HEADER_TIMEOUT},
        {"auth-fail-per-min", required_argument, 0, OPT_AUTH_FAIL_PER_MIN},
        {"trusted-proxy", required_argument, 0, OPT_TRUSTED_PROXY},
        {"client-log-s", required_argument, 0, OPT_CLIENT_LOG_S},
        {"escalate-after", required_argument, 0, OPT_ESCALATE_AFTER},
        {"incident-retention", required_argument, 0, OPT_INCIDENT_RETENTION},
        {"crew-stale", required_argument, 0, OPT_CREW_STALE}, {"crew-drop", required_argument, 0, OPT_CREW_DROP},
        {"sensor-stale", required_argument, 0, OPT_SENSOR_STALE},
        {"sensor-history-days", required_argument, 0, OPT_SENSOR_HISTORY},
        {"playback-hours", required_argument, 0, OPT_PLAYBACK_HOURS},
        {"gate-history-days", required_argument, 0, OPT_GATE_HISTORY},
        {"permit-denied-share", required_argument, 0, OPT_PERMIT_SHARE},
        {"permit-min-scans", required_argument, 0, OPT_PERMIT_MIN},
        {"test-clock", no_argument, 0, OPT_TEST_CLOCK},
        {"forecast-every", required_argument, 0, OPT_FORECAST_EVERY},
        {"forecast-schedule", required_argument, 0, OPT_FORECAST_SCHEDULE},
        {"forecast-width", required_argument, 0, OPT_FORECAST_WIDTH},
        {"report-sla", required_argument, 0, OPT_REPORT_SLA}, {"report-rate", required_argument, 0, OPT_REPORT_RATE},
        {"report-photo-mb", required_argument, 0, OPT_REPORT_PHOTO_MB},
        {"report-photos", required_argument, 0, OPT_REPORT_PHOTOS},
        {"track-hours", required_argument, 0, OPT_TRACK_HOURS}, {"group-radius", required_argument, 0, OPT_GROUP_RADIUS},
        {"max-incline", required_argument, 0, OPT_MAX_INCLINE},
        {"bin-overflow", required_argument, 0, OPT_BIN_OVERFLOW},
        {"bin-stale-min", required_argument, 0, OPT_BIN_STALE},
        {0, 0, 0, 0}};
    int c;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': cfg->db_path = optarg; break;
        case 'b': cfg->bind = optarg; break;
        case 'p': if (parse_int("--port", optarg, 0, 65535, &v)) return 2; cfg->port = (int)v; break;
        case 't': if (parse_int("--threads", optarg, 1, 256, &v)) return 2; cfg->threads = (int)v; break;
        case 'c': if (parse_int("--cache-mb", optarg, 0, 1 << 20, &v)) return 2; cfg->cache_bytes = (size_t)v << 20; break;
        case 'a': if (parse_int("--max-age", optarg, 0, 86400 * 365, &v)) return 2; cfg->max_age = (int)v; break;
        case 'r': if (parse_int("--reload-ms", optarg, 50, 3600000, &v)) return 2; cfg->reload_ms = (int)v; break;
        case 'w': cfg->web_dir = optarg; break;
        case OPT_PUBLIC_URL: {
            static char url[256];
            const char *why;
            if (!msh_public_url_parse(optarg, url, sizeof url, &why)) {
                fprintf(stderr, "mashaer serve: --public-url '%s': %s\n", optarg, why);
                return 2;
            }
            cfg->public_url = url;
            break;
        }
        case 's': cfg->styles_dir = optarg; break;
        case 'L': cfg->live_dir = optarg; break;
        case 'N': no_live = 1; break;
        case 'B': if (parse_int("--max-body-mb", optarg, 1, 1024, &v)) return 2; cfg->max_body_bytes = (size_t)v << 20; break;
        case 'A': if (parse_int("--position-max-age", optarg, 1, 86400 * 7, &v)) return 2; cfg->position_max_age = (int)v; break;
        case 'D': case 'P': {
            char *end;
            double d = strtod(optarg, &end);
            if (*end || end == optarg || !(d > 0 && d < 100)) {
                fprintf(stderr, "mashaer serve: --alert-%s takes a number above 0, not '%s'\n",
                        c == 'D' ? "density" : "pressure", optarg);
                return 2;
            }
            if (c == 'D') cfg->alert_density = d; else cfg->alert_pressure = d;
            break;
        }
        case 'S': if (parse_int("--snapshot-s", optarg, 1, 86400, &v)) return 2; cfg->snapshot_s = (int)v; break;
        case 'K': if (parse_int("--k-anon", optarg, 1, 1000, &v)) return 2; cfg->k_anon = (int)v; break;
        case OPT_MQTT: cfg->mqtt_addr = optarg; break;
        case OPT_MQTT_USER: cfg->mqtt_user = optarg; break;
        case OPT_MQTT_PASSWORD_FILE: cfg->mqtt_password_file = optarg; break;
        case OPT_MQTT_CLIENT_ID: cfg->mqtt_client_id = optarg; break;
        case OPT_MQTT_QOS: if (parse_int("--mqtt-qos", optarg, 0, 1, &v)) return 2; cfg->mqtt_qos = (int)v; break;
        case OPT_WALK_LAYERS: cfg->walk_layers = optarg; break;
        case OPT_PACKAGES: cfg->packages_dir = optarg; break;
        case OPT_TILES:
            if (cfg->ntiles_files == MSH_TILES_FILES_MAX) {
                fprintf(stderr, "mashaer serve: at most %d --tiles files\n", MSH_TILES_FILES_MAX);
                return 2;
            }
            cfg->tiles_files[cfg->ntiles_files++] = optarg;
            break;
        case OPT_INCIDENT_RADIUS: if (parse_int("--incident-radius", optarg, 0, 5000, &v)) return 2; cfg->incident_radius = (double)v; break;
        case OPT_CLOSE_SEVERITY: if (parse_int("--close-severity", optarg, 0, 5, &v)) return 2; cfg->close_severity = (int)v; break;
        case OPT_KPI_CONFIG: cfg->kpi_config = optarg; break;
        case OPT_RENDER_THREADS: if (parse_int("--render-threads", optarg, 1, 256, &v)) return 2; cfg->render_threads = (int)v; break;
        case OPT_ADMIT_BUDGET: if (parse_int("--admit-budget", optarg, 1, 1000000, &v)) return 2; cfg->admit_budget = (int)v; break;
        case OPT_ADMIT_SLOTS: if (parse_int("--admit-slots", optarg, 1, 256, &v)) return 2; cfg->admit_slots = (int)v; break;
        case OPT_ACCESS: cfg->access_file = optarg; break;
        case OPT_EDIT_OVERLAY_MAX:
            if (parse_int("--edit-overlay-max", optarg, 1, 1 << 24, &v)) return 2;
            cfg->edit_overlay_max = (int)v;
            break;
        case OPT_MAX_CONN_PER_CLIENT: if (parse_int("--max-conn-per-client", optarg, 0, 65536, &v)) return 2; cfg->clients.max_conn_per_client = (int)v; break;
        case OPT_RATE_PER_CLIENT: if (parse_int("--rate-per-client", optarg, 0, 1000000, &v)) return 2; cfg->clients.rate_per_client = (double)v; break;
        case OPT_RATE_PER_TOKEN: if (parse_int("--rate-per-token", optarg, 0, 1000000, &v)) return 2; cfg->clients.rate_per_token = (double)v; break;
        case OPT_MAX_SSE_PER_CLIENT: if (parse_int("--max-sse-per-client", optarg, 0, 65536, &v)) return 2; cfg->clients.max_sse_per_client = (int)v; break;
        case OPT_MAX_SSE: if (parse_int("--max-sse", optarg, 0, 65536, &v)) return 2; cfg->clients.max_sse = (int)v; break;
        case OPT_MAX_CONNECTIONS: if (parse_int("--max-connections", optarg, 16, 65536, &v)) return 2; cfg->max_connections = (int)v; break;
        case OPT_HEADER_TIMEOUT: if (parse_int("--header-timeout", optarg, 1, 300, &v)) return 2; cfg->clients.header_timeout_s = (int)v; break;
        case OPT_AUTH_FAIL_PER_MIN: if (parse_int("--auth-fail-per-min", optarg, 0, 1000000, &v)) return 2; cfg->clients.auth_fail_per_min = (int)v; break;
        case OPT_TRUSTED_PROXY: cfg->clients.trusted_proxy = optarg; break;
        case OPT_CLIENT_LOG_S: if (parse_int("--client-log-s", optarg, 1, 3600, &v)) return 2; cfg->clients.log_interval_s = (int)v; break;
        case OPT_ESCALATE_AFTER: if (parse_int("--escalate-after", optarg, 1, 86400, &v)) return 2; cfg->timers.escalate_after_s = (int)v; break;
        case OPT_INCIDENT_RETENTION: if (parse_int("--incident-retention", optarg, 0, 86400 * 30, &v)) return 2; cfg->timers.retention_s = (int)v; break;
        case OPT_CREW_STALE: if (parse_int("--crew-stale", optarg, 1, 86400, &v)) return 2; cfg->timers.crew_stale_s = (int)v; break;
        case OPT_CREW_DROP: if (parse_int("--crew-drop", optarg, 1, 86400 * 7, &v)) return 2; cfg->timers.crew_drop_s = (int)v; break;
        case OPT_SENSOR_STALE: if (parse_int("--sensor-stale", optarg, 1, 86400 * 7, &v)) return 2; cfg->timers.sensor_stale_s = (int)v; break;
        case OPT_SENSOR_HISTORY: if (parse_int("--sensor-history-days", optarg, 0, 3660, &v)) return 2; cfg->sensor_history_days = (int)v; break;
        case OPT_PLAYBACK_HOURS: if (parse_int("--playback-hours", optarg, 0, 720, &v)) return 2; cfg->playback_hours = (int)v; break;
        case OPT_GATE_HISTORY: if (parse_int("--gate-history-days", optarg, 1, 3660, &v)) return 2; cfg->gate_history_days = (int)v; break;
        case OPT_PERMIT_MIN: if (parse_int("--permit-min-scans", optarg, 1, 1000000, &v)) return 2; cfg->permit_min_scans = (int)v; break;
        case OPT_PERMIT_SHARE: {
            char *end;
            double d = strtod(optarg, &end);
            if (*end || end == optarg || !(d > 0 && d < 1)) {
                fprintf(stderr, "mashaer serve: --permit-denied-share takes a number between 0 and 1, not '%s'\n", optarg);
                return 2;
            }
            cfg->permit_denied_share = d;
            break;
        }
        case OPT_BIN_OVERFLOW: {
            char *end;
            double d = strtod(optarg, &end);
            if (*end || end == optarg || !(d > 0 && d <= 1)) {
                fprintf(stderr, "mashaer serve: --bin-overflow takes a fill level above 0 and at most 1, not '%s'\n", optarg);
                return 2;
            }
            cfg->bin_overflow = d;
            break;
        }
        case OPT_BIN_STALE: if (parse_int("--bin-stale-min", optarg, 1, 60 * 24 * 7, &v)) return 2; cfg->timers.bin_stale_s = (int)v * 60; break;
        case OPT_TEST_CLOCK: cfg->test_clock = true; break;
        case OPT_FORECAST_EVERY: if (parse_int("--forecast-every", optarg, 0, 86400, &v)) return 2; cfg->forecast_every = (int)v; break;
        case OPT_FORECAST_SCHEDULE: cfg->forecast_schedule = optarg; break;
        case OPT_FORECAST_WIDTH: if (parse_int("--forecast-width", optarg, 1, 500, &v)) return 2; cfg->forecast_width = (int)v; break;
        case OPT_REPORT_SLA: cfg->report_sla = optarg; break;
        case OPT_REPORT_RATE:
            if (parse_int("--report-rate", optarg, 0, 100000, &v)) return 2;
            cfg->report_rate = (double)v;
            break;
        case OPT_REPORT_PHOTO_MB:
            if (parse_int("--report-photo-mb", optarg, 0, 1000000, &v)) return 2;
            cfg->report_photo_mb = (double)v;
            break;
        case OPT_REPORT_PHOTOS:
            if (parse_int("--report-photos", optarg, 1, 100, &v)) return 2;
            cfg->report_photos = (int)v;
            break;
        case OPT_TRACK_HOURS: if (parse_int("--track-hours", optarg, 0, 18, &v)) return 2; cfg->track_hours = (int)v; break;
        case OPT_GROUP_RADIUS: if (parse_int("--group-radius", optarg, 10, 100000, &v)) return 2; cfg->group_radius = (double)v; break;
        case OPT_MAX_INCLINE: if (parse_int("--max-incline", optarg, 0, 100, &v)) return 2; cfg->max_incline = (double)v; break;
        case OPT_FEED_LOG: cfg->feed_log = optarg; break;
        case OPT_FEED_STREAM:
            if (!*optarg || strlen(optarg) > 64 || strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(optarg)) {
                fprintf(stderr, "mashaer serve: --feed-stream takes 1 to 64 letters, digits, _ or -, not '%s'\n", optarg);
                return 2;
            }
            cfg->feed_stream = optarg;
            break;
        case OPT_FEED_APPLY_DELAY: if (parse_int("--feed-apply-delay-ms", optarg, 0, 10000, &v)) return 2; cfg->feed_apply_delay_ms = (int)v; break;
        case OPT_FEED_RETAIN_HOURS: if (parse_int("--feed-retain-hours", optarg, 0, 24 * 366, &v)) return 2; cfg->feed_retain_hours = (int)v; break;
        case OPT_FEED_RETAIN_MB: if (parse_int("--feed-retain-mb", optarg, 0, 1L << 30, &v)) return 2; cfg->feed_retain_mb = v; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    /* expensive requests hold a worker thread while they run: leave at least half of them to the
     * cheap ones (/health, cached tiles) */
    if (!cfg->admit_budget)
        cfg->admit_budget = 100 * (ncpu > 0 ? (int)ncpu : 2);
    if (!cfg->admit_slots) {
        int half = cfg->threads / 2 > 0 ? cfg->threads / 2 : 1;
        cfg->admit_slots = ncpu > 0 && ncpu < half ? (int)ncpu : half;
    }
    if (optind < argc) {
        fprintf(stderr, "mashaer serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!cfg->db_path) {
        fprintf(stderr, "mashaer serve: --db FILE is required\n\n");
        usage(stderr);
        return 2;
    }
    if (!msh_store_is_url(cfg->db_path) && access(cfg->db_path, F_OK) != 0) {
        fprintf(stderr, "mashaer serve: %s does not exist: create it with 'mashaer import --db %s DATA...'\n",
                cfg->db_path, cfg->db_path);
        return 1;
    }
    /* a PostgreSQL store has no file beside which to keep the live folder: live feeds there are asked
     * for by naming it (the write-ahead log and snapshots stay on this machine's disk) */
    bool pg_no_live = msh_store_is_url(cfg->db_path) && !cfg->live_dir;
    if (cfg->feed_log && (no_live || pg_no_live)) {
        fprintf(stderr, "mashaer serve: --feed-log needs live feeds (without --no-live; on a PostgreSQL store, "
                        "with --live-dir DIR)\n");
        return 2;
    }
    if (no_live || pg_no_live) {
        cfg->live_dir = NULL; /* served without live feeds (POST /feeds answers 503) */
    } else if (!cfg->live_dir) {
        snprintf(live_dir_buf, cap, "%s.live", cfg->db_path);
        cfg->live_dir = live_dir_buf;
    }
    return -1;
}
