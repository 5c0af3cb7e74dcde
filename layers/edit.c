/* edit.c: one audited write to a static layer in one transaction (edit.h).
 *
 * The rules live here; each step that touches the database (choose an id, read a feature, write
 * the row, bump the versions, write the audit row) is SQLite's below or, on a PostgreSQL store,
 * store_pg_edit.c's. The readers of the audit (history, as of, regions) use store_sql.h, whose
 * SQL both engines speak. */
#include "edit.h"

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_time.h"
#include "store_pg_edit.h"
#include "store_sql.h"
#include "store_watch.h"

static const char AUDIT_SQL[] =
    "CREATE TABLE IF NOT EXISTS msh_audit ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, collection TEXT NOT NULL, fid INTEGER, op TEXT NOT NULL,"
    " at TEXT NOT NULL, at_ms INTEGER NOT NULL, who TEXT NOT NULL, role TEXT NOT NULL, version INTEGER,"
    " before TEXT, after TEXT, minx REAL, miny REAL, maxx REAL, maxy REAL);"
    "CREATE INDEX IF NOT EXISTS msh_audit_item ON msh_audit (collection, fid, seq);";

const char *msh_edit_kind_name(msh_edit_kind k)
{
    switch (k) {
    case MSH_EDIT_CREATE: return "create";
    case MSH_EDIT_REPLACE: return "replace";
    case MSH_EDIT_UPDATE: return "update";
    default: return "delete";
    }
}

static msh_rc db_err(sqlite3 *db, msh_err *err, const char *what)
{
    return msh_err_set(err, MSH_EIO, "%s: %s", what, sqlite3_errmsg(db));
}

static msh_rc exec(sqlite3 *db, const char *sql, msh_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        msh_rc rc = msh_err_set(err, MSH_EIO, "database: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return rc;
    }
    return MSH_OK;
}

/* Prepared statements kept across edits on the edit connection, by SQL text (edit.h). */
#define STMTS_MAX 48
struct msh_edit_stmts {
    size_t n;
    struct {
        char *sql;
        sqlite3_stmt *st;
    } e[STMTS_MAX];
};

msh_edit_stmts *msh_edit_stmts_new(void)
{
    return calloc(1, sizeof(msh_edit_stmts));
}

static void stmts_clear(msh_edit_stmts *c)
{
    for (size_t i = 0; i < c->n; i++) {
        sqlite3_finalize(c->e[i].st);
        free(c->e[i].sql);
    }
    c->n = 0;
}

void msh_edit_stmts_free(msh_edit_stmts *c)
{
    if (c)
        stmts_clear(c);
    free(c);
}

/* The statement for `sql`: cached in c (when not NULL), else prepared; give it back with stmt_done. */
static int stmt_get(sqlite3 *db, msh_edit_stmts *c, const char *sql, sqlite3_stmt **st)
{
    for (size_t i = 0; c && i < c->n; i++)
        if (!strcmp(c->e[i].sql, sql)) {
            *st = c->e[i].st;
            return SQLITE_OK;
        }
    int rc = sqlite3_prepare_v3(db, sql, -1, c ? SQLITE_PREPARE_PERSISTENT : 0, st, NULL);
    if (rc != SQLITE_OK || !c)
        return rc;
    if (c->n == STMTS_MAX) /* a new layer or shape past the cap: start again (none is in use here) */
        stmts_clear(c);
    if ((c->e[c->n].sql = strdup(sql)))
        c->e[c->n++].st = *st;
    return rc;
}

