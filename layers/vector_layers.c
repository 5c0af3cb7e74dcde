/* vector_layers.c: TileJSON's vector_layers and the extent of a set of layers (see the header). */
#include "vector_layers.h"

#include <math.h>

void msh_vector_layers_json(msh_buf *b, msh_layer *const *layers, size_t n)
{
    msh_buf_printf(b, "\"vector_layers\":[");
    for (size_t i = 0; i < n; i++) {
        const msh_layer_info *li = &layers[i]->info;
        msh_buf_printf(b, "%s{\"id\":\"%s\",\"description\":\"%s layer, %llu features\",\"minzoom\":%d,\"maxzoom\":%d,\"fields\":{",
                       i ? "," : "", li->name, li->geometry_type, (unsigned long long)li->feature_count, li->minzoom,
                       li->maxzoom);
        for (uint32_t f = 0; f < li->nfields; f++) {
            const char *t = li->fields[f].type == MSH_FT_STRING ? "String"
                            : li->fields[f].type == MSH_FT_BOOL ? "Boolean" : "Number";
            msh_buf_printf(b, "%s\"", f ? "," : "");
            msh_buf_json_str(b, li->fields[f].name);
            msh_buf_printf(b, "\":\"%s\"", t);
        }
        msh_buf_printf(b, "}}");
    }
    msh_buf_printf(b, "]");
}

void msh_layers_extent(msh_layer *const *layers, size_t n, double bb[4], int *minzoom, int *maxzoom)
{
    bb[0] = 180, bb[1] = 90, bb[2] = -180, bb[3] = -90;
    int minz = 24, maxz = 0;
    int have_bounds = 0;
    for (size_t i = 0; i < n; i++) {
        const msh_layer_info *li = &layers[i]->info;
        if (li->feature_count) {
            have_bounds = 1;
            bb[0] = fmin(bb[0], li->bounds[0]);
            bb[1] = fmin(bb[1], li->bounds[1]);
            bb[2] = fmax(bb[2], li->bounds[2]);
            bb[3] = fmax(bb[3], li->bounds[3]);
        }
        if (li->minzoom < minz) minz = li->minzoom;
        if (li->maxzoom > maxz) maxz = li->maxzoom;
    }
    if (!have_bounds) {
        bb[0] = -180; bb[1] = -85.0511; bb[2] = 180; bb[3] = 85.0511;
    }
    *minzoom = minz;
    *maxzoom = maxz;
}
