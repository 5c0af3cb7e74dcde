/* live_layers.c: movement, positions, incidents, crews, gates, sensors and bins as msh_layer. */
#include "live_layers.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_tilemath.h"
#include "core/msh_hash.h"
#include "core/msh_time.h"
#include "envlevels.h"
#include "flow.h"
#include "kanon.h"
#include "live_ops.h"
#include "playback.h"
#include "sensor_history.h"

typedef enum { LL_MOVEMENT, LL_POSITIONS, LL_INCIDENTS, LL_CREWS, LL_GATES, LL_SENSORS, LL_SENSOR_READINGS,
               LL_FLOW, LL_BINS, LL_COUNT } ll_kind;

/* Movement: the content hash of a box, remembered by the versions of the chunks it reads (a cache
 * in front of building the k-anonymous cells again for an ETag when nothing under them changed). */
#define MEMO_SLOTS 1024
typedef struct {
    uint64_t key, val;
} memo_slot;

typedef struct {
    msh_layer base;
    msh_live *live;
    msh_sensor_history *hist; /* sensor_readings only */
    ll_kind kind;
    int k_anon;
    uint64_t epoch; /* random per process: counter versions restart with the process, ETags must not repeat */
    msh_pb_minute *past; /* a past movement layer (msh_live_movement_past): its minute, owned; else NULL */
    char past_iso[MSH_TIME_ISO_CAP]; /* its `time` attribute */
    pthread_mutex_t memo_mu; /* guards memo */
    memo_slot memo[MEMO_SLOTS];
} live_layer;

typedef struct {
    const char *name;
    const char *gtype;
    int access;
    const char *fields[16];
    msh_ftype types[16];
} ll_def;

static const ll_def DEFS[LL_COUNT] = {
    {"movement", "Polygon", 0,
     {"count", "density", "los", "speed", "heading", "pressure", "cell_m", "peak_density", "peak_los", NULL},
     {MSH_FT_INT, MSH_FT_REAL, MSH_FT_STRING, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_REAL,
      MSH_FT_STRING}},
    {"positions", "Point", MSH_ACCESS_OPS,
     {"id", "group", "speed", "heading", "time", NULL},
     {MSH_FT_STRING, MSH_FT_STRING, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_STRING}},
    {"incidents", "Point", 0,
     {"id", "kind", "severity", "status", "description", "reported_at", "updated_at", "assigned_crew", "reason",
      "dispatched_at", "on_scene_at", "resolved_at", "cancelled_at", NULL},
     {MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING,
      MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING}},
    {"crews", "Point", 0,
     {"id", "kind", "status", "name", "updated_at", "stale", NULL},
     {MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_BOOL}},
    {"gates", "Point", 0,
     {"id", "in_total", "out_total", "occupancy", "capacity", "flow_per_hour", "utilisation", "updated_at", "state",
      "closed_reason", "queue_people", "queue_density", "queue_los", "reopens_at", NULL},
     {MSH_FT_STRING, MSH_FT_INT, MSH_FT_INT, MSH_FT_INT, MSH_FT_INT, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_STRING,
      MSH_FT_STRING, MSH_FT_STRING, MSH_FT_INT, MSH_FT_REAL, MSH_FT_STRING, MSH_FT_STRING}},
    {"sensors", "Point", 0,
     {"id", "temperature", "relative_humidity", "air_quality_index", "pm25", "noise_laeq", "updated_at", "heat_index",
      "wbgt", "heat_risk", "wbgt_flag", "pm25_level", "noise_level", "stale", NULL},
     {MSH_FT_STRING, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_STRING, MSH_FT_REAL,
      MSH_FT_REAL, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_STRING, MSH_FT_BOOL}},
    {"sensor_readings", "Point", 0,
     {"id", "time", "temperature", "relative_humidity", "air_quality_index", "pm25", "noise_laeq", "heat_index",
      "wbgt", NULL},
     {MSH_FT_STRING, MSH_FT_STRING, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_REAL,
      MSH_FT_REAL}},
    {"flow", "Point", 0,
     {"count", "speed", "heading", "counter_flow", "cell_m", "counter_axis", NULL},
     {MSH_FT_INT, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_BOOL, MSH_FT_REAL, MSH_FT_REAL}},
    {"bins", "Point", 0,
     {"id", "fill_level", "temperature", "overflowing", "updated_at", "stale", NULL},
     {MSH_FT_STRING, MSH_FT_REAL, MSH_FT_REAL, MSH_FT_BOOL, MSH_FT_STRING, MSH_FT_BOOL}},
};

