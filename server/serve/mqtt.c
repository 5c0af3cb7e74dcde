/* mqtt.c: the live feeds over MQTT with libmosquitto: subscribe, ingest, publish the result.
 *
 * Threads. One thread of ours runs libmosquitto's network loop (mosquitto_loop);
 * on_connect, on_subscribe, on_disconnect and on_message all run there, one at a time, so the
 * fields marked "loop thread" below need no lock. The counters are read from other threads and
 * are atomics. msh_ingest_batch is thread-safe (HTTP workers call it at the same time).
 *
 * Reconnecting. The thread is ours, running mosquitto_loop, rather than mosquitto_loop_start's
 * (mosquitto_loop_forever with its mosquitto_reconnect_delay_set backoff), for three reasons
 * seen with libmosquitto 2.0.11 (Debian 12): a first connection attempt that fails (broker down
 * at start) leaves the client in its "new" state, and loop_start's thread then waits for that
 * state to change for ever, never trying again (it polls every 10 ms and never connects);
 * loop_forever returns for good on some errors (a protocol error, a failed DNS lookup); and its
 * sleep between reconnects cannot be cut short, so a shutdown while the broker is down waited
 * for it (4 s measured). Our loop connects, runs the connection until it ends, waits (1 s,
 * doubling up to RECONNECT_MAX_S; a condition variable that msh_mqtt_stop signals) and starts
 * again, for as long as the server runs; HTTP is served meanwhile. The subscription is made
 * again in every on_connect.
 *
 * Sessions. Without --mqtt-client-id the client takes a name of its own and a clean session:
 * whatever is published while Mashaer is not connected is not kept for it. With
 * --mqtt-client-id the session is persistent (clean session off): the broker keeps the
 * subscription and queues QoS 1 messages for us while we are away (a Mashaer restart, a
 * network cut), within the broker's own limits (max_queued_messages, persistence).
 *
 * Acknowledgements and durability. With QoS 1 the broker drops its copy of a message once this
 * client answers PUBACK. Current upstream libmosquitto calls on_message first and sends the
 * PUBACK when it returns, that is after msh_ingest_batch has synced the write-ahead log: there
 * an acknowledged message is durable, as an HTTP 200 is. The libmosquitto of Debian 12
 * (2.0.11) does it the other way round: it sends the PUBACK, then calls on_message (measured:
 * the broker logs our PUBACK while a slow callback is still running). With that library a
 * crash between receiving a batch and the log sync (a few milliseconds) loses that batch and
 * the broker will not send it again. libmosquitto offers no way to hold the PUBACK back, so
 * with 2.0.11 this window stays (scripts/setup.sh installs the Debian package). Note also that
 * a device's own PUBACK comes from the broker, not from us: it says the broker has the batch,
 * and keeping it across a broker restart is the broker's configuration (persistence).
 *
 * Size cap. libmosquitto reads a whole PUBLISH into memory before on_message sees it; the cap
 * (cfg.max_body_bytes, as for HTTP) keeps an oversize batch from reaching the parser and the
 * log. Set the broker's message_size_limit too, so such payloads never cross the network.
 */
#include "serve/mqtt.h"

#include <errno.h>
#include <mosquitto.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/msh_time.h"
#include "live/feed_sniff.h"
#include "live/ingest.h"

#define TOPIC_PREFIX "mashaer/feeds/"
#define TOPIC_FILTER TOPIC_PREFIX "+"
#define KEEPALIVE_S 30
#define RECONNECT_MIN_S 1
#define RECONNECT_MAX_S 5
#define PASSWORD_MAX 4096
#define NOTED_MAX 64 /* distinct topics a "once per topic" message is remembered for */
#define TOPIC_SHOWN_MAX 200
#define RESULT_MAX ((size_t)2 << 20)

