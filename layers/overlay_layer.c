/* overlay_layer.c: edited features over a loaded static layer (overlay_layer.h). */
#include "overlay_layer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "static_layer.h"

/* One feature as an edit left it (or a tombstone); immutable once made, shared by the overlays
 * of later batches. */
typedef struct oent {
    atomic_int refs;
    uint64_t id;
    bool deleted;
    double box[4]; /* world units */
    msh_gtype type;
    uint32_t npts, nparts;
    double *xy;
    uint32_t *parts;
    msh_value *values;
    char *pool;
} oent;

typedef struct {
    uint64_t version;
    double box[4]; /* world units */
} oregion;

typedef struct {
    msh_layer base;
    msh_layer *under; /* a static layer */
    oent **ents;      /* by id */
    size_t nents;
    oregion *regs;
    size_t nregs;
} olayer;

struct msh_overlay_edit {
    msh_layer *cur, *under;
    msh_layer_info info;
    oent **ents;
    size_t nents, cap;
    oregion *regs;
    size_t nregs, rcap;
    bool any;
};

static void ent_release(oent *e)
{
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    free(e->xy);
    free(e->parts);
    free(e->values);
    free(e->pool);
    free(e);
}

/* The index of `id` in ents, or where it would go (*found says which). */
static size_t ent_search(oent *const *ents, size_t n, uint64_t id, bool *found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ents[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < n && ents[lo]->id == id;
    return lo;
}

static void ent_feature(const oent *e, msh_feature *f)
{
    f->id = e->id;
    f->geom.type = e->type;
    f->geom.npts = e->npts;
    f->geom.nparts = e->nparts;
    f->geom.xy = e->xy;
    f->geom.parts = e->nparts ? e->parts : NULL;
    f->values = e->values;
}

static void olayer_destroy(msh_layer *l)
{
    olayer *o = (olayer *)l;
    for (size_t i = 0; i < o->nents; i++)
        ent_release(o->ents[i]);
    free(o->ents);
    free(o->regs);
    msh_layer_release(o->under);
    msh_layer_info_clear(&o->base.info);
    free(o);
}

typedef struct {
    const olayer *o;
    oent **hits; /* the overlay's features meeting the box, by id */
    size_t nhits, next;
    msh_feature_fn fn;
    void *ud;
    bool stopped;
} qctx;

/* Emit the overlay's hits with ids below `below`; true when the caller's callback stopped. */
static bool emit_before(qctx *c, uint64_t below)
{
    while (c->next < c->nhits && c->hits[c->next]->id < below) {
        msh_feature f;
        ent_feature(c->hits[c->next++], &f);
        if (c->fn(c->ud, &f))
            return c->stopped = true;
    }
    return false;
}

static int base_cb(void *ud, const msh_feature *f)
{
    qctx *c = ud;
    if (emit_before(c, f->id))
        return 1;
    bool found;
    ent_search(c->o->ents, c->o->nents, f->id, &found);
    if (found)
        return 0; /* replaced or deleted since the base was loaded */
    if (c->fn(c->ud, f)) {
        c->stopped = true;
        return 1;
    }
    return 0;
}

static msh_rc olayer_query(msh_layer *l, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    const olayer *o = (const olayer *)l;
    qctx c = {o, NULL, 0, 0, fn, ud, false};
    if (o->nents && !(c.hits = malloc(o->nents * sizeof *c.hits)))
        return MSH_ENOMEM;
    for (size_t i = 0; i < o->nents; i++) {
        const double *b = o->ents[i]->box;
        if (!o->ents[i]->deleted && b[0] <= box[2] && b[2] >= box[0] && b[1] <= box[3] && b[3] >= box[1])
            c.hits[c.nhits++] = o->ents[i];
    }
    msh_rc rc = o->under->vt->query(o->under, box, z, base_cb, &c);
    while (!rc && !c.stopped && c.next < c.nhits) { /* the overlay's features after the base's last */
        msh_feature f;
        ent_feature(c.hits[c.next++], &f);
        c.stopped = c.fn(c.ud, &f) != 0;
    }
    free(c.hits);
    return rc;
}

/* The base's version under the box, raised by every overlay edit whose box meets it. */
static uint64_t olayer_region_version(msh_layer *l, int z, const double box[4])
{
    const olayer *o = (const olayer *)l;
    uint64_t v = o->under->vt->region_version ? o->under->vt->region_version(o->under, z, box) : o->under->info.version;
    for (size_t i = 0; i < o->nregs; i++) {
        const double *b = o->regs[i].box;
        if (o->regs[i].version > v && b[0] <= box[2] && b[2] >= box[0] && b[1] <= box[3] && b[3] >= box[1])
            v = o->regs[i].version;
    }
    return v;
}

static const msh_layer_vt OLAYER_VT = {olayer_query, olayer_destroy, olayer_region_version};

size_t msh_overlay_size(const msh_layer *l)
{
    const olayer *o = (const olayer *)l;
    return l && l->vt == &OLAYER_VT ? o->nents + o->nregs : 0;
}

typedef struct {
    uint64_t id;
    msh_feature *out;
    bool found;
} find_ctx;

static int find_cb(void *ud, const msh_feature *f)
{
    find_ctx *c = ud;
    if (f->id != c->id)
        return 0;
    *c->out = *f;
    c->found = true;
    return 1;
}

/* Feature `id` in entries over `under`: the entry's (none when deleted), else the base's. */
static bool find_over(oent *const *ents, size_t n, msh_layer *under, uint64_t id, msh_feature *out)
{
    bool found;
    size_t i = ent_search(ents, n, id, &found);
    if (!found)
        return msh_overlay_find(under, id, out);
    if (ents[i]->deleted)
        return false;
    ent_feature(ents[i], out);
    return true;
}

bool msh_overlay_find(msh_layer *l, uint64_t id, msh_feature *out)
{
    if (l->vt == &OLAYER_VT) {
        const olayer *o = (const olayer *)l;
        return find_over(o->ents, o->nents, o->under, id, out);
    }
    if (msh_static_layer_is(l))
        return msh_static_layer_get(l, id, out);
    find_ctx c = {id, out, false};
    double world[4] = {0, 0, 1, 1};
    return !l->vt->query(l, world, l->info.maxzoom, find_cb, &c) && c.found;
}

msh_rc msh_overlay_begin(msh_layer *cur, msh_overlay_edit **out, msh_err *err)
{
    *out = NULL;
    msh_overlay_edit *e = calloc(1, sizeof *e);
    if (!e || msh_layer_info_copy(&e->info, &cur->info)) {
        free(e);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    e->cur = msh_layer_retain(cur);
    if (cur->vt == &OLAYER_VT) {
        const olayer *o = (const olayer *)cur;
        e->under = msh_layer_retain(o->under);
        e->cap = o->nents + 16;
        e->rcap = o->nregs + 16;
        e->ents = malloc(e->cap * sizeof *e->ents);
        e->regs = malloc(e->rcap * sizeof *e->regs);
        if (!e->ents || !e->regs) {
            msh_overlay_abort(e);
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < o->nents; i++) {
            atomic_fetch_add(&o->ents[i]->refs, 1);
            e->ents[i] = o->ents[i];
        }
        e->nents = o->nents;
        if (o->nregs)
            memcpy(e->regs, o->regs, o->nregs * sizeof *e->regs);
        e->nregs = o->nregs;
    } else {
        e->under = msh_layer_retain(cur);
    }
    *out = e;
    return MSH_OK;
}

bool msh_overlay_edit_find(msh_overlay_edit *e, uint64_t id, msh_feature *out)
{
    return find_over(e->ents, e->nents, e->under, id, out);
}

bool msh_overlay_edit_empty(const msh_overlay_edit *e)
{
    return !e->any;
}

/* A new entry: the feature copied (vertices, parts, values and their strings), or a tombstone. */
static oent *ent_new(uint64_t id, const msh_geom *g, const msh_value *values, uint32_t nfields)
{
    oent *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    atomic_init(&e->refs, 1);
    e->id = id;
    e->deleted = g == NULL;
    if (!g)
        return e;
    size_t pool = 0;
    for (uint32_t i = 0; i < nfields; i++)
        if (values[i].type == MSH_FT_STRING)
            pool += values[i].len + 1;
    e->type = g->type;
    e->npts = g->npts;
    e->nparts = g->nparts;
    e->xy = malloc(2 * sizeof(double) * (g->npts ? g->npts : 1));
    e->parts = malloc(sizeof(uint32_t) * (g->nparts ? g->nparts : 1));
    e->values = malloc(sizeof(msh_value) * (nfields ? nfields : 1));
    e->pool = malloc(pool ? pool : 1);
    if (!e->xy || !e->parts || !e->values || !e->pool) {
        ent_release(e);
        return NULL;
    }
    memcpy(e->xy, g->xy, 2 * sizeof(double) * g->npts);
    if (g->nparts)
        memcpy(e->parts, g->parts, sizeof(uint32_t) * g->nparts);
    e->box[0] = e->box[1] = INFINITY;
    e->box[2] = e->box[3] = -INFINITY;
    for (uint32_t i = 0; i < g->npts; i++) {
        e->box[0] = fmin(e->box[0], g->xy[2 * i]);
        e->box[1] = fmin(e->box[1], g->xy[2 * i + 1]);
        e->box[2] = fmax(e->box[2], g->xy[2 * i]);
        e->box[3] = fmax(e->box[3], g->xy[2 * i + 1]);
    }
    char *p = e->pool;
    for (uint32_t i = 0; i < nfields; i++) {
        e->values[i] = values[i];
        if (values[i].type == MSH_FT_STRING) {
            memcpy(p, values[i].u.s, values[i].len);
            p[values[i].len] = 0;
            e->values[i].u.s = p;
            p += values[i].len + 1;
        }
    }
    return e;
}

/* Room for one more of `n` items of `size` in *arr of capacity *cap. */
static bool grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 16;
    void *na = realloc(*arr, nc * size);
    if (!na)
        return false;
    *arr = na;
    *cap = nc;
    return true;
}

msh_rc msh_overlay_put(msh_overlay_edit *e, uint64_t id, bool created, const msh_geom *g, const msh_value *values,
                       uint64_t version, const double touched[4], const double after[4], msh_err *err)
{
    oent *ne = ent_new(id, g, values, e->info.nfields);
    if (!ne || !grow((void **)&e->ents, &e->cap, e->nents, sizeof *e->ents) ||
        (touched && !grow((void **)&e->regs, &e->rcap, e->nregs, sizeof *e->regs))) {
        ent_release(ne);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    bool found;
    size_t i = ent_search(e->ents, e->nents, id, &found);
    if (found) {
        ent_release(e->ents[i]);
    } else {
        memmove(e->ents + i + 1, e->ents + i, (e->nents - i) * sizeof *e->ents);
        e->nents++;
    }
    e->ents[i] = ne;
    if (touched) {
        oregion *r = &e->regs[e->nregs++];
        r->version = version;
        /* as static_layer.c reads the audit's boxes: world y grows southwards */
        msh_lonlat_to_world(touched[0], touched[3], &r->box[0], &r->box[1]);
        msh_lonlat_to_world(touched[2], touched[1], &r->box[2], &r->box[3]);
    }
    e->info.version = version;
    if (created)
        e->info.feature_count++;
    else if (!g && e->info.feature_count)
        e->info.feature_count--;
    if (after) {
        e->info.bounds[0] = fmin(e->info.bounds[0], after[0]);
        e->info.bounds[1] = fmin(e->info.bounds[1], after[1]);
        e->info.bounds[2] = fmax(e->info.bounds[2], after[2]);
        e->info.bounds[3] = fmax(e->info.bounds[3], after[3]);
    }
    e->any = true;
    return MSH_OK;
}

msh_rc msh_overlay_put_wkb(msh_overlay_edit *e, uint64_t id, bool created, const uint8_t *wkb, size_t len,
                           const msh_value *values, uint64_t version, const double touched[4], const double after[4],
                           msh_err *err)
{
    msh_geom_buf gb;
    msh_geom_buf_init(&gb, (size_t)1 << 26);
    msh_rc rc = msh_wkb_read(wkb, len, &gb, err);
    if (!rc) { /* as static_layer.c loads it: lon/lat to world units */
        double *xy = (double *)(void *)gb.xy.data;
        for (size_t i = 0; i + 1 < gb.xy.len / sizeof(double); i += 2)
            msh_lonlat_to_world(xy[i], xy[i + 1], &xy[i], &xy[i + 1]);
        msh_geom g = msh_geom_buf_view(&gb);
        rc = msh_overlay_put(e, id, created, &g, values, version, touched, after, err);
    }
    msh_geom_buf_free(&gb);
    return rc;
}

void msh_overlay_abort(msh_overlay_edit *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nents; i++)
        ent_release(e->ents[i]);
    free(e->ents);
    free(e->regs);
    msh_layer_info_clear(&e->info);
    msh_layer_release(e->under);
    msh_layer_release(e->cur);
    free(e);
}

msh_rc msh_overlay_finish(msh_overlay_edit *e, msh_layer **out, msh_err *err)
{
    *out = NULL;
    if (!e->any) {
        *out = msh_layer_retain(e->cur);
        msh_overlay_abort(e);
        return MSH_OK;
    }
    olayer *o = calloc(1, sizeof *o);
    if (!o) {
        msh_overlay_abort(e);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    o->base.vt = &OLAYER_VT;
    atomic_init(&o->base.refs, 1);
    o->base.info = e->info; /* moved */
    memset(&e->info, 0, sizeof e->info);
    o->under = e->under;
    e->under = NULL;
    o->ents = e->ents;
    o->nents = e->nents;
    o->regs = e->regs;
    o->nregs = e->nregs;
    e->ents = NULL;
    e->nents = 0;
    e->regs = NULL;
    msh_overlay_abort(e);
    *out = &o->base;
    return MSH_OK;
}