static void stmt_done(msh_edit_stmts *c, sqlite3_stmt *st)
{
    for (size_t i = 0; c && i < c->n; i++)
        if (c->e[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return;
        }
    sqlite3_finalize(st);
}

/* One statement without results, through the cache. */
static msh_rc run(sqlite3 *db, msh_edit_stmts *c, const char *sql, msh_err *err)
{
    sqlite3_stmt *st;
    if (stmt_get(db, c, sql, &st) != SQLITE_OK)
        return db_err(db, err, "database");
    int step = sqlite3_step(st);
    msh_rc rc = step == SQLITE_DONE || step == SQLITE_ROW ? MSH_OK : db_err(db, err, "database");
    stmt_done(c, st);
    return rc;
}

msh_rc msh_edit_prepare(msh_store *s, msh_err *err)
{
    if (msh_store_pg(s))
        return msh_pg_edit_prepare(msh_store_pg(s), err);
    /* every commit on this connection reaches the disk before it returns (WAL: the log is synced);
     * a page cache of 32 MiB keeps the audit's and the layers' hot pages (the default 2 MiB does not) */
    msh_rc rc = exec(msh_store_sqlite(s), "PRAGMA synchronous=FULL; PRAGMA cache_size=-32768", err);
    return rc ? rc : exec(msh_store_sqlite(s), AUDIT_SQL, err);
}

/* Prepare `head` + the layer's field columns + `tail` (table name quoted where `head` ends). */
static msh_rc prepare_cols(sqlite3 *db, msh_edit_stmts *c, const msh_layer_info *li, const char *head, const char *each,
                           const char *mid, bool quote_table, const char *tail, sqlite3_stmt **st, msh_err *err)
{
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 20);
    msh_buf_printf(&b, "%s", head);
    for (uint32_t i = 0; i < li->nfields; i++) {
        msh_buf_printf(&b, ", ");
        msh_store_quote_ident(&b, li->fields[i].name);
        msh_buf_printf(&b, "%s", each);
    }
    msh_buf_printf(&b, "%s", mid);
    if (quote_table)
        msh_store_quote_ident(&b, li->name);
    msh_buf_printf(&b, "%s", tail);
    msh_rc rc = msh_buf_putc(&b, 0);
    if (!rc && stmt_get(db, c, (const char *)b.data, st) != SQLITE_OK)
        rc = db_err(db, err, "preparing an edit");
    else if (rc)
        rc = msh_err_set(err, rc, "layer %s: too many fields", li->name);
    msh_buf_free(&b);
    return rc;
}

/* The feature read: GeoJSON text (malloc'd in json) and bounds, from either backend. */
typedef struct {
    const msh_layer_info *li;
    int64_t fid;
    char **json;
    double *bb;
    msh_err *err;
} feature_out;

/* The feature's GeoJSON text from its geometry (as the database writes it, 9 decimals, as GET
 * serves) and its values (exact). */
static msh_rc feature_json(void *ud, const char *g, const double bb[4], const msh_value *vals)
{
    feature_out *o = ud;
    const msh_layer_info *li = o->li;
    memcpy(o->bb, bb, 4 * sizeof *bb);
    json_t *props = json_object();
    for (uint32_t i = 0; props && i < li->nfields; i++) {
        const msh_value *x = &vals[i];
        json_t *v;
        if (x->type == 0) /* NULL */
            v = json_null();
        else if (li->fields[i].type == MSH_FT_INT)
            v = json_integer(x->u.i);
        else if (li->fields[i].type == MSH_FT_BOOL)
            v = json_boolean(x->u.i);
        else if (li->fields[i].type == MSH_FT_REAL)
            v = json_real(x->u.d);
        else
            v = json_stringn(x->u.s, x->len);
        json_object_set_new(props, li->fields[i].name, v ? v : json_null());
    }
    char *ptext = props ? json_dumps(props, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(props);
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 30);
    msh_buf_printf(&b, "{\"type\":\"Feature\",\"id\":%lld,\"geometry\":%s,\"properties\":%s}", (long long)o->fid,
                   g ? g : "null", ptext ? ptext : "{}");
    free(ptext);
    msh_rc rc = MSH_OK;
    if (!ptext || msh_buf_putc(&b, 0))
        rc = msh_err_set(o->err, MSH_ENOMEM, "out of memory");
    else
        *o->json = (char *)msh_buf_steal(&b, NULL);
    msh_buf_free(&b);
    return rc;
}

/* The feature `fid` as GeoJSON text (malloc'd) and its bounds; *json NULL when there is none. */
static msh_rc read_feature(msh_store *s, msh_edit_stmts *c, const msh_layer_info *li, int64_t fid, char **json,
                           double bb[4], msh_err *err)
{
    *json = NULL;
    feature_out o = {li, fid, json, bb, err};
    if (msh_store_pg(s))
        return msh_pg_edit_read(msh_store_pg(s), li, fid, feature_json, &o, err);
    sqlite3 *db = msh_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    msh_rc rc = prepare_cols(db, c, li, "SELECT AsGeoJSON(geom, 9), MbrMinX(geom), MbrMinY(geom), MbrMaxX(geom), MbrMaxY(geom)",
                             "", " FROM ", true, " WHERE fid = ?", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, fid);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        msh_value small[32], *vals = li->nfields <= 32 ? small : calloc(li->nfields, sizeof *vals);
        double box[4];
        for (int i = 0; i < 4; i++)
            box[i] = sqlite3_column_double(st, 1 + i);
        for (uint32_t i = 0; vals && i < li->nfields; i++) {
            int col = 5 + (int)i;
            msh_value *v = &vals[i];
            memset(v, 0, sizeof *v);
            if (sqlite3_column_type(st, col) == SQLITE_NULL)
                continue;
            v->type = (uint8_t)li->fields[i].type;
            if (v->type == MSH_FT_REAL)
                v->u.d = sqlite3_column_double(st, col);
            else if (v->type == MSH_FT_INT || v->type == MSH_FT_BOOL)
                v->u.i = sqlite3_column_int64(st, col);
            else {
                v->type = MSH_FT_STRING;
                v->u.s = (const char *)sqlite3_column_text(st, col);
                v->len = (uint32_t)sqlite3_column_bytes(st, col);
            }
        }
        rc = vals ? feature_json(&o, (const char *)sqlite3_column_text(st, 0), box, vals)
                  : msh_err_set(err, MSH_ENOMEM, "out of memory");
        if (vals != small)
            free(vals);
    } else if (step != SQLITE_DONE) {
        rc = db_err(db, err, "reading the feature");
    }
    stmt_done(c, st);
    return rc;
}

