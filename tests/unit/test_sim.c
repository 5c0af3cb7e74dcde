/* test_sim.c: the crowd model of `mashaer simulate` on the demo data, with fixed seeds: records parse
 * and carry their fields, positions stay in the sites' box, the walk to Arafat only gets closer,
 * the rate holds per tick, the schedule passes every phase, Weidmann's curve, determinism, and the
 * waste bins: filled by the crowd, emptied by the cleaning crews that pass; the plan of a window
 * written as a forecast schedule (--schedule-out) is the groups the model sent out in it. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "forecast/schedule.h"
#include "sim.h"

#define DAY8_MS 1779656400000LL /* 2026-05-25 00:00 in Makkah */
#define HOUR_MS 3600000LL

static char g_data[1024];

/* data/demo from this file's path (CMake compiles it by its absolute path). */
static int find_data(void)
{
    const char *env = getenv("MSH_DEMO_DIR");
    if (env) {
        snprintf(g_data, sizeof g_data, "%s", env);
        return 0;
    }
    snprintf(g_data, sizeof g_data, "%s", __FILE__);
    char *p = strstr(g_data, "tests/unit/test_sim.c");
    if (!p)
        return -1;
    snprintf(p, sizeof g_data - (size_t)(p - g_data), "data/demo");
    struct stat st;
    return stat(g_data, &st) == 0 ? 0 : -1;
}

static msh_sim *make(uint32_t pilgrims, uint64_t seed, int64_t start_ms)
{
    msh_sim_opts o;
    msh_sim_opts_init(&o);
    o.data_dir = g_data;
    o.pilgrims = pilgrims;
    o.seed = seed;
    o.start_ms = start_ms;
    o.run_id = "test";
    msh_sim *s = NULL;
    msh_err err;
    if (msh_sim_create(&o, &s, &err))
        fprintf(stderr, "msh_sim_create: %s\n", err.msg);
    return s;
}

/* Parse every line of b as JSON; check the fields a feed needs; count lines. */
typedef struct expect {
    const char *feed;
    double bbox[4];
    const char *stamp;
    int lines, bad;
} expect;

static int in_box(const double *bb, double lon, double lat)
{
    const double m = 0.0003; /* about 30 m: a group's spread at rest and the jitter */
    return lon >= bb[0] - m && lon <= bb[2] + m && lat >= bb[1] - m && lat <= bb[3] + m;
}

static void check_lines(const msh_buf *b, expect *e)
{
    const char *p = (const char *)b->data, *end = p + b->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        CHECK(nl != NULL);
        if (!nl)
            return;
        json_error_t je;
        json_t *j = json_loadb(p, (size_t)(nl - p), 0, &je);
        e->lines++;
        int ok = json_is_object(j) && json_is_string(json_object_get(j, "id")) &&
                 json_is_string(json_object_get(j, "time"));
        if (ok && e->stamp)
            ok = !strcmp(json_string_value(json_object_get(j, "time")), e->stamp);
        json_t *lon = json_object_get(j, "lon"), *lat = json_object_get(j, "lat");
        if (ok) /* every feed of ours carries a location, gates included */
            ok = json_is_number(lon) && json_is_number(lat) &&
                 in_box(e->bbox, json_number_value(lon), json_number_value(lat));
        if (ok && !strcmp(e->feed, "positions")) {
            json_t *sp = json_object_get(j, "speed"), *hd = json_object_get(j, "heading");
            ok = !strncmp(json_string_value(json_object_get(j, "id")), "P-", 2) &&
                 json_is_string(json_object_get(j, "group")) && json_is_number(sp) && json_number_value(sp) >= 0 &&
                 json_number_value(sp) <= 15 &&
                 (!hd || (json_is_integer(hd) && json_integer_value(hd) >= 0 && json_integer_value(hd) < 360));
        } else if (ok && !strcmp(e->feed, "crews")) {
            const char *k = json_string_value(json_object_get(j, "kind"));
            ok = k && (!strcmp(k, "cleaning") || !strcmp(k, "emergency")) &&
                 json_is_string(json_object_get(j, "status"));
        } else if (ok && !strcmp(e->feed, "gates")) {
            ok = json_is_integer(json_object_get(j, "in")) && json_is_integer(json_object_get(j, "out"));
        } else if (ok && !strcmp(e->feed, "sensors")) {
            double t = json_number_value(json_object_get(j, "temperature"));
            double rh = json_number_value(json_object_get(j, "relativeHumidity"));
            ok = t >= 29 && t <= 46 && rh > 0 && rh < 1 && json_is_number(json_object_get(j, "pm25")) &&
                 json_is_integer(json_object_get(j, "airQualityIndex")) && json_is_number(json_object_get(j, "LAeq"));
        } else if (ok && !strcmp(e->feed, "incidents")) {
            const char *k = json_string_value(json_object_get(j, "kind"));
            const char *sv = json_string_value(json_object_get(j, "severity"));
            const char *st = json_string_value(json_object_get(j, "status"));
            ok = k && sv && st && strstr("|medical|lost_person|fire|crowding|", k) &&
                 strstr("|informational|low|medium|high|critical|", sv) &&
                 strstr("|reported|dispatched|on_scene|resolved|", st) &&
                 !strncmp(json_string_value(json_object_get(j, "id")), "INC-test-", 9);
        }
        if (!ok && e->bad++ < 3)
            fprintf(stderr, "bad %s record: %.*s\n", e->feed, (int)(nl - p), p);
        json_decref(j);
        p = nl + 1;
    }
}

