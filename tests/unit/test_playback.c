/* test_playback.c: the kept minutes of density cells (layers/live/playback.c, playback_codec.c):
 *   - a minute's record decodes to the cells it was made from; damaged or cut records are refused;
 *   - a recorded minute gives the k-anonymity pyramid exactly the cells the live store gave it, at
 *     every level (so a past tile is the live tile of its minute);
 *   - one recording per minute, minutes only forward;
 *   - the window: `hours` x 60 minutes kept, older ones dropped with their files, 404 outside;
 *   - a reopened folder keeps its minutes; a torn last record is cut, the others stay;
 *   - the read cache holds at most 16 decoded minutes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "core/msh_tilemath.h"
#include "live/kanon.h"
#include "live/live.h"
#include "live/playback.h"

static void put(msh_live *live, int i, uint32_t cx, uint32_t cy, float heading, int64_t t)
{
    msh_feed_rec r;
    memset(&r, 0, sizeof r);
    r.id_len = (uint8_t)snprintf(r.id, sizeof r.id, "P-%d", i);
    double n22 = ldexp(1.0, 22);
    msh_world_to_lonlat((cx + 0.5) / n22, (cy + 0.5) / n22, &r.lon, &r.lat);
    r.t_ms = t;
    r.speed = 1.3f;
    r.heading = heading;
    r.has = MSH_FR_LOC | MSH_FR_SPEED | MSH_FR_HEADING;
    msh_live_wrlock(live);
    msh_live_apply(live, MSH_FEED_POSITIONS, &r, 1, t);
    msh_live_unlock(live);
}

typedef struct {
    msh_live_cell *v;
    size_t n;
} cellv;

static int keep(void *ud, const msh_live_cell *c)
{
    cellv *a = ud;
    msh_live_cell *p = realloc(a->v, (a->n + 1) * sizeof *p);
    if (!p)
        return 1;
    a->v = p;
    a->v[a->n++] = *c;
    return 0;
}

static int same_cells(const cellv *a, const cellv *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        const msh_live_cell *x = &a->v[i], *y = &b->v[i];
        if (x->level != y->level || x->cx != y->cx || x->cy != y->cy || x->count != y->count ||
            x->peak_count != y->peak_count || x->mean_vx != y->mean_vx || x->mean_vy != y->mean_vy ||
            x->var_v != y->var_v)
            return 0;
    }
    return 1;
}

static int same_pb(const msh_pb_cell *a, const msh_pb_cell *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].m != b[i].m || a[i].count != b[i].count || a[i].vx != b[i].vx || a[i].vy != b[i].vy ||
            a[i].v2 != b[i].v2)
            return 0;
    return 1;
}

static void codec(void)
{
    msh_err err;
    msh_pb_cell cells[200];
    uint64_t m = 12345;
    for (int i = 0; i < 200; i++) {
        m += 1 + (uint64_t)(i * 7919 % 1000);
        uint32_t n = 1 + (uint32_t)i % 40; /* n people at 1.3 m/s, some east and some west */
        int32_t vx = 130 * (int32_t)(n - (uint32_t)i % (n + 1)) - 130 * (int32_t)((uint32_t)i % (n + 1));
        cells[i] = (msh_pb_cell){m, n, vx, 0, (uint64_t)n * 16900};
    }
    uint8_t *b = NULL;
    size_t len = 0, cap = 0;
    CHECK(msh_pb_encode(29000000, cells, 200, 1, &b, &len, &cap, &err) == MSH_OK);
    msh_pb_header h;
    msh_pb_cell *out = NULL;
    CHECK(msh_pb_decode(b, len, &h, &out, &err) == MSH_OK);
    CHECK(h.minute == 29000000 && h.cells == 200);
    CHECK(out && same_pb(out, cells, 200));
    free(out);
    /* cut short, one byte flipped in the payload, one in the header: refused */
    CHECK(msh_pb_decode(b, len - 1, &h, &out, &err) == MSH_EFORMAT && !out);
    b[len - 3] ^= 1;
    CHECK(msh_pb_decode(b, len, &h, &out, &err) == MSH_EFORMAT && !out);
    b[len - 3] ^= 1;
    b[13] ^= 1;
    CHECK(msh_pb_decode(b, len, &h, &out, &err) == MSH_EFORMAT && !out);
    /* unsorted cells are not written */
    msh_pb_cell two[2] = {cells[1], cells[0]};
    len = 0;
    CHECK(msh_pb_encode(1, two, 2, 1, &b, &len, &cap, &err) == MSH_EINVAL);
    /* the empty minute is a minute */
    len = 0;
    CHECK(msh_pb_encode(7, NULL, 0, 1, &b, &len, &cap, &err) == MSH_OK);
    CHECK(msh_pb_decode(b, len, &h, &out, &err) == MSH_OK && h.cells == 0);
    free(out);
    free(b);
}

