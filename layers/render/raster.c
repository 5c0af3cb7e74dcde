/* raster.c: draw one tile of a compiled style with Cairo and encode it as PNG.
 *
 * Per style layer, in style order: the catalog layer named by its source-layer is queried over
 * the tile and a margin wide enough for what the layer draws (line widths, circle radii, the
 * heatmap kernel); each feature passes the filter, its paint is evaluated (once per tile for
 * properties that do not read the feature), and features with the same paint are collected in
 * one Cairo path that is filled or stroked once (a layer of 20,000 walkways is a handful of
 * strokes). Vertices closer than a quarter pixel to the previous one are dropped; geometry
 * reaching far outside the tile (a site polygon at z20) is clipped first, so Cairo's 24.8
 * fixed-point coordinates never overflow. Polygon rings are given one orientation (outer
 * clockwise on screen, holes the other way) and filled with the nonzero rule, so the features of a
 * batch never cancel each other as even-odd would. Thin solid lines and dots skip Cairo
 * (lines.c, stamp.c); symbol anchors are in raster_symbols.c, heatmap layers in raster_heat.c.
 */
#include "raster_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/msh_clip.h"
#include "core/msh_tilemath.h"

msh_raster *msh_raster_new(void)
{
    msh_raster *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    for (int i = 0; i < 2; i++) {
        int px = (int)TILE * (i + 1);
        r->surf[i] = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, px, px);
        r->cr[i] = cairo_create(r->surf[i]);
        if (cairo_status(r->cr[i]) != CAIRO_STATUS_SUCCESS) {
            msh_raster_free(r);
            return NULL;
        }
    }
    r->lab = msh_labeler_new();
    r->png = msh_png_enc_new();
    r->stamps = msh_stamps_new();
    r->lines = msh_lines_new();
    msh_buf_init(&r->out, (size_t)16 << 20);
    if (!r->lab || !r->png || !r->stamps || !r->lines) {
        msh_raster_free(r);
        return NULL;
    }
    return r;
}

void msh_raster_free(msh_raster *r)
{
    if (!r)
        return;
    for (int i = 0; i < 2; i++) {
        if (r->cr[i]) cairo_destroy(r->cr[i]);
        if (r->surf[i]) cairo_surface_destroy(r->surf[i]);
    }
    msh_labeler_free(r->lab);
    msh_png_enc_free(r->png);
    msh_stamps_free(r->stamps);
    msh_lines_free(r->lines);
    msh_buf_free(&r->out);
    free(r->pts);
    free(r->tmp);
    for (int i = 0; i < CBUCKETS; i++)
        free(r->cb[i].pts);
    free(r->heat);
    free(r);
}

void msh_raster_read_box(int z, uint32_t x, uint32_t y, double box[4])
{
    double minx, miny, maxx, maxy;
    msh_tile_world_bounds(z, x, y, &minx, &miny, &maxx, &maxy);
    double m = (maxx - minx) * LABEL_MARGIN / TILE;
    box[0] = minx - m, box[1] = miny - m, box[2] = maxx + m, box[3] = maxy + m;
}

/* This thread's CPU time (ns): what a tile cost, however busy the machine. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool msh_raster_grow(double **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 4096;
    while (n < need) n *= 2;
    double *q = realloc(*p, n * sizeof *q);
    if (!q)
        return false;
    *p = q, *cap = n;
    return true;
}

/* ---------------------------------------------------------------------------------------------
 * geometry to Cairo paths */

/* Transform part `n` points from xy into r->pts (pixels), dropping points closer than a quarter
 * pixel to the last kept one; returns the count kept and the part's pixel bbox. */
