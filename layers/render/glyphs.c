/* glyphs.c: installed fonts by name, and SDF glyph ranges in the MapLibre glyphs protobuf. */
#include "glyphs.h"

#include <fontconfig/fontconfig.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_OUTLINE_H
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/msh_grow.h"

#define RANGE_MAX_BYTES ((size_t)16 << 20)
#define MAX_BITMAP_SIDE 512   /* a glyph wider or taller than this at 24 px is broken: no bitmap */
#define FLATNESS 0.05         /* px: how far a flattened curve may stray from the true one */
#define STEPS_PER_PX 32.0     /* SDF bytes per pixel of distance (sdf-glyph-foundry: 256 / radius 8) */
#define CUTOFF 64.0           /* 0.25 * 256: the edge sits at 255 - 64 */
#define REACH ((255.0 - CUTOFF) / STEPS_PER_PX) /* px beyond which outside pixels are 0 */

typedef struct {
    char *name;
    char *file;
    int index; /* face index in the file */
    int rank;  /* 0 for the font's first family and style name; k for its k-th pair */
} font_entry;

struct msh_glyphs {
    font_entry *fonts; /* sorted by name, one per name */
    size_t n;
};

/* ---- the font table ---- */

static int entry_cmp(const void *a, const void *b)
{
    const font_entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    c = strcmp(x->file, y->file);
    return c ? c : x->index - y->index;
}

static void free_entries(font_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].name);
        free(e[i].file);
    }
    free(e);
}

void msh_glyphs_close(msh_glyphs *g)
{
    if (!g)
        return;
    free_entries(g->fonts, g->n);
    free(g);
}

static msh_rc add_entry(font_entry **v, size_t *n, size_t *cap, const char *family, const char *style,
                        const char *file, int index, int rank)
{
    if (msh_grow_from((void **)v, cap, *n + 1, sizeof **v, 256))
        return MSH_ENOMEM;
    size_t len = strlen(family) + 1 + strlen(style) + 1;
    font_entry e = {malloc(len), strdup(file), index, rank};
    if (!e.name || !e.file) {
        free(e.name);
        free(e.file);
        return MSH_ENOMEM;
    }
    snprintf(e.name, len, "%s %s", family, style);
    (*v)[(*n)++] = e;
    return MSH_OK;
}

msh_rc msh_glyphs_open(msh_glyphs **out, msh_err *err)
{
    *out = NULL;
    msh_rc rc = MSH_OK;
    font_entry *v = NULL;
    size_t n = 0, cap = 0;
    FcFontSet *set = NULL;
    FcConfig *cfg = FcInitLoadConfigAndFonts();
    FcPattern *pat = FcPatternBuild(NULL, FC_OUTLINE, FcTypeBool, FcTrue, (char *)0);
    FcObjectSet *os = FcObjectSetBuild(FC_FAMILY, FC_STYLE, FC_FILE, FC_INDEX, (char *)0);
    if (!cfg || !pat || !os) {
        rc = msh_err_set(err, MSH_EINTERNAL, "fontconfig could not start");
        goto out;
    }
    set = FcFontList(cfg, pat, os);
    for (int i = 0; set && i < set->nfont && !rc; i++) {
        FcChar8 *file = NULL, *fam, *sty;
        int index = 0;
        if (FcPatternGetString(set->fonts[i], FC_FILE, 0, &file) != FcResultMatch)
            continue;
        FcPatternGetInteger(set->fonts[i], FC_INDEX, 0, &index);
        /* the k-th family name with the k-th style name: fontconfig pairs them so. DejaVuSansCondensed.ttf
         * is "DejaVu Sans" "Condensed" (fontnik's name for it) and "DejaVu Sans Condensed" "Book" */
        for (int k = 0; !rc && FcPatternGetString(set->fonts[i], FC_FAMILY, k, &fam) == FcResultMatch &&
                        FcPatternGetString(set->fonts[i], FC_STYLE, k, &sty) == FcResultMatch;
             k++)
            rc = add_entry(&v, &n, &cap, (const char *)fam, (const char *)sty, (const char *)file, index, k);
    }
    if (rc) {
        msh_err_set(err, rc, "out of memory listing fonts");
        goto out;
    }
    if (n)
        qsort(v, n, sizeof *v, entry_cmp);
    size_t kept = 0; /* one entry per name: the best ranked */
    for (size_t i = 0; i < n; i++) {
        if (kept && !strcmp(v[kept - 1].name, v[i].name)) {
            free(v[i].name);
            free(v[i].file);
            continue;
        }
        v[kept++] = v[i];
    }
    n = kept;
    msh_glyphs *g = calloc(1, sizeof *g);
    if (!g) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    g->fonts = v;
    g->n = n;
    v = NULL;
    n = 0;
    *out = g;
out:
    free_entries(v, n);
    if (set)
        FcFontSetDestroy(set);
    if (os)
        FcObjectSetDestroy(os);
    if (pat)
        FcPatternDestroy(pat);
    if (cfg)
        FcConfigDestroy(cfg);
    return rc;
}

