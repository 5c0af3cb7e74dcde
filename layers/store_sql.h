/* store_sql.h: SQL over the store for the rooms above base, which keep tables of their own in the
 * store file (the incident log, the KPI history) but do not include SQLite: the store owns it.
 *
 * A small, plain surface over one store connection: run a script, transactions (BEGIN IMMEDIATE,
 * commit, roll back), and prepared statements with numbered parameters (from 1) and columns (from 0).
 * Every failing call returns MSH_EIO (or MSH_SQL_ERROR from a step); the connection's own message
 * is msh_store_errmsg, for the caller to put in its words. Text is copied when bound; a number that
 * is not finite is bound as NULL and a NULL column reads as NAN, so a missing measure round-trips.
 * Like the store handle, use it from one thread at a time.
 *
 * On a PostgreSQL store (store_pg.h) the same calls run there: write parameters as `?` or `?N`
 * and keep to SQL both engines speak; msh_store_has_table and msh_store_sql_now give the two
 * things whose spelling differs, and msh_store_is_pg lets a caller pick its DDL.
 */
#ifndef MSH_STORE_SQL_H
#define MSH_STORE_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "store.h"

/** The last error message of the store's connection. */
const char *msh_store_errmsg(msh_store *s);
/** Run one or more statements that return no rows we read. */
msh_rc msh_store_exec(msh_store *s, const char *sql);
/** Wait up to `ms` for another connection's lock before a statement fails with "database is locked". */
void msh_store_busy_timeout(msh_store *s, int ms);
/** Adds a TEXT column `field` (lower case and '_' only) to the layer's table and to its registry row's
 * field list, on either backend; inside the caller's transaction. */
msh_rc msh_store_add_text_field(msh_store *s, const char *layer, const char *field);
/** A server's start on a shared store, one at a time: on PostgreSQL a session advisory lock (taken with
 * on = true, waited for; given back with false), so that nodes starting together do not add the same
 * tables and layers at once; nothing on SQLite (one file, one writer already). */
void msh_store_start_lock(msh_store *s, bool on);
/** BEGIN IMMEDIATE: the write lock now, so that the transaction cannot fail half-way for it. */
msh_rc msh_store_begin(msh_store *s);
msh_rc msh_store_commit(msh_store *s);
void msh_store_rollback(msh_store *s);
/** Rows changed by the last INSERT, UPDATE or DELETE. */
size_t msh_store_changes(msh_store *s);
/** True when the store has a table `name`. */
bool msh_store_has_table(msh_store *s, const char *name);
/** An SQL expression for the current UTC time as text, 2026-01-31T12:00:00Z. */
const char *msh_store_sql_now(msh_store *s);
/** An SQL expression for the EPSG:4326 point of the row's `lon` and `lat` columns (SpatiaLite's
 * MakePoint, PostGIS's ST_MakePoint with its SRID set). */
const char *msh_store_sql_point(msh_store *s);
/** A geometry column `geom` of points in EPSG:4326 added to `table` when it has none (SpatiaLite's
 * AddGeometryColumn, registered for QGIS; on PostgreSQL a typed column, which PostGIS lists itself). */
msh_rc msh_store_add_point_column(msh_store *s, const char *table);

/** A connection of a room's own to the store at `path` (never created) with the room's tables made:
 * it waits up to busy_ms (0: not at all; SQLite only) for another connection's lock, then runs
 * `schema` (SQL both engines speak; NULL: none). On failure nothing stays open and err says `what`
 * failed, in the store's words. */
msh_rc msh_store_open_own(const char *path, const char *what, const char *schema, int busy_ms, msh_store **out,
                          msh_err *err);

typedef struct msh_sql msh_sql; /* a prepared statement */

enum { MSH_SQL_ERROR = -1, MSH_SQL_DONE = 0, MSH_SQL_ROW = 1 };

msh_rc msh_sql_prepare(msh_store *s, const char *sql, msh_sql **out);
/** Free the statement (NULL is fine). */
void msh_sql_finalize(msh_sql *q);
/** Ready to step again (bindings kept until rebound). */
void msh_sql_reset(msh_sql *q);
void msh_sql_bind_int(msh_sql *q, int i, int64_t v);
/** v, or NULL when v is not finite. */
void msh_sql_bind_num(msh_sql *q, int i, double v);
/** s[0..n) (n < 0: up to its NUL), or NULL when s is NULL. */
void msh_sql_bind_text(msh_sql *q, int i, const char *s, int n);
/** b[0..n) as a BLOB (PostgreSQL's bytea), copied; NULL when b is NULL. */
void msh_sql_bind_blob(msh_sql *q, int i, const void *b, size_t n);
/** MSH_SQL_ROW (a row to read), MSH_SQL_DONE or MSH_SQL_ERROR. */
int msh_sql_step(msh_sql *q);
int64_t msh_sql_int(msh_sql *q, int i);
/** The column as a number; NAN when it is NULL. */
double msh_sql_num(msh_sql *q, int i);
/** The column as text (valid until the next step), NULL when NULL; *len gets its bytes when len is set. */
const char *msh_sql_text(msh_sql *q, int i, size_t *len);
/** The column as bytes (valid until the next step), NULL when NULL; *len gets their count. */
const void *msh_sql_blob(msh_sql *q, int i, size_t *len);

/** One number asked of the store: `sql` prepared (with ?1 bound to *arg when arg is set), the first
 * column of its first row read into *out, the statement freed. False when that failed or no row came
 * (*out is then untouched). */
bool msh_sql_one_int(msh_store *s, const char *sql, const int64_t *arg, int64_t *out);

#endif
