/* feed_log.c: the JetStream feed log (feed_log.h): connection, stream, publisher and consumer.
 *
 * The publisher is any writer thread (HTTP workers, the MQTT client), with group commit over
 * asynchronous publishes. `append` queues the writer's message; while fewer than MAX_GROUPS
 * stream messages are in flight, a queued writer takes the whole queue (as much as the servers'
 * payload limit allows, oldest first) and publishes it as ONE stream message with
 * js_PublishMsgAsync: its own message as it is, several as a group (ingest.h); writers that come
 * while those are in flight queue for the next one. Every writer then sleeps until the library
 * calls on_ack for the message carrying *its* batch: the stream's acknowledgement (stored on a
 * quorum: every writer of the group gets its sequence), a negative answer, or the library's
 * timeout after PUBLISH_WAIT_MS. Only a positive acknowledgement returns MSH_OK; anything else is
 * MSH_EIO (a 503 for the client), for every writer of the group. `append` fails at once when
 * the connection is down, so nothing is buffered to be stored after the client was told it
 * failed. A timeout is the one case that cannot say "not stored": the message may still reach
 * the stream and then every node applies it; the 503 says to send the batch again (the feeds
 * keep the latest report per id, so a batch applied twice changes nothing).
 *
 * The consumer is one ordered push consumer: the library's thread for the subscription calls
 * on_msg in stream order; it resumes by itself (at the next sequence) after a reconnect or a
 * stream leader change. Retention (--feed-retain-hours/-mb) is set on the stream; a node whose
 * next sequence the stream no longer holds has a hole (feed_log.h): it says so and applies
 * nothing more.
 *
 * Locks: fl->mu guards the queue, the groups in flight and the writers' `pub` records (on
 * their stacks: a writer that gives up unlinks itself first); on_ack takes it on the library's
 * thread; it is released around js_PublishMsgAsync. The rest are atomics; the ingest handle
 * orders the applies.
 * Stopping: `stopping` makes on_msg drop what is still delivered, then the subscription is
 * drained (a message being applied finishes) before the connection closes.
 */
#include "services/feed_log.h"

#include <errno.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "live/feeds.h"
#include "live/ingest.h"
#include "live/live_ops.h"
#include "serve/app.h"

#define MAX_SERVERS 16
#define PUBLISH_WAIT_MS 5000
#define MAX_GROUPS 4 /* stream messages in flight at once; writers that come meanwhile share the next one */

typedef struct group group;

/* One writer's message (on its stack): queued in fl->queue, then a member of the group sent. */
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

/* One stream message in flight and the writers it carries (fl->groups). */
struct group {
    const natsMsg *msg; /* the key on_ack finds it by (the library owns the message) */
    pub *members;
    time_t expires;     /* CLOCK_MONOTONIC s: past it, the writers stop waiting for on_ack */
    group *next;
};

struct msh_feed_log {
    msh_ingest *ingest;
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    char stream[65];
    char subject_base[128]; /* mashaer.feed.<stream> */
    uint64_t start_seq;     /* the stream's last sequence at start */
    atomic_bool stopping;
    bool told_caught_up;    /* the consumer's thread only */
    struct timespec opened; /* when consuming started */
    int64_t max_payload;    /* the servers' limit on one message */
    pthread_mutex_t mu;     /* guards queue, groups, in_flight and the pub and group records */
    pthread_cond_t cv;      /* an answer came, or a slot for a stream message freed */
    pub *queue;             /* writers waiting for a slot, oldest first */
    group *groups;          /* stream messages sent and not answered yet */
    int in_flight;
    atomic_int in_flight_max;
    atomic_ullong published, published_msgs, publish_failures, applied_msgs;
    atomic_bool gap;                   /* the stream no longer holds this node's next sequence */
    atomic_ullong gap_from, gap_first; /* that next sequence, and the stream's first when seen */
};

/* The stream dropped (retention) messages this node has not applied: from then on it applies
 * nothing and refuses writes (a crowd with a hole is worse than a node out of the pool). */
