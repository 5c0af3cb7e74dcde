/* store_pg_edit.c: the steps of an audited edit on PostgreSQL (store_pg_edit.h).
 *
 * Every statement goes through the plain SQL surface of store_pg.c (`?` parameters as text, the
 * WKB as binary bytea), so this file speaks SQL only: no libpq. Values are read with the casts of a
 * layer scan, so a table another program changed still reads with the types the registry says.
 */
#include "store_pg_edit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_buf.h"
#include "core/msh_time.h"

static const char AUDIT_SQL[] =
    "BEGIN; SELECT pg_advisory_xact_lock(7255);"
    "CREATE TABLE IF NOT EXISTS msh_audit ("
    " seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, collection text NOT NULL, fid bigint, op text NOT NULL,"
    " at text NOT NULL, at_ms bigint NOT NULL, who text NOT NULL, role text NOT NULL, version bigint,"
    " before text, after text, minx double precision, miny double precision, maxx double precision,"
    " maxy double precision);"
    "CREATE INDEX IF NOT EXISTS msh_audit_item ON msh_audit (collection, fid, seq); COMMIT";

const char MSH_PG_ASOF_SQL[] =
    "SELECT a.fid, a.before, ST_AsBinary(ST_GeomFromGeoJSON((a.before::json -> 'geometry')::text))"
    " FROM msh_audit a JOIN (SELECT fid, min(seq) AS s FROM msh_audit WHERE collection = ?1"
    " AND fid IS NOT NULL AND seq > ?2 AND at_ms > ?3 GROUP BY fid) m ON a.seq = m.s ORDER BY a.fid";

static msh_rc fail(msh_pg *pg, msh_err *err, const char *what)
{
    return msh_err_set(err, MSH_EIO, "%s: %s", what, msh_pg_errmsg(pg));
}

static msh_rc exec(msh_pg *pg, const char *sql, msh_err *err)
{
    return msh_pg_exec(pg, sql) ? fail(pg, err, "database") : MSH_OK;
}

/* Prepare `sql`, bind n text parameters (NULL: SQL NULL) and run it: *q is on its first row (MSH_SQL_ROW
 * in *step) or done; the caller finalizes it. */
static msh_rc query(msh_pg *pg, const char *sql, int n, const char *const *p, msh_pg_sql **q, int *step,
                    const char *what, msh_err *err)
{
    if (msh_pg_sql_prepare(pg, sql, q))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        msh_pg_sql_bind(*q, i + 1, p[i], -1, false);
    if ((*step = msh_pg_sql_step(*q)) < 0) {
        msh_rc rc = fail(pg, err, what);
        msh_pg_sql_finalize(*q);
        *q = NULL;
        return rc;
    }
    return MSH_OK;
}

/* The first column of a one-row query as an integer (0 when no row or NULL). */
static msh_rc query_int(msh_pg *pg, const char *sql, int n, const char *const *p, int64_t *out, const char *what,
                        msh_err *err)
{
    msh_pg_sql *q;
    int step = 0;
    msh_rc rc = query(pg, sql, n, p, &q, &step, what, err);
    if (rc)
        return rc;
    const char *v = step > 0 ? msh_pg_sql_col(q, 0, NULL) : NULL;
    *out = v ? strtoll(v, NULL, 10) : 0;
    msh_pg_sql_finalize(q);
    return MSH_OK;
}

msh_rc msh_pg_edit_prepare(msh_pg *pg, msh_err *err)
{
    msh_rc rc = exec(pg, "SET synchronous_commit = on", err);
    if (!rc && !msh_pg_table_exists(pg, "msh_audit") && (rc = exec(pg, AUDIT_SQL, err)))
        msh_pg_exec(pg, "ROLLBACK");
    int64_t v = 0; /* the version the server's catalog was loaded at, or later: a commit after it is noticed */
    if (!rc && !(rc = query_int(pg, "SELECT value::bigint FROM msh_meta WHERE key = 'version'", 0, NULL, &v,
                                "reading the store version", err)))
        msh_pg_version_seen(pg, (uint64_t)v, true);
    return rc;
}

msh_rc msh_pg_edit_begin(msh_pg *pg, msh_err *err)
{
    int64_t v = 0;
    msh_rc rc = exec(pg, "BEGIN; SET LOCAL msh.quiet = '1'", err);
    if (!rc)
        rc = query_int(pg, "SELECT value::bigint FROM msh_meta WHERE key = 'version' FOR UPDATE", 0, NULL, &v,
                       "taking the writers' lock", err);
    if (rc) {
        msh_pg_exec(pg, "ROLLBACK");
        return rc;
    }
    msh_pg_version_seen(pg, (uint64_t)v, false);
    return MSH_OK;
}

