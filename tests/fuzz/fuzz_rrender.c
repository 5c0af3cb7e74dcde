/* fuzz_rrender.c: arbitrary bytes as a raster style, and every style that compiles drawn over a
 * small real store (points, lines and polygons with Arabic names, at Mina) at three zooms and both
 * pixel ratios: a PNG or an error with a message, never a crash, a hang or a write out of bounds.
 * The store is made once per process in a temporary folder and removed at exit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "core/msh_tilemath.h"
#include "raster.h"
#include "rstyle.h"
#include "store.h"
#include "../unit/wkb_build.h"

static msh_value S(const char *s) { return (msh_value){MSH_FT_STRING, (uint32_t)strlen(s), {.s = s}}; }
static msh_value N(double d) { return (msh_value){MSH_FT_REAL, 0, {.d = d}}; }

static char dir[64], db[128];
static msh_store *store;
static msh_catalog *cat;
static msh_raster *ras;

static void cleanup(void)
{
    msh_raster_free(ras);
    msh_catalog_release(cat);
    msh_store_close(store);
    char p[160];
    static const char *const tails[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", db, tails[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* Layers named as the project's styles name them, so the corpus draws something. */
static int make_store(void)
{
    snprintf(dir, sizeof dir, "/tmp/fuzz_rrender.XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(db, sizeof db, "%s/s.sqlite", dir);
    msh_err err;
    if (msh_store_open(db, true, &store, &err)) return -1;
    atexit(cleanup);
    msh_field f[4] = {{(char *)"name", MSH_FT_STRING}, {(char *)"name_ar", MSH_FT_STRING},
                      {(char *)"kind", MSH_FT_STRING}, {(char *)"capacity", MSH_FT_REAL}};
    const char *names[] = {"assets", "walkways", "site_walkways", "camps", "service_zones"};
    const char *kinds[] = {"toilet", "street", "trunk", "camp", "zone"};
    for (int l = 0; l < 5; l++) {
        msh_layer_spec spec = {names[l], f, 4, 0, 22, "fuzz", NULL};
        msh_store_writer *w;
        if (msh_store_writer_begin(store, &spec, &w, &err)) return -1;
        for (int i = 0; i < 40; i++) {
            wkb g;
            double lon = 39.880 + 0.0007 * (i % 8), lat = 21.410 + 0.0006 * (i / 8);
            if (l == 0) {
                hdr(&g, 1);
                put_d(&g, lon);
                put_d(&g, lat);
            } else if (l <= 2) { /* a zigzag line through the site, some sharp turns */
                hdr(&g, 2);
                put_u32(&g, 6);
                for (int k = 0; k < 6; k++) {
                    put_d(&g, lon + 0.0004 * k);
                    put_d(&g, lat + ((k + i) % 3 ? 0.0003 : -0.0002) * (k % 2));
                }
            } else { /* a box with a hole */
                hdr(&g, 3);
                put_u32(&g, 2);
                double d = l == 3 ? 0.0003 : 0.003, h = d / 3;
                double outer[10] = {lon, lat, lon + d, lat, lon + d, lat + d, lon, lat + d, lon, lat};
                double inner[10] = {lon + h, lat + h, lon + h, lat + 2 * h, lon + 2 * h, lat + 2 * h,
                                    lon + 2 * h, lat + h, lon + h, lat + h};
                put_u32(&g, 5);
                for (int k = 0; k < 10; k++) put_d(&g, outer[k]);
                put_u32(&g, 5);
                for (int k = 0; k < 10; k++) put_d(&g, inner[k]);
            }
            char en[32];
            snprintf(en, sizeof en, "Mina %s %d", kinds[l], i);
            msh_value v[4] = {S(en), S(i % 2 ? "منى - المنطقة ١١" : "الطريق الدائري - مزدلفة"), S(kinds[l]),
                              N(i % 5 ? i * 100.0 : -1e300)};
            if (msh_store_writer_add(w, g.b, g.n, v, &err)) return -1;
        }
        uint64_t ver;
        if (msh_store_writer_commit(w, &ver, &err)) return -1;
    }
    if (msh_catalog_load(store, NULL, &cat, &err)) return -1;
    ras = msh_raster_new();
    return ras ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (make_store()) abort();
        ready = 1;
    }
    msh_rstyle *st = NULL;
    msh_err err;
    msh_buf warn;
    msh_buf_init(&warn, (size_t)1 << 20);
    if (msh_rstyle_compile("fuzz.json", (const char *)data, size, &warn, &st, &err) == MSH_OK) {
        static const int zooms[3] = {14, 17, 20};
        for (int zi = 0; zi < 3; zi++)
            for (int ratio = 1; ratio <= 2; ratio++) {
                uint32_t x, y;
                msh_tile_at(39.882, 21.411, zooms[zi], &x, &y);
                const uint8_t *png = NULL;
                size_t len = 0;
                msh_rc rc = msh_raster_render(ras, st, cat, zooms[zi], x, y, ratio, &png, &len, NULL, &err);
                if (rc ? !err.msg[0] : (!png || len < 8 || memcmp(png, "\x89PNG", 4)))
                    abort(); /* an error says why; a success is a PNG */
            }
        msh_rstyle_free(st);
    }
    msh_buf_free(&warn);
    return 0;
}
