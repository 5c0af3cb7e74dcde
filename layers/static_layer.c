/* static_layer.c: in-memory static layers with a packed Hilbert R-tree. */
#include "static_layer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "edit.h"
#include "store_watch.h"

#define NODE_SIZE 16

typedef struct {
    uint64_t id;
    uint32_t pt_off, npts;
    uint32_t part_off, nparts;
    uint8_t type;
} sfeat;

typedef struct {
    msh_layer base;
    sfeat *feats;
    size_t nfeats;
    double *xy;
    uint32_t *parts;
    msh_value *values;
    char *strpool;
    /* packed R-tree: level 0 = one box per feature in Hilbert order */
    double *boxes;     /* 4 per node, all levels */
    uint32_t *leaf_ix; /* feature index of each leaf */
    size_t *level_off; /* node offset of each level */
    int nlevels;
    /* edits since the import (layers/edit.h): a tile's version is the latest edit touching it */
    uint64_t base_version;
    size_t nedits;
    struct sedit {
        uint64_t version;
        double box[4];  /* world units */
    } *edits;
} slayer;

static void slayer_destroy(msh_layer *l)
{
    slayer *s = (slayer *)l;
    free(s->feats);
    free(s->xy);
    free(s->parts);
    free(s->values);
    free(s->strpool);
    free(s->boxes);
    free(s->leaf_ix);
    free(s->level_off);
    free(s->edits);
    msh_layer_info_clear(&s->base.info);
    free(s);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static msh_rc slayer_query(msh_layer *l, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    (void)z;
    slayer *s = (slayer *)l;
    if (s->nfeats == 0)
        return MSH_OK;
    size_t cap = 256, n = 0;
    uint32_t *hits = malloc(cap * sizeof *hits);
    /* a stack deep enough for any tree of NODE_SIZE fan-out */
    size_t stack_cap = (size_t)s->nlevels * NODE_SIZE + 1, sp = 0;
    size_t *stack = malloc(stack_cap * 2 * sizeof *stack);
    if (!hits || !stack) {
        free(hits);
        free(stack);
        return MSH_ENOMEM;
    }
    int top = s->nlevels - 1;
    stack[sp++] = (size_t)top;
    stack[sp++] = 0; /* (level, index in level) */
    while (sp) {
        size_t idx = stack[--sp];
        int lev = (int)stack[--sp];
        const double *b = s->boxes + 4 * (s->level_off[lev] + idx);
        if (b[0] > box[2] || b[2] < box[0] || b[1] > box[3] || b[3] < box[1])
            continue;
        if (lev == 0) {
            if (n == cap) {
                cap *= 2;
                uint32_t *nh = realloc(hits, cap * sizeof *hits);
                if (!nh) {
                    free(hits);
                    free(stack);
                    return MSH_ENOMEM;
                }
                hits = nh;
            }
            hits[n++] = s->leaf_ix[idx];
            continue;
        }
        size_t child0 = idx * NODE_SIZE;
        size_t nchild = s->level_off[lev] - s->level_off[lev - 1];
        for (size_t c = child0; c < child0 + NODE_SIZE && c < nchild; c++) {
            stack[sp++] = (size_t)(lev - 1);
            stack[sp++] = c;
        }
    }
    free(stack);
    /* source order: a bitmap pass when the hits are dense, a sort when they are few */
    if (n > 64 && n * 16 > s->nfeats) {
        size_t words = (s->nfeats + 63) / 64;
        uint64_t *bits = calloc(words, sizeof *bits);
        if (bits) {
            for (size_t i = 0; i < n; i++)
                bits[hits[i] >> 6] |= 1ull << (hits[i] & 63);
            size_t k = 0;
            for (size_t w = 0; w < words; w++)
                for (uint64_t v = bits[w]; v; v &= v - 1)
                    hits[k++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(v));
            free(bits);
        } else {
            qsort(hits, n, sizeof *hits, cmp_u32);
        }
    } else {
        qsort(hits, n, sizeof *hits, cmp_u32);
    }
    msh_feature f;
    for (size_t i = 0; i < n; i++) {
        const sfeat *sf = &s->feats[hits[i]];
        f.id = sf->id;
        f.geom.type = (msh_gtype)sf->type;
        f.geom.npts = sf->npts;
        f.geom.nparts = sf->nparts;
        f.geom.xy = s->xy + 2 * (size_t)sf->pt_off;
        f.geom.parts = sf->nparts ? s->parts + sf->part_off : NULL; /* points have no parts array */
        f.values = s->base.info.nfields ? s->values + (size_t)hits[i] * s->base.info.nfields : NULL;
        if (fn(ud, &f))
            break;
    }
    free(hits);
    return MSH_OK;
}

/* The version of the data under `box`: the latest edit whose old or new geometry meets it, else
 * the version the layer had before its edits, so a tile no edit touched keeps its ETag and its
 * cache entries. A linear pass: edits since an import are few beside the tiles they serve. */
static uint64_t slayer_region_version(msh_layer *l, int z, const double box[4])
{
    (void)z;
    const slayer *s = (const slayer *)l;
    uint64_t v = s->base_version;
    for (size_t i = 0; i < s->nedits; i++) {
        const double *b = s->edits[i].box;
        if (b[0] <= box[2] && b[2] >= box[0] && b[1] <= box[3] && b[3] >= box[1] && s->edits[i].version > v)
            v = s->edits[i].version;
    }
    return v;
}

static const msh_layer_vt SLAYER_VT = {slayer_query, slayer_destroy, NULL};
/* a layer edited since its import: versions by region (tiles: ETags, cache keys; no-cache for clients) */
static const msh_layer_vt SLAYER_EDITED_VT = {slayer_query, slayer_destroy, slayer_region_version};

/* Load the layer's edits since its import (none: the plain vtable, one version for the layer). */
static msh_rc load_edits(msh_store *st, slayer *s, msh_err *err)
{
    msh_edit_region *r = NULL;
    size_t n = 0;
    msh_rc rc = msh_edit_regions(st, s->base.info.name, &s->base_version, &r, &n, err);
    /* an edit by another program has no bounds: every tile takes its version */
    uint64_t ext = msh_store_watch_version(st, s->base.info.name);
    if (ext > s->base_version)
        s->base_version = ext;
    if (rc || !n) {
        free(r);
        return rc;
    }
    s->edits = malloc(n * sizeof *s->edits);
    if (!s->edits) {
        free(r);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        s->edits[i].version = r[i].version;
        /* world y grows southwards: the north edge is the smaller y */
        msh_lonlat_to_world(r[i].bbox[0], r[i].bbox[3], &s->edits[i].box[0], &s->edits[i].box[1]);
        msh_lonlat_to_world(r[i].bbox[2], r[i].bbox[1], &s->edits[i].box[2], &s->edits[i].box[3]);
    }
    s->nedits = n;
    s->base.vt = &SLAYER_EDITED_VT;
    free(r);
    return MSH_OK;
}

/* Hilbert index of (x, y) on a 2^16 grid. */
static uint32_t hilbert(uint32_t x, uint32_t y)
{
    uint32_t d = 0;
    for (uint32_t s = 1u << 15; s > 0; s >>= 1) {
        uint32_t rx = (x & s) > 0, ry = (y & s) > 0;
        d += s * s * ((3 * rx) ^ ry);
        if (ry == 0) {
            if (rx == 1) {
                x = s - 1 - x;
                y = s - 1 - y;
            }
            uint32_t t = x;
            x = y;
            y = t;
        }
    }
    return d;
}

typedef struct {
    uint32_t h, ix;
} hkey;

static int cmp_hkey(const void *a, const void *b)
{
    const hkey *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return (x->ix > y->ix) - (x->ix < y->ix);
}

static msh_rc build_index(slayer *s, const double *fbox)
{
    size_t n = s->nfeats;
    hkey *keys = malloc(n * sizeof *keys);
    if (!keys)
        return MSH_ENOMEM;
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        const double *b = fbox + 4 * i;
        minx = fmin(minx, b[0]);
        miny = fmin(miny, b[1]);
        maxx = fmax(maxx, b[2]);
        maxy = fmax(maxy, b[3]);
    }
    double w = maxx - minx > 0 ? maxx - minx : 1, h = maxy - miny > 0 ? maxy - miny : 1;
    for (size_t i = 0; i < n; i++) {
        const double *b = fbox + 4 * i;
        uint32_t hx = (uint32_t)(65535.0 * ((b[0] + b[2]) / 2 - minx) / w);
        uint32_t hy = (uint32_t)(65535.0 * ((b[1] + b[3]) / 2 - miny) / h);
        keys[i].h = hilbert(hx, hy);
        keys[i].ix = (uint32_t)i;
    }
    qsort(keys, n, sizeof *keys, cmp_hkey);
    /* count nodes over all levels */
    size_t total = 0, cnt = n;
    int levels = 0;
    for (;;) {
        total += cnt;
        levels++;
        if (cnt == 1)
            break;
        cnt = (cnt + NODE_SIZE - 1) / NODE_SIZE;
    }
    s->boxes = malloc(total * 4 * sizeof(double));
    s->leaf_ix = malloc(n * sizeof *s->leaf_ix);
    s->level_off = malloc((size_t)(levels + 1) * sizeof *s->level_off);
    if (!s->boxes || !s->leaf_ix || !s->level_off) {
        free(keys);
        return MSH_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        s->leaf_ix[i] = keys[i].ix;
        memcpy(s->boxes + 4 * i, fbox + 4 * (size_t)keys[i].ix, 4 * sizeof(double));
    }
    free(keys);
    s->level_off[0] = 0;
    size_t off = 0;
    cnt = n;
    for (int lev = 1; lev < levels; lev++) {
        size_t parent_off = off + cnt;
        size_t pcnt = (cnt + NODE_SIZE - 1) / NODE_SIZE;
        for (size_t p = 0; p < pcnt; p++) {
            double *pb = s->boxes + 4 * (parent_off + p);
            pb[0] = pb[1] = INFINITY;
            pb[2] = pb[3] = -INFINITY;
            for (size_t c = p * NODE_SIZE; c < (p + 1) * NODE_SIZE && c < cnt; c++) {
                const double *cb = s->boxes + 4 * (off + c);
                pb[0] = fmin(pb[0], cb[0]);
                pb[1] = fmin(pb[1], cb[1]);
                pb[2] = fmax(pb[2], cb[2]);
                pb[3] = fmax(pb[3], cb[3]);
            }
        }
        s->level_off[lev] = parent_off;
        off = parent_off;
        cnt = pcnt;
    }
    /* level_off[lev] is where level lev starts; one past the end of the last level */
    s->level_off[levels] = total;
    s->nlevels = levels;
    return MSH_OK;
}

