/* feed_log.c: the JetStream feed log (feed_log.h): connection, stream and consumer; the
 * publisher that stores writers' messages on the stream is feed_pub.c.
 *
 * The consumer is one ordered push consumer: the library's thread for the subscription calls
 * on_msg in stream order; it resumes by itself (at the next sequence) after a reconnect or a
 * stream leader change. Its consumer on the servers is a single copy on one of them: when that
 * server dies nothing is delivered until the library notices two missed idle heartbeats and
 * makes the consumer again from the next sequence, so the heartbeat (CONSUMER_HEARTBEAT_MS) bounds
 * how long the node goes without the stream, and with it every writer of this node, who waits
 * for its own batch to be applied here. Retention (--feed-retain-hours/-mb) is set on the stream; a node whose
 * next sequence the stream no longer holds has a hole (feed_log.h): it says so and applies
 * nothing more.
 *
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

#include "live/ingest.h"
#include "serve/app.h"
#include "services/feed_pub.h"

#define MAX_SERVERS 16
/* The consumer's idle heartbeat. The library makes a silent consumer again after two of them are
 * missed, and tries again two later when that fails (no stream leader yet). The library's own 5 s
 * meant 10 to 20 s before the first try and 30 s with one failed try: a writer's batch stored
 * by the new stream leader then waited that long to be applied here (issue 14). One heartbeat a
 * second per node costs the servers next to nothing. */
#define CONSUMER_HEARTBEAT_MS 1000

struct msh_feed_log {
    msh_ingest *ingest;
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    msh_feed_pub *pub;      /* the publisher: writers' messages onto the stream */
    char stream[65];
    char subject_base[128]; /* mashaer.feed.<stream> */
    uint64_t start_seq;     /* the stream's last sequence at start */
    atomic_bool stopping;
    bool told_caught_up;    /* the consumer's thread only */
    struct timespec opened; /* when consuming started */
    atomic_ullong applied_msgs;
    atomic_ullong consumer_resets;     /* the library found the consumer silent and made it again */
    atomic_uint silent_resets;         /* of those, since the last message (0 once one comes) */
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

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    msh_feed_log *fl = closure;
    jsMsgMetaData *meta = NULL;
    atomic_store(&fl->silent_resets, 0);
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

/* The library's asynchronous errors (its thread): a consumer found silent (made again from the
 * next sequence) or that could not be made again yet; counted, and said on stderr: the first
 * of a silence and then once a minute (NATS can be down for long). */
static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus s, void *closure)
{
    (void)nc;
    msh_feed_log *fl = closure;
    bool consumer = sub && sub == fl->sub;
    if (consumer && s == NATS_MISSED_HEARTBEAT)
        atomic_fetch_add(&fl->consumer_resets, 1);
    /* the tries since the consumer's last message: 1 for the first of a silence (a try's error comes after it) */
    unsigned n = !consumer ? 1 : s == NATS_MISSED_HEARTBEAT ? atomic_fetch_add(&fl->silent_resets, 1) + 1
                                                            : atomic_load(&fl->silent_resets);
    if (atomic_load(&fl->stopping) || (n > 1 && n % (60000 / (2 * CONSUMER_HEARTBEAT_MS)) != 0))
        return; /* said once a minute */
    if (consumer && s == NATS_MISSED_HEARTBEAT)
        fprintf(stderr, "mashaer: feed log: nothing from the consumer for %d ms (its server gone?): making it again "
                "from sequence %llu (try %u since its last message)\n", 2 * CONSUMER_HEARTBEAT_MS,
                (unsigned long long)msh_ingest_applied(fl->ingest) + 1, n);
    else
        fprintf(stderr, "mashaer: feed log: %s%s\n", natsStatus_GetText(s),
                consumer ? " (making the consumer again; tried again in a moment)" : "");
}

/* The connection lost and made again (the library's threads): said on stderr with the server,
 * so a node's log tells which NATS server it went through when one died. */
