/* font_service.c: glyph ranges made once and kept, the font list and the sprite sheets (font_service.h). */
#include "services/font_service.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_hash.h"
#include "http/http.h"

#define NBUCKETS 512

struct msh_glyph_entry {
    struct msh_glyph_entry *next;
    char *key;
    msh_glyph_range r;
};
typedef struct msh_glyph_entry entry;

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

static void entry_free(entry *e)
{
    if (!e)
        return;
    free(e->key);
    free((void *)e->r.plain);
    free((void *)e->r.gz);
    free(e);
}

void msh_font_service_free(msh_font_service *s)
{
    if (!s)
        return;
    for (int i = 0; i < NBUCKETS; i++)
        for (entry *e = s->buckets[i], *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    msh_glyphs_close(s->glyphs);
    msh_sprite_sheet_free(&s->sheets[0]);
    msh_sprite_sheet_free(&s->sheets[1]);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

msh_glyphs *msh_font_service_glyphs(msh_font_service *s, const char **why)
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
    *why = s->glyphs_err; /* written once, before glyphs_tried is set */
    return g;
}

static entry *find(msh_font_service *s, unsigned bucket, const char *key)
{
    entry *e = s->buckets[bucket];
    while (e && strcmp(e->key, key))
        e = e->next;
    return e;
}

msh_rc msh_font_service_range(msh_font_service *s, msh_glyphs *g, const char *const *names, size_t n, unsigned start,
                              msh_glyph_range *out, msh_glyph_entry **owned, msh_err *err)
{
    *owned = NULL;
    /* keyed by the fonts drawn, not the names asked: unknown or repeated names make no new entry */
    char key[MSH_GLYPH_MAX_STACK * MSH_FONTPATH_NAME_MAX + 16];
    msh_rc rc = msh_glyphs_stack(g, names, n, key, sizeof key - 8, err);
    if (rc)
        return rc;
    size_t kl = strlen(key);
    snprintf(key + kl, sizeof key - kl, "/%u", start);
    unsigned bucket = (unsigned)(msh_fnv1a(key, strlen(key), MSH_FNV1A_INIT) % NBUCKETS);
    pthread_mutex_lock(&s->lock);
    entry *hit = find(s, bucket, key);
    pthread_mutex_unlock(&s->lock);
    if (hit) {
        *out = hit->r;
        return MSH_OK;
    }
    /* made outside the lock: a slow range never holds up the others */
    msh_buf pbf, gz;
    msh_buf_init(&pbf, (size_t)16 << 20);
    msh_buf_init(&gz, (size_t)16 << 20);
    entry *e = NULL;
    if ((rc = msh_glyphs_range(g, names, n, start, &pbf, err)))
        goto out;
    e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key))) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(e->r.etag, sizeof e->r.etag, "\"g-%016llx\"", (unsigned long long)msh_fnv1a(pbf.data, pbf.len, MSH_FNV1A_INIT));
    if (pbf.len > 1024 && msh_gzip(pbf.data, pbf.len, &gz, 9) == MSH_OK)
        e->r.gz = msh_buf_steal(&gz, &e->r.gz_len);
    e->r.plain = msh_buf_steal(&pbf, &e->r.plain_len);
    if (!e->r.plain) { /* an empty range still has its fontstack header, so this is only a failed steal */
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    pthread_mutex_lock(&s->lock);
    entry *there = find(s, bucket, key); /* another thread may have made it meanwhile */
    size_t size = e->r.plain_len + e->r.gz_len + sizeof *e + strlen(key);
    if (!there && s->bytes + size <= MSH_FONT_CACHE_BYTES) {
        e->next = s->buckets[bucket];
        s->buckets[bucket] = e;
        s->bytes += size;
        there = e;
        e = NULL; /* the table owns it now */
    }
    pthread_mutex_unlock(&s->lock);
    *out = there ? there->r : e->r;
    if (!there) { /* cache full: the caller sends this copy, then releases it */
        *owned = e;
        e = NULL;
    }
out:
    entry_free(e);
    msh_buf_free(&pbf);
    msh_buf_free(&gz);
    return rc;
}

void msh_font_service_release(msh_glyph_entry *owned)
{
    entry_free(owned);
}

const msh_sprite_sheet *msh_font_service_sprites(msh_font_service *s, int ratio, const char **etag, const char **why)
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
    *why = s->sheets_err;
    *etag = s->sheet_etag[ratio - 1];
    return ok ? &s->sheets[ratio - 1] : NULL;
}
