/* store_sql.c: SQL over the store for the rooms above base (store_sql.h); a thin layer over the
 * store's SQLite connection, or over store_pg.c's surface when the store is PostgreSQL, so that
 * neither SQLite nor libpq leaves the store. A statement remembers which backend made it. */
#include "store_sql.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

struct msh_sql {
    sqlite3_stmt *st; /* SQLite, or */
    msh_pg_sql *pg;   /* PostgreSQL */
};

const char *msh_store_errmsg(msh_store *s)
{
    return msh_store_pg(s) ? msh_pg_errmsg(msh_store_pg(s)) : sqlite3_errmsg(msh_store_sqlite(s));
}

msh_rc msh_store_exec(msh_store *s, const char *sql)
{
    if (msh_store_pg(s))
        return msh_pg_exec(msh_store_pg(s), sql);
    return sqlite3_exec(msh_store_sqlite(s), sql, NULL, NULL, NULL) == SQLITE_OK ? MSH_OK : MSH_EIO;
}

void msh_store_busy_timeout(msh_store *s, int ms)
{
    if (!msh_store_pg(s)) /* PostgreSQL waits for row locks as long as it must */
        sqlite3_busy_timeout(msh_store_sqlite(s), ms);
}

msh_rc msh_store_add_text_field(msh_store *s, const char *layer, const char *field)
{
    /* Both engines speak this SQL: the column, then the field appended to the registry's JSON list
     * by text (fields is a compact JSON array written by the store; '[]' when empty). The names are
     * the server's own constants, checked here all the same. */
    if (strlen(field) > 63)
        return MSH_EINVAL;
    for (const char *p = field; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
            return MSH_EINVAL;
    msh_buf b;
    msh_buf_init(&b, 512);
    msh_buf_printf(&b, "ALTER TABLE ");
    msh_store_quote_ident(&b, layer);
    /* PostgreSQL: two nodes starting together may both find the field missing; the second finds it made
     * (IF NOT EXISTS, which store_pg.c runs under the schema lock) and the list below is not extended twice. */
    msh_buf_printf(&b, " ADD COLUMN %s%s TEXT", msh_store_pg(s) ? "IF NOT EXISTS " : "", field);
    msh_buf_putc(&b, 0);
    msh_rc rc = b.err ? MSH_ENOMEM : msh_store_exec(s, (const char *)b.data);
    msh_buf_free(&b);
    if (rc)
        return rc;
    msh_sql *q = NULL;
    if ((rc = msh_sql_prepare(s,
                              "UPDATE msh_layers SET fields = CASE WHEN rtrim(fields) = '[]' THEN '['"
                              " ELSE substr(rtrim(fields), 1, length(rtrim(fields)) - 1) || ',' END"
                              " || '{\"name\":\"' || ? || '\",\"type\":\"string\"}]' WHERE name = ? AND fields NOT LIKE ?",
                              &q)))
        return rc;
    msh_sql_bind_text(q, 1, field, -1);
    msh_sql_bind_text(q, 2, layer, -1);
    char like[96];
    snprintf(like, sizeof like, "%%\"name\":\"%s\"%%", field);
    msh_sql_bind_text(q, 3, like, -1);
    rc = msh_sql_step(q) == MSH_SQL_DONE ? MSH_OK : MSH_EIO;
    msh_sql_finalize(q);
    return rc;
}

void msh_store_start_lock(msh_store *s, bool on)
{
    /* a key of its own: the DDL inside takes 7254 per transaction, on other connections too */
    if (msh_store_pg(s))
        (void)msh_pg_exec(msh_store_pg(s), on ? "SELECT pg_advisory_lock(7256)" : "SELECT pg_advisory_unlock(7256)");
}

msh_rc msh_store_begin(msh_store *s)
{
    return msh_store_exec(s, msh_store_pg(s) ? "BEGIN" : "BEGIN IMMEDIATE");
}

msh_rc msh_store_commit(msh_store *s)
{
    return msh_store_pg(s) ? msh_pg_commit(msh_store_pg(s)) : msh_store_exec(s, "COMMIT");
}

void msh_store_rollback(msh_store *s)
{
    (void)msh_store_exec(s, "ROLLBACK");
}

size_t msh_store_changes(msh_store *s)
{
    return msh_store_pg(s) ? msh_pg_changes(msh_store_pg(s)) : (size_t)sqlite3_changes(msh_store_sqlite(s));
}

bool msh_store_has_table(msh_store *s, const char *name)
{
    if (msh_store_pg(s))
        return msh_pg_table_exists(msh_store_pg(s), name);
    sqlite3_stmt *st;
    bool found = false;
    if (sqlite3_prepare_v2(msh_store_sqlite(s), "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    return found;
}

const char *msh_store_sql_now(msh_store *s)
{
    return msh_store_pg(s) ? "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                           : "strftime('%Y-%m-%dT%H:%M:%SZ','now')";
}

const char *msh_store_sql_point(msh_store *s)
{
    return msh_store_pg(s) ? "ST_SetSRID(ST_MakePoint(lon, lat), 4326)" : "MakePoint(lon, lat, 4326)";
}

msh_rc msh_store_add_point_column(msh_store *s, const char *table)
{
    msh_buf b;
    msh_buf_init(&b, 512);
    if (msh_store_pg(s)) {
        msh_buf_printf(&b, "ALTER TABLE ");
        msh_store_quote_ident(&b, table);
        msh_buf_printf(&b, " ADD COLUMN IF NOT EXISTS geom geometry(Point, 4326)");
    } else {
        msh_sql *q = NULL;
        int64_t has = 0;
        if (!msh_sql_prepare(s, "SELECT count(*) FROM geometry_columns WHERE f_table_name = ?", &q)) {
            msh_sql_bind_text(q, 1, table, -1);
            if (msh_sql_step(q) == MSH_SQL_ROW)
                has = msh_sql_int(q, 0);
            msh_sql_finalize(q);
        }
        if (has)
            return MSH_OK;
        msh_buf_printf(&b, "SELECT AddGeometryColumn('%s', 'geom', 4326, 'POINT', 'XY')", table); /* our own names */
    }
    msh_buf_putc(&b, 0);
    msh_rc rc = b.err ? MSH_ENOMEM : msh_store_exec(s, (const char *)b.data);
    msh_buf_free(&b);
    return rc;
}

msh_rc msh_sql_prepare(msh_store *s, const char *sql, msh_sql **out)
{
    *out = NULL;
    msh_sql *q = calloc(1, sizeof *q);
    if (!q)
        return MSH_ENOMEM;
    msh_rc rc = MSH_OK;
    if (msh_store_pg(s)) {
        rc = msh_pg_sql_prepare(msh_store_pg(s), sql, &q->pg);
    } else if (sqlite3_prepare_v2(msh_store_sqlite(s), sql, -1, &q->st, NULL) != SQLITE_OK) {
        sqlite3_finalize(q->st);
        rc = MSH_EIO;
    }
    if (rc) {
        free(q);
        return rc;
    }
    *out = q;
    return MSH_OK;
}

void msh_sql_finalize(msh_sql *q)
{
    if (!q)
        return;
    sqlite3_finalize(q->st);
    msh_pg_sql_finalize(q->pg);
    free(q);
}

void msh_sql_reset(msh_sql *q)
{
    if (q->pg)
        msh_pg_sql_reset(q->pg);
    else
        sqlite3_reset(q->st);
}

void msh_sql_bind_int(msh_sql *q, int i, int64_t v)
{
    if (q->pg) {
        char t[32];
        snprintf(t, sizeof t, "%lld", (long long)v);
        msh_pg_sql_bind(q->pg, i, t, -1, false);
    } else {
        sqlite3_bind_int64(q->st, i, v);
    }
}

void msh_sql_bind_num(msh_sql *q, int i, double v)
{
    if (q->pg) {
        char t[32];
        snprintf(t, sizeof t, "%.17g", v);
        msh_pg_sql_bind(q->pg, i, isfinite(v) ? t : NULL, -1, false);
    } else if (isfinite(v)) {
        sqlite3_bind_double(q->st, i, v);
    } else {
        sqlite3_bind_null(q->st, i);
    }
}

void msh_sql_bind_text(msh_sql *q, int i, const char *s, int n)
{
    if (q->pg)
        msh_pg_sql_bind(q->pg, i, s, n, false);
    else if (s)
        sqlite3_bind_text(q->st, i, s, n, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q->st, i);
}

void msh_sql_bind_blob(msh_sql *q, int i, const void *b, size_t n)
{
    if (q->pg)
        msh_pg_sql_bind(q->pg, i, b, b ? (int)n : -1, true); /* blobs here are under 2 GiB (photos: 5 MB) */
    else if (b)
        sqlite3_bind_blob64(q->st, i, b, (sqlite3_uint64)n, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q->st, i);
}

int msh_sql_step(msh_sql *q)
{
    if (q->pg)
        return msh_pg_sql_step(q->pg);
    int rc = sqlite3_step(q->st);
    return rc == SQLITE_ROW ? MSH_SQL_ROW : rc == SQLITE_DONE ? MSH_SQL_DONE : MSH_SQL_ERROR;
}

int64_t msh_sql_int(msh_sql *q, int i)
{
    if (q->pg) {
        const char *t = msh_pg_sql_col(q->pg, i, NULL);
        return t ? strtoll(t, NULL, 10) : 0;
    }
    return sqlite3_column_int64(q->st, i);
}

double msh_sql_num(msh_sql *q, int i)
{
    if (q->pg) {
        const char *t = msh_pg_sql_col(q->pg, i, NULL);
        return t ? strtod(t, NULL) : NAN;
    }
    return sqlite3_column_type(q->st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(q->st, i);
}

const char *msh_sql_text(msh_sql *q, int i, size_t *len)
{
    if (q->pg)
        return msh_pg_sql_col(q->pg, i, len);
    const char *t = (const char *)sqlite3_column_text(q->st, i);
    if (len)
        *len = t ? (size_t)sqlite3_column_bytes(q->st, i) : 0;
    return t;
}

const void *msh_sql_blob(msh_sql *q, int i, size_t *len)
{
    if (q->pg)
        return msh_pg_sql_col(q->pg, i, len);
    const void *p = sqlite3_column_blob(q->st, i);
    *len = p ? (size_t)sqlite3_column_bytes(q->st, i) : 0;
    return p;
}

msh_rc msh_store_open_own(const char *path, const char *what, const char *schema, int busy_ms, msh_store **out,
                          msh_err *err)
{
    msh_rc rc = msh_store_open(path, false, out, err);
    if (rc)
        return rc;
    if (busy_ms > 0)
        msh_store_busy_timeout(*out, busy_ms);
    if (schema && msh_store_exec(*out, schema)) {
        rc = msh_err_set(err, MSH_EIO, "%s: %s", what, msh_store_errmsg(*out));
        msh_store_close(*out);
        *out = NULL;
    }
    return rc;
}

bool msh_sql_one_int(msh_store *s, const char *sql, const int64_t *arg, int64_t *out)
{
    msh_sql *q = NULL;
    if (msh_sql_prepare(s, sql, &q))
        return false;
    if (arg)
        msh_sql_bind_int(q, 1, *arg);
    bool row = msh_sql_step(q) == MSH_SQL_ROW;
    if (row)
        *out = msh_sql_int(q, 0);
    msh_sql_finalize(q);
    return row;
}
