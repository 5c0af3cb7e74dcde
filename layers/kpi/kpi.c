/* kpi.c: computing the officials' indicators per service zone from the layers and the live state.
 *
 * The static side (zones, camps, assets, cleaning-route pieces) is prepared once per layer
 * version; each compute copies the live cells and items under the read lock and does the
 * rest unlocked. Zones are found by point-in-polygon (even-odd over every ring) behind a
 * 64 x 64 bucket grid of zone boxes, so a cell costs a bucket read and one or two ring tests.
 */
#include "kpi.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/msh_tilemath.h"
#include "route/graph.h"
#include "core/msh_hash.h"
#include "core/msh_constants.h"

#define PIECE_M 10.0
#define GRID 64
#define MAX_CREW_QUEUE (1u << 20)
#define BASE_LEVEL 22

const msh_kpi_ind msh_kpi_inds[MSH_KPI_N] = {
    {"crowd", "people", "persons"},
    {"crowd", "peak_density", "persons/m2"},
    {"crowd", "minutes_los_ef", "min"},
    {"crowd", "share_los_a", "1"},
    {"crowd", "share_los_b", "1"},
    {"crowd", "share_los_c", "1"},
    {"crowd", "share_los_d", "1"},
    {"crowd", "share_los_e", "1"},
    {"crowd", "share_los_f", "1"},
    {"coverage", "camps", "camps"},
    {"coverage", "capacity", "persons"},
    {"coverage", "toilet_camps", "1"},
    {"coverage", "toilet_capacity", "1"},
    {"coverage", "water_camps", "1"},
    {"coverage", "water_capacity", "1"},
    {"coverage", "clinic_camps", "1"},
    {"coverage", "clinic_capacity", "1"},
    {"emergency", "incidents", "incidents"},
    {"emergency", "open", "incidents"},
    {"emergency", "informational", "incidents"},
    {"emergency", "low", "incidents"},
    {"emergency", "medium", "incidents"},
    {"emergency", "high", "incidents"},
    {"emergency", "critical", "incidents"},
    {"emergency", "on_scene_p50_s", "s"},
    {"emergency", "on_scene_p90_s", "s"},
    {"emergency", "resolved_p50_s", "s"},
    {"emergency", "resolved_p90_s", "s"},
    {"emergency", "within_target", "1"},
    {"gates", "gates", "gates"},
    {"gates", "flow_per_hour", "persons/h"},
    {"gates", "capacity_per_hour", "persons/h"},
    {"gates", "utilisation", "1"},
    {"gates", "over_capacity", "gates"},
    {"environment", "sensors", "sensors"},
    {"environment", "temperature_max", "degC"},
    {"environment", "hours_above_heat", "h"},
    {"assets", "assets", "assets"},
    {"assets", "working", "assets"},
    {"assets", "share_working", "1"},
    {"cleaning", "route_m", "m"},
    {"cleaning", "covered_m", "m"},
    {"cleaning", "share_covered", "1"},
    {"index", "crowd", "1"},
    {"index", "coverage", "1"},
    {"index", "response", "1"},
    {"index", "gates", "1"},
    {"index", "environment", "1"},
    {"index", "assets", "1"},
    {"index", "cleaning", "1"},
    {"index", "composite", "0-100"},
};

/* ---- static preparation ---- */

typedef struct {
    double *xy;       /* world units, every ring */
    uint32_t *parts;  /* ring lengths (flag bits cleared) */
    uint32_t nparts;
    double bb[4];
    char id[65], name[129];
    uint64_t fid;
} zone_t;

typedef struct {
    double wx, wy;    /* centroid, world units */
    double lon, lat;  /* where it meets the network: its entrance when the layer gives one, else the centroid */
    double capacity;
    int zone;         /* index or -1 */
} camp_t;

typedef struct {
    double lon, lat;
    int kind;         /* 0 toilet, 1 water_point, 2 clinic, -1 other */
} svc_t;

typedef struct {
    char id[65];
    int zone;
    double capacity;
} gate_t;

typedef struct {
    double wx, wy;    /* midpoint */
    double len_m;
    int zone;
    int64_t last_ms;  /* last time a crew passed, 0 never */
    uint64_t fid;     /* the route feature and the piece's number along it: its name across restarts */
    uint32_t idx;
    bool dirty;       /* last_ms changed since msh_kpi_swept_changes last saw it */
} piece_t;

typedef struct {
    uint64_t fid;
    uint32_t idx;
    int64_t last_ms;
} piece_mark;

typedef struct {
    double ax, ay, bx, by; /* world units */
    int64_t t_ms;
} crew_move;

typedef struct {
    int64_t t0, t1;
    uint8_t what;     /* bit 0: LoS E or F; bit 1: above the heat threshold */
} span;

typedef struct {
    char id[65];
    int64_t last_t;
    uint8_t last_state;
    bool has_last;
    span *v;
    size_t n, cap;
} tracker;

struct msh_kpi {
    msh_kpi_config cfg;
    pthread_mutex_t lock;
    /* zones */
    msh_layer *zones_layer;
    uint64_t zones_ver;
    zone_t *zones;
    size_t nzones;
    double gbb[4];
    uint32_t *gstart, *gitems; /* bucket grid: CSR of zone indices */
    /* camps */
    uint64_t camps_ver;
    const msh_layer *camps_layer;
    camp_t *camps;
    size_t ncamps;
    /* assets */
    uint64_t assets_ver;
    const msh_layer *assets_layer;
    svc_t *svc;
    size_t nsvc;
    gate_t *gates;
    size_t ngates;
    double *asset_n, *asset_working; /* per zone, index nzones = overall */
    /* coverage cache */
    uint64_t cov_key;
    uint8_t *camp_cov; /* per camp: bit k covered for kind k */
    bool cov_valid;
    /* cleaning */
    uint64_t routes_ver;
    const msh_layer *routes_layer;
    piece_t *pieces;
    size_t npieces;
    piece_mark *pend;  /* swept times waiting for the pieces of routes version pend_ver */
    size_t npend, cappend;
    uint64_t pend_ver;
    pthread_mutex_t q_lock;
    crew_move *queue;
    size_t nq, capq;
    /* time integration */
    tracker *tr;
    size_t ntr, captr;
    msh_kpi_result *latest;
};

/* Room for one more element in the growable array *vp (cap elements, n used); false when out of memory. */
static bool grow(void *vp, size_t *cap, size_t n, size_t elem, size_t first)
{
    void **v = vp;
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : first;
    void *nv = realloc(*v, nc * elem);
    if (!nv)
        return false;
    *v = nv;
    *cap = nc;
    return true;
}

static int field_index(const msh_layer *l, const char *name)
{
    for (uint32_t i = 0; i < l->info.nfields; i++)
        if (!strcmp(l->info.fields[i].name, name))
            return (int)i;
    return -1;
}

static void value_str(const msh_feature *f, int field, char *out, size_t cap)
{
    out[0] = 0;
    if (field < 0)
        return;
    const msh_value *v = &f->values[field];
    if (v->type == MSH_FT_STRING)
        snprintf(out, cap, "%.*s", (int)(v->len < cap - 1 ? v->len : cap - 1), v->u.s);
    else if (v->type == MSH_FT_INT)
        snprintf(out, cap, "%lld", (long long)v->u.i);
}

static double value_num(const msh_feature *f, int field)
{
    if (field < 0)
        return NAN;
    const msh_value *v = &f->values[field];
    if (v->type == MSH_FT_INT)
        return (double)v->u.i;
    if (v->type == MSH_FT_REAL)
        return v->u.d;
    return NAN;
}

