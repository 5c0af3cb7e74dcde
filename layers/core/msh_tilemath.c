/* msh_tilemath.c: Web Mercator tile arithmetic. */
#include "msh_tilemath.h"
#include "core/msh_constants.h"

#include <math.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif


void msh_lonlat_to_world(double lon, double lat, double *wx, double *wy)
{
    if (lat > MSH_MAX_LAT)
        lat = MSH_MAX_LAT;
    if (lat < -MSH_MAX_LAT)
        lat = -MSH_MAX_LAT;
    double s = sin(lat * M_PI / 180.0);
    *wx = lon / 360.0 + 0.5;
    *wy = 0.5 - 0.25 * log((1.0 + s) / (1.0 - s)) / M_PI;
    if (*wy < 0.0) /* rounding at the clamped latitude */
        *wy = 0.0;
    if (*wy > 1.0)
        *wy = 1.0;
}

void msh_world_to_lonlat(double wx, double wy, double *lon, double *lat)
{
    *lon = (wx - 0.5) * 360.0;
    double n = M_PI - 2.0 * M_PI * wy;
    *lat = 180.0 / M_PI * atan(0.5 * (exp(n) - exp(-n)));
}

bool msh_tile_valid(int z, int64_t x, int64_t y)
{
    if (z < 0 || z > MSH_MAX_ZOOM)
        return false;
    int64_t n = (int64_t)1 << z;
    return x >= 0 && y >= 0 && x < n && y < n;
}

void msh_tile_world_bounds(int z, uint32_t x, uint32_t y, double *minx, double *miny, double *maxx, double *maxy)
{
    double n = (double)((uint64_t)1 << z);
    *minx = x / n;
    *miny = y / n;
    *maxx = (x + 1.0) / n;
    *maxy = (y + 1.0) / n;
}

void msh_tile_lonlat_bounds(int z, uint32_t x, uint32_t y, double *w, double *s, double *e, double *n)
{
    double minx, miny, maxx, maxy;
    msh_tile_world_bounds(z, x, y, &minx, &miny, &maxx, &maxy);
    msh_world_to_lonlat(minx, maxy, w, s);
    msh_world_to_lonlat(maxx, miny, e, n);
}

void msh_tile_at(double lon, double lat, int z, uint32_t *x, uint32_t *y)
{
    double wx, wy;
    msh_lonlat_to_world(lon, lat, &wx, &wy);
    double n = (double)((uint64_t)1 << z);
    double fx = floor(wx * n), fy = floor(wy * n);
    if (fx < 0) fx = 0;
    if (fy < 0) fy = 0;
    if (fx > n - 1) fx = n - 1;
    if (fy > n - 1) fy = n - 1;
    *x = (uint32_t)fx;
    *y = (uint32_t)fy;
}

double msh_world_per_metre(double lat)
{
    return 1.0 / (MSH_EARTH_CIRCUMFERENCE * cos(lat * M_PI / 180.0));
}
