/* kpi_compute.c: one compute of every indicator: accumulators per zone, the values, the composite, the result. */
#include "kpi_int.h"

#include <stdio.h>
#include <string.h>

#include "core/msh_hash.h"
#include "live/kanon.h"
#include "route/graph.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Per-zone accumulators (index nzones = overall). */
typedef struct {
    double people, peak, los[6];
    /* k-anonymity (live/kanon.h): people in 8.9 m cells of k or more (the parts a client can
     * see in the movement tiles), their fullest cell, and the Fruin levels of the others */
    double cells_shown, peak_shown, hid_los[6];
    double outside_shown; /* overall only: shown cells outside every zone */
    double camps, capacity, cov_camps[3], cov_cap[3];
    double inc, open, sev[5];
    double *on_scene, *resolved; /* response times, seconds */
    size_t n_on, n_res, cap_on, cap_res;
    double gates, flow, gcap, over;
    double sensors, temp, heat_index, pm25, stale; /* heat_index, pm25: the highest; NAN when none */
    double route_m, covered_m;
    uint32_t bins, bins_over, bins_stale; /* bins reporting, of which overflowing (live/bins.h), stale */
} acc_t;

static int push_time(double **v, size_t *n, size_t *cap, double x)
{
    if (msh_grow_from((void **)v, cap, *n + 1, sizeof **v, 16))
        return -1;
    (*v)[(*n)++] = x;
    return 0;
}

static double share(double part, double whole)
{
    return whole > 0 ? part / whole : NAN;
}

/*
 * The crowd values of a zone whose parts (its shown cells; for the overall figure, the zones and
 * the shown cells outside them) show `parts` people, through the one k-anonymity rule: what they
 * show differs from its parts by 0 or by k or more, and a zone of 1 to k-1 people shows nothing
 * but suppressed. The fullest cell is a shown one (a hidden cell's density is a count under k).
 */
static void crowd_values(const msh_kpi *k, const acc_t *a, double parts, double *v)
{
    uint64_t people = (uint64_t)a->people;
    uint64_t shown = msh_kanon_shown(people, (uint64_t)parts, k->cfg.k_anon);
    v[MSH_KPI_SUPPRESSED] = people > 0 && shown == 0;
    if (people > 0 && shown == 0)
        return; /* people, peak and shares stay null */
    bool released = shown == people; /* the people of the hidden cells are counted too */
    v[MSH_KPI_PEOPLE] = (double)shown;
    v[MSH_KPI_PEAK_DENSITY] = !shown ? 0 : a->cells_shown > 0 ? a->peak_shown : NAN;
    for (int l = 0; l < 6; l++)
        v[MSH_KPI_SHARE_LOS_A + l] = share(a->los[l] + (released ? a->hid_los[l] : 0), (double)shown);
}

