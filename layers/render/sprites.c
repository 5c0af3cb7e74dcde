/* sprites.c: the icons of the operations map, drawn with Cairo, packed into one PNG with its index. */
#include "sprites.h"

#include <cairo.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_buf.h"

#define CELL 26 /* px per icon cell at ratio 1: the icon and a 2 px gap */
#define COLS 6

/* Every drawing works in a 24 x 24 unit box (the ratio is a Cairo scale). */
typedef void (*draw_fn)(cairo_t *cr);

static void badge(cairo_t *cr, double r, double g, double b)
{
    /* a rounded square with a white rim, so icons read on any fill */
    double x = 1.5, y = 1.5, w = 21, h = 21, rad = 5;
    cairo_new_sub_path(cr);
    cairo_arc(cr, x + w - rad, y + rad, rad, -M_PI / 2, 0);
    cairo_arc(cr, x + w - rad, y + h - rad, rad, 0, M_PI / 2);
    cairo_arc(cr, x + rad, y + h - rad, rad, M_PI / 2, M_PI);
    cairo_arc(cr, x + rad, y + rad, rad, M_PI, 3 * M_PI / 2);
    cairo_close_path(cr);
    cairo_set_source_rgb(cr, r, g, b);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, 1.5);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 1, 1, 1); /* the pictogram is white */
}

static void disc(cairo_t *cr, double r, double g, double b)
{
    cairo_arc(cr, 12, 12, 10.5, 0, 2 * M_PI);
    cairo_set_source_rgb(cr, r, g, b);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, 1.5);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
}

/* A closed, filled shape from (x, y) through `n` cubic curves (control, control, end: six numbers each). */
static void fill_curves(cairo_t *cr, double x, double y, const double (*c)[6], int n)
{
    cairo_move_to(cr, x, y);
    for (int i = 0; i < n; i++)
        cairo_curve_to(cr, c[i][0], c[i][1], c[i][2], c[i][3], c[i][4], c[i][5]);
    cairo_close_path(cr);
    cairo_fill(cr);
}

static void cross(cairo_t *cr, double cx, double cy, double arm, double half)
{
    cairo_rectangle(cr, cx - half, cy - arm, 2 * half, 2 * arm);
    cairo_rectangle(cr, cx - arm, cy - half, 2 * arm, 2 * half);
    cairo_fill(cr);
}

static void person(cairo_t *cr, double cx, bool skirt)
{
    cairo_arc(cr, cx, 7.2, 1.9, 0, 2 * M_PI);
    cairo_fill(cr);
    if (skirt) {
        cairo_move_to(cr, cx - 1.6, 9.8);
        cairo_line_to(cr, cx + 1.6, 9.8);
        cairo_line_to(cr, cx + 3.4, 15.5);
        cairo_line_to(cr, cx - 3.4, 15.5);
        cairo_close_path(cr);
        cairo_fill(cr);
        cairo_rectangle(cr, cx - 1.6, 15, 1.3, 3.5);
        cairo_rectangle(cr, cx + 0.3, 15, 1.3, 3.5);
    } else {
        cairo_rectangle(cr, cx - 2.2, 9.8, 4.4, 5.2);
        cairo_rectangle(cr, cx - 2.2, 14.5, 1.9, 4);
        cairo_rectangle(cr, cx + 0.3, 14.5, 1.9, 4);
    }
    cairo_fill(cr);
}

static void draw_toilet(cairo_t *cr)
{
    badge(cr, 0.12, 0.47, 0.71);
    person(cr, 7.8, false);
    person(cr, 16.2, true);
    cairo_rectangle(cr, 11.5, 5.5, 1, 13);
    cairo_fill(cr);
}

static void draw_water(cairo_t *cr)
{
    static const double drop[][6] = {{14.5, 8.5, 17.5, 11.5, 17.5, 14.2},
                                     {17.5, 17.3, 15, 19.5, 12, 19.5},
                                     {9, 19.5, 6.5, 17.3, 6.5, 14.2},
                                     {6.5, 11.5, 9.5, 8.5, 12, 4.5}};
    badge(cr, 0.0, 0.6, 0.75);
    fill_curves(cr, 12, 4.5, drop, 4);
}

