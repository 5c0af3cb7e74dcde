/* byterange.c: the Range header reader (see byterange.h). Pure: no allocation, no state. */
#include "http/byterange.h"

#include <stdbool.h>
#include <strings.h>

/* Digits at *p as a number; false when there are none. Past UINT64_MAX it saturates. */
static bool number(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : v * 10 + (uint64_t)(*s - '0');
    *p = s;
    *out = v;
    return true;
}

static void skip_ows(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

/* One range-spec at *p: "a-b", "a-" (b = UINT64_MAX) or "-n" (suffix: *suffix set). */
static bool spec(const char **p, uint64_t *a, uint64_t *b, bool *suffix)
{
    *suffix = **p == '-';
    if (*suffix) {
        (*p)++;
        return number(p, b);
    }
    if (!number(p, a) || **p != '-')
        return false;
    (*p)++;
    *b = UINT64_MAX;
    if (**p >= '0' && **p <= '9') {
        number(p, b);
        if (*b < *a)
            return false; /* invalid: the whole range-set is ignored */
    }
    return true;
}

msh_range_kind msh_range_parse(const char *h, uint64_t size, uint64_t *first, uint64_t *len)
{
    if (!h)
        return MSH_RANGE_NONE;
    const char *p = h;
    skip_ows(&p);
    if (strncasecmp(p, "bytes", 5))
        return MSH_RANGE_NONE;
    p += 5;
    skip_ows(&p);
    if (*p++ != '=')
        return MSH_RANGE_NONE;
    int n = 0;
    uint64_t a = 0, b = 0;
    bool suffix = false;
    for (;;) {
        skip_ows(&p);
        if (*p == ',') { /* empty list elements are allowed */
            p++;
            continue;
        }
        if (!*p)
            break;
        uint64_t a1 = 0, b1 = 0;
        bool s1;
        if (!spec(&p, &a1, &b1, &s1))
            return MSH_RANGE_NONE;
        if (n++ == 0)
            a = a1, b = b1, suffix = s1;
        skip_ows(&p);
        if (*p && *p != ',')
            return MSH_RANGE_NONE;
    }
    if (n == 0)
        return MSH_RANGE_NONE;
    if (n > 1)
        return MSH_RANGE_MANY;
    if (suffix) {
        if (b == 0 || size == 0)
            return MSH_RANGE_UNSATISFIABLE;
        *len = b < size ? b : size;
        *first = size - *len;
        return MSH_RANGE_ONE;
    }
    if (a >= size)
        return MSH_RANGE_UNSATISFIABLE;
    if (b >= size)
        b = size - 1;
    *first = a;
    *len = b - a + 1;
    return MSH_RANGE_ONE;
}