static const msh_feed ITEM_FEED[LL_COUNT] = {MSH_FEED_POSITIONS, MSH_FEED_POSITIONS, MSH_FEED_INCIDENTS,
                                             MSH_FEED_CREWS, MSH_FEED_GATES, MSH_FEED_SENSORS,
                                             MSH_FEED_SENSORS, MSH_FEED_POSITIONS, MSH_FEED_BINS};

static void set_str(msh_value *v, const char *s)
{
    v->type = MSH_FT_STRING;
    v->u.s = s;
    v->len = (uint32_t)strlen(s);
}

static void set_real(msh_value *v, double d)
{
    v->type = MSH_FT_REAL;
    v->u.d = d;
}

static void set_int(msh_value *v, int64_t i)
{
    v->type = MSH_FT_INT;
    v->u.i = i;
}

typedef struct {
    double box[4];
    uint64_t people;
    uint32_t k;
} queue_sum;

static int add_base(void *ud, const msh_live_cell *c)
{
    queue_sum *q = ud;
    double n = (double)(1u << c->level), x = (c->cx + 0.5) / n, y = (c->cy + 0.5) / n;
    /* cells whose centre is inside, of k people or more: a cell the finest movement tiles hide stays
     * hidden here too (the sum of shown cells is public already; one hidden cell added would not be) */
    if (c->count >= q->k && x >= q->box[0] && x < q->box[2] && y >= q->box[1] && y < q->box[3])
        q->people += c->count;
    return 0;
}

/* The queue at a gate (live read lock held): the people in the 8.9 m cells of the square of
 * MSH_GATE_QUEUE_HALF_M metres each side around it, their density over that square and its Fruin
 * queuing level. k-anonymity as the movement tiles: only cells of k or more are counted (the
 * finest tiles show exactly those), and a queue is shown only when it has at least one. */
static void gate_queue(live_layer *l, const double xy[2], double lat, msh_value *v, char los[2])
{
    double cell_m = msh_live_cell_metres(22, lat), per_m = 1.0 / (double)(1u << 22) / cell_m;
    double h = MSH_GATE_QUEUE_HALF_M * per_m;
    queue_sum q = {{xy[0] - h, xy[1] - h, xy[0] + h, xy[1] + h}, 0, (uint32_t)l->k_anon};
    msh_live_base_cells(l->live, q.box, add_base, &q);
    if (q.people < (uint64_t)l->k_anon)
        return;
    double side = 2 * MSH_GATE_QUEUE_HALF_M, d = (double)q.people / (side * side);
    set_int(&v[10], (int64_t)q.people);
    set_real(&v[11], round(d * 1000) / 1000);
    los[0] = msh_fruin_queue_los(d);
    los[1] = 0;
    set_str(&v[12], los);
}

/* What the reading means (envlevels.h): heat index and WBGT from temperature and humidity, and the
 * level of each value as read now (the events add hysteresis; a layer shows the reading). */
static void sensor_levels(const msh_feed_rec *r, msh_value *v)
{
    if ((r->has & MSH_FR_TEMP) && (r->has & MSH_FR_HUMIDITY)) {
        double hi = msh_heat_index_c(r->temperature, r->humidity);
        double wbgt = msh_wbgt_estimate_c(r->temperature, r->humidity);
        set_real(&v[7], round(hi * 10) / 10);
        set_real(&v[8], round(wbgt * 10) / 10);
        set_str(&v[9], msh_env_level_name(MSH_ENV_HEAT, msh_env_level(MSH_ENV_HEAT, hi, -1)));
        set_str(&v[10], msh_env_level_name(MSH_ENV_WBGT, msh_env_level(MSH_ENV_WBGT, wbgt, -1)));
    }
    if (r->has & MSH_FR_PM25)
        set_str(&v[11], msh_env_level_name(MSH_ENV_PM25, msh_env_level(MSH_ENV_PM25, r->pm25, -1)));
    if (r->has & MSH_FR_NOISE)
        set_str(&v[12], msh_env_level_name(MSH_ENV_NOISE, msh_env_level(MSH_ENV_NOISE, r->noise, -1)));
}

