/* export.c: the tile walk (see export.h).
 *
 * The tiles are listed up front, zoom by zoom and in tile-id order within a zoom (tile ids of
 * one zoom are one range, after those of the zooms below, so the list is in tile-id order), and
 * cut into chunks of CHUNK tiles. Worker k of the pool takes the next chunk number from an atomic
 * counter, waits while it is WINDOW or more chunks ahead of the writer, makes its tiles into the
 * chunk's slot (slot = chunk % WINDOW) and marks it ready. The exporting thread takes slot after
 * slot in chunk order, numbers the contents (a keyless index over the distinct digests) and calls
 * the writer for each non-empty tile.
 *
 * Lock contract: one mutex guards the slots' ready flags, `written` (chunks consumed), `failed`
 * and the first error message; workers wait on `room` (a slot freed), the exporter on `ready`.
 * A slot's buffers belong to its worker from taking the chunk until ready is set, then to the
 * exporter until it advances `written`.
 */
#include "export.h"

#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_buf.h"
#include "core/msh_grow.h"
#include "core/msh_index.h"
#include "core/msh_tilemath.h"
#include "gzip.h"
#include "pmtiles.h"
#include "tile.h"
#include "vector_layers.h"

#define CHUNK 32

typedef struct xtile {
    uint64_t id;
    uint32_t x, y;
    int z;
} xtile;

typedef struct tile_out {
    size_t off, len;    /* in the slot's data buffer; len 0: empty tile */
    uint8_t digest[16];
} tile_out;

typedef struct slot {
    bool ready;
    msh_buf data;            /* the chunk's gzipped tiles, back to back */
    tile_out out[CHUNK];
    uint64_t features;
} slot;

typedef struct content {
    uint8_t digest[16];
} content;

typedef struct walk {
    const msh_export_opts *o;
    msh_export_maker maker; /* o->maker, or the vector one */
    const xtile *tiles;
    size_t ntiles, nchunks, window;
    slot *slots;
    atomic_size_t next; /* the next chunk to take */
    pthread_mutex_t mu;
    pthread_cond_t room, ready;
    size_t written;     /* chunks consumed by the exporter */
    bool failed;
    msh_err err;        /* the first failure */
} walk;

uint64_t msh_export_count(const double b[4], int z0, int z1)
{
    uint64_t n = 0;
    for (int z = z0; z <= z1; z++) {
        uint32_t x0, y0, x1, y1;
        msh_tile_at(b[0], b[3], z, &x0, &y0);
        msh_tile_at(b[2], b[1], z, &x1, &y1);
        n += (uint64_t)(x1 - x0 + 1) * (y1 - y0 + 1);
    }
    return n;
}

static int cmp_id(const void *a, const void *b)
{
    uint64_t x = ((const xtile *)a)->id, y = ((const xtile *)b)->id;
    return x < y ? -1 : x > y;
}

/* The tiles of the box, in tile-id order. */
static msh_rc list_tiles(const msh_export_opts *o, xtile **out, size_t *n, msh_err *err)
{
    uint64_t total = msh_export_count(o->bbox, o->minzoom, o->maxzoom);
    if (total > MSH_EXPORT_MAX_TILES)
        return msh_err_set(err, MSH_ETOOBIG, "the box covers %llu tiles at zooms %d-%d, more than %llu: narrow it",
                           (unsigned long long)total, o->minzoom, o->maxzoom, MSH_EXPORT_MAX_TILES);
    xtile *t = malloc((size_t)(total ? total : 1) * sizeof *t);
    if (!t)
        return msh_err_set(err, MSH_ENOMEM, "out of memory listing %llu tiles", (unsigned long long)total);
    size_t k = 0;
    for (int z = o->minzoom; z <= o->maxzoom; z++) {
        uint32_t x0, y0, x1, y1;
        msh_tile_at(o->bbox[0], o->bbox[3], z, &x0, &y0);
        msh_tile_at(o->bbox[2], o->bbox[1], z, &x1, &y1);
        size_t first = k;
        for (uint32_t x = x0; x <= x1; x++)
            for (uint32_t y = y0; y <= y1; y++)
                t[k++] = (xtile){msh_pmtiles_tile_id(z, x, y), x, y, z};
        qsort(t + first, k - first, sizeof *t, cmp_id);
    }
    *out = t;
    *n = k;
    return MSH_OK;
}

