/* store_sql.c: SQL over the store for the rooms above base (store_sql.h); a thin layer over the
 * store's SQLite connection, so that SQLite stays inside the store. */
#include "store_sql.h"

#include <math.h>
#include <sqlite3.h>

static sqlite3_stmt *stmt(msh_sql *q)
{
    return (sqlite3_stmt *)q;
}

const char *msh_store_errmsg(msh_store *s)
{
    return sqlite3_errmsg(msh_store_sqlite(s));
}

msh_rc msh_store_exec(msh_store *s, const char *sql)
{
    return sqlite3_exec(msh_store_sqlite(s), sql, NULL, NULL, NULL) == SQLITE_OK ? MSH_OK : MSH_EIO;
}

void msh_store_busy_timeout(msh_store *s, int ms)
{
    sqlite3_busy_timeout(msh_store_sqlite(s), ms);
}

msh_rc msh_store_begin(msh_store *s)
{
    return msh_store_exec(s, "BEGIN IMMEDIATE");
}

msh_rc msh_store_commit(msh_store *s)
{
    return msh_store_exec(s, "COMMIT");
}

void msh_store_rollback(msh_store *s)
{
    (void)msh_store_exec(s, "ROLLBACK");
}

size_t msh_store_changes(msh_store *s)
{
    return (size_t)sqlite3_changes(msh_store_sqlite(s));
}

msh_rc msh_sql_prepare(msh_store *s, const char *sql, msh_sql **out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(msh_store_sqlite(s), sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        *out = NULL;
        return MSH_EIO;
    }
    *out = (msh_sql *)st;
    return MSH_OK;
}

void msh_sql_finalize(msh_sql *q)
{
    sqlite3_finalize(stmt(q));
}

void msh_sql_reset(msh_sql *q)
{
    sqlite3_reset(stmt(q));
}

void msh_sql_bind_int(msh_sql *q, int i, int64_t v)
{
    sqlite3_bind_int64(stmt(q), i, v);
}

void msh_sql_bind_num(msh_sql *q, int i, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(stmt(q), i, v);
    else
        sqlite3_bind_null(stmt(q), i);
}

void msh_sql_bind_text(msh_sql *q, int i, const char *s, int n)
{
    if (s)
        sqlite3_bind_text(stmt(q), i, s, n, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(stmt(q), i);
}

void msh_sql_bind_blob(msh_sql *q, int i, const void *b, size_t n)
{
    if (b)
        sqlite3_bind_blob64(stmt(q), i, b, (sqlite3_uint64)n, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(stmt(q), i);
}

int msh_sql_step(msh_sql *q)
{
    int rc = sqlite3_step(stmt(q));
    return rc == SQLITE_ROW ? MSH_SQL_ROW : rc == SQLITE_DONE ? MSH_SQL_DONE : MSH_SQL_ERROR;
}

int64_t msh_sql_int(msh_sql *q, int i)
{
    return sqlite3_column_int64(stmt(q), i);
}

double msh_sql_num(msh_sql *q, int i)
{
    return sqlite3_column_type(stmt(q), i) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt(q), i);
}

const char *msh_sql_text(msh_sql *q, int i, size_t *len)
{
    const char *t = (const char *)sqlite3_column_text(stmt(q), i);
    if (len)
        *len = t ? (size_t)sqlite3_column_bytes(stmt(q), i) : 0;
    return t;
}

const void *msh_sql_blob(msh_sql *q, int i, size_t *len)
{
    const void *b = sqlite3_column_blob(stmt(q), i);
    *len = b ? (size_t)sqlite3_column_bytes(stmt(q), i) : 0;
    return b;
}
