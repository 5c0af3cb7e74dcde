/* routes_sites.c: POST /kpi/sites/{site}/reset (ops): an operator says a site's gate count starts
 * again now (layers/kpi/kpi_sites.c has the rule). The reset is stored before the answer (a short
 * write through the gate counts' own store connection); the answer is the site as /kpi/sites then
 * shows it. */
#include <stdio.h>
#include <string.h>

#include "core/msh_time.h"
#include "kpi/kpi.h"
#include "routes/routes.h"
#include "services/kpi_service.h"

void msh_route_site_reset(msh_req *r, const char *rest)
{
    (void)rest;
    const char *p = r->path + strlen("/kpi/sites/"), *end = strchr(p, '/');
    char site[64];
    size_t n = end ? (size_t)(end - p) : 0;
    if (!r->app->kpi) {
        msh_resp_error(r, 503, "KPIs are not available on this server");
        return;
    }
    if (!n || n >= sizeof site || n > 32) {
        msh_resp_error(r, 400, "site: 1 to 32 bytes");
        return;
    }
    memcpy(site, p, n);
    site[n] = 0;
    msh_kpi_result *res = NULL;
    msh_err err;
    int64_t now = msh_now_ms();
    if (msh_kpi_service_current(r->app, now, 1000, &res, &err)) { /* the gates and their sites, current */
        msh_resp_error(r, 500, "KPIs could not be computed: %s", err.msg);
        return;
    }
    msh_kpi_result_release(res);
    if (msh_kpi_site_reset(r->app->kpi, site, now, &err)) {
        msh_resp_error(r, err.code == MSH_ENOTFOUND ? 404 : 500, "%s", err.msg);
        return;
    }
    if (msh_kpi_service_current(r->app, now, 0, &res, &err)) { /* afresh: the reset shows at once */
        msh_resp_error(r, 500, "KPIs could not be computed: %s", err.msg);
        return;
    }
    msh_buf b;
    msh_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < res->nsites; i++)
        if (!strcmp(res->sites[i].site, site))
            msh_kpi_site_json(&res->sites[i], &b);
    msh_kpi_result_release(res);
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}
