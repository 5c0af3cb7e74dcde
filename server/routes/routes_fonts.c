/* routes_fonts.c: GET /fonts.json, /fonts/{fontstack}/{range}.pbf (SDF glyphs) and /sprites/{name}[@2x].json|.png. */
#include "routes/routes_fonts.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/fontpath.h"
#include "glyphs.h"
#include "routes/routes.h"
#include "sprites.h"
#include "core/msh_hash.h"

#define NBUCKETS 512
#define SPRITE_NAME "operations"
/* Glyphs change only when the installed fonts do; the ETag (a hash of the bytes) catches that. */
#define GLYPH_CACHE_CONTROL "public, max-age=604800"
#define SPRITE_CACHE_CONTROL "public, max-age=86400"

typedef struct entry {
    struct entry *next;
    char *key;
    uint8_t *plain, *gz; /* gz NULL when gzip would not pay */
    size_t plain_len, gz_len;
    char etag[40]; /* "\"g-<hash>\"" */
} entry;

struct msh_font_service {
    pthread_mutex_t lock; /* guards everything below */
    msh_glyphs *glyphs;   /* listed on first use */
    bool glyphs_tried;
    char glyphs_err[512];
    msh_sprite_sheet sheets[2]; /* 1x, 2x; drawn on first use */
    char sheet_etag[2][40];
    bool sheets_tried;
    char sheets_err[512];
    entry *buckets[NBUCKETS];
    size_t bytes;
};

msh_font_service *msh_font_service_new(void)
{
    msh_font_service *s = calloc(1, sizeof *s);
    if (s)
        pthread_mutex_init(&s->lock, NULL);
    return s;
}

void msh_font_service_free(msh_font_service *s)
{
    if (!s)
        return;
    for (int i = 0; i < NBUCKETS; i++) {
        for (entry *e = s->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e->key);
            free(e->plain);
            free(e->gz);
            free(e);
        }
    }
    msh_glyphs_close(s->glyphs);
    msh_sprite_sheet_free(&s->sheets[0]);
    msh_sprite_sheet_free(&s->sheets[1]);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* The font list, made on first use; NULL (and the reason in s->glyphs_err) if fontconfig failed. */
static msh_glyphs *glyphs_of(msh_font_service *s)
{
    pthread_mutex_lock(&s->lock);
    if (!s->glyphs_tried) {
        msh_err err = {0};
        if (msh_glyphs_open(&s->glyphs, &err))
            snprintf(s->glyphs_err, sizeof s->glyphs_err, "%s", err.msg);
        s->glyphs_tried = true;
    }
    msh_glyphs *g = s->glyphs;
    pthread_mutex_unlock(&s->lock);
    return g;
}

static void send_cached(msh_req *r, const entry *e, const char *ctype, const char *cache_control)
{
    bool gz = e->gz && msh_req_accepts_gzip(r);
    r->resp.status = 200;
    r->resp.ctype = ctype;
    r->resp.cache_control = cache_control;
    r->resp.vary_encoding = true;
    r->resp.gzip = gz;
    /* entries live until the server stops (after the HTTP daemon): sent without a copy */
    r->resp.ext = gz ? e->gz : e->plain;
    r->resp.ext_len = gz ? e->gz_len : e->plain_len;
    snprintf(r->resp.etag, sizeof r->resp.etag, "%.*s%s\"", (int)strlen(e->etag) - 1, e->etag, gz ? "-gz" : "");
}

