/* labels.c: symbol candidates, tile-independent collision placement, Pango text and sprite icons. */
#include "labels.h"

#include <math.h>
#include <pango/pangocairo.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_clip.h"
#include "sprites.h"
#include "core/msh_hash.h"

#define MAX_CANDS 4096
#define MEASURE_SLOTS 4096 /* text sizes cached per thread */

typedef struct cand {
    size_t layer;
    double sortkey;
    uint64_t fid;
    double ax, ay; /* anchor, global px at 256 px tiles */
    size_t text, textlen, font; /* offsets into the arena */
    int nsec;
    uint32_t sec_end[MSH_FMT_MAX];
    double sec_scale[MSH_FMT_MAX];
    bool bold;
    double size, maxw, padding, offx, offy;
    double color[4], halo[4], halo_w;
    bool text_overlap, text_ignore;
    size_t icon, iconlen;
    double icon_size, icon_opacity, icon_rotate; /* icon_rotate: degrees clockwise */
    bool icon_overlap, icon_ignore;
    bool placed;
    double tw, th;            /* text logical size, px at ratio 1 */
    /* along a line (symbol-placement line or line-center): the piece of line the text follows,
     * its middle at the anchor, as x, y pairs (global px) in lb->path from `path`, `npath` points */
    size_t path;
    uint32_t npath;
    double plen;              /* its length */
} cand;

typedef struct measure {
    uint64_t key;
    float w, h;
} measure;

struct msh_labeler {
    PangoFontMap *fm;
    PangoContext *ctx;
    PangoLayout *layout;
    msh_buf arena;
    cand *c;
    size_t n, cap;
    cand **order;
    double (*boxes)[4];
    size_t nboxes, boxcap;
    double *path; /* line labels' pieces of line (see cand) */
    size_t npath, pathcap;
    double *cum;  /* scratch: cumulative lengths of the line being labelled */
    size_t cumcap;
    double ox, oy; /* tile origin, global px */
    int ratio;
    measure *cache;
};

msh_labeler *msh_labeler_new(void)
{
    msh_labeler *lb = calloc(1, sizeof *lb);
    if (!lb)
        return NULL;
    lb->fm = pango_cairo_font_map_new();
    if (lb->fm)
        lb->ctx = pango_font_map_create_context(lb->fm);
    lb->cache = calloc(MEASURE_SLOTS, sizeof *lb->cache);
    lb->c = calloc(MAX_CANDS, sizeof *lb->c);
    lb->order = calloc(MAX_CANDS, sizeof *lb->order);
    lb->boxcap = 2 * MAX_CANDS;
    lb->boxes = calloc(lb->boxcap, sizeof *lb->boxes);
    if (!lb->ctx || !lb->cache || !lb->c || !lb->order || !lb->boxes) {
        msh_labeler_free(lb);
        return NULL;
    }
    lb->cap = MAX_CANDS;
    /* unhinted outlines and metrics: a label measures the same at 1x and 2x and in every tile */
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    pango_cairo_context_set_font_options(lb->ctx, fo);
    cairo_font_options_destroy(fo);
    lb->layout = pango_layout_new(lb->ctx);
    msh_buf_init(&lb->arena, (size_t)4 << 20);
    return lb;
}

void msh_labeler_free(msh_labeler *lb)
{
    if (!lb)
        return;
    if (lb->layout) g_object_unref(lb->layout);
    if (lb->ctx) g_object_unref(lb->ctx);
    if (lb->fm) g_object_unref(lb->fm);
    msh_buf_free(&lb->arena);
    free(lb->cache);
    free(lb->c);
    free(lb->order);
    free(lb->boxes);
    free(lb->path);
    free(lb->cum);
    free(lb);
}

void msh_labeler_begin(msh_labeler *lb, double ox, double oy, int ratio)
{
    lb->n = 0;
    lb->nboxes = 0;
    lb->npath = 0;
    lb->ox = ox, lb->oy = oy;
    lb->ratio = ratio;
    msh_buf_reset(&lb->arena);
}

