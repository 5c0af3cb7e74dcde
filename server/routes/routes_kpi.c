/* routes_kpi.c: GET /kpi, /kpi/zones, /kpi/zones/{id}, /kpi/companies, /kpi/history (the service that keeps and
 * records them: server/services/kpi_service.h). */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_time.h"
#include "kpi/kpi.h"
#include "kpi/kpi_history.h"
#include "kpi/kpi_layer.h"
#include "live/counting_layer.h"
#include "route/graph.h"
#include "routes/routes.h"
#include "services/kpi_service.h"
#include "workflow/report_kpi.h"

#define FRESH_MS 1000 /* a /kpi answer is never older than this */

static void zone_head(msh_buf *b, const msh_kpi_zone *z)
{
    msh_buf_printf(b, "{\"zone_id\":\"");
    msh_buf_json_str(b, z->id);
    msh_buf_printf(b, "\",\"name\":\"");
    msh_buf_json_str(b, z->name);
    msh_buf_printf(b, "\",\"kpi\":");
    msh_kpi_zone_json(z, b);
    msh_buf_putc(b, '}');
}

static void result_head(msh_buf *b, const msh_kpi_result *r, const msh_kpi_config *c)
{
    char t[MSH_TIME_ISO_CAP];
    msh_time_format_iso(r->t_ms, t, sizeof t, 3);
    msh_buf_printf(b,
                   "{\"time\":\"%s\",\"compute_ms\":%.1f,\"live_wait_ms\":%.1f,\"live_copy_ms\":%.1f,"
                   "\"zones_count\":%zu,\"network\":%s,",
                   t, r->compute_ms, r->live_wait_ms, r->live_copy_ms, r->nzones, r->graph ? "true" : "false");
    msh_buf_printf(b,
                   "\"config\":{\"window_h\":%g,\"interval_s\":%d,\"toilet_m\":%g,\"water_m\":%g,\"clinic_m\":%g,"
                   "\"snap_m\":%g,\"heat_c\":%g,\"cleaning_h\":%g,\"cleaning_buffer_m\":%g,\"response_target_s\":%g,"
                   "\"history_days\":%g,\"k_anon\":%d,\"weights\":{",
                   c->window_h, c->interval_s, c->toilet_m, c->water_m, c->clinic_m, c->snap_m, c->heat_c,
                   c->cleaning_h, c->cleaning_buffer_m, c->response_target_s, c->history_days, c->k_anon);
    for (int i = 0; i < MSH_KPI_NW; i++)
        msh_buf_printf(b, "%s\"%s\":%g", i ? "," : "", msh_kpi_weight_names[i], c->weight[i]);
    msh_buf_printf(b, "}},");
}

/* "reports": the reports' counts, SLA met and median time to close (layers/workflow/report_kpi.h), now. */
static void reports_json(msh_req *r, msh_buf *b)
{
    msh_catalog *cat = msh_app_catalog(r->app);
    msh_report_kpi k;
    msh_err err;
    if (!msh_report_kpi_compute(msh_catalog_find(cat, MSH_REPORTS_LAYER, strlen(MSH_REPORTS_LAYER)), msh_now_ms(), &k,
                                &err)) {
        msh_buf_printf(b, "\"reports\":");
        msh_report_kpi_json(&k, b);
        msh_buf_putc(b, ',');
        msh_report_kpi_free(&k);
    }
    msh_catalog_release(cat);
}

/* /kpi: the overall values and, per zone, the headline figures. /kpi/zones: every zone in full. */
static void answer_all(msh_req *r, const msh_kpi_result *res, bool full)
{
    const msh_kpi_config *c = msh_kpi_get_config(r->app->kpi);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    result_head(&b, res, c);
    if (!full) {
        msh_buf_printf(&b, "\"overall\":");
        msh_kpi_zone_json(&res->overall, &b);
        msh_buf_printf(&b, ",\"cleaning_tasks\":");
        msh_kpi_tasks_json(res, res->t_ms, &b);
        msh_buf_printf(&b, ",\"sites\":"); /* people on each site from its gates (kpi_sites.c) */
        msh_kpi_sites_json(res, &b);
        if (r->app->counting) { /* each counting line's totals (layers/live/counting_layer.h) */
            msh_buf_printf(&b, ",\"counting_lines\":");
            msh_counting_totals_json(r->app->counting, &b);
        }
        msh_buf_printf(&b, ",");
        reports_json(r, &b);
    }
    msh_buf_printf(&b, "\"zones\":[");
    for (size_t i = 0; i < res->nzones; i++) {
        const msh_kpi_zone *z = &res->zones[i];
        if (i)
            msh_buf_putc(&b, ',');
        if (full) {
            zone_head(&b, z);
            continue;
        }
        char los = msh_kpi_peak_los(z);
        msh_buf_printf(&b, "{\"zone_id\":\"");
        msh_buf_json_str(&b, z->id);
        msh_buf_printf(&b, "\",\"name\":\"");
        msh_buf_json_str(&b, z->name);
        double comp = z->v[MSH_KPI_COMPOSITE];
        if (isfinite(comp))
            msh_buf_printf(&b, "\",\"composite\":%.2f,", comp);
        else
            msh_buf_printf(&b, "\",\"composite\":null,");
        if (los)
            msh_buf_printf(&b, "\"peak_los\":\"%c\"}", los);
        else
            msh_buf_printf(&b, "\"peak_los\":null}");
    }
    if (msh_buf_printf(&b, "]}\n")) {
        msh_buf_free(&b);
        msh_resp_error(r, 500, "the KPI answer is too large");
        return;
    }
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}

