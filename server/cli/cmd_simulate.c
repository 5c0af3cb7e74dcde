/* cmd_simulate.c: `mashaer simulate`: drive the live feeds of a server with the crowd model of
 * importers/sim (or write the records to stdout with --dry-run).
 *
 * One thread does everything: it steps the model once a tick, writes each batch straight into
 * the body buffer of a free transfer and hands it to a libcurl multi handle, which keeps up to
 * --connections keep-alive connections busy while the next batch is made. Positions that fail
 * are dropped (the next report supersedes them); gate counts and incident changes are kept and
 * sent again (they are deltas and history). A connection error or a 5xx/429 pauses sending with
 * an exponential backoff (0.5 s doubling to 30 s) while the model keeps its clock; 401/403 stop.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/msh_time.h"
#include "sim.h"

#ifndef MSH_DEMO_DIR
#define MSH_DEMO_DIR "data/demo"
#endif

enum { F_POSITIONS, F_CREWS, F_GATES, F_SENSORS, F_INCIDENTS, F_N };
static const char *const k_feed[F_N] = {"positions", "crews", "gates", "sensors", "incidents"};
/* Kept and sent again after a failure: counts are deltas, incident changes are history. */
static const int k_keep[F_N] = {0, 0, 1, 0, 1};

#define RECORD_MAX 256              /* bytes a position record can take, with room to spare */
#define PENDING_LIMIT ((size_t)8 << 20)
#define RESP_LIMIT ((size_t)1 << 20)
#define MAX_SHOWN_REJECTIONS 5

/* Set by the signal handler, read by the loop: the one mutable global, as signals need. */
static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = g_stop ? 2 : 1;
}

typedef struct xfer {
    CURL *h;
    msh_buf body, resp;
    int feed;
    uint64_t records;
    int busy;
} xfer;

typedef struct stats {
    uint64_t generated, sent, accepted, rejected, http_errors, conn_errors, dropped;
    uint64_t by_feed[F_N];
} stats;

typedef struct sim_cmd {
    /* options */
    const char *url, *token;
    int dry_run, fast, quiet, stamp_sim;
    double rate, speedup, duration;
    uint32_t batch, tick_ms, connections;
    uint64_t ticks;
    int feed_on[F_N];
    /* state */
    msh_sim *sim;
    CURLM *multi;
    struct curl_slist *hdrs;
    char *urls[F_N];
    xfer *x;
    uint32_t nx;
    msh_buf pending[F_N];
    uint64_t pending_n[F_N];
    int inflight[F_N];
    double down_until, backoff;
    int down;
    int fatal, out_closed;
    int shown_rejections, shown_status[600];
    stats st, last;
    double t0, last_status;
} sim_cmd;

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "1,234,567" */
static const char *grouped(char *out, size_t cap, uint64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v), o = 0;
    for (int i = 0; i < n && o + 2 < (int)cap; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = tmp[i];
    }
    out[o] = 0;
    return out;
}

/* ---------------------------------------------------------------- parsing options */

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* --start: "2026-05-25T06:00:00Z" (seconds and zone optional: UTC), --day8: "2026-05-25" -> Unix ms. The
 * refusal names the option, the field and the form. */
