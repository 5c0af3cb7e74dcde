/* routes_fonts.c: GET /fonts.json, /fonts/{fontstack}/{range}.pbf (SDF glyphs) and
 * /sprites/{name}[@2x].json|.png. What they keep between requests is the font service's
 * (server/services/font_service.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "http/fontpath.h"
#include "routes/routes.h"
#include "services/font_service.h"

#define SPRITE_NAME "operations"
/* Glyphs change only when the installed fonts do; the ETag (a hash of the bytes) catches that. */
#define GLYPH_CACHE_CONTROL "public, max-age=604800"
#define SPRITE_CACHE_CONTROL "public, max-age=86400"

void msh_route_fonts_list(msh_req *r, const char *rest)
{
    const char *why;
    msh_glyphs *g = msh_font_service_glyphs(r->app->fonts, &why);
    if (!g) {
        msh_resp_error(r, 503, "fonts unavailable: %s", why);
        return;
    }
    msh_buf b;
    msh_buf_init(&b, (size_t)4 << 20);
    msh_rc rc = msh_buf_putc(&b, '[');
    for (size_t i = 0; !rc && i < msh_glyphs_count(g); i++) {
        rc = msh_buf_printf(&b, "%s\"", i ? "," : "");
        if (!rc)
            rc = msh_buf_json_str(&b, msh_glyphs_name(g, i));
        if (!rc)
            rc = msh_buf_putc(&b, '"');
    }
    if (!rc)
        rc = msh_buf_printf(&b, "]\n");
    if (rc)
        msh_resp_error(r, 500, "font list too large");
    else {
        r->resp.cache_control = "no-cache";
        msh_resp_buf(r, 200, "application/json", &b);
    }
    msh_buf_free(&b);
}

void msh_route_glyphs(msh_req *r, const char *rest)
{
    msh_fontpath fp;
    msh_err err = {0};
    if (msh_fontpath_parse(rest, &fp, &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    const char *why;
    msh_glyphs *g = msh_font_service_glyphs(r->app->fonts, &why);
    if (!g) {
        msh_resp_error(r, 503, "fonts unavailable: %s", why);
        return;
    }
    const char *names[MSH_GLYPH_MAX_STACK];
    for (size_t i = 0; i < fp.n; i++)
        names[i] = fp.names[i];
    msh_glyph_range gr;
    msh_glyph_entry *owned;
    msh_rc rc = msh_font_service_range(r->app->fonts, g, names, fp.n, fp.start, &gr, &owned, &err);
    if (rc) {
        msh_resp_error(r, msh_err_http_status(rc), "%s", err.msg);
        return;
    }
    bool gz = gr.gz && msh_req_accepts_gzip(r);
    if (owned) { /* not kept (the cache is full): sent as a copy */
        msh_resp_body(r, 200, "application/x-protobuf", gr.plain, gr.plain_len);
        gz = r->resp.gzip;
        msh_font_service_release(owned);
    } else { /* kept until the server stops (after the HTTP daemon): sent without a copy */
        r->resp.status = 200;
        r->resp.ctype = "application/x-protobuf";
        r->resp.vary_encoding = true;
        r->resp.gzip = gz;
        r->resp.ext = gz ? gr.gz : gr.plain;
        r->resp.ext_len = gz ? gr.gz_len : gr.plain_len;
    }
    snprintf(r->resp.etag, sizeof r->resp.etag, "%.*s%s\"", (int)strlen(gr.etag) - 1, gr.etag, gz ? "-gz" : "");
    r->resp.cache_control = GLYPH_CACHE_CONTROL;
}

void msh_route_sprites(msh_req *r, const char *rest)
{
    size_t n = strlen(SPRITE_NAME);
    if (strncmp(rest, SPRITE_NAME, n) || (rest[n] != '.' && rest[n] != '@')) {
        msh_resp_error(r, 404, "no sprite at /sprites/%.60s (this server draws one: /sprites/" SPRITE_NAME
                               "[@2x].json and .png)", rest);
        return;
    }
    const char *tail = rest + n;
    int ratio = 1;
    if (!strncmp(tail, "@2x", 3)) {
        ratio = 2;
        tail += 3;
    }
    bool png = !strcmp(tail, ".png");
    if (!png && strcmp(tail, ".json")) {
        msh_resp_error(r, 404, "sprites are /sprites/" SPRITE_NAME "[@2x].json and .png, not /sprites/%.60s", rest);
        return;
    }
    const char *etag, *why;
    const msh_sprite_sheet *sh = msh_font_service_sprites(r->app->fonts, ratio, &etag, &why);
    if (!sh) {
        msh_resp_error(r, 500, "sprites unavailable: %s", why);
        return;
    }
    if (png) {
        r->resp.status = 200;
        r->resp.ctype = "image/png";
        r->resp.ext = sh->png; /* drawn once, kept until the server stops */
        r->resp.ext_len = sh->png_len;
    } else {
        msh_resp_body(r, 200, "application/json", sh->json, sh->json_len);
    }
    /* one ETag per sheet and file, and per encoding */
    snprintf(r->resp.etag, sizeof r->resp.etag, "%.*s-%s%s\"", (int)strlen(etag) - 1, etag, png ? "png" : "json",
             r->resp.gzip ? "-gz" : "");
    r->resp.cache_control = SPRITE_CACHE_CONTROL;
}
