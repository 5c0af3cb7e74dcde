/* tilegeom.c: transform, clip, simplify, snap and validate geometry for one tile. */
#include "tilegeom.h"

#include "core/msh_clip.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TG_MAX_BYTES ((size_t)1 << 30)

struct msh_tg_ctx {
    msh_buf a, b;     /* double scratch: transformed ring, clipped ring */
    msh_buf keep;     /* uint8 flags for simplification */
    msh_buf stack;    /* uint32 pairs for DP */
    msh_tgeom out;
};

void msh_tile_xf_init(msh_tile_xf *xf, int z, uint32_t x, uint32_t y)
{
    xf->z = z;
    xf->x = x;
    xf->y = y;
    xf->extent = 4096;
    xf->buffer = 64;
    xf->tolerance = 8.0;
}

void msh_tile_xf_query_box(const msh_tile_xf *xf, double box[4])
{
    double n = (double)((uint64_t)1 << xf->z);
    double pad = (double)xf->buffer / xf->extent;
    box[0] = (xf->x - pad) / n;
    box[1] = (xf->y - pad) / n;
    box[2] = (xf->x + 1 + pad) / n;
    box[3] = (xf->y + 1 + pad) / n;
}

msh_tg_ctx *msh_tg_ctx_new(void)
{
    msh_tg_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    msh_buf_init(&c->a, TG_MAX_BYTES);
    msh_buf_init(&c->b, TG_MAX_BYTES);
    msh_buf_init(&c->keep, TG_MAX_BYTES);
    msh_buf_init(&c->stack, TG_MAX_BYTES);
    msh_buf_init(&c->out.xy, TG_MAX_BYTES);
    msh_buf_init(&c->out.parts, TG_MAX_BYTES);
    return c;
}

void msh_tg_ctx_free(msh_tg_ctx *c)
{
    if (!c)
        return;
    msh_buf_free(&c->a);
    msh_buf_free(&c->b);
    msh_buf_free(&c->keep);
    msh_buf_free(&c->stack);
    msh_buf_free(&c->out.xy);
    msh_buf_free(&c->out.parts);
    free(c);
}

static double seg_dist2(double px, double py, double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay;
    double l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / l2 : 0;
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    double qx = ax + t * dx - px, qy = ay + t * dy - py;
    return qx * qx + qy * qy;
}

/* The stack holds at most n pairs, so its size is fixed before the loop. */
static void simplify_dp_stack(const double *xy, uint32_t n, double tol, uint8_t *keep, uint32_t *stack)
{
    memset(keep, 0, n);
    if (n == 0)
        return;
    keep[0] = keep[n - 1] = 1;
    if (n < 3 || tol <= 0) {
        memset(keep, 1, n);
        return;
    }
    double tol2 = tol * tol;
    size_t sp = 0;
    stack[sp++] = 0;
    stack[sp++] = n - 1;
    while (sp) {
        uint32_t j = stack[--sp], i = stack[--sp];
        double best = -1;
        uint32_t bi = 0;
        for (uint32_t k = i + 1; k < j; k++) {
            double d = seg_dist2(xy[2 * k], xy[2 * k + 1], xy[2 * i], xy[2 * i + 1], xy[2 * j], xy[2 * j + 1]);
            if (d > best) {
                best = d;
                bi = k;
            }
        }
        if (best > tol2) {
            keep[bi] = 1;
            stack[sp++] = i;
            stack[sp++] = bi;
            stack[sp++] = bi;
            stack[sp++] = j;
        }
    }
}

void msh_simplify_dp(const double *xy, uint32_t n, double tolerance, uint8_t *keep)
{
    uint32_t *stack = malloc(sizeof(uint32_t) * 2 * (size_t)(n + 2));
    if (!stack) { /* keep everything rather than fail */
        memset(keep, 1, n);
        return;
    }
    simplify_dp_stack(xy, n, tolerance, keep, stack);
    free(stack);
}

/* Sutherland-Hodgman against one edge (core/msh_clip.h) into out: axis 0 = x, 1 = y; keep side:
 * v >= lim if lo, else v <= lim. */
static msh_rc clip_edge(const double *in, uint32_t n, msh_buf *out, int axis, double lim, int lo)
{
    msh_buf_reset(out);
    if (n == 0)
        return MSH_OK;
    msh_rc rc = msh_buf_reserve(out, sizeof(double) * 2 * ((size_t)n * 2 + 2));
    if (rc)
        return rc;
    size_t m = msh_clip_side(in, n, (double *)(void *)out->data, axis, lim, lo != 0);
    out->len = m * 2 * sizeof(double);
    return MSH_OK;
}