struct msh_mqtt {
    struct mosquitto *mosq;
    msh_ingest *ingest;   /* borrowed */
    msh_metrics *metrics; /* borrowed */
    size_t max_payload;
    int qos;
    atomic_bool change_warned; /* a failed change publication was logged (once: any thread) */
    char host[256];
    int port;
    char addr[300]; /* HOST:PORT as given, for the log */
    bool lib_init, thread_started;
    pthread_t thread;
    pthread_mutex_t lock; /* guards `stop` and the (re)starts of the connection against msh_mqtt_stop */
    pthread_cond_t wake;  /* cuts the wait between attempts short at stop */
    bool stop;
    atomic_bool stopping; /* `stop` for the callbacks, which must not take `lock` */

    /* loop thread */
    int last_refusal;       /* the last CONNACK refusal logged, so that retries stay quiet */
    bool told_unreachable;  /* "cannot reach" logged since the last connection */
    char *noted[NOTED_MAX]; /* "kind topic" keys already logged */
    size_t nnoted;
    bool noted_full;

    /* counters (any thread reads them) */
    atomic_uint_fast64_t messages, batches, unknown_feed, oversize, retained, failed, connects;
    atomic_bool connected;
};

/* A topic as it may be printed: network bytes with control characters replaced, cut short. */
static void shown_topic(const char *topic, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = topic; *p && n + 1 < cap && n < TOPIC_SHOWN_MAX; p++)
        out[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p;
    out[n] = 0;
}

/* True the first time `kind` is seen for `topic`: messages about a topic are logged once. */
static bool first_time(msh_mqtt *m, char kind, const char *topic)
{
    char key[TOPIC_SHOWN_MAX + 8];
    snprintf(key, sizeof key, "%c %.*s", kind, TOPIC_SHOWN_MAX, topic);
    for (size_t i = 0; i < m->nnoted; i++)
        if (!strcmp(m->noted[i], key))
            return false;
    if (m->nnoted == NOTED_MAX) {
        if (!m->noted_full)
            fprintf(stderr, "mashaer: mqtt: more than %d topics to warn about: not logging new ones\n", NOTED_MAX);
        m->noted_full = true;
        return false;
    }
    char *k = strdup(key);
    if (!k)
        return true; /* out of memory: logging again is the lesser evil */
    m->noted[m->nnoted++] = k;
    return true;
}

static void publish_result(msh_mqtt *m, msh_feed feed, const msh_buf *b)
{
    char topic[128];
    snprintf(topic, sizeof topic, TOPIC_PREFIX "%s/result", msh_feed_name(feed));
    /* QoS 0: a result nobody listens to is not worth keeping; the batch itself is already safe */
    int rc = mosquitto_publish(m->mosq, NULL, topic, (int)b->len, b->data, 0, false);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
        fprintf(stderr, "mashaer: mqtt: cannot publish to %s: %s\n", topic, mosquitto_strerror(rc));
}

/* A broadcast on mashaer/broadcasts/{zone} for each zone it targets or touches ("A,B"), or on
 * mashaer/broadcasts/none when it touches none; a zone id that cannot be a topic level (/ + #) is skipped. */
static void broadcast_tap(msh_mqtt *m, const char *zones, const char *json)
{
    const char *p = *zones ? zones : "none";
    while (*p) {
        size_t n = strcspn(p, ",");
        static const char PREFIX[] = "mashaer/broadcasts/";
        char topic[160];
        snprintf(topic, sizeof topic, "%s%.*s", PREFIX, (int)(n > 100 ? 100 : n), p);
        if (n <= 100 && !strpbrk(topic + sizeof PREFIX - 1, "/+#")) {
            int rc = mosquitto_publish(m->mosq, NULL, topic, (int)strlen(json), json, m->qos, false);
            if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN && !atomic_exchange(&m->change_warned, true))
                fprintf(stderr, "mashaer: mqtt: cannot publish to %s: %s\n", topic, mosquitto_strerror(rc));
        }
        p += n + (p[n] == ',');
    }
}

