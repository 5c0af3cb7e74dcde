/* httphdr.c: Accept-Encoding, If-None-Match and Host checks. */
#include "http/httphdr.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool msh_hdr_accepts_gzip(const char *ae)
{
    if (!ae)
        return false;
    /* walk the comma-separated codings; "gzip" or "*" with q != 0 */
    const char *p = ae;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        const char *tok = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ')
            p++;
        size_t n = (size_t)(p - tok);
        int is_gzip = (n == 4 && !strncasecmp(tok, "gzip", 4)) || (n == 1 && *tok == '*');
        double q = 1.0;
        while (*p == ' ')
            p++;
        if (*p == ';') {
            const char *e = p;
            while (*e && *e != ',')
                e++;
            const char *qs = p;
            while (qs < e - 1 && !((qs[0] == 'q' || qs[0] == 'Q') && qs[1] == '='))
                qs++;
            if (qs < e - 1)
                q = strtod(qs + 2, NULL);
            p = e;
        }
        while (*p && *p != ',')
            p++;
        if (is_gzip)
            return q > 0.0;
    }
    return false;
}

/* The opaque part of an entity tag: without W/, quotes and a "-gz" suffix. */
static void etag_core(const char *s, size_t n, const char **out, size_t *outn)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= 2 && !strncmp(s, "W/", 2)) {
        s += 2;
        n -= 2;
    }
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s++;
        n -= 2;
    }
    if (n > 3 && !strncmp(s + n - 3, "-gz", 3))
        n -= 3;
    *out = s;
    *outn = n;
}

bool msh_hdr_etag_matches(const char *inm, const char *etag)
{
    if (!inm || !etag || !*etag)
        return false;
    const char *e;
    size_t en;
    etag_core(etag, strlen(etag), &e, &en);
    const char *p = inm;
    while (*p) {
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *c;
        size_t cn;
        etag_core(s, (size_t)(p - s), &c, &cn);
        if (cn == 1 && *c == '*')
            return true;
        if (cn == en && cn > 0 && !memcmp(c, e, cn))
            return true;
        if (*p == ',')
            p++;
    }
    return false;
}

bool msh_hdr_host_ok(const char *host)
{
    if (!host || !*host || strlen(host) >= 200)
        return false;
    for (const char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr(".-:[]_", *p)))
            return false;
    return true;
}