/* Append bytes to the arena; returns the offset or SIZE_MAX when full. */
static size_t put(msh_labeler *lb, const char *s, size_t n)
{
    size_t at = lb->arena.len;
    if (msh_buf_append(&lb->arena, s, n) || msh_buf_putc(&lb->arena, 0))
        return SIZE_MAX;
    return at;
}

/* "Noto Sans Regular", "Noto Sans Arabic Bold" -> "Noto Sans,Noto Sans Arabic" (+ bold) */
static size_t font_families(msh_labeler *lb, msh_val v, bool *bold)
{
    char buf[512];
    size_t o = 0;
    *bold = false;
    static const char *const styles[] = {" Regular", " Bold", " Book", " Italic", " Medium", " Light",
                                         " Semibold", " SemiBold", " Black", NULL};
    const msh_val *items;
    int ni = msh_val_items(v, &items);
    for (int i = 0; i < ni; i++) {
        msh_val f = items[i];
        if (f.t != MV_STR || !f.len || f.len > 120)
            continue;
        size_t n = f.len;
        for (int k = 0; styles[k]; k++) {
            size_t sl = strlen(styles[k]);
            if (n > sl && !memcmp(f.s + n - sl, styles[k], sl)) {
                if (k == 1) *bold = true;
                n -= sl;
                break;
            }
        }
        if (o + n + 2 >= sizeof buf)
            break;
        if (o) buf[o++] = ',';
        memcpy(buf + o, f.s, n);
        o += n;
    }
    if (!o) {
        memcpy(buf, "Noto Sans,Noto Sans Arabic", 26);
        o = 26;
    }
    return put(lb, buf, o);
}

/* Fill candidate k (not yet counted) from layer l and the feature in c: text, font, paint, icon.
 * False when it shows nothing (or the arena is full). */
