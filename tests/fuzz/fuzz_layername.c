/* fuzz_layername.c: any bytes as a source layer name give a valid store name (never a crash, never
 * over 63 characters), and claiming it twice gives two distinct valid names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"
#include "layer_names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    char a[MSH_LAYER_NAME_CAP], b[MSH_LAYER_NAME_CAP];
    msh_layer_name_from(s, (int)(size % 1000) + 1, a);
    if (strlen(a) > 63 || !msh_layer_name_valid(a))
        abort();
    memcpy(b, a, sizeof b);
    msh_names ns;
    msh_names_init(&ns);
    if (!msh_names_claim(&ns, a) || !msh_names_claim(&ns, b))
        abort();
    if (!strcmp(a, b) || !msh_layer_name_valid(b) || strlen(b) > 63)
        abort();
    msh_names_free(&ns);
    free(s);
    return 0;
}
