/* routes_playback.h: the past of the movement layer for the tile and heatmap handlers (`?time=`),
 * and GET /playback (the kept window). The minutes are kept by layers/live/playback.h, recorded by
 * server/services/playback_service.c. */
#ifndef MSH_ROUTES_PLAYBACK_H
#define MSH_ROUTES_PLAYBACK_H

#include "catalog.h"
#include "http/http.h"

/** A past minute never changes: its tiles are cached long. */
#define MSH_PLAYBACK_CACHE_CONTROL "public, max-age=31536000, immutable"

/**
 * When the request has `time=ISO`: the movement layer as it was at the minute at or before it
 * (*past, msh_layer_release it), with the `Mashaer-Time` header set to that minute; returns 1.
 * Without `time`: returns 0. When it answered itself (400 malformed time, 404 outside the kept
 * window or playback off, 500): returns -1.
 */
int msh_playback_past_movement(msh_req *r, msh_catalog *cat, msh_layer **past);

/** After the past tile was answered: its caching (long, for a success). */
void msh_playback_answered(msh_req *r);

#endif
