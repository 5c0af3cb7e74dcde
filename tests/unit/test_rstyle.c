/* test_rstyle.c: the raster style compiler and its expressions (MapLibre semantics worked by hand),
 * legacy filters and functions, warnings for what is ignored, errors with file and line. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rstyle_int.h"

static msh_field fields[] = {{"site_id", MSH_FT_STRING}, {"capacity", MSH_FT_INT}, {"temperature", MSH_FT_REAL},
                             {"status", MSH_FT_STRING},  {"los", MSH_FT_STRING},   {"peak_los", MSH_FT_STRING},
                             {"kind", MSH_FT_STRING},    {"name", MSH_FT_STRING}};
static msh_layer_info info = {.name = "t", .nfields = 8, .fields = fields};

static msh_value S(const char *s) { return (msh_value){MSH_FT_STRING, (uint32_t)strlen(s), {.s = s}}; }
static msh_value I(int64_t i) { return (msh_value){MSH_FT_INT, 0, {.i = i}}; }
static msh_value D(double d) { return (msh_value){MSH_FT_REAL, 0, {.d = d}}; }
static msh_value N(void) { return (msh_value){0, 0, {0}}; }

/* A style with one layer of `type` whose paint (or layout) is `props`; NULL on error (printed). */
static msh_rstyle *one(const char *type, const char *part, const char *props, const char *filter, msh_buf *warn)
{
    char json[4096];
    snprintf(json, sizeof json,
             "{\"version\":8,\"layers\":[{\"id\":\"x\",\"type\":\"%s\",\"source-layer\":\"t\"%s%s,\"%s\":%s}]}", type,
             filter ? ",\"filter\":" : "", filter ? filter : "", part, props);
    msh_rstyle *st = NULL;
    msh_err err;
    if (msh_rstyle_compile("t.json", json, strlen(json), warn, &st, &err)) {
        fprintf(stderr, "compile failed: %s\n  for %s\n", err.msg, json);
        return NULL;
    }
    return st;
}

static void color_is(const double *c, unsigned rgb, double a)
{
    CHECK_NEAR(c[0], (rgb >> 16) / 255.0, 0.003);
    CHECK_NEAR(c[1], ((rgb >> 8) & 255) / 255.0, 0.003);
    CHECK_NEAR(c[2], (rgb & 255) / 255.0, 0.003);
    CHECK_NEAR(c[3], a, 0.003);
}

static msh_ectx ctx(double zoom, const msh_feature *f)
{
    msh_ectx c;
    memset(&c, 0, sizeof c);
    c.zoom = zoom, c.info = &info, c.f = f;
    return c;
}

static void test_zoom_functions(void)
{
    msh_rstyle *st = one("line", "paint",
                         "{\"line-width\":[\"interpolate\",[\"linear\"],[\"zoom\"],11,0.4,14,0.9,18,3],"
                         "\"line-opacity\":[\"interpolate\",[\"exponential\",2],[\"zoom\"],0,0,2,3],"
                         "\"line-color\":[\"step\",[\"zoom\"],\"#000000\",12,\"#ff0000\",14,\"#00ff00\"]}",
                         NULL, NULL);
    CHECK(st != NULL);
    if (!st) return;
    const msh_rlayer *l = &st->layers[0];
    msh_ectx c = ctx(12.5, NULL);
    CHECK_NEAR(msh_rl_num(l, P_LINE_WIDTH, &c), 0.65, 1e-9);
    c.zoom = 10;
    CHECK_NEAR(msh_rl_num(l, P_LINE_WIDTH, &c), 0.4, 1e-9);
    c.zoom = 20;
    CHECK_NEAR(msh_rl_num(l, P_LINE_WIDTH, &c), 3, 1e-9);
    c.zoom = 16;
    CHECK_NEAR(msh_rl_num(l, P_LINE_WIDTH, &c), 0.9 + 2.1 / 2, 1e-9);
    c.zoom = 1; /* (2^1 - 1) / (2^2 - 1) = 1/3 of the way */
    CHECK_NEAR(msh_rl_num(l, P_LINE_OPACITY, &c), 1, 1e-9);
    double col[4];
    c.zoom = 11.99;
    msh_rl_color(l, P_LINE_COLOR, &c, col);
    color_is(col, 0x000000, 1);
    c.zoom = 12;
    msh_rl_color(l, P_LINE_COLOR, &c, col);
    color_is(col, 0xff0000, 1);
    c.zoom = 15;
    msh_rl_color(l, P_LINE_COLOR, &c, col);
    color_is(col, 0x00ff00, 1);
    CHECK(!msh_rl_per_feature(l, P_LINE_WIDTH));
    CHECK(msh_rl_eval(l, P_LINE_CAP, &c).t == MV_STR); /* the default, "butt" */
    msh_rstyle_free(st);
}

