/* heap.h: the binary min-heap the walking searches share: items keyed by a cost, carrying a
 * node and one more number (a source, or nothing). Lazy deletion: a search pushes a node again
 * when its cost drops and skips stale items when they come out. */
#ifndef MSH_ROUTE_HEAP_H
#define MSH_ROUTE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/msh_grow.h"

typedef struct msh_heap_item {
    double key;
    uint32_t node, aux;
} msh_heap_item;

typedef struct msh_heap {
    msh_heap_item *a;
    size_t n, cap;
} msh_heap;

/** False when out of memory (the heap is unchanged). */
static inline bool msh_heap_push(msh_heap *h, double key, uint32_t node, uint32_t aux)
{
    if (msh_grow_from((void **)&h->a, &h->cap, h->n + 1, sizeof *h->a, 1024))
        return false;
    size_t i = h->n++;
    while (i > 0 && h->a[(i - 1) / 2].key > key) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = (msh_heap_item){key, node, aux};
    return true;
}

/** The least item (the heap must not be empty). */
static inline msh_heap_item msh_heap_pop(msh_heap *h)
{
    msh_heap_item top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->a[c + 1].key < h->a[c].key)
            c++;
        if (h->a[c].key >= last.key)
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n)
        h->a[i] = last;
    return top;
}

#endif