static size_t to_px(job *j, const double *xy, size_t n, double bb[4])
{
    if (!msh_raster_grow(&j->r->pts, &j->r->cap, 2 * n + 2)) {
        j->rc = MSH_ENOMEM;
        return 0;
    }
    double *o = j->r->pts;
    size_t k = 0;
    bb[0] = bb[1] = INFINITY, bb[2] = bb[3] = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double px = (xy[2 * i] - j->ox) * j->sc, py = (xy[2 * i + 1] - j->oy) * j->sc;
        if (k && i + 1 < n && fabs(px - o[2 * k - 2]) < 0.25 && fabs(py - o[2 * k - 1]) < 0.25)
            continue;
        o[2 * k] = px, o[2 * k + 1] = py;
        k++;
        if (px < bb[0]) bb[0] = px;
        if (py < bb[1]) bb[1] = py;
        if (px > bb[2]) bb[2] = px;
        if (py > bb[3]) bb[3] = py;
    }
    return k;
}

static size_t clip_ring(job *j, size_t n)
{
    double lo = -j->margin - 64, hi = j->size + j->margin + 64;
    if (!msh_raster_grow(&j->r->tmp, &j->r->tmpcap, 4 * n + 16) || !msh_raster_grow(&j->r->pts, &j->r->cap, 4 * n + 16)) {
        j->rc = MSH_ENOMEM;
        return 0;
    }
    double *a = j->r->pts, *b = j->r->tmp;
    n = msh_clip_side(a, n, b, 0, lo, true);
    n = msh_clip_side(b, n, a, 0, hi, false);
    n = msh_clip_side(a, n, b, 1, lo, true);
    n = msh_clip_side(b, n, a, 1, hi, false);
    return n;
}

static void ring_path(cairo_t *cr, const double *p, size_t n, bool reverse)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = reverse ? n - 1 - i : i;
        if (i == 0)
            cairo_move_to(cr, p[2 * k], p[2 * k + 1]);
        else
            cairo_line_to(cr, p[2 * k], p[2 * k + 1]);
    }
    cairo_close_path(cr);
}

static void line_path(job *j, const double *p, size_t n, const double bb[4])
{
    cairo_t *cr = j->cr;
    double lo = -j->margin - 64, hi = j->size + j->margin + 64;
    bool huge = bb[0] < -HUGE_PX || bb[1] < -HUGE_PX || bb[2] > HUGE_PX || bb[3] > HUGE_PX;
    if (!huge) {
        for (size_t i = 0; i < n; i++)
            if (i == 0) cairo_move_to(cr, p[0], p[1]);
            else cairo_line_to(cr, p[2 * i], p[2 * i + 1]);
        return;
    }
    bool pen = false;
    for (size_t i = 0; i + 1 < n; i++) {
        double t0, t1;
        const double *a = p + 2 * i, *b = p + 2 * i + 2;
        if (!msh_clip_seg(a, b, lo, hi, &t0, &t1)) {
            pen = false;
            continue;
        }
        double ax = a[0] + (b[0] - a[0]) * t0, ay = a[1] + (b[1] - a[1]) * t0;
        if (!pen || t0 > 0) cairo_move_to(cr, ax, ay);
        cairo_line_to(cr, a[0] + (b[0] - a[0]) * t1, a[1] + (b[1] - a[1]) * t1);
        pen = t1 >= 1;
    }
}

/* One part of a line layer's geometry (q: n px points, in j->r->pts; ring: a polygon ring):
 * offset and doubled as line-offset and line-gap-width say, then to lines.h or to Cairo's path. */