typedef struct {
    live_layer *l;
    const double *box;
    msh_feature_fn fn;
    void *ud;
    int stop;
} ll_job;

static int on_cell(void *ud, const msh_live_cell *c)
{
    ll_job *j = ud;
    double n = (double)(1u << c->level);
    double x0 = c->cx / n, y0 = c->cy / n, x1 = (c->cx + 1) / n, y1 = (c->cy + 1) / n;
    double lon, lat;
    msh_world_to_lonlat((x0 + x1) / 2, (y0 + y1) / 2, &lon, &lat);
    double side = msh_live_cell_metres((int)c->level, lat);
    double density = c->count / (side * side);
    double speed = hypot(c->mean_vx, c->mean_vy);
    double heading = atan2(c->mean_vx, c->mean_vy) * 180.0 / M_PI;
    if (heading < 0)
        heading += 360;
    char los[2] = {msh_fruin_los(density), 0};
    double xy[10] = {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0};
    uint32_t parts[1] = {5 | MSH_RING_OUTER};
    /* a zoomed-out cell averages a crush away: carry the fullest 8.9 m cell inside it too (only a
     * shown one: the count of a hidden one would be a count under k) */
    double base = msh_live_cell_metres(22, lat);
    double peak = c->peak_count / (base * base);
    if (peak < density)
        peak = density;
    char peak_los[2] = {msh_fruin_los(peak), 0};
    msh_value v[10];
    memset(v, 0, sizeof v);
    if (j->l->past)
        set_str(&v[9], j->l->past_iso); /* the minute a past cell shows */
    set_real(&v[7], round(peak * 1000) / 1000);
    set_str(&v[8], peak_los);
    set_int(&v[0], c->count);
    set_real(&v[1], round(density * 1000) / 1000);
    set_str(&v[2], los);
    set_real(&v[3], round(speed * 100) / 100);
    set_real(&v[4], round(heading));
    set_real(&v[5], round(density * c->var_v * 10000) / 10000);
    set_real(&v[6], round(side * 10) / 10);
    msh_feature f = {((uint64_t)c->level << 58) | ((uint64_t)c->cx << 29) | c->cy, {MSH_GT_POLYGON, 5, 1, xy, parts}, v};
    return j->fn(j->ud, &f);
}

typedef struct {
    msh_live_cell *v;
    size_t n, cap;
} cell_list;

static const msh_layer_vt LL_VT, PAST_VT;

/* Movement: the cells k-anonymity lets a box show, kept per thread with the key they were built for
 * (live state and k, level, box, versions of the chunks under it). A tile request asks the same
 * thread for the ETag first (movement_version hashes the cells) and then, on a cache miss, for the
 * content: the second asks the same key and takes the cells built for the first instead of building
 * the pyramid again; so does the flow layer of the same composite tile (it reads the same cells). A
 * different key (the crowd moved, another tile) builds afresh. */
typedef struct {
    const void *live; /* NULL: empty */
    int k;
    uint64_t key;
    cell_list cells;
} cells_slot;

static pthread_key_t cells_tls;
static pthread_once_t cells_once = PTHREAD_ONCE_INIT;

static void cells_slot_free(void *p)
{
    cells_slot *s = p;
    free(s->cells.v);
    free(s);
}

static void cells_tls_init(void)
{
    (void)pthread_key_create(&cells_tls, cells_slot_free);
}

/* This thread's slot, made on first use; NULL when it cannot be (the cells are then built each time). */
static cells_slot *cells_slot_get(void)
{
    pthread_once(&cells_once, cells_tls_init);
    cells_slot *s = pthread_getspecific(cells_tls);
    if (!s && (s = calloc(1, sizeof *s)) && pthread_setspecific(cells_tls, s)) {
        free(s);
        s = NULL;
    }
    return s;
}

static int keep_cell(void *ud, const msh_live_cell *c)
{
    cell_list *cl = ud;
    if (msh_grow_from((void **)&cl->v, &cl->cap, cl->n + 1, sizeof *cl->v, 256))
        return 1;
    cl->v[cl->n++] = *c;
    return 0;
}

