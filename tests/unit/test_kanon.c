/* test_kanon.c: layers/live/kanon.c: the k-anonymity rule, and the pyramid of shown cells checked
 * against its promises on a random crowd: no shown count under k, no difference under k between a
 * cell and the shown cells inside it at any finer level, what a cell shows independent of the box
 * asked for, and statistics over the shown people only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/msh_tilemath.h"
#include "core/msh_time.h"
#include "live/kanon.h"
#include "live/live.h"

#define K 5
#define SPAN 64 /* base cells a side of the test area */

typedef struct {
    int level;
    uint32_t ox, oy, n; /* the area at this level: n x n cells from (ox, oy) */
    uint32_t *count;    /* shown count per cell */
    double *vx;
    int calls, bad_level;
} grid;

static int on_cell(void *ud, const msh_live_cell *c)
{
    grid *g = ud;
    g->calls++;
    if ((int)c->level != g->level) g->bad_level++;
    if (c->cx < g->ox || c->cy < g->oy || c->cx - g->ox >= g->n || c->cy - g->oy >= g->n) return 0;
    size_t i = (size_t)(c->cy - g->oy) * g->n + (c->cx - g->ox);
    g->count[i] = c->count;
    g->vx[i] = c->mean_vx;
    return 0;
}

static void fetch(msh_live *live, int level, uint32_t bx0, uint32_t by0, uint32_t span, grid *g)
{
    int shift = 22 - level;
    g->level = level;
    g->ox = bx0 >> shift;
    g->oy = by0 >> shift;
    g->n = ((bx0 + span - 1) >> shift) - g->ox + 1;
    g->count = calloc((size_t)g->n * g->n, sizeof *g->count);
    g->vx = calloc((size_t)g->n * g->n, sizeof *g->vx);
    g->calls = g->bad_level = 0;
    double n22 = ldexp(1.0, 22);
    double box[4] = {bx0 / n22, by0 / n22, (bx0 + span - 0.5) / n22, (by0 + span - 0.5) / n22};
    msh_err err;
    CHECK(msh_kanon_cells(live, level, box, K, on_cell, g, &err) == MSH_OK);
    CHECK(g->bad_level == 0);
}

static void grid_free(grid *g)
{
    free(g->count);
    free(g->vx);
}

static void put(msh_live *live, const char *id, uint32_t cx, uint32_t cy, float heading, int64_t t)
{
    msh_feed_rec r;
    memset(&r, 0, sizeof r);
    r.id_len = (uint8_t)snprintf(r.id, sizeof r.id, "%s", id);
    double n22 = ldexp(1.0, 22);
    msh_world_to_lonlat((cx + 0.5) / n22, (cy + 0.5) / n22, &r.lon, &r.lat);
    r.t_ms = t;
    r.speed = 1.0f;
    r.heading = heading;
    r.has = MSH_FR_LOC | MSH_FR_SPEED | MSH_FR_HEADING;
    msh_live_wrlock(live);
    msh_live_apply(live, MSH_FEED_POSITIONS, &r, 1, t);
    msh_live_unlock(live);
}