static void stroke_part(job *j, size_t n, const double bb[4], bool ring)
{
    double w = j->key[4] * j->ratio, off = j->key[K_OFFSET] * j->ratio, gap = j->key[K_GAP] * j->ratio;
    bool round_cap = j->key[5] == CAIRO_LINE_CAP_ROUND;
    if (ring) { /* as a polyline (lines.h, or clipped by line_path), closed: to_px and clip_ring leave room */
        double *q = j->r->pts;
        if (q[0] != q[2 * n - 2] || q[1] != q[2 * n - 1])
            q[2 * n] = q[0], q[2 * n + 1] = q[1], n++;
    }
    /* a gap: two lines of the width, their middles (gap + width) / 2 each side */
    int sides = gap > 0 ? 2 : 1;
    for (int s = 0; s < sides; s++) {
        double o = off + (gap > 0 ? (s ? -1 : 1) * (gap + w) / 2 : 0);
        const double *p = j->r->pts, *box = bb;
        double obb[4];
        if (o != 0) {
            if (!msh_raster_grow(&j->r->tmp, &j->r->tmpcap, 2 * n + 2)) {
                j->rc = MSH_ENOMEM;
                return;
            }
            msh_polyline_offset(j->r->pts, n, o, ring, j->r->tmp);
            p = j->r->tmp;
            /* the box of the moved points: line_path clips by it before Cairo's fixed point overflows */
            obb[0] = obb[1] = INFINITY, obb[2] = obb[3] = -INFINITY;
            for (size_t i = 0; i < n; i++) {
                obb[0] = fmin(obb[0], p[2 * i]), obb[2] = fmax(obb[2], p[2 * i]);
                obb[1] = fmin(obb[1], p[2 * i + 1]), obb[3] = fmax(obb[3], p[2 * i + 1]);
            }
            box = obb;
        }
        if (j->fastline)
            msh_lines_add(j->r->lines, p, n, w, ring || round_cap); /* a ring's closing vertex is a round join */
        else if (ring && !(box[0] < -HUGE_PX || box[1] < -HUGE_PX || box[2] > HUGE_PX || box[3] > HUGE_PX))
            ring_path(j->cr, p, n, false);
        else /* open lines, and rings moved far out: segment by segment, clipped */
            line_path(j, p, n, box);
    }
}

/* Add a feature's geometry to the open path; false when nothing of it is near the tile. */
static bool geom_path(job *j, const msh_geom *g)
{
    const double *xy = g->xy;
    bool any = false;
    double lim_lo = -j->margin, lim_hi = j->size + j->margin;
    if (j->l->type == RL_LINE) { /* lines, and polygon rings as lines */
        bool ring = g->type == MSH_GT_POLYGON;
        for (uint32_t p = 0; p < g->nparts; p++) {
            size_t len = MSH_PART_LEN(g->parts[p]);
            double bb[4];
            size_t n = to_px(j, xy, len, bb);
            xy += 2 * len;
            if (n < (ring ? 3u : 2u) || bb[2] < lim_lo || bb[0] > lim_hi || bb[3] < lim_lo || bb[1] > lim_hi)
                continue;
            if (ring && !j->fastline && (bb[0] < -HUGE_PX || bb[1] < -HUGE_PX || bb[2] > HUGE_PX || bb[3] > HUGE_PX))
                n = clip_ring(j, n); /* Cairo's fixed point would overflow */
            if (n < 2)
                continue;
            stroke_part(j, n, bb, ring);
            any = true;
        }
        return any;
    }
    for (uint32_t p = 0; p < g->nparts && g->type == MSH_GT_POLYGON; p++) {
        size_t len = MSH_PART_LEN(g->parts[p]);
        bool outer = (g->parts[p] & MSH_RING_OUTER) != 0;
        double bb[4];
        size_t n = to_px(j, xy, len, bb);
        xy += 2 * len;
        if (n < 3 || bb[2] < lim_lo || bb[0] > lim_hi || bb[3] < lim_lo || bb[1] > lim_hi)
            continue;
        if (bb[0] < -HUGE_PX || bb[1] < -HUGE_PX || bb[2] > HUGE_PX || bb[3] > HUGE_PX)
            n = clip_ring(j, n);
        if (n < 3)
            continue;
        const double *q = j->r->pts;
        double area = 0;
        for (size_t i = 0, k = n - 1; i < n; k = i++) area += (q[2 * k] - q[2 * i]) * (q[2 * k + 1] + q[2 * i + 1]);
        /* area > 0: clockwise on screen (y down) */
        ring_path(j->cr, q, n, outer ? area < 0 : area > 0);
        any = true;
    }
    return any;
}

/* ---------------------------------------------------------------------------------------------
 * paint per layer type: a key of numbers; features with equal keys share a path */

static double cap_of(msh_val v)
{
    if (v.t == MV_STR && v.len == 5 && !memcmp(v.s, "round", 5)) return CAIRO_LINE_CAP_ROUND;
    if (v.t == MV_STR && v.len == 6 && !memcmp(v.s, "square", 6)) return CAIRO_LINE_CAP_SQUARE;
    return CAIRO_LINE_CAP_BUTT;
}

