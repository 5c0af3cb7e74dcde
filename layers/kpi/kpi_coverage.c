/* kpi_coverage.c: network coverage of the camps (UN SDG 11.2.1), cached by the versions it depends on. */
#include "kpi_int.h"

#include "core/msh_hash.h"
#include "route/graph.h"

static uint64_t coverage_key(const msh_kpi *k, msh_graph *g)
{
    msh_graph_stats st;
    msh_graph_get_stats(g, &st);
    uint64_t parts[6] = {(uint64_t)(uintptr_t)g, st.layer_version, st.edges, k->assets_ver, k->camps_ver,
                         k->zones_ver};
    return msh_fnv1a(parts, sizeof parts, MSH_FNV1A_INIT);
}

static int cmp_snap_edge(const void *a, const void *b)
{
    const msh_snap *x = a, *y = b;
    return x->edge < y->edge ? -1 : x->edge > y->edge;
}

/* The shortest distance along edge at->edge to a source on that same edge (sources sorted by edge). */
static double same_edge_m(const msh_graph *g, const msh_snap *src, size_t n, const msh_snap *at)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (src[mid].edge < at->edge)
            lo = mid + 1;
        else
            hi = mid;
    }
    double best = INFINITY, len = msh_graph_edge_length(g, at->edge);
    for (size_t i = lo; i < n && src[i].edge == at->edge; i++)
        best = fmin(best, fabs(src[i].t - at->t) * len);
    return best;
}

/* UN SDG 11.2.1: a camp is covered for a kind when a working asset of that kind is within the
 * walking distance along the network from the camp's entrance (its centroid when the camps layer
 * has no entrance_lon/entrance_lat), its straight leg onto the network included. */
msh_rc kpi_coverage(msh_kpi *k, msh_graph *g, msh_err *err)
{
    uint64_t key = coverage_key(k, g);
    if (k->cov_valid && key == k->cov_key)
        return MSH_OK;
    free(k->camp_cov);
    k->camp_cov = calloc(k->ncamps ? k->ncamps : 1, 1);
    msh_snap *src = malloc((k->nsvc ? k->nsvc : 1) * sizeof *src);
    msh_snap *camp_snap = malloc((k->ncamps ? k->ncamps : 1) * sizeof *camp_snap);
    bool *camp_on = calloc(k->ncamps ? k->ncamps : 1, sizeof *camp_on);
    double *cost = malloc((msh_graph_node_count(g) ? msh_graph_node_count(g) : 1) * sizeof *cost);
    msh_rc rc = MSH_OK;
    if (!k->camp_cov || !src || !camp_snap || !camp_on || !cost) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t c = 0; c < k->ncamps; c++)
        camp_on[c] = msh_graph_snap(g, k->camps[c].lon, k->camps[c].lat, k->cfg.snap_m, &camp_snap[c]);
    const double cut[3] = {k->cfg.toilet_m, k->cfg.water_m, k->cfg.clinic_m};
    for (int kind = 0; kind < 3; kind++) {
        size_t ns = 0;
        for (size_t i = 0; i < k->nsvc; i++)
            if (k->svc[i].kind == kind && msh_graph_snap(g, k->svc[i].lon, k->svc[i].lat, k->cfg.snap_m, &src[ns]))
                ns++;
        if (!ns)
            continue; /* no working asset of the kind on the network: no camp is covered */
        if ((rc = msh_graph_reach(g, NULL, src, ns, cut[kind], cost, err)))
            goto out;
        qsort(src, ns, sizeof *src, cmp_snap_edge);
        for (size_t c = 0; c < k->ncamps; c++) {
            if (!camp_on[c])
                continue;
            /* through the nodes, or along the edge both lie on (msh_graph_cost_at sees only the first) */
            double d = fmin(msh_graph_cost_at(g, NULL, cost, &camp_snap[c]), same_edge_m(g, src, ns, &camp_snap[c]));
            d += camp_snap[c].off_m;
            if (d <= cut[kind])
                k->camp_cov[c] |= (uint8_t)(1u << kind);
        }
    }
    k->cov_key = key;
    k->cov_valid = true;
out:
    free(src);
    free(camp_snap);
    free(camp_on);
    free(cost);
    return rc;
}
