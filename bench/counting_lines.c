/* counting_lines.c: what counting lines cost the positions feed, without HTTP or the log: N people
 * spread over Mina (3 x 2.8 km) each step a few metres (a walking pilgrim reporting every few
 * seconds), applied through msh_live_apply with the move observer counting crossings
 * (layers/live/counting.h) against L lines: none (the observer returns at once), 16, and 256 (the
 * cap), each a 300 m two-segment line at a random place and angle.
 *
 *   build/bench/bench_counting_lines [PEOPLE] [ROUNDS]     (default 3000000 people, 3 rounds)
 *
 * A round loads everyone once, then times one pass of everyone moving (msh_live_apply calls only,
 * by the thread's CPU time, batches of 5,000 as the feed handler applies them) for each line count.
 * Prints ns per position, the CPU share of one core at 100,000 positions a second (3 M people each
 * reporting every 30 s), the crossings counted and the minutes held (24 bytes each). The lines'
 * store is a temporary file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/msh_tilemath.h"
#include "live/counting.h"
#include "live/live.h"
#include "store.h"

#define BATCH 5000

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* A layer of L lines made in memory (the counter only queries it). */
typedef struct {
    msh_layer base;
    int n;
    double xy[MSH_COUNTING_MAX_LINES][6];
} mem_lines;

static msh_rc q_lines(msh_layer *base, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    (void)box;
    (void)z;
    mem_lines *l = (mem_lines *)base;
    msh_value v = {0};
    for (int i = 0; i < l->n; i++) {
        msh_feature f = {(uint64_t)i + 1, {MSH_GT_LINE, 3, 0, l->xy[i], NULL}, &v};
        if (fn(ud, &f))
            break;
    }
    return MSH_OK;
}

static void no_free(msh_layer *l)
{
    (void)l;
}

static const msh_layer_vt VT = {q_lines, no_free, NULL};

static msh_counting *g_counting;

static void on_move(void *ud, const char *id, size_t n, bool had_old, uint32_t owx, uint32_t owy, uint32_t nwx,
                    uint32_t nwy, int64_t t_ms)
{
    (void)ud;
    (void)id;
    (void)n;
    if (had_old)
        msh_counting_cross(g_counting, owx, owy, nwx, nwy, t_ms);
}

/* The crossings counted and the minutes held, all lines. */
static int add_line(void *ud, uint64_t line, const char *name, bool has_pt, double lon, double lat,
                    const msh_line_minute *m, size_t nm, uint64_t ab, uint64_t ba)
{
    (void)line, (void)name, (void)has_pt, (void)lon, (void)lat, (void)m;
    uint64_t *a = ud;
    a[0] += ab + ba;
    a[1] += nm;
    return 0;
}

static uint64_t total_crossings(msh_counting *c, uint64_t *minutes)
{
    uint64_t a[2] = {0, 0};
    msh_counting_rdlock(c);
    msh_counting_each(c, add_line, a);
    msh_counting_unlock(c);
    *minutes = a[1];
    return a[0];
}

int main(int argc, char **argv)
{
    uint32_t people = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 3000000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    char db[] = "/tmp/bench_counting_XXXXXX";
    int fd = mkstemp(db);
    if (fd < 0)
        return 1;
    close(fd);
    unlink(db);
    msh_store *s;
    msh_err err;
    if (msh_store_open(db, true, &s, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    msh_store_close(s);
    double *lon = malloc(people * sizeof *lon), *lat = malloc(people * sizeof *lat);
    msh_feed_rec *recs = calloc(BATCH, sizeof *recs);
    const int LCOUNT[3] = {0, 16, 256};
    printf("people %u, rounds %d\n", people, rounds);
    for (int round = 0; round < rounds; round++) {
        for (int li = 0; li < 3; li++) {
            msh_live_config cfg;
            msh_live_config_init(&cfg);
            msh_live *live;
            if (msh_live_new(&cfg, &live, &err) || msh_counting_open(db, 86400000LL * 60, &g_counting, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            uint64_t seed = 88172645463325252ull + (uint64_t)round;
            mem_lines ml;
            memset(&ml, 0, sizeof ml);
            ml.base.vt = &VT;
            ml.base.info.maxzoom = 22;
            ml.n = LCOUNT[li];
            for (int i = 0; i < ml.n; i++) { /* 300 m in two segments, somewhere in Mina */
                double clon = 39.88 + (double)(rnd(&seed) & 0xffff) / 65536.0 * 0.03;
                double clat = 21.40 + (double)(rnd(&seed) & 0xffff) / 65536.0 * 0.025;
                double a = (double)(rnd(&seed) & 0xffff) / 65536.0 * M_PI, d = 0.00145;
                double pts[3][2] = {{clon - d * cos(a), clat - d * sin(a)}, {clon, clat + 0.0002},
                                    {clon + d * cos(a), clat + d * sin(a)}};
                for (int k = 0; k < 3; k++)
                    msh_lonlat_to_world(pts[k][0], pts[k][1], &ml.xy[i][2 * k], &ml.xy[i][2 * k + 1]);
            }
            msh_live_wrlock(live);
            msh_counting_set_lines(g_counting, ml.n ? &ml.base : NULL, &err);
            msh_live_unlock(live);
            msh_live_set_move_observer(live, on_move, NULL);
            int64_t t = 1779782400000LL;
            double spent = 0;
            for (int pass = 0; pass < 2; pass++, t += 5000) {
                for (uint32_t start = 0; start < people; start += BATCH) {
                    uint32_t n = people - start < BATCH ? people - start : BATCH;
                    for (uint32_t i = 0; i < n; i++) {
                        uint32_t p = start + i;
                        if (pass == 0) {
                            lon[p] = 39.88 + (double)(rnd(&seed) & 0xffff) / 65536.0 * 0.03;
                            lat[p] = 21.40 + (double)(rnd(&seed) & 0xffff) / 65536.0 * 0.025;
                        } else { /* up to 4 m each way */
                            lon[p] += ((double)(rnd(&seed) & 0xffff) / 65536.0 - 0.5) * 0.00008;
                            lat[p] += ((double)(rnd(&seed) & 0xffff) / 65536.0 - 0.5) * 0.00008;
                        }
                        msh_feed_rec *r = &recs[i];
                        r->has = MSH_FR_LOC;
                        r->id_len = (uint8_t)snprintf(r->id, sizeof r->id, "P-%07u", p);
                        r->lon = lon[p];
                        r->lat = lat[p];
                        r->t_ms = t;
                    }
                    double t0 = cpu_s();
                    msh_live_wrlock(live);
                    msh_live_apply(live, MSH_FEED_POSITIONS, recs, n, t);
                    msh_live_unlock(live);
                    if (pass == 1)
                        spent += cpu_s() - t0;
                }
            }
            uint64_t minutes, crossings = total_crossings(g_counting, &minutes);
            double ns = spent / people * 1e9;
            printf("round %d lines %3d: %.0f ns/position, %.2f%% of a core at 100,000 positions/s, %llu crossings, "
                   "%llu minutes held (%llu bytes)\n",
                   round, ml.n, ns, ns * 100000 / 1e9 * 100, (unsigned long long)crossings,
                   (unsigned long long)minutes, (unsigned long long)minutes * 24);
            msh_counting_close(g_counting);
            msh_live_free(live);
        }
    }
    unlink(db);
    free(lon);
    free(lat);
    free(recs);
    return 0;
}