static void test_weidmann(void)
{
    CHECK_NEAR(msh_sim_weidmann(0.5), 1.298, 0.002); /* 1.34 (1 - e^(-1.913 (2 - 1/5.4))) */
    CHECK_NEAR(msh_sim_weidmann(5.4), 0, 1e-12);
    CHECK_NEAR(msh_sim_weidmann(8), 0, 1e-12);
    CHECK_NEAR(msh_sim_weidmann(0), 1.34, 1e-12);
    CHECK_NEAR(msh_sim_weidmann(1), 1.34 * (1 - exp(-1.913 * (1 - 1 / 5.4))), 1e-12);
    int falls = 1;
    for (double r = 0.1; r < 5.4; r += 0.1)
        falls &= msh_sim_weidmann(r + 0.1) < msh_sim_weidmann(r);
    CHECK(falls);
}

static void test_pacer(void)
{
    msh_sim_pacer p;
    msh_sim_pacer_init(&p, 5000, 1000);
    int exact = 1;
    for (int i = 0; i < 10; i++)
        exact &= msh_sim_pacer_next(&p) == 5000;
    CHECK(exact);
    msh_sim_pacer_init(&p, 1000, 333); /* 333 a tick, the fraction carried */
    uint64_t sum = 0;
    int steady = 1;
    for (int i = 0; i < 3000; i++) {
        uint64_t n = msh_sim_pacer_next(&p);
        steady &= n == 333 || n == 334;
        sum += n;
    }
    CHECK(steady);
    CHECK(sum >= 998999 && sum <= 999000);
    msh_sim_pacer_init(&p, 0.5, 1000); /* a record every other tick */
    uint64_t a = msh_sim_pacer_next(&p), b = msh_sim_pacer_next(&p);
    CHECK(a + b == 1);
}

