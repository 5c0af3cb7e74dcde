/* fuzz_httphdr.c: header parsers on arbitrary values. Input: "A\0B" -> Accept-Encoding/If-None-Match A, ETag B. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/httphdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 2);
    memcpy(s, data, size);
    s[size] = 0;
    s[size + 1] = 0;
    const char *b = s + strlen(s) + 1;
    if (b > s + size)
        b = s + size;
    (void)msh_hdr_accepts_gzip(s);
    /* a tag always matches itself */
    if (*b && strchr(b, ',') == NULL && msh_hdr_etag_matches(b, b) == 0 && strlen(b) > 0) {
        /* only whitespace or empty cores may fail to match themselves */
        int blank = 1;
        for (const char *p = b; *p; p++)
            if (!strchr(" \t\"W/-gz", *p))
                blank = 0;
        if (!blank)
            abort();
    }
    (void)msh_hdr_etag_matches(s, b);
    (void)msh_hdr_host_ok(s);
    free(s);
    return 0;
}
