/* routes_ops.c: /catalog, /health and /metrics. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/auth.h"
#include "http/http_guard.h"
#include "live/live.h"
#include "http/admit.h"
#include "routes/routes.h"
#include "routes/storage_status.h"
#include "services/edit_service.h"
#include "services/alert_ledger.h"
#include "services/emitter_lease.h"
#include "services/package_rebuild.h"
#include "services/forecast_service.h"
#include "services/feed_log.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Layers from the store (static), and their features; live layers are counted apart. */
static size_t count_static(const msh_catalog *cat, uint64_t *features)
{
    size_t n = 0;
    for (size_t i = 0; i < msh_catalog_count(cat); i++) {
        const msh_layer_info *li = &msh_catalog_at(cat, i)->info;
        if (strcmp(li->kind, "static"))
            continue;
        n++;
        *features += li->feature_count;
    }
    return n;
}

void msh_route_catalog(msh_req *r, const char *rest)
{
    msh_catalog *cat = msh_app_catalog(r->app);
    char base[300];
    msh_req_base_url(r, base, sizeof base);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_buf_printf(&b, "{\"layers\":[");
    bool ops = msh_auth_role(r) >= MSH_ROLE_OPS;
    for (size_t i = 0, n = 0; i < msh_catalog_count(cat); i++) {
        const msh_layer_info *li = &msh_catalog_at(cat, i)->info;
        if (!ops && msh_layer_name_private(li->name))
            continue; /* reports: their count and extent are not the public's */
        msh_buf_printf(&b, "%s{\"id\":\"%s\",\"kind\":\"%s\",\"geometry_type\":\"%s\",", n++ ? "," : "", li->name,
                       li->kind, li->geometry_type);
        msh_buf_printf(&b, "\"title\":\"");
        msh_buf_json_str(&b, li->title ? li->title : li->name); /* the source's own name, any script */
        msh_buf_printf(&b, "\",");
        if (li->feature_count)
            msh_buf_printf(&b, "\"bounds\":[%.7f,%.7f,%.7f,%.7f],", li->bounds[0], li->bounds[1], li->bounds[2],
                           li->bounds[3]);
        else
            msh_buf_printf(&b, "\"bounds\":null,");
        msh_buf_printf(&b, "\"minzoom\":%d,\"maxzoom\":%d,\"fields\":{", li->minzoom, li->maxzoom);
        for (uint32_t f = 0; f < li->nfields; f++) {
            msh_buf_printf(&b, "%s\"", f ? "," : "");
            msh_buf_json_str(&b, li->fields[f].name);
            msh_buf_printf(&b, "\":\"%s\"", msh_ftype_name(li->fields[f].type));
        }
        msh_buf_printf(&b, "},\"feature_count\":%llu,\"version\":%llu,\"access\":\"%s\",",
                       (unsigned long long)li->feature_count, (unsigned long long)li->version,
                       li->access >= MSH_ACCESS_OPS ? "ops" : "public");
        msh_buf_printf(&b, "\"tilejson\":\"%s/tiles/%s.json\",\"tiles\":\"%s/tiles/%s/{z}/{x}/{y}.mvt\"}", base,
                       li->name, base, li->name);
    }
    msh_buf_printf(&b, "]}\n");
    msh_catalog_release(cat);
    r->resp.cache_control = "no-cache";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}