static void draw_clinic(cairo_t *cr)
{
    badge(cr, 0.9, 0.22, 0.27);
    cross(cr, 12, 12, 6.5, 2.2);
}

static void draw_bin(cairo_t *cr)
{
    badge(cr, 0.42, 0.6, 0.31);
    cairo_rectangle(cr, 6.5, 6.5, 11, 1.8); /* lid */
    cairo_rectangle(cr, 10, 5, 4, 1.6);     /* handle */
    cairo_fill(cr);
    cairo_move_to(cr, 7.5, 9.2);
    cairo_line_to(cr, 16.5, 9.2);
    cairo_line_to(cr, 15.5, 19);
    cairo_line_to(cr, 8.5, 19);
    cairo_close_path(cr);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.42, 0.6, 0.31); /* ribs */
    cairo_set_line_width(cr, 1);
    for (int i = 0; i < 2; i++) {
        cairo_move_to(cr, 10.8 + 2.4 * i, 11);
        cairo_line_to(cr, 10.8 + 2.4 * i, 17.5);
    }
    cairo_stroke(cr);
}

static void draw_lighting(cairo_t *cr)
{
    badge(cr, 0.85, 0.66, 0.1);
    cairo_arc(cr, 12, 10.5, 4.5, 0, 2 * M_PI); /* bulb */
    cairo_fill(cr);
    cairo_rectangle(cr, 10, 15.5, 4, 3.5); /* base */
    cairo_fill(cr);
    cairo_set_line_width(cr, 1.3);
    for (int i = 0; i < 5; i++) { /* rays above the bulb */
        double a = M_PI + M_PI * (i + 0.5) / 5;
        cairo_move_to(cr, 12 + 6.2 * cos(a), 10.5 + 6.2 * sin(a));
        cairo_line_to(cr, 12 + 8 * cos(a), 10.5 + 8 * sin(a));
    }
    cairo_stroke(cr);
}

static void draw_gate(cairo_t *cr)
{
    badge(cr, 0.23, 0.23, 0.23);
    /* an arch: a doorway cut out of a wall */
    cairo_rectangle(cr, 5, 5, 14, 14);
    cairo_new_sub_path(cr);
    cairo_move_to(cr, 8.5, 19);
    cairo_line_to(cr, 8.5, 11.5);
    cairo_arc(cr, 12, 11.5, 3.5, M_PI, 2 * M_PI);
    cairo_line_to(cr, 15.5, 19);
    cairo_close_path(cr);
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
    cairo_fill(cr);
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
}

static void draw_ac(cairo_t *cr)
{
    badge(cr, 0.61, 0.36, 0.9);
    cairo_set_line_width(cr, 1.6);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (int i = 0; i < 3; i++) { /* a snowflake: three bars with ticks */
        double a = M_PI / 2 + i * M_PI / 3, c = cos(a), s = sin(a);
        cairo_move_to(cr, 12 - 7 * c, 12 - 7 * s);
        cairo_line_to(cr, 12 + 7 * c, 12 + 7 * s);
        for (int e = -1; e <= 1; e += 2) {
            double tx = 12 + e * 4.5 * c, ty = 12 + e * 4.5 * s;
            cairo_move_to(cr, tx, ty);
            cairo_line_to(cr, tx + e * 2.2 * c - 2.2 * s, ty + e * 2.2 * s + 2.2 * c);
            cairo_move_to(cr, tx, ty);
            cairo_line_to(cr, tx + e * 2.2 * c + 2.2 * s, ty + e * 2.2 * s - 2.2 * c);
        }
    }
    cairo_stroke(cr);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
}

static void exclamation(cairo_t *cr, double cx, double top, double h)
{
    cairo_rectangle(cr, cx - 1.1, top, 2.2, h);
    cairo_fill(cr);
    cairo_arc(cr, cx, top + h + 2.3, 1.25, 0, 2 * M_PI);
    cairo_fill(cr);
}

static void draw_incident(cairo_t *cr)
{
    disc(cr, 0.2, 0.2, 0.2);
    exclamation(cr, 12, 6, 7.5);
}

