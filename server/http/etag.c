/* etag.c: the ETag of a set of layers (etag.h). */
#include "http/etag.h"

#include <stdio.h>
#include <string.h>

#include "core/msh_hash.h"

void msh_layers_etag(const msh_catalog *cat, msh_layer *const *layers, int n, int z, const double *box, char *out,
                        size_t cap)
{
    const char *id = msh_catalog_store_id(cat);
    uint64_t h = msh_fnv1a(id, strlen(id), MSH_FNV1A_INIT);
    for (int i = 0; i < n; i++) {
        h = msh_fnv1a(layers[i]->info.name, strlen(layers[i]->info.name), h);
        uint64_t v = layers[i]->info.version;
        if (box && layers[i]->vt->region_version)
            v = layers[i]->vt->region_version(layers[i], z, box);
        h = msh_fnv1a(&v, sizeof v, h);
    }
    snprintf(out, cap, "\"%016llx\"", (unsigned long long)h);
}
