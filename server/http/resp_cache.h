/* resp_cache.h: answer a request from the tile cache, as raster tiles and heatmaps do: the cached
 * bytes are sent without a copy and handed back to the cache when sent; /metrics counts a hit. */
#ifndef MSH_RESP_CACHE_H
#define MSH_RESP_CACHE_H

#include <stdbool.h>

#include "http/http.h"

/** True (and r->resp filled: 200, the bytes) when `key` is in the cache; false otherwise. */
bool msh_resp_from_cache(msh_req *r, const char *key);

#endif