void msh_mqtt_change_tap(void *ud, msh_event_type type, const char *collection, const char *json)
{
    msh_mqtt *m = ud;
    if (m && type == MSH_EV_BROADCAST)
        broadcast_tap(m, collection, json);
    if (type != MSH_EV_CHANGE || !m)
        return;
    char topic[128];
    snprintf(topic, sizeof topic, "mashaer/changes/%s", collection);
    /* queued for the network thread (threaded mode), never blocking the writer that published it */
    int rc = mosquitto_publish(m->mosq, NULL, topic, (int)strlen(json), json, m->qos, false);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN && !atomic_exchange(&m->change_warned, true))
        fprintf(stderr, "mashaer: mqtt: cannot publish to %s: %s\n", topic, mosquitto_strerror(rc));
}

/* The body HTTP answers with for an error: {"error":"...","status":N}. */
static void publish_error(msh_mqtt *m, msh_feed feed, int status, const char *msg)
{
    msh_buf b;
    msh_buf_init(&b, 4096);
    msh_buf_printf(&b, "{\"error\":\"");
    msh_buf_json_str(&b, msg);
    msh_buf_printf(&b, "\",\"status\":%d}\n", status);
    publish_result(m, feed, &b);
    msh_buf_free(&b);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    msh_mqtt *m = obj;
    if (rc) {
        if (rc != m->last_refusal)
            fprintf(stderr, "mashaer: mqtt: %s refused the connection: %s (retrying)\n", m->addr,
                    mosquitto_connack_string(rc));
        m->last_refusal = rc;
        return;
    }
    m->last_refusal = 0;
    int src = mosquitto_subscribe(mosq, NULL, TOPIC_FILTER, m->qos);
    if (src)
        fprintf(stderr, "mashaer: mqtt: connected to %s but cannot subscribe to %s: %s\n", m->addr, TOPIC_FILTER,
                mosquitto_strerror(src));
}

/* The "connected" line is written once the broker has confirmed the subscription: from then on a
 * message published to mashaer/feeds/{feed} reaches us (what a test or an operator waits for). */
static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count, const int *granted)
{
    msh_mqtt *m = obj;
    atomic_store(&m->connected, true);
    atomic_fetch_add(&m->connects, 1);
    m->told_unreachable = false;
    if (qos_count < 1 || granted[0] > 2)
        fprintf(stderr,
                "mashaer: mqtt connected to %s, but the broker refused the subscription to %s "
                "(check its access control)\n",
                m->addr, TOPIC_FILTER);
    else
        fprintf(stderr, "mashaer: mqtt connected to %s, subscribed to %s (QoS %d)\n", m->addr, TOPIC_FILTER,
                granted[0]);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    msh_mqtt *m = obj;
    bool was = atomic_exchange(&m->connected, false);
    if (was && !atomic_load(&m->stopping))
        fprintf(stderr, "mashaer: mqtt disconnected from %s (%s): reconnecting\n", m->addr,
                rc ? mosquitto_strerror(rc) : "closed");
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    msh_mqtt *m = obj;
    atomic_fetch_add(&m->messages, 1);
    const char *topic = msg->topic ? msg->topic : "";
    char shown[TOPIC_SHOWN_MAX + 1];
    size_t plen = strlen(TOPIC_PREFIX);
    msh_feed feed;
    if (strncmp(topic, TOPIC_PREFIX, plen) || !msh_feed_lookup(topic + plen, strlen(topic + plen), &feed)) {
        atomic_fetch_add(&m->unknown_feed, 1);
        if (first_time(m, 'u', topic)) {
            shown_topic(topic, shown, sizeof shown);
            fprintf(stderr,
                    "mashaer: mqtt: ignoring messages on '%s': no such feed (the feeds are positions, "
                    "crews, incidents, gates, sensors and bins)\n",
                    shown);
        }
        return;
    }
    if (msg->retain) {
        /* a retained batch would be applied again at every (re)connect */
        atomic_fetch_add(&m->retained, 1);
        if (first_time(m, 'r', topic))
            fprintf(stderr, "mashaer: mqtt: ignoring a retained message on %s: publish feeds without the "
                    "retain flag\n",
                    topic);
        return;
    }
    size_t len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
    const char *body = len ? msg->payload : "";
    char text[160];
    if (len > m->max_payload) {
        atomic_fetch_add(&m->oversize, 1);
        snprintf(text, sizeof text, "payload of %zu bytes is larger than %zu bytes: send smaller batches", len,
                 m->max_payload);
        if (first_time(m, 'o', topic))
            fprintf(stderr, "mashaer: mqtt: dropped a batch on %s: %s (logged once per topic)\n", topic, text);
        publish_error(m, feed, 413, text);
        return;
    }
    msh_ingest_result res;
    msh_ingest_result_init(&res);
    msh_err err;
    msh_rc rc =
        msh_ingest_batch(m->ingest, feed, body, len, msh_feed_body_is_document(body, len), msh_now_ms(), &res, &err);
    if (rc) {
        atomic_fetch_add(&m->failed, 1);
        if (rc != MSH_EFORMAT)
            fprintf(stderr, "mashaer: mqtt: batch on %s not kept: %s\n", topic, err.msg);
        else if (first_time(m, 'f', topic)) /* the sender gets each error; the log says it once per topic */
            fprintf(stderr, "mashaer: mqtt: unreadable batch on %s, nothing of it applied: %s (logged once per "
                    "topic)\n", topic, err.msg);
        publish_error(m, feed, rc == MSH_EFORMAT ? 400 : 503, err.msg);
        goto out;
    }
    atomic_fetch_add(&m->batches, 1);
    msh_metrics_feed(m->metrics, (int)feed, res.accepted, res.rejected);
    /* the same document POST /feeds/{feed} answers with (routes_feeds.c) */
    msh_buf b;
    msh_buf_init(&b, RESULT_MAX);
    msh_ingest_result_json(&res, &b);
    publish_result(m, feed, &b);
    msh_buf_free(&b);
out:
    msh_ingest_result_free(&res);
}

