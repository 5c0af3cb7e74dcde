/* events.c: the event ring, SSE subscribers, and the producers (incidents, gates, density alerts). */
#include "routes/events.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/app.h"
#include "http/auth.h"
#include "core/msh_buf.h"
#include "core/msh_tilemath.h"
#include "http/http.h"
#include "http/http_guard.h"
#include "routes/routes.h"
#include "kpi/kpi.h"
#include "live/alerts.h"
#include "live/live.h"
#include "live/live_ops.h"

#define RING 4096
#define HEARTBEAT_S 15.0

static const char *TYPE_NAMES[MSH_EV_COUNT] = {"incident", "density", "gate", "geofence", "change", "escalation",
                                                "environment", "zone", "forecast", "broadcast", "report",
                                                "cleaning_overdue", "permit", "group", "overflow"};

typedef struct {
    uint64_t seq;
    uint8_t type;
    char collection[64]; /* change events: the edited collection; "" for the others */
    double lon, lat;
    char *frame;
    size_t len;
    msh_bc_area *area; /* broadcast events: the area (owned), NULL for the others */
    char *zones;       /* and ",A,B," of the zones it targets or touches */
    char owner[MSH_TOKEN_NAME_MAX + 1]; /* report events: the reporter's token name; "" for the others */
} ev_t;

typedef struct sub {
    struct sub *next, *prev;
    msh_events *ev;
    void *conn;
    bool suspended;
    uint64_t cursor; /* last seq sent */
    unsigned mask;
    bool has_bbox;
    double bbox[4];
    bool has_point;  /* lon=&lat=: broadcasts whose area holds this place */
    double plon, plat;
    char zone[MSH_BC_ID_MAX + 3]; /* zone=ID as ",ID,": broadcasts targeting or touching it; "" for any */
    char collections[520]; /* ",a,b," from collections=a,b (change events); "" for any */
    char owner[MSH_TOKEN_NAME_MAX + 1]; /* a reporter's stream: its token's name (report events); "" for ops */
    msh_buf out;     /* frames copied but not yet sent */
    size_t out_off;
    double last_write;
    msh_climits *cl;        /* counted there against `client` (server/http/client_limits.h); NULL: not */
    msh_client_key client;
    msh_role need;          /* the role its types need: rechecked whenever the tokens change */
    char tok[MSH_AUTH_TOKEN_MAX + 1];
    size_t tok_len;
    bool revoked;           /* its token lost that role: say so, then end the stream */
    bool gone;              /* its client closed the connection while it was suspended */
    bool bye_sent;
} sub_t;

