/* store_pg.c: the PostgreSQL + PostGIS backend of the store (store_pg.h).
 *
 * Dialect notes, all here: parameters are written `?` (SQLite's way) by the rooms above and
 * numbered `$n` when prepared; features are written with COPY (text format, geometries as
 * hex EWKB carrying SRID 4326) and read with one query in single-row mode and binary results,
 * so neither side holds a whole layer twice; the version counter is a row of msh_meta updated
 * in the writer's transaction, which also serialises concurrent writers on it.
 */
#include "store_pg.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_buf.h"
#include "store_pg_edit.h"

#define COPY_FLUSH (1u << 20) /* bytes of COPY text sent at a time */

struct msh_pg {
    PGconn *conn;
    char *url;
    long changes;      /* notifications seen (and reconnections) */
    uint64_t version;  /* the store version this connection last saw under the writers' lock (0: none) */
    size_t last_changes; /* rows of the last command */
    /* the layer being written */
    char *wname;
    msh_field *wfields;
    uint32_t wnfields;
    int wminzoom, wmaxzoom;
    char *wsource, *wtitle;
    uint64_t wfid;
    msh_buf copy;
    char err[512];
};

struct msh_pg_sql {
    msh_pg *pg;
    char *sql;
    int nparams;
    char **vals;
    int *lens, *fmts;
    PGresult *res;
    int row; /* the current row; -1 before the first step */
    char *blob; /* a decoded bytea column */
};

bool msh_pg_is_url(const char *path)
{
    return path && (!strncmp(path, "postgresql://", 13) || !strncmp(path, "postgres://", 11));
}

static void note_err(msh_pg *pg, const char *msg)
{
    snprintf(pg->err, sizeof pg->err, "%s", msg ? msg : "?");
    size_t n = strlen(pg->err);
    while (n && (pg->err[n - 1] == '\n' || pg->err[n - 1] == ' '))
        pg->err[--n] = 0;
}

const char *msh_pg_errmsg(msh_pg *pg)
{
    return pg->err;
}

static msh_rc pg_fail(msh_pg *pg, msh_err *err, const char *what)
{
    note_err(pg, PQerrorMessage(pg->conn));
    return msh_err_set(err, MSH_EIO, "%s: %s", what, pg->err);
}

/* Run SQL expecting no rows; with err NULL the message is only kept for msh_pg_errmsg. */
static msh_rc run(msh_pg *pg, const char *sql, msh_err *err)
{
    PGresult *r = PQexec(pg->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    msh_rc rc = MSH_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        note_err(pg, PQresultErrorMessage(r));
        rc = msh_err_set(err, MSH_EIO, "database: %s (in: %.80s)", pg->err, sql);
    } else {
        pg->last_changes = (size_t)strtoull(PQcmdTuples(r), NULL, 10);
    }
    PQclear(r);
    return rc;
}

/* One value of a one-row query with text parameters, copied into out (empty when no row). */
static msh_rc query1(msh_pg *pg, const char *sql, int n, const char *const *params, char *out, size_t cap,
                     msh_err *err)
{
    PGresult *r = PQexecParams(pg->conn, sql, n, NULL, params, NULL, NULL, 0);
    msh_rc rc = MSH_OK;
    out[0] = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        note_err(pg, PQresultErrorMessage(r));
        rc = msh_err_set(err, MSH_EIO, "database: %s", pg->err);
    } else if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    return rc;
}

static const char SCHEMA[] =
    "CREATE EXTENSION IF NOT EXISTS postgis;"
    "CREATE TABLE IF NOT EXISTS msh_meta (key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS msh_layers ("
    " name text PRIMARY KEY, kind text NOT NULL DEFAULT 'static', geometry_type text NOT NULL,"
    " minx double precision, miny double precision, maxx double precision, maxy double precision,"
    " minzoom integer NOT NULL DEFAULT 0, maxzoom integer NOT NULL DEFAULT 18,"
    " fields text NOT NULL, feature_count bigint NOT NULL, version bigint NOT NULL, source text,"
    " updated_at text NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " title text);"
    "CREATE TABLE IF NOT EXISTS msh_external (layer text PRIMARY KEY, version bigint NOT NULL, at_ms bigint);"
    "INSERT INTO msh_meta VALUES ('id', md5(random()::text || clock_timestamp()::text)) ON CONFLICT DO NOTHING;"
    "INSERT INTO msh_meta VALUES ('version', '0') ON CONFLICT DO NOTHING;"
    "INSERT INTO msh_meta VALUES ('schema', '1') ON CONFLICT DO NOTHING;"
    /* edits of a layer table by another program: new versions and a notification (store_watch.h);
     * Mashaer's own edit transactions set msh.quiet */
    "CREATE OR REPLACE FUNCTION msh_watch() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE v bigint; BEGIN"
    " IF coalesce(current_setting('msh.quiet', true), '') = '1' THEN RETURN NULL; END IF;"
    " UPDATE msh_meta SET value = (value::bigint + 1)::text WHERE key = 'version' RETURNING value::bigint INTO v;"
    " UPDATE msh_layers SET version = v WHERE name = TG_TABLE_NAME;"
    " INSERT INTO msh_external VALUES (TG_TABLE_NAME, v, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)"
    " ON CONFLICT (layer) DO UPDATE SET version = excluded.version, at_ms = excluded.at_ms;"
    " PERFORM pg_notify('msh_changes', TG_TABLE_NAME); RETURN NULL; END $$;";

