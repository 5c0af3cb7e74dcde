/* broadcast.c: a broadcast's body, its area and the coverage tests (broadcast.h). */
#include "live/broadcast.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_pip.h"
#include "core/msh_tilemath.h"
#include "core/msh_time.h"
#include "json_in.h"

/* The nine first, then others pilgrims read; right-to-left: Arabic, Urdu, Persian, Pashto. */
const msh_bc_lang msh_bc_langs[MSH_BC_NLANGS] = {
    {"ar", true},  {"en", false}, {"ur", true},  {"id", false}, {"tr", false}, {"fr", false},
    {"bn", false}, {"ms", false}, {"fa", true},  {"hi", false}, {"ha", false}, {"ps", true},
    {"ru", false}, {"sw", false}, {"zh", false}, {"so", false},
};

static const char *SEVERITIES[] = {"info", "warning", "danger"};
static const char *TARGETS[] = {"zone", "camp", "geometry"};

const char *msh_bc_severity_name(msh_bc_severity s)
{
    return SEVERITIES[s];
}

const char *msh_bc_target_name(msh_bc_target t)
{
    return TARGETS[t];
}

void msh_bc_area_free(msh_bc_area *a)
{
    free(a->xy);
    free(a->parts);
    memset(a, 0, sizeof *a);
}

void msh_bc_free(msh_broadcast *b)
{
    msh_bc_area_free(&b->area);
    for (int i = 0; i < MSH_BC_NLANGS; i++)
        free(b->text[i]);
    free(b->zones);
    memset(b, 0, sizeof *b);
}

msh_rc msh_bc_area_copy(msh_bc_area *dst, const msh_bc_area *src)
{
    memset(dst, 0, sizeof *dst);
    dst->xy = malloc(sizeof(double) * 2 * (src->npts ? src->npts : 1));
    dst->parts = malloc(sizeof(uint32_t) * (src->nparts ? src->nparts : 1));
    if (!dst->xy || !dst->parts) {
        msh_bc_area_free(dst);
        return MSH_ENOMEM;
    }
    memcpy(dst->xy, src->xy, sizeof(double) * 2 * src->npts);
    memcpy(dst->parts, src->parts, sizeof(uint32_t) * src->nparts);
    dst->npts = src->npts;
    dst->nparts = src->nparts;
    memcpy(dst->bbox, src->bbox, sizeof dst->bbox);
    return MSH_OK;
}

/* Room for `npts` more positions and one more ring. */
static msh_rc area_grow(msh_bc_area *a, uint32_t npts)
{
    double *xy = realloc(a->xy, sizeof(double) * 2 * ((size_t)a->npts + npts));
    if (!xy)
        return MSH_ENOMEM;
    a->xy = xy;
    uint32_t *parts = realloc(a->parts, sizeof(uint32_t) * ((size_t)a->nparts + 1));
    if (!parts)
        return MSH_ENOMEM;
    a->parts = parts;
    if (!a->npts) {
        a->bbox[0] = a->bbox[1] = INFINITY;
        a->bbox[2] = a->bbox[3] = -INFINITY;
    }
    return MSH_OK;
}

static void area_put(msh_bc_area *a, double lon, double lat)
{
    a->xy[2 * a->npts] = lon;
    a->xy[2 * a->npts + 1] = lat;
    a->npts++;
    a->bbox[0] = fmin(a->bbox[0], lon);
    a->bbox[1] = fmin(a->bbox[1], lat);
    a->bbox[2] = fmax(a->bbox[2], lon);
    a->bbox[3] = fmax(a->bbox[3], lat);
}

/* ---- GeoJSON in and out ---------------------------------------------------------------------- */

