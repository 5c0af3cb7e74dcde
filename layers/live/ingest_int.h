/* ingest_int.h: the ingest handle's fields, shared by ingest.c (the local write-ahead log path)
 * and ingest_log.c (the replicated feed log path). Not for use outside layers/live/ingest*.c. */
#ifndef MSH_INGEST_INT_H
#define MSH_INGEST_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ingest.h"

/* An operator's write published by this process, waiting for its turn in the stream: the
 * consumer calls fn (instead of replaying the record) when it applies the record with `nonce`. */
typedef struct msh_ingest_waiter {
    uint64_t nonce;
    msh_ingest_apply_fn fn;
    void *ud;
    bool done;
    struct msh_ingest_waiter *next;
} msh_ingest_waiter;

struct msh_ingest {
    msh_live *live;
    msh_wal *wal; /* NULL with a feed log: the stream is the source of truth */
    char *dir;
    uint64_t snap_lsn; /* LSN (stream sequence with a feed log) covered by the newest snapshot (the snapshot thread's) */
    pthread_mutex_t mu;
    pthread_cond_t turn;      /* CLOCK_MONOTONIC with a feed log (writers wait with a timeout) */
    uint64_t next_apply;      /* mu */
    bool snap_failed;         /* mu: the last snapshot could not be written */
    char snap_reason[200];    /* mu */
    uint64_t snap_failures;   /* mu */
    msh_ingest_snap_hook snap_hook; /* set once before snapshots start */
    void *snap_ud;
    /* the replicated feed log (ingest_log.c); log.append NULL: the local write-ahead log */
    char snap_prefix[96];        /* snapshot file names: "<prefix>-<16 hex>.snap" */
    msh_ingest_log log;          /* set once, before the first write */
    uint64_t origin;             /* random per process: names this process's operator writes */
    uint64_t nonce;              /* mu: the last operator write numbered */
    msh_ingest_waiter *waiters;  /* mu */
    int64_t apply_delay_us;      /* tests: each stream message waits this long before it is applied */
};

/* A handle on `dir` (made 0700 if missing) with its lock and turn, snapshots named `prefix`; no log yet. */
msh_rc msh_ingest_new(const char *dir, const char *prefix, msh_live *live, msh_ingest **out, msh_err *err);
/* The log path of msh_ingest_records / msh_ingest_op (ingest_log.c). */
msh_rc msh_ingest_log_records(msh_ingest *in, msh_feed feed, const msh_feed_rec *recs, size_t n, int64_t now_ms,
                              msh_err *err);
msh_rc msh_ingest_log_op(msh_ingest *in, const void *payload, size_t len, int64_t now_ms, msh_ingest_apply_fn apply,
                         void *ud, msh_err *err);
/* Apply one record's payload (feed records, or an operator's write) received at `received` to the
 * live state (write lock held). */
void msh_ingest_replay_record(msh_live *live, uint8_t type, int64_t received, const uint8_t *data, size_t len);
/* The snapshot file for `lsn` under in->dir with in->snap_prefix. */
void msh_ingest_snap_path(const msh_ingest *in, uint64_t lsn, char *out, size_t cap);
/* Load the newest snapshot of in->dir (prefix in->snap_prefix) into the live state (write lock held); sets snap_lsn. */
msh_rc msh_ingest_load_snapshot(msh_ingest *in, msh_err *err);

#endif
