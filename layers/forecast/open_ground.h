/* open_ground.h: people the forecast sees walking where no walkway is mapped (open ground: the
 * plains of Arafat and Muzdalifah, the squares around the Haram and the Jamarat, the ground between
 * a camp and its street).
 *
 * Design: with no walkway there is no network to route them on, and no wall in the data to stop
 * them either, so they walk straight on at the speed and heading they were seen with (capped at
 * the model's largest speed). Each group of them is one walker: a cell's people, as one point
 * with one velocity. Walkers are kept apart from the cell-transmission model's segments:
 * - Their way is worked out once, at the start (msh_fc_open_plan): the cells their straight line
 *   crosses within the run, in order, each offered to the caller's `join` until it says the
 *   walker comes onto a walkway there (ctm.c: the cell lies on one and the walker heads within 45
 *   degrees of it, either way). People crossing a walkway keep walking straight. The work is the
 *   cells crossed, not the steps (a walker at 1 m/s crosses a cell in about two steps of 5 s).
 * - At the step it reaches that cell, the caller puts the walker's people on the walkway
 *   (msh_fc_open_arrivals) and the walker leaves the open ground.
 * - At each horizon the walkers still on open ground are drawn where their line has brought them,
 *   spread evenly along their heading over +-`spread` times the distance walked (ctm.c:
 *   MSH_FC_CV0, the 10 % speed error of grid.h's uncertainty): where a crowd will be is as uncertain
 *   as its pace, and a walker drawn into one cell would show a moving group's full density at a
 *   single place it is unlikely to be exactly.
 * Slow people on no walkway are not walkers: they stay where they are (ctm.c).
 */
#ifndef MSH_FC_OPEN_GROUND_H
#define MSH_FC_OPEN_GROUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "forecast/grid.h"

#define MSH_FC_NEVER UINT32_MAX

typedef struct msh_fc_walker {
    double fx, fy;    /* where they start, in base cells (msh_fc_cell_frac) */
    double dx, dy;    /* base cells a step */
    float vx, vy;     /* m/s east and north */
    float n;          /* people */
    uint32_t join_at; /* the step they come onto a walkway, MSH_FC_NEVER: not within the run */
    uint32_t where;   /* the walkway there, as the caller's join named it */
    uint8_t how;
} msh_fc_walker;

typedef struct msh_fc_open {
    msh_fc_walker *w;
    size_t n, cap;
    double dt_s;
    double spread;  /* half the drawn spread, a share of the distance walked */
    uint64_t *by_join; /* after msh_fc_open_plan: the walkers that join (step << 32 | walker), sorted */
    size_t njoin, next;
} msh_fc_open;

/** Whether people entering cell (cx, cy) heading (vx, vy) m/s come onto a walkway there: true and
 * where/how (the caller's own names for it, handed back by msh_fc_open_arrivals) when they do. */
typedef bool (*msh_fc_join_fn)(void *ctx, uint32_t cx, uint32_t cy, float vx, float vy, uint32_t *where,
                               uint8_t *how);
/** Put n people on the walkway where/how. */
typedef void (*msh_fc_arrive_fn)(void *ctx, uint32_t where, uint8_t how, float n);

void msh_fc_open_init(msh_fc_open *o, double dt_s, double spread);
void msh_fc_open_free(msh_fc_open *o);
/** A walker of n people in cell (cx, cy) at velocity (vx, vy) m/s, capped at max_speed. */
msh_rc msh_fc_open_add(msh_fc_open *o, uint32_t cx, uint32_t cy, float vx, float vy, float n, double max_speed);
/** Every walker's way over `steps` steps: the cell and step it joins a walkway at, if any. */
msh_rc msh_fc_open_plan(msh_fc_open *o, uint32_t steps, msh_fc_join_fn join, void *ctx);
/** The walkers joining at `step` (called with 1, 2, ... in turn, after msh_fc_open_plan) go onto
 * their walkways. */
void msh_fc_open_arrivals(msh_fc_open *o, uint32_t step, msh_fc_arrive_fn arrive, void *ctx);
/** Add the people still on open ground after `step` steps to the cells along their heading. */
msh_rc msh_fc_open_draw(const msh_fc_open *o, uint32_t step, msh_fc_acc *acc);
/** The people still on open ground after `step` steps. */
double msh_fc_open_people(const msh_fc_open *o, uint32_t step);

#endif
