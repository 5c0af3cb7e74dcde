/* qgeom.c: WKT reader and exact intersects for query geometries (see qgeom.h). */
#include "qgeom.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/msh_grow.h"
#include "core/msh_tilemath.h"
#include "core/msh_pip.h"

void msh_qgeom_init(msh_qgeom *g)
{
    memset(g, 0, sizeof *g);
}

void msh_qgeom_free(msh_qgeom *g)
{
    free(g->xy);
    free(g->paths);
    msh_qgeom_init(g);
}

void msh_qgeom_reset(msh_qgeom *g)
{
    g->npts = 0;
    g->npaths = 0;
    g->npolys = 0;
}

static msh_rc add_point(msh_qgeom *g, double x, double y)
{
    if (msh_grow_from((void **)&g->xy, &g->cap_pts, g->npts + 1, 2 * sizeof *g->xy, 64))
        return MSH_ENOMEM;
    if (g->npts == 0) {
        g->bbox[0] = g->bbox[2] = x;
        g->bbox[1] = g->bbox[3] = y;
    } else {
        if (x < g->bbox[0]) g->bbox[0] = x;
        if (x > g->bbox[2]) g->bbox[2] = x;
        if (y < g->bbox[1]) g->bbox[1] = y;
        if (y > g->bbox[3]) g->bbox[3] = y;
    }
    g->xy[2 * g->npts] = x;
    g->xy[2 * g->npts + 1] = y;
    g->npts++;
    return MSH_OK;
}

/* Start a path at the next vertex. */
static msh_rc add_path(msh_qgeom *g, uint8_t kind, int32_t poly)
{
    if (msh_grow((void **)&g->paths, &g->cap_paths, g->npaths + 1, sizeof *g->paths))
        return MSH_ENOMEM;
    g->paths[g->npaths++] = (msh_qpath){(uint32_t)g->npts, 0, poly, kind};
    return MSH_OK;
}

msh_rc msh_qgeom_add_box(msh_qgeom *g, double w, double s, double e, double n)
{
    msh_rc rc = add_path(g, MSH_QP_RING, g->npolys++);
    const double c[10] = {w, s, e, s, e, n, w, n, w, s};
    for (int i = 0; i < 5 && !rc; i++)
        rc = add_point(g, c[2 * i], c[2 * i + 1]);
    if (!rc)
        g->paths[g->npaths - 1].n = 5;
    return rc;
}

msh_rc msh_qgeom_from_feature(msh_qgeom *g, const msh_geom *fg)
{
    msh_qgeom_reset(g);
    msh_rc rc = MSH_OK;
    if (fg->type == MSH_GT_POINT) {
        for (uint32_t i = 0; i < fg->npts && !rc; i++) {
            double lon, lat;
            msh_world_to_lonlat(fg->xy[2 * i], fg->xy[2 * i + 1], &lon, &lat);
            if (!(rc = add_path(g, MSH_QP_POINT, -1)) && !(rc = add_point(g, lon, lat)))
                g->paths[g->npaths - 1].n = 1;
        }
        return rc;
    }
    uint32_t off = 0;
    for (uint32_t p = 0; p < fg->nparts && !rc; p++) {
        uint32_t n = MSH_PART_LEN(fg->parts[p]);
        if (n > fg->npts - off)
            return MSH_EINTERNAL;
        if (fg->type == MSH_GT_POLYGON) {
            if ((fg->parts[p] & MSH_RING_OUTER) || g->npolys == 0)
                g->npolys++;
            rc = add_path(g, MSH_QP_RING, g->npolys - 1);
        } else {
            rc = add_path(g, MSH_QP_LINE, -1);
        }
        for (uint32_t i = 0; i < n && !rc; i++) {
            double lon, lat;
            msh_world_to_lonlat(fg->xy[2 * (off + i)], fg->xy[2 * (off + i) + 1], &lon, &lat);
            rc = add_point(g, lon, lat);
        }
        if (!rc)
            g->paths[g->npaths - 1].n = n;
        off += n;
    }
    return rc;
}

/* ---- WKT ---------------------------------------------------------------------------------- */

typedef struct {
    const char *s;
    size_t len, pos;
    msh_qgeom *g;
    msh_err *err;
} wkt;

static void skip_ws(wkt *w)
{
    while (w->pos < w->len && isspace((unsigned char)w->s[w->pos]))
        w->pos++;
}

static msh_rc fail(wkt *w, const char *what)
{
    return msh_err_set(w->err, MSH_EINVAL, "geometry at character %zu: %s", w->pos + 1, what);
}

