/* feed_pub.c: the feed log's publisher (feed_pub.h): asynchronous publishes with group commit.
 *
 * The publisher is any writer thread (HTTP workers, the MQTT client). `append` queues the
 * writer's message; while fewer than MAX_GROUPS stream messages are in flight, a queued writer
 * takes the whole queue (as much as the servers' payload limit allows, oldest first) and
 * publishes it as ONE stream message with js_PublishMsgAsync: its own message as it is, several
 * as a group (ingest.h); writers that come while those are in flight queue for the next one.
 * Every writer then sleeps until the library calls on_ack for the message carrying *its* batch:
 * the stream's acknowledgement (stored on a quorum: every writer of the group gets its
 * sequence), a negative answer, or the library's timeout after PUBLISH_WAIT_MS. Only a positive
 * acknowledgement returns MSH_OK; anything else is MSH_EIO (a 503 for the client), for every
 * writer of the group. `append` fails at once when the connection is down, so nothing is
 * buffered to be stored after the client was told it failed. A timeout is the one case that
 * cannot say "not stored": the message may still reach the stream and then every node applies
 * it; the 503 says to send the batch again (the feeds keep the latest report per id, so a batch
 * applied twice changes nothing).
 *
 * Locks: fp->mu guards the queue, the groups in flight and the writers' `pub` records (on their
 * stacks: a writer that gives up unlinks itself first); on_ack takes it on the library's thread;
 * it is released around js_PublishMsgAsync. The counters are atomics.
 */
#include "services/feed_pub.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/msh_buf.h"
#include "live/feeds.h"
#include "live/ingest.h"
#include "live/live_ops.h"

#define PUBLISH_WAIT_MS 5000
#define MAX_GROUPS 4 /* stream messages in flight at once; writers that come meanwhile share the next one */

typedef struct group group;

/* One writer's message (on its stack): queued in fp->queue, then a member of the group sent. */
typedef struct pub {
    const void *data;
    size_t len;
    group *g; /* the stream message that carries it, once sent (NULL while queued) */
    bool done, stored;
    uint64_t seq;
    natsStatus status;
    jsErrCode jerr;
    char why[160];
    struct pub *next;
} pub;

/* One stream message in flight and the writers it carries (fp->groups). */
struct group {
    const natsMsg *msg; /* the key on_ack finds it by (the library owns the message) */
    pub *members;
    time_t expires; /* CLOCK_MONOTONIC s: past it, the writers stop waiting for on_ack */
    group *next;
};

struct msh_feed_pub {
    natsConnection *nc;
    jsCtx *js;
    char stream[65];
    char subject_base[128]; /* mashaer.feed.<stream> */
    const atomic_bool *gap; /* the feed log's: the stream no longer holds this node's next sequence */
    int64_t max_payload;    /* the servers' limit on one message */
    pthread_mutex_t mu;     /* guards queue, groups, in_flight and the pub and group records */
    pthread_cond_t cv;      /* an answer came, or a slot for a stream message freed */
    pub *queue;             /* writers waiting for a slot, oldest first */
    group *groups;          /* stream messages sent and not answered yet */
    int in_flight;
    atomic_int in_flight_max;
    atomic_ullong published, published_msgs, publish_failures;
};

/* The subject of a message of `type` (a feed, or an operator's write). */
static void subject_of(const msh_feed_pub *fp, uint8_t type, char *out, size_t cap)
{
    snprintf(out, cap, "%s.%s", fp->subject_base,
             type == MSH_INGEST_MSG_GROUP ? "group" : type == MSH_WAL_OPS ? "ops" : msh_feed_name((msh_feed)type));
}

/* Unlink g from fp->groups (fp->mu held); false when it is not there. */
static bool unlink_group(msh_feed_pub *fp, const group *g)
{
    for (group **q = &fp->groups; *q; q = &(*q)->next)
        if (*q == g) {
            *q = g->next;
            return true;
        }
    return false;
}

/* Answer every writer g carries and free g (fp->mu held). */
static void finish_group(msh_feed_pub *fp, group *g, bool stored, uint64_t seq, natsStatus st, jsErrCode jerr,
                         const char *why)
{
    for (pub *p = g->members; p; p = p->next) {
        p->done = true;
        p->stored = stored;
        p->seq = seq;
        p->status = st;
        p->jerr = jerr;
        snprintf(p->why, sizeof p->why, "%s", why ? why : "");
    }
    fp->in_flight--;
    pthread_cond_broadcast(&fp->cv);
    free(g);
}

/* The library's answer for one asynchronous publish (its thread): the writers it carries get it. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    msh_feed_pub *fp = closure;
    pthread_mutex_lock(&fp->mu);
    group *g = fp->groups;
    while (g && g->msg != msg)
        g = g->next;
    if (g && unlink_group(fp, g)) {
        bool stored = pa && !pae;
        if (stored)
            atomic_fetch_add(&fp->published_msgs, 1);
        finish_group(fp, g, stored, pa ? pa->Sequence : 0, pae ? pae->Err : NATS_OK, pae ? pae->ErrCode : 0,
                     pae ? pae->ErrText : NULL);
    }
    pthread_mutex_unlock(&fp->mu);
    natsMsg_Destroy(msg);
}

/* Send what the queue holds as one stream message (fp->mu held; released while publishing):
 * one writer's message as it is, several as a group (ingest.h), as many as the payload limit
 * takes, oldest first. False when out of memory (nothing sent). */
