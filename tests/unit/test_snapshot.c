/* test_snapshot.c: the portable live snapshot (layers/live/snapshot.h).
 *
 * - Round trip: a store filled through the feeds (people, groups, every small table, some people
 *   expired) is snapshotted and loaded into a new store; every field compares equal, and the new
 *   store writes the same bytes.
 * - Golden file: tests/golden/snapshot/v1.snap, written once by the first build of format 1
 *   (`test_snapshot --write-golden`), loads with the contents listed below, and this build still
 *   writes exactly those bytes for them. When the format changes, the version goes up and a new
 *   golden joins this one: v1.snap must load in every later build.
 * - Refusals, each with its message and nothing leaked: every truncation, every flipped byte, a
 *   later version, unknown flags, counts over the caps, records a writer never makes, a raw dump
 *   from a build before the format (tests/golden/snapshot/v0-raw.snap, written by the build of
 *   4866ef5), and the same through msh_ingest_open, which then does not start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "core/msh_le.h"
#include "live/ingest.h"
#include "live/live_int.h"
#include "live/snapshot.h"

#define T0 1779782400000LL /* 2026-05-26T08:00:00Z */
#define GOLDEN_DIR MSH_SOURCE_DIR "/tests/golden/snapshot"
#define GOLDEN_LSN 42

/* ---- helpers ---- */

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(sz > 0 ? (size_t)sz : 1);
    *n = b ? fread(b, 1, (size_t)sz, f) : 0;
    fclose(f);
    return b;
}

static msh_live *new_store(uint32_t max_people)
{
    msh_live_config c;
    msh_live_config_init(&c);
    c.max_age_s = 60;
    if (max_people)
        c.max_entities = max_people;
    msh_live *l;
    msh_err err;
    return msh_live_new(&c, &l, &err) ? NULL : l;
}

static msh_rc snapshot(msh_live *l, msh_buf *out)
{
    msh_err err;
    msh_buf_init(out, (size_t)1 << 30);
    msh_live_rdlock(l);
    msh_rc rc = msh_live_snapshot(l, GOLDEN_LSN, out, &err);
    msh_live_unlock(l);
    return rc;
}

/* Load a copy of d[0..n) of exactly n bytes (so that the sanitizer sees any read past it) into a
 * fresh store; the store is kept in *keep when given, else freed. */
static msh_rc load(const uint8_t *d, size_t n, uint32_t max_people, msh_live **keep, uint64_t *lsn, msh_err *err)
{
    msh_live *l = new_store(max_people);
    uint8_t *copy = malloc(n ? n : 1);
    if (!l || !copy)
        abort();
    if (n)
        memcpy(copy, d, n);
    err->msg[0] = 0;
    uint64_t dummy;
    msh_live_wrlock(l);
    msh_rc rc = msh_live_restore(l, copy, n, lsn ? lsn : &dummy, err);
    msh_live_unlock(l);
    free(copy);
    if (keep)
        *keep = l;
    else
        msh_live_free(l);
    return rc;
}

/* d[0..n) must be refused with a message containing `says`. */
static void refused(const uint8_t *d, size_t n, uint32_t max_people, const char *says, const char *what)
{
    msh_err err;
    msh_rc rc = load(d, n, max_people, NULL, NULL, &err);
    int ok = rc != MSH_OK && err.msg[0] && strstr(err.msg, "snapshot: ") == err.msg && (!says || strstr(err.msg, says));
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  %s: rc %d, message \"%s\" (wanted \"%s\")\n", what, rc, err.msg, says ? says : "");
}

static uint8_t *copy_of(const msh_buf *s)
{
    uint8_t *c = malloc(s->len);
    if (!c)
        abort();
    memcpy(c, s->data, s->len);
    return c;
}

/* A copy of s with the u32 at `off` set to v, resealed so that only that field differs. */
static uint8_t *with_u32(const msh_buf *s, size_t off, uint32_t v)
{
    uint8_t *c = copy_of(s);
    msh_le32_put(c + off, v);
    msh_live_snapshot_seal(c, s->len);
    return c;
}

/* ---- comparing two stores field by field ---- */

