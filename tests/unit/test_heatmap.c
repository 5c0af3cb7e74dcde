/* test_heatmap.c: layers/render/heatmap.c and png.c: kernel sums and mass, the Fruin ramp at its
 * thresholds, tile independence (2x2 tiles at z+1 = the @2x tile at z), the density grid from a
 * live state with k-anonymity, paths and parameters, and PNG round trips through zlib. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "core/msh_tilemath.h"
#include "heatmap.h"
#include "live/live.h"
#include "png.h"

/* ---- an independent PNG reader: chunks, CRCs, inflate, filters 0..4 ---- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Decode an 8-bit RGBA PNG into a new buffer (w * h * 4); NULL on any defect. */
/* An 8-bit RGBA (colour type 6) or RGB (type 2) PNG -> RGBA bytes (alpha 255 for RGB); *ctype says which. */
static uint8_t *png_read_t(const uint8_t *d, size_t n, uint32_t *w, uint32_t *h, int *ctype)
{
    static const uint8_t SIG[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n < 8 || memcmp(d, SIG, 8)) return NULL;
    uint8_t *z = NULL;
    size_t zn = 0, pos = 8;
    int ihdr = 0, iend = 0;
    while (pos + 12 <= n && !iend) {
        uint32_t len = be32(d + pos);
        if (pos + 12 + len > n) break;
        const uint8_t *type = d + pos + 4, *body = d + pos + 8;
        if ((uint32_t)crc32(0, type, len + 4) != be32(body + len)) break;
        if (!memcmp(type, "IHDR", 4)) {
            *w = be32(body);
            *h = be32(body + 4);
            *ctype = body[9];
            ihdr = len == 13 && body[8] == 8 && (body[9] == 6 || body[9] == 2) && body[12] == 0;
        } else if (!memcmp(type, "IDAT", 4)) {
            uint8_t *nz = realloc(z, zn + len + 1);
            if (!nz) break;
            z = nz;
            memcpy(z + zn, body, len);
            zn += len;
        } else if (!memcmp(type, "IEND", 4)) {
            iend = 1;
        }
        pos += 12 + len;
    }
    if (!ihdr || !iend || !z) {
        free(z);
        return NULL;
    }
    size_t bpp = *ctype == 2 ? 3 : 4, stride = (size_t)*w * bpp, rawn = (stride + 1) * *h;
    uint8_t *raw = malloc(rawn), *out = malloc((size_t)*w * 4 * *h);
    uLongf got = (uLongf)rawn;
    int ok = raw && out && uncompress(raw, &got, z, (uLong)zn) == Z_OK && got == rawn;
    free(z);
    for (uint32_t y = 0; ok && y < *h; y++) {
        uint8_t f = raw[y * (stride + 1)];
        const uint8_t *src = raw + y * (stride + 1) + 1;
        uint8_t *cur = out + y * stride, *up = y ? out + (y - 1) * stride : NULL;
        for (size_t i = 0; i < stride; i++) {
            int a = i >= bpp ? cur[i - bpp] : 0, b = up ? up[i] : 0, c = (up && i >= bpp) ? up[i - bpp] : 0;
            int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
            int pred = f == 0   ? 0
                       : f == 1 ? a
                       : f == 2 ? b
                       : f == 3 ? (a + b) / 2
                                : (pa <= pb && pa <= pc ? a
                                   : pb <= pc           ? b
                                                        : c);
            ok &= f <= 4;
            cur[i] = (uint8_t)(src[i] + pred);
        }
    }
    free(raw);
    if (!ok) {
        free(out);
        return NULL;
    }
    if (bpp == 3) /* widen in place from the end: RGB -> RGBA */
        for (size_t i = (size_t)*w * *h; i-- > 0;) {
            uint8_t r = out[3 * i], g = out[3 * i + 1], b = out[3 * i + 2];
            out[4 * i] = r, out[4 * i + 1] = g, out[4 * i + 2] = b, out[4 * i + 3] = 255;
        }
    return out;
}

static uint8_t *png_read(const uint8_t *d, size_t n, uint32_t *w, uint32_t *h)
{
    int ctype = 0;
    return png_read_t(d, n, w, h, &ctype);
}

