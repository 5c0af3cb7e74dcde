/* test_dots_lines.c: dots (layers/render/stamp.c) and thin lines (layers/render/lines.c) put the
 * coverage MapLibre's shaders give, at the right pixels, clipped at the image's edges. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lines.h"
#include "stamp.h"

#define W 96
#define H 64

static uint32_t img[W * H];

static void clear_white(void)
{
    for (int i = 0; i < W * H; i++) img[i] = 0xffffffffu;
}

/* the red channel of pixel x, y (premultiplied ARGB32 words) */
static int red(int x, int y)
{
    return (int)((img[y * W + x] >> 16) & 255);
}

static void draw_line(const double *pts, size_t n, double width, bool round, const double rgba[4])
{
    static msh_lines *l;
    if (!l) l = msh_lines_new();
    CHECK(l && msh_lines_begin(l, W, H));
    msh_lines_add(l, pts, n, width, round);
    msh_lines_draw(l, (uint8_t *)img, W * 4, rgba);
}

static void test_lines(void)
{
    const double black[4] = {0, 0, 0, 1};
    /* a 2 px horizontal line through pixel centres of row 20: coverage clamp(1 + 0.5 - d, 0, 1) */
    clear_white();
    double h[] = {10, 20.5, 80, 20.5};
    draw_line(h, 2, 2, false, black);
    CHECK(red(40, 20) == 0);                  /* d = 0: full */
    CHECK(abs(red(40, 21) - 128) <= 2);       /* d = 1: half (8 of 16 steps) */
    CHECK(abs(red(40, 19) - 128) <= 2);
    CHECK(red(40, 22) == 255 && red(40, 18) == 255); /* d = 2: nothing */
    /* butt ends stop at the end point: pixel 9 (centre 9.5) is before it, pixel 10 after */
    CHECK(red(9, 20) == 255 && red(10, 20) == 0);
    CHECK(red(80, 20) == 255 && red(79, 20) == 0);
    /* round caps continue the distance rule past the ends */
    clear_white();
    draw_line(h, 2, 2, true, black);
    CHECK(red(9, 20) == 0);                   /* 0.5 px before the end point: d = 0.5, full */
    CHECK(red(8, 20) == 255);                 /* d = 1.5: c = 1.5 - 1.5 = 0 */
    CHECK(red(9, 21) > 100 && red(9, 21) < 220); /* d = hypot(0.5, 1): c = 0.38, partly */
    /* a diagonal line: the pixel whose centre lies on it is full, one 1.5 px away half covered */
    clear_white();
    double d[] = {0.5, 0.5, 60.5, 60.5};
    draw_line(d, 2, 1, false, black);
    CHECK(red(30, 30) == 0);
    /* crossing lines of one paint unite (the largest coverage), they do not darken twice */
    const double half[4] = {0, 0, 0, 0.5};
    clear_white();
    double a[] = {10, 32.5, 80, 32.5}, b[] = {40.5, 5, 40.5, 60};
    static msh_lines *l2;
    if (!l2) l2 = msh_lines_new();
    CHECK(msh_lines_begin(l2, W, H));
    msh_lines_add(l2, a, 2, 2, false);
    msh_lines_add(l2, b, 2, 2, false);
    msh_lines_draw(l2, (uint8_t *)img, W * 4, half);
    CHECK(abs(red(40, 32) - 128) <= 2);       /* the crossing: once at alpha 0.5 */
    CHECK(abs(red(20, 32) - 128) <= 2 && abs(red(40, 10) - 128) <= 2);
    /* drawing cleared the coverage: drawing again without adding changes nothing */
    uint32_t before = img[32 * W + 40];
    msh_lines_draw(l2, (uint8_t *)img, W * 4, half);
    CHECK(img[32 * W + 40] == before);
    msh_lines_free(l2);
    /* lines across and outside the edges: clipped, nothing written outside (ASan watches) */
    clear_white();
    double e[] = {-50, -50, 200, 150, 300, -40, -1e7, 1e7};
    draw_line(e, 4, 4, true, black);
    double far[] = {-500, -500, -400, -300};
    draw_line(far, 2, 4, true, black);
    int dark = 0;
    for (int i = 0; i < W * H; i++) dark += ((img[i] >> 16) & 255) < 128;
    CHECK(dark > 100);
}