static void found_gap(msh_feed_log *fl, uint64_t want, uint64_t first)
{
    if (atomic_exchange(&fl->gap, true))
        return;
    atomic_store(&fl->gap_from, want);
    atomic_store(&fl->gap_first, first);
    fprintf(stderr, "mashaer: feed log: stream %s no longer holds sequence %llu (it starts at %llu: older messages "
            "passed --feed-retain-hours/--feed-retain-mb): this node applies nothing more and answers 503 "
            "\"stream_gap\"; copy the newest snapshot of a node that is caught up into this node's --live-dir and "
            "restart it\n", fl->stream, (unsigned long long)want, (unsigned long long)first);
}

static msh_rc nats_fail(msh_err *err, const char *what, natsStatus s, jsErrCode jerr)
{
    const char *last = nats_GetLastError(NULL);
    return msh_err_set(err, MSH_EIO, "feed log: %s: %s%s%s (JetStream error %d)", what, natsStatus_GetText(s),
                       last && *last ? ": " : "", last ? last : "", (int)jerr);
}

/* The subject of a message of `type` (a feed, or an operator's write). */
static void subject_of(const msh_feed_log *fl, uint8_t type, char *out, size_t cap)
{
    snprintf(out, cap, "%s.%s", fl->subject_base,
             type == MSH_INGEST_MSG_GROUP ? "group" : type == MSH_WAL_OPS ? "ops" : msh_feed_name((msh_feed)type));
}

/* Unlink g from fl->groups (fl->mu held); false when it is not there. */
static bool unlink_group(msh_feed_log *fl, const group *g)
{
    for (group **q = &fl->groups; *q; q = &(*q)->next)
        if (*q == g) {
            *q = g->next;
            return true;
        }
    return false;
}

/* Answer every writer g carries and free g (fl->mu held). */
static void finish_group(msh_feed_log *fl, group *g, bool stored, uint64_t seq, natsStatus st, jsErrCode jerr,
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
    fl->in_flight--;
    pthread_cond_broadcast(&fl->cv);
    free(g);
}

/* The library's answer for one asynchronous publish (its thread): the writers it carries get it. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    msh_feed_log *fl = closure;
    pthread_mutex_lock(&fl->mu);
    group *g = fl->groups;
    while (g && g->msg != msg)
        g = g->next;
    if (g && unlink_group(fl, g)) {
        bool stored = pa && !pae;
        if (stored)
            atomic_fetch_add(&fl->published_msgs, 1);
        finish_group(fl, g, stored, pa ? pa->Sequence : 0, pae ? pae->Err : NATS_OK, pae ? pae->ErrCode : 0,
                     pae ? pae->ErrText : NULL);
    }
    pthread_mutex_unlock(&fl->mu);
    natsMsg_Destroy(msg);
}

/* Send what the queue holds as one stream message (fl->mu held; released while publishing):
 * one writer's message as it is, several as a group (ingest.h), as many as the payload limit
 * takes, oldest first. False when out of memory (nothing sent). */
static bool send_queue_locked(msh_feed_log *fl)
{
    group *g = calloc(1, sizeof *g);
    msh_buf b;
    msh_buf_init(&b, (size_t)fl->max_payload + 1);
    size_t n = 0, total = 1;
    pub **tail = g ? &g->members : NULL;
    while (g && fl->queue && (!n || total + 4 + fl->queue->len <= (size_t)fl->max_payload)) {
        pub *p = fl->queue;
        fl->queue = p->next;
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
    subject_of(fl, type, subj, sizeof subj);
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
    g->next = fl->groups;
    fl->groups = g;
    if (++fl->in_flight > atomic_load(&fl->in_flight_max))
        atomic_store(&fl->in_flight_max, fl->in_flight);
    pthread_mutex_unlock(&fl->mu);
    if (s == NATS_OK) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = PUBLISH_WAIT_MS; /* the library calls on_ack with NATS_TIMEOUT past it */
        po.ExpectStream = fl->stream;
        s = js_PublishMsgAsync(fl->js, &m, &po); /* takes m when it succeeds (m is NULL then) */
    }
    const char *last = s != NATS_OK ? nats_GetLastError(NULL) : NULL;
    char why[160];
    snprintf(why, sizeof why, "%s", last ? last : "");
    natsMsg_Destroy(m);
    pthread_mutex_lock(&fl->mu);
    if (s != NATS_OK && unlink_group(fl, g)) /* never sent: on_ack will not come */
        finish_group(fl, g, false, 0, s, 0, why);
    return true;
}