static bool fill_cand(msh_labeler *lb, const msh_rlayer *l, msh_ectx *c, cand *k)
{
    memset(k, 0, sizeof *k);
    k->layer = l->index;
    k->fid = c->f->id;
    msh_val sk = msh_rl_eval(l, P_SYMBOL_SORT_KEY, c);
    k->sortkey = sk.t == MV_NUM ? sk.n : 0;
    /* text */
    msh_val t = msh_rl_eval(l, P_TEXT_FIELD, c);
    msh_val tr = msh_rl_eval(l, P_TEXT_TRANSFORM, c);
    int upper = tr.t == MV_STR && tr.len == 9 && !memcmp(tr.s, "uppercase", 9);
    int lower = tr.t == MV_STR && tr.len == 9 && !memcmp(tr.s, "lowercase", 9);
    k->text = lb->arena.len;
    size_t len = 0;
    if (t.t == MV_FMT) {
        for (int i = 0; i < c->nsec; i++) {
            if (msh_buf_append(&lb->arena, c->sec[i].s, c->sec[i].len))
                return false;
            len += c->sec[i].len;
            k->sec_end[k->nsec] = (uint32_t)len;
            k->sec_scale[k->nsec++] = c->sec[i].scale > 0 ? c->sec[i].scale : 1;
        }
    } else if (t.t == MV_STR || t.t == MV_NUM) {
        if (t.t == MV_NUM) {
            char num[32];
            int n = snprintf(num, sizeof num, "%.15g", t.n);
            if (msh_buf_append(&lb->arena, num, (size_t)n)) return false;
            len = (size_t)n;
        } else {
            if (msh_buf_append(&lb->arena, t.s, t.len)) return false;
            len = t.len;
        }
        k->sec_end[0] = (uint32_t)len;
        k->sec_scale[0] = 1;
        k->nsec = 1;
    }
    if (msh_buf_putc(&lb->arena, 0))
        return false;
    if (upper || lower)
        for (size_t i = 0; i < len; i++) {
            char *ch = (char *)lb->arena.data + k->text + i;
            if (upper && *ch >= 'a' && *ch <= 'z') *ch = (char)(*ch - 32);
            if (lower && *ch >= 'A' && *ch <= 'Z') *ch = (char)(*ch + 32);
        }
    /* a text of only newlines and spaces is no text */
    bool blank = true;
    for (size_t i = 0; i < len && blank; i++) blank = strchr(" \n\t", lb->arena.data[k->text + i]) != NULL;
    k->textlen = blank ? 0 : len;
    if (k->textlen) {
        k->font = font_families(lb, msh_rl_eval(l, P_TEXT_FONT, c), &k->bold);
        if (k->font == SIZE_MAX) return false;
        k->size = msh_rl_num(l, P_TEXT_SIZE, c);
        k->maxw = msh_rl_num(l, P_TEXT_MAX_WIDTH, c);
        k->padding = msh_rl_num(l, P_TEXT_PADDING, c);
        msh_val off = msh_rl_eval(l, P_TEXT_OFFSET, c);
        const msh_val *o;
        if (msh_val_items(off, &o) == 2 && o[0].t == MV_NUM && o[1].t == MV_NUM) {
            k->offx = o[0].n * k->size;
            k->offy = o[1].n * k->size;
        }
        msh_rl_color(l, P_TEXT_COLOR, c, k->color);
        k->color[3] *= msh_rl_num(l, P_TEXT_OPACITY, c);
        msh_rl_color(l, P_TEXT_HALO_COLOR, c, k->halo);
        k->halo[3] *= msh_rl_num(l, P_TEXT_OPACITY, c);
        /* MapLibre draws at most a quarter of the font size of halo (its glyphs' SDF buffer); a wider
         * one would also cost a stroke over the whole tile per glyph */
        k->halo_w = fmin(msh_rl_num(l, P_TEXT_HALO_WIDTH, c), k->size / 4);
        k->text_overlap = msh_rl_bool(l, P_TEXT_ALLOW_OVERLAP, c);
        k->text_ignore = msh_rl_bool(l, P_TEXT_IGNORE_PLACEMENT, c);
        if (k->size <= 0) k->textlen = 0;
    }
    /* icon */
    msh_val ic = msh_rl_eval(l, P_ICON_IMAGE, c);
    if (ic.t == MV_STR && ic.len) {
        k->icon = put(lb, ic.s, ic.len);
        if (k->icon == SIZE_MAX) return false;
        k->iconlen = ic.len;
        k->icon_size = msh_rl_num(l, P_ICON_SIZE, c);
        k->icon_opacity = msh_rl_num(l, P_ICON_OPACITY, c);
        k->icon_rotate = msh_rl_num(l, P_ICON_ROTATE, c);
        if (!isfinite(k->icon_rotate)) k->icon_rotate = 0;
        k->icon_overlap = msh_rl_bool(l, P_ICON_ALLOW_OVERLAP, c);
        k->icon_ignore = msh_rl_bool(l, P_ICON_IGNORE_PLACEMENT, c);
        if (k->icon_size <= 0) k->iconlen = 0;
    }
    return k->textlen || k->iconlen;
}

msh_rc msh_labeler_add(msh_labeler *lb, const msh_rlayer *l, msh_ectx *c, double ax, double ay)
{
    if (lb->n == lb->cap)
        return MSH_OK; /* a tile with more candidates keeps the first ones (documented limit) */
    cand *k = &lb->c[lb->n];
    size_t mark = lb->arena.len;
    if (!fill_cand(lb, l, c, k)) {
        msh_buf_truncate(&lb->arena, mark); /* what it wrote is nobody's: give the room back */
        return MSH_OK;
    }
    k->ax = ax, k->ay = ay;
    lb->n++;
    return MSH_OK;
}