static void finish_zone(const msh_kpi *k, acc_t *a, double parts, msh_kpi_zone *z, bool live, bool graph,
                        const tracker *tr, int64_t now_ms)
{
    double *v = z->v;
    for (int i = 0; i < MSH_KPI_N; i++)
        v[i] = NAN;
    if (live) {
        crowd_values(k, a, parts, v);
        v[MSH_KPI_MINUTES_LOS_EF] = kpi_tracked_s(k, tr, 0, now_ms) / 60.0;
        v[MSH_KPI_INCIDENTS] = a->inc;
        v[MSH_KPI_OPEN] = a->open;
        for (int s = 0; s < 5; s++)
            v[MSH_KPI_SEV_INFO + s] = a->sev[s];
        if (a->n_on) /* qsort wants a real pointer even for none */
            qsort(a->on_scene, a->n_on, sizeof(double), cmp_double);
        if (a->n_res)
            qsort(a->resolved, a->n_res, sizeof(double), cmp_double);
        v[MSH_KPI_ON_SCENE_P50] = msh_kpi_percentile(a->on_scene, a->n_on, 0.5);
        v[MSH_KPI_ON_SCENE_P90] = msh_kpi_percentile(a->on_scene, a->n_on, 0.9);
        v[MSH_KPI_RESOLVED_P50] = msh_kpi_percentile(a->resolved, a->n_res, 0.5);
        v[MSH_KPI_RESOLVED_P90] = msh_kpi_percentile(a->resolved, a->n_res, 0.9);
        size_t in_target = 0;
        for (size_t i = 0; i < a->n_on; i++)
            in_target += a->on_scene[i] <= k->cfg.response_target_s;
        v[MSH_KPI_WITHIN_TARGET] = share((double)in_target, (double)a->n_on);
        v[MSH_KPI_GATES] = a->gates;
        v[MSH_KPI_FLOW] = a->flow;
        v[MSH_KPI_GATE_CAPACITY] = a->gcap;
        v[MSH_KPI_UTILISATION] = share(a->flow, a->gcap);
        v[MSH_KPI_OVER_CAPACITY] = a->over;
        v[MSH_KPI_SENSORS] = a->sensors;
        v[MSH_KPI_TEMP_MAX] = a->sensors > 0 ? a->temp : NAN;
        v[MSH_KPI_HOURS_HEAT] = a->sensors > 0 ? kpi_tracked_s(k, tr, 1, now_ms) / 3600.0 : NAN;
        v[MSH_KPI_HEAT_INDEX_MAX] = a->heat_index;
        for (int l = 1; l <= 4; l++)
            v[MSH_KPI_HOURS_CAUTION + l - 1] = a->sensors > 0 ? kpi_tracked_s(k, tr, 1 + l, now_ms) / 3600.0 : NAN;
        v[MSH_KPI_PM25_MAX] = a->pm25;
        v[MSH_KPI_SENSORS_STALE] = a->stale;
    }
    v[MSH_KPI_CAMPS] = a->camps;
    v[MSH_KPI_CAMP_CAPACITY] = a->capacity;
    if (graph)
        for (int s = 0; s < 3; s++) {
            v[MSH_KPI_TOILET_CAMPS + 2 * s] = share(a->cov_camps[s], a->camps);
            v[MSH_KPI_TOILET_CAPACITY + 2 * s] = share(a->cov_cap[s], a->capacity);
        }
    v[MSH_KPI_ROUTE_M] = a->route_m;
    v[MSH_KPI_COVERED_M] = a->covered_m;
    v[MSH_KPI_SHARE_COVERED] = share(a->covered_m, a->route_m);
    v[MSH_KPI_BINS] = a->bins;
    v[MSH_KPI_BINS_OVERFLOWING] = a->bins ? a->bins_over : NAN;
    v[MSH_KPI_BINS_STALE] = a->bins ? a->bins_stale : NAN;
    /* sub-scores, each 0..1 (NAN: not measured, left out of the composite) */
    double sc[MSH_KPI_NW];
    sc[MSH_KPI_W_CROWD] = isfinite(v[MSH_KPI_SHARE_LOS_E]) ? 1 - v[MSH_KPI_SHARE_LOS_E] - v[MSH_KPI_SHARE_LOS_F] : NAN;
    sc[MSH_KPI_W_COVERAGE] = (v[MSH_KPI_TOILET_CAPACITY] + v[MSH_KPI_WATER_CAPACITY] + v[MSH_KPI_CLINIC_CAPACITY]) / 3;
    sc[MSH_KPI_W_RESPONSE] = v[MSH_KPI_WITHIN_TARGET];
    sc[MSH_KPI_W_GATES] = live ? share(a->gates - a->over, a->gates) : NAN;
    sc[MSH_KPI_W_ENVIRONMENT] = 1 - v[MSH_KPI_HOURS_HEAT] / k->cfg.window_h;
    sc[MSH_KPI_W_ASSETS] = NAN; /* set by the caller, which holds the asset counts */
    sc[MSH_KPI_W_CLEANING] = v[MSH_KPI_SHARE_COVERED];
    for (int i = 0; i < MSH_KPI_NW; i++)
        v[MSH_KPI_SCORE_CROWD + i] = sc[i];
}

static void composite(const msh_kpi *k, msh_kpi_zone *z)
{
    double ws = 0, s = 0;
    for (int i = 0; i < MSH_KPI_NW; i++) {
        double x = z->v[MSH_KPI_SCORE_CROWD + i];
        if (isfinite(x) && k->cfg.weight[i] > 0) {
            ws += k->cfg.weight[i];
            s += k->cfg.weight[i] * x;
        }
    }
    z->v[MSH_KPI_COMPOSITE] = ws > 0 ? 100.0 * s / ws : NAN;
}