static void test_png(void)
{
    uint32_t w = 97, h = 61;
    uint8_t *img = malloc((size_t)w * h * 4);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *p = img + ((size_t)y * w + x) * 4;
            p[0] = (uint8_t)(x * 7 + y);
            p[1] = (uint8_t)(y * 3);
            p[2] = (uint8_t)(x ^ y);
            p[3] = (uint8_t)(x < 10 ? 0 : 255 - y);
        }
    msh_png_enc *enc = msh_png_enc_new();
    for (int f = 0; f < 3; f++)
        for (int level = 0; level <= 9; level += 3) {
            msh_png_opts o;
            msh_png_opts_init(&o);
            o.filter = (msh_png_filter)f;
            o.level = level;
            msh_buf b;
            msh_buf_init(&b, 1 << 22);
            msh_buf_append(&b, "xyz", 3); /* appends after what is there */
            msh_err err;
            CHECK(msh_png_encode(f == 1 ? NULL : enc, img, w, h, (size_t)w * 4, &o, &b, &err) == MSH_OK);
            uint32_t rw = 0, rh = 0;
            uint8_t *back = png_read(b.data + 3, b.len - 3, &rw, &rh);
            CHECK(back && rw == w && rh == h && !memcmp(back, img, (size_t)w * h * 4));
            free(back);
            msh_buf_free(&b);
        }
    /* a stride longer than a row; Cairo's premultiplied native-endian words */
    uint32_t cw = 3, ch = 2;
    uint32_t cairo_px[2][4] = {{0xff102030u, 0x80402010u, 0x00000000u, 0xdeadbeefu},
                               {0x40404040u, 0xffffffffu, 0x01010101u, 0}};
    msh_png_opts o;
    msh_png_opts_init(&o);
    o.layout = MSH_PNG_CAIRO_ARGB32;
    msh_buf b;
    msh_buf_init(&b, 1 << 16);
    msh_err err;
    CHECK(msh_png_encode(enc, (const uint8_t *)cairo_px, cw, ch, 16, &o, &b, &err) == MSH_OK);
    uint32_t rw, rh;
    uint8_t *back = png_read(b.data, b.len, &rw, &rh);
    CHECK(back && rw == 3 && rh == 2);
    if (back) {
        static const uint8_t want[24] = {0x10, 0x20, 0x30, 0xff, 0x80, 0x40, 0x20, 0x80, 0,    0,    0,    0,
                                         0xff, 0xff, 0xff, 0x40, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
        CHECK(!memcmp(back, want, sizeof want));
    }
    free(back);
    /* an opaque image is written as RGB (colour type 2), in both layouts, with every filter */
    for (uint32_t i = 0; i < w * h; i++) img[4 * i + 3] = 255;
    for (int layout = 0; layout < 2; layout++)
        for (int f = 0; f < 3; f++) {
            msh_png_opts_init(&o);
            o.layout = (msh_png_layout)layout;
            o.filter = (msh_png_filter)f;
            msh_buf ob;
            msh_buf_init(&ob, 1 << 22);
            CHECK(msh_png_encode(enc, img, w, h, (size_t)w * 4, &o, &ob, &err) == MSH_OK);
            int ct = 0;
            uint8_t *got = png_read_t(ob.data, ob.len, &rw, &rh, &ct);
            CHECK(got && ct == 2 && rw == w && rh == h);
            for (uint32_t i = 0; got && i < w * h; i++) {
                /* Cairo words are native-endian ARGB: B, G, R, A in memory on little-endian */
                const uint8_t *s = img + 4 * i;
                uint32_t v;
                memcpy(&v, s, 4);
                uint8_t er = layout ? (uint8_t)(v >> 16) : s[0], eg = layout ? (uint8_t)(v >> 8) : s[1],
                        eb = layout ? (uint8_t)v : s[2];
                if (got[4 * i] != er || got[4 * i + 1] != eg || got[4 * i + 2] != eb || got[4 * i + 3] != 255) {
                    CHECK(!"opaque pixel differs");
                    break;
                }
            }
            free(got);
            msh_buf_free(&ob);
        }
    /* refusals leave the buffer as it was */
    size_t before = b.len;
    CHECK(msh_png_encode(enc, img, 0, 5, 0, NULL, &b, &err) == MSH_EINVAL && b.len == before);
    CHECK(msh_png_encode(enc, img, 5, 5, 19, NULL, &b, &err) == MSH_EINVAL && strstr(err.msg, "stride"));
    msh_buf small;
    msh_buf_init(&small, 100);
    CHECK(msh_png_encode(enc, img, w, h, (size_t)w * 4, NULL, &small, &err) == MSH_ETOOBIG && small.len == 0);
    msh_buf_free(&small);
    msh_buf_free(&b);
    msh_png_enc_free(enc);
    free(img);
}

