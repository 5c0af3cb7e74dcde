/* routes_ogc_json.c: JSON values and GeoJSON features for /ogc, written straight into a buffer.
 *
 * The hot path of an items page: coordinates go through a fixed-point formatter (9 decimals,
 * 0.1 mm) instead of printf, integers through a digit loop, reals in the shortest form that
 * reads back to the same double. Strings are escaped with their explicit length. Geometry in
 * another CRS than CRS84 (OGC API - Features Part 2) goes through exporters/features/crs_ref.h a
 * block of vertices at a time, written with 9 decimals for degrees and 4 for metres.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "routes/ogc.h"

void ogc_json_str(msh_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        msh_buf_append(b, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            uint8_t e[2] = {'\\', c};
            msh_buf_append(b, e, 2);
        } else {
            uint8_t e[6] = {'\\', 'u', '0', '0', (uint8_t)hex[c >> 4], (uint8_t)hex[c & 15]};
            msh_buf_append(b, e, 6);
        }
    }
    msh_buf_append(b, s + run, len - run);
}

static void json_cstr(msh_buf *b, const char *s)
{
    ogc_json_str(b, s, strlen(s));
}

static char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_i64(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return put_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(p, (uint64_t)v);
}

void ogc_json_value(msh_buf *b, const msh_value *v)
{
    char tmp[40];
    switch (v->type) {
    case MSH_FT_INT:
        msh_buf_append(b, tmp, (size_t)(put_i64(tmp, v->u.i) - tmp));
        return;
    case MSH_FT_REAL: {
        if (!isfinite(v->u.d)) {
            msh_buf_append(b, "null", 4);
            return;
        }
        /* the shortest of %.15g / %.17g that reads back as the same double */
        int n = snprintf(tmp, sizeof tmp, "%.15g", v->u.d);
        if (strtod(tmp, NULL) != v->u.d)
            n = snprintf(tmp, sizeof tmp, "%.17g", v->u.d);
        msh_buf_append(b, tmp, (size_t)n);
        return;
    }
    case MSH_FT_BOOL:
        msh_buf_printf(b, "%s", v->u.i ? "true" : "false");
        return;
    case MSH_FT_STRING:
        msh_buf_putc(b, '"');
        ogc_json_str(b, v->u.s, v->len);
        msh_buf_putc(b, '"');
        return;
    default:
        msh_buf_append(b, "null", 4);
    }
}

/* A coordinate with up to `dec` decimals (9: degrees, 4: metres; 0.1 mm either way), trailing zeros
 * dropped (no printf: hot path). Coordinates are finite and under 1e8 (crs_ref.h's CRSs). */