#define SAME(field)                                                                                         \
    do {                                                                                                    \
        g_checks++;                                                                                         \
        if (!(a->field == b->field)) {                                                                      \
            g_failed++;                                                                                     \
            fprintf(stderr, "%s:%d: %s '%s': %s differs\n", __FILE__, __LINE__, what, a->rec.id, #field);  \
        }                                                                                                   \
    } while (0)

static void same_item(const char *what, const msh_live_item *a, const msh_live_item *b)
{
    SAME(rec.has);
    SAME(rec.id_len);
    CHECK(!strcmp(a->rec.id, b->rec.id) && !strcmp(a->rec.group, b->rec.group) && !strcmp(a->rec.kind, b->rec.kind) &&
          !strcmp(a->rec.text, b->rec.text));
    SAME(rec.lon);
    SAME(rec.lat);
    SAME(rec.t_ms);
    SAME(rec.speed);
    SAME(rec.heading);
    SAME(rec.accuracy);
    SAME(rec.status);
    SAME(rec.severity);
    SAME(rec.in);
    SAME(rec.out);
    SAME(rec.capacity);
    SAME(rec.temperature);
    SAME(rec.humidity);
    SAME(rec.aqi);
    SAME(rec.pm25);
    SAME(rec.noise);
    for (int s = 0; s < 4; s++)
        SAME(status_ms[s]);
    SAME(in_total);
    SAME(out_total);
    SAME(flow_per_hour);
    SAME(updates);
}

typedef struct {
    const msh_live_item *v[64];
    int n;
} items_acc;

static int collect_item(void *ud, const msh_live_item *it)
{
    items_acc *a = ud;
    if (a->n < 64)
        a->v[a->n++] = it;
    return 0;
}

typedef struct {
    msh_live_cell v[4096];
    int n;
} cells_acc;

static int collect_cell(void *ud, const msh_live_cell *c)
{
    cells_acc *a = ud;
    if (a->n < 4096)
        a->v[a->n++] = *c;
    return 0;
}

static int cmp_cell(const void *x, const void *y)
{
    const msh_live_cell *a = x, *b = y;
    return a->cx != b->cx ? (a->cx > b->cx) - (a->cx < b->cx) : (a->cy > b->cy) - (a->cy < b->cy);
}

static const char *group_of(const msh_live *l, uint32_t g, size_t *n)
{
    *n = 0;
    return g ? msh_live_raw_group(l, g - 1, n) : "";
}

/* Every person (id, time, position, velocity, group name, active), every group name, every item
 * of every table field by field, and the density cells. */
static void same_store(msh_live *x, msh_live *y)
{
    msh_live_rdlock(x);
    msh_live_rdlock(y);
    CHECK(msh_live_raw_ngroups(x) == msh_live_raw_ngroups(y));
    for (uint32_t i = 0; i < msh_live_raw_ngroups(x) && i < msh_live_raw_ngroups(y); i++) {
        size_t na, nb;
        const char *ga = msh_live_raw_group(x, i, &na), *gb = msh_live_raw_group(y, i, &nb);
        CHECK(na == nb && !memcmp(ga, gb, na));
    }
    CHECK(msh_live_raw_npeople(x) == msh_live_raw_npeople(y));
    for (uint32_t i = 0; i < msh_live_raw_npeople(x) && i < msh_live_raw_npeople(y); i++) {
        msh_live_raw_person a, b;
        msh_live_raw_person_get(x, i, &a);
        msh_live_raw_person_get(y, i, &b);
        size_t gna, gnb;
        const char *ga = group_of(x, a.group, &gna), *gb = group_of(y, b.group, &gnb);
        int same = a.id_len == b.id_len && !memcmp(a.id, b.id, a.id_len) && a.t_ms == b.t_ms && a.wx == b.wx &&
                   a.wy == b.wy && a.vx == b.vx && a.vy == b.vy && a.active == b.active && gna == gnb &&
                   !memcmp(ga, gb, gna);
        CHECK(same);
        if (!same)
            fprintf(stderr, "  person %u ('%.*s') differs\n", i, (int)a.id_len, a.id);
    }
    for (int f = 1; f < MSH_FEED_COUNT; f++) {
        items_acc ia = {{0}, 0}, ib = {{0}, 0};
        msh_live_items(x, (msh_feed)f, collect_item, &ia);
        msh_live_items(y, (msh_feed)f, collect_item, &ib);
        CHECK(ia.n == ib.n);
        for (int i = 0; i < ia.n && i < ib.n; i++)
            same_item(msh_feed_name((msh_feed)f), ia.v[i], ib.v[i]);
    }
    static cells_acc ca, cb;
    ca.n = cb.n = 0;
    msh_live_scan(x, 22, collect_cell, &ca);
    msh_live_scan(y, 22, collect_cell, &cb);
    msh_live_unlock(y);
    msh_live_unlock(x);
    qsort(ca.v, (size_t)ca.n, sizeof ca.v[0], cmp_cell);
    qsort(cb.v, (size_t)cb.n, sizeof cb.v[0], cmp_cell);
    CHECK(ca.n == cb.n);
    for (int i = 0; i < ca.n && i < cb.n; i++)
        CHECK(ca.v[i].cx == cb.v[i].cx && ca.v[i].cy == cb.v[i].cy && ca.v[i].count == cb.v[i].count &&
              ca.v[i].mean_vx == cb.v[i].mean_vx && ca.v[i].mean_vy == cb.v[i].mean_vy && ca.v[i].var_v == cb.v[i].var_v);
    msh_live_stats sa, sb;
    msh_live_get_stats(x, &sa);
    msh_live_get_stats(y, &sb);
    /* chunks that moves and expiry emptied hold nothing and are not rebuilt */
    CHECK(sa.people == sb.people && sa.active == sb.active && sa.cells == sb.cells && sa.chunks >= sb.chunks);
    for (int f = 0; f < MSH_FEED_COUNT; f++)
        CHECK(sa.items[f] == sb.items[f]);
}

/* ---- (a) a store filled through the feeds ---- */

#define SET(dst, s) snprintf(dst, sizeof dst, "%s", s)

static msh_feed_rec rec(const char *id, double lon, double lat, int64_t t, uint32_t has)
{
    msh_feed_rec r;
    memset(&r, 0, sizeof r);
    r.id_len = (uint8_t)snprintf(r.id, sizeof r.id, "%s", id);
    r.lon = lon;
    r.lat = lat;
    r.t_ms = t;
    r.has = has | (lon || lat ? MSH_FR_LOC : 0);
    return r;
}

static void apply(msh_live *l, msh_feed feed, const msh_feed_rec *r)
{
    msh_live_wrlock(l);
    msh_live_apply(l, feed, r, 1, T0);
    msh_live_unlock(l);
}

static void fill_by_feeds(msh_live *l)
{
    char id[16];
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "R-%03d", i);
        msh_feed_rec r = rec(id, 39.88 + (i % 20) * 0.0004, 21.41 + (i / 20) * 0.0003, T0 + i, 0);
        if (i % 3) {
            r.has |= MSH_FR_GROUP;
            snprintf(r.group, sizeof r.group, "G-%d", i % 5);
        }
        if (i % 2) {
            r.has |= MSH_FR_SPEED | MSH_FR_HEADING;
            r.speed = 1.25f;
            r.heading = (float)(i * 7 % 360);
        }
        apply(l, MSH_FEED_POSITIONS, &r);
        if (i < 100) { /* moved 20 s later, velocity derived from the move; some change group */
            r.lon += 0.0001;
            r.t_ms += 20000;
            r.has &= ~(uint32_t)(MSH_FR_SPEED | MSH_FR_HEADING);
            if (i % 7 == 0) {
                r.has |= MSH_FR_GROUP;
                snprintf(r.group, sizeof r.group, "G-moved");
            }
            apply(l, MSH_FEED_POSITIONS, &r);
        }
    }
    msh_feed_rec c = rec("C-1", 39.8901, 21.4172, T0, MSH_FR_KIND | MSH_FR_STATUS | MSH_FR_TEXT | MSH_FR_SPEED);
    SET(c.kind, "ambulance");
    SET(c.group, "en_route");
    SET(c.text, "Red Crescent 7");
    c.speed = 8.5f;
    apply(l, MSH_FEED_CREWS, &c);
    c.t_ms += 5000;
    c.has &= ~(uint32_t)MSH_FR_TEXT; /* keeps its name */
    SET(c.group, "on_scene");
    apply(l, MSH_FEED_CREWS, &c);
    msh_feed_rec c2 = rec("C-2", 39.87, 21.42, T0, 0);
    apply(l, MSH_FEED_CREWS, &c2);
    /* an incident through its lifecycle; the last update carries no status (the store keeps it) */
    msh_feed_rec inc = rec("INC-1", 39.8712, 21.4205, T0, MSH_FR_KIND | MSH_FR_SEVERITY | MSH_FR_STATUS | MSH_FR_TEXT);
    SET(inc.kind, "medical");
    SET(inc.text, "heat exhaustion, Jamarat level 2");
    inc.severity = 3;
    apply(l, MSH_FEED_INCIDENTS, &inc);
    inc.t_ms += 60000;
    inc.status = MSH_INC_DISPATCHED;
    apply(l, MSH_FEED_INCIDENTS, &inc);
    inc.t_ms += 240000;
    inc.status = MSH_INC_ON_SCENE;
    apply(l, MSH_FEED_INCIDENTS, &inc);
    inc.t_ms += 1000;
    inc.status = 0;
    inc.has &= ~(uint32_t)(MSH_FR_STATUS | MSH_FR_TEXT);
    inc.severity = 4;
    apply(l, MSH_FEED_INCIDENTS, &inc);
    msh_feed_rec inc2 = rec("INC-2", 39.88, 21.41, T0, MSH_FR_KIND | MSH_FR_SEVERITY | MSH_FR_STATUS);
    SET(inc2.kind, "lost_person");
    inc2.status = MSH_INC_RESOLVED; /* first heard of resolved */
    apply(l, MSH_FEED_INCIDENTS, &inc2);
    /* a gate counted twice, the second time without its location or capacity */
    msh_feed_rec g = rec("GATE-N1", 39.8833, 21.4199, T0, MSH_FR_IN | MSH_FR_OUT | MSH_FR_CAPACITY);
    g.in = 120;
    g.out = 30;
    g.capacity = 9000;
    apply(l, MSH_FEED_GATES, &g);
    msh_feed_rec g2 = rec("GATE-N1", 0, 0, T0 + 60000, MSH_FR_IN | MSH_FR_OUT);
    g2.in = 95;
    g2.out = 41;
    apply(l, MSH_FEED_GATES, &g2);
    msh_feed_rec s = rec("S-1", 39.8855, 21.4144, T0,
                         MSH_FR_TEMP | MSH_FR_HUMIDITY | MSH_FR_AQI | MSH_FR_PM25 | MSH_FR_NOISE);
    s.temperature = 41.5f;
    s.humidity = 0.18f;
    s.aqi = 87;
    s.pm25 = 35.2f;
    s.noise = 78.5f;
    apply(l, MSH_FEED_SENSORS, &s);
    /* the people who did not move are older than 60 s at T0 + 70 s: no longer active */
    msh_live_expire(l, T0 + 70000);
}

