/* routes.h: the route handlers. Each fills req->resp; server/route_table.c says which path,
 * methods, role and body each one takes, and what `rest` is (the path after the row's literal
 * head). A handler is only called once its row's role has been checked. */
#ifndef MSH_ROUTES_H
#define MSH_ROUTES_H

#include "http/http.h"

/** /tiles/{layers}/{z}/{x}/{y}.mvt|.png and /tiles/{layers}.json; `rest` follows "/tiles/". */
void msh_route_tiles(msh_req *r, const char *rest);
/** The MVT tile of `layers` at z/x/y as /tiles answers it: the same bytes, ETag, cache entry, gzip, 204
 * when empty, ops role for personal layers (routes_tiles.c; also used by OGC API - Tiles). */
void msh_tiles_answer_mvt(msh_req *r, msh_catalog *cat, msh_layer **layers, int nlayers, int z, uint32_t x, uint32_t y);
/** /catalog */
void msh_route_catalog(msh_req *r, const char *rest);
/** /health */
void msh_route_health(msh_req *r, const char *rest);
/** /auth/whoami: the caller's token name and role (routes_auth.c) */
void msh_route_whoami(msh_req *r, const char *rest);
/** /metrics */
void msh_route_metrics(msh_req *r, const char *rest);
/** /styles/{name}.json; `rest` follows "/styles/". */
void msh_route_styles(msh_req *r, const char *rest);
/** /styles/{name}/{z}/{x}/{y}.png and @2x.png (server/routes_raster.c); `rest` follows "/styles/". */
void msh_route_raster_style(msh_req *r, const char *rest);
/** POST /feeds/{feed} (feed role); `rest` follows "/feeds/". */
void msh_route_feeds(msh_req *r, const char *rest);
/** GET /entities/{id} (ops role). */
void msh_route_entity(msh_req *r, const char *id);
/** GET /tracking/{id}/track and GET /tracking/search (ops role; routes_tracking.c). */
void msh_route_tracking_track(msh_req *r, const char *rest);
void msh_route_tracking_search(msh_req *r, const char *rest);
/** GET /events: the Server-Sent Events stream (server/events.c). */
void msh_route_events(msh_req *r, const char *rest);
/** GET /route?from=&to= (server/routes_route.c). */
void msh_route_route(msh_req *r, const char *rest);
/** GET /isochrone?lon=&lat=&minutes= (server/routes_isochrone.c). */
void msh_route_isochrone(msh_req *r, const char *rest);
/** The isochrone result cache's hits and misses, for /metrics. */
void msh_isochrone_cache_metrics(msh_buf *out);
/** GET /query/nearest?lon=&lat=&layer=&filter=&limit= (server/routes_query.c). */
void msh_route_nearest(msh_req *r, const char *rest);
/** GET /query/at?lon=&lat= */
void msh_route_at(msh_req *r, const char *rest);
/** /fonts.json: the font stacks this server draws (server/routes_fonts.c). */
void msh_route_fonts_list(msh_req *r, const char *rest);
/** /fonts/{fontstack}/{range}.pbf; `rest` follows "/fonts/". */
void msh_route_glyphs(msh_req *r, const char *rest);
/** /sprites/{name}[@2x].json|.png; `rest` follows "/sprites/". */
void msh_route_sprites(msh_req *r, const char *rest);
/* routes_packages.c: GET /packages, /packages/{name}.pmtiles (range requests) */
void msh_route_packages(msh_req *r, const char *rest);
/** OGC API - Features under /ogc (server/routes_ogc.c); reads the path after "/ogc" itself. */
void msh_route_ogc(msh_req *r, const char *rest);
/** OGC API - Tiles under /ogc (routes_ogc_tiles.c): /tileMatrixSets, /tiles, /collections/{id}/tiles,
 * /styles and /styles/{style}/map/tiles; reads the path after "/ogc" itself. */