static uint64_t hash_result(const msh_kpi_result *r)
{
    uint64_t h = MSH_FNV1A_INIT;
    for (size_t i = 0; i <= r->nzones; i++) {
        const msh_kpi_zone *z = i < r->nzones ? &r->zones[i] : &r->overall;
        h = msh_fnv1a(z->v, sizeof z->v, h);
        h = msh_fnv1a(&z->fid, sizeof z->fid, h);
    }
    return h;
}
/* The static side ready for this compute: prepared, swept times given back, coverage, crew moves. */
static msh_rc prepare(msh_kpi *k, const msh_catalog *cat, msh_graph *g, msh_err *err)
{
    msh_rc rc;
    if ((rc = kpi_prepare(k, cat, err)))
        return rc;
    kpi_apply_marks(k);
    if (g && (rc = kpi_coverage(k, g, err)))
        return rc;
    kpi_apply_moves(k);
    return MSH_OK;
}

/* crowd: the 8.9 m base cells */
static void add_crowd(const msh_kpi *k, acc_t *acc, size_t nz, const live_copy *lc)
{
    acc_t *all = &acc[nz];
    const double n22 = (double)(1u << BASE_LEVEL);
    double last_y = -1, area = 0;
    for (size_t i = 0; i < lc->ncells; i++) {
        const cell_rec *c = &lc->cells[i];
        double x = (c->cx + 0.5) / n22, y = (c->cy + 0.5) / n22;
        if (y != last_y) { /* cells come chunk by chunk: the area changes only with the row */
            double lon, lat;
            msh_world_to_lonlat(x, y, &lon, &lat);
            double side = msh_live_cell_metres(BASE_LEVEL, lat);
            area = side * side;
            last_y = y;
        }
        double d = c->count / area;
        int l = msh_fruin_los(d) - 'A';
        int z = kpi_zone_at(k, x, y);
        bool shown = msh_kanon_shown(c->count, 0, k->cfg.k_anon) > 0;
        if (shown && z < 0)
            all->outside_shown += c->count;
        for (acc_t *a = all; a; a = (a == all && z >= 0) ? &acc[z] : NULL) {
            a->people += c->count;
            if (d > a->peak)
                a->peak = d;
            if (!shown) {
                a->hid_los[l] += c->count;
                continue;
            }
            a->los[l] += c->count;
            a->cells_shown += c->count;
            if (d > a->peak_shown)
                a->peak_shown = d;
        }
    }
}

/* emergency: incidents reported within the window */
static msh_rc add_incidents(const msh_kpi *k, acc_t *acc, size_t nz, const live_copy *lc, int64_t now_ms,
                            msh_err *err)
{
    acc_t *all = &acc[nz];
    int64_t from = now_ms - (int64_t)(k->cfg.window_h * 3600000.0);
    for (size_t i = 0; i < lc->nitems[0]; i++) {
        const msh_live_item *it = &lc->items[0][i];
        int64_t rep = it->status_ms[MSH_INC_REPORTED] ? it->status_ms[MSH_INC_REPORTED] : it->rec.t_ms;
        if (rep < from || rep > now_ms)
            continue;
        double wx, wy;
        msh_lonlat_to_world(it->rec.lon, it->rec.lat, &wx, &wy);
        int z = kpi_zone_at(k, wx, wy);
        for (acc_t *a = all; a; a = (a == all && z >= 0) ? &acc[z] : NULL) {
            a->inc++;
            a->open += it->rec.status < MSH_INC_RESOLVED;
            a->sev[it->rec.severity < 5 ? it->rec.severity : 4]++;
            int64_t os = it->status_ms[MSH_INC_ON_SCENE], rs = it->status_ms[MSH_INC_RESOLVED];
            if ((os && os >= rep && push_time(&a->on_scene, &a->n_on, &a->cap_on, (double)(os - rep) / 1000.0)) ||
                (rs && rs >= rep && push_time(&a->resolved, &a->n_res, &a->cap_res, (double)(rs - rep) / 1000.0)))
                return msh_err_set(err, MSH_ENOMEM, "out of memory");
        }
    }
    return MSH_OK;
}