static void test_round_trip(void)
{
    msh_live *a = new_store(0), *b = NULL;
    fill_by_feeds(a);
    msh_live_stats st;
    msh_live_get_stats(a, &st);
    CHECK(st.people == 200 && st.active == 100 && st.items[MSH_FEED_CREWS] == 2 && st.items[MSH_FEED_INCIDENTS] == 2 &&
          st.items[MSH_FEED_GATES] == 1 && st.items[MSH_FEED_SENSORS] == 1);
    msh_buf s1, s2;
    CHECK(snapshot(a, &s1) == MSH_OK && s1.len > MSH_SNAPSHOT_HEADER);
    msh_err err;
    uint64_t lsn = 0;
    CHECK(load(s1.data, s1.len, 0, &b, &lsn, &err) == MSH_OK && lsn == GOLDEN_LSN);
    same_store(a, b);
    /* what the store holds that no single record says survives: the incident's status */
    msh_live_rdlock(b);
    items_acc ia = {{0}, 0};
    msh_live_items(b, MSH_FEED_INCIDENTS, collect_item, &ia);
    CHECK(ia.n == 2 && ia.v[0]->rec.status == MSH_INC_ON_SCENE && !(ia.v[0]->rec.has & MSH_FR_STATUS) &&
          ia.v[0]->rec.severity == 4 && !strcmp(ia.v[0]->rec.text, "heat exhaustion, Jamarat level 2") &&
          ia.v[0]->status_ms[MSH_INC_DISPATCHED] == T0 + 60000);
    msh_live_unlock(b);
    /* the loaded store writes the same bytes */
    CHECK(snapshot(b, &s2) == MSH_OK && s2.len == s1.len && !memcmp(s1.data, s2.data, s1.len));
    /* an empty store too */
    msh_live *e = new_store(0), *e2 = NULL;
    msh_buf se;
    CHECK(snapshot(e, &se) == MSH_OK && se.len == MSH_SNAPSHOT_HEADER);
    CHECK(load(se.data, se.len, 0, &e2, &lsn, &err) == MSH_OK);
    same_store(e, e2);
    msh_buf_free(&se);
    msh_live_free(e);
    msh_live_free(e2);
    msh_buf_free(&s1);
    msh_buf_free(&s2);
    msh_live_free(a);
    msh_live_free(b);
}

