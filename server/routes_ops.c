/* routes_ops.c: /catalog, /health and /metrics. */
#include <stdio.h>
#include <time.h>

#include "routes.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void msh_route_catalog(msh_req *r)
{
    msh_catalog *cat = msh_app_catalog(r->app);
    char base[300];
    msh_req_base_url(r, base, sizeof base);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_buf_printf(&b, "{\"layers\":[");
    for (size_t i = 0; i < msh_catalog_count(cat); i++) {
        const msh_layer_info *li = &msh_catalog_at(cat, i)->info;
        msh_buf_printf(&b, "%s{\"id\":\"%s\",\"kind\":\"%s\",\"geometry_type\":\"%s\",", i ? "," : "", li->name,
                       li->kind, li->geometry_type);
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
    msh_resp_body(r, 200, "application/json", b.data, b.len);
    msh_buf_free(&b);
}

void msh_route_health(msh_req *r)
{
    msh_catalog *cat = msh_app_catalog(r->app);
    uint64_t features = 0;
    for (size_t i = 0; i < msh_catalog_count(cat); i++)
        features += msh_catalog_at(cat, i)->info.feature_count;
    char body[256];
    int n = snprintf(body, sizeof body, "{\"status\":\"ok\",\"layers\":%zu,\"features\":%llu,\"uptime_s\":%.1f}\n",
                     msh_catalog_count(cat), (unsigned long long)features, now_s() - r->app->started_at);
    msh_catalog_release(cat);
    r->resp.cache_control = "no-store";
    msh_resp_body(r, 200, "application/json", body, (size_t)n);
}

void msh_route_metrics(msh_req *r)
{
    msh_catalog *cat = msh_app_catalog(r->app);
    uint64_t features = 0;
    for (size_t i = 0; i < msh_catalog_count(cat); i++)
        features += msh_catalog_at(cat, i)->info.feature_count;
    uint64_t cb, ce;
    msh_tile_cache_stats(r->app->cache, &cb, &ce);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_metrics_write(r->app->metrics, &b, cb, ce, msh_catalog_count(cat), features, now_s() - r->app->started_at);
    msh_catalog_release(cat);
    r->resp.cache_control = "no-store";
    msh_resp_body(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    msh_buf_free(&b);
}
