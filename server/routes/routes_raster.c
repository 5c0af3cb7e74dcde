/* routes_raster.c: PNG tiles from MapLibre styles and from layers with a default style. */
#include "http/etag.h"
#include "routes/routes_raster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/auth.h"
#include "core/msh_tilemath.h"
#include "raster.h"
#include "http/resp_cache.h"
#include "routes/routes.h"
#include "services/raster_service.h"
#include "rstyle.h"
#include "core/msh_hash.h"

/* Answer one PNG tile of `st` over `layers` (the catalog layers it reads), cached. */
static void serve_png(msh_req *r, msh_catalog *cat, const msh_rstyle *st, msh_layer **layers, int nl, int z,
                      uint32_t x, uint32_t y, int ratio, const char *what)
{
    msh_app *app = r->app;
    bool live = false, personal = false;
    for (int i = 0; i < nl; i++) {
        live |= layers[i]->vt->region_version != NULL;
        personal |= layers[i]->info.access >= MSH_ACCESS_OPS;
    }
    if (personal && !msh_auth_require(r, MSH_ROLE_OPS))
        return;
    double box[4];
    msh_raster_read_box(z, x, y, box);
    char etag[48];
    msh_layers_etag(cat, layers, nl, z, box, etag, sizeof etag);
    unsigned long long h = (msh_rstyle_hash(st) ^ 0x9e3779b97f4a7c15ull) * (unsigned long long)(ratio + 1);
    h = msh_fnv1a(etag, strlen(etag), h);
    snprintf(r->resp.etag, sizeof r->resp.etag, "\"%016llx-png\"", h);
    r->resp.cache_control = personal ? "private, no-cache" : live ? "no-cache" : app->tile_cache_control;
    r->resp.ctype = "image/png";
    if (msh_req_etag_matches(r, r->resp.etag)) {
        r->resp.status = 200; /* http.c turns it into 304 */
        return;
    }
    char key[1500];
    snprintf(key, sizeof key, "%s|png|%s|%d/%u/%u@%d", r->resp.etag, what, z, x, y, ratio);
    if (msh_resp_from_cache(r, key))
        return;
    msh_raster *ras = msh_raster_service_thread(app->raster);
    if (!ras) {
        msh_resp_error(r, 500, "out of memory");
        return;
    }
    /* one render per core at a time, in arrival order; then the cache again: the tile may have
     * been drawn for another client while this one waited */
    msh_render_gate_enter(&app->render_gate);
    if (msh_resp_from_cache(r, key)) {
        msh_render_gate_leave(&app->render_gate);
        return;
    }
    const uint8_t *png;
    size_t len = 0;
    msh_err err;
    msh_rc rc = msh_raster_render(ras, st, cat, z, x, y, ratio, &png, &len, NULL, &err);
    if (!rc) msh_tile_cache_put(app->cache, key, png, len, NULL, 0, 0);
    msh_render_gate_leave(&app->render_gate);
    if (rc) {
        msh_resp_error(r, msh_err_http_status(err.code), "%s", err.msg);
        return;
    }
    msh_metrics_tile(app->metrics, 0, len);
    msh_resp_body(r, 200, r->resp.ctype, png, len);
}

/* "{z}/{x}/{y}.png" or "{z}/{x}/{y}@2x.png" */
static int parse_zxy(const char *s, int *z, uint32_t *x, uint32_t *y, int *ratio)
{
    unsigned long v[3];
    for (int i = 0; i < 3; i++) {
        if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
            return -1;
        char *e;
        v[i] = strtoul(s, &e, 10);
        if (e - s > 10 || (i < 2 && *e != '/'))
            return -1;
        s = i < 2 ? e + 1 : e;
    }
    if (!strcmp(s, ".png"))
        *ratio = 1;
    else if (!strcmp(s, "@2x.png"))
        *ratio = 2;
    else
        return -1;
    if (!msh_tile_valid((int)(v[0] > 30 ? 30 : v[0]), (int64_t)v[1], (int64_t)v[2]))
        return -2;
    *z = (int)v[0], *x = (uint32_t)v[1], *y = (uint32_t)v[2];
    return 0;
}

int msh_raster_style_layers(msh_catalog *cat, const msh_rstyle *st, msh_layer **layers)
{
    int n = 0;
    for (size_t i = 0; i < msh_rstyle_nlayers(st) && n < MSH_RASTER_STYLE_MAX_LAYERS; i++) {
        const char *sl = msh_rstyle_source_layer(st, i);
        msh_layer *l = sl ? msh_catalog_find(cat, sl, strlen(sl)) : NULL;
        bool dup = false;
        for (int k = 0; k < n && l && !dup; k++) dup = layers[k] == l;
        if (l && !dup)
            layers[n++] = l;
    }
    return n;
}

void msh_route_raster_style(msh_req *r, const char *rest)
{
    const char *slash = strchr(rest, '/');
    msh_raster_service *s = r->app->raster;
    if (!slash || !msh_raster_style_name_ok(rest, (size_t)(slash - rest))) {
        msh_resp_error(r, 404, "raster tiles are at /styles/{name}/{z}/{x}/{y}.png (or @2x.png)");
        return;
    }
    int z, ratio;
    uint32_t x, y;
    int pr = parse_zxy(slash + 1, &z, &x, &y, &ratio);
    if (pr) {
        msh_resp_error(r, 400, pr == -2 ? "tile '%s' is outside its zoom level (z 0 to 24, x and y below 2^z)"
                                        : "bad tile '%s': use {z}/{x}/{y}.png or {z}/{x}/{y}@2x.png",
                       slash + 1);
        return;
    }
    size_t nl = (size_t)(slash - rest);
    const msh_rstyle *st = NULL;
    msh_err err;
    msh_rc src = msh_raster_service_style(s, rest, nl, &st, &err);
    if (src) {
        msh_resp_error(r, msh_err_http_status(src), "%s", err.msg);
        return;
    }
    msh_catalog *cat = msh_app_catalog(r->app);
    msh_layer *layers[MSH_RASTER_STYLE_MAX_LAYERS];
    int n = msh_raster_style_layers(cat, st, layers);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)nl, rest);
    serve_png(r, cat, st, layers, n, z, x, y, ratio, name);
    msh_catalog_release(cat);
}

void msh_route_raster_layers(msh_req *r, msh_catalog *cat, const msh_tilepath *tp)
{
    msh_layer *layers[MSH_TILEPATH_MAX_LAYERS];
    const char *names[MSH_TILEPATH_MAX_LAYERS], *gtypes[MSH_TILEPATH_MAX_LAYERS];
    char what[MSH_TILEPATH_MAX_LAYERS * MSH_TILEPATH_NAME_MAX];
    size_t wl = 0;
    for (int i = 0; i < tp->nlayers; i++) {
        layers[i] = msh_catalog_find(cat, tp->layers[i], strlen(tp->layers[i]));
        if (!layers[i]) {
            msh_resp_error(r, 404, "unknown layer '%s' (see /catalog)", tp->layers[i]);
            return;
        }
        names[i] = layers[i]->info.name;
        gtypes[i] = layers[i]->info.geometry_type;
        wl += (size_t)snprintf(what + wl, sizeof what - wl, "%s%s", i ? "," : "", names[i]);
    }
    msh_rstyle *st = NULL;
    msh_err err;
    if (msh_rstyle_default(names, gtypes, (size_t)tp->nlayers, &st, &err)) {
        msh_resp_error(r, 500, "%s", err.msg);
        return;
    }
    serve_png(r, cat, st, layers, tp->nlayers, tp->z, tp->x, tp->y, tp->ratio, what);
    msh_rstyle_free(st);
}