/* Fail the groups whose answer is overdue (fl->mu held): the library times a publish out after
 * PUBLISH_WAIT_MS, but should its answer never come (a connection torn down under it), the slot
 * must not stay taken for good. A late on_ack finds nothing and only frees the message. */
static void expire_groups_locked(msh_feed_log *fl)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    for (group **q = &fl->groups; *q;) {
        group *g = *q;
        if (now.tv_sec < g->expires) {
            q = &g->next;
            continue;
        }
        *q = g->next;
        finish_group(fl, g, false, 0, NATS_TIMEOUT, 0, "no answer from the stream");
    }
}

/* Unlink p from the queue or from its group (fl->mu held): a writer that gives up. */
static void unlink_pub(msh_feed_log *fl, pub *p)
{
    for (pub **q = p->g ? &p->g->members : &fl->queue; *q; q = &(*q)->next)
        if (*q == p) {
            *q = p->next;
            return;
        }
}

static msh_rc publish_failed(msh_feed_log *fl, const pub *p, msh_err *err)
{
    atomic_fetch_add(&fl->publish_failures, 1);
    if (!p->done || p->status == NATS_TIMEOUT)
        return msh_err_set(err, MSH_EIO, "feed log: no answer from the stream in time: the batch may or may not be "
                           "stored; send it again");
    return msh_err_set(err, MSH_EIO, "feed log: the stream did not acknowledge the batch: %s%s%s (JetStream error "
                       "%d): it was not applied; send it again", natsStatus_GetText(p->status), *p->why ? ": " : "",
                       p->why, (int)p->jerr);
}

/* ingest's append: queue the message; while fewer than MAX_GROUPS stream messages are in flight
 * a queued writer sends the whole queue as one (group commit); return once the stream stored
 * the message carrying *this* one (or that failed). */
static msh_rc append(void *ud, const void *msg, size_t len, uint64_t *seq, msh_err *err)
{
    msh_feed_log *fl = ud;
    if (fl->max_payload > 0 && (int64_t)len > fl->max_payload - 5)
        return msh_err_set(err, MSH_ETOOBIG,
                           "batch of %zu bytes once encoded is larger than the feed log takes (%lld): send smaller "
                           "batches", len, (long long)fl->max_payload - 5);
    if (atomic_load(&fl->gap))
        return msh_err_set(err, MSH_EIO, "this node misses part of the feed log (stream_gap on /health): nothing "
                                         "was stored; send the batch to another node");
    if (natsConnection_Status(fl->nc) != NATS_CONN_STATUS_CONNECTED) {
        atomic_fetch_add(&fl->publish_failures, 1);
        return msh_err_set(err, MSH_EIO, "the feed log (NATS) is unreachable: nothing was stored or applied; "
                                         "send the batch again");
    }
    pub p = {.data = msg, .len = len};
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2 * PUBLISH_WAIT_MS / 1000 + 2; /* a queued wait, then the library's own timeout */
    pthread_mutex_lock(&fl->mu);
    pub **q = &fl->queue;
    while (*q)
        q = &(*q)->next;
    *q = &p;
    while (!p.done) {
        if (!p.g && fl->in_flight < MAX_GROUPS && send_queue_locked(fl))
            continue; /* this writer led: it sent itself and whoever queued */
        struct timespec now, step;
        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec >= until.tv_sec)
            break;
        step = (struct timespec){now.tv_sec + 1, now.tv_nsec}; /* look at overdue groups every second */
        pthread_cond_timedwait(&fl->cv, &fl->mu, &step);
        expire_groups_locked(fl);
    }
    if (!p.done)
        unlink_pub(fl, &p);
    pthread_mutex_unlock(&fl->mu);
    if (!p.stored)
        return publish_failed(fl, &p, err);
    *seq = p.seq;
    atomic_fetch_add(&fl->published, 1);
    return MSH_OK;
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    msh_feed_log *fl = closure;
    jsMsgMetaData *meta = NULL;
    if (!atomic_load(&fl->stopping) && !atomic_load(&fl->gap) && natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        uint64_t want = msh_ingest_applied(fl->ingest) + 1;
        if (meta->Sequence.Stream > want) { /* what the consumer starts at or resumes from is gone */
            found_gap(fl, want, meta->Sequence.Stream);
            goto out;
        }
        msh_ingest_apply_msg(fl->ingest, meta->Sequence.Stream, (const uint8_t *)natsMsg_GetData(msg),
                             (size_t)natsMsg_GetDataLength(msg));
        atomic_fetch_add(&fl->applied_msgs, 1);
        if (!fl->told_caught_up && meta->Sequence.Stream >= fl->start_seq) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            fprintf(stderr, "mashaer: feed log: caught up at sequence %llu, %.2f s after consuming started\n",
                    (unsigned long long)meta->Sequence.Stream,
                    (double)(now.tv_sec - fl->opened.tv_sec) + (now.tv_nsec - fl->opened.tv_nsec) / 1e9);
            fl->told_caught_up = true;
        }
    }