static char *put_fixed(char *p, double v, int dec)
{
    static const int64_t scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};
    int64_t q = llround(v * (double)scale[dec]);
    if (q < 0) {
        *p++ = '-';
        q = -q;
    }
    p = put_u64(p, (uint64_t)(q / scale[dec]));
    int64_t frac = q % scale[dec];
    if (frac) {
        *p++ = '.';
        char d[9];
        for (int i = dec - 1; i >= 0; i--) {
            d[i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        int n = dec;
        while (d[n - 1] == '0')
            n--;
        memcpy(p, d, (size_t)n);
        p += n;
    }
    return p;
}

static char *put_deg(char *p, double v)
{
    return put_fixed(p, v, 9);
}

/* [lon,lat],[lon,lat],... of n world-unit vertices. */
static void coords_crs84(msh_buf *b, const double *xy, uint32_t n)
{
    char tmp[64];
    for (uint32_t i = 0; i < n; i++) {
        double lon, lat;
        msh_world_to_lonlat(xy[2 * i], xy[2 * i + 1], &lon, &lat);
        char *p = tmp;
        if (i)
            *p++ = ',';
        *p++ = '[';
        p = put_deg(p, lon);
        *p++ = ',';
        p = put_deg(p, lat);
        *p++ = ']';
        msh_buf_append(b, tmp, (size_t)(p - tmp));
    }
}

/* The same in another CRS (crs_ref.h), converted a block at a time; a point PROJ has no answer for
 * fails the buffer (the page is answered 500, never written with a hole). */
static void coords(msh_buf *b, const double *xy, uint32_t n, msh_crs crs)
{
    if (crs == MSH_CRS_CRS84) {
        coords_crs84(b, xy, n);
        return;
    }
    enum { BLOCK = 256 };
    double t[2 * BLOCK];
    char tmp[64];
    int dec = msh_crs_decimals(crs);
    for (uint32_t i0 = 0; i0 < n; i0 += BLOCK) {
        uint32_t m = n - i0 < BLOCK ? n - i0 : BLOCK;
        memcpy(t, xy + 2 * (size_t)i0, 2 * sizeof *t * m);
        msh_err err;
        if (msh_crs_from_world(crs, t, m, &err)) {
            b->err = MSH_EIO;
            return;
        }
        for (uint32_t i = 0; i < m; i++) {
            char *p = tmp;
            if (i0 + i)
                *p++ = ',';
            *p++ = '[';
            p = put_fixed(p, t[2 * i], dec);
            *p++ = ',';
            p = put_fixed(p, t[2 * i + 1], dec);
            *p++ = ']';
            msh_buf_append(b, tmp, (size_t)(p - tmp));
        }
    }
}

static void geometry_json(msh_buf *b, const msh_geom *g, msh_crs crs)
{
    if (g->type == MSH_GT_POINT) {
        if (g->npts == 1 && crs != MSH_CRS_CRS84) {
            msh_buf_printf(b, "{\"type\":\"Point\",\"coordinates\":");
            coords(b, g->xy, 1, crs);
            msh_buf_putc(b, '}');
            return;
        }
        if (g->npts == 1) {
            msh_buf_printf(b, "{\"type\":\"Point\",\"coordinates\":");
            msh_buf_reserve(b, 64);
            char tmp[64], *p = tmp;
            double lon, lat;
            msh_world_to_lonlat(g->xy[0], g->xy[1], &lon, &lat);
            *p++ = '[';
            p = put_deg(p, lon);
            *p++ = ',';
            p = put_deg(p, lat);
            *p++ = ']';
            *p++ = '}';
            msh_buf_append(b, tmp, (size_t)(p - tmp));
            return;
        }
        msh_buf_printf(b, "{\"type\":\"MultiPoint\",\"coordinates\":[");
        coords(b, g->xy, g->npts, crs);
        msh_buf_printf(b, "]}");
        return;
    }
    if (g->type == MSH_GT_LINE) {
        bool multi = g->nparts != 1;
        msh_buf_printf(b, "{\"type\":\"%s\",\"coordinates\":[", multi ? "MultiLineString" : "LineString");
        uint32_t off = 0;
        for (uint32_t p = 0; p < g->nparts; p++) {
            uint32_t n = MSH_PART_LEN(g->parts[p]);
            if (multi)
                msh_buf_printf(b, "%s[", p ? "," : "");
            coords(b, g->xy + 2 * (size_t)off, n, crs);
            if (multi)
                msh_buf_putc(b, ']');
            off += n;
        }
        msh_buf_printf(b, "]}");
        return;
    }
    if (g->type == MSH_GT_POLYGON) {
        uint32_t outers = 0;
        for (uint32_t p = 0; p < g->nparts; p++)
            outers += (g->parts[p] & MSH_RING_OUTER) != 0;
        bool multi = outers > 1;
        msh_buf_printf(b, "{\"type\":\"%s\",\"coordinates\":[", multi ? "MultiPolygon" : "Polygon");
        uint32_t off = 0;
        for (uint32_t p = 0; p < g->nparts; p++) {
            uint32_t n = MSH_PART_LEN(g->parts[p]);
            bool outer = (g->parts[p] & MSH_RING_OUTER) || p == 0;
            if (multi && outer)
                msh_buf_printf(b, "%s[", p ? "]," : "");
            else if (p)
                msh_buf_putc(b, ',');
            msh_buf_putc(b, '[');
            coords(b, g->xy + 2 * (size_t)off, n, crs);
            msh_buf_putc(b, ']');
            off += n;
        }
        msh_buf_printf(b, "%s]}", multi ? "]" : "");
        return;
    }
    msh_buf_printf(b, "null");
}

void ogc_feature_json(msh_buf *b, const msh_layer_info *li, const msh_feature *f)
{
    ogc_feature_json_crs(b, li, f, MSH_CRS_CRS84);
}

void ogc_feature_json_crs(msh_buf *b, const msh_layer_info *li, const msh_feature *f, msh_crs crs)
{
    char tmp[48], *p = tmp;
    memcpy(p, "{\"type\":\"Feature\",\"id\":", 23);
    p = put_u64(p + 23, f->id);
    msh_buf_append(b, tmp, (size_t)(p - tmp));
    msh_buf_append(b, ",\"geometry\":", 12);
    geometry_json(b, &f->geom, crs);
    msh_buf_append(b, ",\"properties\":{", 15);
    for (uint32_t i = 0; i < li->nfields; i++) {
        if (i)
            msh_buf_putc(b, ',');
        msh_buf_putc(b, '"');
        json_cstr(b, li->fields[i].name);
        msh_buf_append(b, "\":", 2);
        static const msh_value null_value = {0, 0, {0}};
        ogc_json_value(b, f->values ? &f->values[i] : &null_value);
    }
    msh_buf_append(b, "}}", 2);
}

