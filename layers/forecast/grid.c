/* grid.c: forecast grids, their accumulator and the analytic uncertainty (grid.h). */
#include "forecast/grid.h"

#include <math.h>
#include <stdlib.h>

#include "core/msh_constants.h"
#include "core/msh_grow.h"
#include "core/msh_tilemath.h"

#define NCELLS ((double)(1u << MSH_FC_LEVEL))

void msh_fc_grid_free(msh_fc_grid *g)
{
    free(g->cells);
    g->cells = NULL;
    g->n = 0;
}

/* In cells[lo, hi) (sorted by row, then column), the first at or after (cx, cy). */
static size_t first_from(const msh_fc_out *cells, size_t lo, size_t hi, uint32_t cx, uint32_t cy)
{
    uint64_t key = (uint64_t)cy << 32 | cx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (((uint64_t)cells[mid].cy << 32 | cells[mid].cx) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The first index whose row is at least cy. */
static size_t lower_row(const msh_fc_grid *g, uint32_t cy)
{
    return first_from(g->cells, 0, g->n, 0, cy);
}

void msh_fc_grid_rows(const msh_fc_grid *g, uint32_t cy0, uint32_t cy1, size_t *from, size_t *to)
{
    *from = lower_row(g, cy0);
    *to = cy1 == UINT32_MAX ? g->n : lower_row(g, cy1 + 1);
    if (*to < *from)
        *to = *from;
}

void msh_fc_acc_init(msh_fc_acc *a)
{
    a->cells = NULL;
    a->n = a->cap = 0;
}

void msh_fc_acc_free(msh_fc_acc *a)
{
    free(a->cells);
    msh_fc_acc_init(a);
}

msh_rc msh_fc_acc_add(msh_fc_acc *a, uint32_t cx, uint32_t cy, float count)
{
    if (msh_grow_from((void **)&a->cells, &a->cap, a->n + 1, sizeof *a->cells, 4096))
        return MSH_ENOMEM;
    a->cells[a->n++] = (msh_fc_out){cx, cy, count};
    return MSH_OK;
}

/* Four stable passes of 12 bits: the column's low 24 bits, then the row's. */
msh_rc msh_fc_sort(msh_fc_out *cells, size_t n)
{
    if (n < 2)
        return MSH_OK;
    msh_fc_out *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return MSH_ENOMEM;
    msh_fc_out *src = cells, *dst = tmp;
    for (int pass = 0; pass < 4; pass++) {
        size_t count[4097] = {0};
        int shift = (pass & 1) * 12;
        for (size_t i = 0; i < n; i++) {
            uint32_t k = pass < 2 ? src[i].cx : src[i].cy;
            count[((k >> shift) & 4095) + 1]++;
        }
        for (int b = 0; b < 4096; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++) {
            uint32_t k = pass < 2 ? src[i].cx : src[i].cy;
            dst[count[(k >> shift) & 4095]++] = src[i];
        }
        msh_fc_out *t = src;
        src = dst;
        dst = t;
    }
    /* four passes: the sorted cells are back in `cells` */
    free(tmp);
    return MSH_OK;
}

msh_rc msh_fc_acc_finish(msh_fc_acc *a, float min_count, msh_fc_grid *out)
{
    msh_rc rc = msh_fc_sort(a->cells, a->n);
    if (rc)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < a->n;) {
        msh_fc_out c = a->cells[i++];
        while (i < a->n && a->cells[i].cx == c.cx && a->cells[i].cy == c.cy)
            c.count += a->cells[i++].count;
        if (c.count >= min_count)
            a->cells[k++] = c;
    }
    out->cells = a->cells;
    out->n = k;
    a->cells = NULL;
    a->n = a->cap = 0;
    return MSH_OK;
}

/* P(X >= x) for X normal(mu, sigma). */
static double upper(double x, double mu, double sigma)
{
    return 0.5 * erfc((x - mu) / (sigma * M_SQRT2));
}

void msh_fc_prob(double count, double area_m2, int minutes, double *p_e, double *p_f)
{
    double e_line = MSH_FRUIN_D_MAX * area_m2, f_line = MSH_FRUIN_E_MAX * area_m2;
    if (minutes <= 0 || count <= 0) {
        *p_e = count >= e_line ? 1 : 0;
        *p_f = count > f_line ? 1 : 0;
        return;
    }
    double cv = MSH_FC_CV0 + MSH_FC_CV_PER_MIN * minutes;
    double sigma = sqrt(count + cv * cv * count * count);
    *p_e = upper(e_line, count, sigma);
    *p_f = upper(f_line, count, sigma);
}

msh_rc msh_fc_index_build(msh_fc_index *ix, const msh_fc_out *cells, size_t n)
{
    ix->cells = cells;
    ix->y0 = n ? cells[0].cy : 0;
    ix->rows = n ? cells[n - 1].cy - ix->y0 + 1 : 0;
    if (!(ix->row_off = malloc(((size_t)ix->rows + 1) * sizeof *ix->row_off)))
        return MSH_ENOMEM;
    size_t i = 0;
    for (uint32_t r = 0; r <= ix->rows; r++) {
        while (i < n && cells[i].cy < ix->y0 + r)
            i++;
        ix->row_off[r] = (uint32_t)i;
    }
    uint32_t x1 = 0;
    ix->x0 = UINT32_MAX;
    for (i = 0; i < n; i++)
        ix->x0 = cells[i].cx < ix->x0 ? cells[i].cx : ix->x0, x1 = cells[i].cx > x1 ? cells[i].cx : x1;
    ix->cols = n ? x1 - ix->x0 + 1 : 0;
    ix->bits = NULL;
    size_t nbits = (size_t)ix->rows * ix->cols;
    if (n && nbits <= ((size_t)64 << 20) && (ix->bits = calloc(nbits / 64 + 1, sizeof *ix->bits)))
        for (i = 0; i < n; i++) {
            size_t b = (size_t)(cells[i].cy - ix->y0) * ix->cols + (cells[i].cx - ix->x0);
            ix->bits[b / 64] |= (uint64_t)1 << (b % 64);
        }
    return MSH_OK;
}

void msh_fc_index_free(msh_fc_index *ix)
{
    free(ix->row_off);
    free(ix->bits);
    ix->row_off = NULL;
    ix->bits = NULL;
    ix->rows = 0;
}

long msh_fc_index_find(const msh_fc_index *ix, uint32_t cx, uint32_t cy)
{
    if (cy < ix->y0 || cy - ix->y0 >= ix->rows)
        return -1;
    if (ix->bits) {
        if (cx < ix->x0 || cx - ix->x0 >= ix->cols)
            return -1;
        size_t b = (size_t)(cy - ix->y0) * ix->cols + (cx - ix->x0);
        if (!(ix->bits[b / 64] >> (b % 64) & 1))
            return -1;
    }
    size_t hi = ix->row_off[cy - ix->y0 + 1], at = first_from(ix->cells, ix->row_off[cy - ix->y0], hi, cx, cy);
    return at < hi && ix->cells[at].cx == cx ? (long)at : -1;
}

void msh_fc_m_per_deg(double lat, double *kx, double *ky)
{
    *kx = 111320.0 * cos(lat * M_PI / 180);
    *ky = 110574.0;
}

void msh_fc_cell_frac(double lon, double lat, double *fx, double *fy)
{
    double wx, wy;
    msh_lonlat_to_world(lon, lat, &wx, &wy);
    *fx = wx * NCELLS;
    *fy = wy * NCELLS;
}

void msh_fc_cell_at(double lon, double lat, uint32_t *cx, uint32_t *cy)
{
    double wx, wy;
    msh_lonlat_to_world(lon, lat, &wx, &wy);
    double x = floor(wx * NCELLS), y = floor(wy * NCELLS);
    *cx = (uint32_t)fmin(fmax(x, 0), NCELLS - 1);
    *cy = (uint32_t)fmin(fmax(y, 0), NCELLS - 1);
}

void msh_fc_cell_centre(uint32_t cx, uint32_t cy, double *lon, double *lat)
{
    msh_world_to_lonlat((cx + 0.5) / NCELLS, (cy + 0.5) / NCELLS, lon, lat);
}

double msh_fc_cell_side_m(uint32_t cy)
{
    double lon, lat;
    msh_world_to_lonlat(0, (cy + 0.5) / NCELLS, &lon, &lat);
    return MSH_EARTH_CIRCUMFERENCE * cos(lat * M_PI / 180) / NCELLS;
}
