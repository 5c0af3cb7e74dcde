/* kpi_json.c: a zone's values as published: numbers to 6 significant digits, JSON by group. */
#include "kpi_int.h"

#include <stdio.h>
#include <string.h>

double msh_kpi_published(double v)
{
    if (!isfinite(v) || (v == floor(v) && fabs(v) < 1e15))
        return v;
    char s[32];
    snprintf(s, sizeof s, "%.6g", v);
    return strtod(s, NULL);
}

static void num(msh_buf *b, double v)
{
    if (!isfinite(v))
        msh_buf_printf(b, "null");
    else if (v == floor(v) && fabs(v) < 1e15)
        msh_buf_printf(b, "%.0f", v);
    else
        msh_buf_printf(b, "%.6g", v); /* the same digits as msh_kpi_published */
}

msh_rc msh_kpi_zone_json(const msh_kpi_zone *z, msh_buf *b)
{
    size_t start = b->len;
    const char *group = NULL;
    msh_buf_putc(b, '{');
    for (int i = 0; i < MSH_KPI_N; i++) {
        const msh_kpi_ind *d = &msh_kpi_inds[i];
        if (!group || strcmp(group, d->group)) {
            msh_buf_printf(b, "%s\"%s\":{", group ? "}," : "", d->group);
            group = d->group;
            if (!strcmp(group, "crowd")) {
                char los = msh_kpi_peak_los(z);
                if (los)
                    msh_buf_printf(b, "\"peak_los\":\"%c\",", los);
                else
                    msh_buf_printf(b, "\"peak_los\":null,");
            }
        } else {
            msh_buf_putc(b, ',');
        }
        msh_buf_printf(b, "\"%s\":", d->name);
        if (i == MSH_KPI_SUPPRESSED && isfinite(z->v[i]))
            msh_buf_printf(b, "%s", z->v[i] ? "true" : "false");
        else
            num(b, z->v[i]);
    }
    msh_rc rc = msh_buf_printf(b, "}}");
    if (rc)
        msh_buf_truncate(b, start);
    return rc;
}