size_t msh_glyphs_count(const msh_glyphs *g)
{
    return g->n;
}

const char *msh_glyphs_name(const msh_glyphs *g, size_t i)
{
    return i < g->n ? g->fonts[i].name : NULL;
}

static const font_entry *find(const msh_glyphs *g, const char *name)
{
    size_t lo = 0, hi = g->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, g->fonts[mid].name);
        if (!c)
            return &g->fonts[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *msh_glyphs_file(const msh_glyphs *g, const char *name)
{
    const font_entry *e = find(g, name);
    return e ? e->file : NULL;
}

/* ---- outlines to segments ---- */

typedef struct {
    double x0, y0, x1, y1;
} seg;

typedef struct {
    seg *s;
    size_t n, cap;
    double cx, cy; /* current point */
    double sx, sy; /* start of the open contour */
    bool open;
    bool oom;
} outline;

static void add_seg(outline *o, double x, double y)
{
    if (msh_grow_from((void **)&o->s, &o->cap, o->n + 1, sizeof *o->s, 256)) {
        o->oom = true;
        return;
    }
    if (x != o->cx || y != o->cy)
        o->s[o->n++] = (seg){o->cx, o->cy, x, y};
    o->cx = x;
    o->cy = y;
}

static void close_contour(outline *o)
{
    if (o->open)
        add_seg(o, o->sx, o->sy);
    o->open = false;
}

static int on_move(const FT_Vector *to, void *user)
{
    outline *o = user;
    close_contour(o);
    o->cx = o->sx = to->x / 64.0;
    o->cy = o->sy = to->y / 64.0;
    o->open = true;
    return 0;
}

static int on_line(const FT_Vector *to, void *user)
{
    add_seg(user, to->x / 64.0, to->y / 64.0);
    return 0;
}

/* Pieces for a curve whose control polygon bends by `dd` px: the chord error of n pieces is about dd / (8 n^2). */
static int pieces(double dd)
{
    int k = 1 + (int)sqrt(dd / (8.0 * FLATNESS));
    return k > 64 ? 64 : k;
}

static int on_conic(const FT_Vector *c, const FT_Vector *to, void *user)
{
    outline *o = user;
    double x0 = o->cx, y0 = o->cy, x1 = c->x / 64.0, y1 = c->y / 64.0, x2 = to->x / 64.0, y2 = to->y / 64.0;
    int k = pieces(2.0 * hypot(x0 - 2 * x1 + x2, y0 - 2 * y1 + y2));
    for (int i = 1; i <= k; i++) {
        double t = (double)i / k, u = 1 - t;
        add_seg(o, u * u * x0 + 2 * u * t * x1 + t * t * x2, u * u * y0 + 2 * u * t * y1 + t * t * y2);
    }
    return 0;
}

static int on_cubic(const FT_Vector *c1, const FT_Vector *c2, const FT_Vector *to, void *user)
{
    outline *o = user;
    double x0 = o->cx, y0 = o->cy, x1 = c1->x / 64.0, y1 = c1->y / 64.0, x2 = c2->x / 64.0, y2 = c2->y / 64.0,
           x3 = to->x / 64.0, y3 = to->y / 64.0;
    double d1 = hypot(x0 - 2 * x1 + x2, y0 - 2 * y1 + y2), d2 = hypot(x1 - 2 * x2 + x3, y1 - 2 * y2 + y3);
    int k = pieces(3.0 * (d1 > d2 ? d1 : d2));
    for (int i = 1; i <= k; i++) {
        double t = (double)i / k, u = 1 - t;
        double a = u * u * u, b = 3 * u * u * t, cc = 3 * u * t * t, d = t * t * t;
        add_seg(o, a * x0 + b * x1 + cc * x2 + d * x3, a * y0 + b * y1 + cc * y2 + d * y3);
    }
    return 0;
}

/* Nonzero winding number of the closed segments around (px, py). */
static int winding(const outline *o, double px, double py)
{
    int wn = 0;
    for (size_t i = 0; i < o->n; i++) {
        const seg *s = &o->s[i];
        double side = (s->x1 - s->x0) * (py - s->y0) - (px - s->x0) * (s->y1 - s->y0);
        if (s->y0 <= py) {
            if (s->y1 > py && side > 0)
                wn++;
        } else if (s->y1 <= py && side < 0) {
            wn--;
        }
    }
    return wn;
}

static double seg_dist2(const seg *s, double px, double py)
{
    double dx = s->x1 - s->x0, dy = s->y1 - s->y0;
    double l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? ((px - s->x0) * dx + (py - s->y0) * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double ex = s->x0 + t * dx - px, ey = s->y0 + t * dy - py;
    return ex * ex + ey * ey;
}

/* ---- one glyph ---- */

typedef struct {
    unsigned width, height; /* of the outline's box, whole px; the bitmap is (w+6) x (h+6) */
    int left, top;
    unsigned advance;
    uint8_t *bitmap; /* malloc'ed, NULL for an empty glyph */
} sdf_glyph;

static msh_rc render_glyph(FT_Face face, FT_UInt gi, int ascender, outline *o, sdf_glyph *out)
{
    memset(out, 0, sizeof *out);
    if (FT_Load_Glyph(face, gi, FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP))
        return MSH_OK; /* a glyph FreeType cannot load is left empty, as fontnik does */
    long adv = face->glyph->metrics.horiAdvance;
    out->advance = adv > 0 ? (unsigned)((adv + 32) / 64) : 0; /* rounded: joined Arabic forms keep no gaps */
    if (face->glyph->format != FT_GLYPH_FORMAT_OUTLINE)
        return MSH_OK;
    o->n = 0;
    o->open = false;
    o->oom = false;
    FT_Outline_Funcs fns = {on_move, on_line, on_conic, on_cubic, 0, 0};
    if (FT_Outline_Decompose(&face->glyph->outline, &fns, o))
        return MSH_OK;
    close_contour(o);
    if (o->oom)
        return MSH_ENOMEM;
    if (!o->n)
        return MSH_OK;
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < o->n; i++) {
        x0 = fmin(x0, o->s[i].x0);
        x1 = fmax(x1, o->s[i].x0);
        y0 = fmin(y0, o->s[i].y0);
        y1 = fmax(y1, o->s[i].y0);
    }
    double left = round(x0), bottom = round(y0), right = round(x1), top = round(y1);
    if (right - left <= 0 || top - bottom <= 0 || right - left > MAX_BITMAP_SIDE || top - bottom > MAX_BITMAP_SIDE)
        return MSH_OK;
    out->left = (int)left;
    out->top = (int)top - ascender;
    out->width = (unsigned)(right - left);
    out->height = (unsigned)(top - bottom);
    unsigned bw = out->width + 2 * MSH_GLYPH_BUFFER, bh = out->height + 2 * MSH_GLYPH_BUFFER;
    out->bitmap = malloc((size_t)bw * bh);
    if (!out->bitmap)
        return MSH_ENOMEM;
    double reach2 = REACH * REACH;
    for (unsigned y = 0; y < bh; y++) {
        /* row 0 is the top of the bitmap; outline y grows upwards */
        double py = bottom - MSH_GLYPH_BUFFER + (bh - 1 - y) + 0.5;
        for (unsigned x = 0; x < bw; x++) {
            double px = left - MSH_GLYPH_BUFFER + x + 0.5;
            double best = reach2;
            for (size_t i = 0; i < o->n; i++) {
                const seg *s = &o->s[i];
                /* a segment whose box is beyond reach cannot be nearer */
                double bx = px < fmin(s->x0, s->x1) ? fmin(s->x0, s->x1) - px : px > fmax(s->x0, s->x1) ? px - fmax(s->x0, s->x1) : 0;
                double by = py < fmin(s->y0, s->y1) ? fmin(s->y0, s->y1) - py : py > fmax(s->y0, s->y1) ? py - fmax(s->y0, s->y1) : 0;
                if (bx * bx + by * by >= best)
                    continue;
                double d2 = seg_dist2(s, px, py);
                if (d2 < best)
                    best = d2;
            }
            double d = sqrt(best);
            if (winding(o, px, py) != 0)
                d = -d;
            double v = 255.0 - (d * STEPS_PER_PX + CUTOFF);
            v = v < 0 ? 0 : v > 255 ? 255 : v;
            out->bitmap[(size_t)y * bw + x] = (uint8_t)lround(v);
        }
    }
    return MSH_OK;
}

/* ---- protobuf ---- */

static msh_rc put_key(msh_buf *b, unsigned field, unsigned wire)
{
    return msh_buf_varint(b, ((uint64_t)field << 3) | wire);
}

static msh_rc put_bytes(msh_buf *b, unsigned field, const void *p, size_t n)
{
    msh_rc rc = put_key(b, field, 2);
    if (!rc)
        rc = msh_buf_varint(b, n);
    if (!rc)
        rc = msh_buf_append(b, p, n);
    return rc;
}

static msh_rc put_uint(msh_buf *b, unsigned field, uint64_t v)
{
    msh_rc rc = put_key(b, field, 0);
    return rc ? rc : msh_buf_varint(b, v);
}

static msh_rc put_sint(msh_buf *b, unsigned field, int32_t v)
{
    return put_uint(b, field, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

static msh_rc encode_glyph(msh_buf *g, unsigned cp, const sdf_glyph *s)
{
    msh_rc rc = put_uint(g, 1, cp);
    if (!rc && s->bitmap)
        rc = put_bytes(g, 2, s->bitmap,
                       (size_t)(s->width + 2 * MSH_GLYPH_BUFFER) * (s->height + 2 * MSH_GLYPH_BUFFER));
    if (!rc)
        rc = put_uint(g, 3, s->width);
    if (!rc)
        rc = put_uint(g, 4, s->height);
    if (!rc)
        rc = put_sint(g, 5, s->left);
    if (!rc)
        rc = put_sint(g, 6, s->top);
    if (!rc)
        rc = put_uint(g, 7, s->advance);
    return rc;
}

/* ---- a range ---- */

#define MAX_FACES (MSH_GLYPH_MAX_STACK + 2)

static bool is_bold(const char *name)
{
    return strstr(name, "Bold") != NULL;
}

/* Add `e` to use[] unless it is NULL or already there. */
static void use_once(const font_entry **use, size_t *n, const font_entry *e)
{
    for (size_t i = 0; e && i < *n; i++)
        if (use[i] == e)
            return;
    if (e)
        use[(*n)++] = e;
}

/* The installed fonts of a stack, each once, in order (*nknown of them), then the fallbacks. */
static msh_rc resolve(const msh_glyphs *g, const char *const *names, size_t n, const font_entry **use, size_t *nuse,
                      size_t *nknown, msh_err *err)
{
    *nuse = 0;
    if (n < 1 || n > MSH_GLYPH_MAX_STACK)
        return msh_err_set(err, MSH_EINVAL, "a fontstack has 1 to %d font names", MSH_GLYPH_MAX_STACK);
    for (size_t i = 0; i < n; i++)
        use_once(use, nuse, find(g, names[i]));
    *nknown = *nuse;
    if (!*nuse)
        return msh_err_set(err, MSH_ENOTFOUND, "no installed font named '%s'%s (see /fonts.json)", names[0],
                           n > 1 ? " or any other name in the stack" : "");
    bool bold = is_bold(use[0]->name);
    use_once(use, nuse, find(g, bold ? "Noto Sans Arabic Bold" : "Noto Sans Arabic Regular"));
    use_once(use, nuse, find(g, bold ? "DejaVu Sans Bold" : "DejaVu Sans Book"));
    return MSH_OK;
}

msh_rc msh_glyphs_stack(const msh_glyphs *g, const char *const *names, size_t n, char *out, size_t cap, msh_err *err)
{
    const font_entry *use[MAX_FACES];
    size_t nuse, nknown, len = 0;
    msh_rc rc = resolve(g, names, n, use, &nuse, &nknown, err);
    if (rc)
        return rc;
    if (cap)
        out[0] = 0;
    for (size_t i = 0; i < nknown; i++) {
        int w = snprintf(out + len, cap - len, "%s%s", i ? "," : "", use[i]->name);
        if (w < 0 || (size_t)w >= cap - len)
            return msh_err_set(err, MSH_ETOOBIG, "fontstack name longer than %zu bytes", cap);
        len += (size_t)w;
    }
    return MSH_OK;
}

msh_rc msh_glyphs_range(const msh_glyphs *g, const char *const *names, size_t n, unsigned start, msh_buf *out,
                        msh_err *err)
{
    if (start % 256 || start > 65280)
        return msh_err_set(err, MSH_EINVAL, "a glyph range starts at a multiple of 256 up to 65280, not %u", start);
    const font_entry *use[MAX_FACES];
    size_t nuse, nknown;
    char joined[MSH_GLYPH_MAX_STACK * 256];
    msh_rc rc = resolve(g, names, n, use, &nuse, &nknown, err);
    if (!rc)
        rc = msh_glyphs_stack(g, names, n, joined, sizeof joined, err);
    if (rc)
        return rc;

    FT_Library lib = NULL;
    FT_Face faces[MAX_FACES] = {0};
    outline o = {0};
    msh_buf stack, one;
    msh_buf_init(&stack, RANGE_MAX_BYTES);
    msh_buf_init(&one, RANGE_MAX_BYTES);
    if (FT_Init_FreeType(&lib)) {
        lib = NULL;
        rc = msh_err_set(err, MSH_EINTERNAL, "FreeType could not start");
        goto out;
    }
    for (size_t i = 0; i < nuse; i++) {
        if (FT_New_Face(lib, use[i]->file, use[i]->index, &faces[i]) ||
            FT_Set_Char_Size(faces[i], 0, MSH_GLYPH_EM * 64, 72, 72)) {
            rc = msh_err_set(err, MSH_EIO, "cannot read font file %s", use[i]->file);
            goto out;
        }
    }
    int ascender = (int)(faces[0]->size->metrics.ascender / 64);

    char range[32];
    snprintf(range, sizeof range, "%u-%u", start, start + 255);
    rc = put_bytes(&stack, 1, joined, strlen(joined));
    if (!rc)
        rc = put_bytes(&stack, 2, range, strlen(range));
    for (unsigned cp = start; !rc && cp <= start + 255; cp++) {
        FT_Face face = NULL;
        FT_UInt gi = 0;
        for (size_t i = 0; i < nuse && !gi; i++)
            if ((gi = FT_Get_Char_Index(faces[i], cp)))
                face = faces[i];
        if (!gi)
            continue;
        sdf_glyph s;
        rc = render_glyph(face, gi, ascender, &o, &s);
        if (!rc) {
            msh_buf_reset(&one);
            rc = encode_glyph(&one, cp, &s);
        }
        free(s.bitmap);
        if (!rc)
            rc = put_bytes(&stack, 3, one.data, one.len);
    }
    if (!rc)
        rc = put_bytes(out, 1, stack.data, stack.len);
    if (rc) /* only the encoder fails in the loop: out of memory or over the cap */
        msh_err_set(err, rc, "glyph range %s of '%s' could not be made", range, joined);
out:
    free(o.s);
    msh_buf_free(&stack);
    msh_buf_free(&one);
    for (size_t i = 0; i < MAX_FACES; i++)
        if (faces[i])
            FT_Done_Face(faces[i]);
    if (lib)
        FT_Done_FreeType(lib);
    return rc;
}
