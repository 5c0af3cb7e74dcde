/* heatmap.c: heatmap pixels (see heatmap.h for the design): paths, parameters, ramps, density and kernels. */
#include "heatmap.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "live/kanon.h"
#include "live/live.h"
#include "core/msh_hash.h"
#include "core/msh_constants.h"

const char MSH_HEAT_FRUIN_SOURCE[] =
    "J. J. Fruin, Pedestrian Planning and Design (1971): walkway level of service, persons/m2 "
    "(docs/HAJJ-FACTS.md, Crowd safety thresholds)";

/* Colours as the operations style draws the movement layer (styles/operations.json), so the
 * heatmap and the vector cells read alike; alpha rises with the level. */
static const msh_heat_level LEVELS[6] = {
    {'A', 0.0, MSH_FRUIN_A_MAX, {0x1a, 0x98, 0x50, 140}, "Free flow", "\xd8\xad\xd8\xb1\xd9\x83\xd8\xa9 \xd8\xad\xd8\xb1\xd8\xa9"},
    {'B',
     MSH_FRUIN_A_MAX,
     MSH_FRUIN_B_MAX,
     {0x91, 0xcf, 0x60, 160},
     "Minor conflicts",
     "\xd8\xaa\xd8\xb9\xd8\xa7\xd8\xb1\xd8\xb6 \xd8\xb7\xd9\x81\xd9\x8a\xd9\x81"},
    {'C',
     MSH_FRUIN_B_MAX,
     MSH_FRUIN_C_MAX,
     {0xfe, 0xe0, 0x8b, 180},
     "Restricted passing",
     "\xd8\xaa\xd8\xac\xd8\xa7\xd9\x88\xd8\xb2 \xd9\x85\xd9\x82\xd9\x8a\xd8\xaf"},
    {'D',
     MSH_FRUIN_C_MAX,
     MSH_FRUIN_D_MAX,
     {0xfc, 0x8d, 0x59, 200},
     "Restricted speed",
     "\xd8\xb3\xd8\xb1\xd8\xb9\xd8\xa9 \xd9\x85\xd9\x82\xd9\x8a\xd8\xaf\xd8\xa9"},
    {'E',
     MSH_FRUIN_D_MAX,
     MSH_FRUIN_E_MAX,
     {0xe3, 0x34, 0x2f, 215},
     "At capacity",
     "\xd8\xb9\xd9\x86\xd8\xaf \xd8\xa7\xd9\x84\xd8\xb3\xd8\xb9\xd8\xa9"},
    {'F',
     MSH_FRUIN_E_MAX,
     INFINITY,
     {0x7f, 0x00, 0x00, 230},
     "Flow breakdown",
     "\xd8\xa7\xd9\x86\xd9\x87\xd9\x8a\xd8\xa7\xd8\xb1 \xd8\xa7\xd9\x84\xd8\xaa\xd8\xaf\xd9\x81\xd9\x82"},
};

const msh_heat_level *msh_heat_levels(void)
{
    return LEVELS;
}

void msh_heat_density_colour(double d, uint8_t rgba[4])
{
    if (!(d > 0)) {
        memset(rgba, 0, 4);
        return;
    }
    /* the thresholds are msh_fruin_los's, not a copy of them */
    memcpy(rgba, LEVELS[msh_fruin_los(d) - 'A'].rgba, 4);
}

