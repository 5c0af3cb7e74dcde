/* test_kpi.c: every KPI on a scripted scenario whose expected values are worked out by hand below.
 *
 * The site (all at lat ~21.405, where 0.001 deg of longitude is about 103.5 m):
 *
 *   zone Z1: lon 39.880-39.890, lat 21.400-21.410      zone Z2: lon 39.890-39.900, same lat
 *   the network: a walkway along lat 21.405 from lon 39.870 to 39.900, crossed at 39.886 by a street
 *   running north-south (so C1 reaches T1 along one edge, C2 reaches K1 through the crossing node)
 *
 *   assets (on the walkway unless said):   T1 toilet working 39.882 (Z1)   K1 clinic working 39.884 (Z1)
 *     G-1 gate working 39.889/21.409 (Z1, capacity 1000)   T2 toilet FAULTY 39.895 (Z2)
 *     W1 water_point working 39.897 (Z2)   G-2 gate MAINTENANCE 39.899/21.401 (Z2, capacity 2000)
 *     L1 lighting faulty 39.893/21.402 (Z2)
 *   camps (centroids 0.0002 deg = 22.2 m north of the walkway): C1 39.883 (Z1, 1000 people),
 *     C2 39.888 (Z1, 3000; its entrance, given, at 39.8845 at the end of its access path: it meets the
 *     network there), C3 39.896 (Z2, 2000)
 *   cleaning routes: R1 lat 21.408, lon 39.881-39.887 (Z1, 0.006 deg = 621 m);
 *                    R2 lat 21.402, lon 39.891-39.899 (Z2, 0.008 deg = 828 m)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "store_build.h"
#include "catalog.h"
#include "core/msh_tilemath.h"
#include "kpi/kpi.h"
#include "kpi/kpi_history.h"
#include "kpi/kpi_layer.h"
#include "live/live.h"
#include "route/graph.h"
#include "store.h"

#define T0 1779782400000LL /* 2026-05-26T08:00:00Z */
#define MIN 60000LL
#define HOUR 3600000LL
#define LAT 21.405

/* ------------------------------------------------------------------ WKB and the store */

static void make_site(msh_store *s)
{
    wkb g;
    msh_field zf[2] = {{(char *)"zone_id", MSH_FT_STRING}, {(char *)"name", MSH_FT_STRING}};
    msh_store_writer *w = begin(s, "service_zones", zf, 2);
    wkb_box(&g, 39.880, 21.400, 39.890, 21.410);
    add(w, &g, (msh_value[]){S("Z1"), S("Zone one")});
    wkb_box(&g, 39.890, 21.400, 39.900, 21.410);
    add(w, &g, (msh_value[]){S("Z2"), S("Zone two")});
    commit(w);

    msh_field af[5] = {{(char *)"asset_id", MSH_FT_STRING}, {(char *)"kind", MSH_FT_STRING},
                       {(char *)"status", MSH_FT_STRING},   {(char *)"zone_id", MSH_FT_STRING},
                       {(char *)"capacity", MSH_FT_INT}};
    w = begin(s, "assets", af, 5);
    struct { const char *id, *kind, *status, *zone; double lon, lat; int cap; } A[] = {
        {"T1", "toilet", "working", "Z1", 39.882, LAT, 12},
        {"K1", "clinic", "working", "Z1", 39.884, LAT, 0},
        {"G-1", "gate", "working", "Z1", 39.889, 21.409, 1000},
        {"T2", "toilet", "faulty", "Z2", 39.895, LAT, 12},
        {"W1", "water_point", "working", "Z2", 39.897, LAT, 0},
        {"G-2", "gate", "maintenance", "Z2", 39.899, 21.401, 2000},
        {"L1", "lighting", "faulty", "Z2", 39.893, 21.402, 0},
    };
    for (size_t i = 0; i < sizeof A / sizeof A[0]; i++) {
        wkb_point(&g, A[i].lon, A[i].lat);
        add(w, &g, (msh_value[]){S(A[i].id), S(A[i].kind), S(A[i].status), S(A[i].zone), I(A[i].cap)});
    }
    commit(w);

    msh_field cf[5] = {{(char *)"camp_id", MSH_FT_STRING}, {(char *)"capacity", MSH_FT_INT},
                       {(char *)"zone_id", MSH_FT_STRING}, {(char *)"entrance_lon", MSH_FT_REAL},
                       {(char *)"entrance_lat", MSH_FT_REAL}};
    w = begin(s, "camps", cf, 5);
    struct { const char *id; double lon; int cap; const char *zone; double elon; } C[] = {
        {"C1", 39.883, 1000, "Z1", 0}, {"C2", 39.888, 3000, "Z1", 39.8845}, {"C3", 39.896, 2000, "Z2", 0}};
    for (int i = 0; i < 3; i++) {
        double c = LAT + 0.0002;
        wkb_box(&g, C[i].lon - 0.0001, c - 0.0001, C[i].lon + 0.0001, c + 0.0001);
        msh_value none = {0, 0, {0}};
        msh_value elon = C[i].elon ? (msh_value){MSH_FT_REAL, 0, {.d = C[i].elon}} : none;
        msh_value elat = C[i].elon ? (msh_value){MSH_FT_REAL, 0, {.d = c}} : none;
        add(w, &g, (msh_value[]){S(C[i].id), I(C[i].cap), S(C[i].zone), elon, elat});
    }
    commit(w);

    msh_field rf[1] = {{(char *)"route_id", MSH_FT_STRING}};
    w = begin(s, "cleaning_routes", rf, 1);
    wkb_line(&g, 39.881, 21.408, 39.887, 21.408);
    add(w, &g, (msh_value[]){S("R1")});
    wkb_line(&g, 39.891, 21.402, 39.899, 21.402);
    add(w, &g, (msh_value[]){S("R2")});
    commit(w);

    /* the cleaning tasks: CL-1 on R1 (fid 1), CL-2 on R2 (fid 2); only the assigned crew's sweeps count */
    msh_field tf[3] = {{(char *)"route", MSH_FT_INT}, {(char *)"crew", MSH_FT_STRING}, {(char *)"status", MSH_FT_STRING}};
    w = begin(s, "cleaning_tasks", tf, 3);
    wkb_box(&g, 39.881, 21.407, 39.887, 21.409);
    add(w, &g, (msh_value[]){I(1), S("CL-1"), S("open")});
    wkb_box(&g, 39.891, 21.401, 39.899, 21.403);
    add(w, &g, (msh_value[]){I(2), S("CL-2"), S("in_progress")});
    commit(w);

    /* the walkway with a vertex at 39.886, where a cross street meets it: two edges and a node */
    msh_field wf[1] = {{(char *)"highway", MSH_FT_STRING}};
    w = begin(s, "walkways", wf, 1);
    hdr(&g, 2);
    put_u32(&g, 3);
    double main_xy[6] = {39.870, LAT, 39.886, LAT, 39.900, LAT};
    for (int i = 0; i < 6; i++)
        put_d(&g, main_xy[i]);
    add(w, &g, (msh_value[]){S("footway")});
    hdr(&g, 2);
    put_u32(&g, 3);
    double cross_xy[6] = {39.886, 21.400, 39.886, LAT, 39.886, 21.410};
    for (int i = 0; i < 6; i++)
        put_d(&g, cross_xy[i]);
    add(w, &g, (msh_value[]){S("footway")});
    commit(w);
}

