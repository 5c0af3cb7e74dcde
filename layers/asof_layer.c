/* asof_layer.c: a static layer set back to an instant from its audit (asof_layer.h). */
#include "asof_layer.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_tilemath.h"
#include "edit.h"
#include "feature_in.h"
#include "store_pg_edit.h"
#include "store_sql.h"

typedef struct {
    uint64_t fid;
    bool present;       /* false: it did not exist at T */
    msh_gtype type;
    uint32_t npts, nparts;
    double *xy;         /* world units */
    uint32_t *parts;
    double box[4];      /* world units */
    json_t *doc;        /* the `before` feature: the values borrow its strings */
    msh_feature_in fin;
} past_feat;

typedef struct {
    msh_layer base;
    msh_layer *cur;     /* a reference */
    bool empty;         /* T before the latest import */
    past_feat *past;    /* by fid */
    size_t npast;
} asof_layer;

typedef struct {
    const asof_layer *a;
    msh_feature_fn fn;
    void *ud;
    bool stopped;
} wrap_ctx;

static int cmp_fid(const void *k, const void *e)
{
    uint64_t x = *(const uint64_t *)k, y = ((const past_feat *)e)->fid;
    return (x > y) - (x < y);
}

static int skip_changed(void *ud, const msh_feature *f)
{
    wrap_ctx *w = ud;
    if (bsearch(&f->id, w->a->past, w->a->npast, sizeof *w->a->past, cmp_fid))
        return 0; /* changed since T: its past version answers below */
    if (w->fn(w->ud, f)) {
        w->stopped = true;
        return 1;
    }
    return 0;
}

static msh_rc asof_query(msh_layer *l, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    asof_layer *a = (asof_layer *)l;
    if (a->empty)
        return MSH_OK;
    wrap_ctx w = {a, fn, ud, false};
    msh_rc rc = a->cur->vt->query(a->cur, box, z, skip_changed, &w);
    for (size_t i = 0; !rc && !w.stopped && i < a->npast; i++) {
        const past_feat *p = &a->past[i];
        if (!p->present || p->box[0] > box[2] || p->box[2] < box[0] || p->box[1] > box[3] || p->box[3] < box[1])
            continue;
        msh_feature f = {p->fid, {p->type, p->npts, p->nparts, p->xy, p->parts}, p->fin.values};
        if (fn(ud, &f))
            break;
    }
    return rc;
}

static void asof_destroy(msh_layer *l)
{
    asof_layer *a = (asof_layer *)l;
    for (size_t i = 0; i < a->npast; i++) {
        free(a->past[i].xy);
        free(a->past[i].parts);
        msh_feature_in_free(&a->past[i].fin);
        json_decref(a->past[i].doc);
    }
    free(a->past);
    msh_layer_release(a->cur);
    msh_layer_info_clear(&a->base.info);
    free(a);
}

static const msh_layer_vt ASOF_VT = {asof_query, asof_destroy, NULL};

/* One past version: the `before` text and its geometry as WKB (either may be NULL: absent then). */
static msh_rc decode(asof_layer *a, past_feat *p, const char *before, const uint8_t *wkb, int wlen, msh_geom_buf *gb,
                     msh_err *err)
{
    if (!before || !wkb || wlen <= 0)
        return MSH_OK; /* created after T: hidden */
    json_error_t jerr;
    if (!(p->doc = json_loads(before, 0, &jerr)))
        return msh_err_set(err, MSH_EIO, "the audit of '%s' holds unreadable JSON for feature %llu",
                           a->base.info.name, (unsigned long long)p->fid);
    msh_rc rc = msh_feature_in_read(p->doc, &a->base.info, true, &p->fin, err);
    if (!rc)
        rc = msh_wkb_read(wkb, (size_t)wlen, gb, err);
    if (rc)
        return rc;
    msh_geom g = msh_geom_buf_view(gb);
    p->type = g.type;
    p->npts = g.npts;
    p->nparts = g.nparts;
    p->xy = malloc(16 * (size_t)(g.npts ? g.npts : 1));
    p->parts = malloc(4 * (size_t)(g.nparts ? g.nparts : 1));
    if (!p->xy || !p->parts)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    if (g.nparts) /* points have none */
        memcpy(p->parts, g.parts, 4 * (size_t)g.nparts);
    p->box[0] = p->box[1] = INFINITY;
    p->box[2] = p->box[3] = -INFINITY;
    for (uint32_t i = 0; i < g.npts; i++) {
        msh_lonlat_to_world(g.xy[2 * i], g.xy[2 * i + 1], &p->xy[2 * i], &p->xy[2 * i + 1]);
        p->box[0] = fmin(p->box[0], p->xy[2 * i]);
        p->box[1] = fmin(p->box[1], p->xy[2 * i + 1]);
        p->box[2] = fmax(p->box[2], p->xy[2 * i]);
        p->box[3] = fmax(p->box[3], p->xy[2 * i + 1]);
    }
    p->present = g.npts > 0;
    return MSH_OK;
}

