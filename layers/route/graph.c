/* graph.c: building the walking graph from line layers, and snapping points onto it.
 * The searches over it are in search.c; the shared struct is in graph_int.h.
 */
#include "graph_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_hash.h"
#include "core/msh_index.h"
#include "core/msh_tilemath.h"
#include "core/msh_constants.h"
#include "route/access.h"

#define WGS84_E2 0.00669437999014
#define DEG 0.017453292519943295

/* Metres per degree of longitude and latitude at latitude `lat` (WGS84 radii). */
static void metres_per_degree(double lat, double *kx, double *ky)
{
    double s = sin(lat * DEG);
    double w = 1.0 - WGS84_E2 * s * s;
    double n = MSH_WGS84_A / sqrt(w);                    /* prime vertical radius */
    double m = MSH_WGS84_A * (1.0 - WGS84_E2) / (w * sqrt(w)); /* meridional radius */
    *kx = n * cos(lat * DEG) * DEG;
    *ky = m * DEG;
}

double msh_metres(double lon1, double lat1, double lon2, double lat2)
{
    double kx, ky;
    metres_per_degree(0.5 * (lat1 + lat2), &kx, &ky);
    double dx = (lon2 - lon1) * kx, dy = (lat2 - lat1) * ky;
    return sqrt(dx * dx + dy * dy);
}

/* ------------------------------------------------------------------ vertex table */

/* Vertices are keyed by their lon/lat rounded to 1e-7 degree (about 1 cm), the precision
 * of OSM coordinates: lines that share a vertex in the source share its key. The sign bits are
 * flipped so that the one key msh_index cannot hold (all ones) is lon = lat = 214.7483647,
 * not a place. */
static uint64_t vkey(double lon, double lat)
{
    int64_t qx = llround(lon * 1e7), qy = llround(lat * 1e7);
    return (((uint64_t)(uint32_t)(int32_t)qx << 32) | (uint32_t)(int32_t)qy) ^ 0x8000000080000000ull;
}

/* The distinct vertices: key -> index into uses and node. */
typedef struct vtab {
    msh_index ix;
    uint32_t *uses; /* how many line vertices have this key (ends count twice) */
    uint32_t *node; /* node index, or UINT32_MAX */
    size_t n;
} vtab;

static msh_rc vtab_init(vtab *t, size_t nverts)
{
    if (nverts >= UINT32_MAX)
        return MSH_ETOOBIG;
    size_t cap = nverts ? nverts : 1;
    t->uses = calloc(cap, sizeof *t->uses);
    t->node = malloc(cap * sizeof *t->node);
    if (!t->uses || !t->node || msh_index_reserve(&t->ix, nverts))
        return MSH_ENOMEM;
    memset(t->node, 0xff, cap * sizeof *t->node);
    return MSH_OK;
}

static void vtab_free(vtab *t)
{
    msh_index_free(&t->ix);
    free(t->uses);
    free(t->node);
}

/* The index of key k, added when new (room for every vertex is reserved, so it never allocates). */
static msh_rc vtab_ref(vtab *t, uint64_t k, uint32_t *ref)
{
    uint32_t *v = msh_index_get(&t->ix, k);
    if (v) {
        *ref = *v;
        return MSH_OK;
    }
    msh_rc rc = msh_index_put(&t->ix, k, (uint32_t)t->n);
    if (!rc)
        *ref = (uint32_t)t->n++;
    return rc;
}

/* ------------------------------------------------------------------ collecting the lines */

typedef struct lines {
    msh_buf ll;    /* doubles: lon lat of every vertex, parts after each other */
    msh_buf parts; /* uint32 vertex counts */
    msh_buf fids;  /* uint64 per part */
    msh_buf pname; /* uint32 per part: its names' offset in `names`, 0 for none */
    msh_buf names; /* "\0" then "name\0name_ar\0" per named part (graph_int.h) */
    int fname, fname_ar; /* the current layer's text fields name and name_ar, -1 if none */
    msh_buf pacc;  /* float per part: what a wheelchair finds there (access.h) */
    msh_access_fields af; /* the current layer's fields access.c reads */
    msh_rc rc;
} lines;

/* The string field `i` of f ("" when null, absent or another type) as length and bytes. */
static const char *text_field(const msh_feature *f, int i, uint32_t *len)
{
    *len = 0;
    if (i < 0 || f->values[i].type != MSH_FT_STRING)
        return "";
    *len = f->values[i].len;
    return f->values[i].u.s;
}

