/* geofence.c: zone and camp rasters, and the crossings of a move (geofence.h). */
#include "live/geofence.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_tilemath.h"
#include "core/msh_pip.h"

#define LEVEL 22
#define MAX_CELLS ((uint64_t)64 << 20) /* a raster never takes more than 128 MB per kind */

typedef struct {
    uint32_t x0, y0, nx, ny; /* base-grid cells covered */
    uint16_t *cells;         /* index + 1 into names, 0 = outside */
    char **names;
    uint32_t nnames;
} raster;

struct msh_fences {
    raster r[2]; /* 0 zones, 1 camps */
};

typedef struct {
    double *xy; /* world units, all rings */
    uint32_t *parts;
    uint32_t nparts;
    double bb[4];
    char *name;
} poly;

typedef struct {
    poly *v;
    size_t n, cap;
    int name_field;
} poly_list;

static int collect(void *ud, const msh_feature *f)
{
    poly_list *pl = ud;
    if (f->geom.type != MSH_GT_POLYGON || pl->n == 65534)
        return 0;
    if (msh_grow_from((void **)&pl->v, &pl->cap, pl->n + 1, sizeof *pl->v, 64))
        return 1;
    poly *p = &pl->v[pl->n];
    p->xy = malloc(sizeof(double) * 2 * f->geom.npts);
    p->parts = malloc(sizeof(uint32_t) * f->geom.nparts);
    if (!p->xy || !p->parts) {
        free(p->xy);
        free(p->parts);
        return 1;
    }
    memcpy(p->xy, f->geom.xy, sizeof(double) * 2 * f->geom.npts);
    memcpy(p->parts, f->geom.parts, sizeof(uint32_t) * f->geom.nparts);
    p->nparts = f->geom.nparts;
    p->bb[0] = p->bb[1] = INFINITY;
    p->bb[2] = p->bb[3] = -INFINITY;
    for (uint32_t i = 0; i < f->geom.npts; i++) {
        p->bb[0] = fmin(p->bb[0], p->xy[2 * i]);
        p->bb[1] = fmin(p->bb[1], p->xy[2 * i + 1]);
        p->bb[2] = fmax(p->bb[2], p->xy[2 * i]);
        p->bb[3] = fmax(p->bb[3], p->xy[2 * i + 1]);
    }
    char buf[80];
    const msh_value *v = pl->name_field >= 0 ? &f->values[pl->name_field] : NULL;
    if (v && v->type == MSH_FT_STRING)
        snprintf(buf, sizeof buf, "%.*s", (int)(v->len < 79 ? v->len : 79), v->u.s);
    else
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)f->id);
    p->name = strdup(buf);
    if (!p->name)
        return 1;
    pl->n++;
    return 0;
}

/* Even-odd test of (x, y) against every ring of p. */
static bool inside(const poly *p, double x, double y)
{
    bool in = false;
    uint32_t off = 0;
    for (uint32_t k = 0; k < p->nparts; k++) {
        uint32_t n = MSH_PART_LEN(p->parts[k]);
        in ^= msh_ring_odd(p->xy + 2 * (size_t)off, n, x, y);
        off += n;
    }
    return in;
}