static void past_equals_live(const char *dir)
{
    msh_err err;
    msh_live_config lc;
    msh_live_config_init(&lc);
    msh_live *live;
    CHECK(msh_live_new(&lc, &live, &err) == MSH_OK);
    int64_t t = 29666666 * (int64_t)60000 + 5000; /* 2026-05-28, 5 s into a minute */
    uint32_t cx0 = 2600000, cy0 = 1830000;
    srand(7);
    for (int i = 0; i < 3000; i++) /* crowds of every size around a point, some cells under k */
        put(live, i, cx0 + (uint32_t)(rand() % 60) / (1 + (uint32_t)(rand() % 4)), cy0 + (uint32_t)(rand() % 40),
            (float)(rand() % 360), t);
    msh_playback *p;
    CHECK(msh_playback_open(dir, 2, t, &p, &err) == MSH_OK);
    bool rec = false;
    CHECK(msh_playback_tick(p, live, t, &rec, &err) == MSH_OK && rec);
    CHECK(msh_playback_tick(p, live, t + 1000, &rec, &err) == MSH_OK && !rec); /* once a minute */
    msh_pb_minute *m = NULL;
    CHECK(msh_playback_at(p, t + 30000, &m, &err) == MSH_OK && m);
    if (m) {
        CHECK(msh_pb_minute_ms(m) == t - t % 60000);
        double n22 = ldexp(1.0, 22);
        double box[4] = {(cx0 + 5) / n22, (cy0 + 3) / n22, (cx0 + 50) / n22, (cy0 + 35) / n22};
        for (int level = 14; level <= 22; level++) {
            cellv a = {0}, b = {0};
            CHECK(msh_kanon_cells(live, level, box, 5, keep, &a, &err) == MSH_OK);
            CHECK(msh_kanon_cells_from(msh_pb_minute_base_cells, m, level, box, 5, keep, &b, &err) == MSH_OK);
            CHECK(a.n > 0);
            CHECK(same_cells(&a, &b));
            free(a.v);
            free(b.v);
        }
        msh_pb_minute_release(m);
    }
    msh_playback_close(p);
    msh_live_free(live);
}

static size_t files_in(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, ".mpb") != NULL;
    if (d)
        closedir(d);
    return n;
}

/* An empty folder (a run before left its minutes). */
static void fresh(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4400];
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".mpb")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
}

static void window(const char *dir)
{
    msh_err err;
    msh_playback *p;
    msh_playback_stats s;
    int64_t m0 = 29000000 - 29000000 % 60; /* the start of an hour */
    CHECK(msh_playback_open(dir, 1, m0 * 60000, &p, &err) == MSH_OK);
    for (int64_t i = 0; i < 130; i++) {
        msh_pb_cell c = {msh_pb_morton(100 + (uint32_t)i, 200), 6, 0, 0, 0};
        CHECK(msh_playback_record(p, m0 + i, &c, 1, &err) == MSH_OK);
    }
    msh_pb_cell c = {1, 6, 0, 0, 0};
    CHECK(msh_playback_record(p, m0 + 129, &c, 1, &err) == MSH_EINVAL); /* not after the last */
    msh_playback_stats_get(p, &s);
    CHECK(s.minutes == 60);
    CHECK(s.first_ms == (m0 + 70) * 60000 && s.last_ms == (m0 + 129) * 60000);
    CHECK(s.files == 2 && files_in(dir) == 2); /* hours 1 and 2; hour 0 deleted */
    msh_pb_minute *m = NULL;
    CHECK(msh_playback_at(p, (m0 + 69) * 60000 + 59999, &m, &err) == MSH_ENOTFOUND && !m);
    CHECK(strstr(err.msg, "kept window") != NULL);
    CHECK(msh_playback_at(p, (m0 + 130) * 60000, &m, &err) == MSH_ENOTFOUND);
    CHECK(msh_playback_at(p, (m0 + 129) * 60000 + 59999, &m, &err) == MSH_OK && msh_pb_minute_cells(m) == 1);
    msh_pb_minute_release(m);
    /* the cache: 30 minutes read, 16 kept */
    for (int i = 0; i < 30; i++) {
        CHECK(msh_playback_at(p, (m0 + 100 + i) * 60000, &m, &err) == MSH_OK);
        cellv a = {0};
        double world[4] = {0, 0, 1, 1};
        if (m)
            msh_pb_minute_base_cells(m, world, keep, &a);
        CHECK(a.n == 1 && a.v[0].cx == 200 + (uint32_t)i);
        free(a.v);
        msh_pb_minute_release(m);
    }
    msh_playback_stats_get(p, &s);
    CHECK(s.cached == 16 && s.cache_bytes <= s.cache_cap);
    uint64_t bytes = s.bytes;
    msh_playback_close(p);

    /* reopened: the same minutes; then a torn record at the end of the last file is cut */
    CHECK(msh_playback_open(dir, 1, m0 * 60000, &p, &err) == MSH_OK);
    msh_playback_stats_get(p, &s);
    CHECK(s.minutes == 60 && s.bytes == bytes && s.cut_bytes == 0);
    msh_playback_close(p);
    char path[4400];
    snprintf(path, sizeof path, "%s/%010lld.mpb", dir, (long long)((m0 + 129) / 60));
    FILE *f = fopen(path, "ab");
    CHECK(f != NULL);
    if (f) {
        fwrite("MPB1\x01\x02\x03", 1, 7, f);
        fclose(f);
    }
    CHECK(msh_playback_open(dir, 1, m0 * 60000, &p, &err) == MSH_OK);
    msh_playback_stats_get(p, &s);
    CHECK(s.minutes == 60 && s.bytes == bytes && s.cut_bytes == 7);
    CHECK(msh_playback_at(p, (m0 + 129) * 60000, &m, &err) == MSH_OK);
    msh_pb_minute_release(m);
    msh_playback_close(p);
}

int main(int argc, char **argv)
{
    char base[4096], dir[4200];
    snprintf(base, sizeof base, "%s/playback_test", argc > 1 ? argv[1] : ".");
    mkdir(base, 0700);
    codec();
    snprintf(dir, sizeof dir, "%s/equal", base);
    fresh(dir);
    past_equals_live(dir);
    snprintf(dir, sizeof dir, "%s/window", base);
    fresh(dir);
    window(dir);
    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