static void fail(walk *w, const msh_err *e)
{
    pthread_mutex_lock(&w->mu);
    if (!w->failed) {
        w->failed = true;
        w->err = *e;
    }
    pthread_cond_broadcast(&w->room);
    pthread_cond_broadcast(&w->ready);
    pthread_mutex_unlock(&w->mu);
}

static bool stopped(const walk *w)
{
    return w->o->stop && atomic_load(w->o->stop);
}

/* The vector maker: the composite tile, gzipped as the server sends it. */
typedef struct vector_state {
    msh_tiler *tiler;
    msh_buf gz;
} vector_state;

static void vector_free(void *p)
{
    vector_state *v = p;
    if (!v)
        return;
    msh_tiler_free(v->tiler);
    msh_buf_free(&v->gz);
    free(v);
}

static void *vector_new(void *ud, size_t max_tile_bytes)
{
    (void)ud;
    vector_state *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    msh_buf_init(&v->gz, max_tile_bytes + 1024);
    v->tiler = msh_tiler_new(max_tile_bytes);
    if (!v->tiler) {
        vector_free(v);
        return NULL;
    }
    return v;
}

static msh_rc vector_make(void *ud, void *state, int z, uint32_t x, uint32_t y, const uint8_t **data, size_t *len,
                          uint64_t *features, msh_err *err)
{
    const msh_export_opts *o = ud;
    vector_state *v = state;
    const uint8_t *mvt;
    size_t n;
    msh_tile_stats st = {0};
    msh_rc rc = msh_tile_mvt(v->tiler, o->layers, o->nlayers, z, x, y, &mvt, &n, &st, err);
    if (rc)
        return rc;
    *features = st.features;
    *len = 0;
    if (!n)
        return MSH_OK;
    if (msh_gzip(mvt, n, &v->gz, MSH_TILE_GZIP_LEVEL))
        return msh_err_set(err, MSH_ENOMEM, "out of memory compressing tile %d/%u/%u", z, x, y);
    *data = v->gz.data;
    *len = v->gz.len;
    return MSH_OK;
}

/* Make the tiles of chunk c into slot s; the worker owns s. */
static msh_rc make_chunk(walk *w, const msh_export_maker *mk, void *state, size_t c, slot *s, msh_err *err)
{
    msh_buf_reset(&s->data);
    s->features = 0;
    size_t first = c * CHUNK, n = w->ntiles - first < CHUNK ? w->ntiles - first : CHUNK;
    for (size_t i = 0; i < n; i++) {
        const xtile *t = &w->tiles[first + i];
        const uint8_t *data = NULL;
        size_t len = 0;
        uint64_t features = 0;
        msh_rc rc = mk->make(mk->ud, state, t->z, t->x, t->y, &data, &len, &features, err);
        if (rc)
            return rc;
        s->features += features;
        tile_out *to = &s->out[i];
        to->off = s->data.len;
        to->len = 0;
        if (!len)
            continue;
        if (msh_buf_append(&s->data, data, len))
            return msh_err_set(err, MSH_ENOMEM, "out of memory keeping tile %d/%u/%u", t->z, t->x, t->y);
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
            return msh_err_set(err, MSH_EINTERNAL, "SHA-256 failed");
        memcpy(to->digest, md, sizeof to->digest);
        to->len = len;
    }
    return MSH_OK;
}

