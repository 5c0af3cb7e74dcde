/* test_graph.c: the walking graph: building (splitting at shared vertices, from a layer or from
 * lon/lat arrays), snapping, the nearest node, and the searches and shortest-path trees, checked
 * against Floyd-Warshall and against each other. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/msh_tilemath.h"
#include "route/graph.h"
#include "route/knearest.h"

/* ------------------------------------------------------------------ a line layer held in arrays */

#define MAXL 64
#define MAXV 16
typedef struct lines_layer {
    msh_layer base;
    int n;
    int nv[MAXL];
    double xy[MAXL][2 * MAXV]; /* world units */
    uint32_t parts[MAXL];
} lines_layer;

static msh_rc ll_query(msh_layer *l, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    (void)box;
    (void)z;
    lines_layer *L = (lines_layer *)l;
    for (int i = 0; i < L->n; i++) {
        L->parts[i] = (uint32_t)L->nv[i];
        msh_feature f = {.id = (uint64_t)i + 1,
                         .geom = {MSH_GT_LINE, (uint32_t)L->nv[i], 1, L->xy[i], &L->parts[i]},
                         .values = NULL};
        if (fn(ud, &f))
            break;
    }
    return MSH_OK;
}

static void ll_destroy(msh_layer *l) { (void)l; }
static const msh_layer_vt ll_vt = {ll_query, ll_destroy, NULL};

static void add_line(lines_layer *L, int nv, const double *lonlat)
{
    for (int i = 0; i < nv; i++)
        msh_lonlat_to_world(lonlat[2 * i], lonlat[2 * i + 1], &L->xy[L->n][2 * i], &L->xy[L->n][2 * i + 1]);
    L->nv[L->n++] = nv;
}

#define LON0 39.80
#define LAT0 21.40
#define STEP 0.001
#define N 5 /* a 5 x 5 grid of streets */

static double glon(int i) { return LON0 + i * STEP; }
static double glat(int j) { return LAT0 + j * STEP; }

/* Rows and columns each drawn as ONE line through the grid: the builder must split them
 * at the shared vertices. Plus an island far away. */
static void make_grid(lines_layer *L)
{
    memset(L, 0, sizeof *L);
    L->base.vt = &ll_vt;
    L->base.info.maxzoom = 18;
    double pts[2 * MAXV];
    for (int j = 0; j < N; j++) {
        for (int i = 0; i < N; i++) {
            pts[2 * i] = glon(i);
            pts[2 * i + 1] = glat(j);
        }
        add_line(L, N, pts);
    }
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            pts[2 * j] = glon(i);
            pts[2 * j + 1] = glat(j);
        }
        add_line(L, N, pts);
    }
    double island[] = {39.90, 21.50, 39.901, 21.50};
    add_line(L, 2, island);
}

static uint32_t node_at(const msh_graph *g, double lon, double lat)
{
    for (uint32_t n = 0; n < msh_graph_node_count(g); n++) {
        double x, y;
        msh_graph_node_lonlat(g, n, &x, &y);
        if (fabs(x - lon) < 1e-9 && fabs(y - lat) < 1e-9)
            return n;
    }
    return UINT32_MAX;
}

static msh_snap snap_node(const msh_graph *g, int i, int j)
{
    msh_snap s;
    bool ok = msh_graph_snap(g, glon(i), glat(j), 5, &s);
    CHECK(ok);
    CHECK(s.off_m < 1e-6);
    return s;
}

static void test_metres(void)
{
    /* WGS84 at 21.4 N: 103,690.877 m per degree of longitude, 110,722.266 m per degree of
     * latitude (prime vertical and meridional radii; a = 6378137, e2 = 0.00669437999014) */
    CHECK_NEAR(msh_metres(39.8, 21.4, 39.801, 21.4), 103.690877, 0.001);
    CHECK_NEAR(msh_metres(39.8, 21.3995, 39.8, 21.4005), 110.722266, 0.001);
}

