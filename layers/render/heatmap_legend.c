/* heatmap_legend.c: the density heatmap's legend as a PNG, labels in English and Arabic (Pango shapes the Arabic). */
#include <cairo.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>

#include "heatmap.h"
#include "png.h"

/* One line of text at (x, y); right-aligned to x when `right`. Returns its height in pixels. */
static int text(cairo_t *cr, PangoLayout *lay, const char *s, double x, double y, bool right)
{
    pango_layout_set_text(lay, s, -1);
    int w, h;
    pango_layout_get_pixel_size(lay, &w, &h);
    cairo_move_to(cr, right ? x - w : x, y);
    pango_cairo_show_layout(cr, lay);
    return h;
}

msh_rc msh_heat_legend_png(int scale, msh_buf *out, msh_err *err)
{
    if (scale < 1 || scale > 2) return msh_err_set(err, MSH_EINVAL, "legend: scale 1 or 2");
    const int W = 420 * scale, row = 30 * scale, pad = 10 * scale;
    const int H = pad * 2 + row * 7 + 18 * scale;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, W, H);
    cairo_t *cr = cairo_create(s);
    PangoLayout *lay = pango_cairo_create_layout(cr);
    PangoFontDescription *font = pango_font_description_from_string("Noto Sans, Noto Sans Arabic, DejaVu Sans");
    pango_font_description_set_absolute_size(font, 13.0 * scale * PANGO_SCALE);
    pango_layout_set_font_description(lay, font);
    pango_layout_set_auto_dir(lay, TRUE);

    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    pango_font_description_set_weight(font, PANGO_WEIGHT_BOLD);
    pango_layout_set_font_description(lay, font);
    text(cr, lay, "Crowd density (persons/m\xc2\xb2)", pad, pad, false);
    text(cr, lay, "\xd9\x83\xd8\xab\xd8\xa7\xd9\x81\xd8\xa9 \xd8\xa7\xd9\x84\xd8\xad\xd8\xb4\xd9\x88\xd8\xaf", W - pad,
         pad, true);
    pango_font_description_set_weight(font, PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(lay, font);
    const msh_heat_level *lv = msh_heat_levels();
    for (int i = 0; i < 6; i++) {
        double y = pad + row * (i + 1);
        /* the swatch exactly as the tiles paint it: straight-alpha colour over the legend's white */
        cairo_set_source_rgba(cr, lv[i].rgba[0] / 255.0, lv[i].rgba[1] / 255.0, lv[i].rgba[2] / 255.0,
                              lv[i].rgba[3] / 255.0);
        cairo_rectangle(cr, pad, y + 3 * scale, 34 * scale, row - 8 * scale);
        cairo_fill(cr);
        char range[64];
        if (isinf(lv[i].hi))
            snprintf(range, sizeof range, "%c  > %.2f", lv[i].los, lv[i].lo);
        else if (i == 0)
            snprintf(range, sizeof range, "%c  < %.2f", lv[i].los, lv[i].hi);
        else
            snprintf(range, sizeof range, "%c  %.2f\xe2\x80\x93%.2f", lv[i].los, lv[i].lo, lv[i].hi);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text(cr, lay, range, pad + 44 * scale, y + 4 * scale, false);
        text(cr, lay, lv[i].label_en, pad + 150 * scale, y + 4 * scale, false);
        text(cr, lay, lv[i].label_ar, W - pad, y + 4 * scale, true);
    }
    pango_font_description_set_absolute_size(font, 9.0 * scale * PANGO_SCALE);
    pango_layout_set_font_description(lay, font);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    text(cr, lay, "Fruin (1971), walkway level of service", pad, pad + row * 7 + 2 * scale, false);
    pango_font_description_free(font);
    g_object_unref(lay);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    msh_rc rc;
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        rc = msh_err_set(err, MSH_ENOMEM, "legend: cairo failed");
    } else {
        msh_png_opts o;
        msh_png_opts_init(&o);
        o.layout = MSH_PNG_CAIRO_ARGB32;
        rc = msh_png_encode(NULL, cairo_image_surface_get_data(s), (uint32_t)W, (uint32_t)H,
                            (size_t)cairo_image_surface_get_stride(s), &o, out, err);
    }
    cairo_surface_destroy(s);
    return rc;
}
