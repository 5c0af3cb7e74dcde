/* routes_isochrone.c: GET /isochrone (the area reachable on foot from a point), its cost
 * estimate for the admission gate, and its result cache.
 *
 * Design: an isochrone costs up to a second or more of CPU (layers/route/isochrone.h) and its
 * inputs repeat: a control room asks again and again from the same gates, mobile apps from
 * the same camps. So the answer is kept in the tile cache (bounded in bytes, --cache-mb) under
 * a key of every input: the origin rounded to 0.0001 degree (about 11 m; the answer is computed
 * from the rounded point and says so in its lon/lat), the minutes rounded to a tenth, the
 * snapping reach, and the version of the network view (layers/route/walknet.h), which changes
 * with the graph and with every recomputation of the live walking costs: a change in the crowd
 * or an incident makes every cached isochrone unreachable at once, and they age out of the LRU.
 * `profile=wheelchair` searches over the costs of route/access.h (steps, wheelchair=no and walkways
 * steeper than --max-incline closed), as /route does; the profile is part of the key.
 *
 * The cost estimate (route_costs.h) looks in the cache first and answers a hit itself, so a
 * repeated isochrone never waits at the admission gate; the handler looks again, as another
 * client may have computed the same one while this one was admitted.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/route_table.h"
#include "http/tile_cache.h"
#include "route/access.h"
#include "route/isochrone.h"
#include "route/params.h"
#include "routes/route_costs.h"
#include "routes/routes.h"
#include "routes/walkreq.h"

#define ISO_MAX_MINUTES 60
#define ISO_BUFFER_M 25.0
#define ISO_ORIGIN_STEP 1e-4 /* degrees the origin is rounded to */
#define ISO_FULL_UNITS 100   /* the cost of a 60-minute isochrone (route_costs.h) */

static atomic_ullong cache_hits, cache_misses;

typedef struct iso_args {
    double lon, lat, minutes, max_snap;
    msh_profile profile;
} iso_args;

/* The parameters, rounded; false (and nothing answered) when one is bad. */
static bool parse_args(msh_req *r, iso_args *a, msh_err *err)
{
    if (msh_param_number("lon", msh_req_arg(r, "lon"), -180, 180, &a->lon, err) ||
        msh_param_number("lat", msh_req_arg(r, "lat"), -85.05, 85.05, &a->lat, err) ||
        msh_param_number("minutes", msh_req_arg(r, "minutes"), 0.1, ISO_MAX_MINUTES, &a->minutes, err))
        return false;
    const char *s = msh_req_arg(r, "max_snap");
    a->max_snap = MSH_WALK_SNAP_DEFAULT;
    if (s && msh_param_number("max_snap", s, 1, 5000, &a->max_snap, err))
        return false;
    if (msh_param_profile(msh_req_arg(r, "profile"), &a->profile, err))
        return false;
    a->lon = round(a->lon / ISO_ORIGIN_STEP) * ISO_ORIGIN_STEP;
    a->lat = round(a->lat / ISO_ORIGIN_STEP) * ISO_ORIGIN_STEP;
    a->minutes = fmax(0.1, round(a->minutes * 10) / 10);
    return true;
}

static void cache_key(const iso_args *a, const msh_netview *v, char *key, size_t cap)
{
    snprintf(key, cap, "isochrone|%llu|%.0f|%.0f|%.0f|%.3f|%d", (unsigned long long)v->version, a->lon / ISO_ORIGIN_STEP,
             a->lat / ISO_ORIGIN_STEP, a->minutes * 10, a->max_snap, (int)a->profile);
}

/* Answer from the cache: the gzip body when the client takes it. */
static bool from_cache(msh_req *r, const char *key)
{
    const uint8_t *body;
    size_t len;
    int is_gz = 0;
    msh_tile_ref *ref = msh_tile_cache_get(r->app->cache, key, msh_req_accepts_gzip(r), &body, &len, &is_gz);
    if (!ref)
        return false;
    atomic_fetch_add(&cache_hits, 1);
    r->resp.status = 200;
    r->resp.ctype = "application/geo+json";
    r->resp.cache_control = "no-store";
    r->resp.gzip = is_gz;
    r->resp.vary_encoding = true;
    r->resp.ext = body;
    r->resp.ext_len = len;
    r->resp.ext_free = (void (*)(void *))msh_tile_cache_release;
    r->resp.ext_cls = ref;
    return true;
}

int msh_cost_isochrone(msh_req *r)
{
    iso_args a;
    msh_err err;
    if (!parse_args(r, &a, &err))
        return 0;
    msh_netview *v = msh_walknet_view(r->app->walknet);
    if (!v)
        return 0;
    char key[160];
    cache_key(&a, v, key, sizeof key);
    msh_netview_release(v);
    if (from_cache(r, key))
        return MSH_COST_ANSWERED;
    double f = a.minutes / ISO_MAX_MINUTES;
    return (int)ceil(ISO_FULL_UNITS * f * f);
}

