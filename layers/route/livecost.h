/* livecost.h: walking costs from the live state, per edge of the walking graph.
 *
 * Each edge is cut into pieces no longer than half a density cell (level 22, about 4 m at
 * Makkah); a piece takes length / v(rho) seconds, with rho the density of the cell it lies
 * in and v Weidmann's relation (docs/HAJJ-FACTS.md):
 *     v = 1.34 m/s x (1 - exp(-1.913 x (1/rho - 1/5.4))), never under min_speed.
 * An edge that crosses a cell at Fruin level of service F (over 2.15 persons/m2) is avoided:
 * its search cost is multiplied by avoid_factor, so a route takes it only when no other way
 * exists (its reported time stays the real one). An active incident (not resolved) of at
 * least close_severity closes every edge within close_radius_m of it: cost INFINITY.
 */
#ifndef MSH_LIVECOST_H
#define MSH_LIVECOST_H

#include <stdbool.h>
#include <stdint.h>

#include "graph.h"
#include "live/live.h"

typedef struct msh_livecost_cfg {
    double free_speed;     /* m/s on an empty walkway (1.34) */
    double min_speed;      /* m/s floor in the densest crowd (0.1: speed does not reach zero) */
    double avoid_factor;   /* search cost multiplier of edges at level of service F (1000) */
    double close_radius_m; /* edges this close to an active incident are closed (50) */
    int close_severity;    /* incidents of at least this severity close edges (2 = medium) */
    double gate_radius_m;  /* edges this close to a closed gate are closed (15) */
} msh_livecost_cfg;

void msh_livecost_cfg_init(msh_livecost_cfg *c);

/** Weidmann's walking speed at density rho (persons/m2), floored at min_speed. */
double msh_weidmann_speed(const msh_livecost_cfg *c, double rho);

typedef struct msh_livecost {
    float *w;           /* per edge: search cost, seconds (with the level-of-service F penalty; INFINITY = closed) */
    float *secs;        /* per edge: walking time, seconds (INFINITY = closed) */
    double min_w_per_m; /* 1 / free_speed: the A* bound */
    uint32_t slowed;    /* edges slower than free flow */
    uint32_t avoided;   /* edges at level of service F */
    uint32_t closed;    /* edges closed by incidents */
    uint32_t incidents; /* active incidents that closed edges */
    uint32_t gates_closed;  /* gates closed by operators (gateclose.h) */
    uint32_t *edge_gate;    /* per edge: 1 + the index in gate_ids of the gate that closed it, 0 none; NULL: no gate */
    int64_t *edge_reopens;  /* per edge a gate closed: until when it is planned to stay closed (Unix ms; INT64_MAX:
                             * no planned end, gateclose.h), 0 none; NULL: no gate */
    char (*gate_ids)[MSH_FEED_ID_MAX + 1];
} msh_livecost;

/**
 * Costs for every edge of `g` from `live` (NULL: free flow everywhere). Takes the live read lock.
 * `out` is filled with new arrays; free them with msh_livecost_clear.
 */
msh_rc msh_livecost_compute(const msh_graph *g, struct msh_live *live, const msh_livecost_cfg *c, msh_livecost *out,
                            msh_err *err);
void msh_livecost_clear(msh_livecost *lc);
/** Close edge e (w and secs INFINITY), counting it in lc->closed once. */
void msh_livecost_close(msh_livecost *lc, uint32_t e);

/**
 * Who stands inside a closed area may walk out of it, and a destination inside one may be reached:
 * a copy of lc->w where the closed edges joined (through closed edges only) to the `n` ends get
 * their free-flow time times avoid_factor; every other closure stays closed. NULL when no end is
 * in a closure (use lc->w). *opened counts the edges opened. The caller frees the copy.
 */
float *msh_livecost_open_ends(const msh_graph *g, const msh_livecost *lc, const msh_livecost_cfg *cfg,
                              const msh_snap *ends, int n, uint32_t *opened);

/** Walking time of a path from lc->secs (must be set) and the metres walked on each edge. */
double msh_livecost_path_secs(const msh_graph *g, const msh_livecost *lc, const msh_path *p);

#endif