/* One tick of every feed, as --dry-run writes it: parse, count, check. */
static void test_records(void)
{
    msh_sim *s = make(20000, 7, DAY8_MS + 33 * HOUR_MS); /* the 9th, 09:00: groups on the way and at Arafat */
    CHECK(s != NULL);
    if (!s)
        return;
    msh_sim_stats st;
    msh_sim_get_stats(s, &st);
    CHECK(st.pilgrims == 20000);
    CHECK(st.net_nodes > 1000);
    CHECK(st.gates > 0 && st.camps > 0 && st.sensors > 0);
    /* groups: 20..250 pilgrims, covering everyone once */
    uint64_t total = 0;
    int sizes_ok = 1;
    for (uint32_t i = 0; i < msh_sim_group_count(s); i++) {
        msh_sim_group_info gi;
        msh_sim_group_get(s, i, &gi);
        sizes_ok &= gi.size >= 20 && gi.size <= 250;
        total += gi.size;
    }
    CHECK(sizes_ok);
    CHECK(total == 20000);

    msh_err err;
    msh_buf b;
    msh_buf_init(&b, (size_t)64 << 20);
    msh_sim_pacer p;
    msh_sim_pacer_init(&p, 5000, 1000);
    expect e = {"positions", {0}, "2026-05-26T06:00:00Z", 0, 0};
    msh_sim_sites_bbox(s, e.bbox);
    CHECK(e.bbox[0] > 39.8 && e.bbox[2] < 40.1 && e.bbox[1] > 21.3 && e.bbox[3] < 21.5);
    for (int t = 0; t < 3; t++) {
        CHECK(msh_sim_step(s, 60, &err) == MSH_OK);
        msh_sim_set_stamp(s, 1779775200000LL); /* 2026-05-26T06:00:00Z */
        uint64_t quota = msh_sim_pacer_next(&p), got = 0;
        e.lines = 0;
        while (got < quota) { /* in batches, as the command does */
            uint32_t w = 0, n = quota - got < 1500 ? (uint32_t)(quota - got) : 1500;
            msh_buf_reset(&b);
            CHECK(msh_sim_emit_positions(s, n, &b, &w, &err) == MSH_OK);
            CHECK(w == n);
            got += w;
            check_lines(&b, &e);
        }
        CHECK(got == 5000);
        CHECK(e.lines == 5000);
    }
    CHECK(e.bad == 0);
    /* round robin: 15,000 records so far, the next one is pilgrim 15001 */
    uint32_t w;
    msh_buf_reset(&b);
    msh_sim_emit_positions(s, 1, &b, &w, &err);
    CHECK(b.len > 20 && !memcmp(b.data, "{\"id\":\"P-0015001\"", 17));

    const char *feeds[] = {"crews", "gates", "sensors"};
    for (int f = 0; f < 3; f++) {
        expect ef = {feeds[f], {0}, "2026-05-26T06:00:00Z", 0, 0};
        memcpy(ef.bbox, e.bbox, sizeof ef.bbox);
        msh_buf_reset(&b);
        uint32_t n = 0;
        msh_rc rc = f == 0 ? msh_sim_emit_crews(s, &b, &n, &err)
                    : f == 1 ? msh_sim_emit_gates(s, &b, &n, &err)
                             : msh_sim_emit_sensors(s, &b, &n, &err);
        CHECK(rc == MSH_OK);
        check_lines(&b, &ef);
        CHECK(n > 0 && ef.lines == (int)n && ef.bad == 0);
    }
    CHECK(msh_sim_emit_crews(s, &b, &w, &err) == MSH_OK && w == 40);
    /* the sensors report every 5 simulated minutes, not every call */
    msh_buf_reset(&b);
    CHECK(msh_sim_emit_sensors(s, &b, &w, &err) == MSH_OK && w == 0 && b.len == 0);

    /* incidents: half a simulated day; every lifecycle change once and in order */
    expect ei = {"incidents", {0}, NULL, 0, 0};
    memcpy(ei.bbox, e.bbox, sizeof ei.bbox);
    int seen[4] = {0};
    for (int t = 0; t < 720; t++) {
        CHECK(msh_sim_step(s, 60, &err) == MSH_OK);
        msh_buf_reset(&b);
        uint32_t n = 0;
        msh_sim_emit_incidents(s, &b, &n, &err);
        check_lines(&b, &ei);
        msh_buf_putc(&b, 0);
        const char *st_names[] = {"\"reported\"", "\"dispatched\"", "\"on_scene\"", "\"resolved\""};
        for (int k = 0; k < 4; k++)
            for (const char *q = strstr((const char *)b.data, st_names[k]); q; q = strstr(q + 1, st_names[k]))
                seen[k]++;
    }
    CHECK(ei.bad == 0);
    CHECK(ei.lines > 10);
    CHECK(seen[0] > 0 && seen[1] > 0 && seen[2] > 0 && seen[3] > 0);
    CHECK(seen[3] <= seen[2] && seen[2] <= seen[1] && seen[1] <= seen[0]);
    msh_buf_free(&b);
    msh_sim_destroy(s);
}

