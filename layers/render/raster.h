/* raster.h: a map tile drawn from a compiled MapLibre style (rstyle.h) with Cairo, as PNG.
 *
 * Design: one msh_raster per worker thread holds everything a render needs and reuses it
 * (Cairo image surfaces for 256 and 512 px, a Pango context and label scratch, the PNG
 * encoder, heatmap buffers), so a tile allocates almost nothing. A render reads the catalog
 * snapshot it is given (layers by their source-layer name) and never writes to the style.
 *
 * Zoom: a 256 px tile at zoom z shows the map at MapLibre zoom z - 1 (MapLibre's world is
 * 512 px wide at zoom 0), as tileserver-gl renders 256 px tiles; the style's zoom-dependent
 * values, minzoom and maxzoom are read at that zoom (at least 0). A 512 px (@2x) tile is the same
 * picture at pixel ratio 2. Layers are queried at the tile's own zoom z, as vector tiles are.
 *
 * Labels are placed over the tile and a margin, in an order that does not depend on the tile
 * (see labels.c), so neighbouring tiles take the same decisions near their common edge.
 */
#ifndef MSH_RASTER_H
#define MSH_RASTER_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "core/msh_err.h"
#include "rstyle.h"

typedef struct msh_raster msh_raster;

/** Per-thread renderer; NULL when out of memory. */
msh_raster *msh_raster_new(void);
void msh_raster_free(msh_raster *r);

typedef struct msh_raster_stats {
    uint64_t features; /* drawn */
    uint64_t labels;   /* text labels drawn */
    uint64_t backgrounds; /* background layers painted (none, no feature and no label: a clear tile) */
    uint64_t draw_ns;  /* thread CPU time spent querying and drawing (measured only when stats are asked for) */
    uint64_t png_ns;   /* thread CPU time spent encoding the PNG */
} msh_raster_stats;

/**
 * Draw tile z/x/y of `style` with the layers of `cat` at pixel ratio `ratio` (1: 256 px,
 * 2: 512 px) and encode it as PNG. *png (len bytes) belongs to `r` and stays valid until its
 * next render. Style layers whose source layer is not in the catalog are skipped.
 */
msh_rc msh_raster_render(msh_raster *r, const msh_rstyle *style, const msh_catalog *cat, int z, uint32_t x, uint32_t y,
                         int ratio, const uint8_t **png, size_t *len, msh_raster_stats *stats, msh_err *err);

/** The box (world units) a render of z/x/y reads data from: the tile and its label margin. */
void msh_raster_read_box(int z, uint32_t x, uint32_t y, double box[4]);

#endif
