/* msh_clip.c: clipping and polyline helpers (see msh_clip.h). */
#include "msh_clip.h"

#include <math.h>

bool msh_clip_seg(const double a[2], const double b[2], double lo, double hi, double *t0, double *t1)
{
    double dx = b[0] - a[0], dy = b[1] - a[1];
    double p[4] = {-dx, dx, -dy, dy}, q[4] = {a[0] - lo, hi - a[0], a[1] - lo, hi - a[1]};
    *t0 = 0, *t1 = 1;
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0) return false;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0) {
            if (t > *t1) return false;
            if (t > *t0) *t0 = t;
        } else {
            if (t < *t0) return false;
            if (t < *t1) *t1 = t;
        }
    }
    return true;
}

size_t msh_clip_side(const double *in, size_t n, double *out, int axis, double lim, bool keep_above)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const double *cur = in + 2 * i, *prev = in + 2 * (i == 0 ? n - 1 : i - 1);
        double cv = cur[axis], pv = prev[axis];
        bool cin = keep_above ? cv >= lim : cv <= lim, pin = keep_above ? pv >= lim : pv <= lim;
        if (cin != pin) { /* the edge prev-cur crosses: its crossing point first */
            double t = (lim - pv) / (cv - pv);
            out[2 * m] = prev[0] + t * (cur[0] - prev[0]);
            out[2 * m + 1] = prev[1] + t * (cur[1] - prev[1]);
            out[2 * m + axis] = lim;
            m++;
        }
        if (cin) {
            out[2 * m] = cur[0], out[2 * m + 1] = cur[1];
            m++;
        }
    }
    return m;
}

void msh_polyline_at(const double *p, size_t n, double s, double *x, double *y, double *ang)
{
    double acc = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        double dx = p[2 * i + 2] - p[2 * i], dy = p[2 * i + 3] - p[2 * i + 1], len = hypot(dx, dy);
        if (acc + len >= s || i + 2 == n) {
            double t = len > 0 ? (s - acc) / len : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            *x = p[2 * i] + dx * t, *y = p[2 * i + 1] + dy * t;
            *ang = atan2(dy, dx);
            return;
        }
        acc += len;
    }
    *x = p[0], *y = p[1], *ang = 0;
}

void msh_polyline_offset(const double *p, size_t n, double off, bool closed, double *out)
{
    size_t m = n;
    if (closed && n > 1 && p[0] == p[2 * n - 2] && p[1] == p[2 * n - 1])
        m = n - 1; /* the ring repeats its first point: corners wrap over the distinct ones */
    for (size_t i = 0; i < m; i++) {
        double n0[2] = {0, 0}, n1[2] = {0, 0};
        bool h0 = false, h1 = false;
        if (i > 0 || closed) {
            size_t a = i > 0 ? i - 1 : m - 1;
            double dx = p[2 * i] - p[2 * a], dy = p[2 * i + 1] - p[2 * a + 1], len = hypot(dx, dy);
            if (len > 0) n0[0] = -dy / len, n0[1] = dx / len, h0 = true;
        }
        if (i + 1 < m || closed) {
            size_t b = i + 1 < m ? i + 1 : 0;
            double dx = p[2 * b] - p[2 * i], dy = p[2 * b + 1] - p[2 * i + 1], len = hypot(dx, dy);
            if (len > 0) n1[0] = -dy / len, n1[1] = dx / len, h1 = true;
        }
        if (!h0) n0[0] = n1[0], n0[1] = n1[1];
        if (!h1) n1[0] = n0[0], n1[1] = n0[1];
        double mx = n0[0] + n1[0], my = n0[1] + n1[1], ml = hypot(mx, my), scale = 1;
        if (ml > 1e-9) {
            mx /= ml, my /= ml;
            double c = mx * n0[0] + my * n0[1];
            scale = c > 0.5 ? 1 / c : 2;
        } else {
            mx = n0[0], my = n0[1];
        }
        out[2 * i] = p[2 * i] + mx * off * scale;
        out[2 * i + 1] = p[2 * i + 1] + my * off * scale;
    }
    if (m < n)
        out[2 * m] = out[0], out[2 * m + 1] = out[1];
}