/* The 9th from 02:00: every group walking to Arafat is closer to its camp there each minute. */
static void test_to_arafat(void)
{
    msh_sim *s = make(20000, 11, DAY8_MS + 26 * HOUR_MS);
    CHECK(s != NULL);
    if (!s)
        return;
    uint32_t ng = msh_sim_group_count(s);
    double *prev = calloc(ng, sizeof *prev);
    int *was = calloc(ng, sizeof *was);
    uint64_t checks = 0, closer = 0, walked = 0;
    msh_err err;
    for (int t = 0; t < 10 * 60; t++) { /* 02:00 to 12:00 */
        CHECK(msh_sim_step(s, 60, &err) == MSH_OK);
        for (uint32_t i = 0; i < ng; i++) {
            msh_sim_group_info gi;
            msh_sim_group_get(s, i, &gi);
            /* metres a degree at 21.39 N, as the model's frame has them */
            double phi = 21.39 * M_PI / 180;
            double kx = 111412.84 * cos(phi) - 93.5 * cos(3 * phi);
            double ky = 111132.92 - 559.82 * cos(2 * phi) + 1.175 * cos(4 * phi);
            double d = hypot((gi.lon - gi.target_lon) * kx, (gi.lat - gi.target_lat) * ky);
            int now = gi.phase == MSH_SIM_TO_ARAFAT;
            if (now && was[i]) {
                checks++;
                closer += d <= prev[i] + 1e-3;
            }
            walked += now && !was[i];
            was[i] = now;
            prev[i] = d;
        }
    }
    CHECK(walked == ng); /* every group set out */
    CHECK(checks > 1000);
    CHECK(closer == checks);
    msh_sim_stats st;
    msh_sim_get_stats(s, &st);
    CHECK(st.in_phase[MSH_SIM_ARAFAT] == st.pilgrims); /* all there by noon */
    free(prev);
    free(was);
    msh_sim_destroy(s);
}

/* All six days: every phase happens, every position and crew stays in the sites' box. */
static void test_whole_hajj(void)
{
    msh_sim *s = make(6000, 3, DAY8_MS);
    CHECK(s != NULL);
    if (!s)
        return;
    int seen[MSH_SIM_NPHASES] = {0};
    msh_buf b;
    msh_buf_init(&b, (size_t)16 << 20);
    expect e = {"positions", {0}, NULL, 0, 0}, ec = {"crews", {0}, NULL, 0, 0};
    msh_sim_sites_bbox(s, e.bbox);
    memcpy(ec.bbox, e.bbox, sizeof ec.bbox);
    msh_err err;
    for (int t = 0; t < 6 * 24 * 6; t++) { /* ten-minute steps */
        CHECK(msh_sim_step(s, 600, &err) == MSH_OK);
        msh_sim_stats st;
        msh_sim_get_stats(s, &st);
        for (int k = 0; k < MSH_SIM_NPHASES; k++)
            seen[k] |= st.in_phase[k] > 0;
        if (t % 6 == 0) {
            uint32_t w;
            msh_buf_reset(&b);
            msh_sim_emit_positions(s, 6000, &b, &w, &err);
            check_lines(&b, &e);
            msh_buf_reset(&b);
            msh_sim_emit_crews(s, &b, &w, &err);
            check_lines(&b, &ec);
        }
    }
    for (int k = 0; k < MSH_SIM_NPHASES; k++) {
        if (!seen[k])
            fprintf(stderr, "phase %s never seen\n", msh_sim_phase_name(k));
        CHECK(seen[k]);
    }
    CHECK(e.bad == 0 && e.lines == 144 * 6000);
    CHECK(ec.bad == 0);
    msh_sim_stats st;
    msh_sim_get_stats(s, &st);
    CHECK(st.loops == 1); /* after the 13th it starts over */
    msh_buf_free(&b);
    msh_sim_destroy(s);
}