/* viridis at nine stops (matplotlib's, sampled): perceptually uniform, readable over a basemap */
static const uint8_t VIRIDIS[9][3] = {{68, 1, 84},    {71, 44, 122}, {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
                                      {39, 173, 129}, {92, 200, 99}, {170, 220, 50}, {253, 231, 37}};

void msh_heat_kde_colour(double i, double max, uint8_t rgba[4])
{
    if (!(i > 0) || !(max > 0)) {
        memset(rgba, 0, 4);
        return;
    }
    double t = i / max;
    if (t > 1) t = 1;
    double s = t * 8;
    int k = (int)s;
    if (k > 7) k = 7;
    double f = s - k;
    for (int c = 0; c < 3; c++)
        rgba[c] = (uint8_t)lround(VIRIDIS[k][c] + f * (VIRIDIS[k + 1][c] - VIRIDIS[k][c]));
    long a = lround(230 * fmin(1.0, sqrt(2 * t)));
    rgba[3] = (uint8_t)(a < 1 ? 1 : a); /* anything above zero shows: the blob ends where the kernel does */
}

/* ---- paths ---- */

static int parse_uint(const char **p, uint64_t limit, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9') return -1;
    if (*s == '0' && s[1] >= '0' && s[1] <= '9') return -1; /* no leading zeros: one URL per tile */
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > limit) return -1;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

msh_rc msh_heat_path_parse(const char *rest, msh_heat_path *out, msh_err *err)
{
    memset(out, 0, sizeof *out);
    out->scale = 1;
    const char *p = rest;
    size_t n = 0;
    if (*p < 'a' || *p > 'z')
        return msh_err_set(err, MSH_EINVAL, "heatmap path: expected /heatmaps/{layer}/{z}/{x}/{y}.png");
    while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') {
        if (n + 1 >= sizeof out->layer)
            return msh_err_set(err, MSH_EINVAL, "heatmap path: layer name longer than %zu characters",
                               sizeof out->layer - 1);
        out->layer[n++] = *p++;
    }
    out->layer[n] = 0;
    if (*p != '/') return msh_err_set(err, MSH_EINVAL, "heatmap path: expected /heatmaps/{layer}/{z}/{x}/{y}.png");
    p++;
    if (!strcmp(out->layer, "density") && !strncmp(p, "legend", 6)) {
        if (!strcmp(p + 6, "")) {
            out->kind = MSH_HEAT_LEGEND_JSON;
            return MSH_OK;
        }
        if (!strcmp(p + 6, ".png") || !strcmp(p + 6, ".json")) {
            out->kind = p[7] == 'p' ? MSH_HEAT_LEGEND_PNG : MSH_HEAT_LEGEND_JSON;
            return MSH_OK;
        }
        return msh_err_set(err, MSH_EINVAL, "heatmap path: the legend is /heatmaps/density/legend[.png]");
    }
    uint64_t z, x, y;
    if (parse_uint(&p, MSH_MAX_ZOOM, &z) || *p++ != '/')
        return msh_err_set(err, MSH_EINVAL, "heatmap path: zoom must be 0..%d", MSH_MAX_ZOOM);
    uint64_t side = (uint64_t)1 << z;
    if (parse_uint(&p, side - 1, &x) || *p++ != '/')
        return msh_err_set(err, MSH_EINVAL, "heatmap path: x must be 0..%llu at zoom %d",
                           (unsigned long long)(side - 1), (int)z);
    if (parse_uint(&p, side - 1, &y))
        return msh_err_set(err, MSH_EINVAL, "heatmap path: y must be 0..%llu at zoom %d",
                           (unsigned long long)(side - 1), (int)z);
    if (!strncmp(p, "@2x", 3)) {
        out->scale = 2;
        p += 3;
    }
    if (strcmp(p, ".png")) return msh_err_set(err, MSH_EINVAL, "heatmap path: tiles end in .png or @2x.png");
    out->kind = MSH_HEAT_TILE;
    out->z = (int)z;
    out->x = (uint32_t)x;
    out->y = (uint32_t)y;
    return MSH_OK;
}

/* ---- query strings ---- */

enum { P_RADIUS = 1, P_MAX = 2, P_WEIGHT = 4, P_FILTER = 8, P_MODE = 16, P_F = 32 };

void msh_heat_params_init(msh_heat_params *p)
{
    memset(p, 0, sizeof *p);
    p->radius_m = MSH_HEAT_DEFAULT_RADIUS;
    p->max = MSH_HEAT_DEFAULT_MAX;
    p->mode = MSH_HEAT_SMOOTH;
}

static msh_rc parse_real(const char *key, const char *v, double lo, double hi, double *out, msh_err *err)
{
    char *end = NULL;
    errno = 0;
    double d = v && *v ? strtod(v, &end) : NAN;
    if (!v || !*v || errno || !end || *end || !isfinite(d))
        return msh_err_set(err, MSH_EINVAL, "%s: not a number", key);
    if (d < lo || d > hi) return msh_err_set(err, MSH_EINVAL, "%s: %g is outside %g..%g", key, d, lo, hi);
    *out = d;
    return MSH_OK;
}

/* 0 when v is a, 1 when b, -1 otherwise */
static int one_of(const char *v, const char *a, const char *b)
{
    return !v ? -1 : !strcmp(v, a) ? 0 : !strcmp(v, b) ? 1 : -1;
}