static void test_data_functions(void)
{
    msh_rstyle *st = one(
        "fill", "paint",
        "{\"fill-color\":[\"match\",[\"get\",\"site_id\"],\"haram\",\"#e9d8a6\",[\"mina\",\"muna\"],\"#f5e4c3\","
        "\"#e6dcc6\"],"
        "\"fill-outline-color\":[\"interpolate\",[\"linear\"],[\"get\",\"capacity\"],1800,\"#f6ead2\",6000,"
        "\"#e9cf9f\"],"
        "\"fill-opacity\":[\"case\",[\"!=\",[\"get\",\"status\"],\"working\"],0.55,[\">\",[\"get\",\"temperature\"],"
        "40],0.9,1]}",
        "[\"!\",[\"in\",[\"get\",\"kind\"],[\"literal\",[\"clinic\",\"gate\"]]]]", NULL);
    CHECK(st != NULL);
    if (!st) return;
    const msh_rlayer *l = &st->layers[0];
    msh_value v1[8] = {S("mina"), I(3900), D(45), S("working"), S("C"), N(), S("toilet"), S("a")};
    msh_feature f = {.id = 1, .values = v1};
    msh_ectx c = ctx(15, &f);
    double col[4];
    msh_rl_color(l, P_FILL_COLOR, &c, col);
    color_is(col, 0xf5e4c3, 1);
    msh_rl_color(l, P_FILL_OUTLINE_COLOR, &c, col); /* half way from f6ead2 to e9cf9f */
    CHECK_NEAR(col[0], (0xf6 + 0xe9) / 2.0 / 255, 0.003);
    CHECK_NEAR(col[1], (0xea + 0xcf) / 2.0 / 255, 0.003);
    CHECK_NEAR(col[2], (0xd2 + 0x9f) / 2.0 / 255, 0.003);
    CHECK_NEAR(msh_rl_num(l, P_FILL_OPACITY, &c), 0.9, 1e-9);
    CHECK(msh_rl_filter(l, &c));
    CHECK(msh_rl_per_feature(l, P_FILL_COLOR));
    msh_value v2[8] = {S("arafat"), I(100), N(), S("broken"), S("C"), N(), S("gate"), S("a")};
    f.values = v2;
    msh_rl_color(l, P_FILL_COLOR, &c, col);
    color_is(col, 0xe6dcc6, 1); /* fallback */
    msh_rl_color(l, P_FILL_OUTLINE_COLOR, &c, col);
    color_is(col, 0xf6ead2, 1); /* below the first stop */
    CHECK_NEAR(msh_rl_num(l, P_FILL_OPACITY, &c), 0.55, 1e-9);
    CHECK(!msh_rl_filter(l, &c));
    msh_value v3[8] = {N(), N(), N(), N(), N(), N(), N(), N()};
    f.values = v3;
    CHECK_NEAR(msh_rl_num(l, P_FILL_OPACITY, &c), 0.55, 1e-9); /* null != "working" */
    msh_rstyle_free(st);

    /* coalesce, step on data, has, to-number, concat, format, typeof */
    st = one("symbol", "layout",
             "{\"text-field\":[\"format\",[\"get\",\"name\"],{},\"\\n\",{},[\"concat\",[\"to-string\",[\"get\","
             "\"capacity\"]],\"/\",[\"typeof\",[\"get\",\"temperature\"]]],{\"font-scale\":0.8}],"
             "\"text-size\":[\"step\",[\"to-number\",[\"get\",\"los\"],7],10,5,12,8,14],"
             "\"icon-image\":[\"match\",[\"coalesce\",[\"get\",\"peak_los\"],[\"get\",\"los\"]],\"A\",\"toilet\","
             "\"gate\"],"
             "\"symbol-sort-key\":[\"case\",[\"has\",\"temperature\"],1,2]}",
             NULL, NULL);
    CHECK(st != NULL);
    if (!st) return;
    l = &st->layers[0];
    msh_value v4[8] = {S("x"), I(2700), D(38.5), S("working"), S("A"), N(), S("toilet"), S("\xd9\x85\xd9\x86\xd9\x89")};
    f.values = v4;
    msh_val t = msh_rl_eval(l, P_TEXT_FIELD, &c);
    CHECK(t.t == MV_FMT && c.nsec == 3);
    if (t.t == MV_FMT && c.nsec == 3) {
        CHECK(c.sec[0].len == 6 && !memcmp(c.sec[0].s, "\xd9\x85\xd9\x86\xd9\x89", 6));
        CHECK(c.sec[1].len == 1 && c.sec[1].s[0] == '\n');
        CHECK(c.sec[2].len == 11 && !memcmp(c.sec[2].s, "2700/number", 11));
        CHECK_NEAR(c.sec[2].scale, 0.8, 1e-12);
        CHECK_NEAR(c.sec[0].scale, 1, 1e-12);
    }
    CHECK_NEAR(msh_rl_num(l, P_TEXT_SIZE, &c), 12, 0); /* "A" is no number: 7 -> 12 */
    msh_val ic = msh_rl_eval(l, P_ICON_IMAGE, &c);
    CHECK(ic.t == MV_STR && ic.len == 6 && !memcmp(ic.s, "toilet", 6));
    CHECK_NEAR(msh_rl_num(l, P_SYMBOL_SORT_KEY, &c), 1, 0);
    v4[5] = S("F"); /* peak_los wins over los */
    ic = msh_rl_eval(l, P_ICON_IMAGE, &c);
    CHECK(ic.t == MV_STR && ic.len == 4 && !memcmp(ic.s, "gate", 4));
    v4[2] = N();
    CHECK_NEAR(msh_rl_num(l, P_SYMBOL_SORT_KEY, &c), 2, 0);
    msh_rstyle_free(st);
}

