/* routes_playback.c: `?time=` on the movement tiles and the density heatmap, and GET /playback.
 *
 * The past tile is the movement layer made over a recorded minute (live_layers.h:
 * msh_live_movement_past) and answered by the same code as the live one (routes_tiles.c,
 * routes_heatmap.c): same cells, same k-anonymity, ETags and the tile cache, plus a `time`
 * attribute on each cell and a `Mashaer-Time` header naming the minute shown. Only the caching
 * differs: a recorded minute never changes, so its answer is cached for a year.
 */
#include <string.h>

#include "core/msh_buf.h"
#include "core/msh_time.h"
#include "http/auth.h"
#include "live/live_layers.h"
#include "live/playback.h"
#include "routes/routes.h"
#include "routes/routes_playback.h"

int msh_playback_past_movement(msh_req *r, msh_catalog *cat, msh_layer **past)
{
    *past = NULL;
    const char *t = msh_req_arg(r, "time");
    if (!t)
        return 0;
    int64_t ms;
    msh_err err;
    if (msh_time_parse_iso(t, strlen(t), &ms, &err)) {
        msh_resp_error(r, 400, "time: %s", err.msg);
        return -1;
    }
    if (!r->app->playback) {
        msh_resp_error(r, 404, "time: no playback is kept (the server runs with --playback-hours 0 or without "
                               "live feeds)");
        return -1;
    }
    msh_layer *mv = msh_catalog_find(cat, "movement", 8);
    msh_pb_minute *m = NULL;
    msh_rc rc = mv ? msh_playback_at(r->app->playback, ms, &m, &err)
                   : msh_err_set(&err, MSH_ENOTFOUND, "no movement layer");
    if (!rc)
        rc = msh_live_movement_past(mv, m, past, &err);
    if (rc) {
        msh_resp_error(r, rc == MSH_ENOTFOUND ? 404 : 500, "time: %s", err.msg);
        return -1;
    }
    char iso[MSH_TIME_ISO_CAP];
    msh_time_format_iso(msh_pb_minute_ms(m), iso, sizeof iso, 0);
    msh_resp_header(r, "Mashaer-Time", "%s", iso);
    return 1;
}

void msh_playback_answered(msh_req *r)
{
    if (r->resp.status >= 200 && r->resp.status < 300)
        r->resp.cache_control = MSH_PLAYBACK_CACHE_CONTROL;
}

static void iso_or_null(msh_buf *b, const char *key, int64_t ms)
{
    char iso[MSH_TIME_ISO_CAP];
    if (ms < 0) {
        msh_buf_printf(b, "\"%s\":null,", key);
        return;
    }
    msh_time_format_iso(ms, iso, sizeof iso, 0);
    msh_buf_printf(b, "\"%s\":\"%s\",", key, iso);
}

void msh_route_playback(msh_req *r, const char *rest)
{
    (void)rest;
    if (!r->app->playback) {
        msh_resp_error(r, 404, "no playback is kept (the server runs with --playback-hours 0 or without live feeds)");
        return;
    }
    msh_playback_stats s;
    msh_playback_stats_get(r->app->playback, &s);
    msh_buf b;
    msh_buf_init(&b, 4096);
    msh_buf_printf(&b, "{");
    iso_or_null(&b, "first", s.first_ms);
    iso_or_null(&b, "last", s.last_ms);
    msh_buf_printf(&b,
                   "\"minutes\":%u,\"hours\":%d,\"bytes\":%llu,\"files\":%u,\"recorded\":%llu,\"failures\":%llu,"
                   "\"record_s\":%.3f,\"cache\":{\"minutes\":%u,\"bytes\":%llu,\"cap_bytes\":%llu},",
                   s.minutes, s.hours, (unsigned long long)s.bytes, s.files, (unsigned long long)s.recorded,
                   (unsigned long long)s.failures, s.record_s, s.cached, (unsigned long long)s.cache_bytes,
                   (unsigned long long)s.cache_cap);
    /* the occupied cells count people under k too (one lone pilgrim adds a cell): ops only, as head counts */
    if (msh_auth_role(r) >= MSH_ROLE_OPS)
        msh_buf_printf(&b,
                       "\"last_minute\":{\"cells\":%llu,\"bytes\":%llu,\"record_ms\":%.1f,\"cpu_ms\":%.1f,"
                       "\"lock_ms\":%.1f,\"write_ms\":%.1f},",
                       (unsigned long long)s.last_cells, (unsigned long long)s.last_bytes, s.last_record_s * 1000,
                       s.last_cpu_s * 1000, s.last_lock_s * 1000, s.last_write_s * 1000);
    msh_buf_printf(&b, "\"tiles\":\"/tiles/movement/{z}/{x}/{y}.mvt?time={time}\","
                       "\"heatmap\":\"/heatmaps/density/{z}/{x}/{y}.png?time={time}\"}\n");
    r->resp.cache_control = "private, no-cache"; /* what it says depends on the token */
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}
