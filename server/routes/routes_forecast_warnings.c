/* routes_forecast_warnings.c: GET /forecast/warnings[?bbox=W,S,E,N][&level=E|F]: the forecast
 * warnings standing now, the set the SSE `forecast` events have raised, updated and not yet cleared,
 * for a console that opens after they were raised. The list is the one the latest refresh left in
 * its result (forecast_alerts.c), so it and GET /forecast/density describe the same forecast.
 * A GeoJSON FeatureCollection of points (the 17.8 m warning cell's centre), F before E, soonest first:
 *   {"type":"FeatureCollection","issued_at":"..","numberReturned":1,"features":[{"type":"Feature",
 *    "id":"21/x/y","geometry":{"type":"Point","coordinates":[lon,lat]},"properties":{"cell":"21/x/y",
 *    "zone":"MINA-04","level":"F","minutes":10,"expected_at":"..","probability":0.68,"density":2.5,
 *    "raised_at":"..","updated_at":".."}}]}
 * `minutes` counts from the latest refresh (`issued_at`), `expected_at` is issued_at + minutes.
 * `level=E` keeps every warning (E or worse), `level=F` the F ones. `zone` is the service zone the
 * centre lies in (null outside every zone). Public, as the events are.
 * Locks: the live read lock while the centres are placed in zones (the geofences are swapped under
 * the live write lock). */
#include <string.h>

#include "core/msh_time.h"
#include "live/geofence.h"
#include "live/live.h"
#include "query/qs.h"
#include "routes/routes.h"
#include "routes/routes_forecast.h"

static void warning_feature(msh_buf *b, const msh_fc_warning *w, const char *zone, int64_t issued_ms, bool first)
{
    char raised[MSH_TIME_ISO_CAP], updated[MSH_TIME_ISO_CAP], expected[MSH_TIME_ISO_CAP];
    msh_time_format_iso(w->raised_ms, raised, sizeof raised, 0);
    msh_time_format_iso(w->updated_ms, updated, sizeof updated, 0);
    msh_time_format_iso(issued_ms + (int64_t)w->minutes * 60000, expected, sizeof expected, 0);
    msh_buf_printf(b,
                   "%s{\"type\":\"Feature\",\"id\":\"%d/%u/%u\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                   "[%.7f,%.7f]},\"properties\":{\"cell\":\"%d/%u/%u\",\"zone\":",
                   first ? "" : ",", MSH_FC_ALERT_LEVEL, w->cx, w->cy, w->lon, w->lat, MSH_FC_ALERT_LEVEL, w->cx,
                   w->cy);
    if (zone) {
        msh_buf_putc(b, '"');
        msh_buf_json_str(b, zone);
        msh_buf_putc(b, '"');
    } else {
        msh_buf_printf(b, "null");
    }
    msh_buf_printf(b,
                   ",\"level\":\"%c\",\"minutes\":%d,\"expected_at\":\"%s\",\"probability\":%.4f,\"density\":%.4f,"
                   "\"raised_at\":\"%s\",\"updated_at\":\"%s\"}}",
                   w->level, w->minutes, expected, w->probability, w->density, raised, updated);
}

void msh_route_forecast_warnings(msh_req *r, const char *rest)
{
    (void)rest;
    double box[4] = {-180, -90, 180, 90};
    const char *bs = msh_req_arg(r, "bbox"), *ls = msh_req_arg(r, "level");
    msh_err err;
    if (bs && msh_qs_bbox(bs, box, &err)) {
        msh_resp_error(r, 400, "bbox: %s", err.msg);
        return;
    }
    if (ls && strcmp(ls, "E") && strcmp(ls, "F")) {
        msh_resp_error(r, 400, "level: E (every warning) or F");
        return;
    }
    msh_forecast_result *fr = msh_forecast_arg_result(r);
    if (!fr)
        return;
    char issued[MSH_TIME_ISO_CAP];
    msh_time_format_iso(fr->issued_ms, issued, sizeof issued, 0);
    msh_buf b;
    msh_buf_init(&b, (size_t)64 << 20);
    msh_buf_printf(&b, "{\"type\":\"FeatureCollection\",\"issued_at\":\"%s\",\"features\":[", issued);
    size_t shown = 0;
    msh_live_rdlock(r->app->live);
    for (size_t i = 0; i < fr->nwarnings; i++) {
        const msh_fc_warning *w = &fr->warnings[i];
        bool in = box[0] <= box[2] ? w->lon >= box[0] && w->lon <= box[2] : w->lon >= box[0] || w->lon <= box[2];
        if (!in || w->lat < box[1] || w->lat > box[3] || (ls && *ls == 'F' && w->level != 'F'))
            continue;
        const char *zone = r->app->fences ? msh_fences_at(r->app->fences, 0, w->lon, w->lat) : NULL;
        warning_feature(&b, w, zone, fr->issued_ms, shown == 0);
        shown++;
    }
    msh_live_unlock(r->app->live);
    msh_buf_printf(&b, "],\"numberReturned\":%zu}\n", shown);
    msh_forecast_result_release(fr);
    msh_forecast_send(r, &b, false, "application/geo+json", "forecast warnings");
}
