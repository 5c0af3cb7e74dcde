/* msh_tilemath.h: Web Mercator tile arithmetic (XYZ scheme, y down).
 *
 * "World" coordinates are Web Mercator normalised to the unit square:
 * wx in [0,1) west to east, wy in [0,1) north to south. Tile (z,x,y) covers
 * [x/2^z, (x+1)/2^z) x [y/2^z, (y+1)/2^z). Keeping the world in unit doubles
 * makes tile space a multiply and an add.
 */
#ifndef MSH_TILEMATH_H
#define MSH_TILEMATH_H

#include <stdbool.h>
#include <stdint.h>

#define MSH_MAX_ZOOM 24
#define MSH_MAX_LAT 85.0511287798066

/** lon/lat (degrees, EPSG:4326) to world units; latitude clamped to the Mercator limit. */
void msh_lonlat_to_world(double lon, double lat, double *wx, double *wy);
/** world units back to lon/lat degrees. */
void msh_world_to_lonlat(double wx, double wy, double *lon, double *lat);
/** true when z is in [0, MSH_MAX_ZOOM] and x, y are in [0, 2^z). */
bool msh_tile_valid(int z, int64_t x, int64_t y);
/** The tile's bounds in world units. */
void msh_tile_world_bounds(int z, uint32_t x, uint32_t y, double *minx, double *miny, double *maxx, double *maxy);
/** The tile's bounds in lon/lat (west, south, east, north). */
void msh_tile_lonlat_bounds(int z, uint32_t x, uint32_t y, double *w, double *s, double *e, double *n);
/** The tile containing lon/lat at zoom z. */
void msh_tile_at(double lon, double lat, int z, uint32_t *x, uint32_t *y);
/** Ground size of one metre in world units at latitude lat (for metre tolerances). */
double msh_world_per_metre(double lat);

#endif