static msh_rc init_schema(msh_pg *pg, bool create, msh_err *err)
{
    char has[16];
    msh_rc rc = query1(pg, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename IN"
                           " ('msh_meta', 'msh_layers')",
                       0, NULL, has, sizeof has, err);
    if (rc)
        return rc;
    if (strtol(has, NULL, 10) < 2) {
        if (!create)
            return msh_err_set(err, MSH_EFORMAT, "not a Mashaer store (no layer registry); import data into it first");
        /* two importers creating the same new store: one makes it, the other finds it made */
        if ((rc = run(pg, "BEGIN; SELECT pg_advisory_xact_lock(7254); ", err)))
            return rc;
        if ((rc = run(pg, SCHEMA, err)) || (rc = run(pg, "COMMIT", err))) {
            run(pg, "ROLLBACK", NULL);
            return rc;
        }
    }
    return MSH_OK;
}

static msh_rc connect_listen(msh_pg *pg, msh_err *err)
{
    pg->conn = PQconnectdb(pg->url);
    if (!pg->conn)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    if (PQstatus(pg->conn) != CONNECTION_OK)
        return pg_fail(pg, err, "cannot open the PostgreSQL store");
    msh_rc rc = run(pg, "SET client_encoding = 'UTF8'; SET client_min_messages = warning; LISTEN msh_changes", err);
    return rc;
}

msh_rc msh_pg_open(const char *url, bool create, msh_pg **out, char id[33], msh_err *err)
{
    *out = NULL;
    msh_pg *pg = calloc(1, sizeof *pg);
    if (!pg || !(pg->url = strdup(url))) {
        free(pg);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    msh_buf_init(&pg->copy, (size_t)COPY_FLUSH * 4);
    msh_rc rc = connect_listen(pg, err);
    if (!rc)
        rc = init_schema(pg, create, err);
    if (!rc)
        rc = query1(pg, "SELECT value FROM msh_meta WHERE key = 'id'", 0, NULL, id, 33, err);
    if (rc) {
        msh_pg_close(pg);
        return rc;
    }
    *out = pg;
    return MSH_OK;
}

static void writer_clear(msh_pg *pg)
{
    free(pg->wname);
    free(pg->wsource);
    free(pg->wtitle);
    for (uint32_t i = 0; i < pg->wnfields; i++)
        free(pg->wfields[i].name);
    free(pg->wfields);
    pg->wname = pg->wsource = pg->wtitle = NULL;
    pg->wfields = NULL;
    pg->wnfields = 0;
    msh_buf_reset(&pg->copy);
}

void msh_pg_close(msh_pg *pg)
{
    if (!pg)
        return;
    PQfinish(pg->conn);
    writer_clear(pg);
    msh_buf_free(&pg->copy);
    free(pg->url);
    free(pg);
}

long msh_pg_data_version(msh_pg *pg)
{
    if (PQstatus(pg->conn) != CONNECTION_OK) {
        /* notifications sent while we were away are lost: a reconnection counts as a change */
        PQreset(pg->conn);
        if (PQstatus(pg->conn) == CONNECTION_OK && !run(pg, "LISTEN msh_changes", NULL))
            pg->changes++;
        return pg->changes;
    }
    PQconsumeInput(pg->conn);
    PGnotify *n;
    int self = PQbackendPID(pg->conn);
    while ((n = PQnotifies(pg->conn))) {
        if (n->be_pid != self) /* as PRAGMA data_version: commits of other connections only */
            pg->changes++;
        PQfreemem(n);
    }
    return pg->changes;
}

void msh_pg_version_seen(msh_pg *pg, uint64_t v, bool own)
{
    if (!own && pg->version && v != pg->version)
        pg->changes++; /* committed by another connection since this one last looked */
    pg->version = v;
}

msh_rc msh_pg_list(msh_pg *pg, msh_pg_parse_fields_fn parse, msh_layer_info **infos, size_t *n, msh_err *err)
{
    *infos = NULL;
    *n = 0;
    PGresult *r = PQexec(pg->conn, "SELECT name, kind, geometry_type, minx, miny, maxx, maxy, minzoom, maxzoom,"
                                   " fields, feature_count, version, title FROM msh_layers ORDER BY name COLLATE \"C\"");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        note_err(pg, PQresultErrorMessage(r));
        PQclear(r);
        return msh_err_set(err, MSH_EIO, "reading the layer registry: %s", pg->err);
    }
    size_t rows = (size_t)PQntuples(r);
    msh_layer_info *v = rows ? calloc(rows, sizeof *v) : NULL;
    msh_rc rc = rows && !v ? msh_err_set(err, MSH_ENOMEM, "out of memory") : MSH_OK;
    for (size_t i = 0; !rc && i < rows; i++) {
        int k = (int)i;
        msh_layer_info *li = &v[i];
        li->name = strdup(PQgetvalue(r, k, 0));
        li->kind = strdup(PQgetvalue(r, k, 1));
        li->geometry_type = strdup(PQgetvalue(r, k, 2));
        for (int j = 0; j < 4; j++)
            li->bounds[j] = PQgetisnull(r, k, 3 + j) ? 0 : strtod(PQgetvalue(r, k, 3 + j), NULL);
        li->minzoom = (int)strtol(PQgetvalue(r, k, 7), NULL, 10);
        li->maxzoom = (int)strtol(PQgetvalue(r, k, 8), NULL, 10);
        li->feature_count = strtoull(PQgetvalue(r, k, 10), NULL, 10);
        li->version = strtoull(PQgetvalue(r, k, 11), NULL, 10);
        if (!PQgetisnull(r, k, 12) && !(li->title = strdup(PQgetvalue(r, k, 12))))
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        else if (!li->name || !li->kind || !li->geometry_type)
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        else if ((rc = parse(PQgetvalue(r, k, 9), li)))
            msh_err_set(err, rc, "layer %s: bad field list in the registry", li->name);
    }
    PQclear(r);
    if (rc) {
        for (size_t i = 0; i < rows; i++)
            msh_layer_info_clear(&v[i]);
        free(v);
        return rc;
    }
    *infos = v;
    *n = rows;
    return MSH_OK;
}

