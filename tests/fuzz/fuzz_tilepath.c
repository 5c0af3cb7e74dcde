/* fuzz_tilepath.c: the tile URL parser never crashes and only accepts valid tiles. */
#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "http/tilepath.h"
#include "fuzz_cstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    if (!s)
        return 0;
    msh_tilepath tp;
    msh_err err;
    if (msh_tilepath_parse(s, &tp, &err) == MSH_OK) {
        if (tp.kind == MSH_TP_MVT && !msh_tile_valid(tp.z, tp.x, tp.y))
            abort();
        if (tp.nlayers < 1 || tp.nlayers > MSH_TILEPATH_MAX_LAYERS)
            abort();
    }
    free(s);
    return 0;
}