static void test_build(const msh_graph *g)
{
    msh_graph_stats st;
    msh_graph_get_stats(g, &st);
    CHECK(st.nodes == N * N + 2);
    CHECK(st.edges == 2 * N * (N - 1) + 1);
    CHECK(st.components == 2);
    CHECK(st.largest == N * N);
    /* every grid edge is one step long */
    for (uint32_t e = 0; e < st.edges; e++) {
        double L = msh_graph_edge_length(g, e);
        CHECK(L > 100 && L < 111);
        uint32_t np;
        const double *sh = msh_graph_edge_shape(g, e, &np);
        CHECK(np == 2);
        uint32_t a, b;
        msh_graph_edge_nodes(g, e, &a, &b);
        double ax, ay;
        msh_graph_node_lonlat(g, a, &ax, &ay);
        CHECK_NEAR(sh[0], ax, 1e-12);
        CHECK_NEAR(sh[1], ay, 1e-12);
    }
    /* the centre node meets four edges */
    uint32_t c = node_at(g, glon(2), glat(2)), cnt;
    CHECK(c != UINT32_MAX);
    msh_graph_node_edges(g, c, &cnt);
    CHECK(cnt == 4);
}

/* All-pairs shortest paths over the nodes by Floyd-Warshall, the independent answer. */
static double *floyd(const msh_graph *g, const float *w)
{
    uint32_t n = msh_graph_node_count(g);
    double *d = malloc((size_t)n * n * sizeof *d);
    for (size_t i = 0; i < (size_t)n * n; i++)
        d[i] = INFINITY;
    for (uint32_t i = 0; i < n; i++)
        d[(size_t)i * n + i] = 0;
    for (uint32_t e = 0; e < msh_graph_edge_count(g); e++) {
        uint32_t a, b;
        msh_graph_edge_nodes(g, e, &a, &b);
        double c = w ? w[e] : msh_graph_edge_length(g, e);
        if (c < d[(size_t)a * n + b])
            d[(size_t)a * n + b] = d[(size_t)b * n + a] = c;
    }
    for (uint32_t k = 0; k < n; k++)
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < n; j++)
                if (d[(size_t)i * n + k] + d[(size_t)k * n + j] < d[(size_t)i * n + j])
                    d[(size_t)i * n + j] = d[(size_t)i * n + k] + d[(size_t)k * n + j];
    return d;
}

static double polyline_metres(const msh_path *p)
{
    const double *ll = (const double *)p->lonlat.data;
    size_t n = p->lonlat.len / (2 * sizeof *ll);
    double s = 0;
    for (size_t i = 1; i < n; i++)
        s += msh_metres(ll[2 * i - 2], ll[2 * i - 1], ll[2 * i], ll[2 * i + 1]);
    return s;
}

static void test_routes_against_floyd(const msh_graph *g, const float *w, double minw)
{
    uint32_t n = msh_graph_node_count(g);
    double *fw = floyd(g, w);
    msh_path p;
    msh_path_init(&p);
    double *cost = malloc(n * sizeof *cost);
    int checked = 0;
    for (int i0 = 0; i0 < N; i0++)
        for (int j0 = 0; j0 < N; j0++)
            for (int i1 = 0; i1 < N; i1++)
                for (int j1 = 0; j1 < N; j1++) {
                    msh_snap a = snap_node(g, i0, j0), b = snap_node(g, i1, j1);
                    uint32_t na = node_at(g, glon(i0), glat(j0)), nb = node_at(g, glon(i1), glat(j1));
                    double want = fw[(size_t)na * n + nb];
                    msh_err err;
                    msh_rc rc = msh_graph_route(g, w, minw, &a, &b, &p, &err);
                    if (isinf(want)) {
                        CHECK(rc == MSH_ENOTFOUND);
                        continue;
                    }
                    CHECK(rc == MSH_OK);
                    CHECK_NEAR(p.cost, want, 1e-6 * want + 1e-9);
                    /* the drawn line is as long as the reported length, end to end */
                    CHECK_NEAR(polyline_metres(&p), p.length_m, 1e-3);
                    const double *ll = (const double *)p.lonlat.data;
                    size_t np = p.lonlat.len / (2 * sizeof *ll);
                    CHECK(np >= 1);
                    CHECK_NEAR(ll[0], glon(i0), 1e-9);
                    CHECK_NEAR(ll[2 * np - 1], glat(j1), 1e-9);
                    /* the one-to-all search agrees */
                    CHECK(msh_graph_reach(g, w, &a, 1, INFINITY, cost, &err) == MSH_OK);
                    CHECK_NEAR(msh_graph_cost_at(g, w, cost, &b), want, 1e-6 * want + 1e-9);
                    checked++;
                }
    CHECK(checked > 0);
    free(cost);
    msh_path_free(&p);
    free(fw);
}

