/* flow.c: flow cells from movement cells (flow.h): sort by the flow cell each falls in, then one
 * pass per group. The counter-flow test compares the moving cells of a group pairwise (at most
 * 64 of them: 2,016 dot products). */
#include "flow.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    uint64_t key; /* (cy << 32 | cx) of the flow cell */
    const msh_live_cell *c;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    uint64_t x = ((const keyed *)a)->key, y = ((const keyed *)b)->key;
    return (x > y) - (x < y);
}

/* Do two of the moving cells in g[0..n) head more than 135 degrees apart? *axis gets the heading of
 * the first of the two (the line the streams meet on). */
static bool counter_flow(const keyed *g, size_t n, double *axis)
{
    const double cos135 = -0.70710678118654752;
    for (size_t i = 0; i < n; i++) {
        const msh_live_cell *a = g[i].c;
        double sa = hypot(a->mean_vx, a->mean_vy);
        if (sa < MSH_FLOW_MIN_SPEED)
            continue;
        for (size_t j = i + 1; j < n; j++) {
            const msh_live_cell *b = g[j].c;
            double sb = hypot(b->mean_vx, b->mean_vy);
            if (sb >= MSH_FLOW_MIN_SPEED && (a->mean_vx * b->mean_vx + a->mean_vy * b->mean_vy) / (sa * sb) < cos135) {
                double h = atan2(a->mean_vx, a->mean_vy) * 180.0 / M_PI;
                *axis = h < 0 ? h + 360 : h;
                return true;
            }
        }
    }
    return false;
}

msh_rc msh_flow_gather(const msh_live_cell *cells, size_t n, msh_flow_cell **out, size_t *nout, msh_err *err)
{
    *out = NULL;
    *nout = 0;
    if (!n)
        return MSH_OK;
    keyed *k = malloc(n * sizeof *k);
    msh_flow_cell *f = malloc(n * sizeof *f); /* never more flow cells than cells */
    if (!k || !f) {
        free(k);
        free(f);
        return msh_err_set(err, MSH_ENOMEM, "flow: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        k[i] = (keyed){(uint64_t)(cells[i].cy >> MSH_FLOW_SHIFT) << 32 | (cells[i].cx >> MSH_FLOW_SHIFT), &cells[i]};
    qsort(k, n, sizeof *k, cmp_keyed);
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        msh_flow_cell *c = &f[m++];
        *c = (msh_flow_cell){k[i].c->level - MSH_FLOW_SHIFT, (uint32_t)k[i].key, (uint32_t)(k[i].key >> 32), 0, 0, 0,
                             false, NAN};
        for (; j < n && k[j].key == k[i].key; j++) {
            c->count += k[j].c->count;
            c->vx += k[j].c->mean_vx * k[j].c->count;
            c->vy += k[j].c->mean_vy * k[j].c->count;
        }
        if (c->count) {
            c->vx /= (double)c->count;
            c->vy /= (double)c->count;
        }
        c->counter = counter_flow(k + i, j - i, &c->axis);
        i = j;
    }
    free(k);
    *out = f;
    *nout = m;
    return MSH_OK;
}