/* Transform `n` world points to tile space into buf (doubles); returns the bbox. */
static msh_rc to_tile(const msh_tile_xf *xf, const double *w, uint32_t n, msh_buf *buf, double bb[4])
{
    msh_buf_reset(buf);
    msh_rc rc = msh_buf_reserve(buf, sizeof(double) * 2 * (size_t)n);
    if (rc)
        return rc;
    double scale = (double)((uint64_t)1 << xf->z) * xf->extent;
    double ox = (double)xf->x * xf->extent, oy = (double)xf->y * xf->extent;
    double *o = (double *)(void *)buf->data;
    bb[0] = bb[1] = INFINITY;
    bb[2] = bb[3] = -INFINITY;
    for (uint32_t i = 0; i < n; i++) {
        double x = w[2 * i] * scale - ox, y = w[2 * i + 1] * scale - oy;
        o[2 * i] = x;
        o[2 * i + 1] = y;
        if (x < bb[0]) bb[0] = x;
        if (y < bb[1]) bb[1] = y;
        if (x > bb[2]) bb[2] = x;
        if (y > bb[3]) bb[3] = y;
    }
    buf->len = sizeof(double) * 2 * (size_t)n;
    return MSH_OK;
}

static inline int32_t snap(double v)
{
    return (int32_t)lrint(v);
}

/* Remove ring vertices on a straight line with their neighbours, spikes (there-and-back) included:
 * snapping small rings to the grid makes them, and a spike is an invalid ring. In place, open ring. */
static uint32_t drop_collinear(int32_t *o, uint32_t m)
{
    int changed = 1;
    while (changed && m >= 3) {
        changed = 0;
        uint32_t k = 0;
        for (uint32_t i = 0; i < m; i++) {
            const int32_t *prev = k ? o + 2 * (k - 1) : o + 2 * (m - 1);
            const int32_t *cur = o + 2 * i;
            const int32_t *next = o + 2 * ((i + 1) % m);
            int64_t cross = (int64_t)(cur[0] - prev[0]) * (next[1] - prev[1]) -
                            (int64_t)(cur[1] - prev[1]) * (next[0] - prev[0]);
            if (cross == 0 || (cur[0] == prev[0] && cur[1] == prev[1])) {
                changed = 1;
                continue;
            }
            o[2 * k] = cur[0];
            o[2 * k + 1] = cur[1];
            k++;
        }
        m = k;
    }
    return m;
}

/* Simplify, snap and append one part (doubles in `pts`). Returns the number of points written. */
static msh_rc emit_part(msh_tg_ctx *c, const double *pts, uint32_t n, double tol, int ring, uint32_t *written)
{
    *written = 0;
    msh_rc rc;
    if ((rc = msh_buf_reserve(&c->keep, n)) || (rc = msh_buf_reserve(&c->stack, sizeof(uint32_t) * 2 * ((size_t)n + 2))))
        return rc;
    uint8_t *keep = c->keep.data;
    simplify_dp_stack(pts, n, tol, keep, (uint32_t *)(void *)c->stack.data);
    if ((rc = msh_buf_reserve(&c->out.xy, 8 * (size_t)n)))
        return rc;
    int32_t *o = (int32_t *)(void *)(c->out.xy.data + c->out.xy.len);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        int32_t x = snap(pts[2 * i]), y = snap(pts[2 * i + 1]);
        if (m > 0 && o[2 * (m - 1)] == x && o[2 * (m - 1) + 1] == y)
            continue;
        o[2 * m] = x;
        o[2 * m + 1] = y;
        m++;
    }
    if (ring) {
        while (m > 1 && o[0] == o[2 * (m - 1)] && o[1] == o[2 * (m - 1) + 1])
            m--; /* rings are stored open */
        m = drop_collinear(o, m);
        if (m < 3)
            return MSH_OK;
    } else if (m < 2) {
        return MSH_OK;
    }
    *written = m;
    c->out.xy.len += 8 * (size_t)m;
    return MSH_OK;
}

/* Twice the signed area of the open ring that ends the output (y down: clockwise > 0). */
static int64_t ring_area2(const int32_t *o, uint32_t m)
{
    int64_t a = 0;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t j = i + 1 == m ? 0 : i + 1;
        a += (int64_t)o[2 * i] * o[2 * j + 1] - (int64_t)o[2 * j] * o[2 * i + 1];
    }
    return a;
}

