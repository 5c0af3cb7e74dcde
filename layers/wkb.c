/* wkb.c: a strict, allocation-capped reader of OGC WKB into msh_geom_buf. */
#include "geom.h"

#include <math.h>
#include <string.h>

#include "core/msh_le.h"

#define WKB_MAX_DEPTH 8

typedef struct {
    const uint8_t *p, *end;
    msh_geom_buf *out;
    msh_err *err;
} wkb_rd;

const char *msh_gtype_name(msh_gtype t)
{
    switch (t) {
    case MSH_GT_POINT: return "Point";
    case MSH_GT_LINE: return "LineString";
    case MSH_GT_POLYGON: return "Polygon";
    default: return "Unknown";
    }
}

msh_gtype msh_gtype_parse(const char *n)
{
    if (!n) return MSH_GT_NONE;
    if (!strcmp(n, "Point") || !strcmp(n, "MultiPoint")) return MSH_GT_POINT;
    if (!strcmp(n, "LineString") || !strcmp(n, "MultiLineString")) return MSH_GT_LINE;
    if (!strcmp(n, "Polygon") || !strcmp(n, "MultiPolygon")) return MSH_GT_POLYGON;
    return MSH_GT_NONE;
}

void msh_geom_buf_init(msh_geom_buf *g, size_t max_vertices)
{
    g->type = MSH_GT_NONE;
    msh_buf_init(&g->xy, max_vertices * 2 * sizeof(double));
    msh_buf_init(&g->parts, max_vertices * sizeof(uint32_t));
}

void msh_geom_buf_free(msh_geom_buf *g)
{
    msh_buf_free(&g->xy);
    msh_buf_free(&g->parts);
}

msh_geom msh_geom_buf_view(const msh_geom_buf *g)
{
    msh_geom v;
    v.type = g->type;
    v.npts = (uint32_t)(g->xy.len / (2 * sizeof(double)));
    v.nparts = (uint32_t)(g->parts.len / sizeof(uint32_t));
    v.xy = (const double *)(const void *)g->xy.data;
    v.parts = (const uint32_t *)(const void *)g->parts.data;
    return v;
}

static msh_rc rd_fail(wkb_rd *r, const char *what)
{
    return msh_err_set(r->err, MSH_EFORMAT, "bad WKB: %s", what);
}

static msh_rc rd_u32(wkb_rd *r, int le, uint32_t *v)
{
    if (r->end - r->p < 4)
        return rd_fail(r, "truncated");
    const uint8_t *p = r->p;
    *v = le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
            : (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
    r->p += 4;
    return MSH_OK;
}

static double rd_f64_at(const uint8_t *p, int le)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)p[le ? i : 7 - i] << (8 * i);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* Read `n` points of `dim` doubles each, keeping x and y. */
static msh_rc rd_points(wkb_rd *r, int le, uint32_t n, int dim)
{
    size_t need = (size_t)n * (size_t)dim * 8;
    if ((size_t)(r->end - r->p) < need)
        return rd_fail(r, "truncated coordinates");
    msh_rc rc = msh_buf_reserve(&r->out->xy, (size_t)n * 2 * sizeof(double));
    if (rc)
        return msh_err_set(r->err, rc, "geometry has too many vertices");
    for (uint32_t i = 0; i < n; i++) {
        double xy[2] = {rd_f64_at(r->p, le), rd_f64_at(r->p + 8, le)};
        if (!isfinite(xy[0]) || !isfinite(xy[1]))
            return rd_fail(r, "non-finite coordinate");
        msh_buf_append(&r->out->xy, xy, sizeof xy);
        r->p += (size_t)dim * 8;
    }
    return MSH_OK;
}

static msh_rc rd_part(wkb_rd *r, uint32_t len)
{
    msh_rc rc = msh_buf_append(&r->out->parts, &len, sizeof len);
    return rc ? msh_err_set(r->err, rc, "geometry has too many parts") : MSH_OK;
}

