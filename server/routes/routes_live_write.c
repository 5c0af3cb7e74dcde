/* routes_live_write.c: operators' writes on the live collections incidents and gates, on the
 * OGC API - Features Part 4 paths (routes_ogc_write.c hands them over).
 *
 *   POST  /ogc/collections/incidents/items        a GeoJSON Feature -> 201, Location, ETag (id INC-OPS-<n>)
 *   PATCH /ogc/collections/incidents/items/{id}   merge patch: status, assigned_crew, reason, severity, description
 *   PATCH /ogc/collections/gates/items/{id}       merge patch: state (open/closed), reason, reopens_at
 *
 * {id} is the item's text id (INC-OPS-3, G-1) or its numeric feature id (as the items list
 * gives it). A write goes: an ops token and the collection's rules (403) -> If-Match present
 * (428) -> the body read (layers/live/live_ops.h: 400 naming the member) -> the operators' lock
 * (one operator write at a time, so two never check against the same version) -> the item and
 * its ETag as GET sends it (412 with the current item on a stale If-Match) -> the lifecycle check
 * (409 invalid_transition, 400) -> one write-ahead log record, durable before it is applied
 * (layers/live/ingest.h: msh_ingest_op; it checks again in its log turn, so a feed record that
 * got in between makes it 412, alike now and on replay) -> the answer with the new ETag.
 * Events: the live store's observer sends `incident` as for feeds; a gate's `gate` event with
 * its state is sent here, and every write's `change` event (routes/live_change.h). The log
 * record names the writer (the token's name and role), which the incident history serves as `by`.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_hash.h"
#include "core/msh_time.h"
#include "http/access.h"
#include "http/auth.h"
#include "http/host_links.h"
#include "http/httphdr.h"
#include "http/route_table.h"
#include "live/ingest.h"
#include "live/live.h"
#include "live/live_ops.h"
#include "live/ops_ids.h"
#include "route/walknet.h"
#include "routes/events.h"
#include "routes/live_change.h"
#include "routes/ogc.h"
#include "routes/reports_hooks.h"
#include "routes/routes.h"
#include "serve/app.h"
#include "services/edit_service.h"

#define CT_GEOJSON "application/geo+json"

/* One operator write at a time: the check and the log record happen in one turn. */
static pthread_mutex_t ops_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- the item as GET shows it ---- */

typedef struct {
    uint64_t fid;
    bool found;
    msh_buf *json;
    const msh_layer_info *li;
    char etag[40];
} shown_item;

static int shown_cb(void *ud, const msh_feature *f)
{
    shown_item *s = ud;
    if (f->id != s->fid)
        return 0;
    s->found = true;
    msh_buf_reset(s->json);
    ogc_feature_json(s->json, s->li, f);
    ogc_item_etag(s->li, f, s->etag, sizeof s->etag);
    return 1;
}

/* The feature id the layers give item `id` (live_layers.c: a hash of the text id). */
static uint64_t fid_of(const char *id, size_t n)
{
    return msh_fnv1a(id, n, MSH_FNV1A_INIT) >> 11;
}

/* The item's GeoJSON and ETag as GET .../items/{fid} writes them. */
static bool show_item(msh_app *app, const char *coll, const char *id, msh_buf *json, char *etag, size_t cap)
{
    msh_catalog *cat = msh_app_catalog(app);
    msh_layer *l = msh_catalog_find(cat, coll, strlen(coll));
    shown_item s = {fid_of(id, strlen(id)), false, json, l ? &l->info : NULL, ""};
    double world[4] = {0, 0, 1, 1};
    if (l)
        l->vt->query(l, world, l->info.maxzoom, shown_cb, &s);
    msh_catalog_release(cat);
    if (s.found)
        snprintf(etag, cap, "%s", s.etag);
    return s.found;
}

/* ---- finding the item ---- */

typedef struct {
    const char *want;
    uint64_t fid;
    bool numeric;
    msh_live_item copy;
    bool found;
} find_ctx;

static int find_cb(void *ud, const msh_live_item *it)
{
    find_ctx *f = ud;
    if (f->numeric ? fid_of(it->rec.id, it->rec.id_len) != f->fid : strcmp(it->rec.id, f->want))
        return 0;
    f->copy = *it;
    f->found = true;
    return 1;
}

