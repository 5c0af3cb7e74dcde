/* fuzz_fontpath.c: the glyph URL parser never crashes and accepts only well-formed stacks and ranges. */
#include <stdlib.h>
#include <string.h>

#include "http/fontpath.h"
#include "fuzz_cstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    if (!s)
        return 0;
    msh_fontpath fp;
    msh_err err;
    if (msh_fontpath_parse(s, &fp, &err) == MSH_OK) {
        if (fp.start % 256 || fp.start > 65280 || fp.n < 1 || fp.n > MSH_GLYPH_MAX_STACK)
            abort();
        for (size_t i = 0; i < fp.n; i++) {
            size_t n = strnlen(fp.names[i], MSH_FONTPATH_NAME_MAX);
            if (n == 0 || n == MSH_FONTPATH_NAME_MAX || strpbrk(fp.names[i], "/\\,") || fp.names[i][0] == ' ' ||
                fp.names[i][n - 1] == ' ')
                abort();
            for (size_t k = 0; k < n; k++)
                if ((unsigned char)fp.names[i][k] < 0x20 || fp.names[i][k] == 0x7f)
                    abort();
        }
    }
    free(s);
    return 0;
}
