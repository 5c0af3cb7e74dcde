/* routes_ogc_write.c: OGC API - Features Part 4 (create, replace, update, delete) on the static
 * collections, the item history and the item as it was at an instant.
 *
 *   POST   /ogc/collections/{c}/items         a GeoJSON Feature -> 201, Location, ETag, the feature
 *   PUT    /ogc/collections/{c}/items/{fid}   a GeoJSON Feature -> 200, ETag, the feature
 *   PATCH  /ogc/collections/{c}/items/{fid}   application/merge-patch+json (RFC 7396) -> 200
 *   DELETE /ogc/collections/{c}/items/{fid}   -> 204
 *   GET    /ogc/collections/{c}/items/{fid}/history   every version, who and when (ops token)
 *   OPTIONS on items and an item: `Allow` lists what the caller's token may do (QGIS reads it)
 *
 * A write goes: the route's role (any valid token) -> the collection's rules (http/access.h:
 * 403) -> If-Match present where the rules need it (428) -> the body read and checked before
 * any lock (layers/json_in.h bounds, layers/feature_in.h against the fields, importers/
 * geom_fit.h for the geometry: 400 naming what is wrong) -> queued to the committer
 * (services/edit_batch.h), which for each write of its batch takes the current item as the batch
 * sees it and compares its ETag with If-Match (412 with the current item), merges a PATCH, asks the
 * workflow rules (services/workflow_service.h: asset status values, work order transitions: 400/409,
 * and the asset a work order changes), writes in a savepoint of the batch's transaction (layers/
 * edit.h: row, versions, audit; the coupled asset write in the same savepoint), commits the batch
 * once, publishes the catalog with the edited features over the layer (layers/overlay_layer.h) and
 * wakes the writers -> a `change` event -> the answer. Nothing is written unless every check passed.
 *
 * An item's ETag hashes its GeoJSON as GET writes it (id, geometry at 9 decimals, every
 * property), so GET and the If-Match check compute it from the same bytes, and it changes
 * exactly when what a client sees of the item does.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_hash.h"
#include "core/msh_tilemath.h"
#include "core/msh_time.h"
#include "edit.h"
#include "feature_in.h"
#include "geom_fit.h"
#include "http/access.h"
#include "http/auth.h"
#include "http/defer.h"
#include "http/host_links.h"
#include "http/httphdr.h"
#include "http/route_table.h"
#include "json_in.h"
#include "overlay_layer.h"
#include "routes/events.h"
#include "routes/ogc.h"
#include "routes/routes.h"
#include "services/edit_service.h"
#include "services/workflow_service.h"
#include "routes/reports_hooks.h"

#define CT_GEOJSON "application/geo+json"
#define HISTORY_LIMIT_MAX 1000

/* The ETag of an item of `li` whose GeoJSON (ogc_feature_json) is `json`. */
static void etag_of(const msh_layer_info *li, const uint8_t *json, size_t len, char *out, size_t cap)
{
    uint64_t h = msh_fnv1a(li->name, strlen(li->name) + 1, MSH_FNV1A_INIT);
    h = msh_fnv1a(json, len, h);
    snprintf(out, cap, "\"i%016llx\"", (unsigned long long)h);
}

void ogc_item_etag(const msh_layer_info *li, const msh_feature *f, char *out, size_t cap)
{
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    ogc_feature_json(&b, li, f);
    etag_of(li, b.data, b.len, out, cap);
    msh_buf_free(&b);
}

void ogc_error_code(msh_req *r, int status, const char *code, const char *msg)
{
    msh_buf b;
    msh_buf_init(&b, 4096);
    msh_buf_printf(&b, "{\"code\":\"%s\",\"error\":\"", code);
    ogc_json_str(&b, msg, strlen(msg));
    msh_buf_printf(&b, "\",\"status\":%d}\n", status);
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, status, "application/json", &b);
    msh_buf_free(&b);
}

/* ---- the path --------------------------------------------------------------------------------- */

typedef struct {
    char coll[64];
    bool has_fid;
    uint64_t fid;
    bool history;
} wpath;