/* A copy of the item named by the path's id (text id or numeric feature id); false if none. */
static bool find_item(msh_live *live, msh_feed feed, const char *id, msh_live_item *out)
{
    find_ctx f;
    memset(&f, 0, sizeof f);
    f.want = id;
    f.numeric = *id != 0;
    for (const char *p = id; *p; p++)
        if (!isdigit((unsigned char)*p) || p - id >= 19)
            f.numeric = false;
    if (f.numeric)
        f.fid = strtoull(id, NULL, 10);
    msh_live_rdlock(live);
    msh_live_items(live, feed, find_cb, &f);
    msh_live_unlock(live);
    if (f.found)
        *out = f.copy;
    return f.found && !(f.copy.ops_flags & MSH_ITEM_RETIRED); /* off the map: as gone */
}

typedef struct {
    const char *want;
    bool found;
} crew_ctx;

static int crew_cb(void *ud, const msh_live_item *it)
{
    crew_ctx *c = ud;
    c->found = !strcmp(it->rec.id, c->want);
    return c->found;
}

static bool crew_exists(msh_live *live, const char *id)
{
    crew_ctx c = {id, false};
    msh_live_rdlock(live);
    msh_live_items(live, MSH_FEED_CREWS, crew_cb, &c);
    msh_live_unlock(live);
    return c.found;
}

/* ---- answers ---- */

static void answer_item(msh_req *r, int status, const char *coll, const char *id)
{
    msh_buf json;
    msh_buf_init(&json, MSH_MAX_BODY);
    char etag[40], base[320];
    msh_req_base_url(r, base, sizeof base); /* the item's links name the host: so does its ETag (http.c) */
    if (show_item(r->app, coll, id, &json, etag, sizeof etag)) {
        msh_buf_putc(&json, '\n');
        r->resp.cache_control = "no-store";
        msh_resp_buf(r, status, CT_GEOJSON, &json);
        snprintf(r->resp.etag, sizeof r->resp.etag, "%s", etag);
    } else {
        r->resp.status = status == 200 ? 204 : status; /* written, and gone from the map already */
    }
    msh_buf_free(&json);
}

/* 412: the current item and its ETag, as the static collections answer it. */
static void stale(msh_req *r, const char *coll, const char *id)
{
    msh_buf json, b;
    msh_buf_init(&json, MSH_MAX_BODY);
    msh_buf_init(&b, MSH_MAX_BODY);
    char etag[40] = "", base[320], shown[56];
    show_item(r->app, coll, id, &json, etag, sizeof etag);
    msh_req_base_url(r, base, sizeof base);
    snprintf(shown, sizeof shown, "%s", etag); /* as a GET sends it (http/host_links.h) */
    if (r->resp.vary_host)
        msh_etag_fold_host(shown, sizeof shown, msh_req_header(r, "Host"));
    msh_buf_printf(&b, "{\"code\":\"stale\",\"description\":\"If-Match: the item changed since you read it: here it "
                       "is as it is now (and its ETag); merge and send again\",\"status\":412,\"etag\":\"");
    ogc_json_str(&b, shown, strlen(shown));
    msh_buf_printf(&b, "\",\"current\":");
    if (json.len)
        msh_buf_append(&b, json.data, json.len);
    else
        msh_buf_printf(&b, "null");
    msh_buf_printf(&b, "}\n");
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 412, "application/json", &b);
    snprintf(r->resp.etag, sizeof r->resp.etag, "%s", etag);
    msh_buf_free(&json);
    msh_buf_free(&b);
}

/* 409 invalid_transition or 400, from the lifecycle check. */
static void refused(msh_req *r, msh_ops_verdict v, const msh_ops_why *why)
{
    if (v != MSH_OPS_TRANSITION) {
        msh_resp_error(r, 400, "%s", why->text);
        return;
    }
    msh_buf b;
    msh_buf_init(&b, 4096);
    msh_buf_printf(&b, "{\"code\":\"invalid_transition\",\"description\":\"");
    msh_buf_json_str(&b, why->text);
    msh_buf_printf(&b, "\",\"status\":409,\"from\":\"%s\",\"to\":\"%s\",\"allowed\":[", msh_ops_status_name(why->from),
                   msh_ops_status_name(why->to));
    for (int i = 0; i < why->nallowed; i++)
        msh_buf_printf(&b, "%s\"%s\"", i ? "," : "", msh_ops_status_name(why->allowed[i]));
    msh_buf_printf(&b, "]}\n");
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 409, "application/json", &b);
    msh_buf_free(&b);
}