static int parse_time(const char *opt, const char *s, bool date_only, int64_t *out)
{
    msh_err err;
    size_t n = strlen(s);
    if (date_only && n != 10)
        msh_err_set(&err, MSH_EINVAL, "a date alone expected (YYYY-MM-DD)");
    else if (!msh_time_parse(s, n, date_only ? MSH_TIME_DATE : MSH_TIME_SHORT, out, &err))
        return 0;
    fprintf(stderr, "mashaer simulate: %s takes %s, not '%.40s': %s\n", opt,
            date_only ? "a date like 2026-05-25" : "a UTC time like 2026-05-26T03:00:00Z", s, err.msg);
    return -1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: mashaer simulate --url URL --token TOKEN [options]\n"
            "       mashaer simulate --dry-run [options] > records.ndjson\n"
            "\n"
            "Play a Hajj crowd into a server's live feeds (POST URL/feeds/{feed}, docs/FEEDS.md): pilgrims in\n"
            "groups walk the walkway network and move between the sites on the schedule of 8-13 Dhul Hijjah\n"
            "(docs/HAJJ-FACTS.md) at a speed that falls with the local density (Weidmann); cleaning and\n"
            "emergency crews, gate counts, sensor readings and incidents come with them. The simulated clock\n"
            "runs --speedup times faster than the wall clock and starts over after the 13th.\n"
            "\n"
            "Options:\n"
            "  --url URL               the server (http://localhost:8080)\n"
            "  --token TOKEN           a token of role feed or higher (mashaer token add); or $MASHAER_TOKEN\n"
            "  --pilgrims N            pilgrims simulated (default 100000), in groups of 20-250\n"
            "  --rate R                position updates per second in all (default 20000): each pilgrim\n"
            "                          reports every N/R seconds\n"
            "  --batch N               records per POST (default 5000)\n"
            "  --tick-ms MS            one tick of the model and the feeds (default 1000)\n"
            "  --speedup X             simulated seconds per wall second (default 60: an hour a minute)\n"
            "  --start TIME            simulated start, UTC (default 2026-05-25T06:00:00Z, 09:00 on the 8th)\n"
            "  --day8 DATE             the date of 8 Dhul Hijjah (default 2026-05-25, for 1447 AH)\n"
            "  --seed N                random seed (default 1): the same seed plays the same crowd\n"
            "  --duration S            stop after S wall seconds (default 0: run until stopped)\n"
            "  --ticks N               stop after N ticks (default 0: no limit)\n"
            "  --crews N               cleaning and emergency teams (default 40)\n"
            "  --incidents-per-hour X  random incidents per simulated hour (default 6; crowding comes on top)\n"
            "  --feeds LIST            feeds to drive (default positions,crews,gates,sensors,incidents)\n"
            "  --stamp wall|sim        the records' time: the wall clock (default; the server refuses times\n"
            "                          more than 5 minutes ahead) or the simulated clock\n"
            "  --data DIR              sites, camps, assets, cleaning_routes, service_zones (default %s)\n"
            "  --walkways FILE         the walkway network (default DIR/walkways.geojson)\n"
            "  --connections N         concurrent keep-alive connections (default 2)\n"
            "  --run-id ID             tag for incident ids, unique per run (default: the start time)\n"
            "  --fast                  do not wait for the wall clock between ticks (benchmarks, tests)\n"
            "  --dry-run               write the NDJSON records to stdout instead of sending them\n"
            "  -q, --quiet             no status lines\n"
            "  -h, --help              this help\n"
            "\n"
            "A status line goes to stderr every 5 seconds. Ctrl-C (SIGINT) or SIGTERM stops cleanly.\n"
            "Exit status: 0 when stopped or done, 1 when the server refuses the token or the data cannot\n"
            "be loaded, 2 for bad usage.\n",
            MSH_DEMO_DIR);
}

/* ---------------------------------------------------------------- sending */

static size_t on_resp(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n;
    if (x->resp.len + len <= x->resp.limit)
        msh_buf_append(&x->resp, p, len); /* a longer answer is cut: only its start is read */
    return len;
}

static void go_down(sim_cmd *c, const char *why)
{
    double now = now_mono();
    if (c->down && now < c->down_until)
        return; /* already backing off: several transfers fail at once */
    c->backoff = c->backoff > 0 ? c->backoff * 2 : 0.5;
    if (c->backoff > 30)
        c->backoff = 30;
    c->down_until = now + c->backoff;
    if (!c->down || c->backoff >= 30)
        fprintf(stderr, "mashaer simulate: %s; retrying in %.1f s\n", why, c->backoff);
    c->down = 1;
}

static void count_response(sim_cmd *c, xfer *x)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)x->resp.data, x->resp.len, 0, &je);
    json_t *acc = j ? json_object_get(j, "accepted") : NULL;
    json_t *rej = j ? json_object_get(j, "rejected") : NULL;
    json_t *tot = j ? json_object_get(j, "rejected_total") : NULL;
    if (!json_is_integer(acc)) {
        if (!c->shown_status[200]++)
            fprintf(stderr, "mashaer simulate: /feeds/%s answered 200 without {\"accepted\":N,...}\n", k_feed[x->feed]);
        json_decref(j);
        return;
    }
    c->st.accepted += (uint64_t)json_integer_value(acc);
    uint64_t nrej = json_is_integer(tot) ? (uint64_t)json_integer_value(tot) : json_is_array(rej) ? json_array_size(rej) : 0;
    c->st.rejected += nrej;
    for (size_t i = 0; json_is_array(rej) && i < json_array_size(rej) && c->shown_rejections < MAX_SHOWN_REJECTIONS; i++) {
        json_t *r = json_array_get(rej, i);
        fprintf(stderr, "mashaer simulate: /feeds/%s rejected line %lld: %s\n", k_feed[x->feed],
                (long long)json_integer_value(json_object_get(r, "line")),
                json_string_value(json_object_get(r, "reason")) ? json_string_value(json_object_get(r, "reason"))
                                                                 : "?");
        if (++c->shown_rejections == MAX_SHOWN_REJECTIONS)
            fprintf(stderr, "mashaer simulate: (further rejections are only counted)\n");
    }
    json_decref(j);
}