/* Where f's street names start in L->names (appended once per feature), 0 when it has none. */
static msh_rc put_names(lines *L, const msh_feature *f, uint32_t *off)
{
    uint32_t n, na;
    const char *s = text_field(f, L->fname, &n), *sa = text_field(f, L->fname_ar, &na);
    *off = 0;
    if (!n && !na)
        return MSH_OK;
    msh_rc rc = L->names.len ? MSH_OK : msh_buf_putc(&L->names, 0); /* offset 0 means none */
    *off = (uint32_t)L->names.len; /* the buffer's limit keeps it within 32 bits */
    if (!rc)
        rc = msh_buf_append(&L->names, s, n);
    if (!rc)
        rc = msh_buf_putc(&L->names, 0);
    if (!rc)
        rc = msh_buf_append(&L->names, sa, na);
    if (!rc)
        rc = msh_buf_putc(&L->names, 0);
    return rc;
}

/* A vertex put back onto the 1e-7 grid the source used, so shared vertices compare equal. */
static msh_rc put_vertex(lines *L, double lon, double lat)
{
    double ll[2] = {(double)llround(lon * 1e7) / 1e7, (double)llround(lat * 1e7) / 1e7};
    return msh_buf_append(&L->ll, ll, sizeof ll);
}

static int collect_line(void *ud, const msh_feature *f)
{
    lines *L = ud;
    if (f->geom.type != MSH_GT_LINE)
        return 0;
    uint32_t off = 0, names;
    L->rc = put_names(L, f, &names);
    if (L->rc)
        return 1;
    for (uint32_t p = 0; p < f->geom.nparts; p++) {
        uint32_t n = MSH_PART_LEN(f->geom.parts[p]);
        if (n >= 2) {
            msh_rc rc = msh_buf_append(&L->parts, &n, sizeof n);
            if (!rc)
                rc = msh_buf_append(&L->fids, &f->id, sizeof f->id);
            if (!rc)
                rc = msh_buf_append(&L->pname, &names, sizeof names);
            double plon = 0, plat = 0, len = 0;
            for (uint32_t i = 0; i < n && !rc; i++) {
                double lon, lat;
                msh_world_to_lonlat(f->geom.xy[2 * (off + i)], f->geom.xy[2 * (off + i) + 1], &lon, &lat);
                rc = put_vertex(L, lon, lat);
                len += i ? msh_metres(plon, plat, lon, lat) : 0;
                plon = lon;
                plat = lat;
            }
            float acc = msh_access_line(&L->af, f, len);
            if (!rc)
                rc = msh_buf_append(&L->pacc, &acc, sizeof acc);
            if (rc) {
                L->rc = rc;
                return 1;
            }
        }
        off += n;
    }
    return 0;
}

/* ------------------------------------------------------------------ the snapping grid */

/* Segments are binned in a uniform grid of SNAP_CELL metres over the local plane. */
#define SNAP_CELL 100.0

static void to_plane(const msh_graph *g, double lon, double lat, double *x, double *y)
{
    *x = (lon - g->lon0) * g->kx;
    *y = (lat - g->lat0) * g->ky;
}

