/* routes_reports.c: reports' photos, and the reports' hooks into the OGC paths (reports_hooks.h).
 *
 *   POST /ogc/collections/reports/items/{fid}/attachments        the image as the body -> 201, Location
 *   GET  /ogc/collections/reports/items/{fid}/attachments        the report's photos (JSON)
 *   GET  /ogc/collections/reports/items/{fid}/attachments/{aid}  the photo (?size=thumb: its thumbnail)
 *
 * Who: an ops token any report; a reporter token its own reports only; for anyone else, or another
 * reporter's report, the report does not exist (404, never 403: a report's existence is not told).
 * A photo goes: the report found and owned -> the body's size (the route row caps it at
 * MSH_PHOTO_MAX_BYTES: 413, refused from Content-Length before a byte is read) -> Content-Type
 * image/jpeg or image/png (else 415) -> the token's photo budget (--report-photo-mb an hour: 429 +
 * Retry-After) -> importers/photo.h: structure, full decode, thumbnail (400 naming the fault; the
 * budget given back) -> services/report_service.h: stored with its thumbnail in one transaction,
 * at most --report-photos per report (409) -> 201. Photos are served with their type, a strong ETag
 * (a hash of the bytes), `X-Content-Type-Options: nosniff` and `private` caching.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/auth.h"
#include "http/route_table.h"
#include "owned_layer.h"
#include "overlay_layer.h"
#include "routes/events.h"
#include "routes/reports_hooks.h"
#include "routes/routes.h"
#include "services/report_service.h"
#include "workflow/wf_rules.h"

void msh_reports_owner(const msh_layer_info *li, const msh_value *vals, char *out, size_t cap)
{
    out[0] = 0;
    int k = strcmp(li->name, MSH_REPORTS_LAYER) ? -1 : msh_wf_field(li, "reporter");
    if (k >= 0 && vals && vals[k].type == MSH_FT_STRING)
        snprintf(out, cap, "%.*s", (int)vals[k].len, vals[k].u.s);
}

void msh_reports_event(msh_app *app, const char *owner, const char *op, const char *item, size_t len)
{
    if (!app->events)
        return;
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_buf_printf(&b, "{\"collection\":\"%s\",\"op\":\"%s\",\"item\":", MSH_REPORTS_LAYER, op);
    msh_buf_append(&b, item, len);
    msh_buf_putc(&b, '}');
    msh_buf_putc(&b, 0);
    if (!msh_buf_error(&b))
        msh_events_publish_owned(app->events, MSH_EV_REPORT, owner, (const char *)b.data);
    msh_buf_free(&b);
}

bool msh_reports_may_create(msh_req *r, const char *coll, msh_edit_kind kind, const char *who)
{
    int retry;
    if (kind != MSH_EDIT_CREATE || strcmp(coll, MSH_REPORTS_LAYER) || msh_report_service_may_create(r->app, who, &retry))
        return true;
    msh_resp_error(r, 429, "this token created its reports of the minute (--report-rate); try again in %d s", retry);
    r->resp.retry_after = (unsigned)retry;
    return false;
}

msh_layer *msh_reports_own_view(msh_req *r, msh_layer *l)
{
    char who[MSH_TOKEN_NAME_MAX + 1];
    if (strcmp(l->info.name, MSH_REPORTS_LAYER) || msh_auth_who(r, who, sizeof who) != MSH_ROLE_REPORTER ||
        msh_req_arg(r, "asof")) /* the audit holds every report: asof stays with ops */
        return NULL;
    msh_layer *view = NULL;
    msh_err err;
    return msh_owned_layer_new(l, "reporter", who, &view, &err) ? NULL : view;
}

/* ---- photos ---------------------------------------------------------------------------------- */

typedef struct {
    uint64_t fid;
    bool has_aid;
    int64_t aid;
} ppath;

/* "{fid}/attachments" or "{fid}/attachments/{aid}" */
static bool parse(const char *rest, ppath *p)
{
    memset(p, 0, sizeof *p);
    int d = 0;
    for (; isdigit((unsigned char)*rest) && d < 18; rest++, d++)
        p->fid = p->fid * 10 + (uint64_t)(*rest - '0');
    if (!d || strncmp(rest, "/attachments", 12))
        return false;
    rest += 12;
    if (!*rest)
        return true;
    if (*rest++ != '/')
        return false;
    p->has_aid = true;
    for (d = 0; isdigit((unsigned char)*rest) && d < 18; rest++, d++)
        p->aid = p->aid * 10 + (*rest - '0');
    return d && !*rest;
}

/* Is report `fid` there for this caller (ops: any; a reporter: its own)? Else a 404 is answered. */
static bool report_for(msh_req *r, uint64_t fid, char *who, size_t cap)
{
    msh_role role = msh_auth_who(r, who, cap);
    msh_catalog *cat = msh_app_catalog(r->app);
    msh_layer *l = msh_catalog_find(cat, MSH_REPORTS_LAYER, strlen(MSH_REPORTS_LAYER));
    msh_feature f;
    char owner[MSH_REPORT_ID_MAX + 1] = "";
    bool found = l && msh_overlay_find(l, fid, &f);
    if (found)
        msh_reports_owner(&l->info, f.values, owner, sizeof owner);
    bool ok = found && (role >= MSH_ROLE_OPS || (role == MSH_ROLE_REPORTER && !strcmp(owner, who)));
    msh_catalog_release(cat);
    if (!ok)
        msh_resp_error(r, 404, "no report %llu", (unsigned long long)fid);
    return ok;
}

