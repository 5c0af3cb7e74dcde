/* sensor_history.c: the season's sensor readings in memory (sensor_history.h). Readings sit in
 * one array in rowid order; dropping the oldest moves the rest down once an eighth of the array
 * (or more) has expired, so a drop costs O(1) per reading on average. Sensor ids are interned. */
#include "sensor_history.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_hash.h"
#include "core/msh_index.h"

struct msh_sensor_history {
    pthread_rwlock_t lk;
    msh_sensor_reading *v;
    size_t first, n, cap; /* live readings are v[first .. n) */
    char (*ids)[MSH_FEED_ID_MAX + 1];
    size_t nids, capids;
    msh_index id_ix; /* FNV-1a of an id -> its index (a collision is resolved by comparing the text) */
    int64_t keep_ms, newest; /* newest: the latest time stamp added */
    size_t max;
    uint64_t version;
};

msh_sensor_history *msh_sensor_history_new(int64_t keep_ms, size_t max)
{
    msh_sensor_history *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_rwlock_init(&h->lk, NULL);
    msh_index_init(&h->id_ix);
    h->keep_ms = keep_ms;
    h->max = max ? max : 1;
    return h;
}

void msh_sensor_history_free(msh_sensor_history *h)
{
    if (!h)
        return;
    free(h->v);
    free(h->ids);
    msh_index_free(&h->id_ix);
    pthread_rwlock_destroy(&h->lk);
    free(h);
}

/* The index of sensor id r->id, interned on first sight; -1 when out of memory. Probing moves on
 * from a hash that belongs to another id. */
static int64_t intern(msh_sensor_history *h, const msh_feed_rec *r)
{
    uint64_t key = msh_fnv1a(r->id, r->id_len, MSH_FNV1A_INIT);
    for (;; key++) {
        uint32_t *i = msh_index_get(&h->id_ix, key);
        if (!i)
            break;
        if (strlen(h->ids[*i]) == r->id_len && !memcmp(h->ids[*i], r->id, r->id_len))
            return *i;
    }
    if (msh_grow_from((void **)&h->ids, &h->capids, h->nids + 1, sizeof *h->ids, 64) ||
        msh_index_put(&h->id_ix, key, (uint32_t)h->nids))
        return -1;
    memcpy(h->ids[h->nids], r->id, r->id_len);
    h->ids[h->nids][r->id_len] = 0;
    return (int64_t)h->nids++;
}

/* Drop what is past the horizon or the cap; compact when an eighth of the array is dead. */
static void drop_old(msh_sensor_history *h)
{
    while (h->first < h->n && (h->n - h->first > h->max || h->v[h->first].t_ms < h->newest - h->keep_ms))
        h->first++;
    if (h->first > 0 && h->first >= h->n / 8) {
        memmove(h->v, h->v + h->first, (h->n - h->first) * sizeof *h->v);
        h->n -= h->first;
        h->first = 0;
    }
}

int msh_sensor_history_add(msh_sensor_history *h, int64_t rowid, const msh_feed_rec *r)
{
    pthread_rwlock_wrlock(&h->lk);
    int rc = -1;
    int64_t s = intern(h, r);
    if (s < 0 || msh_grow_from((void **)&h->v, &h->cap, h->n + 1, sizeof *h->v, 1024))
        goto out;
    msh_sensor_reading *d = &h->v[h->n++];
    *d = (msh_sensor_reading){rowid, r->t_ms, r->lon, r->lat, r->temperature, r->humidity, r->aqi, r->pm25,
                              r->noise, r->has, (uint32_t)s};
    if (h->n == 1 || r->t_ms > h->newest)
        h->newest = r->t_ms;
    drop_old(h);
    h->version++;
    rc = 0;
out:
    pthread_rwlock_unlock(&h->lk);
    return rc;
}

void msh_sensor_history_rdlock(msh_sensor_history *h)
{
    pthread_rwlock_rdlock(&h->lk);
}

void msh_sensor_history_unlock(msh_sensor_history *h)
{
    pthread_rwlock_unlock(&h->lk);
}

void msh_sensor_history_each(msh_sensor_history *h, const double box[4], msh_sensor_reading_fn fn, void *ud)
{
    for (size_t i = h->first; i < h->n; i++) {
        const msh_sensor_reading *r = &h->v[i];
        if (r->lon < box[0] || r->lon > box[2] || r->lat < box[1] || r->lat > box[3])
            continue;
        if (fn(ud, r))
            break;
    }
}

const char *msh_sensor_history_id(const msh_sensor_history *h, uint32_t sensor)
{
    return sensor < h->nids ? h->ids[sensor] : "";
}

uint64_t msh_sensor_history_version(msh_sensor_history *h)
{
    pthread_rwlock_rdlock(&h->lk);
    uint64_t v = h->version;
    pthread_rwlock_unlock(&h->lk);
    return v;
}

size_t msh_sensor_history_count(msh_sensor_history *h)
{
    pthread_rwlock_rdlock(&h->lk);
    size_t n = h->n - h->first;
    pthread_rwlock_unlock(&h->lk);
    return n;
}

int64_t msh_sensor_history_keep_ms(const msh_sensor_history *h)
{
    return h->keep_ms;
}
