/* crs_ref.c: the CRSs served and the conversions between them (crs_ref.h).
 *
 * Lock contract: none. Every function is thread-safe; PROJ objects are per thread (thread-specific
 * data), made at the thread's first conversion through PROJ and destroyed when the thread ends.
 */
#include "crs_ref.h"

#include <math.h>
#include <proj.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/msh_constants.h"
#include "core/msh_tilemath.h"

#define OGC_CRS "http://www.opengis.net/def/crs/"
/* half the Web Mercator world in metres: pi times the WGS 84 semi-major axis */
#define MERC_HALF (M_PI * MSH_WGS84_A)

static const struct {
    const char *uri;
    int epsg;
    double lo[2], hi[2]; /* the values a bbox may hold, in the CRS's axis order */
} CRS[MSH_CRS_COUNT] = {
    [MSH_CRS_CRS84] = {OGC_CRS "OGC/1.3/CRS84", 0, {-180, -90}, {180, 90}},
    [MSH_CRS_4326] = {OGC_CRS "EPSG/0/4326", 4326, {-90, -180}, {90, 180}},
    [MSH_CRS_3857] = {OGC_CRS "EPSG/0/3857", 3857, {-MERC_HALF, -MERC_HALF}, {MERC_HALF, MERC_HALF}},
    /* 14 degrees of longitude either side of the zone's meridian at Makkah's latitude; the
     * transverse Mercator stays exact to a millimetre well past that */
    [MSH_CRS_32637] = {OGC_CRS "EPSG/0/32637", 32637, {-1e6, -1e7}, {2e6, 1e7}},
};

const char *msh_crs_uri(msh_crs c)
{
    return CRS[c].uri;
}

int msh_crs_epsg(msh_crs c)
{
    return CRS[c].epsg;
}

int msh_crs_decimals(msh_crs c)
{
    return c == MSH_CRS_CRS84 || c == MSH_CRS_4326 ? 9 : 4;
}

msh_rc msh_crs_parse(const char *param, const char *v, msh_crs *out, msh_err *err)
{
    char s[128];
    size_t n = strlen(v);
    /* <uri> (Content-Crs style) and [CURIE] (safe CURIE) are the same name in brackets */
    if (n >= 2 && ((v[0] == '<' && v[n - 1] == '>') || (v[0] == '[' && v[n - 1] == ']'))) {
        v++;
        n -= 2;
    }
    if (n < sizeof s) {
        memcpy(s, v, n);
        s[n] = 0;
        for (int i = 0; i < MSH_CRS_COUNT; i++) {
            char curie[16];
            if (i == MSH_CRS_CRS84)
                strcpy(curie, "OGC:CRS84");
            else
                snprintf(curie, sizeof curie, "EPSG:%d", CRS[i].epsg);
            if (!strcmp(s, CRS[i].uri) || !strcasecmp(s, curie)) {
                *out = (msh_crs)i;
                return MSH_OK;
            }
        }
    }
    /* the refused value is quoted only up to its first unusual byte: it goes back in a JSON message */
    size_t shown = 0;
    while (shown < n && shown < 80 && v[shown] >= 0x20 && v[shown] < 0x7f && v[shown] != '"' && v[shown] != '\\')
        shown++;
    return msh_err_set(err, MSH_EINVAL,
                       "%s: coordinate reference system '%.*s%s' is not served; this server answers in %s, %s, %s "
                       "or %s",
                       param, (int)shown, v, shown < n ? "..." : "", CRS[0].uri, CRS[1].uri, CRS[2].uri, CRS[3].uri);
}

/* ---- PROJ, one context per thread ------------------------------------------------------------ */

typedef struct {
    PJ_CONTEXT *ctx;
    PJ *utm; /* CRS84 -> EPSG:32637 (PJ_FWD), and back (PJ_INV) */
} proj_tls;

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_free(void *p)
{
    proj_tls *t = p;
    if (t->utm)
        proj_destroy(t->utm);
    if (t->ctx)
        proj_context_destroy(t->ctx);
    free(t);
}

static void tls_init(void)
{
    (void)pthread_key_create(&tls_key, tls_free);
}

