/* lines.c: thin solid lines by distance coverage (see lines.h). */
#include "lines.h"

#include "blend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct msh_lines {
    uint8_t *cov; /* coverage, w x h */
    size_t cap;
    int w, h;
    int x0, y0, x1, y1; /* the box written since the last draw (x1 < x0: nothing) */
};

msh_lines *msh_lines_new(void)
{
    return calloc(1, sizeof(msh_lines));
}

void msh_lines_free(msh_lines *l)
{
    if (!l) return;
    free(l->cov);
    free(l);
}

bool msh_lines_begin(msh_lines *l, int w, int h)
{
    size_t need = (size_t)w * (size_t)h;
    if (need > l->cap) {
        uint8_t *c = calloc(need, 1);
        if (!c) return false;
        free(l->cov);
        l->cov = c;
        l->cap = need;
    } else if (l->x1 >= l->x0) { /* left over from a render that stopped half way */
        memset(l->cov, 0, l->cap);
    }
    l->w = w, l->h = h;
    l->x0 = l->y0 = 1 << 30;
    l->x1 = l->y1 = -1;
    return true;
}

/* The open interval of x where lo < a x + b < hi, intersected into (*xl, *xh). */
static void clamp_linear(double a, double b, double lo, double hi, double *xl, double *xh)
{
    if (a == 0) {
        if (!(b > lo && b < hi)) *xl = INFINITY, *xh = -INFINITY;
        return;
    }
    double u = (lo - b) / a, v = (hi - b) / a;
    if (u > v) { double t = u; u = v; v = t; }
    if (u > *xl) *xl = u;
    if (v < *xh) *xh = v;
}

/* One segment a-b: e0/e1 how far past each end (along the line) pixels are drawn; round0/round1:
 * that end is round (distance to the end point), else square (distance across the line only). */
static void segment(msh_lines *l, const double *a, const double *b, double r, double e0, double e1, bool round0,
                    bool round1)
{
    double dx = b[0] - a[0], dy = b[1] - a[1], len = hypot(dx, dy);
    if (!(len > 1e-9)) return;
    dx /= len, dy /= len;
    double nx = -dy, ny = dx;
    double ext = fmax(r, fmax(e0, e1));
    /* rows and columns are clamped as doubles: a far vertex must not overflow an int */
    double fya = fmax(floor(fmin(a[1], b[1]) - ext), 0), fyb = fmin(ceil(fmax(a[1], b[1]) + ext), l->h - 1);
    if (!(fya <= fyb)) return;
    int ya = (int)fya, yb = (int)fyb;
    for (int y = ya; y <= yb; y++) {
        double yc = y + 0.5 - a[1];
        /* across(x) = (x - ax) nx + yc ny, along(x) = (x - ax) dx + yc dy, x the pixel centre */
        double xl = -INFINITY, xh = INFINITY;
        clamp_linear(nx, yc * ny - a[0] * nx, -r, r, &xl, &xh);
        clamp_linear(dx, yc * dy - a[0] * dx, -e0, len + e1, &xl, &xh);
        if (!(xl < xh)) continue;
        double fxs = fmax(ceil(xl - 0.5), 0), fxe = fmin(floor(xh - 0.5), l->w - 1);
        if (!(fxs <= fxe)) continue;
        int xs = (int)fxs, xe = (int)fxe;
        uint8_t *row = l->cov + (size_t)y * (size_t)l->w;
        for (int x = xs; x <= xe; x++) {
            double px = x + 0.5 - a[0];
            double across = px * nx + yc * ny, along = px * dx + yc * dy;
            double d = along < 0 && round0     ? hypot(along, across)
                       : along > len && round1 ? hypot(along - len, across)
                                               : fabs(across);
            double c = r - d;
            if (c <= 0) continue;
            /* 16 steps, as a 4 x 4 supersampling rasteriser has: the eye sees no more on a map
             * line's edge, and the PNG stays as small as Cairo's */
            uint8_t v = c >= 1 ? 255 : (uint8_t)(lround(c * 16) * 255 / 16);
            if (v > row[x]) row[x] = v;
        }
        if (xs < l->x0) l->x0 = xs;
        if (xe > l->x1) l->x1 = xe;
        if (y < l->y0) l->y0 = y;
        if (y > l->y1) l->y1 = y;
    }
}

void msh_lines_add(msh_lines *l, const double *pts, size_t n, double width, bool round_cap)
{
    if (n < 2 || !(width > 0) || !l->cov) return;
    double r = width / 2 + 0.5; /* MapLibre's outset: half the width and half a pixel of fading */
    for (size_t i = 0; i + 1 < n; i++) {
        const double *a = pts + 2 * i, *b = a + 2;
        /* drop segments that cannot touch the image */
        if (fmax(a[0], b[0]) < -r || fmin(a[0], b[0]) > l->w + r || fmax(a[1], b[1]) < -r ||
            fmin(a[1], b[1]) > l->h + r)
            continue;
        /* inner ends reach half a width and the fading into the join, square (a square corner
         * is a miter join at a right angle, and costs no square root); the line's own ends as
         * its cap says: butt ends stop at the end point */
        bool first = i == 0, last = i + 2 == n;
        double e0 = first ? (round_cap ? r : 0) : r, e1 = last ? (round_cap ? r : 0) : r;
        segment(l, a, b, r, e0, e1, first && round_cap, last && round_cap);
    }
}

void msh_lines_draw(msh_lines *l, uint8_t *data, int stride, const double rgba[4])
{
    if (l->x1 < l->x0) return;
    double a = rgba[3] < 0 ? 0 : rgba[3] > 1 ? 1 : rgba[3];
    uint32_t col = (uint32_t)(a * 255 + 0.5) << 24 | (uint32_t)(rgba[0] * a * 255 + 0.5) << 16 |
                   (uint32_t)(rgba[1] * a * 255 + 0.5) << 8 | (uint32_t)(rgba[2] * a * 255 + 0.5); /* premultiplied */
    for (int y = l->y0; y <= l->y1; y++) {
        uint8_t *row = l->cov + (size_t)y * (size_t)l->w;
        uint32_t *d = (uint32_t *)(data + (size_t)y * (size_t)stride);
        for (int x = l->x0; x <= l->x1; x++) {
            uint32_t c = row[x];
            if (!c) continue;
            row[x] = 0;
            d[x] = msh_px_over(c == 255 ? col : msh_px_scale(col, c), d[x]);
        }
    }
    l->x0 = l->y0 = 1 << 30;
    l->x1 = l->y1 = -1;
}
