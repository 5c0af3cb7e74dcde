/* store.c: the store interface (store.h): the SpatiaLite backend, its layer registry and the
 * layer writer; a store opened from a postgresql:// URL hands each call to store_pg.c. The
 * checks every backend shares (layer names, coordinates, bounds, geometry families) stay here. */
#include "store.h"
#include "store_pg.h"
#include "store_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
/* spatialite.h needs sqlite3.h first */
#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/msh_grow.h"
#include "core/msh_tilemath.h"
#include "edit.h"

struct msh_store {
    msh_pg *pg;   /* the PostgreSQL backend, or NULL: SQLite */
    sqlite3 *db;
    void *splite; /* spatialite connection cache */
    bool batch;   /* inside msh_store_batch_begin: writers use savepoints */
    char id[33];
};

struct msh_store_writer {
    msh_store *s;
    char *name;
    msh_field *fields;
    uint32_t nfields;
    int minzoom, maxzoom;
    char *source;
    char *title;
    sqlite3_stmt *ins;
    double bounds[4];
    uint64_t count;
    unsigned families; /* bit per msh_gtype seen */
    msh_geom_buf gb;
};

static msh_rc sql_err(msh_store *s, msh_err *err, const char *what)
{
    return msh_err_set(err, MSH_EIO, "%s: %s", what, sqlite3_errmsg(s->db));
}

static msh_rc exec(msh_store *s, const char *sql, msh_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        msh_rc rc = msh_err_set(err, MSH_EIO, "database: %s (in: %.80s)", msg ? msg : "?", sql);
        sqlite3_free(msg);
        return rc;
    }
    return MSH_OK;
}

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS msh_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS msh_layers ("
    " name TEXT PRIMARY KEY, kind TEXT NOT NULL DEFAULT 'static', geometry_type TEXT NOT NULL,"
    " minx REAL, miny REAL, maxx REAL, maxy REAL,"
    " minzoom INTEGER NOT NULL DEFAULT 0, maxzoom INTEGER NOT NULL DEFAULT 18,"
    " fields TEXT NOT NULL, feature_count INTEGER NOT NULL, version INTEGER NOT NULL,"
    " source TEXT, updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));";

static msh_rc meta_get(msh_store *s, const char *key, char *out, size_t cap)
{
    sqlite3_stmt *st;
    out[0] = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM msh_meta WHERE key=?", -1, &st, NULL) != SQLITE_OK)
        return MSH_EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return MSH_OK;
}

static msh_rc init_schema(msh_store *s, bool create, msh_err *err)
{
    msh_rc rc;
    sqlite3_stmt *st;
    int has_meta = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master WHERE name IN ('msh_layers','spatial_ref_sys')",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_err(s, err, "reading the schema");
    if (sqlite3_step(st) == SQLITE_ROW)
        has_meta = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (has_meta < 2) {
        if (!create)
            return msh_err_set(err, MSH_EFORMAT, "not a Mashaer store (no layer registry); import data into it first");
        /* InitSpatialMetadata runs its own transaction: before ours */
        sqlite3_stmt *q;
        int has_srs = 0;
        if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master WHERE name='spatial_ref_sys'", -1, &q,
                               NULL) == SQLITE_OK) {
            if (sqlite3_step(q) == SQLITE_ROW)
                has_srs = sqlite3_column_int(q, 0);
            sqlite3_finalize(q);
        }
        if (!has_srs && (rc = exec(s, "SELECT InitSpatialMetadata(1)", err)))
            return rc;
        if ((rc = exec(s, "BEGIN", err)))
            return rc;
        if ((rc = exec(s, SCHEMA, err))) {
            exec(s, "ROLLBACK", NULL);
            return rc;
        }
        if ((rc = exec(s, "INSERT OR IGNORE INTO msh_meta VALUES ('id', lower(hex(randomblob(16))));"
                          "INSERT OR IGNORE INTO msh_meta VALUES ('version', '0');"
                          "INSERT OR IGNORE INTO msh_meta VALUES ('schema', '1');",
                       err)) ||
            (rc = exec(s, "COMMIT", err))) {
            exec(s, "ROLLBACK", NULL);
            return rc;
        }
    }
    return meta_get(s, "id", s->id, sizeof s->id);
}

