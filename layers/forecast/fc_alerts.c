/* fc_alerts.c: forecast warnings with hysteresis (fc_alerts.h). State: one record per cell with a
 * standing warning, found through an index keyed by the cell. */
#include "forecast/fc_alerts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_constants.h"
#include "core/msh_tilemath.h"

typedef struct warn {
    uint32_t cx, cy;
    char level;
    int minutes;
    uint32_t seen; /* the step that last looked at it */
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

msh_rc msh_fc_alerts_step(msh_fc_alerts *a, const msh_fc_grid grids[MSH_FC_NH], msh_fc_alert_fn fn, void *ud)
{
    /* sum the horizons into level-21 cells */
    msh_index cix;
    msh_index_init(&cix);
    cell21 *cs = NULL;
    size_t nc = 0, cap = 0;
    msh_rc rc = MSH_OK;
    for (int h = 1; h < MSH_FC_NH && !rc; h++)
        for (size_t i = 0; i < grids[h].n && !rc; i++) {
            const msh_fc_out *o = &grids[h].cells[i];
            uint64_t key = (uint64_t)(o->cy >> 1) << 32 | (o->cx >> 1);
            uint32_t *slot = msh_index_get(&cix, key);
            if (!slot) {
                if (nc == cap) {
                    cap = cap ? 2 * cap : 1024;
                    cell21 *n2 = realloc(cs, cap * sizeof *n2);
                    if (!n2) {
                        rc = MSH_ENOMEM;
                        break;
                    }
                    cs = n2;
                }
                if ((rc = msh_index_put(&cix, key, (uint32_t)nc)))
                    break;
                memset(&cs[nc], 0, sizeof cs[nc]);
                cs[nc].cx = o->cx >> 1;
                cs[nc].cy = o->cy >> 1;
                slot = msh_index_get(&cix, key);
                nc++;
            }
            double side = msh_fc_cell_side_m(o->cy);
            cs[*slot].peak[h] = fmaxf(cs[*slot].peak[h], (float)(o->count / (side * side)));
        }
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
                fn(ud, &ch);
            } else if (!level && peak < MSH_ALERT_CLEAR_RATIO * MSH_FRUIN_D_MAX) {
                ch.before = w->level;
                ch.density = peak;
                drop(a, *slot);
                fn(ud, &ch);
            }
        } else if (level) {
            if (a->n == a->cap) {
                size_t c2 = a->cap ? 2 * a->cap : 64;
                warn *w2 = realloc(a->w, c2 * sizeof *w2);
                if (!w2) {
                    rc = MSH_ENOMEM;
                    break;
                }
                a->w = w2;
                a->cap = c2;
            }
            if ((rc = msh_index_put(&a->ix, key, (uint32_t)a->n)))
                break;
            a->w[a->n++] = (warn){cs[i].cx, cs[i].cy, level, minutes, a->step};
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
    msh_index_free(&cix);
    free(cs);
    return rc;
}
