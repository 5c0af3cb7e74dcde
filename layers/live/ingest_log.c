/* ingest_log.c: the replicated feed log path of ingest (ingest.h, "the replicated feed log").
 *
 * Writers never apply. A batch becomes one stream message, the log's `append` returns once a
 * quorum stored it (with its sequence), and the writer waits until the consumer has applied
 * that sequence here, so that a client reads its own write from the node it wrote to. The
 * consumer (one thread, stream order) is the only one that changes the live state; it applies
 * a message under the live write lock and moves next_apply past it in the same turn, so under
 * the read lock the state is exactly the stream up to next_apply-1 (what a snapshot records).
 *
 * An operator's write (msh_ingest_op) needs its verdict (applied, or refused by the check made
 * in its turn): the writer registers a waiter under a nonce before it publishes, and when the
 * consumer reaches a message of this process (`origin`) with that nonce it calls the writer's
 * apply function instead of replaying the record. Both do the same to the live state.
 *
 * Locks: in->mu guards next_apply, nonce and the waiters; it is the innermost lock (taken under
 * the live write lock). A waiter's fn runs under both (short: one operator write), so a writer
 * that gave up waiting and unregistered under in->mu can never be called afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/msh_le.h"
#include "ingest_int.h"
#include "live_ops.h"

msh_rc msh_ingest_open_log(const char *dir, const char *prefix, msh_live *live, msh_ingest **out, uint64_t *seq,
                           msh_err *err)
{
    msh_ingest *in;
    msh_rc rc = msh_ingest_new(dir, prefix, live, &in, err);
    if (rc)
        return rc;
    msh_live_wrlock(live);
    rc = msh_ingest_load_snapshot(in, err);
    msh_live_unlock(live);
    if (rc) {
        msh_ingest_close(in);
        return rc;
    }
    in->next_apply = in->snap_lsn + 1;
    if (getrandom(&in->origin, sizeof in->origin, 0) != (ssize_t)sizeof in->origin)
        in->origin = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)in << 16); /* only tells this process's writes apart */
    if (seq)
        *seq = in->snap_lsn;
    *out = in;
    return MSH_OK;
}

void msh_ingest_set_log(msh_ingest *in, const msh_ingest_log *log)
{
    in->log = *log;
    if (in->log.apply_wait_ms <= 0)
        in->log.apply_wait_ms = 30000;
}

void msh_ingest_set_apply_delay(msh_ingest *in, int64_t us)
{
    in->apply_delay_us = us;
}

uint64_t msh_ingest_applied(msh_ingest *in)
{
    pthread_mutex_lock(&in->mu);
    uint64_t v = in->next_apply - 1;
    pthread_mutex_unlock(&in->mu);
    return v;
}

/* Wait (in->mu held) until `seq` is applied or the writer's patience ran out; true when applied. */
static bool wait_applied_locked(msh_ingest *in, uint64_t seq)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    int64_t ns = until.tv_nsec + (in->log.apply_wait_ms % 1000) * 1000000;
    until.tv_sec += (time_t)(in->log.apply_wait_ms / 1000 + ns / 1000000000);
    until.tv_nsec = (long)(ns % 1000000000);
    while (in->next_apply <= seq)
        if (pthread_cond_timedwait(&in->turn, &in->mu, &until) == ETIMEDOUT)
            break;
    return in->next_apply > seq;
}

/* The message header (ingest.h) into b. */
static msh_rc put_header(msh_buf *b, uint8_t type, int64_t now_ms, uint64_t origin, uint64_t nonce)
{
    uint8_t h[MSH_INGEST_MSG_HEADER];
    h[0] = type;
    msh_le64_put(h + 1, (uint64_t)now_ms);
    msh_le64_put(h + 9, origin);
    msh_le64_put(h + 17, nonce);
    return msh_buf_append(b, h, sizeof h);
}

static msh_rc no_log(msh_err *err)
{
    msh_rc rc = msh_err_set(err, MSH_EIO, "the feed log is not connected yet (nothing was applied)");
    if (err)
        err->retry_after_s = MSH_INGEST_RETRY_AFTER_S; /* it passes: the node connects by itself (ingest.h) */
    return rc;
}

msh_rc msh_ingest_log_records(msh_ingest *in, msh_feed feed, const msh_feed_rec *recs, size_t n, int64_t now_ms,
                              msh_err *err)
{
    if (!n)
        return MSH_OK;
    if (!in->log.append)
        return no_log(err);
    msh_buf msg;
    msh_buf_init(&msg, MSH_WAL_MAX_RECORD);
    uint64_t seq = 0;
    msh_rc rc = put_header(&msg, (uint8_t)feed, now_ms, in->origin, 0);
    if (rc || msh_feed_encode(recs, n, &msg))
        rc = msh_err_set(err, MSH_ETOOBIG, "batch too large: send smaller batches");
    if (!rc)
        rc = in->log.append(in->log.ud, msg.data, msg.len, &seq, err);
    msh_buf_free(&msg);
    if (rc)
        return rc;
    pthread_mutex_lock(&in->mu);
    bool applied = wait_applied_locked(in, seq);
    pthread_mutex_unlock(&in->mu);
    if (!applied) /* stored on the stream: every node applies it; this one is behind */
        fprintf(stderr, "mashaer: feed log: sequence %llu acknowledged but not applied here within %lld ms\n",
                (unsigned long long)seq, (long long)in->log.apply_wait_ms);
    return MSH_OK;
}