/* One ring: an array of 4+ [lon, lat] positions, closed. */
static msh_rc ring_in(const json_t *ring, bool outer, uint32_t max_vertices, msh_bc_area *a, msh_err *err)
{
    size_t n = json_is_array(ring) ? json_array_size(ring) : 0;
    if (n < 4)
        return msh_err_set(err, MSH_EINVAL, "target.geometry: every ring is an array of 4 or more positions");
    if (n > max_vertices || a->npts + n > max_vertices)
        return msh_err_set(err, MSH_EINVAL, "target.geometry: more than %u positions", max_vertices);
    if (area_grow(a, (uint32_t)n))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    uint32_t first = a->npts;
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(ring, i);
        size_t dims = json_is_array(p) ? json_array_size(p) : 0;
        const json_t *x = dims ? json_array_get(p, 0) : NULL, *y = dims ? json_array_get(p, 1) : NULL;
        if ((dims != 2 && dims != 3) || !json_is_number(x) || !json_is_number(y)) {
            a->npts = first;
            return msh_err_set(err, MSH_EINVAL, "target.geometry: a position is [longitude, latitude]");
        }
        double lon = json_number_value(x), lat = json_number_value(y);
        if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90)) {
            a->npts = first;
            return msh_err_set(err, MSH_EINVAL, "target.geometry: longitudes are -180..180 and latitudes -90..90");
        }
        area_put(a, lon, lat);
    }
    if (a->xy[2 * first] != a->xy[2 * (a->npts - 1)] || a->xy[2 * first + 1] != a->xy[2 * (a->npts - 1) + 1]) {
        a->npts = first;
        return msh_err_set(err, MSH_EINVAL, "target.geometry: a ring ends where it starts (closed)");
    }
    double area2 = 0; /* the shoelace: a ring on one line covers nobody */
    for (uint32_t i = first; i + 1 < a->npts; i++)
        area2 += a->xy[2 * i] * a->xy[2 * i + 3] - a->xy[2 * i + 2] * a->xy[2 * i + 1];
    if (area2 == 0) {
        a->npts = first;
        return msh_err_set(err, MSH_EINVAL, "target.geometry: a ring encloses no area");
    }
    a->parts[a->nparts++] = (uint32_t)n | (outer ? MSH_RING_OUTER : 0);
    return MSH_OK;
}

static msh_rc polygon_in(const json_t *rings, uint32_t max_vertices, msh_bc_area *a, msh_err *err)
{
    size_t n = json_is_array(rings) ? json_array_size(rings) : 0;
    if (!n)
        return msh_err_set(err, MSH_EINVAL, "target.geometry: a polygon is a non-empty array of rings");
    for (size_t i = 0; i < n; i++) {
        msh_rc rc = ring_in(json_array_get(rings, i), i == 0, max_vertices, a, err);
        if (rc)
            return rc;
    }
    return MSH_OK;
}

msh_rc msh_bc_area_geojson_in(const json_t *g, uint32_t max_vertices, msh_bc_area *out, msh_err *err)
{
    msh_bc_area_free(out);
    const json_t *type = json_object_get(g, "type"), *coords = json_object_get(g, "coordinates");
    const char *t = json_is_string(type) ? json_string_value(type) : "";
    msh_rc rc = MSH_OK;
    if (!json_is_object(g) || !json_is_array(coords))
        rc = msh_err_set(err, MSH_EINVAL, "target.geometry: a GeoJSON Polygon or MultiPolygon with coordinates");
    else if (!strcmp(t, "Polygon"))
        rc = polygon_in(coords, max_vertices, out, err);
    else if (!strcmp(t, "MultiPolygon")) {
        if (!json_array_size(coords))
            rc = msh_err_set(err, MSH_EINVAL, "target.geometry: a MultiPolygon holds one polygon or more");
        for (size_t i = 0; !rc && i < json_array_size(coords); i++)
            rc = polygon_in(json_array_get(coords, i), max_vertices, out, err);
    } else
        rc = msh_err_set(err, MSH_EINVAL, "target.geometry: type is Polygon or MultiPolygon");
    if (rc)
        msh_bc_area_free(out);
    return rc;
}

