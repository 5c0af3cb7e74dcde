/* routes_archives.c: /tiles/{archive}/{z}/{x}/{y}.mvt|.png and /tiles/{archive}.json (see routes_archives.h). */
#include "routes/routes_archives.h"

#include <stdio.h>
#include <string.h>

#include "core/msh_hash.h"
#include "gunzip.h"
#include "routes/routes.h"
#include "services/archive_service.h"

static void tilejson(msh_req *r, const msh_archive *a)
{
    char base[300];
    msh_req_base_url(r, base, sizeof base);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_buf_printf(&b, "{\"tilejson\":\"3.0.0\",\"name\":\"%s\",\"scheme\":\"xyz\",", a->name);
    msh_buf_printf(&b, "\"tiles\":[\"%s/tiles/%s/{z}/{x}/{y}.%s\"],", base, a->name, a->vector ? "mvt" : "png");
    msh_buf_printf(&b, "\"minzoom\":%d,\"maxzoom\":%d,\"bounds\":[%.7f,%.7f,%.7f,%.7f],", a->minzoom, a->maxzoom,
                   a->bounds[0], a->bounds[1], a->bounds[2], a->bounds[3]);
    msh_buf_printf(&b, "\"center\":[%.7f,%.7f,%d]", a->center[0], a->center[1], (int)a->center[2]);
    if (!a->vector)
        msh_buf_printf(&b, ",\"format\":\"%s\"", a->ext);
    if (a->attribution) {
        msh_buf_printf(&b, ",\"attribution\":\"");
        msh_buf_json_str(&b, a->attribution);
        msh_buf_printf(&b, "\"");
    }
    if (a->vector)
        msh_buf_printf(&b, ",\"vector_layers\":%s", a->vector_layers ? a->vector_layers : "[]");
    msh_buf_printf(&b, "}\n");
    snprintf(r->resp.etag, sizeof r->resp.etag, "\"%s-tilejson\"", a->etag);
    r->resp.cache_control = "no-cache";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}

static void tile(msh_req *r, const msh_archive *a, const msh_tilepath *tp)
{
    bool want_png = tp->kind == MSH_TP_PNG;
    if (want_png == a->vector || (want_png && tp->ratio != 1)) {
        msh_resp_error(r, 404, "%s holds %s tiles: /tiles/%s/{z}/{x}/{y}.%s", a->name, a->vector ? "vector" : a->ext,
                       a->name, a->vector ? "mvt" : "png");
        return;
    }
    msh_buf t;
    msh_buf_init(&t, MSH_MAX_BODY);
    msh_err err;
    msh_rc rc = msh_archive_tile(a, tp->z, tp->x, tp->y, &t, &err);
    if (rc) {
        msh_resp_error(r, rc == MSH_ENOTFOUND ? 404 : 500, "%s", err.msg);
        msh_buf_free(&t);
        return;
    }
    bool gz = a->vector && t.len >= 2 && t.data[0] == 0x1f && t.data[1] == 0x8b;
    bool send_gz = gz && msh_req_accepts_gzip(r);
    r->resp.cache_control = r->app->tile_cache_control;
    r->resp.vary_encoding = a->vector;
    snprintf(r->resp.etag, sizeof r->resp.etag, "\"%s-%016llx%s\"", a->etag,
             (unsigned long long)msh_fnv1a(t.data, t.len, 0xcbf29ce484222325ull), send_gz ? "-gz" : "");
    r->resp.ctype = a->ctype;
    r->resp.status = 200;
    if (msh_req_etag_matches(r, r->resp.etag)) { /* http.c answers 304 */
        msh_buf_free(&t);
        return;
    }
    msh_buf_reset(&r->resp.body);
    if (gz && !send_gz) {
        if (msh_gunzip(t.data, t.len, MSH_MAX_BODY, &r->resp.body)) {
            msh_resp_error(r, 500, "tile %d/%u/%u of %s is not valid gzip", tp->z, tp->x, tp->y, a->name);
            msh_buf_free(&t);
            return;
        }
    } else {
        msh_buf_free(&r->resp.body);
        r->resp.body = t; /* handed over */
        msh_buf_init(&t, 0);
    }
    r->resp.gzip = send_gz;
    msh_metrics_tile(r->app->metrics, 0, r->resp.body.len);
    msh_buf_free(&t);
}

bool msh_route_archive(msh_req *r, const msh_tilepath *tp)
{
    const msh_archive *a = tp->nlayers == 1 ? msh_archive_find(r->app->archives, tp->layers[0]) : NULL;
    if (!a)
        return false;
    if (tp->kind == MSH_TP_TILEJSON)
        tilejson(r, a);
    else
        tile(r, a, tp);
    return true;
}
