/* serve_timers.c: the live time rules of `mashaer serve` (layers/live/live_timers.h) and the
 * `escalation` events they raise. Locks: the pass holds the live write lock; the event is
 * published under it, as the live observer's are. */
#include <pthread.h>
#include <stdio.h>

#include "core/msh_buf.h"
#include "core/msh_time.h"
#include "live/live_ops.h"
#include "routes/events.h"
#include "serve/serve.h"
#include "services/playback_service.h"

static void tick_locked(msh_app *app, msh_timers_result *res);

static void escalated(void *ud, const msh_live_item *it, int64_t now_ms)
{
    msh_app *app = ud;
    const msh_feed_rec *r = &it->rec;
    int64_t since = it->status_ms[MSH_INC_REPORTED] ? it->status_ms[MSH_INC_REPORTED] : r->t_ms;
    char at[MSH_TIME_ISO_CAP];
    msh_time_format_iso(since, at, sizeof at, 0);
    msh_buf b;
    msh_buf_init(&b, 2048);
    msh_buf_printf(&b, "{\"id\":\"");
    msh_buf_json_str(&b, r->id);
    msh_buf_printf(&b, "\",\"kind\":\"");
    msh_buf_json_str(&b, r->kind);
    msh_buf_printf(&b, "\",\"severity\":\"%s\",\"status\":\"%s\",\"reported_at\":\"%s\",\"waiting_s\":%lld,"
                       "\"lon\":%.7f,\"lat\":%.7f}",
                   msh_severity_name(r->severity), msh_ops_status_name(msh_ops_status(it)), at,
                   (long long)((now_ms - since) / 1000), r->lon, r->lat);
    msh_buf_putc(&b, 0);
    msh_events_publish(app->events, MSH_EV_ESCALATION, r->lon, r->lat, (const char *)b.data);
    msh_buf_free(&b);
}

/* One pass at a time: a test's clock step and its pass are one step, never split by the reload
 * thread's pass (which would take the step's results). */
static pthread_mutex_t pass_mu = PTHREAD_MUTEX_INITIALIZER;

size_t msh_serve_timers_advance(msh_app *app, int64_t ms, msh_timers_result *res)
{
    pthread_mutex_lock(&pass_mu);
    msh_time_advance_ms(ms);
    size_t expired = 0; /* the reload thread's other time rule, positions past --position-max-age, at the new time */
    if (app->live)
        expired = msh_live_expire(app->live, msh_now_ms());
    tick_locked(app, res);
    pthread_mutex_unlock(&pass_mu);
    return expired;
}

void msh_serve_timers_tick(msh_app *app, msh_timers_result *res)
{
    pthread_mutex_lock(&pass_mu);
    tick_locked(app, res);
    pthread_mutex_unlock(&pass_mu);
}

static void tick_locked(msh_app *app, msh_timers_result *res)
{
    msh_timers_result local;
    if (!app->live) {
        if (res)
            *res = (msh_timers_result){0};
        return;
    }
    int64_t now = msh_now_ms();
    msh_timers_tick(app->live, &app->cfg.timers, now, app->events ? escalated : NULL, app, res ? res : &local);
    msh_playback_service_tick(app); /* the density cells of a minute just begun */
    msh_serve_groups_tick(app, now);
}
