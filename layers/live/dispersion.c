/* dispersion.c: group dispersion alerts; the design is in dispersion.h. The pass copies each
 * grouped person's group and place out of the live state a chunk at a time (COPY_CHUNK people per
 * hold of the read lock), then works on the copy with no lock: sums, centroids, and each member's
 * squared distance against the group's radius in world units (one metres-per-unit scale a group,
 * not a cosh and a hypot a person). */
#include "live/dispersion.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/msh_constants.h"
#include "core/msh_grow.h"
#include "core/msh_tilemath.h"
#include "live_int.h"

#define WORLD 4294967296.0
#define COPY_CHUNK 65536u

typedef struct {
    double sx, sy;       /* sums of world x, y (units of 2^-32) */
    double cx, cy;       /* the centroid */
    double max_m;        /* spread */
    double scale;        /* metres per world unit at the centroid */
    double max_d2;       /* the largest squared distance from the centroid, world units */
    double lim2;         /* the radius, squared, in world units at the centroid */
    uint32_t n, n_out;
    int64_t over_since;  /* when the spread went over the radius (0: it is not) */
    uint8_t raised, report;
} group_st;

struct msh_dispersion {
    double radius_m;
    group_st *g;
    size_t cap;
    uint32_t ng;
    msh_live_grouped *pos; /* the pass's copy of the grouped people */
    size_t cap_pos;
    double lock_ms, max_hold_ms; /* the last pass's copy: read lock held in all, longest hold */
};

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void msh_dispersion_lock_stats(const msh_dispersion *d, double *lock_ms, double *max_hold_ms)
{
    *lock_ms = d->lock_ms;
    *max_hold_ms = d->max_hold_ms;
}

msh_dispersion *msh_dispersion_new(double radius_m)
{
    msh_dispersion *d = calloc(1, sizeof *d);
    if (d)
        d->radius_m = radius_m;
    return d;
}

void msh_dispersion_free(msh_dispersion *d)
{
    if (!d)
        return;
    free(d->g);
    free(d->pos);
    free(d);
}

/* Metres per world unit (2^-32 of the world) at world y (x 2^32). */
static double metres_per_unit(double wy)
{
    return MSH_EARTH_CIRCUMFERENCE / WORLD / cosh(M_PI * (1 - 2 * wy / WORLD));
}

/* Publish the changes of one pass (the ids outside of raised groups gathered by a third scan, of
 * the people as they are now). Takes the live read lock; fn is called under it. */
static void report(msh_dispersion *d, msh_live *l, uint32_t nchanged, int64_t now_ms, msh_group_change_fn fn,
                   void *ud)
{
    msh_live_rdlock(l);
    uint32_t np = msh_live_raw_npeople(l);
    /* ids outside, per reported group: a flat table of MSH_GROUP_OUTSIDE_MAX copies each */
    typedef char idbuf[MSH_FEED_ID_MAX + 1];
    uint32_t *slot = calloc(d->ng, sizeof *slot); /* 1 + the group's row in the table, 0 = none */
    idbuf *ids = calloc((size_t)nchanged * MSH_GROUP_OUTSIDE_MAX, sizeof *ids);
    uint32_t *named = calloc(nchanged, sizeof *named);
    uint32_t rows = 0;
    if (slot && ids && named) {
        for (uint32_t gi = 0; gi < d->ng; gi++)
            if (d->g[gi].report && d->g[gi].raised)
                slot[gi] = ++rows;
        for (uint32_t i = 0; i < np && rows; i++) {
            msh_live_raw_person p;
            msh_live_raw_person_get(l, i, &p);
            if (!p.active || !p.group || p.group > d->ng || !slot[p.group - 1])
                continue;
            const group_st *g = &d->g[p.group - 1];
            uint32_t row = slot[p.group - 1] - 1;
            double dx = p.wx - g->cx, dy = p.wy - g->cy;
            if (dx * dx + dy * dy > g->lim2 && named[row] < MSH_GROUP_OUTSIDE_MAX) {
                memcpy(ids[(size_t)row * MSH_GROUP_OUTSIDE_MAX + named[row]], p.id, p.id_len);
                ids[(size_t)row * MSH_GROUP_OUTSIDE_MAX + named[row]][p.id_len] = 0;
                named[row]++;
            }
        }
    }
    for (uint32_t gi = 0; gi < d->ng; gi++) {
        group_st *g = &d->g[gi];
        if (!g->report)
            continue;
        g->report = 0;
        size_t gn;
        const char *gname = msh_live_raw_group(l, gi, &gn);
        char name[MSH_FEED_ID_MAX + 1];
        memcpy(name, gname, gn);
        name[gn] = 0;
        const char *list[MSH_GROUP_OUTSIDE_MAX];
        uint32_t row = slot && slot[gi] ? slot[gi] - 1 : UINT32_MAX, k = row != UINT32_MAX ? named[row] : 0;
        for (uint32_t j = 0; j < k; j++)
            list[j] = ids[(size_t)row * MSH_GROUP_OUTSIDE_MAX + j];
        msh_group_change c = {name, g->raised, g->max_m, d->radius_m, 0, 0, g->over_since, now_ms, g->n, g->n_out, k, list};
        msh_world_to_lonlat(g->cx / WORLD, g->cy / WORLD, &c.lon, &c.lat);
        if (!g->n)
            c.lon = c.lat = NAN;
        fn(ud, &c);
    }
    msh_live_unlock(l);
    free(slot);
    free(ids);
    free(named);
}

