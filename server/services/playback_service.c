/* playback_service.c: the recording's life in the server (design in playback_service.h). */
#include "services/playback_service.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/msh_time.h"
#include "live/playback.h"

msh_rc msh_playback_service_open(msh_app *app, msh_err *err)
{
    (void)err;
    if (app->cfg.playback_hours <= 0 || !app->live || !app->cfg.live_dir)
        return MSH_OK;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/playback", app->cfg.live_dir);
    msh_err why;
    if (msh_playback_open(dir, app->cfg.playback_hours, msh_now_ms(), &app->playback, &why)) {
        /* the live map matters more than its past: serve without playback (GET /playback says so) */
        fprintf(stderr, "mashaer: playback is off: %s\n", why.msg);
        return MSH_OK;
    }
    msh_playback_stats s;
    msh_playback_stats_get(app->playback, &s);
    fprintf(stderr, "mashaer: playback: %u minutes kept in %s (%llu bytes, %d hours)\n", s.minutes, dir,
            (unsigned long long)s.bytes, s.hours);
    return MSH_OK;
}

void msh_playback_service_tick(msh_app *app)
{
    static int64_t last_logged = -1; /* the minute of the last failure logged (one thread: the pass lock) */
    if (!app->playback)
        return;
    bool recorded;
    msh_err err;
    int64_t now = msh_now_ms();
    if (msh_playback_tick(app->playback, app->live, now, &recorded, &err) && now / 60000 != last_logged) {
        fprintf(stderr, "mashaer: playback: the minute is not recorded (tried again each second): %s\n", err.msg);
        last_logged = now / 60000;
    }
}

void msh_playback_service_close(msh_app *app)
{
    msh_playback_close(app->playback);
    app->playback = NULL;
}