msh_rc msh_pg_edit_commit(msh_pg *pg, msh_err *err)
{
    if (msh_pg_commit(pg)) {
        msh_rc rc = fail(pg, err, "committing");
        msh_pg_exec(pg, "ROLLBACK");
        return rc;
    }
    return MSH_OK;
}

/* `head` + the layer's quoted table name + `tail`, NUL-terminated in b. */
static msh_rc layer_sql(msh_buf *b, const msh_layer_info *li, const char *head, const char *tail, msh_err *err)
{
    msh_buf_printf(b, "%s", head);
    msh_store_quote_ident(b, li->name);
    msh_buf_printf(b, "%s", tail);
    return msh_buf_putc(b, 0) ? msh_err_set(err, MSH_ENOMEM, "out of memory") : MSH_OK;
}

/* The first column of `head` + the layer's quoted name + `tail` as an integer: ?1 the layer's name,
 * ?2 `fid` (when the query names it: with_fid). */
static msh_rc layer_int(msh_pg *pg, const msh_layer_info *li, const char *head, const char *tail, bool with_fid,
                        int64_t fid, int64_t *out, msh_err *err)
{
    msh_buf b;
    msh_buf_init(&b, 4096);
    char f[32];
    snprintf(f, sizeof f, "%lld", (long long)fid);
    const char *p[2] = {li->name, f};
    msh_rc rc = layer_sql(&b, li, head, tail, err);
    if (!rc)
        rc = query_int(pg, (const char *)b.data, with_fid ? 2 : 1, p, out, "choosing an id", err);
    msh_buf_free(&b);
    return rc;
}

msh_rc msh_pg_edit_next_fid(msh_pg *pg, const msh_layer_info *li, int64_t *fid, msh_err *err)
{
    return layer_int(pg, li, "SELECT greatest(coalesce((SELECT max(fid) FROM ",
                     "), 0), coalesce((SELECT max(fid) FROM msh_audit WHERE collection = ?1), 0)) + 1", false, 0, fid,
                     err);
}

msh_rc msh_pg_edit_fid_taken(msh_pg *pg, const msh_layer_info *li, int64_t fid, bool *taken, msh_err *err)
{
    int64_t n = 0;
    msh_rc rc = layer_int(pg, li, "SELECT (EXISTS (SELECT 1 FROM ",
                          " WHERE fid = ?2::bigint) OR EXISTS (SELECT 1 FROM msh_audit WHERE collection = ?1 AND"
                          " fid = ?2::bigint))::int",
                          true, fid, &n, err);
    *taken = !rc && n != 0;
    return rc;
}

static const char *cast_of(msh_ftype t)
{
    switch (t) {
    case MSH_FT_INT: case MSH_FT_BOOL: return "::bigint";
    case MSH_FT_REAL: return "::float8";
    default: return "::text";
    }
}

msh_rc msh_pg_edit_read(msh_pg *pg, const msh_layer_info *li, int64_t fid, msh_pg_feature_fn fn, void *ud,
                        msh_err *err)
{
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 20);
    msh_buf_printf(&b, "SELECT ST_AsGeoJSON(geom, 9, 0), ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)");
    for (uint32_t i = 0; i < li->nfields; i++) {
        msh_buf_printf(&b, ", ");
        msh_store_quote_ident(&b, li->fields[i].name);
        msh_buf_printf(&b, "%s", cast_of(li->fields[i].type));
    }
    msh_value *vals = li->nfields ? calloc(li->nfields, sizeof *vals) : NULL;
    msh_pg_sql *q = NULL;
    msh_rc rc = li->nfields && !vals ? msh_err_set(err, MSH_ENOMEM, "out of memory")
                                      : layer_sql(&b, li, " FROM ", " WHERE fid = ?", err);
    char f[32];
    snprintf(f, sizeof f, "%lld", (long long)fid);
    const char *p[1] = {f};
    int step = 0;
    if (!rc)
        rc = query(pg, (const char *)b.data, 1, p, &q, &step, "reading the feature", err);
    if (!rc && step > 0) {
        double bb[4];
        for (int i = 0; i < 4; i++) {
            const char *t = msh_pg_sql_col(q, 1 + i, NULL);
            bb[i] = t ? strtod(t, NULL) : NAN;
        }
        for (uint32_t i = 0; i < li->nfields; i++) {
            size_t len;
            const char *t = msh_pg_sql_col(q, 5 + (int)i, &len);
            msh_value *v = &vals[i];
            memset(v, 0, sizeof *v);
            if (!t)
                continue;
            v->type = (uint8_t)li->fields[i].type;
            if (v->type == MSH_FT_INT || v->type == MSH_FT_BOOL)
                v->u.i = strtoll(t, NULL, 10);
            else if (v->type == MSH_FT_REAL)
                v->u.d = strtod(t, NULL);
            else {
                v->type = MSH_FT_STRING;
                v->u.s = t;
                v->len = (uint32_t)len;
            }
        }
        rc = fn(ud, msh_pg_sql_col(q, 0, NULL), bb, vals);
    }
    msh_pg_sql_finalize(q);
    free(vals);
    msh_buf_free(&b);
    return rc;
}

