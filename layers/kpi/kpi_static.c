/* kpi_static.c: the static side of the KPIs, prepared once per layer version: zones, camps, assets, route pieces. */
/*
 * Zones are found by point-in-polygon (even-odd over every ring) behind a 64 x 64 bucket grid of
 * zone boxes, so a cell costs a bucket read and one or two ring tests. Camps, assets and route
 * pieces keep the index of their zone, so a change of the zones prepares them all again.
 */
#include "kpi_int.h"
#include "core/msh_pip.h"

#include <stdio.h>
#include <string.h>

#define PIECE_M 10.0 /* cleaning routes are cut into pieces of at most this */
#define GRID 64

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

static bool in_zone(const zone_t *z, double x, double y)
{
    if (x < z->bb[0] || x > z->bb[2] || y < z->bb[1] || y > z->bb[3])
        return false;
    bool in = false;
    const double *p = z->xy;
    for (uint32_t r = 0; r < z->nparts; r++) {
        uint32_t n = z->parts[r];
        in ^= msh_ring_odd(p, n, x, y);
        p += 2 * n;
    }
    return in;
}

/* The zone containing world point (x, y), or -1. */
int kpi_zone_at(const msh_kpi *k, double x, double y)
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

void kpi_zones_clear(msh_kpi *k)
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
    int f_id, f_name, f_cap;
    size_t cap;
    int fail;
} zone_job;

static int add_zone(void *ud, const msh_feature *f)
{
    zone_job *j = ud;
    msh_kpi *k = j->k;
    if (f->geom.type != MSH_GT_POLYGON || !f->geom.npts)
        return 0;
    if (msh_grow_from((void **)&k->zones, &j->cap, k->nzones + 1, sizeof *k->zones, 32))
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
    double cap = value_num(f, j->f_cap);
    z->capacity = isfinite(cap) && cap > 0 ? cap : 0;
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
    kpi_zones_clear(k);
    k->cov_valid = false;
    k->camps_layer = k->assets_layer = k->routes_layer = NULL; /* their zones are indices: redo */
    if (!zl)
        return MSH_OK;
    int f_cap = field_index(zl, "population_capacity");
    zone_job j = {k, field_index(zl, "zone_id"), field_index(zl, "name"), f_cap >= 0 ? f_cap : field_index(zl, "capacity"),
                  0, 0};
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
    int f_site; /* assets only */
} item_job;

static int add_camp(void *ud, const msh_feature *f)
{
    item_job *j = ud;
    msh_kpi *k = j->k;
    if (!f->geom.npts)
        return 0;
    if (msh_grow_from((void **)&k->camps, &j->cap, k->ncamps + 1, sizeof *k->camps, 256))
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
    value_str(f, j->f_id, c->id, sizeof c->id);
    if (!c->id[0])
        snprintf(c->id, sizeof c->id, "%llu", (unsigned long long)f->id);
    char zid[65];
    value_str(f, j->f_zone, zid, sizeof zid);
    c->zone = zid[0] ? zone_by_id(k, zid) : -1;
    if (c->zone < 0)
        c->zone = kpi_zone_at(k, c->wx, c->wy);
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
    item_job j = {k, field_index(cl, "zone_id"), field_index(cl, "capacity"), -1, -1, field_index(cl, "camp_id"),
                  field_index(cl, "entrance_lon"), field_index(cl, "entrance_lat"), 0, 0, 0, -1};
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
        zone = kpi_zone_at(k, f->geom.xy[0], f->geom.xy[1]);
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
        if (msh_grow_from((void **)&k->svc, &j->cap, k->nsvc + 1, sizeof *k->svc, 256))
            return j->fail = 1;
        svc_t *s = &k->svc[k->nsvc++];
        msh_world_to_lonlat(f->geom.xy[0], f->geom.xy[1], &s->lon, &s->lat);
        s->kind = sk;
    }
    if (!strcmp(kind, "gate")) {
        if (msh_grow_from((void **)&k->gates, &j->cap2, k->ngates + 1, sizeof *k->gates, 64))
            return j->fail = 1;
        gate_t *g = &k->gates[k->ngates++];
        value_str(f, j->f_id, g->id, sizeof g->id);
        value_str(f, j->f_site, g->site, sizeof g->site);
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
                  field_index(al, "status"), field_index(al, "asset_id"), -1, -1, 0, 0, 0, field_index(al, "site")};
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
            double len = hypot(bx - ax, by - ay) * kpi_scale_at((ay + by) / 2);
            if (!(len > 0))
                continue;
            uint32_t np = (uint32_t)ceil(len / PIECE_M);
            for (uint32_t q = 0; q < np; q++) {
                if (msh_grow_from((void **)&k->pieces, &j->cap, k->npieces + 1, sizeof *k->pieces, 4096))
                    return j->fail = 1;
                piece_t *pc = &k->pieces[k->npieces++];
                double t = (q + 0.5) / np;
                pc->wx = ax + (bx - ax) * t;
                pc->wy = ay + (by - ay) * t;
                pc->ax = ax + (bx - ax) * q / np;
                pc->ay = ay + (by - ay) * q / np;
                pc->bx = ax + (bx - ax) * (q + 1) / np;
                pc->by = ay + (by - ay) * (q + 1) / np;
                pc->gkey = kpi_piece_key(pc->ax, pc->ay, pc->bx, pc->by);
                pc->crew = -1;
                pc->task = 0;
                pc->len_m = len / np;
                pc->zone = kpi_zone_at(k, pc->wx, pc->wy);
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

static msh_rc prepare_routes(msh_kpi *k, const msh_layer *rl, msh_err *err)
{
    if (rl == k->routes_layer && (!rl || rl->info.version == k->routes_ver))
        return MSH_OK;
    for (size_t i = 0; i < k->npieces; i++) /* cut again (new routes, new zones): keep what was swept */
        if (k->pieces[i].last_ms)
            kpi_push_mark(k, k->pieces[i].gkey, k->pieces[i].last_ms, k->pieces[i].crew, k->pieces[i].task);
    k->tasks_stale = true; /* the tasks' pieces are indices */
    k->sweep_ver++;
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
    k->resave = true; /* the saved sweeps are written anew: those of pieces gone are dropped */
    return MSH_OK;
}

static msh_layer *find_layer(const msh_catalog *cat, const char *name)
{
    msh_layer *l = cat ? msh_catalog_find(cat, name, strlen(name)) : NULL;
    return l && !strcmp(l->info.kind, "static") ? l : NULL;
}

msh_rc kpi_prepare(msh_kpi *k, const msh_catalog *cat, msh_err *err)
{
    msh_rc rc;
    if ((rc = prepare_zones(k, find_layer(cat, "service_zones"), err)) ||
        (rc = prepare_camps(k, find_layer(cat, "camps"), err)) ||
        (rc = prepare_assets(k, find_layer(cat, "assets"), err)) ||
        (rc = prepare_routes(k, find_layer(cat, MSH_CT_ROUTES_LAYER), err)) ||
        (rc = kpi_prepare_tasks(k, find_layer(cat, MSH_CT_LAYER), err)))
        return rc;
    return MSH_OK;
}