static void test_snap_and_same_edge(const msh_graph *g)
{
    /* 10 m north of the middle of the bottom street's first block */
    double lat = LAT0 + 10.0 / 110722.266;
    msh_snap s;
    CHECK(msh_graph_snap(g, LON0 + STEP / 2, lat, 50, &s));
    CHECK_NEAR(s.off_m, 10.0, 0.01);
    CHECK_NEAR(s.t, 0.5, 1e-6);
    CHECK_NEAR(s.lat, LAT0, 1e-9);
    CHECK(!msh_graph_snap(g, LON0 + STEP / 2, lat, 5, &s)); /* too far for 5 m */
    CHECK(!msh_graph_snap(g, NAN, lat, 50, &s));
    /* two points on one street */
    msh_snap a, b;
    CHECK(msh_graph_snap(g, LON0 + STEP * 0.25, LAT0, 1, &a));
    CHECK(msh_graph_snap(g, LON0 + STEP * 0.75, LAT0, 1, &b));
    CHECK(a.edge == b.edge);
    msh_path p;
    msh_path_init(&p);
    msh_err err;
    CHECK(msh_graph_route(g, NULL, 1, &a, &b, &p, &err) == MSH_OK);
    CHECK_NEAR(p.length_m, 0.5 * 103.690877, 0.01);
    CHECK_NEAR(polyline_metres(&p), p.length_m, 1e-3);
    /* to the island: no path */
    msh_snap far;
    CHECK(msh_graph_snap(g, 39.9005, 21.50, 1, &far));
    CHECK(msh_graph_route(g, NULL, 1, &a, &far, &p, &err) == MSH_ENOTFOUND);
    CHECK(strstr(err.msg, "no walking path") != NULL);
    msh_path_free(&p);
}

static void test_closures(const msh_graph *g)
{
    uint32_t ne = msh_graph_edge_count(g);
    float *w = malloc(ne * sizeof *w);
    /* seconds at 1.34 m/s, the bottom row closed, the column at i = 2 three times slower */
    for (uint32_t e = 0; e < ne; e++) {
        uint32_t a, b;
        msh_graph_edge_nodes(g, e, &a, &b);
        double ax, ay, bx, by;
        msh_graph_node_lonlat(g, a, &ax, &ay);
        msh_graph_node_lonlat(g, b, &bx, &by);
        double s = msh_graph_edge_length(g, e) / 1.34;
        if (ay == LAT0 && by == LAT0)
            s = INFINITY;
        else if (ax == glon(2) && bx == glon(2))
            s *= 3;
        w[e] = (float)s;
    }
    test_routes_against_floyd(g, w, 1 / 1.34);
    /* along the closed bottom row the way goes round: up, across, down */
    msh_snap a = snap_node(g, 0, 0), b = snap_node(g, 1, 0);
    msh_path p;
    msh_path_init(&p);
    msh_err err;
    CHECK(msh_graph_route(g, w, 1 / 1.34, &a, &b, &p, &err) == MSH_OK);
    CHECK_NEAR(p.length_m, 2 * 110.722266 + 103.690877, 0.05);
    /* close every edge into the corner: unreachable */
    uint32_t corner = node_at(g, glon(4), glat(4)), cnt;
    const uint32_t *es = msh_graph_node_edges(g, corner, &cnt);
    for (uint32_t k = 0; k < cnt; k++)
        w[es[k]] = INFINITY;
    msh_snap c = snap_node(g, 4, 4);
    msh_snap d = snap_node(g, 2, 2);
    CHECK(msh_graph_route(g, w, 1 / 1.34, &d, &c, &p, &err) == MSH_ENOTFOUND);
    msh_path_free(&p);
    free(w);
}

static void test_incremental(const msh_graph *g)
{
    msh_snap a = snap_node(g, 1, 3);
    uint32_t n = msh_graph_node_count(g);
    double *cost = malloc(n * sizeof *cost);
    msh_err err;
    CHECK(msh_graph_reach(g, NULL, &a, 1, INFINITY, cost, &err) == MSH_OK);
    msh_graph_search *s = msh_graph_search_new(g, NULL, &a, 1);
    CHECK(s != NULL);
    uint32_t node, settled = 0;
    double c, last = 0;
    while (s && msh_graph_search_next(s, &node, &c)) {
        CHECK(c >= last);
        CHECK_NEAR(c, cost[node], 1e-9);
        CHECK_NEAR(msh_graph_search_cost(s, node), c, 1e-9);
        last = c;
        settled++;
    }
    CHECK(settled == N * N); /* the island is never reached */
    msh_graph_search_free(s);
    /* a cutoff stops the one-to-all search: within 150 m only the node and its 4 neighbours */
    CHECK(msh_graph_reach(g, NULL, &a, 1, 150, cost, &err) == MSH_OK);
    int within = 0;
    for (uint32_t i = 0; i < n; i++)
        within += isfinite(cost[i]);
    CHECK(within == 5);
    free(cost);
}

