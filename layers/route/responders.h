/* responders.h: the crews that can reach an incident soonest, by walking.
 *
 * Candidates: live crews with a location, not stale (live_timers.h), whose status is `standby`
 * or `returning` (any status with `any_status`: cleaning crews report what they do, not standby),
 * of the kind asked for (any when none), not named in `exclude` (e.g. the crews of cleaning tasks in
 * progress) nor the assigned crew of an incident dispatched or on scene. Each is snapped to the walking graph
 * (within max_snap_m), and one search from the incident over the live walking times (closed
 * edges stay closed, but the incident's own closure is opened: a crew must reach it) gives every
 * crew's walking time; a second over the same open edges by length gives the distance. ETA adds
 * the walks on and off the network at free-flow speed. Crews that cannot reach it are left out.
 * Ranked by ETA, then id. Cost: two one-to-all searches over the graph (about the work of two
 * routes), whatever the number of crews.
 */
#ifndef MSH_RESPONDERS_H
#define MSH_RESPONDERS_H

#include <stddef.h>
#include <stdint.h>

#include "live/live.h"
#include "live/live_timers.h"
#include "walknet.h"

#define MSH_RESPONDERS_MAX 50

typedef struct msh_responder {
    char crew[MSH_FEED_ID_MAX + 1];
    char name[MSH_FEED_TEXT_MAX + 1];
    char kind[33];
    char status[MSH_FEED_ID_MAX + 1];
    double distance_m, eta_s;
    double lon, lat;
} msh_responder;

typedef struct msh_responders_q {
    double lon, lat;        /* the incident */
    const char *kind;       /* crew kind, NULL or "": any */
    uint32_t limit;         /* 1..MSH_RESPONDERS_MAX */
    double max_snap_m;      /* how far a crew or the incident may be from the network */
    int64_t now_ms;
    const msh_timers_cfg *timers;
    bool any_status;              /* every status is available, not only standby and returning */
    const char *const *exclude;   /* crew ids that are not available (NULL: none) */
    size_t nexclude;
} msh_responders_q;

/**
 * Rank the crews of `live` for an incident over view `v` (graph and live costs). out gets up to
 * q->limit of them, *n how many. MSH_ENOTFOUND when the incident is not within max_snap_m of the
 * network. Takes the live read lock to copy the crews.
 */
msh_rc msh_responders_rank(const msh_netview *v, const msh_livecost_cfg *cfg, msh_live *live,
                           const msh_responders_q *q, msh_responder *out, size_t *n, msh_err *err);

#endif