static void gate_event(msh_app *app, const msh_live_item *it)
{
    if (!app->events)
        return;
    msh_buf b;
    msh_buf_init(&b, 2048);
    msh_buf_printf(&b, "{\"state\":\"%s\",\"gate\":\"", (it->ops_flags & MSH_ITEM_CLOSED) ? "closed" : "open");
    msh_buf_json_str(&b, it->rec.id);
    msh_buf_printf(&b, "\",\"reason\":");
    msh_buf_json_str_or_null(&b, it->reason);
    char t[MSH_TIME_ISO_CAP] = "";
    if ((it->ops_flags & MSH_ITEM_CLOSED) && it->reopens_ms)
        msh_time_format_iso(it->reopens_ms, t, sizeof t, 0);
    msh_buf_printf(&b, ",\"reopens_at\":");
    msh_buf_json_str_or_null(&b, t);
    msh_buf_printf(&b, "}");
    msh_buf_putc(&b, 0);
    bool loc = it->rec.has & MSH_FR_LOC;
    msh_events_publish(app->events, MSH_EV_GATE, loc ? it->rec.lon : 0.0 / 0.0, loc ? it->rec.lat : 0.0 / 0.0,
                       (const char *)b.data);
    msh_buf_free(&b);
}

/* ---- the writes ---- */

typedef struct {
    const msh_ops_rec *op;
    int64_t t_ms;
    msh_ops_verdict verdict;
    msh_ops_why why;
    msh_live_item after;
} apply_ctx;

static void apply_op(void *ud, msh_live *live)
{
    apply_ctx *a = ud;
    a->verdict = msh_ops_apply(live, a->op, a->t_ms, &a->why);
    msh_ops_item(live, (msh_feed)a->op->feed, a->op->id, a->op->id_len, &a->after);
}

/* Write `op` to the live log at t_ms and apply it there (apply_op fills *a, its verdict among them).
 * False with a 503 answered when the log cannot take it: nothing changed. */
static bool log_op(msh_req *r, const msh_ops_rec *op, int64_t t_ms, apply_ctx *a)
{
    msh_buf enc;
    msh_buf_init(&enc, 4096);
    msh_err err = {.msg = "the change could not be encoded"};
    memset(a, 0, sizeof *a);
    a->op = op;
    a->t_ms = t_ms;
    a->verdict = MSH_OPS_NOTFOUND;
    msh_rc rc = msh_ops_encode(op, &enc);
    if (!rc)
        rc = msh_ingest_op(r->app->ingest, enc.data, enc.len, t_ms, apply_op, a, &err);
    msh_buf_free(&enc);
    if (rc && err.outcome_unknown) /* no Retry-After: a second create could make a twin */
        msh_resp_error(r, 503, "the live log did not confirm the write in time: it may or may not have been made; "
                       "read the item (or the collection) before writing again: %s", err.msg);
    else if (rc) /* Retry-After when the refusal passes by itself (ingest.h) */
        msh_resp_unavailable(r, (unsigned)err.retry_after_s,
                             "the live log cannot take writes now (nothing was changed): %s", err.msg);
    return rc == MSH_OK;
}

