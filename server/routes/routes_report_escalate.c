/* routes_report_escalate.c: a report made an incident or a work order, linked both ways.
 *
 *   POST /ogc/collections/reports/items/{fid}/escalate   (ops)
 *     {"to":"incident", "severity":"high", "kind":"medical", "description":"..."}   kind, severity optional
 *     {"to":"work_order", "asset_id":"WP-0012", "fault":"...", "note":"..."}       fault optional
 *   -> 201 with the new item, Location its URL; the report then names it (`incident` = its id, or
 *      `work_order` = its fid) and the work order names the report (`report`); an incident carries it
 *      in its id, INC-REP-{fid}, and its description ("report {fid}: ...").
 *   -> 409 `already_escalated` naming the existing link; 400 for a bad body (the workflow's rules of the
 *      new item too: an unknown asset); 404 for no such report.
 *
 * Order: escalations are one at a time (a mutex); the report is read, then the new item is made
 * through its own path (an incident through the live log like POST .../incidents/items; a work
 * order through the committer like POST .../work_orders/items, with the asset it couples), then the
 * report's link is written through the committer (the report's rules let an escalation set it once).
 * Two writes, not one transaction: the live log and the store are two stores. Should the server stop
 * between them, the new item exists and names the report (INC-REP-{fid}, `report`), and a second
 * escalate finds it there and answers 409 naming it, so a report is never escalated twice.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "core/msh_time.h"
#include "feature_in.h"
#include "http/auth.h"
#include "json_in.h"
#include "live/feeds.h"
#include "live/live.h"
#include "live/live_ops.h"
#include "overlay_layer.h"
#include "routes/events.h"
#include "routes/ogc.h"
#include "routes/reports_hooks.h"
#include "routes/routes.h"
#include "services/edit_service.h"
#include "services/workflow_service.h"
#include "workflow/work_orders.h"

static pthread_mutex_t escalate_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- a write the server makes (the work order, the report's link), through the committer ------ */

typedef struct {
    msh_edit_job job;
    msh_app *app;
    json_t *props;            /* the properties to write (a create), or to set on the item (an update) */
    msh_feature_in fin;
    json_t *doc;
    char who[MSH_TOKEN_NAME_MAX + 1];
    msh_role role;
    bool link;
    msh_workflow_write wf;
    bool refused;             /* wf.ref says why */
    char msg[sizeof(msh_err) + 64]; /* or this (a 404, a store error) */
    msh_buf item;             /* the item as published */
    char owner[MSH_REPORT_ID_MAX + 1];
} sjob;

static bool sjob_check(msh_edit_job *jb, msh_catalog *cat, msh_layer *l, const msh_feature *cur, msh_edit_op *op)
{
    sjob *j = (sjob *)jb;
    msh_err err;
    if (!l || (jb->kind != MSH_EDIT_CREATE && !cur)) {
        snprintf(j->msg, sizeof j->msg, "no %s %llu", jb->coll, (unsigned long long)jb->fid);
        return false;
    }
    json_t *props = cur ? msh_feature_in_props(&l->info, cur->values) : json_object();
    if (!props || json_object_update(props, j->props) ||
        !(j->doc = json_pack("{s:s,s:o}", "type", "Feature", "properties", props))) {
        snprintf(j->msg, sizeof j->msg, "out of memory");
        return false;
    }
    if (msh_feature_in_read(j->doc, &l->info, false, &j->fin, &err)) {
        snprintf(j->msg, sizeof j->msg, "%s", err.msg);
        return false;
    }
    msh_edit_op o = {jb->kind, &l->info, cur ? (int64_t)cur->id : 0, j->fin.values, NULL, 0, j->who,
                     msh_role_name(j->role), msh_now_ms(), NULL};
    msh_workflow_by by = {j->app, j->who, j->link};
    if (!msh_workflow_prepare(cat, l, jb->kind, cur ? cur->values : NULL, j->fin.values, &o.wkb, &o.wkb_len, o.at_ms,
                              cur ? cur->id : 0, &by, &j->wf)) {
        j->refused = true;
        return false;
    }
    if (j->wf.has_extra) /* a work order's asset */
        msh_edit_job_couple(jb, &j->wf.extra, j->wf.extra_field, &o);
    *op = o;
    return true;
}

