/* kpi_layer.c: kpi_zones as an msh_layer over the latest KPI result. */
#include "kpi_layer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFIXED 3 /* zone_id, name, peak_los */

typedef struct {
    msh_layer base;
    msh_kpi *k;
    uint64_t epoch; /* random per process: versions restart with it, ETags must not repeat */
} kpi_layer;

typedef struct {
    const msh_kpi_result *r;
    msh_feature_fn fn;
    void *ud;
    msh_value v[NFIXED + MSH_KPI_N];
} kl_job;

static const msh_kpi_zone *zone_by_fid(const msh_kpi_result *r, uint64_t fid)
{
    size_t lo = 0, hi = r->nzones;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->zones[mid].fid < fid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->nzones && r->zones[lo].fid == fid ? &r->zones[lo] : NULL;
}

static int on_zone(void *ud, const msh_feature *f)
{
    kl_job *j = ud;
    const msh_kpi_zone *z = zone_by_fid(j->r, f->id);
    if (!z)
        return 0;
    memset(j->v, 0, sizeof j->v);
    char los[2] = {msh_kpi_peak_los(z), 0};
    j->v[0] = (msh_value){MSH_FT_STRING, (uint32_t)strlen(z->id), {.s = z->id}};
    if (z->name[0])
        j->v[1] = (msh_value){MSH_FT_STRING, (uint32_t)strlen(z->name), {.s = z->name}};
    if (los[0])
        j->v[2] = (msh_value){MSH_FT_STRING, 1, {.s = los}};
    for (int i = 0; i < MSH_KPI_N; i++)
        if (isfinite(z->v[i]) && i == MSH_KPI_SUPPRESSED)
            j->v[NFIXED + i] = (msh_value){MSH_FT_BOOL, 0, {.i = z->v[i] != 0}};
        else if (isfinite(z->v[i]))
            j->v[NFIXED + i] = (msh_value){MSH_FT_REAL, 0, {.d = msh_kpi_published(z->v[i])}};
    msh_feature out = {f->id, f->geom, j->v};
    return j->fn(j->ud, &out);
}

static msh_rc kl_query(msh_layer *base, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    kpi_layer *l = (kpi_layer *)base;
    msh_kpi_result *r = msh_kpi_latest(l->k);
    msh_rc rc = MSH_OK;
    if (r && r->zones_layer) {
        kl_job j = {r, fn, ud, {{0}}};
        rc = r->zones_layer->vt->query(r->zones_layer, box, z, on_zone, &j);
    }
    msh_kpi_result_release(r);
    return rc;
}

static uint64_t kl_region_version(msh_layer *base, int z, const double box[4])
{
    (void)z;
    (void)box;
    kpi_layer *l = (kpi_layer *)base;
    msh_kpi_result *r = msh_kpi_latest(l->k);
    uint64_t v = r ? r->hash ^ (r->zones_layer ? r->zones_layer->info.version * 0x100000001b3ull : 0) : 0;
    msh_kpi_result_release(r);
    return msh_layer_epoch_version(v, l->epoch);
}

static const msh_layer_vt KL_VT = {kl_query, msh_layer_free_plain, kl_region_version};

msh_rc msh_kpi_layer_new(msh_kpi *k, msh_layer **out, msh_err *err)
{
    kpi_layer *l = calloc(1, sizeof *l);
    msh_field fields[NFIXED + MSH_KPI_N];
    char names[MSH_KPI_N][64];
    if (!l)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    fields[0] = (msh_field){(char *)"zone_id", MSH_FT_STRING};
    fields[1] = (msh_field){(char *)"name", MSH_FT_STRING};
    fields[2] = (msh_field){(char *)"peak_los", MSH_FT_STRING};
    for (int i = 0; i < MSH_KPI_N; i++) {
        snprintf(names[i], sizeof names[i], "%s_%s", msh_kpi_inds[i].group, msh_kpi_inds[i].name);
        fields[NFIXED + i] = (msh_field){names[i], i == MSH_KPI_SUPPRESSED ? MSH_FT_BOOL : MSH_FT_REAL};
    }
    msh_layer_info info;
    msh_layer_info_derived(&info, "kpi_zones", "derived", "Polygon", fields, NFIXED + MSH_KPI_N);
    if (msh_layer_info_copy(&l->base.info, &info)) {
        free(l);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    l->base.vt = &KL_VT;
    atomic_init(&l->base.refs, 1);
    l->k = k;
    l->epoch = msh_layer_epoch_new(l);
    *out = &l->base;
    return MSH_OK;
}