static const double WORLD[4] = {-1, -1, 2, 2};

static int layer_z(const msh_layer *l)
{
    return l->info.maxzoom;
}

/* Metres per world unit at world y. */
static double scale_at(double wy)
{
    double lon, lat;
    msh_world_to_lonlat(0.5, wy, &lon, &lat);
    return MSH_EARTH_CIRCUMFERENCE * cos(lat * M_PI / 180.0);
}

static bool in_zone(const zone_t *z, double x, double y)
{
    if (x < z->bb[0] || x > z->bb[2] || y < z->bb[1] || y > z->bb[3])
        return false;
    bool in = false;
    const double *p = z->xy;
    for (uint32_t r = 0; r < z->nparts; r++) {
        uint32_t n = z->parts[r];
        for (uint32_t i = 0, j = n - 1; i < n; j = i++) {
            double xi = p[2 * i], yi = p[2 * i + 1], xj = p[2 * j], yj = p[2 * j + 1];
            if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi)
                in = !in;
        }
        p += 2 * n;
    }
    return in;
}

/* The zone containing world point (x, y), or -1. */
static int zone_at(const msh_kpi *k, double x, double y)
{
    if (!k->nzones || x < k->gbb[0] || x >= k->gbb[2] || y < k->gbb[1] || y >= k->gbb[3])
        return -1;
    int gx = (int)((x - k->gbb[0]) / (k->gbb[2] - k->gbb[0]) * GRID);
    int gy = (int)((y - k->gbb[1]) / (k->gbb[3] - k->gbb[1]) * GRID);
    gx = gx < 0 ? 0 : gx >= GRID ? GRID - 1 : gx;
    gy = gy < 0 ? 0 : gy >= GRID ? GRID - 1 : gy;
    uint32_t b = (uint32_t)(gy * GRID + gx);
    for (uint32_t i = k->gstart[b]; i < k->gstart[b + 1]; i++)
        if (in_zone(&k->zones[k->gitems[i]], x, y))
            return (int)k->gitems[i];
    return -1;
}

static int zone_by_id(const msh_kpi *k, const char *id)
{
    for (size_t i = 0; i < k->nzones; i++)
        if (!strcmp(k->zones[i].id, id))
            return (int)i;
    return -1;
}

static void zones_clear(msh_kpi *k)
{
    for (size_t i = 0; i < k->nzones; i++) {
        free(k->zones[i].xy);
        free(k->zones[i].parts);
    }
    free(k->zones);
    free(k->gstart);
    free(k->gitems);
    k->zones = NULL;
    k->gstart = k->gitems = NULL;
    k->nzones = 0;
    if (k->zones_layer)
        msh_layer_release(k->zones_layer);
    k->zones_layer = NULL;
}

typedef struct {
    msh_kpi *k;
    int f_id, f_name;
    size_t cap;
    int fail;
} zone_job;

static int add_zone(void *ud, const msh_feature *f)
{
    zone_job *j = ud;
    msh_kpi *k = j->k;
    if (f->geom.type != MSH_GT_POLYGON || !f->geom.npts)
        return 0;
    if (!grow(&k->zones, &j->cap, k->nzones, sizeof *k->zones, 32))
        return j->fail = 1;
    zone_t *z = &k->zones[k->nzones];
    memset(z, 0, sizeof *z);
    z->xy = malloc(sizeof(double) * 2 * f->geom.npts);
    z->parts = malloc(sizeof(uint32_t) * f->geom.nparts);
    if (!z->xy || !z->parts) {
        free(z->xy);
        free(z->parts);
        return j->fail = 1;
    }
    memcpy(z->xy, f->geom.xy, sizeof(double) * 2 * f->geom.npts);
    for (uint32_t i = 0; i < f->geom.nparts; i++)
        z->parts[i] = MSH_PART_LEN(f->geom.parts[i]);
    z->nparts = f->geom.nparts;
    z->bb[0] = z->bb[1] = INFINITY;
    z->bb[2] = z->bb[3] = -INFINITY;
    for (uint32_t i = 0; i < f->geom.npts; i++) {
        z->bb[0] = fmin(z->bb[0], z->xy[2 * i]);
        z->bb[1] = fmin(z->bb[1], z->xy[2 * i + 1]);
        z->bb[2] = fmax(z->bb[2], z->xy[2 * i]);
        z->bb[3] = fmax(z->bb[3], z->xy[2 * i + 1]);
    }
    value_str(f, j->f_id, z->id, sizeof z->id);
    if (!z->id[0])
        snprintf(z->id, sizeof z->id, "%llu", (unsigned long long)f->id);
    value_str(f, j->f_name, z->name, sizeof z->name);
    z->fid = f->id;
    k->nzones++;
    return 0;
}

static int cmp_zone_fid(const void *a, const void *b)
{
    const zone_t *x = a, *y = b;
    return x->fid < y->fid ? -1 : x->fid > y->fid;
}

static msh_rc build_grid(msh_kpi *k, msh_err *err)
{
    k->gbb[0] = k->gbb[1] = INFINITY;
    k->gbb[2] = k->gbb[3] = -INFINITY;
    for (size_t i = 0; i < k->nzones; i++) {
        k->gbb[0] = fmin(k->gbb[0], k->zones[i].bb[0]);
        k->gbb[1] = fmin(k->gbb[1], k->zones[i].bb[1]);
        k->gbb[2] = fmax(k->gbb[2], k->zones[i].bb[2]);
        k->gbb[3] = fmax(k->gbb[3], k->zones[i].bb[3]);
    }
    /* a hair wider so that the far edges fall inside the last bucket */
    double wx = (k->gbb[2] - k->gbb[0]) * 1e-9 + 1e-12, wy = (k->gbb[3] - k->gbb[1]) * 1e-9 + 1e-12;
    k->gbb[2] += wx;
    k->gbb[3] += wy;
    k->gstart = calloc(GRID * GRID + 1, sizeof *k->gstart);
    if (!k->gstart)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint32_t *fill = NULL;
        if (pass == 1) {
            for (int b = 0; b < GRID * GRID; b++)
                k->gstart[b + 1] += k->gstart[b];
            total = k->gstart[GRID * GRID];
            k->gitems = malloc((total ? total : 1) * sizeof *k->gitems);
            fill = calloc(GRID * GRID, sizeof *fill);
            if (!k->gitems || !fill) {
                free(fill);
                return msh_err_set(err, MSH_ENOMEM, "out of memory");
            }
        }
        double cw = (k->gbb[2] - k->gbb[0]) / GRID, ch = (k->gbb[3] - k->gbb[1]) / GRID;
        for (size_t i = 0; i < k->nzones; i++) {
            const zone_t *z = &k->zones[i];
            int x0 = (int)((z->bb[0] - k->gbb[0]) / cw), x1 = (int)((z->bb[2] - k->gbb[0]) / cw);
            int y0 = (int)((z->bb[1] - k->gbb[1]) / ch), y1 = (int)((z->bb[3] - k->gbb[1]) / ch);
            x1 = x1 >= GRID ? GRID - 1 : x1;
            y1 = y1 >= GRID ? GRID - 1 : y1;
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++) {
                    int b = y * GRID + x;
                    if (pass == 0)
                        k->gstart[b + 1]++;
                    else
                        k->gitems[k->gstart[b] + fill[b]++] = (uint32_t)i;
                }
        }
        free(fill);
    }
    return MSH_OK;
}