static msh_rc rd_geom(wkb_rd *r, int depth)
{
    if (depth > WKB_MAX_DEPTH)
        return rd_fail(r, "collections nested too deep");
    if (r->p >= r->end)
        return rd_fail(r, "truncated");
    uint8_t order = *r->p++;
    if (order > 1)
        return rd_fail(r, "byte order flag");
    int le = order == 1;
    uint32_t t;
    msh_rc rc = rd_u32(r, le, &t);
    if (rc)
        return rc;
    int dim = 2;
    if (t & 0x80000000u) dim++; /* EWKB Z */
    if (t & 0x40000000u) dim++; /* EWKB M */
    if (t & 0x20000000u) {      /* EWKB SRID */
        uint32_t srid;
        if ((rc = rd_u32(r, le, &srid)))
            return rc;
    }
    t &= 0x0fffffff;
    if (t >= 1000 && t < 4000) {
        dim += t >= 3000 ? 2 : 1;
        t %= 1000;
    }
    uint32_t n;
    switch (t) {
    case 1: /* Point */
        if (r->out->type == MSH_GT_NONE) r->out->type = MSH_GT_POINT;
        if (r->out->type != MSH_GT_POINT) { /* mixed collection: skip */
            if ((size_t)(r->end - r->p) < (size_t)dim * 8) return rd_fail(r, "truncated");
            r->p += dim * 8;
            return MSH_OK;
        }
        {
            /* POINT EMPTY is NaN NaN: skip it */
            if ((size_t)(r->end - r->p) < (size_t)dim * 8) return rd_fail(r, "truncated");
            if (isnan(rd_f64_at(r->p, le)) && isnan(rd_f64_at(r->p + 8, le))) {
                r->p += dim * 8;
                return MSH_OK;
            }
        }
        return rd_points(r, le, 1, dim);
    case 2: { /* LineString */
        if ((rc = rd_u32(r, le, &n)))
            return rc;
        int keep = r->out->type == MSH_GT_NONE || r->out->type == MSH_GT_LINE;
        if (!keep) {
            if ((size_t)(r->end - r->p) / ((size_t)dim * 8) < n) return rd_fail(r, "truncated");
            r->p += (size_t)n * dim * 8;
            return MSH_OK;
        }
        if (n == 0)
            return MSH_OK;
        r->out->type = MSH_GT_LINE;
        if ((rc = rd_points(r, le, n, dim)))
            return rc;
        return rd_part(r, n);
    }
    case 3: { /* Polygon */
        uint32_t nrings;
        if ((rc = rd_u32(r, le, &nrings)))
            return rc;
        int keep = r->out->type == MSH_GT_NONE || r->out->type == MSH_GT_POLYGON;
        for (uint32_t i = 0; i < nrings; i++) {
            if ((rc = rd_u32(r, le, &n)))
                return rc;
            if (!keep) {
                if ((size_t)(r->end - r->p) / ((size_t)dim * 8) < n) return rd_fail(r, "truncated");
                r->p += (size_t)n * dim * 8;
                continue;
            }
            if (n == 0)
                continue;
            if (n > 0x7fffffffu)
                return rd_fail(r, "ring too long");
            r->out->type = MSH_GT_POLYGON;
            if ((rc = rd_points(r, le, n, dim)))
                return rc;
            if ((rc = rd_part(r, i == 0 ? (n | MSH_RING_OUTER) : n)))
                return rc;
        }
        return MSH_OK;
    }
    case 4: case 5: case 6: case 7: { /* Multi* and GeometryCollection */
        if ((rc = rd_u32(r, le, &n)))
            return rc;
        /* each member takes at least 5 bytes: reject counts the input cannot hold */
        if ((size_t)(r->end - r->p) / 5 < n)
            return rd_fail(r, "member count larger than the input");
        for (uint32_t i = 0; i < n; i++)
            if ((rc = rd_geom(r, depth + 1)))
                return rc;
        return MSH_OK;
    }
    default:
        return rd_fail(r, "unsupported geometry type");
    }
}

msh_rc msh_wkb_read(const uint8_t *wkb, size_t len, msh_geom_buf *out, msh_err *err)
{
    msh_buf_reset(&out->xy);
    msh_buf_reset(&out->parts);
    out->type = MSH_GT_NONE;
    wkb_rd r = {wkb, wkb + len, out, err};
    if (!wkb || len == 0)
        return rd_fail(&r, "empty");
    msh_rc rc = rd_geom(&r, 0);
    if (rc == MSH_OK && r.p != r.end)
        rc = rd_fail(&r, "trailing bytes");
    return rc;
}

void msh_wkb_box(const double b[4], uint8_t out[MSH_WKB_BOX_LEN])
{
    const double ring[5][2] = {{b[0], b[1]}, {b[2], b[1]}, {b[2], b[3]}, {b[0], b[3]}, {b[0], b[1]}};
    out[0] = 1; /* little-endian */
    msh_le32_put(out + 1, 3);
    msh_le32_put(out + 5, 1);
    msh_le32_put(out + 9, 5);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 2; j++) {
            uint64_t u;
            memcpy(&u, &ring[i][j], 8);
            msh_le64_put(out + 13 + 16 * i + 8 * j, u);
        }
}
