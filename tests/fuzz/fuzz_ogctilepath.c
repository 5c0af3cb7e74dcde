/* fuzz_ogctilepath.c: the OGC API - Tiles path parser never crashes, accepts only tiles inside their
 * tile matrix, and gives every failure a 400 or a 404. */
#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "http/ogc_tilepath.h"
#include "fuzz_cstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    if (!s)
        return 0;
    msh_ogc_tilepath tp;
    msh_err err;
    msh_rc rc = msh_ogc_tilepath_parse(s, &tp, &err);
    if (rc == MSH_OK) {
        if (tp.kind == MSH_OTP_TILE && !msh_tile_valid(tp.z, tp.col, tp.row))
            abort();
        if (tp.kind < MSH_OTP_LIST || tp.kind > MSH_OTP_TILE)
            abort();
    } else if (rc != MSH_EINVAL && rc != MSH_ENOTFOUND) {
        abort();
    }
    free(s);
    return 0;
}