static double join_of(msh_val v)
{
    if (v.t == MV_STR && v.len == 5 && !memcmp(v.s, "round", 5)) return CAIRO_LINE_JOIN_ROUND;
    if (v.t == MV_STR && v.len == 5 && !memcmp(v.s, "bevel", 5)) return CAIRO_LINE_JOIN_BEVEL;
    return CAIRO_LINE_JOIN_MITER;
}

static void paint_key(job *j, double *k)
{
    const msh_rlayer *l = j->l;
    msh_ectx *c = &j->ec;
    memset(k, 0, KEYN * sizeof *k);
    switch (l->type) {
    case RL_FILL:
        msh_rl_color(l, P_FILL_COLOR, c, k);
        k[3] *= msh_rl_num(l, P_FILL_OPACITY, c);
        msh_rl_color(l, P_FILL_OUTLINE_COLOR, c, k + 4);
        k[7] *= msh_rl_num(l, P_FILL_OPACITY, c);
        break;
    case RL_LINE: {
        msh_rl_color(l, P_LINE_COLOR, c, k);
        k[3] *= msh_rl_num(l, P_LINE_OPACITY, c);
        k[4] = msh_rl_num(l, P_LINE_WIDTH, c);
        k[5] = cap_of(msh_rl_eval(l, P_LINE_CAP, c));
        k[6] = join_of(msh_rl_eval(l, P_LINE_JOIN, c));
        k[7] = msh_rl_num(l, P_LINE_MITER_LIMIT, c);
        k[K_GAP] = msh_rl_num(l, P_LINE_GAP_WIDTH, c);
        k[K_OFFSET] = msh_rl_num(l, P_LINE_OFFSET, c);
        msh_val d = msh_rl_eval(l, P_LINE_DASHARRAY, c);
        const msh_val *it;
        int ni = msh_val_items(d, &it), n = 0;
        for (int i = 0; i < ni && n < 10; i++)
            if (it[i].t == MV_NUM && it[i].n >= 0) k[9 + n++] = it[i].n;
        k[8] = n;
        break;
    }
    case RL_CIRCLE:
        msh_rl_color(l, P_CIRCLE_COLOR, c, k);
        k[3] *= msh_rl_num(l, P_CIRCLE_OPACITY, c);
        k[4] = msh_rl_num(l, P_CIRCLE_RADIUS, c);
        msh_rl_color(l, P_CIRCLE_STROKE_COLOR, c, k + 5);
        k[8] *= msh_rl_num(l, P_CIRCLE_STROKE_OPACITY, c);
        k[9] = msh_rl_num(l, P_CIRCLE_STROKE_WIDTH, c);
        k[10] = msh_rl_num(l, P_CIRCLE_BLUR, c);
        break;
    default: break;
    }
    /* a style's arithmetic may give NaN (0 / 0, inf / inf): such a colour, width or offset draws
     * nothing, as 0 does, and equal keys stay equal for batching */
    for (int i = 0; i < KEYN; i++)
        if (isnan(k[i])) k[i] = 0;
}

/* Direct pixel writes (stamps, lines) and Cairo take turns on the surface: Cairo must have
 * finished before pixels are written, and be told of them before it draws again. */
static void pixels_turn(job *j)
{
    if (!j->blitted) {
        cairo_surface_flush(j->surf);
        j->blitted = true;
    }
}

static void cairo_turn(job *j)
{
    if (j->blitted) {
        cairo_surface_mark_dirty(j->surf);
        j->blitted = false;
    }
}

static void set_rgba(cairo_t *cr, const double *c)
{
    cairo_set_source_rgba(cr, c[0], c[1], c[2], c[3]);
}

/* A circle as a closed sub-path. Small ones (most map dots: 1.5 to 6 px) as a 16-gon, at most
 * 0.02 r off the circle (0.1 px at r = 5), without the four Bezier curves Cairo would flatten. */