static void test_ramps(void)
{
    const msh_heat_level *lv = msh_heat_levels();
    uint8_t c[4];
    /* the Fruin walkway thresholds of docs/HAJJ-FACTS.md, on both sides of each */
    static const struct {
        double d;
        char los;
    } T[] = {{0.001, 'A'}, {0.3099, 'A'}, {0.31, 'B'}, {0.4299, 'B'}, {0.43, 'C'},   {0.7199, 'C'},
             {0.72, 'D'},  {1.0799, 'D'}, {1.08, 'E'}, {2.15, 'E'},   {2.1501, 'F'}, {9.0, 'F'}};
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        msh_heat_density_colour(T[i].d, c);
        CHECK(!memcmp(c, lv[T[i].los - 'A'].rgba, 4));
        CHECK(lv[T[i].los - 'A'].los == T[i].los);
    }
    static const double EDGES[] = {0, 0.31, 0.43, 0.72, 1.08, 2.15};
    for (int i = 0; i < 6; i++) {
        CHECK(lv[i].lo == EDGES[i] && (i == 5 ? isinf(lv[i].hi) : lv[i].hi == EDGES[i + 1]));
        CHECK(lv[i].rgba[3] > 0 && lv[i].label_en && lv[i].label_ar);
        if (i) CHECK(lv[i].rgba[3] >= lv[i - 1].rgba[3]); /* denser reads stronger */
    }
    msh_heat_density_colour(0, c);
    CHECK(c[0] == 0 && c[3] == 0);
    msh_heat_density_colour(-1, c);
    CHECK(c[3] == 0);
    /* the kernel ramp: transparent at zero, never transparent above it, viridis' top at max */
    msh_heat_kde_colour(0, 5, c);
    CHECK(c[3] == 0);
    msh_heat_kde_colour(1e-9, 5, c);
    CHECK(c[3] == 1 && c[0] == 68 && c[1] == 1 && c[2] == 84);
    msh_heat_kde_colour(5, 5, c);
    CHECK(c[0] == 253 && c[1] == 231 && c[2] == 37 && c[3] == 230);
    msh_heat_kde_colour(50, 5, c);
    CHECK(c[0] == 253 && c[3] == 230);
    int last = 0;
    for (int k = 1; k <= 100; k++) {
        msh_heat_kde_colour(k / 100.0, 1, c);
        CHECK(c[3] >= last);
        last = c[3];
    }
}

/* Sum of a kernel tile and its peak. */
static double tile_sum(const float *s, int size, double *peak)
{
    double t = 0;
    *peak = 0;
    for (int i = 0; i < size * size; i++) {
        t += s[i];
        if (s[i] > *peak) *peak = s[i];
    }
    return t;
}

