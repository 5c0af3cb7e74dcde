/* test_steps.c: walking directions (layers/route/steps.c, phrases.c) on a small named network:
 * street names from the lines' name / name_ar text fields (a field of another type is not a
 * name), the sentence of each maneuver in English and Arabic, a name with a quote kept valid JSON,
 * the fallback to the other language's name, "to stay on" when a bend keeps to the same street. */
#include <string.h>

#include "check.h"
#include "core/msh_tilemath.h"
#include "route/graph.h"
#include "route/steps.h"

/* Three lines: A (39.0,21.0) north to (39.0,21.002), named in both languages with a quote;
 * B east from there to (39.002,21.002), English name only; C north-east on from B's end, named
 * like B (a bend that stays on the street). Fields: name, name_ar, and `kind` (an integer). */
#define NL 3
static const double LINES[NL][6] = {
    {39.0, 21.0, 39.0, 21.001, 39.0, 21.002},
    {39.0, 21.002, 39.001, 21.002, 39.002, 21.002},
    {39.002, 21.002, 39.003, 21.003, 39.004, 21.004},
};
static const char *NAMES[NL][2] = {{"Quote \"Street\"", "شارع الاختبار"}, {"East Lane", ""}, {"East Lane", ""}};

typedef struct named_layer {
    msh_layer base;
    double xy[NL][6];
    uint32_t parts[NL];
    msh_value values[NL][3];
} named_layer;

static msh_rc nl_query(msh_layer *l, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    (void)box;
    (void)z;
    named_layer *L = (named_layer *)l;
    for (int i = 0; i < NL; i++) {
        L->parts[i] = 3;
        msh_feature f = {.id = (uint64_t)i + 1, .geom = {MSH_GT_LINE, 3, 1, L->xy[i], &L->parts[i]}, .values = L->values[i]};
        if (fn(ud, &f))
            break;
    }
    return MSH_OK;
}

static void nl_destroy(msh_layer *l) { (void)l; }
static const msh_layer_vt nl_vt = {nl_query, nl_destroy, NULL};

static msh_value text(const char *s)
{
    msh_value v = {0};
    if (*s) {
        v.type = MSH_FT_STRING;
        v.len = (uint32_t)strlen(s);
        v.u.s = s;
    }
    return v;
}

static void make_layer(named_layer *L, msh_field *fields)
{
    memset(L, 0, sizeof *L);
    L->base.vt = &nl_vt;
    L->base.info.maxzoom = 18;
    L->base.info.nfields = 3;
    L->base.info.fields = fields;
    for (int i = 0; i < NL; i++) {
        for (int k = 0; k < 3; k++)
            msh_lonlat_to_world(LINES[i][2 * k], LINES[i][2 * k + 1], &L->xy[i][2 * k], &L->xy[i][2 * k + 1]);
        L->values[i][0] = text(NAMES[i][0]);
        L->values[i][1] = text(NAMES[i][1]);
        L->values[i][2] = (msh_value){.type = MSH_FT_INT, .u.i = 7};
    }
}

/* The steps of the route from (39,21) to the end of C in `lang`, as JSON text. */
static void steps(const msh_graph *g, const char *lang, msh_buf *out)
{
    msh_snap a, b;
    msh_err err;
    CHECK(msh_graph_snap(g, 39.0, 21.0, 10, &a));
    CHECK(msh_graph_snap(g, 39.004, 21.004, 10, &b));
    msh_path p;
    msh_path_init(&p);
    CHECK(msh_graph_route(g, NULL, 1.0, &a, &b, &p, &err) == MSH_OK);
    msh_buf_reset(out);
    msh_steps_json(out, g, &p, (const double *)p.lonlat.data, p.lonlat.len / (2 * sizeof(double)), 0, 0.75,
                   msh_phrases_find(lang));
    msh_buf_putc(out, 0);
    CHECK(msh_buf_error(out) == MSH_OK);
    msh_path_free(&p);
}

int main(void)
{
    msh_field fields[3] = {{"name", MSH_FT_STRING}, {"name_ar", MSH_FT_STRING}, {"kind", MSH_FT_INT}};
    named_layer L;
    make_layer(&L, fields);
    msh_layer *lp = &L.base;
    msh_graph *g = NULL;
    msh_err err;
    CHECK(msh_graph_build(&lp, 1, &g, &err) == MSH_OK);
    if (!g)
        CHECK_DONE();
    const char *en, *ar;
    CHECK(msh_graph_edge_names(g, 0, &en, &ar) && !strcmp(en, "Quote \"Street\"") && !strcmp(ar, "شارع الاختبار"));

    msh_buf b;
    msh_buf_init(&b, 1 << 20);
    steps(g, "en", &b);
    const char *s = (const char *)b.data;
    CHECK(strstr(s, "\"maneuver\":\"depart\",\"instruction\":\"Head north on Quote \\\"Street\\\"\",\"name\":\"Quote "
                    "\\\"Street\\\"\",\"heading\":\"north\""));
    CHECK(strstr(s, "\"maneuver\":\"turn right\",\"instruction\":\"Turn right onto East Lane\",\"name\":\"East Lane\""));
    CHECK(strstr(s, "\"maneuver\":\"bear left\",\"instruction\":\"Bear left to stay on East Lane\""));
    CHECK(strstr(s, "{\"maneuver\":\"arrive\",\"instruction\":\"Arrive at the destination\""));
    steps(g, "ar", &b);
    s = (const char *)b.data;
    CHECK(strstr(s, "\"instruction\":\"انطلق باتجاه الشمال على شارع الاختبار\",\"name\":\"شارع الاختبار\""));
    CHECK(strstr(s, "\"instruction\":\"انعطف يمينًا إلى East Lane\",\"name\":\"East Lane\""));
    CHECK(strstr(s, "\"instruction\":\"انحرف يسارًا للبقاء على East Lane\""));
    CHECK(strstr(s, "\"instruction\":\"وصلت إلى وجهتك\""));
    CHECK(msh_phrases_find("xx") == NULL && msh_phrases_find(NULL) == NULL && msh_phrases_find("AR") == NULL);
    msh_graph_release(g);

    /* a `name` that is not text names nothing */
    fields[0].type = MSH_FT_INT;
    for (int i = 0; i < NL; i++)
        L.values[i][0] = (msh_value){.type = MSH_FT_INT, .u.i = 3};
    CHECK(msh_graph_build(&lp, 1, &g, &err) == MSH_OK);
    if (g) {
        CHECK(msh_graph_edge_names(g, 0, &en, &ar) && !strcmp(en, "") && !strcmp(ar, "شارع الاختبار"));
        CHECK(!msh_graph_edge_names(g, msh_graph_edge_count(g) - 1, &en, &ar) && !strcmp(en, "") && !strcmp(ar, ""));
        steps(g, "en", &b);
        CHECK(strstr((const char *)b.data, "\"instruction\":\"Head north on شارع الاختبار\""));
        CHECK(strstr((const char *)b.data, "\"instruction\":\"Turn right\",\"heading\""));
        msh_graph_release(g);
    }
    msh_buf_free(&b);
    CHECK_DONE();
}
