/* knearest.c: k nearest sources per node by a labelling search (see knearest.h). */
#include "knearest.h"

#include "heap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct msh_knear {
    uint32_t k, nn;
    size_t nsrc;
    uint32_t *lab_src; /* nn * k */
    float *lab_d;      /* nn * k, ascending per node */
    uint8_t *count;    /* labels per node */
    /* sources by edge, for points on a source's own edge */
    uint32_t *by_edge_src; /* source indexes sorted by edge */
    const msh_snap *snaps; /* copied below */
    msh_snap *own;
};

static bool has_src(const msh_knear *kn, uint32_t node, uint32_t s)
{
    const uint32_t *l = kn->lab_src + (size_t)node * kn->k;
    for (uint32_t i = 0; i < kn->count[node]; i++)
        if (l[i] == s)
            return true;
    return false;
}

typedef struct edge_src {
    uint32_t edge, src;
} edge_src;

static int cmp_edge_src(const void *a, const void *b)
{
    const edge_src *x = a, *y = b;
    if (x->edge != y->edge)
        return (x->edge > y->edge) - (x->edge < y->edge);
    return (x->src > y->src) - (x->src < y->src);
}

msh_rc msh_knear_build(const msh_graph *g, const msh_snap *src, size_t n, uint32_t k, msh_knear **out, msh_err *err)
{
    *out = NULL;
    if (k < 1 || k > MSH_KNEAR_MAX)
        return msh_err_set(err, MSH_EINVAL, "k must be 1..%d", MSH_KNEAR_MAX);
    msh_knear *kn = calloc(1, sizeof *kn);
    if (!kn)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    kn->k = k;
    kn->nn = msh_graph_node_count(g);
    kn->nsrc = n;
    kn->lab_src = malloc(((size_t)kn->nn * k + 1) * sizeof *kn->lab_src);
    kn->lab_d = malloc(((size_t)kn->nn * k + 1) * sizeof *kn->lab_d);
    kn->count = calloc((size_t)kn->nn + 1, 1);
    kn->own = malloc((n + 1) * sizeof *kn->own);
    kn->by_edge_src = malloc((n + 1) * sizeof *kn->by_edge_src);
    msh_heap h = {0};
    bool ok = kn->lab_src && kn->lab_d && kn->count && kn->own && kn->by_edge_src;
    if (ok) {
        memcpy(kn->own, src, n * sizeof *src);
        kn->snaps = kn->own;
        edge_src *es = malloc((n + 1) * sizeof *es);
        ok = es != NULL;
        for (size_t i = 0; ok && i < n; i++)
            es[i] = (edge_src){src[i].edge, (uint32_t)i};
        if (ok)
            qsort(es, n, sizeof *es, cmp_edge_src);
        for (size_t i = 0; ok && i < n; i++)
            kn->by_edge_src[i] = es[i].src;
        free(es);
    }
    for (size_t i = 0; i < n && ok; i++) {
        uint32_t a, b;
        msh_graph_edge_nodes(g, src[i].edge, &a, &b);
        double L = msh_graph_edge_length(g, src[i].edge);
        ok = msh_heap_push(&h, src[i].off_m + src[i].t * L, a, (uint32_t)i) &&
             msh_heap_push(&h, src[i].off_m + (1 - src[i].t) * L, b, (uint32_t)i);
    }
    while (ok && h.n) {
        msh_heap_item it = msh_heap_pop(&h);
        uint32_t u = it.node;
        if (kn->count[u] >= k || has_src(kn, u, it.aux))
            continue;
        size_t slot = (size_t)u * k + kn->count[u]++;
        kn->lab_src[slot] = it.aux;
        kn->lab_d[slot] = (float)it.key;
        uint32_t cnt;
        const uint32_t *es = msh_graph_node_edges(g, u, &cnt);
        for (uint32_t j = 0; j < cnt && ok; j++) {
            uint32_t a, b;
            msh_graph_edge_nodes(g, es[j], &a, &b);
            uint32_t v = a == u ? b : a;
            if (kn->count[v] < k && !has_src(kn, v, it.aux))
                ok = msh_heap_push(&h, it.key + msh_graph_edge_length(g, es[j]), v, it.aux);
        }
    }
    free(h.a);
    if (!ok) {
        msh_knear_free(kn);
        return msh_err_set(err, MSH_ENOMEM, "out of memory for the nearest-feature labels");
    }
    *out = kn;
    return MSH_OK;
}

void msh_knear_free(msh_knear *kn)
{
    if (!kn)
        return;
    free(kn->lab_src);
    free(kn->lab_d);
    free(kn->count);
    free(kn->own);
    free(kn->by_edge_src);
    free(kn);
}

uint32_t msh_knear_k(const msh_knear *kn) { return kn->k; }

/* Offer (s, d) to the sorted list of the best k distinct sources. */
static void offer(uint32_t *ids, double *dist, uint32_t *n, uint32_t k, uint32_t s, double d)
{
    for (uint32_t i = 0; i < *n; i++)
        if (ids[i] == s) {
            if (d >= dist[i])
                return;
            /* remove the worse copy, then insert below */
            memmove(ids + i, ids + i + 1, (*n - i - 1) * sizeof *ids);
            memmove(dist + i, dist + i + 1, (*n - i - 1) * sizeof *dist);
            (*n)--;
            break;
        }
    if (*n == k && d >= dist[k - 1])
        return;
    uint32_t j = *n < k ? (*n)++ : k - 1;
    while (j > 0 && dist[j - 1] > d) {
        ids[j] = ids[j - 1];
        dist[j] = dist[j - 1];
        j--;
    }
    ids[j] = s;
    dist[j] = d;
}

uint32_t msh_knear_query(const msh_knear *kn, const msh_graph *g, const msh_snap *p, uint32_t *ids, double *dist)
{
    uint32_t n = 0, a, b;
    msh_graph_edge_nodes(g, p->edge, &a, &b);
    double L = msh_graph_edge_length(g, p->edge);
    double via[2] = {p->t * L, (1 - p->t) * L};
    uint32_t nodes[2] = {a, b};
    for (int e = 0; e < 2; e++) {
        const uint32_t *ls = kn->lab_src + (size_t)nodes[e] * kn->k;
        const float *ld = kn->lab_d + (size_t)nodes[e] * kn->k;
        for (uint32_t i = 0; i < kn->count[nodes[e]]; i++)
            offer(ids, dist, &n, kn->k, ls[i], via[e] + ld[i]);
    }
    /* sources on the same edge: straight along it */
    size_t lo = 0, hi = kn->nsrc;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (kn->snaps[kn->by_edge_src[mid]].edge < p->edge)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < kn->nsrc && kn->snaps[kn->by_edge_src[i]].edge == p->edge; i++) {
        const msh_snap *s = &kn->snaps[kn->by_edge_src[i]];
        offer(ids, dist, &n, kn->k, kn->by_edge_src[i], s->off_m + fabs(s->t - p->t) * L);
    }
    return n;
}
