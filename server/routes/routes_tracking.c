/* routes_tracking.c: a tracked person's trail and the lost-person search (ops tokens only: both name
 * and place people).
 *   GET /tracking/{id}/track[?since=ISO]  the trail (layers/live/track.h) as a GeoJSON Feature: a
 *       LineString (a Point for one point, null for none) with the time of each position in
 *       properties.times, and the last known position apart (exact, where the trail is on a 2.2 m grid)
 *   GET /tracking/search?id=ID            the person's last position, trail and group's members
 *   GET /tracking/search?group=GROUP      the group's members: last positions, distance to the
 *       centroid of the active ones and to the nearest other member, the spread
 * 404 for an id or group never heard of, 400 for a bad parameter, 503 without live feeds or
 * (track only) with --track-hours 0. The live read lock is held while the state is copied; the
 * JSON is written after it is released. A group search scans every person (about 10 ms at 3 M). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_time.h"
#include "live/ingest.h"
#include "route/graph.h"
#include "routes/routes.h"

/* Members written for a group, at most (groups of the simulator are 20-250). */
#define MEMBERS_MAX 1000

typedef struct {
    char id[MSH_FEED_ID_MAX + 1];
    msh_live_person p;
    double to_centroid, nearest_m;
    int nearest;
} member;

typedef struct {
    member *m;
    size_t n;
    bool truncated;
} members;

static msh_live *live_of(msh_req *r)
{
    if (!r->app->ingest) {
        msh_resp_error(r, 503, "live feeds are not enabled on this server");
        return NULL;
    }
    return msh_ingest_live(r->app->ingest);
}

/* An id or group name from the query: 1..64 bytes without control characters; false after a 400. */
static bool check_name(msh_req *r, const char *what, const char *s)
{
    size_t n = strlen(s);
    bool ok = n >= 1 && n <= MSH_FEED_ID_MAX;
    for (size_t i = 0; i < n && ok; i++)
        ok = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
    if (!ok)
        msh_resp_error(r, 400, "%s: 1 to %d bytes without control characters", what, MSH_FEED_ID_MAX);
    return ok;
}

static void put_str(msh_buf *b, const char *s)
{
    msh_buf_putc(b, '"');
    msh_buf_json_str(b, s);
    msh_buf_putc(b, '"');
}

static void put_time(msh_buf *b, int64_t ms)
{
    char t[MSH_TIME_ISO_CAP];
    msh_time_format_iso(ms, t, sizeof t, 0);
    msh_buf_printf(b, "\"%s\"", t);
}

static void put_last(msh_buf *b, const msh_live_person *p)
{
    msh_buf_printf(b, "{\"lon\":%.7f,\"lat\":%.7f,\"time\":", p->lon, p->lat);
    put_time(b, p->t_ms);
    msh_buf_printf(b, ",\"active\":%s}", p->active ? "true" : "false");
}

/* The trail as a Feature. */
static void put_track(msh_buf *b, const char *id, const msh_live_person *p, const msh_track_pt *pts, int n,
                      int64_t since_ms, int hours)
{
    msh_buf_printf(b, "{\"type\":\"Feature\",\"id\":");
    put_str(b, id);
    if (n == 0)
        msh_buf_printf(b, ",\"geometry\":null");
    else if (n == 1)
        msh_buf_printf(b, ",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]}", pts[0].lon, pts[0].lat);
    else {
        msh_buf_printf(b, ",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[");
        for (int i = 0; i < n; i++)
            msh_buf_printf(b, "%s[%.7f,%.7f]", i ? "," : "", pts[i].lon, pts[i].lat);
        msh_buf_printf(b, "]}");
    }
    msh_buf_printf(b, ",\"properties\":{\"id\":");
    put_str(b, id);
    msh_buf_printf(b, ",\"group\":");
    if (p->group[0])
        put_str(b, p->group);
    else
        msh_buf_printf(b, "null");
    msh_buf_printf(b, ",\"points\":%d,\"hours\":%d,\"since\":", n, hours);
    if (since_ms != INT64_MIN)
        put_time(b, since_ms);
    else
        msh_buf_printf(b, "null");
    msh_buf_printf(b, ",\"times\":[");
    for (int i = 0; i < n; i++) {
        if (i)
            msh_buf_putc(b, ',');
        put_time(b, pts[i].t_ms);
    }
    msh_buf_printf(b, "],\"last\":");
    put_last(b, p);
    msh_buf_printf(b, "}}");
}