bool msh_store_is_url(const char *path)
{
    return msh_pg_is_url(path);
}

msh_rc msh_store_open(const char *path, bool create, msh_store **out, msh_err *err)
{
    *out = NULL;
    msh_store *s = calloc(1, sizeof *s);
    if (!s)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    if (msh_pg_is_url(path)) {
        msh_rc rc = msh_pg_open(path, create, &s->pg, s->id, err);
        if (rc) {
            free(s);
            return rc;
        }
        *out = s;
        return MSH_OK;
    }
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (create) {
        /* the store holds personal data: a new one is the owner's alone (SQLite gives its -wal
         * and -shm files the store's mode; an empty file is a valid new database) */
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
    }
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        msh_rc rc = msh_err_set(err, MSH_EIO, "cannot open store %s: %s", path,
                                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sqlite3_close(s->db);
        free(s);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 10000);
    s->splite = spatialite_alloc_connection();
    spatialite_init_ex(s->db, s->splite, 0);
    msh_rc rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err);
    if (!rc)
        rc = init_schema(s, create, err);
    if (rc) {
        if (err && strncmp(err->msg, "cannot", 6) != 0) {
            char tmp[sizeof err->msg + 1024];
            snprintf(tmp, sizeof tmp, "%s: %s", path, err->msg);
            snprintf(err->msg, sizeof err->msg, "%.*s", (int)sizeof err->msg - 1, tmp);
        }
        msh_store_close(s);
        return rc;
    }
    *out = s;
    return MSH_OK;
}

void msh_store_close(msh_store *s)
{
    if (!s)
        return;
    msh_pg_close(s->pg);
    sqlite3_close(s->db);
    if (s->splite)
        spatialite_cleanup_ex(s->splite);
    free(s);
}

sqlite3 *msh_store_sqlite(msh_store *s)
{
    return s->db;
}

bool msh_store_is_pg(const msh_store *s)
{
    return s->pg != NULL;
}

msh_pg *msh_store_pg(msh_store *s)
{
    return s->pg;
}

const char *msh_store_id(const msh_store *s)
{
    return s->id;
}

