/* ingest.h: one path for every live update, whatever carried it (HTTP, MQTT, replay).
 *
 * A batch body (NDJSON, or a GeoJSON FeatureCollection) is checked record by
 * record; the good records are appended to the write-ahead log (consecutive
 * LSNs, one log record per slice of 512), the batch waits for the log to reach
 * the disk (group commit), and only then is applied to the live state, in log
 * order, and acknowledged. A batch the log could not write is not applied at
 * all. Bad records are reported with their line and never hold back the good
 * ones. At start, the log replays into the live state before anything is served.
 * Write faults (log or snapshot) are a state that msh_ingest_health reports and
 * that ends by itself once the disk takes writes again.
 */
#ifndef MSH_INGEST_H
#define MSH_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "feeds.h"
#include "live.h"
#include "wal.h"

typedef struct msh_ingest msh_ingest;

/** Open the log in `dir` and replay it into `live` (borrowed). *replayed gets the record count. */
msh_rc msh_ingest_open(const char *dir, msh_live *live, msh_ingest **out, uint64_t *replayed, msh_err *err);
void msh_ingest_close(msh_ingest *in);
msh_live *msh_ingest_live(msh_ingest *in);

typedef struct msh_ingest_result {
    uint64_t accepted;
    uint64_t rejected;
    msh_buf rejections; /* JSON array items: {"line":L,"reason":"..."}, comma separated, at most max_listed */
} msh_ingest_result;

#define MSH_INGEST_MAX_LISTED 1000

void msh_ingest_result_init(msh_ingest_result *r);
void msh_ingest_result_free(msh_ingest_result *r);

/**
 * Check every record of a body (NDJSON, or a GeoJSON FeatureCollection when `geojson`) without
 * logging or applying them: the good ones are appended to `recs` as msh_feed_rec, the bad ones
 * counted and listed in `res`. MSH_EFORMAT when a GeoJSON body is not a FeatureCollection.
 */
msh_rc msh_feed_parse_body(msh_feed feed, const char *body, size_t len, bool geojson, int64_t now_ms, msh_buf *recs,
                           msh_ingest_result *res, msh_err *err);

/** The answer document, {"accepted":N,"rejected":[...]} (and "rejected_total" when the list was cut), into out. */
msh_rc msh_ingest_result_json(const msh_ingest_result *r, msh_buf *out);

/**
 * Check, log, apply and make durable one batch for `feed`. `geojson` says the body is a
 * FeatureCollection (else NDJSON). Fails as a whole only when the body cannot be read at
 * all (MSH_EFORMAT) or the log cannot be written (MSH_EIO: nothing was acknowledged).
 */
msh_rc msh_ingest_batch(msh_ingest *in, msh_feed feed, const char *body, size_t len, bool geojson, int64_t now_ms,
                        msh_ingest_result *res, msh_err *err);

/** Log, make durable and apply records already checked (msh_feed_parse_body, or an operator's new
 * incident), as msh_ingest_batch does after its checks. MSH_EIO: nothing was logged or applied. */
msh_rc msh_ingest_records(msh_ingest *in, msh_feed feed, const msh_feed_rec *recs, size_t n, int64_t now_ms,
                          msh_err *err);

/** Applies an operator's write; called under the live write lock, in log order. */
typedef void (*msh_ingest_apply_fn)(void *ud, msh_live *live);
/**
 * Log one operator write (live_ops.h: an encoded msh_ops_rec, logged as MSH_WAL_OPS with the time
 * now_ms), wait until it is durable, then call apply in its log turn under the write lock.
 * MSH_EIO when the log could not take it (apply is not called).
 */
msh_rc msh_ingest_op(msh_ingest *in, const void *payload, size_t len, int64_t now_ms, msh_ingest_apply_fn apply,
                     void *ud, msh_err *err);

/**
 * Write a snapshot of the live state (`snapshot-<lsn>.snap` in the log folder, written to a
 * temporary file, synced and renamed), then drop the log segments and older snapshots it
 * covers, so that a restart replays only what came after. Writers wait only while the state
 * is copied to memory. *bytes gets the snapshot size.
 */
msh_rc msh_ingest_snapshot(msh_ingest *in, uint64_t *bytes, msh_err *err);

/**
 * State kept beside the live state (gate_counts.h) made durable with each snapshot: the hook is
 * called with phase 0 under the live read lock, right after the state is copied (copy what the
 * snapshot covers), and with phase 1 before the snapshot file is renamed (write it). A failure
 * fails the snapshot: the log keeps everything. Set before the first snapshot.
 */
typedef msh_rc (*msh_ingest_snap_hook)(void *ud, int phase, msh_err *err);
void msh_ingest_set_snapshot_hook(msh_ingest *in, msh_ingest_snap_hook fn, void *ud);
/** Records logged since the last snapshot (to decide when to take one). */
uint64_t msh_ingest_unsnapshotted(msh_ingest *in);