/* ---- (b) the golden file's contents, given raw ---- */

static const char *const G_GROUPS[] = {"G-A", "\xd9\x85\xd9\x86\xd9\x89" /* Mina, in Arabic */, "Hajj group 7"};

static const struct {
    const char *id;
    int64_t t_ms;
    uint32_t wx, wy;
    int16_t vx, vy;
    uint32_t group;
    bool active;
} G_PEOPLE[] = {
    {"P-1", T0, 2623419711u, 1885851918u, 120, -35, 1, true},
    {"P-2", T0 + 1500, 2623419790u, 1885851990u, 0, 0, 0, true},
    {"\xd8\xad-3", T0 - 100000, 2623401234u, 1885860000u, -1500, 1500, 2, false},
    {"P-4", T0 + 2, 2623520000u, 1885700000u, 7, 9, 3, true},
    {"P-5", T0 + 3, 2623419712u, 1885851919u, -80, 40, 1, true},
    {"a-much-longer-identifier-of-sixty-four-bytes-0123456789abcdef012", T0 + 4, 2623419000u, 1885851000u, 1, -1, 0,
     true},
};

static void golden_items(msh_live_item it[5], msh_feed feed[5])
{
    memset(it, 0, 5 * sizeof *it);
    feed[0] = MSH_FEED_CREWS;
    it[0].rec = rec("C-7", 39.8901, 21.4172, T0 + 10, MSH_FR_KIND | MSH_FR_STATUS | MSH_FR_TEXT | MSH_FR_SPEED);
    SET(it[0].rec.kind, "ambulance");
    SET(it[0].rec.group, "en_route");
    SET(it[0].rec.text, "Red Crescent 7");
    it[0].rec.speed = 8.5f;
    it[0].updates = 3;
    feed[1] = MSH_FEED_INCIDENTS;
    it[1].rec = rec("INC-1", 39.8712, 21.4205, T0 + 301000, MSH_FR_KIND | MSH_FR_SEVERITY | MSH_FR_TEXT);
    SET(it[1].rec.kind, "medical");
    SET(it[1].rec.text, "heat exhaustion, Jamarat level 2");
    it[1].rec.severity = 3;
    it[1].rec.status = MSH_INC_ON_SCENE; /* without the STATUS bit: kept from an earlier update */
    it[1].status_ms[0] = T0;
    it[1].status_ms[1] = T0 + 60000;
    it[1].status_ms[2] = T0 + 300000;
    it[1].updates = 4;
    feed[2] = MSH_FEED_INCIDENTS;
    it[2].rec = rec("INC-2", 39.88, 21.41, T0 + 20, MSH_FR_KIND | MSH_FR_SEVERITY | MSH_FR_STATUS);
    SET(it[2].rec.kind, "lost_person");
    it[2].rec.severity = 1;
    it[2].rec.status = MSH_INC_RESOLVED;
    it[2].status_ms[0] = it[2].status_ms[3] = T0 + 20;
    it[2].updates = 1;
    feed[3] = MSH_FEED_GATES;
    it[3].rec = rec("GATE-N1", 39.8833, 21.4199, T0 + 60000, MSH_FR_IN | MSH_FR_OUT | MSH_FR_CAPACITY);
    it[3].rec.in = 95;
    it[3].rec.out = 41;
    it[3].rec.capacity = 9000;
    it[3].in_total = 48210;
    it[3].out_total = 12007;
    it[3].flow_per_hour = 8160.0;
    it[3].updates = 57;
    feed[4] = MSH_FEED_SENSORS;
    it[4].rec = rec("S-1", 39.8855, 21.4144, T0 + 30,
                    MSH_FR_TEMP | MSH_FR_HUMIDITY | MSH_FR_AQI | MSH_FR_PM25 | MSH_FR_NOISE | MSH_FR_ACCURACY);
    it[4].rec.temperature = 41.5f;
    it[4].rec.humidity = 0.18f;
    it[4].rec.aqi = 87;
    it[4].rec.pm25 = 35.2f;
    it[4].rec.noise = 78.5f;
    it[4].rec.accuracy = 3.5f;
    it[4].updates = 12;
}