static msh_rc build_grid(msh_graph *g)
{
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    size_t nshape = g->eoff[g->ne];
    for (size_t i = 0; i < nshape; i++) {
        double x, y;
        to_plane(g, g->shape[2 * i], g->shape[2 * i + 1], &x, &y);
        minx = fmin(minx, x);
        miny = fmin(miny, y);
        maxx = fmax(maxx, x);
        maxy = fmax(maxy, y);
    }
    if (!nshape)
        minx = miny = maxx = maxy = 0;
    g->gx0 = minx;
    g->gy0 = miny;
    g->gw = (uint32_t)((maxx - minx) / SNAP_CELL) + 1;
    g->gh = (uint32_t)((maxy - miny) / SNAP_CELL) + 1;
    size_t ncell = (size_t)g->gw * g->gh;
    g->cell_off = calloc(ncell + 1, sizeof *g->cell_off);
    if (!g->cell_off)
        return MSH_ENOMEM;
    /* two passes over the segments: count per cell, then fill */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            for (size_t c = 0; c < ncell; c++)
                g->cell_off[c + 1] += g->cell_off[c];
            g->cell_seg = malloc((g->cell_off[ncell] ? g->cell_off[ncell] : 1) * sizeof *g->cell_seg);
            if (!g->cell_seg)
                return MSH_ENOMEM;
        }
        uint32_t *fill = NULL;
        if (pass == 1) {
            fill = malloc((ncell ? ncell : 1) * sizeof *fill);
            if (!fill)
                return MSH_ENOMEM;
            memcpy(fill, g->cell_off, ncell * sizeof *fill);
        }
        for (uint32_t e = 0; e < g->ne; e++) {
            for (uint32_t i = g->eoff[e]; i + 1 < g->eoff[e + 1]; i++) {
                double x0, y0, x1, y1;
                to_plane(g, g->shape[2 * i], g->shape[2 * i + 1], &x0, &y0);
                to_plane(g, g->shape[2 * i + 2], g->shape[2 * i + 3], &x1, &y1);
                uint32_t cx0 = (uint32_t)((fmin(x0, x1) - g->gx0) / SNAP_CELL);
                uint32_t cx1 = (uint32_t)((fmax(x0, x1) - g->gx0) / SNAP_CELL);
                uint32_t cy0 = (uint32_t)((fmin(y0, y1) - g->gy0) / SNAP_CELL);
                uint32_t cy1 = (uint32_t)((fmax(y0, y1) - g->gy0) / SNAP_CELL);
                for (uint32_t cy = cy0; cy <= cy1 && cy < g->gh; cy++)
                    for (uint32_t cx = cx0; cx <= cx1 && cx < g->gw; cx++) {
                        size_t c = (size_t)cy * g->gw + cx;
                        if (pass == 0)
                            g->cell_off[c + 1]++;
                        else
                            g->cell_seg[fill[c]++] = i; /* the segment starting at shape point i */
                    }
            }
        }
        free(fill);
    }
    /* which edge each shape point belongs to, for the segments the grid hands back */
    g->seg_edge = malloc((nshape ? nshape : 1) * sizeof *g->seg_edge);
    if (!g->seg_edge)
        return MSH_ENOMEM;
    for (uint32_t e = 0; e < g->ne; e++)
        for (uint32_t i = g->eoff[e]; i < g->eoff[e + 1]; i++)
            g->seg_edge[i] = e;
    return MSH_OK;
}

