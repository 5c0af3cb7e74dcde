/* routes_heatmap.c: GET /heatmaps/density/{z}/{x}/{y}.png, /heatmaps/{layer}/{z}/{x}/{y}.png and the legend.
 *
 * Pixels come from layers/render/heatmap.c, the PNG from layers/render/png.c. Tiles go in the
 * tile cache under a key made of the ETag (store id, the layer's version or, for live data,
 * the region version over the tile plus the margin the pixels read; for the density, a hash of
 * the k-anonymous grid the pixels are drawn from) and the parameters, so a data change makes
 * the old picture unreachable at once, as for vector tiles.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/auth.h"
#include "heatmap.h"
#include "live/live.h"
#include "live/live_layers.h"
#include "png.h"
#include "query/cql2.h"
#include "routes/routes.h"
#include "routes/routes_heatmap.h"
#include "http/resp_cache.h"
#include "routes/routes_playback.h"
#include "core/msh_hash.h"
#include "core/msh_constants.h"

/* Live heatmaps change every second: a short max-age spares a panning client the round trips. */
#define HEAT_LIVE_CACHE_CONTROL "public, max-age=2"

typedef struct {
    msh_heat_params *p;
    bool density;
    msh_err err;
    int bad;
} args_job;

static int on_arg(void *ud, const char *key, const char *value)
{
    args_job *j = ud;
    if (j->density && !strcmp(key, "time"))
        return 0; /* the past of the density (routes_playback.c) */
    if (msh_heat_param(j->p, j->density, key, value, &j->err)) {
        j->bad = 1;
        return 1;
    }
    return 0;
}

static void legend_json(msh_req *r)
{
    msh_buf b;
    msh_buf_init(&b, 1 << 16);
    const msh_heat_level *lv = msh_heat_levels();
    msh_buf_printf(&b,
                   "{\"name\":\"Crowd density, Fruin walkway level of service\",\"units\":\"persons/m2\",\"levels\":[");
    for (int i = 0; i < 6; i++) {
        msh_buf_printf(&b, "%s{\"los\":\"%c\",\"min\":%g,", i ? "," : "", lv[i].los, lv[i].lo);
        if (isinf(lv[i].hi))
            msh_buf_printf(&b, "\"max\":null,");
        else
            msh_buf_printf(&b, "\"max\":%g,", lv[i].hi);
        const uint8_t *c = lv[i].rgba;
        msh_buf_printf(&b, "\"colour\":\"#%02x%02x%02x\",\"rgba\":[%u,%u,%u,%u],\"opacity\":%.3f,\"label\":{\"en\":\"",
                       c[0], c[1], c[2], c[0], c[1], c[2], c[3], c[3] / 255.0);
        msh_buf_json_str(&b, lv[i].label_en);
        msh_buf_printf(&b, "\",\"ar\":\"");
        msh_buf_json_str(&b, lv[i].label_ar);
        msh_buf_printf(&b, "\"}}");
    }
    msh_buf_printf(&b,
                   "],\"rule\":\"A: d < %g; B: %g <= d < %g; C: %g <= d < %g; D: %g <= d < %g; "
                   "E: %g <= d <= %g; F: d > %g; transparent: nobody (or fewer than k people)\",\"source\":\"",
                   MSH_FRUIN_A_MAX, MSH_FRUIN_A_MAX, MSH_FRUIN_B_MAX, MSH_FRUIN_B_MAX, MSH_FRUIN_C_MAX, MSH_FRUIN_C_MAX,
                   MSH_FRUIN_D_MAX, MSH_FRUIN_D_MAX, MSH_FRUIN_E_MAX, MSH_FRUIN_E_MAX);
    msh_buf_json_str(&b, MSH_HEAT_FRUIN_SOURCE);
    msh_buf_printf(&b, "\"}\n");
    r->resp.cache_control = r->app->tile_cache_control;
    snprintf(r->resp.etag, sizeof r->resp.etag, "\"l%016llx\"",
             (unsigned long long)msh_fnv1a(b.data, b.len, MSH_FNV1A_INIT));
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}