/** False while the log or the last snapshot cannot be written; `reason` (may be NULL) says why. */
bool msh_ingest_health(msh_ingest *in, char *reason, size_t cap);
/** Try to make a broken log writable again (rate-limited inside); true when it is. */
bool msh_ingest_retry(msh_ingest *in);

typedef struct msh_ingest_storage {
    uint64_t log_failures;      /* log writes (or opens) that failed */
    uint64_t log_recoveries;    /* times the log became writable again */
    uint64_t snapshot_failures; /* snapshots that could not be written */
    bool degraded;              /* msh_ingest_health is false now */
} msh_ingest_storage;
void msh_ingest_storage_stats(msh_ingest *in, msh_ingest_storage *st);
/** The log (for tests that tune its retry interval). */
msh_wal *msh_ingest_wal(msh_ingest *in);

/* ---- the replicated feed log (ingest_log.c) ----
 *
 * With a feed log (server/services/feed_log.c: NATS JetStream) the stream, not the local
 * write-ahead log, is the source of truth. A writer (msh_ingest_batch, msh_ingest_records,
 * msh_ingest_op) encodes its batch as ONE stream message, appends it through `append` (which
 * returns once a quorum stored it, with its stream sequence) and then waits until the
 * consumer has applied that sequence here; it applies nothing itself. The consumer hands
 * every message to msh_ingest_apply_msg in stream order, on every node alike, so two nodes
 * that applied the same sequence hold the same live state: the received time travels in the
 * message (the writer's clock), never the consumer's. Snapshots record the applied sequence;
 * a restart loads the newest one and the consumer replays from the next sequence.
 *
 * A stream message: [u8 type (feed, or MSH_WAL_OPS)][i64 LE received ms][u64 LE origin][u64 LE nonce]
 * then the WAL payload (msh_feed_encode records, or an encoded msh_ops_rec).
 *
 * A group (several writers' messages stored as one stream message, group commit): [u8
 * MSH_INGEST_MSG_GROUP] then, per message, [u32 LE length][that message]. Its messages are applied
 * in order, in one turn, under one sequence; a group inside a group, or a part whose length runs
 * past the end, ends the group there (every node alike).
 */
#define MSH_INGEST_MSG_HEADER 25
#define MSH_INGEST_MSG_GROUP 65

/* Seconds a writer refused for a passing reason waits before sending again (err->retry_after_s,
 * the Retry-After of its 503): a stream leader being elected after a NATS server died, or the
 * connection to NATS being made again, takes a few seconds. */
#define MSH_INGEST_RETRY_AFTER_S 2

typedef struct msh_ingest_log {
    /** Store one message on the stream; *seq gets its sequence. MSH_EIO (err says why) when it
     * was not acknowledged; MSH_ETOOBIG when the stream does not take messages that large. A
     * refusal that passes by itself (no acknowledgement now: the writer should send the same again
     * shortly) also sets err->retry_after_s (MSH_INGEST_RETRY_AFTER_S), and err->outcome_unknown
     * when the stream gave no answer in time, so the message may or may not be stored (a feed batch
     * is sent again safely, an operator's create is not); one that does not pass (this node has a
     * hole in the stream) leaves both as msh_err_set made them. */
    msh_rc (*append)(void *ud, const void *msg, size_t len, uint64_t *seq, msh_err *err);
    void *ud;
    int64_t apply_wait_ms; /* how long an acknowledged writer waits for the local apply (default 30 s) */
} msh_ingest_log;

/**
 * Open for a feed log: the newest snapshot `<prefix>-<seq>.snap` of `dir` (prefix names the
 * stream, so a snapshot of another stream is never read), no local log. *seq gets the
 * sequence the state holds (0: none). Writes fail (MSH_EIO) until msh_ingest_set_log.
 */
msh_rc msh_ingest_open_log(const char *dir, const char *prefix, msh_live *live, msh_ingest **out, uint64_t *seq,
                           msh_err *err);
/** Where writes go from now on (called once, before the first write; `log` is copied). */
void msh_ingest_set_log(msh_ingest *in, const msh_ingest_log *log);
/**
 * Apply stream message `seq` (the consumer's thread, strictly in stream order). A sequence at or
 * below the applied one is skipped (a redelivery). A message that cannot be read is skipped whole
 * (the sequence still counts: every node skips it alike). Returns true when applied.
 */
bool msh_ingest_apply_msg(msh_ingest *in, uint64_t seq, const uint8_t *msg, size_t len);
/** Append `msg` as the next part of a group in `b` (b empty: the group's type byte first). */
msh_rc msh_ingest_group_add(msh_buf *b, const void *msg, size_t len);
/** The last sequence applied (or LSN, without a feed log). */
uint64_t msh_ingest_applied(msh_ingest *in);
/** Tests: wait `us` microseconds before each stream message is applied (to watch a node catch up). */
void msh_ingest_set_apply_delay(msh_ingest *in, int64_t us);

#endif