out:
    jsMsgMetaData_Destroy(meta);
    natsMsg_Destroy(msg);
}

/* --feed-log: comma-separated URLs, "nats://" added where missing. */
static msh_rc parse_servers(const char *list, char **urls, int *n, msh_err *err)
{
    *n = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (!len || len > 200)
            return msh_err_set(err, MSH_EINVAL, "--feed-log: empty or over-long server in '%.100s'", list);
        if (*n == MAX_SERVERS)
            return msh_err_set(err, MSH_EINVAL, "--feed-log: at most %d servers", MAX_SERVERS);
        bool scheme = strstr(p, "://") && (size_t)(strstr(p, "://") - p) < len;
        urls[*n] = malloc(len + 8);
        if (!urls[*n])
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
        snprintf(urls[*n], len + 8, "%s%.*s", scheme ? "" : "nats://", (int)len, p);
        (*n)++;
        p += len + (e ? 1 : 0);
    }
    return *n ? MSH_OK : msh_err_set(err, MSH_EINVAL, "--feed-log: no server given");
}

/* Find the stream, or create it: file storage, replicas = min(3, servers), the retention of
 * --feed-retain-hours/-mb (set again on a stream made with other limits). *first gets the
 * first sequence it holds (0: none ever). */
static msh_rc ensure_stream(msh_feed_log *fl, const msh_config *cfg, int nservers, uint64_t *first, msh_err *err)
{
    int64_t max_age = (int64_t)cfg->feed_retain_hours * 3600 * 1000000000LL; /* ns; 0: none */
    int64_t max_bytes = cfg->feed_retain_mb > 0 ? (int64_t)cfg->feed_retain_mb << 20 : -1;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, fl->js, fl->stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
        char subjects[160];
        snprintf(subjects, sizeof subjects, "%s.>", fl->subject_base);
        const char *subj[1] = {subjects};
        jsStreamConfig sc;
        jsStreamConfig_Init(&sc);
        sc.Name = fl->stream;
        sc.Subjects = subj;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        sc.Replicas = nservers < 3 ? nservers : 3;
        sc.MaxAge = max_age;
        sc.MaxBytes = max_bytes;
        jerr = 0;
        s = js_AddStream(&si, fl->js, &sc, NULL, &jerr);
        if (s == NATS_OK)
            fprintf(stderr, "mashaer: feed log: created stream %s (%s, %lld replicas)\n", fl->stream, subjects,
                    (long long)sc.Replicas);
    } else if (s == NATS_OK && (si->Config->MaxAge != max_age || si->Config->MaxBytes != max_bytes)) {
        jsStreamInfo *old = si;
        old->Config->MaxAge = max_age;
        old->Config->MaxBytes = max_bytes;
        si = NULL;
        jerr = 0;
        s = js_UpdateStream(&si, fl->js, old->Config, NULL, &jerr);
        jsStreamInfo_Destroy(old);
        if (s != NATS_OK)
            return nats_fail(err, "cannot set the stream's retention (--feed-retain-hours/-mb)", s, jerr);
    }
    if (s != NATS_OK)
        return nats_fail(err, "cannot find or create the stream", s, jerr);
    fprintf(stderr, "mashaer: feed log: stream %s keeps %d h and %ld MB at most (0: no limit), holds sequences "
            "%llu to %llu\n", fl->stream, cfg->feed_retain_hours, cfg->feed_retain_mb,
            (unsigned long long)si->State.FirstSeq, (unsigned long long)si->State.LastSeq);
    fl->start_seq = si->State.LastSeq;
    *first = si->State.FirstSeq;
    jsStreamInfo_Destroy(si);
    return MSH_OK;
}

