/* sim_data.c: the simulator's inputs: site polygons, camps, gates, clinics, cleaning routes and
 * service zones read with GDAL/OGR, and the walkway graph with its shortest-path trees. */
#include <gdal.h>
#include <stdarg.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sim_int.h"

/* Centres from docs/HAJJ-FACTS.md (lat, lon), and the rough boxes there (Muzdalifah widened to
 * hold its centre), used when sites.geojson lacks a site. */
static const struct {
    const char *id;
    double lat, lon;
    double lat0, lat1, lon0, lon1;
} k_sites[SITE_N] = {
    {"haram", 21.4225, 39.8262, 21.417, 21.428, 39.820, 39.833},
    {"jamarat", 21.4214, 39.8728, 21.416, 21.428, 39.856, 39.874},
    {"mina", 21.4133, 39.8933, 21.413, 21.432, 39.873, 39.898},
    {"muzdalifah", 21.3925, 39.9378, 21.378, 21.400, 39.905, 39.945},
    {"arafat", 21.3547, 39.9839, 21.345, 21.370, 39.975, 40.005},
};

static int site_of(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < SITE_N; i++)
        if (!strcasecmp(name, k_sites[i].id))
            return i;
    return -1;
}

static void note(msh_sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(msh_sim *s, const char *fmt, ...)
{
    if (!s->o.note)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->o.note(s->o.ud, msg);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* ---------------------------------------------------------------- OGR reading */

typedef msh_rc (*feat_fn)(msh_sim *s, void *ud, OGRFeatureH f, OGRGeometryH g, msh_err *err);

static const char *fstr(OGRFeatureH f, const char *name)
{
    int i = OGR_F_GetFieldIndex(f, name);
    if (i < 0 || !OGR_F_IsFieldSetAndNotNull(f, i))
        return NULL;
    return OGR_F_GetFieldAsString(f, i);
}

static int fnum(OGRFeatureH f, const char *name, double *v)
{
    int i = OGR_F_GetFieldIndex(f, name);
    if (i < 0 || !OGR_F_IsFieldSetAndNotNull(f, i))
        return 0;
    *v = OGR_F_GetFieldAsDouble(f, i);
    return 1;
}

/* Read the first layer of `path`, geometry in EPSG:4326 lon/lat order, calling fn per feature. A
 * missing optional file is a note and *found = 0. */
static msh_rc read_layer(msh_sim *s, const char *path, int required, feat_fn fn, void *ud, int *found, msh_err *err)
{
    msh_rc rc = MSH_OK;
    GDALDatasetH ds = NULL;
    OGRSpatialReferenceH dst = NULL, src = NULL;
    OGRCoordinateTransformationH ct = NULL;
    struct stat st;
    *found = 0;
    if (stat(path, &st) != 0) {
        if (required)
            return msh_err_set(err, MSH_ENOTFOUND, "%s: no such file", path);
        note(s, "%s not found: using a fallback", path);
        return MSH_OK;
    }
    CPLErrorReset();
    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) {
        rc = msh_err_set(err, MSH_EFORMAT, "%s: cannot open as a vector source: %s", path,
                         *CPLGetLastErrorMsg() ? CPLGetLastErrorMsg() : "unknown format");
        goto out;
    }
    if (GDALDatasetGetLayerCount(ds) < 1) {
        rc = msh_err_set(err, MSH_EFORMAT, "%s: no layer", path);
        goto out;
    }
    OGRLayerH lyr = GDALDatasetGetLayer(ds, 0);
    if (OGR_L_GetSpatialRef(lyr)) {
        src = OSRClone(OGR_L_GetSpatialRef(lyr));
        dst = OSRNewSpatialReference(NULL);
        OSRImportFromEPSG(dst, 4326);
        OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
        OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
        if (!OSRIsSame(src, dst)) {
            ct = OCTNewCoordinateTransformation(src, dst);
            if (!ct) {
                rc = msh_err_set(err, MSH_EFORMAT, "%s: cannot transform its CRS to EPSG:4326", path);
                goto out;
            }
        }
    }
    *found = 1;
    OGR_L_ResetReading(lyr);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (g && !OGR_G_IsEmpty(g)) {
            if (ct && OGR_G_Transform(g, ct) != OGRERR_NONE) {
                OGR_F_Destroy(f);
                continue;
            }
            rc = fn(s, ud, f, g, err);
        }
        OGR_F_Destroy(f);
        if (rc)
            goto out;
    }
out:
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    if (src)
        OSRDestroySpatialReference(src);
    if (dst)
        OSRDestroySpatialReference(dst);
    if (ds)
        GDALClose(ds);
    return rc;
}

