/* raster_heat.c: heatmap style layers drawn as MapLibre draws them: each point adds weight x
 * intensity x a Gaussian kernel of heatmap-radius to a density per pixel (cut where it falls under
 * 1/4080), coloured through heatmap-color at 256 densities. Not the /heatmaps endpoints
 * (layers/render/heatmap.c: a quartic kernel in metres). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "raster_int.h"

static int on_heat(void *ud, const msh_feature *f)
{
    job *j = ud;
    j->ec.f = f;
    if (f->geom.type != MSH_GT_POINT || !msh_rl_filter(j->l, &j->ec))
        return 0;
    double w = msh_rl_num(j->l, P_HEATMAP_WEIGHT, &j->ec);
    double rad = (j->dyn ? msh_rl_num(j->l, P_HEATMAP_RADIUS, &j->ec) : j->fixed[0]) * j->ratio;
    double inten = j->fixed[1];
    if (w <= 0 || rad <= 0)
        return 0;
    /* MapLibre's kernel: w * intensity * N(0,1)(3 d / radius), cut where it falls under 1/4080 */
    const double gauss = 0.3989422804014327, zero = 1.0 / 255 / 16;
    double s = w * inten * gauss;
    if (s <= zero)
        return 0;
    double ext = fmin(rad * sqrt(-2 * log(zero / s)) / 3, rad * 3);
    int size = (int)j->size;
    float *h = j->r->heat;
    for (uint32_t i = 0; i < f->geom.npts; i++) {
        double px = (f->geom.xy[2 * i] - j->ox) * j->sc, py = (f->geom.xy[2 * i + 1] - j->oy) * j->sc;
        int x0 = (int)floor(px - ext), x1 = (int)ceil(px + ext), y0 = (int)floor(py - ext), y1 = (int)ceil(py + ext);
        if (x1 < 0 || y1 < 0 || x0 >= size || y0 >= size)
            continue;
        if (x0 < 0) x0 = 0;
        if (y0 < 0) y0 = 0;
        if (x1 > size - 1) x1 = size - 1;
        if (y1 > size - 1) y1 = size - 1;
        double k = -4.5 / (rad * rad);
        for (int y = y0; y <= y1; y++) {
            double dy = y + 0.5 - py;
            for (int x = x0; x <= x1; x++) {
                double dx = x + 0.5 - px;
                h[(size_t)y * (size_t)size + (size_t)x] += (float)(s * exp(k * (dx * dx + dy * dy)));
            }
        }
    }
    j->drawn++;
    return 0;
}

msh_rc msh_raster_draw_heatmap(job *j, msh_layer *src, const double box[4], int z)
{
    const msh_rlayer *l = j->l;
    size_t px = (size_t)j->size;
    if (px * px > j->r->heatcap) {
        float *h = realloc(j->r->heat, px * px * sizeof *h);
        if (!h) return MSH_ENOMEM;
        j->r->heat = h, j->r->heatcap = px * px;
    }
    memset(j->r->heat, 0, px * px * sizeof *j->r->heat);
    j->ec.f = NULL;
    j->dyn = msh_rl_per_feature(l, P_HEATMAP_RADIUS);
    j->fixed[0] = msh_rl_num(l, P_HEATMAP_RADIUS, &j->ec);
    j->fixed[1] = msh_rl_num(l, P_HEATMAP_INTENSITY, &j->ec);
    double opacity = msh_rl_num(l, P_HEATMAP_OPACITY, &j->ec);
    double rad = fmax(j->fixed[0], 1) * 3;
    double m = rad / j->sc * j->ratio;
    double qbox[4] = {box[0] - m, box[1] - m, box[2] + m, box[3] + m};
    msh_rc rc = src->vt->query(src, qbox, z, on_heat, j);
    if (rc || j->rc)
        return rc ? rc : j->rc;
    /* the colour ramp at 256 densities, premultiplied ARGB32 */
    uint32_t lut[256];
    for (int i = 0; i < 256; i++) {
        double c[4];
        j->ec.f = NULL;
        j->ec.heatmap_density = i / 255.0;
        msh_rl_color(l, P_HEATMAP_COLOR, &j->ec, c);
        double a = fmin(fmax(c[3] * opacity, 0), 1);
        uint32_t A = (uint32_t)lround(a * 255);
        lut[i] = A << 24 | (uint32_t)lround(c[0] * a * 255) << 16 | (uint32_t)lround(c[1] * a * 255) << 8 |
                 (uint32_t)lround(c[2] * a * 255);
    }
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)px, (int)px);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(img);
        return MSH_ENOMEM;
    }
    cairo_surface_flush(img);
    uint8_t *data = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (size_t y = 0; y < px; y++) {
        uint32_t *row = (uint32_t *)(data + y * (size_t)stride);
        for (size_t x = 0; x < px; x++) {
            float d = j->r->heat[y * px + x];
            int k = d >= 1 ? 255 : d <= 0 ? 0 : (int)(d * 255 + 0.5f);
            row[x] = lut[k];
        }
    }
    cairo_surface_mark_dirty(img);
    cairo_set_source_surface(j->cr, img, 0, 0);
    cairo_paint(j->cr);
    cairo_surface_destroy(img);
    return MSH_OK;
}
