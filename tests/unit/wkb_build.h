/* wkb_build.h: writing little-endian 2D WKB by hand, for tests that fill a real store with
 * msh_store_writer (test_kpi.c, fuzz_rrender.c). */
#ifndef MSH_WKB_BUILD_H
#define MSH_WKB_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    uint8_t b[4096];
    size_t n;
} wkb;

static inline void put(wkb *w, const void *p, size_t n)
{
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static inline void put_u32(wkb *w, uint32_t v) { put(w, &v, 4); }
static inline void put_d(wkb *w, double v) { put(w, &v, 8); }
/* Start a geometry of WKB type `type` (1 point, 2 line string, 3 polygon, ...). */
static inline void hdr(wkb *w, uint32_t type)
{
    w->n = 0;
    uint8_t le = 1;
    put(w, &le, 1);
    put_u32(w, type);
}

#endif