static bool send_queue_locked(msh_feed_pub *fp)
{
    group *g = calloc(1, sizeof *g);
    msh_buf b;
    msh_buf_init(&b, (size_t)fp->max_payload + 1);
    size_t n = 0, total = 1;
    pub **tail = g ? &g->members : NULL;
    while (g && fp->queue && (!n || total + 4 + fp->queue->len <= (size_t)fp->max_payload)) {
        pub *p = fp->queue;
        fp->queue = p->next;
        p->next = NULL;
        p->g = g;
        *tail = p;
        tail = &p->next;
        total += 4 + p->len;
        n++;
    }
    msh_rc rc = g ? MSH_OK : MSH_ENOMEM;
    for (pub *p = g ? g->members : NULL; n > 1 && p && !rc; p = p->next)
        rc = msh_ingest_group_add(&b, p->data, p->len);
    const pub *only = g && n == 1 ? g->members : NULL;
    uint8_t type = only ? ((const uint8_t *)only->data)[0] : MSH_INGEST_MSG_GROUP;
    char subj[192];
    subject_of(fp, type, subj, sizeof subj);
    natsMsg *m = NULL;
    natsStatus s = rc ? NATS_NO_MEMORY
                      : natsMsg_Create(&m, subj, NULL, only ? only->data : (const char *)b.data,
                                       (int)(only ? only->len : b.len));
    msh_buf_free(&b);
    if (!g)
        return false; /* out of memory: the queue stays; its writers give up at their deadline */
    g->msg = m;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    g->expires = now.tv_sec + PUBLISH_WAIT_MS / 1000 + 2;
    g->next = fp->groups;
    fp->groups = g;
    if (++fp->in_flight > atomic_load(&fp->in_flight_max))
        atomic_store(&fp->in_flight_max, fp->in_flight);
    pthread_mutex_unlock(&fp->mu);
    if (s == NATS_OK) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = PUBLISH_WAIT_MS; /* the library calls on_ack with NATS_TIMEOUT past it */
        po.ExpectStream = fp->stream;
        s = js_PublishMsgAsync(fp->js, &m, &po); /* takes m when it succeeds (m is NULL then) */
    }
    const char *last = s != NATS_OK ? nats_GetLastError(NULL) : NULL;
    char why[160];
    snprintf(why, sizeof why, "%s", last ? last : "");
    natsMsg_Destroy(m);
    pthread_mutex_lock(&fp->mu);
    if (s != NATS_OK && unlink_group(fp, g)) /* never sent: on_ack will not come */
        finish_group(fp, g, false, 0, s, 0, why);
    return true;
}

/* Fail the groups whose answer is overdue (fp->mu held): the library times a publish out after
 * PUBLISH_WAIT_MS, but should its answer never come (a connection torn down under it), the slot
 * must not stay taken for good. A late on_ack finds nothing and only frees the message. */
static void expire_groups_locked(msh_feed_pub *fp)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    for (group **q = &fp->groups; *q;) {
        group *g = *q;
        if (now.tv_sec < g->expires) {
            q = &g->next;
            continue;
        }
        *q = g->next;
        finish_group(fp, g, false, 0, NATS_TIMEOUT, 0, "no answer from the stream");
    }
}

/* Unlink p from the queue or from its group (fp->mu held): a writer that gives up. */
static void unlink_pub(msh_feed_pub *fp, pub *p)
{
    for (pub **q = p->g ? &p->g->members : &fp->queue; *q; q = &(*q)->next)
        if (*q == p) {
            *q = p->next;
            return;
        }
}

/* A refusal that passes (ingest.h, msh_ingest_log): the writer may send the same again shortly;
 * `unknown`: the stream gave no answer, so the message may be stored all the same. */
static msh_rc passing(msh_err *err, bool unknown)
{
    if (err) {
        err->retry_after_s = MSH_INGEST_RETRY_AFTER_S;
        err->outcome_unknown = unknown;
    }
    return MSH_EIO;
}

/* A refusal of the stream that passes by itself: nobody answers for the stream (its leader died and
 * the next is being elected: what a killed NATS server and a lost quorum gave in integration.cluster_feed),
 * the connection is being made again, or JetStream says it is unavailable for now. Any other negative
 * answer (storage, limits, a wrong stream) lasts until somebody acts: no Retry-After for it. */
static bool refusal_passes(const pub *p)
{
    switch (p->status) {
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_NOT_YET_CONNECTED:
        return true;
    default:
        return p->jerr == JSClusterNotAvailErr;
    }
}

