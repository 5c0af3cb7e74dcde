/* mvt.c: streaming MVT 2.1 protobuf encoder with per-layer key/value interning. */
#include "mvt.h"
#include "core/msh_hash.h"

#include <stdlib.h>
#include <string.h>

/* An open-addressing table from byte strings (kept in `pool`) to indexes. */
typedef struct {
    uint32_t *slots; /* index + 1, 0 = empty */
    uint32_t nslots;
    uint32_t count;
    uint32_t *off, *len; /* per index: where its bytes are in pool */
    uint32_t cap;
    msh_buf pool;
} intern_tab;

struct msh_mvt {
    size_t limit;
    msh_buf tile;
    msh_buf layer;    /* features of the open layer, encoded */
    msh_buf tags;     /* uint32 tag list of the open feature */
    msh_buf geom;     /* uint32 geometry commands of the open feature */
    msh_buf scratch;
    intern_tab keys, vals;
    /* Keys come from layer schemas, so the same pointer recurs: a direct-mapped cache from the
     * key's address to its index saves hashing the string for every feature. */
    struct {
        const char *ptr;
        uint32_t idx;
    } key_cache[64];
    char *layer_name;
    uint32_t extent;
    uint32_t layer_features;
    uint64_t features;
    uint32_t feat_keys0, feat_vals0; /* intern counts when the feature began, for a rollback */
    size_t feat_kpool0, feat_vpool0;
    bool feat_has_id;
    uint64_t feat_id;
    msh_gtype feat_type;
};

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    return msh_fnv1a(p, n, MSH_FNV1A_INIT);
}

static void intern_init(intern_tab *t, size_t limit)
{
    memset(t, 0, sizeof *t);
    msh_buf_init(&t->pool, limit);
}

static void intern_free(intern_tab *t)
{
    free(t->slots);
    free(t->off);
    free(t->len);
    msh_buf_free(&t->pool);
}

static void intern_reset(intern_tab *t)
{
    /* A table grown by one huge tile would cost every later small tile a large memset:
     * past 4,096 slots, give the memory back and let the next tile grow it as it needs. */
    if (t->nslots > 4096) {
        free(t->slots);
        t->slots = NULL;
        t->nslots = 0;
    } else if (t->slots) {
        memset(t->slots, 0, sizeof(uint32_t) * t->nslots);
    }
    t->count = 0;
    msh_buf_reset(&t->pool);
}

/* Forget every entry added since the table held `count` entries and `pool` bytes.
 * With linear probing this is safe: older entries were placed before the newer
 * ones existed, so their probe chains never pass through a slot we clear. */
static void intern_rollback(intern_tab *t, uint32_t count, size_t pool)
{
    if (t->count == count)
        return;
    for (uint32_t j = 0; j < t->nslots; j++)
        if (t->slots[j] && t->slots[j] - 1 >= count)
            t->slots[j] = 0;
    t->count = count;
    msh_buf_truncate(&t->pool, pool);
}

static msh_rc intern_grow(intern_tab *t)
{
    uint32_t ns = t->nslots ? t->nslots * 2 : 64;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s)
        return MSH_ENOMEM;
    for (uint32_t i = 0; i < t->count; i++) {
        uint64_t h = hash_bytes(t->pool.data + t->off[i], t->len[i]);
        uint32_t j = (uint32_t)h & (ns - 1);
        while (s[j])
            j = (j + 1) & (ns - 1);
        s[j] = i + 1;
    }
    free(t->slots);
    t->slots = s;
    t->nslots = ns;
    return MSH_OK;
}

