/* sim_data.c: the simulator's inputs: site polygons, camps, gates, clinics, cleaning routes and
 * service zones read with GDAL/OGR, and the walkway lines made into the server's walking graph
 * (layers/route) with the simulator's roots, shortest-path trees and hotels on it. */
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
#include "core/msh_grow.h"
#include "core/msh_pip.h"

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
    return msh_ring_odd(&p->ring[0].x, p->n, q.x, q.y); /* sim_pt is two doubles, as the xy arrays */
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
    size_t *cap = ud;
    int site = site_of(fstr(f, "site"));
    OGRGeometryH poly = main_polygon(g);
    if ((site != SITE_MINA && site != SITE_ARAFAT) || !poly)
        return MSH_OK;
    if (msh_grow_from((void **)&s->camps, cap, s->ncamps + 1, sizeof *s->camps, 256))
        return msh_err_set(err, MSH_ENOMEM, "out of memory reading camps");
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
    size_t gates, clinics, bins;
} asset_caps;

static msh_rc on_asset(msh_sim *s, void *ud, OGRFeatureH f, OGRGeometryH g, msh_err *err)
{
    asset_caps *cap = ud;
    const char *kind = fstr(f, "kind");
    if (!kind || wkbFlatten(OGR_G_GetGeometryType(g)) != wkbPoint)
        return MSH_OK;
    sim_pt p = sim_to_xy(s, OGR_G_GetX(g, 0), OGR_G_GetY(g, 0));
    if (!strcmp(kind, "gate")) {
        if (msh_grow_from((void **)&s->gates, &cap->gates, s->ngates + 1, sizeof *s->gates, 64))
            return msh_err_set(err, MSH_ENOMEM, "out of memory reading gates");
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
        if (msh_grow((void **)&s->clinics, &cap->clinics, s->nclinics + 1, sizeof *s->clinics))
            return msh_err_set(err, MSH_ENOMEM, "out of memory reading clinics");
        s->clinics[s->nclinics++] = p;
    } else if (!strcmp(kind, "waste_bin")) {
        const char *id = fstr(f, "asset_id");
        if (!id && !(id = fstr(f, "id")))
            return MSH_OK;
        if (msh_grow_from((void **)&s->bins, &cap->bins, s->nbins + 1, sizeof *s->bins, 256))
            return msh_err_set(err, MSH_ENOMEM, "out of memory reading waste bins");
        sim_bin *bn = &s->bins[s->nbins++];
        memset(bn, 0, sizeof *bn);
        copy_str(bn->id, sizeof bn->id, id);
        bn->p = p;
        bn->site = site_of(fstr(f, "site"));
        if (bn->site >= 0)
            s->bins_at[bn->site]++;
    }
    return MSH_OK;
}

static msh_rc on_route(msh_sim *s, void *ud, OGRFeatureH f, OGRGeometryH g, msh_err *err)
{
    size_t *cap = ud;
    if (wkbFlatten(OGR_G_GetGeometryType(g)) == wkbMultiLineString && OGR_G_GetGeometryCount(g) > 0)
        g = OGR_G_GetGeometryRef(g, 0);
    if (wkbFlatten(OGR_G_GetGeometryType(g)) != wkbLineString || OGR_G_GetPointCount(g) < 2)
        return MSH_OK;
    if (msh_grow_from((void **)&s->lines, cap, s->nlines + 1, sizeof *s->lines, 64))
        return msh_err_set(err, MSH_ENOMEM, "out of memory reading cleaning routes");
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
    size_t *cap = ud;
    OGRGeometryH poly = main_polygon(g);
    const char *id = fstr(f, "zone_id");
    if (!poly || !id)
        return MSH_OK;
    if (msh_grow_from((void **)&s->sensors, cap, s->nsensors + 1, sizeof *s->sensors, 32))
        return msh_err_set(err, MSH_ENOMEM, "out of memory reading service zones");
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

/* The walkway lines as read: lon/lat points one line after another, and each line's count. */
typedef struct walk_lines {
    msh_buf ll;   /* doubles */
    msh_buf npts; /* uint32 */
} walk_lines;

/* One line, kept only when it lies inside the sites' box: the network reaches far into western
 * Makkah, where no leg of the schedule goes, and routes then never leave the box. */
static msh_rc add_line(msh_sim *s, walk_lines *w, OGRGeometryH g, msh_err *err)
{
    int n = OGR_G_GetPointCount(g);
    if (n < 2)
        return MSH_OK;
    for (int i = 0; i < n; i++) {
        double x = OGR_G_GetX(g, i), y = OGR_G_GetY(g, i);
        if (x < s->site_bbox[0] || y < s->site_bbox[1] || x > s->site_bbox[2] || y > s->site_bbox[3])
            return MSH_OK;
    }
    uint32_t np = (uint32_t)n;
    msh_rc rc = msh_buf_append(&w->npts, &np, sizeof np);
    for (int i = 0; i < n && !rc; i++) {
        double ll[2] = {OGR_G_GetX(g, i), OGR_G_GetY(g, i)};
        rc = msh_buf_append(&w->ll, ll, sizeof ll);
    }
    return rc ? msh_err_set(err, rc, "reading the walkway network: %s", msh_rc_str(rc)) : MSH_OK;
}

static msh_rc on_walkway(msh_sim *s, void *ud, OGRFeatureH f, OGRGeometryH g, msh_err *err)
{
    (void)f;
    walk_lines *w = ud;
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbLineString)
        return add_line(s, w, g, err);
    msh_rc rc = MSH_OK;
    if (t == wkbMultiLineString)
        for (int i = 0; i < OGR_G_GetGeometryCount(g) && !rc; i++)
            rc = add_line(s, w, OGR_G_GetGeometryRef(g, i), err);
    return rc;
}

