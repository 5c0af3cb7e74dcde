/* routes_tiles.c: vector tiles and TileJSON. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/auth.h"
#include "routes/routes.h"
#include "http/etag.h"
#include "routes/routes_archives.h"
#include "routes/routes_playback.h"
#include "routes/routes_raster.h"
#include "tile.h"
#include "tilegeom.h"
#include "vector_layers.h"
#include "http/tilepath.h"
#include "core/msh_hash.h"

/* Resolve the named layers in the snapshot; answers 404 itself when one is unknown. */
static int resolve(msh_req *r, const msh_catalog *cat, const msh_tilepath *tp, msh_layer **layers)
{
    for (int i = 0; i < tp->nlayers; i++) {
        layers[i] = msh_catalog_find(cat, tp->layers[i], strlen(tp->layers[i]));
        if (!layers[i]) {
            msh_resp_error(r, 404, "unknown layer '%s' (see /catalog)", tp->layers[i]);
            return -1;
        }
    }
    return 0;
}

static msh_tiler *thread_tiler(msh_app *app)
{
    msh_tiler *t = pthread_getspecific(app->tiler_key);
    if (!t) {
        t = msh_tiler_new(app->cfg.max_tile_bytes);
        if (t)
            pthread_setspecific(app->tiler_key, t);
    }
    return t;
}

/* The tile's cache key: the layers' ETag, their names and z/x/y (one entry whichever path asked:
 * /tiles or OGC API - Tiles); a hash of the names when they do not fit. */
static void tile_key(char *key, size_t cap, const char *etag, msh_layer *const *layers, int n, int z, uint32_t x,
                     uint32_t y)
{
    size_t k = (size_t)snprintf(key, cap, "%s|", etag);
    for (int i = 0; i < n && k < cap; i++)
        k += (size_t)snprintf(key + k, cap - k, "%s%s", i ? "," : "", layers[i]->info.name);
    if (k + 40 >= cap) {
        uint64_t h = MSH_FNV1A_INIT;
        for (int i = 0; i < n; i++)
            h = msh_fnv1a(layers[i]->info.name, strlen(layers[i]->info.name) + 1, h);
        k = (size_t)snprintf(key, cap, "%s|#%016llx", etag, (unsigned long long)h);
    }
    snprintf(key + k, cap - k, "/%d/%u/%u", z, x, y);
}

void msh_tiles_answer_mvt(msh_req *r, msh_catalog *cat, msh_layer **layers, int nlayers, int z, uint32_t x, uint32_t y)
{
    msh_app *app = r->app;
    bool live = false, personal = false;
    for (int i = 0; i < nlayers; i++) {
        live |= layers[i]->vt->region_version != NULL;
        personal |= layers[i]->info.access >= MSH_ACCESS_OPS;
    }
    if (personal && !msh_auth_require(r, MSH_ROLE_OPS))
        return; /* individual positions are personal data */
    msh_tile_xf xf;
    msh_tile_xf_init(&xf, z, x, y);
    double box[4];
    msh_tile_xf_query_box(&xf, box);
    char etag[48];
    msh_layers_etag(cat, layers, nlayers, z, box, etag, sizeof etag);
    /* live tiles change any second: clients revalidate (cheap: 304 while their cells stand still) */
    r->resp.cache_control = personal ? "private, no-cache" : live ? "no-cache" : app->tile_cache_control;
    r->resp.vary_encoding = true;
    r->resp.ctype = "application/vnd.mapbox-vector-tile";
    bool gz = msh_req_accepts_gzip(r);
    snprintf(r->resp.etag, sizeof r->resp.etag, "%.*s%s\"", (int)strlen(etag) - 1, etag, gz ? "-gz" : "");
    if (msh_req_etag_matches(r, r->resp.etag)) {
        r->resp.status = 200; /* http.c turns it into 304 */
        return;
    }
    char key[1400];
    tile_key(key, sizeof key, etag, layers, nlayers, z, x, y);
    const uint8_t *body = NULL;
    size_t len = 0;
    int have_gz = 0;
    msh_tile_ref *ref = msh_tile_cache_get(app->cache, key, gz, &body, &len, &have_gz);
    if (ref) {
        msh_metrics_tile(app->metrics, 1, len);
        r->resp.status = len ? 200 : 204;
        if (!len) {
            msh_tile_cache_release(ref);
        } else if (gz && !have_gz) {
            /* cached for a client that did not take gzip: compress this copy now */
            if (msh_gzip(body, len, &r->resp.body, MSH_TILE_GZIP_LEVEL) == MSH_OK) {
                r->resp.gzip = true;
            } else {
                msh_buf_reset(&r->resp.body);
                msh_buf_append(&r->resp.body, body, len);
                r->resp.etag[0] = 0;
            }
            msh_tile_cache_release(ref);
        } else {
            r->resp.gzip = have_gz;
            r->resp.ext = body; /* sent straight from the cache entry */
            r->resp.ext_len = len;
            r->resp.ext_free = (void (*)(void *))msh_tile_cache_release;
            r->resp.ext_cls = ref;
        }
        return;
    }
    msh_tiler *t = thread_tiler(app);
    if (!t) {
        msh_resp_error(r, 500, "out of memory");
        return;
    }
    const uint8_t *data;
    msh_err err;
    msh_rc rc = msh_tile_mvt(t, layers, (size_t)nlayers, z, x, y, &data, &len, NULL, &err);
    if (rc) {
        msh_resp_error(r, 500, "%s", err.msg);
        return;
    }
    /* gzip only for clients that take it (every browser does); the cache keeps what was made */
    msh_buf gzb;
    msh_buf_init(&gzb, MSH_MAX_BODY);
    if (gz && len && msh_gzip(data, len, &gzb, MSH_TILE_GZIP_LEVEL)) {
        msh_buf_free(&gzb);
        msh_resp_error(r, 500, "compression failed");
        return;
    }
    msh_tile_cache_put(app->cache, key, data, len, gz ? gzb.data : NULL, gz ? gzb.len : 0, gz);
    msh_metrics_tile(app->metrics, 0, gz ? gzb.len : len);
    r->resp.status = len ? 200 : 204;
    if (len) {
        r->resp.gzip = gz;
        if (gz) {
            msh_buf_free(&r->resp.body);
            r->resp.body = gzb;
            gzb.data = NULL;
        } else {
            msh_buf_append(&r->resp.body, data, len);
        }
    }
    msh_buf_free(&gzb);
}