static int on_person(void *ud, const char *id, const msh_live_person *p)
{
    ll_job *j = ud;
    double xy[2];
    msh_lonlat_to_world(p->lon, p->lat, &xy[0], &xy[1]);
    char t[MSH_TIME_ISO_CAP];
    msh_time_format_iso(p->t_ms, t, sizeof t, 0);
    msh_value v[5];
    memset(v, 0, sizeof v);
    set_str(&v[0], id);
    if (p->group[0])
        set_str(&v[1], p->group);
    set_real(&v[2], round(p->speed * 100) / 100);
    set_real(&v[3], round(p->heading));
    set_str(&v[4], t);
    /* a stable id per person, as for items: a hash of the text id (OGC items are paged by id) */
    uint64_t h = msh_fnv1a(id, strlen(id), MSH_FNV1A_INIT);
    msh_feature f = {h >> 11, {MSH_GT_POINT, 1, 0, xy, NULL}, v};
    return j->fn(j->ud, &f);
}

static int on_item(void *ud, const msh_live_item *it)
{
    ll_job *j = ud;
    const msh_feed_rec *r = &it->rec;
    if (!(r->has & MSH_FR_LOC) || (it->ops_flags & MSH_ITEM_RETIRED)) /* retired: off the map (live_timers.h) */
        return 0;
    double xy[2];
    msh_lonlat_to_world(r->lon, r->lat, &xy[0], &xy[1]);
    if (xy[0] < j->box[0] || xy[0] > j->box[2] || xy[1] < j->box[1] || xy[1] > j->box[3])
        return 0;
    msh_value v[16];
    memset(v, 0, sizeof v);
    char t1[MSH_TIME_ISO_CAP], t2[MSH_TIME_ISO_CAP], ts[4][MSH_TIME_ISO_CAP], qlos[2];
    msh_time_format_iso(r->t_ms, t2, sizeof t2, 0);
    set_str(&v[0], r->id);
    switch (j->l->kind) {
    case LL_INCIDENTS:
        set_str(&v[1], r->kind);
        set_str(&v[2], msh_severity_name(r->severity));
        set_str(&v[3], msh_ops_status_name(msh_ops_status(it)));
        if (r->has & MSH_FR_TEXT)
            set_str(&v[4], r->text);
        msh_time_format_iso(it->status_ms[MSH_INC_REPORTED] ? it->status_ms[MSH_INC_REPORTED] : r->t_ms, t1,
                            sizeof t1, 0);
        set_str(&v[5], t1);
        set_str(&v[6], t2);
        if (it->crew[0])
            set_str(&v[7], it->crew);
        if (it->reason[0])
            set_str(&v[8], it->reason);
        for (int s = 0; s < 4; s++) { /* dispatched, on_scene, resolved, cancelled: when, once reached */
            int64_t at = s < 3 ? it->status_ms[s + 1] : it->cancelled_ms;
            if (at) {
                msh_time_format_iso(at, ts[s], sizeof ts[s], 0);
                set_str(&v[9 + s], ts[s]);
            }
        }
        break;
    case LL_CREWS:
        if (r->has & MSH_FR_KIND) set_str(&v[1], r->kind);
        if (r->has & MSH_FR_STATUS) set_str(&v[2], r->group);
        if (r->has & MSH_FR_TEXT) set_str(&v[3], r->text);
        set_str(&v[4], t2);
        v[5].type = MSH_FT_BOOL;
        v[5].u.i = (it->ops_flags & MSH_ITEM_STALE) != 0; /* live_timers.h */
        break;
    case LL_GATES:
        set_int(&v[1], it->in_total);
        set_int(&v[2], it->out_total);
        set_int(&v[3], it->in_total - it->out_total);
        if (r->has & MSH_FR_CAPACITY) {
            set_int(&v[4], r->capacity);
            if (r->capacity > 0)
                set_real(&v[6], round(it->flow_per_hour / r->capacity * 1000) / 1000);
        }
        set_real(&v[5], round(it->flow_per_hour));
        set_str(&v[7], t2);
        set_str(&v[8], (it->ops_flags & MSH_ITEM_CLOSED) ? "closed" : "open");
        if (it->reason[0])
            set_str(&v[9], it->reason);
        if ((it->ops_flags & MSH_ITEM_CLOSED) && it->reopens_ms) { /* an operator's planned reopening */
            msh_time_format_iso(it->reopens_ms, ts[0], sizeof ts[0], 0);
            set_str(&v[13], ts[0]);
        }
        gate_queue(j->l, xy, r->lat, v, qlos);
        break;
    case LL_SENSORS:
        if (r->has & MSH_FR_TEMP) set_real(&v[1], r->temperature);
        if (r->has & MSH_FR_HUMIDITY) set_real(&v[2], r->humidity);
        if (r->has & MSH_FR_AQI) set_real(&v[3], r->aqi);
        if (r->has & MSH_FR_PM25) set_real(&v[4], r->pm25);
        if (r->has & MSH_FR_NOISE) set_real(&v[5], r->noise);
        set_str(&v[6], t2);
        sensor_levels(r, v);
        v[13].type = MSH_FT_BOOL;
        v[13].u.i = (it->ops_flags & MSH_ITEM_STALE) != 0; /* live_timers.h */
        break;
    case LL_BINS:
        set_real(&v[1], round(r->fill * 1000) / 1000); /* a float's digits beyond the sensor's */
        if (r->has & MSH_FR_TEMP) set_real(&v[2], round(r->temperature * 10) / 10);
        v[3].type = MSH_FT_BOOL;
        v[3].u.i = (it->ops_flags & MSH_ITEM_OVERFLOW) != 0; /* bins.h */
        set_str(&v[4], t2);
        v[5].type = MSH_FT_BOOL;
        v[5].u.i = (it->ops_flags & MSH_ITEM_STALE) != 0; /* live_timers.h */
        break;
    default:
        return 0;
    }
    /* a stable id per item for MVT: a hash of its text id */
    uint64_t h = msh_fnv1a(r->id, r->id_len, MSH_FNV1A_INIT);
    msh_feature f = {h >> 11, {MSH_GT_POINT, 1, 0, xy, NULL}, v};
    return j->fn(j->ud, &f);
}

