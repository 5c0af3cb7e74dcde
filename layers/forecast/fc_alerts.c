/* fc_alerts.c: forecast warnings with hysteresis (fc_alerts.h). State: one record per cell with a
 * standing warning, found through an index keyed by the cell; the list is a sorted copy of the records. */
#include "forecast/fc_alerts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_constants.h"
#include "core/msh_grow.h"
#include "core/msh_index.h"
#include "core/msh_tilemath.h"

typedef struct warn {
    uint32_t cx, cy;
    char level;
    int minutes;
    uint32_t seen; /* the step that last looked at it */
    float density, probability; /* at `minutes`, as of the step that last looked at it */
    int64_t raised_ms, updated_ms;
} warn;

struct msh_fc_alerts {
    msh_index ix; /* cell key -> index in w */
    warn *w;
    size_t n, cap;
    uint32_t step;
};

msh_fc_alerts *msh_fc_alerts_new(void)
{
    return calloc(1, sizeof(msh_fc_alerts));
}

void msh_fc_alerts_free(msh_fc_alerts *a)
{
    if (!a)
        return;
    msh_index_free(&a->ix);
    free(a->w);
    free(a);
}

size_t msh_fc_alerts_active(const msh_fc_alerts *a)
{
    return a->n;
}

/* A level-21 cell's fullest base cell per horizon, persons/m2. */
typedef struct cell21 {
    uint32_t cx, cy;
    float peak[MSH_FC_NH];
} cell21;

/* The horizons' base cells as level-21 cells: every base cell's density under (cx21 << 3 | h, cy21),
 * sorted (a cell's horizons side by side), then folded into one record per cell. */
static msh_rc fold(const msh_fc_grid grids[MSH_FC_NH], cell21 **out, size_t *nout)
{
    size_t n = 0;
    for (int h = 1; h < MSH_FC_NH; h++)
        n += grids[h].n;
    msh_fc_out *all = malloc((n + 1) * sizeof *all);
    cell21 *cs = malloc((n + 1) * sizeof *cs);
    if (!all || !cs) {
        free(all);
        free(cs);
        return MSH_ENOMEM;
    }
    size_t k = 0;
    for (int h = 1; h < MSH_FC_NH; h++)
        for (size_t i = 0; i < grids[h].n; i++) {
            const msh_fc_out *o = &grids[h].cells[i];
            double side = msh_fc_cell_side_m(o->cy);
            all[k++] = (msh_fc_out){(o->cx >> 1) << 3 | (uint32_t)h, o->cy >> 1, (float)(o->count / (side * side))};
        }
    msh_rc rc = msh_fc_sort(all, n);
    size_t nc = 0;
    for (size_t i = 0; i < n && !rc;) {
        cell21 *c = &cs[nc++];
        memset(c, 0, sizeof *c);
        c->cx = all[i].cx >> 3;
        c->cy = all[i].cy;
        while (i < n && all[i].cx >> 3 == c->cx && all[i].cy == c->cy) {
            int h = (int)(all[i].cx & 7);
            c->peak[h] = fmaxf(c->peak[h], all[i].count);
            i++;
        }
    }
    free(all);
    if (rc) {
        free(cs);
        return rc;
    }
    *out = cs;
    *nout = nc;
    return MSH_OK;
}

static void centre(uint32_t cx, uint32_t cy, double *lon, double *lat)
{
    double n = (double)(1u << MSH_FC_ALERT_LEVEL);
    msh_world_to_lonlat((cx + 0.5) / n, (cy + 0.5) / n, lon, lat);
}

static void drop(msh_fc_alerts *a, size_t i)
{
    msh_index_del(&a->ix, (uint64_t)a->w[i].cy << 32 | a->w[i].cx);
    a->w[i] = a->w[--a->n];
    if (i < a->n)
        msh_index_put(&a->ix, (uint64_t)a->w[i].cy << 32 | a->w[i].cx, (uint32_t)i); /* replaces: no allocation */
}

/* The density of c's fullest base cell at `minutes` and its chance of `level` there. */
static void at_horizon(const cell21 *c, char level, int minutes, float *density, float *probability)
{
    int h = msh_fc_horizon_index(minutes);
    double d = h > 0 ? c->peak[h] : 0, side = msh_fc_cell_side_m(c->cy << 1), area = side * side, pe, pf;
    msh_fc_prob(d * area, area, minutes, &pe, &pf);
    *density = (float)d;
    *probability = (float)(level == 'F' ? pf : pe);
}

static void nop(void *ud, const msh_fc_alert_change *c)
{
    (void)ud;
    (void)c;
}