static void path_in(char *out, size_t cap, const msh_sim *s, const char *name)
{
    snprintf(out, cap, "%s/%s", s->o.data_dir ? s->o.data_dir : ".", name);
}

/* The largest polygon part of g (a Polygon or MultiPolygon). */
static OGRGeometryH main_polygon(OGRGeometryH g)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbPolygon)
        return g;
    if (t != wkbMultiPolygon)
        return NULL;
    OGRGeometryH best = NULL;
    double ba = -1;
    for (int i = 0; i < OGR_G_GetGeometryCount(g); i++) {
        OGRGeometryH p = OGR_G_GetGeometryRef(g, i);
        double a = OGR_G_Area(p);
        if (a > ba)
            ba = a, best = p;
    }
    return best;
}

static void centroid(OGRGeometryH g, double *lon, double *lat)
{
    OGRGeometryH c = OGR_G_CreateGeometry(wkbPoint);
    if (OGR_G_Centroid(g, c) == OGRERR_NONE) {
        *lon = OGR_G_GetX(c, 0);
        *lat = OGR_G_GetY(c, 0);
    } else {
        OGREnvelope e;
        OGR_G_GetEnvelope(g, &e);
        *lon = (e.MinX + e.MaxX) / 2;
        *lat = (e.MinY + e.MaxY) / 2;
    }
    OGR_G_DestroyGeometry(c);
}

/* ---------------------------------------------------------------- sites */

static msh_rc poly_from(msh_sim *s, OGRGeometryH g, sim_poly *p, msh_err *err)
{
    OGRGeometryH poly = main_polygon(g);
    if (!poly || OGR_G_GetGeometryCount(poly) < 1)
        return MSH_OK;
    OGRGeometryH ring = OGR_G_GetGeometryRef(poly, 0);
    int n = OGR_G_GetPointCount(ring);
    if (n < 3)
        return MSH_OK;
    sim_pt *pts = malloc(sizeof *pts * (size_t)n);
    if (!pts)
        return msh_err_set(err, MSH_ENOMEM, "out of memory reading a polygon");
    free(p->ring);
    p->ring = pts;
    p->n = (uint32_t)n;
    p->minx = p->miny = INFINITY;
    p->maxx = p->maxy = -INFINITY;
    for (int i = 0; i < n; i++) {
        pts[i] = sim_to_xy(s, OGR_G_GetX(ring, i), OGR_G_GetY(ring, i));
        p->minx = fmin(p->minx, pts[i].x), p->maxx = fmax(p->maxx, pts[i].x);
        p->miny = fmin(p->miny, pts[i].y), p->maxy = fmax(p->maxy, pts[i].y);
    }
    double lon, lat;
    centroid(poly, &lon, &lat);
    p->c = sim_to_xy(s, lon, lat);
    return MSH_OK;
}

static msh_rc on_site(msh_sim *s, void *ud, OGRFeatureH f, OGRGeometryH g, msh_err *err)
{
    (void)ud;
    const char *id = fstr(f, "site_id");
    int k = site_of(id);
    if (k < 0)
        k = site_of(fstr(f, "site"));
    if (k < 0)
        k = site_of(fstr(f, "name"));
    if (k < 0)
        return MSH_OK;
    return poly_from(s, g, &s->site[k], err);
}

static msh_rc box_site(msh_sim *s, int k, msh_err *err)
{
    sim_pt *r = malloc(sizeof *r * 4);
    if (!r)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    r[0] = sim_to_xy(s, k_sites[k].lon0, k_sites[k].lat0);
    r[1] = sim_to_xy(s, k_sites[k].lon1, k_sites[k].lat0);
    r[2] = sim_to_xy(s, k_sites[k].lon1, k_sites[k].lat1);
    r[3] = sim_to_xy(s, k_sites[k].lon0, k_sites[k].lat1);
    sim_poly *p = &s->site[k];
    p->ring = r;
    p->n = 4;
    p->minx = r[0].x, p->maxx = r[2].x, p->miny = r[0].y, p->maxy = r[2].y;
    p->c = sim_to_xy(s, k_sites[k].lon, k_sites[k].lat);
    return MSH_OK;
}

int sim_poly_contains(const sim_poly *p, sim_pt q)
{
    if (q.x < p->minx || q.x > p->maxx || q.y < p->miny || q.y > p->maxy)
        return 0;
    int in = 0;
    for (uint32_t i = 0, j = p->n - 1; i < p->n; j = i++) {
        sim_pt a = p->ring[i], b = p->ring[j];
        if ((a.y > q.y) != (b.y > q.y) && q.x < (b.x - a.x) * (q.y - a.y) / (b.y - a.y) + a.x)
            in = !in;
    }
    return in;
}

