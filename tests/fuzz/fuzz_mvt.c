/* fuzz_mvt.c: arbitrary bytes as WKB -> tile pipeline -> MVT encoder; the output must decode.
 * The first byte picks the zoom, the next two the tile; the rest is the WKB (lon/lat are
 * mapped into the world square whatever their values). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "geom.h"
#include "mvt.h"
#include "tilegeom.h"
#include "vector_tile.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    int z = data[0] % 20;
    uint32_t n = 1u << z;
    uint32_t x = data[1] % n, y = data[2] % n;
    msh_geom_buf gb;
    msh_geom_buf_init(&gb, 1 << 16);
    msh_err err;
    if (msh_wkb_read(data + 3, size - 3, &gb, &err) == MSH_OK) {
        msh_geom g = msh_geom_buf_view(&gb);
        /* into world units, as a layer would hold them */
        double *w = malloc(sizeof(double) * 2 * (g.npts + 1));
        for (uint32_t i = 0; i < g.npts; i++) {
            double lon = fmod(g.xy[2 * i], 360.0), lat = fmod(g.xy[2 * i + 1], 180.0);
            msh_lonlat_to_world(lon > 180 ? lon - 360 : lon < -180 ? lon + 360 : lon,
                                lat > 90 ? lat - 180 : lat < -90 ? lat + 180 : lat, &w[2 * i], &w[2 * i + 1]);
        }
        g.xy = w;
        msh_tg_ctx *c = msh_tg_ctx_new();
        msh_tile_xf xf;
        msh_tile_xf_init(&xf, z, x, y);
        const msh_tgeom *t;
        if (g.type != MSH_GT_NONE && msh_tilegeom_build(c, &g, &xf, &t) == MSH_OK && t->type != MSH_GT_NONE) {
            msh_mvt *m = msh_mvt_new(1 << 24);
            msh_mvt_layer_begin(m, "fuzz", 4096);
            msh_mvt_feature_begin(m, true, 1);
            msh_mvt_attr_string(m, "k", (const char *)data, size > 16 ? 16 : size);
            if (msh_mvt_feature_geom(m, t) == MSH_OK)
                msh_mvt_feature_end(m, false);
            msh_mvt_layer_end(m);
            const uint8_t *out;
            size_t len;
            msh_mvt_finish(m, &out, &len);
            VectorTile__Tile *d = vector_tile__tile__unpack(NULL, len, out);
            if (!d || d->n_layers != 1)
                abort(); /* our own output must always decode */
            vector_tile__tile__free_unpacked(d, NULL);
            msh_mvt_free(m);
        }
        msh_tg_ctx_free(c);
        free(w);
    }
    msh_geom_buf_free(&gb);
    return 0;
}