static const char *pg_type(msh_ftype t)
{
    switch (t) {
    case MSH_FT_INT: case MSH_FT_BOOL: return "bigint";
    case MSH_FT_REAL: return "double precision";
    default: return "text";
    }
}

/* The cast a column is read with, so a table changed by another program still reads in binary as we expect. */
static const char *pg_cast(msh_ftype t)
{
    switch (t) {
    case MSH_FT_INT: case MSH_FT_BOOL: return "::bigint";
    case MSH_FT_REAL: return "::float8";
    default: return "::text";
    }
}

msh_rc msh_pg_layer_begin(msh_pg *pg, const msh_layer_spec *spec, bool batch, msh_err *err)
{
    writer_clear(pg);
    msh_buf sql;
    msh_buf_init(&sql, (size_t)1 << 24);
    msh_rc rc = MSH_OK;
    pg->wname = strdup(spec->name);
    pg->wsource = strdup(spec->source ? spec->source : "");
    pg->wtitle = spec->title ? strdup(spec->title) : NULL;
    pg->wfields = spec->nfields ? calloc(spec->nfields, sizeof *pg->wfields) : NULL;
    pg->wminzoom = spec->minzoom;
    pg->wmaxzoom = spec->maxzoom;
    pg->wfid = 0;
    if (!pg->wname || !pg->wsource || (spec->title && !pg->wtitle) || (spec->nfields && !pg->wfields)) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < spec->nfields; i++) {
        pg->wfields[i].type = spec->fields[i].type;
        if (!(pg->wfields[i].name = strdup(spec->fields[i].name))) {
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
            goto out;
        }
        pg->wnfields++;
    }
    if ((rc = run(pg, batch ? "SAVEPOINT msh_layer" : "BEGIN", err)))
        goto out;
    msh_buf_printf(&sql, "DROP TABLE IF EXISTS ");
    msh_store_quote_ident(&sql, spec->name);
    msh_buf_printf(&sql, "; CREATE TABLE ");
    msh_store_quote_ident(&sql, spec->name);
    msh_buf_printf(&sql, " (fid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
    for (uint32_t i = 0; i < spec->nfields; i++) {
        msh_buf_printf(&sql, ", ");
        msh_store_quote_ident(&sql, spec->fields[i].name);
        msh_buf_printf(&sql, " %s", pg_type(spec->fields[i].type));
    }
    msh_buf_printf(&sql, ", geom geometry(Geometry, 4326)); COPY ");
    msh_store_quote_ident(&sql, spec->name);
    msh_buf_printf(&sql, " (fid, geom");
    for (uint32_t i = 0; i < spec->nfields; i++) {
        msh_buf_printf(&sql, ", ");
        msh_store_quote_ident(&sql, spec->fields[i].name);
    }
    if ((rc = msh_buf_printf(&sql, ") FROM STDIN")) || (rc = msh_buf_putc(&sql, 0))) {
        rc = msh_err_set(err, rc, "layer %s: too many or too long field names", spec->name);
        goto out;
    }
    PGresult *r = PQexec(pg->conn, (const char *)sql.data);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        note_err(pg, PQresultErrorMessage(r));
        rc = msh_err_set(err, MSH_EIO, "layer %s: %s", spec->name, pg->err);
    }
    PQclear(r);