msh_rc msh_asof_layer_new(msh_store *s, msh_layer *cur, int64_t t_ms, msh_layer **out, msh_err *err)
{
    *out = NULL;
    asof_layer *a = calloc(1, sizeof *a);
    if (!a)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    a->base.vt = &ASOF_VT;
    atomic_init(&a->base.refs, 1);
    a->cur = msh_layer_retain(cur);
    msh_geom_buf gb;
    msh_geom_buf_init(&gb, (size_t)1 << 26);
    msh_sql *st = NULL;
    size_t cap = 0;
    int64_t imp_seq = 0, imp_ms = 0;
    msh_rc rc = msh_layer_info_copy(&a->base.info, &cur->info) ? msh_err_set(err, MSH_ENOMEM, "out of memory")
                                                                : msh_edit_import_of(s, cur->info.name, &imp_seq, &imp_ms, err);
    if (rc)
        goto out;
    if (imp_ms && t_ms < imp_ms) {
        a->empty = true; /* the audit starts at the import */
        goto out;
    }
    /* each feature's first change after T: its `before` is the feature at T */
    if (msh_sql_prepare(s,
                        msh_store_is_pg(s) ? MSH_PG_ASOF_SQL
                                           : "SELECT a.fid, a.before, AsBinary(GeomFromGeoJSON(json_extract(a.before,"
                                             " '$.geometry'))) FROM msh_audit a JOIN (SELECT fid, min(seq) AS s FROM"
                                             " msh_audit WHERE collection = ?1 AND fid IS NOT NULL AND seq > ?2 AND"
                                             " at_ms > ?3 GROUP BY fid) m ON a.seq = m.s ORDER BY a.fid",
                        &st)) {
        rc = msh_err_set(err, MSH_EIO, "reading the audit: %s", msh_store_errmsg(s));
        goto out;
    }
    msh_sql_bind_text(st, 1, cur->info.name, -1);
    msh_sql_bind_int(st, 2, imp_seq);
    msh_sql_bind_int(st, 3, t_ms);
    int step;
    while (!rc && (step = msh_sql_step(st)) == MSH_SQL_ROW) {
        if (msh_grow_from((void **)&a->past, &cap, a->npast + 1, sizeof *a->past, 64)) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            break;
        }
        past_feat *p = &a->past[a->npast++];
        memset(p, 0, sizeof *p);
        p->fid = (uint64_t)msh_sql_int(st, 0);
        size_t len;
        const void *wkb = msh_sql_blob(st, 2, &len);
        rc = decode(a, p, msh_sql_text(st, 1, NULL), wkb, (int)len, &gb, err);
    }
    if (!rc && step != MSH_SQL_DONE)
        rc = msh_err_set(err, MSH_EIO, "reading the audit: %s", msh_store_errmsg(s));
out:
    msh_sql_finalize(st);
    msh_geom_buf_free(&gb);
    if (rc) {
        asof_destroy(&a->base);
        return rc;
    }
    *out = &a->base;
    return MSH_OK;
}
