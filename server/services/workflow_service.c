/* workflow_service.c: the workflow rules on the edit path (workflow_service.h). */
#include "services/workflow_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "core/msh_constants.h"
#include "core/msh_le.h"
#include "core/msh_pip.h"
#include "live/counting.h"
#include "core/msh_tilemath.h"
#include "services/report_service.h"
#include "workflow/zone_contacts.h"

msh_rc msh_workflow_start(msh_app *app, msh_store *s, msh_err *err)
{
    bool created = false;
    msh_rc rc = msh_wo_ensure_layer(s, &created, err);
    if (!rc && created)
        fprintf(stderr, "mashaer: edits: created the %s layer (empty)\n", MSH_WO_LAYER);
    if (!rc && !(rc = msh_ct_ensure_layer(s, &created, err)) && created)
        fprintf(stderr, "mashaer: edits: created the %s layer (empty)\n", MSH_CT_LAYER);
    int added = 0;
    if (!rc && !(rc = msh_zones_ensure_contacts(s, &added, err)) && added)
        fprintf(stderr, "mashaer: edits: added service_company and contact to %s\n", MSH_ZONES_LAYER);
    return rc ? rc : msh_report_service_start(app, s, err);
}

bool msh_workflow_geometry_optional(const char *coll)
{
    return !strcmp(coll, MSH_WO_LAYER) || !strcmp(coll, MSH_CT_LAYER);
}

/* ---- looking up an asset and the other work orders on it ------------------------------------ */

typedef struct {
    const msh_layer_info *li;
    int field;               /* asset_id in li */
    const char *id;
    size_t len;
    uint64_t skip;           /* a work order's own id (0: none) */
    const msh_feature *hit;  /* the asset; or for work orders: an active one */
    msh_feature copy;
} scan_ctx;

static bool id_is(const scan_ctx *s, const msh_feature *f)
{
    const msh_value *v = &f->values[s->field];
    return v->type == MSH_FT_STRING && v->len == s->len && !memcmp(v->u.s, s->id, s->len);
}

static int asset_cb(void *ud, const msh_feature *f)
{
    scan_ctx *s = ud;
    if (!id_is(s, f))
        return 0;
    s->copy = *f; /* the geometry and values live in the layer, kept by the caller's catalog */
    s->hit = &s->copy;
    return 1;
}

static int active_cb(void *ud, const msh_feature *f)
{
    scan_ctx *s = ud;
    if (f->id == s->skip || !id_is(s, f) || !msh_wo_active(s->li, f->values))
        return 0;
    s->copy = *f;
    s->hit = &s->copy;
    return 1;
}

/* The first feature of `l` whose asset_id is `id` and that `cb` accepts, or NULL. */
static const msh_feature *scan(msh_layer *l, const char *id, size_t len, uint64_t skip, msh_feature_fn cb,
                               scan_ctx *s)
{
    memset(s, 0, sizeof *s);
    s->li = &l->info;
    s->field = msh_wf_field(&l->info, "asset_id");
    s->id = id;
    s->len = len;
    s->skip = skip;
    double world[4] = {0, 0, 1, 1};
    if (s->field < 0 || l->vt->query(l, world, l->info.maxzoom, cb, s))
        return NULL;
    return s->hit;
}

/* ---- the rules ----------------------------------------------------------------------------- */

/* A WKB Point (little-endian) at the feature's first vertex. */
static void point_of(const msh_feature *f, uint8_t out[21])
{
    double lon = 0, lat = 0;
    if (f->geom.npts)
        msh_world_to_lonlat(f->geom.xy[0], f->geom.xy[1], &lon, &lat);
    uint64_t x, y;
    memcpy(&x, &lon, 8);
    memcpy(&y, &lat, 8);
    out[0] = 1; /* little-endian */
    msh_le32_put(out + 1, 1);
    msh_le64_put(out + 5, x);
    msh_le64_put(out + 13, y);
}