msh_rc msh_bc_area_add_world(msh_bc_area *a, const msh_geom *g, msh_err *err)
{
    if (g->type != MSH_GT_POLYGON)
        return MSH_OK;
    const double *xy = g->xy;
    for (uint32_t p = 0; p < g->nparts; p++) {
        uint32_t n = MSH_PART_LEN(g->parts[p]);
        if (a->npts + n > MSH_BC_AREA_MAX_VERTICES)
            return msh_err_set(err, MSH_ETOOBIG, "the area has more than %u positions", MSH_BC_AREA_MAX_VERTICES);
        if (area_grow(a, n))
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
        for (uint32_t i = 0; i < n; i++) {
            double lon, lat;
            msh_world_to_lonlat(xy[2 * i], xy[2 * i + 1], &lon, &lat);
            area_put(a, lon, lat);
        }
        a->parts[a->nparts++] = g->parts[p];
        xy += 2 * n;
    }
    return MSH_OK;
}

static void ring_out(msh_buf *out, const double *xy, uint32_t n)
{
    msh_buf_putc(out, '[');
    for (uint32_t i = 0; i < n; i++)
        msh_buf_printf(out, "%s[%.7f,%.7f]", i ? "," : "", xy[2 * i], xy[2 * i + 1]);
    /* rings from the catalog may be stored open: GeoJSON wants them closed */
    if (n && (xy[0] != xy[2 * (n - 1)] || xy[1] != xy[2 * (n - 1) + 1]))
        msh_buf_printf(out, ",[%.7f,%.7f]", xy[0], xy[1]);
    msh_buf_putc(out, ']');
}

void msh_bc_area_geojson(msh_buf *out, const msh_bc_area *a)
{
    uint32_t npolys = 0;
    for (uint32_t p = 0; p < a->nparts; p++)
        npolys += (a->parts[p] & MSH_RING_OUTER) ? 1 : 0;
    bool multi = npolys > 1;
    msh_buf_printf(out, "{\"type\":\"%s\",\"coordinates\":[", multi ? "MultiPolygon" : "Polygon");
    const double *xy = a->xy;
    for (uint32_t p = 0; p < a->nparts; p++) {
        uint32_t n = MSH_PART_LEN(a->parts[p]);
        bool outer = a->parts[p] & MSH_RING_OUTER;
        if (multi && outer)
            msh_buf_printf(out, "%s[", p ? "]," : "");
        else if (p)
            msh_buf_putc(out, ',');
        ring_out(out, xy, n);
        xy += 2 * n;
    }
    msh_buf_printf(out, "%s]}", multi ? "]" : "");
}

/* ---- coverage -------------------------------------------------------------------------------- */

bool msh_bc_area_contains(const msh_bc_area *a, double lon, double lat)
{
    if (!a->npts || lon < a->bbox[0] || lon > a->bbox[2] || lat < a->bbox[1] || lat > a->bbox[3])
        return false;
    bool odd = false;
    const double *xy = a->xy;
    for (uint32_t p = 0; p < a->nparts; p++) {
        uint32_t n = MSH_PART_LEN(a->parts[p]);
        if (msh_ring_odd(xy, n, lon, lat))
            odd = !odd;
        xy += 2 * n;
    }
    return odd;
}

static double cross(double ax, double ay, double bx, double by, double cx, double cy)
{
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

/* Do segments p1p2 and q1q2 cross or touch? */
static bool segs_meet(const double *p1, const double *p2, const double *q1, const double *q2)
{
    double d1 = cross(q1[0], q1[1], q2[0], q2[1], p1[0], p1[1]);
    double d2 = cross(q1[0], q1[1], q2[0], q2[1], p2[0], p2[1]);
    double d3 = cross(p1[0], p1[1], p2[0], p2[1], q1[0], q1[1]);
    double d4 = cross(p1[0], p1[1], p2[0], p2[1], q2[0], q2[1]);
    if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)))
        return true;
    return false; /* collinear and end-on touches: a shared border is not a shared area */
}

