/* msh_pip.h: point in polygon, written once: the even-odd rule's step over one ring.
 *
 * A polygon (holes included, or several polygons of a multipolygon read as one set) contains a
 * point when the rays from the point cross its rings an odd number of times in all: XOR
 * msh_ring_odd over the rings. An edge is taken half-open in y (a vertex on the ray counts for
 * one of its two edges only), so a ray through a vertex is counted once, and of two polygons
 * sharing an edge exactly one contains a point on it. Used by the geofences, the KPI zones, the
 * CQL2 spatial predicates and the simulator.
 */
#ifndef MSH_PIP_H
#define MSH_PIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Does a ray from (x, y) towards +x cross ring xy[0..2n) (x, y pairs, closed or not) an odd number of times? */
static inline bool msh_ring_odd(const double *xy, uint32_t n, double x, double y)
{
    bool odd = false;
    for (uint32_t i = 0, j = n ? n - 1 : 0; i < n; j = i++) {
        double xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi)
            odd = !odd;
    }
    return odd;
}

#endif