static bool work_order(msh_catalog *cat, const msh_layer *l, msh_edit_kind kind, const msh_value *before,
                       msh_value *after, const uint8_t **wkb, size_t *wkb_len, uint64_t self, int64_t now_ms,
                       msh_workflow_write *w)
{
    const char *id;
    size_t len;
    if (!msh_wo_asset_id(&l->info, after, &id, &len, &w->ref))
        return false;
    msh_layer *assets = msh_catalog_find(cat, MSH_ASSETS_LAYER, strlen(MSH_ASSETS_LAYER));
    scan_ctx sa, sw;
    const msh_feature *asset = assets ? scan(assets, id, len, 0, asset_cb, &sa) : NULL;
    if (!asset)
        return msh_wf_refuse(&w->ref, "unknown_asset", "asset_id: no asset '%.*s' in %s", (int)(len > 100 ? 100 : len),
                             id, MSH_ASSETS_LAYER);
    int ks = msh_wf_field(&assets->info, "status");
    const char *status = NULL;
    for (size_t i = 0; ks >= 0 && msh_asset_statuses[i]; i++)
        if (msh_wf_value_is(&asset->values[ks], msh_asset_statuses[i]))
            status = msh_asset_statuses[i];
    bool others = scan((msh_layer *)l, id, len, self, active_cb, &sw) != NULL;
    if (!msh_wo_check(&l->info, kind == MSH_EDIT_CREATE ? NULL : before, after, status, others, now_ms, &w->plan,
                      &w->ref))
        return false;
    if (kind == MSH_EDIT_CREATE && !*wkb) {
        point_of(asset, w->point);
        *wkb = w->point;
        *wkb_len = sizeof w->point;
    }
    if (!w->plan.asset_status || ks < 0)
        return true;
    w->extra_values = malloc(assets->info.nfields * sizeof *w->extra_values);
    if (!w->extra_values)
        return msh_wf_refuse(&w->ref, "out_of_memory", "out of memory");
    memcpy(w->extra_values, asset->values, assets->info.nfields * sizeof *w->extra_values);
    w->extra_values[ks] = (msh_value){.type = MSH_FT_STRING, .len = (uint32_t)strlen(w->plan.asset_status),
                                      .u.s = w->plan.asset_status};
    w->has_extra = true;
    w->extra_field = ks;
    w->extra = (msh_edit_op){.kind = MSH_EDIT_UPDATE, .li = &assets->info, .fid = (int64_t)asset->id,
                             .values = w->extra_values};
    return true;
}

/* ---- reports ---------------------------------------------------------------------------------- */

typedef struct {
    double x, y;         /* world units */
    int field;           /* zone_id */
    char zone[MSH_REPORT_ID_MAX + 1];
} zone_ctx;

static int zone_cb(void *ud, const msh_feature *f)
{
    zone_ctx *z = ud;
    if (f->geom.type != MSH_GT_POLYGON)
        return 0;
    bool in = false;
    const double *xy = f->geom.xy;
    for (uint32_t p = 0; p < f->geom.nparts; p++) {
        uint32_t n = MSH_PART_LEN(f->geom.parts[p]);
        in ^= msh_ring_odd(xy, n, z->x, z->y);
        xy += 2 * n;
    }
    const msh_value *v = &f->values[z->field];
    if (!in || v->type != MSH_FT_STRING)
        return 0;
    snprintf(z->zone, sizeof z->zone, "%.*s", (int)(v->len > MSH_REPORT_ID_MAX ? MSH_REPORT_ID_MAX : v->len), v->u.s);
    return 1;
}

/* The service zone (`zone_id`) holding the point (lon, lat), into z->zone ("" when none). */
static void zone_at(msh_catalog *cat, double lon, double lat, zone_ctx *z)
{
    memset(z, 0, sizeof *z);
    msh_layer *zl = msh_catalog_find(cat, "service_zones", 13);
    if (!zl || (z->field = msh_wf_field(&zl->info, "zone_id")) < 0)
        return;
    msh_lonlat_to_world(lon, lat, &z->x, &z->y);
    double box[4] = {z->x, z->y, z->x, z->y};
    zl->vt->query(zl, box, zl->info.maxzoom, zone_cb, z);
}

