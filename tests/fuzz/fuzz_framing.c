/* fuzz_framing.c: the framing rules (server/http/framing.c) and the X-Forwarded-For reader never
 * crash or read outside the header block, and never pass a block in which a NUL hides bytes, that
 * holds a control character, or that carries two lengths.
 *
 * The input is a header block: lines split at LF (a CR before it dropped), laid out the way
 * libmicrohttpd 0.9.75 leaves them (line ends and the colon zeroed, the spaces after the colon
 * skipped, name and value found with C-string functions that stop at a NUL). Lines without a
 * colon are left out, as libmicrohttpd refuses those itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/client_limits.h"
#include "http/framing.h"

#define MAXH 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *block = malloc(size + 2);
    memcpy(block, data, size);
    block[size] = block[size + 1] = 0;
    msh_hdr_ref h[MAXH] = {{0}};
    size_t n = 0;
    int hidden = 0; /* a line holds a byte the C strings cannot show: a NUL before its end */
    int ctl = 0, lengths = 0;
    const char *first_len = NULL;
    char *p = block, *end = block + size;
    while (p < end && n < MAXH) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        size_t line_len = (size_t)(le - p);
        if (nl && le > p && le[-1] == '\r')
            le[-1] = 0, line_len--;
        if (nl)
            *nl = 0;
        char *colon = strchr(p, ':');
        if (colon && colon < p + line_len) {
            *colon = 0;
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            h[n++] = (msh_hdr_ref){p, (size_t)(colon - p), v, strlen(v)};
            for (const char *q = v + strlen(v); q < p + line_len; q++)
                if (*q)
                    hidden = 1; /* a byte after a NUL: content the C string hides */
            for (const char *q = v; *q; q++)
                if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f)
                    ctl = 1;
            if (!strcasecmp(p, "Content-Length")) {
                if (first_len && strcmp(first_len, v))
                    lengths = 2;
                else if (!first_len)
                    first_len = v, lengths = 1;
            }
        }
        p = nl ? nl + 1 : end;
    }
    const char *why = msh_framing_check(h, n, end + 2);
    if (!why && (hidden || ctl || lengths == 2))
        abort();
    /* the last X-Forwarded-For address: parses or not, never past the value */
    for (size_t i = 0; i < n; i++) {
        msh_client_key k;
        if (!msh_client_key_from_xff(h[i].value, &k) && k.b[0] != 4 && k.b[0] != 6)
            abort();
    }
    free(block);
    return 0;
}
