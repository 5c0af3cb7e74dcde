/* msh_clip.h: planar polyline and polygon helpers in any units (x, y pairs of doubles), shared by
 * the vector tile pipeline (layers/tilegeom.c) and the raster renderer (layers/render/). */
#ifndef MSH_CLIP_H
#define MSH_CLIP_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Liang-Barsky: the part of segment a-b inside the square [lo, hi]^2, as the parameters
 * t0 <= t1 in [0, 1] along it; false when none of it is inside.
 */
bool msh_clip_seg(const double a[2], const double b[2], double lo, double hi, double *t0, double *t1);

/**
 * Sutherland-Hodgman against one side of a box: the ring `in` (n points, not closed) cut to
 * axis (0: x, 1: y) >= lim when keep_above, else <= lim, into `out` (room for 2 n points).
 * Crossing points lie exactly on lim. Returns the points written.
 */
size_t msh_clip_side(const double *in, size_t n, double *out, int axis, double lim, bool keep_above);

/** The point at distance s along the polyline p (n >= 1 points; clamped to its ends) and the
 * direction (radians) of the segment it lies on. */
void msh_polyline_at(const double *p, size_t n, double s, double *x, double *y, double *ang);

/**
 * The polyline p (n points; a ring when closed) moved `off` units to the right of its direction
 * (y down), as MapLibre's line-offset: each vertex along the bisector of its segments' normals by
 * off / cos(half the turn), at most 2 |off| (sharper corners are cut short). A ring may repeat its
 * first point at the end. `out` has room for n points.
 */
void msh_polyline_offset(const double *p, size_t n, double off, bool closed, double *out);

#endif