/* The keyword at the cursor (letters and '_'), case-insensitive; consumed when it is `kw`. */
static bool take_kw(wkt *w, const char *kw)
{
    skip_ws(w);
    size_t n = strlen(kw);
    if (w->len - w->pos < n || strncasecmp(w->s + w->pos, kw, n))
        return false;
    if (w->pos + n < w->len && (isalnum((unsigned char)w->s[w->pos + n]) || w->s[w->pos + n] == '_'))
        return false;
    w->pos += n;
    return true;
}

static bool take_ch(wkt *w, char c)
{
    skip_ws(w);
    if (w->pos < w->len && w->s[w->pos] == c) {
        w->pos++;
        return true;
    }
    return false;
}

static msh_rc number(wkt *w, double *out)
{
    skip_ws(w);
    char tmp[64];
    size_t n = 0;
    while (w->pos + n < w->len && n < sizeof tmp - 1 &&
           (isdigit((unsigned char)w->s[w->pos + n]) || strchr("+-.eE", w->s[w->pos + n])))
        n++;
    if (n == 0 || n == sizeof tmp - 1)
        return fail(w, "expected a number");
    memcpy(tmp, w->s + w->pos, n);
    tmp[n] = 0;
    char *end;
    double v = strtod(tmp, &end);
    if (*end || !isfinite(v))
        return fail(w, "not a finite number");
    w->pos += n;
    *out = v;
    return MSH_OK;
}

/* One coordinate: 2 to 4 numbers separated by spaces; only x and y are kept. */
static msh_rc coord(wkt *w)
{
    double x, y, extra;
    msh_rc rc;
    if ((rc = number(w, &x)) || (rc = number(w, &y)))
        return rc;
    for (int i = 0; i < 2; i++) {
        skip_ws(w);
        if (w->pos >= w->len || w->s[w->pos] == ',' || w->s[w->pos] == ')')
            break;
        if ((rc = number(w, &extra)))
            return rc;
    }
    if (w->g->npts >= MSH_QGEOM_MAX_POINTS)
        return msh_err_set(w->err, MSH_EINVAL, "geometry has more than %d vertices", MSH_QGEOM_MAX_POINTS);
    if (add_point(w->g, x, y))
        return msh_err_set(w->err, MSH_ENOMEM, "out of memory reading a geometry");
    return MSH_OK;
}

static bool take_empty(wkt *w)
{
    return take_kw(w, "EMPTY");
}

/* Optional Z / M / ZM after the type name. */
static void dims(wkt *w)
{
    if (!take_kw(w, "ZM") && !take_kw(w, "Z"))
        take_kw(w, "M");
}

/* "(x y, x y ...)" as one path of `kind`. */
static msh_rc path(wkt *w, uint8_t kind, int32_t poly)
{
    if (!take_ch(w, '('))
        return fail(w, "expected '('");
    if (add_path(w->g, kind, poly))
        return msh_err_set(w->err, MSH_ENOMEM, "out of memory reading a geometry");
    size_t pi = w->g->npaths - 1;
    uint32_t start = (uint32_t)w->g->npts;
    msh_rc rc;
    do {
        if ((rc = coord(w)))
            return rc;
    } while (take_ch(w, ','));
    if (!take_ch(w, ')'))
        return fail(w, "expected ',' or ')' in a coordinate list");
    uint32_t n = (uint32_t)w->g->npts - start;
    w->g->paths[pi].n = n;
    if (kind == MSH_QP_LINE && n < 2)
        return fail(w, "a LINESTRING needs at least 2 points");
    if (kind == MSH_QP_POINT && n != 1)
        return fail(w, "a POINT has exactly one coordinate");
    if (kind == MSH_QP_RING) {
        const double *a = w->g->xy + 2 * start, *b = w->g->xy + 2 * (start + n - 1);
        if (n < 4)
            return fail(w, "a polygon ring needs at least 4 points");
        if (a[0] != b[0] || a[1] != b[1])
            return fail(w, "a polygon ring must be closed (last point = first point)");
    }
    return MSH_OK;
}

static msh_rc polygon_body(wkt *w)
{
    if (take_empty(w))
        return MSH_OK;
    if (!take_ch(w, '('))
        return fail(w, "expected '(' to open a polygon");
    int32_t poly = w->g->npolys++;
    msh_rc rc;
    do {
        if ((rc = path(w, MSH_QP_RING, poly)))
            return rc;
    } while (take_ch(w, ','));
    return take_ch(w, ')') ? MSH_OK : fail(w, "expected ',' or ')' after a ring");
}