/* Set up the shared layout for candidate k at pixel ratio `ratio`. */
static void layout_for(msh_labeler *lb, const cand *k, int ratio)
{
    const char *text = (const char *)lb->arena.data + k->text;
    PangoFontDescription *fd = pango_font_description_new();
    pango_font_description_set_family(fd, (const char *)lb->arena.data + k->font);
    pango_font_description_set_weight(fd, k->bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_absolute_size(fd, k->size * ratio * PANGO_SCALE);
    pango_layout_set_font_description(lb->layout, fd);
    pango_font_description_free(fd);
    PangoAttrList *al = pango_attr_list_new();
    uint32_t start = 0;
    for (int i = 0; i < k->nsec; i++) {
        if (k->sec_scale[i] != 1) {
            PangoAttribute *a = pango_attr_scale_new(k->sec_scale[i]);
            a->start_index = start;
            a->end_index = k->sec_end[i];
            pango_attr_list_insert(al, a);
        }
        start = k->sec_end[i];
    }
    pango_layout_set_attributes(lb->layout, al);
    pango_attr_list_unref(al);
    pango_layout_set_text(lb->layout, text, (int)k->textlen);
    pango_layout_set_alignment(lb->layout, PANGO_ALIGN_CENTER);
    pango_layout_set_wrap(lb->layout, PANGO_WRAP_WORD);
    pango_layout_set_width(lb->layout, k->maxw > 0 ? (int)(k->maxw * k->size * ratio * PANGO_SCALE) : -1);
}

static uint64_t measure_key(const msh_labeler *lb, const cand *k)
{
    uint64_t h = msh_fnv1a(lb->arena.data + k->text, k->textlen, MSH_FNV1A_INIT);
    const char *font = (const char *)lb->arena.data + k->font;
    h = msh_fnv1a(font, strlen(font), h);
    double nums[4] = {k->size, k->maxw, k->bold, lb->ratio};
    h = msh_fnv1a(nums, sizeof nums, h);
    for (int i = 0; i < k->nsec; i++) {
        uint64_t s = (uint64_t)k->sec_end[i] << 32 ^ (uint64_t)(k->sec_scale[i] * 1000);
        h = msh_fnv1a(&s, sizeof s, h);
    }
    return h | 1; /* 0 marks an empty slot */
}

static void measure_text(msh_labeler *lb, cand *k)
{
    uint64_t key = measure_key(lb, k);
    measure *m = &lb->cache[key % MEASURE_SLOTS];
    if (m->key != key) {
        layout_for(lb, k, lb->ratio);
        PangoRectangle ink, logical;
        pango_layout_get_pixel_extents(lb->layout, &ink, &logical);
        m->key = key;
        m->w = (float)logical.width / (float)lb->ratio;
        m->h = (float)logical.height / (float)lb->ratio;
    }
    k->tw = m->w, k->th = m->h;
}

/* ---------------------------------------------------------------------------------------------
 * text along lines */

/* The segment lo..lo+1 of a line with cumulative lengths cum[] (n points) where distance s falls:
 * cum[lo] <= s < cum[lo + 1], by bisection (the first or last segment beyond the ends). */
static size_t seg_at(const double *cum, size_t n, double s)
{
    size_t lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (cum[mid] <= s) lo = mid; else hi = mid;
    }
    return lo;
}

/* msh_polyline_at() on a long line with its cumulative lengths. */
static void along_cum(const double *p, const double *cum, size_t n, double s, double *x, double *y, double *ang)
{
    size_t lo = seg_at(cum, n, s);
    msh_polyline_at(p + 2 * lo, 2, s - cum[lo], x, y, ang);
}

static bool path_push(msh_labeler *lb, double x, double y)
{
    if (msh_grow_from((void **)&lb->path, &lb->pathcap, lb->npath + 2, sizeof *lb->path, 4096))
        return false;
    lb->path[lb->npath++] = x;
    lb->path[lb->npath++] = y;
    return true;
}

