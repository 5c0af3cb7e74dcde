/* fc_layer.c: a forecast horizon as cells of any level and as the `forecast` layer (fc_layer.h). */
#include "forecast/fc_layer.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_constants.h"
#include "core/msh_hash.h"
#include "core/msh_tilemath.h"

int msh_fc_level_of_zoom(int z)
{
    return z < 0 ? 6 : z + 6 > MSH_FC_LEVEL ? MSH_FC_LEVEL : z + 6;
}

/* The side in metres of a cell of `level` in row cy (at its centre's latitude). */
static double side_m(int level, uint32_t cy)
{
    double n = ldexp(1.0, level), lon, lat;
    msh_world_to_lonlat(0, (cy + 0.5) / n, &lon, &lat);
    return MSH_EARTH_CIRCUMFERENCE * cos(lat * M_PI / 180) / n;
}

/* The cells of `level` a world box meets, clamped to the world: [*a0, *a1]. */
static void span(double lo, double hi, double n, uint32_t *a0, uint32_t *a1)
{
    double c0 = floor(lo * n), c1 = ceil(hi * n) - 1;
    c0 = fmin(fmax(c0, 0), n - 1);
    c1 = fmin(fmax(c1, c0), n - 1);
    *a0 = (uint32_t)c0;
    *a1 = (uint32_t)c1;
}

msh_rc msh_fc_cells_in(const msh_fc_grid *g, int level, const double box[4], int k, int minutes, msh_fc_map_cell_fn fn,
                       void *ud, msh_err *err)
{
    if (level < 0 || level > MSH_FC_LEVEL)
        return msh_err_set(err, MSH_EINVAL, "forecast cells: level %d is not 0..%d", level, MSH_FC_LEVEL);
    int s = MSH_FC_LEVEL - level;
    double n = ldexp(1.0, level);
    uint32_t ax0, ax1, ay0, ay1;
    span(box[0], box[2], n, &ax0, &ax1);
    span(box[1], box[3], n, &ay0, &ay1);
    size_t nx = (size_t)ax1 - ax0 + 1, ny = (size_t)ay1 - ay0 + 1;
    if (nx > MSH_FC_BOX_MAX_CELLS / ny)
        return msh_err_set(err, MSH_ETOOBIG, "forecast cells: a box of %zu x %zu cells at level %d", nx, ny, level);
    double *count = calloc(nx * ny, sizeof *count);
    float *pe = calloc(nx * ny, sizeof *pe), *pf = calloc(nx * ny, sizeof *pf);
    msh_rc rc = MSH_OK;
    if (!count || !pe || !pf) {
        rc = msh_err_set(err, MSH_ENOMEM, "forecast cells: out of memory");
        goto out;
    }
    /* the base cells under the box's cells, each of k people or more, summed into its cell */
    uint64_t bx0 = (uint64_t)ax0 << s, bx1 = (((uint64_t)ax1 + 1) << s) - 1;
    size_t from, to;
    msh_fc_grid_rows(g, ay0 << s, (uint32_t)((((uint64_t)ay1 + 1) << s) - 1), &from, &to);
    for (size_t i = from; i < to; i++) {
        const msh_fc_out *c = &g->cells[i];
        if (c->cx < bx0 || c->cx > bx1 || c->count < (float)k || !(c->count > 0))
            continue;
        size_t at = (size_t)((c->cy >> s) - ay0) * nx + ((c->cx >> s) - ax0);
        double base = msh_fc_cell_side_m(c->cy), p_e, p_f;
        msh_fc_prob(c->count, base * base, minutes, &p_e, &p_f);
        count[at] += c->count;
        pe[at] = fmaxf(pe[at], (float)p_e);
        pf[at] = fmaxf(pf[at], (float)p_f);
    }
    for (size_t j = 0; j < ny; j++) {
        msh_fc_map_cell c = {.level = level, .cy = ay0 + (uint32_t)j};
        c.side_m = side_m(level, c.cy);
        for (size_t i = 0; i < nx; i++) {
            size_t at = j * nx + i;
            if (!(count[at] > 0))
                continue;
            c.cx = ax0 + (uint32_t)i;
            c.count = count[at];
            c.density = count[at] / (c.side_m * c.side_m);
            c.p_e = pe[at];
            c.p_f = pf[at];
            if (s == 0) /* a base cell: its chances exactly as /forecast/density computes them */
                msh_fc_prob(c.count, c.side_m * c.side_m, minutes, &c.p_e, &c.p_f);
            if (fn(ud, &c))
                goto out;
        }
    }
out:
    free(count);
    free(pe);
    free(pf);
    return rc;
}