long msh_store_data_version(msh_store *s)
{
    sqlite3_stmt *st;
    long v = -1;
    if (s->pg)
        return msh_pg_data_version(s->pg);
    if (sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = (long)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

static msh_rc parse_fields(const char *json, msh_layer_info *info)
{
    json_error_t je;
    json_t *a = json_loads(json ? json : "[]", 0, &je);
    if (!a || !json_is_array(a)) {
        json_decref(a);
        return MSH_EFORMAT;
    }
    size_t n = json_array_size(a);
    info->fields = n ? calloc(n, sizeof *info->fields) : NULL;
    if (n && !info->fields) {
        json_decref(a);
        return MSH_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *f = json_array_get(a, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        msh_ftype t = msh_ftype_parse(json_string_value(json_object_get(f, "type")));
        if (!name || !t) {
            json_decref(a);
            return MSH_EFORMAT;
        }
        info->fields[info->nfields].name = strdup(name);
        info->fields[info->nfields].type = t;
        if (!info->fields[info->nfields].name) {
            json_decref(a);
            return MSH_ENOMEM;
        }
        info->nfields++;
    }
    json_decref(a);
    return MSH_OK;
}

static int has_title_column(msh_store *s)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM pragma_table_info('msh_layers') WHERE name = 'title'", -1, &st,
                           NULL) == SQLITE_OK) {
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    return found;
}

void msh_store_infos_free(msh_layer_info *infos, size_t n)
{
    for (size_t i = 0; i < n; i++)
        msh_layer_info_clear(&infos[i]);
    free(infos);
}

msh_rc msh_store_list(msh_store *s, msh_layer_info **infos, size_t *n, msh_err *err)
{
    *infos = NULL;
    *n = 0;
    if (s->pg)
        return msh_pg_list(s->pg, parse_fields, infos, n, err);
    sqlite3_stmt *st;
    /* stores written before layer titles have no title column: read NULL for it */
    int has_title = has_title_column(s);
    if (sqlite3_prepare_v2(s->db,
                           has_title ? "SELECT name, kind, geometry_type, minx, miny, maxx, maxy, minzoom, maxzoom,"
                                       " fields, feature_count, version, title FROM msh_layers ORDER BY name"
                                     : "SELECT name, kind, geometry_type, minx, miny, maxx, maxy, minzoom, maxzoom,"
                                       " fields, feature_count, version, NULL FROM msh_layers ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_err(s, err, "reading the layer registry");
    msh_rc rc = MSH_OK;
    size_t cap = 0;
    msh_layer_info *v = NULL;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (msh_grow((void **)&v, &cap, *n + 1, sizeof *v)) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            break;
        }
        msh_layer_info *li = &v[*n];
        memset(li, 0, sizeof *li);
        (*n)++;
        li->name = strdup((const char *)sqlite3_column_text(st, 0));
        li->kind = strdup((const char *)sqlite3_column_text(st, 1));
        li->geometry_type = strdup((const char *)sqlite3_column_text(st, 2));
        for (int i = 0; i < 4; i++)
            li->bounds[i] = sqlite3_column_double(st, 3 + i);
        li->minzoom = sqlite3_column_int(st, 7);
        li->maxzoom = sqlite3_column_int(st, 8);
        li->feature_count = (uint64_t)sqlite3_column_int64(st, 10);
        li->version = (uint64_t)sqlite3_column_int64(st, 11);
        if (sqlite3_column_type(st, 12) == SQLITE_TEXT &&
            !(li->title = strdup((const char *)sqlite3_column_text(st, 12)))) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            break;
        }
        if (!li->name || !li->kind || !li->geometry_type) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            break;
        }
        if ((rc = parse_fields((const char *)sqlite3_column_text(st, 9), li))) {
            msh_err_set(err, rc, "layer %s: bad field list in the registry", li->name);
            break;
        }
    }
    if (!rc && step != SQLITE_DONE)
        rc = sql_err(s, err, "reading the layer registry");
    sqlite3_finalize(st);
    if (rc) {
        msh_store_infos_free(v, *n);
        *n = 0;
        return rc;
    }
    *infos = v;
    return MSH_OK;
}

msh_rc msh_store_scan_sql(msh_buf *sql, const msh_layer_info *info, const char *wkb_fn,
                          const char *(*cast)(msh_ftype), msh_err *err)
{
    msh_rc rc;
    msh_buf_printf(sql, "SELECT fid, %s(geom)", wkb_fn);
    for (uint32_t i = 0; i < info->nfields; i++) {
        msh_buf_printf(sql, ", ");
        msh_store_quote_ident(sql, info->fields[i].name);
        if (cast)
            msh_buf_printf(sql, "%s", cast(info->fields[i].type));
    }
    msh_buf_printf(sql, " FROM ");
    msh_store_quote_ident(sql, info->name);
    if ((rc = msh_buf_printf(sql, " ORDER BY fid")) || (rc = msh_buf_putc(sql, 0)))
        return msh_err_set(err, rc, "layer %s: too many or too long field names", info->name);
    return MSH_OK;
}

