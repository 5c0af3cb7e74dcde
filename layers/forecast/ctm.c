/* ctm.c: the cell-transmission forecast on the walking network (ctm.h has the model).
 *
 * Layout: segments are numbered edge by edge (seg_off[e] .. seg_off[e + 1] - 1, from node a to
 * node b). Direction 0 walks a -> b, 1 walks b -> a. Commodity 0 is the observed crowd, the
 * gates' inflow and the inflow at walkway ends; commodity k >= 1 the planned groups walking to
 * destination k (a shortest-path tree each). State per segment: standing people, and people per
 * commodity and direction.
 *
 * The flow between two segments is Godunov's for Weidmann's fundamental diagram q(rho) =
 * rho v(rho): the sender offers its demand (q(rho) below the critical density, the capacity
 * above it: a queue discharges at capacity), the receiver takes up to its supply (the capacity
 * below the critical density, q(rho) above it, and never beyond jam density). The speed is the
 * diagram's at the density, not an observed one: an observed velocity says which way people
 * walk, not how fast they will once the density around them changes.
 *
 * Every step is computed from the state before it (sends first, then the cut where receivers are
 * short, then the moves), so the order segments are visited in changes nothing.
 *
 * The set-up that depends on the network only (segments, their widths and capacities, the cells
 * each segment covers, the moves at edge ends) is an msh_fc_net, kept by the caller between runs
 * and rebuilt only when the graph, the widths or the closed edges differ from the last run's.
 * Runs on one thread with its own memory: no lock is held or needed (a net belongs to one thread).
 */
#include "forecast/ctm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/msh_grow.h"
#include "forecast/open_ground.h"
#include "route/livecost.h"

const int msh_fc_minutes[MSH_FC_NH] = {0, 5, 10, 15, 20, 30};

int msh_fc_horizon_index(long minutes)
{
    for (int i = 0; i < MSH_FC_NH; i++)
        if (msh_fc_minutes[i] == minutes)
            return i;
    return -1;
}

void msh_fc_params_init(msh_fc_params *p)
{
    p->dt_s = 5;
    p->max_speed = 2.5;
    p->stand_speed = 0.1;
    p->free_speed = 1.34;
    p->jam_density = 5.4;
    p->snap_m = 50;
    p->queue_density = 1.0;
    p->inflow_fade_s = 600;
    p->wait_speed = 0.3;
    p->stay_reach_m = 50;
    p->open_min_people = 5;
}

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Weidmann's speed at density rho for free speed v0, 0 at jam density (no floor: the diagram's
 * flow must reach 0 where a walkway is full). */
static double weidmann_v(double v0, double jam, double rho)
{
    if (!(rho > 0))
        return v0;
    if (rho >= jam)
        return 0;
    return fmax(0, v0 * (1.0 - exp(-1.913 * (1.0 / rho - 1.0 / jam))));
}

/* Weidmann's flow q(rho) = rho v(rho) tabulated every 0.01 persons/m2 up to 6 (a step reads it
 * per segment: a table read instead of an exp); rho_c the density of the largest flow q_max. */
#define QT_STEP 100.0
#define QT_N 600
typedef struct qtab {
    float q[QT_N + 2];
    float rho_c, q_max;
} qtab;

static void qtab_init(qtab *t, double v0, double jam)
{
    t->q_max = 0;
    t->rho_c = (float)jam;
    for (int i = 0; i <= QT_N + 1; i++) {
        double rho = i / QT_STEP;
        t->q[i] = (float)(rho * weidmann_v(v0, jam, rho));
        if (t->q[i] > t->q_max)
            t->q_max = t->q[i], t->rho_c = (float)rho;
    }
}

static inline float qtab_at(const qtab *t, float rho)
{
    float x = rho * (float)QT_STEP;
    if (!(x < QT_N))
        return t->q[QT_N];
    if (!(x > 0))
        return 0;
    int i = (int)x;
    float f = x - (float)i;
    return t->q[i] + f * (t->q[i + 1] - t->q[i]);
}

double msh_fc_capacity_per_m(void)
{
    msh_livecost_cfg cfg;
    msh_livecost_cfg_init(&cfg);
    qtab t;
    qtab_init(&t, cfg.free_speed, 5.4);
    return t.q_max;
}

/* The point `d` metres along edge e (from a) and the unit direction of travel there (east, north). */
static void point_at(const msh_graph *g, uint32_t e, double d, double *lon, double *lat, double *tx, double *ty)
{
    uint32_t np;
    const double *s = msh_graph_edge_shape(g, e, &np);
    double kx, ky;
    msh_fc_m_per_deg(s[1], &kx, &ky);
    double acc = 0;
    for (uint32_t i = 0; i + 1 < np; i++) {
        double dx = (s[2 * i + 2] - s[2 * i]) * kx, dy = (s[2 * i + 3] - s[2 * i + 1]) * ky;
        double l = hypot(dx, dy);
        if (acc + l >= d || i + 2 == np) {
            double f = l > 0 ? fmin(fmax((d - acc) / l, 0), 1) : 0;
            *lon = s[2 * i] + f * (s[2 * i + 2] - s[2 * i]);
            *lat = s[2 * i + 1] + f * (s[2 * i + 3] - s[2 * i + 1]);
            *tx = l > 0 ? dx / l : 1;
            *ty = l > 0 ? dy / l : 0;
            return;
        }
        acc += l;
    }
    *lon = s[0], *lat = s[1], *tx = 1, *ty = 0;
}

/* A move at an edge end: into segment `seg`, direction `dir`. */
typedef struct hop {
    uint32_t seg;
    uint8_t dir;
} hop;

#define NO_SEG UINT32_MAX
#define SINK (UINT32_MAX - 1)

/* ------------------------------------------------------------------ the network's set-up */

struct msh_fc_net {
    msh_graph *g;               /* retained: the graph this set-up is for */
    float *width;               /* ne: the widths it was built with (a copy, compared each run) */
    uint8_t *closed;            /* ne: the closed edges it was built with */
    double dt, jam, v0;         /* the parameters it was built with */
    uint32_t ne, nn, S;         /* edges, nodes, segments */
    uint32_t *seg_off;          /* ne + 1 */
    uint32_t *seg_edge;         /* S */
    float *len, *area, *cap, *jam_n; /* S: metres, m2, persons per step at the largest flow, persons */
    float *wid;                 /* S: metres */
    uint32_t *hop_off;          /* 2 S + 1: moves out of (segment, dir): the next segment within the
                                 * edge; at the edge's end the open edges of the node (shared by
                                 * what is observed, else straight on), SINK at a walkway end,
                                 * nothing where every other edge is closed (they wait) */
    hop *hops;
    uint32_t *straight;         /* 2 S: the index in hops of the straightest move */
    uint32_t *fp_off;           /* S + 1: the cells a segment's people are drawn over */
    uint32_t *fp_slot;          /* their slots in `cells` */
    float *fp_w;                /* their shares of the segment (sum 1) */
    msh_fc_out *cells;          /* every cell a segment covers, sorted by row then column */
    uint32_t ncells;
    msh_fc_index cell_ix;       /* finds a cell among them */
    struct on_walkway {         /* ncells, filled as asked (open ground's joins): the cell's segment by the
                                 * placing rule (cell_walkway), ON_UNKNOWN before, ON_NONE when on none */
        uint32_t seg;
        float tx, ty;
    } *on;
};

#define ON_UNKNOWN UINT32_MAX
#define ON_NONE (UINT32_MAX - 1)

msh_fc_net *msh_fc_net_new(void)
{
    return calloc(1, sizeof(msh_fc_net));
}

static void net_clear(msh_fc_net *n)
{
    msh_graph_release(n->g);
    free(n->width);
    free(n->closed);
    free(n->seg_off);
    free(n->seg_edge);
    free(n->len);
    free(n->area);
    free(n->cap);
    free(n->jam_n);
    free(n->wid);
    free(n->hop_off);
    free(n->hops);
    free(n->straight);
    free(n->fp_off);
    free(n->fp_slot);
    free(n->fp_w);
    free(n->cells);
    msh_fc_index_free(&n->cell_ix);
    free(n->on);
    memset(n, 0, sizeof *n);
}

void msh_fc_net_free(msh_fc_net *n)
{
    if (!n)
        return;
    net_clear(n);
    free(n);
}

static double in_width(const msh_fc_input *in, uint32_t e)
{
    const float *w = in->width_m;
    return w && w[e] > 0 ? w[e] : in->default_width_m > 0 ? in->default_width_m : MSH_FC_DEFAULT_WIDTH_M;
}

