/* wal.h: the write-ahead log that makes an acknowledged live update durable.
 *
 * Design: records are appended to an in-memory batch under a mutex and get log sequence
 * numbers (LSNs); the appender holds a ticket for them. msh_wal_wait(ticket) blocks until the
 * ticket is resolved: the first waiter becomes the leader, writes everything batched so far in
 * one write() and one fdatasync(), then resolves every ticket the flush covered (group commit:
 * one disk flush per batch of batches, however many HTTP requests arrived meanwhile).
 *
 * Faults are a state, not a dead end. When a write or fdatasync fails, that flush and every
 * record batched behind it fail (their tickets resolve as failed, their LSNs are never used
 * again), the current segment is cut back to its last durable byte and the log is "broken":
 * appends are refused with the reason. Recovery (tried on the next append and by
 * msh_wal_retry, at most every retry interval) cuts the old segment back again if needed,
 * opens a new segment named for the next LSN and checks that it can allocate space; then
 * appends go on. So the LSNs in the log may have gaps; each segment is named for its first.
 * A folder that cannot be written at open (read-only, full) opens broken the same way, after
 * replaying what it holds: the state is served, writes wait for recovery.
 *
 * On disk: a folder (0700) of segment files (0600) `wal-<first lsn, 16 hex>.log`, each a run
 * of records [u32 length][u32 crc32 of type+payload][u8 type][payload], little endian. Replay
 * reads segments in order and stops at the first short or corrupt record (a torn write from a
 * crash): everything before it was synced or never acknowledged. A snapshot (owned by the
 * caller) records the LSN it covers; msh_wal_truncate_before() then drops the segments wholly
 * before it.
 *
 * Locks: one mutex per log guards all its state; no function here takes any other lock, so a
 * caller may hold its own locks around any of them (msh_wal_wait blocks on the disk).
 */
#ifndef MSH_WAL_H
#define MSH_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"

typedef struct msh_wal msh_wal;

#define MSH_WAL_MAX_RECORD ((size_t)16 << 20)

/** One record to append. */
typedef struct msh_wal_rec {
    const void *data;
    size_t len;
} msh_wal_rec;

/** The appender's handle on its records until msh_wal_wait resolves them (owned by the caller,
 * filled by msh_wal_append; every appended ticket must be passed to msh_wal_wait). */
typedef struct msh_wal_ticket {
    uint64_t first, last;        /* the LSNs of its records, consecutive */
    int state;                   /* 0 pending, 1 durable, -1 failed */
    struct msh_wal_ticket *next; /* pending list, LSN order */
} msh_wal_ticket;

/** Called for each record during replay, in LSN order; return non-zero to stop. */
typedef int (*msh_wal_replay_fn)(void *ud, uint64_t lsn, uint8_t type, const uint8_t *data, size_t len);

/**
 * Open (creating) the log folder `dir`, replay every record with LSN > `after` through `fn`,
 * cut off a torn tail and get ready to append. Fails when the folder cannot be created or read;
 * when it can be read but not written, opens broken (msh_wal_health says why).
 */
msh_rc msh_wal_open(const char *dir, uint64_t after, msh_wal_replay_fn fn, void *ud, msh_wal **out, msh_err *err);
/** Flush what is batched and close. No ticket may be pending. */
void msh_wal_close(msh_wal *w);

/** Batch `n` records of `type` with consecutive LSNs (one flush carries all or none of them);
 * `t` gets their LSNs. Refused (nothing batched, `t` untouched) while the log is broken and
 * recovery fails. Not durable until msh_wal_wait(t). */
msh_rc msh_wal_append(msh_wal *w, uint8_t type, const msh_wal_rec *recs, size_t n, msh_wal_ticket *t, msh_err *err);
/** Block until `t` is resolved: MSH_OK when its records are on disk (fdatasync), MSH_EIO when
 * their flush failed (they are not in the log and never will be). */
msh_rc msh_wal_wait(msh_wal *w, msh_wal_ticket *t, msh_err *err);
/** The highest LSN handed out (appended, maybe not yet durable, maybe failed). */
uint64_t msh_wal_last_lsn(msh_wal *w);
/** The highest LSN known durable. */
uint64_t msh_wal_durable_lsn(msh_wal *w);
/** Write out what is batched and start a new segment, so that older ones can be dropped after a snapshot. */
msh_rc msh_wal_rotate(msh_wal *w, msh_err *err);
/** Remove segments whose records are all <= lsn (covered by a snapshot). */
msh_rc msh_wal_truncate_before(msh_wal *w, uint64_t lsn, msh_err *err);

/** Try to recover a broken log now (at most once per retry interval). True when it is writable. */
bool msh_wal_retry(msh_wal *w);
/** Least time between two recovery attempts (default 100 ms; tests set 0). */
void msh_wal_set_retry_ms(msh_wal *w, int ms);
/** False while the log is broken; `reason` (may be NULL) gets why. */
bool msh_wal_health(msh_wal *w, char *reason, size_t cap);

typedef struct msh_wal_stats {
    uint64_t records, bytes, syncs;
    uint64_t failures;   /* flushes or opens that failed */
    uint64_t recoveries; /* times the log became writable again */
} msh_wal_stats;
void msh_wal_get_stats(msh_wal *w, msh_wal_stats *st);

#endif