/* The piece of pts (cumulative lengths cum, no two points alike) from s0 to s1 into lb->path; false when a vertex
 * inside turns by more than maxang (radians) or memory runs out. */
static bool cut_piece(msh_labeler *lb, const double *pts, const double *cum, size_t n, double s0, double s1,
                      double maxang)
{
    double x, y, a;
    along_cum(pts, cum, n, s0, &x, &y, &a);
    if (!path_push(lb, x, y)) return false;
    double prev = a;
    for (size_t i = seg_at(cum, n, s0) + 1; i + 1 < n && cum[i] < s1; i++) {
        if (cum[i] <= s0) continue;
        double out = atan2(pts[2 * i + 3] - pts[2 * i + 1], pts[2 * i + 2] - pts[2 * i]);
        double turn = fabs(remainder(out - prev, 2 * M_PI));
        if (turn > maxang) return false;
        prev = out;
        if (!path_push(lb, pts[2 * i], pts[2 * i + 1])) return false;
    }
    along_cum(pts, cum, n, s1, &x, &y, &a);
    return path_push(lb, x, y);
}

msh_rc msh_labeler_add_line(msh_labeler *lb, const msh_rlayer *l, msh_ectx *c, const double *pts, size_t n,
                            double margin)
{
    if (n < 2 || lb->n == lb->cap)
        return MSH_OK;
    cand tmpl;
    size_t mark = lb->arena.len, added = lb->n;
    if (!fill_cand(lb, l, c, &tmpl) || !tmpl.textlen) {
        msh_buf_truncate(&lb->arena, mark);
        return MSH_OK;
    }
    char *text = (char *)lb->arena.data + tmpl.text;
    for (size_t i = 0; i < tmpl.textlen; i++) /* one line of text along a line */
        if (text[i] == '\n') text[i] = ' ';
    tmpl.iconlen = 0;           /* icons are not drawn along lines */
    tmpl.maxw = 0;              /* one line of text */
    tmpl.offx = tmpl.offy = 0;  /* text-offset is not applied along lines */
    measure_text(lb, &tmpl);
    if (n > lb->cumcap) { /* kept from line to line: no allocation per feature */
        double *q = realloc(lb->cum, n * sizeof *q);
        if (!q) {
            msh_buf_truncate(&lb->arena, mark);
            return MSH_ENOMEM;
        }
        lb->cum = q, lb->cumcap = n;
    }
    double *cum = lb->cum;
    cum[0] = 0;
    for (size_t i = 1; i < n; i++)
        cum[i] = cum[i - 1] + hypot(pts[2 * i] - pts[2 * i - 2], pts[2 * i + 1] - pts[2 * i - 1]);
    double len = cum[n - 1], tw = tmpl.tw;
    msh_val pl = msh_rl_eval(l, P_SYMBOL_PLACEMENT, c);
    bool center = pl.t == MV_STR && pl.len == 11 && !memcmp(pl.s, "line-center", 11);
    double spacing = msh_rl_num(l, P_SYMBOL_SPACING, c);
    /* labels of one line closer than their own length would only cover each other */
    if (!(spacing >= tw + 2 * tmpl.padding)) spacing = fmax(tw + 2 * tmpl.padding, 1);
    double maxang = msh_rl_num(l, P_TEXT_MAX_ANGLE, c) * M_PI / 180;
    bool upright = msh_rl_bool(l, P_TEXT_KEEP_UPRIGHT, c);
    /* anchors every `spacing` px of the whole line, centred on it: the same in every tile */
    double fna = center ? 1 : fmax(1, floor(len / spacing));
    int na = fna < MAX_CANDS ? (int)fna : MAX_CANDS;
    for (int i = 0; i < na && lb->n < lb->cap; i++) {
        double s = center ? len / 2 : (i + 0.5) * len / na;
        if (s - tw / 2 < 0 || s + tw / 2 > len)
            continue; /* the text is longer than the line */
        double ax, ay, ang;
        along_cum(pts, cum, n, s, &ax, &ay, &ang);
        if (ax < lb->ox - margin || ay < lb->oy - margin || ax > lb->ox + 256 + margin || ay > lb->oy + 256 + margin)
            continue;
        size_t at = lb->npath;
        if (!cut_piece(lb, pts, cum, n, s - tw / 2, s + tw / 2, maxang)) {
            lb->npath = at;
            continue;
        }
        double *q = lb->path + at;
        size_t np = (lb->npath - at) / 2;
        if (upright && q[2 * np - 2] < q[0]) /* it would read upside down: run it the other way */
            for (size_t a = 0, b = np - 1; a < b; a++, b--) {
                double tx = q[2 * a], ty = q[2 * a + 1];
                q[2 * a] = q[2 * b], q[2 * a + 1] = q[2 * b + 1];
                q[2 * b] = tx, q[2 * b + 1] = ty;
            }
        cand *k = &lb->c[lb->n++];
        *k = tmpl;
        k->ax = ax, k->ay = ay;
        k->path = at, k->npath = (uint32_t)np, k->plen = tw;
    }
    if (lb->n == added)
        msh_buf_truncate(&lb->arena, mark);
    return MSH_OK;
}