static void draw_incident_medical(cairo_t *cr)
{
    disc(cr, 0.2, 0.2, 0.2);
    cross(cr, 12, 12, 6, 2);
}

static void draw_incident_lost(cairo_t *cr)
{
    disc(cr, 0.2, 0.2, 0.2);
    cairo_arc(cr, 12, 8, 2.4, 0, 2 * M_PI); /* a person ... */
    cairo_fill(cr);
    cairo_move_to(cr, 8.5, 18.5);
    cairo_curve_to(cr, 8.5, 12, 15.5, 12, 15.5, 18.5);
    cairo_close_path(cr);
    cairo_fill(cr);
}

static void draw_incident_fire(cairo_t *cr)
{
    static const double flame[][6] = {{13, 8, 17, 10, 17, 14.5},         {17, 17.5, 14.8, 19.5, 12, 19.5},
                                      {9.2, 19.5, 7, 17.5, 7, 14.5},     {7, 12, 8.5, 10.5, 9.5, 9},
                                      {10, 11, 10.8, 12, 11.5, 12.3},    {11.2, 9.5, 11.5, 7, 12, 4.5}};
    disc(cr, 0.2, 0.2, 0.2);
    fill_curves(cr, 12, 4.5, flame, 6);
}

static void draw_incident_crowding(cairo_t *cr)
{
    disc(cr, 0.2, 0.2, 0.2);
    for (int i = 0; i < 3; i++) { /* three heads and shoulders */
        double cx = 7.5 + 4.5 * i, cy = i == 1 ? 9 : 10.5;
        cairo_arc(cr, cx, cy, 1.8, 0, 2 * M_PI);
        cairo_fill(cr);
        cairo_move_to(cr, cx - 2.4, cy + 7);
        cairo_curve_to(cr, cx - 2.4, cy + 2.3, cx + 2.4, cy + 2.3, cx + 2.4, cy + 7);
        cairo_close_path(cr);
        cairo_fill(cr);
    }
}

/* an arrow pointing north (up), for the flow arrows: the style rotates it to the heading */
static void flow_arrow(cairo_t *cr, double r, double g, double b)
{
    static const double pts[][2] = {{12, 3}, {19, 12}, {14.5, 12}, {14.5, 21}, {9.5, 21}, {9.5, 12}, {5, 12}};
    cairo_move_to(cr, pts[0][0], pts[0][1]);
    for (size_t i = 1; i < sizeof pts / sizeof pts[0]; i++)
        cairo_line_to(cr, pts[i][0], pts[i][1]);
    cairo_close_path(cr);
    cairo_set_source_rgb(cr, r, g, b);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, 1.2);
    cairo_stroke(cr);
}

static void draw_flow_arrow(cairo_t *cr)
{
    flow_arrow(cr, 0.1, 0.25, 0.55);
}

static void draw_flow_arrow_counter(cairo_t *cr)
{
    flow_arrow(cr, 0.8, 0.05, 0.05);
}

static void draw_crew_cleaning(cairo_t *cr)
{
    disc(cr, 0.0, 0.65, 0.65);
    cairo_set_line_width(cr, 1.8);
    cairo_move_to(cr, 16, 5); /* a broom: handle ... */
    cairo_line_to(cr, 11.5, 12.5);
    cairo_stroke(cr);
    cairo_move_to(cr, 9.5, 11.5); /* ... and head */
    cairo_line_to(cr, 14, 14);
    cairo_line_to(cr, 11, 19.5);
    cairo_line_to(cr, 5.5, 16.5);
    cairo_close_path(cr);
    cairo_fill(cr);
}

static void draw_crew_emergency(cairo_t *cr)
{
    disc(cr, 0.11, 0.3, 0.85);
    for (int i = 0; i < 3; i++) { /* a six-armed star of life */
        cairo_save(cr);
        cairo_translate(cr, 12, 12);
        cairo_rotate(cr, i * M_PI / 3);
        cairo_rectangle(cr, -1.7, -7, 3.4, 14);
        cairo_fill(cr);
        cairo_restore(cr);
    }
}