static void test_legacy(void)
{
    msh_rstyle *st =
        one("circle", "paint",
            "{\"circle-radius\":{\"stops\":[[10,2],[14,6]],\"base\":1},"
            "\"circle-color\":{\"property\":\"kind\",\"type\":\"categorical\",\"stops\":[[\"toilet\",\"#1f78b4\"]],"
            "\"default\":\"#888888\"},"
            "\"circle-opacity\":{\"property\":\"capacity\",\"type\":\"interval\",\"stops\":[[0,0.2],[100,0.5],[1000,1]]}}",
            "[\"all\",[\"==\",\"$type\",\"Point\"],[\"!in\",\"kind\",\"clinic\",\"gate\"],[\">=\",\"capacity\",10]]",
            NULL);
    CHECK(st != NULL);
    if (!st) return;
    const msh_rlayer *l = &st->layers[0];
    double xy[2] = {0.5, 0.5};
    msh_value v[8] = {N(), I(500), N(), N(), N(), N(), S("toilet"), N()};
    msh_feature f = {.id = 1, .geom = {MSH_GT_POINT, 1, 0, xy, NULL}, .values = v};
    msh_ectx c = ctx(12, &f);
    CHECK(msh_rl_filter(l, &c));
    CHECK_NEAR(msh_rl_num(l, P_CIRCLE_RADIUS, &c), 4, 1e-9);
    CHECK_NEAR(msh_rl_num(l, P_CIRCLE_OPACITY, &c), 0.5, 1e-9);
    double col[4];
    msh_rl_color(l, P_CIRCLE_COLOR, &c, col);
    color_is(col, 0x1f78b4, 1);
    v[6] = S("gate");
    CHECK(!msh_rl_filter(l, &c));
    msh_rl_color(l, P_CIRCLE_COLOR, &c, col);
    color_is(col, 0x888888, 1);
    v[6] = S("bin");
    v[1] = I(5);
    CHECK(!msh_rl_filter(l, &c));
    CHECK_NEAR(msh_rl_num(l, P_CIRCLE_OPACITY, &c), 0.2, 1e-9);
    v[1] = I(50);
    f.geom.type = MSH_GT_LINE;
    CHECK(!msh_rl_filter(l, &c));
    msh_rstyle_free(st);
}