/* A value as the text PostgreSQL reads for its column (NULL: SQL NULL); num is room for a number. */
static const char *value_text(const msh_value *v, char num[32])
{
    switch (v->type) {
    case MSH_FT_INT: case MSH_FT_BOOL: snprintf(num, 32, "%lld", (long long)v->u.i); return num;
    case MSH_FT_REAL: snprintf(num, 32, "%.17g", v->u.d); return num;
    case MSH_FT_STRING: return v->u.s;
    default: return NULL;
    }
}

msh_rc msh_pg_edit_write(msh_pg *pg, msh_edit_kind kind, const msh_layer_info *li, int64_t fid, const uint8_t *wkb,
                         size_t wkb_len, const msh_value *vals, msh_err *err)
{
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 20);
    uint32_t nf = kind == MSH_EDIT_DELETE ? 0 : li->nfields;
    uint32_t first = wkb ? 3 : 2; /* the fields' parameters: after the id and the geometry, if any */
    if (kind == MSH_EDIT_CREATE) {
        msh_buf_printf(&b, "INSERT INTO ");
        msh_store_quote_ident(&b, li->name);
        msh_buf_printf(&b, " (fid, geom");
        for (uint32_t i = 0; i < nf; i++) {
            msh_buf_printf(&b, ", ");
            msh_store_quote_ident(&b, li->fields[i].name);
        }
        msh_buf_printf(&b, ") VALUES (?1, ST_GeomFromWKB(?2, 4326)");
        for (uint32_t i = 0; i < nf; i++)
            msh_buf_printf(&b, ", ?%u", i + first);
        msh_buf_printf(&b, ")");
    } else if (kind == MSH_EDIT_DELETE) {
        msh_buf_printf(&b, "DELETE FROM ");
        msh_store_quote_ident(&b, li->name);
        msh_buf_printf(&b, " WHERE fid = ?1");
    } else {
        msh_buf_printf(&b, "UPDATE ");
        msh_store_quote_ident(&b, li->name);
        msh_buf_printf(&b, " SET geom = %s", wkb ? "ST_GeomFromWKB(?2, 4326)" : "geom");
        for (uint32_t i = 0; i < nf; i++) {
            msh_buf_printf(&b, ", ");
            msh_store_quote_ident(&b, li->fields[i].name);
            msh_buf_printf(&b, " = ?%u", i + first);
        }
        msh_buf_printf(&b, " WHERE fid = ?1");
    }
    msh_pg_sql *q = NULL;
    msh_rc rc = msh_buf_putc(&b, 0) ? msh_err_set(err, MSH_ENOMEM, "layer %s: too many fields", li->name) : MSH_OK;
    if (!rc && msh_pg_sql_prepare(pg, (const char *)b.data, &q))
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    if (!rc) {
        char f[32], num[32];
        snprintf(f, sizeof f, "%lld", (long long)fid);
        msh_pg_sql_bind(q, 1, f, -1, false);
        if (wkb)
            msh_pg_sql_bind(q, 2, (const char *)wkb, (int)wkb_len, true);
        for (uint32_t i = 0; i < nf && !rc; i++) {
            const msh_value *v = &vals[i];
            if (v->type == MSH_FT_STRING && memchr(v->u.s, 0, v->len))
                rc = msh_err_set(err, MSH_EINVAL, "property '%s': text holds a NUL character", li->fields[i].name);
            const char *t = value_text(v, num);
            msh_pg_sql_bind(q, (int)(i + first), t, v->type == MSH_FT_STRING ? (int)v->len : -1, false);
        }
        if (!rc && msh_pg_sql_step(q) < 0)
            rc = fail(pg, err, "writing the feature");
    }
    msh_pg_sql_finalize(q);
    msh_buf_free(&b);
    return rc;
}