/* Index of `p[0..n)`, added when new. */
static msh_rc intern(intern_tab *t, const uint8_t *p, size_t n, uint32_t *idx)
{
    if ((t->count + 1) * 2 > t->nslots) {
        msh_rc rc = intern_grow(t);
        if (rc)
            return rc;
    }
    uint64_t h = hash_bytes(p, n);
    uint32_t j = (uint32_t)h & (t->nslots - 1);
    while (t->slots[j]) {
        uint32_t i = t->slots[j] - 1;
        if (t->len[i] == n && memcmp(t->pool.data + t->off[i], p, n) == 0) {
            *idx = i;
            return MSH_OK;
        }
        j = (j + 1) & (t->nslots - 1);
    }
    if (t->count == t->cap) {
        uint32_t nc = t->cap ? t->cap * 2 : 64;
        uint32_t *o = realloc(t->off, sizeof *o * nc);
        if (!o)
            return MSH_ENOMEM;
        t->off = o;
        uint32_t *l = realloc(t->len, sizeof *l * nc);
        if (!l)
            return MSH_ENOMEM;
        t->len = l;
        t->cap = nc;
    }
    if (t->pool.len > UINT32_MAX - n)
        return MSH_ETOOBIG;
    uint32_t off = (uint32_t)t->pool.len;
    msh_rc rc = msh_buf_append(&t->pool, p, n);
    if (rc)
        return rc;
    t->off[t->count] = off;
    t->len[t->count] = (uint32_t)n;
    t->slots[j] = t->count + 1;
    *idx = t->count++;
    return MSH_OK;
}

msh_mvt *msh_mvt_new(size_t limit)
{
    msh_mvt *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->limit = limit;
    msh_buf_init(&m->tile, limit);
    msh_buf_init(&m->layer, limit);
    msh_buf_init(&m->tags, limit);
    msh_buf_init(&m->geom, limit);
    msh_buf_init(&m->scratch, limit);
    intern_init(&m->keys, limit);
    intern_init(&m->vals, limit);
    return m;
}

void msh_mvt_free(msh_mvt *m)
{
    if (!m)
        return;
    msh_buf_free(&m->tile);
    msh_buf_free(&m->layer);
    msh_buf_free(&m->tags);
    msh_buf_free(&m->geom);
    msh_buf_free(&m->scratch);
    intern_free(&m->keys);
    intern_free(&m->vals);
    free(m->layer_name);
    free(m);
}

void msh_mvt_reset(msh_mvt *m)
{
    msh_buf_reset(&m->tile);
    msh_buf_reset(&m->layer);
    msh_buf_reset(&m->tags);
    msh_buf_reset(&m->geom);
    intern_reset(&m->keys);
    intern_reset(&m->vals);
    free(m->layer_name);
    m->layer_name = NULL;
    m->features = 0;
    m->layer_features = 0;
}

static msh_rc put_key(msh_buf *b, uint32_t field, uint32_t wire)
{
    return msh_buf_varint(b, ((uint64_t)field << 3) | wire);
}

static msh_rc put_bytes(msh_buf *b, uint32_t field, const void *p, size_t n)
{
    msh_rc rc = put_key(b, field, 2);
    if (!rc) rc = msh_buf_varint(b, n);
    if (!rc) rc = msh_buf_append(b, p, n);
    return rc;
}

static msh_rc put_packed_u32(msh_buf *b, msh_buf *scratch, uint32_t field, const uint32_t *v, size_t n)
{
    msh_buf_reset(scratch);
    msh_rc rc = msh_buf_reserve(scratch, 5 * n);
    if (rc)
        return rc;
    uint8_t *p = scratch->data;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = v[i];
        while (x >= 0x80) {
            *p++ = (uint8_t)(x | 0x80);
            x >>= 7;
        }
        *p++ = (uint8_t)x;
    }
    scratch->len = (size_t)(p - scratch->data);
    return put_bytes(b, field, scratch->data, scratch->len);
}

msh_rc msh_mvt_layer_begin(msh_mvt *m, const char *name, uint32_t extent)
{
    free(m->layer_name);
    m->layer_name = strdup(name);
    if (!m->layer_name)
        return MSH_ENOMEM;
    m->extent = extent;
    m->layer_features = 0;
    memset(m->key_cache, 0, sizeof m->key_cache);
    msh_buf_reset(&m->layer);
    intern_reset(&m->keys);
    intern_reset(&m->vals);
    return MSH_OK;
}

