/* test_cql2.c: the CQL2-text parser and evaluator, the query geometry tests and the OGC query-string parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/msh_tilemath.h"
#include "query/cql2.h"
#include "query/qgeom.h"
#include "query/qs.h"

/* A layer with one field of each type and a time. */
static msh_field FIELDS[] = {{(char *)"name", MSH_FT_STRING}, {(char *)"capacity", MSH_FT_INT},
                             {(char *)"ratio", MSH_FT_REAL},  {(char *)"open", MSH_FT_BOOL},
                             {(char *)"reported_at", MSH_FT_STRING}, {(char *)"big", MSH_FT_INT}};
static msh_layer_info INFO = {(char *)"things", (char *)"static", (char *)"Point", {0}, 0, 20, 6, FIELDS, 0, 1, 0, NULL};

static msh_value sv(const char *s)
{
    msh_value v = {MSH_FT_STRING, (uint32_t)strlen(s), {0}};
    v.u.s = s;
    return v;
}

static msh_value iv(int64_t i)
{
    msh_value v = {MSH_FT_INT, 0, {0}};
    v.u.i = i;
    return v;
}

static msh_value rv(double d)
{
    msh_value v = {MSH_FT_REAL, 0, {0}};
    v.u.d = d;
    return v;
}

static msh_value bv(int b)
{
    msh_value v = {MSH_FT_BOOL, 0, {0}};
    v.u.i = b;
    return v;
}

static const msh_value NUL = {0, 0, {0}};

/* A point feature at lon/lat with the given values. */
typedef struct {
    double xy[2];
    msh_value v[6];
    msh_feature f;
} pt_feature;

static void make_point(pt_feature *p, double lon, double lat, const msh_value v[6])
{
    msh_lonlat_to_world(lon, lat, &p->xy[0], &p->xy[1]);
    memcpy(p->v, v, sizeof p->v);
    p->f.id = 1;
    p->f.geom = (msh_geom){MSH_GT_POINT, 1, 0, p->xy, NULL};
    p->f.values = p->v;
}

static int eval(const char *text, const msh_feature *f)
{
    msh_cql2 *c = NULL;
    msh_err err;
    if (msh_cql2_parse(text, strlen(text), &INFO, &c, &err)) {
        fprintf(stderr, "parse failed: %s: %s\n", text, err.msg);
        return -1;
    }
    int r = msh_cql2_match(c, f);
    msh_cql2_free(c);
    return r;
}

/* The parse error for `text`, or "" when it parses. */
static const char *parse_error(const char *text)
{
    static msh_err err;
    msh_cql2 *c = NULL;
    err.msg[0] = 0;
    if (msh_cql2_parse(text, strlen(text), &INFO, &c, &err) == MSH_OK) {
        msh_cql2_free(c);
        return "";
    }
    return err.msg;
}