static msh_rc prepare_zones(msh_kpi *k, msh_layer *zl, msh_err *err)
{
    if (zl == k->zones_layer && (!zl || zl->info.version == k->zones_ver))
        return MSH_OK;
    zones_clear(k);
    k->cov_valid = false;
    k->camps_layer = k->assets_layer = k->routes_layer = NULL; /* their zones are indices: redo */
    if (!zl)
        return MSH_OK;
    zone_job j = {k, field_index(zl, "zone_id"), field_index(zl, "name"), 0, 0};
    msh_rc rc = zl->vt->query(zl, WORLD, layer_z(zl), add_zone, &j);
    if (!rc && j.fail)
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    if (rc)
        return rc;
    if (k->nzones)
        qsort(k->zones, k->nzones, sizeof *k->zones, cmp_zone_fid);
    if ((rc = build_grid(k, err)))
        return rc;
    k->zones_layer = msh_layer_retain(zl);
    k->zones_ver = zl->info.version;
    return MSH_OK;
}

/* Polygon centroid of the first outer ring (world units); the vertex mean for a degenerate ring. */
static void ring_centroid(const msh_geom *g, double *cx, double *cy)
{
    uint32_t n = g->nparts ? MSH_PART_LEN(g->parts[0]) : g->npts;
    double a = 0, x = 0, y = 0, mx = 0, my = 0;
    for (uint32_t i = 0, j = n - 1; i < n; j = i++) {
        double xi = g->xy[2 * i], yi = g->xy[2 * i + 1], xj = g->xy[2 * j], yj = g->xy[2 * j + 1];
        double c = xj * yi - xi * yj;
        a += c;
        x += (xi + xj) * c;
        y += (yi + yj) * c;
        mx += xi;
        my += yi;
    }
    if (fabs(a) > 1e-30) {
        *cx = x / (3 * a);
        *cy = y / (3 * a);
    } else {
        *cx = mx / n;
        *cy = my / n;
    }
}

typedef struct {
    msh_kpi *k;
    int f_zone, f_cap, f_kind, f_status, f_id, f_elon, f_elat;
    size_t cap, cap2;
    int fail;
} item_job;

static int add_camp(void *ud, const msh_feature *f)
{
    item_job *j = ud;
    msh_kpi *k = j->k;
    if (!f->geom.npts)
        return 0;
    if (!grow(&k->camps, &j->cap, k->ncamps, sizeof *k->camps, 256))
        return j->fail = 1;
    camp_t *c = &k->camps[k->ncamps++];
    if (f->geom.type == MSH_GT_POLYGON) {
        ring_centroid(&f->geom, &c->wx, &c->wy);
    } else {
        c->wx = f->geom.xy[0];
        c->wy = f->geom.xy[1];
    }
    double cap = value_num(f, j->f_cap);
    c->capacity = isfinite(cap) && cap > 0 ? cap : 0;
    double elon = value_num(f, j->f_elon), elat = value_num(f, j->f_elat);
    if (isfinite(elon) && isfinite(elat) && fabs(elon) <= 180 && fabs(elat) <= 85) {
        c->lon = elon;
        c->lat = elat;
    } else {
        msh_world_to_lonlat(c->wx, c->wy, &c->lon, &c->lat);
    }
    char zid[65];
    value_str(f, j->f_zone, zid, sizeof zid);
    c->zone = zid[0] ? zone_by_id(k, zid) : -1;
    if (c->zone < 0)
        c->zone = zone_at(k, c->wx, c->wy);
    return 0;
}

static msh_rc prepare_camps(msh_kpi *k, const msh_layer *cl, msh_err *err)
{
    if (cl == k->camps_layer && (!cl || cl->info.version == k->camps_ver))
        return MSH_OK;
    free(k->camps);
    free(k->camp_cov);
    k->camps = NULL;
    k->camp_cov = NULL;
    k->ncamps = 0;
    k->cov_valid = false;
    k->camps_layer = NULL;
    if (!cl)
        return MSH_OK;
    item_job j = {k, field_index(cl, "zone_id"), field_index(cl, "capacity"), -1, -1, -1,
                  field_index(cl, "entrance_lon"), field_index(cl, "entrance_lat"), 0, 0, 0};
    msh_rc rc = cl->vt->query((msh_layer *)cl, WORLD, layer_z(cl), add_camp, &j);
    if (!rc && j.fail)
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    if (rc)
        return rc;
    k->camps_layer = cl;
    k->camps_ver = cl->info.version;
    return MSH_OK;
}

static const char *const SVC_KINDS[3] = {"toilet", "water_point", "clinic"};

static int add_asset(void *ud, const msh_feature *f)
{
    item_job *j = ud;
    msh_kpi *k = j->k;
    if (f->geom.type != MSH_GT_POINT || !f->geom.npts)
        return 0;
    char kind[33], status[33], zid[65];
    value_str(f, j->f_kind, kind, sizeof kind);
    value_str(f, j->f_status, status, sizeof status);
    value_str(f, j->f_zone, zid, sizeof zid);
    int zone = zid[0] ? zone_by_id(k, zid) : -1;
    if (zone < 0)
        zone = zone_at(k, f->geom.xy[0], f->geom.xy[1]);
    bool working = !strcmp(status, "working");
    k->asset_n[k->nzones] += 1;
    k->asset_working[k->nzones] += working;
    if (zone >= 0) {
        k->asset_n[zone] += 1;
        k->asset_working[zone] += working;
    }
    int sk = -1;
    for (int i = 0; i < 3; i++)
        if (!strcmp(kind, SVC_KINDS[i]))
            sk = i;
    if (sk >= 0 && working) {
        if (!grow(&k->svc, &j->cap, k->nsvc, sizeof *k->svc, 256))
            return j->fail = 1;
        svc_t *s = &k->svc[k->nsvc++];
        msh_world_to_lonlat(f->geom.xy[0], f->geom.xy[1], &s->lon, &s->lat);
        s->kind = sk;
    }
    if (!strcmp(kind, "gate")) {
        if (!grow(&k->gates, &j->cap2, k->ngates, sizeof *k->gates, 64))
            return j->fail = 1;
        gate_t *g = &k->gates[k->ngates++];
        value_str(f, j->f_id, g->id, sizeof g->id);
        g->zone = zone;
        double cap = value_num(f, j->f_cap);
        g->capacity = isfinite(cap) && cap > 0 ? cap : 0;
    }
    return 0;
}

static msh_rc prepare_assets(msh_kpi *k, const msh_layer *al, msh_err *err)
{
    if (al == k->assets_layer && (!al || al->info.version == k->assets_ver))
        return MSH_OK;
    free(k->svc);
    free(k->gates);
    free(k->asset_n);
    free(k->asset_working);
    k->svc = NULL;
    k->gates = NULL;
    k->nsvc = k->ngates = 0;
    k->cov_valid = false;
    k->assets_layer = NULL;
    k->asset_n = calloc(k->nzones + 1, sizeof *k->asset_n);
    k->asset_working = calloc(k->nzones + 1, sizeof *k->asset_working);
    if (!k->asset_n || !k->asset_working)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    if (!al)
        return MSH_OK;
    item_job j = {k,  field_index(al, "zone_id"), field_index(al, "capacity"), field_index(al, "kind"),
                  field_index(al, "status"), field_index(al, "asset_id"), -1, -1, 0, 0, 0};
    msh_rc rc = al->vt->query((msh_layer *)al, WORLD, layer_z(al), add_asset, &j);
    if (!rc && j.fail)
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    if (rc)
        return rc;
    k->assets_layer = al;
    k->assets_ver = al->info.version;
    return MSH_OK;
}

