/* store_watch.c: triggers that make external edits of a layer visible (store_watch.h). */
#include "store_watch.h"

#include "store_pg.h"
#include "store_sql.h"

#include <sqlite3.h>
#include <stdio.h>

static const char TABLE_SQL[] =
    "CREATE TABLE IF NOT EXISTS msh_external (layer TEXT PRIMARY KEY, version INTEGER NOT NULL, at_ms INTEGER)";

/* The body every trigger shares: a new store version, the layer's registry row, the note. */
#define WATCH_BODY                                                                                                   \
    " WHEN NOT EXISTS (SELECT 1 FROM msh_meta WHERE key = 'msh_quiet') BEGIN"                                         \
    " UPDATE msh_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version';"                                  \
    " UPDATE msh_layers SET version = (SELECT CAST(value AS INTEGER) FROM msh_meta WHERE key = 'version')"           \
    " WHERE name = '%s';"                                                                                             \
    " INSERT OR REPLACE INTO msh_external (layer, version, at_ms) VALUES ('%s', (SELECT CAST(value AS INTEGER)"       \
    " FROM msh_meta WHERE key = 'version'), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); END;"

static msh_rc exec(msh_store *s, const char *sql, msh_err *err)
{
    return msh_store_exec(s, sql) ? msh_err_set(err, MSH_EIO, "watching the store: %s", msh_store_errmsg(s)) : MSH_OK;
}

msh_rc msh_store_watch_layer(msh_store *s, const char *layer, msh_err *err)
{
    if (!msh_layer_name_valid(layer)) /* it goes into SQL text: [a-z][a-z0-9_]* only */
        return msh_err_set(err, MSH_EINVAL, "layer name '%.64s' not allowed", layer);
    if (msh_store_pg(s)) /* the PostgreSQL writer makes its statement trigger with the table (store_pg.c) */
        return MSH_OK;
    msh_rc rc = exec(s, TABLE_SQL, err);
    static const char *const events[3][2] = {{"i", "INSERT"}, {"u", "UPDATE"}, {"d", "DELETE"}};
    for (int i = 0; !rc && i < 3; i++) {
        char sql[2048];
        snprintf(sql, sizeof sql,
                 "CREATE TRIGGER IF NOT EXISTS \"msh_watch_%s_%s\" AFTER %s ON \"%s\" FOR EACH ROW" WATCH_BODY, layer,
                 events[i][0], events[i][1], layer, layer, layer);
        rc = exec(s, sql, err);
    }
    return rc;
}

msh_rc msh_store_watch_all(msh_store *s, msh_err *err)
{
    sqlite3 *db = msh_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    if (msh_store_pg(s)) /* every PostgreSQL layer table gets its trigger when written */
        return MSH_OK;
    msh_rc rc = exec(s, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM msh_layers WHERE kind = 'static' AND name IN (SELECT name FROM"
                           " sqlite_master WHERE type = 'table')",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = msh_err_set(err, MSH_EIO, "watching the store: %s", sqlite3_errmsg(db));
        goto out;
    }
    int step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (msh_layer_name_valid(name)) /* anything else was never written by Mashaer */
            rc = msh_store_watch_layer(s, name, err);
    }
out:
    sqlite3_finalize(st);
    if (!rc)
        rc = exec(s, "COMMIT", err);
    if (rc)
        msh_store_rollback(s);
    return rc;
}

msh_rc msh_store_watch_quiet(msh_store *s, bool on, msh_err *err)
{
    if (msh_store_pg(s)) /* a setting of the transaction: never seen outside it */
        return exec(s, on ? "SET LOCAL msh.quiet = '1'" : "SET LOCAL msh.quiet = ''", err);
    return exec(s, on ? "INSERT OR REPLACE INTO msh_meta (key, value) VALUES ('msh_quiet', '1')"
                   : "DELETE FROM msh_meta WHERE key = 'msh_quiet'",
                err);
}

uint64_t msh_store_watch_version(msh_store *s, const char *layer)
{
    sqlite3 *db = msh_store_sqlite(s);
    sqlite3_stmt *st;
    uint64_t v = 0;
    if (msh_store_pg(s))
        return msh_pg_external_version(msh_store_pg(s), layer);
    /* the table is absent from stores no server has opened for edits: no change recorded */
    if (sqlite3_prepare_v2(db, "SELECT version FROM msh_external WHERE layer = ?", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}
