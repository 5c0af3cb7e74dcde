/* kpi.c: the indicator table, and the lifecycle of the KPI object and of its results. */
/*
 * How the indicators are computed is spread by idea over the kpi_*.c files (see kpi_int.h): the
 * static side is prepared once per layer version; each compute copies the live cells and items
 * under the read lock and does the rest unlocked.
 */
#include "kpi_int.h"

#include <string.h>

const msh_kpi_ind msh_kpi_inds[MSH_KPI_N] = {
    {"crowd", "people", "persons"},
    {"crowd", "suppressed", "bool"},
    {"crowd", "peak_density", "persons/m2"},
    {"crowd", "minutes_los_ef", "min"},
    {"crowd", "share_los_a", "1"},
    {"crowd", "share_los_b", "1"},
    {"crowd", "share_los_c", "1"},
    {"crowd", "share_los_d", "1"},
    {"crowd", "share_los_e", "1"},
    {"crowd", "share_los_f", "1"},
    {"crowd", "capacity", "persons"},
    {"crowd", "occupancy", "1"},
    {"coverage", "camps", "camps"},
    {"coverage", "capacity", "persons"},
    {"coverage", "toilet_camps", "1"},
    {"coverage", "toilet_capacity", "1"},
    {"coverage", "water_camps", "1"},
    {"coverage", "water_capacity", "1"},
    {"coverage", "clinic_camps", "1"},
    {"coverage", "clinic_capacity", "1"},
    {"emergency", "incidents", "incidents"},
    {"emergency", "open", "incidents"},
    {"emergency", "informational", "incidents"},
    {"emergency", "low", "incidents"},
    {"emergency", "medium", "incidents"},
    {"emergency", "high", "incidents"},
    {"emergency", "critical", "incidents"},
    {"emergency", "on_scene_p50_s", "s"},
    {"emergency", "on_scene_p90_s", "s"},
    {"emergency", "resolved_p50_s", "s"},
    {"emergency", "resolved_p90_s", "s"},
    {"emergency", "within_target", "1"},
    {"gates", "gates", "gates"},
    {"gates", "flow_per_hour", "persons/h"},
    {"gates", "capacity_per_hour", "persons/h"},
    {"gates", "utilisation", "1"},
    {"gates", "over_capacity", "gates"},
    {"environment", "sensors", "sensors"},
    {"environment", "temperature_max", "degC"},
    {"environment", "hours_above_heat", "h"},
    {"environment", "heat_index_max", "degC"},
    {"environment", "hours_heat_caution", "h"},
    {"environment", "hours_heat_extreme_caution", "h"},
    {"environment", "hours_heat_danger", "h"},
    {"environment", "hours_heat_extreme_danger", "h"},
    {"environment", "pm25_max", "ug/m3"},
    {"environment", "sensors_stale", "sensors"},
    {"assets", "assets", "assets"},
    {"assets", "working", "assets"},
    {"assets", "share_working", "1"},
    {"cleaning", "route_m", "m"},
    {"cleaning", "covered_m", "m"},
    {"cleaning", "share_covered", "1"},
    {"cleaning", "bins", "bins"},
    {"cleaning", "bins_overflowing", "bins"},
    {"cleaning", "bins_stale", "bins"},
    {"index", "crowd", "1"},
    {"index", "coverage", "1"},
    {"index", "response", "1"},
    {"index", "gates", "1"},
    {"index", "environment", "1"},
    {"index", "assets", "1"},
    {"index", "cleaning", "1"},
    {"index", "composite", "0-100"},
};

/* ---- lifecycle ---- */

msh_rc msh_kpi_new(const msh_kpi_config *c, msh_kpi **out, msh_err *err)
{
    msh_kpi *k = calloc(1, sizeof *k);
    if (!k)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    k->cfg = *c;
    pthread_mutex_init(&k->lock, NULL);
    pthread_mutex_init(&k->q_lock, NULL);
    *out = k;
    return MSH_OK;
}

void msh_kpi_free(msh_kpi *k)
{
    if (!k)
        return;
    kpi_zones_clear(k);
    free(k->camps);
    free(k->camp_cov);
    free(k->svc);
    free(k->gates);
    free(k->asset_n);
    free(k->asset_working);
    free(k->pieces);
    free(k->pend);
    kpi_tasks_clear(k);
    free(k->crews);
    free(k->queue);
    for (size_t i = 0; i < k->ntr; i++)
        free(k->tr[i].v);
    free(k->tr);
    msh_kpi_result_release(k->latest);
    pthread_mutex_destroy(&k->lock);
    pthread_mutex_destroy(&k->q_lock);
    free(k);
}

const msh_kpi_config *msh_kpi_get_config(const msh_kpi *k)
{
    return &k->cfg;
}

msh_kpi_result *msh_kpi_result_retain(msh_kpi_result *r)
{
    if (r)
        atomic_fetch_add(&r->refs, 1);
    return r;
}

void msh_kpi_result_release(msh_kpi_result *r)
{
    if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
        if (r->zones_layer)
            msh_layer_release(r->zones_layer);
        free(r->zones);
        free(r->gaps);
        free(r->tasks);
        free(r->sites);
        free(r);
    }
}

msh_kpi_result *msh_kpi_latest(msh_kpi *k)
{
    pthread_mutex_lock(&k->lock);
    msh_kpi_result *r = msh_kpi_result_retain(k->latest);
    pthread_mutex_unlock(&k->lock);
    return r;
}

const msh_kpi_zone *msh_kpi_result_zone(const msh_kpi_result *r, const char *id, size_t n)
{
    for (size_t i = 0; i < r->nzones; i++)
        if (strlen(r->zones[i].id) == n && !memcmp(r->zones[i].id, id, n))
            return &r->zones[i];
    return NULL;
}

char msh_kpi_peak_los(const msh_kpi_zone *z)
{
    double d = z->v[MSH_KPI_PEAK_DENSITY];
    return isfinite(d) ? msh_fruin_los(d) : 0;
}

double msh_kpi_percentile(const double *sorted, size_t n, double p)
{
    if (!n)
        return NAN;
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}
