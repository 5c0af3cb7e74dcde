/* routes_responders.c: GET /incidents/{id}/responders?kind=&limit=&max_snap= (ops token): the
 * crews that can reach an incident soonest by walking, ranked (layers/route/responders.h).
 *
 *   {"incident":"INC-OPS-3","responders":[{"crew":"CREW-03","name":"..","kind":"emergency",
 *    "status":"standby","distance_m":412.5,"eta_s":330,"lon":..,"lat":..}]}
 *
 * {id} is the incident's text id or its numeric feature id. Its cost (two searches over the
 * walking graph) is estimated in route_costs.c. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_hash.h"
#include "core/msh_time.h"
#include "live/live_ops.h"
#include "route/responders.h"
#include "routes/routes.h"
#include "routes/walkreq.h"
#include "serve/app.h"

typedef struct {
    const char *want;
    uint64_t fid;
    bool numeric, found, retired;
    msh_feed_rec rec;
} inc_find;

static int find_cb(void *ud, const msh_live_item *it)
{
    inc_find *f = ud;
    bool hit = f->numeric ? (msh_fnv1a(it->rec.id, it->rec.id_len, MSH_FNV1A_INIT) >> 11) == f->fid
                          : !strcmp(it->rec.id, f->want);
    if (hit) {
        f->rec = it->rec;
        f->found = true;
        f->retired = it->ops_flags & MSH_ITEM_RETIRED;
    }
    return hit;
}

static void put_str(msh_buf *b, const char *key, const char *s, bool comma)
{
    msh_buf_printf(b, "%s\"%s\":\"", comma ? "," : "", key);
    msh_buf_json_str(b, s);
    msh_buf_putc(b, '"');
}

void msh_route_responders(msh_req *r, const char *rest)
{
    char id[MSH_FEED_ID_MAX + 1];
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : 0;
    if (!slash || strcmp(slash, "/responders") || !n || n > MSH_FEED_ID_MAX) {
        msh_resp_error(r, 404, "no such resource: %.80s (try /incidents/{id}/responders)", r->path);
        return;
    }
    memcpy(id, rest, n);
    id[n] = 0;
    long limit = 5;
    const char *ls = msh_req_arg(r, "limit"), *kind = msh_req_arg(r, "kind");
    if (ls) {
        char *end;
        limit = strtol(ls, &end, 10);
        if (*end || end == ls || limit < 1 || limit > MSH_RESPONDERS_MAX) {
            msh_resp_error(r, 400, "limit: a whole number from 1 to %d", MSH_RESPONDERS_MAX);
            return;
        }
    }
    if (kind && strlen(kind) > 32) {
        msh_resp_error(r, 400, "kind: a crew kind of at most 32 bytes");
        return;
    }
    double max_snap;
    if (!msh_walk_max_snap(r, &max_snap))
        return;
    if (!r->app->live) {
        msh_resp_error(r, 503, "live feeds are off on this server");
        return;
    }
    inc_find f;
    memset(&f, 0, sizeof f);
    f.want = id;
    f.numeric = true;
    for (const char *p = id; *p; p++)
        f.numeric = f.numeric && isdigit((unsigned char)*p) && p - id < 19;
    f.fid = f.numeric ? strtoull(id, NULL, 10) : 0;
    msh_live_rdlock(r->app->live);
    msh_live_items(r->app->live, MSH_FEED_INCIDENTS, find_cb, &f);
    msh_live_unlock(r->app->live);
    if (!f.found || !(f.rec.has & MSH_FR_LOC) || f.retired) {
        msh_resp_error(r, 404, "no incident '%.64s' on the live map", id);
        return;
    }
    msh_netview *v = msh_walk_view(r);
    if (!v)
        return;
    msh_responders_q q = {f.rec.lon, f.rec.lat, kind, (uint32_t)limit, max_snap, msh_now_ms(), &r->app->cfg.timers,
                          false, NULL, 0};
    msh_responder out[MSH_RESPONDERS_MAX];
    size_t got = 0;
    msh_err err;
    msh_rc rc = msh_responders_rank(v, msh_walknet_cfg(r->app->walknet), r->app->live, &q, out, &got, &err);
    msh_netview_release(v);
    if (rc) {
        msh_resp_error(r, rc == MSH_ENOTFOUND ? 422 : 500, "%s", err.msg);
        return;
    }
    msh_buf b;
    msh_buf_init(&b, 1 << 20);
    msh_buf_printf(&b, "{");
    put_str(&b, "incident", f.rec.id, false);
    msh_buf_printf(&b, ",\"responders\":[");
    for (size_t i = 0; i < got; i++) {
        msh_buf_printf(&b, "%s{", i ? "," : "");
        put_str(&b, "crew", out[i].crew, false);
        put_str(&b, "name", out[i].name, true);
        put_str(&b, "kind", out[i].kind, true);
        put_str(&b, "status", out[i].status, true);
        msh_buf_printf(&b, ",\"distance_m\":%.1f,\"eta_s\":%.0f,\"lon\":%.7f,\"lat\":%.7f}", out[i].distance_m,
                       ceil(out[i].eta_s), out[i].lon, out[i].lat);
    }
    msh_buf_printf(&b, "]}\n");
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}
