/* sensor_history.h: every sensor reading of the season, in memory, for the `sensor_readings` layer.
 *
 * The store keeps the readings (`msh_sensor_readings`, written by the incident log's writer,
 * incident_log.h); this is the copy the layer serves, so a time query scans memory, not SQLite.
 * A reading enters only once the store has committed it, under the store's rowid: ids are stable
 * across restarts and increase with arrival, so the OGC items pages come in id order without a
 * sort. Bounded: readings older than `keep_ms` before the newest are dropped, and past `max`
 * readings the oldest go (64 bytes a reading: 1.7 million, 60 days of 100 sensors every 5
 * minutes, is about 110 MB).
 *
 * Threads: one writer (the incident log's thread) adds; readers scan under a read lock.
 */
#ifndef MSH_SENSOR_HISTORY_H
#define MSH_SENSOR_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "feeds.h"

typedef struct msh_sensor_history msh_sensor_history;

/** The cap on readings held (64 bytes each: about 190 MB at the cap). */
#define MSH_SENSOR_HISTORY_MAX 3000000u

/** One kept reading: the record's values (`has`: its MSH_FR_* bits) and the store's rowid. */
typedef struct msh_sensor_reading {
    int64_t rowid;
    int64_t t_ms;
    double lon, lat;
    float temperature, humidity, aqi, pm25, noise;
    uint32_t has;
    uint32_t sensor; /* index of its id: msh_sensor_history_id */
} msh_sensor_reading;

/** NULL when out of memory. */
msh_sensor_history *msh_sensor_history_new(int64_t keep_ms, size_t max);
void msh_sensor_history_free(msh_sensor_history *h);

/** Add a reading the store holds under `rowid` (rowids must increase). Fails only out of memory. */
int msh_sensor_history_add(msh_sensor_history *h, int64_t rowid, const msh_feed_rec *r);

/** Readers: take the read lock around msh_sensor_history_each and _id. */
void msh_sensor_history_rdlock(msh_sensor_history *h);
void msh_sensor_history_unlock(msh_sensor_history *h);
typedef int (*msh_sensor_reading_fn)(void *ud, const msh_sensor_reading *r);
/** Each reading whose position meets box (lon/lat degrees, west south east north), by rowid; `fn`
 * returning non-zero stops. */
void msh_sensor_history_each(msh_sensor_history *h, const double box[4], msh_sensor_reading_fn fn, void *ud);
/** The sensor id of a reading's `sensor` index. */
const char *msh_sensor_history_id(const msh_sensor_history *h, uint32_t sensor);

/** Changes with every add and drop (the layer's version). */
uint64_t msh_sensor_history_version(msh_sensor_history *h);
/** Readings held now. */
size_t msh_sensor_history_count(msh_sensor_history *h);
/** How long readings are kept (the store's rows are pruned with the same horizon). */
int64_t msh_sensor_history_keep_ms(const msh_sensor_history *h);

#endif