static void bind_values(sqlite3_stmt *st, int first, const msh_layer_info *li, const msh_value *vals)
{
    for (uint32_t i = 0; i < li->nfields; i++) {
        const msh_value *v = &vals[i];
        int col = first + (int)i;
        switch (v->type) {
        case MSH_FT_INT: case MSH_FT_BOOL: sqlite3_bind_int64(st, col, v->u.i); break;
        case MSH_FT_REAL: sqlite3_bind_double(st, col, v->u.d); break;
        case MSH_FT_STRING: sqlite3_bind_text(st, col, v->u.s, (int)v->len, SQLITE_STATIC); break;
        default: sqlite3_bind_null(st, col); break;
        }
    }
}

/* One row of `head` + the layer's quoted table name + `tail`, with ?1 the layer's name and ?2 `fid`:
 * its first column as an integer. */
static msh_rc layer_int(sqlite3 *db, msh_edit_stmts *c, const msh_layer_info *li, const char *head, const char *tail,
                        int64_t fid, int64_t *out, msh_err *err)
{
    sqlite3_stmt *st = NULL;
    msh_buf b;
    msh_buf_init(&b, 4096);
    msh_buf_printf(&b, "%s", head);
    msh_store_quote_ident(&b, li->name);
    msh_buf_printf(&b, "%s", tail);
    msh_rc rc = msh_buf_putc(&b, 0);
    if (!rc && stmt_get(db, c, (const char *)b.data, &st) != SQLITE_OK)
        rc = db_err(db, err, "choosing an id");
    if (!rc) {
        sqlite3_bind_text(st, 1, li->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, fid);
        if (sqlite3_step(st) == SQLITE_ROW)
            *out = sqlite3_column_int64(st, 0);
        else
            rc = db_err(db, err, "choosing an id");
    }
    stmt_done(c, st);
    msh_buf_free(&b);
    return rc;
}

/* The next id: one more than any the layer or its audit ever had. */
static msh_rc next_fid(msh_store *s, msh_edit_stmts *c, const msh_layer_info *li, int64_t *fid, msh_err *err)
{
    if (msh_store_pg(s))
        return msh_pg_edit_next_fid(msh_store_pg(s), li, fid, err);
    return layer_int(msh_store_sqlite(s), c, li, "SELECT max(coalesce((SELECT max(fid) FROM ",
                     "), 0), coalesce((SELECT max(fid) FROM msh_audit WHERE collection = ?1), 0)) + 1", 0, fid, err);
}

/* A create that names its id: one the layer never had (nor its audit), so ids are never reused. */
static msh_rc fid_free(msh_store *s, msh_edit_stmts *c, const msh_layer_info *li, int64_t fid, bool *taken,
                       msh_err *err)
{
    int64_t n = 0;
    msh_rc rc = msh_store_pg(s) ? msh_pg_edit_fid_taken(msh_store_pg(s), li, fid, taken, err)
                                : layer_int(msh_store_sqlite(s), c, li, "SELECT EXISTS (SELECT 1 FROM ",
                                            " WHERE fid = ?2) OR EXISTS (SELECT 1 FROM msh_audit WHERE collection = ?1"
                                            " AND fid = ?2)",
                                            fid, &n, err);
    if (!msh_store_pg(s))
        *taken = n != 0;
    if (!rc && *taken)
        rc = msh_err_set(err, MSH_EINVAL, "id %lld is taken in '%s' (or was, by a feature since deleted)",
                         (long long)fid, li->name);
    return rc;
}