typedef struct {
    msh_kpi *k;
    size_t cap;
    uint32_t idx;
    int fail;
} piece_job;

static int add_route(void *ud, const msh_feature *f)
{
    piece_job *j = ud;
    msh_kpi *k = j->k;
    if (f->geom.type != MSH_GT_LINE)
        return 0;
    j->idx = 0;
    const double *p = f->geom.xy;
    for (uint32_t part = 0; part < f->geom.nparts; part++) {
        uint32_t n = MSH_PART_LEN(f->geom.parts[part]);
        for (uint32_t i = 0; i + 1 < n; i++) {
            double ax = p[2 * i], ay = p[2 * i + 1], bx = p[2 * i + 2], by = p[2 * i + 3];
            double len = hypot(bx - ax, by - ay) * scale_at((ay + by) / 2);
            if (!(len > 0))
                continue;
            uint32_t np = (uint32_t)ceil(len / PIECE_M);
            for (uint32_t q = 0; q < np; q++) {
                if (!grow(&k->pieces, &j->cap, k->npieces, sizeof *k->pieces, 4096))
                    return j->fail = 1;
                piece_t *pc = &k->pieces[k->npieces++];
                double t = (q + 0.5) / np;
                pc->wx = ax + (bx - ax) * t;
                pc->wy = ay + (by - ay) * t;
                pc->len_m = len / np;
                pc->zone = zone_at(k, pc->wx, pc->wy);
                pc->last_ms = 0;
                pc->fid = f->id;
                pc->idx = j->idx++;
                pc->dirty = false;
            }
        }
        p += 2 * n;
    }
    return 0;
}

static int cmp_mark(const void *a, const void *b)
{
    const piece_mark *x = a, *y = b;
    if (x->fid != y->fid)
        return x->fid < y->fid ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void push_mark(msh_kpi *k, uint64_t ver, uint64_t fid, uint32_t idx, int64_t last_ms)
{
    if (k->npend && k->pend_ver != ver)
        k->npend = 0; /* marks of other routes: the layer was replaced */
    k->pend_ver = ver;
    if (grow(&k->pend, &k->cappend, k->npend, sizeof *k->pend, 256))
        k->pend[k->npend++] = (piece_mark){fid, idx, last_ms};
}

/* Give the pieces of the routes now prepared the swept times kept for them (after a restart, or
 * when the pieces were cut again because the zones changed). */
static void apply_marks(msh_kpi *k)
{
    if (!k->npend || !k->routes_layer)
        return;
    if (k->pend_ver == k->routes_ver) {
        qsort(k->pend, k->npend, sizeof *k->pend, cmp_mark);
        for (size_t i = 0; i < k->npieces; i++) {
            piece_t *p = &k->pieces[i];
            piece_mark key = {p->fid, p->idx, 0};
            const piece_mark *m = bsearch(&key, k->pend, k->npend, sizeof *k->pend, cmp_mark);
            if (m && m->last_ms > p->last_ms)
                p->last_ms = m->last_ms;
        }
    }
    k->npend = 0;
}

static msh_rc prepare_routes(msh_kpi *k, const msh_layer *rl, msh_err *err)
{
    if (rl == k->routes_layer && (!rl || rl->info.version == k->routes_ver))
        return MSH_OK;
    for (size_t i = 0; i < k->npieces; i++) /* cut again (zones changed): keep what was swept */
        if (k->pieces[i].last_ms)
            push_mark(k, k->routes_ver, k->pieces[i].fid, k->pieces[i].idx, k->pieces[i].last_ms);
    free(k->pieces);
    k->pieces = NULL;
    k->npieces = 0;
    k->routes_layer = NULL;
    if (!rl)
        return MSH_OK;
    piece_job j = {k, 0, 0, 0};
    msh_rc rc = rl->vt->query((msh_layer *)rl, WORLD, layer_z(rl), add_route, &j);
    if (!rc && j.fail)
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    if (rc)
        return rc;
    k->routes_layer = rl;
    k->routes_ver = rl->info.version;
    return MSH_OK;
}

/* ---- crews sweeping routes ---- */

void msh_kpi_crew_path(msh_kpi *k, double lon0, double lat0, double lon1, double lat1, int64_t t_ms)
{
    crew_move m;
    msh_lonlat_to_world(lon0, lat0, &m.ax, &m.ay);
    msh_lonlat_to_world(lon1, lat1, &m.bx, &m.by);
    m.t_ms = t_ms;
    pthread_mutex_lock(&k->q_lock);
    /* a full queue drops the move: at worst a piece counts as not swept */
    if (k->nq < MAX_CREW_QUEUE && grow(&k->queue, &k->capq, k->nq, sizeof *k->queue, 256))
        k->queue[k->nq++] = m;
    pthread_mutex_unlock(&k->q_lock);
}

void msh_kpi_crew_moved(msh_kpi *k, const msh_live_item *it, const msh_feed_rec *prev)
{
    const msh_feed_rec *r = &it->rec;
    if (!k || !(r->has & MSH_FR_LOC) || !(r->has & MSH_FR_KIND) || strcmp(r->kind, "cleaning"))
        return;
    /* a crew heard from again within 10 minutes swept the straight line between; else only where it is */
    if (prev && (prev->has & MSH_FR_LOC) && r->t_ms - prev->t_ms <= 600000 && r->t_ms >= prev->t_ms)
        msh_kpi_crew_path(k, prev->lon, prev->lat, r->lon, r->lat, r->t_ms);
    else
        msh_kpi_crew_path(k, r->lon, r->lat, r->lon, r->lat, r->t_ms);
}

static void apply_moves(msh_kpi *k)
{
    pthread_mutex_lock(&k->q_lock);
    crew_move *q = k->queue;
    size_t n = k->nq;
    k->queue = NULL;
    k->nq = k->capq = 0;
    pthread_mutex_unlock(&k->q_lock);
    for (size_t m = 0; m < n; m++) {
        const crew_move *c = &q[m];
        double s = scale_at((c->ay + c->by) / 2);
        double buf = k->cfg.cleaning_buffer_m / s; /* world units */
        double x0 = fmin(c->ax, c->bx) - buf, x1 = fmax(c->ax, c->bx) + buf;
        double y0 = fmin(c->ay, c->by) - buf, y1 = fmax(c->ay, c->by) + buf;
        double dx = c->bx - c->ax, dy = c->by - c->ay, l2 = dx * dx + dy * dy;
        for (size_t i = 0; i < k->npieces; i++) {
            piece_t *p = &k->pieces[i];
            if (p->wx < x0 || p->wx > x1 || p->wy < y0 || p->wy > y1)
                continue;
            double t = l2 > 0 ? ((p->wx - c->ax) * dx + (p->wy - c->ay) * dy) / l2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double d = hypot(c->ax + t * dx - p->wx, c->ay + t * dy - p->wy);
            if (d <= buf && c->t_ms > p->last_ms) {
                p->last_ms = c->t_ms;
                p->dirty = true;
            }
        }
    }
    free(q);
}

/* ---- time integration ---- */

static tracker *tracker_get(msh_kpi *k, const char *id)
{
    for (size_t i = 0; i < k->ntr; i++)
        if (!strcmp(k->tr[i].id, id))
            return &k->tr[i];
    if (!grow(&k->tr, &k->captr, k->ntr, sizeof *k->tr, 32))
        return NULL;
    tracker *t = &k->tr[k->ntr++];
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "%s", id);
    return t;
}