uint32_t msh_dispersion_pass(msh_dispersion *d, msh_live *l, int64_t now_ms, msh_group_change_fn fn, void *ud)
{
    msh_live_rdlock(l);
    uint32_t ng = msh_live_raw_ngroups(l), np = msh_live_raw_npeople(l);
    msh_live_unlock(l);
    if (!ng)
        return 0; /* no feed ever named a group: nothing to scan */
    if (ng > d->ng) {
        if (msh_grow((void **)&d->g, &d->cap, ng, sizeof *d->g))
            return 0; /* no memory: no pass this time, the states kept */
        memset(d->g + d->ng, 0, (ng - d->ng) * sizeof *d->g);
        d->ng = ng;
    }
    if (msh_grow((void **)&d->pos, &d->cap_pos, np ? np : 1, sizeof *d->pos))
        return 0;
    /* the copy, a chunk per hold of the read lock (people are only ever added, in order) */
    size_t n = 0;
    d->lock_ms = d->max_hold_ms = 0;
    for (uint32_t from = 0; from < np; from += COPY_CHUNK) {
        msh_live_rdlock(l);
        double t0 = mono_ms();
        n += msh_live_raw_grouped(l, from, np - from < COPY_CHUNK ? np - from : COPY_CHUNK, d->pos + n);
        double held = mono_ms() - t0;
        msh_live_unlock(l);
        d->lock_ms += held;
        d->max_hold_ms = held > d->max_hold_ms ? held : d->max_hold_ms;
    }
    for (uint32_t gi = 0; gi < ng; gi++) {
        group_st *g = &d->g[gi];
        g->sx = g->sy = g->max_m = g->max_d2 = 0;
        g->n = g->n_out = 0;
    }
    for (size_t i = 0; i < n; i++) {
        const msh_live_grouped *p = &d->pos[i];
        if (p->group > ng)
            continue; /* a group named after the pass began */
        group_st *g = &d->g[p->group - 1];
        g->sx += p->wx;
        g->sy += p->wy;
        g->n++;
    }
    for (uint32_t gi = 0; gi < ng; gi++) {
        group_st *g = &d->g[gi];
        if (g->n) {
            g->cx = g->sx / g->n;
            g->cy = g->sy / g->n;
            g->scale = metres_per_unit(g->cy);
            g->lim2 = (d->radius_m / g->scale) * (d->radius_m / g->scale);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const msh_live_grouped *p = &d->pos[i];
        if (p->group > ng)
            continue;
        group_st *g = &d->g[p->group - 1];
        double dx = p->wx - g->cx, dy = p->wy - g->cy, d2 = dx * dx + dy * dy;
        if (d2 > g->max_d2)
            g->max_d2 = d2;
        g->n_out += d2 > g->lim2;
    }
    for (uint32_t gi = 0; gi < ng; gi++)
        d->g[gi].max_m = sqrt(d->g[gi].max_d2) * d->g[gi].scale;
    uint32_t changed = 0;
    for (uint32_t gi = 0; gi < ng; gi++) {
        group_st *g = &d->g[gi];
        bool over = g->n >= 2 && g->max_m > d->radius_m;
        if (over && !g->over_since)
            g->over_since = now_ms ? now_ms : 1;
        if (!over)
            g->over_since = 0;
        bool raise = !g->raised && over && now_ms - g->over_since >= (int64_t)MSH_GROUP_HOLD_S * 1000;
        bool clear = g->raised && (g->n < 2 || g->max_m < d->radius_m * MSH_ALERT_CLEAR_RATIO);
        if (raise || clear) {
            g->raised = raise;
            g->report = 1;
            changed++;
        }
    }
    if (changed && fn)
        report(d, l, changed, now_ms, fn, ud);
    else
        for (uint32_t gi = 0; gi < ng; gi++)
            d->g[gi].report = 0;
    return changed;
}
