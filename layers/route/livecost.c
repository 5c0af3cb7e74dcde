/* livecost.c: per-edge walking costs from crowd density and incidents (see livecost.h). */
#include "livecost.h"
#include "gateclose.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_index.h"
#include "core/msh_tilemath.h"

#define LEVEL 22 /* the live store's base density cells */

void msh_livecost_cfg_init(msh_livecost_cfg *c)
{
    c->free_speed = 1.34;
    c->min_speed = 0.1;
    c->avoid_factor = 1000;
    c->close_radius_m = 50;
    c->close_severity = 2;
    c->gate_radius_m = 15;
}

double msh_weidmann_speed(const msh_livecost_cfg *c, double rho)
{
    if (!(rho > 0))
        return c->free_speed;
    double v = c->free_speed * (1.0 - exp(-1.913 * (1.0 / rho - 1.0 / 5.4)));
    return v < c->min_speed ? c->min_speed : v > c->free_speed ? c->free_speed : v;
}

/* ------------------------------------------------------------------ occupied cells */

typedef struct cellmap {
    msh_index ix; /* cx << 32 | cy -> index into rho */
    float *rho;   /* people per square metre */
    size_t n, cap;
    double lat; /* for the cell area */
    bool oom;
} cellmap;

static int add_cell(void *ud, const msh_live_cell *c)
{
    cellmap *m = ud;
    if (!c->count)
        return 0;
    if (m->n >= UINT32_MAX || msh_grow_from((void **)&m->rho, &m->cap, m->n + 1, sizeof *m->rho, 2048) ||
        msh_index_put(&m->ix, ((uint64_t)c->cx << 32) | c->cy, (uint32_t)m->n)) {
        m->oom = true;
        return 1;
    }
    double side = msh_live_cell_metres(LEVEL, m->lat);
    m->rho[m->n++] = (float)(c->count / (side * side));
    return 0;
}

static double cell_rho(const cellmap *m, double lon, double lat)
{
    if (!m->n)
        return 0;
    double wx, wy;
    msh_lonlat_to_world(lon, lat, &wx, &wy);
    uint64_t cx = (uint64_t)(wx * (double)(1u << LEVEL)), cy = (uint64_t)(wy * (double)(1u << LEVEL));
    const uint32_t *i = msh_index_get(&m->ix, (cx << 32) | cy);
    return i ? m->rho[*i] : 0;
}

/* ------------------------------------------------------------------ closures */

typedef struct close_ctx {
    msh_livecost *lc;
    const msh_livecost_cfg *cfg;
    const msh_graph *g;
    uint32_t hit;
} close_ctx;

void msh_livecost_close(msh_livecost *lc, uint32_t e)
{
    if (!isinf(lc->w[e]))
        lc->closed++;
    lc->w[e] = INFINITY;
    lc->secs[e] = INFINITY;
}

static void close_edge(void *ud, uint32_t e)
{
    close_ctx *c = ud;
    msh_livecost_close(c->lc, e);
    c->hit++;
}

/* The active incidents that close walkways, copied under the live lock (closed after it). */
typedef struct incident_list {
    const msh_livecost_cfg *cfg;
    double *ll; /* lon lat pairs */
    size_t n, cap;
    bool oom;
} incident_list;

static int collect_incident(void *ud, const msh_live_item *it)
{
    incident_list *L = ud;
    const msh_feed_rec *r = &it->rec;
    if (r->status >= MSH_INC_RESOLVED || (it->ops_flags & MSH_ITEM_CANCELLED) || r->severity < L->cfg->close_severity)
        return 0;
    if (msh_grow_from((void **)&L->ll, &L->cap, L->n + 1, 2 * sizeof *L->ll, 16)) {
        L->oom = true;
        return 1;
    }
    L->ll[2 * L->n] = r->lon;
    L->ll[2 * L->n + 1] = r->lat;
    L->n++;
    return 0;
}

/* ------------------------------------------------------------------ per edge */

