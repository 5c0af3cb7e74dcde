/* grid.h: what a forecast says for one horizon: people per density cell, and the chance a cell
 * reaches level of service E or F.
 *
 * Design: a forecast grid is a flat array of base cells (level 22, the live state's cells, about
 * 8.9 m at Makkah) sorted by row then column, each with a predicted count (a float: a model moves
 * fractions of people). It is built through an accumulator and frozen sorted, so a bbox query
 * walks a contiguous range of rows. Grids are immutable once built and
 * belong to the forecast result that holds them (services/forecast_service.h). The accumulator
 * only appends; freezing sorts by a radix sort on (row, column) and merges a cell's additions,
 * which costs a few passes over memory where a hash per addition cost a cache miss each.
 *
 * Uncertainty (msh_fc_prob): analytic, not an ensemble. A predicted count n at horizon h minutes
 * is read as a normal variable with mean n and standard deviation
 *     sigma = sqrt(n + (cv(h) n)^2),  cv(h) = MSH_FC_CV0 + MSH_FC_CV_PER_MIN h,
 * the square root for the counting noise of people arriving one by one, and cv(h) for the speed
 * and inflow errors, whose effect on where people are grows with the time they travel (a 10 %
 * speed error is 10 % of the distance walked). p_e is P(density >= Fruin's E line), p_f
 * P(density > F line). An ensemble would multiply the refresh cost by its size for the same
 * shape of spread; the analytic one costs nothing and is exact at h = 0 (observed: 0 or 1).
 */
#ifndef MSH_FC_GRID_H
#define MSH_FC_GRID_H

#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"

/** The cell level forecasts are made at (the live state's base cells). */
#define MSH_FC_LEVEL 22
#define MSH_FC_CV0 0.10
#define MSH_FC_CV_PER_MIN 0.02

typedef struct msh_fc_out {
    uint32_t cx, cy; /* cell at MSH_FC_LEVEL */
    float count;     /* people predicted */
} msh_fc_out;

typedef struct msh_fc_grid {
    msh_fc_out *cells; /* sorted by cy, then cx */
    size_t n;
} msh_fc_grid;

void msh_fc_grid_free(msh_fc_grid *g);

/** Cells of g inside the cell range [cx0, cx1] x [cy0, cy1]: the index of the first and one past the last row. */
void msh_fc_grid_rows(const msh_fc_grid *g, uint32_t cy0, uint32_t cy1, size_t *from, size_t *to);

/** Collects counts per cell while a model runs (a cell may be added to many times). Not thread-safe:
 * one model run owns it. */
typedef struct msh_fc_acc {
    msh_fc_out *cells;
    size_t n, cap;
} msh_fc_acc;

void msh_fc_acc_init(msh_fc_acc *a);
void msh_fc_acc_free(msh_fc_acc *a);
/** Sort cells by row, then column (a radix sort, stable; rows and columns under 2^24). */
msh_rc msh_fc_sort(msh_fc_out *cells, size_t n);
/** Add `count` people to cell (cx, cy). */
msh_rc msh_fc_acc_add(msh_fc_acc *a, uint32_t cx, uint32_t cy, float count);
/** Freeze into `out` (sorted, one entry a cell: additions summed), leaving out cells under min_count
 * people; the accumulator is emptied. */
msh_rc msh_fc_acc_finish(msh_fc_acc *a, float min_count, msh_fc_grid *out);

/** The chance that a cell of area_m2 holding a predicted `count` at `minutes` ahead is at level E or worse
 * (*p_e) and at F (*p_f). At minutes 0 (observed) they are 0 or 1. */
void msh_fc_prob(double count, double area_m2, int minutes, double *p_e, double *p_f);

/** Finds cells in a sorted cell array (sorted by row, then column; no cell twice) in a few steps:
 * per row in the array's span, where its cells start. Built once for an array that does not change. */
typedef struct msh_fc_index {
    uint32_t y0, rows;  /* the first row, and how many */
    uint32_t *row_off;  /* rows + 1: the first cell of each row */
    const msh_fc_out *cells;
    uint32_t x0, cols;  /* the columns' span */
    uint64_t *bits;     /* rows x cols, one bit a cell: set where a cell is (NULL above 64 Mbit: rows only) */
} msh_fc_index;

msh_rc msh_fc_index_build(msh_fc_index *ix, const msh_fc_out *cells, size_t n);
void msh_fc_index_free(msh_fc_index *ix);
/** The position of cell (cx, cy) in the indexed array, -1 when it is not there (one bit read for most
 * cells that are not). */
long msh_fc_index_find(const msh_fc_index *ix, uint32_t cx, uint32_t cy);

/** Metres per degree of longitude (*kx) and of latitude (*ky) at lat: the local scale the models walk in. */
void msh_fc_m_per_deg(double lat, double *kx, double *ky);

/** The base cell holding lon/lat; the lon/lat of a cell's centre; its side in metres. */
void msh_fc_cell_at(double lon, double lat, uint32_t *cx, uint32_t *cy);
/** Where lon/lat is in base cells, with the fraction (floor gives msh_fc_cell_at's cell). */
void msh_fc_cell_frac(double lon, double lat, double *fx, double *fy);
void msh_fc_cell_centre(uint32_t cx, uint32_t cy, double *lon, double *lat);
double msh_fc_cell_side_m(uint32_t cy);

#endif