static msh_snap node_snap(const msh_graph *g, uint32_t n)
{
    uint32_t cnt, a, b;
    const uint32_t *es = msh_graph_node_edges(g, n, &cnt);
    msh_snap s = {0};
    CHECK(cnt > 0);
    s.edge = es[0];
    msh_graph_edge_nodes(g, s.edge, &a, &b);
    s.t = a == n ? 0 : 1;
    msh_graph_node_lonlat(g, n, &s.lon, &s.lat);
    return s;
}

/* A denser random network: random segments between random grid points, A* against Dijkstra. */
static void test_random(void)
{
    lines_layer L;
    memset(&L, 0, sizeof L);
    L.base.vt = &ll_vt;
    srand(7);
    for (int k = 0; k < MAXL; k++) {
        double pts[2 * 4];
        int nv = 2 + rand() % 3;
        for (int i = 0; i < nv; i++) {
            pts[2 * i] = LON0 + (rand() % 8) * 0.0005;
            pts[2 * i + 1] = LAT0 + (rand() % 8) * 0.0005;
        }
        add_line(&L, nv, pts);
    }
    msh_layer *lp = &L.base;
    msh_graph *g;
    msh_err err;
    CHECK(msh_graph_build(&lp, 1, &g, &err) == MSH_OK);
    uint32_t n = msh_graph_node_count(g);
    double *fw = floyd(g, NULL);
    msh_path p;
    msh_path_init(&p);
    int found = 0;
    for (uint32_t a = 0; a < n; a++)
        for (uint32_t b = 0; b < n; b += 3) {
            double ax, ay, bx, by;
            msh_graph_node_lonlat(g, a, &ax, &ay);
            msh_graph_node_lonlat(g, b, &bx, &by);
            /* put the points on the nodes themselves: a node may also lie on a crossing line */
            msh_snap sa = node_snap(g, a), sb = node_snap(g, b);
            msh_rc rc = msh_graph_route(g, NULL, 1, &sa, &sb, &p, &err);
            double want = fw[(size_t)a * n + b];
            if (isinf(want)) {
                CHECK(rc == MSH_ENOTFOUND);
            } else {
                CHECK(rc == MSH_OK);
                CHECK_NEAR(p.length_m, want, 1e-6 * want + 1e-6);
                found++;
            }
        }
    CHECK(found > 50);
    msh_path_free(&p);
    free(fw);
    msh_graph_release(g);
}

/* The same grid given as lon/lat arrays: the same nodes, edges and lengths as from the layer. */
static void test_build_lonlat(const msh_graph *g)
{
    double ll[2 * (2 * N + 1) * N];
    uint32_t npts[2 * N + 1];
    size_t k = 0, nl = 0;
    for (int j = 0; j < N; j++, nl++)
        for (int i = 0; i < N; i++, k++) {
            ll[2 * k] = glon(i);
            ll[2 * k + 1] = glat(j);
            npts[nl] = N;
        }
    for (int i = 0; i < N; i++, nl++)
        for (int j = 0; j < N; j++, k++) {
            ll[2 * k] = glon(i);
            ll[2 * k + 1] = glat(j);
            npts[nl] = N;
        }
    ll[2 * k] = 39.90, ll[2 * k + 1] = 21.50, ll[2 * k + 2] = 39.901, ll[2 * k + 3] = 21.50;
    npts[nl++] = 2;
    msh_graph *h = NULL;
    msh_err err;
    CHECK(msh_graph_build_lonlat(ll, npts, NULL, nl, &h, &err) == MSH_OK);
    if (!h)
        return;
    msh_graph_stats a, b;
    msh_graph_get_stats(g, &a);
    msh_graph_get_stats(h, &b);
    CHECK(a.nodes == b.nodes && a.edges == b.edges && a.components == b.components && a.largest == b.largest);
    CHECK_NEAR(a.total_m, b.total_m, 1e-6);
    CHECK(b.layer_version == 0);
    for (uint32_t n = 0; n < b.nodes; n++) {
        double x0, y0, x1, y1;
        msh_graph_node_lonlat(g, n, &x0, &y0);
        msh_graph_node_lonlat(h, n, &x1, &y1);
        CHECK(fabs(x0 - x1) < 1e-9 && fabs(y0 - y1) < 1e-9);
    }
    CHECK(msh_graph_edge_fid(h, 0) == 1 && msh_graph_edge_fid(h, b.edges - 1) == nl);
    msh_graph_release(h);
}

