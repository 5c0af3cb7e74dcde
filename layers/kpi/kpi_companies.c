/* kpi_companies.c: the service companies ranked by their zones' KPIs (GET /kpi/companies).
 *
 * Design: a zone's company is its `service_company` property (workflow/zone_contacts.h), read from
 * the service_zones layer the result was computed over, so the ranking and the zones' values come
 * from one snapshot. A company's figures are its zones' values combined: the composite index (0-100)
 * averaged over the zones where it is measured, the cleaning coverage as covered metres over route
 * metres of all its zones, bins, overflowing bins and open incidents summed. Companies are ranked
 * by the composite, highest first (a company without one last), ties by name. Zones without a
 * company are listed apart (`unassigned`). Pure: a result in, JSON out; nothing kept.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "kpi/kpi.h"
#include "workflow/wf_rules.h"

typedef struct {
    uint64_t fid;
    const char *company, *contact; /* borrowed from the layer's values; NULL when none */
    uint32_t company_len, contact_len;
} zone_who;

typedef struct {
    const msh_layer_info *li;
    int fc, fk;
    zone_who *v;
    size_t n, cap;
    int fail;
} who_job;

static void str_of(const msh_value *v, const char **s, uint32_t *len)
{
    if (v->type == MSH_FT_STRING && v->len) {
        *s = v->u.s;
        *len = v->len;
    }
}

static int on_zone(void *ud, const msh_feature *f)
{
    who_job *j = ud;
    if (msh_grow_from((void **)&j->v, &j->cap, j->n + 1, sizeof *j->v, 16))
        return j->fail = 1;
    zone_who *w = &j->v[j->n++];
    memset(w, 0, sizeof *w);
    w->fid = f->id;
    if (j->fc >= 0)
        str_of(&f->values[j->fc], &w->company, &w->company_len);
    if (j->fk >= 0)
        str_of(&f->values[j->fk], &w->contact, &w->contact_len);
    return 0;
}

typedef struct {
    const char *name;
    uint32_t len;
    size_t first;       /* index of its first zone in the result */
    double composite;   /* sum, then mean */
    int ncomposite;
    double route_m, covered_m, bins, over, open;
} company;

static int by_rank(const void *a, const void *b)
{
    const company *x = a, *y = b;
    bool hx = x->ncomposite > 0, hy = y->ncomposite > 0;
    if (hx != hy)
        return hx ? -1 : 1;
    if (hx && x->composite != y->composite)
        return x->composite > y->composite ? -1 : 1;
    uint32_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, m);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static const zone_who *who_of(const who_job *j, uint64_t fid)
{
    for (size_t i = 0; i < j->n; i++)
        if (j->v[i].fid == fid)
            return &j->v[i];
    return NULL;
}

static void put_num(msh_buf *b, const char *name, double v)
{
    if (isfinite(v))
        msh_buf_printf(b, ",\"%s\":%.6g", name, msh_kpi_published(v));
    else
        msh_buf_printf(b, ",\"%s\":null", name);
}

static void put_text(msh_buf *b, const char *s, uint32_t n)
{
    char tmp[1024];
    n = n < sizeof tmp - 1 ? n : (uint32_t)sizeof tmp - 1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    msh_buf_putc(b, '"');
    msh_buf_json_str(b, tmp);
    msh_buf_putc(b, '"');
}

static double sum0(double a, double v)
{
    return isfinite(v) ? a + v : a;
}

msh_rc msh_kpi_companies_json(const msh_kpi_result *r, msh_buf *b)
{
    who_job j = {0};
    j.fc = j.fk = -1;
    if (r->zones_layer) {
        static const double world[4] = {0, 0, 1, 1};
        j.li = &r->zones_layer->info;
        j.fc = msh_wf_field(j.li, "service_company");
        j.fk = msh_wf_field(j.li, "contact");
        if (r->zones_layer->vt->query(r->zones_layer, world, r->zones_layer->info.maxzoom, on_zone, &j) || j.fail) {
            free(j.v);
            return MSH_ENOMEM;
        }
    }
    company *c = r->nzones ? calloc(r->nzones, sizeof *c) : NULL;
    if (r->nzones && !c) {
        free(j.v);
        return MSH_ENOMEM;
    }
    size_t nc = 0;
    for (size_t i = 0; i < r->nzones; i++) {
        const zone_who *w = who_of(&j, r->zones[i].fid);
        if (!w || !w->company)
            continue;
        size_t k = 0;
        while (k < nc && !(c[k].len == w->company_len && !memcmp(c[k].name, w->company, w->company_len)))
            k++;
        if (k == nc)
            c[nc++] = (company){w->company, w->company_len, i, 0, 0, 0, 0, 0, 0, 0};
        const double *v = r->zones[i].v;
        if (isfinite(v[MSH_KPI_COMPOSITE])) {
            c[k].composite += v[MSH_KPI_COMPOSITE];
            c[k].ncomposite++;
        }
        c[k].route_m = sum0(c[k].route_m, v[MSH_KPI_ROUTE_M]);
        c[k].covered_m = sum0(c[k].covered_m, v[MSH_KPI_COVERED_M]);
        c[k].bins = sum0(c[k].bins, v[MSH_KPI_BINS]);
        c[k].over = sum0(c[k].over, v[MSH_KPI_BINS_OVERFLOWING]);
        c[k].open = sum0(c[k].open, v[MSH_KPI_OPEN]);
    }
    for (size_t k = 0; k < nc; k++)
        c[k].composite = c[k].ncomposite ? c[k].composite / c[k].ncomposite : NAN;
    if (nc > 1)
        qsort(c, nc, sizeof *c, by_rank);
    msh_buf_printf(b, "\"ranked_by\":\"composite\",\"companies\":[");
    for (size_t k = 0; k < nc; k++) {
        msh_buf_printf(b, "%s{\"rank\":%zu,\"company\":", k ? "," : "", k + 1);
        put_text(b, c[k].name, c[k].len);
        put_num(b, "composite", c[k].composite);
        put_num(b, "cleaning_share_covered", c[k].route_m > 0 ? c[k].covered_m / c[k].route_m : NAN);
        put_num(b, "bins", c[k].bins);
        put_num(b, "bins_overflowing", c[k].over);
        put_num(b, "open_incidents", c[k].open);
        msh_buf_printf(b, ",\"zones\":[");
        bool first = true;
        for (size_t i = c[k].first; i < r->nzones; i++) { /* its zones in the result's order, each with its contact */
            const zone_who *w = who_of(&j, r->zones[i].fid);
            if (!w || !w->company || w->company_len != c[k].len || memcmp(w->company, c[k].name, c[k].len))
                continue;
            msh_buf_printf(b, "%s{\"zone_id\":\"", first ? "" : ",");
            msh_buf_json_str(b, r->zones[i].id);
            msh_buf_printf(b, "\",\"contact\":");
            if (w->contact)
                put_text(b, w->contact, w->contact_len);
            else
                msh_buf_printf(b, "null");
            msh_buf_printf(b, "}");
            first = false;
        }
        msh_buf_printf(b, "]}");
    }
    msh_buf_printf(b, "],\"unassigned\":[");
    bool first = true;
    for (size_t i = 0; i < r->nzones; i++) {
        const zone_who *w = who_of(&j, r->zones[i].fid);
        if (w && w->company)
            continue;
        msh_buf_printf(b, "%s\"", first ? "" : ",");
        msh_buf_json_str(b, r->zones[i].id);
        msh_buf_putc(b, '"');
        first = false;
    }
    msh_buf_printf(b, "]");
    free(c);
    free(j.v);
    return MSH_OK;
}