msh_rc msh_store_scan(msh_store *s, const msh_layer_info *info, msh_store_row_fn fn, void *ud, msh_err *err)
{
    if (s->pg)
        return msh_pg_scan(s->pg, info, fn, ud, err);
    uint32_t nf = info->nfields;
    msh_buf sql;
    msh_buf_init(&sql, 1 << 20);
    msh_value *vals = nf ? calloc(nf, sizeof *vals) : NULL;
    sqlite3_stmt *q = NULL;
    msh_rc rc = nf && !vals ? msh_err_set(err, MSH_ENOMEM, "out of memory") : MSH_OK;
    if (rc || (rc = msh_store_scan_sql(&sql, info, "AsBinary", NULL, err)))
        goto out;
    if (sqlite3_prepare_v2(s->db, (const char *)sql.data, -1, &q, NULL) != SQLITE_OK) {
        rc = msh_err_set(err, MSH_EIO, "layer %s: %s", info->name, sqlite3_errmsg(s->db));
        goto out;
    }
    int step;
    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW) {
        const uint8_t *wkb = sqlite3_column_blob(q, 1);
        int wlen = sqlite3_column_bytes(q, 1);
        if (!wkb || wlen <= 0)
            continue;
        for (uint32_t i = 0; i < nf; i++) {
            msh_value *v = &vals[i];
            memset(v, 0, sizeof *v);
            int col = (int)i + 2;
            if (sqlite3_column_type(q, col) == SQLITE_NULL)
                continue;
            switch (info->fields[i].type) {
            case MSH_FT_INT: case MSH_FT_BOOL:
                v->type = (uint8_t)info->fields[i].type;
                v->u.i = sqlite3_column_int64(q, col);
                break;
            case MSH_FT_REAL:
                v->type = MSH_FT_REAL;
                v->u.d = sqlite3_column_double(q, col);
                break;
            default:
                v->type = MSH_FT_STRING;
                v->u.s = (const char *)sqlite3_column_text(q, col);
                v->len = (uint32_t)sqlite3_column_bytes(q, col);
                if (!v->u.s) {
                    rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
                    goto out;
                }
            }
        }
        rc = fn(ud, (uint64_t)sqlite3_column_int64(q, 0), wkb, (size_t)wlen, vals);
    }
    if (!rc && step != SQLITE_DONE)
        rc = msh_err_set(err, MSH_EIO, "layer %s: %s", info->name, sqlite3_errmsg(s->db));
out:
    sqlite3_finalize(q);
    free(vals);
    msh_buf_free(&sql);
    return rc;
}

static const char *sql_type(msh_ftype t)
{
    switch (t) {
    case MSH_FT_INT: case MSH_FT_BOOL: return "INTEGER";
    case MSH_FT_REAL: return "REAL";
    default: return "TEXT";
    }
}

msh_rc msh_store_quote_ident(msh_buf *b, const char *name)
{
    msh_rc rc = msh_buf_putc(b, '"');
    for (const char *p = name; *p && !rc; p++) {
        if (*p == '"')
            rc = msh_buf_putc(b, '"');
        if (!rc)
            rc = msh_buf_putc(b, (uint8_t)*p);
    }
    return rc ? rc : msh_buf_putc(b, '"');
}

static int table_exists(msh_store *s, const char *name)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    return found;
}

/* Drop a layer's table, its spatial index and its metadata (inside the caller's transaction). */
static msh_rc drop_table(msh_store *s, const char *name, msh_err *err)
{
    if (!table_exists(s, name))
        return MSH_OK;
    char sql[512];
    msh_rc rc;
    snprintf(sql, sizeof sql,
             "SELECT DisableSpatialIndex('%s','geom'); DROP TABLE IF EXISTS \"idx_%s_geom\";"
             "SELECT DiscardGeometryColumn('%s','geom'); DROP TABLE \"%s\";",
             name, name, name, name);
    if ((rc = exec(s, sql, err)))
        return rc;
    return MSH_OK;
}

void msh_store_writer_abort(msh_store_writer *w)
{
    if (!w)
        return;
    sqlite3_finalize(w->ins);
    if (!w->s)
        ; /* the backend has rolled back already */
    else if (w->s->pg)
        msh_pg_layer_abort(w->s->pg, w->s->batch);
    else
        exec(w->s, w->s->batch ? "ROLLBACK TO msh_layer; RELEASE msh_layer" : "ROLLBACK", NULL);
    free(w->name);
    free(w->source);
    free(w->title);
    for (uint32_t i = 0; i < w->nfields; i++)
        free(w->fields[i].name);
    free(w->fields);
    msh_geom_buf_free(&w->gb);
    free(w);
}