void msh_route_health(msh_req *r, const char *rest)
{
    msh_catalog *cat = msh_app_catalog(r->app);
    uint64_t features = 0;
    size_t nstatic = count_static(cat, &features);
    char body[1024], why[256];
    bool degraded = msh_storage_degraded(r->app, why, sizeof why);
    msh_feed_log_state fls;
    bool feed_log = msh_feed_log_state_get(r->app, &fls);
    bool gap = feed_log && !degraded && fls.gap; /* a hole in what it applied: out of the pool for good */
    bool catching_up = feed_log && !degraded && !gap && !fls.caught_up; /* replaying the stream: no traffic yet */
    int n = snprintf(body, sizeof body, "{\"status\":\"%s\",",
                     degraded ? "degraded" : gap ? "stream_gap" : catching_up ? "catching_up" : "ok");
    if (gap)
        n += snprintf(body + n, sizeof body - (size_t)n, "\"reason\":\"the feed log no longer holds sequence %llu (it "
                      "starts at %llu): copy a caught-up node's newest snapshot into --live-dir and restart\",",
                      (unsigned long long)fls.gap_from, (unsigned long long)fls.gap_first);
    if (feed_log)
        n += snprintf(body + n, sizeof body - (size_t)n, "\"feed_seq\":%llu,\"feed_log_connected\":%s,",
                      (unsigned long long)fls.applied_seq, fls.connected ? "true" : "false");
    if (degraded) { /* writes fail: 503, so that a load balancer or monitor sees it */
        msh_buf jb;
        msh_buf_init(&jb, sizeof why * 6 + 1);
        msh_buf_json_str(&jb, why);
        n += snprintf(body + n, sizeof body - (size_t)n, "\"reason\":\"%.*s\",", (int)(jb.len < 300 ? jb.len : 300), (const char *)jb.data);
        msh_buf_free(&jb);
    }
    n += snprintf(body + n, sizeof body - (size_t)n,
                     "\"layers\":%zu,\"features\":%llu,\"live_layers\":%zu,\"uptime_s\":%.1f,\"emitter_lease\":%s",
                     nstatic, (unsigned long long)features, msh_catalog_count(cat) - nstatic,
                     now_s() - r->app->started_at, msh_emitter_holds(r->app->emitter) ? "true" : "false");
    if (r->app->live) {
        msh_live_stats st;
        msh_live_get_stats(r->app->live, &st);
        n += snprintf(body + n, sizeof body - (size_t)n,
                      ",\"live\":{\"incidents\":%llu,\"crews\":%llu,\"gates\":%llu,\"sensors\":%llu,\"bins\":%llu",
                      (unsigned long long)st.items[MSH_FEED_INCIDENTS], (unsigned long long)st.items[MSH_FEED_CREWS],
                      (unsigned long long)st.items[MSH_FEED_GATES], (unsigned long long)st.items[MSH_FEED_SENSORS],
                      (unsigned long long)st.items[MSH_FEED_BINS]);
        /* exact head counts (and what grows with them) only for ops: next to the k-anonymous
         * aggregates, an exact total would give away the people they leave out */
        if (msh_auth_role(r) >= MSH_ROLE_OPS)
            n += snprintf(body + n, sizeof body - (size_t)n,
                          ",\"people\":%llu,\"active\":%llu,\"updates\":%llu,\"memory_bytes\":%llu",
                          (unsigned long long)st.people, (unsigned long long)st.active, (unsigned long long)st.updates,
                          (unsigned long long)st.bytes);
        n += snprintf(body + n, sizeof body - (size_t)n, "}");
    }
    n += snprintf(body + n, sizeof body - (size_t)n, "}\n");
    msh_catalog_release(cat);
    r->resp.cache_control = "no-store";
    msh_resp_body(r, degraded || gap || catching_up ? 503 : 200, "application/json", body, (size_t)n);
}

void msh_route_metrics(msh_req *r, const char *rest)
{
    msh_catalog *cat = msh_app_catalog(r->app);
    uint64_t features = 0;
    size_t nstatic = count_static(cat, &features);
    uint64_t cb, ce;
    msh_tile_cache_stats(r->app->cache, &cb, &ce);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_metrics_write(r->app->metrics, &b, cb, ce, nstatic, features, now_s() - r->app->started_at);
    if (r->app->live && msh_auth_role(r) >= MSH_ROLE_OPS) { /* exact head counts: ops only, as in /health */
        msh_live_stats st;
        msh_live_get_stats(r->app->live, &st);
        msh_buf_printf(&b,
                       "# HELP mashaer_live_people Tracked people known, and active (heard from within the max age).\n"
                       "# TYPE mashaer_live_people gauge\nmashaer_live_people{state=\"known\"} %llu\n"
                       "mashaer_live_people{state=\"active\"} %llu\n"
                       "# HELP mashaer_live_memory_bytes Memory held by the live state.\n"
                       "# TYPE mashaer_live_memory_bytes gauge\nmashaer_live_memory_bytes %llu\n",
                       (unsigned long long)st.people, (unsigned long long)st.active, (unsigned long long)st.bytes);
    }
    msh_storage_metrics(r->app, &b);
    msh_emitter_metrics(r->app->emitter, &b);
    msh_alert_ledger_metrics(r->app->alert_ledger, &b);
    msh_feed_log_metrics(r->app, &b);
    if (r->app->edit)
        msh_edit_service_metrics(r->app, &b);
    msh_render_gate *g = &r->app->render_gate;
    pthread_mutex_lock(&g->mu);
    unsigned long long renders = (unsigned long long)g->next, queued = (unsigned long long)g->waited;
    pthread_mutex_unlock(&g->mu);
    msh_buf_printf(&b,
                   "# HELP mashaer_png_renders_total PNG tiles drawn (raster styles and heatmaps), and how many "
                   "waited for a render slot (--render-threads).\n"
                   "# TYPE mashaer_png_renders_total counter\nmashaer_png_renders_total %llu\n"
                   "# TYPE mashaer_png_renders_queued_total counter\nmashaer_png_renders_queued_total %llu\n",
                   renders, queued);
    msh_admit_metrics(r->app, &b);
    msh_isochrone_cache_metrics(&b);
    msh_package_rebuild_metrics(r->app->packages, &b);
    msh_forecast_service_metrics(r->app, &b);
    msh_climits_write_metrics(msh_http_guard_limits(r->app->guard), &b);
    msh_catalog_release(cat);
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
    msh_buf_free(&b);
}
