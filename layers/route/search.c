/* search.c: least-cost searches over the walking graph: one-to-all with a cutoff, shortest-path
 * trees, an incremental search for nearest-by-walking, and A* between two points.
 *
 * Each thread keeps its scratch arrays (costs, predecessors, a binary heap) for
 * reuse; a generation stamp marks what the current search has touched, so a search
 * costs what it visits, not the size of the graph.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "graph_int.h"
#include "heap.h"

#define SRC_EDGE UINT32_MAX /* pred[] of a node reached straight from a source point */

typedef struct scratch {
    uint32_t cap, gen;
    uint32_t *seen;    /* == gen: dist and pred are this search's */
    uint32_t *settled; /* == gen: the node's cost is final */
    double *dist;
    uint32_t *pred;
    msh_heap heap;
    bool busy;
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    scratch *s = p;
    if (!s)
        return;
    free(s->seen);
    free(s->settled);
    free(s->dist);
    free(s->pred);
    free(s->heap.a);
    free(s);
}

static void scratch_key_init(void) { pthread_key_create(&scratch_key, scratch_free); }

/* This thread's scratch sized for nn nodes and a fresh generation; NULL when out of memory. */
static scratch *scratch_get(uint32_t nn)
{
    pthread_once(&scratch_once, scratch_key_init);
    scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || pthread_setspecific(scratch_key, s)) {
            free(s);
            return NULL;
        }
    }
    if (s->busy)
        return NULL; /* one search per thread at a time */
    if (nn > s->cap) {
        uint32_t cap = nn + nn / 4 + 16;
        uint32_t *seen = calloc(cap, sizeof *seen), *settled = calloc(cap, sizeof *settled);
        double *dist = malloc(cap * sizeof *dist);
        uint32_t *pred = malloc(cap * sizeof *pred);
        if (!seen || !settled || !dist || !pred) {
            free(seen);
            free(settled);
            free(dist);
            free(pred);
            return NULL;
        }
        free(s->seen);
        free(s->settled);
        free(s->dist);
        free(s->pred);
        s->seen = seen;
        s->settled = settled;
        s->dist = dist;
        s->pred = pred;
        s->cap = cap;
        s->gen = 0;
    }
    if (++s->gen == 0) { /* wrapped: clear the stamps once every 2^32 searches */
        memset(s->seen, 0, s->cap * sizeof *s->seen);
        memset(s->settled, 0, s->cap * sizeof *s->settled);
        s->gen = 1;
    }
    s->heap.n = 0;
    s->busy = true;
    return s;
}

static void scratch_put(scratch *s)
{
    if (s)
        s->busy = false;
}

static inline double edge_w(const msh_graph *g, const float *w, uint32_t e)
{
    return w ? (double)w[e] : g->elen[e];
}

/* The cost of walking a fraction f of an edge of cost W (0 even on a closed edge when f is 0). */
static inline double part(double W, double f)
{
    return f <= 0 ? 0 : W * f;
}

static inline double node_dist(const scratch *s, uint32_t n)
{
    return s->seen[n] == s->gen ? s->dist[n] : INFINITY;
}

/* Offer cost d to node n through edge `via`; h is the A* bound of n (0 for plain searches). */
static bool relax(scratch *s, uint32_t n, double d, uint32_t via, double h)
{
    if (!(d < node_dist(s, n)))
        return true;
    s->seen[n] = s->gen;
    s->dist[n] = d;
    s->pred[n] = via;
    return msh_heap_push(&s->heap, d + h, n, 0);
}