out:
    msh_buf_free(&sql);
    if (rc)
        msh_pg_layer_abort(pg, batch);
    return rc;
}

static msh_rc copy_flush(msh_pg *pg, msh_err *err)
{
    if (!pg->copy.len)
        return MSH_OK;
    if (PQputCopyData(pg->conn, (const char *)pg->copy.data, (int)pg->copy.len) != 1)
        return pg_fail(pg, err, "writing features");
    msh_buf_reset(&pg->copy);
    return MSH_OK;
}

/* Text of COPY's text format: backslash, tab, newline and carriage return escaped. */
static msh_rc copy_text(msh_buf *b, const char *s, size_t n)
{
    msh_rc rc = MSH_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        char c = s[i];
        if (c == 0)
            return MSH_EFORMAT; /* PostgreSQL text holds no NUL */
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            rc = msh_buf_putc(b, '\\');
            if (!rc)
                rc = msh_buf_putc(b, c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\');
        } else {
            rc = msh_buf_putc(b, (uint8_t)c);
        }
    }
    return rc;
}

/* 2D WKB as hex EWKB with SRID 4326 (the flag and the SRID in the top-level header only). */
static msh_rc copy_ewkb(msh_buf *b, const uint8_t *wkb, size_t len)
{
    static const char H[] = "0123456789ABCDEF";
    if (len < 5)
        return MSH_EFORMAT;
    uint8_t head[9];
    bool le = wkb[0] == 1;
    uint32_t type = le ? (uint32_t)wkb[1] | (uint32_t)wkb[2] << 8 | (uint32_t)wkb[3] << 16 | (uint32_t)wkb[4] << 24
                       : (uint32_t)wkb[4] | (uint32_t)wkb[3] << 8 | (uint32_t)wkb[2] << 16 | (uint32_t)wkb[1] << 24;
    type |= 0x20000000u;
    uint32_t srid = 4326;
    head[0] = wkb[0];
    for (int i = 0; i < 4; i++) {
        head[1 + i] = (uint8_t)(le ? type >> (8 * i) : type >> (8 * (3 - i)));
        head[5 + i] = (uint8_t)(le ? srid >> (8 * i) : srid >> (8 * (3 - i)));
    }
    msh_rc rc = msh_buf_reserve(b, 2 * (len + 4));
    if (rc)
        return rc;
    for (size_t i = 0; i < 9; i++) {
        msh_buf_putc(b, (uint8_t)H[head[i] >> 4]);
        msh_buf_putc(b, (uint8_t)H[head[i] & 15]);
    }
    for (size_t i = 5; i < len; i++) {
        msh_buf_putc(b, (uint8_t)H[wkb[i] >> 4]);
        msh_buf_putc(b, (uint8_t)H[wkb[i] & 15]);
    }
    return MSH_OK;
}

msh_rc msh_pg_layer_add(msh_pg *pg, const uint8_t *wkb, size_t len, const msh_value *vals, msh_err *err)
{
    msh_buf *b = &pg->copy;
    size_t mark = b->len;
    msh_rc rc = msh_buf_printf(b, "%llu\t", (unsigned long long)(pg->wfid + 1));
    if (!rc)
        rc = copy_ewkb(b, wkb, len);
    for (uint32_t i = 0; !rc && i < pg->wnfields; i++) {
        const msh_value *v = &vals[i];
        rc = msh_buf_putc(b, '\t');
        if (rc)
            break;
        switch (v->type) {
        case MSH_FT_INT: case MSH_FT_BOOL: rc = msh_buf_printf(b, "%lld", (long long)v->u.i); break;
        case MSH_FT_REAL:
            rc = isnan(v->u.d) ? msh_buf_printf(b, "NaN")
                 : isinf(v->u.d) ? msh_buf_printf(b, v->u.d > 0 ? "Infinity" : "-Infinity")
                                 : msh_buf_printf(b, "%.17g", v->u.d);
            break;
        case MSH_FT_STRING: rc = copy_text(b, v->u.s, v->len); break;
        default: rc = msh_buf_printf(b, "\\N"); break;
        }
    }
    if (!rc)
        rc = msh_buf_putc(b, '\n');
    if (rc) {
        b->len = mark;
        return rc == MSH_EFORMAT ? msh_err_set(err, rc, "a text value holds a NUL byte or the geometry is empty")
                                 : msh_err_set(err, rc, "out of memory");
    }
    pg->wfid++;
    return b->len >= COPY_FLUSH ? copy_flush(pg, err) : MSH_OK;
}

