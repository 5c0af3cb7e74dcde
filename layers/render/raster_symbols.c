/* raster_symbols.c: symbol anchors for raster tiles, from the whole feature (never the clipped
 * piece), so every tile computes the same ones: a point's position, a line's middle by length (or,
 * along lines, the whole line in global pixels for labels.c), a polygon's largest outer ring. */
#include <math.h>
#include <string.h>

#include "core/msh_clip.h"
#include "raster_int.h"

/* A point inside a ring: the middle of the widest span of the horizontal line through its
 * centroid (world units). */
static void ring_anchor(const double *p, size_t n, double *ax, double *ay)
{
    double a = 0, cx = 0, cy = 0;
    for (size_t i = 0, k = n - 1; i < n; k = i++) {
        double cr = p[2 * k] * p[2 * i + 1] - p[2 * i] * p[2 * k + 1];
        a += cr;
        cx += (p[2 * k] + p[2 * i]) * cr;
        cy += (p[2 * k + 1] + p[2 * i + 1]) * cr;
    }
    if (a == 0) {
        *ax = p[0], *ay = p[1];
        return;
    }
    cx /= 3 * a, cy /= 3 * a;
    double xs[64];
    int nx = 0;
    for (size_t i = 0, k = n - 1; i < n && nx < 64; k = i++) {
        double y0 = p[2 * k + 1], y1 = p[2 * i + 1];
        if ((y0 <= cy) != (y1 <= cy))
            xs[nx++] = p[2 * k] + (cy - y0) / (y1 - y0) * (p[2 * i] - p[2 * k]);
    }
    for (int i = 1; i < nx; i++) /* insertion sort: a handful of crossings */
        for (int k = i; k > 0 && xs[k] < xs[k - 1]; k--) {
            double t = xs[k]; xs[k] = xs[k - 1]; xs[k - 1] = t;
        }
    double best = -1;
    *ax = cx, *ay = cy;
    for (int i = 0; i + 1 < nx; i += 2)
        if (xs[i + 1] - xs[i] > best) {
            best = xs[i + 1] - xs[i];
            *ax = (xs[i] + xs[i + 1]) / 2;
        }
}

int msh_raster_on_symbol(void *ud, const msh_feature *f)
{
    job *j = ud;
    j->ec.f = f;
    if (!msh_rl_filter(j->l, &j->ec))
        return 0;
    const msh_geom *g = &f->geom;
    double gsc = j->sc / j->ratio; /* global px per world unit at 256 px tiles */
    msh_val pl = msh_rl_eval(j->l, P_SYMBOL_PLACEMENT, &j->ec);
    if (pl.t == MV_STR && pl.len >= 4 && !memcmp(pl.s, "line", 4) && g->type != MSH_GT_POINT) {
        /* text along every line part (polygon rings too, as MapLibre): the whole part in global
         * pixels, so anchors and the pieces of line under them are the same in every tile */
        const double *xy = g->xy;
        for (uint32_t p = 0; p < g->nparts; p++) {
            size_t n = MSH_PART_LEN(g->parts[p]);
            if (!msh_raster_grow(&j->r->pts, &j->r->cap, 2 * n + 2)) {
                j->rc = MSH_ENOMEM;
                return 1;
            }
            /* in global px, repeated points dropped (a zero-length segment has no direction) */
            double *q = j->r->pts;
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                double x = xy[2 * i] * gsc, y = xy[2 * i + 1] * gsc;
                if (m && q[2 * m - 2] == x && q[2 * m - 1] == y)
                    continue;
                q[2 * m] = x, q[2 * m + 1] = y, m++;
            }
            xy += 2 * n;
            n = m;
            msh_rc rc = msh_labeler_add_line(j->r->lab, j->l, &j->ec, j->r->pts, n, LABEL_MARGIN);
            if (rc) {
                j->rc = rc;
                return 1;
            }
        }
        return 0;
    }
    double anchors[2 * 16];
    int na = 0;
    if (g->type == MSH_GT_POINT) {
        for (uint32_t i = 0; i < g->npts && na < 16; i++, na++)
            anchors[2 * na] = g->xy[2 * i], anchors[2 * na + 1] = g->xy[2 * i + 1];
    } else if (g->type == MSH_GT_LINE) {
        /* the middle (by length) of the longest part */
        const double *xy = g->xy, *best = NULL;
        size_t bestn = 0;
        double bestlen = -1;
        for (uint32_t p = 0; p < g->nparts; p++) {
            size_t n = MSH_PART_LEN(g->parts[p]);
            double len = 0;
            for (size_t i = 1; i < n; i++) len += hypot(xy[2 * i] - xy[2 * i - 2], xy[2 * i + 1] - xy[2 * i - 1]);
            if (len > bestlen) bestlen = len, best = xy, bestn = n;
            xy += 2 * n;
        }
        if (best && bestn) {
            double ang;
            msh_polyline_at(best, bestn, bestlen / 2, &anchors[0], &anchors[1], &ang);
            na = 1;
        }
    } else if (g->type == MSH_GT_POLYGON) {
        /* the largest outer ring */
        const double *xy = g->xy, *best = NULL;
        size_t bestn = 0;
        double besta = -1;
        for (uint32_t p = 0; p < g->nparts; p++) {
            size_t n = MSH_PART_LEN(g->parts[p]);
            if ((g->parts[p] & MSH_RING_OUTER) && n >= 3) {
                double a = 0;
                for (size_t i = 0, k = n - 1; i < n; k = i++) a += xy[2 * k] * xy[2 * i + 1] - xy[2 * i] * xy[2 * k + 1];
                if (fabs(a) > besta) besta = fabs(a), best = xy, bestn = n;
            }
            xy += 2 * n;
        }
        if (best) {
            ring_anchor(best, bestn, &anchors[0], &anchors[1]);
            na = 1;
        }
    }
    double gx0 = j->ox * gsc, gy0 = j->oy * gsc;
    for (int i = 0; i < na; i++) {
        double ax = anchors[2 * i] * gsc, ay = anchors[2 * i + 1] * gsc;
        if (ax < gx0 - LABEL_MARGIN || ay < gy0 - LABEL_MARGIN || ax > gx0 + TILE + LABEL_MARGIN ||
            ay > gy0 + TILE + LABEL_MARGIN)
            continue;
        msh_rc rc = msh_labeler_add(j->r->lab, j->l, &j->ec, ax, ay);
        if (rc) {
            j->rc = rc;
            return 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * heatmap: Gaussian kernels summed per pixel, coloured through heatmap-color */