static void test_kernel(void)
{
    int z = 17, size = 256;
    double wx, wy;
    msh_lonlat_to_world(39.8728, 21.4214, &wx, &wy);
    uint32_t tx = (uint32_t)(wx * (1 << z)), ty = (uint32_t)(wy * (1 << z));
    double n = ldexp(1.0, z) * size;
    /* a point on the centre of pixel (100, 120) */
    msh_heat_point p = {(tx * 256.0 + 100.5) / n, (ty * 256.0 + 120.5) / n, 1};
    float *sum = malloc(sizeof(float) * size * size);
    uint8_t *rgba = malloc((size_t)size * size * 4);
    double lon, lat;
    msh_world_to_lonlat(p.wx, p.wy, &lon, &lat);
    double mpp = 1.0 / (msh_world_per_metre(lat) * n); /* metres per pixel */
    double r = 30;
    msh_heat_kde_render(&p, 1, z, tx, ty, size, r, 1, sum, rgba);
    double peak;
    double mass = tile_sum(sum, size, &peak) * mpp * mpp;
    CHECK_NEAR(peak, 1.0, 1e-6);
    CHECK_NEAR(sum[120 * size + 100], 1.0, 1e-6);
    CHECK_NEAR(mass, M_PI * r * r / 3, M_PI * r * r / 3 * 0.01); /* the quartic kernel's integral */
    /* extent: zero from the radius on, positive inside; symmetric */
    double rp = r / mpp;
    for (int d = 1; d < (int)rp + 3; d++) {
        float a = sum[120 * size + 100 + d], b = sum[120 * size + 100 - d], u = sum[(120 + d) * size + 100],
              v = sum[(120 - d) * size + 100];
        CHECK(a == b && a == u && a == v);
        if (d >= rp)
            CHECK(a == 0);
        else
            CHECK(a > 0 && fabs(a - pow(1 - (d / rp) * (d / rp), 2)) < 1e-5);
    }
    CHECK(rgba[(120 * size + 100) * 4 + 3] == 230 && rgba[(120 * size + 100 + (int)rp + 1) * 4 + 3] == 0);
    /* the work estimate counts the pixels the kernel box covers; nothing for a point far away */
    double work = msh_heat_kde_work(&p, 1, z, tx, ty, size, r);
    int nonzero = 0;
    for (int i = 0; i < size * size; i++)
        nonzero += sum[i] > 0;
    CHECK(work >= nonzero && work <= (2 * rp + 1) * (2 * rp + 1) && nonzero > 3 * rp * rp);
    msh_heat_point far = {p.wx + 0.01, p.wy, 1};
    CHECK(msh_heat_kde_work(&far, 1, z, tx, ty, size, r) == 0);
    /* weights add up */
    msh_heat_point two[2] = {{p.wx, p.wy, 2}, {p.wx, p.wy, 3}};
    msh_heat_kde_render(two, 2, z, tx, ty, size, r, 5, sum, rgba);
    CHECK_NEAR(sum[120 * size + 100], 5.0, 1e-5);
    /* widened below 2 px (z 10: about 140 m a pixel): the mass stays that of a 30 m kernel */
    int zl = 10;
    uint32_t lx = tx >> (z - zl), ly = ty >> (z - zl);
    msh_heat_kde_render(&p, 1, zl, lx, ly, size, r, 1, sum, rgba);
    double nl = ldexp(1.0, zl) * size, mppl = 1.0 / (msh_world_per_metre(lat) * nl);
    double ms;
    double re = msh_heat_kde_radius(p.wy, zl, size, r, &ms);
    CHECK_NEAR(re * nl, 2.0, 1e-9);
    CHECK_NEAR(ms, pow(r / mppl / 2.0, 2), 1e-9);
    mass = tile_sum(sum, size, &peak) * mppl * mppl;
    CHECK_NEAR(mass, M_PI * r * r / 3, M_PI * r * r / 3 * 0.2);
    CHECK(peak > 0);
    /* a point outside the tile, within the radius, reaches in; one beyond the query box does not matter */
    msh_heat_point out = {(tx * 256.0 + 256 + 10.5) / n, (ty * 256.0 + 50.5) / n, 1};
    msh_heat_kde_render(&out, 1, z, tx, ty, size, r, 1, sum, rgba);
    CHECK(sum[50 * size + 255] > 0);
    double box[4];
    msh_heat_kde_box(z, tx, ty, size, r, box);
    CHECK(out.wx < box[2] && box[2] - (tx + 1.0) / (1 << z) > r * msh_world_per_metre(lat) * 0.99);
    free(sum);
    free(rgba);
}