static msh_rc publish_failed(msh_feed_pub *fp, const pub *p, msh_err *err)
{
    atomic_fetch_add(&fp->publish_failures, 1);
    bool unknown = !p->done || p->status == NATS_TIMEOUT;
    if (unknown)
        msh_err_set(err, MSH_EIO, "feed log: no answer from the stream in time (a stream leader being elected?): the "
                    "batch may or may not be stored; send it again");
    else
        msh_err_set(err, MSH_EIO, "feed log: the stream did not acknowledge the batch: %s%s%s (JetStream error %d): "
                    "it was not applied; send it again%s", natsStatus_GetText(p->status), *p->why ? ": " : "", p->why,
                    (int)p->jerr, refusal_passes(p) ? "" : " once the stream's operators have looked at it");
    return unknown || refusal_passes(p) ? passing(err, unknown) : MSH_EIO;
}

/* ingest's append: queue the message; while fewer than MAX_GROUPS stream messages are in flight
 * a queued writer sends the whole queue as one (group commit); return once the stream stored
 * the message carrying *this* one (or that failed). */
msh_rc msh_feed_pub_append(void *ud, const void *msg, size_t len, uint64_t *seq, msh_err *err)
{
    msh_feed_pub *fp = ud;
    if (fp->max_payload > 0 && (int64_t)len > fp->max_payload - 5)
        return msh_err_set(err, MSH_ETOOBIG,
                           "batch of %zu bytes once encoded is larger than the feed log takes (%lld): send smaller "
                           "batches", len, (long long)fp->max_payload - 5);
    if (atomic_load(fp->gap))
        return msh_err_set(err, MSH_EIO, "this node misses part of the feed log (stream_gap on /health): nothing "
                                         "was stored; send the batch to another node");
    if (natsConnection_Status(fp->nc) != NATS_CONN_STATUS_CONNECTED) {
        atomic_fetch_add(&fp->publish_failures, 1);
        msh_err_set(err, MSH_EIO, "the feed log (NATS) is unreachable: nothing was stored or applied; send the batch "
                                  "again");
        return passing(err, false);
    }
    pub p = {.data = msg, .len = len};
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2 * PUBLISH_WAIT_MS / 1000 + 2; /* a queued wait, then the library's own timeout */
    pthread_mutex_lock(&fp->mu);
    pub **q = &fp->queue;
    while (*q)
        q = &(*q)->next;
    *q = &p;
    while (!p.done) {
        if (!p.g && fp->in_flight < MAX_GROUPS && send_queue_locked(fp))
            continue; /* this writer led: it sent itself and whoever queued */
        struct timespec now, step;
        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec >= until.tv_sec)
            break;
        step = (struct timespec){now.tv_sec + 1, now.tv_nsec}; /* look at overdue groups every second */
        pthread_cond_timedwait(&fp->cv, &fp->mu, &step);
        expire_groups_locked(fp);
    }
    if (!p.done)
        unlink_pub(fp, &p);
    pthread_mutex_unlock(&fp->mu);
    if (!p.stored)
        return publish_failed(fp, &p, err);
    *seq = p.seq;
    atomic_fetch_add(&fp->published, 1);
    return MSH_OK;
}

msh_feed_pub *msh_feed_pub_new(const char *stream, const char *subject_base, const atomic_bool *gap)
{
    msh_feed_pub *fp = calloc(1, sizeof *fp);
    if (!fp)
        return NULL;
    snprintf(fp->stream, sizeof fp->stream, "%s", stream);
    snprintf(fp->subject_base, sizeof fp->subject_base, "%s", subject_base);
    fp->gap = gap;
    pthread_mutex_init(&fp->mu, NULL);
    pthread_cond_init(&fp->cv, NULL);
    return fp;
}

void msh_feed_pub_js_options(msh_feed_pub *fp, jsOptions *jo)
{
    jo->PublishAsync.MaxPending = 2 * MAX_GROUPS; /* never reached: append keeps MAX_GROUPS in flight */
    jo->PublishAsync.AckHandler = on_ack;
    jo->PublishAsync.AckHandlerClosure = fp;
}

void msh_feed_pub_start(msh_feed_pub *fp, natsConnection *nc, jsCtx *js, int64_t max_payload)
{
    fp->nc = nc;
    fp->js = js;
    fp->max_payload = max_payload;
}

void msh_feed_pub_free(msh_feed_pub *fp)
{
    if (!fp)
        return;
    pthread_mutex_destroy(&fp->mu);
    pthread_cond_destroy(&fp->cv);
    free(fp);
}

void msh_feed_pub_counts_get(msh_feed_pub *fp, msh_feed_pub_counts *c)
{
    pthread_mutex_lock(&fp->mu);
    c->in_flight = fp->in_flight;
    pthread_mutex_unlock(&fp->mu);
    c->in_flight_max = atomic_load(&fp->in_flight_max);
    c->published = atomic_load(&fp->published);
    c->published_msgs = atomic_load(&fp->published_msgs);
    c->publish_failures = atomic_load(&fp->publish_failures);
}