/* The server's error message, from {"error":"..."} or the raw start of the body. */
static void error_text(const xfer *x, char *out, size_t cap)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)x->resp.data, x->resp.len, 0, &je);
    const char *m = j ? json_string_value(json_object_get(j, "error")) : NULL;
    if (m)
        snprintf(out, cap, "%s", m);
    else
        snprintf(out, cap, "%.*s", (int)(x->resp.len < 200 ? x->resp.len : 200), x->resp.data ? (char *)x->resp.data : "");
    json_decref(j);
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

/* A failed transfer: keep what must not be lost, drop the rest. */
static void give_back(sim_cmd *c, xfer *x)
{
    int f = x->feed;
    if (k_keep[f] && x->body.len + c->pending[f].len <= PENDING_LIMIT) {
        /* older records first: the body, then what was made meanwhile */
        if (!msh_buf_append(&x->body, c->pending[f].data, c->pending[f].len)) {
            msh_buf t = c->pending[f];
            c->pending[f] = x->body;
            x->body = t;
            c->pending_n[f] += x->records;
            msh_buf_reset(&x->body);
            return;
        }
    }
    c->st.dropped += x->records;
}

static void finish(sim_cmd *c, xfer *x, CURLcode res)
{
    long status = 0;
    char msg[300];
    c->inflight[x->feed] = 0;
    if (res != CURLE_OK) {
        c->st.conn_errors++;
        snprintf(msg, sizeof msg, "cannot reach %s: %s", c->url, curl_easy_strerror(res));
        go_down(c, msg);
        give_back(c, x);
        goto out;
    }
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200) {
        if (c->down)
            fprintf(stderr, "mashaer simulate: the server answers again\n");
        c->down = 0;
        c->backoff = 0;
        c->st.sent += x->records;
        c->st.by_feed[x->feed] += x->records;
        count_response(c, x);
        goto out;
    }
    c->st.http_errors++;
    error_text(x, msg, sizeof msg);
    if (status == 401 || status == 403) {
        if (!c->fatal)
            fprintf(stderr,
                "mashaer simulate: the server refused the token (HTTP %ld: %s).\n"
                "  Give a token of role feed or higher: mashaer token add --db FILE --role feed --name simulator\n",
                status, msg);
        c->fatal = 1;
        c->st.dropped += x->records;
    } else if (status == 404) {
        fprintf(stderr, "mashaer simulate: the server has no /feeds/%s (HTTP 404: %s): not sending it any more\n",
                k_feed[x->feed], msg);
        c->feed_on[x->feed] = 0;
        c->st.dropped += x->records;
        if (x->feed == F_POSITIONS)
            c->fatal = 1;
    } else if (status == 413 && x->feed == F_POSITIONS && c->batch > 100) {
        c->batch /= 2;
        fprintf(stderr, "mashaer simulate: batch too large for the server (HTTP 413): --batch now %u\n", c->batch);
        c->st.dropped += x->records;
    } else if (status == 429 || status >= 500) {
        char why[400];
        snprintf(why, sizeof why, "the server answered HTTP %ld (%s)", status, msg);
        go_down(c, why);
        give_back(c, x);
    } else {
        if (status >= 0 && status < 600 && !c->shown_status[status]++)
            fprintf(stderr, "mashaer simulate: /feeds/%s answered HTTP %ld: %s\n", k_feed[x->feed], status, msg);
        c->st.dropped += x->records;
    }
out:
    curl_multi_remove_handle(c->multi, x->h);
    msh_buf_reset(&x->body);
    msh_buf_reset(&x->resp);
    x->records = 0;
    x->busy = 0;
}

