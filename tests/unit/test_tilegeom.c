/* test_tilegeom.c: clipping, simplification, snapping and ring orientation, on shapes whose answers are known. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tilegeom.h"

/* World coordinates of a point given in tile-0/0/0 grid units at zoom z=0, extent 4096. */
static msh_tile_xf xf0(void)
{
    msh_tile_xf xf;
    msh_tile_xf_init(&xf, 0, 0, 0);
    return xf;
}

static double ring_area(const int32_t *xy, uint32_t n)
{
    double a = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = (i + 1) % n;
        a += (double)xy[2 * i] * xy[2 * j + 1] - (double)xy[2 * j] * xy[2 * i + 1];
    }
    return a / 2;
}

int main(void)
{
    msh_tg_ctx *c = msh_tg_ctx_new();
    msh_tile_xf xf = xf0();
    const msh_tgeom *out;

    /* A square half outside the tile (right side): clipped to the buffer edge 4096+64. */
    double sq[] = {3000 / 4096.0, 1000 / 4096.0, 5000 / 4096.0, 1000 / 4096.0, 5000 / 4096.0, 2000 / 4096.0,
                   3000 / 4096.0, 2000 / 4096.0, 3000 / 4096.0, 1000 / 4096.0};
    uint32_t sq_parts[] = {5 | MSH_RING_OUTER};
    msh_geom g = {MSH_GT_POLYGON, 5, 1, sq, sq_parts};
    CHECK(msh_tilegeom_build(c, &g, &xf, &out) == MSH_OK);
    CHECK(out->type == MSH_GT_POLYGON);
    CHECK(msh_tgeom_nparts(out) == 1);
    uint32_t n = MSH_PART_LEN(msh_tgeom_parts(out)[0]);
    CHECK(n == 4);
    double a = ring_area(msh_tgeom_xy(out), n);
    CHECK_NEAR(a, (4160.0 - 3000.0) * 1000.0, 0.5); /* positive: outer ring clockwise in y-down */
    for (uint32_t i = 0; i < n; i++)
        CHECK(msh_tgeom_xy(out)[2 * i] <= 4160);

    /* A counter-clockwise input outer ring comes out clockwise; its hole comes out the other way. */
    double ccw[] = {100 / 4096.0, 100 / 4096.0, 100 / 4096.0, 900 / 4096.0, 900 / 4096.0, 900 / 4096.0,
                    900 / 4096.0, 100 / 4096.0, 100 / 4096.0, 100 / 4096.0,
                    /* hole, same direction as the outer ring */
                    300 / 4096.0, 300 / 4096.0, 300 / 4096.0, 500 / 4096.0, 500 / 4096.0, 500 / 4096.0,
                    500 / 4096.0, 300 / 4096.0, 300 / 4096.0, 300 / 4096.0};
    uint32_t ccw_parts[] = {5 | MSH_RING_OUTER, 5};
    msh_geom gh = {MSH_GT_POLYGON, 10, 2, ccw, ccw_parts};
    msh_tilegeom_build(c, &gh, &xf, &out);
    CHECK(msh_tgeom_nparts(out) == 2);
    const int32_t *xy = msh_tgeom_xy(out);
    CHECK_NEAR(ring_area(xy, 4), 800.0 * 800.0, 0.5);
    CHECK_NEAR(ring_area(xy + 8, 4), -200.0 * 200.0, 0.5);
    CHECK((msh_tgeom_parts(out)[0] & MSH_RING_OUTER) && !(msh_tgeom_parts(out)[1] & MSH_RING_OUTER));

    /* A polygon smaller than one grid cell collapses and is dropped, with its hole. */
    double tiny[] = {1.0 / 8192, 1.0 / 8192, 1.2 / 8192, 1.0 / 8192, 1.2 / 8192, 1.2 / 8192, 1.0 / 8192, 1.0 / 8192};
    uint32_t tiny_parts[] = {4 | MSH_RING_OUTER};
    msh_geom gt = {MSH_GT_POLYGON, 4, 1, tiny, tiny_parts};
    msh_tilegeom_build(c, &gt, &xf, &out);
    CHECK(out->type == MSH_GT_NONE);

    /* A polygon wholly outside the buffered tile gives nothing. */
    double far[] = {0.9, 0.9, 0.95, 0.9, 0.95, 0.95, 0.9, 0.9};
    msh_tile_xf xf1;
    msh_tile_xf_init(&xf1, 2, 0, 0);
    msh_geom gf = {MSH_GT_POLYGON, 4, 1, far, tiny_parts};
    msh_tilegeom_build(c, &gf, &xf1, &out);
    CHECK(out->type == MSH_GT_NONE);

    /* A line crossing the tile twice is cut into two parts at the buffer edge. */
    double zig[] = {-200 / 4096.0, 100 / 4096.0, 2000 / 4096.0, 100 / 4096.0, 2000 / 4096.0, -500 / 4096.0,
                    3000 / 4096.0, -500 / 4096.0, 3000 / 4096.0, 100 / 4096.0};
    uint32_t zig_parts[] = {5};
    msh_geom gz = {MSH_GT_LINE, 5, 1, zig, zig_parts};
    msh_tilegeom_build(c, &gz, &xf, &out);
    CHECK(out->type == MSH_GT_LINE);
    CHECK(msh_tgeom_nparts(out) == 2);
    xy = msh_tgeom_xy(out);
    CHECK(xy[0] == -64 && xy[1] == 100); /* starts at the left buffer edge */
    CHECK(xy[2] == 2000 && xy[3] == 100);
    CHECK(xy[4] == 2000 && xy[5] == -64);

    /* Douglas-Peucker: a nearly straight line of 100 points keeps its ends only. */
    double wiggle[200];
    for (int i = 0; i < 100; i++) {
        wiggle[2 * i] = (100 + i * 30) / 4096.0;
        wiggle[2 * i + 1] = (2000 + (i % 2) * 2) / 4096.0; /* 2 units of noise, tolerance 8 */
    }
    uint32_t w_parts[] = {100};
    msh_geom gw = {MSH_GT_LINE, 100, 1, wiggle, w_parts};
    msh_tilegeom_build(c, &gw, &xf, &out);
    CHECK(msh_tgeom_npts(out) == 2);
    xf.tolerance = 0;
    msh_tilegeom_build(c, &gw, &xf, &out);
    CHECK(msh_tgeom_npts(out) == 100);
    xf.tolerance = 8;

    /* Points: inside kept, outside the buffer dropped, snapped to the grid. */
    double pts[] = {10.4 / 4096.0, 20.6 / 4096.0, 5000 / 4096.0, 10 / 4096.0, -63 / 4096.0, 4159 / 4096.0};
    msh_geom gp = {MSH_GT_POINT, 3, 0, pts, NULL};
    msh_tilegeom_build(c, &gp, &xf, &out);
    CHECK(msh_tgeom_npts(out) == 2);
    xy = msh_tgeom_xy(out);
    CHECK(xy[0] == 10 && xy[1] == 21 && xy[2] == -63 && xy[3] == 4159);

    /* Zoom: the same square at z1 tile 0/0 is twice as large in grid units. */
    msh_tile_xf z1;
    msh_tile_xf_init(&z1, 1, 0, 0);
    double small_sq[] = {0.1, 0.1, 0.2, 0.1, 0.2, 0.2, 0.1, 0.2, 0.1, 0.1};
    msh_geom gs = {MSH_GT_POLYGON, 5, 1, small_sq, sq_parts};
    msh_tilegeom_build(c, &gs, &z1, &out);
    CHECK_NEAR(ring_area(msh_tgeom_xy(out), 4), (0.1 * 8192) * (0.1 * 8192), 4096.0);

    msh_tg_ctx_free(c);
    CHECK_DONE();
}