struct msh_events {
    pthread_mutex_t mu;
    ev_t ring[RING];
    uint64_t next_seq; /* seq of the next event; events have seq >= 1 */
    sub_t *subs;
    uint64_t nsubs;
    bool shutdown;
    msh_alerts *alerts; /* the rules: layers/live/alerts.h */
    msh_events_tap_fn tap; /* under mu */
    void *tap_ud;
    msh_events_alert_fn alert_gate; /* under mu */
    void *alert_ud;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

msh_events *msh_events_new(void)
{
    msh_events *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    if (!(ev->alerts = msh_alerts_new())) {
        free(ev);
        return NULL;
    }
    pthread_mutex_init(&ev->mu, NULL);
    ev->next_seq = 1;
    return ev;
}

void msh_events_shutdown(msh_events *ev)
{
    if (!ev)
        return;
    pthread_mutex_lock(&ev->mu);
    ev->shutdown = true;
    for (sub_t *s = ev->subs; s; s = s->next)
        if (s->suspended) {
            s->suspended = false;
            msh_http_resume(s->conn);
        }
    pthread_mutex_unlock(&ev->mu);
}

void msh_events_free(msh_events *ev)
{
    if (!ev)
        return;
    for (int i = 0; i < RING; i++) {
        free(ev->ring[i].frame);
        if (ev->ring[i].area)
            msh_bc_area_free(ev->ring[i].area);
        free(ev->ring[i].area);
        free(ev->ring[i].zones);
    }
    msh_alerts_free(ev->alerts);
    pthread_mutex_destroy(&ev->mu);
    free(ev);
}

void msh_events_publish(msh_events *ev, msh_event_type type, double lon, double lat, const char *json)
{
    msh_events_publish_in(ev, type, "", lon, lat, json);
}

/* Publish; `area` and `zones` (heap, taken: freed with the slot) place a broadcast, else NULL. */
static void publish(msh_events *ev, msh_event_type type, const char *collection, const char *tap_coll, double lon,
                    double lat, msh_bc_area *area, char *zones, const char *owner, const char *json)
{
    size_t jl = strlen(json);
    char *frame = malloc(jl + 96);
    if (!frame) {
        if (area)
            msh_bc_area_free(area);
        free(area);
        free(zones);
        return;
    }
    pthread_mutex_lock(&ev->mu);
    uint64_t seq = ev->next_seq++;
    int n = snprintf(frame, jl + 96, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)seq, TYPE_NAMES[type], json);
    ev_t *slot = &ev->ring[seq % RING];
    free(slot->frame);
    slot->seq = seq;
    slot->type = (uint8_t)type;
    snprintf(slot->collection, sizeof slot->collection, "%s", collection);
    snprintf(slot->owner, sizeof slot->owner, "%s", owner ? owner : "");
    slot->lon = lon;
    slot->lat = lat;
    slot->frame = frame;
    slot->len = (size_t)n;
    if (slot->area)
        msh_bc_area_free(slot->area);
    free(slot->area);
    free(slot->zones);
    slot->area = area;
    slot->zones = zones;
    for (sub_t *s = ev->subs; s; s = s->next)
        if (s->suspended) {
            s->suspended = false;
            msh_http_resume(s->conn);
        }
    if (ev->tap)
        ev->tap(ev->tap_ud, type, tap_coll, json);
    pthread_mutex_unlock(&ev->mu);
}

void msh_events_publish_in(msh_events *ev, msh_event_type type, const char *collection, double lon, double lat,
                           const char *json)
{
    if (ev)
        publish(ev, type, collection, collection, lon, lat, NULL, NULL, NULL, json);
}

void msh_events_publish_owned(msh_events *ev, msh_event_type type, const char *owner, const char *json)
{
    if (ev)
        publish(ev, type, "", "", NAN, NAN, NULL, NULL, owner, json);
}

void msh_events_publish_area(msh_events *ev, msh_event_type type, const char *zones, const msh_bc_area *area,
                             const char *json)
{
    if (!ev)
        return;
    msh_bc_area *copy = malloc(sizeof *copy);
    size_t zl = strlen(zones);
    char *z = malloc(zl + 3);
    if (!copy || !z || msh_bc_area_copy(copy, area)) {
        free(copy);
        free(z);
        return;
    }
    snprintf(z, zl + 3, ",%s,", zones);
    publish(ev, type, "", zones, NAN, NAN, copy, z, NULL, json);
}

void msh_events_set_tap(msh_events *ev, msh_events_tap_fn fn, void *ud)
{
    if (!ev)
        return;
    pthread_mutex_lock(&ev->mu);
    ev->tap = fn;
    ev->tap_ud = ud;
    pthread_mutex_unlock(&ev->mu);
}

void msh_events_set_alert_gate(msh_events *ev, msh_events_alert_fn fn, void *ud)
{
    if (!ev)
        return;
    pthread_mutex_lock(&ev->mu);
    ev->alert_gate = fn;
    ev->alert_ud = ud;
    pthread_mutex_unlock(&ev->mu);
}

void msh_events_alert(msh_events *ev, msh_event_type type, const char *key, const char *state, bool active, double lon,
                      double lat, const char *json)
{
    if (!ev)
        return;
    pthread_mutex_lock(&ev->mu);
    msh_events_alert_fn fn = ev->alert_gate;
    void *ud = ev->alert_ud;
    pthread_mutex_unlock(&ev->mu);
    if (fn)
        fn(ud, type, key, state, active, lon, lat, json); /* the ledger publishes it, on every node, once */
    else
        msh_events_publish(ev, type, lon, lat, json);
}

void msh_events_tick(msh_events *ev)
{
    if (!ev)
        return;
    double t = now_s();
    pthread_mutex_lock(&ev->mu);
    for (sub_t *s = ev->subs; s; s = s->next) {
        if (!s->suspended)
            continue;
        /* a client that left: end its stream now, giving its place back (--max-sse), not at the heartbeat */
        s->gone = msh_http_peer_gone(s->conn);
        if (s->gone || t - s->last_write >= HEARTBEAT_S) {
            s->suspended = false;
            msh_http_resume(s->conn);
        }
    }
    pthread_mutex_unlock(&ev->mu);
}