/* ------------------------------------------------------------------ live records */

static void apply_json(msh_live *live, msh_feed feed, const char *json)
{
    msh_jrec j;
    const char *w;
    msh_feed_rec r;
    char why[200] = "";
    CHECK(msh_jrec_parse(json, strlen(json), &j, &w) == 0);
    int rc = msh_feed_rec_from_json(feed, &j, T0 + 10 * HOUR, &r, why, sizeof why);
    if (rc)
        fprintf(stderr, "record refused: %s: %s\n", why, json);
    CHECK(rc == 0);
    msh_live_wrlock(live);
    msh_live_apply(live, feed, &r, 1, T0);
    msh_live_unlock(live);
}

static int np;
static void people(msh_live *live, int n, double lon, double lat)
{
    char buf[256];
    for (int i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "{\"id\":\"P-%d\",\"lon\":%.7f,\"lat\":%.7f,\"time\":%lld}", np++, lon, lat,
                 (long long)T0);
        apply_json(live, MSH_FEED_POSITIONS, buf);
    }
}

/* An incident reported at t_rep; on scene after os s (0: not yet), resolved after rs s (0: not yet). */
static void incident(msh_live *live, const char *id, const char *sev, double lon, double lat, int64_t t_rep, int os,
                     int rs)
{
    char buf[400];
    const char *fmt = "{\"id\":\"%s\",\"kind\":\"medical\",\"severity\":\"%s\",\"status\":\"%s\",\"lon\":%.5f,"
                      "\"lat\":%.5f,\"time\":%lld}";
    snprintf(buf, sizeof buf, fmt, id, sev, "reported", lon, lat, (long long)t_rep);
    apply_json(live, MSH_FEED_INCIDENTS, buf);
    if (os) {
        snprintf(buf, sizeof buf, fmt, id, sev, "on_scene", lon, lat, (long long)(t_rep + os * 1000LL));
        apply_json(live, MSH_FEED_INCIDENTS, buf);
    }
    if (rs) {
        snprintf(buf, sizeof buf, fmt, id, sev, "resolved", lon, lat, (long long)(t_rep + rs * 1000LL));
        apply_json(live, MSH_FEED_INCIDENTS, buf);
    }
}

/* ------------------------------------------------------------------ reading results back */

static const msh_kpi_zone *Z(const msh_kpi_result *r, const char *id)
{
    const msh_kpi_zone *z = msh_kpi_result_zone(r, id, strlen(id));
    CHECK(z != NULL);
    static msh_kpi_zone empty;
    return z ? z : &empty;
}

typedef struct {
    int n;
    char ids[4][8];
    double composite[4];
    char los[4][2];
} layer_seen;

static int on_kpi_feature(void *ud, const msh_feature *f)
{
    layer_seen *s = ud;
    if (s->n < 4) {
        snprintf(s->ids[s->n], sizeof s->ids[0], "%.*s", (int)f->values[0].len, f->values[0].u.s);
        s->composite[s->n] = f->values[3 + MSH_KPI_COMPOSITE].type == MSH_FT_REAL
                                 ? f->values[3 + MSH_KPI_COMPOSITE].u.d : NAN;
        s->los[s->n][0] = f->values[2].type ? f->values[2].u.s[0] : 0;
        CHECK(f->geom.type == MSH_GT_POLYGON);
    }
    s->n++;
    return 0;
}