static bool in_closed(const msh_fc_input *in, uint32_t e)
{
    return in->closed && in->closed[e];
}

/* Whether `n` was built for this input's network and these parameters. */
static bool net_matches(const msh_fc_net *n, const msh_fc_input *in, const msh_fc_params *p)
{
    if (!n->g || n->g != in->g || n->dt != p->dt_s || n->jam != p->jam_density || n->v0 != p->free_speed)
        return false;
    for (uint32_t e = 0; e < n->ne; e++)
        if (n->width[e] != (float)in_width(in, e) || n->closed[e] != (in_closed(in, e) ? 1 : 0))
            return false;
    return true;
}

/* The first segment of edge e walked away from node v, and that direction. */
static void entry_of(const msh_fc_net *n, uint32_t e, uint32_t v, uint32_t *seg, uint8_t *dir)
{
    uint32_t a, b;
    msh_graph_edge_nodes(n->g, e, &a, &b);
    *dir = a == v ? 0 : 1;
    *seg = a == v ? n->seg_off[e] : n->seg_off[e + 1] - 1;
}

/* The unit direction leaving node v along edge e. */
static void leave_dir(const msh_fc_net *n, uint32_t e, uint32_t v, double *tx, double *ty)
{
    uint32_t a, b;
    double lon, lat;
    msh_graph_edge_nodes(n->g, e, &a, &b);
    double L = msh_graph_edge_length(n->g, e);
    if (a == v) {
        point_at(n->g, e, fmin(1, L / 2), &lon, &lat, tx, ty);
    } else {
        point_at(n->g, e, fmax(L - 1, L / 2), &lon, &lat, tx, ty);
        *tx = -*tx, *ty = -*ty;
    }
}

/* The segment of edge e at `t` (0..1 along it). */
static uint32_t seg_at(const msh_fc_net *n, uint32_t e, double t)
{
    uint32_t k = n->seg_off[e + 1] - n->seg_off[e];
    uint32_t i = (uint32_t)fmin(fmax(t * k, 0), k - 1);
    return n->seg_off[e] + i;
}

/* A growing list of (cell, share) a segment covers, and of every segment's. */
typedef struct fp_build {
    uint32_t *cxy;  /* 2 per entry */
    float *w;
    size_t n, cap, wcap;
} fp_build;

static msh_rc fp_add(fp_build *b, size_t from, uint32_t cx, uint32_t cy, float w)
{
    for (size_t i = from; i < b->n; i++)
        if (b->cxy[2 * i] == cx && b->cxy[2 * i + 1] == cy) {
            b->w[i] += w;
            return MSH_OK;
        }
    if (msh_grow_from((void **)&b->cxy, &b->cap, 2 * (b->n + 1), sizeof *b->cxy, 8192) ||
        msh_grow_from((void **)&b->w, &b->wcap, b->n + 1, sizeof *b->w, 4096))
        return MSH_ENOMEM;
    b->cxy[2 * b->n] = cx;
    b->cxy[2 * b->n + 1] = cy;
    b->w[b->n++] = w;
    return MSH_OK;
}

#define FP_ALONG 3
#define FP_ACROSS_MAX 8

/* Segments, their sizes and capacities, and the cells each covers: a grid of points over the
 * segment's area (FP_ALONG along, one about every 2 m across up to FP_ACROSS_MAX), each cell
 * getting the share of the points it holds, so a 12 m street's people fall into the two cells
 * its width spans, in proportion. */
static msh_rc build_segments(msh_fc_net *n, const msh_fc_input *in, const msh_fc_params *p, double q_max)
{
    const msh_graph *g = n->g;
    n->seg_off = malloc(((size_t)n->ne + 1) * sizeof *n->seg_off);
    if (!n->seg_off)
        return MSH_ENOMEM;
    uint64_t S = 0;
    for (uint32_t e = 0; e < n->ne; e++) {
        n->seg_off[e] = (uint32_t)S;
        uint32_t np;
        const double *s = msh_graph_edge_shape(g, e, &np);
        uint32_t cx, cy;
        msh_fc_cell_at(s[0], s[1], &cx, &cy);
        double side = msh_fc_cell_side_m(cy);
        double k = fmax(1, round(msh_graph_edge_length(g, e) / side));
        S += (uint64_t)fmin(k, 100000);
        if (S > UINT32_MAX / 4)
            return MSH_ETOOBIG;
    }
    n->seg_off[n->ne] = (uint32_t)S;
    n->S = (uint32_t)S;
    size_t sz = S ? S : 1;
    n->seg_edge = malloc(sz * sizeof *n->seg_edge);
    n->len = malloc(sz * sizeof(float));
    n->area = malloc(sz * sizeof(float));
    n->cap = malloc(sz * sizeof(float));
    n->jam_n = malloc(sz * sizeof(float));
    n->wid = malloc(sz * sizeof(float));
    n->fp_off = malloc((sz + 1) * sizeof *n->fp_off);
    if (!n->seg_edge || !n->len || !n->area || !n->cap || !n->jam_n || !n->wid || !n->fp_off)
        return MSH_ENOMEM;
    double qstep = q_max * p->dt_s;
    fp_build fb = {0};
    msh_rc rc = MSH_OK;
    for (uint32_t e = 0; e < n->ne && !rc; e++) {
        uint32_t k = n->seg_off[e + 1] - n->seg_off[e];
        double L = msh_graph_edge_length(g, e) / k, W = in_width(in, e);
        int across = (int)fmin(fmax(ceil(W / 2.0), 2), FP_ACROSS_MAX);
        for (uint32_t i = 0; i < k && !rc; i++) {
            uint32_t s = n->seg_off[e] + i;
            n->seg_edge[s] = e;
            n->len[s] = (float)fmax(L, 0.5);
            n->wid[s] = (float)W;
            n->area[s] = (float)(n->len[s] * W);
            n->cap[s] = (float)(qstep * W);
            n->jam_n[s] = (float)(p->jam_density * n->area[s]);
            n->fp_off[s] = (uint32_t)fb.n;
            float w = 1.0f / (float)(FP_ALONG * across);
            for (int a = 0; a < FP_ALONG && !rc; a++) {
                double lon, lat, tx, ty, kx, ky;
                point_at(g, e, (i + (a + 0.5) / FP_ALONG) * L, &lon, &lat, &tx, &ty);
                msh_fc_m_per_deg(lat, &kx, &ky);
                for (int j = 0; j < across && !rc; j++) {
                    double off = ((j + 0.5) / across - 0.5) * W; /* metres to the left of travel */
                    uint32_t cx, cy;
                    msh_fc_cell_at(lon - ty * off / kx, lat + tx * off / ky, &cx, &cy);
                    rc = fp_add(&fb, n->fp_off[s], cx, cy, w);
                }
            }
        }
    }
    if (!rc) {
        n->fp_off[n->S] = (uint32_t)fb.n;
        /* the distinct cells, sorted; each entry's slot among them */
        n->cells = malloc((fb.n + 1) * sizeof *n->cells);
        n->fp_slot = malloc((fb.n + 1) * sizeof *n->fp_slot);
        rc = n->cells && n->fp_slot ? MSH_OK : MSH_ENOMEM;
    }
    if (!rc) {
        for (size_t i = 0; i < fb.n; i++)
            n->cells[i] = (msh_fc_out){fb.cxy[2 * i], fb.cxy[2 * i + 1], 0};
        rc = msh_fc_sort(n->cells, fb.n);
    }
    if (!rc) {
        size_t u = 0;
        for (size_t i = 0; i < fb.n; i++)
            if (!u || n->cells[i].cx != n->cells[u - 1].cx || n->cells[i].cy != n->cells[u - 1].cy)
                n->cells[u++] = n->cells[i];
        n->ncells = (uint32_t)u;
        for (size_t i = 0; i < fb.n; i++) {
            uint32_t cx = fb.cxy[2 * i], cy = fb.cxy[2 * i + 1];
            size_t from = 0, to = u;
            while (from < to) {
                size_t mid = from + (to - from) / 2;
                const msh_fc_out *c = &n->cells[mid];
                if (c->cy < cy || (c->cy == cy && c->cx < cx))
                    from = mid + 1;
                else
                    to = mid;
            }
            n->fp_slot[i] = (uint32_t)from;
        }
        n->fp_w = fb.w;
        fb.w = NULL;
        n->on = malloc(((size_t)u + 1) * sizeof *n->on);
        rc = n->on ? msh_fc_index_build(&n->cell_ix, n->cells, u) : MSH_ENOMEM;
        for (size_t i = 0; i < u && !rc; i++)
            n->on[i].seg = ON_UNKNOWN;
    }
    free(fb.cxy);
    free(fb.w);
    return rc;
}