static void build_raster(raster *ras, const msh_catalog *cat, const char *layer, const char *field)
{
    memset(ras, 0, sizeof *ras);
    msh_layer *l = msh_catalog_find(cat, layer, strlen(layer));
    if (!l)
        return;
    poly_list pl = {NULL, 0, 0, -1};
    for (uint32_t i = 0; i < l->info.nfields; i++)
        if (!strcmp(l->info.fields[i].name, field))
            pl.name_field = (int)i;
    double world[4] = {0, 0, 1, 1};
    l->vt->query(l, world, LEVEL, collect, &pl);
    double bb[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < pl.n; i++) {
        bb[0] = fmin(bb[0], pl.v[i].bb[0]);
        bb[1] = fmin(bb[1], pl.v[i].bb[1]);
        bb[2] = fmax(bb[2], pl.v[i].bb[2]);
        bb[3] = fmax(bb[3], pl.v[i].bb[3]);
    }
    double n = (double)(1u << LEVEL);
    if (pl.n) {
        ras->x0 = (uint32_t)floor(bb[0] * n);
        ras->y0 = (uint32_t)floor(bb[1] * n);
        ras->nx = (uint32_t)floor(bb[2] * n) - ras->x0 + 1;
        ras->ny = (uint32_t)floor(bb[3] * n) - ras->y0 + 1;
    }
    if (pl.n && (uint64_t)ras->nx * ras->ny <= MAX_CELLS && (ras->cells = calloc((size_t)ras->nx * ras->ny, 2)) &&
        (ras->names = calloc(pl.n, sizeof *ras->names))) {
        for (size_t i = 0; i < pl.n; i++) {
            const poly *p = &pl.v[i];
            ras->names[i] = p->name;
            p = &pl.v[i];
            uint32_t cx0 = (uint32_t)floor(p->bb[0] * n), cy0 = (uint32_t)floor(p->bb[1] * n);
            uint32_t cx1 = (uint32_t)floor(p->bb[2] * n), cy1 = (uint32_t)floor(p->bb[3] * n);
            for (uint32_t cy = cy0; cy <= cy1; cy++)
                for (uint32_t cx = cx0; cx <= cx1; cx++)
                    if (inside(p, (cx + 0.5) / n, (cy + 0.5) / n))
                        ras->cells[(size_t)(cy - ras->y0) * ras->nx + (cx - ras->x0)] = (uint16_t)(i + 1);
        }
        ras->nnames = (uint32_t)pl.n;
    } else {
        for (size_t i = 0; i < pl.n; i++)
            free(pl.v[i].name);
        free(ras->cells);
        ras->cells = NULL;
        ras->nx = ras->ny = 0;
    }
    for (size_t i = 0; i < pl.n; i++) {
        free(pl.v[i].xy);
        free(pl.v[i].parts);
    }
    free(pl.v);
}

msh_fences *msh_fences_build(const msh_catalog *cat)
{
    msh_fences *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    build_raster(&f->r[0], cat, "service_zones", "zone_id");
    build_raster(&f->r[1], cat, "camps", "camp_id");
    return f;
}

void msh_fences_free(msh_fences *f)
{
    if (!f)
        return;
    for (int k = 0; k < 2; k++) {
        for (uint32_t i = 0; i < f->r[k].nnames; i++)
            free(f->r[k].names[i]);
        free(f->r[k].names);
        free(f->r[k].cells);
    }
    free(f);
}

static uint16_t lookup(const raster *r, uint32_t wx, uint32_t wy)
{
    if (!r->cells)
        return 0;
    uint32_t cx = wx >> (32 - LEVEL), cy = wy >> (32 - LEVEL);
    if (cx < r->x0 || cy < r->y0 || cx - r->x0 >= r->nx || cy - r->y0 >= r->ny)
        return 0;
    return r->cells[(size_t)(cy - r->y0) * r->nx + (cx - r->x0)];
}

const char *msh_fences_at(const msh_fences *f, int kind, double lon, double lat)
{
    double wx, wy;
    msh_lonlat_to_world(lon, lat, &wx, &wy);
    uint16_t i = lookup(&f->r[kind], (uint32_t)(wx * 4294967296.0), (uint32_t)(wy * 4294967296.0));
    return i ? f->r[kind].names[i - 1] : NULL;
}

void msh_fences_crossings(const msh_fences *f, bool had_old, uint32_t owx, uint32_t owy, uint32_t nwx, uint32_t nwy,
                          msh_fence_fn fn, void *ud)
{
    if (!f)
        return;
    for (int k = 0; k < 2; k++) {
        uint16_t a = had_old ? lookup(&f->r[k], owx, owy) : 0, b = lookup(&f->r[k], nwx, nwy);
        if (a == b)
            continue;
        if (a)
            fn(ud, k, f->r[k].names[a - 1], false);
        if (b)
            fn(ud, k, f->r[k].names[b - 1], true);
    }
}