static void ring_reverse(int32_t *o, uint32_t m)
{
    for (uint32_t i = 1, j = m - 1; i < j; i++, j--) { /* keep the first point first */
        int32_t tx = o[2 * i], ty = o[2 * i + 1];
        o[2 * i] = o[2 * j];
        o[2 * i + 1] = o[2 * j + 1];
        o[2 * j] = tx;
        o[2 * j + 1] = ty;
    }
}

static msh_rc add_part_len(msh_tg_ctx *c, uint32_t v)
{
    return msh_buf_append(&c->out.parts, &v, sizeof v);
}

static msh_rc build_points(msh_tg_ctx *c, const msh_geom *g, const msh_tile_xf *xf, double lo, double hi)
{
    double bb[4];
    msh_rc rc = to_tile(xf, g->xy, g->npts, &c->a, bb);
    if (rc)
        return rc;
    const double *p = (const double *)(const void *)c->a.data;
    for (uint32_t i = 0; i < g->npts; i++) {
        double x = p[2 * i], y = p[2 * i + 1];
        if (x < lo || x > hi || y < lo || y > hi)
            continue;
        int32_t v[2] = {snap(x), snap(y)};
        if ((rc = msh_buf_append(&c->out.xy, v, sizeof v)))
            return rc;
    }
    if (c->out.xy.len)
        c->out.type = MSH_GT_POINT;
    return MSH_OK;
}

/* Liang-Barsky (core/msh_clip.h): clip segment p->q to [lo,hi]^2 in place; returns 0 if outside. */
static int clip_seg(double *p, double *q, double lo, double hi)
{
    double t0, t1, dx = q[0] - p[0], dy = q[1] - p[1];
    if (!msh_clip_seg(p, q, lo, hi, &t0, &t1))
        return 0;
    double ox = p[0], oy = p[1];
    p[0] = ox + t0 * dx;
    p[1] = oy + t0 * dy;
    q[0] = ox + t1 * dx;
    q[1] = oy + t1 * dy;
    return 1;
}

static msh_rc flush_line(msh_tg_ctx *c, const msh_tile_xf *xf)
{
    uint32_t n = (uint32_t)(c->b.len / (2 * sizeof(double)));
    uint32_t w = 0;
    msh_rc rc = MSH_OK;
    if (n >= 2)
        rc = emit_part(c, (const double *)(const void *)c->b.data, n, xf->tolerance, 0, &w);
    if (!rc && w)
        rc = add_part_len(c, w);
    msh_buf_reset(&c->b);
    return rc;
}

static msh_rc build_lines(msh_tg_ctx *c, const msh_geom *g, const msh_tile_xf *xf, double lo, double hi)
{
    msh_rc rc = MSH_OK;
    uint32_t off = 0;
    for (uint32_t pi = 0; pi < g->nparts && !rc; pi++) {
        uint32_t n = MSH_PART_LEN(g->parts[pi]);
        double bb[4];
        if ((rc = to_tile(xf, g->xy + 2 * (size_t)off, n, &c->a, bb)))
            break;
        off += n;
        if (bb[2] < lo || bb[0] > hi || bb[3] < lo || bb[1] > hi)
            continue;
        const double *p = (const double *)(const void *)c->a.data;
        msh_buf_reset(&c->b);
        if (bb[0] >= lo && bb[2] <= hi && bb[1] >= lo && bb[3] <= hi) {
            if ((rc = msh_buf_append(&c->b, p, sizeof(double) * 2 * (size_t)n)))
                break;
            rc = flush_line(c, xf);
            continue;
        }
        for (uint32_t i = 0; i + 1 < n && !rc; i++) {
            double a[2] = {p[2 * i], p[2 * i + 1]}, b[2] = {p[2 * i + 2], p[2 * i + 3]};
            if (!clip_seg(a, b, lo, hi)) {
                rc = flush_line(c, xf);
                continue;
            }
            size_t have = c->b.len / (2 * sizeof(double));
            const double *last = have ? (const double *)(const void *)c->b.data + 2 * (have - 1) : NULL;
            if (last && (last[0] != a[0] || last[1] != a[1])) {
                if ((rc = flush_line(c, xf)))
                    break;
                last = NULL;
            }
            if (!last && (rc = msh_buf_append(&c->b, a, sizeof a)))
                break;
            rc = msh_buf_append(&c->b, b, sizeof b);
        }
        if (!rc)
            rc = flush_line(c, xf);
    }
    if (!rc && c->out.parts.len)
        c->out.type = MSH_GT_LINE;
    return rc;
}

