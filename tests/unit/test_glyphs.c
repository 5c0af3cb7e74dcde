/* test_glyphs.c: glyph ranges decoded with protoc-c from MapLibre's schema and checked against FreeType itself. */
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_BBOX_H
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "glyphs.h"
#include "glyphs.pb-c.h"

static msh_glyphs *G;

/* Render and decode one range; NULL (and a failed check) on error. */
static MapboxGlyphs__Glyphs *range(const char *stack, unsigned start)
{
    const char *names[MSH_GLYPH_MAX_STACK];
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", stack);
    size_t n = 0;
    for (char *p = copy, *comma; n < MSH_GLYPH_MAX_STACK; p = comma + 1) {
        names[n++] = p;
        if (!(comma = strchr(p, ',')))
            break;
        *comma = 0;
    }
    msh_buf b;
    msh_buf_init(&b, (size_t)64 << 20);
    msh_err err = {0};
    msh_rc rc = msh_glyphs_range(G, names, n, start, &b, &err);
    CHECK(rc == MSH_OK);
    if (rc) {
        fprintf(stderr, "  %s %u: %s\n", stack, start, err.msg);
        msh_buf_free(&b);
        return NULL;
    }
    MapboxGlyphs__Glyphs *g = mapbox_glyphs__glyphs__unpack(NULL, b.len, b.data);
    msh_buf_free(&b);
    CHECK(g != NULL);
    if (g) {
        CHECK(g->n_stacks == 1);
        char want[32];
        snprintf(want, sizeof want, "%u-%u", start, start + 255);
        CHECK(g->n_stacks == 1 && !strcmp(g->stacks[0]->range, want));
        char drawn[1024];
        CHECK(msh_glyphs_stack(G, names, n, drawn, sizeof drawn, NULL) == MSH_OK);
        CHECK(g->n_stacks == 1 && !strcmp(g->stacks[0]->name, drawn));
    }
    return g;
}

static const MapboxGlyphs__Glyph *glyph(const MapboxGlyphs__Glyphs *g, unsigned cp)
{
    for (size_t i = 0; g && g->n_stacks && i < g->stacks[0]->n_glyphs; i++)
        if (g->stacks[0]->glyphs[i]->id == cp)
            return g->stacks[0]->glyphs[i];
    return NULL;
}

static FT_Library LIB;

static FT_Face face_of(const char *name)
{
    const char *file = msh_glyphs_file(G, name);
    CHECK(file != NULL);
    FT_Face f = NULL;
    if (!file || FT_New_Face(LIB, file, 0, &f) || FT_Set_Char_Size(f, 0, 24 * 64, 72, 72)) {
        fprintf(stderr, "  font '%s' not installed (scripts/setup.sh installs fonts-noto-core and fonts-dejavu-core)\n", name);
        return NULL;
    }
    return f;
}

/*
 * The SDF against FreeType's own anti-aliased raster of the same unhinted outline: a pixel fully
 * covered (255) has its centre at least half a pixel inside the outline, so its SDF value must be
 * above the edge; an uncovered pixel (0) must be below it. Both rasters sit on the same integer
 * grid, so pixel (X, Y) of the outline maps to both exactly. Returns how many pixels were compared.
 */
