/* walkreq.c: shared pieces of the walking routes (see walkreq.h). */
#include "routes/walkreq.h"

#include <math.h>
#include <string.h>

#include "core/msh_tilemath.h"

msh_netview *msh_walk_view(msh_req *r)
{
    msh_netview *v = msh_walknet_view(r->app->walknet);
    if (!v)
        msh_resp_error(r, 503, "no walking network: import a line layer named %s",
                       r->app->walknet ? msh_walknet_layers(r->app->walknet) : "walkways");
    return v;
}

bool msh_walk_max_snap(msh_req *r, double *out)
{
    const char *s = msh_req_arg(r, "max_snap");
    *out = MSH_WALK_SNAP_DEFAULT;
    msh_err err;
    if (s && msh_param_number("max_snap", s, 1, 5000, out, &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        return false;
    }
    return true;
}

const msh_phrases *msh_walk_lang(msh_req *r)
{
    const char *s = msh_req_arg(r, "lang");
    const msh_phrases *ph = msh_phrases_find(s ? s : "en");
    if (!ph)
        msh_resp_error(r, 400, "'lang' must be one of %s", msh_phrases_langs());
    return ph;
}

bool msh_walk_snap(msh_req *r, const msh_graph *g, const char *what, double lon, double lat, double max_m,
                   msh_snap *out)
{
    if (msh_graph_snap(g, lon, lat, max_m, out))
        return true;
    msh_snap far;
    if (msh_graph_snap(g, lon, lat, 50000, &far))
        msh_resp_error(r, 422, "the %s (%.6f,%.6f) is %.0f m from the nearest walkway; the limit is %.0f m (max_snap)",
                       what, lon, lat, far.off_m, max_m);
    else
        msh_resp_error(r, 422, "the %s (%.6f,%.6f) is not near the walking network (over 50 km away)", what, lon, lat);
    return false;
}

void msh_walk_feature_point(const msh_feature *f, double lon, double lat, double *plon, double *plat)
{
    double qx, qy, best = INFINITY;
    msh_lonlat_to_world(lon, lat, &qx, &qy);
    uint32_t bi = 0;
    for (uint32_t i = 0; i < f->geom.npts; i++) {
        double dx = f->geom.xy[2 * i] - qx, dy = f->geom.xy[2 * i + 1] - qy, d = dx * dx + dy * dy;
        if (d < best) {
            best = d;
            bi = i;
        }
    }
    msh_world_to_lonlat(f->geom.xy[2 * bi], f->geom.xy[2 * bi + 1], plon, plat);
}

static int field_index(const msh_layer_info *info, const char *name)
{
    for (uint32_t i = 0; i < info->nfields; i++)
        if (!strcmp(info->fields[i].name, name))
            return (int)i;
    return -1;
}

typedef struct find_ctx {
    int field;
    const char *id;
    size_t idlen;
    int elon, elat;   /* entrance fields, -1 if none */
    const msh_graph *g;
    bool found;
    double lon, lat;
} find_ctx;

static int find_feature(void *ud, const msh_feature *f)
{
    find_ctx *c = ud;
    const msh_value *v = &f->values[c->field];
    if (v->type != MSH_FT_STRING || v->len != c->idlen || memcmp(v->u.s, c->id, c->idlen))
        return 0;
    c->found = true;
    if (c->elon >= 0 && c->elat >= 0 && f->values[c->elon].type == MSH_FT_REAL &&
        f->values[c->elat].type == MSH_FT_REAL) {
        c->lon = f->values[c->elon].u.d;
        c->lat = f->values[c->elat].u.d;
        return 1;
    }
    if (f->geom.type == MSH_GT_POINT) {
        msh_world_to_lonlat(f->geom.xy[0], f->geom.xy[1], &c->lon, &c->lat);
        return 1;
    }
    /* the vertex of the outline nearest the network */
    double best = INFINITY;
    for (uint32_t i = 0; i < f->geom.npts; i++) {
        double lon, lat;
        msh_snap s;
        msh_world_to_lonlat(f->geom.xy[2 * i], f->geom.xy[2 * i + 1], &lon, &lat);
        if (msh_graph_snap(c->g, lon, lat, 5000, &s) && s.off_m < best) {
            best = s.off_m;
            c->lon = lon;
            c->lat = lat;
        }
    }
    if (!isfinite(best))
        msh_world_to_lonlat(f->geom.xy[0], f->geom.xy[1], &c->lon, &c->lat);
    return 1;
}

bool msh_walk_place(msh_req *r, const msh_graph *g, const char *what, const msh_place *p, double *lon, double *lat)
{
    if (p->kind == MSH_PLACE_POINT) {
        *lon = p->lon;
        *lat = p->lat;
        return true;
    }
    bool camp = p->kind == MSH_PLACE_CAMP;
    const char *layer = camp ? "camps" : "assets", *key = camp ? "camp_id" : "asset_id";
    msh_catalog *cat = msh_app_catalog(r->app);
    msh_layer *l = msh_catalog_find(cat, layer, strlen(layer));
    int field = l ? field_index(&l->info, key) : -1;
    if (field < 0 || l->info.fields[field].type != MSH_FT_STRING) {
        msh_catalog_release(cat);
        msh_resp_error(r, 404, "the %s names a %s, but no layer '%s' with a text field '%s' is loaded", what,
                       camp ? "camp" : "asset", layer, key);
        return false;
    }
    find_ctx c = {field, p->id, strlen(p->id), field_index(&l->info, "entrance_lon"),
                  field_index(&l->info, "entrance_lat"), g, false, 0, 0};
    const double world[4] = {0, 0, 1, 1};
    l->vt->query(l, world, l->info.maxzoom, find_feature, &c);
    msh_catalog_release(cat);
    if (!c.found) {
        msh_resp_error(r, 404, "the %s: no %s with %s '%s'", what, camp ? "camp" : "asset", key, p->id);
        return false;
    }
    *lon = c.lon;
    *lat = c.lat;
    return true;
}