bool msh_static_layer_is(const msh_layer *l)
{
    return l && (l->vt == &SLAYER_VT || l->vt == &SLAYER_EDITED_VT);
}

bool msh_static_layer_get(msh_layer *l, uint64_t id, msh_feature *out)
{
    const slayer *s = (const slayer *)l;
    size_t lo = 0, hi = s->nfeats; /* the features are in id order (loaded ORDER BY fid) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->feats[mid].id < id) {
            lo = mid + 1;
        } else if (s->feats[mid].id > id) {
            hi = mid;
        } else {
            const sfeat *sf = &s->feats[mid];
            out->id = sf->id;
            out->geom.type = (msh_gtype)sf->type;
            out->geom.npts = sf->npts;
            out->geom.nparts = sf->nparts;
            out->geom.xy = s->xy + 2 * (size_t)sf->pt_off;
            out->geom.parts = sf->nparts ? s->parts + sf->part_off : NULL;
            out->values = s->base.info.nfields ? s->values + mid * s->base.info.nfields : NULL;
            return true;
        }
    }
    return false;
}

/* What a load gathers, row by row, before the arrays are handed to the layer. */
typedef struct loader {
    uint32_t nf;
    msh_buf xy, parts, vals, pool, feats, fbox;
    msh_geom_buf gb;
} loader;

static msh_rc load_row(void *ud, uint64_t fid, const uint8_t *wkb, size_t wlen, const msh_value *row)
{
    loader *ld = ud;
    msh_err gerr;
    if (msh_wkb_read(wkb, wlen, &ld->gb, &gerr))
        return MSH_OK; /* the importer writes only valid WKB; skip anything else */
    msh_geom g = msh_geom_buf_view(&ld->gb);
    if (g.npts == 0)
        return MSH_OK;
    sfeat f = {fid, (uint32_t)(ld->xy.len / 16), g.npts, (uint32_t)(ld->parts.len / 4), g.nparts, (uint8_t)g.type};
    double bb[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    msh_rc rc;
    if ((rc = msh_buf_reserve(&ld->xy, 16 * (size_t)g.npts)))
        return rc;
    for (uint32_t i = 0; i < g.npts; i++) {
        double w[2];
        msh_lonlat_to_world(g.xy[2 * i], g.xy[2 * i + 1], &w[0], &w[1]);
        msh_buf_append(&ld->xy, w, sizeof w);
        bb[0] = fmin(bb[0], w[0]);
        bb[1] = fmin(bb[1], w[1]);
        bb[2] = fmax(bb[2], w[0]);
        bb[3] = fmax(bb[3], w[1]);
    }
    if ((rc = msh_buf_append(&ld->parts, g.parts, 4 * (size_t)g.nparts)) ||
        (rc = msh_buf_append(&ld->feats, &f, sizeof f)) || (rc = msh_buf_append(&ld->fbox, bb, sizeof bb)))
        return rc;
    for (uint32_t i = 0; i < ld->nf; i++) {
        msh_value v = row[i];
        if (v.type == MSH_FT_STRING) {
            v.u.i = (int64_t)ld->pool.len; /* fixed up to a pointer once the pool stops moving */
            if ((rc = msh_buf_append(&ld->pool, row[i].u.s, v.len)) || (rc = msh_buf_putc(&ld->pool, 0)))
                return rc;
        }
        if ((rc = msh_buf_append(&ld->vals, &v, sizeof v)))
            return rc;
    }
    return MSH_OK;
}

msh_rc msh_static_layer_load(msh_store *st, const msh_layer_info *info, msh_layer **out, msh_err *err)
{
    *out = NULL;
    slayer *s = calloc(1, sizeof *s);
    if (!s)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    s->base.vt = &SLAYER_VT;
    atomic_init(&s->base.refs, 1);
    msh_rc rc = msh_layer_info_copy(&s->base.info, info);
    if (rc) {
        free(s);
        return msh_err_set(err, rc, "out of memory");
    }
    if (msh_layer_name_private(info->name))
        s->base.info.access = MSH_ACCESS_OPS;
    uint32_t nf = info->nfields;
    loader ld = {.nf = nf};
    msh_buf_init(&ld.xy, SIZE_MAX / 2);
    msh_buf_init(&ld.parts, SIZE_MAX / 2);
    msh_buf_init(&ld.vals, SIZE_MAX / 2);
    msh_buf_init(&ld.pool, SIZE_MAX / 2);
    msh_buf_init(&ld.feats, SIZE_MAX / 2);
    msh_buf_init(&ld.fbox, SIZE_MAX / 2);
    msh_geom_buf_init(&ld.gb, (size_t)1 << 26);
    msh_err serr;
    if ((rc = msh_store_scan(st, info, load_row, &ld, &serr))) {
        if (rc == MSH_ENOMEM || rc == MSH_ETOOBIG)
            goto oom;
        msh_err_set(err, rc, "%s", serr.msg);
        goto out;
    }
    s->nfeats = ld.feats.len / sizeof(sfeat);
    s->feats = (sfeat *)(void *)msh_buf_steal(&ld.feats, NULL);
    s->xy = (double *)(void *)msh_buf_steal(&ld.xy, NULL);
    s->parts = (uint32_t *)(void *)msh_buf_steal(&ld.parts, NULL);
    s->values = (msh_value *)(void *)msh_buf_steal(&ld.vals, NULL);
    s->strpool = (char *)msh_buf_steal(&ld.pool, NULL);
    for (size_t i = 0; i < s->nfeats * nf; i++)
        if (s->values[i].type == MSH_FT_STRING)
            s->values[i].u.s = s->strpool + s->values[i].u.i;
    s->base.info.feature_count = s->nfeats;
    if (s->nfeats && (rc = build_index(s, (const double *)(const void *)ld.fbox.data)))
        goto oom;
    rc = load_edits(st, s, err);
    goto out;
oom:
    rc = msh_err_set(err, MSH_ENOMEM, "layer %s: out of memory while loading", info->name);
out:
    msh_buf_free(&ld.xy);
    msh_buf_free(&ld.parts);
    msh_buf_free(&ld.vals);
    msh_buf_free(&ld.pool);
    msh_buf_free(&ld.feats);
    msh_buf_free(&ld.fbox);
    msh_geom_buf_free(&ld.gb);
    if (rc) {
        slayer_destroy(&s->base);
        return rc;
    }
    *out = &s->base;
    return MSH_OK;
}