msh_rc msh_heat_param(msh_heat_params *p, bool density, const char *key, const char *value, msh_err *err)
{
    static const struct {
        const char *name;
        unsigned bit;
        bool density;
    } KNOWN[] = {{"radius", P_RADIUS, false}, {"max", P_MAX, false},  {"weight", P_WEIGHT, false},
                 {"filter", P_FILTER, false}, {"mode", P_MODE, true}, {"f", P_F, true}};
    unsigned bit = 0;
    for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++)
        if (KNOWN[i].density == density && !strcmp(key, KNOWN[i].name)) bit = KNOWN[i].bit;
    if (!bit) {
        char shown[40];
        snprintf(shown, sizeof shown, "%.32s%s", key, strlen(key) > 32 ? "..." : "");
        for (char *c = shown; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == '"' || *c == '\\' || (unsigned char)*c >= 0x7f) *c = '?';
        return msh_err_set(err, MSH_EINVAL, "unknown parameter '%s' (%s)", shown,
                           density ? "the density heatmap takes mode=smooth|cells; its legend f=json|png"
                                   : "heatmaps of a layer take radius, max, weight, filter");
    }
    if (p->seen & bit) return msh_err_set(err, MSH_EINVAL, "%s: given more than once", key);
    p->seen |= bit;
    switch (bit) {
    case P_RADIUS: return parse_real("radius", value, MSH_HEAT_MIN_RADIUS, MSH_HEAT_MAX_RADIUS, &p->radius_m, err);
    case P_MAX: {
        double m;
        if (parse_real("max", value, 0, 1e12, &m, err)) return MSH_EINVAL;
        if (!(m > 0)) return msh_err_set(err, MSH_EINVAL, "max: must be above 0");
        p->max = m;
        return MSH_OK;
    }
    case P_WEIGHT: {
        size_t n = value ? strlen(value) : 0;
        if (!n || n > 63) return msh_err_set(err, MSH_EINVAL, "weight: a field name of 1..63 characters");
        for (size_t i = 0; i < n; i++) {
            char c = value[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
                return msh_err_set(err, MSH_EINVAL, "weight: a field name is letters, digits and '_'");
        }
        p->weight = value;
        return MSH_OK;
    }
    case P_FILTER:
        if (!value || !*value) return msh_err_set(err, MSH_EINVAL, "filter: empty");
        p->filter = value;
        p->filter_len = strlen(value);
        return MSH_OK;
    case P_MODE: {
        int k = one_of(value, "smooth", "cells");
        if (k < 0) return msh_err_set(err, MSH_EINVAL, "mode: smooth or cells");
        p->mode = k ? MSH_HEAT_CELLS : MSH_HEAT_SMOOTH;
        return MSH_OK;
    }
    default: { /* P_F */
        int k = one_of(value, "json", "png");
        if (k < 0) return msh_err_set(err, MSH_EINVAL, "f: json or png");
        p->png = k == 1;
        return MSH_OK;
    }
    }
}

void msh_heat_params_key(const msh_heat_params *p, bool density, char *out, size_t cap)
{
    if (density) {
        snprintf(out, cap, "mode=%d", (int)p->mode);
        return;
    }
    uint64_t h1 = p->filter ? msh_fnv1a(p->filter, p->filter_len, MSH_FNV1A_INIT) : MSH_FNV1A_INIT;
    uint64_t h2 = 0x84222325cbf29ce4ull; /* a second, different hash: 128 bits against collisions */
    for (size_t i = 0; p->filter && i < p->filter_len; i++) {
        h2 = (h2 + (uint8_t)p->filter[i] + 1) * 0x9e3779b97f4a7c15ull;
        h2 ^= h2 >> 29;
    }
    snprintf(out, cap, "r=%.17g|m=%.17g|w=%s|f=%zu:%016llx%016llx", p->radius_m, p->max, p->weight ? p->weight : "",
             p->filter ? p->filter_len : 0, (unsigned long long)h1, (unsigned long long)h2);
}

/* ---- density ---- */

int msh_heat_density_level(int z)
{
    return z + 7 > 22 ? 22 : z + 7;
}

