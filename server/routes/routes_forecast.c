/* routes_forecast.c: the crowd density forecast (server/services/forecast_service.h):
 *   GET /forecast/density?minutes=M[&bbox=W,S,E,N][&model=ctm|persistence|advection]
 *       a GeoJSON FeatureCollection of the forecast's base cells (8.9 m at Makkah): Polygon of the
 *       cell; count, density (persons/m2), los (Fruin A-F), p_e, p_f, minutes, issued_at. M is one
 *       of 0, 5, 10, 15, 20, 30; 0 is the observed state the forecast started from. Cells under
 *       --k-anon people are left out, as in the movement tiles.
 *   GET /forecast/zones?minutes=M   (routes_forecast_zones.c)
 *   POST /forecast/refresh          with --test-clock only: refresh now, answer when published.
 * Requests read the current result only: they never wait for a refresh. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_constants.h"
#include "core/msh_tilemath.h"
#include "core/msh_time.h"
#include "query/qs.h"
#include "routes/routes.h"
#include "routes/routes_forecast.h"
#include "services/forecast_service.h"

int msh_forecast_arg_minutes(msh_req *r)
{
    const char *s = msh_req_arg(r, "minutes");
    char *end = NULL;
    long v = s ? strtol(s, &end, 10) : -1;
    int h = s && end != s && !*end ? msh_fc_horizon_index(v) : -1;
    if (h < 0)
        msh_resp_error(r, 400, "minutes: one of 0, 5, 10, 15, 20, 30 (0: the observed state now)");
    return h;
}

msh_forecast_result *msh_forecast_arg_result(msh_req *r)
{
    if (!r->app->forecast) {
        msh_resp_error(r, 404, "no forecast: the server runs without live feeds or walkways");
        return NULL;
    }
    msh_forecast_result *fr = msh_forecast_service_current(r->app);
    if (!fr)
        msh_resp_error(r, 503, "the first forecast is not ready yet");
    return fr;
}

void msh_forecast_send(msh_req *r, msh_buf *b, bool failed, const char *ctype, const char *what)
{
    if (failed || msh_buf_error(b)) {
        msh_buf_free(b);
        msh_resp_error(r, 500, "%s: out of memory", what);
        return;
    }
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, ctype, b);
    msh_buf_free(b);
}

/* The cell's polygon ring, lon/lat. */
static void cell_ring(msh_buf *b, uint32_t cx, uint32_t cy)
{
    double n = (double)(1u << MSH_FC_LEVEL), w, s, e, no;
    msh_world_to_lonlat(cx / n, (cy + 1) / n, &w, &s);
    msh_world_to_lonlat((cx + 1) / n, cy / n, &e, &no);
    msh_buf_printf(b, "[[[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f]]]", w, s, e, s, e, no, w, no, w,
                   s);
}

