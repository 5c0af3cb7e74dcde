/* test_mvt.c: the MVT encoder checked by an independent decoder (protoc-c from the spec's schema). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mvt.h"
#include "vector_tile.pb-c.h"

static void tg_points(msh_tgeom *g, const int32_t *xy, uint32_t n)
{
    g->type = MSH_GT_POINT;
    msh_buf_reset(&g->xy);
    msh_buf_reset(&g->parts);
    msh_buf_append(&g->xy, xy, 8 * (size_t)n);
}

static void tg_part(msh_tgeom *g, msh_gtype t, const int32_t *xy, uint32_t n, uint32_t flags)
{
    g->type = t;
    msh_buf_append(&g->xy, xy, 8 * (size_t)n);
    uint32_t v = n | flags;
    msh_buf_append(&g->parts, &v, 4);
}

static int32_t unzz(uint32_t v)
{
    return (int32_t)((v >> 1) ^ (~(v & 1) + 1));
}

int main(void)
{
    msh_mvt *m = msh_mvt_new(1 << 20);
    msh_tgeom g;
    msh_buf_init(&g.xy, 1 << 20);
    msh_buf_init(&g.parts, 1 << 20);

    CHECK(msh_mvt_layer_begin(m, "assets", 4096) == MSH_OK);
    int32_t p1[] = {10, 20};
    msh_mvt_feature_begin(m, true, 7);
    msh_mvt_attr_string(m, "name_ar", "منى", strlen("منى"));
    msh_mvt_attr_int(m, "capacity", 250);
    msh_mvt_attr_int(m, "delta", -3);
    msh_mvt_attr_double(m, "fill", 0.25);
    msh_mvt_attr_bool(m, "working", true);
    tg_points(&g, p1, 1);
    CHECK(msh_mvt_feature_geom(m, &g) == MSH_OK);
    CHECK(msh_mvt_feature_end(m, false) == MSH_OK);
    /* second feature shares the value "منى": interned once */
    msh_mvt_feature_begin(m, true, 8);
    msh_mvt_attr_string(m, "name_ar", "منى", strlen("منى"));
    int32_t p2[] = {0, 0, 4096, 4096};
    tg_points(&g, p2, 2);
    msh_mvt_feature_geom(m, &g);
    msh_mvt_feature_end(m, false);
    /* a dropped feature leaves no trace */
    msh_mvt_feature_begin(m, true, 9);
    msh_mvt_attr_string(m, "ghost", "x", 1);
    msh_mvt_feature_geom(m, &g);
    msh_mvt_feature_end(m, true);
    CHECK(msh_mvt_layer_end(m) == MSH_OK);

    /* an empty layer is left out of the tile */
    msh_mvt_layer_begin(m, "empty", 4096);
    msh_mvt_layer_end(m);

    msh_mvt_layer_begin(m, "shapes", 4096);
    msh_buf_reset(&g.xy);
    msh_buf_reset(&g.parts);
    int32_t line[] = {5, 5, 10, 5, 10, 15};
    tg_part(&g, MSH_GT_LINE, line, 3, 0);
    msh_mvt_feature_begin(m, false, 0);
    msh_mvt_feature_geom(m, &g);
    msh_mvt_feature_end(m, false);
    msh_buf_reset(&g.xy);
    msh_buf_reset(&g.parts);
    int32_t outer[] = {0, 0, 100, 0, 100, 100, 0, 100};
    int32_t hole[] = {10, 10, 10, 20, 20, 20, 20, 10};
    tg_part(&g, MSH_GT_POLYGON, outer, 4, MSH_RING_OUTER);
    tg_part(&g, MSH_GT_POLYGON, hole, 4, 0);
    msh_mvt_feature_begin(m, true, 42);
    msh_mvt_feature_geom(m, &g);
    msh_mvt_feature_end(m, false);
    msh_mvt_layer_end(m);

    const uint8_t *data;
    size_t len;
    msh_mvt_finish(m, &data, &len);
    CHECK(len > 0);
    CHECK(msh_mvt_feature_count(m) == 4);

    VectorTile__Tile *t = vector_tile__tile__unpack(NULL, len, data);
    CHECK(t != NULL);
    if (!t)
        CHECK_DONE();
    CHECK(t->n_layers == 2);
    VectorTile__Tile__Layer *l = t->layers[0];
    CHECK(!strcmp(l->name, "assets"));
    CHECK(l->version == 2);
    CHECK(l->extent == 4096);
    CHECK(l->n_features == 2);
    CHECK(l->n_keys == 5);   /* name_ar capacity delta fill working: "ghost" never added */
    CHECK(l->n_values == 5); /* "منى" once, 250, -3, 0.25, true */
    VectorTile__Tile__Feature *f = l->features[0];
    CHECK(f->has_id && f->id == 7);
    CHECK(f->type == VECTOR_TILE__TILE__GEOM_TYPE__POINT);
    CHECK(f->n_tags == 10);
    for (size_t i = 0; i + 1 < f->n_tags; i += 2) {
        const char *k = l->keys[f->tags[i]];
        VectorTile__Tile__Value *v = l->values[f->tags[i + 1]];
        if (!strcmp(k, "name_ar")) CHECK(v->string_value && !strcmp(v->string_value, "منى"));
        if (!strcmp(k, "capacity")) CHECK(v->has_uint_value && v->uint_value == 250);
        if (!strcmp(k, "delta")) CHECK(v->has_sint_value && v->sint_value == -3);
        if (!strcmp(k, "fill")) CHECK(v->has_double_value && v->double_value == 0.25);
        if (!strcmp(k, "working")) CHECK(v->has_bool_value && v->bool_value);
    }
    /* MoveTo(1) 10 20 */
    CHECK(f->n_geometry == 3 && f->geometry[0] == (1 | (1 << 3)) && unzz(f->geometry[1]) == 10 && unzz(f->geometry[2]) == 20);
    f = l->features[1];
    CHECK(f->id == 8 && f->n_tags == 2 && f->tags[1] == 0);
    /* MultiPoint: MoveTo(2) 0 0, +4096 +4096 */
    CHECK(f->n_geometry == 5 && f->geometry[0] == (1 | (2 << 3)) && unzz(f->geometry[3]) == 4096);

    l = t->layers[1];
    CHECK(!strcmp(l->name, "shapes"));
    CHECK(l->n_features == 2);
    f = l->features[0];
    CHECK(!f->has_id || f->id == 0);
    CHECK(f->type == VECTOR_TILE__TILE__GEOM_TYPE__LINESTRING);
    /* MoveTo 5 5, LineTo(2) +5 0, 0 +10 */
    uint32_t want_line[] = {9, 10, 10, (2 | (2 << 3)), 10, 0, 0, 20};
    CHECK(f->n_geometry == 8 && !memcmp(f->geometry, want_line, sizeof want_line));
    f = l->features[1];
    CHECK(f->type == VECTOR_TILE__TILE__GEOM_TYPE__POLYGON);
    /* two rings: each MoveTo, LineTo(3), ClosePath; the cursor carries over between rings */
    CHECK(f->n_geometry == 2 * (3 + 1 + 6 + 1));
    CHECK(f->geometry[10] == 15); /* ClosePath(1) */
    CHECK(unzz(f->geometry[12]) == 10 - 0 && unzz(f->geometry[13]) == 10 - 100); /* hole MoveTo from (0,100) */
    vector_tile__tile__free_unpacked(t, NULL);

    /* a reset tile is empty */
    msh_mvt_reset(m);
    msh_mvt_finish(m, &data, &len);
    CHECK(len == 0);
    /* a tile size cap is honoured */
    msh_mvt *small = msh_mvt_new(64);
    msh_mvt_layer_begin(small, "x", 4096);
    msh_rc rc = MSH_OK;
    for (int i = 0; i < 100 && !rc; i++) {
        msh_mvt_feature_begin(small, true, (uint64_t)i);
        rc = msh_mvt_attr_string(small, "k", "a long value that fills the tile", 32);
        if (!rc) rc = msh_mvt_feature_geom(small, &g);
        if (!rc) rc = msh_mvt_feature_end(small, false);
    }
    CHECK(rc == MSH_ETOOBIG);
    msh_mvt_free(small);
    msh_mvt_free(m);
    msh_buf_free(&g.xy);
    msh_buf_free(&g.parts);
    CHECK_DONE();
}