/* Whether node v is a walkway end of edge e: no other edge meets there. */
static bool walkway_end(const msh_graph *g, uint32_t e, uint32_t v)
{
    uint32_t cnt;
    const uint32_t *es = msh_graph_node_edges(g, v, &cnt);
    for (uint32_t i = 0; i < cnt; i++)
        if (es[i] != e)
            return false;
    return true;
}

static msh_rc push_hop(msh_fc_net *n, size_t *nh, size_t *cap, hop h)
{
    if (msh_grow((void **)&n->hops, cap, *nh + 1, sizeof *n->hops))
        return MSH_ENOMEM;
    n->hops[(*nh)++] = h;
    return MSH_OK;
}

/* The moves out of every (segment, direction). */
static msh_rc build_hops(msh_fc_net *n, const msh_fc_input *in)
{
    n->hop_off = malloc((2 * (size_t)n->S + 1) * sizeof *n->hop_off);
    n->straight = malloc((2 * (size_t)n->S + 1) * sizeof *n->straight);
    size_t cap = 2 * (size_t)n->S + 1024, nh = 0;
    n->hops = malloc(cap * sizeof *n->hops);
    if (!n->hop_off || !n->hops || !n->straight)
        return MSH_ENOMEM;
    for (uint32_t s = 0; s < n->S; s++) {
        uint32_t e = n->seg_edge[s];
        for (int d = 0; d < 2; d++) {
            size_t k = 2 * (size_t)s + (size_t)d;
            n->hop_off[k] = (uint32_t)nh;
            n->straight[k] = (uint32_t)nh;
            msh_rc rc = MSH_OK;
            if (d == 0 && s + 1 < n->seg_off[e + 1]) {
                rc = push_hop(n, &nh, &cap, (hop){s + 1, 0});
            } else if (d == 1 && s > n->seg_off[e]) {
                rc = push_hop(n, &nh, &cap, (hop){s - 1, 1});
            } else {
                uint32_t a, b;
                msh_graph_edge_nodes(n->g, e, &a, &b);
                uint32_t v = d == 0 ? b : a;
                uint32_t cnt;
                const uint32_t *es = msh_graph_node_edges(n->g, v, &cnt);
                if (walkway_end(n->g, e, v)) {
                    rc = push_hop(n, &nh, &cap, (hop){SINK, 0});
                } else if (!in_closed(in, e)) {
                    double ix, iy; /* arriving direction: the reverse of leaving v along e */
                    leave_dir(n, e, v, &ix, &iy);
                    ix = -ix, iy = -iy;
                    double best = -2;
                    for (uint32_t i = 0; i < cnt && !rc; i++) {
                        uint32_t f = es[i];
                        if (f == e || in_closed(in, f))
                            continue;
                        hop h;
                        entry_of(n, f, v, &h.seg, &h.dir);
                        double ox, oy;
                        leave_dir(n, f, v, &ox, &oy);
                        double dot = ix * ox + iy * oy;
                        if (dot > best)
                            best = dot, n->straight[k] = (uint32_t)nh;
                        rc = push_hop(n, &nh, &cap, h);
                    }
                }
            }
            if (rc)
                return rc;
        }
    }
    n->hop_off[2 * (size_t)n->S] = (uint32_t)nh;
    return MSH_OK;
}

static msh_rc net_build(msh_fc_net *n, const msh_fc_input *in, const msh_fc_params *p, double q_max)
{
    net_clear(n);
    n->g = msh_graph_retain((msh_graph *)in->g);
    n->ne = msh_graph_edge_count(in->g);
    n->nn = msh_graph_node_count(in->g);
    n->dt = p->dt_s, n->jam = p->jam_density, n->v0 = p->free_speed;
    n->width = malloc(((size_t)n->ne + 1) * sizeof *n->width);
    n->closed = malloc((size_t)n->ne + 1);
    if (!n->width || !n->closed)
        return MSH_ENOMEM;
    for (uint32_t e = 0; e < n->ne; e++) {
        n->width[e] = (float)in_width(in, e);
        n->closed[e] = in_closed(in, e) ? 1 : 0;
    }
    msh_rc rc = build_segments(n, in, p, q_max);
    if (!rc)
        rc = build_hops(n, in);
    return rc;
}

/* ------------------------------------------------------------------ one run */

typedef struct model {
    const msh_fc_input *in;
    const msh_fc_params *p;
    const msh_fc_net *net;
    const msh_graph *g;
    uint32_t S, C;              /* segments, commodities */
    float *stand;               /* S */
    float *n;                   /* C x 2 x S */
    float *send;                /* C x 2 x S: this step */
    float *demand, *ratio;      /* S */
    float *tot;                 /* S: everyone on the segment at the start of the step */
    float *share;               /* per hop: the share of arrivals at an edge end taking it */
    float *slot;                /* net->ncells: people drawn into each cell */
    qtab qt;
    uint32_t *root;             /* C: destination node of commodity k (k >= 1) */
    double *stay_s;             /* C: how long commodity k stays at its destination (0: it leaves there) */
    float *stay_n;              /* S: people staying at a destination (they stand, then leave) */
    struct stay {               /* per commodity with a stay: where its people stand, and when they came */
        uint32_t *seg;
        float *w;               /* shares of the segments (sum 1) */
        uint32_t nseg;
        float *came;            /* per step: the people who arrived in it */
        float in;               /* arriving this step */
        uint32_t steps;         /* the stay in steps */
    } *stays;
    float *still_slow;          /* still.n: the slow part of each cell on no walkway */
    struct pool {               /* per source waiting on the map: the places its people are taken off */
        uint32_t *idx;          /* a segment (its standing people) or, with STILL_BIT, a cell of `still` */
        uint32_t n;
    } *pools;
    uint32_t *pred;             /* rows of nn: tree edge toward a destination node, one row per node */
    uint32_t *tree_of;          /* C: the row of pred for commodity c (k >= 1; commodities to one node,
                                 * with different stays, share the node's tree) */
    msh_fc_acc still_acc;       /* people on no walkway: they stay */
    msh_fc_grid still;          /* the same, sorted */
    uint32_t nstep;             /* the steps done */
    double arrived;
    /* closures that end (msh_fc_input.closed_until): the edges, their ends, and which are shut now */
    uint32_t *tv_edge;
    int64_t *tv_until;
    size_t ntv;
    uint8_t *shut;              /* ne: closed at the current step's time */
    bool any_shut;
    /* planned returns (msh_fc_source.turn) still to come: per return its commodity, time, and the
     * edges of its way with the direction toward its destination */
    struct turn {
        uint32_t c;
        int64_t at_ms;
        uint32_t *edge;
        uint8_t *dir;
        uint32_t n;
        bool done;
    } *turns;
    size_t nturns;
    msh_fc_open open;           /* people walking on no walkway (open_ground.h) */
    double maxw;                /* the widest walkway (m): how far a cell may be from one to be on it */
} model;

static inline float *N(model *m, uint32_t c, int d, uint32_t s)
{
    return &m->n[((size_t)c * 2 + (size_t)d) * m->S + s];
}

static inline float *SEND(model *m, uint32_t c, int d, uint32_t s)
{
    return &m->send[((size_t)c * 2 + (size_t)d) * m->S + s];
}

static uint32_t run_steps(const msh_fc_params *p);

/* The walkway cell (cx, cy) lies on (within half its width and most of a cell): its segment and the
 * unit direction of travel there (east, north); false when it is on none. */
static bool cell_walkway(const model *m, uint32_t cx, uint32_t cy, uint32_t *seg, double *tx, double *ty)
{
    double lon, lat, side = msh_fc_cell_side_m(cy), plon, plat;
    msh_fc_cell_centre(cx, cy, &lon, &lat);
    msh_snap sn;
    if (!msh_graph_snap(m->g, lon, lat, m->maxw / 2 + side, &sn) ||
        !(sn.off_m <= m->net->width[sn.edge] / 2 + 0.75 * side))
        return false;
    *seg = seg_at(m->net, sn.edge, sn.t);
    point_at(m->g, sn.edge, sn.t * msh_graph_edge_length(m->g, sn.edge), &plon, &plat, tx, ty);
    return true;
}

/* cos 45 degrees: people on open ground heading this close to a walkway's line (either way) walk along it */
#define JOIN_COS 0.7071

/* open_ground.h's join: a walker entering a cell on a walkway it heads along joins it. Only the cells
 * a segment covers can be (a line crossing a walkway crosses one of them); each is looked at once
 * per network and kept. */
