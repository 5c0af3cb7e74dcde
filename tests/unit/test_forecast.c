/* test_forecast.c: the crowd forecast models (layers/forecast/) against hand-worked cases:
 * - a uniform flow arrives where and when its speed says (its centre of mass moves speed x time);
 * - a queue behind a bottleneck grows at inflow minus capacity (conservation: what enters
 *   upstream stays there until it passes the bottleneck, which passes capacity = Weidmann's
 *   largest specific flow x its width);
 * - a closed edge stops a flow (nobody beyond it, nobody lost);
 * - a closed gate that reopens at T: nobody passes before T, then the queue at the capacity;
 * - a queue observed standing in front of a bottleneck leaves through it at its capacity;
 * - people leave at a walkway end, and keep coming in at one at the flow observed there;
 * - a wide street's people are drawn over the cells its width covers;
 * - the network's set-up is kept between runs and rebuilt when an edge closes or opens;
 * - people never cross where there is no walkway (advection does, the model does not);
 * - people walking on open ground (on no walkway) go straight on at their speed, join a walkway they
 *   come onto heading along it, and cross one they come onto heading across it; they are drawn
 *   spread along their heading over +-10 % of the distance walked;
 * - planned groups walk to their destination and leave there; a planned return turns the crowd on its
 *   way back at its time, and it arrives where and when its speed says;
 * - a planned group seen waiting in its camp sets out with the people seen there (the total kept, not
 *   doubled; the moving people there stay); a group with a stay stands at its destination that long;
 * - the schedule file's two forms and its refusals; the analytic p_e / p_f. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "forecast/ctm.h"
#include "forecast/fc_alerts.h"
#include "forecast/grid.h"
#include "forecast/schedule.h"

/* the model's default parameters, and the last error (main sets p) */
static msh_fc_params p;
static msh_err err;

#define LAT 21.42
#define LON0 39.87

static double lon_at(double x_m) { return LON0 + x_m / (111320.0 * cos(LAT * M_PI / 180)); }
static double x_of(double lon) { return (lon - LON0) * (111320.0 * cos(LAT * M_PI / 180)); }

/* A graph of straight east-west lines at latitude lat_off metres north of LAT: [x0, x1] metres each. */
static msh_graph *corridor(const double *x, int nlines, double north_m)
{
    double ll[64];
    uint32_t np[16];
    double lat = LAT + north_m / 110574.0;
    for (int i = 0; i < nlines; i++) {
        ll[4 * i] = lon_at(x[2 * i]);
        ll[4 * i + 1] = lat;
        ll[4 * i + 2] = lon_at(x[2 * i + 1]);
        ll[4 * i + 3] = lat;
        np[i] = 2;
    }
    msh_graph *g = NULL;
    CHECK(msh_graph_build_lonlat(ll, np, NULL, (size_t)nlines, &g, &err) == MSH_OK);
    return g;
}

/* Per-edge widths from per-line widths (edge fids are line index + 1). */
static float *widths(const msh_graph *g, const float *per_line)
{
    uint32_t ne = msh_graph_edge_count(g);
    float *w = malloc(ne * sizeof *w);
    for (uint32_t e = 0; e < ne; e++)
        w[e] = per_line[msh_graph_edge_fid(g, e) - 1];
    return w;
}

/* People spread over the cells from x0 to x1 metres (north_m north of LAT), `per` a cell, moving vx, vy. */
static size_t fill(msh_fc_cell *c, size_t n, double x0, double x1, double north_m, float per, float vx, float vy)
{
    double lat = LAT + north_m / 110574.0;
    uint32_t last = UINT32_MAX;
    for (double x = x0; x <= x1; x += 1.0) {
        uint32_t cx, cy;
        msh_fc_cell_at(lon_at(x), lat, &cx, &cy);
        if (cx == last)
            continue;
        last = cx;
        c[n++] = (msh_fc_cell){cx, cy, per, vx, vy, 0};
    }
    return n;
}

/* The model over `in` with the default parameters: true when it ran. */
static bool run(const msh_fc_input *in, msh_fc_grid *o, msh_fc_stats *st)
{
    return msh_fc_ctm(in, &p, o, st, &err) == MSH_OK;
}

typedef struct sums {
    double people, x_mass, north_max;
} sums;

/* People of a grid with x in [x0, x1) metres, and their centre's x. */
static sums in_x(const msh_fc_grid *g, double x0, double x1)
{
    sums s = {0, 0, 0};
    for (size_t i = 0; i < g->n; i++) {
        double lon, lat;
        msh_fc_cell_centre(g->cells[i].cx, g->cells[i].cy, &lon, &lat);
        double x = x_of(lon);
        if (x < x0 || x >= x1)
            continue;
        s.people += g->cells[i].count;
        s.x_mass += g->cells[i].count * x;
        s.north_max = fmax(s.north_max, (lat - LAT) * 110574.0);
    }
    return s;
}

static void free_grids(msh_fc_grid *o)
{
    for (int i = 0; i < MSH_FC_NH; i++)
        msh_fc_grid_free(&o[i]);
}