static msh_live *golden_store(void)
{
    msh_live *l = new_store(0);
    msh_err err;
    msh_live_wrlock(l);
    for (size_t i = 0; i < sizeof G_GROUPS / sizeof G_GROUPS[0]; i++) {
        uint32_t idx;
        CHECK(msh_live_raw_add_group(l, G_GROUPS[i], strlen(G_GROUPS[i]), &idx, &err) == MSH_OK && idx == i + 1);
    }
    for (size_t i = 0; i < sizeof G_PEOPLE / sizeof G_PEOPLE[0]; i++) {
        msh_live_raw_person p = {G_PEOPLE[i].id, strlen(G_PEOPLE[i].id), G_PEOPLE[i].t_ms, G_PEOPLE[i].wx,
                                 G_PEOPLE[i].wy,    G_PEOPLE[i].vx,         G_PEOPLE[i].vy,   G_PEOPLE[i].group,
                                 G_PEOPLE[i].active};
        CHECK(msh_live_raw_add_person(l, &p, &err) == MSH_OK);
    }
    msh_live_item it[5];
    msh_feed feed[5];
    golden_items(it, feed);
    for (int i = 0; i < 5; i++)
        CHECK(msh_live_raw_add_item(l, feed[i], &it[i], &err) == MSH_OK);
    msh_live_unlock(l);
    return l;
}