static void test_colors(void)
{
    double c[4];
    CHECK(msh_color_parse("#abc", 4, c));
    color_is(c, 0xaabbcc, 1);
    CHECK(msh_color_parse("rgba(60, 30, 10, 0.45)", 22, c));
    color_is(c, 0x3c1e0a, 0.45);
    CHECK(msh_color_parse("hsl(120, 100%, 50%)", 19, c));
    color_is(c, 0x00ff00, 1);
    CHECK(msh_color_parse("#11223380", 9, c));
    color_is(c, 0x112233, 128 / 255.0);
    CHECK(!msh_color_parse("#12", 3, c));
    CHECK(!msh_color_parse("rgb(1,2)", 8, c));
    CHECK(!msh_color_parse("nonsense", 8, c));
}

static void test_errors_and_warnings(void)
{
    msh_rstyle *st = NULL;
    msh_err err;
    const char *bad_json = "{\"version\": 8,\n \"layers\": [\n  {\"id\": \"a\",, }]}";
    CHECK(msh_rstyle_compile("s.json", bad_json, strlen(bad_json), NULL, &st, &err) == MSH_EFORMAT);
    CHECK(!strncmp(err.msg, "s.json:3:", 9));
    const char *bad_match = "{\"version\": 8,\n\"layers\": [\n{\"id\": \"bg\", \"type\": \"background\"},\n"
                            "{\"id\": \"zones\", \"type\": \"fill\", \"source-layer\": \"z\",\n"
                            " \"paint\": {\"fill-color\": [\"match\", [\"get\", \"a\"], \"x\"]}}]}";
    CHECK(msh_rstyle_compile("s.json", bad_match, strlen(bad_match), NULL, &st, &err) == MSH_EFORMAT);
    CHECK(strstr(err.msg, "s.json:4: layer 'zones', fill-color: 'match' takes at least 4 arguments, not 2") != NULL);
    const char *nover = "{\"layers\": []}";
    CHECK(msh_rstyle_compile("s.json", nover, strlen(nover), NULL, &st, &err) == MSH_EFORMAT);
    CHECK(strstr(err.msg, "version") != NULL);
    const char *noid = "{\"version\": 8, \"layers\": [{\"type\": \"fill\"}]}";
    CHECK(msh_rstyle_compile("s.json", noid, strlen(noid), NULL, &st, &err) == MSH_EFORMAT);
    CHECK(strstr(err.msg, "needs a string \"id\"") != NULL);
    const char *order = "{\"version\": 8, \"layers\": [{\"id\": \"l\", \"type\": \"line\", \"source-layer\": \"w\","
                        " \"paint\": {\"line-width\": [\"interpolate\", [\"linear\"], [\"zoom\"], 14, 1, 12, 2]}}]}";
    CHECK(msh_rstyle_compile("s.json", order, strlen(order), NULL, &st, &err) == MSH_EFORMAT);
    CHECK(strstr(err.msg, "ascending") != NULL);
    /* outside the subset: warnings, and the style still compiles */
    msh_buf w;
    msh_buf_init(&w, 1 << 16);
    const char *unsup = "{\"version\": 8, \"layers\": [\n{\"id\": \"r\", \"type\": \"raster\", \"source\": \"x\"},\n"
                        "{\"id\": \"l\", \"type\": \"line\", \"source-layer\": \"w\", \"paint\": {\"line-pattern\": "
                        "\"p\", \"line-blur\": 1, \"line-color\": [\"within\", {}]}}]}";
    CHECK(msh_rstyle_compile("s.json", unsup, strlen(unsup), &w, &st, &err) == MSH_OK);
    if (st) {
        CHECK(st->nlayers == 1);
        msh_buf_putc(&w, 0);
        const char *ws = (const char *)w.data;
        CHECK(strstr(ws, "s.json:2: layer 'r': layer type 'raster' is not supported") != NULL);
        CHECK(strstr(ws, "paint property 'line-pattern' is not supported, ignored") != NULL);
        CHECK(strstr(ws, "paint property 'line-blur' is not supported, ignored") != NULL);
        CHECK(strstr(ws, "line-color: operator 'within' is not supported") != NULL);
        msh_ectx c = ctx(10, NULL);
        double col[4];
        msh_rl_color(&st->layers[0], P_LINE_COLOR, &c, col); /* the default: black */
        color_is(col, 0, 1);
        msh_rstyle_free(st);
    }
    /* a keyword MapLibre does not know: named with the ones it does, drawn with the default */
    msh_buf_reset(&w);
    const char *kw = "{\"version\": 8, \"layers\": [\n{\"id\": \"l\", \"type\": \"line\", \"source-layer\": \"w\","
                     " \"layout\": {\"line-cap\": \"rounded\", \"line-join\": \"round\"}},\n{\"id\": \"s\", \"type\":"
                     " \"symbol\", \"source-layer\": \"w\", \"layout\": {\"symbol-placement\": 3}}]}";
    CHECK(msh_rstyle_compile("k.json", kw, strlen(kw), &w, &st, &err) == MSH_OK);
    if (st) {
        msh_buf_putc(&w, 0);
        const char *ws = (const char *)w.data;
        CHECK(strstr(ws, "k.json:2: layer 'l': line-cap: 'rounded' is not one of butt, round, square; drawn with "
                         "the default") != NULL);
        CHECK(strstr(ws, "line-join") == NULL); /* a known keyword: no word about it */
        CHECK(strstr(ws, "k.json:3: layer 's': symbol-placement: a value that is not a string is not one of point, "
                         "line, line-center") != NULL);
        msh_ectx c = ctx(10, NULL);
        msh_val cap = msh_rl_eval(&st->layers[0], P_LINE_CAP, &c);
        CHECK(cap.t == MV_STR && cap.len == 4 && !memcmp(cap.s, "butt", 4));
        msh_val join = msh_rl_eval(&st->layers[0], P_LINE_JOIN, &c);
        CHECK(join.t == MV_STR && join.len == 5 && !memcmp(join.s, "round", 5));
        msh_rstyle_free(st);
    }
    msh_buf_free(&w);
}

