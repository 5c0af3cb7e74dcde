/* resp_cache.c: answering a request straight from the tile cache (resp_cache.h). */
#include "http/resp_cache.h"

#include "http/metrics.h"
#include "http/tile_cache.h"
#include "serve/app.h"

bool msh_resp_from_cache(msh_req *r, const char *key)
{
    const uint8_t *body = NULL;
    size_t len = 0;
    int is_gz = 0;
    msh_tile_ref *ref = msh_tile_cache_get(r->app->cache, key, 0, &body, &len, &is_gz);
    if (!ref)
        return false;
    msh_metrics_tile(r->app->metrics, 1, len);
    r->resp.status = 200;
    r->resp.ext = body;
    r->resp.ext_len = len;
    r->resp.ext_free = (void (*)(void *))msh_tile_cache_release;
    r->resp.ext_cls = ref;
    return true;
}