/* The largest part and the nearest node: the grid, not the island far away. */
static void test_nearest_node(const msh_graph *g)
{
    uint32_t island = node_at(g, 39.90, 21.50), corner = node_at(g, glon(0), glat(0));
    uint32_t mid = node_at(g, glon(2), glat(3));
    CHECK(!msh_graph_in_largest(g, island));
    CHECK(msh_graph_in_largest(g, corner) && msh_graph_in_largest(g, mid));
    /* 30 m east and 20 m north of a node: that node */
    CHECK(msh_graph_nearest_node(g, glon(2) + 30 / 103690.877, glat(3) + 20 / 110722.266, true) == mid);
    CHECK(msh_graph_nearest_node(g, glon(2) + 70 / 103690.877, glat(3), true) == node_at(g, glon(3), glat(3)));
    /* beside the island: the island, unless only the largest part will do */
    CHECK(msh_graph_nearest_node(g, 39.9001, 21.5001, false) == island);
    CHECK(msh_graph_nearest_node(g, 39.9001, 21.5001, true) == node_at(g, glon(N - 1), glat(N - 1)));
}

/* Shortest-path trees against Floyd-Warshall; each tree path is as long as its cost and ends at the root. */
static void test_tree(const msh_graph *g)
{
    uint32_t n = msh_graph_node_count(g), ne = msh_graph_edge_count(g);
    float *w = malloc(ne * sizeof *w);
    for (uint32_t e = 0; e < ne; e++) /* lengths, some streets made longer: the tree is not the grid's */
        w[e] = (float)(msh_graph_edge_length(g, e) * (1 + (e * 7919 % 10) / 10.0));
    double *fw = floyd(g, w), *cost = malloc(n * sizeof *cost);
    uint32_t *pred = malloc(n * sizeof *pred);
    msh_buf ll;
    msh_buf_init(&ll, 1 << 20);
    msh_err err;
    uint32_t root = node_at(g, glon(1), glat(3)), island = node_at(g, 39.90, 21.50);
    CHECK(msh_graph_tree(g, w, root, pred, cost, &err) == MSH_OK);
    CHECK(pred[root] == MSH_GRAPH_NO_EDGE && cost[root] == 0);
    CHECK(pred[island] == MSH_GRAPH_NO_EDGE && isinf(cost[island]));
    for (uint32_t v = 0; v < n; v++) {
        if (isinf(fw[(size_t)v * n + root])) { /* the island */
            CHECK(pred[v] == MSH_GRAPH_NO_EDGE && isinf(cost[v]));
            continue;
        }
        CHECK_NEAR(cost[v], fw[(size_t)v * n + root], 1e-6);
        /* the path from v: the pred edges' costs add up to v's cost, its polyline to their lengths */
        double c = 0, len = 0;
        for (uint32_t u = v; u != root;) {
            uint32_t e = pred[u], a, b;
            msh_graph_edge_nodes(g, e, &a, &b);
            c += w[e];
            len += msh_graph_edge_length(g, e);
            u = a == u ? b : a;
        }
        CHECK_NEAR(c, cost[v], 1e-6);
        msh_buf_reset(&ll);
        CHECK(msh_graph_tree_path(g, pred, root, v, &ll) == MSH_OK);
        const double *p = (const double *)ll.data;
        size_t np = ll.len / (2 * sizeof *p);
        double vx, vy, m = 0;
        msh_graph_node_lonlat(g, v, &vx, &vy);
        CHECK(np >= 1 && p[0] == vx && p[1] == vy);
        CHECK_NEAR(p[2 * np - 2], glon(1), 1e-9);
        CHECK_NEAR(p[2 * np - 1], glat(3), 1e-9);
        for (size_t i = 1; i < np; i++)
            m += msh_metres(p[2 * i - 2], p[2 * i - 1], p[2 * i], p[2 * i + 1]);
        CHECK_NEAR(m, len, 1e-3);
    }
    /* the root alone is a path of one point; the island is not in the tree */
    msh_buf_reset(&ll);
    CHECK(msh_graph_tree_path(g, pred, root, root, &ll) == MSH_OK && ll.len == 2 * sizeof(double));
    msh_buf_reset(&ll);
    CHECK(msh_graph_tree_path(g, pred, root, island, &ll) == MSH_ENOTFOUND && ll.len == 0);
    /* without costs (lengths) the tree agrees with the one-to-all search */
    msh_snap at = node_snap(g, root);
    double *reach = malloc(n * sizeof *reach);
    CHECK(msh_graph_tree(g, NULL, root, pred, NULL, &err) == MSH_OK);
    CHECK(msh_graph_reach(g, NULL, &at, 1, INFINITY, reach, &err) == MSH_OK);
    for (uint32_t v = 0; v < n; v++)
        CHECK((pred[v] == MSH_GRAPH_NO_EDGE) == (v == root || isinf(reach[v])));
    CHECK(msh_graph_tree(g, NULL, n, pred, NULL, &err) == MSH_EINVAL);
    free(reach);
    msh_buf_free(&ll);
    free(pred);
    free(cost);
    free(fw);
    free(w);
}