/* The row itself: insert, update or delete. */
static msh_rc write_row(msh_store *s, msh_edit_stmts *c, const msh_edit_op *op, int64_t fid, msh_err *err)
{
    if (msh_store_pg(s))
        return msh_pg_edit_write(msh_store_pg(s), op->kind, op->li, fid, op->wkb, op->wkb_len, op->values, err);
    sqlite3 *db = msh_store_sqlite(s);
    const msh_layer_info *li = op->li;
    sqlite3_stmt *st = NULL;
    msh_rc rc;
    int first = 1;
    if (op->kind == MSH_EDIT_CREATE) {
        msh_buf tail;
        msh_buf_init(&tail, (size_t)1 << 20);
        msh_buf_printf(&tail, ") VALUES (?, GeomFromWKB(?, 4326)");
        for (uint32_t i = 0; i < li->nfields; i++)
            msh_buf_printf(&tail, ", ?");
        msh_buf_printf(&tail, ")");
        msh_buf_putc(&tail, 0);
        msh_buf head;
        msh_buf_init(&head, 4096);
        msh_buf_printf(&head, "INSERT INTO ");
        msh_store_quote_ident(&head, li->name);
        msh_buf_printf(&head, " (fid, geom");
        msh_buf_putc(&head, 0);
        rc = msh_buf_error(&tail) || msh_buf_error(&head)
                 ? msh_err_set(err, MSH_ENOMEM, "out of memory")
                 : prepare_cols(db, c, li, (const char *)head.data, "", (const char *)tail.data, false, "", &st, err);
        msh_buf_free(&tail);
        msh_buf_free(&head);
        if (rc)
            return rc;
        sqlite3_bind_int64(st, 1, fid);
        sqlite3_bind_blob(st, 2, op->wkb, (int)op->wkb_len, SQLITE_STATIC);
        first = 3;
    } else if (op->kind == MSH_EDIT_DELETE) {
        msh_buf q;
        msh_buf_init(&q, 4096);
        msh_buf_printf(&q, "DELETE FROM ");
        msh_store_quote_ident(&q, li->name);
        msh_buf_printf(&q, " WHERE fid = ?");
        rc = msh_buf_putc(&q, 0);
        if (!rc && stmt_get(db, c, (const char *)q.data, &st) != SQLITE_OK)
            rc = db_err(db, err, "preparing the delete");
        msh_buf_free(&q);
        if (rc)
            return rc;
        sqlite3_bind_int64(st, 1, fid);
    } else {
        msh_buf head;
        msh_buf_init(&head, 4096);
        msh_buf_printf(&head, "UPDATE ");
        msh_store_quote_ident(&head, li->name);
        msh_buf_printf(&head, " SET fid = fid");
        msh_buf_putc(&head, 0);
        rc = msh_buf_error(&head) ? msh_err_set(err, MSH_ENOMEM, "out of memory")
                                  : prepare_cols(db, c, li, (const char *)head.data, " = ?",
                                                 op->wkb ? ", geom = GeomFromWKB(?, 4326) WHERE fid = ?"
                                                         : ", geom = geom WHERE fid = ?",
                                                 false, "", &st, err);
        msh_buf_free(&head);
        if (rc)
            return rc;
        int n = (int)li->nfields;
        if (op->wkb) {
            sqlite3_bind_blob(st, n + 1, op->wkb, (int)op->wkb_len, SQLITE_STATIC);
            sqlite3_bind_int64(st, n + 2, fid);
        } else {
            sqlite3_bind_int64(st, n + 1, fid);
        }
    }
    if (op->kind != MSH_EDIT_DELETE)
        bind_values(st, first, li, op->values);
    rc = sqlite3_step(st) == SQLITE_DONE ? MSH_OK : db_err(db, err, "writing the feature");
    stmt_done(c, st);
    return rc;
}

