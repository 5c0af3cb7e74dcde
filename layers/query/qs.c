/* qs.c: OGC API Features query-string values: bbox, limit, datetime, cursor, property filters. */
#include "qs.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_time.h"

msh_rc msh_qs_bbox_any(const char *s, double out[4], msh_err *err)
{
    double v[6];
    int n = 0;
    const char *p = s;
    if (strlen(s) > 512)
        return msh_err_set(err, MSH_EINVAL, "bbox: too long");
    for (;;) {
        if (n == 6)
            return msh_err_set(err, MSH_EINVAL, "bbox: expected 4 numbers (west,south,east,north) or 6, got more");
        char *end;
        errno = 0;
        while (*p == ' ')
            p++;
        v[n] = strtod(p, &end);
        if (end == p || !isfinite(v[n]) || errno == ERANGE)
            return msh_err_set(err, MSH_EINVAL, "bbox: value %d is not a number (expected west,south,east,north)",
                               n + 1);
        n++;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == 0)
            break;
        if (*p != ',')
            return msh_err_set(err, MSH_EINVAL, "bbox: unexpected '%c' after value %d (separate numbers with commas)",
                               *p, n);
        p++;
    }
    if (n != 4 && n != 6)
        return msh_err_set(err, MSH_EINVAL, "bbox: expected 4 numbers (west,south,east,north) or 6, got %d", n);
    out[0] = v[0];
    out[1] = v[1];
    out[2] = n == 4 ? v[2] : v[3];
    out[3] = n == 4 ? v[3] : v[4];
    return MSH_OK;
}

msh_rc msh_qs_bbox(const char *s, double out[4], msh_err *err)
{
    double v[4];
    if (msh_qs_bbox_any(s, v, err))
        return MSH_EINVAL;
    double w = v[0], so = v[1], e = v[2], no = v[3];
    if (w < -180 || w > 180 || e < -180 || e > 180)
        return msh_err_set(err, MSH_EINVAL, "bbox: longitudes must be within [-180, 180] (CRS84 lon,lat order)");
    if (so < -90 || so > 90 || no < -90 || no > 90)
        return msh_err_set(err, MSH_EINVAL, "bbox: latitudes must be within [-90, 90] (CRS84 lon,lat order)");
    if (so > no)
        return msh_err_set(err, MSH_EINVAL, "bbox: south (%g) is above north (%g)", so, no);
    out[0] = w;
    out[1] = so;
    out[2] = e;
    out[3] = no;
    return MSH_OK;
}

msh_rc msh_qs_limit(const char *s, uint32_t max, uint32_t *out, msh_err *err)
{
    const char *p = s;
    if (*p == '+')
        p++;
    if (!isdigit((unsigned char)*p))
        return msh_err_set(err, MSH_EINVAL, "limit: '%.40s' is not a positive integer (1 to %u)", s, max);
    uint64_t v = 0;
    for (; isdigit((unsigned char)*p); p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max)
            v = (uint64_t)max + 1; /* saturate: any bigger number means "as many as allowed" */
    }
    if (*p)
        return msh_err_set(err, MSH_EINVAL, "limit: '%.40s' is not a positive integer (1 to %u)", s, max);
    if (v == 0)
        return msh_err_set(err, MSH_EINVAL, "limit: must be at least 1");
    *out = v > max ? max : (uint32_t)v;
    return MSH_OK;
}

msh_rc msh_qs_time(const char *s, size_t len, int64_t *lo, int64_t *hi, msh_err *err)
{
    msh_rc rc = msh_time_parse(s, len, MSH_TIME_DATE, lo, err);
    if (rc)
        return rc;
    *hi = len == MSH_QS_DATE_LEN ? *lo + MSH_DAY_MS - 1 : *lo; /* a date is its whole day */
    return MSH_OK;
}

static msh_rc time_end(const char *s, size_t len, bool start, int64_t *v, msh_err *err)
{
    int64_t lo, hi;
    if (len == 0 || (len == 2 && s[0] == '.' && s[1] == '.')) {
        *v = start ? MSH_TIME_MIN : MSH_TIME_MAX;
        return MSH_OK;
    }
    msh_err e;
    if (msh_qs_time(s, len, &lo, &hi, &e))
        return msh_err_set(err, MSH_EINVAL,
                           "datetime: '%.*s' is not an RFC 3339 time (2026-06-14T10:00:00Z) or date (2026-06-14): %s",
                           (int)(len > 60 ? 60 : len), s, e.msg);
    *v = start ? lo : hi;
    return MSH_OK;
}