static double max_gap_ms(const msh_kpi *k)
{
    return (k->cfg.max_gap_s > 0 ? k->cfg.max_gap_s : 3.0 * k->cfg.interval_s) * 1000.0;
}

static void observe_locked(msh_kpi *k, const char *id, int64_t t_ms, double peak, double temp)
{
    tracker *t = tracker_get(k, id);
    if (!t)
        return;
    uint8_t state = (uint8_t)((peak > 0 && msh_fruin_los(peak) >= 'E') | ((temp > k->cfg.heat_c) << 1));
    if (t->has_last && t_ms <= t->last_t)
        return; /* out of order or the same instant: nothing to credit */
    if (t->has_last && t->last_state && (double)(t_ms - t->last_t) <= max_gap_ms(k)) {
        span *last = t->n ? &t->v[t->n - 1] : NULL;
        if (last && last->t1 == t->last_t && last->what == t->last_state) {
            last->t1 = t_ms;
        } else if (grow(&t->v, &t->cap, t->n, sizeof *t->v, 16)) { /* out of memory: the span is lost */
            t->v[t->n++] = (span){t->last_t, t_ms, t->last_state};
        }
    }
    /* forget spans that ended before the window */
    int64_t from = t_ms - (int64_t)(k->cfg.window_h * 3600000.0);
    size_t drop = 0;
    while (drop < t->n && t->v[drop].t1 <= from)
        drop++;
    if (drop) {
        memmove(t->v, t->v + drop, (t->n - drop) * sizeof *t->v);
        t->n -= drop;
    }
    t->last_t = t_ms;
    t->last_state = state;
    t->has_last = true;
}

void msh_kpi_observe(msh_kpi *k, const char *id, int64_t t_ms, double peak_density, double temp_max)
{
    pthread_mutex_lock(&k->lock);
    observe_locked(k, id, t_ms, peak_density, temp_max);
    pthread_mutex_unlock(&k->lock);
}

/* Seconds in the window ending at now with state bit `bit`. */
static double tracked_s(const msh_kpi *k, const tracker *t, int bit, int64_t now_ms)
{
    if (!t)
        return 0;
    int64_t from = now_ms - (int64_t)(k->cfg.window_h * 3600000.0);
    double ms = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!(t->v[i].what & (1 << bit)))
            continue;
        int64_t a = t->v[i].t0 > from ? t->v[i].t0 : from, b = t->v[i].t1 < now_ms ? t->v[i].t1 : now_ms;
        if (b > a)
            ms += (double)(b - a);
    }
    return ms / 1000.0;
}

/* ---- lifecycle ---- */

msh_rc msh_kpi_new(const msh_kpi_config *c, msh_kpi **out, msh_err *err)
{
    msh_kpi *k = calloc(1, sizeof *k);
    if (!k)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    k->cfg = *c;
    pthread_mutex_init(&k->lock, NULL);
    pthread_mutex_init(&k->q_lock, NULL);
    *out = k;
    return MSH_OK;
}

void msh_kpi_free(msh_kpi *k)
{
    if (!k)
        return;
    zones_clear(k);
    free(k->camps);
    free(k->camp_cov);
    free(k->svc);
    free(k->gates);
    free(k->asset_n);
    free(k->asset_working);
    free(k->pieces);
    free(k->pend);
    free(k->queue);
    for (size_t i = 0; i < k->ntr; i++)
        free(k->tr[i].v);
    free(k->tr);
    msh_kpi_result_release(k->latest);
    pthread_mutex_destroy(&k->lock);
    pthread_mutex_destroy(&k->q_lock);
    free(k);
}

const msh_kpi_config *msh_kpi_get_config(const msh_kpi *k)
{
    return &k->cfg;
}

msh_kpi_result *msh_kpi_result_retain(msh_kpi_result *r)
{
    if (r)
        atomic_fetch_add(&r->refs, 1);
    return r;
}

void msh_kpi_result_release(msh_kpi_result *r)
{
    if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
        if (r->zones_layer)
            msh_layer_release(r->zones_layer);
        free(r->zones);
        free(r);
    }
}

msh_kpi_result *msh_kpi_latest(msh_kpi *k)
{
    pthread_mutex_lock(&k->lock);
    msh_kpi_result *r = msh_kpi_result_retain(k->latest);
    pthread_mutex_unlock(&k->lock);
    return r;
}

const msh_kpi_zone *msh_kpi_result_zone(const msh_kpi_result *r, const char *id, size_t n)
{
    for (size_t i = 0; i < r->nzones; i++)
        if (strlen(r->zones[i].id) == n && !memcmp(r->zones[i].id, id, n))
            return &r->zones[i];
    return NULL;
}

char msh_kpi_peak_los(const msh_kpi_zone *z)
{
    double d = z->v[MSH_KPI_PEAK_DENSITY];
    return isfinite(d) ? msh_fruin_los(d) : 0;
}

double msh_kpi_percentile(const double *sorted, size_t n, double p)
{
    if (!n)
        return NAN;
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- the live copy ---- */

typedef struct {
    uint32_t cx, cy, count;
} cell_rec;

typedef struct {
    cell_rec *cells;
    size_t ncells, capcells;
    msh_live_item *items[3]; /* incidents, gates, sensors */
    size_t nitems[3], capitems[3];
    int which;
    int fail;
} live_copy;

static int copy_cell(void *ud, const msh_live_cell *c)
{
    live_copy *lc = ud;
    if (!grow(&lc->cells, &lc->capcells, lc->ncells, sizeof *lc->cells, 4096))
        return lc->fail = 1;
    lc->cells[lc->ncells++] = (cell_rec){c->cx, c->cy, c->count};
    return 0;
}

static int copy_item(void *ud, const msh_live_item *it)
{
    live_copy *lc = ud;
    int w = lc->which;
    if (!grow(&lc->items[w], &lc->capitems[w], lc->nitems[w], sizeof *lc->items[w], 64))
        return lc->fail = 1;
    lc->items[w][lc->nitems[w]++] = *it;
    return 0;
}

static void live_copy_free(live_copy *lc)
{
    free(lc->cells);
    for (int i = 0; i < 3; i++)
        free(lc->items[i]);
}

/* ---- computing ---- */

/* Per-zone accumulators (index nzones = overall). */
typedef struct {
    double people, peak, los[6];
    double camps, capacity, cov_camps[3], cov_cap[3];
    double inc, open, sev[5];
    double *on_scene, *resolved; /* response times, seconds */
    size_t n_on, n_res, cap_on, cap_res;
    double gates, flow, gcap, over;
    double sensors, temp;
    double route_m, covered_m;
} acc_t;

static int push_time(double **v, size_t *n, size_t *cap, double x)
{
    if (!grow(v, cap, *n, sizeof **v, 16))
        return -1;
    (*v)[(*n)++] = x;
    return 0;
}

static uint64_t coverage_key(const msh_kpi *k, msh_graph *g)
{
    msh_graph_stats st;
    msh_graph_get_stats(g, &st);
    uint64_t parts[6] = {(uint64_t)(uintptr_t)g, st.layer_version, st.edges, k->assets_ver, k->camps_ver,
                         k->zones_ver};
    return msh_fnv1a(parts, sizeof parts, MSH_FNV1A_INIT);
}

static int cmp_snap_edge(const void *a, const void *b)
{
    const msh_snap *x = a, *y = b;
    return x->edge < y->edge ? -1 : x->edge > y->edge;
}

/* The shortest distance along edge at->edge to a source on that same edge (sources sorted by edge). */
static double same_edge_m(const msh_graph *g, const msh_snap *src, size_t n, const msh_snap *at)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (src[mid].edge < at->edge)
            lo = mid + 1;
        else
            hi = mid;
    }
    double best = INFINITY, len = msh_graph_edge_length(g, at->edge);
    for (size_t i = lo; i < n && src[i].edge == at->edge; i++)
        best = fmin(best, fabs(src[i].t - at->t) * len);
    return best;
}

