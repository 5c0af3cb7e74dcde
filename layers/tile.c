/* tile.c: one MVT tile from a list of layers. */
#include "tile.h"

#include <stdlib.h>

#include "mvt.h"
#include "tilegeom.h"

struct msh_tiler {
    msh_mvt *mvt;
    msh_tg_ctx *tg;
};

typedef struct {
    msh_tiler *t;
    const msh_layer_info *info;
    const msh_tile_xf *xf;
    msh_rc rc;
    msh_tile_stats *stats;
} tile_job;

msh_tiler *msh_tiler_new(size_t max_bytes)
{
    msh_tiler *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->mvt = msh_mvt_new(max_bytes);
    t->tg = msh_tg_ctx_new();
    if (!t->mvt || !t->tg) {
        msh_tiler_free(t);
        return NULL;
    }
    return t;
}

void msh_tiler_free(msh_tiler *t)
{
    if (!t)
        return;
    msh_mvt_free(t->mvt);
    msh_tg_ctx_free(t->tg);
    free(t);
}

static msh_rc encode_attrs(msh_mvt *m, const msh_layer_info *info, const msh_value *vals)
{
    msh_rc rc = MSH_OK;
    for (uint32_t i = 0; i < info->nfields && !rc; i++) {
        const msh_value *v = &vals[i];
        const char *k = info->fields[i].name;
        switch (v->type) {
        case MSH_FT_INT: rc = msh_mvt_attr_int(m, k, v->u.i); break;
        case MSH_FT_REAL: rc = msh_mvt_attr_double(m, k, v->u.d); break;
        case MSH_FT_BOOL: rc = msh_mvt_attr_bool(m, k, v->u.i != 0); break;
        case MSH_FT_STRING: rc = msh_mvt_attr_string(m, k, v->u.s, v->len); break;
        default: break; /* null: MVT has no null, leave the key out */
        }
    }
    return rc;
}

static int on_feature(void *ud, const msh_feature *f)
{
    tile_job *j = ud;
    j->stats->scanned++;
    const msh_tgeom *g;
    msh_rc rc = msh_tilegeom_build(j->t->tg, &f->geom, j->xf, &g);
    if (rc) {
        j->rc = rc;
        return 1;
    }
    if (g->type == MSH_GT_NONE)
        return 0;
    msh_mvt *m = j->t->mvt;
    if (!(rc = msh_mvt_feature_begin(m, true, f->id)) && !(rc = encode_attrs(m, j->info, f->values)) &&
        !(rc = msh_mvt_feature_geom(m, g)))
        rc = msh_mvt_feature_end(m, false);
    if (rc) {
        j->rc = rc;
        return 1;
    }
    j->stats->features++;
    return 0;
}

msh_rc msh_tile_mvt(msh_tiler *t, msh_layer *const *layers, size_t nlayers, int z, uint32_t x, uint32_t y,
                    const uint8_t **data, size_t *len, msh_tile_stats *stats, msh_err *err)
{
    msh_tile_stats dummy = {0, 0};
    if (!stats)
        stats = &dummy;
    msh_mvt_reset(t->mvt);
    msh_tile_xf xf;
    msh_tile_xf_init(&xf, z, x, y);
    double box[4];
    msh_tile_xf_query_box(&xf, box);
    for (size_t i = 0; i < nlayers; i++) {
        msh_layer *l = layers[i];
        if (z < l->info.minzoom || z > l->info.maxzoom)
            continue;
        tile_job j = {t, &l->info, &xf, MSH_OK, stats};
        msh_rc rc = msh_mvt_layer_begin(t->mvt, l->info.name, xf.extent);
        if (!rc)
            rc = l->vt->query(l, box, z, on_feature, &j);
        if (!rc)
            rc = j.rc;
        if (!rc)
            rc = msh_mvt_layer_end(t->mvt);
        if (rc)
            return msh_err_set(err, rc, "tile %d/%u/%u, layer %s: %s", z, x, y, l->info.name,
                               rc == MSH_ETOOBIG ? "tile larger than the size limit" : msh_rc_str(rc));
    }
    return msh_mvt_finish(t->mvt, data, len);
}