static void collect(sim_cmd *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        xfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x)
            finish(c, x, m->data.result);
    }
}

/* Let libcurl work for up to `wait` seconds (0: just what is ready). */
static void pump(sim_cmd *c, double wait)
{
    int running;
    curl_multi_perform(c->multi, &running);
    collect(c);
    if (wait > 0 && running) {
        curl_multi_poll(c->multi, NULL, 0, (int)(wait * 1000) + 1, NULL);
        curl_multi_perform(c->multi, &running);
        collect(c);
    } else if (wait > 0) {
        struct timespec ts = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* A transfer with no request in flight; waits for one (NULL when stopping). */
static xfer *free_xfer(sim_cmd *c)
{
    for (;;) {
        for (uint32_t i = 0; i < c->nx; i++)
            if (!c->x[i].busy)
                return &c->x[i];
        if (g_stop || c->fatal)
            return NULL;
        pump(c, 0.1);
    }
}

static void start(sim_cmd *c, xfer *x, int feed, uint64_t records)
{
    x->feed = feed;
    x->records = records;
    x->busy = 1;
    c->inflight[feed] = 1;
    curl_easy_setopt(x->h, CURLOPT_URL, c->urls[feed]);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, (char *)x->body.data);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body.len);
    curl_multi_add_handle(c->multi, x->h);
}

