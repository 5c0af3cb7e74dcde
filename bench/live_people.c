/* live_people.c: the live people index alone, without HTTP or the write-ahead log: how fast
 * msh_live_apply takes positions of N people (first sight: an insert; again: a lookup) and
 * how many bytes the store holds per person (msh_live_get_stats).
 *
 *   build/bench_live_people [PEOPLE] [ROUNDS]     (default 2000000 people, 3 rounds)
 *
 * Each round builds a new store, loads everyone once (inserts), then sends everyone again
 * twice (updates); only the msh_live_apply calls are timed, in batches of 5,000 as the feed
 * handler applies them, by the CPU time of the calling thread (so that other work on a shared
 * machine does not count). Prints each round and the median. Ids "P-0000000"..., positions
 * spread over Mina, one timestamp a pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "live/live.h"
#include "bench_live.h"

#define BATCH 5000

/* One pass over everyone at time t_ms; the seconds spent in msh_live_apply. */
static double pass(msh_live *l, msh_feed_rec *recs, uint32_t people, int64_t t_ms)
{
    double spent = 0;
    uint64_t seed = 88172645463325252ull;
    for (uint32_t start = 0; start < people; start += BATCH) {
        uint32_t n = people - start < BATCH ? people - start : BATCH;
        for (uint32_t i = 0; i < n; i++) {
            msh_feed_rec *r = &recs[i];
            r->has = MSH_FR_LOC;
            r->id_len = (uint8_t)snprintf(r->id, sizeof r->id, "P-%07u", start + i);
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            r->lon = 39.88 + (double)(seed & 0xffff) / 65536.0 * 0.03;
            r->lat = 21.40 + (double)((seed >> 16) & 0xffff) / 65536.0 * 0.025;
            r->t_ms = t_ms;
        }
        spent += bench_apply(l, recs, n, t_ms);
    }
    return spent;
}

int main(int argc, char **argv)
{
    uint32_t people = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 2000000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    if (rounds < 1 || rounds > 99 || !people)
        return 2;
    msh_feed_rec *recs = calloc(BATCH, sizeof *recs);
    if (!recs)
        return 1;
    double ins[99], upd[99], bpp[99];
    for (int r = 0; r < rounds; r++) {
        msh_live_config cfg;
        msh_live_config_init(&cfg);
        cfg.max_entities = people;
        msh_live *l;
        msh_err err;
        if (msh_live_new(&cfg, &l, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        int64_t t = 1780000000000;
        double ti = pass(l, recs, people, t);
        double tu = pass(l, recs, people, t + 1000) + pass(l, recs, people, t + 2000);
        msh_live_stats st;
        msh_live_get_stats(l, &st);
        if (st.people != people) {
            fprintf(stderr, "%llu people stored of %u\n", (unsigned long long)st.people, people);
            return 1;
        }
        ins[r] = ti / people * 1e9;
        upd[r] = tu / (2.0 * people) * 1e9;
        bpp[r] = (double)st.bytes / people;
        printf("round %d: insert %.0f ns/person, update %.0f ns/person, %.1f bytes/person (store bytes %llu)\n", r + 1,
               ins[r], upd[r], bpp[r], (unsigned long long)st.bytes);
        msh_live_free(l);
    }
    qsort(ins, (size_t)rounds, sizeof *ins, bench_cmp_double);
    qsort(upd, (size_t)rounds, sizeof *upd, bench_cmp_double);
    qsort(bpp, (size_t)rounds, sizeof *bpp, bench_cmp_double);
    printf("median of %d rounds, %u people: insert %.0f ns/person, update %.0f ns/person, %.1f bytes/person\n", rounds,
           people, ins[rounds / 2], upd[rounds / 2], bpp[rounds / 2]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak resident memory of the process: %.0f MB\n", (double)ru.ru_maxrss / 1024.0);
    free(recs);
    return 0;
}