static bool join_walkway(void *ctx, uint32_t cx, uint32_t cy, float vx, float vy, uint32_t *where, uint8_t *how)
{
    model *m = ctx;
    long i = msh_fc_index_find(&m->net->cell_ix, cx, cy);
    if (i < 0)
        return false;
    struct on_walkway *on = &m->net->on[i];
    if (on->seg == ON_UNKNOWN) {
        double tx, ty;
        uint32_t s;
        *on = cell_walkway(m, cx, cy, &s, &tx, &ty) ? (struct on_walkway){s, (float)tx, (float)ty}
                                                    : (struct on_walkway){ON_NONE, 0, 0};
    }
    if (on->seg == ON_NONE)
        return false;
    double along = vx * on->tx + vy * on->ty;
    if (!(fabs(along) >= JOIN_COS * hypot(vx, vy)))
        return false;
    *where = on->seg;
    *how = along >= 0 ? 0 : 1;
    return true;
}

/* open_ground.h's arrival: the walkers' people on their walkway, walking the way they headed. */
static void onto_walkway(void *ctx, uint32_t seg, uint8_t dir, float n)
{
    *N((model *)ctx, 0, dir, seg) += n;
}

/* Put the observed cells on the network, or aside where no walkway is: there people walking
 * together (wait_speed or faster, open_min_people or more in the cell, its mean velocity's square
 * at least the variance of their velocities) walk on over open ground (open_ground.h), the others
 * stay. People slower along their walkway than stand_speed stand, unless the segment is dense
 * (queue_density or more) and the edge's moving people walk one way: then they are a queue of
 * that flow, and leave it as the diagram lets them. */
static msh_rc place_cells(model *m, msh_fc_stats *st)
{
    const msh_fc_input *in = m->in;
    const msh_fc_net *net = m->net;
    double maxw = 0;
    for (uint32_t e = 0; e < net->ne; e++)
        maxw = fmax(maxw, net->width[e]);
    m->maxw = maxw;
    float *stopped = calloc((size_t)m->S + 1, sizeof *stopped);
    msh_rc rc = stopped ? MSH_OK : MSH_ENOMEM;
    for (size_t i = 0; i < in->ncells && !rc; i++) {
        const msh_fc_cell *c = &in->cells[i];
        if (!(c->count > 0))
            continue;
        uint32_t s;
        double tx, ty;
        if (!cell_walkway(m, c->cx, c->cy, &s, &tx, &ty)) {
            st->unmapped_cells++;
            double v2 = (double)c->vx * c->vx + (double)c->vy * c->vy;
            if (v2 >= m->p->wait_speed * m->p->wait_speed && c->count >= m->p->open_min_people && v2 >= c->var_v) {
                rc = msh_fc_open_add(&m->open, c->cx, c->cy, c->vx, c->vy, c->count, m->p->max_speed);
                st->open_people += c->count;
            } else {
                rc = msh_fc_acc_add(&m->still_acc, c->cx, c->cy, c->count);
            }
            continue;
        }
        st->mapped_cells++;
        double along = c->vx * tx + c->vy * ty;
        if (fabs(along) < m->p->stand_speed) {
            stopped[s] += c->count;
            continue;
        }
        *N(m, 0, along >= 0 ? 0 : 1, s) += c->count;
    }
    if (rc) {
        free(stopped);
        return rc;
    }
    for (uint32_t e = 0; e < net->ne; e++) {
        uint32_t s0 = net->seg_off[e], s1 = net->seg_off[e + 1];
        double f0 = 0, f1 = 0;
        for (uint32_t s = s0; s < s1; s++)
            f0 += *N(m, 0, 0, s), f1 += *N(m, 0, 1, s);
        for (uint32_t s = s0; s < s1; s++) {
            if (!(stopped[s] > 0))
                continue;
            float all = stopped[s] + *N(m, 0, 0, s) + *N(m, 0, 1, s);
            if (f0 != f1 && all / net->area[s] >= m->p->queue_density)
                *N(m, 0, f0 > f1 ? 0 : 1, s) += stopped[s];
            else
                m->stand[s] += stopped[s];
        }
    }
    free(stopped);
    rc = msh_fc_open_plan(&m->open, run_steps(m->p), join_walkway, m);
    return rc ? rc : msh_fc_acc_finish(&m->still_acc, 0, &m->still);
}

/* The shares at edge ends: as the people seen on the first segments of the node's other edges
 * walk away from it, else all straight on. */
static void set_shares(model *m)
{
    const msh_fc_net *net = m->net;
    for (size_t k = 0; k < 2 * (size_t)m->S; k++) {
        uint32_t h0 = net->hop_off[k], h1 = net->hop_off[k + 1];
        if (h1 - h0 == 1) {
            m->share[h0] = 1.0f;
            continue;
        }
        double seen = 0;
        for (uint32_t i = h0; i < h1; i++)
            seen += m->share[i] = *N(m, 0, net->hops[i].dir, net->hops[i].seg);
        for (uint32_t i = h0; i < h1; i++)
            m->share[i] = seen > 0 ? (float)(m->share[i] / seen) : (i == net->straight[k] ? 1.0f : 0.0f);
    }
}

/* The steps of a whole run (the longest horizon). */
static uint32_t run_steps(const msh_fc_params *p)
{
    return (uint32_t)ceil(msh_fc_minutes[MSH_FC_NH - 1] * 60.0 / p->dt_s) + 1;
}

/* Where the commodities with a stay stand at their destination: the segments of its open edges
 * within stay_reach_m of the node (at least the first of each), in proportion to their area. A
 * destination with no open edge has nowhere to stand: its people leave as they arrive. */
static msh_rc find_stays(model *m)
{
    const msh_fc_net *net = m->net;
    if (!(m->stays = calloc(m->C, sizeof *m->stays)))
        return MSH_ENOMEM;
    for (uint32_t c = 1; c < m->C; c++) {
        struct stay *st = &m->stays[c];
        if (!(m->stay_s[c] > 0))
            continue;
        uint32_t cnt;
        const uint32_t *es = msh_graph_node_edges(m->g, m->root[c], &cnt);
        size_t cap = 0;
        for (uint32_t i = 0; i < cnt; i++)
            cap += net->seg_off[es[i] + 1] - net->seg_off[es[i]];
        st->seg = malloc((cap + 1) * sizeof *st->seg);
        st->w = malloc((cap + 1) * sizeof *st->w);
        st->came = calloc(run_steps(m->p) + 1, sizeof *st->came);
        if (!st->seg || !st->w || !st->came)
            return MSH_ENOMEM;
        double area = 0;
        for (uint32_t i = 0; i < cnt; i++) {
            if (net->closed[es[i]])
                continue;
            uint32_t s0;
            uint8_t d;
            entry_of(net, es[i], m->root[c], &s0, &d);
            uint32_t k = net->seg_off[es[i] + 1] - net->seg_off[es[i]];
            double along = 0;
            for (uint32_t j = 0; j < k && (j == 0 || along < m->p->stay_reach_m); j++) {
                uint32_t sg = d == 0 ? s0 + j : s0 - j;
                st->seg[st->nseg] = sg;
                st->w[st->nseg++] = net->area[sg];
                area += net->area[sg];
                along += net->len[sg];
            }
        }
        for (uint32_t i = 0; i < st->nseg; i++)
            st->w[i] = (float)(st->w[i] / area);
        st->steps = st->nseg ? (uint32_t)fmax(1, llround(m->stay_s[c] / m->p->dt_s)) : 0;
    }
    return MSH_OK;
}

/* After a step: the people who reached a destination with a stay stand there, and those whose stay
 * is over leave the network. */
static void settle_stays(model *m)
{
    for (uint32_t c = 1; c < m->C; c++) {
        struct stay *st = &m->stays[c];
        if (!st->steps)
            continue;
        uint32_t k = m->nstep;
        float in = st->in, out = k >= st->steps ? st->came[k - st->steps] : 0;
        st->came[k] = in;
        st->in = 0;
        for (uint32_t i = 0; i < st->nseg; i++) {
            float *x = &m->stay_n[st->seg[i]];
            *x = fmaxf(0, *x + (in - out) * st->w[i]);
        }
        m->arrived += out;
    }
}

/* Planned groups: one commodity per destination node and stay, and one shortest-path tree over the open
 * edges per destination node (its commodities share it: a plan of many stays costs one tree a node). */