/* Closest point of segment p0-p1 to q in the plane: the parameter u in [0,1] and the squared distance. */
static double seg_closest(double qx, double qy, double x0, double y0, double x1, double y1, double *u)
{
    double dx = x1 - x0, dy = y1 - y0, l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? ((qx - x0) * dx + (qy - y0) * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    *u = t;
    double ex = x0 + t * dx - qx, ey = y0 + t * dy - qy;
    return ex * ex + ey * ey;
}

bool msh_graph_snap(const msh_graph *g, double lon, double lat, double max_m, msh_snap *out)
{
    if (!g->ne || !isfinite(lon) || !isfinite(lat) || !(max_m >= 0))
        return false;
    double qx, qy;
    to_plane(g, lon, lat, &qx, &qy);
    double best = INFINITY, best_u = 0;
    uint32_t best_seg = UINT32_MAX;
    double fx = (qx - g->gx0) / SNAP_CELL, fy = (qy - g->gy0) / SNAP_CELL;
    int64_t cx = (int64_t)floor(fx), cy = (int64_t)floor(fy);
    int64_t rmax = (int64_t)ceil(max_m / SNAP_CELL) + 1;
    int64_t span = (int64_t)(g->gw > g->gh ? g->gw : g->gh);
    if (rmax > span + labs(cx) + labs(cy))
        rmax = span + labs(cx) + labs(cy);
    for (int64_t r = 0; r <= rmax; r++) {
        /* cells of ring r are at least (r - 1) cells away from the query point */
        double ring_min = (r - 1) * SNAP_CELL;
        if (ring_min > 0 && ring_min * ring_min > best)
            break;
        if (ring_min > max_m)
            break;
        for (int64_t y = cy - r; y <= cy + r; y++) {
            if (y < 0 || y >= (int64_t)g->gh)
                continue;
            bool edge_row = (y == cy - r || y == cy + r);
            for (int64_t x = cx - r; x <= cx + r; x += (edge_row || r == 0) ? 1 : 2 * r) {
                if (x < 0 || x >= (int64_t)g->gw)
                    continue;
                size_t c = (size_t)y * g->gw + (size_t)x;
                for (uint32_t k = g->cell_off[c]; k < g->cell_off[c + 1]; k++) {
                    uint32_t i = g->cell_seg[k];
                    double x0, y0, x1, y1, u;
                    to_plane(g, g->shape[2 * i], g->shape[2 * i + 1], &x0, &y0);
                    to_plane(g, g->shape[2 * i + 2], g->shape[2 * i + 3], &x1, &y1);
                    double d2 = seg_closest(qx, qy, x0, y0, x1, y1, &u);
                    /* ties go to the lower segment index, so a snap does not depend on cell order */
                    if (d2 < best || (d2 == best && i < best_seg)) {
                        best = d2;
                        best_seg = i;
                        best_u = u;
                    }
                }
            }
        }
    }
    if (best_seg == UINT32_MAX || sqrt(best) > max_m)
        return false;
    /* a projection that lands on a vertex up to rounding is on it */
    if (best_u < 1e-9)
        best_u = 0;
    else if (best_u > 1 - 1e-9)
        best_u = 1;
    uint32_t e = g->seg_edge[best_seg];
    const double *p0 = g->shape + 2 * best_seg, *p1 = p0 + 2;
    out->edge = e;
    out->lon = p0[0] + best_u * (p1[0] - p0[0]);
    out->lat = p0[1] + best_u * (p1[1] - p0[1]);
    out->off_m = msh_metres(lon, lat, out->lon, out->lat);
    /* at a vertex, exactly its distance along the edge: a point on a node gets t = 0 or 1 */
    double along = best_u >= 1   ? g->cum[best_seg + 1]
                   : best_u <= 0 ? g->cum[best_seg]
                                 : g->cum[best_seg] + best_u * (g->cum[best_seg + 1] - g->cum[best_seg]);
    out->t = g->elen[e] > 0 ? along / g->elen[e] : 0;
    if (out->t > 1)
        out->t = 1;
    return true;
}

typedef struct near_ctx {
    uint32_t *marks; /* edges already reported, a small sorted-free list */
    size_t n, cap;
} near_ctx;

void msh_graph_edges_near(const msh_graph *g, double lon, double lat, double r, void (*fn)(void *ud, uint32_t e),
                          void *ud)
{
    if (!g->ne || !isfinite(lon) || !isfinite(lat) || !(r >= 0))
        return;
    double qx, qy;
    to_plane(g, lon, lat, &qx, &qy);
    double x0 = (qx - r - g->gx0) / SNAP_CELL, x1 = (qx + r - g->gx0) / SNAP_CELL;
    double y0 = (qy - r - g->gy0) / SNAP_CELL, y1 = (qy + r - g->gy0) / SNAP_CELL;
    if (x1 < 0 || y1 < 0 || x0 >= g->gw || y0 >= g->gh)
        return;
    uint32_t cx0 = x0 < 0 ? 0 : (uint32_t)x0, cy0 = y0 < 0 ? 0 : (uint32_t)y0;
    uint32_t cx1 = x1 >= g->gw ? g->gw - 1 : (uint32_t)x1, cy1 = y1 >= g->gh ? g->gh - 1 : (uint32_t)y1;
    near_ctx seen = {0};
    for (uint32_t cy = cy0; cy <= cy1; cy++)
        for (uint32_t cx = cx0; cx <= cx1; cx++) {
            size_t c = (size_t)cy * g->gw + cx;
            for (uint32_t k = g->cell_off[c]; k < g->cell_off[c + 1]; k++) {
                uint32_t i = g->cell_seg[k], e = g->seg_edge[i];
                double ax, ay, bx, by, u;
                to_plane(g, g->shape[2 * i], g->shape[2 * i + 1], &ax, &ay);
                to_plane(g, g->shape[2 * i + 2], g->shape[2 * i + 3], &bx, &by);
                if (seg_closest(qx, qy, ax, ay, bx, by, &u) > r * r)
                    continue;
                bool dup = false;
                for (size_t j = 0; j < seen.n && !dup; j++)
                    dup = seen.marks[j] == e;
                if (dup)
                    continue;
                if (msh_grow_from((void **)&seen.marks, &seen.cap, seen.n + 1, sizeof *seen.marks, 32))
                    break;
                seen.marks[seen.n++] = e;
                fn(ud, e);
            }
        }
    free(seen.marks);
}

void msh_graph_bounds(const msh_graph *g, double out[4])
{
    out[0] = g->gx0 / g->kx + g->lon0;
    out[1] = g->gy0 / g->ky + g->lat0;
    out[2] = (g->gx0 + g->gw * SNAP_CELL) / g->kx + g->lon0;
    out[3] = (g->gy0 + g->gh * SNAP_CELL) / g->ky + g->lat0;
}

/* ------------------------------------------------------------------ building */

static msh_rc build_edges(msh_graph *g, const lines *L, vtab *vt)
{
    const double *ll = (const double *)L->ll.data;
    const uint32_t *plen = (const uint32_t *)L->parts.data;
    const uint64_t *pfid = (const uint64_t *)L->fids.data;
    const uint32_t *pname = (const uint32_t *)L->pname.data;
    size_t nparts = L->parts.len / sizeof *plen, nverts = L->ll.len / (2 * sizeof *ll);
    /* lines given in lon/lat (the simulator) carry no attributes */
    const float *pacc = L->pacc.len == nparts * sizeof(float) ? (const float *)L->pacc.data : NULL;

    /* pass 1: how often each vertex is used; line ends count twice so they are always nodes */
    size_t off = 0;
    for (size_t p = 0; p < nparts; p++) {
        for (uint32_t i = 0; i < plen[p]; i++) {
            const double *v = ll + 2 * (off + i);
            uint32_t s;
            msh_rc rc = vtab_ref(vt, vkey(v[0], v[1]), &s);
            if (rc)
                return rc;
            vt->uses[s] += (i == 0 || i + 1 == plen[p]) ? 2 : 1;
        }
        off += plen[p];
    }
    /* pass 2: nodes in first-seen order, and the edges between them. Every edge stores its
     * own shape, end vertices included, so a node shared by two edges is stored twice. */
    size_t scap = 2 * (nverts ? nverts : 1);
    g->node_ll = malloc(scap * sizeof *g->node_ll);
    g->shape = malloc(scap * 2 * sizeof *g->shape);
    g->cum = malloc(scap * sizeof *g->cum);
    g->ea = malloc(scap * sizeof *g->ea);
    g->eb = malloc(scap * sizeof *g->eb);
    g->elen = malloc(scap * sizeof *g->elen);
    g->efid = malloc(scap * sizeof *g->efid);
    g->ename = malloc(scap * sizeof *g->ename);
    g->eacc = malloc(scap * sizeof *g->eacc);
    g->eoff = malloc((scap + 1) * sizeof *g->eoff);
    if (!g->node_ll || !g->shape || !g->cum || !g->ea || !g->eb || !g->elen || !g->efid || !g->ename || !g->eacc || !g->eoff)
        return MSH_ENOMEM;
    uint32_t nn = 0, ne = 0, nshape = 0;
    off = 0;
    for (size_t p = 0; p < nparts; p++) {
        uint32_t start_node = 0, edge_start = nshape;
        double len = 0;
        const double *prev = NULL;
        for (uint32_t i = 0; i < plen[p]; i++) {
            const double *v = ll + 2 * (off + i);
            if (prev && v[0] == prev[0] && v[1] == prev[1])
                continue; /* a repeated vertex */
            if (prev)
                len += msh_metres(prev[0], prev[1], v[0], v[1]);
            prev = v;
            g->cum[nshape] = len;
            g->shape[2 * nshape] = v[0];
            g->shape[2 * nshape + 1] = v[1];
            nshape++;
            uint32_t s = *msh_index_get(&vt->ix, vkey(v[0], v[1])); /* every vertex is in since pass 1 */
            if (vt->uses[s] < 2)
                continue; /* an interior vertex of this line only */
            if (vt->node[s] == UINT32_MAX) {
                g->node_ll[2 * nn] = v[0];
                g->node_ll[2 * nn + 1] = v[1];
                vt->node[s] = nn++;
            }
            uint32_t node = vt->node[s];
            if (nshape - edge_start > 1) {
                if (node != start_node) {
                    g->ea[ne] = start_node;
                    g->eb[ne] = node;
                    g->elen[ne] = len;
                    g->efid[ne] = pfid[p];
                    g->ename[ne] = pname ? pname[p] : 0;
                    g->eacc[ne] = pacc ? pacc[p] : NAN;
                    g->eoff[ne] = edge_start;
                    ne++;
                }
                /* else a loop back to its own start: it never shortens a path, drop it */
                nshape = node != start_node ? nshape : edge_start;
                edge_start = nshape;
                g->cum[nshape] = 0;
                g->shape[2 * nshape] = v[0];
                g->shape[2 * nshape + 1] = v[1];
                nshape++;
            }
            start_node = node;
            len = 0;
        }
        nshape = edge_start; /* drop the lone start vertex left after the last edge */
        off += plen[p];
    }
    g->eoff[ne] = nshape;
    g->nn = nn;
    g->ne = ne;
    return MSH_OK;
}

static msh_rc build_adjacency(msh_graph *g)
{
    g->adj_off = calloc((size_t)g->nn + 1, sizeof *g->adj_off);
    g->adj = malloc(((size_t)g->ne * 2 + 1) * sizeof *g->adj);
    if (!g->adj_off || !g->adj)
        return MSH_ENOMEM;
    for (uint32_t e = 0; e < g->ne; e++) {
        g->adj_off[g->ea[e] + 1]++;
        g->adj_off[g->eb[e] + 1]++;
    }
    for (uint32_t n = 0; n < g->nn; n++)
        g->adj_off[n + 1] += g->adj_off[n];
    uint32_t *fill = malloc(((size_t)g->nn + 1) * sizeof *fill);
    if (!fill)
        return MSH_ENOMEM;
    memcpy(fill, g->adj_off, (size_t)g->nn * sizeof *fill);
    for (uint32_t e = 0; e < g->ne; e++) {
        g->adj[fill[g->ea[e]]++] = e;
        g->adj[fill[g->eb[e]]++] = e;
    }
    free(fill);
    return MSH_OK;
}

/* Connected parts, by union-find over the edges: each node's part is the least node in it. */
static msh_rc count_components(msh_graph *g)
{
    uint32_t *parent = malloc(((size_t)g->nn + 1) * sizeof *parent);
    uint32_t *size = calloc((size_t)g->nn + 1, sizeof *size);
    if (!parent || !size) {
        free(parent);
        free(size);
        return MSH_ENOMEM;
    }
    for (uint32_t n = 0; n < g->nn; n++)
        parent[n] = n;
    for (uint32_t e = 0; e < g->ne; e++) {
        uint32_t a = g->ea[e], b = g->eb[e];
        while (parent[a] != a)
            a = parent[a] = parent[parent[a]];
        while (parent[b] != b)
            b = parent[b] = parent[parent[b]];
        if (a != b)
            parent[a < b ? b : a] = a < b ? a : b;
    }
    g->components = 0;
    g->largest = 0;
    g->largest_part = UINT32_MAX;
    for (uint32_t n = 0; n < g->nn; n++) {
        uint32_t r = n;
        while (parent[r] != r)
            r = parent[r];
        parent[n] = r; /* roots are least, so r was settled before n: the array ends as each node's part */
        if (r == n)
            g->components++;
        size[r]++;
    }
    for (uint32_t n = 0; n < g->nn; n++)
        if (parent[n] == n && size[n] > g->largest) {
            g->largest = size[n];
            g->largest_part = n;
        }
    free(size);
    g->part = parent;
    return MSH_OK;
}

static void lines_init(lines *L)
{
    memset(L, 0, sizeof *L);
    msh_buf_init(&L->ll, (size_t)1 << 34);
    msh_buf_init(&L->parts, (size_t)1 << 32);
    msh_buf_init(&L->fids, (size_t)1 << 33);
    msh_buf_init(&L->pname, (size_t)1 << 32);
    msh_buf_init(&L->pacc, (size_t)1 << 32);
    memset(&L->af, 0xff, sizeof L->af); /* every field -1: none */
    msh_buf_init(&L->names, (size_t)UINT32_MAX);
    L->fname = L->fname_ar = -1;
}

static void lines_free(lines *L)
{
    msh_buf_free(&L->ll);
    msh_buf_free(&L->parts);
    msh_buf_free(&L->fids);
    msh_buf_free(&L->pname);
    msh_buf_free(&L->pacc);
    msh_buf_free(&L->names);
}

/* The local plane around the middle of the lines' box, and how much it may overestimate. */
static void set_plane(msh_graph *g, const lines *L)
{
    double south = 90, north = -90, west = 180, east = -180;
    const double *ll = (const double *)L->ll.data;
    size_t nverts = L->ll.len / (2 * sizeof(double));
    for (size_t i = 0; i < nverts; i++) {
        west = fmin(west, ll[2 * i]);
        east = fmax(east, ll[2 * i]);
        south = fmin(south, ll[2 * i + 1]);
        north = fmax(north, ll[2 * i + 1]);
    }
    g->lon0 = nverts ? 0.5 * (west + east) : 0;
    g->lat0 = nverts ? 0.5 * (south + north) : 0;
    metres_per_degree(g->lat0, &g->kx, &g->ky);
    /* the plane's scale is right at lat0 only; a heuristic on it must not overestimate
     * anywhere in the data's latitude range */
    double kx_s, ky_s, kx_n, ky_n;
    metres_per_degree(south, &kx_s, &ky_s);
    metres_per_degree(north, &kx_n, &ky_n);
    g->plane_slack = fmin(fmin(kx_s, kx_n) / g->kx, fmin(ky_s, ky_n) / g->ky) * 0.999;
    if (g->plane_slack > 1)
        g->plane_slack = 1;
}

/* The graph of the collected lines (consumed: L is freed). */
static msh_rc build_from_lines(lines *L, uint64_t digest, msh_graph **out, msh_err *err)
{
    *out = NULL;
    msh_graph *g = calloc(1, sizeof *g);
    if (g)
        atomic_init(&g->refs, 1);
    msh_rc rc = g ? L->rc : MSH_ENOMEM;
    vtab vt = {0};
    if (!rc)
        rc = vtab_init(&vt, L->ll.len / (2 * sizeof(double)));
    if (!rc) {
        set_plane(g, L);
        rc = build_edges(g, L, &vt);
    }
    if (!rc && L->names.len) {
        size_t len;
        g->names = (char *)msh_buf_steal(&L->names, &len);
        rc = g->names ? MSH_OK : MSH_ENOMEM;
    }
    vtab_free(&vt);
    lines_free(L);
    if (!rc)
        rc = build_adjacency(g);
    if (!rc)
        rc = build_grid(g);
    if (!rc)
        rc = count_components(g);
    if (rc) {
        msh_graph_release(g);
        return msh_err_set(err, rc, "building the walking graph: %s", msh_rc_str(rc));
    }
    g->layer_version = digest;
    for (uint32_t e = 0; e < g->ne; e++)
        g->total_m += g->elen[e];
    *out = g;
    return MSH_OK;
}

/* The index of the text field `name` of a layer, -1 when it has none. */
static int string_field(const msh_layer_info *info, const char *name)
{
    for (uint32_t i = 0; i < info->nfields; i++)
        if (info->fields[i].type == MSH_FT_STRING && !strcmp(info->fields[i].name, name))
            return (int)i;
    return -1;
}

msh_rc msh_graph_build(msh_layer *const *layers, size_t n, msh_graph **out, msh_err *err)
{
    lines L;
    lines_init(&L);
    const double world[4] = {0, 0, 1, 1};
    uint64_t digest = MSH_FNV1A_INIT;
    for (size_t i = 0; i < n && !L.rc; i++) {
        L.fname = string_field(&layers[i]->info, "name");
        L.fname_ar = string_field(&layers[i]->info, "name_ar");
        msh_access_fields_find(&layers[i]->info, &L.af);
        msh_rc rc = layers[i]->vt->query(layers[i], world, layers[i]->info.maxzoom, collect_line, &L);
        if (rc)
            L.rc = rc;
        digest = msh_mix64(digest ^ layers[i]->info.version) + i;
    }
    return build_from_lines(&L, digest, out, err);
}

msh_rc msh_graph_build_lonlat(const double *lonlat, const uint32_t *npts, const uint64_t *fids, size_t nlines,
                              msh_graph **out, msh_err *err)
{
    lines L;
    lines_init(&L);
    size_t off = 0;
    for (size_t p = 0; p < nlines && !L.rc; p++) {
        uint64_t fid = fids ? fids[p] : p + 1;
        if (npts[p] >= 2) {
            uint32_t none = 0;
            L.rc = msh_buf_append(&L.parts, &npts[p], sizeof npts[p]);
            if (!L.rc)
                L.rc = msh_buf_append(&L.fids, &fid, sizeof fid);
            if (!L.rc)
                L.rc = msh_buf_append(&L.pname, &none, sizeof none);
            for (uint32_t i = 0; i < npts[p] && !L.rc; i++)
                L.rc = put_vertex(&L, lonlat[2 * (off + i)], lonlat[2 * (off + i) + 1]);
        }
        off += npts[p];
    }
    return build_from_lines(&L, 0, out, err);
}

msh_graph *msh_graph_retain(msh_graph *g)
{
    if (g)
        atomic_fetch_add(&g->refs, 1);
    return g;
}

void msh_graph_release(msh_graph *g)
{
    if (!g || atomic_fetch_sub(&g->refs, 1) != 1)
        return;
    free(g->node_ll);
    free(g->shape);
    free(g->cum);
    free(g->ea);
    free(g->eb);
    free(g->elen);
    free(g->efid);
    free(g->ename);
    free(g->eacc);
    free(g->names);
    free(g->eoff);
    free(g->adj_off);
    free(g->adj);
    free(g->cell_off);
    free(g->cell_seg);
    free(g->seg_edge);
    free(g->part);
    free(g);
}

void msh_graph_get_stats(const msh_graph *g, msh_graph_stats *st)
{
    st->nodes = g->nn;
    st->edges = g->ne;
    st->components = g->components;
    st->largest = g->largest;
    st->total_m = g->total_m;
    st->layer_version = g->layer_version;
}

uint32_t msh_graph_edge_count(const msh_graph *g) { return g->ne; }
uint32_t msh_graph_node_count(const msh_graph *g) { return g->nn; }
double msh_graph_edge_length(const msh_graph *g, uint32_t e) { return g->elen[e]; }
uint64_t msh_graph_edge_fid(const msh_graph *g, uint32_t e) { return g->efid[e]; }
float msh_graph_edge_access(const msh_graph *g, uint32_t e) { return g->eacc[e]; }

bool msh_graph_edge_names(const msh_graph *g, uint32_t e, const char **name, const char **name_ar)
{
    uint32_t off = g->ename[e];
    *name = *name_ar = "";
    if (!off || !g->names)
        return false;
    *name = g->names + off;
    *name_ar = *name + strlen(*name) + 1;
    return true;
}

void msh_graph_edge_nodes(const msh_graph *g, uint32_t e, uint32_t *a, uint32_t *b)
{
    *a = g->ea[e];
    *b = g->eb[e];
}

const double *msh_graph_edge_shape(const msh_graph *g, uint32_t e, uint32_t *npts)
{
    *npts = g->eoff[e + 1] - g->eoff[e];
    return g->shape + 2 * g->eoff[e];
}

void msh_graph_node_lonlat(const msh_graph *g, uint32_t n, double *lon, double *lat)
{
    *lon = g->node_ll[2 * n];
    *lat = g->node_ll[2 * n + 1];
}

bool msh_graph_in_largest(const msh_graph *g, uint32_t n)
{
    return g->part[n] == g->largest_part;
}

uint32_t msh_graph_nearest_node(const msh_graph *g, double lon, double lat, bool largest)
{
    uint32_t best = UINT32_MAX;
    double bd = INFINITY;
    for (uint32_t n = 0; n < g->nn; n++) {
        if (largest && g->part[n] != g->largest_part)
            continue;
        double dx = (g->node_ll[2 * n] - lon) * g->kx, dy = (g->node_ll[2 * n + 1] - lat) * g->ky;
        double d = dx * dx + dy * dy;
        if (d < bd) {
            bd = d;
            best = n;
        }
    }
    return best;
}

const uint32_t *msh_graph_node_edges(const msh_graph *g, uint32_t n, uint32_t *count)
{
    *count = g->adj_off[n + 1] - g->adj_off[n];
    return g->adj + g->adj_off[n];
}

double msh_graph_plane_metres(const msh_graph *g, double lon1, double lat1, double lon2, double lat2)
{
    double dx = (lon2 - lon1) * g->kx, dy = (lat2 - lat1) * g->ky;
    return sqrt(dx * dx + dy * dy) * g->plane_slack;
}