uint64_t msh_events_subscribers(msh_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    uint64_t n = ev->nsubs;
    pthread_mutex_unlock(&ev->mu);
    return n;
}

uint64_t msh_events_published(msh_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    uint64_t n = ev->next_seq - 1;
    pthread_mutex_unlock(&ev->mu);
    return n;
}

int msh_events_parse_types(const char *s, unsigned *mask)
{
    *mask = 0;
    while (s && *s) {
        const char *c = strchr(s, ',');
        size_t n = c ? (size_t)(c - s) : strlen(s);
        int found = -1;
        for (int i = 0; i < MSH_EV_COUNT; i++)
            if (strlen(TYPE_NAMES[i]) == n && !strncmp(s, TYPE_NAMES[i], n))
                found = i;
        if (found < 0)
            return -1;
        *mask |= 1u << found;
        s = c ? c + 1 : NULL;
    }
    return 0;
}

static bool passes(const sub_t *s, const ev_t *e)
{
    if (!(s->mask & (1u << e->type)))
        return false;
    if (e->type == MSH_EV_REPORT && s->owner[0] && strcmp(s->owner, e->owner))
        return false;
    if (s->collections[0] && e->collection[0]) {
        char key[68];
        snprintf(key, sizeof key, ",%s,", e->collection);
        if (!strstr(s->collections, key))
            return false;
    }
    if (e->area) { /* a broadcast: the place and the zone asked for */
        if (s->has_point && !msh_bc_area_contains(e->area, s->plon, s->plat))
            return false;
        if (s->zone[0] && !strstr(e->zones, s->zone))
            return false;
        if (s->has_bbox)
            return e->area->bbox[0] <= s->bbox[2] && e->area->bbox[2] >= s->bbox[0] && e->area->bbox[1] <= s->bbox[3] &&
                   e->area->bbox[3] >= s->bbox[1];
        return true;
    }
    if (s->has_bbox && !isnan(e->lon))
        return e->lon >= s->bbox[0] && e->lon <= s->bbox[2] && e->lat >= s->bbox[1] && e->lat <= s->bbox[3];
    return true;
}

/* The content reader of one subscriber (called by the HTTP layer). */
static long sub_read(void *cls, char *buf, size_t max)
{
    sub_t *s = cls;
    msh_events *ev = s->ev;
    pthread_mutex_lock(&ev->mu);
    if (ev->shutdown || s->gone || (s->revoked && s->bye_sent && s->out_off == s->out.len)) {
        pthread_mutex_unlock(&ev->mu);
        return -1;
    }
    if (s->revoked && s->out_off == s->out.len) {
        msh_buf_reset(&s->out);
        s->out_off = 0;
        msh_buf_printf(&s->out, "event: error\ndata: {\"error\":\"the token of this stream was revoked\",\"status\":401}\n\n");
        s->bye_sent = true;
    } else if (s->out_off == s->out.len) {
        msh_buf_reset(&s->out);
        s->out_off = 0;
        uint64_t oldest = ev->next_seq > RING ? ev->next_seq - RING : 1;
        if (s->cursor + 1 < oldest) {
            msh_buf_printf(&s->out, "event: dropped\ndata: {\"missed\":%llu}\n\n",
                           (unsigned long long)(oldest - s->cursor - 1));
            s->cursor = oldest - 1;
        }
        while (s->cursor + 1 < ev->next_seq && s->out.len < 65536) {
            const ev_t *e = &ev->ring[(s->cursor + 1) % RING];
            s->cursor++;
            if (passes(s, e))
                msh_buf_append(&s->out, e->frame, e->len);
        }
        if (!s->out.len) {
            if (now_s() - s->last_write >= HEARTBEAT_S) {
                msh_buf_printf(&s->out, ": keepalive\n\n");
            } else {
                s->suspended = true; /* a publish or the heartbeat tick resumes us */
                msh_http_suspend(s->conn);
                pthread_mutex_unlock(&ev->mu);
                return 0;
            }
        }
    }
    size_t n = s->out.len - s->out_off;
    if (n > max)
        n = max;
    memcpy(buf, s->out.data + s->out_off, n);
    s->out_off += n;
    s->last_write = now_s();
    pthread_mutex_unlock(&ev->mu);
    return (long)n;
}

