/* msh_buf.c: growable byte buffers with caps. */
#include "msh_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void msh_buf_init(msh_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->limit = limit;
    b->err = MSH_OK;
}

void msh_buf_free(msh_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = MSH_OK;
}

/* A write failed: remember it (the first one) and say it. */
static msh_rc fail(msh_buf *b, msh_rc rc)
{
    if (!b->err)
        b->err = rc;
    return rc;
}

msh_rc msh_buf_reserve(msh_buf *b, size_t n)
{
    if (b->err)
        return b->err;
    if (n > b->limit || b->len > b->limit - n)
        return fail(b, MSH_ETOOBIG);
    size_t need = b->len + n;
    if (need <= b->cap)
        return MSH_OK;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < need)
        nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    if (nc > b->limit)
        nc = b->limit;
    uint8_t *p = realloc(b->data, nc);
    if (!p)
        return fail(b, MSH_ENOMEM);
    b->data = p;
    b->cap = nc;
    return MSH_OK;
}

msh_rc msh_buf_append(msh_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return b->err;
    msh_rc rc = msh_buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return MSH_OK;
}

msh_rc msh_buf_putc(msh_buf *b, uint8_t c)
{
    if (b->len < b->cap && !b->err) {
        b->data[b->len++] = c;
        return MSH_OK;
    }
    return msh_buf_append(b, &c, 1);
}

msh_rc msh_buf_printf(msh_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return fail(b, MSH_EINTERNAL);
    if ((size_t)n < sizeof small)
        return msh_buf_append(b, small, (size_t)n);
    msh_rc rc = msh_buf_reserve(b, (size_t)n + 1);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return MSH_OK;
}

msh_rc msh_buf_json_str(msh_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    msh_rc rc = MSH_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            uint8_t e[2] = {'\\', c};
            rc = msh_buf_append(b, e, 2);
        } else if (c < 0x20) {
            uint8_t e[6] = {'\\', 'u', '0', '0', (uint8_t)hex[c >> 4], (uint8_t)hex[c & 15]};
            rc = msh_buf_append(b, e, 6);
        } else {
            rc = msh_buf_putc(b, c);
        }
    }
    return rc ? rc : b->err;
}

msh_rc msh_buf_varint(msh_buf *b, uint64_t v)
{
    if (b->cap - b->len < 10 || b->err) {
        /* near the end of the memory or the cap: append the exact bytes (fails only if they do not fit) */
        uint8_t tmp[10];
        size_t n = 0;
        while (v >= 0x80) {
            tmp[n++] = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        tmp[n++] = (uint8_t)v;
        return msh_buf_append(b, tmp, n);
    }
    uint8_t *p = b->data + b->len;
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    b->len = (size_t)(p - b->data);
    return MSH_OK;
}

uint8_t *msh_buf_steal(msh_buf *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = MSH_OK;
    return p;
}

msh_rc msh_buf_json_str_or_null(msh_buf *b, const char *s)
{
    if (!*s)
        return msh_buf_printf(b, "null");
    msh_buf_putc(b, '"');
    msh_buf_json_str(b, s);
    return msh_buf_putc(b, '"');
}