static msh_rc build_polygons(msh_tg_ctx *c, const msh_geom *g, const msh_tile_xf *xf, double lo, double hi)
{
    msh_rc rc = MSH_OK;
    uint32_t off = 0;
    int outer_kept = 0;
    for (uint32_t pi = 0; pi < g->nparts && !rc; pi++) {
        uint32_t raw = g->parts[pi], n = MSH_PART_LEN(raw);
        int outer = (raw & MSH_RING_OUTER) != 0;
        const double *w = g->xy + 2 * (size_t)off;
        off += n;
        if (!outer && !outer_kept)
            continue; /* a hole of a polygon that is not in this tile */
        if (outer)
            outer_kept = 0;
        double bb[4];
        if ((rc = to_tile(xf, w, n, &c->a, bb)))
            break;
        if (bb[2] < lo || bb[0] > hi || bb[3] < lo || bb[1] > hi)
            continue;
        /* a ring smaller than a grid cell collapses: drop it (and the holes of an outer one) */
        if (bb[2] - bb[0] < 1.0 && bb[3] - bb[1] < 1.0)
            continue;
        const double *pts = (const double *)(const void *)c->a.data;
        uint32_t m = n;
        if (!(bb[0] >= lo && bb[2] <= hi && bb[1] >= lo && bb[3] <= hi)) {
            /* clip: a -> b -> a -> b -> a */
            if ((rc = clip_edge(pts, m, &c->b, 0, lo, 1)))
                break;
            m = (uint32_t)(c->b.len / 16);
            if ((rc = clip_edge((const double *)(const void *)c->b.data, m, &c->a, 0, hi, 0)))
                break;
            m = (uint32_t)(c->a.len / 16);
            if ((rc = clip_edge((const double *)(const void *)c->a.data, m, &c->b, 1, lo, 1)))
                break;
            m = (uint32_t)(c->b.len / 16);
            if ((rc = clip_edge((const double *)(const void *)c->b.data, m, &c->a, 1, hi, 0)))
                break;
            m = (uint32_t)(c->a.len / 16);
            pts = (const double *)(const void *)c->a.data;
            if (m < 3)
                continue;
            /* close the clipped ring so simplification sees the last edge */
            if (pts[0] != pts[2 * (m - 1)] || pts[1] != pts[2 * (m - 1) + 1]) {
                double first[2] = {pts[0], pts[1]};
                if ((rc = msh_buf_append(&c->a, first, sizeof first)))
                    break;
                pts = (const double *)(const void *)c->a.data;
                m++;
            }
        }
        size_t start = c->out.xy.len / 8;
        uint32_t wn = 0;
        /* small rings are simplified in proportion, so they shrink to a few vertices instead of vanishing */
        double span = fmax(bb[2] - bb[0], bb[3] - bb[1]);
        double tol = fmin(xf->tolerance, span / 8.0);
        if ((rc = emit_part(c, pts, m, tol, 1, &wn)))
            break;
        if (!wn)
            continue;
        int32_t *o = (int32_t *)(void *)c->out.xy.data + 2 * start;
        int64_t a2 = ring_area2(o, wn);
        if (a2 == 0) {
            c->out.xy.len = start * 8;
            continue;
        }
        if ((outer && a2 < 0) || (!outer && a2 > 0))
            ring_reverse(o, wn);
        if ((rc = add_part_len(c, outer ? (wn | MSH_RING_OUTER) : wn)))
            break;
        if (outer)
            outer_kept = 1;
    }
    if (!rc && c->out.parts.len)
        c->out.type = MSH_GT_POLYGON;
    return rc;
}

msh_rc msh_tilegeom_build(msh_tg_ctx *c, const msh_geom *g, const msh_tile_xf *xf, const msh_tgeom **out)
{
    msh_buf_reset(&c->out.xy);
    msh_buf_reset(&c->out.parts);
    c->out.type = MSH_GT_NONE;
    *out = &c->out;
    double lo = -(double)xf->buffer, hi = (double)xf->extent + xf->buffer;
    switch (g->type) {
    case MSH_GT_POINT: return build_points(c, g, xf, lo, hi);
    case MSH_GT_LINE: return build_lines(c, g, xf, lo, hi);
    case MSH_GT_POLYGON: return build_polygons(c, g, xf, lo, hi);
    default: return MSH_OK;
    }
}