static void send(msh_req *r, msh_buf *b, const char *type)
{
    msh_buf_putc(b, '\n');
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, type, b);
    msh_buf_free(b);
}

void msh_route_tracking_track(msh_req *r, const char *rest)
{
    const char *slash = strrchr(rest, '/');
    if (!slash || strcmp(slash, "/track") || slash == rest) {
        msh_resp_error(r, 404, "no such resource: %.80s (try /tracking/{id}/track)", r->path);
        return;
    }
    char id[MSH_FEED_ID_MAX + 2];
    size_t n = (size_t)(slash - rest);
    if (n > MSH_FEED_ID_MAX)
        n = MSH_FEED_ID_MAX + 1; /* refused below */
    memcpy(id, rest, n);
    id[n] = 0;
    if (!check_name(r, "id", id))
        return;
    int64_t since = INT64_MIN;
    const char *ss = msh_req_arg(r, "since");
    msh_err err;
    if (ss && msh_time_parse_iso(ss, strlen(ss), &since, &err)) {
        msh_resp_error(r, 400, "since: %s", err.msg);
        return;
    }
    msh_live *live = live_of(r);
    if (!live)
        return;
    if (!msh_live_tracking(live)) {
        msh_resp_error(r, 503, "track history is off on this server (--track-hours 0)");
        return;
    }
    msh_track_pt pts[MSH_TRACK_POINTS];
    msh_live_person p;
    msh_live_rdlock(live);
    int k = msh_live_track(live, id, n, since, msh_now_ms(), pts);
    bool found = msh_live_person_get(live, id, n, &p);
    msh_live_unlock(live);
    if (k < 0 || !found) {
        msh_resp_error(r, 404, "no tracked person '%.64s'", id);
        return;
    }
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    put_track(&b, id, &p, pts, k, since, r->app->cfg.track_hours);
    send(r, &b, "application/geo+json");
}

static int add_member(void *ud, const char *id, const msh_live_person *p)
{
    members *ms = ud;
    if (ms->n == MEMBERS_MAX) {
        ms->truncated = true;
        return 1;
    }
    member *m = &ms->m[ms->n++];
    snprintf(m->id, sizeof m->id, "%s", id);
    m->p = *p;
    return 0;
}

/* Centroid of the active members, each one's distance to it and to the nearest other active member;
 * returns the spread (the largest distance to the centroid). */
static double measure(members *ms, double *clon, double *clat, size_t *active)
{
    double sx = 0, sy = 0;
    *active = 0;
    for (size_t i = 0; i < ms->n; i++)
        if (ms->m[i].p.active) {
            sx += ms->m[i].p.lon;
            sy += ms->m[i].p.lat;
            (*active)++;
        }
    *clon = *active ? sx / (double)*active : NAN;
    *clat = *active ? sy / (double)*active : NAN;
    double spread = 0;
    for (size_t i = 0; i < ms->n; i++) {
        member *a = &ms->m[i];
        a->to_centroid = a->nearest_m = NAN;
        a->nearest = -1;
        if (!a->p.active)
            continue;
        a->to_centroid = msh_metres(a->p.lon, a->p.lat, *clon, *clat);
        spread = fmax(spread, a->to_centroid);
        for (size_t j = 0; j < ms->n; j++) {
            if (j == i || !ms->m[j].p.active)
                continue;
            double d = msh_metres(a->p.lon, a->p.lat, ms->m[j].p.lon, ms->m[j].p.lat);
            if (a->nearest < 0 || d < a->nearest_m) {
                a->nearest_m = d;
                a->nearest = (int)j;
            }
        }
    }
    return spread;
}

static void put_num(msh_buf *b, double v)
{
    if (isnan(v))
        msh_buf_printf(b, "null");
    else
        msh_buf_printf(b, "%.1f", v);
}

