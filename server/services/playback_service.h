/* playback_service.h: the server's recording of the density cells every minute (layers/live/playback.h):
 * opened with the live state in `<live folder>/playback`, stepped by the timer pass (serve_timers.c:
 * the reload thread's second, or a test's clock step), closed before the live state. */
#ifndef MSH_PLAYBACK_SERVICE_H
#define MSH_PLAYBACK_SERVICE_H

#include "core/msh_err.h"
#include "serve/app.h"

/** Open app->playback when --playback-hours is over 0 (after the live state is open). A folder that
 * cannot be opened leaves playback off with the reason on stderr: the server starts without it. */
msh_rc msh_playback_service_open(msh_app *app, msh_err *err);
/** Record the minute when a new one has begun; a failure is logged (once a minute) and tried again next pass.
 * Called by one thread at a time (the timer pass's lock). */
void msh_playback_service_tick(msh_app *app);
void msh_playback_service_close(msh_app *app);

#endif