/* PATCH, with the operators' lock held and the body read. */
static void patch_locked(msh_req *r, msh_feed feed, const char *coll, const char *id, msh_ops_rec *op)
{
    msh_role role = msh_auth_who(r, op->by, sizeof op->by); /* who, into the log record */
    snprintf(op->by_role, sizeof op->by_role, "%s", msh_role_name(role));
    msh_app *app = r->app;
    msh_live_item cur;
    if (!find_item(app->live, feed, id, &cur)) {
        msh_resp_error(r, 404, "no %s '%.64s' in collection '%s'", feed == MSH_FEED_GATES ? "gate" : "incident", id,
                       coll);
        return;
    }
    snprintf(op->id, sizeof op->id, "%s", cur.rec.id);
    op->id_len = cur.rec.id_len;
    op->expect = cur.updates;
    msh_buf json;
    msh_buf_init(&json, MSH_MAX_BODY);
    char etag[40] = "", folded[56];
    show_item(app, coll, op->id, &json, etag, sizeof etag);
    msh_buf_free(&json);
    snprintf(folded, sizeof folded, "%s", etag);
    msh_etag_fold_host(folded, sizeof folded, msh_req_header(r, "Host"));
    const char *if_match = msh_req_header(r, "If-Match");
    if (!msh_hdr_etag_matches(if_match, etag) && !msh_hdr_etag_matches(if_match, folded)) {
        stale(r, coll, op->id);
        return;
    }
    msh_ops_why why;
    msh_ops_verdict v = msh_ops_check(&cur, op, &why);
    if (v == MSH_OPS_STALE) {
        stale(r, coll, op->id);
        return;
    }
    if (v != MSH_OPS_OK) {
        refused(r, v, &why);
        return;
    }
    int64_t now = msh_now_ms();
    if ((op->set & MSH_OPS_SET_REOPENS) && op->reopens_ms && op->reopens_ms <= now) {
        char t[MSH_TIME_ISO_CAP];
        msh_time_format_iso(now, t, sizeof t, 0);
        msh_resp_error(r, 400, "reopens_at: a planned reopening is in the future (the server's time is %s)", t);
        return;
    }
    if ((op->set & MSH_OPS_SET_CREW) && op->crew[0] && !crew_exists(app->live, op->crew)) {
        msh_resp_error(r, 400, "assigned_crew: no crew '%.64s' on the live map (see /ogc/collections/crews/items)",
                       op->crew);
        return;
    }
    apply_ctx a;
    if (!log_op(r, op, now, &a))
        return;
    if (a.verdict == MSH_OPS_STALE || a.verdict == MSH_OPS_NOTFOUND) { /* a feed record got in between */
        stale(r, coll, op->id);
        return;
    }
    if (a.verdict != MSH_OPS_OK) {
        refused(r, a.verdict, &a.why);
        return;
    }
    if (feed == MSH_FEED_GATES) {
        if (app->walknet) /* routing goes around a closed gate from this answer on (route/gateclose.h) */
            msh_walknet_update_costs(app->walknet, app->live);
        gate_event(app, &a.after);
    }
    msh_live_change_publish(app, coll, "update", &a.after);
    answer_item(r, 200, coll, op->id);
}

/* POST a new incident, with the operators' lock held: one log record naming its author. */
static void create_locked(msh_req *r, msh_feed_rec *rec)
{
    msh_app *app = r->app;
    if (!rec->id_len) { /* else the caller named it (an escalated report: INC-REP-<fid>) */
        msh_live_rdlock(app->live);
        uint64_t applied = msh_ops_seq(app->live);
        msh_live_unlock(app->live);
        uint64_t n = msh_ops_ids_next(app->ops_ids, applied); /* a cluster's sequence, or applied + 1 */
        if (!n) {
            msh_resp_error(r, 503, "cannot number the incident: the store does not answer");
            return;
        }
        snprintf(rec->id, sizeof rec->id, "INC-OPS-%llu", (unsigned long long)n);
        rec->id_len = (uint8_t)strlen(rec->id);
    }
    msh_ops_rec op;
    memset(&op, 0, sizeof op);
    op.feed = MSH_FEED_INCIDENTS;
    op.set = MSH_OPS_SET_CREATE;
    memcpy(op.id, rec->id, (size_t)rec->id_len + 1);
    op.id_len = rec->id_len;
    op.create = *rec;
    msh_role role = msh_auth_who(r, op.by, sizeof op.by);
    snprintf(op.by_role, sizeof op.by_role, "%s", msh_role_name(role));
    apply_ctx a;
    if (!log_op(r, &op, rec->t_ms, &a))
        return;
    if (a.verdict != MSH_OPS_OK) { /* the id was taken in between (a feed sent it): nothing changed */
        msh_resp_error(r, 409, "incident '%s' exists already; send again", rec->id);
        return;
    }
    msh_live_change_publish(app, "incidents", "create", &a.after);
    char base[320];
    msh_req_base_url(r, base, sizeof base);
    snprintf(r->resp.location, sizeof r->resp.location, "%s/ogc/collections/incidents/items/%s", base, rec->id);
    answer_item(r, 201, "incidents", rec->id);
}

void msh_route_live_create_incident(msh_req *r, msh_feed_rec *rec)
{
    if (!r->app->live || !r->app->ingest) {
        msh_resp_error(r, 503, "live feeds are off on this server: no incident can be made");
        return;
    }
    pthread_mutex_lock(&ops_mu);
    create_locked(r, rec);
    pthread_mutex_unlock(&ops_mu);
}

