/* incident_log.c: a writer thread that keeps msh_incidents, msh_incident_history, msh_gate_history and
 * msh_sensor_readings in the store. */
#include "incident_log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_time.h"
#include "live_ops.h"
#include "sensor_history.h"
#include "store.h"
#include "store_sql.h"

#define QUEUE_MAX 100000

/* One queued change: an incident's new state, or a gate an operator opened or closed. */
typedef struct {
    msh_feed feed;
    msh_live_item it;
} queued;

struct msh_incident_log {
    msh_store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    queued *q;
    size_t n, cap;
    int stop;
    atomic_ullong written;
    msh_sensor_history *sensors; /* readings join it once committed; NULL: not kept */
};

/* One schema for both engines (store_sql.h): a history row's `rowid` is declared, so that SQLite's own
 * row id has that name and PostgreSQL gives an identity column of it (the history's paging key); a
 * store made before keeps SQLite's implicit one, under the same name. */
static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS msh_incidents (id TEXT PRIMARY KEY, kind TEXT, severity TEXT, status TEXT,"
    " description TEXT, lon REAL, lat REAL, reported_at TEXT, dispatched_at TEXT, on_scene_at TEXT,"
    " resolved_at TEXT, updated_at TEXT);"
    "CREATE TABLE IF NOT EXISTS msh_incident_history (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, time TEXT NOT NULL,"
    " status TEXT NOT NULL, severity TEXT, kind TEXT, description TEXT, lon REAL, lat REAL, by_name TEXT,"
    " by_role TEXT, UNIQUE (id, time, status));"
    "CREATE TABLE IF NOT EXISTS msh_gate_history (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, time TEXT NOT NULL,"
    " state TEXT NOT NULL, reason TEXT, by_name TEXT, by_role TEXT, reopens_at TEXT, UNIQUE (id, time, state));"
    "CREATE TABLE IF NOT EXISTS msh_sensor_readings (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL,"
    " t_ms INTEGER NOT NULL, time TEXT NOT NULL, temperature REAL, relative_humidity REAL,"
    " air_quality_index REAL, pm25 REAL, noise_laeq REAL, lon REAL, lat REAL, UNIQUE (id, t_ms));"
    "CREATE INDEX IF NOT EXISTS msh_sensor_readings_t ON msh_sensor_readings (t_ms);";

/* A value of a reading, or NULL when the record does not give it. */
static void bind_reading(msh_sql *q, int i, const msh_feed_rec *r, uint32_t bit, float v)
{
    if (r->has & bit)
        msh_sql_bind_num(q, i, v);
    else
        msh_sql_bind_text(q, i, NULL, -1);
}

/* A sensor reading into msh_sensor_readings; its rowid, or 0 when the store had it already. */
static int64_t write_reading(msh_sql *st, const msh_feed_rec *r)
{
    char at[MSH_TIME_ISO_CAP];
    msh_time_format_iso(r->t_ms, at, sizeof at, 3);
    msh_sql_reset(st);
    msh_sql_bind_text(st, 1, r->id, r->id_len);
    msh_sql_bind_int(st, 2, r->t_ms);
    msh_sql_bind_text(st, 3, at, -1);
    bind_reading(st, 4, r, MSH_FR_TEMP, r->temperature);
    bind_reading(st, 5, r, MSH_FR_HUMIDITY, r->humidity);
    bind_reading(st, 6, r, MSH_FR_AQI, r->aqi);
    bind_reading(st, 7, r, MSH_FR_PM25, r->pm25);
    bind_reading(st, 8, r, MSH_FR_NOISE, r->noise);
    msh_sql_bind_num(st, 9, r->lon);
    msh_sql_bind_num(st, 10, r->lat);
    return msh_sql_step(st) == MSH_SQL_ROW ? msh_sql_int(st, 0) : 0;
}

/* A status time with milliseconds; 0 (the status was never reached) is "", stored as NULL. */
static void iso(int64_t ms, char *out, size_t cap)
{
    if (!ms)
        out[0] = 0;
    else
        msh_time_format_iso(ms, out, cap, 3);
}

/* Text, or NULL for none or empty. */
static void bind_text_or_null(msh_sql *q, int i, const char *s)
{
    msh_sql_bind_text(q, i, s && *s ? s : NULL, -1);
}

/* A gate's row in msh_gate_history: its state after an operator's write, who, and when a closed gate
 * is planned to reopen (its reopens_at, to the second as the item shows it). */
static void write_gate(msh_sql *st, const msh_live_item *it)
{
    char at[MSH_TIME_ISO_CAP], back[MSH_TIME_ISO_CAP] = "";
    iso(it->rec.t_ms, at, sizeof at);
    if ((it->ops_flags & MSH_ITEM_CLOSED) && it->reopens_ms)
        msh_time_format_iso(it->reopens_ms, back, sizeof back, 0);
    msh_sql_reset(st);
    msh_sql_bind_text(st, 1, it->rec.id, it->rec.id_len);
    msh_sql_bind_text(st, 2, at, -1);
    msh_sql_bind_text(st, 3, (it->ops_flags & MSH_ITEM_CLOSED) ? "closed" : "open", -1);
    bind_text_or_null(st, 4, it->reason);
    bind_text_or_null(st, 5, it->by);
    bind_text_or_null(st, 6, it->by_role);
    bind_text_or_null(st, 7, back);
    msh_sql_step(st);
}

static void write_batch(msh_incident_log *lg, queued *q, size_t nq)
{
    msh_store *db = lg->store;
    msh_sql *up = NULL, *hist = NULL, *geom = NULL, *gate = NULL, *sens = NULL, *prune = NULL;
    int64_t *rowids = calloc(nq ? nq : 1, sizeof *rowids); /* the sensor readings the store took, by queue slot */
    int64_t newest = 0;
    if (!rowids || msh_store_begin(db)) {
        free(rowids);
        return;
    }
    msh_sql_prepare(db,
                    "INSERT INTO msh_incidents (id, kind, severity, status, description, lon, lat, reported_at,"
                    " dispatched_at, on_scene_at, resolved_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT(id) DO UPDATE SET"
                    " kind=excluded.kind, severity=excluded.severity, status=excluded.status,"
                    " description=COALESCE(excluded.description, msh_incidents.description), lon=excluded.lon, lat=excluded.lat,"
                    " reported_at=excluded.reported_at, dispatched_at=excluded.dispatched_at,"
                    " on_scene_at=excluded.on_scene_at, resolved_at=excluded.resolved_at,"
                    " updated_at=excluded.updated_at WHERE excluded.updated_at >= msh_incidents.updated_at",
                    &up);
    msh_sql_prepare(db,
                    "INSERT OR IGNORE INTO msh_incident_history (id, time, status, severity, kind, description,"
                    " lon, lat, by_name, by_role) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    &hist);
    msh_sql_prepare(db,
                    "INSERT OR IGNORE INTO msh_gate_history (id, time, state, reason, by_name, by_role, reopens_at)"
                    " VALUES (?,?,?,?,?,?,?)",
                    &gate);
    msh_sql_prepare(db,
                    "INSERT INTO msh_sensor_readings (id, t_ms, time, temperature, relative_humidity,"
                    " air_quality_index, pm25, noise_laeq, lon, lat) VALUES (?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT DO NOTHING RETURNING rowid",
                    &sens);
    msh_sql_prepare(db, "DELETE FROM msh_sensor_readings WHERE t_ms < ?", &prune);
    if (!up || !hist || !gate || !sens || !prune)
        fprintf(stderr, "mashaer: incident log: %s\n", msh_store_errmsg(db));
    char geom_sql[160];
    snprintf(geom_sql, sizeof geom_sql, "UPDATE msh_incidents SET geom = %s WHERE id = ?", msh_store_sql_point(db));
    msh_sql_prepare(db, geom_sql, &geom);
    for (size_t k = 0; k < nq && up && hist && gate && sens && prune; k++) {
        if (q[k].feed == MSH_FEED_SENSORS) {
            rowids[k] = write_reading(sens, &q[k].it.rec);
            if (q[k].it.rec.t_ms > newest)
                newest = q[k].it.rec.t_ms;
            atomic_fetch_add(&lg->written, 1);
            continue;
        }
        if (q[k].feed == MSH_FEED_GATES) {
            write_gate(gate, &q[k].it);
            atomic_fetch_add(&lg->written, 1);
            continue;
        }
        const msh_live_item *it = &q[k].it;
        const msh_feed_rec *r = &it->rec;
        char ts[4][MSH_TIME_ISO_CAP], upd[MSH_TIME_ISO_CAP];
        for (int s = 0; s < 4; s++)
            iso(it->status_ms[s], ts[s], sizeof ts[s]);
        iso(r->t_ms, upd, sizeof upd);
        const char *desc = (r->has & MSH_FR_TEXT) ? r->text : NULL;
        msh_sql_reset(up);
        msh_sql_bind_text(up, 1, r->id, r->id_len);
        bind_text_or_null(up, 2, r->kind);
        msh_sql_bind_text(up, 3, msh_severity_name(r->severity), -1);
        msh_sql_bind_text(up, 4, msh_ops_status_name(msh_ops_status(it)), -1);
        bind_text_or_null(up, 5, desc);
        msh_sql_bind_num(up, 6, r->lon);
        msh_sql_bind_num(up, 7, r->lat);
        for (int s = 0; s < 4; s++)
            bind_text_or_null(up, 8 + s, ts[s]);
        msh_sql_bind_text(up, 12, upd, -1);
        msh_sql_step(up);
        msh_sql_reset(hist);
        msh_sql_bind_text(hist, 1, r->id, r->id_len);
        msh_sql_bind_text(hist, 2, upd, -1);
        msh_sql_bind_text(hist, 3, msh_ops_status_name(msh_ops_status(it)), -1);
        msh_sql_bind_text(hist, 4, msh_severity_name(r->severity), -1);
        bind_text_or_null(hist, 5, r->kind);
        bind_text_or_null(hist, 6, desc);
        msh_sql_bind_num(hist, 7, r->lon);
        msh_sql_bind_num(hist, 8, r->lat);
        bind_text_or_null(hist, 9, it->by); /* an operator's write names its author; a feed's none */
        bind_text_or_null(hist, 10, it->by_role);
        msh_sql_step(hist);
        if (geom) {
            msh_sql_reset(geom);
            msh_sql_bind_text(geom, 1, r->id, r->id_len);
            msh_sql_step(geom);
        }
        atomic_fetch_add(&lg->written, 1);
    }
    msh_sql_finalize(up);
    msh_sql_finalize(hist);
    msh_sql_finalize(geom);
    if (newest && prune && lg->sensors) { /* the season's horizon, as the memory copy keeps it */
        msh_sql_reset(prune);
        msh_sql_bind_int(prune, 1, newest - msh_sensor_history_keep_ms(lg->sensors));
        msh_sql_step(prune);
    }
    msh_sql_finalize(gate);
    msh_sql_finalize(sens);
    msh_sql_finalize(prune);
    /* readings reach the served copy only once the store holds them */
    if (!msh_store_commit(db) && lg->sensors)
        for (size_t k = 0; k < nq; k++)
            if (rowids[k])
                (void)msh_sensor_history_add(lg->sensors, rowids[k], &q[k].it.rec); /* out of memory: served later from the store */
    free(rowids);
}

/* The readings the store keeps within the horizon, into the memory copy (before the writer starts). */
static msh_rc load_readings(msh_incident_log *lg, msh_err *err)
{
    msh_sql *st;
    if (msh_sql_prepare(lg->store,
                        "SELECT rowid, id, t_ms, temperature, relative_humidity, air_quality_index, pm25, noise_laeq,"
                        " lon, lat FROM msh_sensor_readings WHERE t_ms >= (SELECT max(t_ms) FROM msh_sensor_readings) - ?"
                        " ORDER BY rowid",
                        &st))
        return msh_err_set(err, MSH_EIO, "sensor readings: %s", msh_store_errmsg(lg->store));
    msh_sql_bind_int(st, 1, msh_sensor_history_keep_ms(lg->sensors));
    static const uint32_t BITS[5] = {MSH_FR_TEMP, MSH_FR_HUMIDITY, MSH_FR_AQI, MSH_FR_PM25, MSH_FR_NOISE};
    msh_rc rc = MSH_OK;
    int s;
    while ((s = msh_sql_step(st)) == MSH_SQL_ROW) {
        msh_feed_rec r;
        memset(&r, 0, sizeof r);
        size_t n;
        const char *id = msh_sql_text(st, 1, &n);
        if (!id || n == 0 || n > MSH_FEED_ID_MAX)
            continue;
        memcpy(r.id, id, n);
        r.id_len = (uint8_t)n;
        r.t_ms = msh_sql_int(st, 2);
        float *vals[5] = {&r.temperature, &r.humidity, &r.aqi, &r.pm25, &r.noise};
        for (int i = 0; i < 5; i++) {
            double v = msh_sql_num(st, 3 + i);
            if (v == v) { /* not NULL */
                *vals[i] = (float)v;
                r.has |= BITS[i];
            }
        }
        r.lon = msh_sql_num(st, 8);
        r.lat = msh_sql_num(st, 9);
        r.has |= MSH_FR_LOC;
        if (msh_sensor_history_add(lg->sensors, msh_sql_int(st, 0), &r)) {
            rc = msh_err_set(err, MSH_ENOMEM, "sensor readings: out of memory");
            break;
        }
    }
    if (!rc && s != MSH_SQL_DONE)
        rc = msh_err_set(err, MSH_EIO, "sensor readings: %s", msh_store_errmsg(lg->store));
    msh_sql_finalize(st);
    return rc;
}

static void *writer(void *arg)
{
    msh_incident_log *lg = arg;
    pthread_mutex_lock(&lg->mu);
    for (;;) {
        while (!lg->n && !lg->stop)
            pthread_cond_wait(&lg->cv, &lg->mu);
        if (!lg->n && lg->stop)
            break;
        queued *batch = lg->q;
        size_t n = lg->n;
        lg->q = NULL;
        lg->n = lg->cap = 0;
        pthread_mutex_unlock(&lg->mu);
        write_batch(lg, batch, n);
        free(batch);
        struct timespec ts = {1, 0}; /* gather about a second of updates per transaction */
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&lg->mu);
    }
    pthread_mutex_unlock(&lg->mu);
    return NULL;
}


/* A TEXT column of a history table made before the column was: added when the table lacks it. Asked
 * first on both engines (an ALTER on PostgreSQL takes the table's exclusive lock even when the column
 * is there); a column that cannot be added fails the open, since every write names it. Names are this
 * file's constants. */
static msh_rc add_column(msh_store *db, const char *table, const char *column, msh_err *err)
{
    char sql[200];
    if (msh_store_is_pg(db))
        snprintf(sql, sizeof sql, "SELECT count(*) FROM information_schema.columns WHERE table_schema = "
                 "current_schema() AND table_name = '%s' AND column_name = '%s'", table, column);
    else
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'", table, column);
    int64_t has = 0;
    if (!msh_sql_one_int(db, sql, NULL, &has))
        return msh_err_set(err, MSH_EIO, "incident tables: cannot read the columns of %s: %s", table,
                           msh_store_errmsg(db));
    if (has)
        return MSH_OK;
    snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s%s TEXT", table, msh_store_is_pg(db) ? "IF NOT EXISTS " : "",
             column); /* PostgreSQL: a node starting beside this one may have just added it */
    if (msh_store_exec(db, sql))
        return msh_err_set(err, MSH_EIO, "incident tables: cannot add the column %s.%s: %s", table, column,
                           msh_store_errmsg(db));
    return MSH_OK;
}