static void sjob_answer(msh_edit_job *jb, msh_layer *l, const msh_feature *f)
{
    sjob *j = (sjob *)jb;
    if (!f)
        return;
    ogc_feature_json(&j->item, &l->info, f);
    msh_reports_owner(&l->info, f->values, j->owner, sizeof j->owner);
}

/* Write `props` to `coll` (a create when fid is 0) as the caller; true when written (j->job.res). */
static bool server_write(msh_req *r, sjob *j, const char *coll, uint64_t fid, json_t *props, bool link)
{
    memset(j, 0, sizeof *j);
    j->job.coll = coll;
    j->job.fid = fid;
    j->job.kind = fid ? MSH_EDIT_UPDATE : MSH_EDIT_CREATE;
    j->job.check = sjob_check;
    j->job.answer = sjob_answer;
    j->app = r->app;
    j->props = props;
    j->link = link;
    j->role = msh_auth_who(r, j->who, sizeof j->who);
    msh_buf_init(&j->item, MSH_MAX_BODY);
    msh_edit_service_submit(r->app, &j->job);
    return j->job.written;
}

static void sjob_free(sjob *j)
{
    msh_feature_in_free(&j->fin);
    json_decref(j->doc);
    msh_workflow_write_free(&j->wf);
    msh_buf_free(&j->item);
}

/* The answer of a write that did not happen. */
static void not_written(msh_req *r, sjob *j)
{
    if (j->refused)
        msh_workflow_refuse(r, &j->wf.ref);
    else if (j->msg[0])
        msh_resp_error(r, strncmp(j->msg, "no ", 3) ? 400 : 404, "%s", j->msg);
    else
        msh_resp_error(r, 500, "%s", j->job.err.msg);
}

static void change_event(msh_app *app, const char *coll, const char *op, const msh_edit_result *res)
{
    if (!app->events)
        return;
    const double *bb = res->touched;
    char json[512];
    snprintf(json, sizeof json,
             "{\"collection\":\"%s\",\"id\":%lld,\"op\":\"%s\",\"version\":%llu,\"bbox\":[%.9f,%.9f,%.9f,%.9f]}", coll,
             (long long)res->fid, op, (unsigned long long)res->version, bb[0], bb[1], bb[2], bb[3]);
    msh_events_publish_in(app->events, MSH_EV_CHANGE, coll, (bb[0] + bb[2]) / 2, (bb[1] + bb[3]) / 2, json);
}

/* ---- the report, and what it links to ------------------------------------------------------- */

typedef struct {
    bool found;
    char category[40], text[MSH_FEED_TEXT_MAX + 1], incident[MSH_REPORT_ID_MAX + 1], work_order[MSH_REPORT_ID_MAX + 1];
    double lon, lat;
} report_t;

static void text_of(const msh_layer_info *li, const msh_value *v, const char *name, char *out, size_t cap)
{
    int k = msh_wf_field(li, name);
    out[0] = 0;
    if (k >= 0 && v[k].type == MSH_FT_STRING)
        snprintf(out, cap, "%.*s", (int)v[k].len, v[k].u.s);
}

/* A work order already made from report `fid` (a crash between the two writes), into out. */
typedef struct {
    int field;
    char want[24];
    uint64_t hit;
} wo_scan;

static int wo_cb(void *ud, const msh_feature *f)
{
    wo_scan *w = ud;
    const msh_value *v = &f->values[w->field];
    if (v->type != MSH_FT_STRING || v->len != strlen(w->want) || memcmp(v->u.s, w->want, v->len))
        return 0;
    w->hit = f->id;
    return 1;
}

static void read_report(msh_app *app, uint64_t fid, report_t *rep)
{
    memset(rep, 0, sizeof *rep);
    msh_catalog *cat = msh_app_catalog(app);
    msh_layer *l = msh_catalog_find(cat, MSH_REPORTS_LAYER, strlen(MSH_REPORTS_LAYER));
    msh_feature f;
    if (l && msh_overlay_find(l, fid, &f) && f.geom.npts) {
        rep->found = true;
        text_of(&l->info, f.values, "category", rep->category, sizeof rep->category);
        text_of(&l->info, f.values, "text", rep->text, sizeof rep->text);
        text_of(&l->info, f.values, "incident", rep->incident, sizeof rep->incident);
        text_of(&l->info, f.values, "work_order", rep->work_order, sizeof rep->work_order);
        msh_world_to_lonlat(f.geom.xy[0], f.geom.xy[1], &rep->lon, &rep->lat);
    }
    msh_layer *wo = msh_catalog_find(cat, MSH_WO_LAYER, strlen(MSH_WO_LAYER));
    wo_scan w = {wo ? msh_wf_field(&wo->info, "report") : -1, "", 0};
    snprintf(w.want, sizeof w.want, "%llu", (unsigned long long)fid);
    double world[4] = {0, 0, 1, 1};
    if (rep->found && !rep->work_order[0] && w.field >= 0 && !wo->vt->query(wo, world, wo->info.maxzoom, wo_cb, &w) &&
        w.hit)
        snprintf(rep->work_order, sizeof rep->work_order, "%llu", (unsigned long long)w.hit);
    msh_catalog_release(cat);
}

