/* client_limits.c: the per-client table (see client_limits.h).
 *
 * Design: a chained hash table of malloc'ed entries under one mutex, seeded at random so a client
 * cannot choose keys that share a chain. Buckets are refilled lazily from the time of their last
 * use; nothing runs in the background. The report walks the table once per interval (at most
 * MSH_CLIENTS_MAX entries): it finds the worst client of each count, resets the counts and drops
 * entries that hold nothing open and were idle a minute (a full bucket is what a new entry has,
 * so dropping them changes no answer).
 */
#include "http/client_limits.h"

#include "core/msh_buf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#define NCHAINS 16384
#define IDLE_DROP_S 60.0
#define MAX_TRUSTED 8

typedef struct entry {
    struct entry *next;
    msh_client_key key;
    int conns, sse;
    double rate_tokens, rate_t; /* request bucket: tokens at time rate_t */
    double fail_tokens, fail_t; /* failed-token bucket */
    double last_seen;
    uint32_t counts[MSH_CL_NCOUNTS]; /* this interval */
} entry;

struct msh_climits {
    pthread_mutex_t mu;
    msh_client_limits_cfg cfg;
    msh_client_key trusted[MAX_TRUSTED];
    int ntrusted;
    uint64_t seed;
    entry *chains[NCHAINS];
    size_t nentries;
    entry overflow; /* every client past MSH_CLIENTS_MAX */
    int sse_open;
    uint64_t totals[MSH_CL_NCOUNTS];
};

void msh_client_limits_defaults(msh_client_limits_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_conn_per_client = 128;
    cfg->rate_per_client = 1000; /* a map opening a screen of tiles, or a control room behind one NAT address */
    cfg->rate_per_token = 2000;
    cfg->max_sse_per_client = 32;
    cfg->max_sse = 1024;
    cfg->header_timeout_s = 10;
    cfg->auth_fail_per_min = 10;
    cfg->log_interval_s = 10;
    cfg->trusted_proxy = NULL;
}

static void key_from_in6(const struct in6_addr *a, msh_client_key *k)
{
    if (IN6_IS_ADDR_V4MAPPED(a)) {
        k->b[0] = 4;
        memcpy(k->b + 1, a->s6_addr + 12, 4);
    } else {
        k->b[0] = 6;
        memcpy(k->b + 1, a->s6_addr, 16);
    }
}

int msh_client_key_from_sockaddr(const struct sockaddr *sa, msh_client_key *k)
{
    memset(k, 0, sizeof *k);
    if (!sa)
        return -1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        k->b[0] = 4;
        memcpy(k->b + 1, &s4->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        key_from_in6(&s6->sin6_addr, k);
        return 0;
    }
    return -1;
}

int msh_client_key_parse(const char *text, size_t len, msh_client_key *k)
{
    memset(k, 0, sizeof *k);
    while (len && (*text == ' ' || *text == '\t'))
        text++, len--;
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    char buf[INET6_ADDRSTRLEN + 1];
    if (len == 0 || len >= sizeof buf || memchr(text, 0, len))
        return -1;
    memcpy(buf, text, len);
    buf[len] = 0;
    struct in6_addr a6;
    if (inet_pton(AF_INET, buf, k->b + 1) == 1) {
        k->b[0] = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, &a6) == 1) {
        key_from_in6(&a6, k);
        return 0;
    }
    memset(k, 0, sizeof *k);
    return -1;
}

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void msh_client_key_token(const char *tok, size_t len, msh_client_key *k)
{
    memset(k, 0, sizeof *k);
    k->b[0] = 'T';
    uint64_t a = fnv(tok, len, 0xcbf29ce484222325ull), b = fnv(tok, len, 0x84222325cbf29ce4ull ^ len);
    memcpy(k->b + 1, &a, 8);
    memcpy(k->b + 9, &b, 8);
}

int msh_client_key_from_xff(const char *v, msh_client_key *k)
{
    memset(k, 0, sizeof *k);
    if (!v)
        return -1;
    const char *last = strrchr(v, ',');
    last = last ? last + 1 : v;
    return msh_client_key_parse(last, strlen(last), k);
}

void msh_client_key_format(const msh_client_key *k, char *out, size_t cap)
{
    if (k->b[0] == 4)
        inet_ntop(AF_INET, k->b + 1, out, (socklen_t)cap);
    else if (k->b[0] == 6)
        inet_ntop(AF_INET6, k->b + 1, out, (socklen_t)cap);
    else if (k->b[0] == 'T')
        snprintf(out, cap, "token:%02x%02x%02x%02x", k->b[1], k->b[2], k->b[3], k->b[4]);
    else
        snprintf(out, cap, "other clients");
}