msh_rc msh_mvt_feature_begin(msh_mvt *m, bool has_id, uint64_t id)
{
    m->feat_has_id = has_id;
    m->feat_id = id;
    m->feat_type = MSH_GT_NONE;
    m->feat_keys0 = m->keys.count;
    m->feat_vals0 = m->vals.count;
    m->feat_kpool0 = m->keys.pool.len;
    m->feat_vpool0 = m->vals.pool.len;
    msh_buf_reset(&m->tags);
    msh_buf_reset(&m->geom);
    return MSH_OK;
}

static msh_rc add_tag(msh_mvt *m, const char *key, const uint8_t *val, size_t vlen)
{
    uint32_t ki, vi;
    msh_rc rc = MSH_OK;
    size_t slot = ((uintptr_t)key >> 3) & 63;
    if (m->key_cache[slot].ptr == key && m->key_cache[slot].idx < m->keys.count) {
        ki = m->key_cache[slot].idx;
    } else {
        rc = intern(&m->keys, (const uint8_t *)key, strlen(key), &ki);
        if (!rc) {
            m->key_cache[slot].ptr = key;
            m->key_cache[slot].idx = ki;
        }
    }
    if (!rc) rc = intern(&m->vals, val, vlen, &vi);
    if (!rc) rc = msh_buf_append(&m->tags, &ki, 4);
    if (!rc) rc = msh_buf_append(&m->tags, &vi, 4);
    return rc;
}

msh_rc msh_mvt_attr_string(msh_mvt *m, const char *key, const char *val, size_t len)
{
    msh_buf_reset(&m->scratch);
    msh_rc rc = put_bytes(&m->scratch, 1, val, len);
    return rc ? rc : add_tag(m, key, m->scratch.data, m->scratch.len);
}

