/* framing.c: the request-framing rules (see framing.h). */
#include "http/framing.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 tchar */
static bool tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_name(const msh_hdr_ref *h, const char *name)
{
    return h->key_len == strlen(name) && !strncasecmp(h->key, name, h->key_len);
}

/* Value bytes: visible characters, SP, HTAB and obs-text; no other control character. */
static bool value_ok(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

/* The value without surrounding spaces equals `word` (any case). */
static bool value_is(const msh_hdr_ref *h, const char *word)
{
    const char *v = h->value;
    size_t n = h->value_len;
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return n == strlen(word) && !strncasecmp(v, word, n);
}

/* Bytes in [from, to) are 1 to `most` zeros. */
static bool zeros(const char *from, const char *to, size_t most)
{
    if (to <= from || (size_t)(to - from) > most)
        return false;
    for (const char *p = from; p < to; p++)
        if (*p)
            return false;
    return true;
}

const char *msh_framing_check(const msh_hdr_ref *h, size_t n, const char *block_end)
{
    const msh_hdr_ref *cl = NULL, *te = NULL;
    for (size_t i = 0; i < n; i++) {
        const msh_hdr_ref *x = &h[i];
        if (!x->key_len)
            return "an empty header name";
        for (size_t j = 0; j < x->key_len; j++)
            if (!tchar((unsigned char)x->key[j]))
                return "a header name with a character outside RFC 9110's token (a space, a control character or a NUL)";
        /* name, the colon (a zero now), optional spaces and tabs, the value */
        const char *after_name = x->key + x->key_len;
        if (x->value < after_name + 1 || x->value > block_end || *after_name)
            return "folded header lines (obs-fold) are not accepted";
        for (const char *p = after_name + 1; p < x->value; p++)
            if (*p != ' ' && *p != '\t')
                return "folded header lines (obs-fold) are not accepted";
        if (!value_ok(x->value, x->value_len))
            return "a control character in a header value";
        const char *end = x->value + x->value_len;
        bool last = i + 1 == n;
        const char *next = last ? block_end : h[i + 1].key;
        if (!zeros(end, next, last ? 4 : 2))
            return next < end || next > block_end ? "folded header lines (obs-fold) are not accepted"
                                                  : "a NUL byte in a header line";
        if (is_name(x, "Content-Length")) {
            if (memchr(x->value, ',', x->value_len))
                return "a list of lengths in Content-Length";
            if (cl && (cl->value_len != x->value_len || memcmp(cl->value, x->value, x->value_len)))
                return "two different Content-Length headers";
            cl = x;
        } else if (is_name(x, "Transfer-Encoding")) {
            if (te)
                return "more than one Transfer-Encoding header";
            if (!value_is(x, "chunked"))
                return "a Transfer-Encoding other than 'chunked'";
            te = x;
        }
    }
    if (cl && te)
        return "both Content-Length and Transfer-Encoding";
    return NULL;
}