static void circle_path(cairo_t *cr, double cx, double cy, double r, bool reverse)
{
    static const double c16[16][2] = {
        {1, 0}, {0.92388, 0.38268}, {0.70711, 0.70711}, {0.38268, 0.92388},
        {0, 1}, {-0.38268, 0.92388}, {-0.70711, 0.70711}, {-0.92388, 0.38268},
        {-1, 0}, {-0.92388, -0.38268}, {-0.70711, -0.70711}, {-0.38268, -0.92388},
        {0, -1}, {0.38268, -0.92388}, {0.70711, -0.70711}, {0.92388, -0.38268}};
    cairo_new_sub_path(cr);
    if (r > 6) {
        if (reverse)
            cairo_arc_negative(cr, cx, cy, r, 2 * M_PI, 0);
        else
            cairo_arc(cr, cx, cy, r, 0, 2 * M_PI);
        cairo_close_path(cr);
        return;
    }
    cairo_move_to(cr, cx + r, cy);
    for (int i = 1; i < 16; i++) {
        int k = reverse ? 16 - i : i;
        cairo_line_to(cr, cx + r * c16[k][0], cy + r * c16[k][1]);
    }
    cairo_close_path(cr);
}

/* Draw the pending circles, paint by paint in the order the paints first appeared. Keeping paints
 * apart lets a layer whose paint changes from feature to feature (asset kinds and status) fill each
 * paint once: a Cairo fill costs microseconds of set-up however small its path. Circles of two
 * paints that overlap may stack in another order than the features' (MapLibre's order is that of
 * its own vector tile anyway). */
static void flush_circles(job *j)
{
    cairo_t *cr = j->cr;
    cairo_turn(j);
    double ratio = j->ratio;
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
    for (int b = 0; b < j->r->ncb; b++) {
        cbucket *cb = &j->r->cb[b];
        const double *k = cb->key, *p = cb->pts;
        size_t n = cb->n;
        /* a circle whose edge lies beyond the tile's diagonal and margin covers it whole: no need for
         * a larger one, and Cairo takes minutes over a radius of 1e30 */
        double big = 2 * (j->size + j->margin);
        double rad = fmin(k[4] * ratio, big), sw = fmin(k[9] * ratio, big);
        if (rad > 0 && k[3] > 0) {
            for (size_t i = 0; i < n; i++)
                circle_path(cr, p[2 * i], p[2 * i + 1], rad, false);
            set_rgba(cr, k);
            cairo_fill(cr);
        }
        if (sw > 0 && k[8] > 0) {
            /* the stroke lies outside the radius, as MapLibre draws it: a ring from rad to rad + sw,
             * filled (an outer circle and an inner one the other way round) rather than stroked,
             * which costs Cairo's stroker a join per vertex */
            for (size_t i = 0; i < n; i++) {
                circle_path(cr, p[2 * i], p[2 * i + 1], rad + sw, false);
                circle_path(cr, p[2 * i], p[2 * i + 1], rad, true);
            }
            set_rgba(cr, k + 5);
            cairo_fill(cr);
        }
        cairo_new_path(cr);
        cb->n = 0;
    }
    j->r->ncb = 0;
}

static void flush(job *j)
{
    if (!j->open)
        return;
    cairo_t *cr = j->cr;
    const double *k = j->key;
    double ratio = j->ratio;
    switch (j->l->type) {
    case RL_FILL:
        cairo_turn(j);
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
        set_rgba(cr, k);
        if (k[7] > 0) {
            cairo_fill_preserve(cr);
            set_rgba(cr, k + 4);
            cairo_set_line_width(cr, ratio);
            cairo_set_dash(cr, NULL, 0, 0);
            cairo_stroke(cr);
        } else {
            cairo_fill(cr);
        }
        break;
    case RL_LINE: {
        double w = k[4] * ratio;
        if (j->fastline) {
            pixels_turn(j);
            msh_lines_draw(j->r->lines, cairo_image_surface_get_data(j->surf),
                           cairo_image_surface_get_stride(j->surf), k);
            break;
        }
        if (w <= 0 || k[3] <= 0) {
            cairo_new_path(cr);
            break;
        }
        cairo_turn(j);
        set_rgba(cr, k);
        cairo_set_line_width(cr, w);
        cairo_set_line_cap(cr, (cairo_line_cap_t)k[5]);
        cairo_set_line_join(cr, (cairo_line_join_t)k[6]);
        cairo_set_miter_limit(cr, k[7] > 1 ? k[7] : 1);
        int nd = (int)k[8];
        double dash[10], total = 0;
        for (int i = 0; i < nd; i++) total += dash[i] = k[9 + i] * w;
        /* MapLibre's dash lengths are in line widths; a round cap adds half a width each side */
        cairo_set_dash(cr, dash, nd && total > 0 ? nd : 0, 0);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        break;
    }
    case RL_CIRCLE:
        flush_circles(j);
        break;
    default: break;
    }
    j->open = false;
}