/* One kept reading (sensor_history.h) as a feature; its id is the store's rowid. */
static int on_reading(void *ud, const msh_sensor_reading *r)
{
    ll_job *j = ud;
    double xy[2];
    msh_lonlat_to_world(r->lon, r->lat, &xy[0], &xy[1]);
    char t[MSH_TIME_ISO_CAP];
    msh_time_format_iso(r->t_ms, t, sizeof t, 0);
    msh_value v[9];
    memset(v, 0, sizeof v);
    set_str(&v[0], msh_sensor_history_id(j->l->hist, r->sensor));
    set_str(&v[1], t);
    static const uint32_t BITS[5] = {MSH_FR_TEMP, MSH_FR_HUMIDITY, MSH_FR_AQI, MSH_FR_PM25, MSH_FR_NOISE};
    const float vals[5] = {r->temperature, r->humidity, r->aqi, r->pm25, r->noise};
    for (int i = 0; i < 5; i++)
        if (r->has & BITS[i])
            set_real(&v[2 + i], vals[i]);
    if ((r->has & MSH_FR_TEMP) && (r->has & MSH_FR_HUMIDITY)) {
        set_real(&v[7], round(msh_heat_index_c(r->temperature, r->humidity) * 10) / 10);
        set_real(&v[8], round(msh_wbgt_estimate_c(r->temperature, r->humidity) * 10) / 10);
    }
    msh_feature f = {(uint64_t)r->rowid, {MSH_GT_POINT, 1, 0, xy, NULL}, v};
    return j->fn(j->ud, &f);
}

/* What a movement box shows depends on the level, the box and the people in the chunks under it:
 * their versions make the key. The chunks are read before the cells: cells kept under a key are
 * never older than it. */
static uint64_t movement_key(live_layer *l, int level, const double box[4])
{
    if (l->past) { /* a recorded minute never changes: its time and checksum name it */
        uint64_t id[3] = {(uint64_t)msh_pb_minute_ms(l->past), msh_pb_minute_crc(l->past),
                          msh_pb_minute_cells(l->past)};
        return msh_fnv1a(box, 4 * sizeof *box, msh_fnv1a(&level, sizeof level, msh_fnv1a(id, sizeof id, 7))) | 1;
    }
    double wide[4];
    msh_kanon_box(level, box, wide);
    msh_live_rdlock(l->live);
    uint64_t chunks = msh_live_region_version(l->live, wide);
    msh_live_unlock(l->live);
    return msh_fnv1a(box, 4 * sizeof *box, msh_fnv1a(&level, sizeof level, chunks)) | 1;
}

