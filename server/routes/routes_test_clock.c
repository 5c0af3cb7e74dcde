/* routes_test_clock.c: POST /test/clock?advance_s=N (admin token), for tests only: with
 * `mashaer serve --test-clock` it moves the server's clock N seconds forward (core/msh_time.h:
 * msh_time_advance_ms) and runs the live time rules once at the new time before it answers, so a
 * test of escalation, retention or stale crews steps time instead of sleeping; people whose last
 * report is older than --position-max-age at the new time stop counting before it answers too
 * (`expired`), as the serving timer would have done in the time skipped:
 *   {"now":"2026-05-26T08:02:00Z","now_ms":..,"escalated":1,"removed":0,"stale":0,"dropped":0,"expired":0}
 * Without --test-clock it answers 404, as for a path that does not exist. */
#include <stdlib.h>

#include "core/msh_time.h"
#include "route/walknet.h"
#include "routes/routes.h"
#include "serve/serve.h"

void msh_route_test_clock(msh_req *r, const char *rest)
{
    (void)rest;
    if (!r->app->cfg.test_clock) {
        msh_resp_error(r, 404, "no such resource: %.80s", r->path);
        return;
    }
    const char *s = msh_req_arg(r, "advance_s");
    char *end = NULL;
    long v = s ? strtol(s, &end, 10) : -1;
    if (!s || *end || end == s || v < 0 || v > 86400 * 30) {
        msh_resp_error(r, 400, "advance_s: whole seconds from 0 to 2592000 (the clock only moves forward)");
        return;
    }
    msh_timers_result res;
    size_t expired = msh_serve_timers_advance(r->app, (int64_t)v * 1000, &res);
    if (r->app->walknet)
        msh_walknet_update_costs(r->app->walknet, r->app->live);
    int64_t now = msh_now_ms();
    char iso[MSH_TIME_ISO_CAP];
    msh_time_format_iso(now, iso, sizeof iso, 0);
    msh_buf b;
    msh_buf_init(&b, 1024);
    msh_buf_printf(&b, "{\"now\":\"%s\",\"now_ms\":%lld,\"escalated\":%zu,\"removed\":%zu,\"stale\":%zu,\"dropped\":%zu,\"expired\":%zu}\n",
                   iso, (long long)now, res.escalated, res.removed, res.stale, res.dropped, expired);
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}