static msh_rc build_commodities(model *m, uint32_t *src_commodity, msh_err *err)
{
    const msh_fc_input *in = m->in;
    m->root = malloc((in->nsrc + 1) * sizeof *m->root);
    m->stay_s = calloc(in->nsrc + 1, sizeof *m->stay_s);
    m->tree_of = calloc(in->nsrc + 1, sizeof *m->tree_of);
    if (!m->root || !m->stay_s || !m->tree_of)
        return MSH_ENOMEM;
    m->C = 1;
    uint32_t ntrees = 1; /* row 0 unused, as commodity 0 (no destination) has no tree */
    for (size_t i = 0; i < in->nsrc; i++) {
        src_commodity[i] = 0;
        if (!in->src[i].has_dest)
            continue;
        uint32_t v = msh_graph_nearest_node(m->g, in->src[i].dest_lon, in->src[i].dest_lat, false);
        if (v == UINT32_MAX)
            continue;
        double stay = in->src[i].stay_s > 0 ? in->src[i].stay_s : 0;
        uint32_t k = 1, same_root = 0;
        for (; k < m->C && (m->root[k] != v || m->stay_s[k] != stay); k++)
            if (m->root[k] == v)
                same_root = k;
        if (k == m->C) {
            m->root[k] = v, m->stay_s[k] = stay;
            m->tree_of[k] = same_root ? m->tree_of[same_root] : ntrees++;
            m->C++;
        }
        src_commodity[i] = k;
    }
    if (m->C == 1)
        return MSH_OK;
    uint32_t ne = m->net->ne, nn = m->net->nn;
    float *w = malloc((size_t)ne * sizeof *w);
    m->pred = malloc((size_t)ntrees * nn * sizeof *m->pred);
    if (!w || !m->pred) {
        free(w);
        return MSH_ENOMEM;
    }
    for (uint32_t e = 0; e < ne; e++)
        w[e] = m->net->closed[e] ? INFINITY : (float)msh_graph_edge_length(m->g, e);
    msh_rc rc = MSH_OK;
    for (uint32_t k = 1, made = 1; k < m->C && !rc; k++)
        if (m->tree_of[k] == made) /* the first commodity to its node: the tree is made once */
            rc = msh_graph_tree(m->g, w, m->root[k], m->pred + (size_t)made++ * nn, NULL, err);
    free(w);
    return rc ? rc : find_stays(m);
}

/* The moves of commodity c out of segment s walking d: *h, *sh (their shares) and the count
 * (one move for a planned group: within the edge, or the next edge of its tree; `one` holds it).
 * A move into SINK: arrived, or gone off the network at a walkway end. */
static uint32_t group_moves(model *m, uint32_t c, uint32_t s, int d, hop *one);

static const float one_share = 1.0f;

static inline uint32_t moves(model *m, uint32_t c, uint32_t s, int d, const hop **h, const float **sh, hop *one)
{
    if (c == 0) {
        size_t k = 2 * (size_t)s + (size_t)d;
        uint32_t h0 = m->net->hop_off[k];
        *h = m->net->hops + h0;
        *sh = m->share + h0;
        return m->net->hop_off[k + 1] - h0;
    }
    *h = one;
    *sh = &one_share;
    return group_moves(m, c, s, d, one);
}

/* Whether the move out of segment s into h crosses the end of an edge closed now (a closure that
 * ends: msh_fc_input.closed_until). Moves within an edge, and off the network, are never blocked. */
static inline bool blocked(const model *m, uint32_t s, hop h)
{
    if (!m->any_shut || h.seg == SINK)
        return false;
    uint32_t e = m->net->seg_edge[s], f = m->net->seg_edge[h.seg];
    return e != f && (m->shut[e] || m->shut[f]);
}

/* The closures that end, as they stand at time t (ms). */
static void set_shut(model *m, int64_t t)
{
    m->any_shut = false;
    for (size_t i = 0; i < m->ntv; i++) {
        m->shut[m->tv_edge[i]] = t < m->tv_until[i];
        m->any_shut |= t < m->tv_until[i];
    }
}

/* The edges of the input closed until a time after the forecast's start (and not closed all along). */
static msh_rc find_closures(model *m)
{
    const msh_fc_input *in = m->in;
    uint32_t ne = m->net->ne;
    if (!in->closed_until)
        return MSH_OK;
    m->shut = calloc((size_t)ne + 1, 1);
    m->tv_edge = malloc(((size_t)ne + 1) * sizeof *m->tv_edge);
    m->tv_until = malloc(((size_t)ne + 1) * sizeof *m->tv_until);
    if (!m->shut || !m->tv_edge || !m->tv_until)
        return MSH_ENOMEM;
    for (uint32_t e = 0; e < ne; e++)
        if (in->closed_until[e] > in->issued_ms && !m->net->closed[e]) {
            m->tv_edge[m->ntv] = e;
            m->tv_until[m->ntv++] = in->closed_until[e];
        }
    return MSH_OK;
}

/* The shortest-path tree toward commodity c's destination: nn tree edges. */
static const uint32_t *tree(const model *m, uint32_t c)
{
    return m->pred + (size_t)m->tree_of[c] * m->net->nn;
}

/* Which way edge e is walked toward the destination of commodity c (1: b -> a), from its nodes'
 * tree edges; -1 when neither end leads there. */
static int toward(const model *m, uint32_t c, uint32_t e)
{
    const uint32_t *pr = tree(m, c);
    uint32_t a, b;
    msh_graph_edge_nodes(m->g, e, &a, &b);
    bool via_a = pr[a] != MSH_GRAPH_NO_EDGE || a == m->root[c];
    bool via_b = pr[b] != MSH_GRAPH_NO_EDGE || b == m->root[c];
    if (!via_a && !via_b)
        return -1;
    return via_b && (!via_a || pr[a] == e) ? 0 : 1;
}

/* The planned returns after the forecast's start: the way of each (its origin's edge, then the
 * tree's edges to its destination), with the direction each is walked. */
static msh_rc find_turns(model *m, const uint32_t *src_commodity)
{
    const msh_fc_input *in = m->in;
    const msh_fc_net *net = m->net;
    for (size_t i = 0; i < in->nsrc; i++) {
        const msh_fc_source *so = &in->src[i];
        msh_snap sn;
        uint32_t c = src_commodity[i];
        if (!so->turn || !c || so->from_ms <= in->issued_ms || !msh_graph_snap(m->g, so->lon, so->lat, m->p->snap_m, &sn))
            continue;
        int d = toward(m, c, sn.edge);
        if (d < 0)
            continue;
        if (!m->turns && !(m->turns = calloc(in->nsrc, sizeof *m->turns)))
            return MSH_ENOMEM;
        struct turn *t = &m->turns[m->nturns++];
        *t = (struct turn){.c = c, .at_ms = so->from_ms};
        t->edge = malloc(((size_t)net->nn + 1) * sizeof *t->edge);
        t->dir = malloc((size_t)net->nn + 1);
        if (!t->edge || !t->dir)
            return MSH_ENOMEM;
        const uint32_t *pr = tree(m, c);
        uint32_t e = sn.edge, a, b;
        while (t->n <= net->nn) { /* a tree path visits each node once */
            t->edge[t->n] = e;
            t->dir[t->n++] = (uint8_t)d;
            msh_graph_edge_nodes(m->g, e, &a, &b);
            uint32_t v = d == 0 ? b : a;
            if (v == m->root[c] || pr[v] == MSH_GRAPH_NO_EDGE)
                break;
            e = pr[v];
            msh_graph_edge_nodes(m->g, e, &a, &b);
            d = a == v ? 0 : 1;
        }
    }
    return MSH_OK;
}

/* The returns whose time has come by t (ms): everyone on their way turns toward their destination. */
static void apply_turns(model *m, int64_t t)
{
    const msh_fc_net *net = m->net;
    for (size_t k = 0; k < m->nturns; k++) {
        struct turn *tu = &m->turns[k];
        if (tu->done || t < tu->at_ms)
            continue;
        tu->done = true;
        for (uint32_t i = 0; i < tu->n; i++) {
            uint32_t e = tu->edge[i];
            for (uint32_t s = net->seg_off[e]; s < net->seg_off[e + 1]; s++) {
                float all = m->stand[s];
                m->stand[s] = 0;
                for (uint32_t c = 0; c < m->C; c++)
                    for (int d = 0; d < 2; d++) {
                        all += *N(m, c, d, s);
                        *N(m, c, d, s) = 0;
                    }
                *N(m, tu->c, tu->dir[i], s) = all;
            }
        }
    }
}

