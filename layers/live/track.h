/* track.h: the recent trail of every tracked person (GET /tracking/{id}/track, lost-person search).
 *
 * Design (docs/ARCHITECTURE.md, "Tracking"):
 * - A fixed array of MSH_TRACK_POINTS points per person, indexed by the person's number in the
 *   live store, in blocks of 4,096 people allocated as people arrive: memory is bounded by the
 *   number of people, never by how often they report. A point is 8 bytes: x and y on a 2^24 grid
 *   around the world (2.2 m at Makkah) and the second it was seen modulo 2^16 (unwrapped against
 *   the newest point's full time, which is why the window is at most MSH_TRACK_MAX_HOURS).
 * - Thinning instead of a ring: when the array is full, the point dropped is the inner one whose
 *   neighbours are closest in time relative to its age, so the trail stays dense where it is new
 *   and spaced in proportion to age further back (a ring would forget the first hours).
 * - Standing still costs no points: a position within MSH_TRACK_STILL_M of the last point, when
 *   that one was also within it of the point before, moves the last point's time forward (the
 *   trail keeps when the person arrived and when they were last seen there).
 * - Points older than the window (the newest point's time minus `hours`) leave on the next add;
 *   readers filter by the reader's now as well.
 * No lock of its own: the live store calls it under its write lock (add) and readers hold its
 * read lock (msh_live_track in live.h).
 */
#ifndef MSH_TRACK_H
#define MSH_TRACK_H

#include <stdint.h>

#include "core/msh_err.h"

#define MSH_TRACK_POINTS 32
#define MSH_TRACK_MAX_HOURS 18
#define MSH_TRACK_STILL_M 5.0

typedef struct msh_track msh_track;

/** A track store keeping `hours` (1..MSH_TRACK_MAX_HOURS) of trail per person; NULL without memory. */
msh_track *msh_track_new(int hours);
void msh_track_free(msh_track *t);

/** Record person `idx` at world position (wx, wy: x 2^32) at t_ms (never older than their last). */
void msh_track_add(msh_track *t, uint32_t idx, uint32_t wx, uint32_t wy, int64_t t_ms);

/** One point of a trail. */
typedef struct msh_track_pt {
    double lon, lat;
    int64_t t_ms;
} msh_track_pt;

/**
 * Person idx's points at or after since_ms and within the window before now_ms, oldest first, into
 * out (room for MSH_TRACK_POINTS); returns how many.
 */
int msh_track_get(const msh_track *t, uint32_t idx, int64_t since_ms, int64_t now_ms, msh_track_pt *out);

/** Bytes held (the blocks allocated so far). */
uint64_t msh_track_bytes(const msh_track *t);

#endif
