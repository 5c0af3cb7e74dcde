/* tilepath.h: parsing the part of a tile URL after "/tiles/".
 *
 * Accepted: "{layers}/{z}/{x}/{y}.mvt" (".pbf" too), "{layers}/{z}/{x}/{y}.png" (and "@2x.png",
 * raster tiles) and "{layers}.json",
 * where {layers} is one or more layer names joined by commas. Strict: digits
 * only, no signs or leading zeros beyond "0", z <= 24, x and y inside the
 * zoom, at most MSH_TILEPATH_MAX_LAYERS distinct names. Every failure says
 * what was wrong in words a user can act on.
 */
#ifndef MSH_TILEPATH_H
#define MSH_TILEPATH_H

#include <stdint.h>

#include "core/msh_err.h"

#define MSH_TILEPATH_MAX_LAYERS 16
#define MSH_TILEPATH_NAME_MAX 64

typedef enum { MSH_TP_MVT = 1, MSH_TP_TILEJSON = 2, MSH_TP_PNG = 3 } msh_tp_kind;

typedef struct msh_tilepath {
    msh_tp_kind kind;
    int nlayers;
    char layers[MSH_TILEPATH_MAX_LAYERS][MSH_TILEPATH_NAME_MAX];
    int z;
    uint32_t x, y;
    int ratio; /* MSH_TP_PNG: 1 for ".png", 2 for "@2x.png" */
} msh_tilepath;

msh_rc msh_tilepath_parse(const char *s, msh_tilepath *out, msh_err *err);

#endif