sim_pt sim_poly_random(const sim_poly *p, sim_rng *r)
{
    for (int i = 0; i < 200; i++) {
        sim_pt q = {sim_uniform(r, p->minx, p->maxx), sim_uniform(r, p->miny, p->maxy)};
        if (sim_poly_contains(p, q))
            return q;
    }
    return p->c;
}

/* ---------------------------------------------------------------- camps, assets, routes, zones */

static msh_rc on_camp(msh_sim *s, void *ud, OGRFeatureH f, OGRGeometryH g, msh_err *err)
{
    uint32_t *cap = ud;
    int site = site_of(fstr(f, "site"));
    OGRGeometryH poly = main_polygon(g);
    if ((site != SITE_MINA && site != SITE_ARAFAT) || !poly)
        return MSH_OK;
    if (s->ncamps == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 256;
        sim_camp *c = realloc(s->camps, sizeof *c * nc);
        if (!c)
            return msh_err_set(err, MSH_ENOMEM, "out of memory reading camps");
        s->camps = c;
        *cap = nc;
    }
    sim_camp *c = &s->camps[s->ncamps++];
    double lon, lat, capacity = 0;
    centroid(poly, &lon, &lat);
    c->c = sim_to_xy(s, lon, lat);
    OGREnvelope e;
    OGR_G_GetEnvelope(poly, &e);
    c->w = (e.MaxX - e.MinX) * s->kx;
    c->h = (e.MaxY - e.MinY) * s->ky;
    if (!fnum(f, "capacity", &capacity) || capacity <= 0)
        capacity = 1000;
    c->capacity = capacity;
    c->site = site;
    return MSH_OK;
}

typedef struct asset_caps {
    uint32_t gates, clinics;
} asset_caps;

static msh_rc on_asset(msh_sim *s, void *ud, OGRFeatureH f, OGRGeometryH g, msh_err *err)
{
    asset_caps *cap = ud;
    const char *kind = fstr(f, "kind");
    if (!kind || wkbFlatten(OGR_G_GetGeometryType(g)) != wkbPoint)
        return MSH_OK;
    sim_pt p = sim_to_xy(s, OGR_G_GetX(g, 0), OGR_G_GetY(g, 0));
    if (!strcmp(kind, "gate")) {
        if (s->ngates == cap->gates) {
            uint32_t nc = cap->gates ? cap->gates * 2 : 64;
            sim_gate *a = realloc(s->gates, sizeof *a * nc);
            if (!a)
                return msh_err_set(err, MSH_ENOMEM, "out of memory reading gates");
            s->gates = a;
            cap->gates = nc;
        }
        sim_gate *gt = &s->gates[s->ngates];
        memset(gt, 0, sizeof *gt);
        const char *id = fstr(f, "asset_id");
        if (!id)
            id = fstr(f, "id");
        if (!id)
            return MSH_OK;
        copy_str(gt->id, sizeof gt->id, id);
        gt->p = p;
        gt->site = site_of(fstr(f, "site"));
        double c;
        gt->capacity = fnum(f, "capacity", &c) && c > 0 ? (int64_t)c : -1;
        s->ngates++;
    } else if (!strcmp(kind, "clinic")) {
        if (s->nclinics == cap->clinics) {
            uint32_t nc = cap->clinics ? cap->clinics * 2 : 16;
            sim_pt *a = realloc(s->clinics, sizeof *a * nc);
            if (!a)
                return msh_err_set(err, MSH_ENOMEM, "out of memory reading clinics");
            s->clinics = a;
            cap->clinics = nc;
        }
        s->clinics[s->nclinics++] = p;
    }
    return MSH_OK;
}

static msh_rc on_route(msh_sim *s, void *ud, OGRFeatureH f, OGRGeometryH g, msh_err *err)
{
    uint32_t *cap = ud;
    if (wkbFlatten(OGR_G_GetGeometryType(g)) == wkbMultiLineString && OGR_G_GetGeometryCount(g) > 0)
        g = OGR_G_GetGeometryRef(g, 0);
    if (wkbFlatten(OGR_G_GetGeometryType(g)) != wkbLineString || OGR_G_GetPointCount(g) < 2)
        return MSH_OK;
    if (s->nlines == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 64;
        sim_line *a = realloc(s->lines, sizeof *a * nc);
        if (!a)
            return msh_err_set(err, MSH_ENOMEM, "out of memory reading cleaning routes");
        s->lines = a;
        *cap = nc;
    }
    sim_line *l = &s->lines[s->nlines];
    memset(l, 0, sizeof *l);
    int n = OGR_G_GetPointCount(g);
    l->pts = malloc(sizeof *l->pts * (size_t)n);
    if (!l->pts)
        return msh_err_set(err, MSH_ENOMEM, "out of memory reading cleaning routes");
    for (int i = 0; i < n; i++)
        l->pts[i] = sim_to_xy(s, OGR_G_GetX(g, i), OGR_G_GetY(g, i));
    l->n = (uint32_t)n;
    copy_str(l->id, sizeof l->id, fstr(f, "route_id"));
    copy_str(l->name, sizeof l->name, fstr(f, "crew"));
    l->site = site_of(fstr(f, "site"));
    s->nlines++;
    return MSH_OK;
}