msh_rc msh_pg_edit_bump(msh_pg *pg, const char *layer, int dcount, const double *after, uint64_t *version,
                        msh_err *err)
{
    char d[16], bb[4][32];
    snprintf(d, sizeof d, "%d", dcount);
    for (int i = 0; i < 4; i++)
        snprintf(bb[i], sizeof bb[i], "%.17g", after ? after[i] : 0.0);
    const char *p[7] = {layer, d, after ? "t" : "f", bb[0], bb[1], bb[2], bb[3]};
    int64_t v = 0;
    msh_rc rc = query_int(pg,
                          "WITH v AS (UPDATE msh_meta SET value = (value::bigint + 1)::text WHERE key = 'version'"
                          " RETURNING value::bigint AS n) UPDATE msh_layers SET version = (SELECT n FROM v),"
                          " feature_count = greatest(0, feature_count + ?2::bigint),"
                          " minx = CASE WHEN ?3::boolean THEN least(coalesce(minx, ?4::float8), ?4::float8) ELSE minx END,"
                          " miny = CASE WHEN ?3::boolean THEN least(coalesce(miny, ?5::float8), ?5::float8) ELSE miny END,"
                          " maxx = CASE WHEN ?3::boolean THEN greatest(coalesce(maxx, ?6::float8), ?6::float8) ELSE maxx END,"
                          " maxy = CASE WHEN ?3::boolean THEN greatest(coalesce(maxy, ?7::float8), ?7::float8) ELSE maxy END"
                          " WHERE name = ?1 RETURNING version",
                          7, p, &v, "updating the registry", err);
    if (!rc && v <= 0)
        rc = msh_err_set(err, MSH_ENOTFOUND, "no layer '%s' in the registry", layer);
    if (!rc) {
        *version = (uint64_t)v;
        msh_pg_version_seen(pg, (uint64_t)v, true);
    }
    return rc;
}

msh_rc msh_pg_edit_audit(msh_pg *pg, const msh_edit_audit_row *a, int64_t *seq, msh_err *err)
{
    char f[32], ms[32], ver[32], bb[4][32];
    snprintf(f, sizeof f, "%lld", a->fid ? (long long)*a->fid : 0LL);
    snprintf(ms, sizeof ms, "%lld", (long long)a->at_ms);
    snprintf(ver, sizeof ver, "%llu", (unsigned long long)a->version);
    for (int i = 0; i < 4; i++)
        snprintf(bb[i], sizeof bb[i], "%.17g", a->bbox ? a->bbox[i] : 0.0);
    bool box = a->bbox && isfinite(a->bbox[0]);
    const char *p[14] = {a->layer, a->fid ? f : NULL, a->op, a->at, ms, a->who ? a->who : "",
                         a->role ? a->role : "", a->version ? ver : NULL, a->before, a->after,
                         box ? bb[0] : NULL, box ? bb[1] : NULL, box ? bb[2] : NULL, box ? bb[3] : NULL};
    int64_t s = 0;
    msh_rc rc = query_int(pg,
                          "INSERT INTO msh_audit (collection, fid, op, at, at_ms, who, role, version, before, after,"
                          " minx, miny, maxx, maxy) VALUES (?1, ?2::bigint, ?3, ?4, ?5::bigint, ?6, ?7,"
                          " coalesce(?8::bigint, (SELECT value::bigint FROM msh_meta WHERE key = 'version')), ?9, ?10,"
                          " ?11::float8, ?12::float8, ?13::float8, ?14::float8) RETURNING seq",
                          14, p, &s, "writing the audit", err);
    if (!rc && seq)
        *seq = s;
    return rc;
}

msh_rc msh_pg_edit_note_import(msh_pg *pg, const char *layer, const char *source, msh_err *err)
{
    if (!msh_pg_table_exists(pg, "msh_audit"))
        return MSH_OK;
    char at[MSH_TIME_ISO_CAP];
    int64_t now = msh_now_ms();
    msh_time_format_iso(now, at, sizeof at, 3);
    msh_edit_audit_row a = {layer, NULL, "import", at, now, source, "import", 0, NULL, NULL, NULL};
    return msh_pg_edit_audit(pg, &a, NULL, err);
}
