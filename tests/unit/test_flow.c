/* test_flow.c: flow cells from movement cells (layers/live/flow.c), worked by hand:
 *   - 8 x 8 movement cells gather into one flow cell; its velocity is the people-weighted mean;
 *   - two moving cells heading 180 degrees apart make counter-flow, 90 degrees apart do not;
 *   - a standing cell (under MSH_FLOW_MIN_SPEED) has no say in counter-flow. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "live/flow.h"

static msh_live_cell cell(uint32_t cx, uint32_t cy, uint32_t count, double vx, double vy)
{
    msh_live_cell c = {22, cx, cy, count, count, vx, vy, 0};
    return c;
}

int main(void)
{
    msh_err err;
    msh_flow_cell *f;
    size_t n;
    /* flow cell (100, 50) at level 19: movement cells 800..807 x 400..407 */
    msh_live_cell in[] = {
        cell(800, 400, 10, 1.0, 0.0),  /* east at 1 m/s */
        cell(807, 407, 30, 0.0, 1.0),  /* north at 1 m/s: 90 degrees from the first, no counter-flow */
        cell(803, 404, 20, 0.0, 0.1),  /* standing */
        /* flow cell (101, 50): east and west at 0.8 m/s, head on */
        cell(808, 400, 6, 0.8, 0.0),
        cell(815, 401, 6, -0.8, 0.0),
        /* flow cell (102, 50): one moving east, one standing facing west: no counter-flow */
        cell(816, 400, 5, 1.0, 0.0),
        cell(817, 400, 5, -0.2, 0.0),
    };
    CHECK(msh_flow_gather(in, sizeof in / sizeof in[0], &f, &n, &err) == MSH_OK);
    CHECK(n == 3);
    if (n == 3) {
        CHECK(f[0].level == 19 && f[0].cx == 100 && f[0].cy == 50 && f[0].count == 60);
        CHECK_NEAR(f[0].vx, 10.0 / 60, 1e-12);
        CHECK_NEAR(f[0].vy, (30 + 20 * 0.1) / 60.0, 1e-12);
        CHECK(!f[0].counter);
        CHECK(f[1].cx == 101 && f[1].count == 12 && f[1].counter && f[1].axis == 90);
        CHECK_NEAR(f[1].vx, 0, 1e-12);
        CHECK(f[2].cx == 102 && !f[2].counter && isnan(f[2].axis));
    }
    free(f);
    CHECK(msh_flow_gather(in, 0, &f, &n, &err) == MSH_OK && n == 0 && f == NULL);
    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
