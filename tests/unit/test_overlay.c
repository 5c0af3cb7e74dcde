/* test_overlay.c: the overlay of edited features over a loaded layer (layers/overlay_layer.h):
 * queries merge base and overlay in id order, replaced and deleted base features are hidden,
 * lookups by id, per-region versions, and an overlay stays as it was when the next batch builds
 * on it. The base is a small layer of points made here (ids 1..10, version 5). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/msh_tilemath.h"
#include "overlay_layer.h"

#define N 10
static double pts[2 * N]; /* world units */

static msh_rc base_query(msh_layer *l, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    (void)l;
    (void)z;
    for (int i = 0; i < N; i++) {
        const double *p = pts + 2 * i;
        if (p[0] < box[0] || p[0] > box[2] || p[1] < box[1] || p[1] > box[3])
            continue;
        msh_feature f = {(uint64_t)i + 1, {MSH_GT_POINT, 1, 0, p, NULL}, NULL};
        if (fn(ud, &f))
            break;
    }
    return MSH_OK;
}

static const msh_layer_vt BASE_VT = {base_query, msh_layer_free_plain, NULL};

typedef struct {
    uint64_t ids[32];
    double x[32];
    int n, stop_after;
} seen;

static int collect(void *ud, const msh_feature *f)
{
    seen *s = ud;
    s->ids[s->n] = f->id;
    s->x[s->n++] = f->geom.xy[0];
    return s->stop_after && s->n == s->stop_after;
}

static seen query(msh_layer *l, const double box[4], int stop_after)
{
    seen s;
    memset(&s, 0, sizeof s);
    s.stop_after = stop_after;
    CHECK(l->vt->query(l, box, 10, collect, &s) == MSH_OK);
    return s;
}

int main(void)
{
    for (int i = 0; i < N; i++)
        msh_lonlat_to_world(39.80 + 0.01 * i, 21.40, &pts[2 * i], &pts[2 * i + 1]);
    msh_layer *base = calloc(1, sizeof *base);
    msh_layer_info info;
    msh_layer_info_derived(&info, "pts", "static", "Point", NULL, 0);
    CHECK(msh_layer_info_copy(&base->info, &info) == MSH_OK);
    base->info.version = 5;
    base->info.feature_count = N;
    base->vt = &BASE_VT;
    atomic_init(&base->refs, 1);

    /* one batch: 3 moved east of everything, 12 created, 5 deleted */
    msh_err err;
    msh_overlay_edit *e;
    CHECK(msh_overlay_begin(base, &e, &err) == MSH_OK);
    double moved[2], made[2];
    msh_lonlat_to_world(39.95, 21.40, &moved[0], &moved[1]);
    msh_lonlat_to_world(39.805, 21.40, &made[0], &made[1]);
    msh_geom g3 = {MSH_GT_POINT, 1, 0, moved, NULL}, g12 = {MSH_GT_POINT, 1, 0, made, NULL};
    double touched3[4] = {39.82, 21.40, 39.95, 21.40};
    CHECK(msh_overlay_put(e, 3, false, &g3, NULL, 6, touched3, touched3, &err) == MSH_OK);
    msh_feature f;
    CHECK(msh_overlay_edit_find(e, 3, &f) && f.geom.xy[0] == moved[0]); /* the batch sees its own edit */
    CHECK(msh_overlay_put(e, 12, true, &g12, NULL, 7, (double[4]){39.805, 21.40, 39.805, 21.40}, NULL, &err) == 0);
    CHECK(msh_overlay_put(e, 5, false, NULL, NULL, 8, (double[4]){39.84, 21.40, 39.84, 21.40}, NULL, &err) == 0);
    CHECK(!msh_overlay_edit_find(e, 5, &f));
    msh_layer *o;
    CHECK(msh_overlay_finish(e, &o, &err) == MSH_OK);
    CHECK(o->info.version == 8);
    CHECK(msh_overlay_size(o) == 6); /* 3 features, 3 boxes */

    double world[4] = {0, 0, 1, 1};
    seen s = query(o, world, 0);
    uint64_t want[] = {1, 2, 3, 4, 6, 7, 8, 9, 10, 12};
    CHECK(s.n == 10);
    for (int i = 0; i < s.n && i < 10; i++)
        CHECK(s.ids[i] == want[i]); /* id order, 5 gone, 12 after the base's last */
    CHECK(s.n > 2 && s.x[2] == moved[0]);
    seen first3 = query(o, world, 3); /* the caller stops early: nothing after */
    CHECK(first3.n == 3 && first3.ids[2] == 3);

    double old3[4] = {pts[4] - 1e-9, pts[5] - 1e-9, pts[4] + 1e-9, pts[5] + 1e-9}; /* where 3 was */
    CHECK(query(o, old3, 0).n == 0);
    double new3[4] = {moved[0] - 1e-9, moved[1] - 1e-9, moved[0] + 1e-9, moved[1] + 1e-9};
    s = query(o, new3, 0);
    CHECK(s.n == 1 && s.ids[0] == 3);
    CHECK(msh_overlay_find(o, 7, &f) && f.id == 7 && f.geom.xy[0] == pts[12]);
    CHECK(!msh_overlay_find(o, 5, &f));
    CHECK(msh_overlay_find(o, 12, &f) && f.geom.xy[0] == made[0]);

    /* versions by region: an edit's box raises the tiles it meets, the others keep the base's */
    double far[4], near12[4];
    msh_lonlat_to_world(39.70, 21.50, &far[0], &far[1]);
    msh_lonlat_to_world(39.71, 21.49, &far[2], &far[3]);
    double tmp[2];
    msh_lonlat_to_world(39.8049, 21.4001, &near12[0], &near12[1]);
    msh_lonlat_to_world(39.8051, 21.3999, &tmp[0], &tmp[1]);
    near12[2] = tmp[0];
    near12[3] = tmp[1];
    CHECK(o->vt->region_version(o, 10, far) == 5);
    CHECK(o->vt->region_version(o, 10, near12) == 7);
    CHECK(o->vt->region_version(o, 10, world) == 8);

    /* the next batch builds on o; o itself does not change */
    CHECK(msh_overlay_begin(o, &e, &err) == MSH_OK);
    CHECK(msh_overlay_put(e, 7, false, NULL, NULL, 9, (double[4]){39.86, 21.40, 39.86, 21.40}, NULL, &err) == 0);
    msh_layer *o2;
    CHECK(msh_overlay_finish(e, &o2, &err) == MSH_OK);
    CHECK(msh_overlay_find(o, 7, &f) && !msh_overlay_find(o2, 7, &f));
    CHECK(msh_overlay_find(o2, 3, &f) && f.geom.xy[0] == moved[0]);
    CHECK(query(o2, world, 0).n == 9 && query(o, world, 0).n == 10);
    CHECK(o2->info.version == 9 && o2->info.feature_count == o->info.feature_count - 1);

    /* a batch with no edit gives the layer back */
    CHECK(msh_overlay_begin(o2, &e, &err) == MSH_OK);
    msh_layer *same;
    CHECK(msh_overlay_finish(e, &same, &err) == MSH_OK && same == o2);
    msh_layer_release(same);
    msh_layer_release(o2);
    msh_layer_release(o);
    msh_layer_release(base);
    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
