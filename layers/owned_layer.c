/* owned_layer.c: one owner's features of a layer (owned_layer.h). */
#include "owned_layer.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    msh_layer base;
    msh_layer *cur; /* a reference */
    int field;
    char *owner;
    size_t len;
} owned_layer;

typedef struct {
    const owned_layer *o;
    msh_feature_fn fn;
    void *ud;
} pass_ctx;

static int pass_owned(void *ud, const msh_feature *f)
{
    pass_ctx *p = ud;
    const msh_value *v = f->values ? &f->values[p->o->field] : NULL;
    if (!v || v->type != MSH_FT_STRING || v->len != p->o->len || memcmp(v->u.s, p->o->owner, v->len))
        return 0;
    return p->fn(p->ud, f);
}

static msh_rc owned_query(msh_layer *l, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    owned_layer *o = (owned_layer *)l;
    pass_ctx p = {o, fn, ud};
    return o->cur->vt->query(o->cur, box, z, pass_owned, &p);
}

static void owned_destroy(msh_layer *l)
{
    owned_layer *o = (owned_layer *)l;
    msh_layer_release(o->cur);
    msh_layer_info_clear(&o->base.info);
    free(o->owner);
    free(o);
}

static const msh_layer_vt OWNED_VT = {owned_query, owned_destroy, NULL};

msh_rc msh_owned_layer_new(msh_layer *cur, const char *field, const char *owner, msh_layer **out, msh_err *err)
{
    *out = NULL;
    int k = -1;
    for (uint32_t i = 0; i < cur->info.nfields; i++)
        if (!strcmp(cur->info.fields[i].name, field))
            k = (int)i;
    if (k < 0)
        return msh_err_set(err, MSH_EINVAL, "%s: no field '%s'", cur->info.name, field);
    owned_layer *o = calloc(1, sizeof *o);
    if (!o || !(o->owner = strdup(owner)) || msh_layer_info_copy(&o->base.info, &cur->info)) {
        if (o)
            free(o->owner);
        free(o);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    o->base.vt = &OWNED_VT;
    o->base.info.access = 0;
    atomic_init(&o->base.refs, 1);
    o->cur = msh_layer_retain(cur);
    o->field = k;
    o->len = strlen(owner);
    *out = &o->base;
    return MSH_OK;
}
