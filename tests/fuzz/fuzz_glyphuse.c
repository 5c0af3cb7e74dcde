/* fuzz_glyphuse.c: the glyph ranges of a package's labels (services/package_glyphs.h) on arbitrary
 * input: as label text (UTF-8 or not) and, when it parses as JSON, as a text-field expression.
 * Whatever it reads: an ASCII byte marks range 0, a right-to-left mark comes with Arabic or Hebrew
 * ranges, and the fields copied out are at most `cap`, each a NUL-terminated name that fits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/package_glyphs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msh_glyph_use u;
    memset(&u, 0, sizeof u);
    msh_glyph_use_text(&u, (const char *)data, size);
    for (size_t i = 0; i < size; i++)
        if (data[i] < 0x80 && !u.ranges[0])
            abort();
    if (u.rtl && !(u.ranges[0x05] || u.ranges[0x06] || u.ranges[0x07] || u.ranges[0x08] || u.ranges[0xFB] ||
                   u.ranges[0xFC] || u.ranges[0xFD] || u.ranges[0xFE]))
        abort();
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (j) {
        char fields[4][MSH_GLYPH_FIELD_MAX];
        memset(&u, 0, sizeof u);
        size_t n = msh_glyph_use_expr(&u, j, fields, 4);
        if (n > 4)
            abort();
        for (size_t i = 0; i < n; i++)
            if (!memchr(fields[i], 0, MSH_GLYPH_FIELD_MAX))
                abort();
        json_decref(j);
    }
    return 0;
}