/* 2x2 tiles at z+1 (256 px) against the z tile at 512 px: the same pixel grid, so equal pixels. */
static void test_tile_independence(void)
{
    int z = 15;
    double wx, wy;
    msh_lonlat_to_world(39.8933, 21.4133, &wx, &wy);
    uint32_t x = (uint32_t)(wx * (1 << z)), y = (uint32_t)(wy * (1 << z));
    /* kernel: points scattered around the shared corner */
    msh_heat_point pts[40];
    double cx = (x + 0.5) / (1 << z), cy = (y + 0.5) / (1 << z);
    for (int i = 0; i < 40; i++) {
        double a = i * 2.399963, d = (i % 7) * 3e-7;
        pts[i] = (msh_heat_point){cx + d * cos(a), cy + d * sin(a), 1 + i % 3};
    }
    uint8_t *big = malloc(512 * 512 * 4), *small = malloc(256 * 256 * 4);
    float *sum = malloc(512 * 512 * sizeof(float));
    msh_heat_kde_render(pts, 40, z, x, y, 512, 40, 6, sum, big);
    int diff = 0, drawn = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            msh_heat_kde_render(pts, 40, z + 1, 2 * x + i, 2 * y + j, 256, 40, 6, sum, small);
            for (int py = 0; py < 256; py++)
                for (int px = 0; px < 256; px++) {
                    const uint8_t *a = small + (py * 256 + px) * 4,
                                  *b = big + ((j * 256 + py) * 512 + i * 256 + px) * 4;
                    diff += memcmp(a, b, 4) != 0;
                    drawn += a[3] != 0;
                }
        }
    CHECK(diff == 0);
    CHECK(drawn > 1000);
    /* density: cells straddling the corner, at z 16/17 where the base level is read at both zooms */
    z = 16;
    x = (uint32_t)(wx * (1 << z));
    y = (uint32_t)(wy * (1 << z));
    msh_err err;
    for (int mode = 0; mode < 2; mode++) {
        msh_heat_grid g;
        CHECK(msh_heat_grid_init(&g, z, x, y, &err) == MSH_OK);
        CHECK(g.level == 22 && g.nx == 64 + 2);
        int64_t c0x = ((int64_t)x * 2 + 1) * 32, c0y = ((int64_t)y * 2 + 1) * 32;
        for (int dx = -3; dx < 3; dx++)
            for (int dy = -3; dy < 3; dy++)
                msh_heat_grid_set(&g, c0x + dx, c0y + dy, (uint32_t)(10 + 50 * (dx + 3) + 7 * (dy + 3)));
        msh_heat_density_render(&g, z, x, y, 512, (msh_heat_mode)mode, big);
        diff = drawn = 0;
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) {
                msh_heat_grid gs;
                CHECK(msh_heat_grid_init(&gs, z + 1, 2 * x + i, 2 * y + j, &err) == MSH_OK);
                for (int dx = -3; dx < 3; dx++)
                    for (int dy = -3; dy < 3; dy++)
                        msh_heat_grid_set(&gs, c0x + dx, c0y + dy, (uint32_t)(10 + 50 * (dx + 3) + 7 * (dy + 3)));
                msh_heat_density_render(&gs, z + 1, 2 * x + i, 2 * y + j, 256, (msh_heat_mode)mode, small);
                for (int py = 0; py < 256; py++)
                    for (int px = 0; px < 256; px++) {
                        const uint8_t *a = small + (py * 256 + px) * 4,
                                      *b = big + ((j * 256 + py) * 512 + i * 256 + px) * 4;
                        diff += memcmp(a, b, 4) != 0;
                        drawn += a[3] != 0;
                    }
                msh_heat_grid_free(&gs);
            }
        CHECK(diff == 0);
        CHECK(drawn > 500);
        msh_heat_grid_free(&g);
    }
    free(big);
    free(small);
    free(sum);
}

