/* cleaning_layer.c: cleaning_progress as an msh_layer over the KPI engine's route pieces
 * (cleaning_layer.h). */
#include "cleaning_layer.h"

#include <stdlib.h>
#include <string.h>

#include "core/msh_time.h"

typedef struct {
    msh_layer base;
    msh_kpi *k;
    uint64_t epoch; /* random per process: versions restart with it, ETags must not repeat */
} cleaning_layer;

typedef struct {
    msh_feature_fn fn;
    void *ud;
} cl_job;

static int on_piece(void *ud, const msh_kpi_piece *p)
{
    cl_job *j = ud;
    double xy[4] = {p->ax, p->ay, p->bx, p->by};
    uint32_t parts[1] = {2};
    char at[MSH_TIME_ISO_CAP] = "";
    msh_value v[5];
    memset(v, 0, sizeof v);
    v[0] = (msh_value){MSH_FT_INT, 0, {.i = (int64_t)p->route}};
    v[1] = (msh_value){MSH_FT_BOOL, 0, {.i = p->last_ms != 0}};
    if (p->last_ms) {
        msh_time_format_iso(p->last_ms, at, sizeof at, 0);
        v[2] = (msh_value){MSH_FT_STRING, (uint32_t)strlen(at), {.s = at}};
        if (p->crew[0])
            v[3] = (msh_value){MSH_FT_STRING, (uint32_t)strlen(p->crew), {.s = p->crew}};
        v[4] = (msh_value){MSH_FT_INT, 0, {.i = (int64_t)p->task}};
    }
    msh_feature f = {p->id, {MSH_GT_LINE, 2, 1, xy, parts}, v};
    return j->fn(j->ud, &f);
}

static msh_rc cl_query(msh_layer *base, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    (void)z;
    cleaning_layer *l = (cleaning_layer *)base;
    cl_job j = {fn, ud};
    uint64_t version;
    msh_kpi_pieces(l->k, box, on_piece, &j, &version);
    return MSH_OK;
}

static uint64_t cl_region_version(msh_layer *base, int z, const double box[4])
{
    (void)z;
    (void)box;
    cleaning_layer *l = (cleaning_layer *)base;
    return msh_layer_epoch_version(msh_kpi_sweep_version(l->k), l->epoch);
}

static const msh_layer_vt CL_VT = {cl_query, msh_layer_free_plain, cl_region_version};

msh_rc msh_cleaning_layer_new(msh_kpi *k, msh_layer **out, msh_err *err)
{
    cleaning_layer *l = calloc(1, sizeof *l);
    if (!l)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    msh_field fields[5] = {{(char *)"route", MSH_FT_INT},
                           {(char *)"swept", MSH_FT_BOOL},
                           {(char *)"swept_at", MSH_FT_STRING},
                           {(char *)"crew", MSH_FT_STRING},
                           {(char *)"task", MSH_FT_INT}};
    msh_layer_info info;
    msh_layer_info_derived(&info, MSH_CLEANING_PROGRESS_LAYER, "derived", "LineString", fields, 5);
    if (msh_layer_info_copy(&l->base.info, &info)) {
        free(l);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    l->base.vt = &CL_VT;
    atomic_init(&l->base.refs, 1);
    l->k = k;
    l->epoch = msh_layer_epoch_new(l);
    *out = &l->base;
    return MSH_OK;
}
