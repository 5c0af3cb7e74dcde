/* incident_log.c: a writer thread that keeps msh_incidents and msh_incident_history in the store. */
#include "incident_log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_time.h"
#include "live_ops.h"
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
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS msh_incidents (id TEXT PRIMARY KEY, kind TEXT, severity TEXT, status TEXT,"
    " description TEXT, lon REAL, lat REAL, reported_at TEXT, dispatched_at TEXT, on_scene_at TEXT,"
    " resolved_at TEXT, updated_at TEXT);"
    "CREATE TABLE IF NOT EXISTS msh_incident_history (id TEXT NOT NULL, time TEXT NOT NULL, status TEXT NOT NULL,"
    " severity TEXT, kind TEXT, description TEXT, lon REAL, lat REAL, by_name TEXT, by_role TEXT,"
    " UNIQUE (id, time, status));"
    "CREATE TABLE IF NOT EXISTS msh_gate_history (id TEXT NOT NULL, time TEXT NOT NULL, state TEXT NOT NULL,"
    " reason TEXT, by_name TEXT, by_role TEXT, UNIQUE (id, time, state));";

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

/* A gate's row in msh_gate_history: its state after an operator's write, and who. */
static void write_gate(msh_sql *st, const msh_live_item *it)
{
    char at[MSH_TIME_ISO_CAP];
    iso(it->rec.t_ms, at, sizeof at);
    msh_sql_reset(st);
    msh_sql_bind_text(st, 1, it->rec.id, it->rec.id_len);
    msh_sql_bind_text(st, 2, at, -1);
    msh_sql_bind_text(st, 3, (it->ops_flags & MSH_ITEM_CLOSED) ? "closed" : "open", -1);
    bind_text_or_null(st, 4, it->reason);
    bind_text_or_null(st, 5, it->by);
    bind_text_or_null(st, 6, it->by_role);
    msh_sql_step(st);
}

static void write_batch(msh_incident_log *lg, queued *q, size_t nq)
{
    msh_store *db = lg->store;
    msh_sql *up = NULL, *hist = NULL, *geom = NULL, *gate = NULL;
    if (msh_store_begin(db))
        return;
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
                    "INSERT OR IGNORE INTO msh_gate_history (id, time, state, reason, by_name, by_role)"
                    " VALUES (?,?,?,?,?,?)",
                    &gate);
    if (!up || !hist || !gate)
        fprintf(stderr, "mashaer: incident log: %s\n", msh_store_errmsg(db));
    msh_sql_prepare(db, "UPDATE msh_incidents SET geom = MakePoint(lon, lat, 4326) WHERE id = ?", &geom);
    for (size_t k = 0; k < nq && up && hist && gate; k++) {
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
    msh_sql_finalize(gate);
    (void)msh_store_commit(db);
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
    msh_store *db = lg->store;
    if (msh_store_exec(db, SCHEMA)) {
        rc = msh_err_set(err, MSH_EIO, "incident tables: %s", msh_store_errmsg(db));
        msh_store_close(lg->store);
        free(lg);
        return rc;
    }
    /* the author columns, added to a history made before operators were named */
    msh_sql *st;
    int64_t has_by = 0;
    if (!msh_sql_prepare(db, "SELECT count(*) FROM pragma_table_info('msh_incident_history') WHERE name = 'by_name'",
                         &st)) {
        if (msh_sql_step(st) == MSH_SQL_ROW)
            has_by = msh_sql_int(st, 0);
        msh_sql_finalize(st);
    }
    if (!has_by)
        (void)msh_store_exec(db, "ALTER TABLE msh_incident_history ADD COLUMN by_name TEXT;"
                                 "ALTER TABLE msh_incident_history ADD COLUMN by_role TEXT");
    /* a POINT column QGIS can draw (added once) */
    int64_t has_geom = 0;
    if (!msh_sql_prepare(db, "SELECT count(*) FROM geometry_columns WHERE f_table_name = 'msh_incidents'", &st)) {
        if (msh_sql_step(st) == MSH_SQL_ROW)
            has_geom = msh_sql_int(st, 0);
        msh_sql_finalize(st);
    }
    if (!has_geom)
        (void)msh_store_exec(db, "SELECT AddGeometryColumn('msh_incidents', 'geom', 4326, 'POINT', 'XY')");
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
