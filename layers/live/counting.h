/* counting.h: counting lines: people crossing a line an operator drew, per minute and direction.
 *
 * Design. An admin draws a line in the `counting_lines` collection (a store layer the server
 * creates: LineString, at most MSH_COUNTING_MAX_VERTICES vertices, a `name`). Every accepted
 * position of a tracked person that follows an earlier one of the same person (the live state keeps
 * each person's last position: its move observer hands both over) is a short segment; each time it
 * crosses a line's segment, the line counts one person in the minute of the new position:
 *   - `ab`: from the left of the line to its right, as the line was drawn (walking along the line
 *     from its first vertex to its last, left and right are the walker's);
 *   - `ba`: from the right to the left.
 * A point exactly on the line counts as on its right, and a crossing exactly at a vertex counts for
 * the segment that starts there, so one move over a vertex counts once. A move back and forth is
 * two crossings, one each way. A person's first position (no earlier one, or expired) counts nothing.
 *
 * Cost per position: a look into a grid over the lines' segments (seg_grid.h), then the test of the
 * segments whose box the move meets, whatever the number of lines (at most MSH_COUNTING_MAX_LINES).
 * Memory: per line, one entry per minute with a crossing (24 bytes), kept `keep_ms` and at most
 * MSH_COUNTING_MAX_ENTRIES in all; the grid, a few bytes per segment and cell.
 *
 * Durable like the gates' counts (gate_counts.h): the minutes changed since the last snapshot are
 * staged under the live read lock with each live snapshot and written to `msh_line_counts` before
 * the snapshot file exists; at start the rows are loaded, then the log after the snapshot is
 * replayed through msh_counting_cross. The lines themselves are read from the store before the
 * replay (the catalog is loaded later) and replaced when the catalog changes.
 *
 * Locks: set_lines and cross run under the live write lock, stage under its read lock; each also
 * takes this object's write lock. Readers take its read lock (msh_counting_rdlock). commit runs on
 * one thread at a time.
 */
#ifndef MSH_COUNTING_H
#define MSH_COUNTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "layer.h"
#include "store.h"

#define MSH_COUNTING_LAYER "counting_lines"
#define MSH_COUNTING_MAX_VERTICES 1000
#define MSH_COUNTING_MAX_LINES 256
#define MSH_COUNTING_MAX_ENTRIES 2000000u

typedef struct msh_counting msh_counting;

/** One minute of a line. */
typedef struct msh_line_minute {
    int64_t minute_ms;
    uint32_t ab, ba;
} msh_line_minute;

msh_rc msh_counting_open(const char *db_path, int64_t keep_ms, msh_counting **out, msh_err *err);
void msh_counting_close(msh_counting *c);

/** Create the empty `counting_lines` layer in a store that has the `sites` layer and no counting lines
 * (*created says so). */
msh_rc msh_counting_ensure_layer(msh_store *s, bool *created, msh_err *err);
/** The lines of a `counting_lines` layer (NULL: none) become the ones counted (live write lock held:
 * the move observer reads them). At most MSH_COUNTING_MAX_LINES, the first by id. */
msh_rc msh_counting_set_lines(msh_counting *c, msh_layer *lines, msh_err *err);

/** A person moved from (ox, oy) to (nx, ny) (world units x 2^32) at t_ms (live write lock held). */
void msh_counting_cross(msh_counting *c, uint32_t ox, uint32_t oy, uint32_t nx, uint32_t ny, int64_t t_ms);

/** The crossing rule for one segment A->B of a line (`last`: the last of its part) and a move P->Q,
 * world units: 1 when the move crosses it from its left to its right (`ab`), -1 the other way, 0 not. */
int msh_counting_seg_cross(double ax, double ay, double bx, double by, bool last, double px, double py, double qx,
                           double qy);

/** Snapshot hook (gate_counts.h): stage under the live read lock, commit before the rename. */
msh_rc msh_counting_stage(msh_counting *c, msh_err *err);
msh_rc msh_counting_commit(msh_counting *c, msh_err *err);

void msh_counting_rdlock(msh_counting *c);
void msh_counting_unlock(msh_counting *c);
/** Each line that has counts (or is drawn now): its id, name ("" when no longer drawn), a point of it
 * (has_pt false: unknown), its minutes in time order and their totals. Read lock held. */
typedef int (*msh_counting_line_fn)(void *ud, uint64_t line, const char *name, bool has_pt, double lon, double lat,
                                    const msh_line_minute *m, size_t n, uint64_t ab, uint64_t ba);
void msh_counting_each(msh_counting *c, msh_counting_line_fn fn, void *ud);
uint64_t msh_counting_version(msh_counting *c);

/** Vertices of a WKB geometry, -1 when it cannot be read or has more than `max`. */
long msh_counting_wkb_vertices(const uint8_t *wkb, size_t len, long max);

#endif
