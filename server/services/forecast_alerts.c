/* forecast_alerts.c: forecast warnings as SSE events (forecast_alerts.h). An event's data:
 *   {"state":"raised","level":"F","minutes":10,"density":2.61,"issued_at":"...","cell":"21/x/y",
 *    "lon":..,"lat":..}
 * state is raised, updated (level or minutes changed: "previous" names the level before) or
 * cleared. Runs on the forecast thread; the events' own lock orders it with other producers. The
 * warnings standing after a step go into the result (GET /forecast/warnings). */
#include "services/forecast_alerts.h"

#include "core/msh_time.h"
#include "routes/events.h"

typedef struct pub {
    msh_app *app;
    char issued[MSH_TIME_ISO_CAP];
} pub;

static void publish(void *ud, const msh_fc_alert_change *c)
{
    pub *p = ud;
    const char *state = !c->after ? "cleared" : !c->before ? "raised" : "updated";
    msh_buf b;
    msh_buf_init(&b, 1024);
    msh_buf_printf(&b, "{\"state\":\"%s\",\"level\":", state);
    if (c->after)
        msh_buf_printf(&b, "\"%c\",\"minutes\":%d,", c->after, c->minutes);
    else
        msh_buf_printf(&b, "null,\"minutes\":null,");
    if (c->before && c->after)
        msh_buf_printf(&b, "\"previous\":\"%c\",", c->before);
    msh_buf_printf(&b, "\"density\":%.3f,\"issued_at\":\"%s\",\"cell\":\"%d/%u/%u\",\"lon\":%.7f,\"lat\":%.7f}",
                   c->density, p->issued, MSH_FC_ALERT_LEVEL, c->cx, c->cy, c->lon, c->lat);
    msh_buf_putc(&b, 0);
    char key[64], st[16];
    snprintf(key, sizeof key, "forecast/%d/%u/%u", MSH_FC_ALERT_LEVEL, c->cx, c->cy);
    snprintf(st, sizeof st, "%c%d", c->after ? c->after : '-', c->after ? c->minutes : 0);
    if (!msh_buf_error(&b))
        msh_events_alert(p->app->events, MSH_EV_FORECAST, key, st, c->after != 0, c->lon, c->lat, (const char *)b.data);
    msh_buf_free(&b);
}

msh_rc msh_forecast_alerts_publish(msh_fc_alerts *a, msh_app *app, msh_forecast_result *r)
{
    pub p = {app, ""};
    msh_time_format_iso(r->issued_ms, p.issued, sizeof p.issued, 0);
    msh_rc rc = msh_fc_alerts_step(a, r->grid[MSH_FC_MODEL_CTM], r->issued_ms, app->events ? publish : NULL, &p);
    if (!rc)
        rc = msh_fc_alerts_list(a, &r->warnings, &r->nwarnings);
    return rc;
}
