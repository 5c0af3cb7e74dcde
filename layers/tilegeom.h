/* tilegeom.h: one geometry from world units into a tile's integer grid.
 *
 * The pipeline (after PostGIS's mvt.c, in a different order so that the cheap
 * steps run on fewer vertices): transform to tile space -> clip to the tile
 * plus its buffer -> simplify (Douglas-Peucker, tolerance in tile units) ->
 * snap to the integer grid -> drop repeated points and collapsed parts ->
 * orient rings as MVT 2.1 asks (outer rings positive area in y-down tile
 * coordinates, holes negative). A polygon whose outer ring collapses is dropped
 * with its holes, so nothing invalid by construction leaves here.
 */
#ifndef MSH_TILEGEOM_H
#define MSH_TILEGEOM_H

#include <stdint.h>

#include "geom.h"

typedef struct msh_tile_xf {
    int z;
    uint32_t x, y;
    uint32_t extent;   /* grid size, 4096 */
    uint32_t buffer;   /* grid units kept beyond each edge */
    double tolerance;  /* simplification tolerance in grid units; 0 = none */
} msh_tile_xf;

/** Fill xf for tile z/x/y with the defaults: extent 4096, buffer 64, tolerance 8 (a pixel at 512 px). */
void msh_tile_xf_init(msh_tile_xf *xf, int z, uint32_t x, uint32_t y);
/** The tile plus buffer in world units, for the spatial query. */
void msh_tile_xf_query_box(const msh_tile_xf *xf, double box[4]);

/** A geometry in tile grid coordinates; parts as in msh_geom; rings are not closed. */
typedef struct msh_tgeom {
    msh_gtype type;
    msh_buf xy;    /* int32 x,y pairs */
    msh_buf parts; /* uint32 lengths, MSH_RING_OUTER on outer rings */
} msh_tgeom;

static inline uint32_t msh_tgeom_nparts(const msh_tgeom *t) { return (uint32_t)(t->parts.len / 4); }
static inline uint32_t msh_tgeom_npts(const msh_tgeom *t) { return (uint32_t)(t->xy.len / 8); }
static inline const int32_t *msh_tgeom_xy(const msh_tgeom *t) { return (const int32_t *)(const void *)t->xy.data; }
static inline const uint32_t *msh_tgeom_parts(const msh_tgeom *t) { return (const uint32_t *)(const void *)t->parts.data; }

/** Scratch memory for one thread; reuse it across calls. */
typedef struct msh_tg_ctx msh_tg_ctx;

msh_tg_ctx *msh_tg_ctx_new(void);
void msh_tg_ctx_free(msh_tg_ctx *ctx);

/**
 * Run the pipeline on `g` (world units) for tile `xf`. The result lives in the
 * context and is valid until the next call; `*out` points at it. When nothing
 * of the geometry is left in the tile, (*out)->type is MSH_GT_NONE.
 */
msh_rc msh_tilegeom_build(msh_tg_ctx *ctx, const msh_geom *g, const msh_tile_xf *xf, const msh_tgeom **out);

/** Douglas-Peucker on n points (x,y doubles): sets keep[i] for the points kept (first and last always). */
void msh_simplify_dp(const double *xy, uint32_t n, double tolerance, uint8_t *keep);

#endif
