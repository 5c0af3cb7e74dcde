/* ogc_tilepath.h: the part of an OGC API - Tiles URL after ".../tiles" taken apart and checked.
 *
 * Accepted: "" (the tilesets list), "/WebMercatorQuad" (the tileset), and
 * "/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}" (a tile), a trailing '/' after the first two.
 * Every number is plain decimal (no sign, no leading zero). The answer says which HTTP status a
 * failure deserves, as OGC API - Tiles asks: an unknown tile matrix set, a path past the tile, or
 * a row or column outside the tile matrix is 404; a tileMatrix that is not a zoom level of
 * WebMercatorQuad (0..24), or a row or column that is not a whole number, is 400.
 * The tileset's own limits (where the data is) are the caller's to check (routes/tms_wmq.h).
 */
#ifndef MSH_OGC_TILEPATH_H
#define MSH_OGC_TILEPATH_H

#include <stdint.h>

#include "core/msh_err.h"

typedef enum { MSH_OTP_LIST = 1, MSH_OTP_TILESET = 2, MSH_OTP_TILE = 3 } msh_otp_kind;

typedef struct msh_ogc_tilepath {
    msh_otp_kind kind;
    int z;             /* MSH_OTP_TILE: tileMatrix */
    uint32_t row, col; /* tileRow (y, down from the north) and tileCol (x) */
} msh_ogc_tilepath;

/** Parse `s`; MSH_OK, or MSH_ENOTFOUND (404) / MSH_EINVAL (400) with a message a user can act on. */
msh_rc msh_ogc_tilepath_parse(const char *s, msh_ogc_tilepath *out, msh_err *err);

#endif