/* gates: the latest flow against the capacity (the feed's, else the asset's) */
static void add_gates(const msh_kpi *k, acc_t *acc, size_t nz, const live_copy *lc)
{
    acc_t *all = &acc[nz];
    for (size_t i = 0; i < lc->nitems[1]; i++) {
        const msh_live_item *it = &lc->items[1][i];
        int z = -1;
        double cap = (it->rec.has & MSH_FR_CAPACITY) && it->rec.capacity > 0 ? it->rec.capacity : 0;
        for (size_t gi = 0; gi < k->ngates; gi++)
            if (!strcmp(k->gates[gi].id, it->rec.id)) {
                z = k->gates[gi].zone;
                if (!cap)
                    cap = k->gates[gi].capacity;
                break;
            }
        if (z < 0 && (it->rec.has & MSH_FR_LOC)) {
            double wx, wy;
            msh_lonlat_to_world(it->rec.lon, it->rec.lat, &wx, &wy);
            z = kpi_zone_at(k, wx, wy);
        }
        if (!(cap > 0))
            continue; /* a gate without a capacity cannot be judged against it */
        for (acc_t *a = all; a; a = (a == all && z >= 0) ? &acc[z] : NULL) {
            a->gates++;
            a->flow += it->flow_per_hour;
            a->gcap += cap;
            a->over += it->flow_per_hour > cap;
        }
    }
}

/* the larger of a running maximum (NAN: none yet) and x */
static double max_of(double m, double x)
{
    return isnan(m) || x > m ? x : m;
}

/* environment: the hottest sensor of the zone, its highest heat index and PM2.5 (envlevels.h), and
 * the sensors gone quiet (live_timers.h) */
static void add_sensors(const msh_kpi *k, acc_t *acc, size_t nz, const live_copy *lc)
{
    for (size_t i = 0; i <= nz; i++)
        acc[i].heat_index = acc[i].pm25 = NAN;
    acc_t *all = &acc[nz];
    for (size_t i = 0; i < lc->nitems[2]; i++) {
        const msh_live_item *it = &lc->items[2][i];
        const msh_feed_rec *r = &it->rec;
        if (!(r->has & MSH_FR_TEMP) || !(r->has & MSH_FR_LOC))
            continue;
        double wx, wy;
        msh_lonlat_to_world(r->lon, r->lat, &wx, &wy);
        int z = kpi_zone_at(k, wx, wy);
        bool stale = (it->ops_flags & MSH_ITEM_STALE) != 0;
        for (acc_t *a = all; a; a = (a == all && z >= 0) ? &acc[z] : NULL) {
            a->stale += stale;
            if (stale) /* a sensor gone quiet is counted, not believed */
                continue;
            if (!a->sensors || r->temperature > a->temp)
                a->temp = r->temperature;
            a->sensors++;
            if (r->has & MSH_FR_HUMIDITY)
                a->heat_index = max_of(a->heat_index, msh_heat_index_c(r->temperature, r->humidity));
            if (r->has & MSH_FR_PM25)
                a->pm25 = max_of(a->pm25, r->pm25);
        }
    }
}

/* cleaning: the bins reporting fill levels, those overflowing (live/bins.h: the item's flag) and those
 * gone quiet (live_timers.h), which are counted as stale and not believed overflowing */
static void add_bins(const msh_kpi *k, acc_t *acc, size_t nz, const live_copy *lc)
{
    acc_t *all = &acc[nz];
    for (size_t i = 0; i < lc->nitems[3]; i++) {
        const msh_feed_rec *r = &lc->items[3][i].rec;
        if (!(r->has & MSH_FR_LOC))
            continue;
        double wx, wy;
        msh_lonlat_to_world(r->lon, r->lat, &wx, &wy);
        int z = kpi_zone_at(k, wx, wy);
        bool stale = (lc->items[3][i].ops_flags & MSH_ITEM_STALE) != 0;
        bool over = !stale && (lc->items[3][i].ops_flags & MSH_ITEM_OVERFLOW) != 0;
        for (acc_t *a = all; a; a = (a == all && z >= 0) ? &acc[z] : NULL) {
            a->bins++;
            a->bins_over += over;
            a->bins_stale += stale;
        }
    }
}