/* "HOST:PORT" (an IPv6 host in brackets: "[::1]:1883"). */
static msh_rc parse_addr(const char *s, char *host, size_t cap, int *port, msh_err *err)
{
    const char *colon = strrchr(s, ':');
    const char *h = s, *hend = colon;
    if (colon && s[0] == '[' && colon > s && colon[-1] == ']') {
        h = s + 1;
        hend = colon - 1;
    }
    char *end = NULL;
    long p = 0;
    if (colon) {
        errno = 0;
        p = strtol(colon + 1, &end, 10);
    }
    if (!colon || hend <= h || (size_t)(hend - h) >= cap || errno || !end || *end || end == colon + 1 || p < 1 ||
        p > 65535)
        return msh_err_set(err, MSH_EINVAL, "--mqtt takes HOST:PORT (for example 127.0.0.1:1883), not '%s'", s);
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = 0;
    *port = (int)p;
    return MSH_OK;
}

/* The password: the file's first line (a final newline is not part of it). `pw` gets cap bytes. */
static msh_rc read_password(const char *path, char *pw, size_t cap, msh_err *err)
{
    msh_rc rc = MSH_OK;
    FILE *f = fopen(path, "re");
    if (!f)
        return msh_err_set(err, MSH_EIO, "cannot read the MQTT password file %s: %s", path, strerror(errno));
    size_t n = fread(pw, 1, cap - 1, f);
    if (ferror(f)) {
        rc = msh_err_set(err, MSH_EIO, "cannot read the MQTT password file %s: %s", path, strerror(errno));
        goto out;
    }
    if (n == cap - 1 && fgetc(f) != EOF) {
        rc = msh_err_set(err, MSH_EINVAL, "the MQTT password in %s is longer than %d bytes", path, PASSWORD_MAX - 1);
        goto out;
    }
    pw[n] = 0;
    char *nl = memchr(pw, '\n', n);
    if (nl)
        n = (size_t)(nl - pw);
    if (n && pw[n - 1] == '\r')
        n--;
    pw[n] = 0;
    if (n == 0 || memchr(pw, 0, n))
        rc = msh_err_set(err, MSH_EINVAL, "the MQTT password file %s holds no password (or a NUL byte)", path);
out:
    fclose(f);
    return rc;
}

/* Wait `seconds` or until msh_mqtt_stop, with m->lock held. */
static void wait_locked(msh_mqtt *m, int seconds)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += seconds;
    while (!m->stop && pthread_cond_timedwait(&m->wake, &m->lock, &until) != ETIMEDOUT) {
    }
}

