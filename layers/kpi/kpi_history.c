/* kpi_history.c: recording KPIs in the store and answering /kpi/history. */
#include "kpi_history.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/msh_grow.h"
#include "core/msh_time.h"
#include "store.h"
#include "store_sql.h"

struct msh_kpi_history {
    msh_store *store;
    pthread_mutex_t mu;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS msh_kpi_history (t_ms INTEGER NOT NULL, zone_id TEXT NOT NULL,"
    " peak_density REAL, temperature_max REAL, composite REAL, doc TEXT NOT NULL,"
    " PRIMARY KEY (zone_id, t_ms)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS msh_kpi_history_t ON msh_kpi_history (t_ms);"
    "CREATE TABLE IF NOT EXISTS msh_kpi_swept (fid INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " routes_version INTEGER NOT NULL, last_ms INTEGER NOT NULL, PRIMARY KEY (fid, idx)) WITHOUT ROWID;"
    /* msh_kpi_swept (by feature id) is an older build's: kept, no longer read */
    "CREATE TABLE IF NOT EXISTS msh_cleaning_swept (gkey INTEGER PRIMARY KEY, last_ms INTEGER NOT NULL,"
    " crew TEXT NOT NULL, task INTEGER NOT NULL);";

/* A failed store call, in the history's words. */
static msh_rc store_err(msh_store *db, msh_err *err)
{
    return msh_err_set(err, MSH_EIO, "kpi history: %s", msh_store_errmsg(db));
}

static msh_rc prepare(msh_store *db, const char *sql, msh_sql **st, msh_err *err)
{
    return msh_sql_prepare(db, sql, st) ? store_err(db, err) : MSH_OK;
}

static msh_rc tx_begin(msh_store *db, msh_err *err)
{
    return msh_store_begin(db) ? store_err(db, err) : MSH_OK;
}

/* End the transaction: commit when all went well, else roll back. */
static msh_rc tx_end(msh_store *db, msh_rc rc, msh_err *err)
{
    if (!rc && msh_store_commit(db))
        rc = store_err(db, err);
    if (rc)
        msh_store_rollback(db);
    return rc;
}

msh_rc msh_kpi_history_open(const char *db_path, msh_kpi_history **out, msh_err *err)
{
    msh_kpi_history *h = calloc(1, sizeof *h);
    if (!h)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    msh_rc rc = msh_store_open_own(db_path, "kpi history", SCHEMA, 5000, &h->store, err);
    if (rc) {
        free(h);
        return rc;
    }
    pthread_mutex_init(&h->mu, NULL);
    *out = h;
    return MSH_OK;
}

void msh_kpi_history_close(msh_kpi_history *h)
{
    if (!h)
        return;
    msh_store_close(h->store);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

msh_rc msh_kpi_history_append(msh_kpi_history *h, const msh_kpi_result *r, msh_err *err)
{
    pthread_mutex_lock(&h->mu);
    msh_store *db = h->store;
    msh_sql *st = NULL;
    msh_buf doc;
    msh_buf_init(&doc, (size_t)1 << 20);
    msh_rc rc = MSH_OK;
    if ((rc = tx_begin(db, err)) ||
        (rc = prepare(db, "INSERT INTO msh_kpi_history (t_ms, zone_id, peak_density, temperature_max,"
                          " composite, doc) VALUES (?,?,?,?,?,?) ON CONFLICT (zone_id, t_ms) DO UPDATE SET"
                          " peak_density = excluded.peak_density, temperature_max = excluded.temperature_max,"
                          " composite = excluded.composite, doc = excluded.doc", &st, err)))
        goto out;
    for (size_t i = 0; i <= r->nzones; i++) {
        const msh_kpi_zone *z = i < r->nzones ? &r->zones[i] : &r->overall;
        msh_buf_reset(&doc);
        if ((rc = msh_kpi_zone_json(z, &doc))) {
            msh_err_set(err, rc, "kpi history: a record too large");
            goto out;
        }
        msh_sql_reset(st);
        msh_sql_bind_int(st, 1, r->t_ms);
        msh_sql_bind_text(st, 2, z->id, -1);
        msh_sql_bind_num(st, 3, z->v[MSH_KPI_PEAK_DENSITY]);
        msh_sql_bind_num(st, 4, z->v[MSH_KPI_TEMP_MAX]);
        msh_sql_bind_num(st, 5, z->v[MSH_KPI_COMPOSITE]);
        msh_sql_bind_text(st, 6, (const char *)doc.data, (int)doc.len);
        if (msh_sql_step(st) != MSH_SQL_DONE) {
            rc = store_err(db, err);
            goto out;
        }
    }
out:
    msh_sql_finalize(st);
    rc = tx_end(db, rc, err);
    msh_buf_free(&doc);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

bool msh_kpi_history_has_since(msh_kpi_history *h, int64_t from_ms)
{
    pthread_mutex_lock(&h->mu);
    int64_t one;
    bool has = msh_sql_one_int(h->store, "SELECT 1 FROM msh_kpi_history WHERE t_ms >= ? LIMIT 1", &from_ms, &one);
    pthread_mutex_unlock(&h->mu);
    return has;
}

/* The crowd members of a suppressed zone as msh_kpi_zone_json writes them (kpi_compute.c: crowd_values),
 * hidden in one recorded document when it counts 1..max_people people: the new text (malloc'd), or NULL
 * (none to hide, or not ours to read). Done here rather than in SQL: the engines' JSON functions differ. */
static char *suppressed_doc(const char *text, size_t len, int64_t max_people)
{
    static const char *const HIDDEN[] = {"people", "peak_density", "peak_los", "share_los_a", "share_los_b",
                                         "share_los_c", "share_los_d", "share_los_e", "share_los_f"};
    json_t *doc = json_loadb(text, len, 0, NULL);
    json_t *crowd = json_object_get(doc, "crowd");
    json_t *people = json_object_get(crowd, "people");
    char *out = NULL;
    if (json_is_number(people) && json_number_value(people) >= 1 && json_number_value(people) <= (double)max_people) {
        for (size_t i = 0; i < sizeof HIDDEN / sizeof HIDDEN[0]; i++)
            json_object_set_new(crowd, HIDDEN[i], json_null());
        json_object_set_new(crowd, "suppressed", json_true());
        out = json_dumps(doc, JSON_COMPACT);
    }
    json_decref(doc);
    return out;
}

msh_rc msh_kpi_history_suppress(msh_kpi_history *h, int k_anon, size_t *changed, msh_err *err)
{
    pthread_mutex_lock(&h->mu);
    msh_store *db = h->store;
    msh_sql *st = NULL, *up = NULL;
    msh_rc rc;
    *changed = 0;
    if ((rc = tx_begin(db, err)) ||
        (rc = prepare(db, "SELECT zone_id, t_ms, doc FROM msh_kpi_history WHERE doc LIKE '%\"people\":%'", &st, err)) ||
        (rc = prepare(db, "UPDATE msh_kpi_history SET peak_density = NULL, doc = ? WHERE zone_id = ? AND t_ms = ?", &up,
                      err)))
        goto out;
    /* PostgreSQL has the whole result once stepped; SQLite reads on, and an UPDATE of the row just read
     * leaves the scan as it was (the key is not changed) */
    int s;
    while (!rc && (s = msh_sql_step(st)) == MSH_SQL_ROW) {
        size_t n;
        const char *text = msh_sql_text(st, 2, &n);
        char *doc = text ? suppressed_doc(text, n, k_anon - 1) : NULL;
        if (!doc)
            continue;
        msh_sql_reset(up);
        msh_sql_bind_text(up, 1, doc, -1);
        msh_sql_bind_text(up, 2, msh_sql_text(st, 0, NULL), -1);
        msh_sql_bind_int(up, 3, msh_sql_int(st, 1));
        free(doc);
        if (msh_sql_step(up) != MSH_SQL_DONE)
            rc = store_err(db, err);
        else
            (*changed)++;
    }
    if (!rc && s != MSH_SQL_DONE)
        rc = store_err(db, err);
out:
    msh_sql_finalize(st);
    msh_sql_finalize(up);
    rc = tx_end(db, rc, err);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

msh_rc msh_kpi_history_prune(msh_kpi_history *h, int64_t before_ms, size_t *deleted, msh_err *err)
{
    pthread_mutex_lock(&h->mu);
    msh_store *db = h->store;
    msh_sql *st = NULL;
    msh_rc rc;
    *deleted = 0;
    if ((rc = prepare(db, "DELETE FROM msh_kpi_history WHERE t_ms < ?", &st, err)))
        goto out;
    msh_sql_bind_int(st, 1, before_ms);
    if (msh_sql_step(st) != MSH_SQL_DONE)
        rc = store_err(db, err);
    else
        *deleted = msh_store_changes(db);
out:
    msh_sql_finalize(st);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* environment.heat_index_max of a recorded document; NAN when absent (rows written before it was kept),
 * null or unreadable. Read here rather than in SQL: the engines' JSON functions differ. */
static double doc_heat_index(const char *text, size_t len)
{
    json_t *doc = text ? json_loadb(text, len, 0, NULL) : NULL;
    json_t *v = json_object_get(json_object_get(doc, "environment"), "heat_index_max");
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    json_decref(doc);
    return x;
}

msh_rc msh_kpi_history_replay(msh_kpi_history *h, msh_kpi *k, int64_t from_ms, int64_t to_ms, size_t *rows,
                              msh_err *err)
{
    pthread_mutex_lock(&h->mu);
    msh_store *db = h->store;
    msh_sql *st = NULL;
    msh_rc rc = MSH_OK;
    *rows = 0;
    /* the heat index is read from the record's document (rows written before it was kept give NULL) */
    if ((rc = prepare(db, "SELECT t_ms, zone_id, peak_density, temperature_max, doc FROM msh_kpi_history"
                          " WHERE t_ms BETWEEN ? AND ? ORDER BY t_ms", &st, err)))
        goto out;
    msh_sql_bind_int(st, 1, from_ms);
    msh_sql_bind_int(st, 2, to_ms);
    int s;
    while ((s = msh_sql_step(st)) == MSH_SQL_ROW) {
        const char *zone = msh_sql_text(st, 1, NULL);
        size_t n;
        const char *doc = msh_sql_text(st, 4, &n);
        msh_kpi_observe(k, zone ? zone : "", msh_sql_int(st, 0), msh_sql_num(st, 2), msh_sql_num(st, 3),
                        doc_heat_index(doc, n));
        (*rows)++;
    }
    if (s != MSH_SQL_DONE)
        rc = store_err(db, err);
out:
    msh_sql_finalize(st);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

typedef struct {
    uint64_t gkey, task;
    int64_t last_ms;
    char crew[65];
} swept_row;

typedef struct {
    swept_row *v;
    size_t n, cap;
} swept_rows;

static int take_swept(void *ud, uint64_t gkey, int64_t last_ms, const char *crew, uint64_t task)
{
    swept_rows *r = ud;
    if (msh_grow_from((void **)&r->v, &r->cap, r->n + 1, sizeof *r->v, 1024))
        return 1; /* the rest are offered again next time */
    swept_row *w = &r->v[r->n++];
    w->gkey = gkey;
    w->task = task;
    w->last_ms = last_ms;
    snprintf(w->crew, sizeof w->crew, "%s", crew);
    return 0;
}

msh_rc msh_kpi_history_save_swept(msh_kpi_history *h, msh_kpi *k, size_t *rows, msh_err *err)
{
    swept_rows r = {NULL, 0, 0};
    bool all = false;
    *rows = msh_kpi_swept_changes(k, take_swept, &r, &all); /* copied out: no SQLite under the engine's lock */
    if (!r.n && !all)
        return MSH_OK;
    pthread_mutex_lock(&h->mu);
    msh_store *db = h->store;
    msh_sql *st = NULL;
    msh_rc rc = MSH_OK;
    if ((rc = tx_begin(db, err)))
        goto out;
    /* the pieces were cut again: the rows of pieces gone go (a piece kept is offered again) */
    if (all && msh_store_exec(db, "DELETE FROM msh_cleaning_swept")) {
        rc = store_err(db, err);
        goto out;
    }
    if ((rc = prepare(db, "INSERT INTO msh_cleaning_swept (gkey, last_ms, crew, task) VALUES (?,?,?,?)"
                      " ON CONFLICT (gkey) DO UPDATE SET last_ms = excluded.last_ms, crew = excluded.crew,"
                      " task = excluded.task",
                      &st, err)))
        goto out;
    for (size_t i = 0; i < r.n; i++) {
        msh_sql_reset(st);
        msh_sql_bind_int(st, 1, (int64_t)r.v[i].gkey);
        msh_sql_bind_int(st, 2, r.v[i].last_ms);
        msh_sql_bind_text(st, 3, r.v[i].crew, (int)strlen(r.v[i].crew));
        msh_sql_bind_int(st, 4, (int64_t)r.v[i].task);
        if (msh_sql_step(st) != MSH_SQL_DONE) {
            rc = store_err(db, err);
            goto out;
        }
    }
out:
    msh_sql_finalize(st);
    rc = tx_end(db, rc, err);
    pthread_mutex_unlock(&h->mu);
    free(r.v);
    return rc;
}

msh_rc msh_kpi_history_load_swept(msh_kpi_history *h, msh_kpi *k, size_t *rows, msh_err *err)
{
    pthread_mutex_lock(&h->mu);
    msh_store *db = h->store;
    msh_sql *st = NULL;
    msh_rc rc;
    *rows = 0;
    if ((rc = prepare(db, "SELECT gkey, last_ms, crew, task FROM msh_cleaning_swept", &st, err)))
        goto out;
    int s;
    while ((s = msh_sql_step(st)) == MSH_SQL_ROW) {
        size_t n;
        const char *crew = msh_sql_text(st, 2, &n);
        msh_kpi_restore_swept(k, (uint64_t)msh_sql_int(st, 0), msh_sql_int(st, 1), crew ? crew : "",
                              (uint64_t)msh_sql_int(st, 3));
        (*rows)++;
    }
    if (s != MSH_SQL_DONE)
        rc = store_err(db, err);
out:
    msh_sql_finalize(st);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* "60", "90s", "5m", "2h", "1d", or ISO 8601 "PT5M", "PT1H30M", "P1D" -> milliseconds; false if none. */
static bool parse_step(const char *s, int64_t *ms)
{
    size_t n = strlen(s);
    if (!n || n > 32)
        return false;
    if (s[0] == 'P' || s[0] == 'p') {
        int64_t total = 0;
        bool in_time = false, any = false;
        size_t i = 1;
        while (i < n) {
            if (s[i] == 'T' || s[i] == 't') {
                if (in_time)
                    return false;
                in_time = true;
                i++;
                continue;
            }
            int64_t v = 0;
            size_t d = 0;
            while (i < n && isdigit((unsigned char)s[i]) && d < 9) {
                v = v * 10 + (s[i++] - '0');
                d++;
            }
            if (!d || i >= n)
                return false;
            char u = (char)toupper((unsigned char)s[i++]);
            int64_t mult = !in_time && u == 'D' ? 86400 : in_time && u == 'H' ? 3600 : in_time && u == 'M' ? 60
                         : in_time && u == 'S' ? 1 : 0;
            if (!mult)
                return false;
            total += v * mult;
            any = true;
        }
        if (!any)
            return false;
        *ms = total * 1000;
        return true;
    }
    int64_t v = 0;
    size_t i = 0;
    while (i < n && isdigit((unsigned char)s[i]) && i < 9)
        v = v * 10 + (s[i++] - '0');
    if (!i)
        return false;
    int64_t mult = 1;
    if (i < n) {
        if (i + 1 != n)
            return false;
        mult = s[i] == 's' ? 1 : s[i] == 'm' ? 60 : s[i] == 'h' ? 3600 : s[i] == 'd' ? 86400 : 0;
        if (!mult)
            return false;
    }
    *ms = v * mult * 1000;
    return true;
}

/* One of from=, to= (absent: *ms kept), its refusal naming the parameter, the field and the value. */
static msh_rc hq_time(const char *name, const char *s, int64_t *ms, msh_err *err)
{
    msh_err e;
    if (!s || !msh_time_parse_iso(s, strlen(s), ms, &e))
        return MSH_OK;
    return msh_err_set(err, MSH_EINVAL, "%s: not an ISO 8601 time such as 2026-05-26T08:00:00Z: '%.64s' (%s)", name, s,
                       e.msg);
}

msh_rc msh_kpi_hq_parse(const char *from, const char *to, const char *step, int64_t now_ms, msh_kpi_hq *out,
                        msh_err *err)
{
    msh_kpi_hq q = {now_ms - 24 * 3600000LL, now_ms, 60000};
    msh_rc rc;
    if ((rc = hq_time("to", to, &q.to_ms, err)) || (rc = hq_time("from", from, &q.from_ms, err)))
        return rc;
    if (!from)
        q.from_ms = q.to_ms - 24 * 3600000LL;
    if (step && !parse_step(step, &q.step_ms))
        return msh_err_set(err, MSH_EINVAL,
                           "step: seconds (60), a number with s, m, h or d (5m), or an ISO 8601 duration (PT5M), "
                           "not '%.64s'", step);
    if (q.step_ms < 1000 || q.step_ms > 31LL * 86400000)
        return msh_err_set(err, MSH_EINVAL, "step: from 1 second to 31 days");
    if (q.from_ms > q.to_ms)
        return msh_err_set(err, MSH_EINVAL, "from must not be after to");
    int64_t points = (q.to_ms - q.from_ms) / q.step_ms + 1;
    if (points > MSH_KPI_HISTORY_MAX_POINTS)
        return msh_err_set(err, MSH_EINVAL, "%lld steps from 'from' to 'to': at most %d, take a larger step",
                           (long long)points, MSH_KPI_HISTORY_MAX_POINTS);
    *out = q;
    return MSH_OK;
}

msh_rc msh_kpi_history_query(msh_kpi_history *h, const char *zone, const msh_kpi_hq *q, msh_buf *out, msh_err *err)
{
    char a[MSH_TIME_ISO_CAP], b[MSH_TIME_ISO_CAP];
    msh_time_format_iso(q->from_ms, a, sizeof a, 0);
    msh_time_format_iso(q->to_ms, b, sizeof b, 0);
    msh_buf_printf(out, "{\"zone_id\":");
    if (zone[0]) {
        msh_buf_putc(out, '"');
        msh_buf_json_str(out, zone);
        msh_buf_putc(out, '"');
    } else {
        msh_buf_printf(out, "null");
    }
    msh_buf_printf(out, ",\"from\":\"%s\",\"to\":\"%s\",\"step_s\":%lld,\"points\":[", a, b,
                   (long long)(q->step_ms / 1000));
    pthread_mutex_lock(&h->mu);
    msh_store *db = h->store;
    msh_sql *st = NULL;
    msh_rc rc = MSH_OK;
    if ((rc = prepare(db, "SELECT t_ms, doc FROM msh_kpi_history WHERE zone_id = ? AND t_ms BETWEEN ? AND ?"
                     " ORDER BY t_ms", &st, err)))
        goto out;
    msh_sql_bind_text(st, 1, zone, -1);
    msh_sql_bind_int(st, 2, q->from_ms);
    msh_sql_bind_int(st, 3, q->to_ms);
    int64_t last_bucket = -1;
    size_t n = 0;
    int s;
    while ((s = msh_sql_step(st)) == MSH_SQL_ROW) {
        int64_t t = msh_sql_int(st, 0);
        int64_t bucket = (t - q->from_ms) / q->step_ms;
        if (bucket == last_bucket)
            continue; /* the first record of each step stands for it */
        last_bucket = bucket;
        char ts[MSH_TIME_ISO_CAP];
        msh_time_format_iso(t, ts, sizeof ts, 0);
        msh_buf_printf(out, "%s{\"time\":\"%s\",\"t_ms\":%lld,\"kpi\":", n++ ? "," : "", ts, (long long)t);
        size_t dlen;
        const char *doc = msh_sql_text(st, 1, &dlen);
        msh_buf_append(out, doc, dlen);
        if ((rc = msh_buf_putc(out, '}'))) {
            msh_err_set(err, rc, "kpi history: the answer is too large, take a larger step");
            goto out;
        }
    }
    if (s != MSH_SQL_DONE)
        rc = store_err(db, err);
out:
    msh_sql_finalize(st);
    pthread_mutex_unlock(&h->mu);
    if (!rc)
        rc = msh_buf_printf(out, "]}\n");
    return rc;
}
