/* metrics.c: Prometheus counters and histograms with relaxed atomics. */
#include "http/metrics.h"

#include <stdatomic.h>
#include <stdlib.h>

static const int CODES[] = {200, 204, 206, 304, 400, 401, 403, 404, 405, 413, 414, 422, 431, 500, 503};
#define NCODES ((int)(sizeof CODES / sizeof CODES[0]))
static const double BUCKETS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define NBUCKETS ((int)(sizeof BUCKETS / sizeof BUCKETS[0]))

#define FEEDS 6
static const char *FEED_NAMES[FEEDS] = {"positions", "crews", "incidents", "gates", "sensors", "bins"};

struct msh_metrics {
    const char *const *labels;
    int nlabels;
    atomic_uint_fast64_t req[MSH_METRICS_MAX_LABELS][NCODES + 1]; /* last: any other code */
    atomic_uint_fast64_t hist[MSH_METRICS_MAX_LABELS][NBUCKETS + 1];
    atomic_uint_fast64_t sum_us[MSH_METRICS_MAX_LABELS];
    atomic_uint_fast64_t bytes[MSH_METRICS_MAX_LABELS];
    atomic_uint_fast64_t tiles, tile_bytes, cache_hits, cache_misses;
    atomic_uint_fast64_t feed_accepted[FEEDS], feed_rejected[FEEDS];
};

msh_metrics *msh_metrics_new(const char *const *labels, int n)
{
    if (n < 1 || n > MSH_METRICS_MAX_LABELS)
        return NULL;
    msh_metrics *m = calloc(1, sizeof(msh_metrics)); /* all-zero bits are valid atomics on every target we build for */
    if (m) {
        m->labels = labels;
        m->nlabels = n;
    }
    return m;
}

void msh_metrics_free(msh_metrics *m)
{
    free(m);
}

