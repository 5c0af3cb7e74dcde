/* fuzz_bearer.c: the Authorization parser never crashes, never reads past the value, and
 * only accepts `Bearer` + spaces + a b64token of at most 512 bytes reaching the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/auth.h"
#include "fuzz_cstr.h"

static int tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~+/", c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    if (!s)
        return 0;
    size_t slen = strlen(s);
    const char *tok = (const char *)1;
    size_t len = 99;
    if (msh_auth_parse_bearer(s, &tok, &len) != 0) {
        if (tok != NULL || len != 0)
            abort();
        free(s);
        return 0;
    }
    /* where it points: inside s, running to its end, after "bearer" and spaces only */
    if (!tok || tok < s + 7 || tok + len != s + slen || len < 1 || len > MSH_AUTH_TOKEN_MAX)
        abort();
    if (strncasecmp(s, "bearer ", 7) != 0)
        abort();
    for (const char *p = s + 7; p < tok; p++)
        if (*p != ' ')
            abort();
    /* what it holds: token characters, then only "=" padding, and not padding alone */
    size_t i = 0;
    while (i < len && tchar((unsigned char)tok[i]) && tok[i])
        i++;
    if (i == 0)
        abort();
    while (i < len && tok[i] == '=')
        i++;
    if (i != len)
        abort();
    /* the token alone, re-wrapped, parses back to itself */
    char *again = malloc(len + 8);
    memcpy(again, "Bearer ", 7);
    memcpy(again + 7, tok, len);
    again[len + 7] = 0;
    const char *t2;
    size_t l2;
    if (msh_auth_parse_bearer(again, &t2, &l2) != 0 || l2 != len || memcmp(t2, tok, len) != 0)
        abort();
    /* and anything after it spoils it */
    again[len + 6] = ' ';
    if (msh_auth_parse_bearer(again, &t2, &l2) == 0)
        abort();
    free(again);
    free(s);
    return 0;
}