static void test_golden(void)
{
    size_t n = 0;
    uint8_t *g = read_all(GOLDEN_DIR "/v1.snap", &n);
    CHECK(g != NULL && n > MSH_SNAPSHOT_HEADER);
    if (!g)
        return;
    msh_live *want = golden_store(), *got = NULL;
    msh_err err;
    uint64_t lsn = 0;
    msh_rc rc = load(g, n, 0, &got, &lsn, &err);
    CHECK(rc == MSH_OK && lsn == GOLDEN_LSN);
    if (rc)
        fprintf(stderr, "  v1.snap: %s\n", err.msg);
    same_store(want, got);
    /* a few of those contents through the public reading functions */
    msh_live_person pp;
    msh_live_rdlock(got);
    CHECK(msh_live_person_get(got, "P-1", 3, &pp) && pp.active && !strcmp(pp.group, "G-A") && pp.t_ms == T0 &&
          fabs(pp.lon - 39.8925) < 1e-6 && fabs(pp.lat - 21.4131) < 1e-6);
    CHECK(msh_live_person_get(got, "\xd8\xad-3", 4, &pp) && !pp.active && !strcmp(pp.group, G_GROUPS[1]));
    CHECK(msh_live_person_get(got, "P-2", 3, &pp) && pp.group[0] == 0);
    items_acc ia = {{0}, 0};
    msh_live_items(got, MSH_FEED_GATES, collect_item, &ia);
    CHECK(ia.n == 1 && ia.v[0]->in_total == 48210 && ia.v[0]->rec.capacity == 9000 && ia.v[0]->flow_per_hour == 8160.0);
    msh_live_unlock(got);
    msh_live_stats st;
    msh_live_get_stats(got, &st);
    CHECK(st.people == 6 && st.active == 5 && st.items[MSH_FEED_INCIDENTS] == 2 && st.items[MSH_FEED_SENSORS] == 1);
    /* this build writes format 1 exactly as the golden file has it */
    msh_buf s;
    CHECK(snapshot(want, &s) == MSH_OK && s.len == n && !memcmp(s.data, g, n));
    msh_buf_free(&s);
    msh_live_free(want);
    msh_live_free(got);
    free(g);
}