static void test_comparisons(void)
{
    pt_feature p;
    msh_value v[6] = {sv("Mina camp"), iv(2700), rv(0.25), bv(1), sv("2026-05-26T08:00:00Z"), iv(9007199254740993LL)};
    make_point(&p, 39.89, 21.41, v);
    CHECK(eval("capacity = 2700", &p.f) == 1);
    CHECK(eval("capacity <> 2700", &p.f) == 0);
    CHECK(eval("capacity > 2699 AND capacity < 2701", &p.f) == 1);
    CHECK(eval("capacity >= 2700 and capacity <= 2700", &p.f) == 1);
    CHECK(eval("2700 = capacity", &p.f) == 1);
    CHECK(eval("capacity = 2700.0", &p.f) == 1);
    CHECK(eval("ratio < 0.3 AND ratio > 0.2", &p.f) == 1);
    CHECK(eval("ratio = 2.5e-1", &p.f) == 1);
    CHECK(eval("name = 'Mina camp'", &p.f) == 1);
    CHECK(eval("name < 'Minb'", &p.f) == 1);
    CHECK(eval("\"name\" = 'Mina camp'", &p.f) == 1);
    msh_value q[6] = {sv("it's"), NUL, NUL, NUL, NUL, NUL};
    pt_feature pq;
    make_point(&pq, 39.89, 21.41, q);
    CHECK(eval("name = 'it''s'", &pq.f) == 1);
    CHECK(eval("name = 'it\\'s'", &pq.f) == 1); /* CQL2's other escapeQuote */
    CHECK(eval("name LIKE '%\\'s'", &pq.f) == 1);
    CHECK(eval("open = TRUE", &p.f) == 1);
    CHECK(eval("open = false", &p.f) == 0);
    /* 64-bit integers compare exactly, not through doubles */
    CHECK(eval("big = 9007199254740993", &p.f) == 1);
    CHECK(eval("big = 9007199254740992", &p.f) == 0);
    CHECK(eval("big > 9007199254740992", &p.f) == 1);
    /* logic and precedence: AND binds tighter than OR */
    CHECK(eval("capacity = 1 OR capacity = 2700 AND name = 'Mina camp'", &p.f) == 1);
    CHECK(eval("(capacity = 1 OR capacity = 2700) AND name = 'x'", &p.f) == 0);
    CHECK(eval("NOT capacity = 1", &p.f) == 1);
    CHECK(eval("NOT NOT capacity = 2700", &p.f) == 1);
    CHECK(eval("not (capacity = 2700 or name = 'x')", &p.f) == 0);
    CHECK(eval("TRUE", &p.f) == 1);
    CHECK(eval("FALSE OR TRUE", &p.f) == 1);
    /* times */
    CHECK(eval("reported_at = TIMESTAMP('2026-05-26T08:00:00Z')", &p.f) == 1);
    CHECK(eval("reported_at < TIMESTAMP('2026-05-26T08:00:01Z')", &p.f) == 1);
    CHECK(eval("reported_at > TIMESTAMP('2026-05-26T11:00:00+03:00')", &p.f) == 0);
    CHECK(eval("reported_at = DATE('2026-05-26')", &p.f) == 1);
    CHECK(eval("reported_at < DATE('2026-05-27')", &p.f) == 1);
    CHECK(eval("reported_at > DATE('2026-05-25')", &p.f) == 1);
    CHECK(eval("reported_at > DATE('2026-05-26')", &p.f) == 0);
}

static void test_advanced(void)
{
    pt_feature p;
    msh_value v[6] = {sv("مخيم 12 - منى"), iv(50), rv(1.5), bv(0), sv("garbage"), NUL};
    make_point(&p, 39.89, 21.41, v);
    CHECK(eval("name LIKE 'مخيم%'", &p.f) == 1);
    CHECK(eval("name LIKE 'مخيم __ - منى'", &p.f) == 1);  /* '_' is one character, not one byte */
    CHECK(eval("name LIKE 'مخيم _ - منى'", &p.f) == 0);
    CHECK(eval("name NOT LIKE '%منى'", &p.f) == 0);
    CHECK(eval("name LIKE '%'", &p.f) == 1);
    CHECK(eval("capacity IN (1, 50, 3)", &p.f) == 1);
    CHECK(eval("capacity NOT IN (1, 50, 3)", &p.f) == 0);
    CHECK(eval("name IN ('a', 'b')", &p.f) == 0);
    CHECK(eval("capacity BETWEEN 50 AND 60", &p.f) == 1);
    CHECK(eval("capacity BETWEEN 51 AND 60", &p.f) == 0);
    CHECK(eval("capacity NOT BETWEEN 51 AND 60", &p.f) == 1);
    CHECK(eval("ratio BETWEEN 1 AND 2 AND capacity < 100", &p.f) == 1);
    /* nulls: comparisons are unknown, so neither they nor their negations keep the feature */
    CHECK(eval("big IS NULL", &p.f) == 1);
    CHECK(eval("big IS NOT NULL", &p.f) == 0);
    CHECK(eval("big = 1", &p.f) == 0);
    CHECK(eval("NOT big = 1", &p.f) == 0);
    CHECK(eval("big = 1 OR capacity = 50", &p.f) == 1);
    CHECK(eval("NOT (big = 1 AND capacity = 51)", &p.f) == 1); /* unknown AND false = false */
    /* a text time that does not parse compares as unknown */
    CHECK(eval("reported_at < TIMESTAMP('2030-01-01T00:00:00Z')", &p.f) == 0);
    /* LIKE itself */
    CHECK(msh_cql2_like("abc", 3, "a%c", 3));
    CHECK(msh_cql2_like("a%c", 3, "a\\%c", 4));
    CHECK(!msh_cql2_like("abc", 3, "a\\%c", 4));
    CHECK(msh_cql2_like("", 0, "%%", 2));
    CHECK(!msh_cql2_like("", 0, "_", 1));
    CHECK(msh_cql2_like("aaaaaaaaaaaaaaaaaaaaaaaab", 25, "%a%a%a%a%b", 10));
    CHECK(!msh_cql2_like("aaaaaaaaaaaaaaaaaaaaaaaaa", 25, "%a%a%a%a%b", 10));
    CHECK(msh_cql2_like("ab", 2, "%%%%a%%%%b%%%%", 14));
    CHECK(!msh_cql2_like("ab", 2, "a_b", 3));
    CHECK(msh_cql2_like("منى", strlen("منى"), "___", 3)); /* 3 letters, 6 bytes */
    /* a hostile pattern against a long text: refused by length or matched quickly */
    char text[4001], pat[8001];
    memset(text, 'a', 4000);
    text[4000] = 0;
    for (int i = 0; i < 4000; i++) {
        pat[2 * i] = '%';
        pat[2 * i + 1] = 'a';
    }
    pat[8000] = 'b';
    CHECK(!msh_cql2_like(text, 4000, pat, 8001));
    CHECK(msh_cql2_like(text, 4000, pat, 8000));
}

