/* gateclose.c: closed gates close their walkways (gateclose.h). Locks: the live read lock while
 * the closed gates are copied, nothing else. */
#include "gateclose.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"

typedef struct {
    double *ll;                        /* lon lat pairs */
    char (*ids)[MSH_FEED_ID_MAX + 1];
    int64_t *reopens;                  /* each gate's planned reopening, 0: none said */
    size_t n, cap, cap_ids, cap_reopens;
    bool oom;
} gate_list;

static int collect_gate(void *ud, const msh_live_item *it)
{
    gate_list *L = ud;
    if (!(it->ops_flags & MSH_ITEM_CLOSED) || !(it->rec.has & MSH_FR_LOC))
        return 0;
    if (msh_grow_from((void **)&L->ll, &L->cap, L->n + 1, 2 * sizeof *L->ll, 16) ||
        msh_grow_from((void **)&L->ids, &L->cap_ids, L->n + 1, sizeof *L->ids, 16) ||
        msh_grow_from((void **)&L->reopens, &L->cap_reopens, L->n + 1, sizeof *L->reopens, 16)) {
        L->oom = true;
        return 1;
    }
    L->ll[2 * L->n] = it->rec.lon;
    L->ll[2 * L->n + 1] = it->rec.lat;
    memcpy(L->ids[L->n], it->rec.id, sizeof L->ids[L->n]);
    L->reopens[L->n] = it->reopens_ms;
    L->n++;
    return 0;
}

typedef struct {
    msh_livecost *lc;
    uint32_t gate;  /* index + 1 */
    int64_t ends;   /* its planned reopening; INT64_MAX: none */
} close_ctx;

/* The edge is closed; it stays closed until the last of what closes it is planned to end: an
 * incident's closure (there before the gates: closed with no gate) and a gate without a planned
 * reopening have no planned end. */
static void close_edge(void *ud, uint32_t e)
{
    close_ctx *c = ud;
    msh_livecost *lc = c->lc;
    bool incident = isinf(lc->w[e]) && !lc->edge_gate[e];
    msh_livecost_close(lc, e);
    if (!lc->edge_gate[e])
        lc->edge_gate[e] = c->gate;
    int64_t *ends = &lc->edge_reopens[e];
    *ends = incident ? INT64_MAX : (c->ends > *ends ? c->ends : *ends);
}

msh_rc msh_gateclose_apply(const msh_graph *g, msh_live *live, double radius_m, msh_livecost *lc, msh_err *err)
{
    gate_list L = {0};
    msh_live_rdlock(live);
    msh_live_items(live, MSH_FEED_GATES, collect_gate, &L);
    msh_live_unlock(live);
    msh_rc rc = MSH_OK;
    uint32_t ne = msh_graph_edge_count(g);
    if (L.oom || (L.n && (!(lc->edge_gate = calloc(ne ? ne : 1, sizeof *lc->edge_gate)) ||
                          !(lc->edge_reopens = calloc(ne ? ne : 1, sizeof *lc->edge_reopens)) ||
                          !(lc->gate_ids = malloc(L.n * sizeof *lc->gate_ids)))))
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory for the closed gates");
    for (size_t i = 0; !rc && i < L.n; i++) {
        memcpy(lc->gate_ids[i], L.ids[i], sizeof L.ids[i]);
        close_ctx c = {lc, (uint32_t)i + 1, L.reopens[i] ? L.reopens[i] : INT64_MAX};
        msh_graph_edges_near(g, L.ll[2 * i], L.ll[2 * i + 1], radius_m, close_edge, &c);
    }
    if (!rc)
        lc->gates_closed = (uint32_t)L.n;
    free(L.ll);
    free(L.ids);
    free(L.reopens);
    return rc;
}

int msh_gateclose_blocking(const msh_graph *g, const msh_livecost *lc, const msh_snap *a, const msh_snap *b,
                           char *out, size_t cap)
{
    out[0] = 0;
    if (!lc->edge_gate)
        return 0;
    msh_path p;
    msh_path_init(&p);
    msh_err err;
    int named = 0;
    if (!msh_graph_route(g, NULL, 1.0, a, b, &p, &err)) {
        const uint32_t *e = (const uint32_t *)(const void *)p.edges.data;
        size_t ne = p.edges.len / sizeof *e;
        bool *seen = calloc(lc->gates_closed + 1, sizeof *seen);
        for (size_t i = 0; seen && i < ne; i++) {
            uint32_t gi = lc->edge_gate[e[i]];
            if (!gi || seen[gi])
                continue;
            seen[gi] = true;
            size_t len = strlen(out);
            snprintf(out + len, cap - len, "%s%s", named ? ", " : "", lc->gate_ids[gi - 1]);
            named++;
        }
        free(seen);
    }
    msh_path_free(&p);
    return named;
}