static uint32_t group_moves(model *m, uint32_t c, uint32_t s, int d, hop *one)
{
    const msh_fc_net *net = m->net;
    uint32_t e = net->seg_edge[s];
    if (d == 0 && s + 1 < net->seg_off[e + 1]) {
        *one = (hop){s + 1, 0};
        return 1;
    }
    if (d == 1 && s > net->seg_off[e]) {
        *one = (hop){s - 1, 1};
        return 1;
    }
    uint32_t a, b;
    msh_graph_edge_nodes(m->g, e, &a, &b);
    uint32_t v = d == 0 ? b : a;
    if (v == m->root[c]) {
        *one = (hop){SINK, 0};
        return 1;
    }
    uint32_t f = tree(m, c)[v];
    if (f == MSH_GRAPH_NO_EDGE)
        return 0;
    entry_of(net, f, v, &one->seg, &one->dir);
    return 1;
}

static float total(const model *m, uint32_t s)
{
    float t = m->stand[s] + m->stay_n[s];
    for (uint32_t c = 0; c < m->C; c++)
        t += m->n[((size_t)c * 2) * m->S + s] + m->n[((size_t)c * 2 + 1) * m->S + s];
    return t;
}

/* min and max of floats that are never NaN (fminf and fmaxf are calls here) */
static inline float minf(float a, float b) { return a < b ? a : b; }
static inline float maxf(float a, float b) { return a > b ? a : b; }

/* What segment s can take in one step (Godunov's supply): the capacity below the critical
 * density, the diagram's flow above it, never past jam density. */
static inline float supply(const model *m, uint32_t s, float tot_s)
{
    const msh_fc_net *net = m->net;
    float rho = tot_s / net->area[s];
    float sup = rho < m->qt.rho_c ? net->cap[s]
                                  : minf(net->cap[s], qtab_at(&m->qt, rho) * net->wid[s] * (float)m->p->dt_s);
    return minf(sup, maxf(0, net->jam_n[s] - tot_s));
}

/* One step of dt: sends, the cut where receivers are short, the moves. */
static void step(model *m)
{
    const msh_fc_net *net = m->net;
    const float dt = (float)m->p->dt_s;
    const uint32_t S = m->S, C = m->C;
    float *tot = m->tot;
    for (uint32_t s = 0; s < S; s++)
        tot[s] = m->stand[s] + m->stay_n[s];
    for (size_t k = 0; k < (size_t)C * 2; k++) {
        const float *n = m->n + k * S;
        for (uint32_t s = 0; s < S; s++)
            tot[s] += n[s];
    }
    memset(m->demand, 0, S * sizeof *m->demand);
    memset(m->send, 0, (size_t)C * 2 * S * sizeof *m->send);
    /* 1. what each segment would send (Godunov's demand: the diagram's flow below the critical
     * density, the capacity above it, shared by the people walking in proportion), per commodity
     * and direction; the demand on each receiver */
    for (uint32_t s = 0; s < S; s++) {
        float moving = tot[s] - m->stand[s] - m->stay_n[s];
        if (moving <= 1e-6f)
            continue;
        float rho = tot[s] / net->area[s];
        float dem = rho < m->qt.rho_c ? minf(net->cap[s], qtab_at(&m->qt, rho) * net->wid[s] * dt) : net->cap[s];
        dem = minf(dem * moving / tot[s], moving);
        float per = dem / moving;
        for (int d = 0; d < 2; d++)
            for (uint32_t c = 0; c < C; c++) {
                float x = *N(m, c, d, s);
                if (x <= 1e-6f)
                    continue;
                const hop *h;
                const float *sh;
                hop one;
                uint32_t nh = moves(m, c, s, d, &h, &sh, &one);
                if (!nh)
                    continue; /* every way on is closed: they wait */
                float f = x * per;
                *SEND(m, c, d, s) = f;
                for (uint32_t i = 0; i < nh; i++)
                    if (h[i].seg != SINK && !blocked(m, s, h[i]))
                        m->demand[h[i].seg] += f * sh[i];
            }
    }
    /* 2. what each segment can take (only asked of those someone would enter: the moves below go
     * only where step 1 put a demand) */
    for (uint32_t s = 0; s < S; s++) {
        if (!(m->demand[s] > 0))
            continue;
        float room = supply(m, s, tot[s]);
        m->ratio[s] = m->demand[s] > room ? room / m->demand[s] : 1.0f;
    }
    /* 3. the moves */
    for (uint32_t s = 0; s < S; s++) {
        if (tot[s] - m->stand[s] - m->stay_n[s] <= 1e-6f)
            continue;
        for (int d = 0; d < 2; d++)
            for (uint32_t c = 0; c < C; c++) {
                float f = *SEND(m, c, d, s);
                if (f <= 0)
                    continue;
                const hop *h;
                const float *sh;
                hop one;
                uint32_t nh = moves(m, c, s, d, &h, &sh, &one);
                float gone = 0;
                for (uint32_t i = 0; i < nh; i++) {
                    float mv = f * sh[i];
                    if (blocked(m, s, h[i]))
                        continue; /* their way is closed now: they wait */
                    if (h[i].seg == SINK && c && m->stays[c].steps) {
                        m->stays[c].in += mv; /* at their destination, to stay */
                    } else if (h[i].seg == SINK) {
                        m->arrived += mv;
                    } else {
                        mv *= m->ratio[h[i].seg];
                        *N(m, c, h[i].dir, h[i].seg) += mv;
                    }
                    gone += mv;
                }
                *N(m, c, d, s) -= gone;
            }
    }
}

/* Where a source puts its people: segment, direction, commodity, rate and window. */
typedef struct feed {
    uint32_t seg, c;
    int dir;
    double rate;
    int64_t from_ms, to_ms;
    double backlog;
    bool fades;     /* an observed inflow: its rate fades with the horizon (msh_fc_params.inflow_fade_s) */
} feed;

/* planned_end (2 per edge, nonzero: a planned group starts at that end) is marked for every planned
 * source: the end of its edge nearer to where it snaps. */
static void place_sources(model *m, const uint32_t *src_commodity, feed *fd, uint8_t *planned_end)
{
    const msh_fc_input *in = m->in;
    const msh_fc_net *net = m->net;
    for (size_t i = 0; i < in->nsrc; i++) {
        const msh_fc_source *so = &in->src[i];
        fd[i] = (feed){NO_SEG, src_commodity[i], 0, so->rate, so->from_ms, so->to_ms, 0, false};
        msh_snap sn;
        if (!msh_graph_snap(m->g, so->lon, so->lat, m->p->snap_m, &sn))
            continue;
        uint32_t e = sn.edge, s = seg_at(net, e, sn.t), a, b;
        msh_graph_edge_nodes(m->g, e, &a, &b);
        int dir = 0;
        if (fd[i].c) { /* toward the destination */
            const uint32_t *pr = tree(m, fd[i].c);
            bool via_a = pr[a] != MSH_GRAPH_NO_EDGE || a == m->root[fd[i].c];
            bool via_b = pr[b] != MSH_GRAPH_NO_EDGE || b == m->root[fd[i].c];
            dir = via_b && (!via_a || pr[a] == e) ? 0 : 1;
            /* no open way to the destination (a closed gate across it): they set out all the same
             * and walk as the crowd there walks, to queue where it queues */
            if (!via_a && !via_b)
                fd[i].c = 0;
        }
        if (!fd[i].c) { /* where the crowd on that edge walks; else away from the nearer end */
            double f0 = 0, f1 = 0;
            for (uint32_t k = net->seg_off[e]; k < net->seg_off[e + 1]; k++)
                f0 += *N(m, 0, 0, k), f1 += *N(m, 0, 1, k);
            dir = f0 != f1 ? (f0 > f1 ? 0 : 1) : (sn.t <= 0.5 ? 0 : 1);
        }
        fd[i].seg = s;
        fd[i].dir = dir;
        if (so->planned)
            planned_end[2 * (size_t)e + (sn.t <= 0.5 ? 0 : 1)] = 1;
    }
}

/* The inflow at a walkway end is read over INFLOW_SEGS segments after the first INFLOW_SKIP
 * (fewer skipped on a short edge): people report every 10-30 s, so the first tens of metres
 * from where they come in hold people not seen yet. */
#define INFLOW_SKIP 3
#define INFLOW_SEGS 5

/* The inflow at walkway ends: where people walk into the network from an end, they are taken to
 * go on coming at the rate observed there, the flow (people x Weidmann's speed at their density /
 * segment length) over the first segments; not at an end a planned group starts from (its people
 * are the plan's). *nfd grows by one feed per end with an inflow. */
