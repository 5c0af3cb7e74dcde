/* routes_query.c: GET /query/nearest (features nearest by walking distance) and
 * GET /query/at (what contains a point: site, camp, service zone, and the nearest gate).
 *
 * Nearest: the candidates within a straight-line radius R are put on the network, then one
 * search from the origin settles nodes in order of walking distance and stops as soon as
 * the limit-th best is certain. Walking is never shorter than the straight line, so when
 * the limit-th best is within R no feature outside R can beat it; otherwise R grows (x4)
 * up to max_m. The cost follows the features and network near the origin, not the layer.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/auth.h"
#include "core/msh_grow.h"
#include "core/msh_tilemath.h"
#include "live/live.h"
#include "routes/ogc.h"
#include "query/cql2.h"
#include "query/qgeom.h"
#include "routes/routes.h"
#include "route/nearcache.h"
#include "routes/walkreq.h"

#define NEAREST_LIMIT_MAX 100
#define NEAREST_MAX_M_DEFAULT 5000.0

typedef struct cand {
    uint64_t fid;
    double lon, lat;   /* the point walked to */
    double straight_m;
    msh_snap snap;
    bool on_net;
    double walk_m;     /* best so far; INFINITY until reached */
} cand;

typedef struct gather {
    msh_cql2 *filter;
    double lon, lat, radius;
    const msh_graph *g;
    double max_snap;
    cand *c;
    size_t n, cap;
    bool oom;
} gather;

static int gather_one(void *ud, const msh_feature *f)
{
    gather *G = ud;
    if (f->geom.type == MSH_GT_NONE || f->geom.npts == 0)
        return 0;
    if (G->filter && !msh_cql2_match(G->filter, f))
        return 0;
    double plon, plat;
    msh_walk_feature_point(f, G->lon, G->lat, &plon, &plat);
    double d = msh_metres(G->lon, G->lat, plon, plat);
    if (d > G->radius)
        return 0;
    if (msh_grow_from((void **)&G->c, &G->cap, G->n + 1, sizeof *G->c, 64)) {
        G->oom = true;
        return 1;
    }
    cand *c = &G->c[G->n++];
    c->fid = f->id;
    c->lon = plon;
    c->lat = plat;
    c->straight_m = d;
    c->on_net = msh_graph_snap(G->g, plon, plat, G->max_snap, &c->snap);
    c->walk_m = INFINITY;
    return 0;
}

static int by_edge(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    uint32_t ex = x->on_net ? x->snap.edge : UINT32_MAX, ey = y->on_net ? y->snap.edge : UINT32_MAX;
    return (ex > ey) - (ex < ey);
}

static int by_walk(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->walk_m != y->walk_m)
        return x->walk_m < y->walk_m ? -1 : 1;
    return (x->fid > y->fid) - (x->fid < y->fid);
}

/* The first candidate on edge e (candidates sorted by edge), or n. */
static size_t first_on(const cand *c, size_t n, uint32_t e)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t me = c[mid].on_net ? c[mid].snap.edge : UINT32_MAX;
        if (me < e)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The limit-th smallest walk so far (INFINITY when fewer are known). */
static double kth_walk(const cand *c, size_t n, size_t k)
{
    /* k is at most NEAREST_LIMIT_MAX: keep the k best in a small sorted array */
    double best[NEAREST_LIMIT_MAX];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double v = c[i].walk_m;
        if (!isfinite(v) || (m == k && v >= best[k - 1]))
            continue;
        size_t j = m < k ? m++ : k - 1;
        while (j > 0 && best[j - 1] > v) {
            best[j] = best[j - 1];
            j--;
        }
        best[j] = v;
    }
    return m == k ? best[k - 1] : INFINITY;
}