/* "{c}/items", "{c}/items/{fid}" or "{c}/items/{fid}/history" (the route table matched the shape). */
static bool parse_path(const char *rest, wpath *p)
{
    memset(p, 0, sizeof *p);
    const char *slash = strchr(rest, '/');
    if (!slash || (size_t)(slash - rest) >= sizeof p->coll)
        return false;
    memcpy(p->coll, rest, (size_t)(slash - rest));
    const char *q = slash + 6; /* after "/items" */
    if (strncmp(slash, "/items", 6))
        return false;
    if (!*q)
        return true;
    q++;
    p->has_fid = true;
    int digits = 0;
    for (; isdigit((unsigned char)*q) && digits < 19; q++, digits++)
        p->fid = p->fid * 10 + (uint64_t)(*q - '0');
    if (!digits)
        return false;
    p->history = !strcmp(q, "/history");
    return !*q || p->history;
}

/* ---- the current item ------------------------------------------------------------------------- */

typedef struct {
    uint64_t id;
    bool found;
    msh_buf *json;          /* the feature as GET writes it */
    const msh_value *values; /* borrowed from the layer */
    msh_layer_info *li;
    char etag[40];
    double bbox[4];         /* lon/lat */
} cur_item;

static int find_cb(void *ud, const msh_feature *f)
{
    cur_item *c = ud;
    if (f->id != c->id)
        return 0;
    c->found = true;
    c->values = f->values;
    size_t at = c->json->len;
    ogc_feature_json(c->json, c->li, f);
    etag_of(c->li, c->json->data + at, c->json->len - at, c->etag, sizeof c->etag); /* ogc_item_etag's */
    double w[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (uint32_t i = 0; i < f->geom.npts; i++) {
        w[0] = fmin(w[0], f->geom.xy[2 * i]);
        w[1] = fmin(w[1], f->geom.xy[2 * i + 1]);
        w[2] = fmax(w[2], f->geom.xy[2 * i]);
        w[3] = fmax(w[3], f->geom.xy[2 * i + 1]);
    }
    msh_world_to_lonlat(w[0], w[3], &c->bbox[0], &c->bbox[1]); /* world y grows southwards */
    msh_world_to_lonlat(w[2], w[1], &c->bbox[2], &c->bbox[3]);
    return 1;
}

/* Look item `id` up in `l` (by id: layers/overlay_layer.h); out->json must be an initialised buffer. */
static void find_item(msh_layer *l, uint64_t id, cur_item *out)
{
    msh_buf *json = out->json;
    memset(out, 0, sizeof *out);
    out->id = id;
    out->json = json;
    out->li = &l->info;
    msh_buf_reset(json);
    msh_feature f;
    if (msh_overlay_find(l, id, &f))
        find_cb(out, &f);
}

/* A collection Part 4 may write: a static layer the public sees, or a private one (reports: the
 * access rules and the rules of services/workflow_service.h say who writes what). */
static bool editable(const msh_layer *l)
{
    return l && l->info.kind && !strcmp(l->info.kind, "static") &&
           (l->info.access < MSH_ACCESS_OPS || msh_layer_name_private(l->info.name));
}

unsigned msh_route_ogc_allow(msh_req *r, const char *rest)
{
    wpath p;
    unsigned live;
    if (msh_route_live_allow(r, rest, &live)) /* incidents and gates (routes_live_write.c) */
        return live;
    if (!r->app->edit || !parse_path(rest, &p) || p.history)
        return 0;
    msh_catalog *cat = msh_app_catalog(r->app);
    bool ok = editable(msh_catalog_find(cat, p.coll, strlen(p.coll)));
    msh_catalog_release(cat);
    if (!ok)
        return 0;
    unsigned ops = msh_access_ops(msh_edit_service_access(r->app), p.coll, msh_auth_role(r), NULL);
    if (!p.has_fid)
        return ops & MSH_ACC_CREATE ? MSH_M_POST : 0;
    return (ops & MSH_ACC_REPLACE ? MSH_M_PUT : 0) | (ops & MSH_ACC_UPDATE ? MSH_M_PATCH : 0) |
           (ops & MSH_ACC_DELETE ? MSH_M_DELETE : 0);
}

/* ---- the body --------------------------------------------------------------------------------- */

/* Does the Content-Type name `want` (parameters after ';' ignored, case-insensitive)? */
static bool ctype_is(msh_req *r, const char *want)
{
    const char *ct = msh_req_header(r, "Content-Type");
    size_t n = strlen(want);
    return ct && !strncasecmp(ct, want, n) && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

typedef struct {
    json_t *doc;           /* the parsed body */
    msh_feature_in fin;    /* POST, PUT: the values */
    uint8_t *wkb;          /* the fitted geometry, or NULL (PATCH without one, DELETE) */
    size_t wkb_len;
} wbody;

static void wbody_free(wbody *b)
{
    json_decref(b->doc);
    msh_feature_in_free(&b->fin);
    free(b->wkb);
}

/* Fit the `geometry` member of `doc`, when it has one. */
static msh_rc fit_geometry(msh_req *r, const msh_layer *l, const json_t *geom, wbody *b, msh_err *err)
{
    if (!geom)
        return MSH_OK;
    if (!json_is_object(geom))
        return msh_err_set(err, MSH_EINVAL, "geometry: required, a GeoJSON geometry object");
    /* a body in any CRS the collections list (crs_ref.h), converted to the store's; any other is a 400 */
    const char *content_crs = msh_req_header(r, "Content-Crs");
    msh_crs crs = MSH_CRS_CRS84;
    if (content_crs && msh_crs_parse("Content-Crs", content_crs, &crs, err))
        return MSH_EINVAL;
    int epsg = msh_crs_epsg(crs);
    char *text = json_dumps(geom, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (!text)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    double bb[4];
    bool repaired;
    msh_rc rc = msh_geom_fit(text, strlen(text), epsg, msh_gtype_parse(l->info.geometry_type), &b->wkb, &b->wkb_len,
                             bb, &repaired, err);
    free(text);
    return rc;
}

/* Read and check the body of a write (no lock held). Fills the error answer and returns false when bad. */
static bool read_body(msh_req *r, const msh_layer *l, msh_edit_kind kind, wbody *b)
{
    memset(b, 0, sizeof *b);
    if (kind == MSH_EDIT_DELETE)
        return true;
    if (r->body_too_large) {
        msh_resp_error(r, 413, "the body is larger than %zu bytes", MSH_EDIT_BODY_MAX);
        return false;
    }
    if (kind == MSH_EDIT_UPDATE ? !ctype_is(r, "application/merge-patch+json")
                                : !ctype_is(r, "application/geo+json") && !ctype_is(r, "application/json")) {
        msh_resp_error(r, 415, "%s", kind == MSH_EDIT_UPDATE
                                         ? "PATCH takes Content-Type: application/merge-patch+json (RFC 7396)"
                                         : "send a GeoJSON Feature with Content-Type: application/geo+json");
        return false;
    }
    msh_err err;
    msh_rc rc = msh_json_in(r->body, r->body_len, MSH_JSON_IN_MAX_DEPTH, &b->doc, &err);
    if (!rc && kind == MSH_EDIT_UPDATE && !json_is_object(b->doc))
        rc = msh_err_set(&err, MSH_EINVAL, "a merge patch for a feature must be a JSON object");
    if (!rc && kind == MSH_EDIT_UPDATE && json_object_get(b->doc, "geometry") &&
        !json_is_object(json_object_get(b->doc, "geometry")))
        rc = msh_err_set(&err, MSH_EINVAL, "geometry: a patch may replace the geometry, not remove it");
    if (!rc && kind != MSH_EDIT_UPDATE) /* a work order's geometry may come from its asset */
        rc = msh_feature_in_read(b->doc, &l->info,
                                 kind != MSH_EDIT_CREATE || !msh_workflow_geometry_optional(l->info.name), &b->fin,
                                 &err);
    if (!rc)
        rc = fit_geometry(r, l, json_object_get(b->doc, "geometry"), b, &err);
    if (rc == MSH_ETOOBIG) {
        ogc_error_code(r, 422, "geometry_too_complex", err.msg);
        return false;
    }
    if (rc) {
        msh_resp_error(r, rc == MSH_ENOMEM ? 500 : 400, "%s", err.msg);
        return false;
    }
    return true;
}

/* PATCH: the current properties with the patch merged in, checked again as a whole feature. */
static msh_rc merge(const msh_layer *l, const cur_item *cur, wbody *b, msh_err *err)
{
    json_t *target = json_object();
    json_t *props = msh_feature_in_props(&l->info, cur->values);
    if (!target || !props || json_object_set_new(target, "type", json_string("Feature")) ||
        json_object_set_new(target, "properties", props)) {
        json_decref(target);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    json_t *merged = msh_merge_patch(target, b->doc);
    if (!merged)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    json_decref(b->doc);
    b->doc = merged; /* the values borrow their strings from it */
    return msh_feature_in_read(merged, &l->info, false, &b->fin, err);
}

/* ---- the answer ------------------------------------------------------------------------------- */

static void publish_change(msh_req *r, const char *coll, const msh_edit_kind kind, const msh_edit_result *res)
{
    if (!r->app->events)
        return;
    const double *bb = res->touched;
    char json[512];
    snprintf(json, sizeof json,
             "{\"collection\":\"%s\",\"id\":%lld,\"op\":\"%s\",\"version\":%llu,\"bbox\":[%.9f,%.9f,%.9f,%.9f]}", coll,
             (long long)res->fid, msh_edit_kind_name(kind), (unsigned long long)res->version, bb[0], bb[1], bb[2],
             bb[3]);
    msh_events_publish_in(r->app->events, MSH_EV_CHANGE, coll, (bb[0] + bb[2]) / 2, (bb[1] + bb[3]) / 2, json);
}

/* 412: the error and the current item, so the client can show both versions. */
static void precondition_failed(msh_req *r, const cur_item *cur)
{
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    /* the ETag as a GET of the item sends it: named for the Host when links come from it (http.c folds
     * the header's the same way) */
    char base[512], shown[sizeof cur->etag + 16];
    msh_req_base_url(r, base, sizeof base);
    snprintf(shown, sizeof shown, "%s", cur->etag);
    if (r->resp.vary_host)
        msh_etag_fold_host(shown, sizeof shown, msh_req_header(r, "Host"));
    msh_buf_printf(&b, "{\"error\":\"If-Match: the item changed since you read it: here it is as it is now (and "
                       "its ETag); merge and send again\",\"status\":412,\"etag\":\"");
    ogc_json_str(&b, shown, strlen(shown));
    msh_buf_printf(&b, "\",\"current\":");
    msh_buf_append(&b, cur->json->data, cur->json->len);
    msh_buf_printf(&b, "}\n");
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 412, "application/json", &b);
    snprintf(r->resp.etag, sizeof r->resp.etag, "%s", cur->etag);
    msh_buf_free(&b);
}

static msh_edit_kind kind_of(const char *method)
{
    if (!strcmp(method, "POST"))
        return MSH_EDIT_CREATE;
    if (!strcmp(method, "PUT"))
        return MSH_EDIT_REPLACE;
    if (!strcmp(method, "PATCH"))
        return MSH_EDIT_UPDATE;
    return MSH_EDIT_DELETE;
}

static unsigned acc_bit(msh_edit_kind k)
{
    return k == MSH_EDIT_CREATE ? MSH_ACC_CREATE : k == MSH_EDIT_REPLACE ? MSH_ACC_REPLACE
           : k == MSH_EDIT_UPDATE ? MSH_ACC_UPDATE : MSH_ACC_DELETE;
}

/* One write handed to the committer (services/edit_batch.h), with all it needs until answered.
 * The committer fills the decision and the current or written item; the answer is made from them,
 * on the committer for a parked request (http/defer.h), else on the request's thread. */
typedef struct {
    msh_edit_job job;
    msh_req *r;           /* the request (parked: its own copy); read on the committer: headers */
    wpath p;
    wbody b;
    char who[MSH_TOKEN_NAME_MAX + 1];
    msh_role role;
    msh_buf json;
    cur_item cur;         /* the item before (412) or after (the answer) */
    int status;           /* an answer decided by the check (404, 412, 400, 500, WORKFLOW_REFUSED); 0: written
                           * or store error */
    msh_workflow_write wf; /* the workflow rules' plan (a refusal, the coupled asset write) */
    char owner[MSH_REPORT_ID_MAX + 1]; /* a report's reporter, as written (its `report` event's scope) */
    char msg[sizeof(msh_err) + 128];
} wjob;

#define WORKFLOW_REFUSED (-1) /* wjob.status: the workflow rules refused it (j->wf.ref) */
#define ANSWERED (-2)         /* wjob.status: the check answered it already (ogc_ids_check) */

static bool job_check(msh_edit_job *jb, msh_catalog *cat, msh_layer *l, const msh_feature *f, msh_edit_op *op)
{
    wjob *j = (wjob *)jb;
    msh_err err;
    if (!editable(l)) {
        j->status = 404;
        snprintf(j->msg, sizeof j->msg, "unknown collection '%s' (see /ogc/collections)", j->p.coll);
        return false;
    }
    if (jb->kind != MSH_EDIT_CREATE) {
        if (!f) {
            j->status = 404;
            snprintf(j->msg, sizeof j->msg, "no feature %llu in collection '%s'", (unsigned long long)j->p.fid,
                     j->p.coll);
            return false;
        }
        msh_buf_reset(j->cur.json);
        j->cur.id = f->id;
        j->cur.li = &l->info;
        find_cb(&j->cur, f);
        /* a GET made its links from Host (no --public-url): the ETag it sent names the host too
         * (http/host_links.h); either form names this version of the item */
        char folded[sizeof j->cur.etag + 16];
        snprintf(folded, sizeof folded, "%s", j->cur.etag);
        msh_etag_fold_host(folded, sizeof folded, msh_req_header(j->r, "Host"));
        const char *if_match = msh_req_header(j->r, "If-Match");
        if (if_match && !msh_hdr_etag_matches(if_match, j->cur.etag) && !msh_hdr_etag_matches(if_match, folded)) {
            j->status = 412;
            return false;
        }
        if (jb->kind == MSH_EDIT_UPDATE && merge(l, &j->cur, &j->b, &err)) {
            j->status = err.code == MSH_ENOMEM ? 500 : 400;
            snprintf(j->msg, sizeof j->msg, "%s", err.msg);
            return false;
        }
    }
    int64_t want = 0; /* the id a create takes from the body (routes_ogc_ids.c), or 0 */
    if (jb->kind != MSH_EDIT_DELETE &&
        !ogc_ids_check(j->r, l, jb->kind == MSH_EDIT_CREATE, j->p.fid, j->b.doc, j->b.fin.values, &want)) {
        j->status = ANSWERED; /* into j->r: its thread waits for the job, or it is parked */
        return false;
    }
    msh_edit_op o = {jb->kind, &l->info, jb->kind == MSH_EDIT_CREATE ? want : (int64_t)j->p.fid, j->b.fin.values,
                     j->b.wkb, j->b.wkb_len, j->who, msh_role_name(j->role), msh_now_ms(), NULL};
    /* the workflow rules (services/workflow_service.h): values, transitions, the asset it changes */
    msh_workflow_by by = {j->r->app, j->who, false};
    if (!msh_workflow_prepare(cat, l, jb->kind, jb->kind != MSH_EDIT_CREATE ? j->cur.values : NULL, j->b.fin.values,
                              &o.wkb, &o.wkb_len, o.at_ms, jb->kind == MSH_EDIT_CREATE ? 0 : j->p.fid, &by, &j->wf)) {
        j->status = WORKFLOW_REFUSED;
        return false;
    }
    if (j->wf.has_extra) /* a work order's asset */
        msh_edit_job_couple(jb, &j->wf.extra, j->wf.extra_field, &o);
    *op = o;
    return true;
}

static void job_answer(msh_edit_job *jb, msh_layer *l, const msh_feature *f)
{
    wjob *j = (wjob *)jb;
    j->cur.found = false;
    if (!f)
        return;
    msh_buf_reset(j->cur.json);
    j->cur.id = f->id;
    j->cur.li = &l->info;
    find_cb(&j->cur, f);
    msh_reports_owner(&l->info, f->values, j->owner, sizeof j->owner);
}

/* The answer of a done job, into j->r, and its `change` event. */
static void answer_job(wjob *j)
{
    msh_req *r = j->r;
    msh_edit_kind kind = j->job.kind;
    if (j->status == 412) {
        precondition_failed(r, &j->cur);
        return;
    }
    if (j->status == WORKFLOW_REFUSED) {
        msh_workflow_refuse(r, &j->wf.ref);
        return;
    }
    if (j->status == ANSWERED)
        return;
    if (j->status) {
        msh_resp_error(r, j->status, "%s", j->msg);
        return;
    }
    if (!j->job.written) {
        if (j->job.res.duplicate)
            ogc_error_code(r, 409, "duplicate_id", j->job.err.msg);
        else
            msh_resp_error(r, j->job.err.code == MSH_ENOTFOUND ? 404 : 500, "%s", j->job.err.msg);
        return;
    }
    const msh_edit_result *res = &j->job.res;
    char base[320];
    msh_req_base_url(r, base, sizeof base); /* links from Host mark the answer (its ETag names the host) */
    if (kind == MSH_EDIT_DELETE) {
        r->resp.status = 204;
        r->resp.cache_control = "no-store";
    } else if (j->cur.found) {
        if (!strcmp(j->p.coll, MSH_REPORTS_LAYER)) /* before the newline: the event carries the item */
            msh_reports_event(r->app, j->owner, msh_edit_kind_name(kind), (const char *)j->cur.json->data,
                              j->cur.json->len);
        msh_buf_putc(j->cur.json, '\n');
        r->resp.cache_control = "no-store";
        msh_resp_buf(r, kind == MSH_EDIT_CREATE ? 201 : 200, CT_GEOJSON, j->cur.json);
        snprintf(r->resp.etag, sizeof r->resp.etag, "%s", j->cur.etag);
    } else {
        r->resp.status = kind == MSH_EDIT_CREATE ? 201 : 204; /* stored; not served yet (see the log) */
    }
    if (kind == MSH_EDIT_CREATE)
        snprintf(r->resp.location, sizeof r->resp.location, "%s/ogc/collections/%s/items/%lld", base, j->p.coll,
                 (long long)res->fid);
    if (strcmp(j->p.coll, MSH_REPORTS_LAYER)) /* reports are private: their own `report` events */
        publish_change(r, j->p.coll, kind, res);
    if (j->job.has_extra)
        publish_change(r, MSH_ASSETS_LAYER, MSH_EDIT_UPDATE, &j->job.extra_res); /* extra.li: gone with its catalog */
}

static void wjob_free(wjob *j)
{
    wbody_free(&j->b);
    msh_buf_free(&j->json);
    msh_workflow_write_free(&j->wf);
    free(j);
}

/* A parked write is done (on the committer): answer, give the connection back. */
static void job_finished(msh_edit_job *jb)
{
    wjob *j = (wjob *)jb;
    answer_job(j);
    msh_defer_unpark(j->r);
    wjob_free(j);
}

/* Hand the checked write to the committer: parked (this thread goes on serving its other
 * connections) or, when that is not possible, waiting here. Takes *b. */
static void write_item(msh_req *r, const wpath *p, msh_edit_kind kind, wbody *b, const char *who, msh_role role)
{
    wjob *j = calloc(1, sizeof *j);
    if (!j) {
        msh_resp_error(r, 500, "out of memory");
        return;
    }
    j->job.coll = j->p.coll;
    j->job.fid = p->fid;
    j->job.kind = kind;
    j->job.check = job_check;
    j->job.answer = job_answer;
    j->p = *p;
    j->b = *b;
    memset(b, 0, sizeof *b);
    snprintf(j->who, sizeof j->who, "%s", who);
    j->role = role;
    msh_buf_init(&j->json, MSH_MAX_BODY);
    j->cur.json = &j->json;
    msh_req *parked = msh_defer_park(r);
    if (parked) {
        j->r = parked;
        j->job.finished = job_finished;
        msh_edit_service_post(r->app, &j->job);
        return;
    }
    j->r = r;
    msh_edit_service_submit(r->app, &j->job);
    answer_job(j);
    wjob_free(j);
}

void msh_route_ogc_write(msh_req *r, const char *rest)
{
    wpath p;
    msh_edit_kind kind = kind_of(r->method);
    if (msh_route_live_write(r, rest)) /* incidents and gates: operators' writes on live items */
        return;
    if (!parse_path(rest, &p) || p.history || p.has_fid == (kind == MSH_EDIT_CREATE)) {
        msh_resp_error(r, 404, "no such resource: %.80s", r->path);
        return;
    }
    if (!r->app->edit) {
        msh_resp_error(r, 503, "edits are off on this server");
        return;
    }
    msh_catalog *cat = msh_app_catalog(r->app);
    msh_layer *l = msh_catalog_find(cat, p.coll, strlen(p.coll));
    char who[MSH_TOKEN_NAME_MAX + 1];
    msh_role role = msh_auth_who(r, who, sizeof who);
    bool optional = false;
    unsigned ops = editable(l) ? msh_access_ops(msh_edit_service_access(r->app), p.coll, role, &optional) : 0;
    wbody b;
    memset(&b, 0, sizeof b);
    /* a private layer is unknown to the roles under ops, but for a create its rules allow (reports) */
    if (!l || (l->info.access >= MSH_ACCESS_OPS && role < MSH_ROLE_OPS &&
               !(kind == MSH_EDIT_CREATE && msh_layer_name_private(l->info.name)))) {
        msh_resp_error(r, 404, "unknown collection '%s' (see /ogc/collections)", p.coll);
    } else if (!editable(l)) {
        r->resp.allow = MSH_M_GET;
        msh_resp_error(r, 405, "collection '%s' is live (fed by /feeds): it is read-only here", p.coll);
    } else if (!(ops & acc_bit(kind))) {
        msh_resp_error(r, 403, "a %s token may not %s features of '%s' (the access rules: --access)",
                       msh_role_name(role), msh_edit_kind_name(kind), p.coll);
    } else if (kind != MSH_EDIT_CREATE && !msh_req_header(r, "If-Match") && !optional) {
        msh_resp_error(r, 428, "this write needs If-Match with the item's ETag (GET it first), so that no one's "
                               "edit is overwritten unseen");
    } else if (read_body(r, l, kind, &b) && msh_reports_may_create(r, p.coll, kind, who)) {
        msh_catalog_release(cat); /* the committer brings the catalog up to date: it looks again */
        cat = NULL;
        write_item(r, &p, kind, &b, who, role);
    }
    wbody_free(&b);
    msh_catalog_release(cat);
}

/* ---- history and asof ------------------------------------------------------------------------- */

typedef struct {
    msh_buf *b;
    int n;
    int64_t last;
} hist_ctx;

static int hist_cb(void *ud, const msh_edit_version *v)
{
    hist_ctx *h = ud;
    msh_buf *b = h->b;
    msh_buf_printf(b, "%s{\"seq\":%lld,\"op\":\"%s\",\"at\":\"", h->n++ ? "," : "", (long long)v->seq, v->op);
    ogc_json_str(b, v->at, strlen(v->at));
    msh_buf_printf(b, "\",\"by\":{\"name\":\"");
    ogc_json_str(b, v->who, strlen(v->who));
    msh_buf_printf(b, "\",\"role\":\"");
    ogc_json_str(b, v->role, strlen(v->role));
    msh_buf_printf(b, "\"},\"feature\":");
    if (v->feature)
        msh_buf_append(b, v->feature, strlen(v->feature));
    else
        msh_buf_printf(b, "null");
    msh_buf_putc(b, '}');
    h->last = v->seq;
    return 0;
}

bool ogc_history_page(msh_req *r, long *limit, int64_t *after)
{
    *limit = 100;
    *after = 0;
    const char *ls = msh_req_arg(r, "limit"), *cs = msh_req_arg(r, "cursor");
    char *end;
    if (ls && (*limit = strtol(ls, &end, 10), *end || end == ls || *limit < 1 || *limit > HISTORY_LIMIT_MAX)) {
        msh_resp_error(r, 400, "limit: a whole number from 1 to %d", HISTORY_LIMIT_MAX);
        return false;
    }
    if (cs && (*after = strtoll(cs, &end, 10), *end || end == cs || *after < 0)) {
        msh_resp_error(r, 400, "cursor: the seq of the last version of the previous page");
        return false;
    }
    return true;
}

void msh_route_ogc_history(msh_req *r, const char *rest)
{
    wpath p;
    if (!strncmp(rest, "incidents/items/", 16)) { /* a live incident's lifecycle: the incident log's rows */
        const char *id = rest + 16, *slash = strchr(id, '/');
        msh_route_incident_history(r, id, slash ? (size_t)(slash - id) : strlen(id));
        return;
    }
    if (!strncmp(rest, "gates/items/", 12)) { /* a gate's operator writes: the incident log's rows */
        const char *id = rest + 12, *slash = strchr(id, '/');
        msh_route_gate_history(r, id, slash ? (size_t)(slash - id) : strlen(id));
        return;
    }
    if (!parse_path(rest, &p) || !p.history || !r->app->edit) {
        msh_resp_error(r, 404, "no such resource: %.80s", r->path);
        return;
    }
    long limit;
    int64_t after;
    if (!ogc_history_page(r, &limit, &after))
        return;
    msh_buf cur, b;
    msh_buf_init(&cur, MSH_MAX_BODY);
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_store *store = msh_edit_service_lock(r->app);
    msh_catalog *cat = msh_app_catalog(r->app);
    msh_layer *l = msh_catalog_find(cat, p.coll, strlen(p.coll));
    cur_item ci = {.json = &cur};
    if (!editable(l)) {
        msh_resp_error(r, 404, "unknown collection '%s' (or a live one: no history here)", p.coll);
    } else {
        find_item(l, p.fid, &ci);
        if (!ci.found)
            msh_buf_reset(&cur);
        msh_buf_putc(&cur, 0);
        hist_ctx h = {&b, 0, 0};
        bool more = false;
        msh_err err;
        msh_buf_printf(&b, "{\"collection\":\"%s\",\"id\":%llu,\"versions\":[", p.coll, (unsigned long long)p.fid);
        msh_rc rc = msh_edit_history(store, p.coll, (int64_t)p.fid, after, (int)limit,
                                     ci.found ? (const char *)cur.data : NULL, hist_cb, &h, &more, &err);
        if (rc) {
            msh_resp_error(r, rc == MSH_ENOTFOUND ? 404 : 500, "%s", err.msg);
        } else {
            char base[320];
            msh_req_base_url(r, base, sizeof base);
            msh_buf_printf(&b, "],\"numberReturned\":%d,\"links\":[", h.n);
            if (more)
                msh_buf_printf(&b, "{\"href\":\"%s/ogc/collections/%s/items/%llu/history?limit=%ld&cursor=%lld\","
                                   "\"rel\":\"next\",\"type\":\"application/json\"}",
                               base, p.coll, (unsigned long long)p.fid, limit, (long long)h.last);
            msh_buf_printf(&b, "]}\n");
            r->resp.cache_control = "private, no-store";
            msh_resp_buf(r, 200, "application/json", &b);
        }
    }
    msh_edit_service_unlock(r->app);
    msh_catalog_release(cat);
    msh_buf_free(&cur);
    msh_buf_free(&b);
}

bool ogc_item_asof(msh_req *r, msh_layer *l, uint64_t fid, const char *asof)
{
    int64_t t;
    msh_err err;
    if (msh_time_parse(asof, strlen(asof), MSH_TIME_DATE, &t, &err)) {
        msh_resp_error(r, 400, "asof: %s", err.msg);
        return true;
    }
    if (!r->app->edit || !editable(l))
        return false;
    char *json = NULL;
    bool absent = false;
    msh_store *store = msh_edit_service_lock(r->app);
    msh_rc rc = msh_edit_asof(store, l->info.name, (int64_t)fid, t, &json, &absent, &err);
    msh_edit_service_unlock(r->app);
    if (rc) {
        msh_resp_error(r, 500, "%s", err.msg);
    } else if (absent) {
        msh_resp_error(r, 404, "feature %llu of '%s' did not exist at %s", (unsigned long long)fid, l->info.name, asof);
    } else if (json) {
        r->resp.cache_control = "no-cache";
        msh_resp_body(r, 200, CT_GEOJSON, json, strlen(json));
    }
    free(json);
    return rc || absent || json; /* false: unchanged since then, the current item answers */
}
