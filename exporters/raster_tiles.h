/* raster_tiles.h: the export walk's PNG maker: tiles drawn from a style by the server's renderer.
 *
 * Each worker thread of the walk (export.h) gets its own renderer (layers/render/raster.h), and
 * draws z/x/y of the style over the catalog snapshot at the pixel ratio given: the PNG bytes are
 * those /styles/{name}/{z}/{x}/{y}.png (or @2x.png) answers, as the route calls the same
 * msh_raster_render. A tile on which nothing was painted (no background layer, no feature, no
 * label: every pixel clear) is blank and skipped; a tile with only the background is kept, and
 * stored once however many there are (the walk's deduplication).
 */
#ifndef MSH_RASTER_TILES_H
#define MSH_RASTER_TILES_H

#include "catalog.h"
#include "export.h"
#include "rstyle.h"

typedef struct msh_raster_tiles {
    const msh_rstyle *style;
    const msh_catalog *cat;
    int ratio; /* 1: 256 px, 2: 512 px */
} msh_raster_tiles;

/** The maker drawing rt's tiles; rt must outlive the walk. */
msh_export_maker msh_raster_tiles_maker(msh_raster_tiles *rt);

#endif
