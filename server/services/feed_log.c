/* feed_log.c: the JetStream feed log (feed_log.h): connection, stream, publisher and consumer.
 *
 * The publisher is any writer thread (HTTP workers, the MQTT client): `append` is one
 * synchronous js_Publish that returns with the stream's acknowledgement, or fails at once when
 * the connection is down (so a 503 is answered quickly and nothing is buffered to be stored
 * after the client was told it failed). The consumer is one ordered push consumer: the
 * library's thread for the subscription calls on_msg in stream order; it resumes by itself
 * (at the next sequence) after a reconnect or a stream leader change.
 *
 * Locks: none of its own. counters are atomics; the ingest handle orders the applies.
 * Stopping: `stopping` makes on_msg drop what is still delivered, then the subscription is
 * drained (a message being applied finishes) before the connection closes.
 */
#include "services/feed_log.h"

#include <nats/nats.h>
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
    atomic_ullong published, publish_failures, applied_msgs;
};

static msh_rc nats_fail(msh_err *err, const char *what, natsStatus s, jsErrCode jerr)
{
    const char *last = nats_GetLastError(NULL);
    return msh_err_set(err, MSH_EIO, "feed log: %s: %s%s%s (JetStream error %d)", what, natsStatus_GetText(s),
                       last && *last ? ": " : "", last ? last : "", (int)jerr);
}

/* The subject of a message of `type` (a feed, or an operator's write). */
static void subject_of(const msh_feed_log *fl, uint8_t type, char *out, size_t cap)
{
    snprintf(out, cap, "%s.%s", fl->subject_base, type == MSH_WAL_OPS ? "ops" : msh_feed_name((msh_feed)type));
}

/* ingest's append: one message, stored on a quorum before this returns. */
static msh_rc append(void *ud, const void *msg, size_t len, uint64_t *seq, msh_err *err)
{
    msh_feed_log *fl = ud;
    int64_t max = natsConnection_GetMaxPayload(fl->nc);
    if (max > 0 && (int64_t)len > max)
        return msh_err_set(err, MSH_ETOOBIG,
                           "batch of %zu bytes once encoded is larger than the feed log takes (%lld): send smaller "
                           "batches", len, (long long)max);
    if (natsConnection_Status(fl->nc) != NATS_CONN_STATUS_CONNECTED) {
        atomic_fetch_add(&fl->publish_failures, 1);
        return msh_err_set(err, MSH_EIO, "the feed log (NATS) is unreachable: nothing was stored or applied; "
                                         "send the batch again");
    }
    char subj[192];
    subject_of(fl, ((const uint8_t *)msg)[0], subj, sizeof subj);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = PUBLISH_WAIT_MS;
    po.ExpectStream = fl->stream;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_Publish(&pa, fl->js, subj, msg, (int)len, &po, &jerr);
    if (s != NATS_OK) {
        atomic_fetch_add(&fl->publish_failures, 1);
        msh_rc rc = nats_fail(err, "the stream did not acknowledge the batch", s, jerr);
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        msh_err_set(err, rc, "%s: it was not applied; send it again", why);
        return rc;
    }
    *seq = pa->Sequence;
    jsPubAck_Destroy(pa);
    atomic_fetch_add(&fl->published, 1);
    return MSH_OK;
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    msh_feed_log *fl = closure;
    jsMsgMetaData *meta = NULL;
    if (!atomic_load(&fl->stopping) && natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
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

/* Find the stream, or create it: file storage, replicas = min(3, servers). */
static msh_rc ensure_stream(msh_feed_log *fl, int nservers, msh_err *err)
{
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
        jerr = 0;
        s = js_AddStream(&si, fl->js, &sc, NULL, &jerr);
        if (s == NATS_OK)
            fprintf(stderr, "mashaer: feed log: created stream %s (%s, %lld replicas)\n", fl->stream, subjects,
                    (long long)sc.Replicas);
    }
    if (s != NATS_OK)
        return nats_fail(err, "cannot find or create the stream", s, jerr);
    fl->start_seq = si->State.LastSeq;
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
    if (!rc && (s = natsConnection_JetStream(&fl->js, fl->nc, NULL)) != NATS_OK)
        rc = nats_fail(err, "no JetStream context", s, 0);
    if (!rc)
        rc = ensure_stream(fl, n, err);
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
    st->connected = natsConnection_Status(fl->nc) == NATS_CONN_STATUS_CONNECTED;
    return true;
}

void msh_feed_log_metrics(msh_app *app, msh_buf *b)
{
    msh_feed_log_state st;
    if (!msh_feed_log_state_get(app, &st))
        return;
    msh_feed_log *fl = app->feed_log;
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
                   "# TYPE mashaer_feed_log_publish_failures_total counter\nmashaer_feed_log_publish_failures_total %llu\n",
                   (unsigned long long)st.applied_seq, st.caught_up ? 1 : 0, st.connected ? 1 : 0,
                   (unsigned long long)atomic_load(&fl->published),
                   (unsigned long long)atomic_load(&fl->publish_failures));
}
