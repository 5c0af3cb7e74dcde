/* route_table.c: the table of HTTP endpoints (see route_table.h for how a row is read). */
#include "http/route_table.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "routes/route_costs.h"
#include "routes/routes.h"
#include "live/broadcast.h" /* MSH_BC_BODY_MAX */
#include "photo.h"          /* MSH_PHOTO_MAX_BYTES */

/* Order matters where patterns overlap: the first row whose pattern matches names the endpoint. */
static const msh_route ROUTES[] = {
    /* methods      pattern             label       role            body                handler   cost (http/admit.h) */
    /* the forecast's tiles (routes_forecast_tiles.c), before the catalog layers' */
    {MSH_M_GET,  "/tiles/forecast.json", "tilejson", MSH_ROLE_NONE, 0,               msh_route_forecast_tilejson, NULL},
    {MSH_M_GET,  "/tiles/forecast/**", "forecast_tile", MSH_ROLE_NONE, 0,            msh_route_forecast_tile, NULL},
    {MSH_M_GET,  "/heatmaps/forecast/**", "forecast_heatmap", MSH_ROLE_NONE, 0,      msh_route_forecast_heatmap, NULL},
    {MSH_M_GET,  "/tiles/*.json",    "tilejson", MSH_ROLE_NONE, 0,                   msh_route_tiles, NULL},
    {MSH_M_GET,  "/tiles/**",        "tile",     MSH_ROLE_NONE, 0,                   msh_route_tiles, NULL},
    {MSH_M_GET,  "/styles/*/**",     "raster",   MSH_ROLE_NONE, 0,                   msh_route_raster_style, NULL},
    {MSH_M_GET,  "/styles/**",       "style",    MSH_ROLE_NONE, 0,                   msh_route_styles, NULL},
    {MSH_M_GET,  "/heatmaps/**",     "heatmap",  MSH_ROLE_NONE, 0,                   msh_route_heatmaps, NULL},
    {MSH_M_GET,  "/catalog",         "catalog",  MSH_ROLE_NONE, 0,                   msh_route_catalog, NULL},
    {MSH_M_GET,  "/ogc",             "ogc",      MSH_ROLE_NONE, 0,                   msh_route_ogc, msh_cost_ogc},
    /* OGC API - Features Part 4 (routes_ogc_write.c): writes check the collection's rules themselves */
    {MSH_M_GET,  "/ogc/collections/*/items", "ogc", MSH_ROLE_NONE, 0,                 msh_route_ogc, msh_cost_ogc},
    {MSH_M_POST, "/ogc/collections/*/items", "ogc", MSH_ROLE_REPORTER, MSH_EDIT_BODY_MAX, msh_route_ogc_write, NULL},
    {MSH_M_GET,  "/ogc/collections/*/items/*", "ogc", MSH_ROLE_NONE, 0,               msh_route_ogc, msh_cost_ogc},
    {MSH_M_PUT | MSH_M_PATCH, "/ogc/collections/*/items/*", "ogc", MSH_ROLE_REPORTER, MSH_EDIT_BODY_MAX, msh_route_ogc_write, NULL},
    {MSH_M_DELETE, "/ogc/collections/*/items/*", "ogc", MSH_ROLE_REPORTER, 0,         msh_route_ogc_write, NULL},
    {MSH_M_GET,  "/ogc/collections/*/items/*/history", "ogc", MSH_ROLE_OPS, 0,        msh_route_ogc_history, NULL},
    /* reports' photos (routes_reports.c): the handler finds the report and its owner (404 for others) */
    {MSH_M_GET,  "/ogc/collections/reports/items/*/attachments", "reports", MSH_ROLE_REPORTER, 0, msh_route_report_photos, NULL},
    {MSH_M_POST, "/ogc/collections/reports/items/*/attachments", "reports", MSH_ROLE_REPORTER, MSH_PHOTO_MAX_BYTES, msh_route_report_photos, NULL},
    {MSH_M_GET,  "/ogc/collections/reports/items/*/attachments/*", "reports", MSH_ROLE_REPORTER, 0, msh_route_report_photos, NULL},
    {MSH_M_POST, "/ogc/collections/reports/items/*/escalate", "reports", MSH_ROLE_OPS, 65536, msh_route_report_escalate, NULL},
    /* OGC API - Tiles (routes_ogc_tiles.c): tile matrix sets, dataset, collection and style tilesets */
    {MSH_M_GET,  "/ogc/tileMatrixSets", "ogc_tiles", MSH_ROLE_NONE, 0,               msh_route_ogc_tiles, NULL},
    {MSH_M_GET,  "/ogc/tileMatrixSets/**", "ogc_tiles", MSH_ROLE_NONE, 0,            msh_route_ogc_tiles, NULL},
    {MSH_M_GET,  "/ogc/tiles",       "ogc_tiles", MSH_ROLE_NONE, 0,                  msh_route_ogc_tiles, NULL},
    {MSH_M_GET,  "/ogc/tiles/**",    "ogc_tiles", MSH_ROLE_NONE, 0,                  msh_route_ogc_tiles, NULL},
    {MSH_M_GET,  "/ogc/collections/*/tiles", "ogc_tiles", MSH_ROLE_NONE, 0,          msh_route_ogc_tiles, NULL},
    {MSH_M_GET,  "/ogc/collections/*/tiles/**", "ogc_tiles", MSH_ROLE_NONE, 0,       msh_route_ogc_tiles, NULL},
    {MSH_M_GET,  "/ogc/styles",      "ogc_tiles", MSH_ROLE_NONE, 0,                  msh_route_ogc_tiles, NULL},
    {MSH_M_GET,  "/ogc/styles/**",   "ogc_tiles", MSH_ROLE_NONE, 0,                  msh_route_ogc_tiles, NULL},
    {MSH_M_GET,  "/ogc/**",          "ogc",      MSH_ROLE_NONE, 0,                   msh_route_ogc, msh_cost_ogc},
    {MSH_M_GET,  "/wmts/1.0.0/WMTSCapabilities.xml", "wmts", MSH_ROLE_NONE, 0,       msh_route_wmts, NULL},
    {MSH_M_GET,  "/health",          "health",   MSH_ROLE_NONE, 0,                   msh_route_health, NULL},
    {MSH_M_GET,  "/metrics",         "metrics",  MSH_ROLE_NONE, 0,                   msh_route_metrics, NULL},
    {MSH_M_GET,  "/auth/whoami",     "whoami",   MSH_ROLE_REPORTER, 0,               msh_route_whoami, NULL},
    {MSH_M_POST, "/feeds/**",        "feeds",    MSH_ROLE_FEED, MSH_BODY_CONFIGURED, msh_route_feeds, NULL},
    {MSH_M_GET,  "/events",          "events",   MSH_ROLE_NONE, 0,                   msh_route_events, NULL},
    {MSH_M_GET,  "/entities/**",     "entity",   MSH_ROLE_OPS,  0,                   msh_route_entity, NULL},
    {MSH_M_POST, "/kpi/sites/*/reset", "site_reset", MSH_ROLE_OPS, 0,                msh_route_site_reset, NULL},
    {MSH_M_GET,  "/tracking/search", "tracking", MSH_ROLE_OPS,  0,                   msh_route_tracking_search, NULL},
    {MSH_M_GET,  "/tracking/*/track", "tracking", MSH_ROLE_OPS, 0,                   msh_route_tracking_track, NULL},
    {MSH_M_GET,  "/kpi",             "kpi",      MSH_ROLE_NONE, 0,                   msh_route_kpi, NULL},
    {MSH_M_GET,  "/kpi/**",          "kpi",      MSH_ROLE_NONE, 0,                   msh_route_kpi, NULL},
    {MSH_M_GET,  "/route",           "route",    MSH_ROLE_NONE, 0,                   msh_route_route, msh_cost_route},
    {MSH_M_GET,  "/isochrone",       "isochrone", MSH_ROLE_NONE, 0,                  msh_route_isochrone, msh_cost_isochrone},
    {MSH_M_GET,  "/query/nearest",   "nearest",  MSH_ROLE_NONE, 0,                   msh_route_nearest, msh_cost_nearest},
    {MSH_M_GET,  "/query/at",        "at",       MSH_ROLE_NONE, 0,                   msh_route_at, NULL},
    {MSH_M_GET,  "/incidents/*/responders", "responders", MSH_ROLE_OPS, 0,           msh_route_responders, msh_cost_responders},
    {MSH_M_GET,  "/broadcasts",      "broadcasts", MSH_ROLE_NONE, 0,                 msh_route_broadcasts, NULL},
    {MSH_M_POST, "/broadcasts",      "broadcasts", MSH_ROLE_OPS, MSH_BC_BODY_MAX,    msh_route_broadcasts, NULL},
    {MSH_M_GET,  "/broadcasts/*",    "broadcasts", MSH_ROLE_NONE, 0,                 msh_route_broadcast, NULL},
    {MSH_M_DELETE, "/broadcasts/*",  "broadcasts", MSH_ROLE_OPS, 0,                  msh_route_broadcast, NULL},
    {MSH_M_GET,  "/playback",        "playback", MSH_ROLE_NONE, 0,                   msh_route_playback, NULL},
    {MSH_M_POST, "/test/clock",      "test_clock", MSH_ROLE_ADMIN, 0,                msh_route_test_clock, NULL},
    {MSH_M_POST, "/test/alert",      "test_alert", MSH_ROLE_ADMIN, 0,                msh_route_test_alert, NULL},
    {MSH_M_GET,  "/forecast/density", "forecast", MSH_ROLE_NONE, 0,                 msh_route_forecast_density, NULL},
    {MSH_M_GET,  "/forecast/zones",  "forecast", MSH_ROLE_NONE, 0,                   msh_route_forecast_zones, NULL},
    {MSH_M_GET,  "/forecast/warnings", "forecast", MSH_ROLE_NONE, 0,                 msh_route_forecast_warnings, NULL},
    {MSH_M_POST, "/forecast/refresh", "forecast_refresh", MSH_ROLE_ADMIN, 0,         msh_route_forecast_refresh, NULL},
    {MSH_M_GET,  "/fonts.json",      "fonts",    MSH_ROLE_NONE, 0,                   msh_route_fonts_list, NULL},
    {MSH_M_GET,  "/fonts/**",        "fonts",    MSH_ROLE_NONE, 0,                   msh_route_glyphs, NULL},
    {MSH_M_GET,  "/sprites/**",      "sprites",  MSH_ROLE_NONE, 0,                   msh_route_sprites, NULL},
    {MSH_M_GET,  "/packages",        "packages", MSH_ROLE_NONE, 0,                   msh_route_packages, NULL},
    {MSH_M_GET,  "/packages/**",     "packages", MSH_ROLE_NONE, 0,                   msh_route_packages, NULL},
    {MSH_M_GET,  "/**",              "static",   MSH_ROLE_NONE, 0,                   msh_route_static, NULL},
};
#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])

