/* tracking.c: what the trails (layers/live/track.h) and the group dispersion pass
 * (layers/live/dispersion.h) cost at N tracked people, without HTTP or the write-ahead log.
 *
 *   build/bench_tracking [PEOPLE] [PASSES]     (default 3000000 people, 40 passes)
 *
 * People in groups of 100 (PEOPLE / 100 groups), walking: each pass moves everyone 15 m in their
 * group's direction, 30 s after the pass before (so after 32 passes every trail is full and each
 * new point thins one). Trails off (--track-hours 0): PASSES - 32 passes, all timed; trails on
 * (6 hours): PASSES passes, the last PASSES - 33 timed (the steady state, every update thinning a
 * full trail). Only the msh_live_apply calls are timed, in batches of 5,000 as the feed handler applies them, by
 * the CPU time of the calling thread (other work on a shared machine does not count). Then, with
 * trails on: the dispersion pass (median of 5) and one group's search scan (median of 5).
 * Memory: the trails' own bytes (msh_live_get_stats) and the process's resident size after each run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "live/dispersion.h"
#include "live/live.h"
#include "bench_live.h"

#define BATCH 5000
#define GROUP 100

static long rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb / 1024;
}

/* Pass k over everyone: the seconds spent in msh_live_apply. */
static double pass(msh_live *l, msh_feed_rec *recs, uint32_t people, int k, int64_t t_ms)
{
    double spent = 0;
    for (uint32_t start = 0; start < people; start += BATCH) {
        uint32_t n = people - start < BATCH ? people - start : BATCH;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t p = start + i, g = p / GROUP;
            msh_feed_rec *r = &recs[i];
            memset(r, 0, sizeof *r);
            r->has = MSH_FR_LOC | MSH_FR_GROUP;
            r->id_len = (uint8_t)snprintf(r->id, sizeof r->id, "P-%07u", p);
            snprintf(r->group, sizeof r->group, "G-%05u", g);
            double a = (double)(g % 360) * M_PI / 180.0, step = 15.0 * k;
            /* the group's spot over Mina, each member a few metres from it, walking along a */
            r->lon = 39.88 + (double)(g % 173) / 173.0 * 0.03 + (double)(p % 10) * 2e-5 + step * sin(a) / 103600.0;
            r->lat = 21.40 + (double)(g % 157) / 157.0 * 0.025 + (double)(p % GROUP / 10) * 2e-5 + step * cos(a) / 111195.0;
            r->t_ms = t_ms;
        }
        spent += bench_apply(l, recs, n, t_ms);
    }
    return spent;
}

static int count_member(void *ud, const char *id, const msh_live_person *p)
{
    (void)id;
    (void)p;
    (*(int *)ud)++;
    return 0;
}

int main(int argc, char **argv)
{
    uint32_t people = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 3000000;
    int passes = argc > 2 ? atoi(argv[2]) : 40;
    if (!people || passes < MSH_TRACK_POINTS + 2 || passes > 1000)
        return 2;
    msh_feed_rec *recs = calloc(BATCH, sizeof *recs);
    if (!recs)
        return 1;
    long rss0 = rss_mb();
    double per_update[2];
    for (int on = 0; on < 2; on++) {
        msh_live_config cfg;
        msh_live_config_init(&cfg);
        cfg.max_entities = people;
        cfg.max_age_s = 86400;
        cfg.track_hours = on ? 6 : 0;
        msh_live *l;
        msh_err err;
        if (msh_live_new(&cfg, &l, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        int64_t t = 1780000000000;
        pass(l, recs, people, 0, t); /* first sight: inserts, not timed */
        /* trails on: the passes that fill them (32 points) are not timed, only those after, where each
         * update adds a point and thins one; trails off: the same number of timed passes */
        int first_timed = on ? MSH_TRACK_POINTS + 1 : 1, last = on ? passes : passes - MSH_TRACK_POINTS;
        double spent = 0;
        for (int k = 1; k < last; k++) {
            double s = pass(l, recs, people, k, t + (int64_t)k * 30000);
            if (k >= first_timed)
                spent += s;
        }
        int timed = last - first_timed;
        per_update[on] = spent / ((double)people * timed) * 1e9;
        msh_live_stats st;
        msh_live_get_stats(l, &st);
        printf("trails %s: update %.0f ns/person over %d passes; store %.0f MB, trails %.0f MB (%.0f bytes/person), "
               "resident %ld MB\n",
               on ? "on (6 h)" : "off", per_update[on], timed, st.bytes / 1e6, st.track_bytes / 1e6,
               (double)st.track_bytes / people, rss_mb() - rss0);
        if (on) {
            msh_dispersion *d = msh_dispersion_new(300);
            double dt[5], st5[5], lk[5], hold[5];
            for (int i = 0; i < 5; i++) {
                double t0 = bench_cpu_s();
                msh_dispersion_pass(d, l, t + (int64_t)passes * 30000 + i * 1000, NULL, NULL); /* takes the lock */
                dt[i] = bench_cpu_s() - t0;
                msh_dispersion_lock_stats(d, &lk[i], &hold[i]);
                int n = 0;
                t0 = bench_cpu_s();
                msh_live_rdlock(l);
                msh_live_group_people(l, "G-00042", 7, count_member, &n);
                msh_live_unlock(l);
                st5[i] = bench_cpu_s() - t0;
                if (n != GROUP && people >= 43 * GROUP)
                    fprintf(stderr, "group G-00042: %d members\n", n);
            }
            qsort(dt, 5, sizeof *dt, bench_cmp_double);
            qsort(st5, 5, sizeof *st5, bench_cmp_double);
            qsort(lk, 5, sizeof *lk, bench_cmp_double);
            qsort(hold, 5, sizeof *hold, bench_cmp_double);
            printf("dispersion pass over %u people in %u groups: %.1f ms (median of 5), of which %.1f ms under the "
                   "live read lock in holds of at most %.2f ms; group search scan %.1f ms\n",
                   people, (people + GROUP - 1) / GROUP, dt[2] * 1e3, lk[2], hold[4], st5[2] * 1e3);
            msh_dispersion_free(d);
        }
        msh_live_free(l);
    }
    printf("trails add %.0f ns per position update (%.0f%%); at 100,000 updates/s (3 M people every 30 s) that is "
           "%.1f%% of a core\n",
           per_update[1] - per_update[0], (per_update[1] / per_update[0] - 1) * 100,
           (per_update[1] - per_update[0]) * 1e5 / 1e9 * 100);
    free(recs);
    return 0;
}