/* The network thread: connect, run the connection with mosquitto_loop until it ends, wait
 * (1 s, doubling up to RECONNECT_MAX_S, back to 1 s after a good connection), again, until
 * msh_mqtt_stop. */
static void *mqtt_main(void *arg)
{
    msh_mqtt *m = arg;
    int delay = RECONNECT_MIN_S;
    pthread_mutex_lock(&m->lock);
    while (!m->stop) {
        /* under the lock: msh_mqtt_stop's disconnect comes before or after this, never inside */
        uint64_t connects = atomic_load(&m->connects);
        int rc = mosquitto_connect_async(m->mosq, m->host, m->port, KEEPALIVE_S);
        int saved = errno;
        pthread_mutex_unlock(&m->lock);
        int after_stop = 0;
        while (rc == MOSQ_ERR_SUCCESS) {
            /* after msh_mqtt_stop's disconnect the DISCONNECT goes out and the loop ends within a
             * round or two; a connection still being set up is given up after about a second */
            bool stopping = atomic_load(&m->stopping);
            if (stopping && ++after_stop > 20)
                break;
            rc = mosquitto_loop(m->mosq, stopping ? 50 : 1000, 1);
            saved = errno;
        }
        atomic_store(&m->connected, false);
        pthread_mutex_lock(&m->lock);
        if (m->stop)
            break;
        if (atomic_load(&m->connects) != connects) {
            delay = RECONNECT_MIN_S; /* it was up: on_disconnect has said so; retry soon */
        } else if (!m->told_unreachable && !m->last_refusal) {
            fprintf(stderr, "mashaer: mqtt cannot reach %s (%s): retrying in the background\n", m->addr,
                    rc == MOSQ_ERR_ERRNO ? strerror(saved) : mosquitto_strerror(rc));
            m->told_unreachable = true;
        }
        wait_locked(m, delay);
        delay = delay * 2 > RECONNECT_MAX_S ? RECONNECT_MAX_S : delay * 2;
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

msh_rc msh_mqtt_start(msh_app *app, msh_mqtt **out, msh_err *err)
{
    msh_rc rc = MSH_OK;
    const msh_config *cfg = &app->cfg;
    char password[PASSWORD_MAX], client_id[128];
    msh_mqtt *m = NULL;
    sigset_t block, old;
    password[0] = 0;
    *out = NULL;
    if (!app->ingest)
        return msh_err_set(err, MSH_EINVAL, "--mqtt needs the live feeds: drop --no-live");
    if (cfg->mqtt_qos < 0 || cfg->mqtt_qos > 1)
        return msh_err_set(err, MSH_EINVAL, "--mqtt-qos takes 0 or 1");
    if (cfg->mqtt_password_file && !cfg->mqtt_user)
        return msh_err_set(err, MSH_EINVAL, "--mqtt-password-file needs --mqtt-user (MQTT sends no password alone)");
    if (cfg->mqtt_client_id && (!cfg->mqtt_client_id[0] || strlen(cfg->mqtt_client_id) > 64))
        return msh_err_set(err, MSH_EINVAL, "--mqtt-client-id takes 1 to 64 bytes");

    m = calloc(1, sizeof *m);
    if (!m)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    *out = m;
    pthread_mutex_init(&m->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->wake, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&m->stopping, false);
    atomic_init(&m->connected, false);
    m->ingest = app->ingest;
    m->metrics = app->metrics;
    m->max_payload = cfg->max_body_bytes;
    m->qos = cfg->mqtt_qos;
    snprintf(m->addr, sizeof m->addr, "%s", cfg->mqtt_addr ? cfg->mqtt_addr : "");
    if ((rc = parse_addr(m->addr, m->host, sizeof m->host, &m->port, err)))
        goto out;
    if (cfg->mqtt_password_file && (rc = read_password(cfg->mqtt_password_file, password, sizeof password, err)))
        goto out;

    mosquitto_lib_init();
    m->lib_init = true;
    bool persistent = cfg->mqtt_client_id != NULL; /* see "Sessions" above */
    if (persistent) {
        snprintf(client_id, sizeof client_id, "%s", cfg->mqtt_client_id);
    } else {
        char hn[64] = "";
        if (gethostname(hn, sizeof hn) != 0)
            hn[0] = 0;
        hn[sizeof hn - 1] = 0;
        snprintf(client_id, sizeof client_id, "mashaer-%.40s-%ld", hn[0] ? hn : "host", (long)getpid());
    }
    m->mosq = mosquitto_new(client_id, !persistent, m);
    if (!m->mosq) {
        rc = msh_err_set(err, errno == EINVAL ? MSH_EINVAL : MSH_ENOMEM, "cannot make an MQTT client: %s",
                         strerror(errno));
        goto out;
    }
    /* calls come from two threads (ours, and msh_mqtt_stop's disconnect): queue and wake, never write inline */
    mosquitto_threaded_set(m->mosq, true);
    mosquitto_connect_callback_set(m->mosq, on_connect);
    mosquitto_subscribe_callback_set(m->mosq, on_subscribe);
    mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
    mosquitto_message_callback_set(m->mosq, on_message);
    mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1); /* results are small and should not wait */
    if (cfg->mqtt_user) {
        int mrc = mosquitto_username_pw_set(m->mosq, cfg->mqtt_user, password[0] ? password : NULL);
        if (mrc) {
            rc = msh_err_set(err, MSH_EINVAL, "MQTT user or password not usable: %s", mosquitto_strerror(mrc));
            goto out;
        }
    }
    /* The network thread takes no process signals: SIGINT/SIGTERM stay with the main thread's
     * pause(), and a broken connection shows up as EPIPE, not SIGPIPE. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int trc = pthread_create(&m->thread, NULL, mqtt_main, m);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (trc) {
        rc = msh_err_set(err, MSH_EINTERNAL, "cannot start the MQTT thread: %s", strerror(trc));
        goto out;
    }
    m->thread_started = true;
out:
    explicit_bzero(password, sizeof password); /* libmosquitto keeps its own copy */
    if (rc) {
        msh_mqtt_stop(*out);
        *out = NULL;
    }
    return rc;
}

void msh_mqtt_stop(msh_mqtt *m)
{
    if (!m)
        return;
    atomic_store(&m->stopping, true);
    if (m->thread_started) {
        /* The disconnect says DISCONNECT when connected and so ends the connection; the thread
         * then sees `stop` and ends. The join also waits for a batch being ingested. */
        pthread_mutex_lock(&m->lock);
        m->stop = true;
        mosquitto_disconnect(m->mosq);
        pthread_cond_signal(&m->wake);
        pthread_mutex_unlock(&m->lock);
        pthread_join(m->thread, NULL);
        msh_mqtt_stats st;
        msh_mqtt_get_stats(m, &st);
        fprintf(stderr,
                "mashaer: mqtt stopped: %llu messages, %llu batches ingested, dropped %llu for an unknown feed, "
                "%llu oversize, %llu retained; %llu failed\n",
                (unsigned long long)st.messages, (unsigned long long)st.batches, (unsigned long long)st.unknown_feed,
                (unsigned long long)st.oversize, (unsigned long long)st.retained, (unsigned long long)st.failed);
    }
    if (m->mosq)
        mosquitto_destroy(m->mosq);
    if (m->lib_init)
        mosquitto_lib_cleanup();
    for (size_t i = 0; i < m->nnoted; i++)
        free(m->noted[i]);
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void msh_mqtt_get_stats(const msh_mqtt *m, msh_mqtt_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!m)
        return;
    out->messages = atomic_load(&m->messages);
    out->batches = atomic_load(&m->batches);
    out->unknown_feed = atomic_load(&m->unknown_feed);
    out->oversize = atomic_load(&m->oversize);
    out->retained = atomic_load(&m->retained);
    out->failed = atomic_load(&m->failed);
    out->connects = atomic_load(&m->connects);
    out->connected = atomic_load(&m->connected);
}
