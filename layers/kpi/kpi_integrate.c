/* kpi_integrate.c: indicators measured over time: spans of LoS E/F, of heat and of each heat-index level
 * credited per zone. */
/*
 * Each compute is an observation; the time until the next one is credited to the state seen (a
 * gap longer than max_gap_s credits nothing: the server was not looking). Spans older than the
 * window are forgotten.
 */
#include "kpi_int.h"

#include <stdio.h>
#include <string.h>

tracker *kpi_tracker_get(msh_kpi *k, const char *id)
{
    for (size_t i = 0; i < k->ntr; i++)
        if (!strcmp(k->tr[i].id, id))
            return &k->tr[i];
    if (msh_grow_from((void **)&k->tr, &k->captr, k->ntr + 1, sizeof *k->tr, 32))
        return NULL;
    tracker *t = &k->tr[k->ntr++];
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "%s", id);
    return t;
}

static double max_gap_ms(const msh_kpi *k)
{
    return (k->cfg.max_gap_s > 0 ? k->cfg.max_gap_s : 3.0 * k->cfg.interval_s) * 1000.0;
}

void kpi_observe_locked(msh_kpi *k, const char *id, int64_t t_ms, double peak, double temp, double heat_index)
{
    tracker *t = kpi_tracker_get(k, id);
    if (!t)
        return;
    uint8_t state = (uint8_t)((peak > 0 && msh_fruin_los(peak) >= 'E') | ((temp > k->cfg.heat_c) << 1));
    int heat = msh_env_level(MSH_ENV_HEAT, heat_index, -1); /* the level the reading says (no hysteresis: hours) */
    if (heat > 0)
        state |= (uint8_t)(1u << (1 + heat));
    if (t->has_last && t_ms <= t->last_t)
        return; /* out of order or the same instant: nothing to credit */
    if (t->has_last && t->last_state && (double)(t_ms - t->last_t) <= max_gap_ms(k)) {
        span *last = t->n ? &t->v[t->n - 1] : NULL;
        if (last && last->t1 == t->last_t && last->what == t->last_state) {
            last->t1 = t_ms;
        } else if (!msh_grow_from((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v, 16)) { /* out of memory: the span is lost */
            t->v[t->n++] = (span){t->last_t, t_ms, t->last_state};
        }
    }
    /* forget spans that ended before the window */
    int64_t from = t_ms - (int64_t)(k->cfg.window_h * 3600000.0);
    size_t drop = 0;
    while (drop < t->n && t->v[drop].t1 <= from)
        drop++;
    if (drop) {
        memmove(t->v, t->v + drop, (t->n - drop) * sizeof *t->v);
        t->n -= drop;
    }
    t->last_t = t_ms;
    t->last_state = state;
    t->has_last = true;
}

void msh_kpi_observe(msh_kpi *k, const char *id, int64_t t_ms, double peak_density, double temp_max,
                     double heat_index_max)
{
    pthread_mutex_lock(&k->lock);
    kpi_observe_locked(k, id, t_ms, peak_density, temp_max, heat_index_max);
    pthread_mutex_unlock(&k->lock);
}

/* Seconds in the window ending at now with state bit `bit`. */
double kpi_tracked_s(const msh_kpi *k, const tracker *t, int bit, int64_t now_ms)
{
    if (!t)
        return 0;
    int64_t from = now_ms - (int64_t)(k->cfg.window_h * 3600000.0);
    double ms = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!(t->v[i].what & (1 << bit)))
            continue;
        int64_t a = t->v[i].t0 > from ? t->v[i].t0 : from, b = t->v[i].t1 < now_ms ? t->v[i].t1 : now_ms;
        if (b > a)
            ms += (double)(b - a);
    }
    return ms / 1000.0;
}