/* Endpoints whose OPTIONS answer names what the caller may do there, by pattern. */
static const struct {
    const char *pattern;
    unsigned (*allow)(msh_req *r, const char *rest);
} ALLOW_HOOKS[] = {
    {"/ogc/collections/*/items", msh_route_ogc_allow},
    {"/ogc/collections/*/items/*", msh_route_ogc_allow},
};

static const char *labels[NROUTES + 1];
static int nlabels;
static int label_of[NROUTES];
static pthread_once_t labels_once = PTHREAD_ONCE_INIT;

static void make_labels(void)
{
    for (size_t i = 0; i < NROUTES; i++) {
        int l = 0;
        while (l < nlabels && strcmp(labels[l], ROUTES[i].label))
            l++;
        if (l == nlabels)
            labels[nlabels++] = ROUTES[i].label;
        label_of[i] = l;
    }
    labels[nlabels++] = "other";
}

const char *const *msh_route_labels(int *n)
{
    pthread_once(&labels_once, make_labels);
    *n = nlabels;
    return labels;
}

/* Does `pat` match all of `s`? `*` stops at '/', `**` takes anything. */
static int glob(const char *pat, const char *s)
{
    for (;;) {
        if (pat[0] == '*' && pat[1] == '*') {
            pat += 2;
            if (!*pat)
                return 1;
            for (;; s++) {
                if (glob(pat, s))
                    return 1;
                if (!*s)
                    return 0;
            }
        }
        if (*pat == '*') {
            pat++;
            for (;; s++) {
                if (glob(pat, s))
                    return 1;
                if (!*s || *s == '/')
                    return 0;
            }
        }
        if (*pat != *s)
            return 0;
        if (!*s)
            return 1;
        pat++, s++;
    }
}