/* Walking distances of the candidates from the origin, searching only as far as needed. */
static void walk_search(const msh_graph *g, const msh_snap *o, cand *c, size_t n, size_t k, double radius)
{
    qsort(c, n, sizeof *c, by_edge);
    /* candidates on the origin's own edge: straight along it */
    for (size_t i = first_on(c, n, o->edge); i < n && c[i].on_net && c[i].snap.edge == o->edge; i++)
        c[i].walk_m = o->off_m + fabs(c[i].snap.t - o->t) * msh_graph_edge_length(g, o->edge) + c[i].snap.off_m;
    msh_graph_search *s = msh_graph_search_new(g, NULL, o, 1);
    if (!s)
        return;
    uint32_t u;
    double cost;
    double kth = kth_walk(c, n, k);
    while (msh_graph_search_next(s, &u, &cost)) {
        double reach = o->off_m + cost;
        if (reach >= kth || reach > radius)
            break;
        uint32_t ne;
        const uint32_t *es = msh_graph_node_edges(g, u, &ne);
        bool improved = false;
        for (uint32_t j = 0; j < ne; j++) {
            uint32_t e, a, b;
            e = es[j];
            msh_graph_edge_nodes(g, e, &a, &b);
            double L = msh_graph_edge_length(g, e);
            for (size_t i = first_on(c, n, e); i < n && c[i].on_net && c[i].snap.edge == e; i++) {
                double along = u == a ? c[i].snap.t * L : (1 - c[i].snap.t) * L;
                double wlk = reach + along + c[i].snap.off_m;
                if (wlk < c[i].walk_m) {
                    c[i].walk_m = wlk;
                    improved = true;
                }
            }
        }
        if (improved)
            kth = kth_walk(c, n, k);
    }
    msh_graph_search_free(s);
}

static void put_feature_props(msh_buf *b, const msh_layer *l, const msh_feature *f)
{
    for (uint32_t i = 0; i < l->info.nfields; i++) {
        if (!f->values || f->values[i].type == 0)
            continue;
        msh_buf_putc(b, '"');
        msh_buf_json_str(b, l->info.fields[i].name);
        msh_buf_printf(b, "\":");
        ogc_json_value(b, &f->values[i]);
        msh_buf_putc(b, ',');
    }
}

typedef struct props_ctx {
    const msh_layer *l;
    uint64_t fid;
    msh_buf *b;
} props_ctx;

static int props_of(void *ud, const msh_feature *f)
{
    props_ctx *P = ud;
    if (f->id != P->fid)
        return 0;
    put_feature_props(P->b, P->l, f);
    return 1;
}

static void put_head(msh_buf *b, const msh_layer *l, double lon, double lat, const msh_snap *o)
{
    msh_buf_printf(b, "{\"type\":\"FeatureCollection\",\"layer\":\"%s\",\"origin\":{\"lon\":%.7f,\"lat\":%.7f,"
                      "\"off_network_m\":%.1f},\"features\":[", l->info.name, lon, lat, o->off_m);
}

/* One answer feature: its point, its attributes (found again by a query on its point), the distances. */
static void put_answer(msh_buf *b, const msh_layer *l, size_t rank, uint64_t fid, double plon, double plat,
                       double walk_m, double straight_m)
{
    msh_buf_printf(b, "%s{\"type\":\"Feature\",\"id\":%llu,\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                      "[%.7f,%.7f]},\"properties\":{",
                   rank ? "," : "", (unsigned long long)fid, plon, plat);
    double fx, fy;
    msh_lonlat_to_world(plon, plat, &fx, &fy);
    double eps = 1e-12; /* lon/lat and back is not exact to the last bit */
    double fb[4] = {fx - eps, fy - eps, fx + eps, fy + eps};
    props_ctx P = {l, fid, b};
    l->vt->query((msh_layer *)l, fb, l->info.maxzoom, props_of, &P);
    msh_buf_printf(b, "\"walking_m\":%.2f,\"straight_m\":%.2f,\"rank\":%zu}}", walk_m, straight_m, rank + 1);
}

