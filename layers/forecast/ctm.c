/* ctm.c: the cell-transmission forecast on the walking network (ctm.h has the model).
 *
 * Layout: segments are numbered edge by edge (seg_off[e] .. seg_off[e + 1] - 1, from node a to
 * node b). Direction 0 walks a -> b, 1 walks b -> a. Commodity 0 is the observed crowd and the
 * gates' inflow; commodity k >= 1 the planned groups walking to destination k (a shortest-path
 * tree each). State per segment: standing people, people per commodity and direction, and per
 * direction the sum of their speeds (the crowd's momentum; speed = momentum / people).
 * Every step is computed from the state before it (sends first, then the cut where receivers are
 * short, then the moves), so the order segments are visited in changes nothing.
 * Runs on one thread with its own memory: no lock is held or needed.
 */
#include "forecast/ctm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/msh_grow.h"
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
}

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double weidmann(double rho)
{
    msh_livecost_cfg cfg;
    msh_livecost_cfg_init(&cfg);
    return msh_weidmann_speed(&cfg, rho);
}

/* Weidmann's speed tabulated every 0.01 persons/m2 up to 6 (a step reads it per segment and
 * direction: a table read instead of an exp) */
#define VT_STEP 100.0
#define VT_N 600
typedef struct vtab {
    float v[VT_N + 2];
} vtab;

static void vtab_init(vtab *t)
{
    for (int i = 0; i <= VT_N + 1; i++)
        t->v[i] = (float)weidmann(i / VT_STEP);
}

static inline float vtab_at(const vtab *t, float rho)
{
    float x = rho * (float)VT_STEP;
    if (!(x < VT_N))
        return t->v[VT_N];
    int i = (int)x;
    float f = x - (float)i;
    return t->v[i] + f * (t->v[i + 1] - t->v[i]);
}

double msh_fc_capacity_per_m(void)
{
    double best = 0;
    for (double rho = 0.05; rho < 5.4; rho += 0.01)
        best = fmax(best, rho * weidmann(rho));
    return best;
}

/* metres per degree of longitude and latitude at lat */
static void m_per_deg(double lat, double *kx, double *ky)
{
    *kx = 111320.0 * cos(lat * M_PI / 180);
    *ky = 110574.0;
}