static void *worker(void *arg)
{
    walk *w = arg;
    msh_err err = {0};
    const msh_export_maker *mk = &w->maker;
    void *state = mk->state_new(mk->ud, w->o->max_tile_bytes);
    if (!state) {
        msh_err_set(&err, MSH_ENOMEM, "out of memory");
        fail(w, &err);
        return NULL;
    }
    for (;;) {
        size_t c = atomic_fetch_add(&w->next, 1);
        if (c >= w->nchunks)
            break;
        pthread_mutex_lock(&w->mu);
        while (!w->failed && c >= w->written + w->window)
            pthread_cond_wait(&w->room, &w->mu);
        bool give_up = w->failed;
        pthread_mutex_unlock(&w->mu);
        if (give_up)
            break;
        slot *s = &w->slots[c % w->window];
        msh_rc rc = stopped(w) ? msh_err_set(&err, MSH_EINTERNAL, "interrupted") : make_chunk(w, mk, state, c, s, &err);
        if (rc) {
            fail(w, &err);
            break;
        }
        pthread_mutex_lock(&w->mu);
        s->ready = true;
        pthread_cond_broadcast(&w->ready);
        pthread_mutex_unlock(&w->mu);
    }
    mk->state_free(state);
    return NULL;
}

static uint64_t content_hash(const void *ud, uint32_t ref)
{
    const content *c = ud;
    uint64_t h;
    memcpy(&h, c[ref].digest, sizeof h);
    return h;
}

static bool content_eq(const void *ud, uint32_t ref, const void *key)
{
    return !memcmp(((const content *)ud)[ref].digest, key, 16);
}

typedef struct dedup {
    msh_refindex ix;
    content *c;
    size_t n, cap;
} dedup;

/* The content number of digest d; *fresh when it was not seen before. */
static msh_rc dedup_find(dedup *d, const uint8_t *digest, uint32_t *num, bool *fresh, msh_err *err)
{
    uint64_t h;
    memcpy(&h, digest, sizeof h);
    uint32_t r = msh_refindex_find(&d->ix, h, content_eq, d->c, digest);
    if (r != MSH_REFINDEX_NONE) {
        *num = r;
        *fresh = false;
        return MSH_OK;
    }
    if (msh_grow_from((void **)&d->c, &d->cap, d->n + 1, sizeof *d->c, 1024))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    memcpy(d->c[d->n].digest, digest, 16);
    if (msh_refindex_add(&d->ix, h, (uint32_t)d->n, content_hash, d->c))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    *num = (uint32_t)d->n++;
    *fresh = true;
    return MSH_OK;
}

/* Hand chunk c (ready in its slot) to the writer. */
static msh_rc consume(walk *w, dedup *d, size_t c, msh_export_tile_fn fn, void *ud, msh_export_summary *sum,
                      msh_err *err)
{
    const slot *s = &w->slots[c % w->window];
    size_t first = c * CHUNK, n = w->ntiles - first < CHUNK ? w->ntiles - first : CHUNK;
    sum->walked += n;
    sum->features += s->features;
    for (size_t i = 0; i < n; i++) {
        const tile_out *to = &s->out[i];
        if (!to->len)
            continue;
        const xtile *t = &w->tiles[first + i];
        msh_export_tile et = {t->z, t->x, t->y, t->id, 0, false, {0}, s->data.data + to->off, to->len};
        memcpy(et.digest, to->digest, sizeof et.digest);
        msh_rc rc = dedup_find(d, to->digest, &et.content, &et.fresh, err);
        if (!rc)
            rc = fn(ud, &et, err);
        if (rc)
            return rc;
        sum->written++;
        if (et.fresh) {
            sum->contents++;
            sum->bytes += to->len;
        }
    }
    return MSH_OK;
}

