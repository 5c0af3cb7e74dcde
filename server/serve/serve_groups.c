/* serve_groups.c: group dispersion in `mashaer serve`: the pass of layers/live/dispersion.h run
 * with the live time rules (serve_timers.c: once a second, and in a POST /test/clock step), and
 * its `group` events. Locks: the pass takes the live read lock itself, in short holds (dispersion.h);
 * events are published under it. */
#include <math.h>

#include "core/msh_buf.h"
#include "core/msh_time.h"
#include "live/dispersion.h"
#include "routes/events.h"
#include "serve/serve.h"

static void group_event(void *ud, const msh_group_change *c)
{
    msh_app *app = ud;
    msh_buf b;
    msh_buf_init(&b, 8192);
    char at[MSH_TIME_ISO_CAP], since[MSH_TIME_ISO_CAP];
    msh_time_format_iso(c->at_ms, at, sizeof at, 3);
    msh_time_format_iso(c->over_since_ms, since, sizeof since, 3);
    msh_buf_printf(&b, "{\"group\":\"");
    msh_buf_json_str(&b, c->group);
    msh_buf_printf(&b, "\",\"state\":\"%s\",\"spread_m\":%.1f,\"radius_m\":%.0f,\"members\":%u,\"outside_count\":%u,"
                       "\"at\":\"%s\",\"over_since\":%s%s%s,\"outside\":[",
                   c->raised ? "raised" : "cleared", c->spread_m, c->radius_m, c->members, c->n_outside, at,
                   c->raised ? "\"" : "", c->raised ? since : "null", c->raised ? "\"" : "");
    for (uint32_t i = 0; i < c->n_named; i++) {
        msh_buf_printf(&b, "%s\"", i ? "," : "");
        msh_buf_json_str(&b, c->outside[i]);
        msh_buf_putc(&b, '"');
    }
    if (isnan(c->lon))
        msh_buf_printf(&b, "],\"lon\":null,\"lat\":null}");
    else
        msh_buf_printf(&b, "],\"lon\":%.7f,\"lat\":%.7f}", c->lon, c->lat);
    msh_buf_putc(&b, 0);
    if (!b.err)
        msh_events_publish(app->events, MSH_EV_GROUP, c->lon, c->lat, (const char *)b.data);
    msh_buf_free(&b);
}

void msh_serve_groups_tick(msh_app *app, int64_t now_ms)
{
    if (!app->live || !app->events)
        return;
    if (!app->dispersion && !(app->dispersion = msh_dispersion_new(app->cfg.group_radius)))
        return;
    msh_dispersion_pass(app->dispersion, app->live, now_ms, group_event, app);
}