static void run(msh_sim *s, msh_buf *b)
{
    msh_err err;
    uint32_t w;
    for (int t = 0; t < 5; t++) {
        msh_sim_step(s, 60, &err);
        msh_sim_set_stamp(s, msh_sim_time_ms(s));
        msh_sim_emit_positions(s, 3000, b, &w, &err);
        msh_sim_emit_crews(s, b, &w, &err);
        msh_sim_emit_gates(s, b, &w, &err);
        msh_sim_emit_sensors(s, b, &w, &err);
        msh_sim_emit_incidents(s, b, &w, &err);
    }
}

static void test_deterministic(void)
{
    msh_buf a, b, c;
    msh_buf_init(&a, (size_t)16 << 20);
    msh_buf_init(&b, (size_t)16 << 20);
    msh_buf_init(&c, (size_t)16 << 20);
    msh_sim *s1 = make(5000, 42, DAY8_MS + 10 * HOUR_MS), *s2 = make(5000, 42, DAY8_MS + 10 * HOUR_MS),
            *s3 = make(5000, 43, DAY8_MS + 10 * HOUR_MS);
    CHECK(s1 && s2 && s3);
    if (s1 && s2 && s3) {
        run(s1, &a);
        run(s2, &b);
        run(s3, &c);
        CHECK(a.len > 0 && a.len == b.len && !memcmp(a.data, b.data, a.len));
        CHECK(a.len != c.len || memcmp(a.data, c.data, a.len));
    }
    msh_sim_destroy(s1);
    msh_sim_destroy(s2);
    msh_sim_destroy(s3);
    msh_buf_free(&a);
    msh_buf_free(&b);
    msh_buf_free(&c);
}

/* Each bin's fill level from one msh_sim_emit_bins; its count of records. */
static int bin_fills(msh_sim *s, double *fill, int cap, int *bad)
{
    msh_buf b;
    msh_buf_init(&b, (size_t)16 << 20);
    msh_err err;
    uint32_t w = 0;
    msh_sim_set_stamp(s, msh_sim_time_ms(s));
    CHECK(msh_sim_emit_bins(s, &b, &w, &err) == MSH_OK);
    int n = 0;
    const char *p = (const char *)b.data, *end = p ? p + b.len : p;
    while (p && p < end && n < cap) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        json_error_t je;
        json_t *j = json_loadb(p, (size_t)(nl - p), 0, &je);
        double f = json_real_value(json_object_get(j, "fillingLevel"));
        if (!j || !json_is_string(json_object_get(j, "id")) || !json_is_number(json_object_get(j, "lon")) ||
            !json_is_string(json_object_get(j, "time")) || f < 0 || f > 1)
            (*bad)++;
        fill[n++] = f;
        json_decref(j);
        p = nl + 1;
    }
    msh_buf_free(&b);
    CHECK((uint32_t)n == w);
    return n;
}

static void test_bins(void)
{
    static double before[4096], after[4096];
    msh_sim *s = make(20000, 5, DAY8_MS + 10 * HOUR_MS); /* the 8th, 10:00: the crowd arriving in Mina */
    CHECK(s != NULL);
    if (!s)
        return;
    msh_sim_stats st;
    msh_sim_get_stats(s, &st);
    int bad = 0, n = bin_fills(s, before, 4096, &bad);
    CHECK(n == (int)st.bins && n > 1000 && bad == 0); /* the demo's waste_bin assets */
    int over = 0;
    for (int i = 0; i < n; i++)
        over += before[i] >= 0.8;
    CHECK(over > 0 && over < n / 5); /* a few overflowing from the start */
    double nothing[1];
    CHECK(bin_fills(s, nothing, 1, &bad) == 0); /* not due: every 5 simulated minutes */
    msh_err err;
    CHECK(msh_sim_step(s, 2 * 3600, &err) == MSH_OK);
    CHECK(bin_fills(s, after, 4096, &bad) == n && bad == 0);
    int rose = 0, emptied = 0;
    for (int i = 0; i < n; i++) {
        rose += after[i] > before[i] + 0.05;
        emptied += after[i] < before[i] && before[i] > 0.1; /* a crew passed */
    }
    CHECK(rose > n / 10);
    CHECK(emptied > 0);
    msh_sim_destroy(s);
}

