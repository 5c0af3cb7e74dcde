/* bin_service.h: the `overflow` events of the bins feed, each naming the nearest available
 * cleaning crew by walking time.
 *
 * Design: whether a bin is overflowing is decided as its record is applied (live/bins.h: the
 * item's MSH_ITEM_OVERFLOW flag, with hysteresis). The live observer runs under the live write
 * lock and on the ingest path, where no search may run, so it only queues the bins whose state
 * changed (msh_bin_service_push: a copy of the record). The reload thread's pass, once a second,
 * drains the queue in order: a bin that began overflowing gets the cleaning crews ranked by
 * walking time to it over the live walking costs (route/responders.h) and the first is named in
 * the event; a bin that stopped gets a `cleared` event. So an event follows its reading by at
 * most about a second, and a raise and its clear are never published out of order.
 *
 * Available crew (written down in docs/ARCHITECTURE.md, "Bins"): a crew of kind `cleaning` with
 * a position, not stale (--crew-stale), not the assigned crew of an incident dispatched or on scene,
 * and not the crew of a cleaning task `in_progress` in the served `cleaning_tasks` layer. Its own
 * status text is not read: cleaning crews report what they do, not `standby`.
 *
 * The queue is bounded (MSH_BIN_QUEUE_MAX changes; past it the oldest are dropped and counted):
 * a flood of bins cannot grow memory between two passes. A pass takes at most MSH_BIN_PER_PASS
 * changes (a ranking is about 20 ms on the demo network: docs/BENCHMARKS.md), the rest wait for the
 * next pass in order, so a flood of overflowing bins never holds the reload thread (KPIs,
 * snapshots, timers) for more than about a second.
 *
 * Lock contract: push takes only the queue's mutex (it is called under the live write lock);
 * tick runs on the reload thread, swaps the queue out under the mutex, then ranks with the live
 * read lock taken inside msh_responders_rank, never holding both.
 */
#ifndef MSH_BIN_SERVICE_H
#define MSH_BIN_SERVICE_H

#include "live/live.h"
#include "serve/app.h"

#define MSH_BIN_QUEUE_MAX 4096
#define MSH_BIN_PER_PASS 50

typedef struct msh_bin_service msh_bin_service;

msh_bin_service *msh_bin_service_new(void);
void msh_bin_service_free(msh_bin_service *s);
/** From the live observer: `it` is a bin whose overflow state just changed (it->overflow_change). */
void msh_bin_service_push(msh_bin_service *s, const msh_live_item *it);
/** Once a second from the reload thread: the queued changes become `overflow` events. */
void msh_bin_service_tick(msh_app *app);

#endif
