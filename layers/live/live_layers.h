/* live_layers.h: the live state as map layers (the msh_layer interface), so tiles,
 * the catalog and every later output read it the way they read static layers.
 *
 * - movement: density cells (polygons) with count, density (persons/m2), los (Fruin
 *   walkway A-F), speed and heading (of the mean velocity), pressure (Helbing: density x
 *   variance of the velocities, 1/s2). Cells are 2^(z+6) around the world at zoom z
 *   (64 a tile side), never finer than the 2^22 base grid (8.9 m at Makkah). Each cell shows
 *   what k-anonymity lets it show (kanon.h): never fewer than k people, and never a
 *   difference under k with the cells of another zoom.
 * - positions: individual people (ops role only).
 * - incidents, crews, gates, sensors: points with their latest state.
 * - sensor_readings: every reading of the season (sensor_history.h; only when one is given), its
 *   `time` for datetime queries; its version changes with any reading.
 * Each layer's region_version is a hash of what a tile over the box would carry (ids, geometry,
 * values; for positions, the versions of the density chunks under it), so a live ETag changes
 * exactly when the tile's content does.
 */
#ifndef MSH_LIVE_LAYERS_H
#define MSH_LIVE_LAYERS_H

#include "layer.h"
#include "live.h"
#include "playback.h"
#include "sensor_history.h"

/** Make the live layers over `live` and `hist` (borrowed: they must outlive them; hist NULL: no
 * sensor_readings layer). k: the smallest cell count shown. */
msh_rc msh_live_layers_new(msh_live *live, msh_sensor_history *hist, int k_anon, msh_layer ***layers, size_t *n,
                           msh_err *err);

/**
 * The cells the movement layer shows for a tile at zoom z over box, as k-anonymity lets them be shown
 * (the ones its features are drawn from). A region_version of the same z and box just before, on the
 * same thread, built them: they are taken from there rather than built again. MSH_EINVAL when
 * `movement` is not the movement layer.
 */
msh_rc msh_live_movement_cells(msh_layer *movement, int z, const double box[4], msh_live_cell_fn fn, void *ud,
                               msh_err *err);

/**
 * The movement layer as it was at a recorded minute (playback.h): the same fields, cells and
 * k-anonymity, drawn from `minute` instead of the live state, so its tile is the live tile of that
 * minute. Its region version names the minute, the level and the box (not salted per process: a
 * past tile's ETag holds across restarts). Takes over the caller's reference to `minute`, also on
 * failure; release the layer with msh_layer_release.
 */
msh_rc msh_live_movement_past(msh_layer *movement, msh_pb_minute *minute, msh_layer **out, msh_err *err);

#endif
