/* fuzz_style.c: the style document reader on arbitrary bytes: an error or valid JSON out, never a crash. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "routes/style_doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out = NULL;
    msh_err err;
    if (msh_style_rewrite("fuzz", (const char *)data, size, "http://h:1", &out, &err) == MSH_OK) {
        json_error_t je;
        json_t *j = json_loads(out, 0, &je);
        if (!j)
            abort();
        json_decref(j);
        free(out);
    }
    return 0;
}
