/* msh_grow.h: growing an array, written once.
 *
 *   if (msh_grow((void **)&v, &cap, n + 1, sizeof *v)) return MSH_ENOMEM;
 *   v[n++] = x;
 *
 * Doubles the capacity (from 16, or from `first` with msh_grow_from) until it holds `need`
 * elements; on failure the array and its capacity are left as they were, so the caller still
 * owns a valid array. Overflow of need * elem is an error, not a wrap. The first capacity is
 * the caller's guess at a typical size (a heap of graph nodes starts larger than a list of gates).
 */
#ifndef MSH_GROW_H
#define MSH_GROW_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/msh_err.h"

static inline msh_rc msh_grow_from(void **arr, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return MSH_OK;
    size_t nc = *cap ? *cap : (first ? first : 1);
    while (nc < need) {
        if (nc > SIZE_MAX / 2)
            return MSH_ENOMEM;
        nc *= 2;
    }
    if (nc > SIZE_MAX / elem)
        return MSH_ENOMEM;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return MSH_ENOMEM;
    *arr = p;
    *cap = nc;
    return MSH_OK;
}

static inline msh_rc msh_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    return msh_grow_from(arr, cap, need, elem, 16);
}

#endif