static void test_errors(void)
{
    CHECK(strstr(parse_error("nosuch = 1"), "unknown property 'nosuch'"));
    CHECK(strstr(parse_error("nosuch = 1"), "capacity"));
    CHECK(strstr(parse_error("capacity = 'x'"), "cannot compare a number with a string"));
    CHECK(strstr(parse_error("capacity >"), "at character 11"));
    CHECK(strstr(parse_error("capacity"), "expected a comparison"));
    CHECK(strstr(parse_error("name = 'open"), "unexpected character"));
    CHECK(strstr(parse_error(""), "empty"));
    CHECK(strstr(parse_error("   "), "empty"));
    CHECK(strstr(parse_error("(capacity = 1"), "expected ')'"));
    CHECK(strstr(parse_error("capacity = 1)"), "end of the filter"));
    CHECK(strstr(parse_error("capacity LIKE 'x'"), "LIKE applies to text"));
    CHECK(strstr(parse_error("name LIKE 5"), "quoted pattern"));
    CHECK(strstr(parse_error("open > TRUE"), "booleans"));
    CHECK(strstr(parse_error("UPPER(name) = 'X'"), "unsupported function"));
    CHECK(strstr(parse_error("S_CONTAINS(geometry, POINT(1 2))"), "S_INTERSECTS"));
    CHECK(strstr(parse_error("T_AFTER(reported_at, TIMESTAMP('2026-01-01T00:00:00Z'))"), "temporal"));
    CHECK(strstr(parse_error("reported_at = TIMESTAMP('2026-02-30T00:00:00Z')"), "not an RFC 3339"));
    CHECK(strstr(parse_error("reported_at = DATE('2026-02-01T00:00:00Z')"), "not a date"));
    CHECK(strstr(parse_error("name IN (name)"), "list of values"));
    CHECK(strstr(parse_error("capacity BETWEEN 1 OR 2"), "AND"));
    CHECK(strstr(parse_error("name IS 5"), "NULL"));
    CHECK(strstr(parse_error("name = 'a' AND"), "end of the filter"));
    CHECK(strstr(parse_error("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1)))"), "at least 4"));
    CHECK(strstr(parse_error("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 2)))"), "closed"));
    CHECK(strstr(parse_error("S_INTERSECTS(geometry, LINESTRING(0 0))"), "at least 2"));
    CHECK(strstr(parse_error("S_INTERSECTS(geometry, POINT(0 nan))"), "geometry"));
    CHECK(strstr(parse_error("S_INTERSECTS(name, POINT(0 0))"), "geometry property"));
    CHECK(strstr(parse_error("S_INTERSECTS(geometry, BBOX(0, 0, 1))"), "BBOX"));
    CHECK(strstr(parse_error("S_INTERSECTS(geometry, BBOX(0, 5, 1, 1))"), "south"));
    CHECK(strstr(parse_error("geometry = 1"), "cannot compare"));
    char nul[] = "name = 'a\0b'";
    msh_cql2 *c = NULL;
    msh_err err;
    CHECK(msh_cql2_parse(nul, sizeof nul - 1, &INFO, &c, &err) == MSH_EINVAL && strstr(err.msg, "NUL"));
    /* hostile nesting: refused with a message, no deep recursion */
    size_t n = 100000;
    char *deep = malloc(2 * n + 32);
    memset(deep, '(', n);
    memcpy(deep + n, "capacity = 1", 12);
    memset(deep + n + 12, ')', n);
    CHECK(msh_cql2_parse(deep, 2 * n + 12, &INFO, &c, &err) == MSH_EINVAL); /* too long first */
    CHECK(msh_cql2_parse(deep + n - 100, 212, &INFO, &c, &err) == MSH_EINVAL && strstr(err.msg, "too deep"));
    CHECK(msh_cql2_parse(deep + n - 60, 132, &INFO, &c, &err) == MSH_OK); /* 60 levels are fine */
    msh_cql2_free(c);
    c = NULL;
    size_t k = 0;
    for (int i = 0; i < 100; i++)
        k += (size_t)snprintf(deep + k, 2 * n + 32 - k, "NOT ");
    k += (size_t)snprintf(deep + k, 2 * n + 32 - k, "capacity = 1");
    CHECK(msh_cql2_parse(deep, k, &INFO, &c, &err) == MSH_EINVAL && strstr(err.msg, "too deep"));
    /* a long chain of ANDs is wide, not deep: fine until the node cap */
    k = 0;
    for (int i = 0; i < 500; i++)
        k += (size_t)snprintf(deep + k, 2 * n + 32 - k, "%scapacity <> %d", i ? " AND " : "", i);
    pt_feature p;
    msh_value v[6] = {sv("x"), iv(7777), NUL, NUL, NUL, NUL};
    make_point(&p, 39.89, 21.41, v);
    CHECK(msh_cql2_parse(deep, k, &INFO, &c, &err) == MSH_OK);
    CHECK(c && msh_cql2_match(c, &p.f));
    msh_cql2_free(c);
    c = NULL;
    k = 0;
    for (int i = 0; i < 1000; i++)
        k += (size_t)snprintf(deep + k, 2 * n + 32 - k, "%scapacity=%d", i ? " OR " : "", i);
    CHECK(msh_cql2_parse(deep, k, &INFO, &c, &err) == MSH_EINVAL && strstr(err.msg, "too complex"));
    free(deep);
}