/* ---- (c) refusals ---- */

static void test_refusals(void)
{
    msh_live *l = golden_store();
    msh_buf s;
    CHECK(snapshot(l, &s) == MSH_OK);
    msh_live_free(l);
    /* cut at every length */
    for (size_t k = 0; k < s.len; k++)
        refused(s.data, k, 0, k ? "truncated" : "empty file", "truncated");
    /* one byte changed, at every offset */
    uint8_t *c = copy_of(&s);
    for (size_t k = 0; k < s.len; k++) {
        memcpy(c, s.data, s.len);
        c[k] ^= 0x5a;
        refused(c, s.len, 0, NULL, "flipped byte");
    }
    free(c);
    /* a byte too many */
    uint8_t *longer = malloc(s.len + 1);
    memcpy(longer, s.data, s.len);
    longer[s.len] = 0;
    refused(longer, s.len + 1, 0, "1 bytes after its end", "trailing byte");
    msh_live_snapshot_seal(longer, s.len + 1); /* counted in the body, but after the last record */
    refused(longer, s.len + 1, 0, "1 bytes after the last record", "trailing byte, resealed");
    free(longer);
    /* header fields, each changed alone with a good checksum */
    struct {
        size_t off;
        uint32_t v;
        const char *says;
    } edits[] = {
        {8, 2, "format version 2 is newer than this build reads (1)"},
        {8, 0xffffffffu, "newer than this build reads"},
        {8, 0, "format version 0 does not exist"},
        {12, 2, "unknown flags 0x2"},
        {12, 1, "the operators' section runs past the end"}, /* flag 0x1 says one follows the items */
        {56, 7, "the header counts more records"}, /* 7 bins (the field was reserved before them) */
        {32, 0xffffffffu, "the header counts more records"}, /* groups: no 16 GB map is allocated */
        {36, 0xffffffffu, "more than this store takes"},
        {40, 2000000, "more than the store takes"},
        {44, 0, "bytes after the last record"}, /* the incidents left unread */
        {48, 3, "bad record"},                  /* gates read from the sensors' bytes and beyond */
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        uint8_t *e = with_u32(&s, edits[i].off, edits[i].v);
        refused(e, s.len, 0, edits[i].says, "header edit");
        free(e);
    }
    /* more people than the store takes */
    refused(s.data, s.len, 5, "6 people, more than this store takes (5)", "people cap");
    /* records no writer makes, behind a good checksum: a group number past the names, an id twice,
     * an unknown person flag, an incident status past resolved */
    size_t people = MSH_SNAPSHOT_HEADER;
    for (size_t i = 0; i < sizeof G_GROUPS / sizeof G_GROUPS[0]; i++)
        people += 1 + strlen(G_GROUPS[i]);
    size_t p2 = people + 1 + strlen(G_PEOPLE[0].id) + 25; /* the second person */
    uint8_t *e = with_u32(&s, people + 1 + 3 + 20, 4);
    refused(e, s.len, 0, "person 0: group 4 of 3", "group number");
    free(e);
    e = copy_of(&s);
    e[p2 + 3] = '1'; /* P-2 becomes P-1 */
    msh_live_snapshot_seal(e, s.len);
    refused(e, s.len, 0, "person 1: person 'P-1' twice", "duplicate id");
    memcpy(e, s.data, s.len);
    e[people + 1 + 3 + 24] = 3;
    msh_live_snapshot_seal(e, s.len);
    refused(e, s.len, 0, "person 0: unknown flags 0x3", "person flags");
    free(e);
    /* an empty group name */
    uint8_t *z = copy_of(&s);
    z[MSH_SNAPSHOT_HEADER] = 0; /* "G-A" becomes "" and "G-A" the start of what follows */
    msh_live_snapshot_seal(z, s.len);
    refused(z, s.len, 0, NULL, "empty group name");
    free(z);
    /* not a snapshot at all, and raw dumps from the builds before this format */
    refused((const uint8_t *)"hello, world", 12, 0, "not a Mashaer live snapshot", "text");
    static const uint8_t raw[40] = {'M', 'S', 'H', 'L', 'I', 'V', '0', '1', 42};
    refused(raw, sizeof raw, 0, "before the portable snapshot format", "crafted raw dump");
    size_t on = 0;
    uint8_t *old = read_all(GOLDEN_DIR "/v0-raw.snap", &on);
    CHECK(old && on > 8);
    if (old)
        refused(old, on, 0, "written by a build before the portable snapshot format", "v0-raw.snap");
    free(old);
    msh_buf_free(&s);
}

