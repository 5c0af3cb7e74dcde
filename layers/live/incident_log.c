/* incident_log.c: a writer thread that keeps msh_incidents and msh_incident_history in the store. */
#include "incident_log.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_time.h"
#include "store.h"

#define QUEUE_MAX 100000

struct msh_incident_log {
    msh_store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    msh_live_item *q;
    size_t n, cap;
    int stop;
    atomic_ullong written;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS msh_incidents (id TEXT PRIMARY KEY, kind TEXT, severity TEXT, status TEXT,"
    " description TEXT, lon REAL, lat REAL, reported_at TEXT, dispatched_at TEXT, on_scene_at TEXT,"
    " resolved_at TEXT, updated_at TEXT);"
    "CREATE TABLE IF NOT EXISTS msh_incident_history (id TEXT NOT NULL, time TEXT NOT NULL, status TEXT NOT NULL,"
    " severity TEXT, kind TEXT, description TEXT, lon REAL, lat REAL, UNIQUE (id, time, status));";

/* A status time with milliseconds; 0 (the status was never reached) is "", stored as NULL. */
static void iso(int64_t ms, char *out, size_t cap)
{
    if (!ms)
        out[0] = 0;
    else
        msh_time_format_iso(ms, out, cap, 3);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void write_batch(msh_incident_log *lg, msh_live_item *items, size_t n)
{
    sqlite3 *db = msh_store_sqlite(lg->store);
    sqlite3_stmt *up = NULL, *hist = NULL, *geom = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return;
    sqlite3_prepare_v2(db,
                       "INSERT INTO msh_incidents (id, kind, severity, status, description, lon, lat, reported_at,"
                       " dispatched_at, on_scene_at, resolved_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
                       " ON CONFLICT(id) DO UPDATE SET"
                       " kind=excluded.kind, severity=excluded.severity, status=excluded.status,"
                       " description=COALESCE(excluded.description, msh_incidents.description), lon=excluded.lon, lat=excluded.lat,"
                       " reported_at=excluded.reported_at, dispatched_at=excluded.dispatched_at,"
                       " on_scene_at=excluded.on_scene_at, resolved_at=excluded.resolved_at,"
                       " updated_at=excluded.updated_at WHERE excluded.updated_at >= msh_incidents.updated_at",
                       -1, &up, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT OR IGNORE INTO msh_incident_history (id, time, status, severity, kind, description,"
                       " lon, lat) VALUES (?,?,?,?,?,?,?,?)",
                       -1, &hist, NULL);
    if (!up || !hist)
        fprintf(stderr, "mashaer: incident log: %s\n", sqlite3_errmsg(db));
    sqlite3_prepare_v2(db, "UPDATE msh_incidents SET geom = MakePoint(lon, lat, 4326) WHERE id = ?", -1, &geom, NULL);
    for (size_t i = 0; i < n && up && hist; i++) {
        const msh_feed_rec *r = &items[i].rec;
        char ts[4][MSH_TIME_ISO_CAP], upd[MSH_TIME_ISO_CAP];
        for (int s = 0; s < 4; s++)
            iso(items[i].status_ms[s], ts[s], sizeof ts[s]);
        iso(r->t_ms, upd, sizeof upd);
        const char *desc = (r->has & MSH_FR_TEXT) ? r->text : NULL;
        sqlite3_reset(up);
        sqlite3_bind_text(up, 1, r->id, r->id_len, SQLITE_TRANSIENT);
        bind_text_or_null(up, 2, r->kind);
        sqlite3_bind_text(up, 3, msh_severity_name(r->severity), -1, SQLITE_STATIC);
        sqlite3_bind_text(up, 4, msh_inc_status_name(r->status), -1, SQLITE_STATIC);
        bind_text_or_null(up, 5, desc);
        sqlite3_bind_double(up, 6, r->lon);
        sqlite3_bind_double(up, 7, r->lat);
        for (int s = 0; s < 4; s++)
            bind_text_or_null(up, 8 + s, ts[s]);
        sqlite3_bind_text(up, 12, upd, -1, SQLITE_TRANSIENT);
        sqlite3_step(up);
        sqlite3_reset(hist);
        sqlite3_bind_text(hist, 1, r->id, r->id_len, SQLITE_TRANSIENT);
        sqlite3_bind_text(hist, 2, upd, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(hist, 3, msh_inc_status_name(r->status), -1, SQLITE_STATIC);
        sqlite3_bind_text(hist, 4, msh_severity_name(r->severity), -1, SQLITE_STATIC);
        bind_text_or_null(hist, 5, r->kind);
        bind_text_or_null(hist, 6, desc);
        sqlite3_bind_double(hist, 7, r->lon);
        sqlite3_bind_double(hist, 8, r->lat);
        sqlite3_step(hist);
        if (geom) {
            sqlite3_reset(geom);
            sqlite3_bind_text(geom, 1, r->id, r->id_len, SQLITE_TRANSIENT);
            sqlite3_step(geom);
        }
        atomic_fetch_add(&lg->written, 1);
    }
    sqlite3_finalize(up);
    sqlite3_finalize(hist);
    sqlite3_finalize(geom);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
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
        msh_live_item *batch = lg->q;
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

msh_rc msh_incident_log_open(const char *db_path, msh_incident_log **out, msh_err *err)
{
    msh_incident_log *lg = calloc(1, sizeof *lg);
    if (!lg)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    msh_rc rc = msh_store_open(db_path, false, &lg->store, err);
    if (rc) {
        free(lg);
        return rc;
    }
    sqlite3 *db = msh_store_sqlite(lg->store);
    char *msg = NULL;
    if (sqlite3_exec(db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
        rc = msh_err_set(err, MSH_EIO, "incident tables: %s", msg ? msg : "?");
        sqlite3_free(msg);
        msh_store_close(lg->store);
        free(lg);
        return rc;
    }
    /* a POINT column QGIS can draw (added once) */
    sqlite3_stmt *st;
    int has_geom = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM geometry_columns WHERE f_table_name = 'msh_incidents'", -1, &st,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            has_geom = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    if (!has_geom)
        sqlite3_exec(db, "SELECT AddGeometryColumn('msh_incidents', 'geom', 4326, 'POINT', 'XY')", NULL, NULL, NULL);
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

void msh_incident_log_push(msh_incident_log *lg, const msh_live_item *it)
{
    if (!lg)
        return;
    pthread_mutex_lock(&lg->mu);
    if (lg->cap < QUEUE_MAX) /* on failure the queue keeps its size */
        (void)msh_grow_from((void **)&lg->q, &lg->cap, lg->n + 1, sizeof *lg->q, 64);
    if (lg->n < lg->cap) /* a full queue drops the copy: the write-ahead log still has the update */
        lg->q[lg->n++] = *it;
    pthread_cond_signal(&lg->cv);
    pthread_mutex_unlock(&lg->mu);
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