msh_rc msh_pg_layer_commit(msh_pg *pg, const msh_pg_registry_row *row, bool batch, uint64_t *version, msh_err *err)
{
    msh_rc rc = copy_flush(pg, err);
    if (rc)
        goto out;
    if (PQputCopyEnd(pg->conn, NULL) != 1) {
        rc = pg_fail(pg, err, "writing features");
        goto out;
    }
    PGresult *r;
    while ((r = PQgetResult(pg->conn))) {
        if (!rc && PQresultStatus(r) != PGRES_COMMAND_OK) {
            note_err(pg, PQresultErrorMessage(r));
            rc = msh_err_set(err, MSH_EIO, "layer %s: %s", pg->wname, pg->err);
        }
        PQclear(r);
    }
    if (rc)
        goto out;
    char sql[512], v[32];
    /* identity past the rows written; the index; the trigger for other programs' edits */
    snprintf(sql, sizeof sql,
             "SELECT setval(pg_get_serial_sequence('\"%s\"', 'fid'), %llu, %s);"
             " CREATE INDEX \"%s_geom_gist\" ON \"%s\" USING gist (geom); ANALYZE \"%s\";"
             " CREATE TRIGGER msh_watch AFTER INSERT OR UPDATE OR DELETE ON \"%s\" FOR EACH STATEMENT"
             " EXECUTE FUNCTION msh_watch()",
             pg->wname, (unsigned long long)(pg->wfid ? pg->wfid : 1), pg->wfid ? "true" : "false", pg->wname,
             pg->wname, pg->wname, pg->wname);
    if ((rc = run(pg, sql, err)))
        goto out;
    if ((rc = query1(pg, "UPDATE msh_meta SET value = (value::bigint + 1)::text WHERE key = 'version' RETURNING value",
                     0, NULL, v, sizeof v, err)))
        goto out;
    char b[4][32], mz[2][16], cnt[32];
    for (int i = 0; i < 4; i++)
        snprintf(b[i], sizeof b[i], "%.17g", row->bounds ? row->bounds[i] : 0.0);
    snprintf(mz[0], sizeof mz[0], "%d", pg->wminzoom);
    snprintf(mz[1], sizeof mz[1], "%d", pg->wmaxzoom);
    snprintf(cnt, sizeof cnt, "%llu", (unsigned long long)row->count);
    const char *p[13] = {pg->wname, row->geometry_type, row->bounds ? b[0] : NULL, row->bounds ? b[1] : NULL,
                         row->bounds ? b[2] : NULL, row->bounds ? b[3] : NULL, mz[0], mz[1], row->fields_json, cnt,
                         v, pg->wsource, pg->wtitle};
    r = PQexecParams(pg->conn,
                     "INSERT INTO msh_layers (name, kind, geometry_type, minx, miny, maxx, maxy, minzoom, maxzoom,"
                     " fields, feature_count, version, source, title) VALUES ($1, 'static', $2, $3, $4, $5, $6, $7,"
                     " $8, $9, $10, $11, $12, $13) ON CONFLICT (name) DO UPDATE SET kind = excluded.kind,"
                     " geometry_type = excluded.geometry_type, minx = excluded.minx, miny = excluded.miny,"
                     " maxx = excluded.maxx, maxy = excluded.maxy, minzoom = excluded.minzoom,"
                     " maxzoom = excluded.maxzoom, fields = excluded.fields, feature_count = excluded.feature_count,"
                     " version = excluded.version, source = excluded.source, title = excluded.title,"
                     " updated_at = excluded.updated_at",
                     13, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        note_err(pg, PQresultErrorMessage(r));
        rc = msh_err_set(err, MSH_EIO, "updating the registry: %s", pg->err);
    }
    PQclear(r);
    if (rc)
        goto out;
    if ((rc = msh_pg_edit_note_import(pg, pg->wname, pg->wsource, err))) /* the audit's history starts here */
        goto out;
    const char *np[1] = {pg->wname};
    char ignored[8];
    if ((rc = query1(pg, "SELECT pg_notify('msh_changes', $1)", 1, np, ignored, sizeof ignored, err)))
        goto out;
    rc = run(pg, batch ? "RELEASE SAVEPOINT msh_layer" : "COMMIT", err);
    if (!rc && version)
        *version = strtoull(v, NULL, 10);
out:
    if (rc)
        msh_pg_layer_abort(pg, batch);
    else
        writer_clear(pg);
    return rc;
}

