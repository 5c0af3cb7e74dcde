/* report_kpi.c: counts, SLA met and median time to close of the reports (report_kpi.h). */
#include "workflow/report_kpi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"

typedef struct {
    msh_report_kpi *k;
    int64_t now_ms;
    int f_cat, f_status, f_zone, f_created, f_due, f_closed;
    double *close_s;
    size_t nclose, cap_close, cap_zones;
    bool oom;
} pass_ctx;

static bool text(const msh_feature *f, int k, const char **s, size_t *n)
{
    if (k < 0 || f->values[k].type != MSH_FT_STRING)
        return false;
    *s = f->values[k].u.s;
    *n = f->values[k].len;
    return true;
}

static bool time_at(const msh_feature *f, int k, int64_t *ms)
{
    const char *s;
    size_t n;
    msh_err err;
    return text(f, k, &s, &n) && !msh_time_parse_iso(s, n, ms, &err);
}

static void count_zone(pass_ctx *c, const char *z, size_t n)
{
    msh_report_kpi *k = c->k;
    n = n > MSH_REPORT_ID_MAX ? MSH_REPORT_ID_MAX : n;
    for (size_t i = 0; i < k->nzones; i++)
        if (strlen(k->zones[i].zone) == n && !memcmp(k->zones[i].zone, z, n)) {
            k->zones[i].count++;
            return;
        }
    if (msh_grow_from((void **)&k->zones, &c->cap_zones, k->nzones + 1, sizeof *k->zones, 16)) {
        c->oom = true;
        return;
    }
    msh_report_zone_count *zc = &k->zones[k->nzones++];
    memcpy(zc->zone, z, n);
    zc->zone[n] = 0;
    zc->count = 1;
}

static int one(void *ud, const msh_feature *f)
{
    pass_ctx *c = ud;
    msh_report_kpi *k = c->k;
    const char *s;
    size_t n;
    k->total++;
    if (text(f, c->f_cat, &s, &n)) {
        int ci = msh_report_category(s, n);
        if (ci >= 0)
            k->by_category[ci]++;
    }
    if (text(f, c->f_zone, &s, &n))
        count_zone(c, s, n);
    else
        count_zone(c, "", 0);
    char status[16] = "";
    if (text(f, c->f_status, &s, &n) && n < sizeof status)
        memcpy(status, s, n);
    int64_t created, due, closed;
    bool has_due = time_at(f, c->f_due, &due);
    if (msh_report_closed(status) && time_at(f, c->f_closed, &closed)) {
        k->closed++;
        if (has_due) {
            k->sla_known++;
            k->sla_met += closed <= due;
        }
        if (time_at(f, c->f_created, &created)) {
            if (msh_grow_from((void **)&c->close_s, &c->cap_close, c->nclose + 1, sizeof *c->close_s, 64)) {
                c->oom = true;
                return 1;
            }
            c->close_s[c->nclose++] = (double)(closed - created) / 1000.0;
        }
    } else {
        k->open++;
        k->sla_known += has_due && c->now_ms > due; /* late already: a miss whatever happens next */
    }
    return c->oom;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

msh_rc msh_report_kpi_compute(msh_layer *l, int64_t now_ms, msh_report_kpi *out, msh_err *err)
{
    memset(out, 0, sizeof *out);
    out->median_close_s = NAN;
    if (!l)
        return MSH_OK;
    pass_ctx c = {.k = out, .now_ms = now_ms};
    c.f_cat = msh_wf_field(&l->info, "category");
    c.f_status = msh_wf_field(&l->info, "status");
    c.f_zone = msh_wf_field(&l->info, "zone");
    c.f_created = msh_wf_field(&l->info, "created");
    c.f_due = msh_wf_field(&l->info, "sla_due");
    c.f_closed = msh_wf_field(&l->info, "closed");
    double world[4] = {0, 0, 1, 1};
    msh_rc rc = l->vt->query(l, world, l->info.maxzoom, one, &c);
    if (c.oom)
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    else if (rc)
        rc = msh_err_set(err, rc, "reading the reports failed");
    if (!rc && c.nclose) {
        qsort(c.close_s, c.nclose, sizeof *c.close_s, cmp_double);
        out->median_close_s = c.nclose % 2 ? c.close_s[c.nclose / 2]
                                           : (c.close_s[c.nclose / 2 - 1] + c.close_s[c.nclose / 2]) / 2;
    }
    free(c.close_s);
    if (rc)
        msh_report_kpi_free(out);
    return rc;
}

void msh_report_kpi_free(msh_report_kpi *k)
{
    free(k->zones);
    k->zones = NULL;
    k->nzones = 0;
}

void msh_report_kpi_json(const msh_report_kpi *k, msh_buf *b)
{
    msh_buf_printf(b, "{\"count\":%llu,\"open\":%llu,\"closed\":%llu,\"by_category\":{", (unsigned long long)k->total,
                   (unsigned long long)k->open, (unsigned long long)k->closed);
    for (int i = 0; i < MSH_REPORT_NCAT; i++)
        msh_buf_printf(b, "%s\"%s\":%llu", i ? "," : "", msh_report_categories[i],
                       (unsigned long long)k->by_category[i]);
    msh_buf_printf(b, "},\"by_zone\":{");
    for (size_t i = 0; i < k->nzones; i++) {
        msh_buf_printf(b, "%s\"", i ? "," : "");
        msh_buf_json_str(b, k->zones[i].zone);
        msh_buf_printf(b, "\":%llu", (unsigned long long)k->zones[i].count);
    }
    msh_buf_printf(b, "},\"sla_met_share\":");
    if (k->sla_known)
        msh_buf_printf(b, "%.4f", (double)k->sla_met / (double)k->sla_known);
    else
        msh_buf_printf(b, "null");
    msh_buf_printf(b, ",\"median_close_s\":");
    if (isfinite(k->median_close_s))
        msh_buf_printf(b, "%.1f", k->median_close_s);
    else
        msh_buf_printf(b, "null");
    msh_buf_putc(b, '}');
}