/* "report 12 (medical): <text>", cut at a character boundary to fit an incident's description. */
static void description(uint64_t fid, const report_t *rep, const char *given, char *out, size_t cap)
{
    char all[sizeof rep->text + sizeof rep->category + 48];
    if (given)
        snprintf(all, sizeof all, "%.*s", (int)(sizeof all - 1), given);
    else
        snprintf(all, sizeof all, "report %llu (%s): %s", (unsigned long long)fid, rep->category, rep->text);
    size_t n = strlen(all) < cap - 1 ? strlen(all) : cap - 1;
    memcpy(out, all, n);
    out[n] = 0;
    while (n && ((unsigned char)out[n - 1] & 0xC0) == 0x80) /* a cut sequence: drop its continuation bytes */
        out[--n] = 0;
    if (n && ((unsigned char)out[n - 1] & 0xC0) == 0xC0)
        out[--n] = 0;
}

static const char *kind_for(const char *category)
{
    static const char *const same[] = {"medical", "lost_person", "crowding", NULL};
    for (int i = 0; same[i]; i++)
        if (!strcmp(category, same[i]))
            return same[i];
    return "other";
}

/* Link the report to what was made (its incident or work order), answering 500 if that fails. */
static void link_report(msh_req *r, uint64_t fid, const char *field, const char *value)
{
    sjob j;
    json_t *props = json_pack("{s:s}", field, value);
    if (!props || !server_write(r, &j, MSH_REPORTS_LAYER, fid, props, true)) {
        char msg[sizeof j.job.err.msg + 300];
        snprintf(msg, sizeof msg, "the %s %s was made but the report's link could not be written (%s): escalate again to "
                                  "have it named", field, value, props ? j.job.err.msg : "out of memory");
        msh_resp_error(r, 500, "%s", msg);
    } else {
        msh_reports_event(r->app, j.owner, "update", (const char *)j.item.data, j.item.len);
    }
    if (props)
        sjob_free(&j);
    json_decref(props);
}

static void to_incident(msh_req *r, uint64_t fid, const report_t *rep, json_t *body)
{
    const char *kind = json_string_value(json_object_get(body, "kind"));
    const char *sev = json_string_value(json_object_get(body, "severity"));
    char desc[MSH_FEED_TEXT_MAX + 1];
    description(fid, rep, json_string_value(json_object_get(body, "description")), desc, sizeof desc);
    json_t *f = json_pack("{s:s,s:{s:s,s:[f,f]},s:{s:s,s:s,s:s}}", "type", "Feature", "geometry", "type", "Point",
                          "coordinates", rep->lon, rep->lat, "properties", "kind", kind ? kind : kind_for(rep->category),
                          "severity", sev ? sev : "medium", "description", desc);
    char *text = f ? json_dumps(f, JSON_COMPACT) : NULL;
    json_decref(f);
    msh_feed_rec rec;
    char why[300];
    if (!text) {
        msh_resp_error(r, 500, "out of memory");
    } else if (msh_ops_parse_incident(text, strlen(text), msh_now_ms(), &rec, why, sizeof why)) {
        msh_resp_error(r, 400, "%s", why);
    } else {
        snprintf(rec.id, sizeof rec.id, "INC-REP-%llu", (unsigned long long)fid);
        rec.id_len = (uint8_t)strlen(rec.id);
        msh_route_live_create_incident(r, &rec);
        if (r->resp.status == 201)
            link_report(r, fid, "incident", rec.id);
        else if (r->resp.status == 409) /* made before, its link not written (the server stopped between) */
            msh_resp_error(r, 409, "report %llu was escalated already: incident %s", (unsigned long long)fid, rec.id);
    }
    free(text);
}