/* Through msh_ingest_open, as the server starts: the golden file loads and the log continues after
 * it; a raw dump is refused with its path and the server's state is left as it was on disk. */
static void test_ingest(const char *tmp)
{
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/snapshot_ingest", tmp);
    rm_rf(dir);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/snapshot-%016llx.snap", dir, (unsigned long long)GOLDEN_LSN);
    size_t n = 0;
    uint8_t *g = read_all(GOLDEN_DIR "/v0-raw.snap", &n);
    FILE *f = fopen(path, "wb");
    CHECK(g && f && fwrite(g, 1, n, f) == n);
    if (f)
        fclose(f);
    free(g);
    msh_live *l = new_store(0);
    msh_ingest *in = NULL;
    msh_err err;
    uint64_t replayed;
    CHECK(msh_ingest_open(dir, l, &in, &replayed, &err) != MSH_OK && in == NULL);
    CHECK(strstr(err.msg, path) && strstr(err.msg, "before the portable snapshot format") &&
          strstr(err.msg, "Not started"));
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (size_t)sb.st_size == n); /* left in place */
    msh_live_free(l);
    /* the golden file in its place: loads, and new updates log after it */
    g = read_all(GOLDEN_DIR "/v1.snap", &n);
    f = fopen(path, "wb");
    CHECK(g && f && fwrite(g, 1, n, f) == n);
    if (f)
        fclose(f);
    free(g);
    l = new_store(0);
    CHECK(msh_ingest_open(dir, l, &in, &replayed, &err) == MSH_OK);
    if (in) {
        msh_live_stats st;
        msh_live_get_stats(l, &st);
        CHECK(st.people == 6 && st.items[MSH_FEED_GATES] == 1);
        const char *body = "{\"id\":\"P-9\",\"lon\":39.89,\"lat\":21.41,\"time\":1779782400000}";
        msh_ingest_result res;
        msh_ingest_result_init(&res);
        CHECK(msh_ingest_batch(in, MSH_FEED_POSITIONS, body, strlen(body), false, T0, &res, &err) == MSH_OK);
        msh_ingest_result_free(&res);
        CHECK(msh_ingest_unsnapshotted(in) == 1);
        msh_ingest_close(in);
    }
    msh_live_free(l);
    l = new_store(0);
    CHECK(msh_ingest_open(dir, l, &in, &replayed, &err) == MSH_OK);
    msh_live_person pp;
    msh_live_rdlock(l);
    CHECK(msh_live_person_get(l, "P-9", 3, &pp) && msh_live_person_get(l, "P-5", 3, &pp));
    msh_live_unlock(l);
    msh_ingest_close(in);
    msh_live_free(l);
    rm_rf(dir);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--write-golden")) {
        /* once, by the first build of a format: the file every later build must read */
        msh_live *l = golden_store();
        msh_buf s;
        FILE *f = NULL;
        int ok = snapshot(l, &s) == MSH_OK && (f = fopen(GOLDEN_DIR "/v1.snap", "wb")) && fwrite(s.data, 1, s.len, f) == s.len;
        if (f)
            ok = fclose(f) == 0 && ok;
        printf("%s %zu bytes to %s\n", ok ? "wrote" : "FAILED writing", s.len, GOLDEN_DIR "/v1.snap");
        msh_buf_free(&s);
        msh_live_free(l);
        return ok ? 0 : 1;
    }
    test_round_trip();
    test_golden();
    test_refusals();
    test_ingest(argc > 1 ? argv[1] : ".");
    CHECK_DONE();
}