static msh_rc on_zone(msh_sim *s, void *ud, OGRFeatureH f, OGRGeometryH g, msh_err *err)
{
    uint32_t *cap = ud;
    OGRGeometryH poly = main_polygon(g);
    const char *id = fstr(f, "zone_id");
    if (!poly || !id)
        return MSH_OK;
    if (s->nsensors == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 32;
        sim_sensor *a = realloc(s->sensors, sizeof *a * nc);
        if (!a)
            return msh_err_set(err, MSH_ENOMEM, "out of memory reading service zones");
        s->sensors = a;
        *cap = nc;
    }
    sim_sensor *z = &s->sensors[s->nsensors++];
    memset(z, 0, sizeof *z);
    snprintf(z->id, sizeof z->id, "SENS-%s", id);
    double lon, lat;
    centroid(poly, &lon, &lat);
    z->p = sim_to_xy(s, lon, lat);
    z->site = site_of(fstr(f, "site"));
    return MSH_OK;
}

/* ---------------------------------------------------------------- the walkway graph */

typedef struct node_map {
    uint64_t *keys; /* 0 = empty */
    uint32_t *vals;
    uint32_t cap;   /* power of two */
    uint32_t n;
} node_map;

static uint64_t mix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

typedef struct net_build {
    node_map map;
    sim_pt *pos;
    uint32_t npos, pcap;
    uint32_t *ea, *eb;
    float *ew;
    uint32_t ne, ecap;
} net_build;

