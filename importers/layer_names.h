/* layer_names.h: store layer names from source layer names in any script.
 *
 * A store layer name is [a-z][a-z0-9_]{0,62} (a table name and a URL segment). Source
 * layers are named in any script: Arabic letters are transliterated to Latin by a small
 * fixed table (a simplified scheme without diacritics: "المخيمات" -> "almkhymat"), Arabic
 * and Persian digits become 0-9, accented Latin letters lose their accents, and anything
 * else becomes '_'. A name left with no letter or digit becomes "layer_N" (N: the layer's
 * position in its source, from 1). Within one import command no two layers get one name:
 * msh_names remembers the names given and a clash gets "_2", "_3"... The source name is
 * kept apart as the layer's title (shown by the viewer and OGC API), so nothing is lost.
 * Pure functions: no I/O, no GDAL.
 */
#ifndef MSH_LAYER_NAMES_H
#define MSH_LAYER_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define MSH_LAYER_NAME_CAP 64

/**
 * Make a store layer name from `src` (UTF-8; invalid bytes count as other characters) into
 * out[MSH_LAYER_NAME_CAP]. `index` (from 1) names a layer whose name keeps no letter or digit.
 * The result always passes msh_layer_name_valid().
 */
void msh_layer_name_from(const char *src, int index, char out[MSH_LAYER_NAME_CAP]);

/** The names given in one import command. */
typedef struct msh_names {
    char (*v)[MSH_LAYER_NAME_CAP];
    size_t n, cap;
} msh_names;

void msh_names_init(msh_names *ns);
void msh_names_free(msh_names *ns);
bool msh_names_has(const msh_names *ns, const char *name);
/**
 * Make `name` distinct from every name given so far (appending _2, _3..., shortening the base
 * to fit 63 characters) and remember it. Returns false when out of memory.
 */
bool msh_names_claim(msh_names *ns, char name[MSH_LAYER_NAME_CAP]);

#endif