msh_rc msh_livecost_compute(const msh_graph *g, struct msh_live *live, const msh_livecost_cfg *cfg, msh_livecost *out,
                            msh_err *err)
{
    memset(out, 0, sizeof *out);
    uint32_t ne = msh_graph_edge_count(g);
    out->w = malloc((ne ? ne : 1) * sizeof *out->w);
    out->secs = malloc((ne ? ne : 1) * sizeof *out->secs);
    out->min_w_per_m = 1.0 / cfg->free_speed;
    double bounds[4];
    msh_graph_bounds(g, bounds);
    cellmap m = {.lat = 0.5 * (bounds[1] + bounds[3])};
    if (!out->w || !out->secs) {
        msh_livecost_clear(out);
        return msh_err_set(err, MSH_ENOMEM, "out of memory for walking costs");
    }
    /* the lock is held only to copy the occupied cells and the incidents: feed writers wait for
     * that copy, not for the pass over every edge */
    incident_list inc = {.cfg = cfg};
    if (live) {
        msh_live_rdlock(live);
        msh_live_scan(live, LEVEL, add_cell, &m);
        msh_live_items(live, MSH_FEED_INCIDENTS, collect_incident, &inc);
        msh_live_unlock(live);
    }
    double side = msh_live_cell_metres(LEVEL, m.lat);
    double step = side / 2;
    for (uint32_t e = 0; e < ne; e++) {
        uint32_t np;
        const double *sh = msh_graph_edge_shape(g, e, &np);
        double secs = 0, len = 0;
        bool los_f = false;
        for (uint32_t i = 0; i + 1 < np; i++) {
            double sl = msh_metres(sh[2 * i], sh[2 * i + 1], sh[2 * i + 2], sh[2 * i + 3]);
            len += sl;
            if (!m.n) {
                secs += sl / cfg->free_speed;
                continue;
            }
            /* pieces of at most half a cell, each at the density of the cell its middle is in */
            int pieces = (int)ceil(sl / step);
            if (pieces < 1)
                pieces = 1;
            for (int k = 0; k < pieces; k++) {
                double u = (k + 0.5) / pieces;
                double rho = cell_rho(&m, sh[2 * i] + u * (sh[2 * i + 2] - sh[2 * i]),
                                      sh[2 * i + 1] + u * (sh[2 * i + 3] - sh[2 * i + 1]));
                secs += (sl / pieces) / msh_weidmann_speed(cfg, rho);
                los_f = los_f || msh_fruin_los(rho) == 'F';
            }
        }
        if (secs > len / cfg->free_speed * 1.0001)
            out->slowed++;
        out->secs[e] = (float)secs;
        out->w[e] = (float)(los_f ? secs * cfg->avoid_factor : secs);
        out->avoided += los_f;
    }
    close_ctx cc = {out, cfg, g, 0};
    for (size_t i = 0; i < inc.n; i++) {
        cc.hit = 0;
        msh_graph_edges_near(g, inc.ll[2 * i], inc.ll[2 * i + 1], cfg->close_radius_m, close_edge, &cc);
        out->incidents += cc.hit > 0;
    }
    free(inc.ll);
    msh_index_free(&m.ix);
    free(m.rho);
    if (m.oom || inc.oom) {
        msh_livecost_clear(out);
        return msh_err_set(err, MSH_ENOMEM, "out of memory for the density cells");
    }
    if (live && msh_gateclose_apply(g, live, cfg->gate_radius_m, out, err)) { /* gates operators closed */
        msh_livecost_clear(out);
        return MSH_ENOMEM;
    }
    return MSH_OK;
}

/*
 * Who stands inside a closed area may walk out of it, and a destination inside one may be
 * reached: the closed edges joined (through closed edges only) to either end of the route get
 * a finite cost, their free-flow time times the avoid factor, so the route crosses as little
 * of that closure as it can. Every other closed edge stays closed: no route passes through a
 * closure. Returns a changed copy of w, or NULL when neither end is in a closure.
 */
float *msh_livecost_open_ends(const msh_graph *g, const msh_livecost *lc, const msh_livecost_cfg *cfg,
                              const msh_snap *ends, int n, uint32_t *opened)
{
    *opened = 0;
    if (!lc->w || !lc->closed)
        return NULL;
    uint32_t ne = msh_graph_edge_count(g);
    float *w = NULL;
    uint32_t *stack = NULL;
    size_t sp = 0;
    for (int i = 0; i < n; i++) {
        if (!isinf(lc->w[ends[i].edge]) || (w && !isinf(w[ends[i].edge])))
            continue;
        if (!w) {
            w = malloc(ne * sizeof *w);
            stack = malloc(ne * sizeof *stack);
            if (!w || !stack) {
                free(w);
                free(stack);
                return NULL;
            }
            memcpy(w, lc->w, ne * sizeof *w);
        }
        stack[sp++] = ends[i].edge;
        w[ends[i].edge] = 0; /* marked; priced below */
        while (sp) {
            uint32_t e = stack[--sp], a, b;
            w[e] = (float)(msh_graph_edge_length(g, e) / cfg->free_speed * cfg->avoid_factor);
            (*opened)++;
            msh_graph_edge_nodes(g, e, &a, &b);
            uint32_t nodes[2] = {a, b};
            for (int k = 0; k < 2; k++) {
                uint32_t cnt;
                const uint32_t *es = msh_graph_node_edges(g, nodes[k], &cnt);
                for (uint32_t j = 0; j < cnt; j++)
                    if (isinf(w[es[j]])) {
                        w[es[j]] = 0;
                        stack[sp++] = es[j];
                    }
            }
        }
    }
    free(stack);
    return w;
}

void msh_livecost_clear(msh_livecost *lc)
{
    free(lc->w);
    free(lc->secs);
    free(lc->edge_gate);
    free(lc->edge_reopens);
    free(lc->gate_ids);
    memset(lc, 0, sizeof *lc);
}

double msh_livecost_path_secs(const msh_graph *g, const msh_livecost *lc, const msh_path *p)
{
    const uint32_t *es = (const uint32_t *)p->edges.data;
    const double *ms = (const double *)p->edge_m.data;
    size_t n = p->edges.len / sizeof *es;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double L = msh_graph_edge_length(g, es[i]);
        double t = lc->secs[es[i]];
        /* a closed edge walked only to leave it (the route starts or ends on it): free-flow time */
        if (isinf(t))
            t = L * lc->min_w_per_m;
        s += L > 0 ? t * (ms[i] / L) : 0;
    }
    return s;
}
