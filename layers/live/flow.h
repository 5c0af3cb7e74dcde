/* flow.h: which way the crowd moves, cell by cell, for the flow arrows of the operations map, and
 * where two streams meet head on (counter-flow: the flows that built the 2015 Mina crush).
 *
 * The input is the movement layer's cells as k-anonymity lets them be shown (kanon.h), 64 a tile
 * side; each flow cell gathers 8 x 8 of them (8 a tile side: an arrow every 32 px). Its velocity is
 * the people-weighted mean of its cells'; it shows counter-flow when two of its cells, each moving at
 * MSH_FLOW_MIN_SPEED or more, head more than 135 degrees apart. Cells hidden by k-anonymity take no
 * part, so a flow cell says nothing the movement tiles do not.
 */
#ifndef MSH_FLOW_H
#define MSH_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "live.h"

/** Below this speed (m/s) a cell stands: it has no direction, and no say in counter-flow. */
#define MSH_FLOW_MIN_SPEED 0.3
/** Movement cells a flow cell gathers, as a power of two each side (8 x 8). */
#define MSH_FLOW_SHIFT 3

typedef struct msh_flow_cell {
    uint32_t level, cx, cy; /* the flow cell's grid (the input's level - MSH_FLOW_SHIFT) */
    uint64_t count;
    double vx, vy;          /* people-weighted mean velocity, m/s east and north */
    bool counter;           /* two of its moving cells head more than 135 degrees apart */
    double axis;            /* with counter: the heading of one of those two, degrees from north (0..360) */
} msh_flow_cell;

/** Gather `cells` (one level) into flow cells; *out is malloc'd (free it), sorted by (cy, cx). */
msh_rc msh_flow_gather(const msh_live_cell *cells, size_t n, msh_flow_cell **out, size_t *nout, msh_err *err);

#endif