msh_rc msh_store_writer_begin(msh_store *s, const msh_layer_spec *spec, msh_store_writer **out, msh_err *err)
{
    *out = NULL;
    if (!msh_layer_name_valid(spec->name))
        return msh_err_set(err, MSH_EINVAL,
                           "layer name '%s' is not allowed: use a-z, 0-9 and _, starting with a letter, up to 63 "
                           "characters, not a reserved SpatiaLite or msh_ prefix, nor the name of a live layer "
                           "(movement, positions, incidents, crews, gates, sensors)",
                           spec->name);
    msh_store_writer *w = calloc(1, sizeof *w);
    if (!w)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    w->s = s;
    w->name = strdup(spec->name);
    w->source = strdup(spec->source ? spec->source : "");
    w->title = spec->title ? strdup(spec->title) : NULL;
    w->minzoom = spec->minzoom;
    w->maxzoom = spec->maxzoom;
    w->bounds[0] = w->bounds[1] = INFINITY;
    w->bounds[2] = w->bounds[3] = -INFINITY;
    msh_geom_buf_init(&w->gb, (size_t)1 << 26);
    w->fields = spec->nfields ? calloc(spec->nfields, sizeof *w->fields) : NULL;
    msh_buf sql;
    msh_buf_init(&sql, (size_t)1 << 24);
    msh_rc rc = MSH_OK;
    if (!w->name || !w->source || (spec->title && !w->title) || (spec->nfields && !w->fields)) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < spec->nfields; i++) {
        w->fields[i].type = spec->fields[i].type;
        w->fields[i].name = strdup(spec->fields[i].name);
        w->nfields++;
        if (!w->fields[i].name) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            goto out;
        }
    }
    if (s->pg) {
        if ((rc = msh_pg_layer_begin(s->pg, spec, s->batch, err)))
            w->s = NULL; /* the backend rolled back already */
        goto out;
    }
    if ((rc = exec(s, s->batch ? "SAVEPOINT msh_layer" : "BEGIN IMMEDIATE", err)))
        goto out;
    if ((rc = drop_table(s, spec->name, err)))
        goto out;
    msh_buf_printf(&sql, "CREATE TABLE ");
    msh_store_quote_ident(&sql, spec->name);
    msh_buf_printf(&sql, " (fid INTEGER PRIMARY KEY");
    for (uint32_t i = 0; i < spec->nfields; i++) {
        msh_buf_printf(&sql, ", ");
        msh_store_quote_ident(&sql, spec->fields[i].name);
        msh_buf_printf(&sql, " %s", sql_type(spec->fields[i].type));
    }
    msh_buf_printf(&sql, "); SELECT AddGeometryColumn('%s', 'geom', 4326, 'GEOMETRY', 'XY');", spec->name);
    if ((rc = msh_buf_putc(&sql, 0)) || (rc = exec(s, (const char *)sql.data, err)))
        goto out;
    msh_buf_reset(&sql);
    msh_buf_printf(&sql, "INSERT INTO ");
    msh_store_quote_ident(&sql, spec->name);
    msh_buf_printf(&sql, " (geom");
    for (uint32_t i = 0; i < spec->nfields; i++) {
        msh_buf_printf(&sql, ", ");
        msh_store_quote_ident(&sql, spec->fields[i].name);
    }
    msh_buf_printf(&sql, ") VALUES (GeomFromWKB(?, 4326)");
    for (uint32_t i = 0; i < spec->nfields; i++)
        msh_buf_printf(&sql, ", ?");
    if ((rc = msh_buf_printf(&sql, ")")) || (rc = msh_buf_putc(&sql, 0)))
        goto out;
    if (sqlite3_prepare_v2(s->db, (const char *)sql.data, -1, &w->ins, NULL) != SQLITE_OK) {
        rc = sql_err(s, err, "preparing the insert");
        goto out;
    }
out:
    msh_buf_free(&sql);
    if (rc) {
        if (rc == MSH_ETOOBIG || rc == MSH_ENOMEM)
            msh_err_set(err, rc, "layer %s: too many or too long field names", spec->name);
        msh_store_writer_abort(w);
        return rc;
    }
    *out = w;
    return MSH_OK;
}

