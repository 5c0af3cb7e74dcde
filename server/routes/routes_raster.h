/* routes_raster.h: PNG tiles drawn from MapLibre styles (GET /styles/{name}/{z}/{x}/{y}[@2x].png)
 * and from layers with a default style (GET /tiles/{layers}/{z}/{x}/{y}[@2x].png).
 *
 * Design: every .json file of the styles folder is compiled once at start (layers/render/rstyle.h); what the
 * renderer ignores is printed then, one line per property, and a style that does not compile is
 * reported with its file, line and reason and answered with 500 and that message. Each worker
 * thread keeps its own renderer (layers/render/raster.h: Cairo surfaces, a Pango context).
 * PNGs go into the tile cache under the same kind of key as vector tiles: the store id, every
 * style layer's (name, version) - for live layers the version of their data under the tile and
 * its label margin - and the style's hash, so a data change makes stale PNGs unreachable at once.
 */
#ifndef MSH_ROUTES_RASTER_H
#define MSH_ROUTES_RASTER_H

#include "http/http.h"
#include "http/tilepath.h"

typedef struct msh_raster_service msh_raster_service;

/** Compile every style in `styles_dir`, printing warnings and errors to stderr. NULL when out of memory. */
msh_raster_service *msh_raster_service_new(const char *styles_dir);
void msh_raster_service_free(msh_raster_service *s);

/** /tiles/{layers}/{z}/{x}/{y}.png and @2x.png (the path already parsed into `tp`). */
void msh_route_raster_layers(msh_req *r, msh_catalog *cat, const msh_tilepath *tp);

/** Answer a PNG from the tile cache when `key` is there (true), as raster tiles and heatmaps do. */
bool msh_png_from_cache(msh_req *r, const char *key);

/** The ETag of a set of layers (server/routes_tiles.c): store id, names, versions (live: under `box`). */
void msh_layers_etag(const msh_catalog *cat, msh_layer *const *layers, int n, int z, const double *box, char *out,
                     size_t cap);

#endif