static void test_default_and_operations(const char *src)
{
    const char *names[] = {"camps", "walkways", "assets", "mixed"};
    const char *types[] = {"Polygon", "LineString", "Point", "Geometry"};
    msh_rstyle *st = NULL;
    msh_err err;
    CHECK(msh_rstyle_default(names, types, 4, &st, &err) == MSH_OK);
    if (st) {
        CHECK(st->nlayers == 2 + 1 + 1 + 4);
        CHECK(!strcmp(msh_rstyle_source_layer(st, 0), "camps"));
        msh_rstyle_free(st);
    }
    /* the project's own style compiles without a single warning */
    char path[1024];
    snprintf(path, sizeof path, "%s/styles/operations.json", src);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) return;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    msh_buf w;
    msh_buf_init(&w, 1 << 16);
    CHECK(msh_rstyle_compile("operations.json", buf, n, &w, &st, &err) == MSH_OK);
    if (w.len) fprintf(stderr, "warnings: %.*s\n", (int)w.len, (const char *)w.data);
    CHECK(w.len == 0);
    if (st) {
        CHECK(st->nlayers >= 20);
        CHECK(st->layers[0].type == RL_BACKGROUND);
        msh_rstyle_free(st);
    }
    msh_buf_free(&w);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_zoom_functions();
    test_data_functions();
    test_legacy();
    test_colors();
    test_errors_and_warnings();
    test_default_and_operations(MSH_SOURCE_DIR);
    CHECK_DONE();
}