static const struct {
    const char *name;
    draw_fn draw;
} ICONS[] = {
    {"toilet", draw_toilet},
    {"water_point", draw_water},
    {"clinic", draw_clinic},
    {"waste_bin", draw_bin},
    {"lighting", draw_lighting},
    {"gate", draw_gate},
    {"ac_unit", draw_ac},
    {"incident", draw_incident},
    {"incident-medical", draw_incident_medical},
    {"incident-lost_person", draw_incident_lost},
    {"incident-fire", draw_incident_fire},
    {"incident-crowding", draw_incident_crowding},
    {"crew-cleaning", draw_crew_cleaning},
    {"crew-emergency", draw_crew_emergency},
    {"flow-arrow", draw_flow_arrow},
    {"flow-arrow-counter", draw_flow_arrow_counter},
};
#define NICONS (sizeof ICONS / sizeof ICONS[0])

size_t msh_sprites_count(void)
{
    return NICONS;
}

const char *msh_sprites_name(size_t i)
{
    return i < NICONS ? ICONS[i].name : NULL;
}

bool msh_sprites_draw(void *cairo, const char *name, size_t len)
{
    for (size_t i = 0; i < NICONS; i++)
        if (strlen(ICONS[i].name) == len && !memcmp(ICONS[i].name, name, len)) {
            cairo_t *cr = cairo;
            cairo_save(cr);
            ICONS[i].draw(cr);
            cairo_restore(cr);
            return true;
        }
    return false;
}

static cairo_status_t png_sink(void *cls, const unsigned char *data, unsigned int len)
{
    return msh_buf_append(cls, data, len) ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

void msh_sprite_sheet_free(msh_sprite_sheet *s)
{
    free(s->png);
    free(s->json);
    memset(s, 0, sizeof *s);
}

msh_rc msh_sprites_render(int ratio, msh_sprite_sheet *out, msh_err *err)
{
    memset(out, 0, sizeof *out);
    if (ratio < 1 || ratio > 4)
        return msh_err_set(err, MSH_EINVAL, "sprite pixel ratio %d: 1 to 4", ratio);
    int rows = (int)((NICONS + COLS - 1) / COLS);
    int w = COLS * CELL * ratio, h = rows * CELL * ratio;
    msh_rc rc = MSH_OK;
    msh_buf png;
    msh_buf_init(&png, (size_t)8 << 20);
    json_t *index = json_object();
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    cairo_t *cr = cairo_create(surf);
    if (!index || cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory drawing sprites");
        goto out;
    }
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_BEST);
    for (size_t i = 0; i < NICONS; i++) {
        int x = (int)(i % COLS) * CELL * ratio, y = (int)(i / COLS) * CELL * ratio;
        cairo_save(cr);
        cairo_translate(cr, x, y);
        cairo_scale(cr, ratio, ratio);
        cairo_rectangle(cr, 0, 0, MSH_SPRITE_ICON, MSH_SPRITE_ICON);
        cairo_clip(cr);
        ICONS[i].draw(cr);
        cairo_restore(cr);
        json_t *e = json_pack("{s:i,s:i,s:i,s:i,s:i}", "x", x, "y", y, "width", MSH_SPRITE_ICON * ratio, "height",
                              MSH_SPRITE_ICON * ratio, "pixelRatio", ratio);
        if (!e || json_object_set_new(index, ICONS[i].name, e)) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory building the sprite index");
            goto out;
        }
    }
    cairo_surface_flush(surf);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS || cairo_surface_write_to_png_stream(surf, png_sink, &png)) {
        rc = msh_err_set(err, MSH_EINTERNAL, "Cairo could not draw or encode the sprite sheet");
        goto out;
    }
    out->json = json_dumps(index, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!out->json) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    out->json_len = strlen(out->json);
    out->png = msh_buf_steal(&png, &out->png_len);
    out->width = w;
    out->height = h;
out:
    if (rc)
        msh_sprite_sheet_free(out);
    msh_buf_free(&png);
    json_decref(index);
    cairo_destroy(cr);
    cairo_surface_destroy(surf);
    return rc;
}