static void tilejson(msh_req *r, msh_catalog *cat, const msh_tilepath *tp)
{
    msh_layer *layers[MSH_TILEPATH_MAX_LAYERS];
    if (resolve(r, cat, tp, layers))
        return;
    char base[300];
    msh_req_base_url(r, base, sizeof base);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    double bb[4];
    int minz, maxz;
    msh_layers_extent(layers, (size_t)tp->nlayers, bb, &minz, &maxz);
    char names[MSH_TILEPATH_MAX_LAYERS * MSH_TILEPATH_NAME_MAX];
    size_t nl = 0;
    names[0] = 0;
    for (int i = 0; i < tp->nlayers; i++) /* fits: at most MAX_LAYERS names of NAME_MAX-1 plus commas */
        nl += (size_t)snprintf(names + nl, sizeof names - nl, "%s%s", i ? "," : "", tp->layers[i]);
    /* a centre zoom that shows the whole extent in about one 512 px view */
    double span = fmax(bb[2] - bb[0], 1e-6);
    int cz = (int)floor(log2(360.0 / span));
    if (cz < minz) cz = minz;
    if (cz > maxz) cz = maxz;
    msh_buf_printf(&b, "{\"tilejson\":\"3.0.0\",\"name\":\"%s\",\"scheme\":\"xyz\",", names);
    msh_buf_printf(&b, "\"tiles\":[\"%s/tiles/%s/{z}/{x}/{y}.mvt\"],", base, names);
    msh_buf_printf(&b, "\"minzoom\":%d,\"maxzoom\":%d,\"bounds\":[%.7f,%.7f,%.7f,%.7f],", minz, maxz, bb[0], bb[1], bb[2], bb[3]);
    msh_buf_printf(&b, "\"center\":[%.7f,%.7f,%d],", (bb[0] + bb[2]) / 2, (bb[1] + bb[3]) / 2, cz);
    msh_buf_printf(&b, "\"attribution\":\"\\u00a9 OpenStreetMap contributors\",");
    msh_vector_layers_json(&b, layers, (size_t)tp->nlayers);
    msh_buf_printf(&b, "}\n");
    char etag[48];
    msh_layers_etag(cat, layers, tp->nlayers, 0, NULL, etag, sizeof etag);
    snprintf(r->resp.etag, sizeof r->resp.etag, "%s", etag);
    r->resp.cache_control = "no-cache";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}

void msh_route_tiles(msh_req *r, const char *rest)
{
    msh_tilepath tp;
    msh_err err;
    if (msh_tilepath_parse(rest, &tp, &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    if (msh_route_archive(r, &tp)) /* an archive of --tiles FILE */
        return;
    msh_catalog *cat = msh_app_catalog(r->app);
    if (tp.kind == MSH_TP_TILEJSON)
        tilejson(r, cat, &tp);
    else if (tp.kind == MSH_TP_PNG)
        msh_route_raster_layers(r, cat, &tp);
    else {
        msh_layer *layers[MSH_TILEPATH_MAX_LAYERS], *past = NULL;
        bool one_movement = tp.nlayers == 1 && !strcmp(tp.layers[0], "movement");
        if (msh_req_arg(r, "time") && !one_movement)
            msh_resp_error(r, 400, "time: only /tiles/movement/{z}/{x}/{y}.mvt has a past (GET /playback)");
        else if (!resolve(r, cat, &tp, layers) && (!one_movement || msh_playback_past_movement(r, cat, &past) >= 0)) {
            if (past)
                layers[0] = past; /* the movement layer of the minute asked for (routes_playback.c) */
            msh_tiles_answer_mvt(r, cat, layers, tp.nlayers, tp.z, tp.x, tp.y);
            if (past)
                msh_playback_answered(r);
        }
        msh_layer_release(past);
    }
    msh_catalog_release(cat);
}
