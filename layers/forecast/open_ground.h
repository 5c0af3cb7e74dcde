/* open_ground.h: people the forecast sees walking where no walkway is mapped (open ground: the
 * plains of Arafat and Muzdalifah, the squares around the Haram and the Jamarat, the ground between
 * a camp and its street).
 *
 * Design: with no walkway there is no network to route them on, and no wall in the data to stop
 * them either, so they walk straight on at the speed and heading they were seen with (capped at
 * the model's largest speed). Each group of them is one walker: a cell's people, as one point
 * with one velocity. Walkers are kept apart from the cell-transmission model's segments and
 * drawn into the same cells at each horizon. Whenever a walker enters a new cell, the caller's
 * `join` decides whether it now walks along a walkway (ctm.c: the cell lies on one and the
 * walker's heading is within 45 degrees of it, either way); if so the walker's people become
 * that walkway's and leave the open ground. People crossing a walkway keep walking straight.
 * Slow people on no walkway are not walkers: they stay where they are (ctm.c).
 */
#ifndef MSH_FC_OPEN_GROUND_H
#define MSH_FC_OPEN_GROUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "forecast/grid.h"

typedef struct msh_fc_walker {
    double lon, lat;   /* where they are */
    double dlon, dlat; /* how far they go in one step, degrees */
    float vx, vy;      /* m/s east and north */
    float n;           /* people */
    uint32_t cx, cy;   /* the cell they are in (MSH_FC_LEVEL) */
} msh_fc_walker;

typedef struct msh_fc_open {
    msh_fc_walker *w;
    size_t n, cap;
    double dt_s;
} msh_fc_open;

/** Called as a walker enters cell (cx, cy): true when its people now walk on a walkway (the callee
 * has put them there); the walker is then dropped. */
typedef bool (*msh_fc_join_fn)(void *ctx, uint32_t cx, uint32_t cy, float vx, float vy, float n);

void msh_fc_open_init(msh_fc_open *o, double dt_s);
void msh_fc_open_free(msh_fc_open *o);
/** A walker of n people in cell (cx, cy) at velocity (vx, vy) m/s, capped at max_speed. */
msh_rc msh_fc_open_add(msh_fc_open *o, uint32_t cx, uint32_t cy, float vx, float vy, float n, double max_speed);
/** One step of dt_s: everyone walks on; those entering a cell `join` takes leave the open ground. */
void msh_fc_open_step(msh_fc_open *o, msh_fc_join_fn join, void *ctx);
/** Add every walker's people to their cell. */
msh_rc msh_fc_open_draw(const msh_fc_open *o, msh_fc_acc *acc);
/** The people walking on open ground. */
double msh_fc_open_people(const msh_fc_open *o);

#endif