static void batch_key(job *j)
{
    double k[KEYN];
    if (j->dyn) {
        paint_key(j, k);
    } else {
        memcpy(k, j->fixed, sizeof k);
    }
    if (j->open && memcmp(k, j->key, sizeof k))
        flush(j);
    memcpy(j->key, k, sizeof k);
    /* solid thin lines with butt or round caps: lines.h (MapLibre's own edge, no stroker) */
    j->fastline = j->l->type == RL_LINE && k[8] == 0 && k[3] > 0 && k[4] > 0 &&
                  k[4] * j->ratio <= MSH_LINES_MAX_WIDTH && k[5] != CAIRO_LINE_CAP_SQUARE && j->r->lines_ok;
}

static int on_feature(void *ud, const msh_feature *f)
{
    job *j = ud;
    j->ec.f = f;
    if (!msh_rl_filter(j->l, &j->ec))
        return 0;
    if (j->l->type == RL_CIRCLE) {
        if (f->geom.type != MSH_GT_POINT)
            return 0;
        double k[KEYN];
        if (j->dyn)
            paint_key(j, k);
        else
            memcpy(k, j->fixed, sizeof k);
        msh_raster *r = j->r;
        msh_dot_paint dp = {{k[0], k[1], k[2], k[3]}, k[4] * j->ratio, {k[5], k[6], k[7], k[8]}, k[9] * j->ratio, k[10]};
        msh_stamp *st = msh_stamps_get(r->stamps, &dp);
        if (st) { /* a small dot: blend its picture now, in feature order */
            pixels_turn(j);
            uint8_t *data = cairo_image_surface_get_data(j->surf);
            int side = (int)j->size, stride = cairo_image_surface_get_stride(j->surf);
            for (uint32_t i = 0; i < f->geom.npts; i++)
                msh_stamp_blit(st, data, side, side, stride, (f->geom.xy[2 * i] - j->ox) * j->sc,
                               (f->geom.xy[2 * i + 1] - j->oy) * j->sc);
            j->drawn++;
            return 0;
        }
        int b = 0;
        while (b < r->ncb && memcmp(r->cb[b].key, k, sizeof k)) b++;
        if (b == CBUCKETS) {
            flush_circles(j); /* too many paints at once: draw what waits, start again */
            b = 0;
        }
        if (b == r->ncb) {
            memcpy(r->cb[b].key, k, sizeof k);
            r->cb[b].n = 0;
            r->ncb++;
        }
        cbucket *cb = &r->cb[b];
        for (uint32_t i = 0; i < f->geom.npts; i++) {
            double px = (f->geom.xy[2 * i] - j->ox) * j->sc, py = (f->geom.xy[2 * i + 1] - j->oy) * j->sc;
            if (px < -j->margin || py < -j->margin || px > j->size + j->margin || py > j->size + j->margin)
                continue;
            if (!msh_raster_grow(&cb->pts, &cb->cap, 2 * cb->n + 2)) {
                j->rc = MSH_ENOMEM;
                return 1;
            }
            cb->pts[2 * cb->n] = px, cb->pts[2 * cb->n + 1] = py;
            cb->n++;
            j->open = true;
        }
        j->drawn++;
        return 0;
    }
    if ((j->l->type == RL_FILL && f->geom.type != MSH_GT_POLYGON) ||
        (j->l->type == RL_LINE && f->geom.type == MSH_GT_POINT))
        return 0;
    batch_key(j);
    if (geom_path(j, &f->geom)) {
        j->open = true;
        j->drawn++;
    }
    return j->rc != MSH_OK;
}