static double end_inflows(model *m, feed *fd, size_t *nfd, const uint8_t *planned_end)
{
    const msh_fc_net *net = m->net;
    double total_rate = 0;
    for (uint32_t e = 0; e < net->ne; e++) {
        uint32_t ends[2];
        msh_graph_edge_nodes(m->g, e, &ends[0], &ends[1]);
        for (int k = 0; k < 2; k++) {
            uint32_t v = ends[k];
            if (!walkway_end(m->g, e, v) || ends[0] == ends[1] || planned_end[2 * (size_t)e + (size_t)k])
                continue;
            uint32_t nseg = net->seg_off[e + 1] - net->seg_off[e];
            int dir = k == 0 ? 0 : 1; /* walking away from the end */
            uint32_t first = nseg > INFLOW_SKIP + INFLOW_SEGS ? INFLOW_SKIP : nseg > 2 ? 1 : 0;
            uint32_t last = nseg < first + INFLOW_SEGS ? nseg : first + INFLOW_SEGS;
            double flow = 0;
            uint32_t used = 0;
            for (uint32_t i = first; i < last; i++, used++) {
                uint32_t s = dir == 0 ? net->seg_off[e] + i : net->seg_off[e + 1] - 1 - i;
                float all = m->stand[s] + *N(m, 0, 0, s) + *N(m, 0, 1, s);
                float x = *N(m, 0, dir, s);
                if (x <= 0)
                    continue;
                flow += x / maxf(all, x) * qtab_at(&m->qt, all / net->area[s]) * net->wid[s];
            }
            if (!used || !(flow > 0))
                continue;
            double rate = flow / used;
            uint32_t s0;
            uint8_t d0;
            entry_of(net, e, v, &s0, &d0);
            fd[(*nfd)++] = (feed){s0, 0, d0, rate, INT64_MIN, INT64_MAX, 0, true};
            total_rate += rate;
        }
    }
    return total_rate;
}

#define STILL_BIT 0x80000000u

/* The slow part of each cell on no walkway (slower than wait_speed): who may be a group waiting. */
static msh_rc find_still_slow(model *m)
{
    const msh_fc_input *in = m->in;
    if (!(m->still_slow = calloc(m->still.n + 1, sizeof *m->still_slow)))
        return MSH_ENOMEM;
    for (size_t i = 0; i < in->ncells; i++) {
        const msh_fc_cell *c = &in->cells[i];
        if (!(c->count > 0) || !(hypot(c->vx, c->vy) < m->p->wait_speed))
            continue;
        size_t lo = 0, hi = m->still.n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const msh_fc_out *o = &m->still.cells[mid];
            if (o->cy < c->cy || (o->cy == c->cy && o->cx < c->cx))
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < m->still.n && m->still.cells[lo].cx == c->cx && m->still.cells[lo].cy == c->cy)
            m->still_slow[lo] = fminf(m->still_slow[lo] + c->count, m->still.cells[lo].count);
    }
    return MSH_OK;
}

/* The waiting areas of the planned groups that depart within the run: the segments whose middle,
 * and the cells on no walkway whose centre, lie within the group's radius of its waiting point.
 * The work is the segments and cells times the groups departing in the next half hour. */
static msh_rc find_pools(model *m, const feed *fd)
{
    const msh_fc_input *in = m->in;
    const msh_fc_net *net = m->net;
    int64_t end_ms = in->issued_ms + (int64_t)msh_fc_minutes[MSH_FC_NH - 1] * 60000;
    double *mid = NULL;
    msh_rc rc = MSH_OK;
    for (size_t i = 0; i < in->nsrc && !rc; i++) {
        const msh_fc_source *so = &in->src[i];
        if (!so->planned || !(so->wait_radius_m > 0) || fd[i].seg == NO_SEG || so->to_ms <= in->issued_ms ||
            so->from_ms >= end_ms)
            continue;
        if (!m->pools) {
            m->pools = calloc(in->nsrc, sizeof *m->pools);
            mid = malloc(2 * ((size_t)m->S + 1) * sizeof *mid);
            rc = m->pools && mid ? find_still_slow(m) : MSH_ENOMEM;
            for (uint32_t e = 0; e < net->ne && !rc; e++)
                for (uint32_t sg = net->seg_off[e]; sg < net->seg_off[e + 1]; sg++) {
                    double tx, ty;
                    point_at(m->g, e, (sg - net->seg_off[e] + 0.5) * net->len[sg], &mid[2 * sg], &mid[2 * sg + 1], &tx,
                             &ty);
                }
            if (rc)
                break;
        }
        double kx, ky, r = so->wait_radius_m;
        msh_fc_m_per_deg(so->wait_lat, &kx, &ky);
        size_t n = 0, cap = 0;
        uint32_t *idx = NULL;
        for (uint32_t sg = 0; sg < m->S && !rc; sg++)
            if (hypot((mid[2 * sg] - so->wait_lon) * kx, (mid[2 * sg + 1] - so->wait_lat) * ky) <= r) {
                rc = msh_grow((void **)&idx, &cap, n + 1, sizeof *idx);
                if (!rc)
                    idx[n++] = sg;
            }
        for (size_t j = 0; j < m->still.n && !rc; j++) {
            double lon, lat;
            if (!(m->still_slow[j] > 0))
                continue;
            msh_fc_cell_centre(m->still.cells[j].cx, m->still.cells[j].cy, &lon, &lat);
            if (hypot((lon - so->wait_lon) * kx, (lat - so->wait_lat) * ky) <= r) {
                rc = msh_grow((void **)&idx, &cap, n + 1, sizeof *idx);
                if (!rc)
                    idx[n++] = (uint32_t)j | STILL_BIT;
            }
        }
        m->pools[i] = (struct pool){idx, (uint32_t)n};
    }
    free(mid);
    return rc;
}

/* A waiting group sets out with `x` people: as many as its waiting area holds of them come off the
 * slow people there, each place giving in proportion to what it holds. */
static void draw_from_pool(model *m, const struct pool *pl, double x)
{
    double avail = 0;
    for (uint32_t i = 0; i < pl->n; i++)
        avail += pl->idx[i] & STILL_BIT ? m->still_slow[pl->idx[i] & ~STILL_BIT] : m->stand[pl->idx[i]];
    if (!(avail > 0) || !(x > 0))
        return;
    float keep = (float)(1.0 - fmin(x, avail) / avail);
    for (uint32_t i = 0; i < pl->n; i++) {
        uint32_t k = pl->idx[i] & ~STILL_BIT;
        if (pl->idx[i] & STILL_BIT) {
            float gone = m->still_slow[k] * (1 - keep);
            m->still_slow[k] -= gone;
            m->still.cells[k].count = fmaxf(0, m->still.cells[k].count - gone);
        } else {
            m->stand[k] *= keep;
        }
    }
}

static void feed_sources(model *m, feed *fd, size_t nfd, int64_t issued_ms, int64_t t0_ms, int64_t t1_ms)
{
    for (size_t i = 0; i < nfd; i++) {
        if (fd[i].seg == NO_SEG)
            continue;
        int64_t a = fd[i].from_ms > t0_ms ? fd[i].from_ms : t0_ms, b = fd[i].to_ms < t1_ms ? fd[i].to_ms : t1_ms;
        double rate = fd[i].rate;
        if (fd[i].fades) /* the chance it still flows, for a flow whose end nobody announced */
            rate *= exp(-(double)(t0_ms - issued_ms) / 1000.0 / m->p->inflow_fade_s);
        double add = fd[i].backlog + (b > a ? rate * (double)(b - a) / 1000.0 : 0);
        uint32_t s = fd[i].seg;
        double in_now = fmin(add, supply(m, s, total(m, s)));
        fd[i].backlog = add - in_now;
        *N(m, fd[i].c, fd[i].dir, s) += (float)in_now;
        if (m->pools && i < m->in->nsrc && m->pools[i].n)
            draw_from_pool(m, &m->pools[i], in_now);
    }
}

static inline uint64_t cell_key(const msh_fc_out *c)
{
    return (uint64_t)c->cy << 32 | c->cx;
}

/* One horizon: every segment's people over the cells it covers, merged with the people on no
 * walkway, standing and walking (each list sorted by row then column). */
