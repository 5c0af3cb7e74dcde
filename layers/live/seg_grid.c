/* seg_grid.c: a uniform grid over boxes (seg_grid.h). A box is listed in every cell its grown box
 * meets; a set whose lists would pass GRID_MAX_ENTRIES (long segments over the whole area, many of
 * them) gets no grid and every query tests every box, as the counting lines did before. */
#include "live/seg_grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GRID_MAX_ENTRIES (16u << 20)

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static uint32_t cell_of(double v, double origin, double inv, uint32_t n)
{
    double c = floor((v - origin) * inv);
    return c < 0 ? 0 : c >= (double)n ? n - 1 : (uint32_t)c;
}

static int meets(const double a[4], const double b[4])
{
    return !(a[2] < b[0] || a[0] > b[2] || a[3] < b[1] || a[1] > b[3]);
}

void msh_seg_grid_free(msh_seg_grid *g)
{
    free(g->first);
    free(g->ids);
    free(g->box);
    free(g->hits);
    free(g->seen);
    memset(g, 0, sizeof *g);
}

msh_rc msh_seg_grid_build(msh_seg_grid *g, const double (*box)[4], uint32_t n, msh_err *err)
{
    memset(g, 0, sizeof *g);
    msh_rc rc = MSH_OK;
    if (!n)
        return MSH_OK;
    g->n = n;
    g->box = malloc((size_t)n * sizeof *g->box);
    g->hits = malloc((size_t)n * sizeof *g->hits);
    g->seen = calloc(n, sizeof *g->seen);
    if (!g->box || !g->hits || !g->seen) {
        rc = msh_err_set(err, MSH_ENOMEM, "segment grid: out of memory");
        goto out;
    }
    g->x0 = g->y0 = INFINITY;
    g->x1 = g->y1 = -INFINITY;
    for (uint32_t i = 0; i < n; i++) {
        double *b = g->box[i];
        b[0] = box[i][0] - MSH_SEG_GRID_PAD;
        b[1] = box[i][1] - MSH_SEG_GRID_PAD;
        b[2] = box[i][2] + MSH_SEG_GRID_PAD;
        b[3] = box[i][3] + MSH_SEG_GRID_PAD;
        g->x0 = fmin(g->x0, b[0]);
        g->y0 = fmin(g->y0, b[1]);
        g->x1 = fmax(g->x1, b[2]);
        g->y1 = fmax(g->y1, b[3]);
    }
    double side = fmax(g->x1 - g->x0, g->y1 - g->y0) / MSH_SEG_GRID_SIDE;
    if (!(side > 0))
        goto out; /* not a finite area: no grid, every query tests every box */
    g->inv = 1.0 / side;
    uint32_t nx = cell_of(g->x1, g->x0, g->inv, MSH_SEG_GRID_SIDE) + 1;
    uint32_t ny = cell_of(g->y1, g->y0, g->inv, MSH_SEG_GRID_SIDE) + 1;
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        const double *b = g->box[i];
        total += (size_t)(cell_of(b[2], g->x0, g->inv, nx) - cell_of(b[0], g->x0, g->inv, nx) + 1) *
                 (cell_of(b[3], g->y0, g->inv, ny) - cell_of(b[1], g->y0, g->inv, ny) + 1);
    }
    if (total > GRID_MAX_ENTRIES)
        goto out; /* no grid */
    g->first = calloc((size_t)nx * ny + 1, sizeof *g->first);
    g->ids = malloc((total ? total : 1) * sizeof *g->ids);
    if (!g->first || !g->ids) {
        rc = msh_err_set(err, MSH_ENOMEM, "segment grid: out of memory");
        goto out;
    }
    for (int fill = 0; fill < 2; fill++) { /* count per cell, then place (ascending: boxes in order) */
        for (uint32_t i = 0; i < n; i++) {
            const double *b = g->box[i];
            uint32_t cx0 = cell_of(b[0], g->x0, g->inv, nx), cx1 = cell_of(b[2], g->x0, g->inv, nx);
            uint32_t cy0 = cell_of(b[1], g->y0, g->inv, ny), cy1 = cell_of(b[3], g->y0, g->inv, ny);
            for (uint32_t cy = cy0; cy <= cy1; cy++)
                for (uint32_t cx = cx0; cx <= cx1; cx++) {
                    size_t c = (size_t)cy * nx + cx;
                    if (fill)
                        g->ids[g->first[c]++] = i;
                    else
                        g->first[c + 1]++;
                }
        }
        if (!fill)
            for (size_t c = 0; c < (size_t)nx * ny; c++)
                g->first[c + 1] += g->first[c];
        else /* each first[c] moved to the end of its cell: shift back */
            for (size_t c = (size_t)nx * ny; c > 0; c--)
                g->first[c] = g->first[c - 1];
    }
    g->first[0] = 0;
    g->nx = nx;
    g->ny = ny;
out:
    if (rc)
        msh_seg_grid_free(g);
    return rc;
}

const uint32_t *msh_seg_grid_query(msh_seg_grid *g, const double box[4], uint32_t *n)
{
    uint32_t k = 0;
    *n = 0;
    if (!g->n || box[2] < g->x0 || box[0] > g->x1 || box[3] < g->y0 || box[1] > g->y1)
        return g->hits;
    uint32_t cx0 = 0, cx1 = 0, cy0 = 0, cy1 = 0;
    if (g->nx) {
        cx0 = cell_of(box[0], g->x0, g->inv, g->nx);
        cx1 = cell_of(box[2], g->x0, g->inv, g->nx);
        cy0 = cell_of(box[1], g->y0, g->inv, g->ny);
        cy1 = cell_of(box[3], g->y0, g->inv, g->ny);
    }
    size_t cells = (size_t)(cx1 - cx0 + 1) * (cy1 - cy0 + 1);
    if (!g->nx || cells > MSH_SEG_GRID_MANY) { /* no grid, or a long move: every box */
        for (uint32_t i = 0; i < g->n; i++)
            if (meets(g->box[i], box))
                g->hits[k++] = i;
    } else if (cells == 1) { /* one cell: its list is ascending and holds each box once */
        size_t c = (size_t)cy0 * g->nx + cx0;
        for (uint32_t j = g->first[c]; j < g->first[c + 1]; j++)
            if (meets(g->box[g->ids[j]], box))
                g->hits[k++] = g->ids[j];
    } else {
        if (++g->stamp == 0) { /* the stamp wrapped: forget every mark */
            memset(g->seen, 0, (size_t)g->n * sizeof *g->seen);
            g->stamp = 1;
        }
        for (uint32_t cy = cy0; cy <= cy1; cy++)
            for (uint32_t cx = cx0; cx <= cx1; cx++) {
                size_t c = (size_t)cy * g->nx + cx;
                for (uint32_t j = g->first[c]; j < g->first[c + 1]; j++) {
                    uint32_t i = g->ids[j];
                    if (g->seen[i] != g->stamp && meets(g->box[i], box)) {
                        g->seen[i] = g->stamp;
                        g->hits[k++] = i;
                    }
                }
            }
        qsort(g->hits, k, sizeof *g->hits, cmp_u32);
    }
    *n = k;
    return g->hits;
}