/* ---------------------------------------------------------------------------------------------
 * the tile */

static double layer_margin(const msh_rlayer *l, msh_ectx *c)
{
    /* how far outside the tile a feature may lie and still show in it (px at ratio 1) */
    switch (l->type) {
    case RL_LINE: {
        /* per feature: a fixed reach (wider or farther offset lines may be cut at tile edges) */
        if (msh_rl_per_feature(l, P_LINE_GAP_WIDTH) || msh_rl_per_feature(l, P_LINE_OFFSET))
            return 64;
        if (msh_rl_per_feature(l, P_LINE_WIDTH))
            return 32;
        double w = msh_rl_num(l, P_LINE_WIDTH, c), gap = msh_rl_num(l, P_LINE_GAP_WIDTH, c);
        double m = (gap > 0 ? gap / 2 + w : w / 2) + fabs(msh_rl_num(l, P_LINE_OFFSET, c)) + 2;
        return isfinite(m) && m < MAX_MARGIN ? m : MAX_MARGIN; /* past this a query would read the whole layer */
    }
    case RL_CIRCLE: {
        if (msh_rl_per_feature(l, P_CIRCLE_RADIUS) || msh_rl_per_feature(l, P_CIRCLE_STROKE_WIDTH))
            return 48;
        double m = msh_rl_num(l, P_CIRCLE_RADIUS, c) + msh_rl_num(l, P_CIRCLE_STROKE_WIDTH, c) + 2;
        return isfinite(m) && m < MAX_MARGIN ? m : MAX_MARGIN;
    }
    default: return 2;
    }
}

/* A job for style layer `l` from the tile's fields in `tile`; the catalog layer it reads, or NULL
 * when there is none or it has no data at this zoom. */
static msh_layer *start_job(job *j, const job *tile, const msh_rlayer *l, const msh_catalog *cat)
{
    msh_layer *src = msh_catalog_find(cat, l->source_layer, strlen(l->source_layer));
    if (!src || tile->z < src->info.minzoom)
        return NULL;
    *j = *tile;
    j->l = l;
    j->info = &src->info;
    j->ec.info = &src->info;
    return src;
}

static bool layer_on(const msh_rlayer *l, double zoom)
{
    return l->visible && zoom >= l->minzoom && zoom < l->maxzoom;
}