/* This thread's CRS84 <-> UTM 37N transformation, made once. */
static PJ *utm(msh_err *err)
{
    pthread_once(&tls_once, tls_init);
    proj_tls *t = pthread_getspecific(tls_key);
    if (t && t->utm)
        return t->utm;
    if (!t) {
        if (!(t = calloc(1, sizeof *t)))
            goto oom;
        if (pthread_setspecific(tls_key, t)) {
            free(t);
            goto oom;
        }
    }
    if (!t->ctx && !(t->ctx = proj_context_create()))
        goto oom;
    proj_log_level(t->ctx, PJ_LOG_NONE);
    t->utm = proj_create_crs_to_crs(t->ctx, "OGC:CRS84", "EPSG:32637", NULL);
    if (!t->utm) {
        msh_err_set(err, MSH_EIO, "PROJ cannot make the transformation to EPSG:32637 (%s)",
                    proj_context_errno_string(t->ctx, proj_context_errno(t->ctx)));
        return NULL;
    }
    return t->utm;
oom:
    msh_err_set(err, MSH_ENOMEM, "out of memory (PROJ)");
    return NULL;
}

static msh_rc utm_trans(double *xy, size_t n, PJ_DIRECTION dir, msh_err *err)
{
    PJ *p = utm(err);
    if (!p)
        return err->code;
    if (n)
        proj_trans_generic(p, dir, xy, 2 * sizeof *xy, n, xy + 1, 2 * sizeof *xy, n, NULL, 0, 0, NULL, 0, 0);
    for (size_t i = 0; i < 2 * n; i++)
        if (!isfinite(xy[i]) || fabs(xy[i]) > 1e30) /* PROJ's HUGE_VAL: no answer for that point */
            return msh_err_set(err, MSH_EINVAL, "a point has no coordinates in %s", dir == PJ_FWD ? CRS[MSH_CRS_32637].uri
                                                                                               : CRS[MSH_CRS_CRS84].uri);
    return MSH_OK;
}

/* ---- conversions --------------------------------------------------------------------------- */

msh_rc msh_crs_from_lonlat(msh_crs c, double *xy, size_t n, msh_err *err)
{
    switch (c) {
    case MSH_CRS_CRS84:
        return MSH_OK;
    case MSH_CRS_4326:
        for (size_t i = 0; i < n; i++) {
            double t = xy[2 * i];
            xy[2 * i] = xy[2 * i + 1];
            xy[2 * i + 1] = t;
        }
        return MSH_OK;
    case MSH_CRS_3857:
        for (size_t i = 0; i < n; i++) {
            double wx, wy;
            msh_lonlat_to_world(xy[2 * i], xy[2 * i + 1], &wx, &wy);
            xy[2 * i] = (wx - 0.5) * 2 * MERC_HALF;
            xy[2 * i + 1] = (0.5 - wy) * 2 * MERC_HALF;
        }
        return MSH_OK;
    default:
        return utm_trans(xy, n, PJ_FWD, err);
    }
}

msh_rc msh_crs_from_world(msh_crs c, double *xy, size_t n, msh_err *err)
{
    if (c == MSH_CRS_3857) { /* the world units are Web Mercator: scale and shift, nothing lost */
        for (size_t i = 0; i < n; i++) {
            xy[2 * i] = (xy[2 * i] - 0.5) * 2 * MERC_HALF;
            xy[2 * i + 1] = (0.5 - xy[2 * i + 1]) * 2 * MERC_HALF;
        }
        return MSH_OK;
    }
    for (size_t i = 0; i < n; i++)
        msh_world_to_lonlat(xy[2 * i], xy[2 * i + 1], &xy[2 * i], &xy[2 * i + 1]);
    return msh_crs_from_lonlat(c, xy, n, err);
}

msh_rc msh_crs_to_lonlat(msh_crs c, double *xy, size_t n, msh_err *err)
{
    switch (c) {
    case MSH_CRS_CRS84:
        return MSH_OK;
    case MSH_CRS_4326:
        return msh_crs_from_lonlat(c, xy, n, err); /* a swap both ways */
    case MSH_CRS_3857:
        for (size_t i = 0; i < n; i++)
            msh_world_to_lonlat(xy[2 * i] / (2 * MERC_HALF) + 0.5, 0.5 - xy[2 * i + 1] / (2 * MERC_HALF), &xy[2 * i],
                                &xy[2 * i + 1]);
        return MSH_OK;
    default:
        return utm_trans(xy, n, PJ_INV, err);
    }
}

