/* alerts.c: density, gate and sensor alerts with hysteresis (alerts.h). States live in a dense array,
 * found by key through the core index; a density key is the cell (cx << 32 | cy, top bit clear),
 * a gate key the FNV-1a of its id with the top bit set. */
#include "live/alerts.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/msh_constants.h"
#include "core/msh_grow.h"
#include "core/msh_hash.h"
#include "core/msh_index.h"
#include "core/msh_tilemath.h"

#define GATE_BIT (1ull << 63)

typedef struct {
    uint64_t key;
    uint8_t state;
    uint32_t pass; /* the density pass that last saw the cell */
} alert_t;

struct msh_alerts {
    pthread_mutex_t mu;
    alert_t *v;
    size_t n, cap;
    msh_index ix; /* key -> index into v */
    uint32_t pass;
};

msh_alerts *msh_alerts_new(void)
{
    msh_alerts *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    pthread_mutex_init(&a->mu, NULL);
    msh_index_init(&a->ix);
    return a;
}

void msh_alerts_free(msh_alerts *a)
{
    if (!a)
        return;
    free(a->v);
    msh_index_free(&a->ix);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* The state of `key`; created (cleared) when absent and `create`; NULL otherwise or out of memory. */
static alert_t *state_of(msh_alerts *a, uint64_t key, bool create)
{
    uint32_t *i = msh_index_get(&a->ix, key);
    if (i)
        return &a->v[*i];
    if (!create || msh_grow((void **)&a->v, &a->cap, a->n + 1, sizeof *a->v) ||
        msh_index_put(&a->ix, key, (uint32_t)a->n))
        return NULL;
    a->v[a->n] = (alert_t){key, 0, a->pass};
    return &a->v[a->n++];
}

static void drop(msh_alerts *a, size_t i)
{
    msh_index_del(&a->ix, a->v[i].key);
    if (i != --a->n) {
        a->v[i] = a->v[a->n];
        msh_index_put(&a->ix, a->v[i].key, (uint32_t)i); /* replaces: no allocation */
    }
}

/* raise above `limit`, clear below MSH_ALERT_CLEAR_RATIO of it, keep in between */
static uint8_t step(uint8_t s, uint8_t bit, double v, double limit)
{
    if (v > limit)
        return s | bit;
    if (v < MSH_ALERT_CLEAR_RATIO * limit)
        return s & (uint8_t)~bit;
    return s;
}

typedef struct {
    msh_alerts *a;
    const msh_alert_limits *lim;
    msh_density_fn fn;
    void *ud;
} scan_job;

static int scan_cell(void *ud, const msh_live_cell *c)
{
    scan_job *j = ud;
    double n = (double)(1u << c->level);
    msh_density_change ch = {*c, 0, 0, 0, 0, 0, 0};
    msh_world_to_lonlat((c->cx + 0.5) / n, (c->cy + 0.5) / n, &ch.lon, &ch.lat);
    double side = msh_live_cell_metres((int)c->level, ch.lat);
    ch.density = c->count / (side * side);
    ch.pressure = ch.density * c->var_v;
    double r = MSH_ALERT_CLEAR_RATIO;
    bool near = ch.density >= r * MSH_FRUIN_D_MAX || ch.density >= r * j->lim->density ||
                ch.pressure >= r * j->lim->pressure;
    alert_t *s = state_of(j->a, ((uint64_t)c->cx << 32) | c->cy, near);
    if (!s)
        return 0;
    s->pass = j->a->pass;
    uint8_t st = s->state;
    st = step(st, MSH_ALERT_LOS, ch.density, MSH_FRUIN_D_MAX);
    st = step(st, MSH_ALERT_DENSITY, ch.density, j->lim->density);
    st = step(st, MSH_ALERT_PRESSURE, ch.pressure, j->lim->pressure);
    if (st != s->state) {
        ch.before = s->state;
        ch.after = st;
        s->state = st;
        j->fn(j->ud, &ch);
    }
    return 0;
}

void msh_alerts_scan_density(msh_alerts *a, msh_live *live, const msh_alert_limits *lim, msh_density_fn fn,
                             void *ud)
{
    pthread_mutex_lock(&a->mu);
    a->pass++;
    scan_job j = {a, lim, fn, ud};
    msh_live_rdlock(live);
    msh_live_scan(live, MSH_ALERT_LEVEL, scan_cell, &j);
    msh_live_unlock(live);
    /* cells not seen in this pass have emptied: clear what they had raised, forget them */
    for (size_t i = 0; i < a->n;) {
        alert_t *s = &a->v[i];
        if (s->pass == a->pass || (s->key & GATE_BIT)) {
            i++;
            continue;
        }
        if (s->state) {
            double n = (double)(1u << MSH_ALERT_LEVEL);
            msh_density_change ch = {{MSH_ALERT_LEVEL, (uint32_t)(s->key >> 32), (uint32_t)s->key, 0, 0, 0, 0, 0},
                                     0, 0, 0, 0, s->state, 0};
            msh_world_to_lonlat((ch.cell.cx + 0.5) / n, (ch.cell.cy + 0.5) / n, &ch.lon, &ch.lat);
            fn(ud, &ch);
        }
        drop(a, i);
    }
    pthread_mutex_unlock(&a->mu);
}

/* Over 1.0, held down to 0.9: the state of `key` after `util`; +1 went over, -1 came back, 0 same. */
static int over_capacity(msh_alerts *a, uint64_t key, double util)
{
    pthread_mutex_lock(&a->mu);
    alert_t *s = state_of(a, key, util > 0.9);
    bool was = s && s->state, now = was ? util >= 0.9 : util > 1.0;
    if (s)
        s->state = now;
    pthread_mutex_unlock(&a->mu);
    return now == was ? 0 : now ? 1 : -1;
}

int msh_alerts_gate(msh_alerts *a, const char *id, size_t n, double util)
{
    return over_capacity(a, msh_fnv1a(id, n, MSH_FNV1A_INIT) | GATE_BIT, util);
}

int msh_alerts_zone(msh_alerts *a, const char *id, size_t n, double occupancy)
{
    /* seeded apart from the gates' keys: a zone and a gate may share an id */
    return over_capacity(a, msh_fnv1a(id, n, MSH_FNV1A_INIT ^ 0x5a4f4e45ull) | GATE_BIT, occupancy);
}

int msh_alerts_env(msh_alerts *a, msh_env_kind kind, const char *id, size_t n, double value, int *prev)
{
    /* a key per kind and sensor: the id's hash seeded by the kind, with the gate bit (a collision with
     * a gate's key is as likely as between two gates) */
    uint64_t key = msh_fnv1a(id, n, MSH_FNV1A_INIT ^ (0x9e3779b97f4a7c15ull * (uint64_t)(kind + 1))) | GATE_BIT;
    pthread_mutex_lock(&a->mu);
    alert_t *s = state_of(a, key, true);
    int was = s ? s->state : 0;
    int now = msh_env_level(kind, value, was);
    if (s)
        s->state = (uint8_t)now;
    pthread_mutex_unlock(&a->mu);
    *prev = was;
    return now;
}

size_t msh_alerts_active(msh_alerts *a)
{
    size_t k = 0;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->n; i++)
        k += a->v[i].state != 0;
    pthread_mutex_unlock(&a->mu);
    return k;
}