static int check_sdf_against_raster(const MapboxGlyphs__Glyph *gl, FT_Face face, unsigned cp, const char *what)
{
    FT_UInt gi = FT_Get_Char_Index(face, cp);
    CHECK(gi != 0);
    if (!gi || FT_Load_Glyph(face, gi, FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP) ||
        FT_Render_Glyph(face->glyph, FT_RENDER_MODE_NORMAL))
        return 0;
    const FT_Bitmap *bm = &face->glyph->bitmap;
    int bl = face->glyph->bitmap_left, bt = face->glyph->bitmap_top;
    int ascender = (int)(face->size->metrics.ascender / 64);
    /* the SDF's top-left pixel covers outline x = left - 3, y from (top + ascender + 3) downwards */
    int sx0 = gl->left - MSH_GLYPH_BUFFER, sytop = gl->top + ascender + MSH_GLYPH_BUFFER;
    int bw = (int)gl->width + 2 * MSH_GLYPH_BUFFER, bh = (int)gl->height + 2 * MSH_GLYPH_BUFFER;
    int compared = 0, wrong = 0;
    for (int y = 0; y < bh; y++) {
        for (int x = 0; x < bw; x++) {
            int ox = sx0 + x, oy = sytop - y; /* outline pixel [ox, ox+1] x [oy-1, oy] */
            int fx = ox - bl, fy = bt - oy;
            int cov = (fx >= 0 && fy >= 0 && fx < (int)bm->width && fy < (int)bm->rows) ? bm->buffer[fy * bm->pitch + fx] : 0;
            int v = gl->bitmap.data[y * bw + x];
            if (cov == 255) {
                compared++;
                wrong += v <= MSH_GLYPH_EDGE;
            } else if (cov == 0) {
                compared++;
                wrong += v >= MSH_GLYPH_EDGE;
            }
        }
    }
    CHECK(wrong == 0);
    if (wrong)
        fprintf(stderr, "  %s: %d of %d pixels on the wrong side of the edge\n", what, wrong, compared);
    return compared;
}

static void check_glyph_shape(const MapboxGlyphs__Glyph *gl, FT_Face face, unsigned cp, const char *what)
{
    CHECK(gl != NULL);
    if (!gl || !face)
        return;
    CHECK(gl->width > 0 && gl->height > 0 && gl->has_bitmap);
    CHECK(gl->bitmap.len == (size_t)(gl->width + 6) * (gl->height + 6));
    if (!gl->has_bitmap || gl->bitmap.len != (size_t)(gl->width + 6) * (gl->height + 6))
        return;
    /* the advance is FreeType's unhinted advance, rounded to whole pixels */
    FT_Load_Glyph(face, FT_Get_Char_Index(face, cp), FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP);
    CHECK(gl->advance == (uint32_t)((face->glyph->metrics.horiAdvance + 32) / 64));
    CHECK(gl->advance > 0 && gl->advance < 40);
    /* inside and outside: bytes above the edge exist, and the outer ring of the buffer is outside */
    int above = 0;
    unsigned bw = gl->width + 6, bh = gl->height + 6;
    for (size_t i = 0; i < gl->bitmap.len; i++)
        above += gl->bitmap.data[i] > MSH_GLYPH_EDGE;
    CHECK(above > 0);
    int ring_inside = 0;
    for (unsigned x = 0; x < bw; x++)
        ring_inside += gl->bitmap.data[x] >= MSH_GLYPH_EDGE || gl->bitmap.data[(bh - 1) * bw + x] >= MSH_GLYPH_EDGE;
    for (unsigned y = 0; y < bh; y++)
        ring_inside += gl->bitmap.data[y * bw] >= MSH_GLYPH_EDGE || gl->bitmap.data[y * bw + bw - 1] >= MSH_GLYPH_EDGE;
    CHECK(ring_inside == 0);
    int n = check_sdf_against_raster(gl, face, cp, what);
    CHECK(n > 20);
    printf("  %s: %ux%u left %d top %d advance %u, %d pixels match FreeType's raster\n", what, gl->width,
           gl->height, gl->left, gl->top, gl->advance, n);
}

typedef struct {
    uint8_t *data;
    size_t len;
} bytes;

static void *render_thread(void *arg)
{
    bytes *out = arg;
    const char *names[] = {"Noto Sans Arabic Regular"};
    msh_buf b;
    msh_buf_init(&b, (size_t)64 << 20);
    if (msh_glyphs_range(G, names, 1, 65024, &b, NULL) == MSH_OK)
        out->data = msh_buf_steal(&b, &out->len);
    msh_buf_free(&b);
    return NULL;
}

