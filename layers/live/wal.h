/* wal.h: the write-ahead log that makes an acknowledged live update durable.
 *
 * Design: records are appended to an in-memory batch under a mutex and get a
 * log sequence number (LSN). A caller that must not acknowledge before the
 * data is on disk calls msh_wal_sync(lsn): the first waiter becomes the
 * leader, writes everything batched so far in one write() and one fdatasync(),
 * then wakes every waiter the flush covered (group commit: one disk flush per
 * batch of batches, however many HTTP requests arrived meanwhile).
 *
 * On disk: a folder of segment files `wal-<first lsn, 16 hex>.log`, each a run
 * of records [u32 length][u32 crc32 of type+payload][u8 type][payload], little
 * endian. Replay reads segments in order and stops at the first short or
 * corrupt record (a torn write from a crash): everything before it was synced
 * or never acknowledged. A snapshot (owned by the caller) records the LSN it
 * covers; msh_wal_truncate_before() then drops the segments wholly before it.
 */
#ifndef MSH_WAL_H
#define MSH_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"

typedef struct msh_wal msh_wal;

#define MSH_WAL_MAX_RECORD ((size_t)16 << 20)

/** Called for each record during replay, in LSN order; return non-zero to stop. */
typedef int (*msh_wal_replay_fn)(void *ud, uint64_t lsn, uint8_t type, const uint8_t *data, size_t len);

/**
 * Open (creating) the log folder `dir`, replay every record with LSN > `after`
 * through `fn`, cut off a torn tail, and get ready to append.
 */
msh_rc msh_wal_open(const char *dir, uint64_t after, msh_wal_replay_fn fn, void *ud, msh_wal **out, msh_err *err);
/** Flush what is batched and close. */
void msh_wal_close(msh_wal *w);

/** Batch one record; *lsn gets its sequence number. Not durable until msh_wal_sync(lsn). */
msh_rc msh_wal_append(msh_wal *w, uint8_t type, const void *data, size_t len, uint64_t *lsn, msh_err *err);
/** Block until every record up to `lsn` is on disk (fdatasync). */
msh_rc msh_wal_sync(msh_wal *w, uint64_t lsn, msh_err *err);
/** The highest LSN handed out (appended, maybe not yet durable). */
uint64_t msh_wal_last_lsn(msh_wal *w);
/** The highest LSN known durable. */
uint64_t msh_wal_durable_lsn(msh_wal *w);
/** Start a new segment, so that older ones can be dropped after a snapshot. */
msh_rc msh_wal_rotate(msh_wal *w, msh_err *err);
/** Remove segments whose records are all <= lsn (covered by a snapshot). */
msh_rc msh_wal_truncate_before(msh_wal *w, uint64_t lsn, msh_err *err);

typedef struct msh_wal_stats {
    uint64_t records, bytes, syncs;
} msh_wal_stats;
void msh_wal_get_stats(msh_wal *w, msh_wal_stats *st);

#endif