sim_pt sim_net_pos(const msh_sim *s, uint32_t node)
{
    double lon, lat;
    msh_graph_node_lonlat(s->net.g, node, &lon, &lat);
    return sim_to_xy(s, lon, lat);
}

static uint32_t nearest_node(const msh_sim *s, sim_pt p)
{
    return msh_graph_nearest_node(s->net.g, sim_lon(s, p.x), sim_lat(s, p.y), true);
}

/* Insertion sort of nodes by latitude (a few hundred candidates at most are sorted). */
static void sort_by_lat(const msh_graph *g, uint32_t *v, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        uint32_t x = v[i], j = i;
        double lon, lat, lon_j, lat_j;
        msh_graph_node_lonlat(g, x, &lon, &lat);
        for (; j > 0; j--) {
            msh_graph_node_lonlat(g, v[j - 1], &lon_j, &lat_j);
            if (lat_j <= lat)
                break;
            v[j] = v[j - 1];
        }
        v[j] = x;
    }
}

/* Roots: the Haram, the Jamarat, up to four entries inside Mina. `cand` has room for every node. */
static void pick_roots(msh_sim *s, uint32_t *cand)
{
    sim_net *n = &s->net;
    n->haram = nearest_node(s, sim_to_xy(s, k_sites[SITE_HARAM].lon, k_sites[SITE_HARAM].lat));
    n->jamarat = nearest_node(s, sim_to_xy(s, k_sites[SITE_JAMARAT].lon, k_sites[SITE_JAMARAT].lat));
    n->root[0] = n->haram;
    n->root[1] = n->jamarat;
    n->nroots = 2;
    uint32_t nc = 0;
    for (uint32_t i = 0; i < n->n; i++)
        if (msh_graph_in_largest(n->g, i) && sim_poly_contains(&s->site[SITE_MINA], sim_net_pos(s, i)))
            cand[nc++] = i;
    if (nc) {
        sort_by_lat(n->g, cand, nc);
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
        n->root[n->nroots++] = nearest_node(s, s->site[SITE_MINA].c);
    }
    n->nentry = n->nroots - 2;
}

/* One tree per root and variant: variant 0 on true lengths, the others with each street up to
 * 80 % longer (the same both ways). */
static msh_rc grow_trees(msh_sim *s, msh_err *err)
{
    sim_net *n = &s->net;
    uint32_t ne = msh_graph_edge_count(n->g);
    float *jw = malloc(sizeof *jw * (ne ? ne : 1));
    if (!jw)
        return msh_err_set(err, MSH_ENOMEM, "out of memory routing the walkway graph");
    msh_rc rc = MSH_OK;
    sim_rng wr = {s->o.seed ^ 0x3c6ef372fe94f82bull};
    for (uint32_t v = 0; v < SIM_VARIANTS && !rc; v++) {
        uint64_t salt = sim_rand(&wr);
        for (uint32_t e = 0; e < ne; e++) {
            sim_rng h = {(uint64_t)e ^ salt};
            jw[e] = (float)(msh_graph_edge_length(n->g, e) * (1 + 0.8 * sim_u(&h)));
        }
        for (uint32_t r = 0; r < n->nroots && !rc; r++) {
            n->pred[r][v] = malloc(sizeof *n->pred[r][v] * n->n);
            if (!n->pred[r][v])
                rc = msh_err_set(err, MSH_ENOMEM, "out of memory routing the walkway graph");
            else
                rc = msh_graph_tree(n->g, v ? jw : NULL, n->root[r], n->pred[r][v], NULL, err);
        }
    }
    free(jw);
    return rc;
}