static void answer_labelled(msh_req *r, const msh_layer *l, const msh_nearset *ns, const msh_snap *o, double lon,
                            double lat, size_t k, double max_m)
{
    uint32_t ids[MSH_NEAR_K];
    double dist[MSH_NEAR_K];
    uint32_t n = msh_knear_query(ns->kn, ns->graph, o, ids, dist);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    put_head(&b, l, lon, lat, o);
    size_t found = 0;
    for (uint32_t i = 0; i < n && found < k; i++) {
        double walk = o->off_m + dist[i];
        if (walk > max_m)
            break;
        const msh_nearsrc *s = &ns->src[ids[i]];
        put_answer(&b, l, found++, s->fid, s->lon, s->lat, walk, msh_metres(lon, lat, s->lon, s->lat));
    }
    msh_buf_printf(&b, "],\"numberReturned\":%zu}\n", found);
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/geo+json", &b);
    msh_buf_free(&b);
}

void msh_route_nearest(msh_req *r, const char *rest)
{
    msh_err err;
    double lon, lat, limit = 5, max_m = NEAREST_MAX_M_DEFAULT, max_snap;
    const char *ls = msh_req_arg(r, "limit"), *ms = msh_req_arg(r, "max_m");
    if (msh_param_number("lon", msh_req_arg(r, "lon"), -180, 180, &lon, &err) ||
        msh_param_number("lat", msh_req_arg(r, "lat"), -85.05, 85.05, &lat, &err) ||
        (ls && msh_param_number("limit", ls, 1, NEAREST_LIMIT_MAX, &limit, &err)) ||
        (ms && msh_param_number("max_m", ms, 1, 50000, &max_m, &err))) {
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    if (limit != floor(limit)) {
        msh_resp_error(r, 400, "'limit' must be a whole number from 1 to %d", NEAREST_LIMIT_MAX);
        return;
    }
    if (!msh_walk_max_snap(r, &max_snap))
        return;
    const char *lname = msh_req_arg(r, "layer");
    if (!lname || !*lname) {
        msh_resp_error(r, 400, "'layer' is required: the layer to search (see /catalog)");
        return;
    }
    msh_catalog *cat = msh_app_catalog(r->app);
    msh_layer *l = msh_catalog_find(cat, lname, strnlen(lname, 64));
    if (!l || strlen(lname) > 63 || (l->info.access >= MSH_ACCESS_OPS && msh_auth_role(r) < MSH_ROLE_OPS)) {
        msh_catalog_release(cat);
        msh_resp_error(r, 404, "no layer '%.64s' (see /catalog)", lname);
        return;
    }
    gather G = {.lon = lon, .lat = lat, .max_snap = max_snap};
    const char *fs = msh_req_arg(r, "filter");
    if (fs && *fs && msh_cql2_parse(fs, strlen(fs), &l->info, &G.filter, &err)) {
        msh_catalog_release(cat);
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    msh_netview *v = msh_walk_view(r);
    msh_snap o;
    if (!v || !msh_walk_snap(r, v->graph, "point", lon, lat, max_snap, &o)) {
        msh_netview_release(v);
        msh_cql2_free(G.filter);
        msh_catalog_release(cat);
        return;
    }
    G.g = v->graph;
    size_t k = (size_t)limit;
    /* a static point layer: the labelled answer (server/nearcache.h) */
    if (!strcmp(l->info.kind, "static") && !strcmp(l->info.geometry_type, "Point") && k <= MSH_NEAR_K &&
        max_snap == MSH_WALK_SNAP_DEFAULT) {
        msh_nearset *ns = msh_nearcache_get(msh_walknet_nearcache(r->app->walknet), v->graph, l, fs ? fs : "",
                                            G.filter, max_snap, &err);
        if (!ns)
            msh_resp_error(r, 500, "%s", err.msg);
        else
            answer_labelled(r, l, ns, &o, lon, lat, k, max_m);
        msh_nearset_release(ns);
        msh_cql2_free(G.filter);
        msh_netview_release(v);
        msh_catalog_release(cat);
        return;
    }
    double wpm = msh_world_per_metre(lat), qx, qy;
    msh_lonlat_to_world(lon, lat, &qx, &qy);
    for (double R = fmin(500, max_m);; R = fmin(R * 4, max_m)) {
        G.n = 0;
        G.radius = R;
        double box[4] = {qx - R * wpm, qy - R * wpm, qx + R * wpm, qy + R * wpm};
        l->vt->query(l, box, l->info.maxzoom, gather_one, &G);
        if (G.oom)
            break;
        walk_search(G.g, &o, G.c, G.n, k, R);
        /* exact when the k-th best is within R, or R is as far as we look */
        if (kth_walk(G.c, G.n, k) <= R || R >= max_m)
            break;
    }
    if (G.oom) {
        msh_resp_error(r, 500, "out of memory");
    } else {
        qsort(G.c, G.n, sizeof *G.c, by_walk);
        size_t found = 0;
        while (found < G.n && found < k && G.c[found].walk_m <= max_m)
            found++;
        msh_buf b;
        msh_buf_init(&b, MSH_MAX_BODY);
        put_head(&b, l, lon, lat, &o);
        for (size_t i = 0; i < found; i++)
            put_answer(&b, l, i, G.c[i].fid, G.c[i].lon, G.c[i].lat, G.c[i].walk_m, G.c[i].straight_m);
        msh_buf_printf(&b, "],\"numberReturned\":%zu}\n", found);
        r->resp.cache_control = "no-store";
        msh_resp_buf(r, 200, "application/geo+json", &b);
        msh_buf_free(&b);
    }
    free(G.c);
    msh_cql2_free(G.filter);
    msh_netview_release(v);
    msh_catalog_release(cat);
}

/* ------------------------------------------------------------------ /query/at */

typedef struct at_ctx {
    const msh_layer *l;
    msh_qgeom *pt, *fg;
    msh_buf *b;
    size_t hits;
} at_ctx;

static int at_one(void *ud, const msh_feature *f)
{
    at_ctx *A = ud;
    if (f->geom.type != MSH_GT_POLYGON || msh_qgeom_from_feature(A->fg, &f->geom) ||
        !msh_qgeom_intersects(A->pt, A->fg))
        return 0;
    msh_buf_printf(A->b, "%s{\"id\":%llu,", A->hits++ ? "," : "", (unsigned long long)f->id);
    put_feature_props(A->b, A->l, f);
    A->b->len--; /* the last comma */
    msh_buf_putc(A->b, '}');
    return 0;
}

typedef struct gate_ctx {
    double lon, lat, best;
    bool found, mapped; /* mapped: from the assets layer, not the live gates */
    msh_feed_rec rec;
} gate_ctx;

static int nearest_gate(void *ud, const msh_live_item *it)
{
    gate_ctx *G = ud;
    double d = msh_metres(G->lon, G->lat, it->rec.lon, it->rec.lat);
    if (d < G->best) {
        G->best = d;
        G->rec = it->rec;
        G->found = true;
        G->mapped = false;
    }
    return 0;
}

#define AT_GATE_M 300.0

typedef struct asset_gate_ctx {
    gate_ctx *G;
    int kind, id;
} asset_gate_ctx;

/* Gates mapped as assets (kind 'gate'), when no live gate is nearer. */
static int nearest_asset_gate(void *ud, const msh_feature *f)
{
    asset_gate_ctx *A = ud;
    const msh_value *k = &f->values[A->kind], *id = &f->values[A->id];
    if (f->geom.type != MSH_GT_POINT || k->type != MSH_FT_STRING || k->len != 4 || memcmp(k->u.s, "gate", 4) ||
        id->type != MSH_FT_STRING || id->len > MSH_FEED_ID_MAX)
        return 0;
    double lon, lat;
    msh_world_to_lonlat(f->geom.xy[0], f->geom.xy[1], &lon, &lat);
    double d = msh_metres(A->G->lon, A->G->lat, lon, lat);
    if (d < A->G->best) {
        A->G->best = d;
        memset(&A->G->rec, 0, sizeof A->G->rec);
        memcpy(A->G->rec.id, id->u.s, id->len);
        A->G->rec.id_len = (uint8_t)id->len;
        A->G->rec.lon = lon;
        A->G->rec.lat = lat;
        A->G->found = true;
        A->G->mapped = true;
    }
    return 0;
}

static int field_of(const msh_layer_info *info, const char *name, msh_ftype type)
{
    for (uint32_t i = 0; i < info->nfields; i++)
        if (!strcmp(info->fields[i].name, name) && info->fields[i].type == type)
            return (int)i;
    return -1;
}

void msh_route_at(msh_req *r, const char *rest)
{
    msh_err err;
    double lon, lat;
    if (msh_param_number("lon", msh_req_arg(r, "lon"), -180, 180, &lon, &err) ||
        msh_param_number("lat", msh_req_arg(r, "lat"), -85.05, 85.05, &lat, &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    char wkt[96];
    snprintf(wkt, sizeof wkt, "POINT(%.10f %.10f)", lon, lat);
    msh_qgeom pt, fg;
    msh_qgeom_init(&pt);
    msh_qgeom_init(&fg);
    size_t used;
    msh_qgeom_parse_wkt(wkt, strlen(wkt), &used, &pt, &err);
    msh_catalog *cat = msh_app_catalog(r->app);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_buf_printf(&b, "{\"lon\":%.7f,\"lat\":%.7f", lon, lat);
    double qx, qy;
    msh_lonlat_to_world(lon, lat, &qx, &qy);
    double box[4] = {qx, qy, qx, qy};
    /* every area layer the caller may see, by name; the ones the brief names first */
    for (size_t i = 0; i < msh_catalog_count(cat); i++) {
        msh_layer *l = msh_catalog_at(cat, i);
        if (strcmp(l->info.geometry_type, "Polygon") || strcmp(l->info.kind, "static"))
            continue;
        at_ctx A = {l, &pt, &fg, &b, 0};
        msh_buf_printf(&b, ",\"%s\":[", l->info.name);
        l->vt->query(l, box, l->info.maxzoom, at_one, &A);
        msh_buf_putc(&b, ']');
    }
    gate_ctx G = {lon, lat, AT_GATE_M, false, false, {0}};
    msh_layer *assets = msh_catalog_find(cat, "assets", 6);
    asset_gate_ctx AG = {&G, assets ? field_of(&assets->info, "kind", MSH_FT_STRING) : -1,
                         assets ? field_of(&assets->info, "asset_id", MSH_FT_STRING) : -1};
    if (AG.kind >= 0 && AG.id >= 0) {
        double rad = AT_GATE_M * msh_world_per_metre(lat);
        double gb[4] = {qx - rad, qy - rad, qx + rad, qy + rad};
        assets->vt->query(assets, gb, assets->info.maxzoom, nearest_asset_gate, &AG);
    }
    if (r->app->live) {
        msh_live_rdlock(r->app->live);
        msh_live_items(r->app->live, MSH_FEED_GATES, nearest_gate, &G);
        msh_live_unlock(r->app->live);
    }
    if (G.found) {
        msh_buf_printf(&b, ",\"gate\":{\"id\":\"");
        ogc_json_str(&b, G.rec.id, G.rec.id_len);
        msh_buf_printf(&b, "\",\"source\":\"%s\",\"distance_m\":%.1f,\"lon\":%.7f,\"lat\":%.7f}",
                       G.mapped ? "assets" : "live", G.best, G.rec.lon, G.rec.lat);
    } else {
        msh_buf_printf(&b, ",\"gate\":null");
    }
    msh_buf_printf(&b, ",\"gate_radius_m\":%.0f}\n", AT_GATE_M);
    msh_catalog_release(cat);
    msh_qgeom_free(&pt);
    msh_qgeom_free(&fg);
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}
