/* msh_index.h: the open-addressing index: 64-bit key -> 32-bit value, the project's one hash table
 * (the role of redis's dict.c), compact enough for millions of entries (12 bytes a slot).
 *
 * Design: two parallel arrays (keys, values) of a power-of-two capacity, linear probing from
 * msh_mix64(key), at most 3/4 full (doubled beyond). Deleting shifts the following entries of
 * the probe run back, so there are no tombstones and lookups never slow down with churn. The
 * key UINT64_MAX marks an empty slot and cannot be stored. Values are usually indexes into a
 * dense array the caller owns (delete from it by swapping the last element in, then re-point
 * that element's key with msh_index_put).
 *
 * Not thread-safe: the owner locks. Lookups do not allocate; put may (and then may fail with
 * MSH_ENOMEM, leaving the index as it was).
 */
#ifndef MSH_INDEX_H
#define MSH_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"

#define MSH_INDEX_EMPTY UINT64_MAX

typedef struct msh_index {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap; /* 0 or a power of two */
    size_t n;
} msh_index;

/** An empty index (no allocation until the first put). Same as zero-initialising it. */
void msh_index_init(msh_index *ix);
void msh_index_free(msh_index *ix);
/** Empty it, keeping its memory. */
void msh_index_clear(msh_index *ix);
/** The value stored under key, or NULL. The pointer is valid until the next put or del. */
uint32_t *msh_index_get(const msh_index *ix, uint64_t key);
/** Store val under key (insert or replace). MSH_EINVAL for key MSH_INDEX_EMPTY, MSH_ENOMEM. */
msh_rc msh_index_put(msh_index *ix, uint64_t key, uint32_t val);
/** Remove key; true when it was there. */
bool msh_index_del(msh_index *ix, uint64_t key);
/** Make room for `n` entries in all, so that that many puts do not allocate. */
msh_rc msh_index_reserve(msh_index *ix, size_t n);

#endif