void msh_pg_layer_abort(msh_pg *pg, bool batch)
{
    if (PQtransactionStatus(pg->conn) == PQTRANS_ACTIVE) { /* a COPY in progress */
        PQputCopyEnd(pg->conn, "aborted");
        PGresult *r;
        while ((r = PQgetResult(pg->conn)))
            PQclear(r);
    }
    run(pg, batch ? "ROLLBACK TO SAVEPOINT msh_layer; RELEASE SAVEPOINT msh_layer" : "ROLLBACK", NULL);
    writer_clear(pg);
}

msh_rc msh_pg_drop_layer(msh_pg *pg, const char *name, msh_err *err)
{
    char sql[256];
    msh_rc rc = run(pg, "BEGIN", err);
    if (rc)
        return rc;
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS \"%s\"", name); /* the caller checked the name */
    if ((rc = run(pg, sql, err)))
        goto out;
    const char *p[1] = {name};
    PGresult *r = PQexecParams(pg->conn, "DELETE FROM msh_layers WHERE name = $1", 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        note_err(pg, PQresultErrorMessage(r));
        rc = msh_err_set(err, MSH_EIO, "updating the registry: %s", pg->err);
    } else if (strtoull(PQcmdTuples(r), NULL, 10) == 0) {
        rc = msh_err_set(err, MSH_ENOTFOUND, "no layer named '%s'", name);
    }
    PQclear(r);
    if (!rc)
        rc = run(pg, "NOTIFY msh_changes", err);
out:
    run(pg, rc ? "ROLLBACK" : "COMMIT", NULL);
    return rc;
}

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

msh_rc msh_pg_scan(msh_pg *pg, const msh_layer_info *info, msh_store_row_fn fn, void *ud, msh_err *err)
{
    uint32_t nf = info->nfields;
    msh_buf sql;
    msh_buf_init(&sql, (size_t)1 << 20);
    msh_value *vals = nf ? calloc(nf, sizeof *vals) : NULL;
    msh_rc rc = nf && !vals ? msh_err_set(err, MSH_ENOMEM, "out of memory") : MSH_OK;
    if (rc || (rc = msh_store_scan_sql(&sql, info, "ST_AsBinary", pg_cast, err)))
        goto out;
    if (!PQsendQueryParams(pg->conn, (const char *)sql.data, 0, NULL, NULL, NULL, NULL, 1) ||
        !PQsetSingleRowMode(pg->conn)) {
        rc = pg_fail(pg, err, info->name);
        goto out;
    }
    PGresult *r;
    while ((r = PQgetResult(pg->conn))) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE && !rc) {
            for (uint32_t i = 0; i < nf; i++) {
                msh_value *v = &vals[i];
                memset(v, 0, sizeof *v);
                int col = (int)i + 2;
                if (PQgetisnull(r, 0, col))
                    continue;
                const char *p = PQgetvalue(r, 0, col);
                switch (info->fields[i].type) {
                case MSH_FT_INT: case MSH_FT_BOOL:
                    v->type = (uint8_t)info->fields[i].type;
                    v->u.i = (int64_t)be64(p);
                    break;
                case MSH_FT_REAL: {
                    uint64_t u = be64(p);
                    v->type = MSH_FT_REAL;
                    memcpy(&v->u.d, &u, sizeof u);
                    break;
                }
                default:
                    v->type = MSH_FT_STRING;
                    v->u.s = p;
                    v->len = (uint32_t)PQgetlength(r, 0, col);
                }
            }
            if (!PQgetisnull(r, 0, 1))
                rc = fn(ud, be64(PQgetvalue(r, 0, 0)), (const uint8_t *)PQgetvalue(r, 0, 1),
                        (size_t)PQgetlength(r, 0, 1), vals);
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && !rc) {
            note_err(pg, PQresultErrorMessage(r));
            rc = msh_err_set(err, MSH_EIO, "layer %s: %s", info->name, pg->err);
        }
        PQclear(r); /* on an error, read to the end so the connection is ready again */
    }
out:
    free(vals);
    msh_buf_free(&sql);
    return rc;
}

uint64_t msh_pg_external_version(msh_pg *pg, const char *layer)
{
    char v[32];
    const char *p[1] = {layer};
    if (query1(pg, "SELECT version FROM msh_external WHERE layer = $1", 1, p, v, sizeof v, NULL))
        return 0;
    return strtoull(v, NULL, 10);
}

/* ---- the plain SQL surface ---- */

static char *dialect(const char *sql);

