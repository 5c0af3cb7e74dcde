/* bench_live.h: what the live-store benchmarks (live_people.c, tracking.c) share: the calling
 * thread's CPU clock, a comparison for medians, and one batch applied as the feed handler does. */
#ifndef MSH_BENCH_LIVE_H
#define MSH_BENCH_LIVE_H

#include <time.h>

#include "live/live.h"

/** CPU seconds of the calling thread (other work on a shared machine does not count). */
static inline double bench_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/** Apply n position records under the write lock; the CPU seconds it took. */
static inline double bench_apply(msh_live *l, const msh_feed_rec *recs, uint32_t n, int64_t t_ms)
{
    double t0 = bench_cpu_s();
    msh_live_wrlock(l);
    msh_live_apply(l, MSH_FEED_POSITIONS, recs, n, t_ms);
    msh_live_unlock(l);
    return bench_cpu_s() - t0;
}

#endif