msh_rc msh_heat_grid_init(msh_heat_grid *g, int z, uint32_t x, uint32_t y, msh_err *err)
{
    memset(g, 0, sizeof *g);
    g->level = msh_heat_density_level(z);
    /* cells a tile side: 2^(level - z), at least 1 (at z > 22 a cell covers several tiles) */
    int64_t per = g->level >= z ? (int64_t)1 << (g->level - z) : 1;
    int64_t c0x = g->level >= z ? (int64_t)x * per : (int64_t)x >> (z - g->level);
    int64_t c0y = g->level >= z ? (int64_t)y * per : (int64_t)y >> (z - g->level);
    g->ox = c0x - 1;
    g->oy = c0y - 1;
    g->nx = g->ny = (uint32_t)(per + 2);
    g->density = malloc((size_t)g->nx * g->ny * sizeof *g->density);
    if (!g->density) return msh_err_set(err, MSH_ENOMEM, "heatmap: out of memory");
    for (size_t i = 0; i < (size_t)g->nx * g->ny; i++)
        g->density[i] = -1;
    return MSH_OK;
}

void msh_heat_grid_free(msh_heat_grid *g)
{
    free(g->density);
    g->density = NULL;
}

void msh_heat_grid_box(const msh_heat_grid *g, double box[4])
{
    double n = (double)((int64_t)1 << g->level);
    box[0] = (double)g->ox / n;
    box[1] = (double)g->oy / n;
    box[2] = (double)(g->ox + g->nx) / n;
    box[3] = (double)(g->oy + g->ny) / n;
}

/* The persons/m2 of `count` people in cell (cx, cy); NULL when the cell is outside the grid. */
static float *cell_of(msh_heat_grid *g, int64_t cx, int64_t cy, double count, double *density)
{
    int64_t i = cx - g->ox, j = cy - g->oy;
    if (i < 0 || j < 0 || i >= (int64_t)g->nx || j >= (int64_t)g->ny) return NULL;
    double n = (double)((int64_t)1 << g->level);
    double lon, lat;
    msh_world_to_lonlat(((double)cx + 0.5) / n, ((double)cy + 0.5) / n, &lon, &lat);
    double side = msh_live_cell_metres(g->level, lat);
    *density = count / (side * side);
    return &g->density[(size_t)j * g->nx + (size_t)i];
}

void msh_heat_grid_set(msh_heat_grid *g, int64_t cx, int64_t cy, uint32_t count)
{
    double d;
    float *c = cell_of(g, cx, cy, count, &d);
    if (c) *c = count ? (float)d : -1.0f;
}

void msh_heat_grid_add(msh_heat_grid *g, int64_t cx, int64_t cy, double count)
{
    double d;
    float *c = count > 0 ? cell_of(g, cx, cy, count, &d) : NULL;
    if (c) *c = (float)((*c > 0 ? *c : 0) + d);
}

static int fill_cell(void *ud, const msh_live_cell *c)
{
    msh_heat_grid_set(ud, c->cx, c->cy, c->count);
    return 0;
}

msh_rc msh_heat_grid_fill(msh_heat_grid *g, struct msh_live *live, int k_anon, msh_err *err)
{
    double box[4];
    msh_heat_grid_box(g, box);
    /* cells meeting the box, edges included: pull the far edges in a little */
    double eps = 0.25 / (double)((int64_t)1 << g->level);
    box[2] -= eps;
    box[3] -= eps;
    /* the cells as k-anonymity lets them show (live/kanon.h), the same as the movement tiles' */
    return msh_kanon_cells(live, g->level, box, k_anon, fill_cell, g, err);
}

uint64_t msh_heat_grid_hash(const msh_heat_grid *g)
{
    int64_t place[5] = {g->level, g->ox, g->oy, g->nx, g->ny};
    uint64_t h = msh_fnv1a(place, sizeof place, MSH_FNV1A_INIT);
    return msh_fnv1a(g->density, (size_t)g->nx * g->ny * sizeof *g->density, h);
}

/* The colour every pixel between the four cells at (i, j) (row pointers r0, r1) takes, when it is
 * the same for all: nobody in any of them, or all four occupied at one level (a bilinear value
 * stays between its corners, and levels are intervals). In cells mode, the cell's own colour.
 * NULL when the pixels must be worked out one by one. */