/* A square polygon with a square hole, in world units, as a layer hands it out. */
static void test_spatial(void)
{
    double ll[10][2] = {{39.0, 21.0}, {40.0, 21.0}, {40.0, 22.0}, {39.0, 22.0}, {39.0, 21.0},
                        {39.4, 21.4}, {39.6, 21.4}, {39.6, 21.6}, {39.4, 21.6}, {39.4, 21.4}};
    double xy[20];
    for (int i = 0; i < 10; i++)
        msh_lonlat_to_world(ll[i][0], ll[i][1], &xy[2 * i], &xy[2 * i + 1]);
    uint32_t parts[2] = {5 | MSH_RING_OUTER, 5};
    msh_value v[6] = {sv("zone"), iv(1), NUL, NUL, NUL, NUL};
    msh_feature f = {9, {MSH_GT_POLYGON, 10, 2, xy, parts}, v};
    CHECK(eval("S_INTERSECTS(geometry, POINT(39.2 21.2))", &f) == 1);
    CHECK(eval("S_INTERSECTS(geometry, POINT(39.5 21.5))", &f) == 0); /* in the hole */
    CHECK(eval("S_INTERSECTS(geometry, POINT(39.4 21.5))", &f) == 1); /* on the hole's edge */
    CHECK(eval("S_INTERSECTS(geometry, POINT(41 21.5))", &f) == 0);
    CHECK(eval("S_INTERSECTS(geometry, LINESTRING(39.45 21.45, 39.55 21.55))", &f) == 0);
    CHECK(eval("S_INTERSECTS(geometry, LINESTRING(39.45 21.45, 39.7 21.55))", &f) == 1);
    CHECK(eval("S_INTERSECTS(geometry, LINESTRING(38 20, 41 23))", &f) == 1); /* crosses, no vertex inside */
    CHECK(eval("S_INTERSECTS(geometry, POLYGON((39.45 21.45, 39.55 21.45, 39.55 21.55, 39.45 21.45)))", &f) == 0);
    CHECK(eval("S_INTERSECTS(geometry, POLYGON((38 20, 41 20, 41 23, 38 23, 38 20)))", &f) == 1); /* contains it */
    CHECK(eval("S_INTERSECTS(POLYGON((38 20, 41 20, 41 23, 38 23, 38 20)), geometry)", &f) == 1);
    CHECK(eval("S_INTERSECTS(geometry, MULTIPOINT((39.5 21.5), (45 45)))", &f) == 0);
    CHECK(eval("S_INTERSECTS(geometry, MULTIPOINT(39.5 21.5, 39.1 21.1))", &f) == 1);
    CHECK(eval("S_INTERSECTS(geometry, BBOX(39.45, 21.45, 39.55, 21.55))", &f) == 0);
    CHECK(eval("S_INTERSECTS(geometry, BBOX(39.45, 21.45, 39.65, 21.55))", &f) == 1);
    CHECK(eval("S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(50 50), LINESTRING(39.5 21.5, 39.5 23)))", &f) == 1);
    CHECK(eval("S_INTERSECTS(geometry, POINT EMPTY)", &f) == 0);
    CHECK(eval("s_intersects(geometry, point z (39.2 21.2 100))", &f) == 1);
    CHECK(eval("S_INTERSECTS(geometry, POINT(39.2 21.2)) AND name = 'zone'", &f) == 1);
    CHECK(eval("NOT S_INTERSECTS(geometry, POINT(39.5 21.5))", &f) == 1);
    /* a line feature, crossing a polygon's corner */
    double lxy[4];
    msh_lonlat_to_world(0, 0, &lxy[0], &lxy[1]);
    msh_lonlat_to_world(2, 2, &lxy[2], &lxy[3]);
    uint32_t lparts[1] = {2};
    msh_feature line = {3, {MSH_GT_LINE, 2, 1, lxy, lparts}, v};
    CHECK(eval("S_INTERSECTS(geometry, POLYGON((1.5 0, 3 0, 3 0.4, 1.5 0.4, 1.5 0)))", &line) == 0);
    CHECK(eval("S_INTERSECTS(geometry, LINESTRING(0 2, 2 0))", &line) == 1);
    CHECK(eval("S_INTERSECTS(geometry, MULTILINESTRING((5 5, 6 6), (0 2, 0.9 1.1)))", &line) == 0);
}