msh_rc msh_incident_log_open(const char *db_path, msh_sensor_history *sensors, msh_incident_log **out, msh_err *err)
{
    msh_incident_log *lg = calloc(1, sizeof *lg);
    if (!lg)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    msh_rc rc = msh_store_open_own(db_path, "incident tables", SCHEMA, 0, &lg->store, err);
    if (rc) {
        free(lg);
        return rc;
    }
    msh_store *db = lg->store;
    /* columns added since a store's history was made: the authors (operators were not named at
     * first), a gate's planned reopening */
    if ((rc = add_column(db, "msh_incident_history", "by_name", err)) ||
        (rc = add_column(db, "msh_incident_history", "by_role", err)) ||
        (rc = add_column(db, "msh_gate_history", "reopens_at", err))) {
        msh_store_close(lg->store);
        free(lg);
        return rc;
    }
    /* a POINT column QGIS can draw (added once) */
    (void)msh_store_add_point_column(db, "msh_incidents");
    lg->sensors = sensors;
    if (sensors && (rc = load_readings(lg, err))) {
        msh_store_close(lg->store);
        free(lg);
        return rc;
    }
    pthread_mutex_init(&lg->mu, NULL);
    pthread_cond_init(&lg->cv, NULL);
    atomic_init(&lg->written, 0);
    if (pthread_create(&lg->thread, NULL, writer, lg)) {
        msh_store_close(lg->store);
        free(lg);
        return msh_err_set(err, MSH_EINTERNAL, "cannot start the incident writer");
    }
    *out = lg;
    return MSH_OK;
}

