/* msh_index.h: the open-addressing index, the project's one hash table (the role of redis's
 * dict.c), in two modes sharing one probing scheme:
 *
 * - msh_index, keyed: 64-bit key -> 32-bit value, 12 bytes a slot. Two parallel arrays (keys,
 *   values) of a power-of-two capacity, linear probing from msh_mix64(key). The key UINT64_MAX
 *   marks an empty slot and cannot be stored. Deleting shifts the following entries of the probe
 *   run back, so there are no tombstones and lookups never slow down with churn. Values are
 *   usually indexes into a dense array the caller owns (delete from it by swapping the last
 *   element in, then re-point that element's key with msh_index_put).
 *
 * - msh_refindex, keyless: 4 bytes a slot, holding only a reference into the caller's dense
 *   array (0..n-1 in the order added, stored + 1 so that 0 is an empty slot). The keys stay in
 *   the caller's records, not twice: the live store's millions of people keep their ids and
 *   hashes in their own records. The caller gives the 64-bit hash of what it looks up (well
 *   mixed: msh_mix64 of an integer, of an FNV-1a of bytes) and a compare callback; growing asks a
 *   hash callback for references 0..n-1 in order (the caller's array read front to back).
 *   Insert-only (the live tables never forget an entry). `sparse` (set before the first add)
 *   keeps it at most half full: shorter probe runs for small tables looked up on every update.
 *
 * Both are at most 3/4 full (doubled beyond) unless sparse, and grow from 16 slots. Not thread-safe: the owner
 * locks. Lookups do not allocate; put/add may (and then may fail with MSH_ENOMEM, leaving the
 * index as it was).
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

/* ---- keyless mode ---- */

#define MSH_REFINDEX_NONE UINT32_MAX

typedef struct msh_refindex {
    uint32_t *slots; /* reference + 1; 0 = empty */
    size_t cap;      /* 0 or a power of two */
    size_t n;        /* references 0..n-1 are in */
    bool sparse;     /* at most 1/2 full instead of 3/4 */
} msh_refindex;

/** The hash of the entry `ref` refers to: the same value the caller passes when looking it up. */
typedef uint64_t (*msh_refindex_hash_fn)(const void *ud, uint32_t ref);
/** Whether the entry `ref` refers to is the one looked up (`key`, as the caller passed it). */
typedef bool (*msh_refindex_eq_fn)(const void *ud, uint32_t ref, const void *key);

void msh_refindex_free(msh_refindex *ix);
/** Make room for `n` references in all; a rehash asks hash(ud, ref) of each one stored. */
msh_rc msh_refindex_reserve(msh_refindex *ix, size_t n, msh_refindex_hash_fn hash, const void *ud);
/** Add the next reference, `ref` == ix->n (MSH_EINVAL otherwise), under hash h; the caller knows
 * its entry is not there yet. */
msh_rc msh_refindex_add(msh_refindex *ix, uint64_t h, uint32_t ref, msh_refindex_hash_fn hash, const void *ud);

/** The reference stored under hash h whose entry eq() accepts for `key`, or MSH_REFINDEX_NONE.
 * Inline, so that a caller's eq is inlined into the probe loop of its hot lookups. */
static inline uint32_t msh_refindex_find(const msh_refindex *ix, uint64_t h, msh_refindex_eq_fn eq, const void *ud,
                                         const void *key)
{
    if (!ix->cap)
        return MSH_REFINDEX_NONE;
    size_t mask = ix->cap - 1;
    for (size_t i = (size_t)h & mask; ix->slots[i]; i = (i + 1) & mask)
        if (eq(ud, ix->slots[i] - 1, key))
            return ix->slots[i] - 1;
    return MSH_REFINDEX_NONE;
}

#endif
