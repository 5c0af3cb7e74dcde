/* msh_index.c: open addressing with linear probing and backward-shift deletion, keyed and
 * keyless (msh_index.h). */
#include "core/msh_index.h"

#include <stdlib.h>
#include <string.h>

#include "core/msh_hash.h"

void msh_index_init(msh_index *ix)
{
    memset(ix, 0, sizeof *ix);
}

void msh_index_free(msh_index *ix)
{
    free(ix->keys);
    free(ix->vals);
    msh_index_init(ix);
}

void msh_index_clear(msh_index *ix)
{
    if (ix->keys)
        memset(ix->keys, 0xff, ix->cap * sizeof *ix->keys);
    ix->n = 0;
}

static size_t slot_of(const msh_index *ix, uint64_t key)
{
    size_t mask = ix->cap - 1, i = (size_t)msh_mix64(key) & mask;
    while (ix->keys[i] != key && ix->keys[i] != MSH_INDEX_EMPTY)
        i = (i + 1) & mask;
    return i;
}

uint32_t *msh_index_get(const msh_index *ix, uint64_t key)
{
    if (!ix->cap || key == MSH_INDEX_EMPTY)
        return NULL;
    size_t i = slot_of(ix, key);
    return ix->keys[i] == key ? &ix->vals[i] : NULL;
}

static msh_rc rehash(msh_index *ix, size_t cap)
{
    uint64_t *keys = malloc(cap * sizeof *keys);
    uint32_t *vals = malloc(cap * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return MSH_ENOMEM;
    }
    memset(keys, 0xff, cap * sizeof *keys);
    msh_index grown = {keys, vals, cap, ix->n};
    for (size_t i = 0; i < ix->cap; i++)
        if (ix->keys[i] != MSH_INDEX_EMPTY) {
            size_t j = slot_of(&grown, ix->keys[i]);
            keys[j] = ix->keys[i];
            vals[j] = ix->vals[i];
        }
    free(ix->keys);
    free(ix->vals);
    *ix = grown;
    return MSH_OK;
}

/* The capacity (from `cap`, or 16) that holds n entries at most 3/4 full (1/2 when sparse); 0 on
 * overflow. */
static size_t capacity_for(size_t cap, size_t n, bool sparse)
{
    cap = cap ? cap : 16;
    while (n > (sparse ? cap / 2 : cap / 4 * 3)) {
        if (cap > SIZE_MAX / 2 / sizeof(uint64_t))
            return 0;
        cap *= 2;
    }
    return cap;
}

msh_rc msh_index_reserve(msh_index *ix, size_t n)
{
    size_t cap = capacity_for(ix->cap, n, false);
    if (!cap)
        return MSH_ENOMEM;
    return cap == ix->cap ? MSH_OK : rehash(ix, cap);
}

msh_rc msh_index_put(msh_index *ix, uint64_t key, uint32_t val)
{
    if (key == MSH_INDEX_EMPTY)
        return MSH_EINVAL;
    msh_rc rc = msh_index_reserve(ix, ix->n + 1);
    if (rc)
        return rc;
    size_t i = slot_of(ix, key);
    if (ix->keys[i] == MSH_INDEX_EMPTY) {
        ix->keys[i] = key;
        ix->n++;
    }
    ix->vals[i] = val;
    return MSH_OK;
}

bool msh_index_del(msh_index *ix, uint64_t key)
{
    if (!ix->cap || key == MSH_INDEX_EMPTY)
        return false;
    size_t mask = ix->cap - 1, i = slot_of(ix, key);
    if (ix->keys[i] != key)
        return false;
    /* shift back every entry of the run that would no longer be found past the hole */
    for (size_t j = (i + 1) & mask; ix->keys[j] != MSH_INDEX_EMPTY; j = (j + 1) & mask) {
        size_t home = (size_t)msh_mix64(ix->keys[j]) & mask;
        /* j's entry may move into the hole at i when its home is not in the cyclic range (i, j] */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        ix->keys[i] = ix->keys[j];
        ix->vals[i] = ix->vals[j];
        i = j;
    }
    ix->keys[i] = MSH_INDEX_EMPTY;
    ix->n--;
    return true;
}

/* ---- keyless mode ---- */

void msh_refindex_free(msh_refindex *ix)
{
    free(ix->slots);
    ix->slots = NULL;
    ix->cap = ix->n = 0;
}

static void ref_place(uint32_t *slots, size_t cap, uint64_t h, uint32_t ref)
{
    size_t mask = cap - 1, i = (size_t)h & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = ref + 1;
}

msh_rc msh_refindex_reserve(msh_refindex *ix, size_t n, msh_refindex_hash_fn hash, const void *ud)
{
    size_t cap = capacity_for(ix->cap, n, ix->sparse);
    if (!cap)
        return MSH_ENOMEM;
    if (cap == ix->cap)
        return MSH_OK;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return MSH_ENOMEM;
    /* the references are 0..n-1: asked for in order, the caller's array is read front to back */
    for (uint32_t r = 0; r < ix->n; r++)
        ref_place(slots, cap, hash(ud, r), r);
    free(ix->slots);
    ix->slots = slots;
    ix->cap = cap;
    return MSH_OK;
}

msh_rc msh_refindex_add(msh_refindex *ix, uint64_t h, uint32_t ref, msh_refindex_hash_fn hash, const void *ud)
{
    if (ref != ix->n || ref == MSH_REFINDEX_NONE)
        return MSH_EINVAL;
    msh_rc rc = msh_refindex_reserve(ix, ix->n + 1, hash, ud);
    if (rc)
        return rc;
    ref_place(ix->slots, ix->cap, h, ref);
    ix->n++;
    return MSH_OK;
}
