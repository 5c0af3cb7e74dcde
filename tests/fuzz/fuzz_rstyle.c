/* fuzz_rstyle.c: the raster style compiler on arbitrary bytes, then every property and filter of
 * what compiled evaluated on a dummy feature at several zooms: an error or values, never a crash. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rstyle_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msh_rstyle *st = NULL;
    msh_err err;
    msh_buf warn;
    msh_buf_init(&warn, (size_t)1 << 20);
    if (msh_rstyle_compile("fuzz.json", (const char *)data, size, &warn, &st, &err) != MSH_OK) {
        if (!err.msg[0] || strncmp(err.msg, "fuzz.json:", 10))
            abort(); /* every error names the file */
        msh_buf_free(&warn);
        return 0;
    }
    msh_field fields[4] = {{"name", MSH_FT_STRING}, {"capacity", MSH_FT_INT}, {"density", MSH_FT_REAL},
                           {"open", MSH_FT_BOOL}};
    msh_layer_info info = {.name = "fuzz", .nfields = 4, .fields = fields};
    msh_value vals[2][4] = {
        {{MSH_FT_STRING, 4, {.s = "mina"}}, {MSH_FT_INT, 0, {.i = 2700}}, {MSH_FT_REAL, 0, {.d = 1.5}},
         {MSH_FT_BOOL, 0, {.i = 1}}},
        {{0, 0, {0}}, {MSH_FT_INT, 0, {.i = -3}}, {MSH_FT_REAL, 0, {.d = NAN}}, {0, 0, {0}}},
    };
    double xy[6] = {0.1, 0.1, 0.2, 0.1, 0.2, 0.2};
    uint32_t parts[1] = {3 | MSH_RING_OUTER};
    for (int v = 0; v < 2; v++) {
        msh_feature f = {.id = 7, .geom = {MSH_GT_POLYGON, 3, 1, xy, parts}, .values = vals[v]};
        for (size_t i = 0; i < st->nlayers; i++) {
            const msh_rlayer *l = &st->layers[i];
            for (double z = 0; z <= 24; z += 7.5) {
                msh_ectx c = {.zoom = z, .info = &info, .f = &f, .heatmap_density = z / 24};
                (void)msh_rl_filter(l, &c);
                for (int p = 0; p < P_COUNT; p++) {
                    double col[4];
                    msh_val r = msh_rl_eval(l, (msh_prop)p, &c);
                    if (r.t == MV_STR && r.len && !r.s)
                        abort();
                    (void)msh_val_color(r, col);
                    (void)msh_rl_num(l, (msh_prop)p, &c);
                }
            }
        }
    }
    msh_rstyle_free(st);
    msh_buf_free(&warn);
    return 0;
}
