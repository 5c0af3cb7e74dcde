/* test_sprites.c: the sprite sheets: the index matches the PNG, every icon is drawn, 2x is twice 1x. */
#include <cairo.h>
#include <jansson.h>
#include <string.h>

#include "check.h"
#include "sprites.h"

typedef struct {
    const uint8_t *p;
    size_t n, at;
} reader;

static cairo_status_t read_png(void *cls, unsigned char *data, unsigned int len)
{
    reader *r = cls;
    if (r->at + len > r->n)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, r->p + r->at, len);
    r->at += len;
    return CAIRO_STATUS_SUCCESS;
}

int main(void)
{
    msh_sprite_sheet sh[2];
    msh_err e;
    CHECK(msh_sprites_count() >= 14);
    for (int ratio = 1; ratio <= 2; ratio++) {
        msh_sprite_sheet *s = &sh[ratio - 1];
        CHECK(msh_sprites_render(ratio, s, &e) == MSH_OK);
        if (!s->png)
            return 1;
        CHECK(s->png_len > 8 && !memcmp(s->png, "\x89PNG\r\n\x1a\n", 8));
        reader rd = {s->png, s->png_len, 0};
        cairo_surface_t *img = cairo_image_surface_create_from_png_stream(read_png, &rd);
        CHECK(cairo_surface_status(img) == CAIRO_STATUS_SUCCESS);
        int w = cairo_image_surface_get_width(img), h = cairo_image_surface_get_height(img);
        CHECK(w == s->width && h == s->height);
        const uint8_t *px = cairo_image_surface_get_data(img);
        int stride = cairo_image_surface_get_stride(img);
        json_error_t je;
        json_t *idx = json_loads(s->json, 0, &je);
        CHECK(json_is_object(idx) && json_object_size(idx) == msh_sprites_count());
        for (size_t i = 0; i < msh_sprites_count(); i++) {
            const char *name = msh_sprites_name(i);
            json_t *it = json_object_get(idx, name);
            int x = (int)json_integer_value(json_object_get(it, "x")), y = (int)json_integer_value(json_object_get(it, "y"));
            int iw = (int)json_integer_value(json_object_get(it, "width")), ih = (int)json_integer_value(json_object_get(it, "height"));
            CHECK(json_integer_value(json_object_get(it, "pixelRatio")) == ratio);
            CHECK(iw == MSH_SPRITE_ICON * ratio && ih == MSH_SPRITE_ICON * ratio);
            CHECK(x >= 0 && y >= 0 && x + iw <= w && y + ih <= h);
            if (!(x >= 0 && y >= 0 && x + iw <= w && y + ih <= h))
                continue;
            /* drawn: mostly opaque, with white (the pictogram) and a colour (the badge) in it; a flow
             * arrow is no badge: a coloured arrow with a white rim, an eighth of the square or more */
            bool arrow = !strncmp(name, "flow-arrow", 10);
            int opaque = 0, white = 0, colour = 0;
            for (int yy = y; yy < y + ih; yy++)
                for (int xx = x; xx < x + iw; xx++) {
                    uint32_t p = *(const uint32_t *)(px + yy * stride + xx * 4);
                    uint8_t a = p >> 24, r = (p >> 16) & 255, g = (p >> 8) & 255, b = p & 255;
                    opaque += a == 255;
                    white += a == 255 && r > 240 && g > 240 && b > 240;
                    colour += a == 255 && (r < 200 || g < 200 || b < 200);
                }
            bool drawn = arrow ? opaque > iw * ih / 8 && white > iw * ih / 40 && colour > iw * ih / 8
                               : opaque > iw * ih / 2 && white > iw * ih / 20 && colour > iw * ih / 5;
            CHECK(drawn);
            if (!drawn)
                fprintf(stderr, "  %s at %dx: opaque %d white %d colour %d\n", name, ratio, opaque, white, colour);
            /* no icon overlaps the next cell: the pixel column right of it is empty */
            if (x + iw < w)
                for (int yy = y; yy < y + ih; yy++)
                    CHECK((*(const uint32_t *)(px + yy * stride + (x + iw) * 4) >> 24) == 0);
        }
        json_decref(idx);
        cairo_surface_destroy(img);
    }
    CHECK(sh[1].width == 2 * sh[0].width && sh[1].height == 2 * sh[0].height);
    msh_sprite_sheet_free(&sh[0]);
    msh_sprite_sheet_free(&sh[1]);
    msh_sprite_sheet bad;
    CHECK(msh_sprites_render(9, &bad, &e) == MSH_EINVAL && bad.png == NULL);
    CHECK_DONE();
}
