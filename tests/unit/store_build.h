/* store_build.h: filling a real SpatiaLite store by hand in unit tests (test_kpi.c, test_alerts.c):
 * WKB points, lines and boxes, string and integer values, and a layer written in one transaction.
 * Include after check.h. */
#ifndef MSH_STORE_BUILD_H
#define MSH_STORE_BUILD_H

#include <string.h>

#include "store.h"
#include "wkb_build.h"

static inline void wkb_point(wkb *w, double lon, double lat)
{
    hdr(w, 1);
    put_d(w, lon);
    put_d(w, lat);
}
static inline void wkb_line(wkb *w, double lon0, double lat0, double lon1, double lat1)
{
    hdr(w, 2);
    put_u32(w, 2);
    put_d(w, lon0);
    put_d(w, lat0);
    put_d(w, lon1);
    put_d(w, lat1);
}
static inline void wkb_box(wkb *w, double w0, double s0, double e0, double n0)
{
    hdr(w, 3);
    put_u32(w, 1);
    put_u32(w, 5);
    double xy[10] = {w0, s0, e0, s0, e0, n0, w0, n0, w0, s0};
    for (int i = 0; i < 10; i++)
        put_d(w, xy[i]);
}

static inline msh_value S(const char *s) { return (msh_value){MSH_FT_STRING, (uint32_t)strlen(s), {.s = s}}; }
static inline msh_value I(int64_t i) { return (msh_value){MSH_FT_INT, 0, {.i = i}}; }

static inline msh_store_writer *begin(msh_store *s, const char *name, const msh_field *f, uint32_t nf)
{
    msh_layer_spec spec = {name, f, nf, 0, 22, "test", NULL};
    msh_store_writer *w = NULL;
    msh_err err;
    CHECK(msh_store_writer_begin(s, &spec, &w, &err) == MSH_OK);
    return w;
}

static inline void add(msh_store_writer *w, const wkb *g, const msh_value *v)
{
    msh_err err;
    CHECK(msh_store_writer_add(w, g->b, g->n, v, &err) == MSH_OK);
}

static inline void commit(msh_store_writer *w)
{
    uint64_t ver;
    msh_err err;
    CHECK(msh_store_writer_commit(w, &ver, &err) == MSH_OK);
}

#endif