static void legend_png(msh_req *r, int scale)
{
    msh_buf b;
    msh_buf_init(&b, (size_t)8 << 20);
    msh_err err;
    if (msh_heat_legend_png(scale, &b, &err)) {
        msh_buf_free(&b);
        msh_resp_error(r, 500, "%s", err.msg);
        return;
    }
    r->resp.cache_control = r->app->tile_cache_control;
    snprintf(r->resp.etag, sizeof r->resp.etag, "\"l%016llx\"",
             (unsigned long long)msh_fnv1a(b.data, b.len, MSH_FNV1A_INIT));
    r->resp.ctype = "image/png";
    r->resp.status = 200;
    msh_buf_free(&r->resp.body);
    r->resp.body = b;
}

void msh_heat_send_png(msh_req *r, const char *key, const uint8_t *rgba, int size)
{
    msh_buf png;
    msh_buf_init(&png, MSH_MAX_BODY);
    msh_err err;
    msh_png_opts o;
    msh_png_opts_init(&o);
    /* the worker's own encoder: its z_stream and rows are reused from tile to tile */
    msh_png_enc *enc = pthread_getspecific(r->app->png_key);
    if (!enc && (enc = msh_png_enc_new())) pthread_setspecific(r->app->png_key, enc);
    if (msh_png_encode(enc, rgba, (uint32_t)size, (uint32_t)size, (size_t)size * 4, &o, &png, &err)) {
        msh_buf_free(&png);
        msh_resp_error(r, 500, "%s", err.msg);
        return;
    }
    msh_tile_cache_put(r->app->cache, key, png.data, png.len, NULL, 0, 0);
    msh_metrics_tile(r->app->metrics, 0, png.len);
    r->resp.status = 200;
    msh_buf_free(&r->resp.body);
    r->resp.body = png;
}

static int fill_from_cell(void *ud, const msh_live_cell *c)
{
    msh_heat_grid_set(ud, c->cx, c->cy, c->count);
    return 0;
}

bool msh_heat_etag_and_key(msh_req *r, msh_catalog *cat, const char *what, uint64_t version, const char *params,
                         const msh_heat_path *hp, char *key, size_t cap)
{
    const char *id = msh_catalog_store_id(cat);
    uint64_t h = msh_fnv1a(id, strlen(id), MSH_FNV1A_INIT);
    h = msh_fnv1a(what, strlen(what) + 1, h);
    h = msh_fnv1a(&version, sizeof version, h);
    h = msh_fnv1a(params, strlen(params), h);
    snprintf(r->resp.etag, sizeof r->resp.etag, "\"h%016llx\"", (unsigned long long)h);
    r->resp.ctype = "image/png";
    snprintf(key, cap, "heat|%s|%s|%d/%u/%u@%d|%s", r->resp.etag, what, hp->z, hp->x, hp->y, hp->scale, params);
    if (msh_req_etag_matches(r, r->resp.etag)) {
        r->resp.status = 200; /* http.c turns it into 304 */
        return true;
    }
    return false;
}