/* UN SDG 11.2.1: a camp is covered for a kind when a working asset of that kind is within the
 * walking distance along the network from the camp's entrance (its centroid when the camps layer
 * has no entrance_lon/entrance_lat), its straight leg onto the network included. */
static msh_rc compute_coverage(msh_kpi *k, msh_graph *g, msh_err *err)
{
    uint64_t key = coverage_key(k, g);
    if (k->cov_valid && key == k->cov_key)
        return MSH_OK;
    free(k->camp_cov);
    k->camp_cov = calloc(k->ncamps ? k->ncamps : 1, 1);
    msh_snap *src = malloc((k->nsvc ? k->nsvc : 1) * sizeof *src);
    msh_snap *camp_snap = malloc((k->ncamps ? k->ncamps : 1) * sizeof *camp_snap);
    bool *camp_on = calloc(k->ncamps ? k->ncamps : 1, sizeof *camp_on);
    double *cost = malloc((msh_graph_node_count(g) ? msh_graph_node_count(g) : 1) * sizeof *cost);
    msh_rc rc = MSH_OK;
    if (!k->camp_cov || !src || !camp_snap || !camp_on || !cost) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t c = 0; c < k->ncamps; c++)
        camp_on[c] = msh_graph_snap(g, k->camps[c].lon, k->camps[c].lat, k->cfg.snap_m, &camp_snap[c]);
    const double cut[3] = {k->cfg.toilet_m, k->cfg.water_m, k->cfg.clinic_m};
    for (int kind = 0; kind < 3; kind++) {
        size_t ns = 0;
        for (size_t i = 0; i < k->nsvc; i++)
            if (k->svc[i].kind == kind && msh_graph_snap(g, k->svc[i].lon, k->svc[i].lat, k->cfg.snap_m, &src[ns]))
                ns++;
        if (!ns)
            continue; /* no working asset of the kind on the network: no camp is covered */
        if ((rc = msh_graph_reach(g, NULL, src, ns, cut[kind], cost, err)))
            goto out;
        qsort(src, ns, sizeof *src, cmp_snap_edge);
        for (size_t c = 0; c < k->ncamps; c++) {
            if (!camp_on[c])
                continue;
            /* through the nodes, or along the edge both lie on (msh_graph_cost_at sees only the first) */
            double d = fmin(msh_graph_cost_at(g, NULL, cost, &camp_snap[c]), same_edge_m(g, src, ns, &camp_snap[c]));
            d += camp_snap[c].off_m;
            if (d <= cut[kind])
                k->camp_cov[c] |= (uint8_t)(1u << kind);
        }
    }
    k->cov_key = key;
    k->cov_valid = true;
out:
    free(src);
    free(camp_snap);
    free(camp_on);
    free(cost);
    return rc;
}

static double share(double part, double whole)
{
    return whole > 0 ? part / whole : NAN;
}

static void finish_zone(const msh_kpi *k, acc_t *a, msh_kpi_zone *z, bool live, bool graph, const tracker *tr,
                        int64_t now_ms)
{
    double *v = z->v;
    for (int i = 0; i < MSH_KPI_N; i++)
        v[i] = NAN;
    if (live) {
        v[MSH_KPI_PEOPLE] = a->people;
        v[MSH_KPI_PEAK_DENSITY] = a->people > 0 ? a->peak : 0;
        v[MSH_KPI_MINUTES_LOS_EF] = tracked_s(k, tr, 0, now_ms) / 60.0;
        for (int l = 0; l < 6; l++)
            v[MSH_KPI_SHARE_LOS_A + l] = share(a->los[l], a->people);
        v[MSH_KPI_INCIDENTS] = a->inc;
        v[MSH_KPI_OPEN] = a->open;
        for (int s = 0; s < 5; s++)
            v[MSH_KPI_SEV_INFO + s] = a->sev[s];
        if (a->n_on) /* qsort wants a real pointer even for none */
            qsort(a->on_scene, a->n_on, sizeof(double), cmp_double);
        if (a->n_res)
            qsort(a->resolved, a->n_res, sizeof(double), cmp_double);
        v[MSH_KPI_ON_SCENE_P50] = msh_kpi_percentile(a->on_scene, a->n_on, 0.5);
        v[MSH_KPI_ON_SCENE_P90] = msh_kpi_percentile(a->on_scene, a->n_on, 0.9);
        v[MSH_KPI_RESOLVED_P50] = msh_kpi_percentile(a->resolved, a->n_res, 0.5);
        v[MSH_KPI_RESOLVED_P90] = msh_kpi_percentile(a->resolved, a->n_res, 0.9);
        size_t in_target = 0;
        for (size_t i = 0; i < a->n_on; i++)
            in_target += a->on_scene[i] <= k->cfg.response_target_s;
        v[MSH_KPI_WITHIN_TARGET] = share((double)in_target, (double)a->n_on);
        v[MSH_KPI_GATES] = a->gates;
        v[MSH_KPI_FLOW] = a->flow;
        v[MSH_KPI_GATE_CAPACITY] = a->gcap;
        v[MSH_KPI_UTILISATION] = share(a->flow, a->gcap);
        v[MSH_KPI_OVER_CAPACITY] = a->over;
        v[MSH_KPI_SENSORS] = a->sensors;
        v[MSH_KPI_TEMP_MAX] = a->sensors > 0 ? a->temp : NAN;
        v[MSH_KPI_HOURS_HEAT] = a->sensors > 0 ? tracked_s(k, tr, 1, now_ms) / 3600.0 : NAN;
    }
    v[MSH_KPI_CAMPS] = a->camps;
    v[MSH_KPI_CAMP_CAPACITY] = a->capacity;
    if (graph)
        for (int s = 0; s < 3; s++) {
            v[MSH_KPI_TOILET_CAMPS + 2 * s] = share(a->cov_camps[s], a->camps);
            v[MSH_KPI_TOILET_CAPACITY + 2 * s] = share(a->cov_cap[s], a->capacity);
        }
    v[MSH_KPI_ROUTE_M] = a->route_m;
    v[MSH_KPI_COVERED_M] = a->covered_m;
    v[MSH_KPI_SHARE_COVERED] = share(a->covered_m, a->route_m);
    /* sub-scores, each 0..1 (NAN: not measured, left out of the composite) */
    double sc[MSH_KPI_NW];
    sc[MSH_KPI_W_CROWD] = isfinite(v[MSH_KPI_SHARE_LOS_E]) ? 1 - v[MSH_KPI_SHARE_LOS_E] - v[MSH_KPI_SHARE_LOS_F] : NAN;
    sc[MSH_KPI_W_COVERAGE] = (v[MSH_KPI_TOILET_CAPACITY] + v[MSH_KPI_WATER_CAPACITY] + v[MSH_KPI_CLINIC_CAPACITY]) / 3;
    sc[MSH_KPI_W_RESPONSE] = v[MSH_KPI_WITHIN_TARGET];
    sc[MSH_KPI_W_GATES] = live ? share(a->gates - a->over, a->gates) : NAN;
    sc[MSH_KPI_W_ENVIRONMENT] = 1 - v[MSH_KPI_HOURS_HEAT] / k->cfg.window_h;
    sc[MSH_KPI_W_ASSETS] = NAN; /* set by the caller, which holds the asset counts */
    sc[MSH_KPI_W_CLEANING] = v[MSH_KPI_SHARE_COVERED];
    for (int i = 0; i < MSH_KPI_NW; i++)
        v[MSH_KPI_SCORE_CROWD + i] = sc[i];
}

