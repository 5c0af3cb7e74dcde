/* track.c: the recent trail of every tracked person; the design is in track.h. */
#include "live/track.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_constants.h"
#include "core/msh_tilemath.h"

#define BLOCK_SHIFT 12
#define BLOCK_PEOPLE (1u << BLOCK_SHIFT)
#define GRID 16777216.0 /* 2^24 cells around the world */

typedef struct {
    uint64_t pt[MSH_TRACK_POINTS]; /* x << 40 | y << 16 | second mod 2^16, oldest first */
    uint32_t newest_s;             /* the full time of the newest point, seconds since 1970 */
    uint8_t n;
} trail;

struct msh_track {
    int hours;
    trail **blocks;
    size_t nblocks;
    uint64_t bytes;
};

msh_track *msh_track_new(int hours)
{
    if (hours < 1 || hours > MSH_TRACK_MAX_HOURS)
        return NULL;
    msh_track *t = calloc(1, sizeof *t);
    if (t)
        t->hours = hours;
    return t;
}

void msh_track_free(msh_track *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nblocks; i++)
        free(t->blocks[i]);
    free(t->blocks);
    free(t);
}

uint64_t msh_track_bytes(const msh_track *t) { return t ? t->bytes : 0; }

static trail *trail_of(const msh_track *t, uint32_t idx)
{
    size_t b = idx >> BLOCK_SHIFT;
    return b < t->nblocks && t->blocks[b] ? &t->blocks[b][idx & (BLOCK_PEOPLE - 1)] : NULL;
}

/* The trail of idx, its block allocated (zeroed) if new; NULL without memory. */
static trail *trail_make(msh_track *t, uint32_t idx)
{
    size_t b = idx >> BLOCK_SHIFT;
    if (b >= t->nblocks) {
        size_t nb = b + 1 > t->nblocks * 2 ? b + 1 : t->nblocks * 2;
        trail **p = realloc(t->blocks, nb * sizeof *p);
        if (!p)
            return NULL;
        memset(p + t->nblocks, 0, (nb - t->nblocks) * sizeof *p);
        t->blocks = p;
        t->nblocks = nb;
    }
    if (!t->blocks[b]) {
        if (!(t->blocks[b] = calloc(BLOCK_PEOPLE, sizeof(trail))))
            return NULL;
        t->bytes += (uint64_t)BLOCK_PEOPLE * sizeof(trail);
    }
    return &t->blocks[b][idx & (BLOCK_PEOPLE - 1)];
}

static uint32_t pt_x(uint64_t p) { return (uint32_t)(p >> 40); }
static uint32_t pt_y(uint64_t p) { return (uint32_t)(p >> 16) & 0xffffff; }

/* The full second of point p of trail tr. */
static int64_t pt_s(const trail *tr, uint64_t p)
{
    return (int64_t)tr->newest_s - (int64_t)(((tr->newest_s & 0xffff) - (uint32_t)(p & 0xffff)) & 0xffff);
}

static uint64_t pt_make(uint32_t x, uint32_t y, uint32_t s)
{
    return (uint64_t)x << 40 | (uint64_t)y << 16 | (s & 0xffff);
}

/* Metres between two grid points (the Mercator scale at their mean y). */
static double pt_metres(uint64_t a, uint64_t b)
{
    double ya = pt_y(a) / GRID, yb = pt_y(b) / GRID;
    double scale = MSH_EARTH_CIRCUMFERENCE / GRID / cosh(M_PI * (1 - (ya + yb)));
    return hypot((double)pt_x(a) - (double)pt_x(b), (double)pt_y(a) - (double)pt_y(b)) * scale;
}

static void drop_at(trail *tr, int i)
{
    memmove(&tr->pt[i], &tr->pt[i + 1], (size_t)(tr->n - i - 1) * sizeof tr->pt[0]);
    tr->n--;
}

/* Drop the inner point whose neighbours are closest in time for its age (now_s: the new point's). */
static void thin(trail *tr, int64_t now_s)
{
    int best = 1;
    double best_score = INFINITY;
    for (int i = 1; i + 1 < tr->n; i++) {
        double gap = (double)(pt_s(tr, tr->pt[i + 1]) - pt_s(tr, tr->pt[i - 1]));
        double score = gap / (double)(now_s - pt_s(tr, tr->pt[i]) + 1);
        if (score < best_score) {
            best_score = score;
            best = i;
        }
    }
    drop_at(tr, best);
}

void msh_track_add(msh_track *t, uint32_t idx, uint32_t wx, uint32_t wy, int64_t t_ms)
{
    if (t_ms < 0 || t_ms / 1000 > UINT32_MAX)
        return;
    trail *tr = trail_make(t, idx);
    if (!tr)
        return; /* no memory: the trail misses this point, the live state is unchanged */
    uint32_t s = (uint32_t)(t_ms / 1000);
    if (tr->n && s < tr->newest_s)
        return; /* the live store already refuses older records; seconds may still round back */
    /* leave the window: everything older than the new point's time minus the hours */
    int old = 0;
    while (old < tr->n && (int64_t)s - pt_s(tr, tr->pt[old]) > (int64_t)t->hours * 3600)
        old++;
    if (old) {
        memmove(tr->pt, tr->pt + old, (size_t)(tr->n - old) * sizeof tr->pt[0]);
        tr->n = (uint8_t)(tr->n - old);
    }
    uint64_t p = pt_make(wx >> 8, wy >> 8, s);
    if (tr->n >= 2 && pt_metres(p, tr->pt[tr->n - 1]) < MSH_TRACK_STILL_M &&
        pt_metres(tr->pt[tr->n - 1], tr->pt[tr->n - 2]) < MSH_TRACK_STILL_M) {
        tr->pt[tr->n - 1] = (tr->pt[tr->n - 1] & ~(uint64_t)0xffff) | (s & 0xffff); /* still here */
        tr->newest_s = s;
        return;
    }
    if (tr->n && pt_s(tr, tr->pt[tr->n - 1]) == s) {
        tr->pt[tr->n - 1] = p; /* the same second: the later record wins */
        tr->newest_s = s;
        return;
    }
    if (tr->n == MSH_TRACK_POINTS)
        thin(tr, s);
    tr->pt[tr->n++] = p;
    tr->newest_s = s;
}

int msh_track_get(const msh_track *t, uint32_t idx, int64_t since_ms, int64_t now_ms, msh_track_pt *out)
{
    const trail *tr = t ? trail_of(t, idx) : NULL;
    if (!tr)
        return 0;
    int64_t from_ms = now_ms - (int64_t)t->hours * 3600 * 1000;
    if (since_ms > from_ms)
        from_ms = since_ms;
    int k = 0;
    for (int i = 0; i < tr->n; i++) {
        int64_t ms = pt_s(tr, tr->pt[i]) * 1000;
        if (ms < from_ms)
            continue;
        /* the middle of the grid cell */
        msh_world_to_lonlat((pt_x(tr->pt[i]) + 0.5) / GRID, (pt_y(tr->pt[i]) + 0.5) / GRID, &out[k].lon, &out[k].lat);
        out[k++].t_ms = ms;
    }
    return k;
}
