/* routes_forecast_tiles.c: the crowd density forecast on the map.
 *   GET /tiles/forecast/{z}/{x}/{y}.mvt?minutes=M   one MVT layer `forecast`: the forecast's cells as
 *       polygons (count, density, los, p_e, p_f, minutes, issued_at), summed to the movement tiles'
 *       cell level of the zoom (layers/forecast/fc_layer.h; from z16 on, /forecast/density's cells)
 *   GET /tiles/forecast.json?minutes=M               its TileJSON
 *   GET /heatmaps/forecast/{z}/{x}/{y}[@2x].png?minutes=M[&mode=cells]   the density heatmap's
 *       pixels and colours (Fruin levels, layers/render/heatmap.h) drawn from the forecast
 * M is one of 0, 5, 10, 15, 20, 30 (default 10; 0: the observed state the forecast started from).
 * Only the cell-transmission model is drawn; base cells under --k-anon people are left out as in
 * /forecast/density. 404 when the server runs without a forecast, 503 before the first one.
 *
 * Caching, as the live layers: the vector tile goes through the /tiles path (msh_tiles_answer_mvt:
 * ETag, tile cache, gzip, 304), its ETag made of the issue time, minutes, k and the tile; the
 * heatmap's ETag is made of the forecast's identity (issue time and refresh number), the minutes, k
 * and the drawing's parameters, so a revalidation or a cached picture costs no summing of the
 * forecast's cells: those are summed only to draw a picture the cache does not hold. Both change
 * when a refresh publishes a forecast and never in between.
 * Locks: none here; the forecast result is held by reference while the answer is made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_hash.h"
#include "forecast/fc_layer.h"
#include "http/resp_cache.h"
#include "http/tilepath.h"
#include "routes/routes.h"
#include "routes/routes_forecast.h"
#include "routes/routes_heatmap.h"
#include "vector_layers.h"

#define FC_DEFAULT_MINUTES 10

/* The horizon index of `minutes` (default FC_DEFAULT_MINUTES); -1 after answering 400. */
static int arg_minutes(msh_req *r)
{
    return msh_req_arg(r, "minutes") ? msh_forecast_arg_minutes(r) : msh_fc_horizon_index(FC_DEFAULT_MINUTES);
}

/* The current forecast (release it) and in *h the horizon asked for; NULL after answering 400, 404 or 503. */
static msh_forecast_result *horizon(msh_req *r, int *h)
{
    *h = arg_minutes(r);
    return *h < 0 ? NULL : msh_forecast_arg_result(r);
}

