/* widths.c: walkway widths per edge (widths.h). Reads the layers once per graph; no lock. */
#include "forecast/widths.h"

#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_index.h"

typedef struct collect {
    int field;
    msh_index ix;  /* fid -> index into w */
    float *w;
    size_t n, cap;
    msh_rc rc;
} collect;

static int number_field(const msh_layer_info *info)
{
    const char *names[] = {"width_m", "width"};
    for (size_t k = 0; k < 2; k++)
        for (uint32_t i = 0; i < info->nfields; i++)
            if ((info->fields[i].type == MSH_FT_REAL || info->fields[i].type == MSH_FT_INT) &&
                !strcmp(info->fields[i].name, names[k]))
                return (int)i;
    return -1;
}

static int take(void *ud, const msh_feature *f)
{
    collect *c = ud;
    const msh_value *v = &f->values[c->field];
    double w = v->type == MSH_FT_REAL ? v->u.d : v->type == MSH_FT_INT ? (double)v->u.i : 0;
    if (!(w >= 0.5 && w <= 500) || f->id == MSH_INDEX_EMPTY || msh_index_get(&c->ix, f->id))
        return 0;
    if (msh_grow_from((void **)&c->w, &c->cap, c->n + 1, sizeof *c->w, 1024)) {
        c->rc = MSH_ENOMEM;
        return 1;
    }
    c->rc = msh_index_put(&c->ix, f->id, (uint32_t)c->n);
    if (c->rc)
        return 1;
    c->w[c->n++] = (float)w;
    return 0;
}

msh_rc msh_fc_edge_widths(const msh_graph *g, msh_layer *const *layers, size_t n, float **out, msh_err *err)
{
    collect c = {0};
    msh_index_init(&c.ix);
    const double world[4] = {0, 0, 1, 1};
    for (size_t i = 0; i < n && !c.rc; i++) {
        c.field = number_field(&layers[i]->info);
        if (c.field < 0)
            continue;
        msh_rc rc = layers[i]->vt->query(layers[i], world, layers[i]->info.maxzoom, take, &c);
        if (rc && !c.rc)
            c.rc = rc;
    }
    uint32_t ne = msh_graph_edge_count(g);
    float *w = c.rc ? NULL : calloc(ne + 1, sizeof *w);
    if (!c.rc && !w)
        c.rc = MSH_ENOMEM;
    for (uint32_t e = 0; w && e < ne; e++) {
        uint32_t *k = msh_index_get(&c.ix, msh_graph_edge_fid(g, e));
        w[e] = k ? c.w[*k] : 0;
    }
    msh_index_free(&c.ix);
    free(c.w);
    if (c.rc)
        return msh_err_set(err, c.rc, "walkway widths: %s", msh_rc_str(c.rc));
    *out = w;
    return MSH_OK;
}
