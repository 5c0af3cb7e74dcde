/* open_ground.c: people walking where no walkway is mapped (open_ground.h). */
#include "forecast/open_ground.h"

#include <math.h>
#include <stdlib.h>

#include "core/msh_grow.h"

#define CELLS ((double)(1u << MSH_FC_LEVEL))

void msh_fc_open_init(msh_fc_open *o, double dt_s, double spread)
{
    o->w = NULL;
    o->by_join = NULL;
    o->n = o->cap = o->njoin = o->next = 0;
    o->dt_s = dt_s;
    o->spread = spread;
}

void msh_fc_open_free(msh_fc_open *o)
{
    free(o->w);
    free(o->by_join);
    msh_fc_open_init(o, o->dt_s, o->spread);
}

msh_rc msh_fc_open_add(msh_fc_open *o, uint32_t cx, uint32_t cy, float vx, float vy, float n, double max_speed)
{
    double sp = hypot(vx, vy);
    if (!(n > 0) || !(sp > 0))
        return MSH_OK;
    msh_rc rc = msh_grow((void **)&o->w, &o->cap, o->n + 1, sizeof *o->w);
    if (rc)
        return rc;
    double lon, lat, f = fmin(1.0, max_speed / sp), fx, fy, gx, gy, kx, ky;
    msh_fc_cell_centre(cx, cy, &lon, &lat);
    msh_fc_m_per_deg(lat, &kx, &ky);
    msh_fc_cell_frac(lon, lat, &fx, &fy);
    msh_fc_cell_frac(lon + vx * f * o->dt_s / kx, lat + vy * f * o->dt_s / ky, &gx, &gy);
    o->w[o->n++] = (msh_fc_walker){fx, fy, gx - fx, gy - fy, (float)(vx * f), (float)(vy * f), n, MSH_FC_NEVER, 0, 0};
    return MSH_OK;
}

/* The cells the segment from (x0, y0) to (x0 + dx, y0 + dy) (in cells) crosses, in order, each with
 * the parameters (0..1) where it enters and leaves it: `cell` returns false to stop. */
typedef bool (*cell_fn)(void *ctx, uint32_t cx, uint32_t cy, double t0, double t1);

static inline __attribute__((always_inline)) void cross(double x0, double y0, double dx, double dy, cell_fn cell,
                                                        void *ctx)
{
    double cx = floor(x0), cy = floor(y0);
    int sx = dx > 0 ? 1 : -1, sy = dy > 0 ? 1 : -1;
    double tdx = dx != 0 ? fabs(1.0 / dx) : INFINITY, tdy = dy != 0 ? fabs(1.0 / dy) : INFINITY;
    double tx = dx != 0 ? ((dx > 0 ? cx + 1 - x0 : x0 - cx) * tdx) : INFINITY;
    double ty = dy != 0 ? ((dy > 0 ? cy + 1 - y0 : y0 - cy) * tdy) : INFINITY;
    double t = 0;
    while (t < 1) {
        double t1 = fmin(1.0, fmin(tx, ty));
        if (cx >= 0 && cx < CELLS && cy >= 0 && cy < CELLS && !cell(ctx, (uint32_t)cx, (uint32_t)cy, t, t1))
            return; /* (cells off the world are passed over) */
        t = t1;
        if (tx <= ty)
            cx += sx, tx += tdx;
        else
            cy += sy, ty += tdy;
    }
}

struct plan_ctx {
    msh_fc_walker *w;
    msh_fc_join_fn join;
    void *ctx;
    double steps;
    bool first;
};

static bool plan_cell(void *ctx, uint32_t cx, uint32_t cy, double t0, double t1)
{
    struct plan_ctx *p = ctx;
    if (p->first) { /* the cell they are seen in: they are not on a walkway there */
        p->first = false;
        return true;
    }
    if (!(t1 > t0))
        return true; /* a corner the line only touches */
    uint32_t where;
    uint8_t how;
    if (!p->join(p->ctx, cx, cy, p->w->vx, p->w->vy, &where, &how))
        return true;
    double at = ceil(t0 * p->steps);
    p->w->join_at = at < 1 ? 1 : (uint32_t)at; /* the first step boundary inside the cell */
    p->w->where = where;
    p->w->how = how;
    return false;
}

static int by_step(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

msh_rc msh_fc_open_plan(msh_fc_open *o, uint32_t steps, msh_fc_join_fn join, void *ctx)
{
    free(o->by_join);
    o->njoin = o->next = 0;
    if (!(o->by_join = malloc((o->n + 1) * sizeof *o->by_join)))
        return MSH_ENOMEM;
    for (size_t i = 0; i < o->n; i++) {
        msh_fc_walker *w = &o->w[i];
        struct plan_ctx p = {w, join, ctx, steps, true};
        w->join_at = MSH_FC_NEVER;
        cross(w->fx, w->fy, w->dx * steps, w->dy * steps, plan_cell, &p);
        if (w->join_at != MSH_FC_NEVER)
            o->by_join[o->njoin++] = (uint64_t)w->join_at << 32 | (uint64_t)i;
    }
    qsort(o->by_join, o->njoin, sizeof *o->by_join, by_step);
    return MSH_OK;
}

void msh_fc_open_arrivals(msh_fc_open *o, uint32_t step, msh_fc_arrive_fn arrive, void *ctx)
{
    for (; o->next < o->njoin && (uint32_t)(o->by_join[o->next] >> 32) <= step; o->next++) {
        const msh_fc_walker *w = &o->w[(uint32_t)o->by_join[o->next]];
        arrive(ctx, w->where, w->how, w->n);
    }
}

struct draw_ctx {
    msh_fc_acc *acc;
    float n;
    msh_rc rc;
};

static bool draw_cell(void *ctx, uint32_t cx, uint32_t cy, double t0, double t1)
{
    struct draw_ctx *d = ctx;
    if (t1 > t0)
        d->rc = msh_fc_acc_add(d->acc, cx, cy, d->n * (float)(t1 - t0));
    return !d->rc;
}

msh_rc msh_fc_open_draw(const msh_fc_open *o, uint32_t step, msh_fc_acc *acc)
{
    msh_rc rc = MSH_OK;
    for (size_t i = 0; i < o->n && !rc; i++) {
        const msh_fc_walker *w = &o->w[i];
        if (w->join_at <= step)
            continue;
        double x = w->fx + w->dx * step, y = w->fy + w->dy * step, a = o->spread * step;
        if (!(a > 0) || !(x >= 0 && x < CELLS && y >= 0 && y < CELLS)) {
            if (x >= 0 && x < CELLS && y >= 0 && y < CELLS)
                rc = msh_fc_acc_add(acc, (uint32_t)x, (uint32_t)y, w->n);
            continue;
        }
        struct draw_ctx d = {acc, w->n, MSH_OK};
        cross(x - a * w->dx, y - a * w->dy, 2 * a * w->dx, 2 * a * w->dy, draw_cell, &d);
        rc = d.rc;
    }
    return rc;
}

double msh_fc_open_people(const msh_fc_open *o, uint32_t step)
{
    double t = 0;
    for (size_t i = 0; i < o->n; i++)
        if (o->w[i].join_at > step)
            t += o->w[i].n;
    return t;
}
