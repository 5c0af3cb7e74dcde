/* host_links.c: the public base URL and answers that depend on the Host header (host_links.h). */
#include "http/host_links.h"

#include <stdio.h>
#include <string.h>

#include "core/msh_hash.h"

bool msh_public_url_parse(const char *in, char *out, size_t cap, const char **why)
{
    size_t scheme = !strncmp(in, "https://", 8) ? 8 : !strncmp(in, "http://", 7) ? 7 : 0;
    size_t n = strlen(in);
    if (!scheme) {
        *why = "it must start with http:// or https://";
        return false;
    }
    while (n > scheme && in[n - 1] == '/')
        n--;
    if (n == scheme || in[scheme] == '/') {
        *why = "it has no host";
        return false;
    }
    if (n >= cap || n > 255) {
        *why = "it is longer than 255 characters";
        return false;
    }
    for (size_t i = scheme; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= ' ' || c >= 0x7f || strchr("\"'<>\\`{}|^?#", c)) {
            *why = "it holds a space, a control character, a quote, a query or a fragment";
            return false;
        }
    }
    memcpy(out, in, n);
    out[n] = 0;
    return true;
}

void msh_etag_fold_host(char *etag, size_t cap, const char *host)
{
    size_t n = strlen(etag);
    if (n < 2 || etag[n - 1] != '"' || n + 11 > cap)
        return;
    uint32_t h = (uint32_t)msh_fnv1a(host ? host : "", host ? strlen(host) : 0, MSH_FNV1A_INIT);
    snprintf(etag + n - 1, cap - (n - 1), "-h%08x\"", h);
}