static void composite(const msh_kpi *k, msh_kpi_zone *z)
{
    double ws = 0, s = 0;
    for (int i = 0; i < MSH_KPI_NW; i++) {
        double x = z->v[MSH_KPI_SCORE_CROWD + i];
        if (isfinite(x) && k->cfg.weight[i] > 0) {
            ws += k->cfg.weight[i];
            s += k->cfg.weight[i] * x;
        }
    }
    z->v[MSH_KPI_COMPOSITE] = ws > 0 ? 100.0 * s / ws : NAN;
}

static uint64_t hash_result(const msh_kpi_result *r)
{
    uint64_t h = MSH_FNV1A_INIT;
    for (size_t i = 0; i <= r->nzones; i++) {
        const msh_kpi_zone *z = i < r->nzones ? &r->zones[i] : &r->overall;
        h = msh_fnv1a(z->v, sizeof z->v, h);
        h = msh_fnv1a(&z->fid, sizeof z->fid, h);
    }
    return h;
}

static double now_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static msh_layer *find_layer(const msh_catalog *cat, const char *name)
{
    msh_layer *l = cat ? msh_catalog_find(cat, name, strlen(name)) : NULL;
    return l && !strcmp(l->info.kind, "static") ? l : NULL;
}

static msh_rc compute_locked(msh_kpi *k, const msh_catalog *cat, msh_live *live, msh_graph *g, int64_t now_ms,
                             msh_kpi_result **out, msh_err *err)
{
    double t0 = now_mono_ms(), wait_ms = 0;
    msh_rc rc;
    if ((rc = prepare_zones(k, find_layer(cat, "service_zones"), err)) ||
        (rc = prepare_camps(k, find_layer(cat, "camps"), err)) ||
        (rc = prepare_assets(k, find_layer(cat, "assets"), err)) ||
        (rc = prepare_routes(k, find_layer(cat, "cleaning_routes"), err)))
        return rc;
    apply_marks(k);
    if (g && (rc = compute_coverage(k, g, err)))
        return rc;
    apply_moves(k);
    size_t nz = k->nzones;
    acc_t *acc = calloc(nz + 1, sizeof *acc);
    msh_kpi_result *res = calloc(1, sizeof *res);
    live_copy lc;
    memset(&lc, 0, sizeof lc);
    if (!acc || !res || (nz && !(res->zones = calloc(nz, sizeof *res->zones)))) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    double copy_ms = 0;
    if (live) {
        double tc = now_mono_ms();
        msh_live_rdlock(live);
        wait_ms = now_mono_ms() - tc;
        msh_live_scan(live, BASE_LEVEL, copy_cell, &lc);
        static const msh_feed F[3] = {MSH_FEED_INCIDENTS, MSH_FEED_GATES, MSH_FEED_SENSORS};
        for (lc.which = 0; lc.which < 3; lc.which++)
            msh_live_items(live, F[lc.which], copy_item, &lc);
        msh_live_unlock(live);
        copy_ms = now_mono_ms() - tc - wait_ms;
        if (lc.fail) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            goto out;
        }
    }
    acc_t *all = &acc[nz];
    /* crowd: the 8.9 m base cells */
    const double n22 = (double)(1u << BASE_LEVEL);
    double last_y = -1, area = 0;
    for (size_t i = 0; i < lc.ncells; i++) {
        const cell_rec *c = &lc.cells[i];
        double x = (c->cx + 0.5) / n22, y = (c->cy + 0.5) / n22;
        if (y != last_y) { /* cells come chunk by chunk: the area changes only with the row */
            double lon, lat;
            msh_world_to_lonlat(x, y, &lon, &lat);
            double side = msh_live_cell_metres(BASE_LEVEL, lat);
            area = side * side;
            last_y = y;
        }
        double d = c->count / area;
        int l = msh_fruin_los(d) - 'A';
        int z = zone_at(k, x, y);
        for (acc_t *a = all; a; a = (a == all && z >= 0) ? &acc[z] : NULL) {
            a->people += c->count;
            a->los[l] += c->count;
            if (d > a->peak)
                a->peak = d;
        }
    }
    /* emergency: incidents reported within the window */
    int64_t from = now_ms - (int64_t)(k->cfg.window_h * 3600000.0);
    for (size_t i = 0; i < lc.nitems[0]; i++) {
        const msh_live_item *it = &lc.items[0][i];
        int64_t rep = it->status_ms[MSH_INC_REPORTED] ? it->status_ms[MSH_INC_REPORTED] : it->rec.t_ms;
        if (rep < from || rep > now_ms)
            continue;
        double wx, wy;
        msh_lonlat_to_world(it->rec.lon, it->rec.lat, &wx, &wy);
        int z = zone_at(k, wx, wy);
        for (acc_t *a = all; a; a = (a == all && z >= 0) ? &acc[z] : NULL) {
            a->inc++;
            a->open += it->rec.status < MSH_INC_RESOLVED;
            a->sev[it->rec.severity < 5 ? it->rec.severity : 4]++;
            int64_t os = it->status_ms[MSH_INC_ON_SCENE], rs = it->status_ms[MSH_INC_RESOLVED];
            if ((os && os >= rep && push_time(&a->on_scene, &a->n_on, &a->cap_on, (double)(os - rep) / 1000.0)) ||
                (rs && rs >= rep && push_time(&a->resolved, &a->n_res, &a->cap_res, (double)(rs - rep) / 1000.0))) {
                rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
                goto out;
            }
        }
    }
    /* gates: the latest flow against the capacity (the feed's, else the asset's) */
    for (size_t i = 0; i < lc.nitems[1]; i++) {
        const msh_live_item *it = &lc.items[1][i];
        int z = -1;
        double cap = (it->rec.has & MSH_FR_CAPACITY) && it->rec.capacity > 0 ? it->rec.capacity : 0;
        for (size_t gi = 0; gi < k->ngates; gi++)
            if (!strcmp(k->gates[gi].id, it->rec.id)) {
                z = k->gates[gi].zone;
                if (!cap)
                    cap = k->gates[gi].capacity;
                break;
            }
        if (z < 0 && (it->rec.has & MSH_FR_LOC)) {
            double wx, wy;
            msh_lonlat_to_world(it->rec.lon, it->rec.lat, &wx, &wy);
            z = zone_at(k, wx, wy);
        }
        if (!(cap > 0))
            continue; /* a gate without a capacity cannot be judged against it */
        for (acc_t *a = all; a; a = (a == all && z >= 0) ? &acc[z] : NULL) {
            a->gates++;
            a->flow += it->flow_per_hour;
            a->gcap += cap;
            a->over += it->flow_per_hour > cap;
        }
    }
    /* environment: the hottest sensor of the zone */
    for (size_t i = 0; i < lc.nitems[2]; i++) {
        const msh_live_item *it = &lc.items[2][i];
        if (!(it->rec.has & MSH_FR_TEMP) || !(it->rec.has & MSH_FR_LOC))
            continue;
        double wx, wy;
        msh_lonlat_to_world(it->rec.lon, it->rec.lat, &wx, &wy);
        int z = zone_at(k, wx, wy);
        for (acc_t *a = all; a; a = (a == all && z >= 0) ? &acc[z] : NULL) {
            if (!a->sensors || it->rec.temperature > a->temp)
                a->temp = it->rec.temperature;
            a->sensors++;
        }
    }
    /* coverage per camp */
    for (size_t c = 0; c < k->ncamps; c++) {
        int z = k->camps[c].zone;
        for (acc_t *a = all; a; a = (a == all && z >= 0) ? &acc[z] : NULL) {
            a->camps++;
            a->capacity += k->camps[c].capacity;
            for (int s = 0; s < 3; s++)
                if (g && (k->camp_cov[c] >> s & 1)) {
                    a->cov_camps[s]++;
                    a->cov_cap[s] += k->camps[c].capacity;
                }
        }
    }
    /* cleaning: pieces a crew passed within the last cleaning_h hours */
    int64_t clean_from = now_ms - (int64_t)(k->cfg.cleaning_h * 3600000.0);
    for (size_t i = 0; i < k->npieces; i++) {
        const piece_t *p = &k->pieces[i];
        bool covered = p->last_ms && p->last_ms >= clean_from;
        for (acc_t *a = all; a; a = (a == all && p->zone >= 0) ? &acc[p->zone] : NULL) {
            a->route_m += p->len_m;
            a->covered_m += covered ? p->len_m : 0;
        }
    }
    /* time integration, then the values */
    for (size_t i = 0; i <= nz; i++) {
        msh_kpi_zone *z = i < nz ? &res->zones[i] : &res->overall;
        if (i < nz) {
            snprintf(z->id, sizeof z->id, "%s", k->zones[i].id);
            snprintf(z->name, sizeof z->name, "%s", k->zones[i].name);
            z->fid = k->zones[i].fid;
        }
        acc_t *a = &acc[i];
        if (live)
            observe_locked(k, z->id, now_ms, a->people > 0 ? a->peak : 0, a->sensors > 0 ? a->temp : NAN);
        finish_zone(k, a, z, live != NULL, g != NULL, tracker_get(k, z->id), now_ms);
        z->v[MSH_KPI_ASSETS] = k->asset_n ? k->asset_n[i] : 0;
        z->v[MSH_KPI_WORKING] = k->asset_working ? k->asset_working[i] : 0;
        z->v[MSH_KPI_SHARE_WORKING] = share(z->v[MSH_KPI_WORKING], z->v[MSH_KPI_ASSETS]);
        z->v[MSH_KPI_SCORE_ASSETS] = z->v[MSH_KPI_SHARE_WORKING];
        composite(k, z);
    }
    res->nzones = nz;
    res->t_ms = now_ms;
    res->graph = g != NULL;
    res->zones_layer = k->zones_layer ? msh_layer_retain(k->zones_layer) : NULL;
    res->hash = hash_result(res);
    atomic_init(&res->refs, 2); /* the caller's and `latest` */
    res->compute_ms = now_mono_ms() - t0;
    res->live_wait_ms = wait_ms;
    res->live_copy_ms = copy_ms;
    msh_kpi_result_release(k->latest);
    k->latest = res;
    *out = res;
    res = NULL;
