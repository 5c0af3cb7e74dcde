/* routes_raster.h: PNG tiles drawn from MapLibre styles (GET /styles/{name}/{z}/{x}/{y}[@2x].png)
 * and from layers with a default style (GET /tiles/{layers}/{z}/{x}/{y}[@2x].png).
 *
 * Design: the styles and the renderers are the raster service's (server/services/raster_service.h).
 * PNGs go into the tile cache under the same kind of key as vector tiles: the store id, every
 * style layer's (name, version) - for live layers the version of their data under the tile and
 * its label margin - and the style's hash, so a data change makes stale PNGs unreachable at once.
 * At most --render-threads renders run at once (server/http/render_gate.h).
 */
#ifndef MSH_ROUTES_RASTER_H
#define MSH_ROUTES_RASTER_H

#include "http/http.h"
#include "http/tilepath.h"
#include "rstyle.h"

/** /tiles/{layers}/{z}/{x}/{y}.png and @2x.png (the path already parsed into `tp`, from routes_tiles.c). */
void msh_route_raster_layers(msh_req *r, msh_catalog *cat, const msh_tilepath *tp);

#define MSH_RASTER_STYLE_MAX_LAYERS 256

/** The catalog layers style `st` draws (each once, in style order; those absent left out): their count. */
int msh_raster_style_layers(msh_catalog *cat, const msh_rstyle *st, msh_layer **layers);

#endif