msh_rc msh_pg_exec(msh_pg *pg, const char *sql)
{
    char *d = dialect(sql);
    if (!d) {
        note_err(pg, "out of memory");
        return MSH_ENOMEM;
    }
    msh_rc rc;
    if (strstr(d, "IF NOT EXISTS") && !strstr(d, "pg_advisory_xact_lock")) {
        /* Nodes of a cluster start together and each makes the tables it keeps; PostgreSQL's CREATE ...
         * IF NOT EXISTS is not safe against a concurrent twin (a unique violation on pg_type), so every
         * such script runs under the schema's transaction-scoped advisory lock, as the store's own does. */
        bool idle = PQtransactionStatus(pg->conn) == PQTRANS_IDLE;
        if (!(rc = run(pg, idle ? "BEGIN; SELECT pg_advisory_xact_lock(7254)" : "SELECT pg_advisory_xact_lock(7254)",
                       NULL)) &&
            !(rc = run(pg, d, NULL)) && idle)
            rc = run(pg, "COMMIT", NULL);
        if (rc && idle)
            run(pg, "ROLLBACK", NULL);
    } else {
        rc = run(pg, d, NULL);
    }
    free(d);
    return rc;
}

msh_rc msh_pg_commit(msh_pg *pg)
{
    /* every commit is a change another process may serve: tokens, incidents, KPI records */
    return run(pg, "NOTIFY msh_changes; COMMIT", NULL);
}

size_t msh_pg_changes(msh_pg *pg)
{
    return pg->last_changes;
}

bool msh_pg_table_exists(msh_pg *pg, const char *name)
{
    char v[8];
    const char *p[1] = {name};
    return !query1(pg, "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1", 1, p, v,
                   sizeof v, NULL) &&
           v[0] == '1';
}

/* SQLite's spellings the rooms above write, in PostgreSQL's (outside quotes, whole words):
 * in table definitions INTEGER is bigint (times in ms), an INTEGER PRIMARY KEY an identity (a row
 * id given when none is: a column named rowid so declared is SQLite's own rowid there and an identity
 * column of that name here), REAL double precision and BLOB bytea, and SQLite's WITHOUT ROWID goes (a
 * PostgreSQL table has no row id to leave out); last_insert_rowid() is lastval();
 * INSERT OR IGNORE is INSERT ... ON CONFLICT DO NOTHING; PRAGMA synchronous=FULL is
 * synchronous_commit = on. Malloc'd; NULL when out of memory. */
static char *dialect(const char *sql)
{
    static const struct {
        const char *from, *to;
        bool ddl; /* in table definitions only */
    } W[] = {
        {"INTEGER PRIMARY KEY", "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", true},
        {"INTEGER", "bigint", true},
        {"REAL", "double precision", true},
        {"BLOB", "bytea", true},
        {"WITHOUT ROWID", "", true},
        {"last_insert_rowid()", "lastval()", false},
        {"INSERT OR IGNORE INTO", "INSERT INTO", false},
        {"PRAGMA synchronous=FULL", "SET synchronous_commit = on", false},
    };
    bool ddl = strstr(sql, "CREATE TABLE") != NULL, ignore = false;
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 24);
    char quote = 0;
    for (size_t i = 0; sql[i];) {
        char c = sql[i];
        if (quote || c == '\'' || c == '"') {
            quote = quote ? (c == quote ? 0 : quote) : c;
            msh_buf_putc(&b, (uint8_t)c);
            i++;
            continue;
        }
        bool hit = false;
        bool start = i == 0 || !(isalnum((unsigned char)sql[i - 1]) || sql[i - 1] == '_');
        for (size_t k = 0; start && !hit && k < sizeof W / sizeof W[0]; k++) {
            size_t n = strlen(W[k].from);
            if ((W[k].ddl && !ddl) || strncmp(sql + i, W[k].from, n) ||
                isalnum((unsigned char)sql[i + n]) || sql[i + n] == '_')
                continue;
            msh_buf_printf(&b, "%s", W[k].to);
            ignore |= !strcmp(W[k].from, "INSERT OR IGNORE INTO");
            i += n;
            hit = true;
        }
        if (!hit)
            msh_buf_putc(&b, (uint8_t)sql[i++]);
    }
    if (ignore)
        msh_buf_printf(&b, " ON CONFLICT DO NOTHING");
    if (msh_buf_putc(&b, 0)) {
        msh_buf_free(&b);
        return NULL;
    }
    return (char *)msh_buf_steal(&b, NULL);
}