void msh_metrics_request(msh_metrics *m, int ep, int status, double seconds, uint64_t bytes)
{
    if (ep < 0 || ep >= m->nlabels)
        ep = m->nlabels - 1;
    int ci = NCODES;
    for (int i = 0; i < NCODES; i++)
        if (CODES[i] == status) {
            ci = i;
            break;
        }
    atomic_fetch_add_explicit(&m->req[ep][ci], 1, memory_order_relaxed);
    int b = 0;
    while (b < NBUCKETS && seconds > BUCKETS[b])
        b++;
    atomic_fetch_add_explicit(&m->hist[ep][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us[ep], (uint64_t)(seconds * 1e6), memory_order_relaxed);
    atomic_fetch_add_explicit(&m->bytes[ep], bytes, memory_order_relaxed);
}

void msh_metrics_feed(msh_metrics *m, int feed, uint64_t accepted, uint64_t rejected)
{
    if (feed < 0 || feed >= FEEDS)
        return;
    atomic_fetch_add_explicit(&m->feed_accepted[feed], accepted, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->feed_rejected[feed], rejected, memory_order_relaxed);
}

void msh_metrics_tile(msh_metrics *m, int cache_hit, uint64_t bytes)
{
    atomic_fetch_add_explicit(&m->tiles, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->tile_bytes, bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(cache_hit ? &m->cache_hits : &m->cache_misses, 1, memory_order_relaxed);
}

#define LD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

msh_rc msh_metrics_write(const msh_metrics *cm, msh_buf *o, uint64_t cache_bytes, uint64_t cache_entries,
                         uint64_t layers, uint64_t features, double uptime)
{
    msh_metrics *m = (msh_metrics *)cm; /* atomic loads take non-const pointers */
    msh_buf_printf(o, "# HELP mashaer_http_requests_total HTTP requests answered, by endpoint and status code.\n"
                      "# TYPE mashaer_http_requests_total counter\n");
    for (int e = 0; e < m->nlabels; e++)
        for (int c = 0; c <= NCODES; c++) {
            unsigned long long v = LD(m->req[e][c]);
            if (!v)
                continue;
            if (c < NCODES)
                msh_buf_printf(o, "mashaer_http_requests_total{endpoint=\"%s\",code=\"%d\"} %llu\n", m->labels[e], CODES[c], v);
            else
                msh_buf_printf(o, "mashaer_http_requests_total{endpoint=\"%s\",code=\"other\"} %llu\n", m->labels[e], v);
        }
    msh_buf_printf(o, "# HELP mashaer_http_request_duration_seconds Time to answer a request, by endpoint.\n"
                      "# TYPE mashaer_http_request_duration_seconds histogram\n");
    for (int e = 0; e < m->nlabels; e++) {
        unsigned long long cum = 0;
        for (int b = 0; b < NBUCKETS; b++) {
            cum += LD(m->hist[e][b]);
            msh_buf_printf(o, "mashaer_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
                           m->labels[e], BUCKETS[b], cum);
        }
        cum += LD(m->hist[e][NBUCKETS]);
        msh_buf_printf(o, "mashaer_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n", m->labels[e], cum);
        msh_buf_printf(o, "mashaer_http_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n", m->labels[e],
                       LD(m->sum_us[e]) / 1e6);
        msh_buf_printf(o, "mashaer_http_request_duration_seconds_count{endpoint=\"%s\"} %llu\n", m->labels[e], cum);
    }
    msh_buf_printf(o, "# HELP mashaer_http_response_bytes_total Body bytes sent, by endpoint.\n"
                      "# TYPE mashaer_http_response_bytes_total counter\n");
    for (int e = 0; e < m->nlabels; e++)
        msh_buf_printf(o, "mashaer_http_response_bytes_total{endpoint=\"%s\"} %llu\n", m->labels[e], LD(m->bytes[e]));
    msh_buf_printf(o, "# HELP mashaer_feed_records_total Live feed records, by feed and outcome.\n"
                      "# TYPE mashaer_feed_records_total counter\n");
    for (int f = 0; f < FEEDS; f++)
        msh_buf_printf(o,
                       "mashaer_feed_records_total{feed=\"%s\",outcome=\"accepted\"} %llu\n"
                       "mashaer_feed_records_total{feed=\"%s\",outcome=\"rejected\"} %llu\n",
                       FEED_NAMES[f], LD(m->feed_accepted[f]), FEED_NAMES[f], LD(m->feed_rejected[f]));
    msh_buf_printf(o,
                   "# HELP mashaer_tiles_served_total Vector tiles answered with a body or 204.\n"
                   "# TYPE mashaer_tiles_served_total counter\nmashaer_tiles_served_total %llu\n"
                   "# HELP mashaer_tile_bytes_total Tile bytes sent.\n"
                   "# TYPE mashaer_tile_bytes_total counter\nmashaer_tile_bytes_total %llu\n"
                   "# HELP mashaer_tile_cache_hits_total Tiles answered from the cache.\n"
                   "# TYPE mashaer_tile_cache_hits_total counter\nmashaer_tile_cache_hits_total %llu\n"
                   "# HELP mashaer_tile_cache_misses_total Tiles rendered.\n"
                   "# TYPE mashaer_tile_cache_misses_total counter\nmashaer_tile_cache_misses_total %llu\n"
                   "# HELP mashaer_tile_cache_bytes Bytes held by the tile cache.\n"
                   "# TYPE mashaer_tile_cache_bytes gauge\nmashaer_tile_cache_bytes %llu\n"
                   "# HELP mashaer_tile_cache_entries Tiles held by the tile cache.\n"
                   "# TYPE mashaer_tile_cache_entries gauge\nmashaer_tile_cache_entries %llu\n"
                   "# HELP mashaer_layers Layers served.\n"
                   "# TYPE mashaer_layers gauge\nmashaer_layers %llu\n"
                   "# HELP mashaer_features Features in the served layers.\n"
                   "# TYPE mashaer_features gauge\nmashaer_features %llu\n"
                   "# HELP mashaer_uptime_seconds Seconds since the server started.\n"
                   "# TYPE mashaer_uptime_seconds gauge\nmashaer_uptime_seconds %.3f\n",
                   LD(m->tiles), LD(m->tile_bytes), LD(m->cache_hits), LD(m->cache_misses),
                   (unsigned long long)cache_bytes, (unsigned long long)cache_entries, (unsigned long long)layers,
                   (unsigned long long)features, uptime);
    return MSH_OK;
}