/* The collision boxes of a line label: squares of the text's height along its piece of line. */
static size_t line_boxes(const msh_labeler *lb, const cand *k, double (*out)[4], size_t max)
{
    const double *q = lb->path + k->path;
    double step = k->th > 1 ? k->th : 1, half = k->th / 2 + k->padding;
    size_t nb = 0;
    for (double s = step / 2; nb < max; s += step) {
        double x, y, a;
        msh_polyline_at(q, k->npath, s > k->plen ? k->plen : s, &x, &y, &a);
        out[nb][0] = x - half, out[nb][1] = y - half, out[nb][2] = x + half, out[nb][3] = y + half;
        nb++;
        if (s >= k->plen) break;
    }
    return nb;
}

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = *(cand *const *)a, *y = *(cand *const *)b;
    if (x->layer != y->layer) return x->layer > y->layer ? -1 : 1; /* higher layers first */
    if (x->sortkey != y->sortkey) return x->sortkey < y->sortkey ? -1 : 1;
    if (x->fid != y->fid) return x->fid < y->fid ? -1 : 1;
    if (x->ax != y->ax) return x->ax < y->ax ? -1 : 1;
    return (x->ay > y->ay) - (x->ay < y->ay);
}

static bool hits(const msh_labeler *lb, const double b[4])
{
    for (size_t i = 0; i < lb->nboxes; i++) {
        const double *o = lb->boxes[i];
        if (b[0] < o[2] && b[2] > o[0] && b[1] < o[3] && b[3] > o[1])
            return true;
    }
    return false;
}

static void text_box(const cand *k, double b[4])
{
    double cx = k->ax + k->offx, cy = k->ay + k->offy;
    b[0] = cx - k->tw / 2 - k->padding, b[2] = cx + k->tw / 2 + k->padding;
    b[1] = cy - k->th / 2 - k->padding, b[3] = cy + k->th / 2 + k->padding;
}

static void icon_box(const cand *k, double b[4])
{
    double h = 12 * k->icon_size;
    b[0] = k->ax - h, b[1] = k->ay - h, b[2] = k->ax + h, b[3] = k->ay + h;
}

static bool add_box(msh_labeler *lb, const double b[4])
{
    if (msh_grow((void **)&lb->boxes, &lb->boxcap, lb->nboxes + 1, sizeof *lb->boxes))
        return false;
    memcpy(lb->boxes[lb->nboxes++], b, 4 * sizeof *b);
    return true;
}

#define LINE_BOXES 64 /* boxes along one line label at most */