out:
    if (acc)
        for (size_t i = 0; i <= nz; i++) {
            free(acc[i].on_scene);
            free(acc[i].resolved);
        }
    free(acc);
    if (res) {
        free(res->zones);
        free(res);
    }
    live_copy_free(&lc);
    return rc;
}

msh_rc msh_kpi_compute(msh_kpi *k, const msh_catalog *cat, msh_live *live, msh_graph *g, int64_t now_ms,
                       msh_kpi_result **out, msh_err *err)
{
    pthread_mutex_lock(&k->lock);
    msh_rc rc = compute_locked(k, cat, live, g, now_ms, out, err);
    pthread_mutex_unlock(&k->lock);
    return rc;
}

void msh_kpi_restore_swept(msh_kpi *k, uint64_t routes_version, uint64_t fid, uint32_t idx, int64_t last_ms)
{
    pthread_mutex_lock(&k->lock);
    push_mark(k, routes_version, fid, idx, last_ms);
    pthread_mutex_unlock(&k->lock);
}

size_t msh_kpi_swept_changes(msh_kpi *k, msh_kpi_swept_fn fn, void *ud)
{
    size_t n = 0;
    pthread_mutex_lock(&k->lock);
    for (size_t i = 0; i < k->npieces; i++) {
        piece_t *p = &k->pieces[i];
        if (!p->dirty)
            continue;
        if (fn(ud, k->routes_ver, p->fid, p->idx, p->last_ms))
            break;
        p->dirty = false;
        n++;
    }
    pthread_mutex_unlock(&k->lock);
    return n;
}

msh_rc msh_kpi_fresh(msh_kpi *k, const msh_catalog *cat, msh_live *live, msh_graph *g, int64_t now_ms,
                     int64_t max_age_ms, msh_kpi_result **out, msh_err *err)
{
    pthread_mutex_lock(&k->lock);
    msh_rc rc = MSH_OK;
    if (k->latest && now_ms >= k->latest->t_ms && now_ms - k->latest->t_ms < max_age_ms)
        *out = msh_kpi_result_retain(k->latest);
    else
        rc = compute_locked(k, cat, live, g, now_ms, out, err);
    pthread_mutex_unlock(&k->lock);
    return rc;
}

/* ---- JSON ---- */

double msh_kpi_published(double v)
{
    if (!isfinite(v) || (v == floor(v) && fabs(v) < 1e15))
        return v;
    char s[32];
    snprintf(s, sizeof s, "%.6g", v);
    return strtod(s, NULL);
}

static void num(msh_buf *b, double v)
{
    if (!isfinite(v))
        msh_buf_printf(b, "null");
    else if (v == floor(v) && fabs(v) < 1e15)
        msh_buf_printf(b, "%.0f", v);
    else
        msh_buf_printf(b, "%.6g", v); /* the same digits as msh_kpi_published */
}

msh_rc msh_kpi_zone_json(const msh_kpi_zone *z, msh_buf *b)
{
    size_t start = b->len;
    const char *group = NULL;
    msh_buf_putc(b, '{');
    for (int i = 0; i < MSH_KPI_N; i++) {
        const msh_kpi_ind *d = &msh_kpi_inds[i];
        if (!group || strcmp(group, d->group)) {
            msh_buf_printf(b, "%s\"%s\":{", group ? "}," : "", d->group);
            group = d->group;
            if (!strcmp(group, "crowd")) {
                char los = msh_kpi_peak_los(z);
                if (los)
                    msh_buf_printf(b, "\"peak_los\":\"%c\",", los);
                else
                    msh_buf_printf(b, "\"peak_los\":null,");
            }
        } else {
            msh_buf_putc(b, ',');
        }
        msh_buf_printf(b, "\"%s\":", d->name);
        num(b, z->v[i]);
    }
    msh_rc rc = msh_buf_printf(b, "}}");
    if (rc)
        msh_buf_truncate(b, start);
    return rc;
}
