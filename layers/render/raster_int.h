/* raster_int.h: what the parts of the raster renderer share (internal to layers/render/):
 *   raster.c          the per-thread renderer, geometry to pixels, paint batches, the render;
 *   raster_symbols.c  symbol anchors from whole features, handed to labels.c;
 *   raster_heat.c     heatmap layers with MapLibre's kernel.
 */
#ifndef MSH_RASTER_INT_H
#define MSH_RASTER_INT_H

#include <cairo.h>
#include <stdbool.h>

#include "labels.h"
#include "lines.h"
#include "png.h"
#include "raster.h"
#include "rstyle_int.h"
#include "stamp.h"

#define TILE 256.0
#define LABEL_MARGIN 256.0 /* px at ratio 1: symbols anchored this far outside are candidates */
#define HUGE_PX 1048576.0  /* past this a geometry is clipped before Cairo sees it */
#define MAX_MARGIN 1024.0  /* px at ratio 1: the farthest outside the tile a feature is read from */
#define KEYN 24
#define K_GAP 20    /* line-gap-width in the line paint key (k[9..18] hold the dashes) */
#define K_OFFSET 21 /* line-offset */
#define CBUCKETS 32 /* circle paints kept apart in one layer before they are drawn */

/* The circles of one paint, waiting to be drawn. */
typedef struct cbucket {
    double key[KEYN];
    double *pts; /* x, y pairs, px */
    size_t n, cap;
} cbucket;

struct msh_raster {
    cairo_surface_t *surf[2];
    cairo_t *cr[2];
    msh_labeler *lab;
    msh_png_enc *png;
    msh_buf out;
    double *pts, *tmp; /* transformed vertices, clipping scratch (pairs) */
    size_t cap, tmpcap;
    cbucket cb[CBUCKETS]; /* circles by paint (see flush_circles) */
    int ncb;
    float *heat;
    size_t heatcap;
    msh_stamps *stamps; /* dot pictures by paint (stamp.h) */
    msh_lines *lines;   /* thin-line coverage (lines.h) */
    bool lines_ok;      /* lines is sized for this tile */
};

typedef struct job {
    msh_raster *r;
    const msh_rlayer *l;
    const msh_layer_info *info;
    cairo_t *cr;
    cairo_surface_t *surf;
    bool blitted;        /* pixels were written around Cairo (stamps, lines) since Cairo last drew */
    bool fastline;       /* the open line batch goes to lines.h, not to Cairo */
    msh_ectx ec;
    double ox, oy, sc;   /* world origin of the tile, px per world unit */
    double size;         /* tile side, px */
    int ratio;
    double key[KEYN];    /* paint of the open batch */
    bool open;           /* a batch has path in it */
    bool dyn;            /* paint reads the feature */
    double fixed[KEYN];  /* the per-tile paint when !dyn */
    double margin;       /* px */
    int z;
    msh_rc rc;
    uint64_t drawn;
} job;

/** Grow a double array to `need` elements (doubling); false when out of memory. */
bool msh_raster_grow(double **p, size_t *cap, size_t need);

/** Symbol layers, pass 1: the query callback that hands each feature's anchors to the labeler. */
int msh_raster_on_symbol(void *ud, const msh_feature *f);

/** Draw heatmap layer j->l over the tile from the points of `src` (box: the tile, world units). */
msh_rc msh_raster_draw_heatmap(job *j, msh_layer *src, const double box[4], int z);

#endif