msh_rc msh_store_writer_add(msh_store_writer *w, const uint8_t *wkb, size_t len, const msh_value *vals, msh_err *err)
{
    msh_rc rc = msh_wkb_read(wkb, len, &w->gb, err);
    if (rc)
        return rc;
    msh_geom g = msh_geom_buf_view(&w->gb);
    if (g.npts == 0)
        return msh_err_set(err, MSH_EFORMAT, "empty geometry");
    for (uint32_t i = 0; i < g.npts; i++) {
        double x = g.xy[2 * i], y = g.xy[2 * i + 1];
        if (x < -180.0 || x > 180.0 || y < -90.0 || y > 90.0)
            return msh_err_set(err, MSH_EFORMAT, "coordinate %.6f %.6f outside EPSG:4326 bounds", x, y);
        if (x < w->bounds[0]) w->bounds[0] = x;
        if (y < w->bounds[1]) w->bounds[1] = y;
        if (x > w->bounds[2]) w->bounds[2] = x;
        if (y > w->bounds[3]) w->bounds[3] = y;
    }
    w->families |= 1u << g.type;
    if (w->s->pg) {
        if ((rc = msh_pg_layer_add(w->s->pg, wkb, len, vals, err)))
            return rc;
        w->count++;
        return MSH_OK;
    }
    sqlite3_stmt *st = w->ins;
    sqlite3_reset(st);
    sqlite3_bind_blob(st, 1, wkb, (int)len, SQLITE_STATIC);
    for (uint32_t i = 0; i < w->nfields; i++) {
        const msh_value *v = &vals[i];
        int col = (int)i + 2;
        switch (v->type) {
        case MSH_FT_INT: case MSH_FT_BOOL: sqlite3_bind_int64(st, col, v->u.i); break;
        case MSH_FT_REAL: sqlite3_bind_double(st, col, v->u.d); break;
        case MSH_FT_STRING: sqlite3_bind_text(st, col, v->u.s, (int)v->len, SQLITE_STATIC); break;
        default: sqlite3_bind_null(st, col); break;
        }
    }
    int r = sqlite3_step(st);
    sqlite3_clear_bindings(st);
    if (r != SQLITE_DONE)
        return sql_err(w->s, err, "inserting a feature");
    w->count++;
    return MSH_OK;
}

static const char *families_name(unsigned f)
{
    if (f == 1u << MSH_GT_POINT) return "Point";
    if (f == 1u << MSH_GT_LINE) return "LineString";
    if (f == 1u << MSH_GT_POLYGON) return "Polygon";
    return "Geometry";
}

msh_rc msh_store_writer_commit(msh_store_writer *w, uint64_t *version, msh_err *err)
{
    msh_store *s = w->s;
    msh_rc rc = MSH_OK;
    char sql[256];
    sqlite3_stmt *st = NULL;
    json_t *fields = json_array();
    char *fjson = NULL;
    sqlite3_finalize(w->ins);
    w->ins = NULL;
    snprintf(sql, sizeof sql, "SELECT CreateSpatialIndex('%s', 'geom')", w->name);
    if (!s->pg && (rc = exec(s, sql, err)))
        goto out;
    for (uint32_t i = 0; i < w->nfields; i++)
        json_array_append_new(fields, json_pack("{s:s,s:s}", "name", w->fields[i].name, "type",
                                                msh_ftype_name(w->fields[i].type)));
    fjson = json_dumps(fields, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (s->pg) {
        msh_pg_registry_row row = {w->count ? families_name(w->families) : "Geometry", w->count ? w->bounds : NULL,
                                   fjson ? fjson : "[]", w->count};
        rc = msh_pg_layer_commit(s->pg, &row, s->batch, version, err);
        w->s = NULL; /* committed or rolled back by the backend */
        goto out;
    }
    if (!has_title_column(s) && (rc = exec(s, "ALTER TABLE msh_layers ADD COLUMN title TEXT", err)))
        goto out;
    if ((rc = exec(s, "UPDATE msh_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'", err)))
        goto out;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO msh_layers (name, kind, geometry_type, minx, miny, maxx, maxy,"
                           " minzoom, maxzoom, fields, feature_count, version, source, title)"
                           " VALUES (?, 'static', ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                           " (SELECT CAST(value AS INTEGER) FROM msh_meta WHERE key = 'version'), ?, ?)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sql_err(s, err, "updating the registry");
        goto out;
    }
    sqlite3_bind_text(st, 1, w->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->count ? families_name(w->families) : "Geometry", -1, SQLITE_STATIC);
    for (int i = 0; i < 4; i++) {
        if (w->count)
            sqlite3_bind_double(st, 3 + i, w->bounds[i]);
        else
            sqlite3_bind_null(st, 3 + i);
    }
    sqlite3_bind_int(st, 7, w->minzoom);
    sqlite3_bind_int(st, 8, w->maxzoom);
    sqlite3_bind_text(st, 9, fjson ? fjson : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)w->count);
    sqlite3_bind_text(st, 11, w->source, -1, SQLITE_STATIC);
    if (w->title)
        sqlite3_bind_text(st, 12, w->title, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 12);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sql_err(s, err, "updating the registry");
        goto out;
    }
    if ((rc = msh_edit_note_import(s, w->name, w->source, err)))
        goto out;
    if ((rc = msh_store_watch_layer(s, w->name, err))) /* other programs' edits bump the version */
        goto out;
    if (version) {
        char v[32];
        meta_get(s, "version", v, sizeof v);
        *version = strtoull(v, NULL, 10);
    }
    rc = exec(s, s->batch ? "RELEASE msh_layer" : "COMMIT", err);