static void test_errors(void)
{
    msh_sim_opts o;
    msh_sim_opts_init(&o);
    o.data_dir = g_data;
    msh_sim *s = NULL;
    msh_err err;
    o.start_ms = DAY8_MS - 1;
    CHECK(msh_sim_create(&o, &s, &err) == MSH_EINVAL && !s);
    msh_sim_opts_init(&o);
    o.data_dir = g_data;
    o.pilgrims = 0;
    CHECK(msh_sim_create(&o, &s, &err) == MSH_EINVAL && !s);
    msh_sim_opts_init(&o);
    o.data_dir = g_data;
    o.walkways = "/nonexistent/walkways.geojson";
    CHECK(msh_sim_create(&o, &s, &err) == MSH_ENOTFOUND && !s);
    /* a full buffer: an error, nothing half written */
    s = make(1000, 1, DAY8_MS);
    CHECK(s != NULL);
    if (s) {
        msh_buf b;
        msh_buf_init(&b, 1000);
        uint32_t w = 9;
        CHECK(msh_sim_emit_positions(s, 100, &b, &w, &err) == MSH_ETOOBIG);
        CHECK(w == 0 && b.len == 0);
        msh_buf_free(&b);
        msh_sim_destroy(s);
    }
    /* without the optional files: the boxes of HAJJ-FACTS.md and straight legs */
    msh_sim_opts_init(&o);
    o.data_dir = "/nonexistent";
    o.pilgrims = 500;
    CHECK(msh_sim_create(&o, &s, &err) == MSH_OK && s);
    if (s) {
        CHECK(msh_sim_step(s, 3 * 3600, &err) == MSH_OK);
        msh_sim_stats st;
        msh_sim_get_stats(s, &st);
        CHECK(st.net_nodes == 0 && st.in_phase[MSH_SIM_TO_MINA] + st.in_phase[MSH_SIM_MINA] > 0);
        msh_sim_destroy(s);
    }
}

/* Walking between two of the places on the walkways (hotel, Mina's entries, the Jamarat, the Haram),
 * from the phase a group rested in and the one it walks in. */
static int network_leg(int rest, int walk)
{
    int rest_on = rest == MSH_SIM_MAKKAH || rest == MSH_SIM_MINA || rest == MSH_SIM_JAMARAT || rest == MSH_SIM_HARAM;
    return rest_on && (walk == MSH_SIM_TO_MAKKAH || walk == MSH_SIM_TO_MINA || walk == MSH_SIM_TO_JAMARAT ||
                       walk == MSH_SIM_TO_HARAM);
}

/* The plan of 40 minutes of the stoning day (msh_sim_write_schedule): the schedule parses
 * (layers/forecast/schedule.c) and holds exactly the departures seen from outside, a group going
 * from resting to walking between two walkway places: the same groups in the same order, their
 * sizes, each window the 10 s step it set out in, each waiting point where the group rested the tick
 * before, and a stay at the destination. */