static msh_rc map_grow(node_map *m, msh_err *err)
{
    uint32_t nc = m->cap ? m->cap * 2 : 1u << 15;
    uint64_t *k = calloc(nc, sizeof *k);
    uint32_t *v = malloc(sizeof *v * nc);
    if (!k || !v) {
        free(k);
        free(v);
        return msh_err_set(err, MSH_ENOMEM, "out of memory building the walkway graph");
    }
    for (uint32_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        uint32_t h = (uint32_t)mix64(m->keys[i]) & (nc - 1);
        while (k[h])
            h = (h + 1) & (nc - 1);
        k[h] = m->keys[i];
        v[h] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = k, m->vals = v, m->cap = nc;
    return MSH_OK;
}

/* The node for `key` (never 0), created at `p` when new. */
static msh_rc node_get(net_build *b, uint64_t key, sim_pt p, uint32_t *out, msh_err *err)
{
    if ((b->map.n + 1) * 2 > b->map.cap && map_grow(&b->map, err))
        return MSH_ENOMEM;
    uint32_t h = (uint32_t)mix64(key) & (b->map.cap - 1);
    while (b->map.keys[h]) {
        if (b->map.keys[h] == key) {
            *out = b->map.vals[h];
            return MSH_OK;
        }
        h = (h + 1) & (b->map.cap - 1);
    }
    if (b->npos == b->pcap) {
        uint32_t nc = b->pcap ? b->pcap * 2 : 4096;
        sim_pt *a = realloc(b->pos, sizeof *a * nc);
        if (!a)
            return msh_err_set(err, MSH_ENOMEM, "out of memory building the walkway graph");
        b->pos = a, b->pcap = nc;
    }
    b->pos[b->npos] = p;
    b->map.keys[h] = key;
    b->map.vals[h] = b->npos;
    b->map.n++;
    *out = b->npos++;
    return MSH_OK;
}

static uint64_t coord_key(double lon, double lat)
{
    uint64_t ulon = (uint64_t)(int64_t)llround(lon * 1e7 + 1.8e9) & 0xffffffffull;
    uint64_t ulat = (uint64_t)(int64_t)llround(lat * 1e7 + 9e8) & 0x7fffffffull;
    return (1ull << 63) | (ulon << 31) | ulat;
}

static msh_rc edge_add(net_build *b, uint32_t a, uint32_t c, double w, msh_err *err)
{
    if (a == c)
        return MSH_OK;
    if (b->ne == b->ecap) {
        uint32_t nc = b->ecap ? b->ecap * 2 : 8192;
        uint32_t *x = realloc(b->ea, sizeof *x * nc);
        if (x)
            b->ea = x;
        uint32_t *y = realloc(b->eb, sizeof *y * nc);
        if (y)
            b->eb = y;
        float *z = realloc(b->ew, sizeof *z * nc);
        if (z)
            b->ew = z;
        if (!x || !y || !z)
            return msh_err_set(err, MSH_ENOMEM, "out of memory building the walkway graph");
        b->ecap = nc;
    }
    b->ea[b->ne] = a, b->eb[b->ne] = c, b->ew[b->ne] = (float)(w > 0.01 ? w : 0.01);
    b->ne++;
    return MSH_OK;
}

/* One line: its ends are the from_node/to_node ids when given, interior vertices (and ends
 * without ids) are keyed by their coordinates; length_m is spread over the parts. */
static msh_rc add_line(msh_sim *s, net_build *b, OGRGeometryH g, int has_ids, int64_t from, int64_t to, double len,
                       msh_err *err)
{
    int n = OGR_G_GetPointCount(g);
    if (n < 2)
        return MSH_OK;
    /* Only the streets inside the sites' box: the network reaches far into western Makkah, where
     * no leg of the schedule goes, and routes then never leave the box. */
    for (int i = 0; i < n; i++) {
        double x = OGR_G_GetX(g, i), y = OGR_G_GetY(g, i);
        if (x < s->site_bbox[0] || y < s->site_bbox[1] || x > s->site_bbox[2] || y > s->site_bbox[3])
            return MSH_OK;
    }
    double geo = 0;
    sim_pt prev = sim_to_xy(s, OGR_G_GetX(g, 0), OGR_G_GetY(g, 0));
    for (int i = 1; i < n; i++) {
        sim_pt p = sim_to_xy(s, OGR_G_GetX(g, i), OGR_G_GetY(g, i));
        geo += sim_dist(prev, p);
        prev = p;
    }
    double scale = len > 0 && geo > 0 ? len / geo : 1.0;
    uint32_t a;
    double lon = OGR_G_GetX(g, 0), lat = OGR_G_GetY(g, 0);
    uint64_t key = has_ids && from > 0 ? (uint64_t)from : coord_key(lon, lat);
    if (node_get(b, key, sim_to_xy(s, lon, lat), &a, err))
        return MSH_ENOMEM;
    for (int i = 1; i < n; i++) {
        lon = OGR_G_GetX(g, i), lat = OGR_G_GetY(g, i);
        key = i == n - 1 && has_ids && to > 0 ? (uint64_t)to : coord_key(lon, lat);
        uint32_t c;
        if (node_get(b, key, sim_to_xy(s, lon, lat), &c, err))
            return MSH_ENOMEM;
        if (edge_add(b, a, c, sim_dist(b->pos[a], b->pos[c]) * scale, err))
            return MSH_ENOMEM;
        a = c;
    }
    return MSH_OK;
}

static msh_rc on_walkway(msh_sim *s, void *ud, OGRFeatureH f, OGRGeometryH g, msh_err *err)
{
    net_build *b = ud;
    double from = 0, to = 0, len = 0;
    int has_ids = fnum(f, "from_node", &from) && fnum(f, "to_node", &to);
    if (!fnum(f, "length_m", &len))
        len = 0;
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbLineString)
        return add_line(s, b, g, has_ids, (int64_t)from, (int64_t)to, len, err);
    if (t == wkbMultiLineString)
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
            if (add_line(s, b, OGR_G_GetGeometryRef(g, i), 0, 0, 0, 0, err))
                return MSH_ENOMEM;
    return MSH_OK;
}

/* Binary heap of (distance, node) for Dijkstra, with lazy deletion. */
typedef struct heap_item {
    double d;
    uint32_t v;
} heap_item;

static void heap_push(heap_item *h, uint32_t *n, heap_item it)
{
    uint32_t i = (*n)++;
    while (i) {
        uint32_t p = (i - 1) / 2;
        if (h[p].d <= it.d)
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = it;
}

static heap_item heap_pop(heap_item *h, uint32_t *n)
{
    heap_item top = h[0], last = h[--(*n)];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1].d < h[c].d)
            c++;
        if (last.d <= h[c].d)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n)
        h[i] = last;
    return top;
}

/* Shortest-path tree to `root` (the graph is undirected, so also from it) on lengths w. */
static msh_rc dijkstra(const sim_net *n, const float *w, uint32_t root, int32_t *pred, msh_err *err)
{
    msh_rc rc = MSH_OK;
    double *dist = malloc(sizeof *dist * n->n);
    uint32_t m = n->off[n->n]; /* each push is one edge relaxation: at most m + 1 in the heap */
    heap_item *h = malloc(sizeof *h * ((size_t)m + 1));
    if (!dist || !h) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory routing the walkway graph");
        goto out;
    }
    for (uint32_t i = 0; i < n->n; i++)
        dist[i] = INFINITY, pred[i] = -1;
    uint32_t hn = 0;
    dist[root] = 0;
    heap_push(h, &hn, (heap_item){0, root});
    while (hn) {
        heap_item it = heap_pop(h, &hn);
        if (it.d > dist[it.v])
            continue;
        for (uint32_t e = n->off[it.v]; e < n->off[it.v + 1]; e++) {
            uint32_t u = n->to[e];
            double d = it.d + w[e];
            if (d < dist[u]) {
                dist[u] = d;
                pred[u] = (int32_t)it.v;
                heap_push(h, &hn, (heap_item){d, u});
            }
        }
    }
