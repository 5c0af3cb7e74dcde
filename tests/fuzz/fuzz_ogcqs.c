/* fuzz_ogcqs.c: the OGC API query-string value parsers (bbox, limit, datetime, cursor, property
 * values) on arbitrary bytes. The first byte picks the parser; errors must carry a message and
 * results must hold their contracts. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query/qs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0; /* parameter values arrive NUL-terminated (and may hold an early NUL) */
    msh_err err;
    err.msg[0] = 0;
    msh_rc rc = MSH_OK;
    switch (data[0] % 6) {
    case 0: {
        double b[4];
        rc = msh_qs_bbox(s, b, &err);
        if (!rc && (!(b[1] <= b[3]) || fabs(b[0]) > 180 || fabs(b[2]) > 180 || fabs(b[1]) > 90 || fabs(b[3]) > 90))
            abort();
        break;
    }
    case 1: {
        uint32_t lim = 0;
        rc = msh_qs_limit(s, MSH_QS_LIMIT_MAX, &lim, &err);
        if (!rc && (lim < 1 || lim > MSH_QS_LIMIT_MAX))
            abort();
        break;
    }
    case 2: {
        int64_t lo, hi;
        rc = msh_qs_datetime(s, &lo, &hi, &err);
        if (!rc && lo > hi)
            abort();
        break;
    }
    case 3: {
        uint64_t after;
        rc = msh_qs_cursor(s, &after, &err);
        if (!rc) {
            char back[32];
            uint64_t again;
            msh_qs_cursor_fmt(after, back, sizeof back);
            if (msh_qs_cursor(back, &again, &err) || again != after)
                abort();
        }
        break;
    }
    case 4: {
        msh_value v;
        rc = msh_qs_value("p", s, (msh_ftype)(1 + (size % 4)), &v, &err);
        if (!rc && !msh_value_equals(&v, &v) && !(v.type == MSH_FT_REAL && isnan(v.u.d)))
            abort();
        break;
    }
    default: {
        int64_t lo, hi;
        msh_err e = {.msg = ""};
        if (msh_qs_time(s, strlen(s), &lo, &hi, &e) == MSH_OK ? lo > hi : !e.msg[0])
            abort(); /* an interval in order, or a refusal that says why */
        break;
    }
    }
    if (rc && !err.msg[0])
        abort(); /* every refusal says why */
    free(s);
    return 0;
}
