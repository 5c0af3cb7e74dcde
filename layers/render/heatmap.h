/* heatmap.h: heatmap tiles: crowd density coloured by Fruin level of service, and kernel
 * density of point layers. Pure pixels: the server (server/routes_heatmap.c) turns them into
 * HTTP; the PNG comes from png.h.
 *
 * Design note: no seams. A pixel's value is a function of its centre in world coordinates and
 * of the zoom only, never of the tile it is drawn in:
 *   - density: the live density cells of one grid level per zoom (2^min(22, z+7) around the
 *     world: 128 cells a tile side, 2 px a cell at 256 px; from z15 on the 8.9 m base cells)
 *     are read over the tile plus one cell of margin. Smooth mode is normalised bilinear
 *     interpolation between cell centres: occupancy W = sum of the bilinear weights of the
 *     occupied cells (count >= k), value = sum(weight x density) / W, shown where W >= 1/2 (the
 *     edge of a crowd lies on the edge of its cells; one lone cell keeps its own density
 *     everywhere it shows). Cells mode paints each cell's own colour. The colour is the Fruin
 *     walkway level A..F of the value (msh_fruin_los, docs/HAJJ-FACTS.md), transparent where
 *     nobody is.
 *   - kernel density: a quartic (biweight) kernel K = (1 - d^2/r^2)^2 in metres around each
 *     point (weight w), summed; points within r outside the tile are included. Where r is
 *     under 2 px at the zoom, the kernel is widened to 2 px and scaled down by (r/r_e)^2 so it
 *     carries the same mass (points stay visible, totals stay put). The ramp maps t = I / max
 *     (max from the request, default MSH_HEAT_DEFAULT_MAX: never a per-tile maximum) onto
 *     viridis, alpha rising as sqrt(2t), fully transparent where I = 0.
 * Pixel centres are computed as (tile * size + px + 0.5) / (2^z * size) in doubles: exact, so
 * 2x2 tiles at z+1 and the @2x tile at z give identical pixels wherever the cell level is the same.
 */
#ifndef MSH_HEATMAP_H
#define MSH_HEATMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"

struct msh_live;

#define MSH_HEAT_DEFAULT_RADIUS 50.0 /* metres */
#define MSH_HEAT_MIN_RADIUS 1.0
#define MSH_HEAT_MAX_RADIUS 2000.0
#define MSH_HEAT_DEFAULT_MAX 5.0    /* kernel sum (about 5 coincident points) that saturates the ramp */
#define MSH_HEAT_MAX_POINTS 2000000 /* points one kernel tile may draw */
#define MSH_HEAT_MAX_WORK 2.0e8     /* pixel evaluations one kernel tile may take (about 0.3 s) */

/* ---- paths and query strings ---- */

typedef enum {
    MSH_HEAT_TILE = 0,    /* /heatmaps/{layer}/{z}/{x}/{y}[@2x].png */
    MSH_HEAT_LEGEND_JSON, /* /heatmaps/density/legend */
    MSH_HEAT_LEGEND_PNG   /* /heatmaps/density/legend.png */
} msh_heat_kind;

typedef struct msh_heat_path {
    msh_heat_kind kind;
    char layer[64]; /* "density" for the crowd heatmap, else a point layer's name */
    int z;
    uint32_t x, y;
    int scale; /* 1 (256 px) or 2 (@2x, 512 px) */
} msh_heat_path;

/** Parse what follows "/heatmaps/". MSH_EINVAL with a message for anything malformed. */
msh_rc msh_heat_path_parse(const char *rest, msh_heat_path *out, msh_err *err);

typedef enum { MSH_HEAT_SMOOTH = 0, MSH_HEAT_CELLS = 1 } msh_heat_mode;

typedef struct msh_heat_params {
    double radius_m;    /* kernel radius, metres */
    double max;         /* kernel sum shown at the top of the ramp */
    const char *weight; /* numeric field weighting each point, or NULL (borrowed) */
    const char *filter; /* CQL2 text, or NULL (borrowed, filter_len bytes) */
    size_t filter_len;
    msh_heat_mode mode; /* density: smooth or cells */
    bool png;           /* legend: f=png */
    unsigned seen;      /* parameters given (duplicates are refused) */
} msh_heat_params;

void msh_heat_params_init(msh_heat_params *p);
/**
 * Take one query argument (value NULL for "?key"). `density` selects the crowd heatmap's
 * parameters (mode, f) instead of the kernel's (radius, max, weight, filter). Values are
 * borrowed. MSH_EINVAL naming the parameter for unknown names, repeats and bad values.
 */
msh_rc msh_heat_param(msh_heat_params *p, bool density, const char *key, const char *value, msh_err *err);
/** A canonical text of the parameters for cache keys (the filter as a 128-bit hash and length). */
void msh_heat_params_key(const msh_heat_params *p, bool density, char *out, size_t cap);