void msh_route_fonts_list(msh_req *r, const char *rest)
{
    msh_glyphs *g = glyphs_of(r->app->fonts);
    if (!g) {
        msh_resp_error(r, 503, "fonts unavailable: %s", r->app->fonts->glyphs_err);
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
    msh_font_service *s = r->app->fonts;
    msh_fontpath fp;
    msh_err err = {0};
    if (msh_fontpath_parse(rest, &fp, &err)) {
        msh_resp_error(r, 400, "%s", err.msg);
        return;
    }
    msh_glyphs *g = glyphs_of(s);
    if (!g) {
        msh_resp_error(r, 503, "fonts unavailable: %s", s->glyphs_err);
        return;
    }
    const char *names[MSH_GLYPH_MAX_STACK];
    for (size_t i = 0; i < fp.n; i++)
        names[i] = fp.names[i];
    /* keyed by the fonts drawn, not the names asked: unknown or repeated names make no new entry */
    char key[MSH_GLYPH_MAX_STACK * MSH_FONTPATH_NAME_MAX + 16];
    msh_rc rc = msh_glyphs_stack(g, names, fp.n, key, sizeof key - 8, &err);
    if (rc) {
        msh_resp_error(r, msh_err_http_status(rc), "%s", err.msg);
        return;
    }
    size_t kl = strlen(key);
    snprintf(key + kl, sizeof key - kl, "/%u", fp.start);
    unsigned bucket = (unsigned)(msh_fnv1a(key, strlen(key), MSH_FNV1A_INIT) % NBUCKETS);

    pthread_mutex_lock(&s->lock);
    entry *hit = s->buckets[bucket];
    while (hit && strcmp(hit->key, key))
        hit = hit->next;
    pthread_mutex_unlock(&s->lock);
    if (hit) {
        send_cached(r, hit, "application/x-protobuf", GLYPH_CACHE_CONTROL);
        return;
    }

    msh_buf pbf, gz;
    msh_buf_init(&pbf, (size_t)16 << 20);
    msh_buf_init(&gz, (size_t)16 << 20);
    entry *e = NULL;
    rc = msh_glyphs_range(g, names, fp.n, fp.start, &pbf, &err);
    if (rc) {
        msh_resp_error(r, msh_err_http_status(rc), "%s", err.msg);
        goto out;
    }
    e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key))) {
        msh_resp_error(r, 500, "out of memory");
        goto out;
    }
    snprintf(e->etag, sizeof e->etag, "\"g-%016llx\"",
             (unsigned long long)msh_fnv1a(pbf.data, pbf.len, MSH_FNV1A_INIT));
    if (pbf.len > 1024 && msh_gzip(pbf.data, pbf.len, &gz, 9) == MSH_OK)
        e->gz = msh_buf_steal(&gz, &e->gz_len);
    e->plain = msh_buf_steal(&pbf, &e->plain_len);
    if (!e->plain) { /* an empty range still has its fontstack header, so this is only a failed steal */
        msh_resp_error(r, 500, "out of memory");
        goto out;
    }
    pthread_mutex_lock(&s->lock);
    entry *there = s->buckets[bucket];
    while (there && strcmp(there->key, key))
        there = there->next;
    size_t size = e->plain_len + e->gz_len + sizeof *e + strlen(key);
    if (!there && s->bytes + size <= MSH_FONT_CACHE_BYTES) {
        e->next = s->buckets[bucket];
        s->buckets[bucket] = e;
        s->bytes += size;
        there = e;
        e = NULL; /* the table owns it now */
    }
    pthread_mutex_unlock(&s->lock);
    if (there) {
        send_cached(r, there, "application/x-protobuf", GLYPH_CACHE_CONTROL);
    } else { /* cache full: send this copy */
        msh_resp_body(r, 200, "application/x-protobuf", e->plain, e->plain_len);
        snprintf(r->resp.etag, sizeof r->resp.etag, "%.*s%s\"", (int)strlen(e->etag) - 1, e->etag,
                 r->resp.gzip ? "-gz" : "");
        r->resp.cache_control = GLYPH_CACHE_CONTROL;
    }
out:
    if (e) {
        free(e->key);
        free(e->plain);
        free(e->gz);
        free(e);
    }
    msh_buf_free(&pbf);
    msh_buf_free(&gz);
}

/* The sprite sheets, drawn on first use; false (and the reason in s->sheets_err) if Cairo failed. */
static bool sheets_of(msh_font_service *s)
{
    pthread_mutex_lock(&s->lock);
    if (!s->sheets_tried) {
        msh_err err = {0};
        for (int i = 0; i < 2 && !s->sheets_err[0]; i++) {
            if (msh_sprites_render(i + 1, &s->sheets[i], &err))
                snprintf(s->sheets_err, sizeof s->sheets_err, "%s", err.msg);
            else
                snprintf(s->sheet_etag[i], sizeof s->sheet_etag[i], "\"s-%016llx\"",
                         (unsigned long long)msh_fnv1a(s->sheets[i].json, s->sheets[i].json_len,
                                                   msh_fnv1a(s->sheets[i].png, s->sheets[i].png_len,
                                                         MSH_FNV1A_INIT)));
        }
        s->sheets_tried = true;
    }
    bool ok = !s->sheets_err[0];
    pthread_mutex_unlock(&s->lock);
    return ok;
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
    msh_font_service *s = r->app->fonts;
    if (!sheets_of(s)) {
        msh_resp_error(r, 500, "sprites unavailable: %s", s->sheets_err);
        return;
    }
    const msh_sprite_sheet *sh = &s->sheets[ratio - 1];
    if (png) {
        r->resp.status = 200;
        r->resp.ctype = "image/png";
        r->resp.ext = sh->png; /* drawn once, kept until the server stops */
        r->resp.ext_len = sh->png_len;
    } else {
        msh_resp_body(r, 200, "application/json", sh->json, sh->json_len);
    }
    /* one ETag per sheet and file, and per encoding */
    snprintf(r->resp.etag, sizeof r->resp.etag, "%.*s-%s%s\"", (int)strlen(s->sheet_etag[ratio - 1]) - 1,
             s->sheet_etag[ratio - 1], png ? "png" : "json", r->resp.gzip ? "-gz" : "");
    r->resp.cache_control = SPRITE_CACHE_CONTROL;
}