msh_climits *msh_climits_new(const msh_client_limits_cfg *cfg)
{
    msh_climits *cl = calloc(1, sizeof *cl);
    if (!cl)
        return NULL;
    cl->cfg = *cfg;
    cl->cfg.trusted_proxy = NULL; /* not kept: parsed here */
    for (const char *p = cfg->trusted_proxy; p && *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (cl->ntrusted == MAX_TRUSTED || msh_client_key_parse(p, n, &cl->trusted[cl->ntrusted])) {
            free(cl);
            return NULL;
        }
        cl->ntrusted++;
        p = c ? c + 1 : p + n;
    }
    if (getrandom(&cl->seed, sizeof cl->seed, 0) != (ssize_t)sizeof cl->seed)
        cl->seed = (uint64_t)(uintptr_t)cl ^ 0x9e3779b97f4a7c15ull;
    pthread_mutex_init(&cl->mu, NULL);
    return cl;
}

void msh_climits_free(msh_climits *cl)
{
    if (!cl)
        return;
    for (size_t i = 0; i < NCHAINS; i++)
        for (entry *e = cl->chains[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
    pthread_mutex_destroy(&cl->mu);
    free(cl);
}

const msh_client_limits_cfg *msh_climits_cfg(const msh_climits *cl)
{
    return &cl->cfg;
}

bool msh_climits_trusted(const msh_climits *cl, const msh_client_key *k)
{
    for (int i = 0; i < cl->ntrusted; i++)
        if (!memcmp(cl->trusted[i].b, k->b, sizeof k->b))
            return true;
    return false;
}

static void fill(entry *e, const msh_client_limits_cfg *cfg, double now)
{
    bool tok = e->key.b[0] == 'T';
    e->rate_tokens = 2 * (tok ? cfg->rate_per_token : cfg->rate_per_client);
    e->rate_t = now;
    e->fail_tokens = cfg->auth_fail_per_min;
    e->fail_t = now;
    e->last_seen = now;
}

/* The entry of `k`, made when missing. Holds cl->mu. */
static entry *get(msh_climits *cl, const msh_client_key *k, double now)
{
    size_t h = (size_t)(fnv(k->b, sizeof k->b, cl->seed) % NCHAINS);
    for (entry *e = cl->chains[h]; e; e = e->next)
        if (!memcmp(e->key.b, k->b, sizeof k->b)) {
            e->last_seen = now;
            return e;
        }
    entry *e = cl->nentries < MSH_CLIENTS_MAX ? calloc(1, sizeof *e) : NULL;
    if (!e) {
        if (cl->overflow.last_seen == 0)
            fill(&cl->overflow, &cl->cfg, now);
        cl->overflow.last_seen = now;
        return &cl->overflow;
    }
    e->key = *k;
    fill(e, &cl->cfg, now);
    e->next = cl->chains[h];
    cl->chains[h] = e;
    cl->nentries++;
    return e;
}

static void count(msh_climits *cl, entry *e, msh_cl_count what)
{
    e->counts[what]++;
    cl->totals[what]++;
}

/* Take one from a bucket of `rate` per second holding at most `burst`; else the wait until one. */
static bool take(double *tokens, double *t, double rate, double burst, double now, double *retry_after)
{
    if (rate <= 0)
        return true;
    if (now > *t) {
        *tokens += (now - *t) * rate;
        if (*tokens > burst)
            *tokens = burst;
        *t = now;
    }
    if (*tokens >= 1) {
        *tokens -= 1;
        return true;
    }
    if (retry_after)
        *retry_after = (1 - *tokens) / rate;
    return false;
}

bool msh_climits_conn_allowed(msh_climits *cl, const msh_client_key *k, double now)
{
    if (cl->cfg.max_conn_per_client <= 0 || msh_climits_trusted(cl, k))
        return true;
    pthread_mutex_lock(&cl->mu);
    entry *e = get(cl, k, now);
    bool ok = e->conns < cl->cfg.max_conn_per_client;
    if (!ok)
        count(cl, e, MSH_CL_CONN_REFUSED);
    pthread_mutex_unlock(&cl->mu);
    return ok;
}

bool msh_climits_conn_open(msh_climits *cl, const msh_client_key *k, double now)
{
    pthread_mutex_lock(&cl->mu);
    entry *e = get(cl, k, now);
    e->conns++;
    bool ok = cl->cfg.max_conn_per_client <= 0 || e->conns <= cl->cfg.max_conn_per_client ||
              msh_climits_trusted(cl, k);
    if (!ok)
        count(cl, e, MSH_CL_CONN_REFUSED);
    pthread_mutex_unlock(&cl->mu);
    return ok;
}

void msh_climits_conn_close(msh_climits *cl, const msh_client_key *k, double now)
{
    pthread_mutex_lock(&cl->mu);
    entry *e = get(cl, k, now);
    if (e->conns > 0)
        e->conns--;
    pthread_mutex_unlock(&cl->mu);
}

bool msh_climits_request(msh_climits *cl, const msh_client_key *k, double now, double *retry_after)
{
    double rate = k->b[0] == 'T' ? cl->cfg.rate_per_token : cl->cfg.rate_per_client;
    if (rate <= 0)
        return true;
    pthread_mutex_lock(&cl->mu);
    entry *e = get(cl, k, now);
    bool ok = take(&e->rate_tokens, &e->rate_t, rate, 2 * rate, now, retry_after);
    if (!ok)
        count(cl, e, MSH_CL_RATE_LIMITED);
    pthread_mutex_unlock(&cl->mu);
    return ok;
}

int msh_climits_sse_acquire(msh_climits *cl, const msh_client_key *k, double now, double *retry_after)
{
    int status = 0;
    pthread_mutex_lock(&cl->mu);
    entry *e = get(cl, k, now);
    if (cl->cfg.max_sse > 0 && cl->sse_open >= cl->cfg.max_sse)
        status = 503;
    else if (cl->cfg.max_sse_per_client > 0 && e->sse >= cl->cfg.max_sse_per_client)
        status = 429;
    if (status) {
        count(cl, e, MSH_CL_SSE_REFUSED);
        *retry_after = 30;
    } else {
        e->sse++;
        cl->sse_open++;
    }
    pthread_mutex_unlock(&cl->mu);
    return status;
}

void msh_climits_sse_release(msh_climits *cl, const msh_client_key *k, double now)
{
    pthread_mutex_lock(&cl->mu);
    entry *e = get(cl, k, now);
    if (e->sse > 0)
        e->sse--;
    if (cl->sse_open > 0)
        cl->sse_open--;
    pthread_mutex_unlock(&cl->mu);
}

int msh_climits_sse_open(msh_climits *cl)
{
    pthread_mutex_lock(&cl->mu);
    int n = cl->sse_open;
    pthread_mutex_unlock(&cl->mu);
    return n;
}

/* Refill the failed-token bucket; true when it holds at least one. Holds cl->mu. */
static bool fail_room(msh_climits *cl, entry *e, double now, double *retry_after)
{
    double per_s = cl->cfg.auth_fail_per_min / 60.0;
    if (now > e->fail_t) {
        e->fail_tokens += (now - e->fail_t) * per_s;
        if (e->fail_tokens > cl->cfg.auth_fail_per_min)
            e->fail_tokens = cl->cfg.auth_fail_per_min;
        e->fail_t = now;
    }
    if (e->fail_tokens >= 1)
        return true;
    if (retry_after)
        *retry_after = (1 - e->fail_tokens) / per_s;
    return false;
}

bool msh_climits_auth_allowed(msh_climits *cl, const msh_client_key *k, double now, double *retry_after)
{
    if (cl->cfg.auth_fail_per_min <= 0)
        return true;
    pthread_mutex_lock(&cl->mu);
    entry *e = get(cl, k, now);
    bool ok = fail_room(cl, e, now, retry_after);
    if (!ok)
        count(cl, e, MSH_CL_AUTH_THROTTLED);
    pthread_mutex_unlock(&cl->mu);
    return ok;
}

void msh_climits_auth_failed(msh_climits *cl, const msh_client_key *k, double now)
{
    pthread_mutex_lock(&cl->mu);
    entry *e = get(cl, k, now);
    count(cl, e, MSH_CL_AUTH_FAILED);
    if (cl->cfg.auth_fail_per_min > 0 && fail_room(cl, e, now, NULL))
        e->fail_tokens -= 1;
    pthread_mutex_unlock(&cl->mu);
}

void msh_climits_note_header_timeout(msh_climits *cl, const msh_client_key *k, double now)
{
    pthread_mutex_lock(&cl->mu);
    entry *e = get(cl, k, now);
    count(cl, e, MSH_CL_HEADER_TIMEOUT);
    pthread_mutex_unlock(&cl->mu);
}

uint64_t msh_climits_total(msh_climits *cl, msh_cl_count what)
{
    pthread_mutex_lock(&cl->mu);
    uint64_t n = cl->totals[what];
    pthread_mutex_unlock(&cl->mu);
    return n;
}

static const char *const COUNT_LABELS[MSH_CL_NCOUNTS] = {
    "connection", "rate", "event_stream", "header_timeout", "failed_token", "token_throttled"};

void msh_climits_write_metrics(msh_climits *cl, struct msh_buf *b)
{
    if (!cl)
        return;
    pthread_mutex_lock(&cl->mu);
    uint64_t t[MSH_CL_NCOUNTS];
    memcpy(t, cl->totals, sizeof t);
    int sse = cl->sse_open;
    size_t clients = cl->nentries;
    pthread_mutex_unlock(&cl->mu);
    msh_buf_printf(b, "# HELP mashaer_client_refusals_total Refused by the per-client limits, by reason (connection: "
                      "closed at accept; rate, event_stream, token_throttled: 429/503; header_timeout: closed at the "
                      "header deadline; failed_token: wrong tokens counted).\n"
                      "# TYPE mashaer_client_refusals_total counter\n");
    for (int c = 0; c < MSH_CL_NCOUNTS; c++)
        msh_buf_printf(b, "mashaer_client_refusals_total{reason=\"%s\"} %llu\n", COUNT_LABELS[c],
                       (unsigned long long)t[c]);
    msh_buf_printf(b, "# HELP mashaer_event_streams_open Open /events streams.\n# TYPE mashaer_event_streams_open gauge\n"
                      "mashaer_event_streams_open %d\n# HELP mashaer_clients_tracked Clients in the per-client table.\n"
                      "# TYPE mashaer_clients_tracked gauge\nmashaer_clients_tracked %zu\n",
                   sse, clients);
}

static const char *const COUNT_NAMES[MSH_CL_NCOUNTS] = {
    "connections refused", "requests over the rate", "event streams refused", "header timeouts",
    "failed tokens", "token requests throttled"};

size_t msh_climits_report(msh_climits *cl, double now, double interval_s, const char *extra, char *out, size_t cap)
{
    uint64_t sum[MSH_CL_NCOUNTS] = {0};
    uint32_t worst_n[MSH_CL_NCOUNTS] = {0};
    msh_client_key worst[MSH_CL_NCOUNTS];
    memset(worst, 0, sizeof worst);
    pthread_mutex_lock(&cl->mu);
    for (size_t i = 0; i <= NCHAINS; i++) {
        entry **pp = i < NCHAINS ? &cl->chains[i] : NULL;
        entry *one = &cl->overflow;
        for (entry *e = pp ? *pp : one; e; e = pp ? *pp : NULL) {
            for (int c = 0; c < MSH_CL_NCOUNTS; c++) {
                sum[c] += e->counts[c];
                if (e->counts[c] > worst_n[c] || /* ties to the lower key: the same line whatever the table's order */
                    (e->counts[c] && e->counts[c] == worst_n[c] && memcmp(e->key.b, worst[c].b, sizeof e->key.b) < 0)) {
                    worst_n[c] = e->counts[c];
                    worst[c] = e->key;
                }
                e->counts[c] = 0;
            }
            if (!pp)
                break;
            if (e->conns == 0 && e->sse == 0 && now - e->last_seen > IDLE_DROP_S) {
                *pp = e->next;
                free(e);
                cl->nentries--;
            } else {
                pp = &e->next;
            }
        }
    }
    pthread_mutex_unlock(&cl->mu);
    size_t len = 0;
    if (cap)
        out[0] = 0;
    for (int c = 0; c < MSH_CL_NCOUNTS; c++) {
        if (!sum[c])
            continue;
        char who[64];
        msh_client_key_format(&worst[c], who, sizeof who);
        int n = snprintf(out + len, cap - len, "%s%llu %s (most %s: %u)", len ? ", " : "",
                         (unsigned long long)sum[c], COUNT_NAMES[c], who, worst_n[c]);
        if (n < 0 || (size_t)n >= cap - len)
            return len;
        len += (size_t)n;
    }
    if (extra && *extra) {
        int n = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", extra);
        if (n > 0 && (size_t)n < cap - len)
            len += (size_t)n;
    }
    if (!len)
        return 0;
    char head[64];
    int h = snprintf(head, sizeof head, "clients in the last %.0f s: ", interval_s);
    if (h > 0 && len + (size_t)h < cap) {
        memmove(out + h, out, len + 1);
        memcpy(out, head, (size_t)h);
        len += (size_t)h;
    }
    return len;
}