static void test_qs(void)
{
    msh_err err;
    double b[4];
    CHECK(msh_qs_bbox("39.8,21.3,40.1,21.5", b, &err) == MSH_OK && b[0] == 39.8 && b[3] == 21.5);
    CHECK(msh_qs_bbox("39.8,21.3,0,40.1,21.5,10", b, &err) == MSH_OK && b[2] == 40.1 && b[3] == 21.5);
    CHECK(msh_qs_bbox("170,0,-170,1", b, &err) == MSH_OK); /* across the antimeridian */
    CHECK(msh_qs_bbox("1,2,3", b, &err) == MSH_EINVAL && strstr(err.msg, "got 3"));
    CHECK(msh_qs_bbox("1,2,3,4,5", b, &err) == MSH_EINVAL);
    CHECK(msh_qs_bbox("a,2,3,4", b, &err) == MSH_EINVAL && strstr(err.msg, "value 1"));
    CHECK(msh_qs_bbox("1,2,3,4x", b, &err) == MSH_EINVAL);
    CHECK(msh_qs_bbox("1,5,3,4", b, &err) == MSH_EINVAL && strstr(err.msg, "south"));
    CHECK(msh_qs_bbox("21,200,22,201", b, &err) == MSH_EINVAL && strstr(err.msg, "latitude"));
    CHECK(msh_qs_bbox("inf,0,1,1", b, &err) == MSH_EINVAL);
    CHECK(msh_qs_bbox("", b, &err) == MSH_EINVAL);
    uint32_t lim;
    CHECK(msh_qs_limit("10", 10000, &lim, &err) == MSH_OK && lim == 10);
    CHECK(msh_qs_limit("99999999999999999999999", 10000, &lim, &err) == MSH_OK && lim == 10000);
    CHECK(msh_qs_limit("0", 10000, &lim, &err) == MSH_EINVAL);
    CHECK(msh_qs_limit("-1", 10000, &lim, &err) == MSH_EINVAL && strstr(err.msg, "-1"));
    CHECK(msh_qs_limit("abc", 10000, &lim, &err) == MSH_EINVAL && strstr(err.msg, "abc"));
    CHECK(msh_qs_limit("", 10000, &lim, &err) == MSH_EINVAL);
    CHECK(msh_qs_limit("5 ", 10000, &lim, &err) == MSH_EINVAL);
    int64_t lo, hi;
    CHECK(msh_qs_datetime("2026-05-26T08:00:00Z", &lo, &hi, &err) == MSH_OK && lo == hi && lo == 1779782400000LL);
    CHECK(msh_qs_datetime("2026-05-26", &lo, &hi, &err) == MSH_OK && lo == 1779753600000LL &&
          hi == lo + 86400000 - 1);
    CHECK(msh_qs_datetime("../2026-05-26T08:00:00Z", &lo, &hi, &err) == MSH_OK && lo == MSH_TIME_MIN);
    CHECK(msh_qs_datetime("2026-05-26T08:00:00Z/", &lo, &hi, &err) == MSH_OK && hi == MSH_TIME_MAX);
    CHECK(msh_qs_datetime("2026-05-26T08:00:00+03:00/2026-05-26T08:00:00Z", &lo, &hi, &err) == MSH_OK &&
          hi - lo == 3 * 3600000);
    CHECK(msh_qs_datetime("2026-05-27/2026-05-26", &lo, &hi, &err) == MSH_EINVAL && strstr(err.msg, "before"));
    CHECK(msh_qs_datetime("a/b/c", &lo, &hi, &err) == MSH_EINVAL);
    CHECK(msh_qs_datetime("yesterday", &lo, &hi, &err) == MSH_EINVAL && strstr(err.msg, "yesterday"));
    CHECK(msh_qs_datetime("", &lo, &hi, &err) == MSH_EINVAL);
    CHECK(msh_qs_datetime("2026-02-29", &lo, &hi, &err) == MSH_EINVAL);
    CHECK(msh_qs_datetime("2028-02-29T12:00:00Z", &lo, &hi, &err) == MSH_OK);
    CHECK(msh_qs_datetime("2100-02-29", &lo, &hi, &err) == MSH_EINVAL);
    uint64_t after;
    char cur[32];
    msh_qs_cursor_fmt(0xfedcba9876543210ull, cur, sizeof cur);
    CHECK(msh_qs_cursor(cur, &after, &err) == MSH_OK && after == 0xfedcba9876543210ull);
    CHECK(msh_qs_cursor("k", &after, &err) == MSH_EINVAL);
    CHECK(msh_qs_cursor("kxyz", &after, &err) == MSH_EINVAL);
    CHECK(msh_qs_cursor("k11111111111111111", &after, &err) == MSH_EINVAL); /* 17 digits: past 64 bits */
    msh_value v;
    CHECK(msh_qs_value("capacity", "2700", MSH_FT_INT, &v, &err) == MSH_OK && v.u.i == 2700);
    CHECK(msh_qs_value("capacity", "27x", MSH_FT_INT, &v, &err) == MSH_EINVAL && strstr(err.msg, "capacity"));
    CHECK(msh_qs_value("ratio", "0.5", MSH_FT_REAL, &v, &err) == MSH_OK && v.u.d == 0.5);
    CHECK(msh_qs_value("open", "yes", MSH_FT_BOOL, &v, &err) == MSH_EINVAL);
    msh_value a = iv(3), r3 = rv(3.0), s3 = sv("3");
    CHECK(msh_value_equals(&a, &r3));
    CHECK(!msh_value_equals(&a, &s3));
    CHECK(!msh_value_equals(&NUL, &NUL));
    CHECK(msh_qs_time_field(&INFO) == 4);
}

int main(void)
{
    test_comparisons();
    test_advanced();
    test_errors();
    test_spatial();
    test_qs();
    CHECK_DONE();
}