void msh_route_forecast_density(msh_req *r, const char *rest)
{
    (void)rest;
    int h = msh_forecast_arg_minutes(r);
    if (h < 0)
        return;
    const char *ms = msh_req_arg(r, "model");
    int model = ms ? -1 : MSH_FC_MODEL_CTM;
    for (int m = 0; ms && m < MSH_FC_NMODELS; m++)
        if (!strcmp(ms, msh_fc_model_names[m]))
            model = m;
    if (model < 0) {
        msh_resp_error(r, 400, "model: ctm, persistence or advection");
        return;
    }
    double box[4] = {-180, -85.06, 180, 85.06};
    const char *bs = msh_req_arg(r, "bbox");
    msh_err err;
    if (bs && msh_qs_bbox(bs, box, &err)) {
        msh_resp_error(r, 400, "bbox: %s", err.msg);
        return;
    }
    msh_forecast_result *fr = msh_forecast_arg_result(r);
    if (!fr)
        return;
    /* the box in cells (a box across the antimeridian: every column) */
    uint32_t cx0 = 0, cx1 = UINT32_MAX, cy0, cy1, t;
    msh_fc_cell_at(box[0], box[3], &cx0, &cy0);
    msh_fc_cell_at(box[2], box[1], &cx1, &cy1);
    if (box[0] > box[2])
        cx0 = 0, cx1 = UINT32_MAX;
    (void)t;
    const msh_fc_grid *g = msh_forecast_grid(fr, model, h);
    if (!g) {
        msh_forecast_result_release(fr);
        msh_resp_error(r, 503, "the advection baseline could not be drawn (out of memory); the next request tries again");
        return;
    }
    size_t from, to;
    msh_fc_grid_rows(g, cy0, cy1, &from, &to);
    int k = r->app->cfg.k_anon, minutes = msh_fc_minutes[h];
    char issued[MSH_TIME_ISO_CAP];
    msh_time_format_iso(fr->issued_ms, issued, sizeof issued, 0);
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 30);
    msh_buf_printf(&b, "{\"type\":\"FeatureCollection\",\"model\":\"%s\",\"minutes\":%d,\"issued_at\":\"%s\",\"features\":[",
                   msh_fc_model_names[model], minutes, issued);
    size_t shown = 0;
    for (size_t i = from; i < to; i++) {
        const msh_fc_out *c = &g->cells[i];
        if (c->cx < cx0 || c->cx > cx1 || c->count < (float)k || !(c->count > 0))
            continue;
        double side = msh_fc_cell_side_m(c->cy), area = side * side, dens = c->count / area, pe, pf;
        msh_fc_prob(c->count, area, minutes, &pe, &pf);
        msh_buf_printf(&b, "%s{\"type\":\"Feature\",\"id\":\"%u-%u\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":",
                       shown ? "," : "", c->cx, c->cy);
        cell_ring(&b, c->cx, c->cy);
        msh_buf_printf(&b, "},\"properties\":{\"count\":%.2f,\"density\":%.4f,\"los\":\"%c\",\"p_e\":%.4f,\"p_f\":%.4f,"
                           "\"minutes\":%d,\"issued_at\":\"%s\"}}",
                       c->count, dens, msh_fruin_los(dens), pe, pf, minutes, issued);
        shown++;
    }
    msh_buf_printf(&b, "],\"numberReturned\":%zu}\n", shown);
    msh_forecast_result_release(fr);
    msh_forecast_send(r, &b, false, "application/geo+json", "forecast");
}

void msh_route_forecast_refresh(msh_req *r, const char *rest)
{
    (void)rest;
    if (!r->app->cfg.test_clock) {
        msh_resp_error(r, 404, "no such resource: %.80s", r->path);
        return;
    }
    msh_err err;
    if (msh_forecast_service_refresh(r->app, &err)) {
        msh_resp_error(r, msh_err_http_status(err.code), "%s", err.msg);
        return;
    }
    msh_forecast_result *fr = msh_forecast_service_current(r->app);
    char issued[MSH_TIME_ISO_CAP];
    msh_time_format_iso(fr ? fr->issued_ms : 0, issued, sizeof issued, 0);
    msh_buf b;
    msh_buf_init(&b, 4096);
    msh_buf_printf(&b,
                   "{\"issued_at\":\"%s\",\"cells\":%zu,\"segments\":%zu,\"mapped_cells\":%zu,\"people\":%.1f,"
                   "\"open_ground_people\":%.1f,\"cpu_ms\":%.1f,\"wall_ms\":%.1f,\"model_setup_cpu_ms\":%.1f,\"model_run_cpu_ms\":%.1f,"
                   "\"copy_ms\":%.1f}\n",
                   issued, fr ? fr->cells : 0, fr ? fr->stats.segments : 0, fr ? fr->stats.mapped_cells : 0,
                   fr ? fr->stats.people_start : 0, fr ? fr->stats.open_people : 0, fr ? fr->cpu_ms : 0, fr ? fr->wall_ms : 0,
                   fr ? fr->stats.setup_ms : 0, fr ? fr->stats.run_ms : 0, fr ? fr->copy_ms : 0);
    msh_forecast_result_release(fr);
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}
