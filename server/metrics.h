/* metrics.h: request counters and latency histograms, Prometheus text out.
 * Lock-free: every counter is a relaxed atomic. */
#ifndef MSH_METRICS_H
#define MSH_METRICS_H

#include <stdint.h>

#include "core/msh_buf.h"

typedef enum {
    MSH_EP_TILE = 0,
    MSH_EP_TILEJSON,
    MSH_EP_CATALOG,
    MSH_EP_STYLE,
    MSH_EP_STATIC,
    MSH_EP_HEALTH,
    MSH_EP_METRICS,
    MSH_EP_FEEDS,
    MSH_EP_EVENTS,
    MSH_EP_ROUTE,
    MSH_EP_QUERY,
    MSH_EP_OTHER,
    MSH_EP_COUNT
} msh_endpoint;

typedef struct msh_metrics msh_metrics;

msh_metrics *msh_metrics_new(void);
void msh_metrics_free(msh_metrics *m);
/** Count one finished request. */
void msh_metrics_request(msh_metrics *m, msh_endpoint ep, int status, double seconds, uint64_t bytes);
/** Count one tile answered: from cache or rendered, and its features. */
void msh_metrics_tile(msh_metrics *m, int cache_hit, uint64_t bytes);
/** Count one feed batch: records accepted and rejected. `feed` indexes msh_feed (layers/live/feeds.h). */
void msh_metrics_feed(msh_metrics *m, int feed, uint64_t accepted, uint64_t rejected);
/** Write every metric in the Prometheus text format; gauges given by the caller. */
msh_rc msh_metrics_write(const msh_metrics *m, msh_buf *out, uint64_t cache_bytes, uint64_t cache_entries,
                         uint64_t layers, uint64_t features, double uptime);

#endif