/* The store's counter and the layer's registry row: new version, count, bounds grown to `bb`. */
static msh_rc bump_layer(msh_store *s, msh_edit_stmts *c, const msh_edit_op *op, const msh_edit_result *res,
                         uint64_t *version, msh_err *err)
{
    int dcount = op->kind == MSH_EDIT_CREATE ? 1 : op->kind == MSH_EDIT_DELETE ? -1 : 0;
    if (msh_store_pg(s))
        return msh_pg_edit_bump(msh_store_pg(s), op->li->name, dcount, res->has_after ? res->after : NULL, version, err);
    sqlite3 *db = msh_store_sqlite(s);
    msh_rc rc = run(db, c, "UPDATE msh_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'", err);
    if (rc)
        return rc;
    sqlite3_stmt *st;
    if (stmt_get(db, c,
                           "UPDATE msh_layers SET version = (SELECT CAST(value AS INTEGER) FROM msh_meta WHERE key ="
                           " 'version'), feature_count = max(0, feature_count + ?2),"
                           " minx = CASE WHEN ?3 THEN min(coalesce(minx, ?4), ?4) ELSE minx END,"
                           " miny = CASE WHEN ?3 THEN min(coalesce(miny, ?5), ?5) ELSE miny END,"
                           " maxx = CASE WHEN ?3 THEN max(coalesce(maxx, ?6), ?6) ELSE maxx END,"
                           " maxy = CASE WHEN ?3 THEN max(coalesce(maxy, ?7), ?7) ELSE maxy END"
                           " WHERE name = ?1 RETURNING version",
                           &st) != SQLITE_OK)
        return db_err(db, err, "updating the registry");
    sqlite3_bind_text(st, 1, op->li->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, dcount);
    sqlite3_bind_int(st, 3, res->has_after);
    for (int i = 0; i < 4; i++)
        sqlite3_bind_double(st, 4 + i, res->has_after ? res->after[i] : 0);
    if (sqlite3_step(st) == SQLITE_ROW)
        *version = (uint64_t)sqlite3_column_int64(st, 0);
    else
        rc = msh_err_set(err, MSH_ENOTFOUND, "no layer '%s' in the registry", op->li->name);
    stmt_done(c, st);
    return rc;
}

/* One audit row (a->at is filled here from a->at_ms). */
static msh_rc audit(msh_store *s, msh_edit_stmts *c, msh_edit_audit_row *a, int64_t *seq, msh_err *err)
{
    char at[MSH_TIME_ISO_CAP];
    msh_time_format_iso(a->at_ms, at, sizeof at, 3);
    a->at = at;
    if (msh_store_pg(s))
        return msh_pg_edit_audit(msh_store_pg(s), a, seq, err);
    sqlite3 *db = msh_store_sqlite(s);
    const int64_t *fid = a->fid;
    uint64_t version = a->version;
    const double *bbox = a->bbox;
    sqlite3_stmt *st;
    if (stmt_get(db, c,
                           "INSERT INTO msh_audit (collection, fid, op, at, at_ms, who, role, version, before, after,"
                           " minx, miny, maxx, maxy) VALUES (?, ?, ?, ?, ?, ?, ?, coalesce(?, (SELECT CAST(value AS"
                           " INTEGER) FROM msh_meta WHERE key = 'version')), ?, ?, ?, ?, ?, ?)",
                           &st) != SQLITE_OK)
        return db_err(db, err, "writing the audit");
    sqlite3_bind_text(st, 1, a->layer, -1, SQLITE_STATIC);
    if (fid)
        sqlite3_bind_int64(st, 2, *fid);
    sqlite3_bind_text(st, 3, a->op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, a->at_ms);
    sqlite3_bind_text(st, 6, a->who ? a->who : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, a->role ? a->role : "", -1, SQLITE_STATIC);
    if (version)
        sqlite3_bind_int64(st, 8, (sqlite3_int64)version); /* else (an import) the store's current version */
    for (int i = 0; bbox && i < 4; i++)
        sqlite3_bind_double(st, 11 + i, bbox[i]);
    if (a->before)
        sqlite3_bind_text(st, 9, a->before, -1, SQLITE_STATIC);
    if (a->after)
        sqlite3_bind_text(st, 10, a->after, -1, SQLITE_STATIC);
    msh_rc rc = sqlite3_step(st) == SQLITE_DONE ? MSH_OK : db_err(db, err, "writing the audit");
    if (seq)
        *seq = sqlite3_last_insert_rowid(db);
    stmt_done(c, st);
    return rc;
}

msh_rc msh_edit_note_import(msh_store *s, const char *layer, const char *source, msh_err *err)
{
    if (!msh_store_has_table(s, "msh_audit"))
        return MSH_OK;
    msh_edit_audit_row a = {layer, NULL, "import", NULL, msh_now_ms(), source, "import", 0, NULL, NULL, NULL};
    return audit(s, NULL, &a, NULL, err);
}

/* Roll back the edit transaction, ignoring errors. */
static void rollback(msh_store *s)
{
    if (msh_store_pg(s))
        msh_store_rollback(s);
    else
        exec(msh_store_sqlite(s), "ROLLBACK", NULL);
}

/* A savepoint statement of the edit transaction, through the statement cache on SQLite. */
static msh_rc savepoint(msh_store *s, msh_edit_stmts *c, const char *sql, msh_err *err)
{
    if (msh_store_pg(s))
        return msh_store_exec(s, sql) ? msh_err_set(err, MSH_EIO, "database: %s", msh_store_errmsg(s)) : MSH_OK;
    return run(msh_store_sqlite(s), c, sql, err);
}

