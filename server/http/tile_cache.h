/* tile_cache.h: an in-memory LRU of encoded tiles, bounded in bytes.
 *
 * Keys carry the versions of the layers in the tile (the ETag), so a data
 * change makes stale entries unreachable at once; they age out of the LRU.
 * Each entry keeps the plain and the gzip body. Sixteen shards, each with its
 * own lock and LRU list, keep threads from queueing on one mutex.
 */
#ifndef MSH_TILE_CACHE_H
#define MSH_TILE_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct msh_tile_cache msh_tile_cache;

/** A cache holding at most `max_bytes` of tile bodies; 0 disables it. */
msh_tile_cache *msh_tile_cache_new(size_t max_bytes);
void msh_tile_cache_free(msh_tile_cache *c);

/** A cached tile handed to a response without copying; give it back with msh_tile_cache_release. */
typedef struct msh_tile_ref msh_tile_ref;

/**
 * Look up `key`. On a hit returns a reference and points *body at the gzip
 * body when `want_gzip` and the entry has one (*is_gzip = 1), else at the
 * plain body (*len 0 for an empty tile). The bytes stay valid until release,
 * even if the entry is evicted meanwhile. NULL on a miss.
 */
msh_tile_ref *msh_tile_cache_get(msh_tile_cache *c, const char *key, int want_gzip, const uint8_t **body, size_t *len,
                                 int *is_gzip);
void msh_tile_cache_release(msh_tile_ref *ref);
/**
 * Store the plain body and, when has_gzip, the gzip body under `key` (copied).
 * Entries larger than an eighth of a shard are not kept.
 */
void msh_tile_cache_put(msh_tile_cache *c, const char *key, const uint8_t *plain, size_t plain_len,
                        const uint8_t *gz, size_t gz_len, int has_gzip);
void msh_tile_cache_stats(msh_tile_cache *c, uint64_t *bytes, uint64_t *entries);

#endif