/* The cells a movement box at zoom z shows: this thread's slot when it was built for the same key,
 * else built (into the slot, or into own when the thread has none; the caller frees own.v). */
static msh_rc movement_cells(live_layer *l, int z, const double box[4], cell_list *own, const cell_list **out)
{
    int level = z + 6 > 22 ? 22 : z + 6;
    uint64_t key = movement_key(l, level, box);
    cells_slot *s = cells_slot_get();
    cell_list *cl = s ? &s->cells : own;
    *out = cl;
    const void *src = l->past ? (const void *)l->past : (const void *)l->live;
    if (s && s->live == src && s->k == l->k_anon && s->key == key)
        return MSH_OK;
    if (s)
        s->live = NULL; /* a failed build leaves no stale key */
    cl->n = 0;
    msh_err err;
    if (l->past ? msh_kanon_cells_from(msh_pb_minute_base_cells, l->past, level, box, l->k_anon, keep_cell, cl, &err)
                : msh_kanon_cells(l->live, level, box, l->k_anon, keep_cell, cl, &err))
        return MSH_ENOMEM;
    if (s) {
        s->live = src;
        s->k = l->k_anon;
        s->key = key;
    }
    return MSH_OK;
}

msh_rc msh_live_movement_cells(msh_layer *movement, int z, const double box[4], msh_live_cell_fn fn, void *ud,
                               msh_err *err)
{
    live_layer *l = (live_layer *)movement;
    if ((movement->vt != &LL_VT && movement->vt != &PAST_VT) || l->kind != LL_MOVEMENT)
        return msh_err_set(err, MSH_EINVAL, "not the movement layer");
    cell_list own = {NULL, 0, 0};
    const cell_list *cl;
    if (movement_cells(l, z, box, &own, &cl))
        return msh_err_set(err, MSH_ENOMEM, "k-anonymity: out of memory");
    for (size_t i = 0; i < cl->n; i++)
        if (fn(ud, &cl->v[i]))
            break;
    free(own.v);
    return MSH_OK;
}

/* The flow cells (flow.h) of the cells the movement layer shows over box, whose centres are in it. */
static msh_rc flow_query(live_layer *l, const double box[4], int z, ll_job *j)
{
    cell_list own = {NULL, 0, 0};
    const cell_list *cl;
    msh_flow_cell *fc = NULL;
    size_t nf = 0;
    msh_err err;
    if (movement_cells(l, z, box, &own, &cl) || msh_flow_gather(cl->v, cl->n, &fc, &nf, &err)) {
        free(own.v);
        return MSH_ENOMEM;
    }
    for (size_t i = 0; i < nf; i++) {
        const msh_flow_cell *c = &fc[i];
        double n = (double)(1u << c->level), xy[2] = {(c->cx + 0.5) / n, (c->cy + 0.5) / n};
        if (xy[0] < box[0] || xy[0] >= box[2] || xy[1] < box[1] || xy[1] >= box[3] || !c->count)
            continue;
        double lon, lat, speed = hypot(c->vx, c->vy), heading = atan2(c->vx, c->vy) * 180.0 / M_PI;
        msh_world_to_lonlat(xy[0], xy[1], &lon, &lat);
        msh_value v[6];
        memset(v, 0, sizeof v);
        set_int(&v[0], (int64_t)c->count);
        set_real(&v[1], round(speed * 100) / 100);
        if (speed >= MSH_FLOW_MIN_SPEED) /* a standing crowd has no heading */
            set_real(&v[2], round(heading < 0 ? heading + 360 : heading));
        v[3].type = MSH_FT_BOOL;
        v[3].u.i = c->counter;
        set_real(&v[4], round(msh_live_cell_metres((int)c->level, lat) * 10) / 10);
        if (c->counter)
            set_real(&v[5], round(c->axis));
        uint64_t key[3] = {c->level, c->cx, c->cy};
        msh_feature f = {msh_fnv1a(key, sizeof key, MSH_FNV1A_INIT) >> 11, {MSH_GT_POINT, 1, 0, xy, NULL}, v};
        if (j->fn(j->ud, &f))
            break;
    }
    free(fc);
    free(own.v);
    return MSH_OK;
}

