/* stamp.h: circles (map dots) drawn as MapLibre draws them, by copying a picture made once.
 *
 * Design: a z14 tile over Mina carries two thousand asset dots of a few pixels. Filling each as a
 * Cairo path cost a path, a polygon and a scan conversion per dot (6 of 14 ms of such a tile). A
 * dot's picture depends only on its paint (fill colour, radius, ring colour and width) and where
 * its centre falls inside a pixel, so it is computed once per paint at 4 x 4 quarter-pixel
 * positions of the centre, and each dot is then blended (premultiplied source-over) straight into
 * the tile's pixels: about 50 pixel blends for a 6 px dot. The centre is rounded to a quarter
 * pixel (at most an eighth of a pixel off). Dots are blended in feature order, each with its ring,
 * as MapLibre stacks them.
 *
 * The picture is MapLibre's own circle: every pixel takes the colour MapLibre GL's circle shader
 * gives the fragment at its centre (an edge fading over the outermost pixel, the ring blending in
 * over the pixel inside the radius), so a dot of 1.5 px looks as light in a PNG tile as on the web
 * map, where geometric antialiasing would draw it half a pixel wider all round.
 *
 * A cache of these pictures lives in each renderer (one per worker thread), keyed by paint, so a
 * layer whose paint changes with the feature (asset kind and status) makes a handful of pictures
 * once and reuses them tile after tile. Dots larger than MSH_STAMP_MAX_R are left to Cairo.
 */
#ifndef MSH_STAMP_H
#define MSH_STAMP_H

#include <stdbool.h>
#include <stdint.h>

/** Largest extent (radius plus ring width, px) drawn as a stamp. */
#define MSH_STAMP_MAX_R 16.0

/** A dot's paint: fill colour (r, g, b, a in 0..1, opacity included), radius (px), ring colour, ring width (px), blur. */
typedef struct msh_dot_paint {
    double fill[4];
    double radius;
    double ring[4];
    double ring_width;
    double blur;        /* circle-blur: the share of R over which the edge fades (at least 1 px) */
} msh_dot_paint;

typedef struct msh_stamps msh_stamps;
typedef struct msh_stamp msh_stamp;

msh_stamps *msh_stamps_new(void);
void msh_stamps_free(msh_stamps *s);

/** The pictures of a dot of paint `p` (each drawn on first use); NULL when out of memory, too large
 * or not finite (Cairo takes those). Owned by `s`, valid until the next get. */
msh_stamp *msh_stamps_get(msh_stamps *s, const msh_dot_paint *p);

/**
 * Blend the dot centred at (cx, cy) (pixels, y down), drawing its picture at that quarter-pixel
 * position first if no dot needed it before, into a premultiplied ARGB32 image
 * (Cairo's CAIRO_FORMAT_ARGB32: `w` x `h`, rows `stride` bytes apart); parts outside are cut.
 */
void msh_stamp_blit(msh_stamp *st, uint8_t *data, int w, int h, int stride, double cx, double cy);

#endif