int msh_route_pattern_match(const char *pattern, const char *path, const char **rest)
{
    if (!glob(pattern, path))
        return 0;
    if (rest)
        *rest = path + strcspn(pattern, "*");
    return 1;
}

static unsigned method_bit(const char *method)
{
    if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
        return MSH_M_GET;
    if (!strcmp(method, "POST"))
        return MSH_M_POST;
    if (!strcmp(method, "PUT"))
        return MSH_M_PUT;
    if (!strcmp(method, "PATCH"))
        return MSH_M_PATCH;
    if (!strcmp(method, "DELETE"))
        return MSH_M_DELETE;
    return 0;
}

msh_route_match msh_route_find(const char *method, const char *path)
{
    int n;
    msh_route_labels(&n);
    msh_route_match m = {NULL, "", 0, n - 1, NULL};
    if (!path || path[0] != '/')
        return m;
    size_t first = 0;
    while (first < NROUTES && !msh_route_pattern_match(ROUTES[first].pattern, path, &m.rest))
        first++;
    if (first == NROUTES)
        return m;
    m.label = label_of[first];
    for (size_t i = 0; i < sizeof ALLOW_HOOKS / sizeof ALLOW_HOOKS[0]; i++)
        if (!strcmp(ALLOW_HOOKS[i].pattern, ROUTES[first].pattern))
            m.allow = ALLOW_HOOKS[i].allow;
    unsigned want = method_bit(method);
    for (size_t i = first; i < NROUTES; i++) {
        if (strcmp(ROUTES[i].pattern, ROUTES[first].pattern))
            continue;
        m.allowed |= ROUTES[i].methods;
        if (!m.route && (ROUTES[i].methods & want))
            m.route = &ROUTES[i];
    }
    return m;
}

void msh_route_allow_header(unsigned methods, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s%s%s%sOPTIONS", methods & MSH_M_GET ? "GET, HEAD, " : "", methods & MSH_M_POST ? "POST, " : "",
             methods & MSH_M_PUT ? "PUT, " : "", methods & MSH_M_PATCH ? "PATCH, " : "",
             methods & MSH_M_DELETE ? "DELETE, " : "");
}