/* A MULTI* body: "(" member {"," member} ")" or EMPTY; MULTIPOINT members may lack parentheses. */
static msh_rc multi_body(wkt *w, int member)
{
    if (take_empty(w))
        return MSH_OK;
    if (!take_ch(w, '('))
        return fail(w, "expected '('");
    msh_rc rc;
    do {
        if (member == MSH_QP_POINT) {
            skip_ws(w);
            if (w->pos < w->len && w->s[w->pos] == '(')
                rc = path(w, MSH_QP_POINT, -1);
            else if (!(rc = add_path(w->g, MSH_QP_POINT, -1)) && !(rc = coord(w)))
                w->g->paths[w->g->npaths - 1].n = 1; /* a bare "x y" member */
        } else if (member == MSH_QP_LINE) {
            rc = take_empty(w) ? MSH_OK : path(w, MSH_QP_LINE, -1);
        } else {
            rc = polygon_body(w);
        }
        if (rc)
            return rc == MSH_ENOMEM ? msh_err_set(w->err, MSH_ENOMEM, "out of memory reading a geometry") : rc;
    } while (take_ch(w, ','));
    return take_ch(w, ')') ? MSH_OK : fail(w, "expected ',' or ')'");
}

static msh_rc geometry(wkt *w, int depth)
{
    if (depth > MSH_QGEOM_MAX_DEPTH)
        return fail(w, "GEOMETRYCOLLECTION nested too deep");
    msh_rc rc;
    if (take_kw(w, "POINT")) {
        dims(w);
        return take_empty(w) ? MSH_OK : path(w, MSH_QP_POINT, -1);
    }
    if (take_kw(w, "LINESTRING")) {
        dims(w);
        return take_empty(w) ? MSH_OK : path(w, MSH_QP_LINE, -1);
    }
    if (take_kw(w, "POLYGON")) {
        dims(w);
        return polygon_body(w);
    }
    if (take_kw(w, "MULTIPOINT")) {
        dims(w);
        return multi_body(w, MSH_QP_POINT);
    }
    if (take_kw(w, "MULTILINESTRING")) {
        dims(w);
        return multi_body(w, MSH_QP_LINE);
    }
    if (take_kw(w, "MULTIPOLYGON")) {
        dims(w);
        return multi_body(w, MSH_QP_RING);
    }
    if (take_kw(w, "GEOMETRYCOLLECTION")) {
        dims(w);
        if (take_empty(w))
            return MSH_OK;
        if (!take_ch(w, '('))
            return fail(w, "expected '(' after GEOMETRYCOLLECTION");
        do {
            if ((rc = geometry(w, depth + 1)))
                return rc;
        } while (take_ch(w, ','));
        return take_ch(w, ')') ? MSH_OK : fail(w, "expected ',' or ')' in a GEOMETRYCOLLECTION");
    }
    if (take_kw(w, "BBOX") || take_kw(w, "ENVELOPE")) {
        double v[6];
        int n = 0;
        if (!take_ch(w, '('))
            return fail(w, "expected '(' after BBOX");
        do {
            if (n == 6)
                return fail(w, "BBOX takes 4 or 6 numbers");
            if ((rc = number(w, &v[n++])))
                return rc;
        } while (take_ch(w, ','));
        if (!take_ch(w, ')'))
            return fail(w, "expected ',' or ')' in BBOX");
        if (n != 4 && n != 6)
            return fail(w, "BBOX takes 4 numbers (west, south, east, north) or 6 (with heights)");
        double west = v[0], south = v[1], east = n == 4 ? v[2] : v[3], north = n == 4 ? v[3] : v[4];
        if (south > north)
            return fail(w, "BBOX south is above north");
        if (west <= east)
            return msh_qgeom_add_box(w->g, west, south, east, north) ? fail(w, "out of memory") : MSH_OK;
        /* across the antimeridian: two boxes */
        if (msh_qgeom_add_box(w->g, west, south, 180, north) || msh_qgeom_add_box(w->g, -180, south, east, north))
            return fail(w, "out of memory");
        return MSH_OK;
    }
    return fail(w, "expected a geometry (POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON, "
                   "GEOMETRYCOLLECTION or BBOX)");
}

msh_rc msh_qgeom_parse_wkt(const char *s, size_t len, size_t *used, msh_qgeom *g, msh_err *err)
{
    wkt w = {s, len, 0, g, err};
    msh_rc rc = geometry(&w, 0);
    *used = w.pos;
    return rc;
}

/* ---- intersects ----------------------------------------------------------------------------- */