/* The rows' `rest` follows ".../forecast/"; the path parsers read from the name `forecast` on. */
void msh_route_forecast_tile(msh_req *r, const char *rest)
{
    (void)rest;
    msh_tilepath tp;
    msh_err err;
    if (msh_tilepath_parse(r->path + strlen("/tiles/"), &tp, &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    if (tp.kind != MSH_TP_MVT) {
        msh_resp_error(r, 400, "forecast tiles are .mvt; the picture is /heatmaps/forecast/{z}/{x}/{y}.png");
        return;
    }
    int h;
    msh_forecast_result *fr = horizon(r, &h);
    if (!fr)
        return;
    msh_fc_layer l;
    msh_fc_layer_init(&l, msh_forecast_grid(fr, MSH_FC_MODEL_CTM, h), msh_fc_minutes[h], fr->issued_ms,
                      r->app->cfg.k_anon);
    msh_layer *layers[1] = {&l.base};
    msh_catalog *cat = msh_app_catalog(r->app);
    msh_tiles_answer_mvt(r, cat, layers, 1, tp.z, tp.x, tp.y);
    msh_catalog_release(cat);
    msh_forecast_result_release(fr);
}

void msh_route_forecast_tilejson(msh_req *r, const char *rest)
{
    (void)rest;
    int h = arg_minutes(r);
    if (h < 0)
        return;
    if (!r->app->forecast) {
        msh_resp_error(r, 404, "no forecast: the server runs without live feeds or walkways");
        return;
    }
    msh_fc_layer l;
    msh_fc_layer_init(&l, NULL, msh_fc_minutes[h], 0, r->app->cfg.k_anon); /* its schema only: never queried */
    msh_layer *layers[1] = {&l.base};
    char base[300];
    msh_req_base_url(r, base, sizeof base);
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 20);
    msh_buf_printf(&b, "{\"tilejson\":\"3.0.0\",\"name\":\"forecast\",\"scheme\":\"xyz\","
                       "\"description\":\"Crowd density forecast %d minutes ahead\",", msh_fc_minutes[h]);
    msh_buf_printf(&b, "\"tiles\":[\"%s/tiles/forecast/{z}/{x}/{y}.mvt?minutes=%d\"],", base, msh_fc_minutes[h]);
    msh_buf_printf(&b, "\"minzoom\":0,\"maxzoom\":22,\"bounds\":[-180,-85.0511,180,85.0511],");
    msh_vector_layers_json(&b, layers, 1);
    msh_buf_printf(&b, "}\n");
    r->resp.cache_control = "no-cache";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}

/* ---- the heatmap ---- */

typedef struct {
    msh_heat_params *p;
    msh_err err;
    int bad;
} args_job;

static int on_arg(void *ud, const char *key, const char *value)
{
    args_job *j = ud;
    if (!strcmp(key, "minutes"))
        return 0; /* arg_minutes */
    if (msh_heat_param(j->p, true, key, value, &j->err)) {
        j->bad = 1;
        return 1;
    }
    return 0;
}

static int add_cell(void *ud, const msh_fc_map_cell *c)
{
    msh_heat_grid_add(ud, c->cx, c->cy, c->count);
    return 0;
}

void msh_route_forecast_heatmap(msh_req *r, const char *rest)
{
    (void)rest;
    msh_heat_path hp;
    msh_err err;
    if (msh_heat_path_parse(r->path + strlen("/heatmaps/"), &hp, &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    if (hp.kind != MSH_HEAT_TILE) {
        msh_resp_error(r, 404, "the forecast heatmap has the density heatmap's legend: /heatmaps/density/legend");
        return;
    }
    msh_heat_params p;
    msh_heat_params_init(&p);
    args_job aj = {&p, {0}, 0};
    msh_req_args(r, on_arg, &aj);
    if (aj.bad) {
        msh_resp_error(r, 400, "%s", aj.err.msg);
        return;
    }
    if (p.png) {
        msh_resp_error(r, 400, "f: only the legend takes f");
        return;
    }
    int h;
    msh_forecast_result *fr = horizon(r, &h);
    if (!fr)
        return;
    msh_catalog *cat = msh_app_catalog(r->app);
    uint8_t *rgba = NULL;
    int k = r->app->cfg.k_anon;
    char params[200], key[1024];
    int n = snprintf(params, sizeof params, "k=%d|m=%d|", k, msh_fc_minutes[h]);
    msh_heat_params_key(&p, true, params + n, sizeof params - (size_t)n);
    r->resp.cache_control = "no-cache";
    uint64_t id[2] = {(uint64_t)fr->issued_ms, fr->seq};
    if (msh_heat_etag_and_key(r, cat, "forecast", msh_fnv1a(id, sizeof id, MSH_FNV1A_INIT), params, &hp, key,
                              sizeof key) ||
        msh_resp_from_cache(r, key))
        goto out_result;
    msh_heat_grid g;
    if (msh_heat_grid_init(&g, hp.z, hp.x, hp.y, &err)) {
        msh_resp_error(r, 500, "%s", err.msg);
        goto out_result;
    }
    double box[4];
    msh_heat_grid_box(&g, box);
    if (msh_fc_cells_in(msh_forecast_grid(fr, MSH_FC_MODEL_CTM, h), g.level, box, k, msh_fc_minutes[h], add_cell, &g,
                        &err)) {
        msh_resp_error(r, msh_err_http_status(err.code), "%s", err.msg);
        goto out;
    }
    int size = 256 * hp.scale;
    msh_render_gate_enter(&r->app->render_gate); /* one render per core (server/render_gate.h) */
    if (!msh_resp_from_cache(r, key)) {
        rgba = malloc((size_t)size * size * 4);
        if (rgba) {
            msh_heat_density_render(&g, hp.z, hp.x, hp.y, size, p.mode, rgba);
            msh_heat_send_png(r, key, rgba, size);
        } else {
            msh_resp_error(r, 500, "out of memory");
        }
    }
    msh_render_gate_leave(&r->app->render_gate);
out:
    msh_heat_grid_free(&g);
out_result:
    free(rgba);
    msh_catalog_release(cat);
    msh_forecast_result_release(fr);
}