static bool report(msh_catalog *cat, const msh_layer *l, msh_edit_kind kind, const msh_value *before,
                   msh_value *after, const uint8_t *wkb, size_t wkb_len, int64_t now_ms, const msh_workflow_by *by,
                   msh_workflow_write *w)
{
    zone_ctx z;
    memset(&z, 0, sizeof z);
    if (kind == MSH_EDIT_CREATE || wkb) { /* one point, and its zone */
        msh_geom_buf gb;
        msh_geom_buf_init(&gb, 16);
        msh_err err;
        bool one = wkb && !msh_wkb_read(wkb, wkb_len, &gb, &err);
        msh_geom g = msh_geom_buf_view(&gb);
        one = one && g.type == MSH_GT_POINT && g.npts == 1;
        if (one && kind == MSH_EDIT_CREATE)
            zone_at(cat, g.xy[0], g.xy[1], &z);
        msh_geom_buf_free(&gb);
        if (!one)
            return msh_wf_refuse(&w->ref, "invalid_value", "geometry: a report is one Point (where it happened)");
    }
    msh_report_ctx ctx = {by ? by->who : "", z.zone[0] ? z.zone : NULL, now_ms,
                          msh_report_service_sla(by->app), by->link};
    return msh_report_check(&l->info, kind == MSH_EDIT_CREATE ? NULL : before, after, &ctx, &w->rplan, &w->ref);
}

/* ---- cleaning tasks ------------------------------------------------------------------------ */

#define CT_AREA_M 15.0 /* a route task's area: the route's box widened by this (the sweep buffer) */

typedef struct {
    uint64_t fid;
    double bb[4]; /* world units */
    bool hit;
} route_ctx;

static int route_cb(void *ud, const msh_feature *f)
{
    route_ctx *c = ud;
    if (f->id != c->fid)
        return 0;
    c->hit = true;
    const double *p = f->geom.xy;
    size_t n = 0;
    for (uint32_t i = 0; i < f->geom.nparts; i++)
        n += MSH_PART_LEN(f->geom.parts[i]);
    for (size_t i = 0; i < n; i++) {
        c->bb[0] = fmin(c->bb[0], p[2 * i]);
        c->bb[1] = fmin(c->bb[1], p[2 * i + 1]);
        c->bb[2] = fmax(c->bb[2], p[2 * i]);
        c->bb[3] = fmax(c->bb[3], p[2 * i + 1]);
    }
    return 1;
}

/* The box `bb` (world units) as a WKB Polygon in lon/lat. */
static void box_polygon(const double bb[4], uint8_t out[MSH_WKB_BOX_LEN])
{
    double ll[4];
    msh_world_to_lonlat(bb[0], bb[3], &ll[0], &ll[1]); /* world y grows southwards */
    msh_world_to_lonlat(bb[2], bb[1], &ll[2], &ll[3]);
    msh_wkb_box(ll, out);
}

static bool cleaning_task(msh_catalog *cat, const msh_layer *l, msh_edit_kind kind, const msh_value *before,
                          msh_value *after, const uint8_t **wkb, size_t *wkb_len, msh_workflow_write *w)
{
    int64_t route;
    bool create = kind == MSH_EDIT_CREATE;
    if (!msh_ct_check(&l->info, create ? NULL : before, after, *wkb != NULL, &route, &w->ref))
        return false;
    if (!route)
        return true; /* an area task: its geometry is the client's (a PATCH keeps it) */
    msh_layer *rl = msh_catalog_find(cat, MSH_CT_ROUTES_LAYER, strlen(MSH_CT_ROUTES_LAYER));
    route_ctx c = {(uint64_t)route, {INFINITY, INFINITY, -INFINITY, -INFINITY}, false};
    double world[4] = {0, 0, 1, 1};
    if (rl)
        rl->vt->query(rl, world, rl->info.maxzoom, route_cb, &c);
    if (!c.hit)
        return msh_wf_refuse(&w->ref, "unknown_route", "route: no feature %lld in %s", (long long)route,
                             MSH_CT_ROUTES_LAYER);
    double lon, lat;
    msh_world_to_lonlat(0.5, (c.bb[1] + c.bb[3]) / 2, &lon, &lat);
    double pad = CT_AREA_M / (MSH_EARTH_CIRCUMFERENCE * cos(lat * M_PI / 180.0));
    double bb[4] = {c.bb[0] - pad, c.bb[1] - pad, c.bb[2] + pad, c.bb[3] + pad};
    box_polygon(bb, w->area);
    *wkb = w->area;
    *wkb_len = sizeof w->area;
    return true;
}