static void to_work_order(msh_req *r, uint64_t fid, const report_t *rep, json_t *body)
{
    const char *asset = json_string_value(json_object_get(body, "asset_id"));
    const char *fault = json_string_value(json_object_get(body, "fault"));
    const char *note = json_string_value(json_object_get(body, "note"));
    char desc[MSH_FEED_TEXT_MAX + 1], rid[24];
    description(fid, rep, fault, desc, sizeof desc);
    snprintf(rid, sizeof rid, "%llu", (unsigned long long)fid);
    if (!asset) {
        msh_resp_error(r, 400, "asset_id: required to make a work order (the asset that is faulty)");
        return;
    }
    json_t *props = json_pack("{s:s,s:s,s:s}", "asset_id", asset, "fault", desc, "report", rid);
    if (props && note)
        json_object_set_new(props, "note", json_string(note));
    sjob j;
    if (!props) {
        msh_resp_error(r, 500, "out of memory");
        return;
    }
    if (!server_write(r, &j, MSH_WO_LAYER, 0, props, false)) {
        not_written(r, &j);
    } else {
        char base[320], wid[24];
        msh_req_base_url(r, base, sizeof base);
        snprintf(r->resp.location, sizeof r->resp.location, "%s/ogc/collections/%s/items/%lld", base, MSH_WO_LAYER,
                 (long long)j.job.res.fid);
        r->resp.cache_control = "no-store";
        msh_buf_putc(&j.item, '\n');
        msh_resp_buf(r, 201, "application/geo+json", &j.item);
        change_event(r->app, MSH_WO_LAYER, "create", &j.job.res);
        if (j.job.has_extra)
            change_event(r->app, MSH_ASSETS_LAYER, "update", &j.job.extra_res);
        snprintf(wid, sizeof wid, "%lld", (long long)j.job.res.fid);
        link_report(r, fid, "work_order", wid);
    }
    sjob_free(&j);
    json_decref(props);
}

void msh_route_report_escalate(msh_req *r, const char *rest)
{
    uint64_t fid = 0;
    int d = 0;
    for (; *rest >= '0' && *rest <= '9' && d < 18; rest++, d++)
        fid = fid * 10 + (uint64_t)(*rest - '0');
    if (!d || strcmp(rest, "/escalate")) {
        msh_resp_error(r, 404, "no such resource: %.80s", r->path);
        return;
    }
    if (!r->app->edit) {
        msh_resp_error(r, 503, "edits are off on this server");
        return;
    }
    json_t *body = NULL;
    msh_err err;
    const char *to = NULL;
    if (r->body_too_large || msh_json_in(r->body ? r->body : "", r->body_len, MSH_JSON_IN_MAX_DEPTH, &body, &err) ||
        !json_is_object(body)) {
        msh_resp_error(r, r->body_too_large ? 413 : 400, "the body: a JSON object {\"to\": \"incident\" | \"work_order\", ...}");
    } else if (!(to = json_string_value(json_object_get(body, "to"))) ||
               (strcmp(to, "incident") && strcmp(to, "work_order"))) {
        msh_resp_error(r, 400, "to: \"incident\" or \"work_order\"");
    } else {
        pthread_mutex_lock(&escalate_mu);
        report_t rep;
        read_report(r->app, fid, &rep);
        if (!rep.found) {
            msh_resp_error(r, 404, "no report %llu", (unsigned long long)fid);
        } else if (rep.incident[0] || rep.work_order[0]) {
            char msg[400];
            snprintf(msg, sizeof msg, "report %llu was escalated already: %s %s", (unsigned long long)fid,
                     rep.incident[0] ? "incident" : "work_order", rep.incident[0] ? rep.incident : rep.work_order);
            msh_buf b;
            msh_buf_init(&b, 4096);
            msh_buf_printf(&b, "{\"code\":\"already_escalated\",\"error\":\"%s\",\"%s\":\"%s\",\"status\":409}\n", msg,
                           rep.incident[0] ? "incident" : "work_order", rep.incident[0] ? rep.incident : rep.work_order);
            msh_resp_buf(r, 409, "application/json", &b);
            msh_buf_free(&b);
        } else if (!strcmp(to, "incident")) {
            to_incident(r, fid, &rep, body);
        } else {
            to_work_order(r, fid, &rep, body);
        }
        pthread_mutex_unlock(&escalate_mu);
    }
    json_decref(body);
}