/* Hotels: nodes 300 m to 1.5 km from the Kaaba, inside the sites' box. */
static msh_rc pick_hotels(msh_sim *s, uint32_t *cand, msh_err *err)
{
    sim_net *n = &s->net;
    sim_pt kaaba = sim_to_xy(s, k_sites[SITE_HARAM].lon, k_sites[SITE_HARAM].lat);
    sim_pt lo = sim_to_xy(s, s->site_bbox[0], s->site_bbox[1]), hi = sim_to_xy(s, s->site_bbox[2], s->site_bbox[3]);
    uint32_t nh = 0;
    for (uint32_t i = 0; i < n->n; i++) {
        sim_pt p = sim_net_pos(s, i);
        double d = sim_dist(p, kaaba);
        if (msh_graph_in_largest(n->g, i) && d >= 300 && d <= 1500 && p.x >= lo.x && p.x <= hi.x && p.y >= lo.y &&
            p.y <= hi.y)
            cand[nh++] = i;
    }
    if (!nh)
        return MSH_OK;
    n->hotels = malloc(sizeof *n->hotels * nh);
    if (!n->hotels)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    memcpy(n->hotels, cand, sizeof *cand * nh);
    n->nhotels = nh;
    return MSH_OK;
}

/* The server's walking graph of the walkway lines, its roots, trees and hotels. */
static msh_rc net_build(msh_sim *s, const walk_lines *w, msh_err *err)
{
    sim_net *n = &s->net;
    msh_rc rc = msh_graph_build_lonlat((const double *)w->ll.data, (const uint32_t *)w->npts.data, NULL,
                                       w->npts.len / sizeof(uint32_t), &n->g, err);
    if (rc)
        return rc;
    msh_graph_stats st;
    msh_graph_get_stats(n->g, &st);
    if (st.largest < 2) {
        note(s, "the walkway network has no connected part: every leg walks straight");
        msh_graph_release(n->g);
        n->g = NULL;
        return MSH_OK;
    }
    n->n = st.nodes;
    uint32_t *cand = malloc(sizeof *cand * n->n);
    if (!cand)
        return msh_err_set(err, MSH_ENOMEM, "out of memory building the walkway graph");
    pick_roots(s, cand);
    rc = grow_trees(s, err);
    if (!rc)
        rc = pick_hotels(s, cand, err);
    free(cand);
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
    if (ra < 0 && rb < 0)
        return -1;
    /* a's path up to root b, or b's path up to root a read backwards */
    uint32_t r = rb >= 0 ? (uint32_t)rb : (uint32_t)ra, from = rb >= 0 ? a : b;
    msh_buf_reset(&n->path);
    msh_rc rc = msh_graph_tree_path(n->g, n->pred[r][g->variant % SIM_VARIANTS], n->root[r], from, &n->path);
    if (rc)
        return rc == MSH_ENOTFOUND ? -1 : -2;
    const double *ll = (const double *)n->path.data;
    size_t np = n->path.len / (2 * sizeof *ll);
    for (size_t k = 0; k < np; k++) {
        size_t i = rb >= 0 ? k : np - 1 - k;
        if (sim_route_push(g, sim_to_xy(s, ll[2 * i], ll[2 * i + 1])))
            return -2;
    }
    return 0;
}

/* ---------------------------------------------------------------- all of it */

msh_rc sim_load(msh_sim *s, msh_err *err)
{
    msh_rc rc = MSH_OK;
    char path[4096];
    int found;
    walk_lines wl;
    msh_buf_init(&wl.ll, (size_t)1 << 32);
    msh_buf_init(&wl.npts, (size_t)1 << 30);
    msh_buf_init(&s->net.path, (size_t)1 << 28);
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

    size_t cap = 0;
    path_in(path, sizeof path, s, "camps.geojson");
    if ((rc = read_layer(s, path, 0, on_camp, &cap, &found, err)))
        goto out;
    asset_caps ac = {0, 0, 0};
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
    if ((rc = read_layer(s, path, s->o.walkways != NULL, on_walkway, &wl, &found, err)))
        goto out;
    if (wl.npts.len && (rc = net_build(s, &wl, err)))
        goto out;
    if (!s->net.n)
        note(s, "no walkway network: groups walk straight between the sites");
out:
    CPLPopErrorHandler();
    msh_buf_free(&wl.ll);
    msh_buf_free(&wl.npts);
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
    free(s->bins);
    msh_graph_release(s->net.g);
    for (uint32_t r = 0; r < SIM_MAX_ROOTS; r++)
        for (uint32_t v = 0; v < SIM_VARIANTS; v++)
            free(s->net.pred[r][v]);
    free(s->net.hotels);
    msh_buf_free(&s->net.path);
}