msh_rc msh_mvt_attr_int(msh_mvt *m, const char *key, int64_t v)
{
    msh_buf_reset(&m->scratch);
    msh_rc rc;
    if (v >= 0) { /* uint_value */
        rc = put_key(&m->scratch, 5, 0);
        if (!rc) rc = msh_buf_varint(&m->scratch, (uint64_t)v);
    } else {      /* sint_value, zigzag */
        rc = put_key(&m->scratch, 6, 0);
        if (!rc) rc = msh_buf_varint(&m->scratch, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
    }
    return rc ? rc : add_tag(m, key, m->scratch.data, m->scratch.len);
}

msh_rc msh_mvt_attr_double(msh_mvt *m, const char *key, double v)
{
    uint8_t b[9];
    b[0] = (3 << 3) | 1;
    uint64_t u;
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        b[1 + i] = (uint8_t)(u >> (8 * i));
    return add_tag(m, key, b, sizeof b);
}

msh_rc msh_mvt_attr_bool(msh_mvt *m, const char *key, bool v)
{
    uint8_t b[2] = {(7 << 3) | 0, v ? 1 : 0};
    return add_tag(m, key, b, sizeof b);
}

static inline uint32_t zz(int32_t v)
{
    return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}

static inline uint32_t cmd(uint32_t id, uint32_t count)
{
    return (id & 7) | (count << 3);
}

msh_rc msh_mvt_feature_geom(msh_mvt *m, const msh_tgeom *g)
{
    uint32_t npts = msh_tgeom_npts(g), nparts = msh_tgeom_nparts(g);
    const int32_t *xy = msh_tgeom_xy(g);
    const uint32_t *parts = msh_tgeom_parts(g);
    if (g->type == MSH_GT_NONE || npts == 0)
        return MSH_EINVAL;
    /* at most: one command per part plus ClosePath, two parameters per point */
    msh_rc rc = msh_buf_reserve(&m->geom, 4 * ((size_t)npts * 2 + (size_t)nparts * 3 + 2));
    if (rc)
        return rc;
    uint32_t *o = (uint32_t *)(void *)(m->geom.data + m->geom.len);
    size_t k = 0;
    int32_t cx = 0, cy = 0;
    if (g->type == MSH_GT_POINT) {
        o[k++] = cmd(1, npts);
        for (uint32_t i = 0; i < npts; i++) {
            o[k++] = zz(xy[2 * i] - cx);
            o[k++] = zz(xy[2 * i + 1] - cy);
            cx = xy[2 * i];
            cy = xy[2 * i + 1];
        }
    } else {
        uint32_t off = 0;
        for (uint32_t p = 0; p < nparts; p++) {
            uint32_t n = MSH_PART_LEN(parts[p]);
            const int32_t *q = xy + 2 * (size_t)off;
            off += n;
            o[k++] = cmd(1, 1);
            o[k++] = zz(q[0] - cx);
            o[k++] = zz(q[1] - cy);
            cx = q[0];
            cy = q[1];
            o[k++] = cmd(2, n - 1);
            for (uint32_t i = 1; i < n; i++) {
                o[k++] = zz(q[2 * i] - cx);
                o[k++] = zz(q[2 * i + 1] - cy);
                cx = q[2 * i];
                cy = q[2 * i + 1];
            }
            if (g->type == MSH_GT_POLYGON)
                o[k++] = cmd(7, 1);
        }
    }
    m->geom.len += 4 * k;
    m->feat_type = g->type;
    return MSH_OK;
}

msh_rc msh_mvt_feature_end(msh_mvt *m, bool drop)
{
    if (drop || m->feat_type == MSH_GT_NONE) {
        intern_rollback(&m->keys, m->feat_keys0, m->feat_kpool0);
        for (int i = 0; i < 64; i++)
            if (m->key_cache[i].idx >= m->feat_keys0)
                m->key_cache[i].ptr = NULL;
        intern_rollback(&m->vals, m->feat_vals0, m->feat_vpool0);
        return MSH_OK;
    }
    msh_buf *f = &m->tile; /* feature message assembled at the end of `tile`, then moved */
    size_t mark = f->len;
    msh_rc rc = MSH_OK;
    if (m->feat_has_id) {
        rc = put_key(f, 1, 0);
        if (!rc) rc = msh_buf_varint(f, m->feat_id);
    }
    if (!rc && m->tags.len)
        rc = put_packed_u32(f, &m->scratch, 2, (const uint32_t *)(void *)m->tags.data, m->tags.len / 4);
    if (!rc) rc = put_key(f, 3, 0);
    if (!rc) rc = msh_buf_varint(f, (uint64_t)m->feat_type);
    if (!rc)
        rc = put_packed_u32(f, &m->scratch, 4, (const uint32_t *)(void *)m->geom.data, m->geom.len / 4);
    if (!rc)
        rc = put_bytes(&m->layer, 2, f->data + mark, f->len - mark);
    msh_buf_truncate(f, mark);
    if (!rc) {
        m->layer_features++;
        m->features++;
    }
    return rc;
}

msh_rc msh_mvt_layer_end(msh_mvt *m)
{
    if (m->layer_features == 0)
        return MSH_OK;
    msh_buf body;
    msh_buf_init(&body, m->limit);
    msh_rc rc = put_key(&body, 15, 0);
    if (!rc) rc = msh_buf_varint(&body, 2);
    if (!rc) rc = put_bytes(&body, 1, m->layer_name, strlen(m->layer_name));
    if (!rc) rc = msh_buf_append(&body, m->layer.data, m->layer.len);
    for (uint32_t i = 0; i < m->keys.count && !rc; i++)
        rc = put_bytes(&body, 3, m->keys.pool.data + m->keys.off[i], m->keys.len[i]);
    for (uint32_t i = 0; i < m->vals.count && !rc; i++)
        rc = put_bytes(&body, 4, m->vals.pool.data + m->vals.off[i], m->vals.len[i]);
    if (!rc) rc = put_key(&body, 5, 0);
    if (!rc) rc = msh_buf_varint(&body, m->extent);
    if (!rc) rc = put_bytes(&m->tile, 3, body.data, body.len);
    msh_buf_free(&body);
    m->layer_features = 0;
    return rc;
}

msh_rc msh_mvt_finish(msh_mvt *m, const uint8_t **data, size_t *len)
{
    *data = m->tile.data;
    *len = m->tile.len;
    return MSH_OK;
}

uint64_t msh_mvt_feature_count(const msh_mvt *m)
{
    return m->features;
}