static void upload(msh_req *r, const ppath *p, const char *who)
{
    if (r->body_too_large) {
        msh_resp_error(r, 413, "a photo is at most %u bytes", MSH_PHOTO_MAX_BYTES);
        return;
    }
    msh_photo_type type = msh_photo_ctype(msh_req_header(r, "Content-Type"));
    if (!type) {
        msh_resp_error(r, 415, "send the photo itself as the body with Content-Type image/jpeg or image/png");
        return;
    }
    int retry;
    if (!msh_report_service_may_upload(r->app, who, r->body_len, &retry)) {
        msh_resp_error(r, 429, "this token sent its photo bytes of the hour (--report-photo-mb); try again in %d s",
                       retry);
        r->resp.retry_after = (unsigned)retry;
        return;
    }
    msh_photo_info info;
    uint8_t *thumb = NULL;
    size_t thumb_len = 0;
    msh_photo_type thumb_type = MSH_PHOTO_NONE;
    msh_err err;
    int64_t aid = 0;
    msh_rc rc = msh_photo_read((const uint8_t *)r->body, r->body_len, type, &info, &thumb, &thumb_len, &thumb_type,
                               &err);
    if (!rc)
        rc = msh_report_photo_put(r->app, (int64_t)p->fid, type, (const uint8_t *)r->body, r->body_len, thumb_type,
                                  thumb, thumb_len, &info, who, &aid, &err);
    free(thumb);
    if (rc) {
        msh_report_service_refund(r->app, who, r->body_len);
        bool photo = rc == MSH_EFORMAT || (rc == MSH_ETOOBIG && !strstr(err.msg, "photos already"));
        msh_resp_error(r, photo ? 400 : rc == MSH_ETOOBIG ? 409 : rc == MSH_ENOMEM ? 503 : 500, "%s", err.msg);
        return;
    }
    char base[320];
    msh_req_base_url(r, base, sizeof base);
    snprintf(r->resp.location, sizeof r->resp.location, "%s/ogc/collections/%s/items/%llu/attachments/%lld", base,
             MSH_REPORTS_LAYER, (unsigned long long)p->fid, (long long)aid);
    msh_buf b;
    msh_buf_init(&b, 4096);
    msh_buf_printf(&b, "{\"id\":%lld,\"report\":%llu,\"type\":\"%s\",\"bytes\":%zu,\"width\":%d,\"height\":%d,"
                       "\"href\":\"%s\",\"thumbnail\":\"%s?size=thumb\"}\n",
                   (long long)aid, (unsigned long long)p->fid, msh_photo_mime(type), r->body_len, info.width,
                   info.height, r->resp.location, r->resp.location);
    r->resp.cache_control = "no-store";
    msh_resp_buf(r, 201, "application/json", &b);
    msh_buf_free(&b);
}

static void list(msh_req *r, const ppath *p)
{
    char base[320];
    msh_req_base_url(r, base, sizeof base);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_buf_printf(&b, "{\"report\":%llu,\"attachments\":", (unsigned long long)p->fid);
    msh_err err;
    if (msh_report_photo_list(r->app, (int64_t)p->fid, base, &b, &err)) {
        msh_resp_error(r, 500, "%s", err.msg);
    } else {
        msh_buf_printf(&b, "}\n");
        r->resp.cache_control = "private, no-cache";
        msh_resp_buf(r, 200, "application/json", &b);
    }
    msh_buf_free(&b);
}

static void serve_photo(msh_req *r, const ppath *p)
{
    const char *size = msh_req_arg(r, "size");
    if (size && strcmp(size, "thumb")) {
        msh_resp_error(r, 400, "size: 'thumb' for the thumbnail (longest side %d px), or leave it out",
                       MSH_PHOTO_THUMB_SIDE);
        return;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    char ctype[32];
    uint64_t hash = 0;
    msh_err err;
    msh_rc rc = msh_report_photo_get(r->app, (int64_t)p->fid, p->aid, size != NULL, &data, &len, ctype, sizeof ctype,
                                     &hash, &err);
    if (rc) {
        msh_resp_error(r, rc == MSH_ENOTFOUND ? 404 : 500, "%s", err.msg);
        return;
    }
    snprintf(r->resp.etag, sizeof r->resp.etag, "\"a%016llx%s\"", (unsigned long long)hash, size ? "-t" : "");
    r->resp.cache_control = "private, max-age=3600"; /* a photo never changes under its id */
    r->resp.status = 200;
    r->resp.ctype = msh_photo_mime(msh_photo_ctype(ctype));
    msh_buf_reset(&r->resp.body);
    if (msh_buf_append(&r->resp.body, data, len))
        msh_resp_error(r, 500, "out of memory");
    else
        msh_resp_header(r, "X-Content-Type-Options", "nosniff");
    free(data);
}

void msh_route_report_photos(msh_req *r, const char *rest)
{
    ppath p;
    char who[MSH_TOKEN_NAME_MAX + 1];
    if (!parse(rest, &p)) {
        msh_resp_error(r, 404, "no such resource: %.80s", r->path);
        return;
    }
    if (!r->app->edit || !r->app->reports) {
        msh_resp_error(r, 503, "reports are off on this server (no edit connection)");
        return;
    }
    if (!report_for(r, p.fid, who, sizeof who))
        return;
    bool post = !strcmp(r->method, "POST");
    if (post && p.has_aid) {
        r->resp.allow = MSH_M_GET;
        msh_resp_error(r, 405, "a photo is added to .../attachments");
    } else if (post) {
        upload(r, &p, who);
    } else if (p.has_aid) {
        serve_photo(r, &p);
    } else {
        list(r, &p);
    }
}