static void push(msh_incident_log *lg, msh_feed feed, const msh_live_item *it)
{
    if (!lg)
        return;
    pthread_mutex_lock(&lg->mu);
    if (lg->cap < QUEUE_MAX) /* on failure the queue keeps its size */
        (void)msh_grow_from((void **)&lg->q, &lg->cap, lg->n + 1, sizeof *lg->q, 64);
    if (lg->n < lg->cap) { /* a full queue drops the copy: the write-ahead log still has the update */
        lg->q[lg->n].feed = feed;
        lg->q[lg->n++].it = *it;
    }
    pthread_cond_signal(&lg->cv);
    pthread_mutex_unlock(&lg->mu);
}

void msh_incident_log_push(msh_incident_log *lg, const msh_live_item *it)
{
    push(lg, MSH_FEED_INCIDENTS, it);
}

void msh_incident_log_push_sensor(msh_incident_log *lg, const msh_live_item *it)
{
    if (lg && lg->sensors && (it->rec.has & MSH_FR_LOC))
        push(lg, MSH_FEED_SENSORS, it);
}

void msh_incident_log_push_gate(msh_incident_log *lg, const msh_live_item *it)
{
    if (it->by[0]) /* an operator's write: a feed's counts are not the gate's history */
        push(lg, MSH_FEED_GATES, it);
}

void msh_incident_log_close(msh_incident_log *lg)
{
    if (!lg)
        return;
    pthread_mutex_lock(&lg->mu);
    lg->stop = 1;
    pthread_cond_signal(&lg->cv);
    pthread_mutex_unlock(&lg->mu);
    pthread_join(lg->thread, NULL);
    free(lg->q);
    msh_store_close(lg->store);
    pthread_mutex_destroy(&lg->mu);
    pthread_cond_destroy(&lg->cv);
    free(lg);
}

unsigned long long msh_incident_log_written(msh_incident_log *lg)
{
    return lg ? atomic_load(&lg->written) : 0;
}