/* Unregister w (in->mu held). */
static void drop_waiter(msh_ingest *in, msh_ingest_waiter *w)
{
    for (msh_ingest_waiter **p = &in->waiters; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            return;
        }
}

msh_rc msh_ingest_log_op(msh_ingest *in, const void *payload, size_t len, int64_t now_ms, msh_ingest_apply_fn apply,
                         void *ud, msh_err *err)
{
    if (!in->log.append)
        return no_log(err);
    msh_ingest_waiter w = {0, apply, ud, false, NULL};
    pthread_mutex_lock(&in->mu);
    w.nonce = ++in->nonce;
    w.next = in->waiters;
    in->waiters = &w;
    pthread_mutex_unlock(&in->mu);
    msh_buf msg;
    msh_buf_init(&msg, MSH_WAL_MAX_RECORD);
    uint64_t seq = 0;
    msh_rc rc = put_header(&msg, MSH_WAL_OPS, now_ms, in->origin, w.nonce);
    if (rc || msh_buf_append(&msg, payload, len))
        rc = msh_err_set(err, MSH_ETOOBIG, "operator record too large");
    if (!rc)
        rc = in->log.append(in->log.ud, msg.data, msg.len, &seq, err);
    msh_buf_free(&msg);
    pthread_mutex_lock(&in->mu);
    /* in the log but no verdict here (the apply may still take or refuse it): its outcome is unknown, so
     * the caller must not say "nothing was changed" nor invite a second write */
    if (!rc && !wait_applied_locked(in, seq)) {
        rc = msh_err_set(err, MSH_EIO, "stored in the feed log (sequence %llu) but not applied on this node within "
                         "%lld ms: read it back later", (unsigned long long)seq, (long long)in->log.apply_wait_ms);
        if (err)
            err->outcome_unknown = true;
    }
    if (!rc && !w.done) { /* applied, but not as ours: only when the stream holds a record twice */
        rc = msh_err_set(err, MSH_EIO, "the feed log applied sequence %llu without this write's answer",
                         (unsigned long long)seq);
        if (err)
            err->outcome_unknown = true;
    }
    drop_waiter(in, &w);
    pthread_mutex_unlock(&in->mu);
    return rc;
}

msh_rc msh_ingest_group_add(msh_buf *b, const void *msg, size_t len)
{
    uint8_t t = MSH_INGEST_MSG_GROUP, n[4];
    if (len > UINT32_MAX)
        return MSH_ETOOBIG;
    msh_le32_put(n, (uint32_t)len);
    msh_rc rc = b->len ? MSH_OK : msh_buf_append(b, &t, 1);
    if (!rc)
        rc = msh_buf_append(b, n, sizeof n);
    return rc ? rc : msh_buf_append(b, msg, len);
}

/* Apply one message (not a group) in its turn: the live write lock held, in->mu not. */
static bool apply_one(msh_ingest *in, const uint8_t *msg, size_t len)
{
    bool ok = len >= MSH_INGEST_MSG_HEADER;
    uint8_t type = ok ? msg[0] : 0;
    int64_t received = ok ? (int64_t)msh_le64_get(msg + 1) : 0;
    uint64_t origin = ok ? msh_le64_get(msg + 9) : 0, nonce = ok ? msh_le64_get(msg + 17) : 0;
    const uint8_t *body = msg + (ok ? MSH_INGEST_MSG_HEADER : 0);
    size_t blen = ok ? len - MSH_INGEST_MSG_HEADER : 0;
    pthread_mutex_lock(&in->mu);
    msh_ingest_waiter *mine = NULL;
    if (ok && type == MSH_WAL_OPS && origin == in->origin && nonce)
        for (msh_ingest_waiter *w = in->waiters; w && !mine; w = w->next)
            if (w->nonce == nonce)
                mine = w;
    if (mine) { /* this process's write: its writer's apply gives it its answer */
        mine->fn(mine->ud, in->live);
        mine->done = true;
    }
    pthread_mutex_unlock(&in->mu);
    if (ok && !mine)
        msh_ingest_replay_record(in->live, type, received, body, blen);
    return ok;
}

bool msh_ingest_apply_msg(msh_ingest *in, uint64_t seq, const uint8_t *msg, size_t len)
{
    pthread_mutex_lock(&in->mu);
    bool old = seq < in->next_apply;
    pthread_mutex_unlock(&in->mu);
    if (old)
        return false; /* a redelivery: applied already (or covered by the snapshot) */
    if (in->apply_delay_us > 0) {
        struct timespec d = {(time_t)(in->apply_delay_us / 1000000), (long)(in->apply_delay_us % 1000000) * 1000};
        nanosleep(&d, NULL); /* a test knob only: makes catching up long enough to watch */
    }
    msh_live_wrlock(in->live);
    bool ok;
    if (len >= 1 && msg[0] == MSH_INGEST_MSG_GROUP) { /* group commit: its parts in order, one turn */
        size_t at = 1;
        ok = len > 1;
        while (ok && at < len) {
            uint32_t n = len - at >= 4 ? msh_le32_get(msg + at) : 0;
            ok = len - at >= 4 && n <= len - at - 4 && n >= 1 && msg[at + 4] != MSH_INGEST_MSG_GROUP;
            if (ok)
                ok = apply_one(in, msg + at + 4, n);
            at += 4 + (size_t)n;
        }
    } else
        ok = apply_one(in, msg, len);
    pthread_mutex_lock(&in->mu);
    in->next_apply = seq + 1;
    pthread_cond_broadcast(&in->turn);
    pthread_mutex_unlock(&in->mu);
    msh_live_unlock(in->live);
    return ok;
}
