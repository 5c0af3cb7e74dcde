/* test_route_table.c: the route table (server/route_table.c): patterns, which row a request
 * reaches, 405 with the methods of the path's endpoint, roles and bodies, the metrics labels. */
#include <string.h>

#include "check.h"
#include "http/route_table.h"
#include "routes/routes.h"

static const char *label_name(int id)
{
    int n;
    const char *const *labels = msh_route_labels(&n);
    return id >= 0 && id < n ? labels[id] : "?";
}

/* method + path reach `handler` under `label`, with `rest`. */
static void reaches(const char *method, const char *path, void (*handler)(msh_req *, const char *), const char *label,
                    const char *rest)
{
    msh_route_match m = msh_route_find(method, path);
    CHECK(m.route && m.route->handler == handler);
    CHECK(!strcmp(label_name(m.label), label));
    CHECK(!strcmp(m.rest, rest));
    if (!m.route || m.route->handler != handler || strcmp(label_name(m.label), label) || strcmp(m.rest, rest))
        fprintf(stderr, "  %s %s -> label %s, rest '%s'\n", method, path, label_name(m.label), m.rest);
}

int main(void)
{
    /* the pattern syntax */
    const char *rest = NULL;
    CHECK(msh_route_pattern_match("/a/*.json", "/a/x.json", &rest) && !strcmp(rest, "x.json"));
    CHECK(!msh_route_pattern_match("/a/*.json", "/a/x/y.json", NULL));   /* * stops at '/' */
    CHECK(msh_route_pattern_match("/a/**", "/a/x/y.json", &rest) && !strcmp(rest, "x/y.json"));
    CHECK(msh_route_pattern_match("/a/**", "/a/", &rest) && !strcmp(rest, ""));
    CHECK(!msh_route_pattern_match("/a/**", "/a", NULL));
    CHECK(msh_route_pattern_match("/s/*/**", "/s/ops/1/2/3.png", &rest) && !strcmp(rest, "ops/1/2/3.png"));
    CHECK(!msh_route_pattern_match("/s/*/**", "/s/ops.json", NULL));
    CHECK(msh_route_pattern_match("/x", "/x", &rest) && !strcmp(rest, ""));
    CHECK(!msh_route_pattern_match("/x", "/xy", NULL));
    CHECK(msh_route_pattern_match("/*", "/", NULL));

    /* every endpoint */
    reaches("GET", "/tiles/camps,sites/14/10007/7193.mvt", msh_route_tiles, "tile", "camps,sites/14/10007/7193.mvt");
    reaches("HEAD", "/tiles/camps.json", msh_route_tiles, "tilejson", "camps.json");
    reaches("GET", "/styles/operations/14/1/2.png", msh_route_raster_style, "raster", "operations/14/1/2.png");
    reaches("GET", "/styles/operations.json", msh_route_styles, "style", "operations.json");
    reaches("GET", "/heatmaps/density/16/1/2.png", msh_route_heatmaps, "heatmap", "density/16/1/2.png");
    /* the forecast's tiles come before the catalog layers' and the other heatmaps' */
    reaches("GET", "/tiles/forecast/16/1/2.mvt", msh_route_forecast_tile, "forecast_tile", "16/1/2.mvt");
    reaches("GET", "/tiles/forecast.json", msh_route_forecast_tilejson, "tilejson", "");
    reaches("GET", "/tiles/forecasts/16/1/2.mvt", msh_route_tiles, "tile", "forecasts/16/1/2.mvt");
    reaches("GET", "/heatmaps/forecast/16/1/2.png", msh_route_forecast_heatmap, "forecast_heatmap", "16/1/2.png");
    reaches("GET", "/catalog", msh_route_catalog, "catalog", "");
    reaches("GET", "/ogc", msh_route_ogc, "ogc", "");
    reaches("GET", "/ogc/collections/camps/items", msh_route_ogc, "ogc", "camps/items"); /* reads r->path itself */
    reaches("GET", "/ogc/collections/camps/items/7", msh_route_ogc, "ogc", "camps/items/7");
    reaches("GET", "/ogc/collections/camps/queryables", msh_route_ogc, "ogc", "collections/camps/queryables");
    /* OGC API - Features Part 4: the writes, the history, and the OPTIONS hook of items and an item */
    reaches("POST", "/ogc/collections/camps/items", msh_route_ogc_write, "ogc", "camps/items");
    reaches("PUT", "/ogc/collections/camps/items/7", msh_route_ogc_write, "ogc", "camps/items/7");
    reaches("PATCH", "/ogc/collections/camps/items/7", msh_route_ogc_write, "ogc", "camps/items/7");
    reaches("DELETE", "/ogc/collections/camps/items/7", msh_route_ogc_write, "ogc", "camps/items/7");
    reaches("GET", "/ogc/collections/camps/items/7/history", msh_route_ogc_history, "ogc", "camps/items/7/history");
    reaches("GET", "/health", msh_route_health, "health", "");
    reaches("GET", "/metrics", msh_route_metrics, "metrics", "");
    reaches("GET", "/auth/whoami", msh_route_whoami, "whoami", "");
    reaches("POST", "/feeds/positions", msh_route_feeds, "feeds", "positions");
    reaches("GET", "/events", msh_route_events, "events", "");
    reaches("GET", "/entities/P-1", msh_route_entity, "entity", "P-1");
    reaches("GET", "/kpi", msh_route_kpi, "kpi", "");
    reaches("GET", "/kpi/zones/MINA-04", msh_route_kpi, "kpi", "zones/MINA-04");
    reaches("GET", "/route", msh_route_route, "route", "");
    reaches("GET", "/isochrone", msh_route_isochrone, "isochrone", "");
    reaches("GET", "/query/nearest", msh_route_nearest, "nearest", "");
    reaches("GET", "/query/at", msh_route_at, "at", "");
    reaches("GET", "/fonts.json", msh_route_fonts_list, "fonts", "");
    reaches("GET", "/fonts/Noto Sans Regular/0-255.pbf", msh_route_glyphs, "fonts", "Noto Sans Regular/0-255.pbf");
    reaches("GET", "/sprites/mashaer@2x.png", msh_route_sprites, "sprites", "mashaer@2x.png");
    reaches("GET", "/", msh_route_static, "static", "");
    reaches("GET", "/ogcx", msh_route_static, "static", "ogcx");     /* a prefix is not a path segment */
    reaches("GET", "/kpis", msh_route_static, "static", "kpis");

    /* the path's endpoint decides the method: 405 with its methods, under its label */
    msh_route_match m = msh_route_find("GET", "/feeds/positions");
    CHECK(!m.route && m.allowed == MSH_M_POST && !strcmp(label_name(m.label), "feeds"));
    m = msh_route_find("POST", "/catalog");
    CHECK(!m.route && m.allowed == MSH_M_GET && !strcmp(label_name(m.label), "catalog"));
    m = msh_route_find("DELETE", "/tiles/camps/1/0/0.mvt");
    CHECK(!m.route && m.allowed == MSH_M_GET && !strcmp(label_name(m.label), "tile"));
    m = msh_route_find("PUT", "/anything");
    CHECK(!m.route && m.allowed == MSH_M_GET && !strcmp(label_name(m.label), "static"));
    m = msh_route_find("GET", "no-slash");
    CHECK(!m.route && m.allowed == 0 && !strcmp(label_name(m.label), "other"));
    m = msh_route_find("GET", NULL);
    CHECK(!m.route && !strcmp(label_name(m.label), "other"));

    /* roles and bodies: only the feed takes a body; writes and personal data need their role */
    CHECK(msh_route_find("POST", "/feeds/positions").route->role == MSH_ROLE_FEED);
    CHECK(msh_route_find("POST", "/feeds/positions").route->body_max == MSH_BODY_CONFIGURED);
    CHECK(msh_route_find("GET", "/entities/x").route->role == MSH_ROLE_OPS);
    CHECK(msh_route_find("GET", "/auth/whoami").route->role == MSH_ROLE_REPORTER); /* any valid token */
    CHECK(msh_route_find("GET", "/tiles/a/1/0/0.mvt").route->body_max == 0);
    CHECK(msh_route_find("GET", "/tiles/a/1/0/0.mvt").route->role == MSH_ROLE_NONE);
    m = msh_route_find("PATCH", "/ogc/collections/a/items/1");
    CHECK(m.route->role == MSH_ROLE_REPORTER && m.route->body_max == MSH_EDIT_BODY_MAX && m.allow == msh_route_ogc_allow);
    CHECK(m.allowed == (MSH_M_GET | MSH_M_PUT | MSH_M_PATCH | MSH_M_DELETE));
    m = msh_route_find("DELETE", "/ogc/collections/a/items/1");
    CHECK(m.route->body_max == 0);
    m = msh_route_find("OPTIONS", "/ogc/collections/a/items");
    CHECK(!m.route && m.allowed == (MSH_M_GET | MSH_M_POST) && m.allow == msh_route_ogc_allow);
    CHECK(msh_route_find("GET", "/ogc/collections/a/items/1/history").route->role == MSH_ROLE_OPS);
    CHECK(msh_route_find("OPTIONS", "/catalog").allow == NULL);
    m = msh_route_find("PUT", "/ogc/collections/a/items"); /* the collection takes POST, not PUT */
    CHECK(!m.route && m.allowed == (MSH_M_GET | MSH_M_POST));

    /* labels: distinct, "other" last */
    int n;
    const char *const *labels = msh_route_labels(&n);
    CHECK(n > 10 && !strcmp(labels[n - 1], "other"));
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            CHECK(strcmp(labels[i], labels[j]));

    char allow[64];
    msh_route_allow_header(MSH_M_GET | MSH_M_POST, allow, sizeof allow);
    CHECK(!strcmp(allow, "GET, HEAD, POST, OPTIONS"));
    msh_route_allow_header(MSH_M_POST, allow, sizeof allow);
    CHECK(!strcmp(allow, "POST, OPTIONS"));
    msh_route_allow_header(MSH_M_GET | MSH_M_POST | MSH_M_PUT | MSH_M_PATCH | MSH_M_DELETE, allow, sizeof allow);
    CHECK(!strcmp(allow, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"));

    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
