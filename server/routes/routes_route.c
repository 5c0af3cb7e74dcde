/* routes_route.c: GET /route (a walking route as a GeoJSON Feature), on the live walking costs
 * when there are any. The route's steps (turn by turn, in the language of `lang`) are
 * layers/route/steps.c. GET /isochrone is in routes_isochrone.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route/access.h"
#include "route/gateclose.h"
#include "route/steps.h"
#include "routes/routes.h"
#include "routes/walkreq.h"

/* ------------------------------------------------------------------ /route */

static void put_end(msh_buf *b, const char *name, double lon, double lat, const msh_snap *s)
{
    msh_buf_printf(b, "\"%s\":{\"lon\":%.7f,\"lat\":%.7f,\"on_network\":[%.7f,%.7f],\"off_network_m\":%.1f},", name, lon,
                   lat, s->lon, s->lat, s->off_m);
}

void msh_route_route(msh_req *r, const char *rest)
{
    msh_err err;
    msh_place pf, pt;
    const char *fs = msh_req_arg(r, "from"), *ts = msh_req_arg(r, "to");
    if (msh_param_place("from", fs, &pf, &err) || msh_param_place("to", ts, &pt, &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    msh_profile profile;
    if (msh_param_profile(msh_req_arg(r, "profile"), &profile, &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    const msh_phrases *lang = msh_walk_lang(r);
    if (!lang)
        return;
    double max_snap;
    if (!msh_walk_max_snap(r, &max_snap))
        return;
    msh_netview *v = msh_walk_view(r);
    if (!v)
        return;
    const msh_graph *g = v->graph;
    double flon, flat, tlon, tlat;
    msh_snap a, b;
    if (!msh_walk_place(r, g, "origin", &pf, &flon, &flat) || !msh_walk_place(r, g, "destination", &pt, &tlon, &tlat) ||
        !msh_walk_snap(r, g, "origin", flon, flat, max_snap, &a) ||
        !msh_walk_snap(r, g, "destination", tlon, tlat, max_snap, &b)) {
        msh_netview_release(v);
        return;
    }
    const msh_livecost_cfg *cfg = msh_walknet_cfg(r->app->walknet);
    /* with no live costs, time is length at free-flow speed: the plain shortest path */
    const float *w = v->cost.w;
    double minw = w ? v->cost.min_w_per_m : 1.0;
    msh_snap ends[2] = {a, b};
    uint32_t opened;
    float *w_open = msh_livecost_open_ends(g, &v->cost, cfg, ends, 2, &opened);
    if (w_open)
        w = w_open;
    msh_path p;
    msh_path_init(&p);
    msh_rc rc;
    uint32_t barred = 0;
    if (profile == MSH_PROFILE_WHEELCHAIR) {
        rc = msh_wheelchair_route(r, g, w, minw, &a, &b, &p, &barred);
        free(w_open);
        if (rc) {
            msh_path_free(&p);
            msh_netview_release(v);
            return;
        }
    } else {
        rc = msh_graph_route(g, w, minw, &a, &b, &p, &err);
        free(w_open);
    }
    char gates[256];
    if (rc && err.code == MSH_ENOTFOUND && msh_gateclose_blocking(g, &v->cost, &a, &b, gates, sizeof gates)) {
        msh_resp_error(r, 404, "%s: the closed gate %s is in the way", err.msg, gates);
        msh_path_free(&p);
        msh_netview_release(v);
        return;
    }
    if (rc) {
        msh_resp_error(r, err.code == MSH_ENOTFOUND ? 404 : 500, "%s", err.msg);
        msh_path_free(&p);
        msh_netview_release(v);
        return;
    }
    double net_secs = v->cost.secs ? msh_livecost_path_secs(g, &v->cost, &p) : p.length_m / cfg->free_speed;
    double off = a.off_m + b.off_m;
    double length = p.length_m + off, secs = net_secs + off / cfg->free_speed;
    /* edges walked that the live state slows, and those at level of service F */
    uint32_t slowed = 0, los_f = 0;
    const uint32_t *es = (const uint32_t *)p.edges.data;
    for (size_t i = 0; i < p.edges.len / sizeof *es && v->cost.secs; i++) {
        double L = msh_graph_edge_length(g, es[i]);
        slowed += v->cost.secs[es[i]] > L / cfg->free_speed * 1.0001;
        los_f += v->cost.w[es[i]] > v->cost.secs[es[i]] * 1.0001;
    }
    msh_buf o;
    msh_buf_init(&o, MSH_MAX_BODY);
    msh_buf_printf(&o, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[");
    /* from the asked point, along the network, to the asked point */
    const double *ll = (const double *)p.lonlat.data;
    size_t n = p.lonlat.len / (2 * sizeof *ll);
    msh_buf line;
    msh_buf_init(&line, MSH_MAX_BODY);
    double q[2] = {flon, flat};
    if (a.off_m > 0.05)
        msh_buf_append(&line, q, sizeof q);
    msh_buf_append(&line, ll, n * 2 * sizeof *ll);
    q[0] = tlon;
    q[1] = tlat;
    if (b.off_m > 0.05)
        msh_buf_append(&line, q, sizeof q);
    const double *L = (const double *)line.data;
    size_t nl = line.len / (2 * sizeof *L);
    for (size_t i = 0; i < nl; i++)
        msh_buf_printf(&o, "%s[%.7f,%.7f]", i ? "," : "", L[2 * i], L[2 * i + 1]);
    msh_buf_printf(&o, "]},\"properties\":{\"length_m\":%.2f,\"duration_s\":%.1f,\"network_m\":%.3f,", length, secs,
                   p.length_m);
    put_end(&o, "from", flon, flat, &a);
    put_end(&o, "to", tlon, tlat, &b);
    msh_buf_printf(&o, "\"profile\":\"%s\",\"barred_edges\":%u,", profile == MSH_PROFILE_WHEELCHAIR ? "wheelchair" : "walking",
                   barred);
    msh_buf_printf(&o, "\"live_costs\":%s,\"slowed_edges\":%u,\"los_f_edges\":%u,\"closed_edges\":%u,"
                       "\"leaves_closure\":%s,",
                   v->live ? "true" : "false", slowed, los_f, v->cost.closed, opened ? "true" : "false");
    msh_steps_json(&o, g, &p, L, nl, a.off_m > 0.05 ? a.off_m : 0, length > 0 ? secs / length : 0, lang);
    msh_buf_printf(&o, "}}\n");
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/geo+json", &o);
    msh_buf_free(&o);
    msh_buf_free(&line);
    msh_path_free(&p);
    msh_netview_release(v);
}
