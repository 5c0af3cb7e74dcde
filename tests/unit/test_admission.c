/* test_admission.c: the budget of expensive work (server/http/admission.h): admits while the
 * units and the slots fit, refuses at once (never waits) beyond them with a Retry-After hint
 * from the measured seconds per unit, clamps an estimate to the budget, counts per endpoint,
 * and the route table names a cost estimate for every endpoint whose work grows with its
 * parameters and none for the cheap ones. */
#include <string.h>

#include "check.h"
#include "http/admission.h"
#include "http/route_table.h"
#include "routes/route_costs.h"

static void gate(void)
{
    msh_admission a;
    msh_admission_init(&a, 200, 3);
    unsigned u, retry = 0;
    u = 100;
    CHECK(msh_admission_enter(&a, 1, &u, &retry) == MSH_ADMIT_OK && u == 100);
    u = 60;
    CHECK(msh_admission_enter(&a, 1, &u, &retry) == MSH_ADMIT_OK && u == 60);
    /* 160 of 200 in use: 50 more does not fit, 40 does */
    u = 50;
    CHECK(msh_admission_enter(&a, 2, &u, &retry) == MSH_ADMIT_BUDGET);
    CHECK(retry >= 1 && retry <= 60);
    u = 40;
    CHECK(msh_admission_enter(&a, 2, &u, &retry) == MSH_ADMIT_OK);
    /* three running: the slots are full for a request of MSH_ADMIT_SLOT_UNITS, not for a smaller one */
    msh_admission_leave(&a, 40, 0.4);
    msh_admission_leave(&a, 60, 0.6);
    u = MSH_ADMIT_SLOT_UNITS;
    CHECK(msh_admission_enter(&a, 3, &u, &retry) == MSH_ADMIT_OK);
    u = MSH_ADMIT_SLOT_UNITS;
    CHECK(msh_admission_enter(&a, 3, &u, &retry) == MSH_ADMIT_OK);
    u = MSH_ADMIT_SLOT_UNITS;
    CHECK(msh_admission_enter(&a, 3, &u, &retry) == MSH_ADMIT_SLOTS);
    u = 1;
    CHECK(msh_admission_enter(&a, 3, &u, &retry) == MSH_ADMIT_OK);
    msh_admission_leave(&a, 1, 0.01);
    msh_admission_leave(&a, MSH_ADMIT_SLOT_UNITS, 0.05);
    msh_admission_leave(&a, MSH_ADMIT_SLOT_UNITS, 0.05);
    /* 100 units running, measured at 10 ms a unit: come back in about a second */
    u = 150;
    CHECK(msh_admission_enter(&a, 2, &u, &retry) == MSH_ADMIT_BUDGET);
    CHECK(retry == 1);
    msh_admission_leave(&a, 100, 1.0);
    /* an estimate over the whole budget runs alone, as the whole budget */
    u = 5000;
    CHECK(msh_admission_enter(&a, 4, &u, &retry) == MSH_ADMIT_OK && u == 200);
    u = 1;
    CHECK(msh_admission_enter(&a, 4, &u, &retry) == MSH_ADMIT_BUDGET);
    msh_admission_leave(&a, 200, 2.0);
    msh_admission_stats st;
    msh_admission_stats_get(&a, &st);
    CHECK(st.units == 0 && st.running == 0);
    CHECK(st.admitted == 7 && st.refused_budget == 3 && st.refused_slots == 1);
    CHECK(st.by_label[1][MSH_ADMIT_OK] == 2 && st.by_label[2][MSH_ADMIT_BUDGET] == 2 && st.by_label[3][MSH_ADMIT_SLOTS] == 1);
    CHECK(st.by_label[3][MSH_ADMIT_OK] == 3);
    CHECK(st.units_done == 100 + 60 + 40 + 2 * MSH_ADMIT_SLOT_UNITS + 1 + 200);
    /* a 0-unit request is counted as one */
    u = 0;
    CHECK(msh_admission_enter(&a, 0, &u, &retry) == MSH_ADMIT_OK && u == 1);
    msh_admission_leave(&a, u, 0.01);
    msh_admission_destroy(&a);
}

static void table(void)
{
    static const struct {
        const char *path;
        int (*cost)(msh_req *);
    } rows[] = {
        {"/isochrone", msh_cost_isochrone}, {"/route", msh_cost_route}, {"/query/nearest", msh_cost_nearest},
        {"/ogc/collections/x/items", msh_cost_ogc}, {"/health", NULL}, {"/metrics", NULL},
        {"/tiles/a/1/2/3.mvt", NULL}, {"/catalog", NULL}, {"/query/at", NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        msh_route_match m = msh_route_find("GET", rows[i].path);
        CHECK(m.route && m.route->cost == rows[i].cost);
        if (!m.route || m.route->cost != rows[i].cost)
            fprintf(stderr, "  GET %s: wrong cost estimate\n", rows[i].path);
    }
}

int main(void)
{
    gate();
    table();
    CHECK_DONE();
}