msh_rc msh_crs_bbox(msh_crs c, const double in[4], double ll[4], double ring[2 * (4 * MSH_CRS_BBOX_SIDE + 1)],
                    bool *has_ring, msh_err *err)
{
    *has_ring = false;
    for (int i = 0; i < 4; i++)
        if (!isfinite(in[i]) || in[i] < CRS[c].lo[i & 1] || in[i] > CRS[c].hi[i & 1])
            return msh_err_set(err, MSH_EINVAL,
                               "bbox: value %d (%g) is outside %s, whose bbox values lie in [%.10g, %.10g] for the "
                               "first axis and [%.10g, %.10g] for the second",
                               i + 1, in[i], CRS[c].uri, CRS[c].lo[0], CRS[c].hi[0], CRS[c].lo[1], CRS[c].hi[1]);
    /* longitudes may cross the antimeridian (west above east); latitudes and metres may not */
    bool bad = c == MSH_CRS_CRS84 ? in[1] > in[3] : c == MSH_CRS_4326 ? in[0] > in[2] : in[0] > in[2] || in[1] > in[3];
    if (bad)
        return msh_err_set(err, MSH_EINVAL, "bbox: the minimum of an axis is above its maximum (%s: %s)", CRS[c].uri,
                           c == MSH_CRS_4326 ? "min lat, min lon, max lat, max lon"
                                             : "min x, min y, max x, max y");
    if (c == MSH_CRS_CRS84 || c == MSH_CRS_4326) {
        ll[0] = c == MSH_CRS_4326 ? in[1] : in[0];
        ll[1] = c == MSH_CRS_4326 ? in[0] : in[1];
        ll[2] = c == MSH_CRS_4326 ? in[3] : in[2];
        ll[3] = c == MSH_CRS_4326 ? in[2] : in[3];
        return MSH_OK;
    }
    if (c == MSH_CRS_3857) { /* Mercator keeps a box a box */
        double xy[4] = {in[0], in[1], in[2], in[3]};
        msh_crs_to_lonlat(c, xy, 2, err);
        ll[0] = xy[0], ll[1] = xy[1], ll[2] = xy[2], ll[3] = xy[3];
        return MSH_OK;
    }
    /* the four sides, each cut in MSH_CRS_BBOX_SIDE steps, counter-clockwise from the south-west */
    const int S = MSH_CRS_BBOX_SIDE;
    double x0 = in[0], y0 = in[1], x1 = in[2], y1 = in[3];
    for (int i = 0; i < S; i++) {
        double t = (double)i / S;
        ring[2 * i] = x0 + (x1 - x0) * t, ring[2 * i + 1] = y0;
        ring[2 * (S + i)] = x1, ring[2 * (S + i) + 1] = y0 + (y1 - y0) * t;
        ring[2 * (2 * S + i)] = x1 - (x1 - x0) * t, ring[2 * (2 * S + i) + 1] = y1;
        ring[2 * (3 * S + i)] = x0, ring[2 * (3 * S + i) + 1] = y1 - (y1 - y0) * t;
    }
    ring[8 * S] = x0, ring[8 * S + 1] = y0;
    msh_err why;
    if (msh_crs_to_lonlat(c, ring, 4 * (size_t)S + 1, &why))
        return msh_err_set(err, why.code, "bbox: %s", why.msg);
    ll[0] = ll[1] = INFINITY;
    ll[2] = ll[3] = -INFINITY;
    for (int i = 0; i <= 4 * S; i++) {
        double lon = ring[2 * i], lat = ring[2 * i + 1];
        if (lon < -180 || lon > 180 || lat < -90 || lat > 90)
            return msh_err_set(err, MSH_EINVAL, "bbox: the box reaches past the world in %s (%g, %g)", CRS[c].uri,
                               lon, lat);
        ll[0] = fmin(ll[0], lon), ll[1] = fmin(ll[1], lat);
        ll[2] = fmax(ll[2], lon), ll[3] = fmax(ll[3], lat);
    }
    *has_ring = true;
    return MSH_OK;
}