out:
    free(dist);
    free(h);
    return rc;
}

uint32_t sim_net_nearest(const sim_net *n, sim_pt p)
{
    uint32_t best = UINT32_MAX;
    double bd = INFINITY;
    for (uint32_t i = 0; i < n->n; i++) {
        if (!n->main[i])
            continue;
        double dx = n->pos[i].x - p.x, dy = n->pos[i].y - p.y, d = dx * dx + dy * dy;
        if (d < bd)
            bd = d, best = i;
    }
    return best;
}

static int cmp_y(const void *a, const void *b, void *ctx)
{
    const sim_pt *pos = ctx;
    double ya = pos[*(const uint32_t *)a].y, yb = pos[*(const uint32_t *)b].y;
    return (ya > yb) - (ya < yb);
}

/* Insertion sort by y (a few hundred candidates at most are sorted, so no qsort_r needed). */
static void sort_by_y(uint32_t *v, uint32_t n, const sim_pt *pos)
{
    for (uint32_t i = 1; i < n; i++) {
        uint32_t x = v[i], j = i;
        while (j > 0 && cmp_y(&v[j - 1], &x, (void *)pos) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static msh_rc net_finish(msh_sim *s, net_build *b, msh_err *err)
{
    msh_rc rc = MSH_OK;
    sim_net *n = &s->net;
    uint32_t *queue = NULL, *comp = NULL, *cand = NULL;
    float *jw = NULL;
    n->n = b->npos;
    n->pos = b->pos;
    b->pos = NULL;
    n->off = calloc((size_t)n->n + 1, sizeof *n->off);
    n->to = malloc(sizeof *n->to * (size_t)b->ne * 2 + 1);
    n->w = malloc(sizeof *n->w * (size_t)b->ne * 2 + 1);
    n->main = calloc(n->n ? n->n : 1, 1);
    s->scratch = malloc(sizeof *s->scratch * (n->n ? n->n : 1));
    queue = malloc(sizeof *queue * (n->n ? n->n : 1));
    comp = malloc(sizeof *comp * (n->n ? n->n : 1));
    cand = malloc(sizeof *cand * (n->n ? n->n : 1));
    if (!n->off || !n->to || !n->w || !n->main || !s->scratch || !queue || !comp || !cand) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory building the walkway graph");
        goto out;
    }
    /* CSR, both directions */
    for (uint32_t e = 0; e < b->ne; e++)
        n->off[b->ea[e] + 1]++, n->off[b->eb[e] + 1]++;
    for (uint32_t i = 0; i < n->n; i++)
        n->off[i + 1] += n->off[i];
    uint32_t *fill = comp; /* reuse as write cursors */
    for (uint32_t i = 0; i < n->n; i++)
        fill[i] = n->off[i];
    for (uint32_t e = 0; e < b->ne; e++) {
        uint32_t a = b->ea[e], c = b->eb[e];
        n->to[fill[a]] = c, n->w[fill[a]++] = b->ew[e];
        n->to[fill[c]] = a, n->w[fill[c]++] = b->ew[e];
    }
    /* the largest connected component */
    for (uint32_t i = 0; i < n->n; i++)
        comp[i] = UINT32_MAX;
    uint32_t best = UINT32_MAX, best_size = 0;
    for (uint32_t i = 0; i < n->n; i++) {
        if (comp[i] != UINT32_MAX)
            continue;
        uint32_t qh = 0, qt = 0;
        queue[qt++] = i;
        comp[i] = i;
        while (qh < qt) {
            uint32_t v = queue[qh++];
            for (uint32_t e = n->off[v]; e < n->off[v + 1]; e++)
                if (comp[n->to[e]] == UINT32_MAX)
                    comp[n->to[e]] = i, queue[qt++] = n->to[e];
        }
        if (qt > best_size)
            best_size = qt, best = i;
    }
    if (best_size < 2) {
        note(s, "the walkway network has no connected part: every leg walks straight");
        n->n = 0;
        goto out;
    }
    for (uint32_t i = 0; i < n->n; i++)
        n->main[i] = comp[i] == best;

    /* roots: the Haram, the Jamarat, up to four entries inside Mina */
    n->haram = sim_net_nearest(n, sim_to_xy(s, k_sites[SITE_HARAM].lon, k_sites[SITE_HARAM].lat));
    n->jamarat = sim_net_nearest(n, sim_to_xy(s, k_sites[SITE_JAMARAT].lon, k_sites[SITE_JAMARAT].lat));
    n->root[0] = n->haram;
    n->root[1] = n->jamarat;
    n->nroots = 2;
    uint32_t nc = 0;
    for (uint32_t i = 0; i < n->n; i++)
        if (n->main[i] && sim_poly_contains(&s->site[SITE_MINA], n->pos[i]))
            cand[nc++] = i;
    if (nc) {
        sort_by_y(cand, nc, n->pos);
        for (uint32_t k = 0; k < 4; k++) {
            uint32_t v = cand[(2 * k + 1) * nc / 8];
            int dup = 0;
            for (uint32_t r = 0; r < n->nroots; r++)
                dup |= n->root[r] == v;
            if (!dup)
                n->root[n->nroots++] = v;
        }
    } else {
        /* no node inside Mina: the node nearest Mina's centre is its gate to the network */
        n->root[n->nroots++] = sim_net_nearest(n, s->site[SITE_MINA].c);
    }
    n->nentry = n->nroots - 2;
    uint32_t m = n->off[n->n];
    jw = malloc(sizeof *jw * (m ? m : 1));
    if (!jw) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory routing the walkway graph");
        goto out;
    }
    sim_rng wr = {s->o.seed ^ 0x3c6ef372fe94f82bull};
    for (uint32_t v = 0; v < SIM_VARIANTS; v++) {
        /* variant 0: true lengths; the others: each street up to 80 % longer, the same both ways */
        uint64_t salt = sim_rand(&wr);
        for (uint32_t a = 0; a < n->n; a++)
            for (uint32_t e = n->off[a]; e < n->off[a + 1]; e++) {
                uint32_t c = n->to[e];
                sim_rng h = {((uint64_t)(a < c ? a : c) << 32 | (a < c ? c : a)) ^ salt};
                jw[e] = v ? n->w[e] * (float)(1 + 0.8 * sim_u(&h)) : n->w[e];
            }
        for (uint32_t r = 0; r < n->nroots; r++) {
            n->pred[r][v] = malloc(sizeof *n->pred[r][v] * n->n);
            if (!n->pred[r][v]) {
                rc = msh_err_set(err, MSH_ENOMEM, "out of memory routing the walkway graph");
                goto out;
            }
            if ((rc = dijkstra(n, jw, n->root[r], n->pred[r][v], err)))
                goto out;
        }
    }
    /* hotels: nodes 300 m to 1.5 km from the Kaaba, inside the sites' box */
    sim_pt kaaba = sim_to_xy(s, k_sites[SITE_HARAM].lon, k_sites[SITE_HARAM].lat);
    sim_pt lo = sim_to_xy(s, s->site_bbox[0], s->site_bbox[1]), hi = sim_to_xy(s, s->site_bbox[2], s->site_bbox[3]);
    uint32_t nh = 0;
    for (uint32_t i = 0; i < n->n; i++) {
        double d = sim_dist(n->pos[i], kaaba);
        sim_pt p = n->pos[i];
        if (n->main[i] && d >= 300 && d <= 1500 && p.x >= lo.x && p.x <= hi.x && p.y >= lo.y && p.y <= hi.y)
            cand[nh++] = i;
    }
    if (nh) {
        n->hotels = malloc(sizeof *n->hotels * nh);
        if (!n->hotels) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            goto out;
        }
        memcpy(n->hotels, cand, sizeof *cand * nh);
        n->nhotels = nh;
    }
out:
    free(queue);
    free(comp);
    free(cand);
    free(jw);
    return rc;
}

