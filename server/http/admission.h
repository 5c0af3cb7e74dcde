/* admission.h: a budget of work in flight for requests whose cost grows with their parameters.
 *
 * Design: the PNG render gate (render_gate.h) queues renders, which is right for tiles a map
 * asks for a few at a time. Isochrones, routes, filtered nearest searches and OGC item pages
 * are different: one client can ask for as many as it likes, each costs up to seconds of CPU,
 * and a request that waits still holds one of the HTTP worker threads, which /health and the
 * cached tiles of every other client need. So this gate never queues: each request brings a
 * cost estimate in units (one unit is about 10 ms of CPU; a 60-minute isochrone is 100), and is
 * admitted at once when the units in flight plus its own fit the budget and fewer than `slots`
 * expensive requests run, else refused at once with a hint of when to come back (the time the
 * work in flight should take to drain, from the measured seconds per unit). Cheap requests
 * (cost 0: /health, tiles, metrics, anything answered from a cache) never pass through it.
 *
 * A request of fewer than MSH_ADMIT_SLOT_UNITS (under about 50 ms: a route, an OGC page of a few
 * hundred features) counts against the budget but takes no slot: many clients may page through
 * OGC items at once, as QGIS and GDAL do, without being refused for the count alone.
 *
 * A request whose estimate exceeds the whole budget is counted as the whole budget: it runs
 * only when nothing else expensive does, but it can run.
 *
 * Lock contract: every function takes `mu` itself; none is called with it held. Counters are
 * read by /metrics through msh_admission_stats.
 */
#ifndef MSH_ADMISSION_H
#define MSH_ADMISSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/metrics.h"

/** Requests of at least this many units take one of the slots (and run on a thread of their own). */
#define MSH_ADMIT_SLOT_UNITS 5

/** Why a request was refused. */
typedef enum { MSH_ADMIT_OK = 0, MSH_ADMIT_BUDGET, MSH_ADMIT_SLOTS } msh_admit_result;

/** The gate's state as /metrics shows it. */
typedef struct msh_admission_stats {
    unsigned budget;      /* units in flight at most */
    unsigned slots;       /* expensive requests in flight at most */
    unsigned units;       /* units in flight now */
    unsigned running;     /* expensive requests in flight now */
    uint64_t admitted, refused_budget, refused_slots;
    uint64_t units_done;  /* units admitted and finished */
    uint64_t by_label[MSH_METRICS_MAX_LABELS][3]; /* per endpoint label: indexed by msh_admit_result */
} msh_admission_stats;

typedef struct msh_admission {
    pthread_mutex_t mu;
    double secs_per_unit; /* moving average of measured seconds per unit (Retry-After) */
    msh_admission_stats st;
} msh_admission;

void msh_admission_init(msh_admission *a, unsigned budget, unsigned slots);
void msh_admission_destroy(msh_admission *a);

/**
 * Admit a request of `*units` (clamped to [1, budget]; the clamped value is written back and
 * must be passed to msh_admission_leave). Refused: *retry_s is a whole number of seconds
 * (1..60) after which the work in flight now should be done.
 */
msh_admit_result msh_admission_enter(msh_admission *a, int label, unsigned *units, unsigned *retry_s);

/** The end of an admitted request of `units` (as enter wrote it back), which took `seconds`. */
void msh_admission_leave(msh_admission *a, unsigned units, double seconds);

/** Copy the counters (`out` is large: about 1.5 KiB). */
void msh_admission_stats_get(msh_admission *a, msh_admission_stats *out);

#endif