/* coverage per camp; the camps lacking a service listed in res->gaps */
static msh_rc add_camps(const msh_kpi *k, acc_t *acc, size_t nz, const msh_graph *g, msh_kpi_result *res)
{
    acc_t *all = &acc[nz];
    size_t cap = 0;
    for (size_t c = 0; c < k->ncamps; c++) {
        int z = k->camps[c].zone;
        uint8_t missing = g ? (uint8_t)(~k->camp_cov[c] & 7) : 0;
        if (missing) {
            if (msh_grow_from((void **)&res->gaps, &cap, res->ngaps + 1, sizeof *res->gaps, 64))
                return MSH_ENOMEM;
            msh_kpi_gap *gp = &res->gaps[res->ngaps++];
            snprintf(gp->camp, sizeof gp->camp, "%s", k->camps[c].id);
            gp->zone = z;
            gp->missing = missing;
        }
        for (acc_t *a = all; a; a = (a == all && z >= 0) ? &acc[z] : NULL) {
            a->camps++;
            a->capacity += k->camps[c].capacity;
            for (int s = 0; s < 3; s++)
                if (g && (k->camp_cov[c] >> s & 1)) {
                    a->cov_camps[s]++;
                    a->cov_cap[s] += k->camps[c].capacity;
                }
        }
    }
    return MSH_OK;
}

msh_rc msh_kpi_gaps_json(const msh_kpi_result *r, int zone, msh_buf *b)
{
    if (!r->graph)
        return msh_buf_printf(b, "null");
    static const char *const KIND[3] = {"toilet", "water_point", "clinic"};
    msh_buf_putc(b, '{');
    for (int s = 0; s < 3; s++) {
        msh_buf_printf(b, "%s\"%s\":[", s ? "," : "", KIND[s]);
        bool first = true;
        for (size_t i = 0; i < r->ngaps; i++) {
            const msh_kpi_gap *gp = &r->gaps[i];
            if (!(gp->missing >> s & 1) || (zone >= 0 && gp->zone != zone))
                continue;
            if (!first)
                msh_buf_putc(b, ',');
            first = false;
            msh_buf_putc(b, '"');
            msh_buf_json_str(b, gp->camp);
            msh_buf_putc(b, '"');
        }
        msh_buf_putc(b, ']');
    }
    return msh_buf_putc(b, '}');
}

/* cleaning: pieces a crew passed within the last cleaning_h hours */
static void add_cleaning(const msh_kpi *k, acc_t *acc, size_t nz, int64_t now_ms)
{
    acc_t *all = &acc[nz];
    int64_t clean_from = now_ms - (int64_t)(k->cfg.cleaning_h * 3600000.0);
    for (size_t i = 0; i < k->npieces; i++) {
        const piece_t *p = &k->pieces[i];
        bool covered = p->last_ms && p->last_ms >= clean_from;
        for (acc_t *a = all; a; a = (a == all && p->zone >= 0) ? &acc[p->zone] : NULL) {
            a->route_m += p->len_m;
            a->covered_m += covered ? p->len_m : 0;
        }
    }
}

/* Time integration, then the values of every zone and overall. */
static void zone_values(msh_kpi *k, acc_t *acc, msh_kpi_result *res, size_t nz, bool live, bool graph,
                        int64_t now_ms)
{
    double zones_shown = 0; /* the parts of the overall figure (zones come before it) */
    for (size_t i = 0; i <= nz; i++) {
        msh_kpi_zone *z = i < nz ? &res->zones[i] : &res->overall;
        if (i < nz) {
            snprintf(z->id, sizeof z->id, "%s", k->zones[i].id);
            snprintf(z->name, sizeof z->name, "%s", k->zones[i].name);
            z->fid = k->zones[i].fid;
        }
        acc_t *a = &acc[i];
        if (live)
            kpi_observe_locked(k, z->id, now_ms, a->people > 0 ? a->peak : 0, a->sensors > 0 ? a->temp : NAN,
                               a->heat_index);
        double parts = i < nz ? a->cells_shown : zones_shown + a->outside_shown;
        finish_zone(k, a, parts, z, live, graph, kpi_tracker_get(k, z->id), now_ms);
        /* occupancy: the people counted (k-anonymous) against the zone's population capacity */
        double cap = 0;
        for (size_t c = i < nz ? i : 0; c < (i < nz ? i + 1 : nz); c++)
            cap += k->zones[c].capacity;
        z->v[MSH_KPI_ZONE_CAPACITY] = cap > 0 ? cap : NAN;
        z->v[MSH_KPI_OCCUPANCY] = cap > 0 && live ? z->v[MSH_KPI_PEOPLE] / cap : NAN;
        if (i < nz && isfinite(z->v[MSH_KPI_PEOPLE]))
            zones_shown += z->v[MSH_KPI_PEOPLE];
        z->v[MSH_KPI_ASSETS] = k->asset_n ? k->asset_n[i] : 0;
        z->v[MSH_KPI_WORKING] = k->asset_working ? k->asset_working[i] : 0;
        z->v[MSH_KPI_SHARE_WORKING] = share(z->v[MSH_KPI_WORKING], z->v[MSH_KPI_ASSETS]);
        z->v[MSH_KPI_SCORE_ASSETS] = z->v[MSH_KPI_SHARE_WORKING];
        composite(k, z);
    }
}