/* `?` and `?NNN` outside quotes become `$n` (SQLite's numbering: a bare ? is one past the largest so far). */
static char *translate(const char *sql, int *nparams)
{
    size_t n = strlen(sql), cap = n * 4 + 16; /* `?` (1 byte) becomes at most `$NNN` */
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0;
    int max = 0;
    char quote = 0;
    for (size_t i = 0; i < n; i++) {
        char c = sql[i];
        if (quote) {
            if (c == quote)
                quote = 0;
            out[o++] = c;
        } else if (c == '\'' || c == '"') {
            quote = c;
            out[o++] = c;
        } else if (c == '?') {
            int k;
            if (isdigit((unsigned char)sql[i + 1])) {
                k = (int)strtol(sql + i + 1, NULL, 10);
                while (isdigit((unsigned char)sql[i + 1]))
                    i++;
            } else {
                k = max + 1;
            }
            if (k > max)
                max = k;
            if (k > 999) { /* more parameters than any statement of ours: refused */
                free(out);
                return NULL;
            }
            o += (size_t)snprintf(out + o, cap - o, "$%d", k);
        } else {
            out[o++] = c;
        }
    }
    out[o] = 0;
    *nparams = max;
    return out;
}

msh_rc msh_pg_sql_prepare(msh_pg *pg, const char *sql, msh_pg_sql **out)
{
    *out = NULL;
    msh_pg_sql *q = calloc(1, sizeof *q);
    if (!q)
        return MSH_ENOMEM;
    q->pg = pg;
    q->row = -1;
    char *d = dialect(sql);
    q->sql = d ? translate(d, &q->nparams) : NULL;
    free(d);
    if (!q->sql || (q->nparams && (!(q->vals = calloc((size_t)q->nparams, sizeof *q->vals)) ||
                                   !(q->lens = calloc((size_t)q->nparams, sizeof *q->lens)) ||
                                   !(q->fmts = calloc((size_t)q->nparams, sizeof *q->fmts))))) {
        msh_pg_sql_finalize(q);
        note_err(pg, "out of memory");
        return MSH_ENOMEM;
    }
    *out = q;
    return MSH_OK;
}

void msh_pg_sql_reset(msh_pg_sql *q)
{
    if (!q)
        return;
    PQclear(q->res);
    q->res = NULL;
    q->row = -1;
    PQfreemem(q->blob);
    q->blob = NULL;
}

void msh_pg_sql_finalize(msh_pg_sql *q)
{
    if (!q)
        return;
    msh_pg_sql_reset(q);
    for (int i = 0; i < q->nparams && q->vals; i++)
        free(q->vals[i]);
    free(q->vals);
    free(q->lens);
    free(q->fmts);
    free(q->sql);
    free(q);
}

void msh_pg_sql_bind(msh_pg_sql *q, int i, const char *s, int n, bool bin)
{
    if (i < 1 || i > q->nparams)
        return;
    free(q->vals[i - 1]);
    q->vals[i - 1] = NULL;
    q->lens[i - 1] = 0;
    q->fmts[i - 1] = bin;
    if (!s)
        return;
    size_t len = n < 0 ? strlen(s) : (size_t)n;
    char *c = malloc(len + 1);
    if (!c)
        return; /* bound as NULL; the statement fails on a NOT NULL column or writes nothing */
    memcpy(c, s, len);
    c[len] = 0;
    q->vals[i - 1] = c;
    q->lens[i - 1] = (int)len;
}

int msh_pg_sql_step(msh_pg_sql *q)
{
    PQfreemem(q->blob);
    q->blob = NULL;
    if (!q->res) {
        q->res = PQexecParams(q->pg->conn, q->sql, q->nparams, NULL, (const char *const *)q->vals, q->lens, q->fmts,
                              0);
        ExecStatusType st = PQresultStatus(q->res);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            note_err(q->pg, PQresultErrorMessage(q->res));
            return -1;
        }
        q->pg->last_changes = (size_t)strtoull(PQcmdTuples(q->res), NULL, 10);
    }
    if (PQresultStatus(q->res) != PGRES_TUPLES_OK && PQresultStatus(q->res) != PGRES_COMMAND_OK)
        return -1;
    q->row++;
    return q->row < PQntuples(q->res) ? 1 : 0;
}

const char *msh_pg_sql_col(msh_pg_sql *q, int i, size_t *len)
{
    if (len)
        *len = 0;
    if (!q->res || q->row < 0 || q->row >= PQntuples(q->res) || i >= PQnfields(q->res) ||
        PQgetisnull(q->res, q->row, i))
        return NULL;
    const char *v = PQgetvalue(q->res, q->row, i);
    if (PQftype(q->res, i) == 17 /* bytea: text results come as \x hex */) {
        size_t n = 0;
        PQfreemem(q->blob);
        q->blob = (char *)PQunescapeBytea((const unsigned char *)v, &n);
        if (len)
            *len = n;
        return q->blob;
    }
    if (len)
        *len = (size_t)PQgetlength(q->res, q->row, i);
    return v;
}