bool msh_workflow_prepare(msh_catalog *cat, const msh_layer *l, msh_edit_kind kind, const msh_value *before,
                          msh_value *after, const uint8_t **wkb, size_t *wkb_len, int64_t now_ms, uint64_t self,
                          const msh_workflow_by *by, msh_workflow_write *w)
{
    memset(w, 0, sizeof *w);
    if (kind == MSH_EDIT_DELETE)
        return true;
    if (!strcmp(l->info.name, MSH_ASSETS_LAYER))
        return msh_asset_check(&l->info, after, &w->ref);
    if (!strcmp(l->info.name, MSH_WO_LAYER))
        return work_order(cat, l, kind, before, after, wkb, wkb_len, self, now_ms, w);
    if (!strcmp(l->info.name, MSH_REPORTS_LAYER))
        return report(cat, l, kind, before, after, *wkb, *wkb_len, now_ms, by, w);
    if (!strcmp(l->info.name, MSH_CT_LAYER))
        return cleaning_task(cat, l, kind, before, after, wkb, wkb_len, w);
    if (!strcmp(l->info.name, MSH_COUNTING_LAYER) && *wkb && /* every crossing tests each segment */
        msh_counting_wkb_vertices(*wkb, *wkb_len, MSH_COUNTING_MAX_VERTICES) < 0) {
        w->ref.kind = MSH_WF_INVALID;
        w->ref.code = "too_many_vertices";
        snprintf(w->ref.description, sizeof w->ref.description, "a counting line has at most %d vertices",
                 MSH_COUNTING_MAX_VERTICES);
        return false;
    }
    return true;
}

void msh_workflow_write_free(msh_workflow_write *w)
{
    free(w->extra_values);
    w->extra_values = NULL;
}

void msh_workflow_refuse(msh_req *r, const msh_wf_refusal *ref)
{
    int status = ref->kind == MSH_WF_CONFLICT ? 409 : ref->code && !strcmp(ref->code, "out_of_memory") ? 500 : 400;
    msh_buf b;
    msh_buf_init(&b, 8192);
    msh_buf_printf(&b, "{\"code\":\"%s\",\"description\":\"", ref->code ? ref->code : "invalid");
    msh_buf_json_str(&b, ref->description);
    if (ref->kind == MSH_WF_CONFLICT) {
        msh_buf_printf(&b, "\",\"from\":\"");
        msh_buf_json_str(&b, ref->from);
        msh_buf_printf(&b, "\",\"to\":\"");
        msh_buf_json_str(&b, ref->to);
        msh_buf_printf(&b, "\"");
    } else {
        msh_buf_printf(&b, "\"");
    }
    if (ref->allowed) {
        msh_buf_printf(&b, ",\"allowed\":[");
        for (size_t i = 0; ref->allowed[i]; i++) {
            msh_buf_printf(&b, "%s\"", i ? "," : "");
            msh_buf_json_str(&b, ref->allowed[i]);
            msh_buf_putc(&b, '"');
        }
        msh_buf_putc(&b, ']');
    }
    /* the house's error members too, for clients reading the other answers of the write path */
    msh_buf_printf(&b, ",\"error\":\"");
    msh_buf_json_str(&b, ref->description);
    msh_buf_printf(&b, "\",\"status\":%d}\n", status);
    r->resp.etag[0] = 0;
    r->resp.cache_control = "no-store";
    msh_resp_body(r, status, "application/json", b.data, b.len);
    msh_buf_free(&b);
}