static void acc_free(acc_t *acc, size_t nz)
{
    if (acc)
        for (size_t i = 0; i <= nz; i++) {
            free(acc[i].on_scene);
            free(acc[i].resolved);
        }
    free(acc);
}

static msh_rc compute_locked(msh_kpi *k, const msh_catalog *cat, msh_live *live, msh_graph *g, int64_t now_ms,
                             msh_kpi_result **out, msh_err *err)
{
    double t0 = kpi_mono_ms(), wait_ms = 0, copy_ms = 0;
    msh_rc rc = prepare(k, cat, g, err);
    if (rc)
        return rc;
    size_t nz = k->nzones;
    acc_t *acc = calloc(nz + 1, sizeof *acc);
    msh_kpi_result *res = calloc(1, sizeof *res);
    live_copy lc;
    memset(&lc, 0, sizeof lc);
    if (!acc || !res || (nz && !(res->zones = calloc(nz, sizeof *res->zones))) ||
        (live && kpi_live_take(live, &lc, &wait_ms, &copy_ms))) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    add_crowd(k, acc, nz, &lc);
    if ((rc = add_incidents(k, acc, nz, &lc, now_ms, err)))
        goto out;
    add_gates(k, acc, nz, &lc);
    add_sensors(k, acc, nz, &lc);
    add_bins(k, acc, nz, &lc);
    if ((rc = add_camps(k, acc, nz, g, res))) {
        msh_err_set(err, rc, "out of memory");
        goto out;
    }
    add_cleaning(k, acc, nz, now_ms);
    if (kpi_tasks_out(k, &res->tasks, &res->ntasks)) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = kpi_sites(k, res, now_ms, err)))
        goto out;
    zone_values(k, acc, res, nz, live != NULL, g != NULL, now_ms);
    res->nzones = nz;
    res->t_ms = now_ms;
    res->graph = g != NULL;
    res->zones_layer = k->zones_layer ? msh_layer_retain(k->zones_layer) : NULL;
    res->hash = hash_result(res);
    atomic_init(&res->refs, 2); /* the caller's and `latest` */
    res->compute_ms = kpi_mono_ms() - t0;
    res->live_wait_ms = wait_ms;
    res->live_copy_ms = copy_ms;
    msh_kpi_result_release(k->latest);
    k->latest = res;
    *out = res;
    res = NULL;
out:
    acc_free(acc, nz);
    if (res) {
        free(res->tasks);
        free(res->zones);
        free(res->gaps);
        free(res->sites);
        free(res);
    }
    kpi_live_copy_free(&lc);
    return rc;
}

msh_rc msh_kpi_compute(msh_kpi *k, const msh_catalog *cat, msh_live *live, msh_graph *g, int64_t now_ms,
                       msh_kpi_result **out, msh_err *err)
{
    pthread_mutex_lock(&k->lock);
    msh_rc rc = compute_locked(k, cat, live, g, now_ms, out, err);
    pthread_mutex_unlock(&k->lock);
    return rc;
}

msh_rc msh_kpi_fresh(msh_kpi *k, const msh_catalog *cat, msh_live *live, msh_graph *g, int64_t now_ms,
                     int64_t max_age_ms, msh_kpi_result **out, msh_err *err)
{
    pthread_mutex_lock(&k->lock);
    msh_rc rc = MSH_OK;
    if (k->latest && now_ms >= k->latest->t_ms && now_ms - k->latest->t_ms < max_age_ms)
        *out = msh_kpi_result_retain(k->latest);
    else
        rc = compute_locked(k, cat, live, g, now_ms, out, err);
    pthread_mutex_unlock(&k->lock);
    return rc;
}
