/* test_fc_layer.c: a forecast horizon as map cells (layers/forecast/fc_layer.h), against a hand-made grid:
 * - at a coarser level the people of the base cells inside a cell are summed, its density is that sum
 *   over its own area, and p_e / p_f are the highest of its base cells';
 * - base cells under k are left out before summing (a sum never carries one);
 * - at the base level every cell is a base cell with /forecast/density's numbers (msh_fc_prob);
 * - a box keeps the cells it meets, row by row; a box too wide for its level is refused;
 * - the `forecast` layer's features (a square ring, typed values) and its region version (the same
 *   for the same forecast, tile and horizon; another for any of them changed). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "core/msh_constants.h"
#include "core/msh_tilemath.h"
#include "forecast/fc_layer.h"

typedef struct {
    msh_fc_map_cell c[16];
    int n;
} seen;

static int keep(void *ud, const msh_fc_map_cell *c)
{
    seen *s = ud;
    if (s->n < 16)
        s->c[s->n] = *c;
    s->n++;
    return 0;
}

typedef struct {
    msh_feature f[8];
    msh_value v[8][MSH_FC_LAYER_NFIELDS];
    double xy[8][10];
    int n;
} feats;

static int keep_feature(void *ud, const msh_feature *f)
{
    feats *s = ud;
    if (s->n < 8) {
        s->f[s->n] = *f;
        memcpy(s->v[s->n], f->values, sizeof s->v[0]);
        memcpy(s->xy[s->n], f->geom.xy, sizeof s->xy[0]);
    }
    s->n++;
    return 0;
}

/* The world box of cells [cx0, cx1] x [cy0, cy1] at level 22, shrunk a little inside them. */
static void box_of(uint32_t cx0, uint32_t cy0, uint32_t cx1, uint32_t cy1, double box[4])
{
    double n = ldexp(1.0, 22), e = 0.01 / n;
    box[0] = cx0 / n + e, box[1] = cy0 / n + e, box[2] = (cx1 + 1) / n - e, box[3] = (cy1 + 1) / n - e;
}