void msh_route_ogc_tiles(msh_req *r, const char *rest);
/** GET /wmts/1.0.0/WMTSCapabilities.xml: the raster styles as WMTS 1.0.0 layers (routes_wmts.c). */
void msh_route_wmts(msh_req *r, const char *rest);
/** Largest body of a Part 4 write (one GeoJSON Feature or merge patch), bytes. */
#define MSH_EDIT_BODY_MAX ((size_t)1 << 20)
/** OGC API - Features Part 4 (server/routes/routes_ogc_write.c): POST .../items, PUT, PATCH and
 * DELETE .../items/{fid}; `rest` follows "/ogc/collections/". */
void msh_route_ogc_write(msh_req *r, const char *rest);
/** Part 4 writes on the live collections incidents and gates (routes_live_write.c); false: not one of them. */
bool msh_route_live_write(msh_req *r, const char *rest);
/** OPTIONS on incidents and gates: *methods gets what the caller may write there; false: not one of them. */
bool msh_route_live_allow(msh_req *r, const char *rest, unsigned *methods);
/** GET /incidents/{id}/responders (routes_responders.c). */
void msh_route_responders(msh_req *r, const char *rest);
/** POST /test/clock, with --test-clock only (routes_test_clock.c). */
void msh_route_test_clock(msh_req *r, const char *rest);
void msh_route_test_alert(msh_req *r, const char *rest);
void msh_route_playback(msh_req *r, const char *rest); /* routes_playback.c */
/** GET .../items/{fid}/history: every version of an item with who and when (paged). */
void msh_route_ogc_history(msh_req *r, const char *rest);
/* reports' photos (routes_reports.c) */
void msh_route_report_photos(msh_req *r, const char *rest);
/* a report made an incident or a work order (routes_report_escalate.c) */
void msh_route_report_escalate(msh_req *r, const char *rest);
/** GET /ogc/collections/incidents/items/{id}/history (routes_incident_history.c); `id` is the path segment. */
void msh_route_incident_history(msh_req *r, const char *id, size_t idlen);
/** GET /ogc/collections/gates/items/{id}/history: a gate opened and closed by operators, and by whom. */
void msh_route_gate_history(msh_req *r, const char *id, size_t idlen);
/** The methods the caller may use on .../items or .../items/{fid} (the OPTIONS `Allow`). */
unsigned msh_route_ogc_allow(msh_req *r, const char *rest);
/** GET /kpi, /kpi/zones, /kpi/zones/{id}, /kpi/history (server/routes_kpi.c); reads the path after "/kpi" itself. */
void msh_route_kpi(msh_req *r, const char *rest);
/** POST /kpi/sites/{site}/reset (ops): a site's gate count starts again now (routes_sites.c). */
void msh_route_site_reset(msh_req *r, const char *rest);
/** /heatmaps/density/{z}/{x}/{y}.png, /heatmaps/{layer}/{z}/{x}/{y}.png, /heatmaps/density/legend[.png]
 * (server/routes_heatmap.c); `rest` follows "/heatmaps/". */
void msh_route_heatmaps(msh_req *r, const char *rest);
/** GET /forecast/density, POST /forecast/refresh (routes_forecast.c), GET /forecast/zones (routes_forecast_zones.c). */
void msh_route_forecast_density(msh_req *r, const char *rest);
void msh_route_forecast_refresh(msh_req *r, const char *rest);
void msh_route_forecast_zones(msh_req *r, const char *rest);
/** GET /forecast/warnings (routes_forecast_warnings.c). */
void msh_route_forecast_warnings(msh_req *r, const char *rest);
/** GET /tiles/forecast/{z}/{x}/{y}.mvt, /tiles/forecast.json, /heatmaps/forecast/{z}/{x}/{y}.png
 * (routes_forecast_tiles.c); `rest` follows the row's literal head. */
void msh_route_forecast_tile(msh_req *r, const char *rest);
void msh_route_forecast_tilejson(msh_req *r, const char *rest);
void msh_route_forecast_heatmap(msh_req *r, const char *rest);
/** Everything else under GET: the web viewer and its vendored packages. */
void msh_route_static(msh_req *r, const char *rest);
/** GET and POST /broadcasts; GET and DELETE /broadcasts/{id} (routes_broadcasts.c). */
void msh_route_broadcasts(msh_req *r, const char *rest);
void msh_route_broadcast(msh_req *r, const char *id);

#endif
