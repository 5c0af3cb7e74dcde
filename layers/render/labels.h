/* labels.h: symbol placement for raster tiles (text with Pango and HarfBuzz, sprite icons).
 *
 * Design: the renderer hands every symbol candidate of the tile and its margin to the labeler
 * (anchor in global pixels of the zoom, so every tile computes the same numbers), then asks it
 * to place them all, then to draw each symbol layer's placed symbols when the drawing reaches
 * that layer. Placement order is tile-independent: layers higher in the style first (as
 * MapLibre), then symbol-sort-key, then feature id. A candidate's boxes (text, icon, with
 * text-padding) must not meet a box placed before it unless it allows overlap. Text sizes come
 * from Pango layouts, cached per thread by (text, font, size, width) so that candidates which are
 * only tested cost no shaping. Internal to layers/render/.
 */
#ifndef MSH_LABELS_H
#define MSH_LABELS_H

#include <cairo.h>

#include "rstyle_int.h"

typedef struct msh_labeler msh_labeler;

msh_labeler *msh_labeler_new(void);
void msh_labeler_free(msh_labeler *lb);

/** Start a tile: its global pixel origin (ox, oy at 256 px tiles), the pixel ratio, its size. */
void msh_labeler_begin(msh_labeler *lb, double ox, double oy, int ratio);

/** Add the symbol of layer `l` for the feature in `c` anchored at global pixel (ax, ay). */
msh_rc msh_labeler_add(msh_labeler *lb, const msh_rlayer *l, msh_ectx *c, double ax, double ay);

/**
 * Add the text of layer `l` for the feature in `c` along the polyline `pts` (n points, global px at
 * 256 px tiles), as symbol-placement line (every symbol-spacing px, centred on the line) or
 * line-center says; anchors farther than `margin` px outside the tile are left out. Each anchor
 * is a candidate whose text follows the line (the piece under it must not turn more than
 * text-max-angle at a vertex, and is read left to right when text-keep-upright).
 */
msh_rc msh_labeler_add_line(msh_labeler *lb, const msh_rlayer *l, msh_ectx *c, const double *pts, size_t n,
                            double margin);

/** Decide which candidates are shown. */
void msh_labeler_place(msh_labeler *lb);

/** Draw the placed symbols of style layer index `layer` on `cr` (tile pixels); returns how many texts. */
int msh_labeler_draw(msh_labeler *lb, cairo_t *cr, size_t layer);

#endif