static void answer_zone(msh_req *r, const msh_kpi_result *res, const char *id)
{
    const msh_kpi_zone *z = msh_kpi_result_zone(res, id, strlen(id));
    if (!z) {
        msh_resp_error(r, 404, "unknown zone '%.64s' (the zones are listed by /kpi)", id);
        return;
    }
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    char t[MSH_TIME_ISO_CAP];
    msh_time_format_iso(res->t_ms, t, sizeof t, 3);
    msh_buf_printf(&b, "{\"time\":\"%s\",\"zone\":", t);
    zone_head(&b, z);
    msh_buf_printf(&b, ",\"coverage_gaps\":"); /* the camps behind the coverage shares */
    msh_kpi_gaps_json(res, (int)(z - res->zones), &b);
    msh_buf_printf(&b, "}\n");
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}

static void answer_history(msh_req *r, const msh_kpi_result *res)
{
    const char *zone = msh_req_arg(r, "zone");
    if (zone && *zone && !msh_kpi_result_zone(res, zone, strlen(zone))) {
        msh_resp_error(r, 404, "unknown zone '%.64s' (the zones are listed by /kpi)", zone);
        return;
    }
    msh_kpi_hq q;
    msh_err err;
    if (msh_kpi_hq_parse(msh_req_arg(r, "from"), msh_req_arg(r, "to"), msh_req_arg(r, "step"), msh_now_ms(), &q,
                         &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    if (msh_kpi_history_query(r->app->kpi_history, zone ? zone : "", &q, &b, &err)) {
        msh_buf_free(&b);
        msh_resp_error(r, err.code == MSH_ETOOBIG ? 400 : 500, "%s", err.msg);
        return;
    }
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}

/* The members of one part of the result after its time: `"sites":[...]` or the companies' ranking. */
static msh_rc sites_member(const msh_kpi_result *res, msh_buf *b)
{
    msh_buf_printf(b, "\"sites\":");
    return msh_kpi_sites_json(res, b);
}

/* /kpi/sites (the same array as /kpi's `sites`) and /kpi/companies (layers/kpi/kpi_companies.c). */
static void answer_part(msh_req *r, const msh_kpi_result *res, msh_rc (*members)(const msh_kpi_result *, msh_buf *))
{
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    char t[MSH_TIME_ISO_CAP];
    msh_time_format_iso(res->t_ms, t, sizeof t, 3);
    msh_buf_printf(&b, "{\"time\":\"%s\",", t);
    if (members(res, &b)) {
        msh_buf_free(&b);
        msh_resp_error(r, 500, "out of memory");
        return;
    }
    msh_buf_printf(&b, "}\n");
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}

void msh_route_kpi(msh_req *r, const char *tail)
{
    const char *rest = r->path + 4; /* after "/kpi": "" or "/..." (both rows of the table lead here) */
    (void)tail;
    if (!r->app->kpi) {
        msh_resp_error(r, 503, "KPIs are not available on this server");
        return;
    }
    bool history = !strcmp(rest, "/history"), sites = !strcmp(rest, "/sites"), companies = !strcmp(rest, "/companies");
    if (strcmp(rest, "") && strcmp(rest, "/zones") && strncmp(rest, "/zones/", 7) && !history && !sites && !companies) {
        msh_resp_error(r, 404,
                       "no such KPI resource: /kpi%.64s (see /kpi, /kpi/zones/{id}, /kpi/sites, /kpi/companies, "
                       "/kpi/history)", rest);
        return;
    }
    msh_kpi_result *res = NULL;
    msh_err err;
    if (msh_kpi_service_current(r->app, msh_now_ms(), FRESH_MS, &res, &err)) {
        msh_resp_error(r, 500, "KPIs could not be computed: %s", err.msg);
        return;
    }
    if (history)
        answer_history(r, res);
    else if (sites)
        answer_part(r, res, sites_member);
    else if (companies)
        answer_part(r, res, msh_kpi_companies_json);
    else if (!strncmp(rest, "/zones/", 7))
        answer_zone(r, res, rest + 7);
    else
        answer_all(r, res, rest[0] != 0);
    msh_kpi_result_release(res);
}