/* Which live collection `rest` ("{c}/items[/{id}]") names; false when neither. *id gets the id part. */
static bool live_path(const char *rest, msh_feed *feed, const char **coll, const char **id)
{
    if (!strncmp(rest, "incidents/items", 15) && (!rest[15] || rest[15] == '/')) {
        *feed = MSH_FEED_INCIDENTS;
        *coll = "incidents";
    } else if (!strncmp(rest, "gates/items", 11) && (!rest[11] || rest[11] == '/')) {
        *feed = MSH_FEED_GATES;
        *coll = "gates";
    } else {
        return false;
    }
    *id = rest + strlen(*coll) + 6;
    *id += **id == '/';
    return true;
}

/* What a token of `role` may do on the live collection (MSH_ACC_CREATE, MSH_ACC_UPDATE). */
static unsigned live_may(msh_req *r, msh_feed feed, const char *coll, msh_role role)
{
    unsigned may = r->app->edit ? msh_access_ops(msh_edit_service_access(r->app), coll, role, NULL)
                                : (role >= MSH_ROLE_OPS ? MSH_ACC_CREATE | MSH_ACC_UPDATE : 0);
    /* gates come from the feed: operators only open and close them */
    return may & (feed == MSH_FEED_GATES ? MSH_ACC_UPDATE : MSH_ACC_CREATE | MSH_ACC_UPDATE);
}

bool msh_route_live_allow(msh_req *r, const char *rest, unsigned *methods)
{
    msh_feed feed;
    const char *coll, *id;
    if (!live_path(rest, &feed, &coll, &id))
        return false;
    unsigned may = live_may(r, feed, coll, msh_auth_role(r));
    *methods = *id ? (may & MSH_ACC_UPDATE ? MSH_M_PATCH : 0) : (may & MSH_ACC_CREATE ? MSH_M_POST : 0);
    return true;
}

bool msh_route_live_write(msh_req *r, const char *rest)
{
    msh_feed feed;
    const char *coll, *id;
    if (!live_path(rest, &feed, &coll, &id))
        return false;
    bool post = !strcmp(r->method, "POST"), patch = !strcmp(r->method, "PATCH");
    char who[MSH_TOKEN_NAME_MAX + 1];
    msh_role role = msh_auth_who(r, who, sizeof who);
    unsigned may = live_may(r, feed, coll, role);
    if (strchr(id, '/') || strlen(id) > MSH_FEED_ID_MAX || (post && *id) || (!post && !*id)) {
        msh_resp_error(r, 404, "no such resource: %.80s", r->path);
    } else if ((!post && !patch) || (post && feed == MSH_FEED_GATES)) {
        r->resp.allow = MSH_M_GET | (feed == MSH_FEED_INCIDENTS && post ? MSH_M_POST : 0) | (*id ? MSH_M_PATCH : 0);
        msh_resp_error(r, 405, "collection '%s' is live: operators %s", coll,
                       feed == MSH_FEED_GATES ? "PATCH a gate's state" : "POST incidents and PATCH them");
    } else if (!(may & (post ? MSH_ACC_CREATE : MSH_ACC_UPDATE))) {
        msh_resp_error(r, 403, "a %s token may not %s '%s' (the access rules: --access)", msh_role_name(role),
                       post ? "create items in" : "update items of", coll);
    } else if (!r->app->live || !r->app->ingest) {
        msh_resp_error(r, 503, "live feeds are off on this server");
    } else if (patch && !msh_req_header(r, "If-Match")) {
        msh_resp_error(r, 428, "this write needs If-Match with the item's ETag (GET it first), so that no one's "
                               "change is overwritten unseen");
    } else {
        char why[300];
        msh_ops_rec op;
        msh_feed_rec rec;
        int64_t now = msh_now_ms();
        if (post ? msh_ops_parse_incident(r->body, r->body_len, now, &rec, why, sizeof why)
                 : msh_ops_parse_patch(feed, r->body, r->body_len, &op, why, sizeof why)) {
            msh_resp_error(r, 400, "%s", why);
        } else {
            pthread_mutex_lock(&ops_mu);
            if (post)
                create_locked(r, &rec);
            else
                patch_locked(r, feed, coll, id, &op);
            pthread_mutex_unlock(&ops_mu);
        }
    }
    return true;
}