void msh_labeler_place(msh_labeler *lb)
{
    for (size_t i = 0; i < lb->n; i++) lb->order[i] = &lb->c[i];
    qsort(lb->order, lb->n, sizeof *lb->order, cmp_cand);
    double lbox[LINE_BOXES][4];
    for (size_t oi = 0; oi < lb->n; oi++) {
        cand *k = lb->order[oi];
        if (k->npath) { /* text along a line: every box along it must be free */
            size_t nb = line_boxes(lb, k, lbox, LINE_BOXES);
            bool free_ = true;
            for (size_t i = 0; i < nb && free_ && !k->text_overlap; i++) free_ = !hits(lb, lbox[i]);
            if (!free_)
                continue;
            k->placed = true;
            for (size_t i = 0; i < nb && !k->text_ignore; i++)
                if (!add_box(lb, lbox[i])) break;
            continue;
        }
        double tb[4], ib[4];
        if (k->textlen) {
            measure_text(lb, k);
            text_box(k, tb);
        }
        if (k->iconlen)
            icon_box(k, ib);
        bool ok = true;
        if (k->textlen && !k->text_overlap && hits(lb, tb)) ok = false;
        if (k->iconlen && !k->icon_overlap && hits(lb, ib)) ok = false;
        if (!ok)
            continue;
        k->placed = true;
        if (k->textlen && !k->text_ignore) add_box(lb, tb);
        if (k->iconlen && !k->icon_ignore) add_box(lb, ib);
    }
}

/* Draw candidate k's text glyph by glyph along its piece of line: each glyph centred on the line
 * at its distance along the text, turned to the line's direction there. Glyphs are in visual
 * order in Pango's runs (left to right, Arabic included, already shaped and joined). The halo of
 * every glyph is stroked before any glyph is filled, so no halo covers a neighbour. */
static void draw_on_line(msh_labeler *lb, cairo_t *cr, const cand *k)
{
    double r = lb->ratio;
    layout_for(lb, k, lb->ratio);
    PangoLayoutLine *line = pango_layout_get_line_readonly(lb->layout, 0);
    if (!line)
        return;
    PangoRectangle logical;
    pango_layout_line_get_extents(line, NULL, &logical);
    PangoRectangle lay_ink, lay_logical;
    pango_layout_get_extents(lb->layout, &lay_ink, &lay_logical);
    /* the text's vertical middle on the line: its baseline sits this far below the line */
    double ybase = (pango_layout_get_baseline(lb->layout) - lay_logical.y - lay_logical.height / 2.0) / PANGO_SCALE;
    double total = logical.width / (double)PANGO_SCALE;
    const double *q = lb->path + k->path;
    PangoGlyphString *one = pango_glyph_string_new();
    pango_glyph_string_set_size(one, 1);
    one->log_clusters[0] = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0 && !(k->halo_w > 0 && k->halo[3] > 0))
            continue;
        if (pass == 1)
            cairo_set_source_rgba(cr, k->color[0], k->color[1], k->color[2], k->color[3]);
        double x = logical.x / (double)PANGO_SCALE;
        for (GSList *it = line->runs; it; it = it->next) {
            PangoGlyphItem *run = it->data;
            PangoGlyphString *gs = run->glyphs;
            for (int i = 0; i < gs->num_glyphs; i++) {
                double w = gs->glyphs[i].geometry.width / (double)PANGO_SCALE;
                /* the glyph's middle, px along the piece of line (at ratio 1) */
                double s = (x + w / 2 - total / 2) / r + k->plen / 2;
                x += w;
                if (gs->glyphs[i].glyph == PANGO_GLYPH_EMPTY)
                    continue;
                double px, py, ang;
                msh_polyline_at(q, k->npath, s, &px, &py, &ang);
                cairo_save(cr);
                cairo_translate(cr, (px - lb->ox) * r, (py - lb->oy) * r);
                cairo_rotate(cr, ang);
                one->glyphs[0] = gs->glyphs[i];
                cairo_move_to(cr, -w / 2, ybase);
                if (pass == 0)
                    pango_cairo_glyph_string_path(cr, run->item->analysis.font, one);
                else
                    pango_cairo_show_glyph_string(cr, run->item->analysis.font, one);
                cairo_restore(cr);
            }
        }
        if (pass == 0) { /* the paths of every glyph, in device space: one stroke */
            cairo_set_source_rgba(cr, k->halo[0], k->halo[1], k->halo[2], k->halo[3]);
            cairo_set_line_width(cr, 2 * k->halo_w * r);
            cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
            cairo_stroke(cr);
        }
    }
    cairo_new_path(cr);
    pango_glyph_string_free(one);
}

