/* kanon.h: k-anonymity, the one rule every public aggregate of people goes through.
 *
 * The rule (msh_kanon_shown): a region whose true count is `count`, of which `shown_parts` are
 * already shown by its parts (finer cells, zones inside it), shows either its whole count or only
 * what its parts show, so that the difference (what a client can work out by subtracting the parts
 * from the whole) is 0 or at least k; a total under k is not shown at all. A base cell (no parts)
 * therefore shows its count when it is at least k and nothing otherwise.
 *
 * Movement tiles and the density heatmap read cells through msh_kanon_cells: a quadtree pyramid
 * built from the 8.9 m base cells up to the requested level, applying the rule at every level, and
 * carrying with each cell only the people it shows (count, velocity sums, spread, fullest shown
 * base cell). What a cell shows depends only on the people inside it, never on the box asked for,
 * so tiles agree with each other and every zoom level is consistent with the one below: the
 * difference between a cell and the cells of any finer level inside it is a sum of released
 * remainders, each of them 0 or a group of at least k people.
 *
 * Zone KPIs (layers/kpi) apply the same rule with the zone as the whole and its shown 8.9 m
 * cells as the parts, and the overall figure with the zones as parts (docs/KPIS.md).
 */
#ifndef MSH_KANON_H
#define MSH_KANON_H

#include <stdint.h>

#include "core/msh_err.h"
#include "live.h"

/** What may be shown of a region of `count` people whose parts already show `shown_parts`; 0: nothing. */
uint64_t msh_kanon_shown(uint64_t count, uint64_t shown_parts, int k);

/**
 * The box msh_kanon_cells reads for `level` and `box`: widened to whole cells of the level (a hair
 * inside the far edges). What a cell shows depends on the people inside it only, so the versions
 * of the chunks under this box (msh_live_region_version) change whenever what is shown can.
 */
void msh_kanon_box(int level, const double box[4], double wide[4]);

/**
 * Cells of `level` (<= 22) meeting box (world units) as k-anonymity lets them be shown, in no set
 * order; cells showing nothing are not called. count, mean velocity and variance are over the people
 * shown; peak_count is the fullest base cell shown inside (0 when none is). Takes the live read
 * lock while it copies the base cells under the box, then works unlocked. MSH_ENOMEM when the
 * copy cannot be held.
 */
msh_rc msh_kanon_cells(msh_live *l, int level, const double box[4], int k, msh_live_cell_fn fn, void *ud,
                       msh_err *err);

/** Where msh_kanon_cells_from reads base cells: every base cell meeting box, each once, through fn. */
typedef void (*msh_kanon_source)(void *src, const double box[4], msh_live_cell_fn fn, void *ud);

/** msh_kanon_cells over another source of base cells (a recorded minute: playback.h). */
msh_rc msh_kanon_cells_from(msh_kanon_source source, void *src, int level, const double box[4], int k,
                            msh_live_cell_fn fn, void *ud, msh_err *err);

/** How many times msh_kanon_cells has built a pyramid since the start (tests count builds with it). */
unsigned long long msh_kanon_pyramids(void);

#endif
