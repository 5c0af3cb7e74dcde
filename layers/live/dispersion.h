/* dispersion.h: group dispersion alerts: a group whose members spread beyond a radius from their
 * centroid (the `group` event of GET /events, ops only: it names people).
 *
 * Design (docs/ARCHITECTURE.md, "Tracking"):
 * - A pass reads the active people of every group (a person's group is the last one their feed
 *   named) and computes each group's centroid and its spread: the largest distance of a member
 *   from the centroid. One straggler is enough: a pilgrim 400 m from their group is what the
 *   operations room wants to see, whether the group scattered or one person wandered off.
 * - Hysteresis in time and in distance: a group is raised once its spread has stayed over the
 *   radius for MSH_GROUP_HOLD_S seconds; it clears once the spread is under 80% of the radius
 *   (MSH_ALERT_CLEAR_RATIO, as density alerts), or when fewer than two of its members are active.
 * - No clock inside: the pass takes `now`, so a test steps it with the server's test clock.
 * - Cost: one copy of each grouped person's group and place (12 bytes a person, kept between
 *   passes), taken 65,536 people per hold of the live read lock, so a feed writer waits for one
 *   such chunk, not for the pass; then two scans of the copy with no lock (sums, then squared
 *   distances), and a third scan of the people under the read lock, only when a group is raised,
 *   for the ids outside; about 64 bytes of state per group.
 * Locks: the pass takes the live read lock itself (the caller holds no live lock); fn is called
 *   under it. One pass at a time per state.
 */
#ifndef MSH_DISPERSION_H
#define MSH_DISPERSION_H

#include <stdbool.h>
#include <stdint.h>

#include "live.h"

/** Seconds a group's spread must stay over the radius before it is raised. */
#define MSH_GROUP_HOLD_S 60
/** Member ids named in an event, at most. */
#define MSH_GROUP_OUTSIDE_MAX 50

typedef struct msh_dispersion msh_dispersion;

msh_dispersion *msh_dispersion_new(double radius_m);
void msh_dispersion_free(msh_dispersion *d);

/** One change of a group's state. `outside` holds n_named ids (of n_outside members outside). */
typedef struct msh_group_change {
    const char *group;
    bool raised;
    double spread_m, radius_m;
    double lon, lat;      /* the centroid */
    int64_t over_since_ms; /* raised: since when the spread was over the radius */
    int64_t at_ms;        /* the pass's now */
    uint32_t members;     /* active members */
    uint32_t n_outside;
    uint32_t n_named;
    const char *const *outside;
} msh_group_change;
typedef void (*msh_group_change_fn)(void *ud, const msh_group_change *c);

/** One pass at now_ms; fn is called for every group raised or cleared by it. Returns how many. */
uint32_t msh_dispersion_pass(msh_dispersion *d, msh_live *l, int64_t now_ms, msh_group_change_fn fn, void *ud);
/** The last pass's copy: milliseconds the live read lock was held in all, and the longest hold. */
void msh_dispersion_lock_stats(const msh_dispersion *d, double *lock_ms, double *max_hold_ms);

#endif