static bool edges_cross(const msh_bc_area *a, const msh_bc_area *b)
{
    const double *axy = a->xy;
    for (uint32_t pa = 0; pa < a->nparts; pa++) {
        uint32_t na = MSH_PART_LEN(a->parts[pa]);
        for (uint32_t i = 0; i < na; i++) {
            const double *p1 = axy + 2 * i, *p2 = axy + 2 * ((i + 1) % na);
            double w = fmin(p1[0], p2[0]), e = fmax(p1[0], p2[0]), s = fmin(p1[1], p2[1]), n = fmax(p1[1], p2[1]);
            if (e < b->bbox[0] || w > b->bbox[2] || n < b->bbox[1] || s > b->bbox[3])
                continue;
            const double *bxy = b->xy;
            for (uint32_t pb = 0; pb < b->nparts; pb++) {
                uint32_t nb = MSH_PART_LEN(b->parts[pb]);
                for (uint32_t j = 0; j < nb; j++)
                    if (segs_meet(p1, p2, bxy + 2 * j, bxy + 2 * ((j + 1) % nb)))
                        return true;
                bxy += 2 * nb;
            }
        }
        axy += 2 * na;
    }
    return false;
}

/* Is some vertex of `a` strictly inside `b`? */
static bool vertex_inside(const msh_bc_area *a, const msh_bc_area *b)
{
    for (uint32_t i = 0; i < a->npts; i++)
        if (msh_bc_area_contains(b, a->xy[2 * i], a->xy[2 * i + 1]))
            return true;
    return false;
}

bool msh_bc_area_intersects(const msh_bc_area *a, const msh_bc_area *b)
{
    if (!a->npts || !b->npts || a->bbox[2] < b->bbox[0] || a->bbox[0] > b->bbox[2] || a->bbox[3] < b->bbox[1] ||
        a->bbox[1] > b->bbox[3])
        return false;
    return vertex_inside(a, b) || vertex_inside(b, a) || edges_cross(a, b);
}

bool msh_bc_in_zone(const msh_broadcast *b, const char *zone)
{
    size_t n = strlen(zone);
    for (const char *p = b->zones; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == n && !memcmp(p, zone, n))
            return true;
        p = c ? c + 1 : p + len;
    }
    return false;
}

bool msh_bc_active(const msh_broadcast *b, int64_t now_ms)
{
    return !b->withdrawn_ms && b->expires_ms > now_ms;
}

/* ---- the body -------------------------------------------------------------------------------- */

/* Text of 1..max bytes without control characters (newline and tab allowed). */
static bool clean_text(const char *s, size_t len, size_t max, bool lines)
{
    if (!len || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(lines && (c == '\n' || c == '\t'))) || c == 0x7f)
            return false;
    }
    return true;
}

msh_rc msh_bc_messages(const json_t *msg, msh_broadcast *b, msh_err *err)
{
    if (!json_is_object(msg) || !json_object_size(msg))
        return msh_err_set(err, MSH_EINVAL, "message: an object of language code -> text, Arabic (ar) included");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)msg, k, v) {
        int li = -1;
        for (int i = 0; i < MSH_BC_NLANGS; i++)
            if (!strcmp(k, msh_bc_langs[i].code))
                li = i;
        if (li < 0) {
            msh_buf codes;
            msh_buf_init(&codes, 256);
            for (int i = 0; i < MSH_BC_NLANGS; i++)
                msh_buf_printf(&codes, "%s%s", i ? ", " : "", msh_bc_langs[i].code);
            msh_buf_putc(&codes, 0);
            msh_err_set(err, MSH_EINVAL, "message.%.16s: not a supported language (%s)", k, (const char *)codes.data);
            msh_buf_free(&codes);
            return MSH_EINVAL;
        }
        if (!json_is_string(v) || !clean_text(json_string_value(v), json_string_length(v), MSH_BC_TEXT_MAX, true))
            return msh_err_set(err, MSH_EINVAL, "message.%s: text of 1 to %d bytes without control characters", k,
                               MSH_BC_TEXT_MAX);
        free(b->text[li]);
        if (!(b->text[li] = strdup(json_string_value(v))))
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    if (!b->text[0])
        return msh_err_set(err, MSH_EINVAL, "message.ar: Arabic is required (other languages are optional)");
    return MSH_OK;
}