msh_rc msh_raster_render(msh_raster *r, const msh_rstyle *st, const msh_catalog *cat, int z, uint32_t x, uint32_t y,
                         int ratio, const uint8_t **png, size_t *len, msh_raster_stats *stats, msh_err *err)
{
    if (ratio != 1 && ratio != 2)
        return msh_err_set(err, MSH_EINVAL, "pixel ratio must be 1 or 2");
    if (!msh_tile_valid(z, x, y))
        return msh_err_set(err, MSH_EINVAL, "tile %d/%u/%u is outside the zoom level", z, x, y);
    cairo_t *cr = r->cr[ratio - 1];
    cairo_surface_t *surf = r->surf[ratio - 1];
    double minx, miny, maxx, maxy;
    msh_tile_world_bounds(z, x, y, &minx, &miny, &maxx, &maxy);
    double size = TILE * ratio;
    double sc = size / (maxx - minx);
    double zoom = z > 0 ? z - 1 : 0;
    cairo_save(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_CLEAR);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_FAST);
    cairo_set_tolerance(cr, 0.25);
    msh_labeler_begin(r->lab, minx * sc / ratio, miny * sc / ratio, ratio);
    job tile = {.r = r, .cr = cr, .surf = surf, .ox = minx, .oy = miny, .sc = sc, .size = size, .ratio = ratio};
    tile.ec.zoom = zoom;
    tile.z = z;
    msh_rc rc = MSH_OK;
    msh_raster_stats dummy;
    bool timed = stats != NULL; /* the CPU clock is a system call: read it only when asked */
    if (!stats) stats = &dummy;
    memset(stats, 0, sizeof *stats);
    uint64_t t0 = timed ? cpu_ns() : 0;
    /* pass 1: symbol candidates, placed before anything is drawn */
    for (size_t i = 0; i < st->nlayers && !rc; i++) {
        const msh_rlayer *l = &st->layers[i];
        if (l->type != RL_SYMBOL || !layer_on(l, zoom))
            continue;
        job j;
        msh_layer *src = start_job(&j, &tile, l, cat);
        if (!src)
            continue;
        double box[4];
        msh_raster_read_box(z, x, y, box);
        rc = src->vt->query(src, box, z, msh_raster_on_symbol, &j);
        if (!rc) rc = j.rc;
    }
    if (rc)
        return msh_err_set(err, rc, "tile %d/%u/%u: symbols: %s", z, x, y, msh_rc_str(rc));
    msh_labeler_place(r->lab);
    /* pass 2: every layer in style order */
    for (size_t i = 0; i < st->nlayers && !rc; i++) {
        const msh_rlayer *l = &st->layers[i];
        if (!layer_on(l, zoom))
            continue;
        msh_ectx ec0 = {.zoom = zoom};
        if (l->type == RL_BACKGROUND) {
            double c[4];
            msh_rl_color(l, P_BACKGROUND_COLOR, &ec0, c);
            cairo_set_source_rgba(cr, c[0], c[1], c[2], c[3] * msh_rl_num(l, P_BACKGROUND_OPACITY, &ec0));
            cairo_paint(cr);
            stats->backgrounds++;
            continue;
        }
        if (l->type == RL_SYMBOL) {
            stats->labels += (uint64_t)msh_labeler_draw(r->lab, cr, l->index);
            continue;
        }
        job j;
        msh_layer *src = start_job(&j, &tile, l, cat);
        if (!src)
            continue;
        double tbox[4] = {minx, miny, maxx, maxy};
        if (l->type == RL_HEATMAP) {
            rc = msh_raster_draw_heatmap(&j, src, tbox, z);
            stats->features += j.drawn;
            continue;
        }
        for (int p = 0; p < P_COUNT; p++)
            j.dyn |= l->prop[p] && msh_rl_per_feature(l, (msh_prop)p);
        if (!j.dyn)
            paint_key(&j, j.fixed);
        j.margin = layer_margin(l, &j.ec) * ratio;
        double m = j.margin / sc;
        double box[4] = {minx - m, miny - m, maxx + m, maxy + m};
        r->ncb = 0;
        if (l->type == RL_LINE)
            r->lines_ok = msh_lines_begin(r->lines, (int)size, (int)size);
        rc = src->vt->query(src, box, z, on_feature, &j);
        if (!rc) rc = j.rc;
        flush(&j);
        if (j.blitted)
            cairo_surface_mark_dirty(surf);
        cairo_new_path(cr);
        stats->features += j.drawn;
    }
    if (rc)
        return msh_err_set(err, rc, "tile %d/%u/%u: %s", z, x, y, msh_rc_str(rc));
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        return msh_err_set(err, MSH_EINTERNAL, "tile %d/%u/%u: cairo: %s", z, x, y,
                           cairo_status_to_string(cairo_status(cr)));
    cairo_surface_flush(surf);
    uint64_t t1 = timed ? cpu_ns() : 0;
    stats->draw_ns = t1 - t0;
    msh_png_opts o;
    msh_png_opts_init(&o);
    o.layout = MSH_PNG_CAIRO_ARGB32;
    o.level = 1;
    o.filter = MSH_PNG_FILTER_NONE; /* with flat map colours: smaller and faster than Sub or Up at level 1 */
    msh_buf_reset(&r->out);
    rc = msh_png_encode(r->png, cairo_image_surface_get_data(surf), (uint32_t)size, (uint32_t)size,
                        (size_t)cairo_image_surface_get_stride(surf), &o, &r->out, err);
    stats->png_ns = timed ? cpu_ns() - t1 : 0;
    if (rc)
        return rc;
    *png = r->out.data;
    *len = r->out.len;
    return MSH_OK;
}