out:
    sqlite3_finalize(st);
    json_decref(fields);
    free(fjson);
    if (rc) {
        msh_store_writer_abort(w); /* rolls back */
        return rc;
    }
    w->ins = NULL;
    free(w->name);
    free(w->source);
    free(w->title);
    for (uint32_t i = 0; i < w->nfields; i++)
        free(w->fields[i].name);
    free(w->fields);
    msh_geom_buf_free(&w->gb);
    free(w);
    return MSH_OK;
}

msh_rc msh_store_batch_begin(msh_store *s, msh_err *err)
{
    if (s->batch)
        return msh_err_set(err, MSH_EINVAL, "a batch is already open on this store");
    msh_rc rc = s->pg ? (msh_pg_exec(s->pg, "BEGIN") ? msh_err_set(err, MSH_EIO, "database: %s", msh_pg_errmsg(s->pg))
                                                     : MSH_OK)
                      : exec(s, "BEGIN IMMEDIATE", err);
    if (!rc)
        s->batch = true;
    return rc;
}

msh_rc msh_store_batch_end(msh_store *s, bool commit, msh_err *err)
{
    if (!s->batch)
        return MSH_OK;
    s->batch = false;
    if (s->pg) {
        if (!commit)
            return msh_pg_exec(s->pg, "ROLLBACK"), MSH_OK;
        if (msh_pg_commit(s->pg)) {
            msh_rc rc = msh_err_set(err, MSH_EIO, "database: %s", msh_pg_errmsg(s->pg));
            msh_pg_exec(s->pg, "ROLLBACK");
            return rc;
        }
        return MSH_OK;
    }
    msh_rc rc = commit ? exec(s, "COMMIT", err) : MSH_OK;
    if (!commit || rc)
        exec(s, "ROLLBACK", NULL);
    return rc;
}

msh_rc msh_store_drop_layer(msh_store *s, const char *name, msh_err *err)
{
    if (!msh_layer_name_valid(name))
        return msh_err_set(err, MSH_EINVAL, "bad layer name '%s'", name);
    if (s->pg)
        return msh_pg_drop_layer(s->pg, name, err);
    msh_rc rc = exec(s, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    sqlite3_stmt *st;
    if ((rc = drop_table(s, name, err)))
        goto out;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM msh_layers WHERE name = ?", -1, &st, NULL) != SQLITE_OK) {
        rc = sql_err(s, err, "updating the registry");
        goto out;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sql_err(s, err, "updating the registry");
    else if (sqlite3_changes(s->db) == 0)
        rc = msh_err_set(err, MSH_ENOTFOUND, "no layer named '%s'", name);
    sqlite3_finalize(st);
out:
    exec(s, rc ? "ROLLBACK" : "COMMIT", NULL);
    return rc;
}
