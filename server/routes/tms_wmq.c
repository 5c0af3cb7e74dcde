/* tms_wmq.c: WebMercatorQuad numbers and tileset limits (tms_wmq.h). */
#include "routes/tms_wmq.h"

#include "core/msh_tilemath.h"

/* 2 * pi * 6378137 / 256 metres per pixel at zoom 0, and that over 0.28 mm */
#define CELL0 156543.03392804097
#define SCALE0 559082264.0287178

double msh_wmq_scale(int z)
{
    return SCALE0 / (double)((uint64_t)1 << z);
}

double msh_wmq_cell(int z)
{
    return CELL0 / (double)((uint64_t)1 << z);
}

void msh_wmq_limits(const double bb[4], int z, uint32_t *col0, uint32_t *col1, uint32_t *row0, uint32_t *row1)
{
    msh_tile_at(bb[0], bb[3], z, col0, row0); /* north-west corner */
    msh_tile_at(bb[2], bb[1], z, col1, row1); /* south-east corner */
}

int msh_wmq_first_zoom(const double bb[4])
{
    double x0, y0, x1, y1;
    msh_lonlat_to_world(bb[0], bb[3], &x0, &y0);
    msh_lonlat_to_world(bb[2], bb[1], &x1, &y1);
    int z = 0;
    while (z < MSH_MAX_ZOOM && ((x1 - x0) * 256.0 * (double)((uint64_t)1 << z) < 1.0 ||
                                (y1 - y0) * 256.0 * (double)((uint64_t)1 << z) < 1.0))
        z++;
    return z;
}

bool msh_wmq_in_limits(const double bb[4], int minz, int maxz, int z, uint32_t row, uint32_t col)
{
    if (z < minz || z > maxz)
        return false;
    uint32_t c0, c1, r0, r1;
    msh_wmq_limits(bb, z, &c0, &c1, &r0, &r1);
    return col >= c0 && col <= c1 && row >= r0 && row <= r1;
}
