/* simulate_send.c: the HTTP sender of `mashaer simulate`: libcurl transfers, the answers, the backoff. */
/*
 * A libcurl multi handle keeps up to --connections keep-alive connections busy while the next batch
 * is made. Positions that fail are dropped (the next report supersedes them); gate counts and
 * incident changes are kept and sent again (they are deltas and history). A connection error or a
 * 5xx/429 pauses sending with an exponential backoff (0.5 s doubling to 30 s) while the model keeps
 * its clock; 401/403 stop.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/simulate.h"

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
    double now = msh_simulate_now();
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
            fprintf(stderr, "mashaer simulate: /feeds/%s answered 200 without {\"accepted\":N,...}\n",
                    msh_simulate_feed[x->feed]);
        json_decref(j);
        return;
    }
    c->st.accepted += (uint64_t)json_integer_value(acc);
    uint64_t nrej = json_is_integer(tot) ? (uint64_t)json_integer_value(tot) : json_is_array(rej) ? json_array_size(rej) : 0;
    c->st.rejected += nrej;
    for (size_t i = 0; json_is_array(rej) && i < json_array_size(rej) && c->shown_rejections < MAX_SHOWN_REJECTIONS; i++) {
        json_t *r = json_array_get(rej, i);
        fprintf(stderr, "mashaer simulate: /feeds/%s rejected line %lld: %s\n", msh_simulate_feed[x->feed],
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
    if (msh_simulate_keep[f] && x->body.len + c->pending[f].len <= PENDING_LIMIT) {
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

/* A 200: the server is up again, the records are sent; count what it took. */
static void accepted(sim_cmd *c, xfer *x)
{
    if (c->down)
        fprintf(stderr, "mashaer simulate: the server answers again\n");
    c->down = 0;
    c->backoff = 0;
    c->st.sent += x->records;
    c->st.by_feed[x->feed] += x->records;
    count_response(c, x);
}

/* An answer other than 200: stop, stop the feed, halve the batch, back off, or drop. */
static void refused(sim_cmd *c, xfer *x, long status)
{
    char msg[300];
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
                msh_simulate_feed[x->feed], msg);
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
            fprintf(stderr, "mashaer simulate: /feeds/%s answered HTTP %ld: %s\n", msh_simulate_feed[x->feed], status,
                    msg);
        c->st.dropped += x->records;
    }
}

static void finish(sim_cmd *c, xfer *x, CURLcode res)
{
    long status = 0;
    c->inflight[x->feed] = 0;
    if (res != CURLE_OK) {
        char msg[300];
        c->st.conn_errors++;
        snprintf(msg, sizeof msg, "cannot reach %s: %s", c->url, curl_easy_strerror(res));
        go_down(c, msg);
        give_back(c, x);
    } else {
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
        if (status == 200)
            accepted(c, x);
        else
            refused(c, x, status);
    }
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

void msh_simulate_pump(sim_cmd *c, double wait)
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

xfer *msh_simulate_free_xfer(sim_cmd *c)
{
    for (;;) {
        for (uint32_t i = 0; i < c->nx; i++)
            if (!c->x[i].busy)
                return &c->x[i];
        if (msh_simulate_stop || c->fatal)
            return NULL;
        msh_simulate_pump(c, 0.1);
    }
}

void msh_simulate_start(sim_cmd *c, xfer *x, int feed, uint64_t records)
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

/* ---------------------------------------------------------------- set-up and tear-down */

/* URL/feeds/{feed} for every feed, and the request headers; -1 when out of memory. */
static int make_requests(sim_cmd *c)
{
    size_t ulen = strlen(c->url);
    while (ulen && c->url[ulen - 1] == '/')
        ulen--;
    for (int f = 0; f < F_N; f++) {
        size_t n = ulen + 32;
        c->urls[f] = malloc(n);
        if (!c->urls[f])
            return -1;
        snprintf(c->urls[f], n, "%.*s/feeds/%s", (int)ulen, c->url, msh_simulate_feed[f]);
    }
    size_t hn = strlen(c->token) + 32;
    char *auth = malloc(hn);
    if (!auth)
        return -1;
    snprintf(auth, hn, "Authorization: Bearer %s", c->token);
    c->hdrs = curl_slist_append(c->hdrs, auth);
    free(auth);
    c->hdrs = curl_slist_append(c->hdrs, "Content-Type: application/x-ndjson");
    c->hdrs = curl_slist_append(c->hdrs, "Expect:"); /* no 100-continue round trip */
    return c->hdrs ? 0 : -1;
}

static int make_xfer(sim_cmd *c, xfer *x)
{
    msh_buf_init(&x->body, PENDING_LIMIT + (size_t)c->batch * RECORD_MAX);
    msh_buf_init(&x->resp, RESP_LIMIT);
    if (!(x->h = curl_easy_init()))
        return -1;
    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, c->hdrs);
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
    return 0;
}

int msh_simulate_send_open(sim_cmd *c)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        fprintf(stderr, "mashaer simulate: libcurl would not start\n");
        return -1;
    }
    c->curl_up = 1;
    if (make_requests(c))
        goto nomem;
    c->multi = curl_multi_init();
    /* one transfer per connection, plus one so the small feeds never wait behind positions */
    c->nx = c->connections + 1;
    c->x = calloc(c->nx, sizeof *c->x);
    if (!c->multi || !c->x)
        goto nomem;
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->nx);
    for (uint32_t i = 0; i < c->nx; i++)
        if (make_xfer(c, &c->x[i]))
            goto nomem;
    return 0;
nomem:
    fprintf(stderr, "mashaer simulate: out of memory\n");
    return -1;
}

void msh_simulate_send_drain(sim_cmd *c)
{
    double until = msh_simulate_now() + 5;
    for (;;) {
        int busy = 0;
        for (uint32_t i = 0; i < c->nx; i++)
            busy |= c->x[i].busy;
        if (!busy || msh_simulate_stop > 1 || msh_simulate_now() > until)
            break;
        msh_simulate_pump(c, 0.1);
    }
}

void msh_simulate_send_close(sim_cmd *c)
{
    if (c->x) {
        for (uint32_t i = 0; i < c->nx; i++) {
            if (c->x[i].h) {
                if (c->x[i].busy)
                    curl_multi_remove_handle(c->multi, c->x[i].h);
                curl_easy_cleanup(c->x[i].h);
            }
            msh_buf_free(&c->x[i].body);
            msh_buf_free(&c->x[i].resp);
        }
        free(c->x);
        c->x = NULL;
    }
    if (c->multi)
        curl_multi_cleanup(c->multi);
    c->multi = NULL;
    curl_slist_free_all(c->hdrs);
    c->hdrs = NULL;
    for (int f = 0; f < F_N; f++) {
        free(c->urls[f]);
        c->urls[f] = NULL;
    }
    if (c->curl_up)
        curl_global_cleanup();
    c->curl_up = 0;
}