static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    msh_feed_log *fl = closure;
    if (!atomic_load(&fl->stopping))
        fprintf(stderr, "mashaer: feed log: disconnected from NATS: connecting again\n");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)closure;
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof url);
    fprintf(stderr, "mashaer: feed log: connected again, through %s\n", url);
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
    so.Config.Heartbeat = (int64_t)CONSUMER_HEARTBEAT_MS * 1000000; /* ns */
    if (from > 1) {
        so.Config.DeliverPolicy = js_DeliverByStartSequence;
        so.Config.OptStartSeq = from;
    }
    jsErrCode jerr = 0;
    natsStatus s = js_Subscribe(&fl->sub, fl->js, subjects, on_msg, fl, NULL, &so, &jerr);
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(fl->sub, 1 << 16, 256 << 20);
    jsConsumerInfo *ci = NULL;
    if (s == NATS_OK && natsSubscription_GetConsumerInfo(&ci, fl->sub, NULL, NULL) == NATS_OK) {
        fprintf(stderr, "mashaer: feed log: consumer %s on NATS server %s\n", ci->Name,
                ci->Cluster && ci->Cluster->Leader ? ci->Cluster->Leader : "(not clustered)");
        jsConsumerInfo_Destroy(ci);
    }
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
    if (!(fl->pub = msh_feed_pub_new(fl->stream, fl->subject_base, &fl->gap)))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
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
            (s = natsOptions_SetReconnectWait(opts, 250)) == NATS_OK &&
            (s = natsOptions_SetErrorHandler(opts, on_async_error, fl)) == NATS_OK &&
            (s = natsOptions_SetDisconnectedCB(opts, on_disconnected, fl)) == NATS_OK &&
            (s = natsOptions_SetReconnectedCB(opts, on_reconnected, fl)) == NATS_OK)
            s = natsConnection_Connect(&fl->nc, opts);
        if (s != NATS_OK)
            rc = nats_fail(err, "cannot connect to the servers of --feed-log", s, 0);
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    msh_feed_pub_js_options(fl->pub, &jo);
    if (!rc && (s = natsConnection_JetStream(&fl->js, fl->nc, &jo)) != NATS_OK)
        rc = nats_fail(err, "no JetStream context", s, 0);
    uint64_t first = 0;
    if (!rc) {
        int64_t max_payload = natsConnection_GetMaxPayload(fl->nc);
        msh_feed_pub_start(fl->pub, fl->nc, fl->js, max_payload > 0 ? max_payload : 1 << 20 /* NATS's default */);
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
        msh_ingest_log log = {msh_feed_pub_append, fl->pub, 0};
        msh_ingest_set_log(app->ingest, &log);
        msh_ingest_set_apply_delay(app->ingest, (int64_t)app->cfg.feed_apply_delay_ms * 1000);
        fl->told_caught_up = applied >= fl->start_seq;
        clock_gettime(CLOCK_MONOTONIC, &fl->opened);
        if (first > applied + 1)
            found_gap(fl, applied + 1, first); /* a node out of the pool until the operator acts */
        else
            rc = subscribe(fl, applied + 1, err);
    }
    char url[256] = "";
    if (!rc)
        natsConnection_GetConnectedUrl(fl->nc, url, sizeof url);
    if (!rc)
        fprintf(stderr, "mashaer: feed log: stream %s on %s (through %s), applied up to %llu, catching up to %llu\n",
                fl->stream, app->cfg.feed_log, url, (unsigned long long)applied, (unsigned long long)fl->start_seq);
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
    msh_feed_pub_free(fl->pub);
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
    msh_feed_pub_counts c;
    msh_feed_pub_counts_get(fl->pub, &c);
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
                   "# HELP mashaer_feed_log_consumer_resets_total Times the consumer went silent (its NATS server "
                   "gone) and was made again from the next sequence.\n"
                   "# TYPE mashaer_feed_log_consumer_resets_total counter\nmashaer_feed_log_consumer_resets_total %llu\n"
                   "# HELP mashaer_feed_log_gap 1 when the stream no longer holds the next sequence this node needs.\n"
                   "# TYPE mashaer_feed_log_gap gauge\nmashaer_feed_log_gap %d\n",
                   (unsigned long long)st.applied_seq, st.caught_up ? 1 : 0, st.connected ? 1 : 0,
                   (unsigned long long)c.published, (unsigned long long)c.publish_failures,
                   (unsigned long long)c.published_msgs, c.in_flight, c.in_flight_max,
                   (unsigned long long)atomic_load(&fl->consumer_resets), st.gap ? 1 : 0);
}
