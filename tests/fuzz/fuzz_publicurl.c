/* fuzz_publicurl.c: the --public-url check never crashes, and what it accepts is safe to write into
 * JSON and HTML links as is: http(s)://, a host, printable characters without quotes, spaces, '<',
 * '>', '\', a query or a fragment, no trailing '/', and the ETag host fold stays a quoted tag. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/host_links.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    char out[256];
    const char *why = NULL;
    if (msh_public_url_parse(s, out, sizeof out, &why)) {
        size_t n = strlen(out);
        size_t scheme = !strncmp(out, "https://", 8) ? 8 : !strncmp(out, "http://", 7) ? 7 : 0;
        if (!scheme || n <= scheme || out[n - 1] == '/' || out[scheme] == '/')
            abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)out[i] <= ' ' || (unsigned char)out[i] >= 0x7f || strchr("\"'<>\\`?#", out[i]))
                abort();
    } else if (!why) {
        abort();
    }
    char etag[96] = "\"abc\"";
    msh_etag_fold_host(etag, sizeof etag, s);
    size_t n = strlen(etag);
    if (n < 2 || etag[0] != '"' || etag[n - 1] != '"')
        abort();
    free(s);
    return 0;
}