msh_rc msh_edit_begin(msh_store *s, msh_err *err)
{
    if (msh_store_pg(s)) /* the writers' lock and the quiet triggers, PostgreSQL's way */
        return msh_pg_edit_begin(msh_store_pg(s), err);
    msh_rc rc = exec(msh_store_sqlite(s), "BEGIN IMMEDIATE", err);
    /* these writes bump the versions themselves: the external-edit triggers stay quiet (store_watch.h) */
    if (!rc && (rc = msh_store_watch_quiet(s, true, err)))
        exec(msh_store_sqlite(s), "ROLLBACK", NULL);
    return rc;
}

msh_rc msh_edit_commit(msh_store *s, msh_err *err)
{
    if (msh_store_pg(s))
        return msh_pg_edit_commit(msh_store_pg(s), err);
    msh_rc rc = msh_store_watch_quiet(s, false, err);
    if (!rc)
        rc = exec(msh_store_sqlite(s), "COMMIT", err);
    if (rc)
        exec(msh_store_sqlite(s), "ROLLBACK", NULL);
    return rc;
}

/* One write inside the caller's transaction and savepoint: row, versions, audit. */
static msh_rc apply_one(msh_store *db, const msh_edit_op *op, msh_edit_result *res, msh_err *err)
{
    memset(res, 0, sizeof *res);
    char *before = NULL, *after = NULL;
    msh_edit_stmts *c = op->stmts;
    msh_rc rc = MSH_OK;
    int64_t fid = op->fid;
    if (op->kind == MSH_EDIT_CREATE) {
        rc = fid > 0 ? fid_free(db, c, op->li, fid, &res->duplicate, err) : next_fid(db, c, op->li, &fid, err);
    } else {
        rc = read_feature(db, c, op->li, fid, &before, res->before, err);
        if (!rc && !before)
            rc = msh_err_set(err, MSH_ENOTFOUND, "no feature %lld in collection '%s'", (long long)fid, op->li->name);
        res->has_before = before != NULL;
    }
    if (!rc)
        rc = write_row(db, c, op, fid, err);
    if (!rc && op->kind != MSH_EDIT_DELETE) {
        rc = read_feature(db, c, op->li, fid, &after, res->after, err);
        res->has_after = after != NULL;
    }
    if (!rc)
        rc = bump_layer(db, c, op, res, &res->version, err);
    double *bb = res->touched; /* what the edit touched: before and after */
    bb[0] = bb[1] = INFINITY;
    bb[2] = bb[3] = -INFINITY;
    for (int k = 0; k < 2; k++) {
        const double *e = k ? res->after : res->before;
        if (!(k ? res->has_after : res->has_before))
            continue;
        bb[0] = fmin(bb[0], e[0]);
        bb[1] = fmin(bb[1], e[1]);
        bb[2] = fmax(bb[2], e[2]);
        bb[3] = fmax(bb[3], e[3]);
    }
    if (!rc) {
        msh_edit_audit_row a = {op->li->name, &fid, msh_edit_kind_name(op->kind), NULL, op->at_ms, op->who, op->role,
                                res->version, before, after, bb};
        rc = audit(db, c, &a, &res->seq, err);
    }
    res->fid = fid;
    free(before);
    free(after);
    return rc;
}

msh_rc msh_edit_apply_in_n(msh_store *s, const msh_edit_op *ops, size_t n, msh_edit_result *res, msh_err *err)
{
    msh_edit_stmts *c = ops[0].stmts;
    msh_rc rc = savepoint(s, c, "SAVEPOINT msh_edit", err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && !rc; i++)
        rc = apply_one(s, &ops[i], &res[i], err);
    msh_err ignored;
    if (rc) /* these edits only: the others of the transaction stay */
        savepoint(s, c, "ROLLBACK TO msh_edit", &ignored);
    msh_rc rel = savepoint(s, c, "RELEASE msh_edit", rc ? &ignored : err);
    return rc ? rc : rel;
}

msh_rc msh_edit_apply_in(msh_store *s, const msh_edit_op *op, msh_edit_result *res, msh_err *err)
{
    return msh_edit_apply_in_n(s, op, 1, res, err);
}

msh_rc msh_edit_apply_n(msh_store *s, const msh_edit_op *ops, size_t n, msh_edit_result *res, msh_err *err)
{
    msh_rc rc = msh_edit_begin(s, err);
    if (!rc && (rc = msh_edit_apply_in_n(s, ops, n, res, err)))
        rollback(s);
    return rc ? rc : msh_edit_commit(s, err);
}

msh_rc msh_edit_apply(msh_store *s, const msh_edit_op *op, msh_edit_result *res, msh_err *err)
{
    return msh_edit_apply_n(s, op, 1, res, err);
}

