/* responders.c: crews ranked by walking time to an incident (responders.h). Locks: the live read
 * lock while the crews are copied; the searches run on the caller's immutable view. */
#include "responders.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"

typedef struct {
    const msh_responders_q *q;
    msh_responder *v;
    size_t n, cap;
    bool oom;
    /* crews assigned to an incident still open (dispatched or on scene): busy whatever their feed
     * says until it ends (a crew's own status lags the dispatch by its next report) */
    char (*busy)[MSH_FEED_ID_MAX + 1];
    size_t nbusy, capbusy;
} crew_list;

static int collect_busy(void *ud, const msh_live_item *it)
{
    crew_list *L = ud;
    int st = it->rec.status;
    if (!it->crew[0] || (it->ops_flags & (MSH_ITEM_CANCELLED | MSH_ITEM_RETIRED)) ||
        (st != MSH_INC_DISPATCHED && st != MSH_INC_ON_SCENE))
        return 0;
    if (msh_grow_from((void **)&L->busy, &L->capbusy, L->nbusy + 1, sizeof *L->busy, 8)) {
        L->oom = true;
        return 1;
    }
    memcpy(L->busy[L->nbusy++], it->crew, sizeof *L->busy);
    return 0;
}

static bool busy(const crew_list *L, const char *crew)
{
    for (size_t i = 0; i < L->nbusy; i++)
        if (!strcmp(L->busy[i], crew))
            return true;
    return false;
}

static bool available(const msh_responders_q *q, const msh_feed_rec *r)
{
    if (q->any_status)
        return true;
    return (r->has & MSH_FR_STATUS) && (!strcmp(r->group, "standby") || !strcmp(r->group, "returning"));
}

static bool excluded(const msh_responders_q *q, const char *crew)
{
    for (size_t i = 0; i < q->nexclude; i++)
        if (!strcmp(q->exclude[i], crew))
            return true;
    return false;
}

static int collect(void *ud, const msh_live_item *it)
{
    crew_list *L = ud;
    const msh_feed_rec *r = &it->rec;
    if (!(r->has & MSH_FR_LOC) || !available(L->q, r) || msh_timers_crew_stale(it, L->q->timers, L->q->now_ms) ||
        busy(L, r->id) || excluded(L->q, r->id))
        return 0;
    if (L->q->kind && *L->q->kind && (!(r->has & MSH_FR_KIND) || strcmp(r->kind, L->q->kind)))
        return 0;
    if (msh_grow_from((void **)&L->v, &L->cap, L->n + 1, sizeof *L->v, 16)) {
        L->oom = true;
        return 1;
    }
    msh_responder *o = &L->v[L->n++];
    memset(o, 0, sizeof *o);
    memcpy(o->crew, r->id, sizeof o->crew);
    if (r->has & MSH_FR_TEXT)
        memcpy(o->name, r->text, sizeof o->name);
    memcpy(o->kind, r->kind, sizeof o->kind);
    memcpy(o->status, r->group, sizeof o->status);
    o->lon = r->lon;
    o->lat = r->lat;
    return 0;
}

static int by_eta(const void *a, const void *b)
{
    const msh_responder *x = a, *y = b;
    if (x->eta_s != y->eta_s)
        return x->eta_s < y->eta_s ? -1 : 1;
    return strcmp(x->crew, y->crew);
}

msh_rc msh_responders_rank(const msh_netview *v, const msh_livecost_cfg *cfg, msh_live *live,
                           const msh_responders_q *q, msh_responder *out, size_t *n, msh_err *err)
{
    *n = 0;
    const msh_graph *g = v->graph;
    msh_snap at;
    if (!msh_graph_snap(g, q->lon, q->lat, q->max_snap_m, &at))
        return msh_err_set(err, MSH_ENOTFOUND, "the incident is more than %.0f m from the walking network",
                           q->max_snap_m);
    crew_list L = {q, NULL, 0, 0, false, NULL, 0, 0};
    msh_live_rdlock(live);
    msh_live_items(live, MSH_FEED_INCIDENTS, collect_busy, &L);
    if (!L.oom)
        msh_live_items(live, MSH_FEED_CREWS, collect, &L);
    msh_live_unlock(live);
    free(L.busy);
    L.busy = NULL;
    L.nbusy = 0;
    uint32_t nn = msh_graph_node_count(g), ne = msh_graph_edge_count(g);
    double *secs = malloc((nn ? nn : 1) * sizeof *secs), *metres = malloc((nn ? nn : 1) * sizeof *metres);
    float *len_w = malloc((ne ? ne : 1) * sizeof *len_w);
    uint32_t opened = 0;
    /* the incident's own closure (an incident closes the walkways around it) is where crews go */
    float *w_open = v->cost.w ? msh_livecost_open_ends(g, &v->cost, cfg, &at, 1, &opened) : NULL;
    const float *w = w_open ? w_open : v->cost.w;
    msh_rc rc = MSH_OK;
    if (L.oom || !secs || !metres || !len_w)
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory for the responders");
    for (uint32_t e = 0; !rc && e < ne; e++) /* lengths, closed where the walking costs are */
        len_w[e] = w && isinf(w[e]) ? INFINITY : (float)msh_graph_edge_length(g, e);
    /* time: the live walking seconds (secs, not the search cost that avoids crowds: an ETA is a time) */
    float *t_w = NULL;
    if (!rc && w && v->cost.secs) {
        if (!(t_w = malloc((ne ? ne : 1) * sizeof *t_w)))
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory for the responders");
        for (uint32_t e = 0; !rc && e < ne; e++) /* an opened closure: its free-flow time */
            t_w[e] = isinf(w[e])                ? INFINITY
                     : isinf(v->cost.secs[e]) ? (float)(msh_graph_edge_length(g, e) / cfg->free_speed)
                                              : v->cost.secs[e];
    }
    if (!rc)
        rc = msh_graph_reach(g, t_w, &at, 1, INFINITY, secs, err);
    if (!rc)
        rc = msh_graph_reach(g, len_w, &at, 1, INFINITY, metres, err);
    size_t k = 0;
    for (size_t i = 0; !rc && i < L.n; i++) {
        msh_snap cs;
        if (!msh_graph_snap(g, L.v[i].lon, L.v[i].lat, q->max_snap_m, &cs))
            continue;
        double t = msh_graph_cost_at(g, t_w, secs, &cs), m = msh_graph_cost_at(g, len_w, metres, &cs);
        if (cs.edge == at.edge && isfinite(len_w[at.edge])) { /* on the incident's own edge: straight along it */
            double part = fabs(cs.t - at.t);
            m = fmin(m, part * len_w[at.edge]);
            t = fmin(t, part * (t_w ? t_w[at.edge] : len_w[at.edge]));
        }
        if (!isfinite(t) || !isfinite(m))
            continue;
        double off = cs.off_m + at.off_m;
        if (!t_w)
            t = m / cfg->free_speed; /* no live costs: lengths at free-flow speed */
        L.v[i].distance_m = m + off;
        L.v[i].eta_s = t + off / cfg->free_speed;
        L.v[k++] = L.v[i];
    }
    if (!rc) {
        *n = k < q->limit ? k : q->limit;
        if (k) { /* L.v is NULL when there is no crew */
            qsort(L.v, k, sizeof *L.v, by_eta);
            memcpy(out, L.v, *n * sizeof *out);
        }
    }
    free(L.v);
    free(secs);
    free(metres);
    free(len_w);
    free(t_w);
    free(w_open);
    return rc;
}