static const uint8_t *quad_colour(const float *r0, const float *r1, uint32_t i, msh_heat_mode mode, uint8_t lut[7][4])
{
    if (mode == MSH_HEAT_CELLS) return r0[i] > 0 ? lut[msh_fruin_los(r0[i]) - 'A'] : lut[6];
    float d[4] = {r0[i], r0[i + 1], r1[i], r1[i + 1]};
    if (d[0] < 0 && d[1] < 0 && d[2] < 0 && d[3] < 0) return lut[6];
    if (d[0] <= 0 || d[1] <= 0 || d[2] <= 0 || d[3] <= 0) return NULL;
    char los = msh_fruin_los(d[0]);
    for (int k = 1; k < 4; k++)
        if (msh_fruin_los(d[k]) != los) return NULL;
    return lut[los - 'A'];
}

void msh_heat_density_render(const msh_heat_grid *g, int z, uint32_t x, uint32_t y, int size, msh_heat_mode mode,
                             uint8_t *rgba)
{
    /* cell coordinate of a pixel centre: (tile * size + px + 0.5) * 2^level / (2^z * size), exact;
     * the grid's one-cell margin holds every neighbour a pixel of the tile reads */
    double f = ldexp(1.0, g->level - z) / size;
    double bx = (double)x * size, by = (double)y * size;
    uint8_t lut[7][4]; /* colour per level, index 6 = transparent */
    for (int k = 0; k < 6; k++)
        memcpy(lut[k], LEVELS[k].rgba, 4);
    memset(lut[6], 0, 4);
    /* per column: the cell to the left of the pixel centre (smooth) or under it (cells), and the weight */
    uint32_t *col = malloc((size_t)size * sizeof *col);
    float *wu = malloc((size_t)size * sizeof *wu);
    if (!col || !wu) {
        memset(rgba, 0, (size_t)size * size * 4);
        goto out;
    }
    double shift = mode == MSH_HEAT_CELLS ? 0 : 0.5;
    for (int px = 0; px < size; px++) {
        double u = (bx + px + 0.5) * f - shift, fu = floor(u);
        int64_t i = (int64_t)fu - g->ox;
        col[px] = (uint32_t)(i < 0 ? 0 : i >= (int64_t)g->nx - 1 ? (int64_t)g->nx - 2 : i);
        wu[px] = (float)(u - fu);
    }
    for (int py = 0; py < size; py++) {
        double v = (by + py + 0.5) * f - shift, fv = floor(v);
        int64_t j = (int64_t)fv - g->oy;
        j = j < 0 ? 0 : j >= (int64_t)g->ny - 1 ? (int64_t)g->ny - 2 : j;
        const float *r0 = g->density + (size_t)j * g->nx, *r1 = r0 + g->nx;
        double av = v - fv;
        uint32_t *out = (uint32_t *)(void *)(rgba + (size_t)py * size * 4);
        uint32_t last = UINT32_MAX;
        const uint8_t *quad = NULL; /* the colour of the whole quad at `last`, NULL when it varies */
        for (int px = 0; px < size; px++) {
            uint32_t i = col[px];
            if (i != last) {
                last = i;
                quad = quad_colour(r0, r1, i, mode, lut);
            }
            const uint8_t *c = quad ? quad : lut[6];
            if (!quad) {
                /* normalised bilinear over the occupied cells among the four nearest centres */
                double au = wu[px];
                double w[4] = {(1 - au) * (1 - av), au * (1 - av), (1 - au) * av, au * av};
                float d4[4] = {r0[i], r0[i + 1], r1[i], r1[i + 1]};
                double W = 0, D = 0;
                for (int k = 0; k < 4; k++)
                    if (d4[k] >= 0) {
                        W += w[k];
                        D += w[k] * d4[k];
                    }
                if (W >= 0.5 && D > 0) c = lut[msh_fruin_los(D / W) - 'A'];
            }
            memcpy(&out[px], c, 4);
        }
    }
out:
    free(col);
    free(wu);
}

/* ---- kernel density ---- */

#define KDE_LUT 256

double msh_heat_kde_radius(double wy, int z, int size, double radius_m, double *mass_scale)
{
    double lon, lat;
    msh_world_to_lonlat(0.5, wy, &lon, &lat);
    double r = radius_m * msh_world_per_metre(lat);
    double px2 = 2.0 / (ldexp(1.0, z) * size);
    double re = r < px2 ? px2 : r;
    if (mass_scale) *mass_scale = (r / re) * (r / re);
    return re;
}