/* Prepare a reader of the audit; its failure in the words of `what`. */
static msh_rc prep(msh_store *s, const char *sql, msh_sql **st, const char *what, msh_err *err)
{
    return msh_sql_prepare(s, sql, st) ? msh_err_set(err, MSH_EIO, "%s: %s", what, msh_store_errmsg(s)) : MSH_OK;
}

/* The latest import of `layer`: its audit seq (0 when none) and time. */
static msh_rc last_import(msh_store *s, const char *layer, int64_t *seq, char *at, size_t cap, char *who, size_t wcap,
                          msh_err *err)
{
    *seq = 0;
    at[0] = who[0] = 0;
    msh_sql *st;
    msh_rc rc = prep(s,
                     "SELECT coalesce((SELECT max(seq) FROM msh_audit WHERE collection = ?1 AND op = 'import'), 0),"
                     " coalesce((SELECT at FROM msh_audit WHERE collection = ?1 AND op = 'import' ORDER BY seq DESC"
                     " LIMIT 1), (SELECT updated_at FROM msh_layers WHERE name = ?1), ''),"
                     " coalesce((SELECT who FROM msh_audit WHERE collection = ?1 AND op = 'import' ORDER BY seq DESC"
                     " LIMIT 1), (SELECT source FROM msh_layers WHERE name = ?1), '')",
                     &st, "reading the history", err);
    if (rc)
        return rc;
    msh_sql_bind_text(st, 1, layer, -1);
    if (msh_sql_step(st) == MSH_SQL_ROW) {
        *seq = msh_sql_int(st, 0);
        snprintf(at, cap, "%s", msh_sql_text(st, 1, NULL));
        snprintf(who, wcap, "%s", msh_sql_text(st, 2, NULL));
    } else {
        rc = msh_err_set(err, MSH_EIO, "reading the history: %s", msh_store_errmsg(s));
    }
    msh_sql_finalize(st);
    return rc;
}

msh_rc msh_edit_import_of(msh_store *s, const char *layer, int64_t *seq, int64_t *at_ms, msh_err *err)
{
    char at[64], who[512];
    *at_ms = 0;
    msh_rc rc = last_import(s, layer, seq, at, sizeof at, who, sizeof who, err);
    msh_err terr;
    if (!rc && at[0] && msh_time_parse(at, strlen(at), 0, at_ms, &terr))
        *at_ms = 0;
    return rc;
}

/* One item's audit rows since its layer's latest import, as item_rows prepares them. */
typedef struct {
    msh_sql *st;
    int64_t since;          /* the import's audit seq (0: none) */
    char at[64], who[512];  /* its time and source ("" when unknown) */
} item_cursor;

/* Prepare `sql` over one item's audit rows since its layer's latest import: ?1 collection, ?2 fid,
 * ?3 the import's seq (the caller binds the rest and finalizes c->st); that import fills c. */
static msh_rc item_rows(msh_store *s, const char *sql, const char *layer, int64_t fid, item_cursor *c, msh_err *err)
{
    c->st = NULL;
    msh_rc rc = last_import(s, layer, &c->since, c->at, sizeof c->at, c->who, sizeof c->who, err);
    if (rc)
        return rc;
    if ((rc = prep(s, sql, &c->st, "reading the history", err)))
        return rc;
    msh_sql_bind_text(c->st, 1, layer, -1);
    msh_sql_bind_int(c->st, 2, fid);
    msh_sql_bind_int(c->st, 3, c->since);
    return MSH_OK;
}

