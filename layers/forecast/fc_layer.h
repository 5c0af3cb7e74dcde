/* fc_layer.h: one horizon of a forecast as map cells at any zoom, and as a layer for vector tiles.
 *
 * Design: the forecast is made on the 8.9 m base cells (grid.h). A map at zoom z shows cells of
 * level min(22, z + 6), as the movement tiles do (64 cells a tile side; from z16 on, the base cells
 * themselves). msh_fc_cells_in sums the base cells inside each cell of the asked level over a box:
 * the people (count), the density over the bigger cell (count / its area) and its level of service,
 * and, as the chance of E and F, the highest of its base cells' (msh_fc_prob): a crush in one 8.9 m
 * cell must not be averaged away by the empty cells around it. k-anonymity as /forecast/density:
 * base cells under k people are left out before anything is summed, so no sum ever carries a
 * hidden cell; at the base level the cells and their values are exactly /forecast/density's.
 *
 * msh_fc_layer wraps one grid (one model, one horizon of one published result) as an msh_layer
 * named `forecast` (Polygon; count, density, los, p_e, p_f, minutes, issued_at), so the vector tile
 * path (ETag, tile cache, gzip, 304) serves it like any live layer. Its region version is the issue
 * time, the horizon, k, the zoom and the box, salted with a per-process epoch: a tile changes when
 * a new forecast is published, never in between. The layer borrows the grid: it lives on the
 * request's stack while the caller holds the result, and is never retained.
 */
#ifndef MSH_FC_LAYER_H
#define MSH_FC_LAYER_H

#include "core/msh_err.h"
#include "core/msh_time.h"
#include "forecast/grid.h"
#include "layer.h"

/** Cells of one box at one level a query may sum over (about 1000 x 1000): beyond, MSH_ETOOBIG. */
#define MSH_FC_BOX_MAX_CELLS ((size_t)1 << 20)
#define MSH_FC_LAYER_NFIELDS 7

/** One cell of the asked level: its place, the people summed, and what they make. */
typedef struct msh_fc_map_cell {
    int level;
    uint32_t cx, cy;
    double count, density, side_m; /* people, persons/m2, the cell's side in metres */
    double p_e, p_f;               /* the highest chance of E / F among its base cells */
} msh_fc_map_cell;

typedef int (*msh_fc_map_cell_fn)(void *ud, const msh_fc_map_cell *c);

/** The map level of zoom z: min(22, z + 6). */
int msh_fc_level_of_zoom(int z);
/**
 * Call fn, row by row, for every cell of `level` (0..22) meeting the world box (minx, miny, maxx,
 * maxy) that holds people in g's base cells of at least k people (`minutes`: the horizon, for
 * p_e and p_f). A non-zero return of fn stops. MSH_ETOOBIG past MSH_FC_BOX_MAX_CELLS; MSH_ENOMEM.
 */
msh_rc msh_fc_cells_in(const msh_fc_grid *g, int level, const double box[4], int k, int minutes, msh_fc_map_cell_fn fn,
                       void *ud, msh_err *err);

typedef struct msh_fc_layer {
    msh_layer base;
    const msh_fc_grid *g; /* borrowed */
    int minutes, k;
    char issued[MSH_TIME_ISO_CAP];
    uint64_t version;
    msh_field fields[MSH_FC_LAYER_NFIELDS];
} msh_fc_layer;

/** The `forecast` layer of grid g (horizon `minutes`, made from the live state at issued_ms). */
void msh_fc_layer_init(msh_fc_layer *l, const msh_fc_grid *g, int minutes, int64_t issued_ms, int k);

#endif