static void test_density_from_live(void)
{
    msh_live_config cfg;
    msh_live_config_init(&cfg);
    msh_live *live;
    msh_err err;
    CHECK(msh_live_new(&cfg, &live, &err) == MSH_OK);
    /* 300 people in one base cell, 3 in another (under k = 5), 20 in a third */
    double wx, wy;
    msh_lonlat_to_world(39.8728, 21.4214, &wx, &wy);
    /* the 5th cell of its z18 tile in x and y: room for the others to the east and south */
    int64_t cx = ((int64_t)(wx * 4194304.0) & ~(int64_t)15) + 4, cy = ((int64_t)(wy * 4194304.0) & ~(int64_t)15) + 4;
    int64_t cells[3][3] = {{cx, cy, 300}, {cx + 5, cy, 3}, {cx, cy + 5, 20}};
    static msh_feed_rec recs[323];
    int k = 0;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < cells[c][2]; i++, k++) {
            memset(&recs[k], 0, sizeof recs[k]);
            recs[k].id_len = (uint8_t)snprintf(recs[k].id, sizeof recs[k].id, "P-%d", k);
            msh_world_to_lonlat((cells[c][0] + 0.2 + 0.6 * (i % 10) / 10) / 4194304.0,
                                (cells[c][1] + 0.2 + 0.6 * (i / 10 % 10) / 10) / 4194304.0, &recs[k].lon, &recs[k].lat);
            recs[k].t_ms = 1779782400000LL;
            recs[k].has = MSH_FR_LOC;
        }
    msh_live_wrlock(live);
    CHECK(msh_live_apply(live, MSH_FEED_POSITIONS, recs, (size_t)k, 1779782400000LL) == (size_t)k);
    msh_live_unlock(live);
    int z = 18;
    uint32_t tx = (uint32_t)(cx >> 4), ty = (uint32_t)(cy >> 4);
    msh_heat_grid g;
    CHECK(msh_heat_grid_init(&g, z, tx, ty, &err) == MSH_OK);
    CHECK(msh_heat_grid_fill(&g, live, 5, &err) == MSH_OK);
    float d = g.density[(size_t)(cy - g.oy) * g.nx + (size_t)(cx - g.ox)];
    double lon, lat;
    msh_world_to_lonlat((cx + 0.5) / 4194304.0, (cy + 0.5) / 4194304.0, &lon, &lat);
    double side = msh_live_cell_metres(22, lat);
    CHECK_NEAR(d, 300 / (side * side), 1e-4);
    CHECK(msh_fruin_los(d) == 'F');
    CHECK(g.density[(size_t)(cy - g.oy) * g.nx + (size_t)(cx + 5 - g.ox)] < 0); /* k-anonymity */
    CHECK(g.density[(size_t)(cy + 5 - g.oy) * g.nx + (size_t)(cx - g.ox)] > 0);
    uint8_t *rgba = malloc(256 * 256 * 4);
    msh_heat_density_render(&g, z, tx, ty, 256, MSH_HEAT_SMOOTH, rgba);
    const msh_heat_level *lv = msh_heat_levels();
    /* 16 px a base cell at z18: the centre pixels of each cell */
    int px0 = (int)(cx - ((int64_t)tx << 4)) * 16 + 8, py0 = (int)(cy - ((int64_t)ty << 4)) * 16 + 8;
    CHECK(!memcmp(rgba + ((size_t)py0 * 256 + px0) * 4, lv[5].rgba, 4));
    CHECK(rgba[((size_t)py0 * 256 + px0 + 80) * 4 + 3] == 0);
    CHECK(!memcmp(rgba + ((size_t)(py0 + 80) * 256 + px0) * 4, lv[0].rgba, 4));
    CHECK(rgba[3] == 0);
    /* with k = 1 the lone cell shows, at its own level */
    msh_heat_grid_free(&g);
    CHECK(msh_heat_grid_init(&g, z, tx, ty, &err) == MSH_OK);
    CHECK(msh_heat_grid_fill(&g, live, 1, &err) == MSH_OK);
    msh_heat_density_render(&g, z, tx, ty, 256, MSH_HEAT_CELLS, rgba);
    CHECK(!memcmp(rgba + ((size_t)py0 * 256 + px0 + 80) * 4, lv[0].rgba, 4));
    free(rgba);
    msh_heat_grid_free(&g);
    msh_live_free(live);
}