msh_rc msh_edit_history(msh_store *s, const char *layer, int64_t fid, int64_t after, int limit, const char *current,
                        int (*fn)(void *ud, const msh_edit_version *v), void *ud, bool *more, msh_err *err)
{
    *more = false;
    item_cursor c;
    msh_rc rc = item_rows(s,
                          "SELECT seq, op, at, who, role, before, after FROM msh_audit WHERE collection = ?1 AND"
                          " fid = ?2 AND seq > ?3 AND seq > ?4 ORDER BY seq LIMIT ?5",
                          layer, fid, &c, err);
    if (rc)
        return rc;
    msh_sql *st = c.st;
    msh_sql_bind_int(st, 4, after);
    msh_sql_bind_int(st, 5, limit + 1);
    int n = 0, step;
    bool first = after <= 0, any = false;
    while ((step = msh_sql_step(st)) == MSH_SQL_ROW) {
        const char *op = msh_sql_text(st, 1, NULL);
        if (first) {
            first = false;
            /* an item that was imported: its first version is the one before its first edit */
            if (strcmp(op, "create") != 0) {
                msh_edit_version v0 = {0, "import", c.at, c.who, "import", msh_sql_text(st, 5, NULL)};
                any = true;
                if (n++ >= limit || fn(ud, &v0))
                    break;
            }
        }
        if (n >= limit) {
            *more = true;
            break;
        }
        msh_edit_version v = {msh_sql_int(st, 0), op, msh_sql_text(st, 2, NULL), msh_sql_text(st, 3, NULL),
                              msh_sql_text(st, 4, NULL), msh_sql_text(st, 6, NULL)};
        any = true;
        n++;
        if (fn(ud, &v))
            break;
    }
    if (step == MSH_SQL_ERROR)
        rc = msh_err_set(err, MSH_EIO, "reading the history: %s", msh_store_errmsg(s));
    msh_sql_finalize(st);
    if (!rc && first && current) { /* never edited since its import */
        msh_edit_version v0 = {0, "import", c.at, c.who, "import", current};
        any = true;
        fn(ud, &v0);
    }
    if (!rc && !any && after <= 0)
        rc = msh_err_set(err, MSH_ENOTFOUND, "no feature %lld in collection '%s' and no history of one",
                         (long long)fid, layer);
    return rc;
}

msh_rc msh_edit_asof(msh_store *s, const char *layer, int64_t fid, int64_t t_ms, char **json, bool *absent,
                     msh_err *err)
{
    *json = NULL;
    *absent = false;
    item_cursor c;
    /* the state at t is the `before` of the first change after t */
    msh_rc rc = item_rows(s,
                          "SELECT before FROM msh_audit WHERE collection = ?1 AND fid = ?2 AND seq > ?3 AND at_ms > ?4"
                          " ORDER BY seq LIMIT 1",
                          layer, fid, &c, err);
    if (rc)
        return rc;
    msh_sql *st = c.st;
    msh_sql_bind_int(st, 4, t_ms);
    int64_t imp_ms;
    msh_err terr;
    if (c.at[0] && !msh_time_parse(c.at, strlen(c.at), 0, &imp_ms, &terr) && t_ms < imp_ms) {
        *absent = true; /* before the layer was imported */
        msh_sql_finalize(st);
        return MSH_OK;
    }
    int step = msh_sql_step(st);
    if (step == MSH_SQL_ROW) {
        const char *b = msh_sql_text(st, 0, NULL);
        if (!b)
            *absent = true;
        else if (!(*json = strdup(b)))
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    } else if (step != MSH_SQL_DONE) {
        rc = msh_err_set(err, MSH_EIO, "reading the history: %s", msh_store_errmsg(s));
    }
    msh_sql_finalize(st);
    return rc;
}

msh_rc msh_edit_regions(msh_store *s, const char *layer, uint64_t *base, msh_edit_region **out, size_t *n,
                        msh_err *err)
{
    *out = NULL;
    *n = 0;
    *base = 0;
    if (!msh_store_has_table(s, "msh_audit"))
        return MSH_OK;
    msh_sql *st;
    /* the edits since the latest import, and that import's version (the first edit's when none is recorded) */
    msh_rc rc = prep(s,
                     "WITH imp AS (SELECT coalesce(max(seq), 0) AS seq FROM msh_audit WHERE collection = ?1 AND"
                     " op = 'import') SELECT version, minx, miny, maxx, maxy, op FROM msh_audit WHERE"
                     " collection = ?1 AND seq >= (SELECT seq FROM imp) ORDER BY seq",
                     &st, "reading the edits", err);
    if (rc)
        return rc;
    msh_sql_bind_text(st, 1, layer, -1);
    size_t cap = 0;
    int step;
    while ((step = msh_sql_step(st)) == MSH_SQL_ROW) {
        uint64_t v = (uint64_t)msh_sql_int(st, 0);
        if (!strcmp(msh_sql_text(st, 5, NULL), "import")) {
            *base = v;
            continue;
        }
        if (!*base)
            *base = v - 1;
        if (isnan(msh_sql_num(st, 1)))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            msh_edit_region *nr = realloc(*out, cap * sizeof *nr);
            if (!nr) {
                rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
                break;
            }
            *out = nr;
        }
        msh_edit_region *r = &(*out)[(*n)++];
        r->version = v;
        for (int i = 0; i < 4; i++)
            r->bbox[i] = msh_sql_num(st, 1 + i);
    }
    if (!rc && step != MSH_SQL_DONE)
        rc = msh_err_set(err, MSH_EIO, "reading the edits: %s", msh_store_errmsg(s));
    msh_sql_finalize(st);
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}
