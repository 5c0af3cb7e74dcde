/* live_timers.h: the time rules of the live items, one pass at a time.
 *
 * - Escalation: an incident of severity high or critical still `reported` escalate_after_s after
 *   it was reported is escalated once (MSH_ITEM_ESCALATED; the caller sends the event).
 * - Retention: a resolved or cancelled incident leaves the live map retention_s after it ended
 *   (MSH_ITEM_RETIRED: no tile, item, responders or write shows it). It stays in the live state,
 *   where the KPIs count the day's incidents (their response times), and its history stays in
 *   the store (incident_log.h).
 * - Crews: a crew not heard from for crew_stale_s is stale (MSH_ITEM_STALE: shown as `stale`
 *   and never offered as a responder; its next record clears it); after crew_drop_s it leaves.
 * - Sensors: a sensor not heard from for sensor_stale_s is stale (MSH_ITEM_STALE: its last reading
 *   stays on the map, marked `stale`, and the KPIs count it; its next reading clears it).
 * - Bins: a bin not heard from for bin_stale_s is stale the same way (MSH_ITEM_STALE: its last fill
 *   level stays on the map, marked `stale`; the KPI counts it as stale, not as overflowing; its
 *   overflow state is left as it was, neither raised nor cleared, until its next reading).
 *
 * Design: no clock inside. A pass takes `now` from its caller (the reload thread once a second,
 * or POST /test/clock right after moving the test clock), so the unit and integration tests step
 * time by hand. Nothing here is logged: every rule follows from the times the log and the
 * snapshot keep, so after a restart the next pass brings the state to the same place (an
 * escalation between the last snapshot and a crash may be sent again).
 */
#ifndef MSH_LIVE_TIMERS_H
#define MSH_LIVE_TIMERS_H

#include <stddef.h>
#include <stdint.h>

#include "live.h"

typedef struct msh_timers_cfg {
    int escalate_after_s;   /* 120 */
    int retention_s;        /* 1800 */
    int crew_stale_s;       /* 120 */
    int crew_drop_s;        /* 900 */
    int sensor_stale_s;     /* 900 */
    int bin_stale_s;        /* 1800 (--bin-stale-min 30) */
} msh_timers_cfg;

void msh_timers_cfg_init(msh_timers_cfg *c);

typedef struct msh_timers_result {
    size_t escalated, removed, stale, dropped; /* stale: crews, sensors and bins */
} msh_timers_result;

/** Called (under the write lock) for each incident escalated by this pass. */
typedef void (*msh_escalate_fn)(void *ud, const msh_live_item *it, int64_t now_ms);

/** One pass at `now_ms` (takes the write lock). */
void msh_timers_tick(msh_live *l, const msh_timers_cfg *c, int64_t now_ms, msh_escalate_fn fn, void *ud,
                     msh_timers_result *res);

/** Whether crew `it` is stale at now_ms (read lock held). */
bool msh_timers_crew_stale(const msh_live_item *it, const msh_timers_cfg *c, int64_t now_ms);

#endif