/* The point `d` metres along edge e (from a) and the unit direction of travel there (east, north). */
static void point_at(const msh_graph *g, uint32_t e, double d, double *lon, double *lat, double *tx, double *ty)
{
    uint32_t np;
    const double *s = msh_graph_edge_shape(g, e, &np);
    double kx, ky;
    m_per_deg(s[1], &kx, &ky);
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

/* A move at an edge end: into segment `seg`, direction `dir`, this share of the arrivals. */
typedef struct hop {
    uint32_t seg;
    uint8_t dir;
    float share;
} hop;

#define NO_SEG UINT32_MAX
#define SINK (UINT32_MAX - 1)

typedef struct model {
    const msh_fc_input *in;
    const msh_fc_params *p;
    const msh_graph *g;
    uint32_t ne, nn, S, C;      /* edges, nodes, segments, commodities */
    uint32_t *seg_off;          /* ne + 1 */
    uint32_t *seg_edge;         /* S */
    float *len, *area, *cap, *jam; /* S: metres, m2, persons per step, persons */
    float *stand;               /* S */
    float *n;                   /* C x 2 x S */
    float *mom;                 /* 2 x S: sum of speeds */
    float *send;                /* C x 2 x S: this step */
    float *speed;               /* 2 x S: this step */
    float *demand, *ratio;      /* S */
    float *tot;                 /* S: everyone on the segment at the start of the step */
    uint32_t *hop_off;          /* 2 S + 1: commodity 0's moves out of (segment, dir): the next segment
                                 * within an edge, the edges of the node at its end (shares) */
    hop *hops;
    vtab vt;
    uint32_t *root;             /* C: destination node of commodity k (k >= 1) */
    uint32_t *pred;             /* C x nn: tree edge toward the destination (k >= 1) */
    uint32_t *rk_off;           /* S + 1: the cells a segment's people are spread over */
    uint32_t *rk;               /* 2 per cell: cx cy; then (render_prepare) the cell's slot in `out` */
    msh_fc_acc still;           /* people on no walkway: they stay */
    msh_fc_out *out;            /* every cell a forecast can fill, sorted (render_prepare) */
    uint32_t nout;
    uint32_t *still_slot;       /* still.n: each still cell's slot in `out` */
    double arrived;
} model;

static inline float *N(model *m, uint32_t c, int d, uint32_t s)
{
    return &m->n[((size_t)c * 2 + (size_t)d) * m->S + s];
}

static inline float *SEND(model *m, uint32_t c, int d, uint32_t s)
{
    return &m->send[((size_t)c * 2 + (size_t)d) * m->S + s];
}

static double edge_width(const model *m, uint32_t e)
{
    const float *w = m->in->width_m;
    return w && w[e] > 0 ? w[e] : MSH_FC_DEFAULT_WIDTH_M;
}

static bool edge_closed(const model *m, uint32_t e)
{
    return m->in->closed && m->in->closed[e];
}

/* The segment of edge e at `t` (0..1 along it). */
static uint32_t seg_at(const model *m, uint32_t e, double t)
{
    uint32_t k = m->seg_off[e + 1] - m->seg_off[e];
    uint32_t i = (uint32_t)fmin(fmax(t * k, 0), k - 1);
    return m->seg_off[e] + i;
}

/* The first segment of edge e walked away from node v, and that direction. */
static void entry_of(const model *m, uint32_t e, uint32_t v, uint32_t *seg, uint8_t *dir)
{
    uint32_t a, b;
    msh_graph_edge_nodes(m->g, e, &a, &b);
    *dir = a == v ? 0 : 1;
    *seg = a == v ? m->seg_off[e] : m->seg_off[e + 1] - 1;
}

static double edge_len(const model *m, uint32_t e)
{
    return msh_graph_edge_length(m->g, e);
}

/* The unit direction leaving node v along edge e. */
static void leave_dir(const model *m, uint32_t e, uint32_t v, double *tx, double *ty)
{
    uint32_t a, b;
    double lon, lat;
    msh_graph_edge_nodes(m->g, e, &a, &b);
    double L = edge_len(m, e);
    if (a == v) {
        point_at(m->g, e, fmin(1, L / 2), &lon, &lat, tx, ty);
    } else {
        point_at(m->g, e, fmax(L - 1, L / 2), &lon, &lat, tx, ty);
        *tx = -*tx, *ty = -*ty;
    }
}

static msh_rc build_segments(model *m)
{
    const msh_graph *g = m->g;
    m->seg_off = malloc(((size_t)m->ne + 1) * sizeof *m->seg_off);
    if (!m->seg_off)
        return MSH_ENOMEM;
    uint64_t S = 0;
    for (uint32_t e = 0; e < m->ne; e++) {
        m->seg_off[e] = (uint32_t)S;
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
    m->seg_off[m->ne] = (uint32_t)S;
    m->S = (uint32_t)S;
    size_t sz = S ? S : 1;
    m->seg_edge = malloc(sz * sizeof *m->seg_edge);
    m->len = malloc(sz * sizeof(float));
    m->area = malloc(sz * sizeof(float));
    m->cap = malloc(sz * sizeof(float));
    m->jam = malloc(sz * sizeof(float));
    m->stand = calloc(sz, sizeof(float));
    m->mom = calloc(2 * sz, sizeof(float));
    m->speed = calloc(2 * sz, sizeof(float));
    m->demand = calloc(sz, sizeof(float));
    m->ratio = calloc(sz, sizeof(float));
    m->tot = calloc(sz, sizeof(float));
    m->rk_off = malloc((sz + 1) * sizeof *m->rk_off);
    if (!m->seg_edge || !m->len || !m->area || !m->cap || !m->jam || !m->stand || !m->mom || !m->speed ||
        !m->demand || !m->ratio || !m->tot || !m->rk_off)
        return MSH_ENOMEM;
    double qmax = msh_fc_capacity_per_m() * m->p->dt_s;
    size_t nrk = 0, rkcap = 0;
    for (uint32_t e = 0; e < m->ne; e++) {
        uint32_t k = m->seg_off[e + 1] - m->seg_off[e];
        double L = msh_graph_edge_length(g, e) / k, W = edge_width(m, e);
        for (uint32_t i = 0; i < k; i++) {
            uint32_t s = m->seg_off[e] + i;
            m->seg_edge[s] = e;
            m->len[s] = (float)fmax(L, 0.5);
            m->area[s] = (float)(m->len[s] * W);
            m->cap[s] = edge_closed(m, e) ? 0.0f : (float)(qmax * W);
            m->jam[s] = (float)(m->p->jam_density * m->area[s]);
            /* the cells across the walkway at the segment's middle */
            double lon, lat, tx, ty, kx, ky;
            point_at(g, e, (i + 0.5) * L, &lon, &lat, &tx, &ty);
            m_per_deg(lat, &kx, &ky);
            uint32_t cx, cy;
            msh_fc_cell_at(lon, lat, &cx, &cy);
            double side = msh_fc_cell_side_m(cy);
            int across = (int)fmin(fmax(round(W / side), 1), 16);
            m->rk_off[s] = (uint32_t)nrk;
            for (int j = 0; j < across; j++) {
                double off = (j + 0.5 - across / 2.0) * (W / across); /* metres to the left of travel */
                if (msh_grow_from((void **)&m->rk, &rkcap, 2 * (nrk + 1), sizeof *m->rk, 8192))
                    return MSH_ENOMEM;
                msh_fc_cell_at(lon - ty * off / kx, lat + tx * off / ky, &m->rk[2 * nrk], &m->rk[2 * nrk + 1]);
                nrk++;
            }
        }
    }
    m->rk_off[m->S] = (uint32_t)nrk;
    return MSH_OK;
}

/* Put the observed cells on the network (or aside, where no walkway is). */
static msh_rc place_cells(model *m, msh_fc_stats *st)
{
    const msh_fc_input *in = m->in;
    double maxw = 0;
    for (uint32_t e = 0; e < m->ne; e++)
        maxw = fmax(maxw, edge_width(m, e));
    for (size_t i = 0; i < in->ncells; i++) {
        const msh_fc_cell *c = &in->cells[i];
        if (!(c->count > 0))
            continue;
        double lon, lat, side = msh_fc_cell_side_m(c->cy);
        msh_fc_cell_centre(c->cx, c->cy, &lon, &lat);
        msh_snap sn;
        bool on = m->g && msh_graph_snap(m->g, lon, lat, maxw / 2 + side, &sn) &&
                  sn.off_m <= edge_width(m, sn.edge) / 2 + 0.75 * side;
        if (!on) {
            st->unmapped_cells++;
            msh_rc rc = msh_fc_acc_add(&m->still, c->cx, c->cy, c->count);
            if (rc)
                return rc;
            continue;
        }
        st->mapped_cells++;
        uint32_t s = seg_at(m, sn.edge, sn.t);
        double plon, plat, tx, ty;
        point_at(m->g, sn.edge, sn.t * edge_len(m, sn.edge), &plon, &plat, &tx, &ty);
        double along = c->vx * tx + c->vy * ty;
        double u = fmin(fabs(along), m->p->max_speed);
        if (u < m->p->stand_speed) {
            m->stand[s] += c->count;
            continue;
        }
        int d = along >= 0 ? 0 : 1;
        *N(m, 0, d, s) += c->count;
        m->mom[(size_t)d * m->S + s] += (float)(c->count * u);
    }
    return MSH_OK;
}

static msh_rc push_hop(model *m, size_t *nh, size_t *cap, hop h)
{
    if (msh_grow((void **)&m->hops, cap, *nh + 1, sizeof *m->hops))
        return MSH_ENOMEM;
    m->hops[(*nh)++] = h;
    return MSH_OK;
}

/* Commodity 0's moves out of every (segment, direction): the next segment of the edge, or at the
 * edge's end the other edges of the node, shared as the people seen on their first segments walk
 * away from it, else all straight on; none at a dead end. */
static msh_rc build_hops(model *m)
{
    m->hop_off = malloc((2 * (size_t)m->S + 1) * sizeof *m->hop_off);
    size_t cap = 2 * (size_t)m->S + 1024, nh = 0;
    m->hops = malloc(cap * sizeof *m->hops);
    if (!m->hop_off || !m->hops)
        return MSH_ENOMEM;
    for (uint32_t s = 0; s < m->S; s++) {
        uint32_t e = m->seg_edge[s];
        for (int d = 0; d < 2; d++) {
            m->hop_off[2 * (size_t)s + d] = (uint32_t)nh;
            msh_rc rc;
            if (d == 0 && s + 1 < m->seg_off[e + 1]) {
                rc = push_hop(m, &nh, &cap, (hop){s + 1, 0, 1.0f});
            } else if (d == 1 && s > m->seg_off[e]) {
                rc = push_hop(m, &nh, &cap, (hop){s - 1, 1, 1.0f});
            } else {
                uint32_t a, b;
                msh_graph_edge_nodes(m->g, e, &a, &b);
                uint32_t v = d == 0 ? b : a;
                double ix, iy; /* arriving direction: the reverse of leaving v along e */
                leave_dir(m, e, v, &ix, &iy);
                ix = -ix, iy = -iy;
                uint32_t cnt;
                const uint32_t *es = msh_graph_node_edges(m->g, v, &cnt);
                double seen = 0, best = -2;
                size_t first = nh, straight = SIZE_MAX;
                rc = MSH_OK;
                for (uint32_t i = 0; i < cnt && !rc; i++) {
                    uint32_t f = es[i];
                    if (f == e || edge_closed(m, f))
                        continue;
                    hop h;
                    entry_of(m, f, v, &h.seg, &h.dir);
                    h.share = *N(m, 0, h.dir, h.seg);
                    seen += h.share;
                    double ox, oy;
                    leave_dir(m, f, v, &ox, &oy);
                    double dot = ix * ox + iy * oy;
                    if (dot > best)
                        best = dot, straight = nh;
                    rc = push_hop(m, &nh, &cap, h);
                }
                for (size_t i = first; i < nh; i++)
                    m->hops[i].share = seen > 0 ? (float)(m->hops[i].share / seen) : (i == straight ? 1.0f : 0.0f);
            }
            if (rc)
                return rc;
        }
    }
    m->hop_off[2 * (size_t)m->S] = (uint32_t)nh;
    return MSH_OK;
}

/* Planned groups: one commodity per destination node, with its shortest-path tree over the open edges. */
static msh_rc build_commodities(model *m, uint32_t *src_commodity, msh_err *err)
{
    const msh_fc_input *in = m->in;
    m->root = malloc((in->nsrc + 1) * sizeof *m->root);
    if (!m->root)
        return MSH_ENOMEM;
    m->C = 1;
    for (size_t i = 0; i < in->nsrc; i++) {
        src_commodity[i] = 0;
        if (!in->src[i].has_dest)
            continue;
        uint32_t v = msh_graph_nearest_node(m->g, in->src[i].dest_lon, in->src[i].dest_lat, false);
        if (v == UINT32_MAX)
            continue;
        uint32_t k = 1;
        while (k < m->C && m->root[k] != v)
            k++;
        if (k == m->C)
            m->root[m->C++] = v;
        src_commodity[i] = k;
    }
    if (m->C == 1)
        return MSH_OK;
    float *w = malloc((size_t)m->ne * sizeof *w);
    m->pred = malloc((size_t)m->C * m->nn * sizeof *m->pred);
    if (!w || !m->pred) {
        free(w);
        return MSH_ENOMEM;
    }
    for (uint32_t e = 0; e < m->ne; e++)
        w[e] = edge_closed(m, e) ? INFINITY : (float)edge_len(m, e);
    msh_rc rc = MSH_OK;
    for (uint32_t k = 1; k < m->C && !rc; k++)
        rc = msh_graph_tree(m->g, w, m->root[k], m->pred + (size_t)k * m->nn, NULL, err);
    free(w);
    return rc;
}

/* The moves of commodity c out of segment s walking d: *h and the count (one hop for a planned
 * group: within the edge, or the next edge of its tree; `one` holds it). A hop into SINK: arrived. */
static uint32_t group_moves(model *m, uint32_t c, uint32_t s, int d, const hop **h, hop *one);

static inline uint32_t moves(model *m, uint32_t c, uint32_t s, int d, const hop **h, hop *one)
{
    if (c == 0) {
        size_t k = 2 * (size_t)s + (size_t)d;
        *h = m->hops + m->hop_off[k];
        return m->hop_off[k + 1] - m->hop_off[k];
    }
    return group_moves(m, c, s, d, h, one);
}

static uint32_t group_moves(model *m, uint32_t c, uint32_t s, int d, const hop **h, hop *one)
{
    uint32_t e = m->seg_edge[s];
    *h = one;
    if (d == 0 && s + 1 < m->seg_off[e + 1]) {
        *one = (hop){s + 1, 0, 1.0f};
        return 1;
    }
    if (d == 1 && s > m->seg_off[e]) {
        *one = (hop){s - 1, 1, 1.0f};
        return 1;
    }
    uint32_t a, b;
    msh_graph_edge_nodes(m->g, e, &a, &b);
    uint32_t v = d == 0 ? b : a;
    if (v == m->root[c]) {
        *one = (hop){SINK, 0, 1.0f};
        return 1;
    }
    uint32_t f = m->pred[(size_t)c * m->nn + v];
    if (f == MSH_GRAPH_NO_EDGE)
        return 0;
    one->share = 1.0f;
    entry_of(m, f, v, &one->seg, &one->dir);
    return 1;
}

static float total(const model *m, uint32_t s)
{
    float t = m->stand[s];
    for (uint32_t c = 0; c < m->C; c++)
        t += m->n[((size_t)c * 2) * m->S + s] + m->n[((size_t)c * 2 + 1) * m->S + s];
    return t;
}

/* min and max of floats that are never NaN (fminf and fmaxf are calls here) */
static inline float minf(float a, float b) { return a < b ? a : b; }
static inline float maxf(float a, float b) { return a > b ? a : b; }

/* One step of dt: sends, the cut where receivers are short, the moves. */
static void step(model *m)
{
    const float dt = (float)m->p->dt_s;
    const uint32_t S = m->S, C = m->C;
    float *tot = m->tot;
    memcpy(tot, m->stand, S * sizeof *tot);
    for (size_t k = 0; k < (size_t)C * 2; k++) {
        const float *n = m->n + k * S;
        for (uint32_t s = 0; s < S; s++)
            tot[s] += n[s];
    }
    memset(m->demand, 0, S * sizeof *m->demand);
    memset(m->send, 0, (size_t)C * 2 * S * sizeof *m->send);
    /* 1. what each segment would send, per commodity and direction; the demand on each receiver */
    for (uint32_t s = 0; s < S; s++) {
        if (tot[s] - m->stand[s] <= 1e-6f)
            continue;
        float sent = 0, len = m->len[s];
        for (int d = 0; d < 2; d++) {
            float ppl = 0;
            for (uint32_t c = 0; c < C; c++)
                ppl += *N(m, c, d, s);
            float u0 = ppl > 1e-6f ? m->mom[(size_t)d * S + s] / ppl : 0;
            m->speed[(size_t)d * S + s] = u0;
            if (u0 <= 0)
                continue;
            for (uint32_t c = 0; c < C; c++) {
                float x = *N(m, c, d, s);
                if (x <= 1e-6f)
                    continue;
                const hop *h;
                hop one;
                uint32_t nh = moves(m, c, s, d, &h, &one);
                if (!nh)
                    continue; /* a dead end: they wait */
                float ahead = h[0].seg == SINK ? 0 : tot[h[0].seg] / m->area[h[0].seg];
                float u = minf(u0, vtab_at(&m->vt, ahead));
                float f = x * minf(1, u * dt / len);
                *SEND(m, c, d, s) = f;
                sent += f;
            }
        }
        float cut = sent > m->cap[s] ? m->cap[s] / sent : 1.0f;
        for (int d = 0; d < 2; d++)
            for (uint32_t c = 0; c < C; c++) {
                float *f = SEND(m, c, d, s);
                if (*f <= 0)
                    continue;
                *f *= cut;
                const hop *h;
                hop one;
                uint32_t nh = moves(m, c, s, d, &h, &one);
                for (uint32_t i = 0; i < nh; i++)
                    if (h[i].seg != SINK)
                        m->demand[h[i].seg] += *f * h[i].share;
            }
    }
    /* 2. what each segment can take */
    for (uint32_t s = 0; s < S; s++) {
        float room = minf(m->cap[s], maxf(0, m->jam[s] - tot[s]));
        m->ratio[s] = m->demand[s] > room ? room / m->demand[s] : 1.0f;
    }
    /* 3. the moves */
    for (uint32_t s = 0; s < S; s++) {
        if (tot[s] - m->stand[s] <= 1e-6f)
            continue;
        for (int d = 0; d < 2; d++) {
            float u = m->speed[(size_t)d * S + s];
            for (uint32_t c = 0; c < C; c++) {
                float f = *SEND(m, c, d, s);
                if (f <= 0)
                    continue;
                const hop *h;
                hop one;
                uint32_t nh = moves(m, c, s, d, &h, &one);
                float gone = 0;
                for (uint32_t i = 0; i < nh; i++) {
                    float mv = f * h[i].share;
                    if (h[i].seg == SINK) {
                        m->arrived += mv;
                    } else {
                        mv *= m->ratio[h[i].seg];
                        *N(m, c, h[i].dir, h[i].seg) += mv;
                        m->mom[(size_t)h[i].dir * S + h[i].seg] += mv * u;
                    }
                    gone += mv;
                }
                *N(m, c, d, s) -= gone;
                m->mom[(size_t)d * S + s] -= gone * u;
            }
            if (m->mom[(size_t)d * S + s] < 0)
                m->mom[(size_t)d * S + s] = 0;
        }
    }
}

/* Where a source puts its people: segment, direction, commodity. */
typedef struct feed {
    uint32_t seg, c;
    int dir;
    double backlog;
} feed;

static void place_sources(model *m, const uint32_t *src_commodity, feed *fd)
{
    const msh_fc_input *in = m->in;
    for (size_t i = 0; i < in->nsrc; i++) {
        const msh_fc_source *so = &in->src[i];
        fd[i] = (feed){NO_SEG, src_commodity[i], 0, 0};
        msh_snap sn;
        if (!msh_graph_snap(m->g, so->lon, so->lat, m->p->snap_m, &sn))
            continue;
        uint32_t e = sn.edge, s = seg_at(m, e, sn.t), a, b;
        msh_graph_edge_nodes(m->g, e, &a, &b);
        double L = edge_len(m, e);
        int dir;
        if (fd[i].c) { /* toward the destination */
            const uint32_t *pr = m->pred + (size_t)fd[i].c * m->nn;
            bool via_a = pr[a] != MSH_GRAPH_NO_EDGE || a == m->root[fd[i].c];
            bool via_b = pr[b] != MSH_GRAPH_NO_EDGE || b == m->root[fd[i].c];
            dir = via_b && (!via_a || pr[a] == e) ? 0 : 1;
        } else { /* where the crowd on that edge walks; else away from the nearer end */
            double f0 = 0, f1 = 0;
            for (uint32_t k = m->seg_off[e]; k < m->seg_off[e + 1]; k++)
                f0 += *N(m, 0, 0, k), f1 += *N(m, 0, 1, k);
            dir = f0 != f1 ? (f0 > f1 ? 0 : 1) : (sn.t * L <= L / 2 ? 0 : 1);
        }
        fd[i].seg = s;
        fd[i].dir = dir;
    }
}

static void feed_sources(model *m, feed *fd, int64_t t0_ms, int64_t t1_ms, msh_fc_stats *st)
{
    const msh_fc_input *in = m->in;
    double dt = m->p->dt_s;
    for (size_t i = 0; i < in->nsrc; i++) {
        const msh_fc_source *so = &in->src[i];
        if (fd[i].seg == NO_SEG)
            continue;
        int64_t a = so->from_ms > t0_ms ? so->from_ms : t0_ms, b = so->to_ms < t1_ms ? so->to_ms : t1_ms;
        double add = fd[i].backlog + (b > a ? so->rate * (double)(b - a) / 1000.0 : 0);
        (void)dt;
        uint32_t s = fd[i].seg;
        double room = fmin(m->cap[s], fmax(0, m->jam[s] - total(m, s)));
        double in_now = fmin(add, room);
        fd[i].backlog = add - in_now;
        *N(m, fd[i].c, fd[i].dir, s) += (float)in_now;
        m->mom[(size_t)fd[i].dir * m->S + s] += (float)(in_now * m->p->free_speed);
    }
    (void)st;
}

static int by_row_out(const void *pa, const void *pb)
{
    const msh_fc_out *a = pa, *b = pb;
    if (a->cy != b->cy)
        return a->cy < b->cy ? -1 : 1;
    return a->cx < b->cx ? -1 : a->cx > b->cx;
}

/* Every cell a forecast can fill (the cells across each segment, the cells on no walkway), sorted
 * once; each segment's cells and each still cell then know their slot, so a horizon is drawn by
 * adding into slots, with no hashing and no sorting. */
static msh_rc render_prepare(model *m)
{
    size_t nrk = m->rk_off[m->S], total_cells = nrk + m->still.n;
    m->out = malloc((total_cells + 1) * sizeof *m->out);
    m->still_slot = malloc((m->still.n + 1) * sizeof *m->still_slot);
    if (!m->out || !m->still_slot)
        return MSH_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < nrk; i++)
        m->out[k++] = (msh_fc_out){m->rk[2 * i], m->rk[2 * i + 1], 0};
    for (size_t i = 0; i < m->still.n; i++)
        m->out[k++] = (msh_fc_out){m->still.cells[i].cx, m->still.cells[i].cy, 0};
    qsort(m->out, k, sizeof *m->out, by_row_out);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (!u || m->out[i].cx != m->out[u - 1].cx || m->out[i].cy != m->out[u - 1].cy)
            m->out[u++] = m->out[i];
    m->nout = (uint32_t)u;
    for (size_t i = 0; i < nrk + m->still.n; i++) {
        msh_fc_out key = {i < nrk ? m->rk[2 * i] : m->still.cells[i - nrk].cx,
                          i < nrk ? m->rk[2 * i + 1] : m->still.cells[i - nrk].cy, 0};
        size_t from = 0, to = u;
        while (from < to) {
            size_t mid = from + (to - from) / 2;
            if (by_row_out(&m->out[mid], &key) < 0)
                from = mid + 1;
            else
                to = mid;
        }
        if (i < nrk)
            m->rk[2 * i] = (uint32_t)from; /* the slot replaces cx: rk[2i] is a slot from now on */
        else
            m->still_slot[i - nrk] = (uint32_t)from;
    }
    return MSH_OK;
}

static msh_rc render(model *m, msh_fc_grid *out)
{
    for (uint32_t i = 0; i < m->nout; i++)
        m->out[i].count = 0;
    for (size_t i = 0; i < m->still.n; i++)
        m->out[m->still_slot[i]].count += m->still.cells[i].count;
    for (uint32_t s = 0; s < m->S; s++) {
        float t = total(m, s);
        if (t <= 1e-4f)
            continue;
        uint32_t k0 = m->rk_off[s], k1 = m->rk_off[s + 1];
        float share = t / (float)(k1 - k0);
        for (uint32_t k = k0; k < k1; k++)
            m->out[m->rk[2 * k]].count += share;
    }
    size_t n = 0;
    for (uint32_t i = 0; i < m->nout; i++)
        n += m->out[i].count >= 0.01f;
    out->cells = malloc((n + 1) * sizeof *out->cells);
    if (!out->cells)
        return MSH_ENOMEM;
    out->n = 0;
    for (uint32_t i = 0; i < m->nout; i++)
        if (m->out[i].count >= 0.01f)
            out->cells[out->n++] = m->out[i];
    return MSH_OK;
}

static double people(model *m)
{
    double t = 0;
    for (uint32_t s = 0; s < m->S; s++)
        t += total(m, s);
    for (size_t i = 0; i < m->still.n; i++)
        t += m->still.cells[i].count;
    return t;
}

static void model_free(model *m)
{
    free(m->seg_off);
    free(m->seg_edge);
    free(m->len);
    free(m->area);
    free(m->cap);
    free(m->jam);
    free(m->stand);
    free(m->n);
    free(m->mom);
    free(m->send);
    free(m->speed);
    free(m->demand);
    free(m->ratio);
    free(m->hop_off);
    free(m->hops);
    free(m->root);
    free(m->pred);
    free(m->rk_off);
    free(m->rk);
    free(m->tot);
    free(m->out);
    free(m->still_slot);
    msh_fc_acc_free(&m->still);
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
    m.ne = msh_graph_edge_count(in->g);
    m.nn = msh_graph_node_count(in->g);
    vtab_init(&m.vt);
    msh_fc_acc_init(&m.still);
    uint32_t *src_c = malloc((in->nsrc + 1) * sizeof *src_c);
    feed *fd = malloc((in->nsrc + 1) * sizeof *fd);
    double t0 = cpu_ms();
    msh_rc rc = src_c && fd ? build_segments(&m) : MSH_ENOMEM;
    if (!rc)
        rc = build_commodities(&m, src_c, err);
    if (!rc) {
        m.n = calloc((size_t)m.C * 2 * m.S + 1, sizeof *m.n);
        m.send = calloc((size_t)m.C * 2 * m.S + 1, sizeof *m.send);
        rc = m.n && m.send ? MSH_OK : MSH_ENOMEM;
    }
    if (!rc)
        rc = place_cells(&m, st);
    if (!rc)
        rc = build_hops(&m);
    if (!rc)
        rc = render_prepare(&m);
    if (!rc)
        rc = msh_fc_observed(in, &out[0], err);
    if (!rc) {
        place_sources(&m, src_c, fd);
        st->segments = m.S;
        st->setup_ms = cpu_ms() - t0;
        st->people_start = people(&m);
        int steps = 0, h = 1;
        int64_t t = in->issued_ms;
        while (!rc && h < MSH_FC_NH) {
            if ((double)steps * p->dt_s >= msh_fc_minutes[h] * 60.0 - 1e-9) {
                rc = render(&m, &out[h++]);
                continue;
            }
            int64_t t1 = in->issued_ms + (int64_t)llround((steps + 1) * p->dt_s * 1000);
            feed_sources(&m, fd, t, t1, st);
            step(&m);
            t = t1;
            steps++;
        }
        st->run_ms = cpu_ms() - t0 - st->setup_ms;
        st->people_end = people(&m);
        st->arrived = m.arrived;
        for (size_t i = 0; i < in->nsrc; i++)
            st->waiting_outside += fd[i].seg == NO_SEG ? 0 : fd[i].backlog;
    }
    if (rc && rc != MSH_EINVAL)
        msh_err_set(err, rc, "forecast model: %s", msh_rc_str(rc));
    if (rc)
        for (int i = 0; i < MSH_FC_NH; i++)
            msh_fc_grid_free(&out[i]);
    free(src_c);
    free(fd);
    model_free(&m);
    return rc;
}