static void put_members(msh_buf *b, const char *group, members *ms, double radius)
{
    double clon, clat;
    size_t active;
    double spread = measure(ms, &clon, &clat, &active);
    msh_buf_printf(b, "{\"group\":");
    put_str(b, group);
    msh_buf_printf(b, ",\"count\":%zu,\"active\":%zu,\"truncated\":%s,\"centroid\":", ms->n, active,
                   ms->truncated ? "true" : "false");
    if (active)
        msh_buf_printf(b, "{\"lon\":%.7f,\"lat\":%.7f}", clon, clat);
    else
        msh_buf_printf(b, "null");
    msh_buf_printf(b, ",\"spread_m\":");
    put_num(b, active ? spread : NAN);
    msh_buf_printf(b, ",\"radius_m\":%.0f,\"members\":[", radius);
    for (size_t i = 0; i < ms->n; i++) {
        const member *m = &ms->m[i];
        msh_buf_printf(b, "%s{\"id\":", i ? "," : "");
        put_str(b, m->id);
        msh_buf_printf(b, ",\"last\":");
        put_last(b, &m->p);
        msh_buf_printf(b, ",\"to_centroid_m\":");
        put_num(b, m->to_centroid);
        msh_buf_printf(b, ",\"outside\":%s,\"nearest\":", m->to_centroid > radius ? "true" : "false");
        if (m->nearest >= 0)
            put_str(b, ms->m[m->nearest].id);
        else
            msh_buf_printf(b, "null");
        msh_buf_printf(b, ",\"nearest_m\":");
        put_num(b, m->nearest_m);
        msh_buf_putc(b, '}');
    }
    msh_buf_printf(b, "]}");
}

void msh_route_tracking_search(msh_req *r, const char *rest)
{
    (void)rest;
    const char *id = msh_req_arg(r, "id"), *group = msh_req_arg(r, "group");
    if (!id == !group) {
        msh_resp_error(r, 400, "give one of id (a tracked person) or group (a group id)");
        return;
    }
    if (!check_name(r, id ? "id" : "group", id ? id : group))
        return;
    msh_live *live = live_of(r);
    if (!live)
        return;
    members ms = {calloc(MEMBERS_MAX, sizeof(member)), 0, false};
    if (!ms.m) {
        msh_resp_error(r, 503, "out of memory");
        return;
    }
    msh_track_pt pts[MSH_TRACK_POINTS];
    msh_live_person p;
    int k = 0;
    bool found;
    msh_live_rdlock(live);
    if (id) {
        found = msh_live_person_get(live, id, strlen(id), &p);
        if (found) {
            k = msh_live_track(live, id, strlen(id), INT64_MIN, msh_now_ms(), pts);
            if (p.group[0])
                msh_live_group_people(live, p.group, strlen(p.group), add_member, &ms);
        }
    } else {
        found = msh_live_group_people(live, group, strlen(group), add_member, &ms);
    }
    msh_live_unlock(live);
    if (!found) {
        msh_resp_error(r, 404, id ? "no tracked person '%.64s'" : "no group '%.64s' has been reported", id ? id : group);
        free(ms.m);
        return;
    }
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    if (id) {
        msh_buf_printf(&b, "{\"id\":");
        put_str(&b, id);
        msh_buf_printf(&b, ",\"group\":");
        if (p.group[0])
            put_str(&b, p.group);
        else
            msh_buf_printf(&b, "null");
        msh_buf_printf(&b, ",\"last\":");
        put_last(&b, &p);
        msh_buf_printf(&b, ",\"track\":");
        put_track(&b, id, &p, pts, k < 0 ? 0 : k, INT64_MIN, r->app->cfg.track_hours);
        msh_buf_printf(&b, ",\"group_members\":");
        if (p.group[0])
            put_members(&b, p.group, &ms, r->app->cfg.group_radius);
        else
            msh_buf_printf(&b, "null");
        msh_buf_putc(&b, '}');
    } else {
        put_members(&b, group, &ms, r->app->cfg.group_radius);
    }
    free(ms.m);
    send(r, &b, "application/json");
}