/* MapLibre's circle at a pixel centre, straight alpha of a dot with only a fill */
static double ml_alpha(double px, double py, double cx, double cy, double radius)
{
    double e = hypot(px - cx, py - cy) / radius, b = -1.0 / radius;
    double t = (e - 1) / b;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return t * t * (3 - 2 * t);
}

static void test_dots(void)
{
    msh_stamps *s = msh_stamps_new();
    CHECK(s != NULL);
    msh_dot_paint red_dot = {{1, 0, 0, 1}, 3, {0, 0, 0, 0}, 0, 0};
    msh_stamp *st = msh_stamps_get(s, &red_dot);
    CHECK(st != NULL);
    CHECK(msh_stamps_get(s, &red_dot) == st); /* cached by paint */
    /* every pixel as MapLibre's shader colours it (the centre on a quarter pixel) */
    clear_white();
    double cx = 20.25, cy = 30.5;
    msh_stamp_blit(st, (uint8_t *)img, W, H, W * 4, cx, cy);
    int worst = 0;
    for (int y = 20; y < 40; y++)
        for (int x = 10; x < 30; x++) {
            double a = ml_alpha(x + 0.5, y + 0.5, cx, cy, 3);
            int want_g = (int)lround(255 * (1 - a)); /* red over white: green falls with alpha */
            int got_g = (int)((img[y * W + x] >> 8) & 255);
            if (abs(got_g - want_g) > worst) worst = abs(got_g - want_g);
        }
    CHECK(worst <= 2);
    CHECK(red(20, 30) == 255 && ((img[30 * W + 20] >> 8) & 255) == 0); /* the centre: pure red */
    CHECK(img[30 * W + 25] == 0xffffffffu);                              /* 4.75 px away: untouched */
    /* a ring outside the radius, in its own colour */
    msh_dot_paint ringed = {{1, 1, 1, 1}, 4, {0, 0, 1, 1}, 2, 0};
    msh_stamp *rs = msh_stamps_get(s, &ringed);
    CHECK(rs != NULL && rs != st);
    clear_white();
    msh_stamp_blit(rs, (uint8_t *)img, W, H, W * 4, 50.5, 30.5);
    uint32_t ring_px = img[30 * W + 55]; /* 5 px from the centre: in the ring (4..6) */
    CHECK((ring_px & 0xff) == 255 && ((ring_px >> 16) & 255) < 40);
    CHECK(img[30 * W + 50] == 0xffffffffu); /* white fill over white */
    /* blur widens the fade: half way out is no longer fully opaque */
    msh_dot_paint blurred = red_dot;
    blurred.radius = 8;
    blurred.blur = 1;
    msh_stamp *bs = msh_stamps_get(s, &blurred);
    clear_white();
    msh_stamp_blit(bs, (uint8_t *)img, W, H, W * 4, 70.5, 30.5);
    int g_half = (int)((img[30 * W + 74] >> 8) & 255); /* 4 px = half the radius out */
    CHECK(g_half > 40 && g_half < 215);
    /* too large for a stamp: left to Cairo */
    msh_dot_paint big = {{1, 0, 0, 1}, MSH_STAMP_MAX_R + 1, {0, 0, 0, 0}, 0, 0};
    CHECK(msh_stamps_get(s, &big) == NULL);
    /* dots over the edges and far away: clipped (ASan watches the writes) */
    clear_white();
    msh_stamp_blit(st, (uint8_t *)img, W, H, W * 4, -1.5, -1.5);
    msh_stamp_blit(st, (uint8_t *)img, W, H, W * 4, W + 1.0, H + 1.0);
    msh_stamp_blit(st, (uint8_t *)img, W, H, W * 4, -1e9, 1e9);
    msh_stamp_blit(st, (uint8_t *)img, W, H, W * 4, NAN, 3);
    CHECK(red(0, 0) == 255 && ((img[0] >> 8) & 255) < 255);
    CHECK(((img[(H - 1) * W + W - 1] >> 8) & 255) < 255);
    /* more paints than the cache holds: old ones are replaced, each still right */
    for (int i = 0; i < 100; i++) {
        msh_dot_paint p = {{i / 100.0, 0, 0, 1}, 2, {0, 0, 0, 0}, 0, 0};
        CHECK(msh_stamps_get(s, &p) != NULL);
    }
    CHECK(msh_stamps_get(s, &red_dot) != NULL);
    msh_stamps_free(s);
}

int main(void)
{
    test_lines();
    test_dots();
    CHECK_DONE();
}