static msh_rc target_in(const json_t *t, msh_broadcast *b, msh_err *err)
{
    if (!json_is_object(t) || json_object_size(t) != 1)
        return msh_err_set(err, MSH_EINVAL, "target: an object with exactly one of zone, camp or geometry");
    const char *k = json_object_iter_key(json_object_iter((json_t *)t));
    const json_t *v = json_object_iter_value(json_object_iter((json_t *)t));
    if (!strcmp(k, "geometry")) {
        b->target = MSH_BC_GEOMETRY;
        return msh_bc_area_geojson_in(v, MSH_BC_MAX_VERTICES, &b->area, err);
    }
    if (strcmp(k, "zone") && strcmp(k, "camp"))
        return msh_err_set(err, MSH_EINVAL, "target: an object with exactly one of zone, camp or geometry");
    b->target = !strcmp(k, "zone") ? MSH_BC_ZONE : MSH_BC_CAMP;
    if (!json_is_string(v) || !clean_text(json_string_value(v), json_string_length(v), MSH_BC_ID_MAX, false))
        return msh_err_set(err, MSH_EINVAL, "target.%s: an id of 1 to %d bytes", k, MSH_BC_ID_MAX);
    snprintf(b->target_id, sizeof b->target_id, "%s", json_string_value(v));
    return MSH_OK;
}

static msh_rc body_in(const json_t *doc, int64_t now_ms, msh_broadcast *b, msh_err *err)
{
    if (!json_is_object(doc))
        return msh_err_set(err, MSH_EINVAL, "the body is a JSON object with target, message, severity and expires");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)doc, k, v) {
        if (strcmp(k, "target") && strcmp(k, "message") && strcmp(k, "severity") && strcmp(k, "expires"))
            return msh_err_set(err, MSH_EINVAL, "%.40s: not a member of a broadcast (target, message, severity, expires)",
                               k);
    }
    static const char *REQUIRED[] = {"target", "message", "severity", "expires"};
    for (int i = 0; i < 4; i++)
        if (!json_object_get(doc, REQUIRED[i]))
            return msh_err_set(err, MSH_EINVAL, "%s: required", REQUIRED[i]);
    msh_rc rc;
    if ((rc = target_in(json_object_get(doc, "target"), b, err)) ||
        (rc = msh_bc_messages(json_object_get(doc, "message"), b, err)))
        return rc;
    const json_t *sev = json_object_get(doc, "severity");
    int si = -1;
    for (int i = 0; i < 3 && json_is_string(sev); i++)
        if (!strcmp(json_string_value(sev), SEVERITIES[i]))
            si = i;
    if (si < 0)
        return msh_err_set(err, MSH_EINVAL, "severity: info, warning or danger");
    b->severity = (msh_bc_severity)si;
    const json_t *exp = json_object_get(doc, "expires");
    msh_err terr;
    if (!json_is_string(exp) ||
        msh_time_parse_iso(json_string_value(exp), json_string_length(exp), &b->expires_ms, &terr))
        return msh_err_set(err, MSH_EINVAL, "expires: an ISO 8601 UTC time such as 2026-05-27T12:00:00Z");
    if (b->expires_ms <= now_ms)
        return msh_err_set(err, MSH_EINVAL, "expires: a time in the future");
    if (b->expires_ms - now_ms > MSH_BC_EXPIRY_MAX_MS)
        return msh_err_set(err, MSH_EINVAL, "expires: at most 7 days from now");
    return MSH_OK;
}