/* ---- colour ramps ---- */

typedef struct msh_heat_level {
    char los;        /* 'A'..'F' */
    double lo, hi;   /* persons/m2: lo <= d < hi (E includes 2.15; F has hi = INFINITY) */
    uint8_t rgba[4]; /* straight alpha */
    const char *label_en, *label_ar;
} msh_heat_level;

/** The six Fruin walkway levels with their colours (index 0 = A). */
const msh_heat_level *msh_heat_levels(void);
/** The RGBA colour of a density (persons/m2); transparent for d <= 0. */
void msh_heat_density_colour(double d, uint8_t rgba[4]);
/** The kernel ramp at t = I / max (clamped); transparent for i <= 0. */
void msh_heat_kde_colour(double i, double max, uint8_t rgba[4]);
/** The source the Fruin thresholds come from (for legends). */
extern const char MSH_HEAT_FRUIN_SOURCE[];
/**
 * The density legend as a PNG appended to `out` (heatmap_legend.c, Pango + Cairo): one row per
 * level with its swatch, range in persons/m2 and label in English and Arabic (shaped, right to
 * left), the source underneath. `scale` 1 or 2.
 */
msh_rc msh_heat_legend_png(int scale, msh_buf *out, msh_err *err);

/* ---- density ---- */

/** Density cells over one tile plus a margin: a dense grid of persons/m2 (< 0: nobody / hidden). */
typedef struct msh_heat_grid {
    int level;      /* 2^level cells around the world */
    int64_t ox, oy; /* cell coordinates of grid[0] */
    uint32_t nx, ny;
    float *density; /* nx * ny, owned */
} msh_heat_grid;

/** The cell level the density heatmap reads at zoom z. */
int msh_heat_density_level(int z);
/** The grid covering tile (z, x, y) plus one cell of margin, all cells empty (density -1). */
msh_rc msh_heat_grid_init(msh_heat_grid *g, int z, uint32_t x, uint32_t y, msh_err *err);
void msh_heat_grid_free(msh_heat_grid *g);
/** Put `count` people into cell (cx, cy) of the grid's level (ignored outside the grid). */
void msh_heat_grid_set(msh_heat_grid *g, int64_t cx, int64_t cy, uint32_t count);
/** Add `count` people (a fraction: a forecast's) to cell (cx, cy) of the grid's level; counts <= 0 and
 * cells outside the grid are ignored. */
void msh_heat_grid_add(msh_heat_grid *g, int64_t cx, int64_t cy, double count);
/**
 * Fill the grid from the live state (takes its read lock) with what k-anonymity lets each cell
 * show (live/kanon.h, the same cells as the movement layer's): no cell under `k_anon` people.
 */
msh_rc msh_heat_grid_fill(msh_heat_grid *g, struct msh_live *live, int k_anon, msh_err *err);
/**
 * A hash of what the grid holds (its place and every cell's density): the pixels are a function
 * of it and the tile, so an ETag made from it changes when the picture can, and never because
 * of people the grid does not show.
 */
uint64_t msh_heat_grid_hash(const msh_heat_grid *g);
/** The world box (minx, miny, maxx, maxy) the grid covers, for region versions. */
void msh_heat_grid_box(const msh_heat_grid *g, double box[4]);

/** Render the tile (z, x, y) at `size` px (256 or 512) into rgba (size * size * 4, straight alpha). */
void msh_heat_density_render(const msh_heat_grid *g, int z, uint32_t x, uint32_t y, int size, msh_heat_mode mode,
                             uint8_t *rgba);

/* ---- kernel density ---- */

typedef struct msh_heat_point {
    double wx, wy; /* world units */
    double w;      /* weight (> 0) */
} msh_heat_point;

/** The world box a kernel tile must query: the tile plus the widest kernel radius in it. */
void msh_heat_kde_box(int z, uint32_t x, uint32_t y, int size, double radius_m, double box[4]);
/** The kernel radius in world units for a point at world y `wy`: r widened to 2 px at (z, size). */
double msh_heat_kde_radius(double wy, int z, int size, double radius_m, double *mass_scale);
/** Pixel evaluations msh_heat_kde_render would make (each point's kernel box clipped to the tile). */
double msh_heat_kde_work(const msh_heat_point *pts, size_t n, int z, uint32_t x, uint32_t y, int size, double radius_m);
/**
 * Sum the kernels of `pts` over the tile into `sum` (size * size floats, zeroed here), then
 * colour it into rgba (size * size * 4) with `max`.
 */
void msh_heat_kde_render(const msh_heat_point *pts, size_t n, int z, uint32_t x, uint32_t y, int size, double radius_m,
                         double max, float *sum, uint8_t *rgba);

#endif
