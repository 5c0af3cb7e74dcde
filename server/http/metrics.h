/* metrics.h: request counters and latency histograms, Prometheus text out.
 * Lock-free: every counter is a relaxed atomic. */
#ifndef MSH_METRICS_H
#define MSH_METRICS_H

#include <stdint.h>

#include "core/msh_buf.h"

/** Most endpoint labels a metrics set counts (the route table has fewer). */
#define MSH_METRICS_MAX_LABELS 64

typedef struct msh_metrics msh_metrics;

/** Counters for requests under `n` endpoint labels (the route table's, server/route_table.h; the last
 * one takes any label id out of range). The strings must outlive the set. NULL when out of memory. */
msh_metrics *msh_metrics_new(const char *const *labels, int n);
void msh_metrics_free(msh_metrics *m);
/** Count one finished request under endpoint label id `label`. */
void msh_metrics_request(msh_metrics *m, int label, int status, double seconds, uint64_t bytes);
/** Count one tile answered: from cache or rendered, and its features. */
void msh_metrics_tile(msh_metrics *m, int cache_hit, uint64_t bytes);
/** Count one feed batch: records accepted and rejected. `feed` indexes msh_feed (layers/live/feeds.h). */
void msh_metrics_feed(msh_metrics *m, int feed, uint64_t accepted, uint64_t rejected);
/** Write every metric in the Prometheus text format; gauges given by the caller. */
msh_rc msh_metrics_write(const msh_metrics *m, msh_buf *out, uint64_t cache_bytes, uint64_t cache_entries,
                         uint64_t layers, uint64_t features, double uptime);

#endif
