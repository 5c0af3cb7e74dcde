/* routes_heatmap.h: what a heatmap answer shares with other heatmaps (routes_heatmap.c: the density and
 * kernel tiles; routes_forecast_tiles.c: the forecast's): the ETag and cache key, and the PNG sent. */
#ifndef MSH_ROUTES_HEATMAP_H
#define MSH_ROUTES_HEATMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "heatmap.h"
#include "routes/routes.h"

/** ETag from the store id, what is drawn, its version and the parameters, and the tile cache key for the
 * tile (written to key); true when answered 304. */
bool msh_heat_etag_and_key(msh_req *r, msh_catalog *cat, const char *what, uint64_t version, const char *params,
                           const msh_heat_path *hp, char *key, size_t cap);
/** Encode rgba (size x size) as PNG, keep it in the tile cache under key, and send it. */
void msh_heat_send_png(msh_req *r, const char *key, const uint8_t *rgba, int size);

#endif