/* mv: the movement layer whose cells are drawn (the catalog's, or a past minute's: routes_playback.c). */
static void density_tile(msh_req *r, msh_catalog *cat, msh_layer *mv, const msh_heat_path *hp,
                         const msh_heat_params *p)
{
    msh_app *app = r->app;
    if (!app->live) {
        msh_resp_error(r, 404, "the density heatmap needs the live state (the server runs with --no-live)");
        return;
    }
    msh_err err;
    msh_heat_grid g;
    if (msh_heat_grid_init(&g, hp->z, hp->x, hp->y, &err)) {
        msh_resp_error(r, 500, "%s", err.msg);
        return;
    }
    /* The ETag is a hash of the cells the pixels are drawn from, as k-anonymity shows them: it
     * changes when the picture can, never because a person it does not show moved (a tag made
     * from the chunks' versions would let a client locate a lone person by polling). The grid's
     * level is the movement layer's at z + 1, whose region version is that hash (remembered while
     * the chunks under it do not change); without that layer, the grid is filled and hashed. */
    double box[4];
    msh_heat_grid_box(&g, box);
    int mv_level = hp->z + 1 + 6 > 22 ? 22 : hp->z + 1 + 6; /* live_layers.c: cells 2^(z+6), at most 2^22 */
    bool filled = !(mv && mv->vt->region_version && mv_level == g.level);
    if (filled && msh_heat_grid_fill(&g, app->live, app->cfg.k_anon, &err)) {
        msh_heat_grid_free(&g);
        msh_resp_error(r, 500, "%s", err.msg);
        return;
    }
    uint64_t version = filled ? msh_heat_grid_hash(&g) : mv->vt->region_version(mv, hp->z + 1, box);
    char params[160], key[1024];
    int n = snprintf(params, sizeof params, "k=%d|", app->cfg.k_anon);
    msh_heat_params_key(p, true, params + n, sizeof params - (size_t)n);
    r->resp.cache_control = HEAT_LIVE_CACHE_CONTROL;
    if (msh_heat_etag_and_key(r, cat, "density", version, params, hp, key, sizeof key) || msh_resp_from_cache(r, key)) {
        msh_heat_grid_free(&g);
        return;
    }
    int size = 256 * hp->scale;
    /* one render per core, in arrival order (server/render_gate.h); the tile may be in the cache after the wait */
    msh_render_gate_enter(&app->render_gate);
    uint8_t *rgba = NULL;
    if (msh_resp_from_cache(r, key)) goto out;
    rgba = malloc((size_t)size * size * 4);
    /* not filled: the movement layer's cells, built for the ETag above on this thread */
    if (!rgba || (!filled && msh_live_movement_cells(mv, hp->z + 1, box, fill_from_cell, &g, &err))) {
        msh_resp_error(r, 500, "out of memory");
        goto out;
    }
    msh_heat_density_render(&g, hp->z, hp->x, hp->y, size, p->mode, rgba);
    msh_heat_send_png(r, key, rgba, size);
out:
    msh_render_gate_leave(&app->render_gate);
    free(rgba);
    msh_heat_grid_free(&g);
}

typedef struct {
    msh_heat_point *v;
    size_t n, cap;
    msh_cql2 *filter;
    int wfield; /* -1: weight 1 */
    int too_many;
} points_job;

static int on_feature(void *ud, const msh_feature *f)
{
    points_job *j = ud;
    if (f->geom.type != MSH_GT_POINT) return 0;
    if (j->filter && !msh_cql2_match(j->filter, f)) return 0;
    double w = 1;
    if (j->wfield >= 0) {
        const msh_value *v = &f->values[j->wfield];
        w = v->type == MSH_FT_INT    ? (double)v->u.i
            : v->type == MSH_FT_REAL ? v->u.d
            : v->type == MSH_FT_BOOL ? (double)(v->u.i != 0)
                                     : 0;
        if (!(w > 0) || !isfinite(w)) return 0; /* null, zero or negative weights draw nothing */
    }
    for (uint32_t i = 0; i < f->geom.npts; i++) {
        if (j->n == j->cap) {
            if (j->cap >= MSH_HEAT_MAX_POINTS) {
                j->too_many = 1;
                return 1;
            }
            size_t nc = j->cap ? j->cap * 2 : 1024;
            msh_heat_point *nv = realloc(j->v, nc * sizeof *nv);
            if (!nv) {
                j->too_many = 1;
                return 1;
            }
            j->v = nv;
            j->cap = nc;
        }
        j->v[j->n++] = (msh_heat_point){f->geom.xy[2 * i], f->geom.xy[2 * i + 1], w};
    }
    return 0;
}