static bool seed(const msh_graph *g, const float *w, scratch *s, const msh_snap *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t e = src[i].edge;
        double W = edge_w(g, w, e);
        if (!relax(s, g->ea[e], part(W, src[i].t), SRC_EDGE, 0) || !relax(s, g->eb[e], part(W, 1 - src[i].t), SRC_EDGE, 0))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ one-to-all */

/* Settle every node the seeds reach within cutoff, in cost order; each settled node's cost and
 * the edge it was reached by go to cost[] and pred[] (either may be NULL). */
static msh_rc settle_all(const msh_graph *g, const float *w, scratch *s, double cutoff, double *cost, uint32_t *pred,
                         msh_err *err)
{
    while (s->heap.n) {
        msh_heap_item it = msh_heap_pop(&s->heap);
        uint32_t u = it.node;
        if (s->settled[u] == s->gen || it.key > s->dist[u])
            continue;
        if (it.key > cutoff)
            break;
        s->settled[u] = s->gen;
        if (cost)
            cost[u] = s->dist[u];
        if (pred)
            pred[u] = s->pred[u]; /* SRC_EDGE is MSH_GRAPH_NO_EDGE */
        for (uint32_t k = g->adj_off[u]; k < g->adj_off[u + 1]; k++) {
            uint32_t e = g->adj[k], v = g->ea[e] == u ? g->eb[e] : g->ea[e];
            double W = edge_w(g, w, e);
            if (isinf(W) || s->settled[v] == s->gen)
                continue;
            if (!relax(s, v, s->dist[u] + W, e, 0))
                return msh_err_set(err, MSH_ENOMEM, "out of memory for a network search");
        }
    }
    return MSH_OK;
}

msh_rc msh_graph_reach(const msh_graph *g, const float *w, const msh_snap *src, size_t n, double cutoff, double *cost,
                       msh_err *err)
{
    for (uint32_t i = 0; i < g->nn; i++)
        cost[i] = INFINITY;
    scratch *s = scratch_get(g->nn);
    if (!s)
        return msh_err_set(err, MSH_ENOMEM, "out of memory for a network search");
    msh_rc rc = seed(g, w, s, src, n) ? settle_all(g, w, s, cutoff, cost, NULL, err)
                                      : msh_err_set(err, MSH_ENOMEM, "out of memory for a network search");
    scratch_put(s);
    return rc;
}

msh_rc msh_graph_tree(const msh_graph *g, const float *w, uint32_t root, uint32_t *pred, double *cost, msh_err *err)
{
    for (uint32_t i = 0; i < g->nn; i++) {
        pred[i] = MSH_GRAPH_NO_EDGE;
        if (cost)
            cost[i] = INFINITY;
    }
    if (root >= g->nn)
        return msh_err_set(err, MSH_EINVAL, "no node %u in a graph of %u", root, g->nn);
    scratch *s = scratch_get(g->nn);
    if (!s)
        return msh_err_set(err, MSH_ENOMEM, "out of memory for a network search");
    msh_rc rc = relax(s, root, 0, SRC_EDGE, 0) ? settle_all(g, w, s, INFINITY, cost, pred, err)
                                               : msh_err_set(err, MSH_ENOMEM, "out of memory for a network search");
    scratch_put(s);
    return rc;
}

double msh_graph_cost_at(const msh_graph *g, const float *w, const double *cost, const msh_snap *at)
{
    double W = edge_w(g, w, at->edge);
    double a = cost[g->ea[at->edge]] + part(W, at->t);
    double b = cost[g->eb[at->edge]] + part(W, 1 - at->t);
    return a < b ? a : b;
}

/* ------------------------------------------------------------------ incremental search */

struct msh_graph_search {
    const msh_graph *g;
    const float *w;
    scratch *s;
};

msh_graph_search *msh_graph_search_new(const msh_graph *g, const float *w, const msh_snap *src, size_t n)
{
    msh_graph_search *q = malloc(sizeof *q);
    scratch *s = q ? scratch_get(g->nn) : NULL;
    if (!s || !seed(g, w, s, src, n)) {
        scratch_put(s);
        free(q);
        return NULL;
    }
    *q = (msh_graph_search){g, w, s};
    return q;
}

bool msh_graph_search_next(msh_graph_search *q, uint32_t *node, double *cost)
{
    scratch *s = q->s;
    const msh_graph *g = q->g;
    while (s->heap.n) {
        msh_heap_item it = msh_heap_pop(&s->heap);
        uint32_t u = it.node;
        if (s->settled[u] == s->gen || it.key > s->dist[u])
            continue;
        s->settled[u] = s->gen;
        for (uint32_t k = g->adj_off[u]; k < g->adj_off[u + 1]; k++) {
            uint32_t e = g->adj[k], v = g->ea[e] == u ? g->eb[e] : g->ea[e];
            double W = edge_w(g, q->w, e);
            if (!isinf(W) && s->settled[v] != s->gen && !relax(s, v, s->dist[u] + W, e, 0))
                return false; /* out of memory: stop as if everything was settled */
        }
        *node = u;
        *cost = s->dist[u];
        return true;
    }
    return false;
}

double msh_graph_search_cost(const msh_graph_search *q, uint32_t node)
{
    return q->s->settled[node] == q->s->gen ? q->s->dist[node] : INFINITY;
}

void msh_graph_search_free(msh_graph_search *q)
{
    if (!q)
        return;
    scratch_put(q->s);
    free(q);
}

/* ------------------------------------------------------------------ point to point */

void msh_path_init(msh_path *p)
{
    memset(p, 0, sizeof *p);
    msh_buf_init(&p->lonlat, (size_t)1 << 28);
    msh_buf_init(&p->edges, (size_t)1 << 26);
    msh_buf_init(&p->edge_m, (size_t)1 << 27);
}

void msh_path_free(msh_path *p)
{
    msh_buf_free(&p->lonlat);
    msh_buf_free(&p->edges);
    msh_buf_free(&p->edge_m);
}

static msh_rc put_edge(msh_path *p, uint32_t e, double metres)
{
    msh_rc rc = msh_buf_append(&p->edges, &e, sizeof e);
    if (!rc)
        rc = msh_buf_append(&p->edge_m, &metres, sizeof metres);
    p->length_m += metres;
    return rc;
}

/* The point `d` metres along edge e. */
static void point_along(const msh_graph *g, uint32_t e, double d, double *lon, double *lat)
{
    uint32_t i = g->eoff[e], end = g->eoff[e + 1] - 1;
    while (i + 1 < end && g->cum[i + 1] < d)
        i++;
    double seg = g->cum[i + 1] - g->cum[i];
    double u = seg > 0 ? (d - g->cum[i]) / seg : 0;
    u = u < 0 ? 0 : u > 1 ? 1 : u;
    *lon = g->shape[2 * i] + u * (g->shape[2 * i + 2] - g->shape[2 * i]);
    *lat = g->shape[2 * i + 1] + u * (g->shape[2 * i + 3] - g->shape[2 * i + 1]);
}

static msh_rc put_xy(msh_buf *b, double lon, double lat)
{
    size_t n = b->len / (2 * sizeof(double));
    if (n) {
        const double *last = (const double *)b->data + 2 * (n - 1);
        if (last[0] == lon && last[1] == lat)
            return MSH_OK;
    }
    double ll[2] = {lon, lat};
    return msh_buf_append(b, ll, sizeof ll);
}

msh_rc msh_graph_edge_sub(const msh_graph *g, uint32_t e, double d0, double d1, msh_buf *lonlat)
{
    double lon, lat;
    point_along(g, e, d0, &lon, &lat);
    msh_rc rc = put_xy(lonlat, lon, lat);
    uint32_t first = g->eoff[e], last = g->eoff[e + 1] - 1;
    if (d1 >= d0) {
        for (uint32_t i = first; i <= last && !rc; i++)
            if (g->cum[i] > d0 && g->cum[i] < d1)
                rc = put_xy(lonlat, g->shape[2 * i], g->shape[2 * i + 1]);
    } else {
        for (uint32_t i = last + 1; i-- > first && !rc;)
            if (g->cum[i] < d0 && g->cum[i] > d1)
                rc = put_xy(lonlat, g->shape[2 * i], g->shape[2 * i + 1]);
    }
    if (!rc) {
        point_along(g, e, d1, &lon, &lat);
        rc = put_xy(lonlat, lon, lat);
    }
    return rc;
}

msh_rc msh_graph_tree_path(const msh_graph *g, const uint32_t *pred, uint32_t root, uint32_t from, msh_buf *lonlat)
{
    if (from >= g->nn || (from != root && pred[from] == MSH_GRAPH_NO_EDGE))
        return MSH_ENOTFOUND;
    msh_rc rc = put_xy(lonlat, g->node_ll[2 * from], g->node_ll[2 * from + 1]);
    /* a tree has at most nn - 1 edges on any path: the bound only stops a malformed pred[] */
    for (uint32_t n = from, steps = 0; !rc && n != root && steps < g->nn; steps++) {
        uint32_t e = pred[n];
        if (e == MSH_GRAPH_NO_EDGE)
            return MSH_ENOTFOUND;
        bool fwd = g->ea[e] == n;
        uint32_t first = g->eoff[e], last = g->eoff[e + 1] - 1;
        for (uint32_t k = 0; k <= last - first && !rc; k++) {
            uint32_t i = fwd ? first + k : last - k;
            rc = put_xy(lonlat, g->shape[2 * i], g->shape[2 * i + 1]);
        }
        n = fwd ? g->eb[e] : g->ea[e];
    }
    return rc;
}

static msh_rc put_along(msh_path *p, const msh_graph *g, uint32_t e, double d0, double d1)
{
    return msh_graph_edge_sub(g, e, d0, d1, &p->lonlat);
}

/* The path's shape and edges, walking pred[] back from node `end`. */
static msh_rc trace(const msh_graph *g, const scratch *s, const msh_snap *from, const msh_snap *to, uint32_t end,
                    msh_path *out)
{
    /* edges from end back to the node reached from the origin */
    msh_buf back;
    msh_buf_init(&back, (size_t)1 << 26);
    uint32_t n = end;
    msh_rc rc = MSH_OK;
    while (!rc && s->pred[n] != SRC_EDGE) {
        uint32_t e = s->pred[n];
        rc = msh_buf_append(&back, &e, sizeof e);
        n = g->ea[e] == n ? g->eb[e] : g->ea[e];
    }
    uint32_t start = n;
    const uint32_t *be = (const uint32_t *)back.data;
    size_t nb = back.len / sizeof *be;
    /* origin -> start along the origin's edge */
    double L1 = g->elen[from->edge], L2 = g->elen[to->edge];
    if (!rc)
        rc = put_xy(&out->lonlat, from->lon, from->lat);
    if (!rc)
        rc = put_along(out, g, from->edge, from->t * L1, start == g->ea[from->edge] ? 0 : L1);
    if (!rc)
        rc = put_edge(out, from->edge, start == g->ea[from->edge] ? from->t * L1 : (1 - from->t) * L1);
    n = start;
    for (size_t k = nb; k-- > 0 && !rc;) {
        uint32_t e = be[k];
        bool fwd = g->ea[e] == n;
        rc = put_along(out, g, e, fwd ? 0 : g->elen[e], fwd ? g->elen[e] : 0);
        if (!rc)
            rc = put_edge(out, e, g->elen[e]);
        n = fwd ? g->eb[e] : g->ea[e];
    }
    /* end -> destination along its edge */
    if (!rc)
        rc = put_along(out, g, to->edge, end == g->ea[to->edge] ? 0 : L2, to->t * L2);
    if (!rc)
        rc = put_edge(out, to->edge, end == g->ea[to->edge] ? to->t * L2 : (1 - to->t) * L2);
    if (!rc)
        rc = put_xy(&out->lonlat, to->lon, to->lat);
    msh_buf_free(&back);
    return rc;
}

msh_rc msh_graph_route(const msh_graph *g, const float *w, double min_w_per_m, const msh_snap *from,
                       const msh_snap *to, msh_path *out, msh_err *err)
{
    msh_buf_reset(&out->lonlat);
    msh_buf_reset(&out->edges);
    msh_buf_reset(&out->edge_m);
    out->cost = INFINITY;
    out->length_m = 0;
    double k = w ? min_w_per_m : 1.0;
    if (!(k >= 0) || isinf(k))
        k = 0;
    /* both points on one edge: walking along it is a candidate */
    double best = INFINITY;
    uint32_t best_end = UINT32_MAX;
    if (from->edge == to->edge)
        best = part(edge_w(g, w, from->edge), fabs(from->t - to->t));
    scratch *s = scratch_get(g->nn);
    if (!s)
        return msh_err_set(err, MSH_ENOMEM, "out of memory for a route search");
    uint32_t e2 = to->edge;
    double W2 = edge_w(g, w, e2);
    double tail_a = part(W2, to->t), tail_b = part(W2, 1 - to->t);
    msh_rc rc = MSH_OK;
    if (!seed(g, w, s, from, 1))
        rc = MSH_ENOMEM;
    /* the seeds went in with key = cost; give them their bound too */
    for (size_t i = 0; i < s->heap.n; i++) {
        uint32_t u = s->heap.a[i].node;
        s->heap.a[i].key += k * msh_graph_plane_metres(g, g->node_ll[2 * u], g->node_ll[2 * u + 1], to->lon, to->lat);
    }
    /* restore the heap order after changing keys (two items at most) */
    if (s->heap.n == 2 && s->heap.a[1].key < s->heap.a[0].key) {
        msh_heap_item t = s->heap.a[0];
        s->heap.a[0] = s->heap.a[1];
        s->heap.a[1] = t;
    }
    while (!rc && s->heap.n) {
        msh_heap_item it = msh_heap_pop(&s->heap);
        uint32_t u = it.node;
        if (s->settled[u] == s->gen)
            continue;
        if (it.key >= best)
            break;
        s->settled[u] = s->gen;
        double du = s->dist[u];
        if (u == g->ea[e2] && du + tail_a < best) {
            best = du + tail_a;
            best_end = u;
        }
        if (u == g->eb[e2] && du + tail_b < best) {
            best = du + tail_b;
            best_end = u;
        }
        for (uint32_t j = g->adj_off[u]; j < g->adj_off[u + 1]; j++) {
            uint32_t e = g->adj[j], v = g->ea[e] == u ? g->eb[e] : g->ea[e];
            double W = edge_w(g, w, e);
            if (isinf(W) || s->settled[v] == s->gen)
                continue;
            double h = k * msh_graph_plane_metres(g, g->node_ll[2 * v], g->node_ll[2 * v + 1], to->lon, to->lat);
            if (!relax(s, v, du + W, e, h))
                rc = MSH_ENOMEM;
        }
    }
    if (rc) {
        msh_err_set(err, rc, "out of memory for a route search");
    } else if (isinf(best)) {
        rc = msh_err_set(err, MSH_ENOTFOUND,
                         "no walking path joins the two points (separate parts of the network, or closed on the way)");
    } else if (best_end == UINT32_MAX) {
        /* along the shared edge */
        double L = g->elen[from->edge];
        rc = put_xy(&out->lonlat, from->lon, from->lat);
        if (!rc)
            rc = put_along(out, g, from->edge, from->t * L, to->t * L);
        if (!rc)
            rc = put_xy(&out->lonlat, to->lon, to->lat);
        if (!rc)
            rc = put_edge(out, from->edge, fabs(from->t - to->t) * L);
        out->cost = best;
    } else {
        rc = trace(g, s, from, to, best_end, out);
        out->cost = best;
    }
    scratch_put(s);
    if (rc && rc != MSH_ENOTFOUND)
        msh_err_set(err, rc, "building the route: %s", msh_rc_str(rc));
    return rc;
}