static void sub_free(void *cls)
{
    sub_t *s = cls;
    msh_events *ev = s->ev;
    pthread_mutex_lock(&ev->mu);
    if (s->prev) s->prev->next = s->next; else ev->subs = s->next;
    if (s->next) s->next->prev = s->prev;
    ev->nsubs--;
    pthread_mutex_unlock(&ev->mu);
    if (s->cl)
        msh_climits_sse_release(s->cl, &s->client, now_s());
    msh_buf_free(&s->out);
    memset(s->tok, 0, sizeof s->tok);
    free(s);
}

void msh_events_revalidate(msh_events *ev, struct msh_app *app)
{
    if (!ev)
        return;
    pthread_mutex_lock(&ev->mu);
    for (sub_t *s = ev->subs; s; s = s->next) {
        if (s->need == MSH_ROLE_NONE || s->revoked)
            continue;
        pthread_mutex_lock(&app->tok_lock);
        msh_role role = msh_token_set_check(app->tokens, s->tok, s->tok_len);
        pthread_mutex_unlock(&app->tok_lock);
        if (role >= s->need)
            continue;
        s->revoked = true;
        if (s->suspended) {
            s->suspended = false;
            msh_http_resume(s->conn);
        }
    }
    pthread_mutex_unlock(&ev->mu);
}

/* lon=&lat= and zone=ID (broadcast events: see passes); 400 naming the argument. */
static bool place_args(msh_req *r, sub_t *s)
{
    const char *lon = msh_req_arg(r, "lon"), *lat = msh_req_arg(r, "lat"), *zone = msh_req_arg(r, "zone");
    if (lon || lat) {
        char *e1 = NULL, *e2 = NULL;
        s->plon = lon ? strtod(lon, &e1) : NAN;
        s->plat = lat ? strtod(lat, &e2) : NAN;
        if (!lon || !lat || e1 == lon || *e1 || e2 == lat || *e2 || !(s->plon >= -180 && s->plon <= 180) ||
            !(s->plat >= -90 && s->plat <= 90)) {
            msh_resp_error(r, 400, "lon, lat: both, in degrees (longitude -180..180, latitude -90..90)");
            return false;
        }
        s->has_point = true;
    }
    if (zone) {
        size_t n = strlen(zone);
        if (!n || n > MSH_BC_ID_MAX || strchr(zone, ',')) {
            msh_resp_error(r, 400, "zone: a zone id of 1 to %d bytes", MSH_BC_ID_MAX);
            return false;
        }
        snprintf(s->zone, sizeof s->zone, ",%s,", zone);
    }
    return true;
}