/* k nearest sources by labels against one-to-all searches from every query point */
static void test_knearest(const msh_graph *g)
{
    srand(11);
    enum { NS = 12, K = 4 };
    msh_snap src[NS];
    for (int i = 0; i < NS; i++) {
        double lon = LON0 + (rand() % 1000) / 1000.0 * STEP * (N - 1), lat = LAT0 + (rand() % 1000) / 1000.0 * STEP * (N - 1);
        CHECK(msh_graph_snap(g, lon, lat, 200, &src[i]));
    }
    msh_knear *kn;
    msh_err err;
    CHECK(msh_knear_build(g, src, NS, K, &kn, &err) == MSH_OK);
    uint32_t nn = msh_graph_node_count(g);
    double *cost = malloc(nn * sizeof *cost);
    for (int q = 0; q < 40; q++) {
        msh_snap p;
        double lon = LON0 + (rand() % 1000) / 1000.0 * STEP * (N - 1), lat = LAT0 + (rand() % 1000) / 1000.0 * STEP * (N - 1);
        CHECK(msh_graph_snap(g, lon, lat, 200, &p));
        CHECK(msh_graph_reach(g, NULL, &p, 1, INFINITY, cost, &err) == MSH_OK);
        double want[NS];
        for (int i = 0; i < NS; i++) {
            want[i] = src[i].off_m + msh_graph_cost_at(g, NULL, cost, &src[i]);
            if (src[i].edge == p.edge) { /* along the shared edge */
                double d = src[i].off_m + fabs(src[i].t - p.t) * msh_graph_edge_length(g, p.edge);
                if (d < want[i])
                    want[i] = d;
            }
        }
        /* sort the brute-force distances */
        for (int i = 1; i < NS; i++)
            for (int j = i; j > 0 && want[j - 1] > want[j]; j--) {
                double t = want[j];
                want[j] = want[j - 1];
                want[j - 1] = t;
            }
        uint32_t ids[K];
        double dist[K];
        uint32_t n = msh_knear_query(kn, g, &p, ids, dist);
        CHECK(n == K);
        for (uint32_t i = 0; i < n; i++)
            CHECK_NEAR(dist[i], want[i], 1e-3); /* labels keep float distances */
    }
    free(cost);
    msh_knear_free(kn);
}

int main(void)
{
    test_metres();
    lines_layer L;
    make_grid(&L);
    msh_layer *lp = &L.base;
    msh_graph *g = NULL;
    msh_err err;
    CHECK(msh_graph_build(&lp, 1, &g, &err) == MSH_OK);
    if (!g)
        CHECK_DONE();
    test_build(g);
    test_routes_against_floyd(g, NULL, 1);
    test_snap_and_same_edge(g);
    test_closures(g);
    test_incremental(g);
    test_knearest(g);
    test_build_lonlat(g);
    test_nearest_node(g);
    test_tree(g);
    msh_graph_release(g);
    test_random();
    CHECK_DONE();
}