static msh_rc subscribe(msh_feed_log *fl, uint64_t from, msh_err *err)
{
    char subjects[160];
    snprintf(subjects, sizeof subjects, "%s.>", fl->subject_base);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = fl->stream;
    so.Ordered = true;
    if (from > 1) {
        so.Config.DeliverPolicy = js_DeliverByStartSequence;
        so.Config.OptStartSeq = from;
    }
    jsErrCode jerr = 0;
    natsStatus s = js_Subscribe(&fl->sub, fl->js, subjects, on_msg, fl, NULL, &so, &jerr);
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(fl->sub, 1 << 16, 256 << 20);
    return s == NATS_OK ? MSH_OK : nats_fail(err, "cannot consume the stream", s, jerr);
}

msh_rc msh_feed_log_open(msh_app *app, msh_err *err)
{
    msh_feed_log *fl = calloc(1, sizeof *fl);
    if (!fl)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    app->feed_log = fl;
    pthread_mutex_init(&fl->mu, NULL);
    pthread_cond_init(&fl->cv, NULL);
    fl->ingest = app->ingest;
    snprintf(fl->stream, sizeof fl->stream, "%s", app->cfg.feed_stream);
    snprintf(fl->subject_base, sizeof fl->subject_base, "mashaer.feed.%s", fl->stream);
    char *urls[MAX_SERVERS] = {0};
    int n = 0;
    natsOptions *opts = NULL;
    msh_rc rc = parse_servers(app->cfg.feed_log, urls, &n, err);
    natsStatus s = NATS_OK;
    if (!rc) {
        if ((s = natsOptions_Create(&opts)) == NATS_OK &&
            (s = natsOptions_SetServers(opts, (const char **)urls, n)) == NATS_OK &&
            (s = natsOptions_SetName(opts, "mashaer")) == NATS_OK &&
            (s = natsOptions_SetTimeout(opts, 2000)) == NATS_OK &&
            (s = natsOptions_SetMaxReconnect(opts, -1)) == NATS_OK && /* a node outlives a NATS restart */
            (s = natsOptions_SetReconnectWait(opts, 250)) == NATS_OK)
            s = natsConnection_Connect(&fl->nc, opts);
        if (s != NATS_OK)
            rc = nats_fail(err, "cannot connect to the servers of --feed-log", s, 0);
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = 2 * MAX_GROUPS; /* never reached: append keeps MAX_GROUPS in flight */
    jo.PublishAsync.AckHandler = on_ack;
    jo.PublishAsync.AckHandlerClosure = fl;
    if (!rc && (s = natsConnection_JetStream(&fl->js, fl->nc, &jo)) != NATS_OK)
        rc = nats_fail(err, "no JetStream context", s, 0);
    uint64_t first = 0;
    if (!rc) {
        fl->max_payload = natsConnection_GetMaxPayload(fl->nc);
        if (fl->max_payload <= 0)
            fl->max_payload = 1 << 20; /* NATS's default */
        rc = ensure_stream(fl, &app->cfg, n, &first, err);
    }
    uint64_t applied = rc ? 0 : msh_ingest_applied(app->ingest);
    if (!rc && applied > fl->start_seq)
        rc = msh_err_set(err, MSH_EINVAL,
                         "feed log: this node's snapshot holds stream %s up to sequence %llu, but the stream ends at "
                         "%llu (made again, or purged?): move the stream's snapshots out of --live-dir to start "
                         "from the stream alone", fl->stream, (unsigned long long)applied,
                         (unsigned long long)fl->start_seq);
    if (!rc) {
        msh_ingest_log log = {append, fl, 0};
        msh_ingest_set_log(app->ingest, &log);
        msh_ingest_set_apply_delay(app->ingest, (int64_t)app->cfg.feed_apply_delay_ms * 1000);
        fl->told_caught_up = applied >= fl->start_seq;
        clock_gettime(CLOCK_MONOTONIC, &fl->opened);
        if (first > applied + 1)
            found_gap(fl, applied + 1, first); /* a node out of the pool until the operator acts */
        else
            rc = subscribe(fl, applied + 1, err);
    }
    if (!rc)
        fprintf(stderr, "mashaer: feed log: stream %s on %s, applied up to %llu, catching up to %llu\n", fl->stream,
                app->cfg.feed_log, (unsigned long long)applied, (unsigned long long)fl->start_seq);
    natsOptions_Destroy(opts);
    for (int i = 0; i < n; i++)
        free(urls[i]);
    return rc;
}

void msh_feed_log_close(msh_app *app)
{
    msh_feed_log *fl = app->feed_log;
    if (!fl)
        return;
    atomic_store(&fl->stopping, true);
    if (fl->sub && natsSubscription_Drain(fl->sub) == NATS_OK)
        natsSubscription_WaitForDrainCompletion(fl->sub, 5000);
    natsSubscription_Destroy(fl->sub);
    jsCtx_Destroy(fl->js);
    natsConnection_Destroy(fl->nc);
    nats_CloseAndWait(5000);
    pthread_mutex_destroy(&fl->mu);
    pthread_cond_destroy(&fl->cv);
    free(fl);
    app->feed_log = NULL;
}

bool msh_feed_log_state_get(msh_app *app, msh_feed_log_state *st)
{
    msh_feed_log *fl = app->feed_log;
    if (!fl)
        return false;
    st->applied_seq = msh_ingest_applied(fl->ingest);
    st->start_seq = fl->start_seq;
    st->caught_up = st->applied_seq >= fl->start_seq;
    st->gap = atomic_load(&fl->gap);
    st->gap_from = atomic_load(&fl->gap_from);
    st->gap_first = atomic_load(&fl->gap_first);
    st->connected = natsConnection_Status(fl->nc) == NATS_CONN_STATUS_CONNECTED;
    return true;
}

void msh_feed_log_metrics(msh_app *app, msh_buf *b)
{
    msh_feed_log_state st;
    if (!msh_feed_log_state_get(app, &st))
        return;
    msh_feed_log *fl = app->feed_log;
    pthread_mutex_lock(&fl->mu);
    int in_flight = fl->in_flight;
    pthread_mutex_unlock(&fl->mu);
    msh_buf_printf(b,
                   "# HELP mashaer_feed_log_applied_seq The last stream sequence of the feed log applied to this node's live state.\n"
                   "# TYPE mashaer_feed_log_applied_seq gauge\nmashaer_feed_log_applied_seq %llu\n"
                   "# HELP mashaer_feed_log_caught_up 1 once the node applied the stream as it was when it started.\n"
                   "# TYPE mashaer_feed_log_caught_up gauge\nmashaer_feed_log_caught_up %d\n"
                   "# HELP mashaer_feed_log_connected 1 while the node is connected to NATS.\n"
                   "# TYPE mashaer_feed_log_connected gauge\nmashaer_feed_log_connected %d\n"
                   "# HELP mashaer_feed_log_published_total Batches this node stored on the stream (acknowledged), "
                   "and those that failed.\n"
                   "# TYPE mashaer_feed_log_published_total counter\nmashaer_feed_log_published_total %llu\n"
                   "# TYPE mashaer_feed_log_publish_failures_total counter\nmashaer_feed_log_publish_failures_total %llu\n"
                   "# HELP mashaer_feed_log_messages_total Stream messages this node stored: one per batch, or a group "
                   "of the batches that queued while earlier ones were in flight (group commit).\n"
                   "# TYPE mashaer_feed_log_messages_total counter\nmashaer_feed_log_messages_total %llu\n"
                   "# HELP mashaer_feed_log_publishes_in_flight Stream messages published and not yet acknowledged, now and at most.\n"
                   "# TYPE mashaer_feed_log_publishes_in_flight gauge\nmashaer_feed_log_publishes_in_flight %d\n"
                   "# TYPE mashaer_feed_log_publishes_in_flight_max gauge\nmashaer_feed_log_publishes_in_flight_max %d\n"
                   "# HELP mashaer_feed_log_gap 1 when the stream no longer holds the next sequence this node needs.\n"
                   "# TYPE mashaer_feed_log_gap gauge\nmashaer_feed_log_gap %d\n",
                   (unsigned long long)st.applied_seq, st.caught_up ? 1 : 0, st.connected ? 1 : 0,
                   (unsigned long long)atomic_load(&fl->published),
                   (unsigned long long)atomic_load(&fl->publish_failures),
                   (unsigned long long)atomic_load(&fl->published_msgs), in_flight,
                   atomic_load(&fl->in_flight_max), st.gap ? 1 : 0);
}