static msh_rc ll_query(msh_layer *base, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    live_layer *l = (live_layer *)base;
    ll_job j = {l, box, fn, ud, 0};
    if (l->kind == LL_FLOW)
        return flow_query(l, box, z, &j); /* from the shown cells, as the movement layer */
    if (l->kind == LL_SENSOR_READINGS) { /* its own lock: the live state is not read */
        double ll[4];
        msh_world_to_lonlat(box[0], box[3], &ll[0], &ll[1]); /* world y grows southwards */
        msh_world_to_lonlat(box[2], box[1], &ll[2], &ll[3]);
        msh_sensor_history_rdlock(l->hist);
        msh_sensor_history_each(l->hist, ll, on_reading, &j);
        msh_sensor_history_unlock(l->hist);
        return MSH_OK;
    }
    msh_live_rdlock(l->live);
    switch (l->kind) {
    case LL_MOVEMENT: {
        /* what k-anonymity lets each cell show (kanon.h: the base cells are copied under the read
         * lock, the pyramid is built after it), then encoded */
        msh_live_unlock(l->live);
        cell_list own = {NULL, 0, 0};
        const cell_list *cl;
        if (movement_cells(l, z, box, &own, &cl))
            return MSH_ENOMEM;
        for (size_t i = 0; i < cl->n; i++)
            if (on_cell(&j, &cl->v[i]))
                break;
        free(own.v);
        return MSH_OK;
    }
    case LL_POSITIONS: msh_live_people(l->live, box, on_person, &j); break;
    default: msh_live_items(l->live, ITEM_FEED[l->kind], on_item, &j); break;
    }
    msh_live_unlock(l->live);
    return MSH_OK;
}

typedef struct {
    uint64_t h;
    uint32_t nfields;
} content_hash;

static void mix(uint64_t *h, const void *p, size_t n)
{
    *h = msh_fnv1a(p, n, *h);
}

/* Hash what a tile would show: ids, geometry and every value. */
static int hash_feature(void *ud, const msh_feature *f)
{
    content_hash *c = ud;
    mix(&c->h, &f->id, sizeof f->id);
    mix(&c->h, f->geom.xy, sizeof(double) * 2 * f->geom.npts);
    for (uint32_t i = 0; i < c->nfields; i++) {
        const msh_value *v = &f->values[i];
        mix(&c->h, &v->type, 1);
        if (v->type == MSH_FT_STRING)
            mix(&c->h, v->u.s, v->len);
        else if (v->type)
            mix(&c->h, &v->u, sizeof v->u);
    }
    return 0;
}

/* What a movement tile over box shows, hashed: from the memo when the chunks under it are as they were. */
static uint64_t movement_version(live_layer *l, int z, const double box[4])
{
    int level = z + 6 > 22 ? 22 : z + 6;
    uint64_t key = movement_key(l, level, box);
    if (l->past) /* what a past box shows is fixed by its key: no content to hash */
        return msh_fnv1a(&l->k_anon, sizeof l->k_anon, key);
    memo_slot *s = &l->memo[key % MEMO_SLOTS];
    pthread_mutex_lock(&l->memo_mu);
    bool hit = s->key == key;
    uint64_t v = s->val;
    pthread_mutex_unlock(&l->memo_mu);
    if (hit)
        return v;
    content_hash c = {MSH_FNV1A_INIT, l->base.info.nfields};
    ll_query(&l->base, box, z, hash_feature, &c);
    pthread_mutex_lock(&l->memo_mu);
    s->key = key;
    s->val = c.h;
    pthread_mutex_unlock(&l->memo_mu);
    return c.h;
}