void msh_heat_kde_box(int z, uint32_t x, uint32_t y, int size, double radius_m, double box[4])
{
    double minx, miny, maxx, maxy;
    msh_tile_world_bounds(z, x, y, &minx, &miny, &maxx, &maxy);
    /* the kernel is widest in world units at the tile's edge nearest a pole */
    double r =
        fmax(msh_heat_kde_radius(miny, z, size, radius_m, NULL), msh_heat_kde_radius(maxy, z, size, radius_m, NULL));
    double pad = r + 1.0 / (ldexp(1.0, z) * size);
    box[0] = minx - pad;
    box[1] = miny - pad;
    box[2] = maxx + pad;
    box[3] = maxy + pad;
}

/* The pixels [b0, b2] x [b1, b3] a kernel of radius rp (pixels) at (cx, cy) (tile pixels) can reach;
 * false when none. */
static bool kernel_box(double cx, double cy, double rp, int size, int b[4])
{
    b[0] = (int)fmax(0, ceil(cx - rp - 0.5));
    b[1] = (int)fmax(0, ceil(cy - rp - 0.5));
    b[2] = (int)fmin(size - 1, floor(cx + rp - 0.5));
    b[3] = (int)fmin(size - 1, floor(cy + rp - 0.5));
    return b[0] <= b[2] && b[1] <= b[3];
}

double msh_heat_kde_work(const msh_heat_point *pts, size_t n, int z, uint32_t x, uint32_t y, int size, double radius_m)
{
    double world = ldexp(1.0, z) * size, work = 0;
    for (size_t i = 0; i < n; i++) {
        int b[4];
        double rp = msh_heat_kde_radius(pts[i].wy, z, size, radius_m, NULL) * world;
        if (pts[i].w > 0 &&
            kernel_box(pts[i].wx * world - (double)x * size, pts[i].wy * world - (double)y * size, rp, size, b))
            work += (double)(b[2] - b[0] + 1) * (b[3] - b[1] + 1);
    }
    return work;
}

void msh_heat_kde_render(const msh_heat_point *pts, size_t n, int z, uint32_t x, uint32_t y, int size, double radius_m,
                         double max, float *sum, uint8_t *rgba)
{
    memset(sum, 0, (size_t)size * size * sizeof *sum);
    double world = ldexp(1.0, z) * size; /* pixels around the world */
    double bx = (double)x * size, by = (double)y * size;
    for (size_t i = 0; i < n; i++) {
        const msh_heat_point *p = &pts[i];
        if (!(p->w > 0)) continue;
        double ms;
        double re = msh_heat_kde_radius(p->wy, z, size, radius_m, &ms);
        /* the point and its radius in this tile's pixel space (pixel centres at k + 0.5) */
        double cx = p->wx * world - bx, cy = p->wy * world - by, rp = re * world;
        double inv = 1.0 / (rp * rp);
        int b[4];
        if (!kernel_box(cx, cy, rp, size, b)) continue;
        float wm = (float)(p->w * ms);
        for (int py = b[1]; py <= b[3]; py++) {
            double dy = py + 0.5 - cy;
            double dy2 = dy * dy * inv;
            float *row = sum + (size_t)py * size;
            for (int px = b[0]; px <= b[2]; px++) {
                double dx = px + 0.5 - cx;
                double q = dx * dx * inv + dy2;
                if (q < 1) {
                    double k = 1 - q;
                    row[px] += wm * (float)(k * k);
                }
            }
        }
    }
    /* colour through a table of the ramp (256 steps of t, as colour maps usually are: fewer distinct
     * colours also deflate faster; the top entry is t = 1 exactly) */
    uint8_t lut[KDE_LUT][4];
    for (int k = 0; k < KDE_LUT; k++)
        msh_heat_kde_colour((k ? k : 0.25) / (double)(KDE_LUT - 1), 1, lut[k]);
    double scale = (KDE_LUT - 1) / max;
    for (size_t i = 0; i < (size_t)size * size; i++) {
        if (!(sum[i] > 0)) {
            memset(rgba + i * 4, 0, 4);
            continue;
        }
        double t = sum[i] * scale;
        memcpy(rgba + i * 4, lut[t >= KDE_LUT - 1 ? KDE_LUT - 1 : (int)(t + 0.5)], 4);
    }
}