int sim_net_path(msh_sim *s, uint32_t a, uint32_t b, sim_group *g)
{
    sim_net *n = &s->net;
    int ra = -1, rb = -1;
    for (uint32_t r = 0; r < n->nroots; r++) {
        if (n->root[r] == a)
            ra = (int)r;
        if (n->root[r] == b)
            rb = (int)r;
    }
    if (rb >= 0) { /* walk a's predecessors up to b */
        const int32_t *pred = n->pred[rb][g->variant % SIM_VARIANTS];
        if (a != b && pred[a] < 0)
            return -1;
        for (int64_t v = a;; v = pred[v]) {
            if (sim_route_push(g, n->pos[v]))
                return -2;
            if ((uint32_t)v == b)
                break;
        }
        return 0;
    }
    if (ra >= 0) { /* b's path up to a, reversed */
        const int32_t *pred = n->pred[ra][g->variant % SIM_VARIANTS];
        if (pred[b] < 0)
            return -1;
        uint32_t k = 0;
        for (int64_t v = b;; v = pred[v]) {
            s->scratch[k++] = (int32_t)v;
            if ((uint32_t)v == a)
                break;
        }
        while (k)
            if (sim_route_push(g, n->pos[s->scratch[--k]]))
                return -2;
        return 0;
    }
    return -1;
}