static void kde_tile(msh_req *r, msh_catalog *cat, const msh_heat_path *hp, const msh_heat_params *p)
{
    msh_layer *l = msh_catalog_find(cat, hp->layer, strlen(hp->layer));
    if (!l || (l->info.access >= MSH_ACCESS_OPS && !msh_auth_require(r, MSH_ROLE_OPS))) {
        if (!l) msh_resp_error(r, 404, "unknown layer '%s' (see /catalog)", hp->layer);
        return;
    }
    if (msh_gtype_parse(l->info.geometry_type) != MSH_GT_POINT) {
        msh_resp_error(r, 400, "layer '%s' has %s geometry: heatmaps are drawn from point layers", hp->layer,
                       l->info.geometry_type);
        return;
    }
    points_job j = {NULL, 0, 0, NULL, -1, 0};
    if (p->weight) {
        for (uint32_t i = 0; i < l->info.nfields; i++)
            if (!strcmp(l->info.fields[i].name, p->weight)) j.wfield = (int)i;
        msh_ftype t = j.wfield >= 0 ? l->info.fields[j.wfield].type : MSH_FT_STRING;
        if (j.wfield < 0 || t == MSH_FT_STRING) {
            msh_resp_error(r, 400, "weight: '%s' is not a numeric field of layer '%s' (see /catalog)", p->weight,
                           hp->layer);
            return;
        }
    }
    msh_err err;
    if (p->filter && msh_cql2_parse(p->filter, p->filter_len, &l->info, &j.filter, &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    int size = 256 * hp->scale;
    double box[4];
    msh_heat_kde_box(hp->z, hp->x, hp->y, size, p->radius_m, box);
    bool live = l->vt->region_version != NULL;
    uint64_t version = live ? l->vt->region_version(l, hp->z, box) : l->info.version;
    char params[200], key[1024];
    msh_heat_params_key(p, false, params, sizeof params);
    r->resp.cache_control = live ? HEAT_LIVE_CACHE_CONTROL : r->app->tile_cache_control;
    if (l->info.access >= MSH_ACCESS_OPS) r->resp.cache_control = "private, no-cache";
    uint8_t *rgba = NULL;
    float *sum = NULL;
    if (msh_heat_etag_and_key(r, cat, hp->layer, version, params, hp, key, sizeof key) || msh_resp_from_cache(r, key)) goto out;
    msh_rc rc = l->vt->query(l, box, hp->z, on_feature, &j);
    if (rc || j.too_many) {
        msh_resp_error(r, j.too_many ? 413 : 500, "%s",
                       j.too_many ? "too many points under this tile: zoom in or filter" : "layer query failed");
        goto out;
    }
    /* a wide radius at a high zoom over many points is a lot of pixels: refuse it rather than spend seconds */
    double work = msh_heat_kde_work(j.v, j.n, hp->z, hp->x, hp->y, size, p->radius_m);
    if (work > MSH_HEAT_MAX_WORK) {
        msh_resp_error(r, 413,
                       "radius %g m over %zu points at zoom %d would take %.0f million kernel evaluations "
                       "(at most %.0f million): use a smaller radius, a filter or a lower zoom",
                       p->radius_m, j.n, hp->z, work / 1e6, MSH_HEAT_MAX_WORK / 1e6);
        goto out;
    }
    rgba = malloc((size_t)size * size * 4);
    sum = malloc((size_t)size * size * sizeof *sum);
    if (!rgba || !sum) {
        msh_resp_error(r, 500, "out of memory");
        goto out;
    }
    msh_render_gate_enter(&r->app->render_gate); /* one render per core (server/render_gate.h) */
    if (!msh_resp_from_cache(r, key)) {
        msh_heat_kde_render(j.v, j.n, hp->z, hp->x, hp->y, size, p->radius_m, p->max, sum, rgba);
        msh_heat_send_png(r, key, rgba, size);
    }
    msh_render_gate_leave(&r->app->render_gate);
out:
    free(rgba);
    free(sum);
    free(j.v);
    msh_cql2_free(j.filter);
}

void msh_route_heatmaps(msh_req *r, const char *rest)
{
    msh_heat_path hp;
    msh_err err;
    if (msh_heat_path_parse(rest, &hp, &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    bool density = !strcmp(hp.layer, "density");
    msh_heat_params p;
    msh_heat_params_init(&p);
    args_job aj = {&p, density, {0}, 0};
    msh_req_args(r, on_arg, &aj);
    if (aj.bad) {
        msh_resp_error(r, 400, "%s", aj.err.msg);
        return;
    }
    if (hp.kind != MSH_HEAT_TILE) {
        if (hp.kind == MSH_HEAT_LEGEND_PNG || p.png)
            legend_png(r, 1);
        else
            legend_json(r);
        return;
    }
    if (p.png) {
        msh_resp_error(r, 400, "f: only the legend takes f");
        return;
    }
    msh_catalog *cat = msh_app_catalog(r->app);
    msh_layer *past = NULL;
    if (density && msh_playback_past_movement(r, cat, &past) >= 0) {
        density_tile(r, cat, past ? past : msh_catalog_find(cat, "movement", 8), &hp, &p);
        if (past)
            msh_playback_answered(r);
        msh_layer_release(past);
    } else if (!density)
        kde_tile(r, cat, &hp, &p);
    msh_catalog_release(cat);
}