static void test_schedule(void)
{
    const int64_t start = DAY8_MS + 57 * HOUR_MS; /* 09:00 on the 10th */
    msh_sim *s = make(30000, 5, start);
    CHECK(s != NULL);
    if (!s)
        return;
    msh_sim_log_departures(s);
    uint32_t ng = msh_sim_group_count(s), nseen = 0, to_jamarat = 0, cap = 4096;
    int *phase = malloc(ng * sizeof *phase), *walking = malloc(ng * sizeof *walking);
    uint32_t *seen_g = malloc(cap * sizeof *seen_g), *seen_size = malloc(cap * sizeof *seen_size);
    int64_t *seen_t = malloc(cap * sizeof *seen_t);
    double *lon = malloc(ng * sizeof *lon), *lat = malloc(ng * sizeof *lat);
    double *seen_lon = malloc(cap * sizeof *seen_lon), *seen_lat = malloc(cap * sizeof *seen_lat);
    msh_err err;
    for (uint32_t i = 0; i < ng; i++) {
        msh_sim_group_info gi;
        msh_sim_group_get(s, i, &gi);
        phase[i] = gi.phase, walking[i] = gi.walking, lon[i] = gi.lon, lat[i] = gi.lat;
    }
    for (int k = 0; k < 240; k++) {
        CHECK(msh_sim_step(s, 10, &err) == MSH_OK);
        for (uint32_t i = 0; i < ng; i++) {
            msh_sim_group_info gi;
            msh_sim_group_get(s, i, &gi);
            if (!walking[i] && gi.walking && network_leg(phase[i], gi.phase) && nseen < cap) {
                seen_g[nseen] = i, seen_size[nseen] = gi.size, seen_t[nseen] = start + k * 10000LL;
                seen_lon[nseen] = lon[i], seen_lat[nseen] = lat[i];
                to_jamarat += gi.phase == MSH_SIM_TO_JAMARAT;
                nseen++;
            }
            phase[i] = gi.phase, walking[i] = gi.walking, lon[i] = gi.lon, lat[i] = gi.lat;
        }
    }
    CHECK(to_jamarat >= 3 && nseen > to_jamarat); /* the stoning slots, and legs after them */
    uint64_t written, off_net, dropped;
    msh_sim_departure_counts(s, &written, &off_net, &dropped);
    CHECK(written == nseen && dropped == 0);
    msh_buf b;
    msh_buf_init(&b, (size_t)16 << 20);
    CHECK(msh_sim_write_schedule(s, &b, &err) == MSH_OK);
    msh_fc_source *src = NULL;
    size_t nsrc = 0;
    CHECK(msh_fc_schedule_parse((const char *)b.data, b.len, &src, &nsrc, &err) == MSH_OK);
    CHECK(nsrc == nseen);
    json_error_t je;
    json_t *doc = json_loadb((const char *)b.data, b.len, 0, &je);
    CHECK(json_array_size(doc) == nsrc);
    int same = 0;
    for (size_t i = 0; i < nsrc && i < nseen; i++) {
        char id[32];
        snprintf(id, sizeof id, "G-%05u", seen_g[i] + 1);
        const char *gid = json_string_value(json_object_get(json_array_get(doc, i), "group"));
        same += gid && !strcmp(gid, id) && src[i].from_ms == seen_t[i] && src[i].to_ms == seen_t[i] + 10000 &&
                fabs(src[i].rate * 10 - seen_size[i]) < 1e-6 && src[i].has_dest && src[i].planned && !src[i].turn &&
                fabs(src[i].wait_lon - seen_lon[i]) < 1e-6 && fabs(src[i].wait_lat - seen_lat[i]) < 1e-6 &&
                src[i].wait_radius_m > 10 && src[i].stay_s > 0;
    }
    CHECK(same == (int)nseen);
    printf("schedule: %u departures on the walkways (%u to the Jamarat), %llu across open ground\n", nseen,
           to_jamarat, (unsigned long long)off_net);
    json_decref(doc);
    free(src);
    msh_buf_free(&b);
    free(phase), free(walking), free(seen_g), free(seen_size), free(seen_t), free(lon), free(lat), free(seen_lon), free(seen_lat);
    msh_sim_destroy(s);
}

int main(void)
{
    if (find_data()) {
        fprintf(stderr, "cannot find data/demo (set MSH_DEMO_DIR)\n");
        return 1;
    }
    test_weidmann();
    test_pacer();
    test_records();
    test_to_arafat();
    test_whole_hajj();
    test_deterministic();
    test_bins();
    test_errors();
    test_schedule();
    CHECK_DONE();
}