static uint64_t ll_region_version(msh_layer *base, int z, const double box[4])
{
    live_layer *l = (live_layer *)base;
    uint64_t v;
    if (l->kind == LL_MOVEMENT || l->kind == LL_FLOW) {
        v = movement_version(l, z, box);
    } else if (l->kind == LL_SENSOR_READINGS) {
        v = msh_sensor_history_version(l->hist); /* any reading anywhere: the whole season is one version */
    } else if (l->kind == LL_POSITIONS) {
        /* every person would be hashed: the versions of the density chunks under the tile stand in */
        msh_live_rdlock(l->live);
        v = msh_live_region_version(l->live, box);
        msh_live_unlock(l->live);
    } else {
        /* the content the tile would carry: the ETag changes exactly when the tile would */
        content_hash c = {MSH_FNV1A_INIT, l->base.info.nfields};
        ll_query(base, box, z, hash_feature, &c);
        v = c.h;
    }
    /* a version made of counters restarts with the process: the epoch keeps its ETags from repeating.
     * A content hash needs none, and must have none: every node holding the same content (the
     * same feed log sequence, services/feed_log.h) gives the same ETag, so a shared cache holds. */
    bool counters = l->kind == LL_POSITIONS || l->kind == LL_SENSOR_READINGS;
    return l->past || !counters ? v : msh_layer_epoch_version(v, l->epoch); /* a past minute's tags hold across restarts */
}

static const msh_layer_vt LL_VT = {ll_query, msh_layer_free_plain, ll_region_version};

static void past_free(msh_layer *base)
{
    live_layer *l = (live_layer *)base;
    msh_pb_minute_release(l->past);
    pthread_mutex_destroy(&l->memo_mu);
    msh_layer_free_plain(base);
}

static const msh_layer_vt PAST_VT = {ll_query, past_free, ll_region_version};

msh_rc msh_live_movement_past(msh_layer *movement, msh_pb_minute *minute, msh_layer **out, msh_err *err)
{
    *out = NULL;
    live_layer *mv = (live_layer *)movement;
    if (movement->vt != &LL_VT || mv->kind != LL_MOVEMENT) {
        msh_pb_minute_release(minute);
        return msh_err_set(err, MSH_EINVAL, "not the movement layer");
    }
    /* the movement layer's fields and the minute's `time` */
    msh_field fields[16];
    msh_layer_info info = movement->info;
    for (uint32_t i = 0; i < info.nfields && i < 15; i++)
        fields[i] = info.fields[i];
    info.nfields = info.nfields < 15 ? info.nfields : 15;
    fields[info.nfields++] = (msh_field){.name = (char *)"time", .type = MSH_FT_STRING};
    info.fields = fields;
    live_layer *l = calloc(1, sizeof *l);
    if (!l || msh_layer_info_copy(&l->base.info, &info)) {
        free(l);
        msh_pb_minute_release(minute);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    l->base.vt = &PAST_VT;
    atomic_init(&l->base.refs, 1);
    l->live = mv->live;
    l->kind = LL_MOVEMENT;
    l->k_anon = mv->k_anon;
    l->past = minute;
    msh_time_format_iso(msh_pb_minute_ms(minute), l->past_iso, sizeof l->past_iso, 0);
    pthread_mutex_init(&l->memo_mu, NULL);
    *out = &l->base;
    return MSH_OK;
}

msh_rc msh_live_layers_new(msh_live *live, msh_sensor_history *hist, int k_anon, msh_layer ***layers, size_t *n,
                           msh_err *err)
{
    *layers = calloc(LL_COUNT, sizeof **layers);
    *n = 0;
    if (!*layers)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    for (int k = 0; k < LL_COUNT; k++) {
        if (k == LL_SENSOR_READINGS && !hist)
            continue;
        const ll_def *d = &DEFS[k];
        live_layer *l = calloc(1, sizeof *l);
        msh_layer_info info;
        msh_field fields[16];
        uint32_t nf = 0;
        while (d->fields[nf]) {
            fields[nf].name = (char *)d->fields[nf];
            fields[nf].type = d->types[nf];
            nf++;
        }
        msh_layer_info_derived(&info, d->name, "live", d->gtype, fields, nf);
        info.access = d->access;
        if (!l || msh_layer_info_copy(&l->base.info, &info)) {
            free(l);
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
        }
        l->base.vt = &LL_VT;
        atomic_init(&l->base.refs, 1);
        l->live = live;
        l->hist = hist;
        l->kind = (ll_kind)k;
        l->k_anon = k_anon;
        l->epoch = msh_layer_epoch_new(l);
        pthread_mutex_init(&l->memo_mu, NULL);
        (*layers)[(*n)++] = &l->base;
    }
    return MSH_OK;
}