static void test_uniform_flow(void)
{
    /* the walkway starts 200 m behind the crowd: nobody is seen coming in at its end */
    double x[] = {-200, 2000};
    msh_graph *g = corridor(x, 1, 0);
    msh_fc_cell cells[64];
    size_t n = fill(cells, 0, 0, 100, 0, 5, 1.0f, 0);
    double v = p.free_speed; /* 5 people a cell on 4 m: 0.14 persons/m2, Weidmann's free speed */
    msh_fc_input in = {.g = g, .cells = cells, .ncells = n, .issued_ms = 0};
    msh_fc_grid o[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(run(&in, o, &st));
    CHECK(st.mapped_cells == n && st.unmapped_cells == 0);
    CHECK_NEAR(st.people_end + st.arrived, st.people_start, 1e-3); /* nobody lost: on it, or gone at its end */
    sums s0 = in_x(&o[0], -50, 3000);
    CHECK_NEAR(s0.people, 5.0 * n, 1e-3);
    double c0 = s0.x_mass / s0.people;
    /* 5, 10 and 20 minutes at the diagram's speed (the observed 1 m/s gives the direction only):
     * 402, 804, 1608 m further, everyone still there */
    int hs[] = {1, 2, 4};
    for (int k = 0; k < 3; k++) {
        sums s = in_x(&o[hs[k]], -250, 3000);
        CHECK_NEAR(s.people, 5.0 * n, 0.1); /* cells under 0.01 people are not drawn */
        double d = v * msh_fc_minutes[hs[k]] * 60.0;
        CHECK_NEAR(s.x_mass / s.people - c0, d, 0.03 * d);
    }
    /* persistence: where they were; advection on a straight walkway: the same arrival as the model */
    msh_fc_grid b[MSH_FC_NH];
    CHECK(msh_fc_persistence(&in, b, &err) == MSH_OK);
    sums sp = in_x(&b[2], -50, 3000);
    CHECK_NEAR(sp.x_mass / sp.people, c0, 1e-6);
    free_grids(b);
    CHECK(msh_fc_advection(&in, &p, b, &err) == MSH_OK);
    sums sa = in_x(&b[2], -50, 3000);
    CHECK_NEAR(sa.x_mass / sa.people - c0, 600, 10);
    free_grids(b);
    free_grids(o);
    msh_graph_release(g);
}

static void test_bottleneck_queue(void)
{
    /* 10 m wide, then 1 m wide for 50 m, then 10 m wide (long enough that nobody reaches its end
     * in 20 minutes); a gate at the west end lets in 3 persons/s */
    double x[] = {0, 300, 300, 350, 350, 2700};
    float wl[] = {10, 1, 10};
    msh_graph *g = corridor(x, 3, 0);
    float *w = widths(g, wl);
    msh_fc_source gate = {.lon = lon_at(0), .lat = LAT, .rate = 3.0, .from_ms = INT64_MIN, .to_ms = INT64_MAX};
    msh_fc_input in = {.g = g, .width_m = w, .src = &gate, .nsrc = 1, .issued_ms = 1000000};
    msh_fc_grid o[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(run(&in, o, &st));
    double cap = msh_fc_capacity_per_m() * 1.0;
    CHECK_NEAR(cap, 1.22, 0.02);
    /* upstream of the bottleneck: grows at 3 - capacity once the queue stands (10 -> 20 -> 30 min) */
    sums u10 = in_x(&o[2], -50, 299), u20 = in_x(&o[4], -50, 299), u30 = in_x(&o[5], -50, 299);
    CHECK_NEAR((u20.people - u10.people) / 600.0, 3.0 - cap, 0.05 * (3.0 - cap));
    CHECK_NEAR((u30.people - u20.people) / 600.0, 3.0 - cap, 0.05 * (3.0 - cap));
    /* downstream it passes at capacity */
    sums d10 = in_x(&o[2], 351, 3000), d20 = in_x(&o[4], 351, 3000);
    CHECK_NEAR((d20.people - d10.people) / 600.0, cap, 0.05 * cap);
    /* the queue's head is jammed: level F just before the bottleneck */
    double fmax_density = 0;
    for (size_t i = 0; i < o[4].n; i++) {
        double lon, lat;
        msh_fc_cell_centre(o[4].cells[i].cx, o[4].cells[i].cy, &lon, &lat);
        double xx = x_of(lon), side = msh_fc_cell_side_m(o[4].cells[i].cy);
        if (xx > 270 && xx < 300)
            fmax_density = fmax(fmax_density, o[4].cells[i].count / (side * side));
    }
    CHECK(fmax_density > 2.15);
    /* nobody lost: everything that came in is on the walkways or left at the far end (30 min x 3/s) */
    CHECK_NEAR(st.people_end + st.waiting_outside + st.arrived, 3.0 * 1800, 1.0);
    free_grids(o);
    free(w);
    msh_graph_release(g);
}

/* Two walkways end to end, x -200..500 and 500..1000, the second closed (*closed, ne bytes); 8 people a
 * cell from x 0 to 100 walking east at 1.2 m/s into cells (*n of them). */
static msh_graph *gate_corridor(uint8_t **closed, msh_fc_cell *cells, size_t *n)
{
    double x[] = {-200, 500, 500, 1000};
    msh_graph *g = corridor(x, 2, 0);
    uint32_t ne = msh_graph_edge_count(g);
    *closed = calloc(ne, 1);
    for (uint32_t e = 0; e < ne; e++)
        (*closed)[e] = msh_graph_edge_fid(g, e) == 2;
    *n = fill(cells, 0, 0, 100, 0, 8, 1.2f, 0);
    return g;
}

static void test_closed_edge(void)
{
    uint8_t *closed;
    msh_fc_cell cells[64];
    size_t n;
    msh_graph *g = gate_corridor(&closed, cells, &n);
    uint32_t ne = msh_graph_edge_count(g);
    msh_fc_input in = {.g = g, .closed = closed, .cells = cells, .ncells = n};
    msh_fc_grid o[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(run(&in, o, &st));
    for (int h = 1; h < MSH_FC_NH; h++) {
        CHECK(in_x(&o[h], 505, 3000).people < 1e-3);
        CHECK_NEAR(in_x(&o[h], -250, 505).people, 8.0 * n, 0.1);
    }
    /* they got to the gate and wait there */
    sums s = in_x(&o[3], 400, 505);
    CHECK(s.people > 0.9 * 8.0 * n);
    /* open: they walk on past it */
    in.closed = NULL;
    free_grids(o);
    CHECK(msh_fc_ctm(&in, &p, o, &st, &err) == MSH_OK);
    CHECK(in_x(&o[2], 505, 3000).people > 0.5 * 8.0 * n);
    free_grids(o);
    /* a closed gate closes every edge near it, the one the crowd walks on too: they still walk up
     * to the gate and queue there (a closed edge is closed at its ends), they do not freeze */
    for (uint32_t e = 0; e < ne; e++)
        closed[e] = 1;
    in.closed = closed;
    CHECK(run(&in, o, &st));
    CHECK(in_x(&o[2], 400, 505).people > 0.9 * 8.0 * n);
    CHECK(in_x(&o[2], 505, 3000).people < 1e-3);
    free_grids(o);
    /* a planned group bound for the far side of the closed gate (x = 1000), 2 persons/s from the
     * west end for 5 minutes, nobody on the map yet: no open way there, so they walk as a crowd
     * would, up to the gate, and queue there; they do not wait where they start */
    for (uint32_t e = 0; e < ne; e++)
        closed[e] = msh_graph_edge_fid(g, e) == 2;
    msh_fc_source grp = {.lon = lon_at(-200), .lat = LAT, .rate = 2.0, .from_ms = 0, .to_ms = 300000,
                         .has_dest = true, .dest_lon = lon_at(1000), .dest_lat = LAT, .planned = true};
    msh_fc_input gin = {.g = g, .closed = closed, .src = &grp, .nsrc = 1};
    CHECK(run(&gin, o, &st));
    CHECK_NEAR(in_x(&o[3], -250, 3000).people, 600, 1.0);
    CHECK(in_x(&o[3], 300, 505).people > 0.9 * 600);
    CHECK(in_x(&o[3], 505, 3000).people < 1e-3);
    free_grids(o);
    free(closed);
    msh_graph_release(g);
}

static void test_gate_reopens(void)
{
    /* a gate at x = 500 between two 4 m walkways, closed, planned to reopen 10 minutes after the
     * forecast's start: both walkways are closed until then (a gate closes every edge near it). A
     * queue stands jammed in front of it (4 persons/m2 from x 200 to 496), more people walk up from
     * behind. Before T nobody passes; from T the queue leaves at the walkway's capacity (Weidmann's
     * largest flow x 4 m) */
    double x[] = {-400, 500, 500, 3000};
    msh_graph *g = corridor(x, 2, 0);
    uint32_t ne = msh_graph_edge_count(g);
    int64_t *until = calloc(ne, sizeof *until), T = 1000000 + 600000;
    for (uint32_t e = 0; e < ne; e++)
        until[e] = T;
    msh_fc_cell cells[128];
    uint32_t cx, cy;
    msh_fc_cell_at(lon_at(300), LAT, &cx, &cy);
    double side = msh_fc_cell_side_m(cy);
    size_t n = fill(cells, 0, 200, 496, 0, (float)(4.0 * 4.0 * side), 0, 0);
    n = fill(cells, n, 0, 100, 0, 2, 1.2f, 0);
    msh_fc_input in = {.g = g, .closed_until = until, .cells = cells, .ncells = n, .issued_ms = 1000000};
    msh_fc_grid o[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(run(&in, o, &st));
    double all = in_x(&o[0], -450, 3100).people, cap = msh_fc_capacity_per_m() * 4.0;
    CHECK(all > 4000);
    /* 5 and 10 minutes (T): nobody beyond the gate, nobody lost */
    for (int h = 1; h <= 2; h++) {
        CHECK(in_x(&o[h], 505, 3100).people < 1e-3);
        CHECK_NEAR(in_x(&o[h], -450, 505).people, all, 0.5);
    }
    /* 15 and 20 minutes: the queue (over 4000 people, 2928 pass in 10 min) passes at capacity */
    double b15 = in_x(&o[3], 505, 3100).people, b20 = in_x(&o[4], 505, 3100).people;
    CHECK(b15 > 0.8 * cap * 300);
    CHECK_NEAR((b20 - b15) / 300.0, cap, 0.05 * cap);
    CHECK_NEAR(in_x(&o[5], -450, 3100).people + st.arrived, all, 1.0);
    free_grids(o);
    /* a reopening already past (or none): closed all along as a closed edge, nobody passes */
    for (uint32_t e = 0; e < ne; e++)
        until[e] = 1000000;
    CHECK(run(&in, o, &st));
    CHECK(in_x(&o[5], 505, 3100).people > 0.5 * all); /* nothing closed at all: they walk on */
    free_grids(o);
    uint8_t *closed = calloc(ne, 1);
    memset(closed, 1, ne);
    in.closed = closed;
    CHECK(run(&in, o, &st));
    CHECK(in_x(&o[5], 505, 3100).people < 1e-3);
    free_grids(o);
    /* a planned group bound for the far side takes the gate as its way and waits there until T */
    for (uint32_t e = 0; e < ne; e++)
        until[e] = T;
    msh_fc_source grp = {.lon = lon_at(0), .lat = LAT, .rate = 2.0, .from_ms = 1000000, .to_ms = 1000000 + 120000,
                         .has_dest = true, .dest_lon = lon_at(3000), .dest_lat = LAT, .planned = true};
    msh_fc_input gin = {.g = g, .closed_until = until, .src = &grp, .nsrc = 1, .issued_ms = 1000000};
    CHECK(run(&gin, o, &st));
    CHECK_NEAR(in_x(&o[2], 400, 505).people, 240, 1.0); /* all 240 at the gate at T (500 m in 373 s) */
    CHECK(in_x(&o[2], 505, 3100).people < 1e-3);
    CHECK(in_x(&o[4], 505, 3100).people > 0.9 * 240); /* through it 10 minutes later */
    free_grids(o);
    free(closed);
    free(until);
    msh_graph_release(g);
}

static void test_queue_discharges_at_capacity(void)
{
    /* a queue stands in front of a 1 m passage (observed at 4 persons/m2 in its cells, not moving),
     * the people behind it walk east; nobody comes in. The queue leaves through the passage at its
     * capacity (Weidmann's largest flow x 1 m), neither standing for ever nor walking off at a
     * walking speed, and its head stays jammed */
    double x[] = {-300, 300, 300, 350, 350, 3000};
    float wl[] = {10, 1, 10};
    msh_graph *g = corridor(x, 3, 0);
    float *w = widths(g, wl);
    msh_fc_cell cells[64];
    uint32_t cx, cy;
    msh_fc_cell_at(lon_at(0), LAT, &cx, &cy);
    double side = msh_fc_cell_side_m(cy);
    size_t n = fill(cells, 0, 200, 296, 0, (float)(4.0 * side * side), 0, 0);
    n = fill(cells, n, 0, 100, 0, 2, 1.2f, 0);
    msh_fc_input in = {.g = g, .width_m = w, .cells = cells, .ncells = n};
    msh_fc_grid o[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(run(&in, o, &st));
    double cap = msh_fc_capacity_per_m() * 1.0;
    double up0 = in_x(&o[0], -350, 300).people, up5 = in_x(&o[1], -350, 300).people;
    double up10 = in_x(&o[2], -350, 300).people;
    CHECK(up0 > 2000);
    CHECK_NEAR((up0 - up5) / 300.0, cap, 0.1 * cap);
    CHECK_NEAR((up5 - up10) / 300.0, cap, 0.05 * cap);
    double head = 0;
    for (size_t i = 0; i < o[2].n; i++) {
        double lon, lat;
        msh_fc_cell_centre(o[2].cells[i].cx, o[2].cells[i].cy, &lon, &lat);
        double xx = x_of(lon), sd = msh_fc_cell_side_m(o[2].cells[i].cy);
        if (xx > 270 && xx < 300)
            head = fmax(head, o[2].cells[i].count / (sd * sd));
    }
    CHECK(head > 2.15);
    free_grids(o);
    free(w);
    msh_graph_release(g);
}

static void test_walkway_ends(void)
{
    /* people walking east towards the end of their walkway (x = 500) leave the network there: the
     * walkway goes on where the map does not show it; they do not pile up at its end */
    double x[] = {-200, 500};
    msh_graph *g = corridor(x, 1, 0);
    msh_fc_cell cells[64];
    size_t n = fill(cells, 0, 300, 400, 0, 4, 1.2f, 0);
    msh_fc_input in = {.g = g, .cells = cells, .ncells = n};
    msh_fc_grid o[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(run(&in, o, &st));
    CHECK(in_x(&o[1], -250, 600).people < 0.5);
    CHECK_NEAR(st.arrived, 4.0 * n, 0.5);
    free_grids(o);
    /* people seen walking in at the west end (x = 0) keep coming at the flow observed there
     * (3 a cell at the diagram's speed: 3 x v / cell length persons/s) times the chance it still
     * flows, exp(-t / inflow_fade_s): rate x fade x (1 - exp(-T / fade)) by T */
    double x2[] = {0, 3000};
    msh_graph *g2 = corridor(x2, 1, 0);
    n = fill(cells, 0, 0, 100, 0, 3, 1.34f, 0);
    uint32_t cx, cy;
    msh_fc_cell_at(lon_at(0), LAT, &cx, &cy);
    double rate = 3.0 * p.free_speed / msh_fc_cell_side_m(cy);
    msh_fc_input in2 = {.g = g2, .cells = cells, .ncells = n};
    CHECK(run(&in2, o, &st));
    CHECK_NEAR(st.end_inflow, rate, 0.1 * rate);
    for (int h = 1; h <= 2; h++) {
        double fade = p.inflow_fade_s, in_by = rate * fade * (1 - exp(-60.0 * msh_fc_minutes[h] / fade));
        CHECK_NEAR(in_x(&o[h], -50, 3100).people - 3.0 * n, in_by, 0.1 * in_by);
    }
    free_grids(o);
    /* a planned group starts at that end: the people walking in are its own, and only the plan adds
     * people there. Its window over: nobody more comes (the people on the map walk on, none leave
     * the 3 km street in 10 minutes). Its window open for 5 more minutes at 2 persons/s: 600 more. */
    msh_fc_source plan = {.lon = lon_at(0), .lat = LAT, .rate = 0, .from_ms = -600000, .to_ms = -1,
                          .planned = true};
    in2.src = &plan;
    in2.nsrc = 1;
    CHECK(run(&in2, o, &st));
    CHECK(st.end_inflow == 0);
    CHECK_NEAR(in_x(&o[2], -50, 3100).people, 3.0 * n, 0.1); /* the spread thins a few cells under what is drawn */
    free_grids(o);
    plan.rate = 2.0;
    plan.to_ms = 300000;
    CHECK(run(&in2, o, &st));
    CHECK(st.end_inflow == 0);
    CHECK_NEAR(in_x(&o[2], -50, 3100).people, 3.0 * n + 600, 1.0);
    free_grids(o);
    msh_graph_release(g);
    msh_graph_release(g2);
}

static void test_width_cells(void)
{
    /* a 12 m street whose axis runs along the line between two rows of cells: its people are drawn
     * over both rows, about half in each (the cells its area covers), not all into the row its
     * axis point falls in */
    uint32_t cx, cy;
    msh_fc_cell_at(lon_at(0), LAT, &cx, &cy);
    double clon, clat, side = msh_fc_cell_side_m(cy);
    msh_fc_cell_centre(cx, cy, &clon, &clat);
    double axis = (clat - LAT) * 110574.0 + side / 2; /* metres north of LAT: the row's north edge */
    double x[] = {-200, 400};
    float wl[] = {12};
    msh_graph *g = corridor(x, 1, axis + 0.3);
    float *w = widths(g, wl);
    msh_fc_cell cells[64];
    size_t n = fill(cells, 0, 0, 100, axis - 2, 3, 0, 0); /* standing, in the south row */
    msh_fc_input in = {.g = g, .width_m = w, .cells = cells, .ncells = n};
    msh_fc_grid o[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(run(&in, o, &st));
    double rows[2] = {0, 0};
    for (size_t i = 0; i < o[1].n; i++) {
        if (o[1].cells[i].cy == cy)
            rows[0] += o[1].cells[i].count;
        else if (o[1].cells[i].cy == cy - 1)
            rows[1] += o[1].cells[i].count;
    }
    CHECK_NEAR(rows[0] + rows[1], 3.0 * n, 0.1);
    CHECK(rows[0] > 0.35 * 3.0 * n && rows[1] > 0.35 * 3.0 * n);
    free_grids(o);
    free(w);
    msh_graph_release(g);
    /* a street with no width in the data along the middle of the south row: the default (4 m) keeps
     * its people in that row; a default of 12 m (serve --forecast-width) spills a quarter of them
     * into the rows either side (1.55 m of the 12 each way) */
    g = corridor(x, 1, axis - side / 2);
    in.g = g;
    in.width_m = NULL;
    for (int k = 0; k < 2; k++) {
        in.default_width_m = k ? 12 : 0;
        CHECK(run(&in, o, &st));
        double row = 0;
        for (size_t i = 0; i < o[1].n; i++)
            row += o[1].cells[i].cy == cy ? o[1].cells[i].count : 0;
        CHECK(k ? row < 0.8 * 3.0 * n && row > 0.65 * 3.0 * n : row > 0.99 * 3.0 * n);
        free_grids(o);
    }
    msh_graph_release(g);
}

static void test_net_kept(void)
{
    /* the network's set-up is kept between runs while nothing about the network changes, and
     * rebuilt when an edge closes or opens (a stale set-up would walk people through a closed gate) */
    uint8_t *closed;
    msh_fc_cell cells[64];
    size_t n;
    msh_graph *g = gate_corridor(&closed, cells, &n);
    msh_fc_net *net = msh_fc_net_new();
    msh_fc_input in = {.net = net, .g = g, .closed = closed, .cells = cells, .ncells = n};
    msh_fc_grid a[MSH_FC_NH], b[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(run(&in, a, &st));
    CHECK(!st.net_reused);
    CHECK(run(&in, b, &st));
    CHECK(st.net_reused);
    CHECK(a[2].n == b[2].n && a[2].n > 0 && !memcmp(a[2].cells, b[2].cells, a[2].n * sizeof *a[2].cells));
    CHECK(in_x(&b[2], 505, 3000).people < 1e-3);
    free_grids(a);
    free_grids(b);
    in.closed = NULL; /* the gate opens */
    CHECK(run(&in, a, &st));
    CHECK(!st.net_reused);
    CHECK(in_x(&a[2], 505, 3000).people > 0.5 * 8.0 * n);
    free_grids(a);
    msh_fc_net_free(net);
    free(closed);
    msh_graph_release(g);
}

static void test_no_walls_crossed(void)
{
    /* two walkways 120 m apart, not joined; the crowd on the south one moves north-east */
    double x[] = {0, 1500};
    double ll[8] = {lon_at(-200), LAT, lon_at(1500), LAT, lon_at(-200), LAT + 120 / 110574.0, lon_at(1500),
                    LAT + 120 / 110574.0};
    uint32_t np[2] = {2, 2};
    (void)x;
    msh_graph *g = NULL;
    CHECK(msh_graph_build_lonlat(ll, np, NULL, 2, &g, &err) == MSH_OK);
    msh_fc_cell cells[64];
    size_t n = fill(cells, 0, 0, 100, 0, 4, 0.8f, 0.8f);
    msh_fc_input in = {.g = g, .cells = cells, .ncells = n};
    msh_fc_grid o[MSH_FC_NH], a[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(msh_fc_ctm(&in, &p, o, &st, &err) == MSH_OK);
    CHECK(msh_fc_advection(&in, &p, a, &err) == MSH_OK);
    sums sm = in_x(&o[2], -250, 3000), sa = in_x(&a[2], -250, 3000);
    CHECK(sm.north_max < 10);   /* still on their walkway */
    CHECK(sa.north_max > 400);  /* the straight line went through the wall */
    /* along the walkway (east, the way the velocity points along it) at the diagram's speed */
    CHECK_NEAR(sm.x_mass / sm.people - 50, p.free_speed * 600, 0.05 * p.free_speed * 600);
    free_grids(o);
    free_grids(a);
    msh_graph_release(g);
}

/* The people in a box [x0, x1) x [y0, y1) metres (north of LAT), and their centre. */
static void centre_in(const msh_fc_grid *g, double x0, double x1, double y0, double y1, double *n, double *cx,
                      double *cy)
{
    *n = *cx = *cy = 0;
    for (size_t i = 0; i < g->n; i++) {
        double lon, lat;
        msh_fc_cell_centre(g->cells[i].cx, g->cells[i].cy, &lon, &lat);
        double x = x_of(lon), y = (lat - LAT) * 110574.0;
        if (x < x0 || x >= x1 || y < y0 || y >= y1)
            continue;
        *n += g->cells[i].count, *cx += g->cells[i].count * x, *cy += g->cells[i].count * y;
    }
    if (*n > 0)
        *cx /= *n, *cy /= *n;
}

static void test_open_ground(void)
{
    /* a walkway along y = 0 from x = -1000 to 3000; on no walkway:
     * - A: 10 people at (0, 200) walking 1 m/s 30 degrees south of east, toward the walkway: straight
     *   on for 400 s (200 m south: at x = 346), then along the walkway east at the diagram's speed;
     * - B: 10 people at (1500, 100) walking 1 m/s due south: across the walkway at 100 s, on south;
     * - C: 10 people at (-500, 100) at 0.2 m/s: under wait_speed: they stay;
     * - D: 10 people at (-800, 100) whose mean is 1 m/s east but whose velocities spread more than that
     *   (variance 2 m2/s2): milling about, they stay; E: 4 people at (-200, 300) at 1 m/s: under 5, no crowd, they stay */
    double x[] = {-1000, 3000};
    msh_graph *g = corridor(x, 1, 0);
    msh_fc_cell cells[8];
    float c30 = (float)cos(M_PI / 6);
    size_t n = fill(cells, 0, 0, 0, 200, 10, c30, -0.5f);
    n = fill(cells, n, 1500, 1500, 100, 10, 0, -1.0f);
    n = fill(cells, n, -500, -500, 100, 10, 0.2f, 0);
    n = fill(cells, n, -800, -800, 100, 10, 1.0f, 0);
    cells[n - 1].var_v = 2.0f;
    n = fill(cells, n, -200, -200, 300, 4, 1.0f, 0);
    msh_fc_input in = {.g = g, .cells = cells, .ncells = n, .issued_ms = 0};
    msh_fc_grid o[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(run(&in, o, &st));
    CHECK(st.unmapped_cells == 5 && st.mapped_cells == 0);
    CHECK_NEAR(st.open_people, 20, 1e-3);
    CHECK_NEAR(st.people_end + st.arrived, 44, 1e-3);
    double np, cx, cy, side = msh_fc_cell_side_m(cells[0].cy);
    /* 5 minutes: A still on open ground, 300 m on its way; B 200 m south of the walkway; C where it was */
    centre_in(&o[1], -100, 800, 20, 400, &np, &cx, &cy);
    CHECK_NEAR(np, 10, 1e-3);
    CHECK_NEAR(cx, 300 * c30, side);
    CHECK_NEAR(cy, 200 - 150, side);
    centre_in(&o[1], 1400, 1600, -400, -20, &np, &cx, &cy);
    CHECK_NEAR(np, 10, 1e-3);
    CHECK_NEAR(cy, 100 - 300, side);
    centre_in(&o[1], -600, -400, 50, 150, &np, &cx, &cy);
    CHECK_NEAR(np, 10, 1e-3);
    centre_in(&o[5], -820, -780, 80, 120, &np, &cx, &cy); /* D and E where they were, at 30 minutes */
    CHECK_NEAR(np, 10, 1e-3);
    centre_in(&o[5], -220, -180, 280, 320, &np, &cx, &cy);
    CHECK_NEAR(np, 4, 1e-3);
    /* 10 minutes: A on the walkway (nobody left off it north), 200 s along it at the diagram's speed */
    centre_in(&o[2], -100, 3000, side + 3, 400, &np, &cx, &cy);
    CHECK(np < 0.5);
    centre_in(&o[2], -100, 3000, -side - 3, side + 3, &np, &cx, &cy);
    CHECK_NEAR(np, 10, 0.1);
    CHECK(cx > 346 + 150 * p.free_speed && cx < 346 + 250 * p.free_speed);
    /* B at 10 minutes: 600 m on, drawn evenly along its heading over +-10 % of that (MSH_FC_CV0) */
    centre_in(&o[2], 1400, 1600, -800, -300, &np, &cx, &cy);
    CHECK_NEAR(np, 10, 1e-3);
    CHECK_NEAR(cy, 100 - 600, side);
    double ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < o[2].n; i++) {
        double lon, lat;
        msh_fc_cell_centre(o[2].cells[i].cx, o[2].cells[i].cy, &lon, &lat);
        if (x_of(lon) > 1400 && x_of(lon) < 1600)
            ylo = fmin(ylo, (lat - LAT) * 110574.0), yhi = fmax(yhi, (lat - LAT) * 110574.0);
    }
    CHECK_NEAR(yhi - ylo, 2 * MSH_FC_CV0 * 600, side);
    free_grids(o);
    msh_graph_release(g);
}

static void test_cell_index(void)
{
    /* cells in three rows, sorted; found where they are, -1 elsewhere (in a row, beside, above, below) */
    msh_fc_out c[] = {{10, 5, 0}, {12, 5, 0}, {3, 7, 0}, {10, 7, 0}, {11, 7, 0}, {40, 9, 0}};
    msh_fc_index ix;
    CHECK(msh_fc_index_build(&ix, c, 6) == MSH_OK);
    for (long i = 0; i < 6; i++)
        CHECK(msh_fc_index_find(&ix, c[i].cx, c[i].cy) == i);
    CHECK(msh_fc_index_find(&ix, 11, 5) == -1);
    CHECK(msh_fc_index_find(&ix, 10, 6) == -1);
    CHECK(msh_fc_index_find(&ix, 10, 4) == -1);
    CHECK(msh_fc_index_find(&ix, 10, 10) == -1);
    CHECK(msh_fc_index_find(&ix, 41, 9) == -1);
    CHECK(msh_fc_index_find(&ix, 2, 7) == -1);
    msh_fc_index_free(&ix);
    CHECK(msh_fc_index_build(&ix, c, 0) == MSH_OK);
    CHECK(msh_fc_index_find(&ix, 10, 5) == -1);
    msh_fc_index_free(&ix);
    /* cells too far apart for a bitmap (2 rows x 70 M columns): found by the rows alone */
    msh_fc_out far[] = {{0, 100, 0}, {5, 100, 0}, {70000000, 101, 0}};
    CHECK(msh_fc_index_build(&ix, far, 3) == MSH_OK);
    CHECK(ix.bits == NULL);
    for (long i = 0; i < 3; i++)
        CHECK(msh_fc_index_find(&ix, far[i].cx, far[i].cy) == i);
    CHECK(msh_fc_index_find(&ix, 4, 100) == -1);
    CHECK(msh_fc_index_find(&ix, 0, 101) == -1);
    msh_fc_index_free(&ix);
}

static void test_planned_group(void)
{
    /* a T: west-east street with a branch north at x = 500; the group goes from the west end to
     * the north branch's end, 300 m up: 500 + 300 m at 1.34 m/s, about 10 minutes */
    double ll[12] = {lon_at(0), LAT, lon_at(500), LAT, lon_at(500), LAT, lon_at(1000), LAT, lon_at(500), LAT,
                     lon_at(500), LAT + 300 / 110574.0};
    uint32_t np[3] = {2, 2, 2};
    msh_graph *g = NULL;
    CHECK(msh_graph_build_lonlat(ll, np, NULL, 3, &g, &err) == MSH_OK);
    msh_fc_source grp = {.lon = lon_at(0), .lat = LAT, .rate = 1.0, .from_ms = 0, .to_ms = 60000, .has_dest = true,
                         .dest_lon = lon_at(500), .dest_lat = LAT + 300 / 110574.0};
    msh_fc_input in = {.g = g, .src = &grp, .nsrc = 1, .issued_ms = 0};
    msh_fc_grid o[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(run(&in, o, &st));
    /* at 5 min they are on the way: nobody on the east arm */
    CHECK(in_x(&o[1], 510, 3000).people < 1e-3);
    CHECK_NEAR(in_x(&o[1], -50, 3000).people, 60, 0.5);
    /* at 15 min every one of the 60 has arrived and left the network */
    CHECK_NEAR(st.arrived, 60, 0.5);
    CHECK(in_x(&o[3], -50, 3000).people < 0.5);
    free_grids(o);
    msh_graph_release(g);
}

static void test_planned_return(void)
{
    /* a crowd walking east (x 0 to 100, 5 people a cell) turns back 5 minutes after the forecast's
     * start, as its plan says (a return from x = 1500 to the walkway's west end at x = -1000): out
     * 402 m at the diagram's speed (1.34 m/s x 300 s), then back at the same speed; by 30 minutes
     * all of them have walked off the west end */
    double x[] = {-1000, 2000};
    msh_graph *g = corridor(x, 1, 0);
    msh_fc_cell cells[64];
    size_t n = fill(cells, 0, 0, 100, 0, 5, 1.2f, 0);
    int64_t t0 = 1000000;
    msh_fc_source ret = {.lon = lon_at(1500), .lat = LAT, .rate = 0, .from_ms = t0 + 300000, .to_ms = t0 + 360000,
                         .has_dest = true, .dest_lon = lon_at(-1000), .dest_lat = LAT, .planned = true, .turn = true};
    msh_fc_input in = {.g = g, .cells = cells, .ncells = n, .src = &ret, .nsrc = 1, .issued_ms = t0};
    msh_fc_grid o[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(run(&in, o, &st));
    double v = p.free_speed, all = 5.0 * n;
    sums s0 = in_x(&o[0], -1100, 2100);
    double c0 = s0.x_mass / s0.people;
    double want[3] = {c0 + 300 * v, c0, c0 - 300 * v}; /* 5, 10, 15 minutes */
    for (int h = 1; h <= 3; h++) {
        sums s = in_x(&o[h], -1100, 2100);
        CHECK_NEAR(s.people, all, 0.1);
        CHECK_NEAR(s.x_mass / s.people, want[h - 1], 12.0);
    }
    CHECK_NEAR(st.arrived, all, 0.5);
    CHECK(in_x(&o[5], -1100, 2100).people < 0.5);
    /* a return whose time came before the forecast's start turns nobody: the observation shows it */
    in.issued_ms = t0 + 400000;
    free_grids(o);
    CHECK(run(&in, o, &st));
    sums s10 = in_x(&o[2], -1100, 2100);
    CHECK_NEAR(s10.x_mass / s10.people, c0 + 600 * v, 12.0);
    free_grids(o);
    msh_graph_release(g);
}

static void test_waiting_group(void)
{
    /* a camp 40 m north of a walkway (on no walkway): 50 people resting in cells from x = 0 to 30 and
     * 10 walking about at 1 m/s at x = 60; on the walkway 10 people a cell standing from x = 30 to 50.
     * A group of 100 waits there (30 m around x = 30, 20 m north) and leaves from x = 20 for x = 1000
     * in the first minute: its people are the 50 resting and the standing ones, the rest are new */
    double x[] = {0, 1000};
    msh_graph *g = corridor(x, 1, 0);
    msh_fc_cell cells[64];
    size_t nc = fill(cells, 0, 0, 30, 40, 1, 0, 0);
    double camp = (double)nc;
    for (size_t i = 0; i < nc; i++)
        cells[i].count = (float)(50.0 / camp);
    size_t nw = fill(cells, nc, 30, 50, 0, 10, 0, 0);
    double road = 10.0 * (double)(nw - nc);
    size_t n = fill(cells, nw, 60, 60, 40, 10, 1.0f, 0);
    int64_t t0 = 1000000;
    msh_fc_source grp = {.lon = lon_at(20), .lat = LAT, .rate = 100.0 / 60, .from_ms = t0, .to_ms = t0 + 60000,
                         .has_dest = true, .dest_lon = lon_at(1000), .dest_lat = LAT, .planned = true,
                         .wait_lon = lon_at(30), .wait_lat = LAT + 20 / 110574.0, .wait_radius_m = 50};
    msh_fc_input in = {.g = g, .cells = cells, .ncells = n, .src = &grp, .nsrc = 1, .issued_ms = t0};
    msh_fc_grid o[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(run(&in, o, &st));
    double seen = 50 + road + 10;
    CHECK_NEAR(in_x(&o[0], -100, 1100).people, seen, 0.1);
    /* at 5 minutes: the 100 are the 50 resting, the `road` standing and 50 - road new ones; nobody is
     * left in the camp (the 10 walking about walked on east over open ground, 300 m at 1 m/s, 40 m
     * north of the walkway: not the group's), and nobody stands at x = 30..50 */
    CHECK_NEAR(in_x(&o[1], -100, 1100).people, 100 + 10, 0.5);
    CHECK(in_x(&o[1], -100, 100).people < 0.5);
    double np, cx, cy;
    centre_in(&o[1], 300, 420, 30, 50, &np, &cx, &cy);
    CHECK_NEAR(np, 10, 0.5);
    CHECK_NEAR(cx, 60 + 300, msh_fc_cell_side_m(cells[0].cy));
    /* at 15 minutes the group has arrived and left the network (980 m at 1.34 m/s): the 10 remain */
    CHECK_NEAR(st.arrived, 100, 0.5);
    CHECK_NEAR(in_x(&o[3], -100, 1100).people, 10, 0.5);
    free_grids(o);
    /* a group larger than what is seen there: the rest are new people; one smaller leaves the rest */
    grp.rate = 20.0 / 60;
    CHECK(run(&in, o, &st));
    CHECK_NEAR(in_x(&o[1], -100, 1100).people, seen, 0.5);
    CHECK_NEAR(in_x(&o[3], -100, 1100).people, seen - 20, 0.5);
    free_grids(o);
    /* without a waiting area it comes from off the map, as before */
    grp.rate = 100.0 / 60, grp.wait_radius_m = 0;
    CHECK(run(&in, o, &st));
    CHECK_NEAR(in_x(&o[1], -100, 1100).people, seen + 100, 0.5);
    free_grids(o);
    msh_graph_release(g);
}

static void test_stay(void)
{
    /* 60 people leave x = 0 in the first minute for the node at x = 400 (two walkways meet there),
     * 300 s at 1.34 m/s, and stay 10 minutes: at 10 minutes all 60 stand within 50 m of it, by 20
     * minutes (arrived by about 6, gone by about 16) they have left */
    double x[] = {0, 400, 400, 1000};
    msh_graph *g = corridor(x, 2, 0);
    int64_t t0 = 1000000;
    msh_fc_source grp = {.lon = lon_at(0), .lat = LAT, .rate = 1.0, .from_ms = t0, .to_ms = t0 + 60000,
                         .has_dest = true, .dest_lon = lon_at(400), .dest_lat = LAT, .planned = true, .stay_s = 600};
    msh_fc_input in = {.g = g, .src = &grp, .nsrc = 1, .issued_ms = t0};
    msh_fc_grid o[MSH_FC_NH];
    msh_fc_stats st;
    CHECK(run(&in, o, &st));
    CHECK_NEAR(in_x(&o[2], 340, 460).people, 60, 0.5);
    CHECK(in_x(&o[2], 460, 1100).people < 1e-3 && in_x(&o[2], -100, 340).people < 1e-3);
    CHECK_NEAR(in_x(&o[4], -100, 1100).people, 0, 0.5);
    CHECK_NEAR(st.arrived, 60, 0.5);
    free_grids(o);
    /* no stay: they have left by 10 minutes */
    grp.stay_s = 0;
    CHECK(run(&in, o, &st));
    CHECK(in_x(&o[2], -100, 1100).people < 0.5);
    free_grids(o);
    msh_graph_release(g);
}

static void test_schedule(void)
{
    msh_fc_source *s;
    size_t n;
    const char *js = "[{\"group\":\"G1\",\"size\":1800,\"origin\":[39.88,21.41],\"destination\":[39.87,21.42],"
                     "\"depart_from\":\"2026-05-27T06:00:00Z\",\"depart_to\":\"2026-05-27T06:30:00Z\"}]";
    CHECK(msh_fc_schedule_parse(js, strlen(js), &s, &n, &err) == MSH_OK);
    CHECK(n == 1 && s[0].has_dest);
    CHECK_NEAR(s[0].rate, 1.0, 1e-9);
    CHECK_NEAR(s[0].dest_lat, 21.42, 1e-12);
    CHECK(s[0].to_ms - s[0].from_ms == 1800000);
    free(s);
    /* a return: size 0 allowed (nobody besides the people on the way) */
    const char *rj = "{\"groups\":[{\"group\":\"R1\",\"size\":0,\"return\":true,\"origin\":[39.88,21.41],"
                     "\"destination\":[39.87,21.42],\"depart_from\":\"2026-05-27T06:00:00Z\","
                     "\"depart_to\":\"2026-05-27T06:01:00Z\"}]}";
    CHECK(msh_fc_schedule_parse(rj, strlen(rj), &s, &n, &err) == MSH_OK);
    CHECK(n == 1 && s[0].turn && s[0].has_dest && s[0].rate == 0);
    CHECK(s[0].stay_s == 0 && s[0].wait_radius_m == 0);
    free(s);
    /* a stay and a waiting area; the waiting point defaults to the origin */
    const char *wj = "[{\"group\":\"G1\",\"size\":10,\"origin\":[39.88,21.41],\"destination\":[39.87,21.42],"
                     "\"depart_from\":\"2026-05-27T06:00:00Z\",\"depart_to\":\"2026-05-27T06:30:00Z\","
                     "\"stay_min\":20,\"wait_at\":[39.881,21.411],\"wait_radius_m\":40},"
                     "{\"group\":\"G2\",\"size\":10,\"origin\":[39.88,21.41],\"destination\":[39.87,21.42],"
                     "\"depart_from\":\"2026-05-27T06:00:00Z\",\"depart_to\":\"2026-05-27T06:30:00Z\","
                     "\"wait_radius_m\":25}]";
    CHECK(msh_fc_schedule_parse(wj, strlen(wj), &s, &n, &err) == MSH_OK);
    CHECK(n == 2 && s[0].stay_s == 1200 && s[0].wait_radius_m == 40 && s[0].wait_lon == 39.881);
    CHECK(s[1].stay_s == 0 && s[1].wait_radius_m == 25 && s[1].wait_lon == 39.88 && s[1].wait_lat == 21.41);
    free(s);
    const char *wc = "group,size,origin_lon,origin_lat,dest_lon,dest_lat,depart_from,depart_to,stay_min,wait_radius_m\n"
                     "G1,600,39.88,21.41,39.87,21.42,2026-05-27T06:00:00Z,2026-05-27T06:10:00Z,15,30\n"
                     "G2,600,39.88,21.41,39.87,21.42,2026-05-27T06:00:00Z,2026-05-27T06:10:00Z,,\n"
                     "G3,600,39.88,21.41,39.87,21.42,2026-05-27T06:00:00Z,2026-05-27T06:10:00Z,5\n";
    CHECK(msh_fc_schedule_parse(wc, strlen(wc), &s, &n, &err) == MSH_OK);
    CHECK(n == 3 && s[0].stay_s == 900 && s[0].wait_radius_m == 30 && s[0].wait_lat == 21.41);
    CHECK(s[1].stay_s == 0 && s[1].wait_radius_m == 0 && s[2].stay_s == 300 && s[2].wait_radius_m == 0);
    free(s);
    const char *csv = "group,size,origin_lon,origin_lat,dest_lon,dest_lat,depart_from,depart_to\n"
                      "G1, 600 ,39.88,21.41,39.87,21.42,2026-05-27T06:00:00Z,2026-05-27T06:10:00Z\r\n\n"
                      "G2,1200,39.881,21.411,39.87,21.42,2026-05-27T06:10:00Z,2026-05-27T06:20:00Z\n";
    CHECK(msh_fc_schedule_parse(csv, strlen(csv), &s, &n, &err) == MSH_OK);
    CHECK(n == 2);
    CHECK_NEAR(s[0].rate, 1.0, 1e-9);
    CHECK_NEAR(s[1].rate, 2.0, 1e-9);
    free(s);
    const char *bad[] = {
        "[{\"group\":\"G1\",\"size\":0,\"origin\":[39.88,21.41],\"destination\":[39.87,21.42],"
        "\"depart_from\":\"2026-05-27T06:00:00Z\",\"depart_to\":\"2026-05-27T06:30:00Z\"}]",
        "[{\"group\":\"G1\",\"size\":10,\"origin\":[39.88],\"destination\":[39.87,21.42],"
        "\"depart_from\":\"2026-05-27T06:00:00Z\",\"depart_to\":\"2026-05-27T06:30:00Z\"}]",
        "[{\"group\":\"G1\",\"size\":10,\"origin\":[39.88,21.41],\"destination\":[39.87,21.42],"
        "\"depart_from\":\"2026-05-27T06:30:00Z\",\"depart_to\":\"2026-05-27T06:00:00Z\"}]",
        "{\"groups\":7}",
        "[1,",
        "h\nG1,10,39.88,21.41,39.87,21.42,2026-05-27T06:00:00Z\n",
        "h\nG1,10,39.88,21.41,39.87,21.42,2026-05-27T06:00:00Z,2026-05-27T06:10:00Z,extra\n",
        "h\nG1,ten,39.88,21.41,39.87,21.42,2026-05-27T06:00:00Z,2026-05-27T06:10:00Z\n",
        "h\nG1,10,39.88,91,39.87,21.42,2026-05-27T06:00:00Z,2026-05-27T06:10:00Z\n",
        "[{\"group\":\"G1\",\"size\":10,\"origin\":[39.88,21.41],\"destination\":[39.87,21.42],"
        "\"depart_from\":\"2026-05-27T06:00:00Z\",\"depart_to\":\"2026-05-27T06:30:00Z\",\"stay_min\":-1}]",
        "[{\"group\":\"G1\",\"size\":10,\"origin\":[39.88,21.41],\"destination\":[39.87,21.42],"
        "\"depart_from\":\"2026-05-27T06:00:00Z\",\"depart_to\":\"2026-05-27T06:30:00Z\",\"wait_radius_m\":\"40\"}]",
        "[{\"group\":\"G1\",\"size\":10,\"origin\":[39.88,21.41],\"destination\":[39.87,21.42],"
        "\"depart_from\":\"2026-05-27T06:00:00Z\",\"depart_to\":\"2026-05-27T06:30:00Z\",\"wait_radius_m\":5000}]",
        "[{\"group\":\"G1\",\"size\":10,\"origin\":[39.88,21.41],\"destination\":[39.87,21.42],"
        "\"depart_from\":\"2026-05-27T06:00:00Z\",\"depart_to\":\"2026-05-27T06:30:00Z\",\"wait_at\":[39.88]}]",
        "h\nG1,10,39.88,21.41,39.87,21.42,2026-05-27T06:00:00Z,2026-05-27T06:10:00Z,1500\n",
        "h\nG1,10,39.88,21.41,39.87,21.42,2026-05-27T06:00:00Z,2026-05-27T06:10:00Z,5,30,1\n",
        "[{\"group\":\"R1\",\"size\":0,\"return\":\"yes\",\"origin\":[39.88,21.41],\"destination\":[39.87,21.42],"
        "\"depart_from\":\"2026-05-27T06:00:00Z\",\"depart_to\":\"2026-05-27T06:30:00Z\"}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = NULL;
        CHECK(msh_fc_schedule_parse(bad[i], strlen(bad[i]), &s, &n, &err) == MSH_EINVAL);
        CHECK(s == NULL);
    }
}

static void test_prob(void)
{
    double pe, pf;
    msh_fc_prob(200, 80, 0, &pe, &pf); /* 2.5 p/m2 observed: certain F */
    CHECK(pe == 1 && pf == 1);
    msh_fc_prob(20, 80, 0, &pe, &pf);
    CHECK(pe == 0 && pf == 0);
    /* at the F line exactly, half; the chance of E rises with the count and spreads with horizon */
    msh_fc_prob(2.15 * 80, 80, 10, &pe, &pf);
    CHECK_NEAR(pf, 0.5, 0.01);
    double pe5, pf5, pe30, pf30;
    msh_fc_prob(60, 80, 5, &pe5, &pf5);
    msh_fc_prob(60, 80, 30, &pe30, &pf30);
    CHECK(pe5 < pe30 && pe30 < 0.5 && pf5 < pf30);
    CHECK(msh_fc_horizon_index(20) == 4 && msh_fc_horizon_index(7) == -1 && msh_fc_horizon_index(0) == 0);
}

/* ---- warnings with hysteresis ---- */

typedef struct seen {
    int n;
    msh_fc_alert_change last;
} seen;

static void on_change(void *ud, const msh_fc_alert_change *c)
{
    seen *s = ud;
    s->n++;
    s->last = *c;
}

static int64_t warn_now; /* the issue time of the next step: each step is a second later */

/* One base cell at `density` persons/m2 at horizon index h (nothing elsewhere), stepped once. */
static seen warn_step_at(msh_fc_alerts *a, double lon, int h, double density)
{
    uint32_t cx, cy;
    msh_fc_cell_at(lon, 21.42, &cx, &cy);
    double side = msh_fc_cell_side_m(cy);
    msh_fc_out cell = {cx, cy, (float)(density * side * side)};
    msh_fc_grid g[MSH_FC_NH];
    memset(g, 0, sizeof g);
    if (h > 0) {
        g[h].cells = &cell;
        g[h].n = 1;
    }
    seen s = {0};
    warn_now += 1000;
    CHECK(msh_fc_alerts_step(a, g, warn_now, on_change, &s) == MSH_OK);
    return s;
}

static seen warn_step(msh_fc_alerts *a, int h, double density)
{
    return warn_step_at(a, 39.87, h, density);
}

static void test_warnings(void)
{
    msh_fc_alerts *a = msh_fc_alerts_new();
    seen s = warn_step(a, 2, 2.5); /* F in 10 minutes: raised */
    CHECK(s.n == 1 && s.last.before == 0 && s.last.after == 'F' && s.last.minutes == 10);
    CHECK_NEAR(s.last.density, 2.5, 1e-3);
    s = warn_step(a, 2, 2.5); /* the same: nothing */
    CHECK(s.n == 0);
    s = warn_step(a, 1, 2.5); /* sooner: updated */
    CHECK(s.n == 1 && s.last.before == 'F' && s.last.after == 'F' && s.last.minutes == 5);
    s = warn_step(a, 1, 1.5); /* down to E: updated */
    CHECK(s.n == 1 && s.last.before == 'F' && s.last.after == 'E');
    s = warn_step(a, 1, 1.0); /* under E but above 80 % of its line: it stands */
    CHECK(s.n == 0 && msh_fc_alerts_active(a) == 1);
    s = warn_step(a, 1, 0.8); /* under 80 %: cleared */
    CHECK(s.n == 1 && s.last.before == 'E' && s.last.after == 0);
    CHECK(msh_fc_alerts_active(a) == 0);
    s = warn_step(a, 1, 1.0); /* not raised again below the line */
    CHECK(s.n == 0);
    s = warn_step(a, 5, 1.2); /* E in 30 minutes */
    CHECK(s.n == 1 && s.last.after == 'E' && s.last.minutes == 30);
    s = warn_step(a, 0, 0); /* the cell left the forecast: cleared */
    CHECK(s.n == 1 && s.last.after == 0 && msh_fc_alerts_active(a) == 0);
    msh_fc_alerts_free(a);
}

/* The standing warnings as listed: when raised and last changed, density and chance at the horizon,
 * F before E and the soonest first. */
static void test_warning_list(void)
{
    msh_fc_alerts *a = msh_fc_alerts_new();
    msh_fc_warning *l = NULL;
    size_t n = 9;
    CHECK(msh_fc_alerts_list(a, &l, &n) == MSH_OK && n == 0 && !l);
    warn_now = 0;
    warn_step(a, 2, 2.5); /* t = 1 s: F in 10 minutes, raised */
    warn_step(a, 2, 2.5); /* t = 2 s: the same, nothing changes */
    CHECK(msh_fc_alerts_list(a, &l, &n) == MSH_OK && n == 1);
    CHECK(l[0].level == 'F' && l[0].minutes == 10 && l[0].raised_ms == 1000 && l[0].updated_ms == 1000);
    CHECK_NEAR(l[0].density, 2.5, 1e-3);
    /* by hand: a base cell of about 80 m2 holds n = 2.5 A people; sigma = sqrt(n + (0.3 n)^2) at 10 min,
     * and P(count > 2.15 A) = Phi((2.5 - 2.15) A / sigma), about 0.68 */
    uint32_t cx, cy;
    msh_fc_cell_at(39.87, 21.42, &cx, &cy);
    double side = msh_fc_cell_side_m(cy), area = side * side, nn = 2.5 * area, sg = sqrt(nn + 0.09 * nn * nn);
    CHECK_NEAR(l[0].probability, 0.5 * erfc(-(0.35 * area / sg) / sqrt(2.0)), 0.01);
    CHECK(l[0].probability > 0.6 && l[0].probability < 0.75);
    uint32_t c21x = cx >> 1, c21y = cy >> 1;
    CHECK(l[0].cx == c21x && l[0].cy == c21y);
    free(l);
    warn_step(a, 1, 1.5); /* t = 3 s: down to E in 5 minutes, updated */
    CHECK(msh_fc_alerts_list(a, &l, &n) == MSH_OK && n == 1);
    CHECK(l[0].level == 'E' && l[0].minutes == 5 && l[0].raised_ms == 1000 && l[0].updated_ms == 3000);
    free(l);
    warn_step(a, 1, 1.0); /* t = 4 s: held by the hysteresis: level and minutes as last said, density now */
    CHECK(msh_fc_alerts_list(a, &l, &n) == MSH_OK && n == 1);
    CHECK(l[0].level == 'E' && l[0].minutes == 5 && l[0].updated_ms == 3000);
    CHECK_NEAR(l[0].density, 1.0, 1e-3);
    CHECK(l[0].probability < 0.5);
    free(l);
    msh_fc_alerts_free(a);

    /* two cells 100 m apart: E in 5 minutes and F in 20; F is listed first */
    a = msh_fc_alerts_new();
    msh_fc_grid g[MSH_FC_NH];
    memset(g, 0, sizeof g);
    uint32_t dx, dy;
    msh_fc_cell_at(39.871, 21.42, &dx, &dy);
    msh_fc_out e = {cx, cy, (float)(1.5 * area)}, f = {dx, dy, (float)(3.0 * area)};
    g[1] = (msh_fc_grid){&e, 1};
    g[4] = (msh_fc_grid){&f, 1};
    CHECK(msh_fc_alerts_step(a, g, 5000, NULL, NULL) == MSH_OK);
    CHECK(msh_fc_alerts_list(a, &l, &n) == MSH_OK && n == 2);
    CHECK(l[0].level == 'F' && l[0].minutes == 20 && l[1].level == 'E' && l[1].minutes == 5);
    CHECK(l[0].raised_ms == 5000 && l[1].raised_ms == 5000 && l[0].lon > l[1].lon);
    free(l);
    msh_fc_alerts_free(a);
}

int main(void)
{
    msh_fc_params_init(&p);
    test_warnings();
    test_warning_list();
    test_uniform_flow();
    test_bottleneck_queue();
    test_closed_edge();
    test_gate_reopens();
    test_queue_discharges_at_capacity();
    test_walkway_ends();
    test_width_cells();
    test_net_kept();
    test_no_walls_crossed();
    test_cell_index();
    test_open_ground();
    test_planned_group();
    test_planned_return();
    test_waiting_group();
    test_stay();
    test_schedule();
    test_prob();
    CHECK_DONE();
}