msh_rc msh_fc_alerts_step(msh_fc_alerts *a, const msh_fc_grid grids[MSH_FC_NH], int64_t issued_ms, msh_fc_alert_fn fn,
                          void *ud)
{
    if (!fn)
        fn = nop;
    cell21 *cs = NULL;
    size_t nc = 0;
    msh_rc rc = fold(grids, &cs, &nc);
    if (rc)
        return rc;
    a->step++;
    for (size_t i = 0; i < nc && !rc; i++) {
        double peak = 0;
        char level = 0;
        int minutes = 0;
        double at = 0;
        for (int h = 1; h < MSH_FC_NH; h++) {
            double d = cs[i].peak[h];
            peak = fmax(peak, d);
            char l = d > MSH_FRUIN_E_MAX ? 'F' : d >= MSH_FRUIN_D_MAX ? 'E' : 0;
            if (l && (!level || (l == 'F' && level == 'E')))
                level = l, minutes = msh_fc_minutes[h], at = d;
        }
        uint64_t key = (uint64_t)cs[i].cy << 32 | cs[i].cx;
        uint32_t *slot = msh_index_get(&a->ix, key);
        msh_fc_alert_change ch = {cs[i].cx, cs[i].cy, 0, 0, 0, 0, 0, at};
        centre(cs[i].cx, cs[i].cy, &ch.lon, &ch.lat);
        if (slot) {
            warn *w = &a->w[*slot];
            w->seen = a->step;
            if (level && (level != w->level || minutes != w->minutes)) {
                ch.before = w->level;
                ch.after = level;
                ch.minutes = minutes;
                w->level = level;
                w->minutes = minutes;
                w->updated_ms = issued_ms;
                at_horizon(&cs[i], w->level, w->minutes, &w->density, &w->probability);
                fn(ud, &ch);
            } else if (!level && peak < MSH_ALERT_CLEAR_RATIO * MSH_FRUIN_D_MAX) {
                ch.before = w->level;
                ch.density = peak;
                drop(a, *slot);
                fn(ud, &ch);
            } else {
                at_horizon(&cs[i], w->level, w->minutes, &w->density, &w->probability);
            }
        } else if (level) {
            if ((rc = msh_grow_from((void **)&a->w, &a->cap, a->n + 1, sizeof *a->w, 64)))
                break;
            if ((rc = msh_index_put(&a->ix, key, (uint32_t)a->n)))
                break;
            warn *w = &a->w[a->n++];
            *w = (warn){cs[i].cx, cs[i].cy, level, minutes, a->step, 0, 0, issued_ms, issued_ms};
            at_horizon(&cs[i], level, minutes, &w->density, &w->probability);
            ch.after = level;
            ch.minutes = minutes;
            fn(ud, &ch);
        }
    }
    /* cells no longer in the forecast at all */
    for (size_t i = 0; i < a->n && !rc;) {
        if (a->w[i].seen == a->step) {
            i++;
            continue;
        }
        msh_fc_alert_change ch = {a->w[i].cx, a->w[i].cy, a->w[i].level, 0, 0, 0, 0, 0};
        centre(ch.cx, ch.cy, &ch.lon, &ch.lat);
        drop(a, i);
        fn(ud, &ch);
    }
    free(cs);
    return rc;
}

static int by_urgency(const void *x, const void *y)
{
    const msh_fc_warning *a = x, *b = y;
    if (a->level != b->level)
        return a->level == 'F' ? -1 : 1;
    if (a->minutes != b->minutes)
        return a->minutes < b->minutes ? -1 : 1;
    if (a->cy != b->cy)
        return a->cy < b->cy ? -1 : 1;
    return a->cx < b->cx ? -1 : a->cx > b->cx;
}

msh_rc msh_fc_alerts_list(const msh_fc_alerts *a, msh_fc_warning **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!a->n)
        return MSH_OK;
    msh_fc_warning *l = malloc(a->n * sizeof *l);
    if (!l)
        return MSH_ENOMEM;
    for (size_t i = 0; i < a->n; i++) {
        const warn *w = &a->w[i];
        l[i] = (msh_fc_warning){.cx = w->cx, .cy = w->cy, .level = w->level, .minutes = w->minutes,
                                .density = w->density, .probability = w->probability, .raised_ms = w->raised_ms,
                                .updated_ms = w->updated_ms};
        centre(w->cx, w->cy, &l[i].lon, &l[i].lat);
    }
    qsort(l, a->n, sizeof *l, by_urgency);
    *out = l;
    *n = a->n;
    return MSH_OK;
}