/* ---------------------------------------------------------------- all of it */

msh_rc sim_load(msh_sim *s, msh_err *err)
{
    msh_rc rc = MSH_OK;
    char path[4096];
    int found;
    net_build b;
    memset(&b, 0, sizeof b);
    GDALAllRegister();
    CPLPushErrorHandler(CPLQuietErrorHandler);

    path_in(path, sizeof path, s, "sites.geojson");
    if ((rc = read_layer(s, path, 0, on_site, NULL, &found, err)))
        goto out;
    s->site_bbox[0] = s->site_bbox[1] = INFINITY;
    s->site_bbox[2] = s->site_bbox[3] = -INFINITY;
    for (int k = 0; k < SITE_N; k++) {
        if (!s->site[k].ring) {
            if (found)
                note(s, "%s has no site '%s': using the box from HAJJ-FACTS.md", path, k_sites[k].id);
            if ((rc = box_site(s, k, err)))
                goto out;
        }
        sim_poly *p = &s->site[k];
        s->site_bbox[0] = fmin(s->site_bbox[0], sim_lon(s, p->minx));
        s->site_bbox[1] = fmin(s->site_bbox[1], sim_lat(s, p->miny));
        s->site_bbox[2] = fmax(s->site_bbox[2], sim_lon(s, p->maxx));
        s->site_bbox[3] = fmax(s->site_bbox[3], sim_lat(s, p->maxy));
    }

    uint32_t cap = 0;
    path_in(path, sizeof path, s, "camps.geojson");
    if ((rc = read_layer(s, path, 0, on_camp, &cap, &found, err)))
        goto out;
    asset_caps ac = {0, 0};
    path_in(path, sizeof path, s, "assets.geojson");
    if ((rc = read_layer(s, path, 0, on_asset, &ac, &found, err)))
        goto out;
    cap = 0;
    path_in(path, sizeof path, s, "cleaning_routes.geojson");
    if ((rc = read_layer(s, path, 0, on_route, &cap, &found, err)))
        goto out;
    cap = 0;
    path_in(path, sizeof path, s, "service_zones.geojson");
    if ((rc = read_layer(s, path, 0, on_zone, &cap, &found, err)))
        goto out;
    if (!s->nsensors) { /* one sensor at each site's centre */
        s->sensors = calloc(SITE_N, sizeof *s->sensors);
        if (!s->sensors) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            goto out;
        }
        for (int k = 0; k < SITE_N; k++) {
            snprintf(s->sensors[k].id, sizeof s->sensors[k].id, "SENS-%s", k_sites[k].id);
            s->sensors[k].p = s->site[k].c;
            s->sensors[k].site = k;
        }
        s->nsensors = SITE_N;
    }

    if (s->o.walkways)
        snprintf(path, sizeof path, "%s", s->o.walkways);
    else
        path_in(path, sizeof path, s, "walkways.geojson");
    if ((rc = read_layer(s, path, s->o.walkways != NULL, on_walkway, &b, &found, err)))
        goto out;
    if (b.npos && (rc = net_finish(s, &b, err)))
        goto out;
    if (!s->net.n)
        note(s, "no walkway network: groups walk straight between the sites");
out:
    CPLPopErrorHandler();
    free(b.map.keys);
    free(b.map.vals);
    free(b.pos);
    free(b.ea);
    free(b.eb);
    free(b.ew);
    return rc;
}

void sim_data_free(msh_sim *s)
{
    for (int k = 0; k < SITE_N; k++)
        free(s->site[k].ring);
    free(s->camps);
    for (int i = 0; i < 2; i++) {
        free(s->camp_cum[i]);
        free(s->camp_idx[i]);
    }
    free(s->gates);
    free(s->clinics);
    for (uint32_t i = 0; i < s->nlines; i++)
        free(s->lines[i].pts);
    free(s->lines);
    free(s->sensors);
    free(s->net.pos);
    free(s->net.off);
    free(s->net.to);
    free(s->net.w);
    free(s->net.main);
    for (uint32_t r = 0; r < SIM_MAX_ROOTS; r++)
        for (uint32_t v = 0; v < SIM_VARIANTS; v++)
            free(s->net.pred[r][v]);
    free(s->net.hotels);
    free(s->scratch);
}
