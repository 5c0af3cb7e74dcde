/* seg_grid.h: a uniform grid over a fixed set of boxes (the segments of the counting lines), asked
 * which of them a short move's box may meet.
 *
 * Design. The counting lines' move observer (counting.h) is called for every accepted position; it
 * tested every line's box for each one (256 lines: +83 % on a position's apply at 3 M people). The
 * grid covers the union of the boxes with at most MSH_SEG_GRID_SIDE cells a side; each cell lists,
 * in ascending order, the boxes that meet it, each box grown by MSH_SEG_GRID_PAD world units (a few
 * hundredths of a millimetre: a crossing found by the segment test lies in the segment's box up to
 * rounding, so no box that could yield one is left out). A query takes the cells under the move's
 * box: outside the union, none; a move within one cell (the usual walker's step) reads that
 * cell's list; a move over several cells merges their lists (each box once, ascending); a move over
 * more than MSH_SEG_GRID_MANY cells tests every box. The answer is always in ascending order, the
 * order the boxes were given, so the caller does its work in the order it did without the grid.
 *
 * Memory: 4 bytes per (box, cell it meets) plus 4 per cell and 8 per box. Built once per set of
 * lines (msh_seg_grid_build); queries write the grid's scratch (the answer and a per-box stamp),
 * so one query at a time: the counting lines query under the live write lock.
 */
#ifndef MSH_SEG_GRID_H
#define MSH_SEG_GRID_H

#include <stdint.h>

#include "core/msh_err.h"

#define MSH_SEG_GRID_SIDE 64
#define MSH_SEG_GRID_MANY 16
#define MSH_SEG_GRID_PAD 1e-12

typedef struct msh_seg_grid {
    double x0, y0, x1, y1;  /* the union of the grown boxes */
    double inv;             /* cells per world unit */
    uint32_t nx, ny;
    uint32_t *first;        /* nx * ny + 1 offsets into ids */
    uint32_t *ids;          /* box numbers, cell by cell (row-major), ascending within a cell */
    double (*box)[4];       /* the grown boxes: minx, miny, maxx, maxy */
    uint32_t n;
    uint32_t *hits;         /* the last answer */
    uint32_t *seen;         /* per box: the query that last put it in hits */
    uint32_t stamp;
} msh_seg_grid;

/** The grid of n boxes (minx, miny, maxx, maxy in world units); *g is zeroed first. n may be 0. */
msh_rc msh_seg_grid_build(msh_seg_grid *g, const double (*box)[4], uint32_t n, msh_err *err);
void msh_seg_grid_free(msh_seg_grid *g);
/** The numbers of the boxes that may meet `box` (every one that does, grown by MSH_SEG_GRID_PAD), in
 * ascending order; *n says how many. Valid until the next query. */
const uint32_t *msh_seg_grid_query(msh_seg_grid *g, const double box[4], uint32_t *n);

#endif