int main(void)
{
    msh_err err;
    msh_live *live;
    /* the rule */
    CHECK(msh_kanon_shown(0, 0, K) == 0);
    CHECK(msh_kanon_shown(1, 0, K) == 0);
    CHECK(msh_kanon_shown(4, 0, K) == 0);
    CHECK(msh_kanon_shown(5, 0, K) == 5);
    CHECK(msh_kanon_shown(7, 6, K) == 6);   /* a remainder of 1: only the parts */
    CHECK(msh_kanon_shown(11, 6, K) == 11); /* a remainder of 5: released */
    CHECK(msh_kanon_shown(6, 6, K) == 6);
    CHECK(msh_kanon_shown(4, 0, 1) == 4);
    CHECK(msh_kanon_shown(3, 9, K) == 0);   /* parts over the whole (cannot be): clamped */

    msh_live_config cfg;
    msh_live_config_init(&cfg);
    cfg.max_age_s = 3600; /* nobody expires during the test */
    CHECK(msh_live_new(&cfg, &live, &err) == MSH_OK);
    int64_t t = msh_now_ms();
    double wx, wy;
    msh_lonlat_to_world(39.8925, 21.4131, &wx, &wy);
    uint32_t bx0 = ((uint32_t)(wx * ldexp(1.0, 22)) >> 6) << 6, by0 = ((uint32_t)(wy * ldexp(1.0, 22)) >> 6) << 6;

    /* nobody under the box: no cell, no error */
    grid none;
    fetch(live, 18, bx0, by0, SPAN, &none);
    CHECK(none.calls == 0);
    grid_free(&none);

    /* a group of 6 walking east and one stray walking north, 3 cells away: every level shows 6, east */
    char id[32];
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "G%d", i);
        put(live, id, bx0 + 10, by0 + 10, 90, t);
    }
    put(live, "STRAY", bx0 + 13, by0 + 10, 0, t);
    for (int level = 16; level <= 22; level++) {
        grid g;
        fetch(live, level, bx0, by0, SPAN, &g);
        uint32_t total = 0;
        for (size_t i = 0; i < (size_t)g.n * g.n; i++) {
            total += g.count[i];
            if (g.count[i]) CHECK_NEAR(g.vx[i], 1.0, 0.02); /* the stray's velocity is not in it */
        }
        CHECK(total == 6);
        grid_free(&g);
    }

    /* a random crowd: 1 to 8 people in 300 random cells of the area */
    srand(17);
    int np = 0;
    for (int c = 0; c < 300; c++) {
        uint32_t x = (uint32_t)(rand() % SPAN), y = (uint32_t)(rand() % SPAN);
        int n = 1 + rand() % 8;
        for (int i = 0; i < n; i++) {
            snprintf(id, sizeof id, "R%d", np++);
            put(live, id, bx0 + x, by0 + y, (float)(rand() % 360), t);
        }
    }
    grid lv[7]; /* levels 16..22 */
    for (int level = 16; level <= 22; level++)
        fetch(live, level, bx0, by0, SPAN, &lv[level - 16]);
    for (int level = 16; level <= 22; level++) {
        grid *g = &lv[level - 16];
        for (size_t i = 0; i < (size_t)g->n * g->n; i++)
            CHECK(g->count[i] == 0 || g->count[i] >= K);
        /* against every finer level: the cell minus its shown parts is 0 or at least k */
        for (int fine = level + 1; fine <= 22; fine++) {
            grid *f = &lv[fine - 16];
            int s = fine - level;
            for (uint32_t y = 0; y < g->n; y++)
                for (uint32_t x = 0; x < g->n; x++) {
                    uint64_t parts = 0;
                    for (uint32_t fy = 0; fy < f->n; fy++)
                        for (uint32_t fx = 0; fx < f->n; fx++)
                            if (((f->ox + fx) >> s) == g->ox + x && ((f->oy + fy) >> s) == g->oy + y)
                                parts += f->count[(size_t)fy * f->n + fx];
                    uint64_t whole = g->count[(size_t)y * g->n + x];
                    CHECK(whole >= parts);
                    CHECK(whole - parts == 0 || whole - parts >= K);
                }
        }
    }
    /* what a cell shows does not depend on the box: a quarter of the area, level 18 */
    grid q;
    fetch(live, 18, bx0 + 16, by0 + 16, 16, &q);
    grid *full = &lv[18 - 16];
    for (uint32_t y = 0; y < q.n; y++)
        for (uint32_t x = 0; x < q.n; x++)
            CHECK(q.count[(size_t)y * q.n + x] ==
                  full->count[(size_t)(q.oy + y - full->oy) * full->n + (q.ox + x - full->ox)]);
    grid_free(&q);
    for (int level = 16; level <= 22; level++)
        grid_free(&lv[level - 16]);
    msh_live_free(live);
    CHECK_DONE();
}
