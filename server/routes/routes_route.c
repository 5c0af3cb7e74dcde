/* routes_route.c: GET /route (a walking route as a GeoJSON Feature), on the live walking costs
 * when there are any. GET /isochrone is in routes_isochrone.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/routes.h"
#include "routes/walkreq.h"

/* ------------------------------------------------------------------ steps */

static double bearing(double lon1, double lat1, double lon2, double lat2)
{
    double kx = cos(0.5 * (lat1 + lat2) * M_PI / 180);
    double b = atan2((lon2 - lon1) * kx, lat2 - lat1) * 180 / M_PI;
    return b < 0 ? b + 360 : b;
}

static const char *compass(double b)
{
    static const char *names[] = {"north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"};
    return names[(int)floor(fmod(b + 22.5, 360) / 45) % 8];
}

static const char *turn(double delta)
{
    /* delta in (-180, 180]: positive is clockwise (right) */
    double a = fabs(delta);
    if (a < 30)
        return "continue";
    if (a < 60)
        return delta > 0 ? "bear right" : "bear left";
    if (a < 150)
        return delta > 0 ? "turn right" : "turn left";
    return "turn around";
}

/* Steps: runs of the line without a turn over 30 degrees; runs under 15 m merge into the next. */
static void put_steps(msh_buf *b, const double *ll, size_t n, double secs_per_m)
{
    msh_buf_printf(b, "\"steps\":[");
    size_t start = 0;
    int k = 0;
    double run = 0, run_bearing = -1, prev_bearing = -1;
    for (size_t i = 1; i < n; i++) {
        double seg = msh_metres(ll[2 * i - 2], ll[2 * i - 1], ll[2 * i], ll[2 * i + 1]);
        if (seg < 0.01)
            continue;
        double br = bearing(ll[2 * i - 2], ll[2 * i - 1], ll[2 * i], ll[2 * i + 1]);
        if (run_bearing < 0)
            run_bearing = br;
        double delta = fmod(br - run_bearing + 540, 360) - 180;
        if (run >= 15 && fabs(delta) >= 30) {
            const char *how = k == 0 ? "depart" : turn(fmod(run_bearing - prev_bearing + 540, 360) - 180);
            msh_buf_printf(b, "%s{\"instruction\":\"%s\",\"heading\":\"%s\",\"bearing\":%.0f,\"distance_m\":%.1f,"
                              "\"duration_s\":%.0f,\"location\":[%.7f,%.7f]}",
                           k ? "," : "", how, compass(run_bearing), run_bearing, run, run * secs_per_m,
                           ll[2 * start], ll[2 * start + 1]);
            k++;
            prev_bearing = run_bearing;
            start = i - 1;
            run = 0;
            run_bearing = br;
        }
        run += seg;
    }
    if (run > 0 || k == 0) {
        const char *how = k == 0 ? "depart" : turn(fmod(run_bearing - prev_bearing + 540, 360) - 180);
        msh_buf_printf(b, "%s{\"instruction\":\"%s\",\"heading\":\"%s\",\"bearing\":%.0f,\"distance_m\":%.1f,"
                          "\"duration_s\":%.0f,\"location\":[%.7f,%.7f]}",
                       k ? "," : "", how, compass(run_bearing < 0 ? 0 : run_bearing), run_bearing < 0 ? 0 : run_bearing,
                       run, run * secs_per_m, ll[2 * start], ll[2 * start + 1]);
        k++;
    }
    msh_buf_printf(b, ",{\"instruction\":\"arrive\",\"distance_m\":0,\"duration_s\":0,\"location\":[%.7f,%.7f]}]",
                   ll[2 * n - 2], ll[2 * n - 1]);
}

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
    msh_rc rc = msh_graph_route(g, w, minw, &a, &b, &p, &err);
    free(w_open);
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
    msh_buf_printf(&o, "\"live_costs\":%s,\"slowed_edges\":%u,\"los_f_edges\":%u,\"closed_edges\":%u,"
                       "\"leaves_closure\":%s,",
                   v->live ? "true" : "false", slowed, los_f, v->cost.closed, opened ? "true" : "false");
    put_steps(&o, L, nl, length > 0 ? secs / length : 0);
    msh_buf_printf(&o, "}}\n");
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/geo+json", &o);
    msh_buf_free(&o);
    msh_buf_free(&line);
    msh_path_free(&p);
    msh_netview_release(v);
}