static inline double orient(const double *a, const double *b, const double *c)
{
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

/* p on segment ab (p collinear and inside its box). */
static inline bool on_segment(const double *a, const double *b, const double *p)
{
    return orient(a, b, p) == 0 && fmin(a[0], b[0]) <= p[0] && p[0] <= fmax(a[0], b[0]) &&
           fmin(a[1], b[1]) <= p[1] && p[1] <= fmax(a[1], b[1]);
}

static bool segments_meet(const double *p1, const double *p2, const double *q1, const double *q2)
{
    if (fmax(p1[0], p2[0]) < fmin(q1[0], q2[0]) || fmax(q1[0], q2[0]) < fmin(p1[0], p2[0]) ||
        fmax(p1[1], p2[1]) < fmin(q1[1], q2[1]) || fmax(q1[1], q2[1]) < fmin(p1[1], p2[1]))
        return false;
    double d1 = orient(q1, q2, p1), d2 = orient(q1, q2, p2), d3 = orient(p1, p2, q1), d4 = orient(p1, p2, q2);
    if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)))
        return true;
    return on_segment(q1, q2, p1) || on_segment(q1, q2, p2) || on_segment(p1, p2, q1) || on_segment(p1, p2, q2);
}

/* p in or on g: equal to a point, on a line or ring, or inside a polygon (even-odd over its rings). */
static bool point_in(const msh_qgeom *g, const double *p)
{
    if (p[0] < g->bbox[0] || p[0] > g->bbox[2] || p[1] < g->bbox[1] || p[1] > g->bbox[3])
        return false;
    for (size_t i = 0; i < g->npaths; i++) {
        const msh_qpath *pa = &g->paths[i];
        const double *v = g->xy + 2 * (size_t)pa->off;
        if (pa->kind == MSH_QP_POINT) {
            if (pa->n && v[0] == p[0] && v[1] == p[1])
                return true;
            continue;
        }
        for (uint32_t k = 0; k + 1 < pa->n; k++)
            if (on_segment(v + 2 * k, v + 2 * k + 2, p))
                return true;
    }
    /* interior of each polygon: crossings over all its rings */
    for (int32_t poly = 0; poly < g->npolys; poly++) {
        bool in = false;
        for (size_t i = 0; i < g->npaths; i++) {
            const msh_qpath *pa = &g->paths[i];
            if (pa->kind != MSH_QP_RING || pa->poly != poly)
                continue;
            in ^= msh_ring_odd(g->xy + 2 * (size_t)pa->off, pa->n, p[0], p[1]);
        }
        if (in)
            return true;
    }
    return false;
}

static bool any_vertex_in(const msh_qgeom *a, const msh_qgeom *b)
{
    for (size_t i = 0; i < a->npts; i++)
        if (point_in(b, a->xy + 2 * i))
            return true;
    return false;
}

static bool boundaries_meet(const msh_qgeom *a, const msh_qgeom *b)
{
    for (size_t i = 0; i < a->npaths; i++) {
        const msh_qpath *pa = &a->paths[i];
        if (pa->kind == MSH_QP_POINT)
            continue;
        const double *va = a->xy + 2 * (size_t)pa->off;
        for (uint32_t k = 0; k + 1 < pa->n; k++) {
            const double *p1 = va + 2 * k, *p2 = p1 + 2;
            if (fmax(p1[0], p2[0]) < b->bbox[0] || fmin(p1[0], p2[0]) > b->bbox[2] ||
                fmax(p1[1], p2[1]) < b->bbox[1] || fmin(p1[1], p2[1]) > b->bbox[3])
                continue;
            for (size_t j = 0; j < b->npaths; j++) {
                const msh_qpath *pb = &b->paths[j];
                if (pb->kind == MSH_QP_POINT)
                    continue;
                const double *vb = b->xy + 2 * (size_t)pb->off;
                for (uint32_t m = 0; m + 1 < pb->n; m++)
                    if (segments_meet(p1, p2, vb + 2 * m, vb + 2 * m + 2))
                        return true;
            }
        }
    }
    return false;
}

bool msh_qgeom_intersects(const msh_qgeom *a, const msh_qgeom *b)
{
    if (!a->npts || !b->npts)
        return false; /* EMPTY meets nothing */
    if (a->bbox[2] < b->bbox[0] || b->bbox[2] < a->bbox[0] || a->bbox[3] < b->bbox[1] || b->bbox[3] < a->bbox[1])
        return false;
    return any_vertex_in(a, b) || any_vertex_in(b, a) || boundaries_meet(a, b);
}
