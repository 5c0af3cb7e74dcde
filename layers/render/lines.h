/* lines.h: thin solid lines drawn as MapLibre draws them, without Cairo's stroker.
 *
 * Design: at z14 a tile over Mina strokes some 25,000 walkway segments 2 px wide; Cairo turns each
 * polyline into a polygon (a join per vertex) and scan-converts it, which was most of the tile's
 * drawing time. A thin line needs neither: every pixel near a segment takes the coverage MapLibre
 * GL's line shader gives the fragment at its centre, clamp(w/2 + 0.5 - d, 0, 1) for a pixel d
 * pixels from the line (the edge fades over one pixel centred on the geometric edge), with d the
 * distance to the nearest segment (joins are square: a miter at a right angle), and overlapping segments and lines of one
 * batch unite (the coverage kept is the largest, not the sum). Butt caps end square at the end
 * point with no fading along the line, as MapLibre's do; round caps continue the distance rule.
 *
 * Coverage is gathered for one paint at a time in a byte buffer (rows walked only where a segment
 * can reach: an interval per row from the segment's two linear distance functions) and blended
 * into the tile (premultiplied source-over) by msh_lines_draw, which clears what it used.
 * raster.c sends solid lines up to MSH_LINES_MAX_WIDTH pixels wide here (wider ones, dashes and
 * square caps go to Cairo, where miter joins and dash patterns matter).
 */
#ifndef MSH_LINES_H
#define MSH_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Widest line (device pixels) drawn here. */
#define MSH_LINES_MAX_WIDTH 4.0

typedef struct msh_lines msh_lines;

msh_lines *msh_lines_new(void);
void msh_lines_free(msh_lines *l);

/** Start gathering for an image of `w` x `h` pixels; false when out of memory. */
bool msh_lines_begin(msh_lines *l, int w, int h);

/** Add the polyline of `n` points (x, y pairs, pixels, y down) `width` pixels wide. */
void msh_lines_add(msh_lines *l, const double *pts, size_t n, double width, bool round_cap);

/** Blend what was gathered, in colour `rgba` (straight, 0..1), into a premultiplied ARGB32 image
 * (Cairo's CAIRO_FORMAT_ARGB32, rows `stride` bytes apart) and clear it for the next paint. */
void msh_lines_draw(msh_lines *l, uint8_t *data, int stride, const double rgba[4]);

#endif