/* Keep an answer: the plain body and its gzip twin. */
static void cache_put(msh_req *r, const char *key, const msh_buf *o)
{
    msh_buf gz;
    msh_buf_init(&gz, MSH_MAX_BODY);
    bool zipped = msh_gzip(o->data, o->len, &gz, 6) == MSH_OK;
    msh_tile_cache_put(r->app->cache, key, o->data, o->len, gz.data, zipped ? gz.len : 0, zipped);
    msh_buf_free(&gz);
}

void msh_route_isochrone(msh_req *r, const char *rest)
{
    msh_err err;
    iso_args a;
    if (!parse_args(r, &a, &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    msh_netview *v = msh_walk_view(r);
    if (!v)
        return;
    char key[160];
    cache_key(&a, v, key, sizeof key);
    if (from_cache(r, key)) {
        msh_netview_release(v);
        return;
    }
    atomic_fetch_add(&cache_misses, 1);
    msh_snap s;
    if (!msh_walk_snap(r, v->graph, "point", a.lon, a.lat, a.max_snap, &s)) {
        msh_netview_release(v);
        return;
    }
    const msh_livecost_cfg *cfg = msh_walknet_cfg(r->app->walknet);
    /* time, not the search penalty: a crowded way is slow, and it still counts as reachable */
    const float *w = v->cost.secs;
    double cutoff = a.minutes * 60 - s.off_m / cfg->free_speed;
    if (!w) /* no live state: metres at free-flow speed */
        cutoff *= cfg->free_speed;
    float *ww = NULL; /* the wheelchair profile's costs: w with its barred walkways closed */
    uint32_t barred = 0;
    if (a.profile == MSH_PROFILE_WHEELCHAIR) {
        if (!msh_access_edge_ok(v->graph, s.edge, r->app->cfg.max_incline)) {
            msh_resp_error(r, 422,
                           "no wheelchair-accessible isochrone: the walkway nearest the point has steps, is marked "
                           "wheelchair=no or is steeper than %.0f%%", r->app->cfg.max_incline);
            msh_netview_release(v);
            return;
        }
        if (!(ww = msh_access_weights(v->graph, w, r->app->cfg.max_incline, &barred))) {
            msh_resp_error(r, 503, "out of memory");
            msh_netview_release(v);
            return;
        }
        w = ww;
    }
    msh_buf geo;
    msh_buf_init(&geo, MSH_MAX_BODY);
    msh_isochrone_stats st;
    if (cutoff <= 0 || msh_isochrone(v->graph, w, &s, cutoff, ISO_BUFFER_M, &geo, &st, &err)) {
        if (cutoff <= 0)
            msh_resp_error(r, 422, "walking to the network already takes longer than %g minutes", a.minutes);
        else
            msh_resp_error(r, err.code == MSH_ENOTFOUND ? 422 : 500, "%s", err.msg);
        msh_buf_free(&geo);
        free(ww);
        msh_netview_release(v);
        return;
    }
    free(ww);
    msh_buf o;
    msh_buf_init(&o, MSH_MAX_BODY);
    msh_buf_printf(&o, "{\"type\":\"Feature\",\"geometry\":");
    msh_buf_append(&o, geo.data, geo.len);
    msh_buf_printf(&o,
                   ",\"properties\":{\"minutes\":%g,\"lon\":%.7f,\"lat\":%.7f,\"on_network\":[%.7f,%.7f],"
                   "\"off_network_m\":%.1f,\"reachable_network_m\":%.0f,\"edges\":%u,\"area_m2\":%.0f,"
                   "\"buffer_m\":%.0f,\"live_costs\":%s,\"closed_edges\":%u,\"profile\":\"%s\",\"barred_edges\":%u}}\n",
                   a.minutes, a.lon, a.lat, s.lon, s.lat, s.off_m, st.reach_m, st.edges, st.area_m2, ISO_BUFFER_M,
                   v->live ? "true" : "false", v->cost.closed,
                   a.profile == MSH_PROFILE_WHEELCHAIR ? "wheelchair" : "walking", barred);
    if (!msh_buf_error(&o))
        cache_put(r, key, &o);
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/geo+json", &o);
    msh_buf_free(&o);
    msh_buf_free(&geo);
    msh_netview_release(v);
}

void msh_isochrone_cache_metrics(msh_buf *out)
{
    msh_buf_printf(out,
                   "# HELP mashaer_isochrone_cache_total Isochrones answered from the result cache (hit) or "
                   "computed (miss).\n"
                   "# TYPE mashaer_isochrone_cache_total counter\n"
                   "mashaer_isochrone_cache_total{result=\"hit\"} %llu\n"
                   "mashaer_isochrone_cache_total{result=\"miss\"} %llu\n",
                   (unsigned long long)atomic_load(&cache_hits), (unsigned long long)atomic_load(&cache_misses));
}