static void test_helpers(void)
{
    /* percentile: type 7. For 5 values 120 180 240 300 600: p50 -> rank 2 = 240;
     * p90 -> h = 4 x 0.9 = 3.6: 300 + 0.6 x (600 - 300) = 480 */
    double v[5] = {120, 180, 240, 300, 600};
    CHECK_NEAR(msh_kpi_percentile(v, 5, 0.5), 240, 1e-9);
    CHECK_NEAR(msh_kpi_percentile(v, 5, 0.9), 480, 1e-9);
    CHECK_NEAR(msh_kpi_percentile(v, 1, 0.9), 120, 1e-9);
    CHECK(isnan(msh_kpi_percentile(v, 0, 0.5)));
    /* 4 values 10 20 30 40: p50 -> h = 1.5: 25; p90 -> h = 2.7: 30 + 0.7 x 10 = 37 */
    double w[4] = {10, 20, 30, 40};
    CHECK_NEAR(msh_kpi_percentile(w, 4, 0.5), 25, 1e-9);
    CHECK_NEAR(msh_kpi_percentile(w, 4, 0.9), 37, 1e-9);

    /* configuration */
    msh_kpi_config c;
    msh_err err;
    msh_kpi_config_default(&c);
    CHECK(c.toilet_m == 300 && c.water_m == 300 && c.clinic_m == 500 && c.interval_s == 60);
    const char *good = "{\"_comment\":\"x\",\"toilet_m\":250,\"interval_s\":5,\"weights\":{\"crowd\":5,\"gates\":0}}";
    CHECK(msh_kpi_config_parse(good, strlen(good), &c, &err) == MSH_OK);
    CHECK(c.toilet_m == 250 && c.interval_s == 5 && c.weight[MSH_KPI_W_CROWD] == 5 && c.weight[MSH_KPI_W_GATES] == 0);
    CHECK(c.clinic_m == 500); /* untouched keys keep their defaults */
    struct { const char *doc, *msg; } bad[] = {
        {"{\"toilet\":300}", "unknown key 'toilet'"},
        {"{\"toilet_m\":\"300\"}", "'toilet_m' must be a number"},
        {"{\"toilet_m\":-5}", "'toilet_m' must be from"},
        {"{\"interval_s\":1.5}", "whole number"},
        {"{\"weights\":{\"speed\":1}}", "unknown weight 'speed'"},
        {"{\"weights\":{\"crowd\":0,\"coverage\":0,\"response\":0,\"gates\":0,\"environment\":0,\"assets\":0,"
         "\"cleaning\":0}}", "must not all be 0"},
        {"[1]", "must be a JSON object"},
        {"{\"toilet_m\":300,\"toilet_m\":200}", "not JSON"},
        {"{", "not JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msh_kpi_config d;
        msh_kpi_config_default(&d);
        msh_rc rc = msh_kpi_config_parse(bad[i].doc, strlen(bad[i].doc), &d, &err);
        CHECK(rc == MSH_EINVAL && strstr(err.msg, bad[i].msg));
        if (rc != MSH_EINVAL || !strstr(err.msg, bad[i].msg))
            fprintf(stderr, "  config %s -> %s\n", bad[i].doc, rc ? err.msg : "accepted");
        CHECK(d.toilet_m == 300); /* a refused document changes nothing */
    }

    /* history query parameters */
    msh_kpi_hq q;
    CHECK(msh_kpi_hq_parse(NULL, NULL, NULL, T0, &q, &err) == MSH_OK);
    CHECK(q.to_ms == T0 && q.from_ms == T0 - 24 * HOUR && q.step_ms == 60000);
    CHECK(msh_kpi_hq_parse("2026-05-26T07:00:00Z", "2026-05-26T08:00:00Z", "5m", T0, &q, &err) == MSH_OK);
    CHECK(q.from_ms == T0 - HOUR && q.to_ms == T0 && q.step_ms == 300000);
    CHECK(msh_kpi_hq_parse(NULL, NULL, "PT1H30M", T0, &q, &err) == MSH_OK && q.step_ms == 5400000);
    CHECK(msh_kpi_hq_parse(NULL, NULL, "P1D", T0, &q, &err) == MSH_OK && q.step_ms == 86400000);
    CHECK(msh_kpi_hq_parse(NULL, NULL, "90", T0, &q, &err) == MSH_OK && q.step_ms == 90000);
    struct { const char *from, *to, *step, *msg; } hb[] = {
        {"yesterday", NULL, NULL, "from: not an ISO 8601 time"},
        {NULL, "2026-13-01T00:00:00Z", NULL, "to: not an ISO 8601 time"},
        {NULL, NULL, "fast", "step:"},
        {NULL, NULL, "0", "from 1 second"},
        {NULL, NULL, "5x", "step:"},
        {NULL, NULL, "PT", "step:"},
        {"2026-05-26T09:00:00Z", "2026-05-26T08:00:00Z", NULL, "from must not be after to"},
        {"2026-01-01T00:00:00Z", "2026-05-26T08:00:00Z", "1", "at most 10000"},
    };
    for (size_t i = 0; i < sizeof hb / sizeof hb[0]; i++) {
        msh_rc rc = msh_kpi_hq_parse(hb[i].from, hb[i].to, hb[i].step, T0, &q, &err);
        CHECK(rc == MSH_EINVAL && strstr(err.msg, hb[i].msg));
        if (rc != MSH_EINVAL || !strstr(err.msg, hb[i].msg))
            fprintf(stderr, "  history params %zu -> %s\n", i, rc ? err.msg : "accepted");
    }
}

/* Time integration alone: credits, gaps and the window. Interval 60 s, so a gap over 180 s credits
 * nothing; window 1 h. Observations of the whole service (zone id ""), then computes read them back:
 *   0 min E (1.5/m2), no temperature     1 min E, 41 degC      2 min E, 41 degC
 *   12 min F (3.0/m2), 39 degC (10 minutes after the last: nothing credited for the gap)
 *   13 min 0.1/m2, 39 degC               14 min: a compute (one sensor at 20 degC, nobody: A)
 * E/F is credited from 0 to 1, 1 to 2 and 12 to 13: 3 min; heat from 1 to 2: 1 min = 1/60 h. The heat
 * index is 41 C (danger) at 1 and 2 min, 30 C (caution) at 12 and 13 min. At 75 min
 * the window starts at 15 min: everything has left it. */
static void test_integration_window(void)
{
    msh_kpi_config c;
    msh_kpi_config_default(&c);
    c.window_h = 1;
    msh_kpi *k;
    msh_err err;
    CHECK(msh_kpi_new(&c, &k, &err) == MSH_OK);
    msh_kpi_observe(k, "", T0, 1.5, NAN, NAN);
    msh_kpi_observe(k, "", T0 + 1 * MIN, 1.5, 41, 41);
    msh_kpi_observe(k, "", T0 + 2 * MIN, 1.5, 41, 41);
    msh_kpi_observe(k, "", T0 + 12 * MIN, 3.0, 39, 30);
    msh_kpi_observe(k, "", T0 + 13 * MIN, 0.1, 39, 30);
    msh_kpi_observe(k, "", T0 + 13 * MIN, 5.0, 50, 60); /* the same instant again: ignored */
    msh_live_config lc;
    msh_live_config_init(&lc);
    msh_live *live;
    CHECK(msh_live_new(&lc, &live, &err) == MSH_OK);
    char buf[200];
    snprintf(buf, sizeof buf, "{\"id\":\"S\",\"lon\":39.9,\"lat\":21.4,\"temperature\":20,\"time\":%lld}",
             (long long)T0);
    apply_json(live, MSH_FEED_SENSORS, buf);
    msh_kpi_result *r = NULL;
    CHECK(msh_kpi_compute(k, NULL, live, NULL, T0 + 14 * MIN, &r, &err) == MSH_OK);
    CHECK(r && r->nzones == 0);
    if (r) {
        CHECK_NEAR(r->overall.v[MSH_KPI_MINUTES_LOS_EF], 3.0, 1e-9);
        CHECK_NEAR(r->overall.v[MSH_KPI_HOURS_HEAT], 1.0 / 60, 1e-12);
        /* heat index levels: danger (41 C) from 1 to 2; caution (30 C) from 12 to 13 and 13 to 14 */
        CHECK_NEAR(r->overall.v[MSH_KPI_HOURS_DANGER], 1.0 / 60, 1e-12);
        CHECK_NEAR(r->overall.v[MSH_KPI_HOURS_CAUTION], 2.0 / 60, 1e-12);
        CHECK(r->overall.v[MSH_KPI_HOURS_EXTREME_CAUTION] == 0 && r->overall.v[MSH_KPI_HOURS_EXTREME_DANGER] == 0);
        /* the sensor gives no humidity or PM2.5: no heat index, no air figure; none stale */
        CHECK(isnan(r->overall.v[MSH_KPI_HEAT_INDEX_MAX]) && isnan(r->overall.v[MSH_KPI_PM25_MAX]));
        CHECK(r->overall.v[MSH_KPI_SENSORS_STALE] == 0);
        CHECK(r->overall.v[MSH_KPI_TEMP_MAX] == 20 && r->overall.v[MSH_KPI_PEOPLE] == 0);
        CHECK(isnan(r->overall.v[MSH_KPI_SHARE_LOS_A])); /* nobody: shares not measured */
        CHECK(isnan(r->overall.v[MSH_KPI_TOILET_CAMPS])); /* no network: coverage not measured */
    }
    msh_kpi_result_release(r);
    CHECK(msh_kpi_compute(k, NULL, live, NULL, T0 + 75 * MIN, &r, &err) == MSH_OK);
    CHECK(r && r->overall.v[MSH_KPI_MINUTES_LOS_EF] == 0 && r->overall.v[MSH_KPI_HOURS_HEAT] == 0);
    msh_kpi_result_release(r);
    msh_live_free(live);
    msh_kpi_free(k);
}

int main(int argc, char **argv)
{
    const char *tmp = argc > 1 ? argv[1] : ".";
    test_helpers();
    test_integration_window();

    char db[1024];
    snprintf(db, sizeof db, "%s/test_kpi.sqlite", tmp);
    unlink(db);
    msh_store *s;
    msh_err err;
    CHECK(msh_store_open(db, true, &s, &err) == MSH_OK);
    make_site(s);
    msh_catalog *cat = NULL;
    CHECK(msh_catalog_load(s, NULL, &cat, &err) == MSH_OK);
    msh_layer *walk = msh_catalog_find(cat, "walkways", 8);
    msh_graph *g = NULL;
    CHECK(walk && msh_graph_build(&walk, 1, &g, &err) == MSH_OK);

    msh_live_config lc;
    msh_live_config_init(&lc);
    msh_live *live;
    CHECK(msh_live_new(&lc, &live, &err) == MSH_OK);
    msh_kpi_config cfg;
    msh_kpi_config_default(&cfg); /* window 24 h, interval 60 s, heat 40, cleaning 6 h, buffer 15 m, target 480 s */
    msh_kpi *k;
    CHECK(msh_kpi_new(&cfg, &k, &err) == MSH_OK);

    /* Crowd. The 8.9 m base cell here has side m = msh_live_cell_metres(22, 21.405) (8.896 m), area A = m^2
     * (79.1 m2). Everyone of a group stands on one point, so in one cell:
     *   Z1: 10 people (0.126/m2, LoS A) and 100 people (1.264/m2, LoS E: 1.08-2.15)
     *   Z2: 200 people (2.53/m2, LoS F: > 2.15) and 40 people (0.506/m2, LoS C: 0.43-0.72)
     *   outside both zones (lon 39.870): 5 people (LoS A)
     * Z1: people 110, peak 100/A, shares A 10/110, E 100/110; Z2: 240, peak 200/A, C 40/240, F 200/240;
     * overall: 355, peak 200/A, A 15/355, C 40/355, E 100/355, F 200/355. */
    people(live, 10, 39.8815, 21.4015);
    people(live, 100, 39.8855, 21.4035);
    people(live, 200, 39.8955, 21.4035);
    people(live, 40, 39.8985, 21.4085);
    people(live, 5, 39.8700, 21.4050);
    double side = msh_live_cell_metres(22, 21.4035), A = side * side;

    /* Emergency. Z1 (at 39.885, 21.407), reported 2 h before T0 plus 10 min each:
     *   I1 high: on scene after 120 s, resolved after 1800 s      I2 medium: on scene 300 s, resolved 900 s
     *   I3 critical: on scene 180 s, resolved 3600 s              I4 low: on scene 600 s (open)
     *   I5 high: on scene 240 s (open)
     * on scene sorted 120 180 240 300 600: p50 240, p90 300 + 0.6 x 300 = 480; within 480 s: 4 of 5 = 0.8
     * resolved sorted 900 1800 3600: p50 1800, p90 h = 1.8: 1800 + 0.8 x 1800 = 3240
     * Z2: I6 informational, reported 1 h before T0, nothing since (open); I7 reported 25 h before: outside
     * the 24 h window. Overall: 6 incidents, open 3 (I4, I5, I6), the same times as Z1. */
    incident(live, "I1", "high", 39.885, 21.407, T0 - 120 * MIN, 120, 1800);
    incident(live, "I2", "medium", 39.885, 21.407, T0 - 110 * MIN, 300, 900);
    incident(live, "I3", "critical", 39.885, 21.407, T0 - 100 * MIN, 180, 3600);
    incident(live, "I4", "low", 39.885, 21.407, T0 - 90 * MIN, 600, 0);
    incident(live, "I5", "high", 39.885, 21.407, T0 - 80 * MIN, 240, 0);
    incident(live, "I6", "informational", 39.895, 21.407, T0 - 60 * MIN, 0, 0);
    incident(live, "I7", "critical", 39.895, 21.407, T0 - 25 * HOUR, 100, 200);

    /* Gates (no location in the feed: the zone comes from the asset of the same id).
     * G-1: counts at T0 - 60 s and at T0 (in 20, out 5): 25 in 60 s = 1500/h against the asset's 1000: over.
     * G-2: counts at T0 - 120 s and at T0 (in 30, out 10, capacity 2000): 40 in 120 s = 1200/h: under.
     * Z1: 1 gate, 1500 of 1000, utilisation 1.5, 1 over; Z2: 1200 of 2000, 0.6, 0 over;
     * overall: 2700 of 3000, 0.9, 1 over. Gate score: share of gates not over capacity: Z1 0, Z2 1, all 0.5. */
    char buf[300];
    snprintf(buf, sizeof buf, "{\"id\":\"G-1\",\"in\":0,\"out\":0,\"time\":%lld}", (long long)(T0 - MIN));
    apply_json(live, MSH_FEED_GATES, buf);
    snprintf(buf, sizeof buf, "{\"id\":\"G-1\",\"in\":20,\"out\":5,\"time\":%lld}", (long long)T0);
    apply_json(live, MSH_FEED_GATES, buf);
    snprintf(buf, sizeof buf, "{\"id\":\"G-2\",\"in\":0,\"out\":0,\"capacity\":2000,\"time\":%lld}",
             (long long)(T0 - 2 * MIN));
    apply_json(live, MSH_FEED_GATES, buf);
    snprintf(buf, sizeof buf, "{\"id\":\"G-2\",\"in\":30,\"out\":10,\"time\":%lld}", (long long)T0);
    apply_json(live, MSH_FEED_GATES, buf);

    /* Sensors: Z1 42 and 35 degC (max 42 > 40: heat), Z2 38 (no heat). */
    const char *sens[] = {"{\"id\":\"S1\",\"lon\":39.882,\"lat\":21.402,\"temperature\":42,\"time\":%lld}",
                          "{\"id\":\"S2\",\"lon\":39.887,\"lat\":21.409,\"temperature\":35,\"time\":%lld}",
                          "{\"id\":\"S3\",\"lon\":39.894,\"lat\":21.409,\"temperature\":38,\"time\":%lld}"};
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, sens[i], (long long)T0);
        apply_json(live, MSH_FEED_SENSORS, buf);
    }

    /* Cleaning. R1 is one 621 m segment: 63 pieces of 9.86 m (ceil(621/10)). A cleaning crew swept
     * lon 39.881-39.884 (the first 310.6 m) an hour before T0: a piece counts when its middle is within
     * 15 m of the path: middles (q + 0.5) x 9.86 m <= 325.6 m -> q <= 32: 33 of 63 pieces.
     * R2 (828 m, 83 pieces of 9.98 m): swept 39.897-39.899 (the last 207 m) 30 min before T0: middles at
     * or beyond 621.2 - 15 = 606.2 m -> q + 0.5 >= 60.74 -> q >= 61: 22 of 83 pieces. Its first 207 m
     * were swept 7 h before T0: older than 6 h, not counted; an emergency crew passing over it does not
     * clean it, nor does a cleaning crew no task names (CL-9 on the rest of R1), nor CL-1 on R2 (its task
     * is on R1). */
    msh_kpi_crew_path(k, "CL-1", 39.881, 21.408, 39.884, 21.408, T0 - HOUR);
    msh_kpi_crew_path(k, "CL-2", 39.891, 21.402, 39.893, 21.402, T0 - 7 * HOUR);
    msh_kpi_crew_path(k, "CL-9", 39.884, 21.408, 39.887, 21.408, T0 - HOUR);
    msh_kpi_crew_path(k, "CL-1", 39.893, 21.402, 39.897, 21.402, T0 - HOUR);
    msh_live_item crew;
    memset(&crew, 0, sizeof crew);
    msh_feed_rec prev;
    memset(&prev, 0, sizeof prev);
    crew.rec.has = prev.has = MSH_FR_LOC | MSH_FR_KIND;
    snprintf(crew.rec.kind, sizeof crew.rec.kind, "cleaning");
    snprintf(crew.rec.id, sizeof crew.rec.id, "CL-2");
    prev.lon = 39.897, prev.lat = 21.402, prev.t_ms = T0 - 32 * MIN;
    crew.rec.lon = 39.899, crew.rec.lat = 21.402, crew.rec.t_ms = T0 - 30 * MIN;
    msh_kpi_crew_moved(k, &crew, &prev);
    snprintf(crew.rec.kind, sizeof crew.rec.kind, "emergency");
    prev.lon = 39.891, crew.rec.lon = 39.899;
    msh_kpi_crew_moved(k, &crew, &prev);

    /* Computes at T0, T0 + 1 min, T0 + 11 min (a 10-minute gap: not credited), T0 + 13 min.
     * Minutes at E/F: Z1 (peak E), Z2 (peak F) and overall: 1 + 2 = 3 min. Hours of heat: Z1 and overall
     * 3 min = 0.05 h; Z2 0. */
    msh_kpi_result *r = NULL;
    int64_t times[4] = {T0, T0 + MIN, T0 + 11 * MIN, T0 + 13 * MIN};
    for (int i = 0; i < 4; i++) {
        msh_kpi_result_release(r);
        r = NULL;
        CHECK(msh_kpi_compute(k, cat, live, g, times[i], &r, &err) == MSH_OK);
        if (i == 1)
            CHECK(r && r->zones[0].v[MSH_KPI_MINUTES_LOS_EF] == 1.0);
    }
    CHECK(r && r->nzones == 2 && r->graph);
    if (!r)
        return 1;
    const msh_kpi_zone *z1 = Z(r, "Z1"), *z2 = Z(r, "Z2"), *all = &r->overall;
    CHECK(!strcmp(z1->name, "Zone one"));

    /* crowd */
    CHECK(z1->v[MSH_KPI_PEOPLE] == 110 && z2->v[MSH_KPI_PEOPLE] == 240 && all->v[MSH_KPI_PEOPLE] == 355);
    CHECK_NEAR(z1->v[MSH_KPI_PEAK_DENSITY], 100 / A, 1e-3 * 100 / A);
    CHECK_NEAR(z2->v[MSH_KPI_PEAK_DENSITY], 200 / A, 1e-3 * 200 / A);
    CHECK_NEAR(all->v[MSH_KPI_PEAK_DENSITY], 200 / A, 1e-3 * 200 / A);
    CHECK(msh_kpi_peak_los(z1) == 'E' && msh_kpi_peak_los(z2) == 'F');
    CHECK_NEAR(z1->v[MSH_KPI_SHARE_LOS_A], 10.0 / 110, 1e-12);
    CHECK_NEAR(z1->v[MSH_KPI_SHARE_LOS_E], 100.0 / 110, 1e-12);
    CHECK(z1->v[MSH_KPI_SHARE_LOS_B] == 0 && z1->v[MSH_KPI_SHARE_LOS_F] == 0);
    CHECK_NEAR(z2->v[MSH_KPI_SHARE_LOS_C], 40.0 / 240, 1e-12);
    CHECK_NEAR(z2->v[MSH_KPI_SHARE_LOS_F], 200.0 / 240, 1e-12);
    CHECK_NEAR(all->v[MSH_KPI_SHARE_LOS_A], 15.0 / 355, 1e-12);
    CHECK_NEAR(all->v[MSH_KPI_SHARE_LOS_F], 200.0 / 355, 1e-12);
    CHECK_NEAR(z1->v[MSH_KPI_MINUTES_LOS_EF], 3.0, 1e-9);
    CHECK_NEAR(z2->v[MSH_KPI_MINUTES_LOS_EF], 3.0, 1e-9);
    CHECK_NEAR(all->v[MSH_KPI_MINUTES_LOS_EF], 3.0, 1e-9);

    /* coverage (UN SDG 11.2.1). Along the walkway, 0.001 deg = 103.5 m; each camp adds its 22.2 m leg.
     *   toilets (300 m; T2 is faulty): C1 103.5 + 22.2 = 126 m from T1: covered; C2 from its entrance
     *     0.0025 deg = 259 + 22 = 281 m: covered (from its centroid it would be 621 m); C3 1449 m: no.
     *   water (300 m): C3 126 m from W1: covered; C1, C2 no.
     *   clinics (500 m): C1 126 m, C2 0.0005 deg = 52 + 22 = 74 m from K1: covered; C3 1264 m: no.
     * Z1 (C1 1000, C2 3000): toilet camps 2/2, capacity 1; water 0, 0; clinic 2/2, 1.
     * Z2 (C3 2000): toilet 0, 0; water 1, 1; clinic 0, 0.
     * overall (6000): toilet 2/3, 4000/6000; water 1/3, 2000/6000; clinic 2/3, 4000/6000. */
    CHECK(z1->v[MSH_KPI_CAMPS] == 2 && z1->v[MSH_KPI_CAMP_CAPACITY] == 4000 && all->v[MSH_KPI_CAMPS] == 3);
    CHECK_NEAR(z1->v[MSH_KPI_TOILET_CAMPS], 1, 1e-12);
    CHECK_NEAR(z1->v[MSH_KPI_TOILET_CAPACITY], 1, 1e-12);
    CHECK(z1->v[MSH_KPI_WATER_CAMPS] == 0 && z1->v[MSH_KPI_WATER_CAPACITY] == 0);
    CHECK(z1->v[MSH_KPI_CLINIC_CAMPS] == 1 && z1->v[MSH_KPI_CLINIC_CAPACITY] == 1);
    CHECK(z2->v[MSH_KPI_TOILET_CAMPS] == 0 && z2->v[MSH_KPI_WATER_CAPACITY] == 1 && z2->v[MSH_KPI_CLINIC_CAMPS] == 0);
    CHECK_NEAR(all->v[MSH_KPI_TOILET_CAPACITY], 4000.0 / 6000, 1e-12);
    CHECK_NEAR(all->v[MSH_KPI_WATER_CAMPS], 1.0 / 3, 1e-12);
    CHECK_NEAR(all->v[MSH_KPI_CLINIC_CAPACITY], 4000.0 / 6000, 1e-12);

    /* emergency */
    CHECK(z1->v[MSH_KPI_INCIDENTS] == 5 && z1->v[MSH_KPI_OPEN] == 2);
    CHECK(z1->v[MSH_KPI_SEV_HIGH] == 2 && z1->v[MSH_KPI_SEV_MEDIUM] == 1 && z1->v[MSH_KPI_SEV_CRITICAL] == 1 &&
          z1->v[MSH_KPI_SEV_LOW] == 1 && z1->v[MSH_KPI_SEV_INFO] == 0);
    CHECK_NEAR(z1->v[MSH_KPI_ON_SCENE_P50], 240, 1e-9);
    CHECK_NEAR(z1->v[MSH_KPI_ON_SCENE_P90], 480, 1e-9);
    CHECK_NEAR(z1->v[MSH_KPI_RESOLVED_P50], 1800, 1e-9);
    CHECK_NEAR(z1->v[MSH_KPI_RESOLVED_P90], 3240, 1e-9);
    CHECK_NEAR(z1->v[MSH_KPI_WITHIN_TARGET], 0.8, 1e-12);
    CHECK(z2->v[MSH_KPI_INCIDENTS] == 1 && z2->v[MSH_KPI_OPEN] == 1 && z2->v[MSH_KPI_SEV_INFO] == 1 &&
          z2->v[MSH_KPI_SEV_CRITICAL] == 0);
    CHECK(isnan(z2->v[MSH_KPI_ON_SCENE_P50]) && isnan(z2->v[MSH_KPI_WITHIN_TARGET]));
    CHECK(all->v[MSH_KPI_INCIDENTS] == 6 && all->v[MSH_KPI_OPEN] == 3);
    CHECK_NEAR(all->v[MSH_KPI_ON_SCENE_P90], 480, 1e-9);

    /* gates */
    CHECK(z1->v[MSH_KPI_GATES] == 1 && z1->v[MSH_KPI_OVER_CAPACITY] == 1);
    CHECK_NEAR(z1->v[MSH_KPI_FLOW], 1500, 1e-6);
    CHECK_NEAR(z1->v[MSH_KPI_UTILISATION], 1.5, 1e-9);
    CHECK_NEAR(z2->v[MSH_KPI_UTILISATION], 0.6, 1e-9);
    CHECK(z2->v[MSH_KPI_OVER_CAPACITY] == 0 && z2->v[MSH_KPI_GATE_CAPACITY] == 2000);
    CHECK_NEAR(all->v[MSH_KPI_FLOW], 2700, 1e-6);
    CHECK_NEAR(all->v[MSH_KPI_UTILISATION], 0.9, 1e-9);

    /* environment */
    CHECK(z1->v[MSH_KPI_SENSORS] == 2 && z1->v[MSH_KPI_TEMP_MAX] == 42 && z2->v[MSH_KPI_TEMP_MAX] == 38);
    CHECK_NEAR(z1->v[MSH_KPI_HOURS_HEAT], 0.05, 1e-9);
    CHECK_NEAR(z2->v[MSH_KPI_HOURS_HEAT], 0, 1e-12);
    CHECK_NEAR(all->v[MSH_KPI_HOURS_HEAT], 0.05, 1e-9);

    /* assets: Z1 3 of 3 working; Z2 1 of 4 (T2 faulty, G-2 maintenance, L1 faulty); all 4 of 7 */
    CHECK(z1->v[MSH_KPI_ASSETS] == 3 && z1->v[MSH_KPI_SHARE_WORKING] == 1);
    CHECK(z2->v[MSH_KPI_ASSETS] == 4 && z2->v[MSH_KPI_SHARE_WORKING] == 0.25);
    CHECK_NEAR(all->v[MSH_KPI_SHARE_WORKING], 4.0 / 7, 1e-12);

    /* cleaning: lengths by the local scale of the map (about 0.1% off the haversine) */
    double l1 = 0.006 * M_PI / 180 * 6378137 * cos(21.408 * M_PI / 180);
    double l2 = 0.008 * M_PI / 180 * 6378137 * cos(21.402 * M_PI / 180);
    CHECK_NEAR(z1->v[MSH_KPI_ROUTE_M], l1, 1e-6 * l1);
    CHECK_NEAR(z1->v[MSH_KPI_SHARE_COVERED], 33.0 / 63, 1e-9);
    CHECK_NEAR(z2->v[MSH_KPI_SHARE_COVERED], 22.0 / 83, 1e-9);
    CHECK_NEAR(all->v[MSH_KPI_SHARE_COVERED], (33.0 / 63 * l1 + 22.0 / 83 * l2) / (l1 + l2), 1e-6);
    /* the tasks' progress: R1 33 of 63 pieces (52 %); R2 its first 22 and last 22 of 83 pieces, whenever
     * swept (44 of 83: 53 %) */
    CHECK(r->ntasks == 2 && r->tasks[0].fid == 1 && r->tasks[1].fid == 2);
    CHECK(r->ntasks == 2 && r->tasks[0].progress == 52 && r->tasks[1].progress == 53);
    CHECK(r->ntasks == 2 && !strcmp(r->tasks[0].crew, "CL-1") && r->tasks[1].status == 1);
    CHECK(r->ntasks == 2 && fabs(r->tasks[0].len_m - l1) < 1e-6);

    /* composite, default weights crowd 3, coverage 1, response 2, gates 1, environment 1, assets 1, cleaning 1:
     * Z1: crowd 1 - 100/110 = 0.090909, coverage (1 + 0 + 1)/3 = 0.666667, response 0.8, gates 0,
     *     environment 1 - 0.05/24 = 0.997917, assets 1, cleaning 33/63 = 0.523810
     *     -> 100 x (0.272727 + 0.666667 + 1.6 + 0 + 0.997917 + 1 + 0.523810) / 10 = 50.6112
     * Z2: crowd 1 - 200/240 = 0.166667, coverage (0 + 1 + 0)/3, response not measured (left out), gates 1,
     *     environment 1, assets 0.25, cleaning 22/83 = 0.265060
     *     -> 100 x (0.5 + 0.333333 + 1 + 1 + 0.25 + 0.265060) / 8 = 41.8549 */
    CHECK_NEAR(z1->v[MSH_KPI_SCORE_CROWD], 1 - 100.0 / 110, 1e-12);
    CHECK_NEAR(z1->v[MSH_KPI_SCORE_COVERAGE], 2.0 / 3, 1e-12);
    CHECK(isnan(z2->v[MSH_KPI_SCORE_RESPONSE]));
    double c1 = 100 * (3 * (1 - 100.0 / 110) + 2.0 / 3 + 2 * 0.8 + 0 + (1 - 0.05 / 24) + 1 + 33.0 / 63) / 10;
    double c2 = 100 * (3 * (1 - 200.0 / 240) + 1.0 / 3 + 1 + 1 + 0.25 + 22.0 / 83) / 8;
    CHECK_NEAR(c1, 50.6112, 1e-4);
    CHECK_NEAR(c2, 41.8549, 1e-4);
    CHECK_NEAR(z1->v[MSH_KPI_COMPOSITE], c1, 1e-9);
    CHECK_NEAR(z2->v[MSH_KPI_COMPOSITE], c2, 1e-9);

    /* JSON */
    msh_buf b;
    msh_buf_init(&b, 1 << 20);
    CHECK(msh_kpi_zone_json(z2, &b) == MSH_OK);
    msh_buf_putc(&b, 0);
    CHECK(strstr((char *)b.data, "\"crowd\":{\"peak_los\":\"F\",\"people\":240,"));
    CHECK(strstr((char *)b.data, "\"on_scene_p50_s\":null"));
    CHECK(strstr((char *)b.data, "\"utilisation\":0.6,"));
    msh_buf_free(&b);

    /* the kpi_zones layer: both zones with their composite and peak LoS */
    msh_layer *kl;
    CHECK(msh_kpi_layer_new(k, &kl, &err) == MSH_OK);
    layer_seen seen;
    memset(&seen, 0, sizeof seen);
    const double world[4] = {0, 0, 1, 1};
    CHECK(kl->vt->query(kl, world, 14, on_kpi_feature, &seen) == MSH_OK);
    CHECK(seen.n == 2 && !strcmp(seen.ids[0], "Z1") && !strcmp(seen.ids[1], "Z2"));
    /* tiles carry the values as the JSON shows them: 6 significant digits */
    CHECK(seen.composite[0] == msh_kpi_published(z1->v[MSH_KPI_COMPOSITE]));
    CHECK_NEAR(seen.composite[0], c1, 1e-4);
    CHECK(msh_kpi_published(0.123456789) == 0.123457 && msh_kpi_published(355) == 355 &&
          isnan(msh_kpi_published(NAN)));
    CHECK(seen.los[0][0] == 'E' && seen.los[1][0] == 'F');
    uint64_t v1 = kl->vt->region_version(kl, 14, world);
    CHECK(v1 == kl->vt->region_version(kl, 14, world));

    /* History: record the last two computes, reopen (a restart), read them back, and replay */
    msh_kpi_history *h;
    CHECK(msh_kpi_history_open(db, &h, &err) == MSH_OK);
    CHECK(msh_kpi_history_append(h, r, &err) == MSH_OK);
    /* the swept route pieces: 33 of R1 and 22 of R2 swept within 6 h, plus R2's first pieces swept 7 h
     * ago (middles within 207.1 + 15 m of its start: (q + 0.5) x 9.98 <= 222.1 -> q <= 21, 22 pieces;
     * their time is remembered though too old to count) */
    size_t saved = 0;
    CHECK(msh_kpi_history_save_swept(h, k, &saved, &err) == MSH_OK);
    CHECK(saved == 33 + 22 + 22);
    CHECK(msh_kpi_history_save_swept(h, k, &saved, &err) == MSH_OK && saved == 0); /* nothing new since */
    msh_kpi_history_close(h);
    CHECK(msh_kpi_history_open(db, &h, &err) == MSH_OK);
    /* records from T0 on, none a day later */
    CHECK(msh_kpi_history_has_since(h, T0) && !msh_kpi_history_has_since(h, T0 + 24 * HOUR));
    msh_kpi_hq q = {T0, T0 + HOUR, 60000};
    msh_buf_init(&b, 1 << 20);
    CHECK(msh_kpi_history_query(h, "Z1", &q, &b, &err) == MSH_OK);
    msh_buf_putc(&b, 0);
    CHECK(strstr((char *)b.data, "\"zone_id\":\"Z1\""));
    CHECK(strstr((char *)b.data, "{\"time\":\"2026-05-26T08:13:00Z\",\"t_ms\":1779783180000,\"kpi\":{\"crowd\":"
                                 "{\"peak_los\":\"E\",\"people\":110,"));
    msh_buf_free(&b);
    /* the step keeps the first record of each step: two records a minute apart, step 1 h -> one point */
    msh_kpi_result *r2 = NULL;
    CHECK(msh_kpi_compute(k, cat, live, g, T0 + 14 * MIN, &r2, &err) == MSH_OK);
    /* a minute more at E/F changed values: the layer's tiles get a new version (ETag, cache key) */
    CHECK(kl->vt->region_version(kl, 14, world) != v1);
    CHECK(msh_kpi_history_append(h, r2, &err) == MSH_OK);
    msh_buf_init(&b, 1 << 20);
    q.step_ms = HOUR;
    CHECK(msh_kpi_history_query(h, "", &q, &b, &err) == MSH_OK);
    msh_buf_putc(&b, 0);
    CHECK(strstr((char *)b.data, "\"zone_id\":null") && strstr((char *)b.data, "08:13:00Z") &&
          !strstr((char *)b.data, "08:14:00Z"));
    msh_buf_free(&b);
    msh_buf_init(&b, 1 << 20);
    q.step_ms = MIN;
    CHECK(msh_kpi_history_query(h, "", &q, &b, &err) == MSH_OK);
    msh_buf_putc(&b, 0);
    CHECK(strstr((char *)b.data, "08:13:00Z") && strstr((char *)b.data, "08:14:00Z"));
    msh_buf_free(&b);
    /* a new engine after a restart: replaying the two records (13 and 14 min, E, heat in Z1) credits 1 min */
    msh_kpi *k2;
    CHECK(msh_kpi_new(&cfg, &k2, &err) == MSH_OK);
    size_t rows = 0;
    CHECK(msh_kpi_history_replay(h, k2, T0 - 24 * HOUR, T0 + HOUR, &rows, &err) == MSH_OK);
    CHECK(rows == 6); /* 2 zones + overall, twice */
    CHECK(msh_kpi_history_load_swept(h, k2, &rows, &err) == MSH_OK && rows == 77);
    msh_kpi_result *r3 = NULL;
    CHECK(msh_kpi_compute(k2, cat, live, g, T0 + 15 * MIN, &r3, &err) == MSH_OK);
    CHECK(r3 && Z(r3, "Z1")->v[MSH_KPI_MINUTES_LOS_EF] == 2.0); /* 13 -> 14 replayed, 14 -> 15 now */
    CHECK(r3 && Z(r3, "Z1")->v[MSH_KPI_HOURS_HEAT] == 2.0 / 60);
    /* cleaning coverage came back with the swept pieces (no crew has moved for this engine) */
    CHECK_NEAR(Z(r3, "Z1")->v[MSH_KPI_SHARE_COVERED], 33.0 / 63, 1e-9);
    CHECK_NEAR(Z(r3, "Z2")->v[MSH_KPI_SHARE_COVERED], 22.0 / 83, 1e-9);
    msh_kpi_result_release(r3);
    msh_kpi_free(k2);
    /* retention: everything before 08:14 goes (2 zones + overall recorded at 08:13), 08:14 stays */
    size_t pruned = 0;
    CHECK(msh_kpi_history_prune(h, T0 + 14 * MIN, &pruned, &err) == MSH_OK && pruned == 3);
    msh_buf_init(&b, 1 << 20);
    CHECK(msh_kpi_history_query(h, "", &q, &b, &err) == MSH_OK);
    msh_buf_putc(&b, 0);
    CHECK(!strstr((char *)b.data, "08:13:00Z") && strstr((char *)b.data, "08:14:00Z"));
    msh_buf_free(&b);
    msh_kpi_history_close(h);

    msh_layer_release(kl);
    msh_kpi_result_release(r2);
    msh_kpi_result_release(r);
    msh_kpi_free(k);
    msh_live_free(live);
    msh_graph_release(g);
    msh_catalog_release(cat);
    msh_store_close(s);
    unlink(db);
    CHECK_DONE();
}
