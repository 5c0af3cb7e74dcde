/* gate_counts.h: each gate's counts per 5 minutes for the season, and its permit-scan alert.
 *
 * Design. A gate feed record carries the counts of one report (`in`, `out`, and optionally
 * `scans_valid` and `scans_denied`); the record is folded into its gate's bucket of the 5 minutes
 * (by the record's time) that hold it: sums of in, out and scans, and the peak utilisation (the
 * gate's flow per hour over its capacity, as the gates layer shows it) of the reports in it.
 *
 * Durable, exactly once. The live state is restored from a snapshot and the write-ahead log
 * after it; the buckets are kept in the store (`msh_gate_counts`, one row per gate and 5 minutes,
 * with `seq`: the gate's update count, msh_live_item.updates, of the last record folded in). The
 * rows reach the store when a live snapshot is taken, before its file exists
 * (msh_gate_counts_stage under the live read lock, msh_gate_counts_commit before the rename:
 * ingest.h's snapshot hook), so the store always holds every record the snapshot covers. At start
 * the rows are loaded first, then the log is replayed through msh_gate_counts_fold, which skips
 * what a gate's `seq` says is already counted: after `kill -9` every acknowledged count is there
 * once. Operator writes to a gate (open, close) bump its update count but carry no counts: skipped.
 *
 * Permits. The scans of the last 5 minutes (by record time, in one-minute slots) give a denied
 * share; with at least `min_scans` scans, a share over `threshold` raises the gate's permit alert,
 * which clears when the share falls under 80% of it (the house hysteresis). Evaluated at each
 * report that carries scans.
 *
 * Bounded: buckets older than `keep_ms` before the newest are dropped (memory and store), and
 * past MSH_GATE_COUNTS_MAX buckets the oldest of the fullest gate go.
 *
 * Locks: fold runs under the live write lock (the live observer), stage under the live read lock;
 * both also take this object's write lock, readers (the layer, the KPI) its read lock through
 * msh_gate_counts_rdlock. commit runs on one thread at a time (the snapshot's).
 */
#ifndef MSH_GATE_COUNTS_H
#define MSH_GATE_COUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "live.h"

#define MSH_GATE_BUCKET_MS 300000LL
/** Buckets held at most (about 64 bytes each: 256 MB at the cap; 100 gates for 60 days is 1.7 M). */
#define MSH_GATE_COUNTS_MAX 4000000u
/** The window of the permit share, and its slots. */
#define MSH_PERMIT_WINDOW_MS 300000LL

typedef struct msh_gate_counts msh_gate_counts;

typedef struct msh_gate_bucket {
    int64_t start_ms;
    int64_t in, out, scans_valid, scans_denied;
    double peak_util; /* NAN: no capacity known in these 5 minutes */
} msh_gate_bucket;

/** A permit alert that changed with a record. */
typedef struct msh_permit_change {
    int change; /* +1 raised, -1 cleared, 0 none */
    double share;
    int64_t valid, denied;
} msh_permit_change;

/** Open (tables made if missing) and load the store's rows within the horizon. `threshold` is the
 * denied share that raises a permit alert, `min_scans` the scans it needs in the window. */
msh_rc msh_gate_counts_open(const char *db_path, int64_t keep_ms, double threshold, int min_scans,
                            msh_gate_counts **out, msh_err *err);
void msh_gate_counts_close(msh_gate_counts *gc);

/** Fold the record a gate item just took (live observer, live write lock held). *pc tells whether
 * its permit alert changed. Out of memory: the record is not counted (never a crash). */
void msh_gate_counts_fold(msh_gate_counts *gc, const msh_live_item *it, msh_permit_change *pc);

/** Snapshot hook: copy the buckets changed since the last commit (live read lock held). */
msh_rc msh_gate_counts_stage(msh_gate_counts *gc, msh_err *err);
/** Write what was staged in one transaction. A failure fails the snapshot (the log keeps all). */
msh_rc msh_gate_counts_commit(msh_gate_counts *gc, msh_err *err);

/** Readers: the read lock around _each and _gate_buckets. */
void msh_gate_counts_rdlock(msh_gate_counts *gc);
void msh_gate_counts_unlock(msh_gate_counts *gc);
/** Each bucket of each gate: the gate's id, position (has_loc false: none known), the bucket and a
 * stable feature id (the bucket's number and the gate's); `fn` returning non-zero stops. */
typedef int (*msh_gate_bucket_fn)(void *ud, const char *gate, bool has_loc, double lon, double lat,
                                  const msh_gate_bucket *b, uint64_t fid);
void msh_gate_counts_each(msh_gate_counts *gc, msh_gate_bucket_fn fn, void *ud);
/** The buckets of gate `id` starting at or after since_ms (in time order), or NULL and *n = 0. */
const msh_gate_bucket *msh_gate_counts_gate(msh_gate_counts *gc, const char *id, int64_t since_ms, size_t *n);
/** Sites (the gates' `site`) counted from a reset: an operator's, kept in the store
 * (`msh_site_resets`), or the start of the day. Reset `site` at t_ms (a short SQLite write on the
 * caller's thread: the one request path here that writes the store). Site names are 1..32 bytes. */
#define MSH_SITE_NAME_MAX 32
typedef struct msh_site_reset {
    int64_t t_ms;          /* when (0: never reset) */
    int64_t base_in, base_out; /* what the site's gates had counted in the 5 minutes holding t_ms by then */
} msh_site_reset;
msh_rc msh_gate_counts_reset_site(msh_gate_counts *gc, const char *site, const msh_site_reset *r, msh_err *err);
/** The last reset of `site` (t_ms 0 when none; read lock held). */
msh_site_reset msh_gate_counts_site_reset(msh_gate_counts *gc, const char *site);

/** Changes with every fold (the layer's version). */
uint64_t msh_gate_counts_version(msh_gate_counts *gc);

#endif