static void test_paths_and_params(void)
{
    msh_heat_path p;
    msh_err err;
    CHECK(msh_heat_path_parse("density/16/40000/28000.png", &p, &err) == MSH_OK && p.kind == MSH_HEAT_TILE &&
          !strcmp(p.layer, "density") && p.z == 16 && p.x == 40000 && p.y == 28000 && p.scale == 1);
    CHECK(msh_heat_path_parse("incidents/0/0/0@2x.png", &p, &err) == MSH_OK && p.scale == 2 && p.z == 0);
    CHECK(msh_heat_path_parse("density/legend", &p, &err) == MSH_OK && p.kind == MSH_HEAT_LEGEND_JSON);
    CHECK(msh_heat_path_parse("density/legend.png", &p, &err) == MSH_OK && p.kind == MSH_HEAT_LEGEND_PNG);
    const char *bad[] = {"",
                         "Density/1/0/0.png",
                         "density/1/2/0.png",
                         "density/25/0/0.png",
                         "density/01/0/0.png",
                         "density/1/0/0",
                         "density/1/0/0.png/",
                         "density/1/0/0@3x.png",
                         "density/legend.svg",
                         "a/1/0/-1.png",
                         "x/99999999999999999999/0/0.png",
                         "toolong_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/1/0/0.png"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(msh_heat_path_parse(bad[i], &p, &err) == MSH_EINVAL && err.msg[0]);

    msh_heat_params q;
    msh_heat_params_init(&q);
    CHECK(q.radius_m == MSH_HEAT_DEFAULT_RADIUS && q.max == MSH_HEAT_DEFAULT_MAX);
    CHECK(msh_heat_param(&q, false, "radius", "120.5", &err) == MSH_OK && q.radius_m == 120.5);
    CHECK(msh_heat_param(&q, false, "radius", "10", &err) == MSH_EINVAL && strstr(err.msg, "more than once"));
    CHECK(msh_heat_param(&q, false, "weight", "fill_level", &err) == MSH_OK && !strcmp(q.weight, "fill_level"));
    CHECK(msh_heat_param(&q, false, "filter", "kind='bin'", &err) == MSH_OK && q.filter_len == 10);
    CHECK(msh_heat_param(&q, false, "max", "0.5", &err) == MSH_OK && q.max == 0.5);
    char k1[200], k2[200];
    msh_heat_params_key(&q, false, k1, sizeof k1);
    q.filter = "kind='bim'";
    msh_heat_params_key(&q, false, k2, sizeof k2);
    CHECK(strcmp(k1, k2) != 0 && strstr(k1, "w=fill_level"));
    const char *bad_kv[][2] = {{"radius", "0"},   {"radius", "2000.1"}, {"radius", "nan"}, {"radius", "1e999"},
                               {"radius", ""},    {"radius", NULL},     {"radius", "5m"},  {"max", "0"},
                               {"max", "-2"},     {"weight", "a b"},    {"weight", ""},    {"filter", ""},
                               {"mode", "cells"}, {"RADIUS", "5"}};
    for (size_t i = 0; i < sizeof bad_kv / sizeof bad_kv[0]; i++) {
        msh_heat_params_init(&q);
        CHECK(msh_heat_param(&q, false, bad_kv[i][0], bad_kv[i][1], &err) == MSH_EINVAL && err.msg[0]);
    }
    msh_heat_params_init(&q);
    CHECK(msh_heat_param(&q, true, "mode", "cells", &err) == MSH_OK && q.mode == MSH_HEAT_CELLS);
    CHECK(msh_heat_param(&q, true, "f", "png", &err) == MSH_OK && q.png);
    CHECK(msh_heat_param(&q, true, "radius", "5", &err) == MSH_EINVAL && strstr(err.msg, "unknown parameter 'radius'"));
    CHECK(msh_heat_param(&q, true, "x\x01\"", "5", &err) == MSH_EINVAL && !strchr(err.msg, 1));
}

int main(void)
{
    test_png();
    test_ramps();
    test_kernel();
    test_tile_independence();
    test_density_from_live();
    test_paths_and_params();
    CHECK_DONE();
}