/* GET /events?types=incident,density,gate,change,broadcast&collections=a,b&bbox=w,s,e,n&lon=&lat=&zone= */
void msh_route_events(msh_req *r, const char *rest)
{
    msh_events *ev = r->app->events;
    if (!ev) {
        msh_resp_error(r, 503, "live events are not enabled on this server");
        return;
    }
    unsigned mask = MSH_EV_PUBLIC_MASK;
    const char *types = msh_req_arg(r, "types");
    if (types && msh_events_parse_types(types, &mask)) {
        msh_resp_error(r, 400, "types: use a comma-separated list of incident, density, gate, geofence, change, "
                               "escalation, environment, zone, forecast, broadcast, report, cleaning_overdue, "
                               "permit, group, overflow");
        return;
    }
    /* geofence and group events name people (ops); report events are their reporters' (reporter and up) */
    msh_role need = (mask & ~MSH_EV_PUBLIC_MASK & ~(1u << MSH_EV_REPORT)) ? MSH_ROLE_OPS
                    : (mask & (1u << MSH_EV_REPORT))                     ? MSH_ROLE_REPORTER
                                                                          : MSH_ROLE_NONE;
    if (need && !msh_auth_require(r, need))
        return;
    char who[MSH_TOKEN_NAME_MAX + 1] = "";
    msh_role role = need ? msh_auth_who(r, who, sizeof who) : MSH_ROLE_NONE;
    sub_t *s = calloc(1, sizeof *s);
    if (!s) {
        msh_resp_error(r, 503, "out of memory");
        return;
    }
    s->mask = mask;
    if (need && role < MSH_ROLE_OPS) /* a reporter: its own reports only */
        snprintf(s->owner, sizeof s->owner, "%s", who);
    const char *colls = msh_req_arg(r, "collections");
    if (colls) { /* change events of these collections only: names of [a-z0-9_], comma-separated */
        size_t n = strlen(colls);
        bool ok = n && n + 2 < sizeof s->collections && colls[0] != ',' && colls[n - 1] != ',' && !strstr(colls, ",,");
        for (const char *p = colls; ok && *p; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == ',';
        if (!ok) {
            free(s);
            msh_resp_error(r, 400, "collections: a comma-separated list of collection names (a-z, 0-9, _)");
            return;
        }
        snprintf(s->collections, sizeof s->collections, ",%s,", colls);
    }
    const char *bbox = msh_req_arg(r, "bbox");
    if (bbox) {
        char *end;
        const char *p = bbox;
        for (int i = 0; i < 4; i++) {
            s->bbox[i] = strtod(p, &end);
            if (end == p || (i < 3 && *end != ',') || (i == 3 && *end) || !isfinite(s->bbox[i])) {
                free(s);
                msh_resp_error(r, 400, "bbox: use west,south,east,north in degrees");
                return;
            }
            p = end + 1;
        }
        if (s->bbox[0] > s->bbox[2] || s->bbox[1] > s->bbox[3] || s->bbox[1] < -90 || s->bbox[3] > 90) {
            free(s);
            msh_resp_error(r, 400, "bbox: west <= east and south <= north, latitudes within -90..90");
            return;
        }
        s->has_bbox = true;
    }
    if (!place_args(r, s)) {
        free(s);
        return;
    }
    if (mask & ~MSH_EV_PUBLIC_MASK) { /* kept to check the token again whenever the tokens change */
        const char *tok;
        msh_auth_parse_bearer(msh_req_header(r, "Authorization"), &tok, &s->tok_len);
        memcpy(s->tok, tok, s->tok_len);
        s->need = need;
    }
    msh_climits *cl = msh_http_guard_limits(r->app->guard);
    double retry = 0;
    int refused = cl && r->client ? msh_climits_sse_acquire(cl, r->client, now_s(), &retry) : 0;
    if (refused) {
        free(s);
        msh_resp_error(r, refused, refused == 429 ? "too many event streams open from this client (--max-sse-per-client)"
                                                  : "too many event streams open on this server (--max-sse)");
        r->resp.retry_after = (int)retry;
        return;
    }
    if (cl && r->client) {
        s->cl = cl;
        s->client = *r->client;
    }
    s->ev = ev;
    s->conn = r->conn;
    msh_buf_init(&s->out, (size_t)1 << 20);
    msh_buf_printf(&s->out, "retry: 2000\n\n");
    s->last_write = now_s();
    pthread_mutex_lock(&ev->mu);
    s->cursor = ev->next_seq - 1;
    const char *last = msh_req_header(r, "Last-Event-ID");
    if (last) { /* resume a reconnecting client from the ring */
        char *end;
        unsigned long long v = strtoull(last, &end, 10);
        if (!*end && v < ev->next_seq)
            s->cursor = v;
    }
    s->next = ev->subs;
    if (ev->subs)
        ev->subs->prev = s;
    ev->subs = s;
    ev->nsubs++;
    pthread_mutex_unlock(&ev->mu);
    r->resp.cache_control = "no-cache";
    msh_resp_stream(r, "text/event-stream; charset=utf-8", sub_read, sub_free, s);
}

/* ---- density alerts (the rules are layers/live/alerts.c) ---- */

static void density_event(void *ud, const msh_density_change *ch)
{
    msh_events *ev = ud;
    const msh_live_cell *c = &ch->cell;
    char json[512];
    snprintf(json, sizeof json,
             "{\"state\":\"%s\",\"cell\":\"%u/%u/%u\",\"lon\":%.6f,\"lat\":%.6f,\"count\":%u,\"density\":%.3f,"
             "\"los\":\"%c\",\"pressure\":%.4f,\"level_of_service_alert\":%s,\"density_alert\":%s,\"pressure_alert\":%s}",
             (ch->after & ~ch->before) ? "raised" : "cleared", c->level, c->cx, c->cy, ch->lon, ch->lat, c->count,
             ch->density, msh_fruin_los(ch->density), ch->pressure, (ch->after & MSH_ALERT_LOS) ? "true" : "false",
             (ch->after & MSH_ALERT_DENSITY) ? "true" : "false", (ch->after & MSH_ALERT_PRESSURE) ? "true" : "false");
    char key[64], state[4];
    snprintf(key, sizeof key, "density/%u/%u/%u", c->level, c->cx, c->cy);
    snprintf(state, sizeof state, "%u", (unsigned)ch->after);
    msh_events_alert(ev, MSH_EV_DENSITY, key, state, ch->after != 0, ch->lon, ch->lat, json);
}

void msh_events_scan_density(msh_events *ev, msh_app *app)
{
    if (!ev || !app->live)
        return;
    msh_alert_limits lim = {app->cfg.alert_density, app->cfg.alert_pressure};
    msh_alerts_scan_density(ev->alerts, app->live, &lim, density_event, ev);
}

/* ---- zones over capacity, from the KPIs ---- */

void msh_events_zones(msh_events *ev, const msh_kpi_result *r)
{
    for (size_t i = 0; i < r->nzones; i++) {
        const msh_kpi_zone *z = &r->zones[i];
        double occ = z->v[MSH_KPI_OCCUPANCY];
        if (!isfinite(occ))
            continue;
        int change = msh_alerts_zone(ev->alerts, z->id, strlen(z->id), occ);
        if (!change)
            continue;
        msh_buf b;
        msh_buf_init(&b, 2048);
        msh_buf_printf(&b, "{\"state\":\"%s\",\"zone\":\"", change > 0 ? "over_capacity" : "back_under_capacity");
        msh_buf_json_str(&b, z->id);
        msh_buf_printf(&b, "\",\"name\":\"");
        msh_buf_json_str(&b, z->name);
        msh_buf_printf(&b, "\",\"people\":%.0f,\"capacity\":%.0f,\"occupancy\":%.3f,\"time\":%lld}",
                       z->v[MSH_KPI_PEOPLE], z->v[MSH_KPI_ZONE_CAPACITY], occ, (long long)r->t_ms);
        msh_buf_putc(&b, 0);
        char key[160];
        snprintf(key, sizeof key, "zone/%s", z->id);
        msh_events_alert(ev, MSH_EV_ZONE, key, change > 0 ? "over" : "under", change > 0, NAN, NAN,
                         (const char *)b.data);
        msh_buf_free(&b);
    }
}

/* ---- the ingest observer: incidents, gates and sensors ---- */

/* A sensor reading: an `environment` event for each of its values whose level changed (alerts.h). */
static void sensor_events(msh_events *ev, const msh_feed_rec *r)
{
    double v[MSH_ENV_KINDS];
    bool has[MSH_ENV_KINDS] = {0};
    if ((r->has & MSH_FR_TEMP) && (r->has & MSH_FR_HUMIDITY)) {
        v[MSH_ENV_HEAT] = msh_heat_index_c(r->temperature, r->humidity);
        v[MSH_ENV_WBGT] = msh_wbgt_estimate_c(r->temperature, r->humidity);
        has[MSH_ENV_HEAT] = has[MSH_ENV_WBGT] = true;
    }
    v[MSH_ENV_PM25] = r->pm25;
    has[MSH_ENV_PM25] = (r->has & MSH_FR_PM25) != 0;
    v[MSH_ENV_NOISE] = r->noise;
    has[MSH_ENV_NOISE] = (r->has & MSH_FR_NOISE) != 0;
    for (int k = 0; k < MSH_ENV_KINDS; k++) {
        if (!has[k])
            continue;
        int prev, lvl = msh_alerts_env(ev->alerts, (msh_env_kind)k, r->id, r->id_len, v[k], &prev);
        if (lvl == prev)
            continue;
        msh_buf eb, *b = &eb;
        msh_buf_init(b, 1024);
        msh_buf_printf(b, "{\"kind\":\"%s\",\"state\":\"%s\",\"sensor\":\"", msh_env_kind_name((msh_env_kind)k),
                       lvl == 0 ? "cleared" : lvl > prev ? "raised" : "lowered");
        msh_buf_json_str(b, r->id);
        msh_buf_printf(b, "\",\"level\":\"%s\",\"previous\":\"%s\",\"value\":%.1f,\"time\":%lld",
                       msh_env_level_name((msh_env_kind)k, lvl), msh_env_level_name((msh_env_kind)k, prev), v[k],
                       (long long)r->t_ms);
        if (has[MSH_ENV_HEAT])
            msh_buf_printf(b, ",\"temperature\":%.1f,\"relative_humidity\":%.2f", r->temperature, r->humidity);
        msh_buf_printf(b, "}");
        msh_buf_putc(b, 0);
        char key[192], state[8];
        snprintf(key, sizeof key, "environment/%s/%.*s", msh_env_kind_name((msh_env_kind)k), (int)r->id_len, r->id);
        snprintf(state, sizeof state, "%d", lvl);
        msh_events_alert(ev, MSH_EV_ENVIRONMENT, key, state, lvl > 0, (r->has & MSH_FR_LOC) ? r->lon : NAN,
                         (r->has & MSH_FR_LOC) ? r->lat : NAN, (const char *)b->data);
        msh_buf_free(b);
    }
}

void msh_events_on_item(void *ud, msh_feed feed, const struct msh_live_item *it, const msh_feed_rec *prev)
{
    msh_events *ev = ud;
    const msh_feed_rec *r = &it->rec;
    msh_buf b;
    msh_buf_init(&b, 4096);
    if (feed == MSH_FEED_INCIDENTS) {
        msh_buf_printf(&b, "{\"action\":\"%s\",\"id\":\"", prev ? "updated" : "created");
        msh_buf_json_str(&b, r->id);
        msh_buf_printf(&b, "\",\"kind\":\"");
        msh_buf_json_str(&b, r->kind);
        msh_buf_printf(&b, "\",\"severity\":\"%s\",\"status\":\"%s\",\"previous_status\":%s%s%s,\"lon\":%.7f,\"lat\":%.7f,"
                           "\"time\":%lld,\"description\":\"",
                       msh_severity_name(r->severity), msh_ops_status_name(msh_ops_status(it)), prev ? "\"" : "",
                       prev ? msh_inc_status_name(prev->status) : "null", prev ? "\"" : "", r->lon, r->lat,
                       (long long)r->t_ms);
        msh_buf_json_str(&b, (r->has & MSH_FR_TEXT) ? r->text : "");
        msh_buf_printf(&b, "\",\"assigned_crew\":");
        msh_buf_json_str_or_null(&b, it->crew);
        msh_buf_printf(&b, "}");
        msh_buf_putc(&b, 0);
        msh_events_publish(ev, MSH_EV_INCIDENT, r->lon, r->lat, (const char *)b.data);
    } else if (feed == MSH_FEED_GATES && (r->has & MSH_FR_CAPACITY) && r->capacity > 0) {
        double util = it->flow_per_hour / r->capacity;
        int change = msh_alerts_gate(ev->alerts, r->id, r->id_len, util);
        if (change) {
            msh_buf_printf(&b, "{\"state\":\"%s\",\"gate\":\"", change > 0 ? "over_capacity" : "back_under_capacity");
            msh_buf_json_str(&b, r->id);
            msh_buf_printf(&b, "\",\"flow_per_hour\":%.0f,\"capacity\":%d,\"utilisation\":%.3f}", it->flow_per_hour,
                           r->capacity, util);
            msh_buf_putc(&b, 0);
            char key[160];
            snprintf(key, sizeof key, "gate/%.*s", (int)r->id_len, r->id);
            msh_events_alert(ev, MSH_EV_GATE, key, change > 0 ? "over" : "under", change > 0,
                             (r->has & MSH_FR_LOC) ? r->lon : NAN, (r->has & MSH_FR_LOC) ? r->lat : NAN,
                             (const char *)b.data);
        }
    } else if (feed == MSH_FEED_SENSORS) {
        sensor_events(ev, r);
    }
    msh_buf_free(&b);
}