/* ---- the layer ---- */

static uint64_t process_epoch;
static pthread_once_t epoch_once = PTHREAD_ONCE_INIT;
static void epoch_init(void)
{
    process_epoch = msh_layer_epoch_new(&process_epoch);
}

typedef struct {
    msh_fc_layer *l;
    msh_feature_fn fn;
    void *ud;
} query_job;

static void set_real(msh_value *v, double d, double scale)
{
    v->type = MSH_FT_REAL;
    v->u.d = round(d * scale) / scale;
}

static int on_cell(void *ud, const msh_fc_map_cell *c)
{
    query_job *j = ud;
    double n = ldexp(1.0, c->level);
    double x0 = c->cx / n, y0 = c->cy / n, x1 = (c->cx + 1) / n, y1 = (c->cy + 1) / n;
    double xy[10] = {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0};
    uint32_t parts[1] = {5 | MSH_RING_OUTER};
    char los[2] = {msh_fruin_los(c->density), 0};
    msh_value v[MSH_FC_LAYER_NFIELDS];
    memset(v, 0, sizeof v);
    /* the precision of /forecast/density's numbers, so a base cell decodes to the same values */
    set_real(&v[0], c->count, 100);
    set_real(&v[1], c->density, 10000);
    v[2] = (msh_value){.type = MSH_FT_STRING, .len = 1, .u.s = los};
    set_real(&v[3], c->p_e, 10000);
    set_real(&v[4], c->p_f, 10000);
    v[5] = (msh_value){.type = MSH_FT_INT, .u.i = j->l->minutes};
    v[6] = (msh_value){.type = MSH_FT_STRING, .len = (uint32_t)strlen(j->l->issued), .u.s = j->l->issued};
    msh_feature f = {((uint64_t)c->level << 58) | ((uint64_t)c->cx << 29) | c->cy, {MSH_GT_POLYGON, 5, 1, xy, parts}, v};
    return j->fn(j->ud, &f);
}

static msh_rc fl_query(msh_layer *base, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    msh_fc_layer *l = (msh_fc_layer *)base;
    query_job j = {l, fn, ud};
    msh_err err;
    return msh_fc_cells_in(l->g, msh_fc_level_of_zoom(z), box, l->k, l->minutes, on_cell, &j, &err);
}

static uint64_t fl_region_version(msh_layer *base, int z, const double box[4])
{
    msh_fc_layer *l = (msh_fc_layer *)base;
    uint64_t h = msh_fnv1a(&l->version, sizeof l->version, MSH_FNV1A_INIT);
    h = msh_fnv1a(&z, sizeof z, h);
    h = msh_fnv1a(box, 4 * sizeof *box, h);
    return msh_layer_epoch_version(h, process_epoch);
}

static void fl_destroy(msh_layer *base)
{
    (void)base; /* on the caller's stack, owning nothing */
}

static const msh_layer_vt FL_VT = {fl_query, fl_destroy, fl_region_version};

void msh_fc_layer_init(msh_fc_layer *l, const msh_fc_grid *g, int minutes, int64_t issued_ms, int k)
{
    pthread_once(&epoch_once, epoch_init);
    memset(l, 0, sizeof *l);
    static const char *const names[MSH_FC_LAYER_NFIELDS] = {"count", "density", "los", "p_e", "p_f", "minutes",
                                                            "issued_at"};
    static const msh_ftype types[MSH_FC_LAYER_NFIELDS] = {MSH_FT_REAL, MSH_FT_REAL, MSH_FT_STRING, MSH_FT_REAL,
                                                          MSH_FT_REAL, MSH_FT_INT,  MSH_FT_STRING};
    for (int i = 0; i < MSH_FC_LAYER_NFIELDS; i++)
        l->fields[i] = (msh_field){(char *)names[i], types[i]};
    l->base.vt = &FL_VT;
    atomic_init(&l->base.refs, 1);
    msh_layer_info_derived(&l->base.info, "forecast", "live", "Polygon", l->fields, MSH_FC_LAYER_NFIELDS);
    l->g = g;
    l->minutes = minutes;
    l->k = k;
    msh_time_format_iso(issued_ms, l->issued, sizeof l->issued, 0);
    int64_t key[3] = {issued_ms, minutes, k};
    l->version = msh_fnv1a(key, sizeof key, MSH_FNV1A_INIT);
    l->base.info.version = l->version;
}