int main(void)
{
    msh_err err;
    uint32_t cx, cy;
    msh_fc_cell_at(39.8726, 21.4229, &cx, &cy);
    cx &= ~3u, cy &= ~3u; /* the first base cell of a level-20 cell */
    /* row cy: 10 and 30 people in the first two cells, 2 (under k = 5) in the fourth; 7 in the next level-20 cell */
    msh_fc_acc a;
    msh_fc_acc_init(&a);
    CHECK(msh_fc_acc_add(&a, cx, cy, 10) == MSH_OK && msh_fc_acc_add(&a, cx + 1, cy, 30) == MSH_OK);
    CHECK(msh_fc_acc_add(&a, cx + 3, cy, 2) == MSH_OK && msh_fc_acc_add(&a, cx + 4, cy, 7) == MSH_OK);
    msh_fc_grid g;
    CHECK(msh_fc_acc_finish(&a, 0, &g) == MSH_OK && g.n == 4);
    double side22 = msh_fc_cell_side_m(cy), pe30, pf30, pe10, pf10;
    msh_fc_prob(30, side22 * side22, 10, &pe30, &pf30);
    msh_fc_prob(10, side22 * side22, 10, &pe10, &pf10);
    double box[4];
    box_of(cx, cy, cx + 7, cy + 3, box);

    /* level 20: two cells, 40 and 7 people */
    seen s = {.n = 0};
    CHECK(msh_fc_cells_in(&g, 20, box, 5, 10, keep, &s, &err) == MSH_OK);
    CHECK(s.n == 2);
    CHECK(s.c[0].level == 20 && s.c[0].cx == cx >> 2 && s.c[0].cy == cy >> 2 && s.c[1].cx == (cx >> 2) + 1);
    CHECK_NEAR(s.c[0].count, 40, 1e-6); /* the 2 under k are not in the sum */
    CHECK_NEAR(s.c[1].count, 7, 1e-6);
    CHECK_NEAR(s.c[0].side_m, 4 * side22, 4 * side22 * 1e-6);
    CHECK_NEAR(s.c[0].density, 40 / (s.c[0].side_m * s.c[0].side_m), 1e-9);
    CHECK_NEAR(s.c[0].p_e, pe30, 1e-6); /* the fuller base cell's chance, not the sum's */
    CHECK_NEAR(s.c[0].p_f, pf30, 1e-6);
    CHECK(pe30 > pe10);

    /* level 22: the base cells themselves, the one under k left out */
    s.n = 0;
    CHECK(msh_fc_cells_in(&g, 22, box, 5, 10, keep, &s, &err) == MSH_OK);
    CHECK(s.n == 3 && s.c[0].cx == cx && s.c[1].cx == cx + 1 && s.c[2].cx == cx + 4);
    CHECK_NEAR(s.c[0].count, 10, 1e-6);
    CHECK_NEAR(s.c[0].density, 10 / (side22 * side22), 1e-9);
    CHECK_NEAR(s.c[0].p_e, pe10, 1e-12);
    CHECK_NEAR(s.c[1].p_f, pf30, 1e-12);
    s.n = 0; /* k = 1: the 2 count */
    CHECK(msh_fc_cells_in(&g, 22, box, 1, 10, keep, &s, &err) == MSH_OK && s.n == 4);

    /* a box over the first level-20 cell only; a box too wide */
    box_of(cx, cy, cx + 3, cy + 3, box);
    s.n = 0;
    CHECK(msh_fc_cells_in(&g, 20, box, 5, 10, keep, &s, &err) == MSH_OK && s.n == 1);
    double world[4] = {0, 0, 1, 1};
    CHECK(msh_fc_cells_in(&g, 22, world, 5, 10, keep, &s, &err) == MSH_ETOOBIG);
    CHECK(msh_fc_cells_in(&g, 23, box, 5, 10, keep, &s, &err) == MSH_EINVAL);

    /* the layer at zoom 14 (level 20) */
    msh_fc_layer l;
    msh_fc_layer_init(&l, &g, 10, 1779861600000LL, 5); /* 2026-05-27T06:00:00Z */
    CHECK(!strcmp(l.base.info.name, "forecast") && !strcmp(l.base.info.geometry_type, "Polygon"));
    CHECK(l.base.info.nfields == 7 && !strcmp(l.base.info.fields[6].name, "issued_at"));
    box_of(cx, cy, cx + 7, cy + 3, box);
    feats f = {.n = 0};
    CHECK(l.base.vt->query(&l.base, box, 14, keep_feature, &f) == MSH_OK && f.n == 2);
    CHECK(f.f[0].geom.type == MSH_GT_POLYGON && f.f[0].geom.npts == 5);
    double n20 = ldexp(1.0, 20);
    CHECK_NEAR(f.xy[0][0], (cx >> 2) / n20, 1e-15);
    CHECK_NEAR(f.xy[0][4], ((cx >> 2) + 1) / n20, 1e-15);
    CHECK(f.f[0].id == ((20ull << 58) | ((uint64_t)(cx >> 2) << 29) | (cy >> 2)));
    CHECK(f.v[0][0].type == MSH_FT_REAL && f.v[0][0].u.d == 40);
    CHECK(f.v[0][2].type == MSH_FT_STRING && f.v[0][2].len == 1);
    CHECK(f.v[0][5].type == MSH_FT_INT && f.v[0][5].u.i == 10);
    CHECK(f.v[0][6].type == MSH_FT_STRING && f.v[0][6].len == 20 && !memcmp(f.v[0][6].u.s, "2026-05-27T06:00:00Z", 20));
    uint64_t v = l.base.vt->region_version(&l.base, 14, box);
    CHECK(v == l.base.vt->region_version(&l.base, 14, box));
    CHECK(v != l.base.vt->region_version(&l.base, 15, box));
    msh_fc_layer later, other;
    msh_fc_layer_init(&later, &g, 10, 1779861630000LL, 5);
    msh_fc_layer_init(&other, &g, 20, 1779861600000LL, 5);
    CHECK(v != later.base.vt->region_version(&later.base, 14, box));
    CHECK(v != other.base.vt->region_version(&other.base, 14, box));
    msh_fc_grid_free(&g);
    msh_fc_acc_free(&a);
    CHECK_DONE();
}