/* -1 when stdout is gone; a reader that closed the pipe (| head) is a normal end, not an error. */
static int out_write(sim_cmd *c, const msh_buf *b)
{
    if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len) {
        if (errno == EPIPE)
            c->out_closed = 1;
        else if (!g_stop)
            fprintf(stderr, "mashaer simulate: cannot write to stdout: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- one tick */

static msh_rc emit_small(sim_cmd *c, int f, msh_buf *b, uint32_t *n, msh_err *err)
{
    switch (f) {
    case F_CREWS: return msh_sim_emit_crews(c->sim, b, n, err);
    case F_GATES: return msh_sim_emit_gates(c->sim, b, n, err);
    case F_SENSORS: return msh_sim_emit_sensors(c->sim, b, n, err);
    default: return msh_sim_emit_incidents(c->sim, b, n, err);
    }
}

static int tick(sim_cmd *c, msh_sim_pacer *pacer, msh_buf *dry)
{
    msh_err err;
    int64_t stamp = c->stamp_sim ? msh_sim_time_ms(c->sim) : msh_now_ms();
    msh_sim_set_stamp(c->sim, stamp);
    int sending = !c->dry_run && !(c->down && now_mono() < c->down_until);

    /* the small feeds first: incidents and gates before the flood of positions */
    static const int order[] = {F_INCIDENTS, F_GATES, F_CREWS, F_SENSORS};
    for (int k = 0; k < 4; k++) {
        int f = order[k];
        uint32_t n = 0;
        msh_buf *b = c->dry_run ? dry : &c->pending[f];
        if (c->dry_run)
            msh_buf_reset(dry);
        if (!c->feed_on[f])
            continue;
        if (emit_small(c, f, b, &n, &err)) {
            if (err.code != MSH_ETOOBIG) {
                fprintf(stderr, "mashaer simulate: %s\n", err.msg);
                return -1;
            }
            c->st.dropped += c->pending_n[f]; /* the server has been away too long: start afresh */
            msh_buf_reset(&c->pending[f]);
            c->pending_n[f] = 0;
            continue;
        }
        c->st.generated += n;
        if (c->dry_run) {
            c->st.sent += n;
            c->st.by_feed[f] += n;
            if (out_write(c, dry))
                return -1;
            continue;
        }
        c->pending_n[f] += n;
        if (!k_keep[f] && !sending) { /* stale by the next tick anyway */
            c->st.dropped += c->pending_n[f];
            msh_buf_reset(&c->pending[f]);
            c->pending_n[f] = 0;
        }
        if (!sending || c->inflight[f] || !c->pending[f].len)
            continue;
        xfer *x = free_xfer(c);
        if (!x)
            return 0;
        msh_buf t = x->body;
        x->body = c->pending[f];
        c->pending[f] = t;
        msh_buf_reset(&c->pending[f]);
        start(c, x, f, c->pending_n[f]);
        c->pending_n[f] = 0;
    }

    uint64_t quota = msh_sim_pacer_next(pacer);
    if (!c->feed_on[F_POSITIONS])
        return 0;
    if (!c->dry_run && !sending) {
        c->st.dropped += quota;
        return 0;
    }
    while (quota && !g_stop && !c->fatal) {
        uint32_t n = quota < c->batch ? (uint32_t)quota : c->batch, w;
        msh_buf *b = dry;
        xfer *x = NULL;
        if (!c->dry_run) {
            if (c->down && now_mono() < c->down_until) { /* went down during this tick */
                c->st.dropped += quota;
                break;
            }
            if (!(x = free_xfer(c)))
                break;
            b = &x->body;
        }
        msh_buf_reset(b);
        if (msh_sim_emit_positions(c->sim, n, b, &w, &err)) {
            fprintf(stderr, "mashaer simulate: %s\n", err.msg);
            return -1;
        }
        c->st.generated += w;
        quota -= w;
        if (c->dry_run) {
            c->st.sent += w;
            c->st.by_feed[F_POSITIONS] += w;
            if (out_write(c, dry))
                return -1;
        } else {
            start(c, x, F_POSITIONS, w);
            pump(c, 0);
        }
    }
    return 0;
}

static void status_line(sim_cmd *c, int final)
{
    double now = now_mono();
    msh_sim_stats ss;
    msh_sim_get_stats(c->sim, &ss);
    char line[1024], a[32], b[32], d[32];
    msh_time_parts lt; /* Makkah, UTC+3 */
    msh_time_split(ss.time_ms + 3 * 3600 * 1000LL, &lt);
    int n = snprintf(line, sizeof line, "%s %04d-%02d-%02d %02d:%02d Makkah |", final ? "done:" : "sim", lt.year,
                     lt.month, lt.day, lt.hour, lt.minute);
    for (int p = 0; p < MSH_SIM_NPHASES && n < (int)sizeof line - 64; p++)
        if (ss.in_phase[p])
            n += snprintf(line + n, sizeof line - (size_t)n, " %s %s", msh_sim_phase_name(p),
                          grouped(a, sizeof a, ss.in_phase[p]));
    double span = final ? now - c->t0 : now - c->last_status;
    uint64_t dsent = final ? c->st.sent : c->st.sent - c->last.sent;
    snprintf(line + n, sizeof line - (size_t)n,
             " | %s %s (%s/s) accepted %s rejected %llu | http errors %llu, connection errors %llu, dropped %llu |"
             " incidents open %u, max density %.1f/m2",
             c->dry_run ? "written" : "sent", grouped(a, sizeof a, c->st.sent),
             grouped(b, sizeof b, span > 0 ? (uint64_t)(dsent / span) : 0),
             c->dry_run ? "-" : grouped(d, sizeof d, c->st.accepted), (unsigned long long)c->st.rejected,
             (unsigned long long)c->st.http_errors, (unsigned long long)c->st.conn_errors,
             (unsigned long long)c->st.dropped, ss.incidents_open, ss.max_density);
    fprintf(stderr, "%s\n", line);
    c->last = c->st;
    c->last_status = now;
}

static void on_note(void *ud, const char *msg)
{
    if (!*(int *)ud)
        fprintf(stderr, "  note: %s\n", msg);
}

/* ---------------------------------------------------------------- the command */

int msh_cmd_simulate(int argc, char **argv)
{
    enum {
        O_URL = 256, O_TOKEN, O_PILGRIMS, O_RATE, O_BATCH, O_TICK, O_SPEEDUP, O_START, O_DAY8, O_SEED, O_DURATION,
        O_TICKS, O_CREWS, O_INCIDENTS, O_FEEDS, O_STAMP, O_DATA, O_WALKWAYS, O_CONNECTIONS, O_RUNID, O_FAST, O_DRY
    };
    static const struct option opts[] = {
        {"url", required_argument, 0, O_URL},           {"token", required_argument, 0, O_TOKEN},
        {"pilgrims", required_argument, 0, O_PILGRIMS}, {"rate", required_argument, 0, O_RATE},
        {"batch", required_argument, 0, O_BATCH},       {"tick-ms", required_argument, 0, O_TICK},
        {"speedup", required_argument, 0, O_SPEEDUP},   {"start", required_argument, 0, O_START},
        {"day8", required_argument, 0, O_DAY8},         {"seed", required_argument, 0, O_SEED},
        {"duration", required_argument, 0, O_DURATION}, {"ticks", required_argument, 0, O_TICKS},
        {"crews", required_argument, 0, O_CREWS},       {"incidents-per-hour", required_argument, 0, O_INCIDENTS},
        {"feeds", required_argument, 0, O_FEEDS},       {"stamp", required_argument, 0, O_STAMP},
        {"data", required_argument, 0, O_DATA},         {"walkways", required_argument, 0, O_WALKWAYS},
        {"connections", required_argument, 0, O_CONNECTIONS}, {"run-id", required_argument, 0, O_RUNID},
        {"fast", no_argument, 0, O_FAST},               {"dry-run", no_argument, 0, O_DRY},
        {"quiet", no_argument, 0, 'q'},                 {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    sim_cmd c;
    memset(&c, 0, sizeof c);
    c.rate = 20000;
    c.batch = 5000;
    c.tick_ms = 1000;
    c.speedup = 60;
    c.connections = 2;
    for (int f = 0; f < F_N; f++)
        c.feed_on[f] = 1;
    msh_sim_opts so;
    msh_sim_opts_init(&so);
    so.data_dir = MSH_DEMO_DIR;
    char run_id[32];
    snprintf(run_id, sizeof run_id, "%llx", (unsigned long long)(msh_now_ms() / 1000));
    so.run_id = run_id;
    int64_t day8 = 0;
    int have_day8 = 0, have_start = 0;
    int optc, rc = 1, curl_up = 0;
    optind = 1;
    while ((optc = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (optc) {
        case O_URL: c.url = optarg; break;
        case O_TOKEN: c.token = optarg; break;
        case O_PILGRIMS:
            if (parse_u32(optarg, 1, 50000000, &so.pilgrims))
                goto bad_num;
            break;
        case O_RATE:
            if (parse_double(optarg, 0, 1e8, &c.rate))
                goto bad_num;
            break;
        case O_BATCH:
            if (parse_u32(optarg, 1, 50000, &c.batch))
                goto bad_num;
            break;
        case O_TICK:
            if (parse_u32(optarg, 10, 3600000, &c.tick_ms))
                goto bad_num;
            break;
        case O_SPEEDUP:
            if (parse_double(optarg, 0.001, 100000, &c.speedup))
                goto bad_num;
            break;
        case O_START:
            if (parse_time("--start", optarg, false, &so.start_ms))
                return 2;
            have_start = 1;
            break;
        case O_DAY8:
            if (parse_time("--day8", optarg, true, &day8))
                return 2;
            have_day8 = 1;
            break;
        case O_SEED: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-')
                goto bad_num;
            so.seed = v;
            break;
        }
        case O_DURATION:
            if (parse_double(optarg, 0, 1e9, &c.duration))
                goto bad_num;
            break;
        case O_TICKS: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-')
                goto bad_num;
            c.ticks = v;
            break;
        }
        case O_CREWS:
            if (parse_u32(optarg, 0, 10000, &so.crews))
                goto bad_num;
            break;
        case O_INCIDENTS:
            if (parse_double(optarg, 0, 100000, &so.incidents_per_hour))
                goto bad_num;
            break;
        case O_FEEDS: {
            for (int f = 0; f < F_N; f++)
                c.feed_on[f] = 0;
            const char *p = optarg;
            while (*p) {
                size_t n = strcspn(p, ",");
                int found = 0;
                for (int f = 0; f < F_N; f++)
                    if (n == strlen(k_feed[f]) && !strncmp(p, k_feed[f], n))
                        c.feed_on[f] = found = 1;
                if (!found) {
                    fprintf(stderr, "mashaer simulate: --feeds: unknown feed '%.*s' (positions, crews, gates, "
                                    "sensors, incidents)\n", (int)n, p);
                    return 2;
                }
                p += n;
                if (*p == ',')
                    p++;
            }
            break;
        }
        case O_STAMP:
            if (!strcmp(optarg, "sim"))
                c.stamp_sim = 1;
            else if (strcmp(optarg, "wall")) {
                fprintf(stderr, "mashaer simulate: --stamp is wall or sim\n");
                return 2;
            }
            break;
        case O_DATA: so.data_dir = optarg; break;
        case O_WALKWAYS: so.walkways = optarg; break;
        case O_CONNECTIONS:
            if (parse_u32(optarg, 1, 64, &c.connections))
                goto bad_num;
            break;
        case O_RUNID: so.run_id = optarg; break;
        case O_FAST: c.fast = 1; break;
        case O_DRY: c.dry_run = 1; break;
        case 'q': c.quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        continue;
    bad_num:
        for (const struct option *o = opts; o->name; o++)
            if (o->val == optc) {
                fprintf(stderr, "mashaer simulate: --%s: '%s' is not a valid value (see --help)\n", o->name, optarg);
                break;
            }
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "mashaer simulate: unexpected argument '%s'\n\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!c.token)
        c.token = getenv("MASHAER_TOKEN");
    if (!c.dry_run && (!c.url || !c.token || !*c.token)) {
        fprintf(stderr, "mashaer simulate: %s\n\n",
                !c.url ? "--url URL is required (or --dry-run)" : "--token TOKEN (or $MASHAER_TOKEN) is required");
        usage(stderr);
        return 2;
    }
    if (!c.dry_run && strncmp(c.url, "http://", 7) && strncmp(c.url, "https://", 8)) {
        fprintf(stderr, "mashaer simulate: --url must start with http:// or https://\n");
        return 2;
    }
    if (c.token && strpbrk(c.token, "\r\n")) {
        fprintf(stderr, "mashaer simulate: the token holds a line break\n");
        return 2;
    }
    if (have_day8) {
        so.day8_ms = day8 - 3 * 3600 * 1000LL; /* 00:00 in Makkah */
        if (!have_start)
            so.start_ms = so.day8_ms + 9 * 3600 * 1000LL; /* 09:00 on the 8th, as the default */
    }
    if (c.batch * (size_t)RECORD_MAX > ((size_t)16 << 20))
        fprintf(stderr, "mashaer simulate: note: --batch %u makes bodies near the server's default 16 MB limit\n",
                c.batch);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_stop = 0;

    msh_buf dry;
    msh_buf_init(&dry, (size_t)c.batch * RECORD_MAX + ((size_t)8 << 20));
    for (int f = 0; f < F_N; f++)
        msh_buf_init(&c.pending[f], PENDING_LIMIT);
    so.note = on_note;
    so.ud = &c.quiet;
    msh_err err;
    double t_load = now_mono();
    if (msh_sim_create(&so, &c.sim, &err)) {
        fprintf(stderr, "mashaer simulate: %s\n", err.msg);
        goto out;
    }
    if (!c.quiet) {
        msh_sim_stats ss;
        msh_sim_get_stats(c.sim, &ss);
        fprintf(stderr,
                "mashaer simulate: %u pilgrims in %llu groups, %u crews, walkway graph %u nodes, %u camps, %u gates, "
                "%u sensors (%.1f s); %s %.0f positions/s, %.0fx time\n",
                so.pilgrims, (unsigned long long)ss.groups, so.crews, ss.net_nodes, ss.camps, ss.gates, ss.sensors,
                now_mono() - t_load, c.dry_run ? "writing" : "sending", c.rate, c.speedup);
    }

    if (!c.dry_run) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
            fprintf(stderr, "mashaer simulate: libcurl would not start\n");
            goto out;
        }
        curl_up = 1;
        size_t ulen = strlen(c.url);
        while (ulen && c.url[ulen - 1] == '/')
            ulen--;
        for (int f = 0; f < F_N; f++) {
            size_t n = ulen + 32;
            c.urls[f] = malloc(n);
            if (!c.urls[f])
                goto nomem;
            snprintf(c.urls[f], n, "%.*s/feeds/%s", (int)ulen, c.url, k_feed[f]);
        }
        size_t hn = strlen(c.token) + 32;
        char *auth = malloc(hn);
        if (!auth)
            goto nomem;
        snprintf(auth, hn, "Authorization: Bearer %s", c.token);
        c.hdrs = curl_slist_append(c.hdrs, auth);
        free(auth);
        c.hdrs = curl_slist_append(c.hdrs, "Content-Type: application/x-ndjson");
        c.hdrs = curl_slist_append(c.hdrs, "Expect:"); /* no 100-continue round trip */
        c.multi = curl_multi_init();
        /* one transfer per connection, plus one so the small feeds never wait behind positions */
        c.nx = c.connections + 1;
        c.x = calloc(c.nx, sizeof *c.x);
        if (!c.hdrs || !c.multi || !c.x)
            goto nomem;
        curl_multi_setopt(c.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c.nx);
        for (uint32_t i = 0; i < c.nx; i++) {
            xfer *x = &c.x[i];
            msh_buf_init(&x->body, PENDING_LIMIT + (size_t)c.batch * RECORD_MAX);
            msh_buf_init(&x->resp, RESP_LIMIT);
            if (!(x->h = curl_easy_init()))
                goto nomem;
            curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, c.hdrs);
            curl_easy_setopt(x->h, CURLOPT_POST, 1L);
            curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_resp);
            curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
            curl_easy_setopt(x->h, CURLOPT_PRIVATE, (char *)x);
            curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(x->h, CURLOPT_TCP_KEEPALIVE, 1L);
            curl_easy_setopt(x->h, CURLOPT_TCP_NODELAY, 1L);
            curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
            curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, 60000L);
            curl_easy_setopt(x->h, CURLOPT_USERAGENT, "mashaer-simulate/" MSH_VERSION);
        }
    }

    msh_sim_pacer pacer;
    msh_sim_pacer_init(&pacer, c.rate, c.tick_ms);
    double tick_s = c.tick_ms / 1000.0;
    c.t0 = c.last_status = now_mono();
    rc = 0;
    for (uint64_t k = 0; !g_stop && !c.fatal; k++) {
        if (c.ticks && k >= c.ticks)
            break;
        if (c.duration > 0 && now_mono() - c.t0 >= c.duration)
            break;
        if (msh_sim_step(c.sim, tick_s * c.speedup, &err)) {
            fprintf(stderr, "mashaer simulate: %s\n", err.msg);
            rc = 1;
            break;
        }
        if (tick(&c, &pacer, &dry)) {
            rc = c.out_closed || g_stop ? 0 : 1;
            break;
        }
        if (c.dry_run && fflush(stdout) && errno == EPIPE)
            break;
        /* wait for the next tick, letting the transfers run */
        double deadline = c.t0 + (double)(k + 1) * tick_s;
        do {
            double now = now_mono(), left = deadline - now;
            if (c.duration > 0 && now - c.t0 >= c.duration)
                break;
            if (!c.quiet && now - c.last_status >= 5)
                status_line(&c, 0);
            if (c.fast || left <= 0) {
                if (!c.dry_run)
                    pump(&c, 0);
                break;
            }
            if (c.dry_run) {
                double w = left < 0.2 ? left : 0.2;
                struct timespec ts = {(time_t)w, (long)((w - (time_t)w) * 1e9)};
                nanosleep(&ts, NULL);
            } else {
                pump(&c, left < 0.2 ? left : 0.2);
            }
        } while (!g_stop && !c.fatal);
    }
    if (c.fatal)
        rc = 1;
    /* let what is in flight land (a second Ctrl-C cuts this short) */
    if (!c.dry_run) {
        double until = now_mono() + 5;
        for (;;) {
            int busy = 0;
            for (uint32_t i = 0; i < c.nx; i++)
                busy |= c.x[i].busy;
            if (!busy || g_stop > 1 || now_mono() > until)
                break;
            pump(&c, 0.1);
        }
    }
    if (!c.quiet)
        status_line(&c, 1);
    goto out;
nomem:
    fprintf(stderr, "mashaer simulate: out of memory\n");
    rc = 1;
out:
    if (c.x) {
        for (uint32_t i = 0; i < c.nx; i++) {
            if (c.x[i].h) {
                if (c.x[i].busy)
                    curl_multi_remove_handle(c.multi, c.x[i].h);
                curl_easy_cleanup(c.x[i].h);
            }
            msh_buf_free(&c.x[i].body);
            msh_buf_free(&c.x[i].resp);
        }
        free(c.x);
    }
    if (c.multi)
        curl_multi_cleanup(c.multi);
    curl_slist_free_all(c.hdrs);
    for (int f = 0; f < F_N; f++) {
        free(c.urls[f]);
        msh_buf_free(&c.pending[f]);
    }
    msh_buf_free(&dry);
    msh_sim_destroy(c.sim);
    if (curl_up)
        curl_global_cleanup();
    return rc;
}