msh_rc msh_qs_datetime(const char *s, int64_t *lo, int64_t *hi, msh_err *err)
{
    size_t len = strlen(s);
    const char *slash = memchr(s, '/', len);
    msh_rc rc;
    if (!slash) {
        msh_err e = {.msg = "empty"};
        if (len == 0 || msh_qs_time(s, len, lo, hi, &e))
            return msh_err_set(err, MSH_EINVAL,
                               "datetime: '%.60s' is not an RFC 3339 time (2026-06-14T10:00:00Z), a date, or an "
                               "interval START/END ('..' for an open end): %s",
                               s, e.msg);
        return MSH_OK;
    }
    if (memchr(slash + 1, '/', len - (size_t)(slash + 1 - s)))
        return msh_err_set(err, MSH_EINVAL, "datetime: an interval has exactly one '/'");
    if ((rc = time_end(s, (size_t)(slash - s), true, lo, err)) ||
        (rc = time_end(slash + 1, len - (size_t)(slash + 1 - s), false, hi, err)))
        return rc;
    if (*lo > *hi)
        return msh_err_set(err, MSH_EINVAL, "datetime: the interval ends before it starts");
    return MSH_OK;
}

msh_rc msh_qs_value(const char *name, const char *s, msh_ftype type, msh_value *out, msh_err *err)
{
    memset(out, 0, sizeof *out);
    char *end;
    errno = 0;
    switch (type) {
    case MSH_FT_INT: {
        long long v = strtoll(s, &end, 10);
        if (end == s || *end || errno == ERANGE || isspace((unsigned char)*s))
            return msh_err_set(err, MSH_EINVAL, "%s: '%.40s' is not an integer (the property is an integer)", name, s);
        out->type = MSH_FT_INT;
        out->u.i = v;
        return MSH_OK;
    }
    case MSH_FT_REAL: {
        double v = strtod(s, &end);
        if (end == s || *end || !isfinite(v) || isspace((unsigned char)*s))
            return msh_err_set(err, MSH_EINVAL, "%s: '%.40s' is not a number (the property is a number)", name, s);
        out->type = MSH_FT_REAL;
        out->u.d = v;
        return MSH_OK;
    }
    case MSH_FT_BOOL:
        if (strcmp(s, "true") && strcmp(s, "false"))
            return msh_err_set(err, MSH_EINVAL, "%s: '%.40s' is not true or false (the property is a boolean)", name, s);
        out->type = MSH_FT_BOOL;
        out->u.i = s[0] == 't';
        return MSH_OK;
    case MSH_FT_STRING:
        out->type = MSH_FT_STRING;
        out->u.s = s;
        out->len = (uint32_t)strlen(s);
        return MSH_OK;
    }
    return msh_err_set(err, MSH_EINTERNAL, "%s: unknown property type", name);
}

bool msh_value_equals(const msh_value *a, const msh_value *b)
{
    if (!a->type || !b->type)
        return false;
    if (a->type == MSH_FT_STRING || b->type == MSH_FT_STRING)
        return a->type == b->type && a->len == b->len && !memcmp(a->u.s, b->u.s, a->len);
    if (a->type == MSH_FT_BOOL || b->type == MSH_FT_BOOL)
        return a->type == b->type && a->u.i == b->u.i;
    if (a->type == MSH_FT_INT && b->type == MSH_FT_INT)
        return a->u.i == b->u.i;
    double x = a->type == MSH_FT_INT ? (double)a->u.i : a->u.d;
    double y = b->type == MSH_FT_INT ? (double)b->u.i : b->u.d;
    return x == y;
}

/* The cursor is the last id in hex behind a letter, so clients treat it as opaque text. */
msh_rc msh_qs_cursor(const char *s, uint64_t *after, msh_err *err)
{
    size_t n = strlen(s);
    if (n < 2 || n > 17 || s[0] != 'k')
        return msh_err_set(err, MSH_EINVAL, "cursor: not a cursor from a 'next' link of this server");
    uint64_t v = 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return msh_err_set(err, MSH_EINVAL, "cursor: not a cursor from a 'next' link of this server");
        v = v << 4 | (uint64_t)d;
    }
    *after = v;
    return MSH_OK;
}

void msh_qs_cursor_fmt(uint64_t after, char *out, size_t cap)
{
    snprintf(out, cap, "k%llx", (unsigned long long)after);
}

int msh_qs_time_field(const msh_layer_info *info)
{
    static const char *const names[] = {"reported_at", "time", "datetime", "timestamp", "updated_at"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        for (uint32_t i = 0; i < info->nfields; i++)
            if (info->fields[i].type == MSH_FT_STRING && !strcmp(info->fields[i].name, names[k]))
                return (int)i;
    return -1;
}