int main(void)
{
    msh_err err = {0};
    CHECK(msh_glyphs_open(&G, &err) == MSH_OK);
    if (!G) {
        fprintf(stderr, "fonts: %s\n", err.msg);
        return 1;
    }
    CHECK(FT_Init_FreeType(&LIB) == 0);
    printf("%zu font names installed\n", msh_glyphs_count(G));
    CHECK(msh_glyphs_count(G) >= 4);
    for (size_t i = 1; i < msh_glyphs_count(G); i++)
        CHECK(strcmp(msh_glyphs_name(G, i - 1), msh_glyphs_name(G, i)) < 0);
    FT_Face dejavu = face_of("DejaVu Sans Book"), arabic = face_of("Noto Sans Arabic Regular"),
            noto = face_of("Noto Sans Regular");

    /* Latin: 'A' of DejaVu Sans, and its top measured from DejaVu's own ascender */
    MapboxGlyphs__Glyphs *latin = range("DejaVu Sans Book", 0);
    const MapboxGlyphs__Glyph *a = glyph(latin, 'A');
    check_glyph_shape(a, dejavu, 'A', "DejaVu Sans 'A'");
    if (a && dejavu) {
        FT_Load_Glyph(dejavu, FT_Get_Char_Index(dejavu, 'A'), FT_LOAD_NO_HINTING);
        FT_BBox bb;
        FT_Outline_Get_BBox(&dejavu->glyph->outline, &bb);
        CHECK(a->top == (int)lround(bb.yMax / 64.0) - (int)(dejavu->size->metrics.ascender / 64));
        CHECK(a->height == (uint32_t)lround(bb.yMax / 64.0) - (uint32_t)lround(bb.yMin / 64.0));
    }
    const MapboxGlyphs__Glyph *space = glyph(latin, ' ');
    CHECK(space && !space->has_bitmap && space->width == 0 && space->advance > 3 && space->advance < 12);
    CHECK(glyph(latin, 0x1F) == NULL); /* a control character no font draws is left out */

    /* Arabic: alef from Noto Sans Arabic */
    MapboxGlyphs__Glyphs *ar = range("Noto Sans Arabic Regular", 1536);
    check_glyph_shape(glyph(ar, 0x0627), arabic, 0x0627, "Noto Sans Arabic alef U+0627");
    check_glyph_shape(glyph(ar, 0x0645), arabic, 0x0645, "Noto Sans Arabic meem U+0645");

    /* the presentation forms the RTL plugin shapes to: every one the font has is in the ranges */
    int want = 0, have = 0;
    for (unsigned start = 64256; start <= 65024; start += 256) {
        MapboxGlyphs__Glyphs *pf = range("Noto Sans Arabic Regular", start);
        for (unsigned cp = start; cp < start + 256; cp++) {
            bool in_pf = (cp >= 0xFB50 && cp <= 0xFDFF) || (cp >= 0xFE70 && cp <= 0xFEFF);
            if (!in_pf || !arabic || !FT_Get_Char_Index(arabic, cp))
                continue;
            want++;
            const MapboxGlyphs__Glyph *gl = glyph(pf, cp);
            have += gl != NULL;
            if (!gl)
                fprintf(stderr, "  U+%04X missing\n", cp);
        }
        if (start == 65024)
            check_glyph_shape(glyph(pf, 0xFEE3), arabic, 0xFEE3, "meem initial form U+FEE3");
        mapbox_glyphs__glyphs__free_unpacked(pf, NULL);
    }
    printf("  presentation forms: %d of the %d Noto Sans Arabic has\n", have, want);
    CHECK(want > 500 && have == want);

    /* a code point the first font lacks comes from the next font, then from the fallbacks */
    MapboxGlyphs__Glyphs *mixed = range("Noto Sans Regular", 1536);
    const MapboxGlyphs__Glyph *alef = glyph(mixed, 0x0627);
    CHECK(noto && FT_Get_Char_Index(noto, 0x0627) == 0); /* Noto Sans has no Arabic ... */
    CHECK(alef != NULL);                                 /* ... so alef comes from Noto Sans Arabic */
    if (alef && arabic) {
        FT_Load_Glyph(arabic, FT_Get_Char_Index(arabic, 0x0627), FT_LOAD_NO_HINTING);
        CHECK(alef->advance == (uint32_t)((arabic->glyph->metrics.horiAdvance + 32) / 64));
        /* measured from Noto Sans's ascender (the stack's first font): one baseline for the line */
        const MapboxGlyphs__Glyph *own = glyph(ar, 0x0627);
        CHECK(own && alef->top - own->top == (int)(arabic->size->metrics.ascender / 64) -
                                                 (int)(noto->size->metrics.ascender / 64));
    }
    if (arabic && !FT_Get_Char_Index(arabic, 'Q')) {
        MapboxGlyphs__Glyphs *q = range("Noto Sans Arabic Regular", 0);
        const MapboxGlyphs__Glyph *gq = glyph(q, 'Q');
        CHECK(gq != NULL); /* from DejaVu Sans, the last fallback */
        if (gq && dejavu) {
            FT_Load_Glyph(dejavu, FT_Get_Char_Index(dejavu, 'Q'), FT_LOAD_NO_HINTING);
            CHECK(gq->advance == (uint32_t)((dejavu->glyph->metrics.horiAdvance + 32) / 64));
        }
        mapbox_glyphs__glyphs__free_unpacked(q, NULL);
    }

    /* unknown names: skipped in a stack, an error alone; repeats dropped */
    char drawn[256];
    const char *mixed_names[] = {"No Such Font", "DejaVu Sans Book", "Nope", "DejaVu Sans Book", "DejaVu Sans Bold"};
    CHECK(msh_glyphs_stack(G, mixed_names, 5, drawn, sizeof drawn, NULL) == MSH_OK &&
          !strcmp(drawn, "DejaVu Sans Book,DejaVu Sans Bold"));
    CHECK(msh_glyphs_stack(G, mixed_names, 1, drawn, sizeof drawn, NULL) == MSH_ENOTFOUND);
    CHECK(msh_glyphs_stack(G, mixed_names, 5, drawn, 10, NULL) == MSH_ETOOBIG);
    MapboxGlyphs__Glyphs *part = range("No Such Font,DejaVu Sans Book", 0);
    CHECK(glyph(part, 'A') && a && glyph(part, 'A')->advance == a->advance);
    const char *nope[] = {"No Such Font"};
    msh_buf b;
    msh_buf_init(&b, 1 << 20);
    CHECK(msh_glyphs_range(G, nope, 1, 0, &b, &err) == MSH_ENOTFOUND && strstr(err.msg, "No Such Font"));
    const char *dv[] = {"DejaVu Sans Book"};
    CHECK(msh_glyphs_range(G, dv, 1, 1, &b, &err) == MSH_EINVAL);
    CHECK(msh_glyphs_range(G, dv, 1, 65536, &b, &err) == MSH_EINVAL);
    CHECK(msh_glyphs_range(G, dv, 0, 0, &b, &err) == MSH_EINVAL);
    CHECK(b.len == 0);
    msh_buf_free(&b);

    /* any number of threads at once, each the same bytes */
    pthread_t th[4];
    bytes out[4] = {{0}};
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, render_thread, &out[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        CHECK(out[i].data && out[0].data && out[i].len == out[0].len && !memcmp(out[i].data, out[0].data, out[0].len));
    for (int i = 0; i < 4; i++)
        free(out[i].data);

    mapbox_glyphs__glyphs__free_unpacked(latin, NULL);
    mapbox_glyphs__glyphs__free_unpacked(ar, NULL);
    mapbox_glyphs__glyphs__free_unpacked(mixed, NULL);
    mapbox_glyphs__glyphs__free_unpacked(part, NULL);
    if (dejavu)
        FT_Done_Face(dejavu);
    if (arabic)
        FT_Done_Face(arabic);
    if (noto)
        FT_Done_Face(noto);
    FT_Done_FreeType(LIB);
    msh_glyphs_close(G);
    CHECK_DONE();
}