int msh_labeler_draw(msh_labeler *lb, cairo_t *cr, size_t layer)
{
    int drawn = 0;
    double r = lb->ratio;
    double lo_x = lb->ox - 8, lo_y = lb->oy - 8, hi_x = lb->ox + 256 + 8, hi_y = lb->oy + 256 + 8;
    bool ctx_synced = false;
    for (size_t i = 0; i < lb->n; i++) {
        cand *k = &lb->c[i];
        if (!k->placed || k->layer != layer)
            continue;
        if (k->iconlen) {
            double b[4];
            icon_box(k, b);
            if (b[2] >= lo_x && b[0] <= hi_x && b[3] >= lo_y && b[1] <= hi_y) {
                double s = k->icon_size * r;
                cairo_save(cr);
                cairo_translate(cr, (k->ax - lb->ox) * r, (k->ay - lb->oy) * r);
                cairo_rotate(cr, k->icon_rotate * M_PI / 180); /* about the icon's centre, clockwise */
                cairo_translate(cr, -12 * s, -12 * s);
                cairo_scale(cr, s, s);
                bool fade = k->icon_opacity < 1;
                if (fade) cairo_push_group(cr);
                msh_sprites_draw(cr, (const char *)lb->arena.data + k->icon, k->iconlen);
                if (fade) {
                    cairo_pop_group_to_source(cr);
                    cairo_paint_with_alpha(cr, fmax(k->icon_opacity, 0));
                }
                cairo_restore(cr);
            }
        }
        if (!k->textlen)
            continue;
        double b[4];
        if (k->npath) { /* the anchor and half the text's length around it */
            double h = k->plen / 2 + k->th;
            b[0] = k->ax - h, b[1] = k->ay - h, b[2] = k->ax + h, b[3] = k->ay + h;
        } else {
            text_box(k, b);
        }
        if (b[2] < lo_x || b[0] > hi_x || b[3] < lo_y || b[1] > hi_y)
            continue;
        if (!ctx_synced) {
            pango_cairo_update_context(cr, lb->ctx);
            ctx_synced = true;
        }
        if (k->npath) {
            draw_on_line(lb, cr, k);
            drawn++;
            continue;
        }
        layout_for(lb, k, lb->ratio);
        PangoRectangle ink, logical;
        pango_layout_get_extents(lb->layout, &ink, &logical);
        /* centre the logical box on the anchor; unrounded so neighbours draw it at the same place */
        double x = (k->ax + k->offx - lb->ox) * r - (logical.x + logical.width / 2.0) / PANGO_SCALE;
        double y = (k->ay + k->offy - lb->oy) * r - (logical.y + logical.height / 2.0) / PANGO_SCALE;
        if (k->halo_w > 0 && k->halo[3] > 0) {
            cairo_move_to(cr, x, y);
            pango_cairo_layout_path(cr, lb->layout);
            cairo_set_source_rgba(cr, k->halo[0], k->halo[1], k->halo[2], k->halo[3]);
            cairo_set_line_width(cr, 2 * k->halo_w * r);
            cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
            cairo_stroke(cr);
        }
        cairo_move_to(cr, x, y);
        cairo_set_source_rgba(cr, k->color[0], k->color[1], k->color[2], k->color[3]);
        pango_cairo_show_layout(cr, lb->layout);
        cairo_new_path(cr);
        drawn++;
    }
    return drawn;
}