static msh_rc render(model *m, msh_fc_grid *out)
{
    const msh_fc_net *net = m->net;
    memset(m->slot, 0, (size_t)net->ncells * sizeof *m->slot);
    for (uint32_t s = 0; s < m->S; s++) {
        float t = total(m, s);
        if (t <= 1e-4f)
            continue;
        for (uint32_t k = net->fp_off[s]; k < net->fp_off[s + 1]; k++)
            m->slot[net->fp_slot[k]] += t * net->fp_w[k];
    }
    msh_fc_grid walk = {0}; /* the people walking on open ground, sorted */
    if (m->open.n) {
        msh_fc_acc a;
        msh_fc_acc_init(&a);
        msh_rc rc = msh_fc_open_draw(&m->open, m->nstep, &a);
        if (!rc)
            rc = msh_fc_acc_finish(&a, 0, &walk);
        msh_fc_acc_free(&a);
        if (rc)
            return rc;
    }
    out->cells = malloc(((size_t)net->ncells + m->still.n + walk.n + 1) * sizeof *out->cells);
    if (!out->cells) {
        msh_fc_grid_free(&walk);
        return MSH_ENOMEM;
    }
    /* the three sorted lists merged: a cell in more than one gets the sum */
    out->n = 0;
    size_t i = 0, j = 0, k = 0;
    while (i < net->ncells || j < m->still.n || k < walk.n) {
        uint64_t key = UINT64_MAX;
        if (i < net->ncells)
            key = cell_key(&net->cells[i]);
        if (j < m->still.n && cell_key(&m->still.cells[j]) < key)
            key = cell_key(&m->still.cells[j]);
        if (k < walk.n && cell_key(&walk.cells[k]) < key)
            key = cell_key(&walk.cells[k]);
        msh_fc_out c = {(uint32_t)key, (uint32_t)(key >> 32), 0};
        if (i < net->ncells && cell_key(&net->cells[i]) == key)
            c.count += m->slot[i++];
        if (j < m->still.n && cell_key(&m->still.cells[j]) == key)
            c.count += m->still.cells[j++].count;
        if (k < walk.n && cell_key(&walk.cells[k]) == key)
            c.count += walk.cells[k++].count;
        if (c.count >= 0.01f)
            out->cells[out->n++] = c;
    }
    msh_fc_grid_free(&walk);
    return MSH_OK;
}

static double people(model *m)
{
    double t = 0;
    for (uint32_t s = 0; s < m->S; s++)
        t += total(m, s);
    for (size_t i = 0; i < m->still.n; i++)
        t += m->still.cells[i].count;
    return t + msh_fc_open_people(&m->open, m->nstep);
}

static void model_free(model *m)
{
    free(m->stand);
    free(m->n);
    free(m->send);
    free(m->demand);
    free(m->ratio);
    free(m->tot);
    free(m->share);
    free(m->slot);
    free(m->root);
    free(m->stay_s);
    free(m->stay_n);
    for (uint32_t c = 0; m->stays && c < m->C; c++) {
        free(m->stays[c].seg);
        free(m->stays[c].w);
        free(m->stays[c].came);
    }
    free(m->stays);
    free(m->still_slow);
    for (size_t i = 0; m->pools && i < m->in->nsrc; i++)
        free(m->pools[i].idx);
    free(m->pools);
    free(m->pred);
    free(m->tree_of);
    free(m->tv_edge);
    free(m->tv_until);
    free(m->shut);
    for (size_t k = 0; k < m->nturns; k++) {
        free(m->turns[k].edge);
        free(m->turns[k].dir);
    }
    free(m->turns);
    msh_fc_acc_free(&m->still_acc);
    msh_fc_grid_free(&m->still);
    msh_fc_open_free(&m->open);
}

static msh_rc model_alloc(model *m)
{
    size_t S = (size_t)m->S + 1, nh = (size_t)m->net->hop_off[2 * (size_t)m->S] + 1;
    m->stand = calloc(S, sizeof(float));
    m->stay_n = calloc(S, sizeof(float));
    m->demand = calloc(S, sizeof(float));
    m->ratio = calloc(S, sizeof(float));
    m->tot = calloc(S, sizeof(float));
    m->share = calloc(nh, sizeof(float));
    m->slot = calloc((size_t)m->net->ncells + 1, sizeof(float));
    return m->stand && m->stay_n && m->demand && m->ratio && m->tot && m->share && m->slot ? MSH_OK : MSH_ENOMEM;
}

msh_rc msh_fc_ctm(const msh_fc_input *in, const msh_fc_params *p, msh_fc_grid out[MSH_FC_NH], msh_fc_stats *st,
                  msh_err *err)
{
    memset(out, 0, MSH_FC_NH * sizeof *out);
    memset(st, 0, sizeof *st);
    if (!in->g || !msh_graph_edge_count(in->g))
        return msh_fc_persistence(in, out, err);
    model m;
    memset(&m, 0, sizeof m);
    m.in = in;
    m.p = p;
    m.g = in->g;
    qtab_init(&m.qt, p->free_speed, p->jam_density);
    msh_fc_acc_init(&m.still_acc);
    msh_fc_open_init(&m.open, p->dt_s, MSH_FC_CV0);
    msh_fc_net *own = NULL, *net = in->net;
    double t0 = cpu_ms();
    msh_rc rc = MSH_OK;
    if (!net)
        net = own = msh_fc_net_new();
    if (!net) {
        rc = MSH_ENOMEM;
    } else if (net_matches(net, in, p)) {
        st->net_reused = true;
    } else {
        rc = net_build(net, in, p, m.qt.q_max);
        if (rc)
            net_clear(net);
    }
    m.net = net;
    m.S = net ? net->S : 0;
    /* sources: the input's, then one per walkway end (at most two an edge) */
    size_t maxfd = in->nsrc + (net ? 2 * (size_t)net->ne : 0) + 1;
    uint32_t *src_c = malloc((in->nsrc + 1) * sizeof *src_c);
    feed *fd = malloc(maxfd * sizeof *fd);
    uint8_t *planned_end = calloc(net ? 2 * (size_t)net->ne + 1 : 1, 1);
    if (!rc && (!src_c || !fd || !planned_end))
        rc = MSH_ENOMEM;
    if (!rc)
        rc = model_alloc(&m);
    if (!rc)
        rc = find_closures(&m);
    if (!rc)
        rc = build_commodities(&m, src_c, err);
    if (!rc) {
        m.n = calloc((size_t)m.C * 2 * m.S + 1, sizeof *m.n);
        m.send = calloc((size_t)m.C * 2 * m.S + 1, sizeof *m.send);
        rc = m.n && m.send ? MSH_OK : MSH_ENOMEM;
    }
    if (!rc)
        rc = find_turns(&m, src_c);
    if (!rc)
        rc = place_cells(&m, st);
    if (!rc)
        rc = msh_fc_observed(in, &out[0], err);
    if (!rc) {
        set_shares(&m);
        place_sources(&m, src_c, fd, planned_end);
        rc = find_pools(&m, fd);
    }
    if (!rc) {
        size_t nfd = in->nsrc;
        st->end_inflow = end_inflows(&m, fd, &nfd, planned_end);
        st->segments = m.S;
        st->setup_ms = cpu_ms() - t0;
        st->people_start = people(&m);
        int steps = 0, h = 1;
        int64_t t = in->issued_ms;
        while (!rc && h < MSH_FC_NH) {
            if (in->cancel && atomic_load_explicit(in->cancel, memory_order_relaxed)) {
                rc = MSH_EINTERNAL; /* the caller asked for it: what it says is its own */
                break;
            }
            if ((double)steps * p->dt_s >= msh_fc_minutes[h] * 60.0 - 1e-9) {
                rc = render(&m, &out[h++]);
                continue;
            }
            int64_t t1 = in->issued_ms + (int64_t)llround((steps + 1) * p->dt_s * 1000);
            feed_sources(&m, fd, nfd, in->issued_ms, t, t1);
            if (m.ntv)
                set_shut(&m, t);
            if (m.nturns)
                apply_turns(&m, t);
            step(&m);
            if (m.stays)
                settle_stays(&m);
            t = t1;
            steps++;
            m.nstep = (uint32_t)steps;
            msh_fc_open_arrivals(&m.open, m.nstep, onto_walkway, &m);
        }
        st->run_ms = cpu_ms() - t0 - st->setup_ms;
        st->people_end = people(&m);
        st->arrived = m.arrived;
        for (size_t i = 0; i < nfd; i++)
            st->waiting_outside += fd[i].seg == NO_SEG ? 0 : fd[i].backlog;
    }
    if (rc && rc != MSH_EINVAL)
        msh_err_set(err, rc, "forecast model: %s", msh_rc_str(rc));
    if (rc)
        for (int i = 0; i < MSH_FC_NH; i++)
            msh_fc_grid_free(&out[i]);
    free(src_c);
    free(fd);
    free(planned_end);
    model_free(&m);
    msh_fc_net_free(own);
    return rc;
}