msh_rc msh_export_run(const msh_export_opts *o, msh_export_tile_fn fn, void *ud, msh_export_summary *sum,
                      msh_err *err)
{
    memset(sum, 0, sizeof *sum);
    walk w = {.o = o};
    w.maker = o->maker ? *o->maker : (msh_export_maker){vector_new, vector_free, vector_make, (void *)o};
    xtile *tiles = NULL;
    dedup d = {0};
    pthread_t *th = NULL;
    int started = 0;
    msh_rc rc = list_tiles(o, &tiles, &w.ntiles, err);
    if (rc)
        return rc;
    w.tiles = tiles;
    w.nchunks = (w.ntiles + CHUNK - 1) / CHUNK;
    w.window = (size_t)o->threads * 4;
    atomic_init(&w.next, 0);
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.room, NULL);
    pthread_cond_init(&w.ready, NULL);
    w.slots = calloc(w.window, sizeof *w.slots);
    th = calloc((size_t)o->threads, sizeof *th);
    if (!w.slots || !th) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < w.window; i++)
        msh_buf_init(&w.slots[i].data, (o->max_tile_bytes + 1024) * CHUNK);
    for (; started < o->threads; started++)
        if (pthread_create(&th[started], NULL, worker, &w)) {
            msh_err e;
            msh_err_set(&e, MSH_EINTERNAL, "cannot start a worker thread");
            fail(&w, &e);
            break;
        }
    for (size_t c = 0; c < w.nchunks; c++) {
        pthread_mutex_lock(&w.mu);
        while (!w.failed && !w.slots[c % w.window].ready)
            pthread_cond_wait(&w.ready, &w.mu);
        bool failed = w.failed;
        pthread_mutex_unlock(&w.mu);
        if (failed)
            break;
        msh_err e = {0};
        if (consume(&w, &d, c, fn, ud, sum, &e)) {
            fail(&w, &e);
            break;
        }
        pthread_mutex_lock(&w.mu);
        w.slots[c % w.window].ready = false;
        w.written = c + 1;
        pthread_cond_broadcast(&w.room);
        pthread_mutex_unlock(&w.mu);
        if (o->progress)
            o->progress(o->ud, sum->walked, w.ntiles);
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (w.failed) {
        *err = w.err;
        rc = w.err.code ? w.err.code : MSH_EINTERNAL;
    }
out:
    if (w.slots)
        for (size_t i = 0; i < w.window; i++)
            msh_buf_free(&w.slots[i].data);
    free(w.slots);
    free(th);
    free(tiles);
    msh_refindex_free(&d.ix);
    free(d.c);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.room);
    pthread_cond_destroy(&w.ready);
    return rc;
}

void msh_export_metadata_json(msh_buf *b, const msh_export_opts *o, const char *name, bool png, double center[3])
{
    const double *bb = o->bbox;
    /* the centre zoom shows the box in about one 512 px view, within the exported zooms */
    double span = fmax(bb[2] - bb[0], 1e-6);
    int cz = (int)floor(log2(360.0 / span));
    if (cz < o->minzoom) cz = o->minzoom;
    if (cz > o->maxzoom) cz = o->maxzoom;
    center[0] = (bb[0] + bb[2]) / 2, center[1] = (bb[1] + bb[3]) / 2, center[2] = cz;
    msh_buf_printf(b, "{\"name\":\"");
    msh_buf_json_str(b, name); /* escapes, without the quotes */
    msh_buf_printf(b, "\",\"format\":\"%s\",\"type\":\"%s\",\"version\":\"1\",\"generator\":\"mashaer export\",",
                   png ? "png" : "pbf", png ? "baselayer" : "overlay");
    if (png) {
        msh_buf_printf(b, "\"description\":\"Mashaer raster tiles: style ");
        msh_buf_json_str(b, name);
    } else {
        msh_buf_printf(b, "\"description\":\"Mashaer vector tiles: ");
        for (size_t i = 0; i < o->nlayers; i++)
            msh_buf_printf(b, "%s%s", i ? "," : "", o->layers[i]->info.name);
    }
    msh_buf_printf(b, "\",\"minzoom\":%d,\"maxzoom\":%d,\"bounds\":[%.7f,%.7f,%.7f,%.7f],", o->minzoom, o->maxzoom,
                   bb[0], bb[1], bb[2], bb[3]);
    msh_buf_printf(b, "\"center\":[%.7f,%.7f,%d],", center[0], center[1], cz);
    msh_buf_printf(b, "\"attribution\":\"\\u00a9 OpenStreetMap contributors\"");
    if (!png) {
        msh_buf_printf(b, ",");
        msh_vector_layers_json(b, o->layers, o->nlayers);
    }
    msh_buf_printf(b, "}");
}