msh_rc msh_bc_parse(const char *body, size_t len, int64_t now_ms, msh_broadcast *out, msh_err *err)
{
    memset(out, 0, sizeof *out);
    if (len > MSH_BC_BODY_MAX)
        return msh_err_set(err, MSH_ETOOBIG, "the body is over %zu bytes", MSH_BC_BODY_MAX);
    json_t *doc = NULL;
    msh_rc rc = msh_json_in(body, len, 8, &doc, err);
    if (rc)
        return rc;
    rc = body_in(doc, now_ms, out, err);
    json_decref(doc);
    return rc;
}

/* ---- out ------------------------------------------------------------------------------------- */

void msh_bc_messages_json(msh_buf *out, const msh_broadcast *b)
{
    msh_buf_putc(out, '{');
    bool first = true;
    for (int i = 0; i < MSH_BC_NLANGS; i++) {
        if (!b->text[i])
            continue;
        msh_buf_printf(out, "%s\"%s\":\"", first ? "" : ",", msh_bc_langs[i].code);
        msh_buf_json_str(out, b->text[i]);
        msh_buf_putc(out, '"');
        first = false;
    }
    msh_buf_putc(out, '}');
}

static void time_member(msh_buf *out, const char *name, int64_t ms)
{
    char iso[MSH_TIME_ISO_CAP];
    if (!ms) {
        msh_buf_printf(out, ",\"%s\":null", name);
        return;
    }
    msh_time_format_iso(ms, iso, sizeof iso, 0);
    msh_buf_printf(out, ",\"%s\":\"%s\"", name, iso);
}

void msh_bc_feature(msh_buf *out, const msh_broadcast *b, int64_t now_ms, bool with_author)
{
    msh_buf_printf(out, "{\"type\":\"Feature\",\"id\":\"%s\",\"geometry\":", b->id);
    msh_bc_area_geojson(out, &b->area);
    const char *status = b->withdrawn_ms ? "withdrawn" : b->expires_ms <= now_ms ? "expired" : "active";
    msh_buf_printf(out, ",\"properties\":{\"id\":\"%s\",\"status\":\"%s\",\"severity\":\"%s\",\"target\":{\"%s\":", b->id,
                   status, SEVERITIES[b->severity], TARGETS[b->target]);
    if (b->target == MSH_BC_GEOMETRY) {
        msh_buf_printf(out, "true");
    } else {
        msh_buf_putc(out, '"');
        msh_buf_json_str(out, b->target_id);
        msh_buf_putc(out, '"');
    }
    msh_buf_printf(out, "},\"message\":");
    msh_bc_messages_json(out, b);
    msh_buf_printf(out, ",\"dir\":{");
    bool first = true;
    for (int i = 0; i < MSH_BC_NLANGS; i++)
        if (b->text[i]) {
            msh_buf_printf(out, "%s\"%s\":\"%s\"", first ? "" : ",", msh_bc_langs[i].code,
                           msh_bc_langs[i].rtl ? "rtl" : "ltr");
            first = false;
        }
    msh_buf_printf(out, "},\"zones\":[");
    first = true;
    for (const char *p = b->zones; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        char z[MSH_BC_ID_MAX + 1];
        snprintf(z, sizeof z, "%.*s", (int)(len > MSH_BC_ID_MAX ? MSH_BC_ID_MAX : len), p);
        msh_buf_printf(out, "%s\"", first ? "" : ",");
        msh_buf_json_str(out, z);
        msh_buf_putc(out, '"');
        first = false;
        p = c ? c + 1 : p + len;
    }
    msh_buf_putc(out, ']');
    time_member(out, "created", b->created_ms);
    time_member(out, "expires", b->expires_ms);
    time_member(out, "withdrawn", b->withdrawn_ms);
    if (with_author) {
        msh_buf_printf(out, ",\"author\":{\"name\":\"");
        msh_buf_json_str(out, b->by_name);
        msh_buf_printf(out, "\",\"role\":\"");
        msh_buf_json_str(out, b->by_role);
        msh_buf_printf(out, "\"}");
    }
    msh_buf_printf(out, "}}");
}
