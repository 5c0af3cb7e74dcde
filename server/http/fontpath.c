/* fontpath.c: parse and check "{fontstack}/{range}.pbf". */
#include "http/fontpath.h"

#include <string.h>

#define RANGE_HELP "glyph ranges are {start}-{end}.pbf with start a multiple of 256 up to 65280 and end = start + 255"

/* A decimal number of 1..5 digits without a leading zero (except "0") ending at `stop`; -1 if not. */
static long decimal(const char *s, const char *stop)
{
    size_t n = (size_t)(stop - s);
    if (n < 1 || n > 5 || (n > 1 && s[0] == '0'))
        return -1;
    long v = 0;
    for (const char *c = s; c < stop; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        v = v * 10 + (*c - '0');
    }
    return v;
}

static msh_rc parse_range(const char *r, unsigned *start, msh_err *err)
{
    size_t n = strlen(r);
    if (n < 5 || strcmp(r + n - 4, ".pbf"))
        return msh_err_set(err, MSH_EINVAL, "%s: '%.40s' does not end in .pbf", RANGE_HELP, r);
    const char *dash = memchr(r, '-', n - 4);
    if (!dash)
        return msh_err_set(err, MSH_EINVAL, "%s, not '%.40s'", RANGE_HELP, r);
    long a = decimal(r, dash), b = decimal(dash + 1, r + n - 4);
    if (a < 0 || b < 0 || a % 256 || a > 65280 || b != a + 255)
        return msh_err_set(err, MSH_EINVAL, "%s, not '%.40s'", RANGE_HELP, r);
    *start = (unsigned)a;
    return MSH_OK;
}

msh_rc msh_fontpath_parse(const char *rest, msh_fontpath *fp, msh_err *err)
{
    memset(fp, 0, sizeof *fp);
    size_t len = strlen(rest);
    if (len > 2048)
        return msh_err_set(err, MSH_EINVAL, "glyph path too long");
    const char *slash = strrchr(rest, '/');
    if (!slash)
        return msh_err_set(err, MSH_EINVAL, "glyphs are at /fonts/{fontstack}/{range}.pbf");
    msh_rc rc = parse_range(slash + 1, &fp->start, err);
    if (rc)
        return rc;
    const char *p = rest;
    for (;;) {
        const char *end = p;
        while (end < slash && *end != ',')
            end++;
        const char *a = p, *b = end;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        if (a == b)
            return msh_err_set(err, MSH_EINVAL, "empty font name in the fontstack (names are separated by ',')");
        if ((size_t)(b - a) >= MSH_FONTPATH_NAME_MAX)
            return msh_err_set(err, MSH_EINVAL, "font name longer than %d bytes", MSH_FONTPATH_NAME_MAX - 1);
        for (const char *c = a; c < b; c++) {
            unsigned char u = (unsigned char)*c;
            if (u < 0x20 || u == 0x7f || u == '/' || u == '\\')
                return msh_err_set(err, MSH_EINVAL,
                                   "font names cannot hold '/', '\\' or control characters (see /fonts.json for the names)");
        }
        if (fp->n == MSH_GLYPH_MAX_STACK)
            return msh_err_set(err, MSH_EINVAL, "a fontstack has at most %d font names", MSH_GLYPH_MAX_STACK);
        memcpy(fp->names[fp->n], a, (size_t)(b - a));
        fp->names[fp->n][b - a] = 0;
        fp->n++;
        if (end == slash)
            break;
        p = end + 1;
    }
    return MSH_OK;
}
