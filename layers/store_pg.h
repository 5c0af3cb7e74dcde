/* store_pg.h: the PostgreSQL + PostGIS backend of the store (store.h), through libpq.
 *
 * The store has two backends behind one interface. store.c keeps the SpatiaLite one and, when
 * the store was opened from a `postgresql://` (or `postgres://`) connection string, hands each
 * call to the functions here; store_sql.c does the same for the plain SQL surface the rooms
 * above use (store_sql.h). Everything that differs between the two dialects lives in this
 * file's implementation: nowhere else in layers/ names libpq.
 *
 * The schema mirrors the SpatiaLite one: `msh_meta` (id, version counter), `msh_layers` (the
 * registry, same columns, `title` from the start) and one table per layer (fid bigint primary
 * key, typed columns as bigint / double precision / text, `geom geometry(Geometry, 4326)` with
 * a GiST index), so QGIS and ogr2ogr open it as they open any PostGIS database.
 *
 * Change propagation: every committing writer of Mashaer sends `NOTIFY msh_changes` inside its
 * transaction (delivered at commit, dropped on rollback), and every store connection LISTENs.
 * msh_pg_data_version reads the notifications already on the socket without blocking and
 * counts them: it moves like SQLite's PRAGMA data_version does when another connection
 * commits, so the server's reload loop works unchanged. Edits of a layer table by other
 * programs (psql, QGIS) fire a statement trigger that bumps the versions and notifies too
 * (the equivalent of store_watch.c). A lost connection is re-opened on the next call and
 * counted as a change, since notifications sent meanwhile are lost.
 *
 * One connection per handle: use a handle from one thread at a time, as with SQLite.
 */
#ifndef MSH_STORE_PG_H
#define MSH_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"
#include "layer.h"
#include "store.h"

typedef struct msh_pg msh_pg;

/** The backend of a store opened from a URL, NULL for SpatiaLite (defined in store.c). */
msh_pg *msh_store_pg(msh_store *s);

/** The query of a layer scan, shared by the backends (defined in store.c): fid, `wkb_fn`(geom), the
 * fields (each followed by cast(type) when cast is set), in fid order; NUL-terminated in sql. */
msh_rc msh_store_scan_sql(msh_buf *sql, const msh_layer_info *info, const char *wkb_fn,
                          const char *(*cast)(msh_ftype), msh_err *err);

/** True when `path` names a PostgreSQL store (postgresql:// or postgres://). */
bool msh_pg_is_url(const char *path);

/** Connect, LISTEN, and check (with `create`: make) the schema; `id` gets the store's id. */
msh_rc msh_pg_open(const char *url, bool create, msh_pg **out, char id[33], msh_err *err);
void msh_pg_close(msh_pg *pg);
/** Counts the change notifications received so far (non-blocking). */
long msh_pg_data_version(msh_pg *pg);

/** The store version `v` as this connection reads it under the writers' lock (store_pg_edit.h), or
 * `own`: as its own write made it. A version it did not expect counts as a change (data_version). */
void msh_pg_version_seen(msh_pg *pg, uint64_t v, bool own);

/** The registry, sorted by name (byte order); fields come as the registry's JSON text. */
typedef msh_rc (*msh_pg_parse_fields_fn)(const char *json, msh_layer_info *info);
msh_rc msh_pg_list(msh_pg *pg, msh_pg_parse_fields_fn parse, msh_layer_info **infos, size_t *n, msh_err *err);

/** Layer writing (one at a time per connection): begin opens the transaction (a savepoint
 * inside a batch), replaces the table and starts a COPY; add queues one row; commit ends the
 * COPY, indexes, writes the registry row with a new version and notifies. */
msh_rc msh_pg_layer_begin(msh_pg *pg, const msh_layer_spec *spec, bool batch, msh_err *err);
msh_rc msh_pg_layer_add(msh_pg *pg, const uint8_t *wkb, size_t len, const msh_value *vals, msh_err *err);
typedef struct msh_pg_registry_row {
    const char *geometry_type;
    const double *bounds; /* NULL: no features */
    const char *fields_json;
    uint64_t count;
} msh_pg_registry_row;
msh_rc msh_pg_layer_commit(msh_pg *pg, const msh_pg_registry_row *row, bool batch, uint64_t *version, msh_err *err);
void msh_pg_layer_abort(msh_pg *pg, bool batch);

msh_rc msh_pg_drop_layer(msh_pg *pg, const char *name, msh_err *err);

/** Every feature of a layer in fid order (msh_store_scan). */
msh_rc msh_pg_scan(msh_pg *pg, const msh_layer_info *info, msh_store_row_fn fn, void *ud, msh_err *err);

/** The layer version of the latest edit of `layer` by another program (0: none). */
uint64_t msh_pg_external_version(msh_pg *pg, const char *layer);

/* The plain SQL surface (store_sql.h) on PostgreSQL. */
typedef struct msh_pg_sql msh_pg_sql;
const char *msh_pg_errmsg(msh_pg *pg);
/** Run statements; `notify` adds the change notification to the transaction (a COMMIT). */
msh_rc msh_pg_exec(msh_pg *pg, const char *sql);
msh_rc msh_pg_commit(msh_pg *pg);
size_t msh_pg_changes(msh_pg *pg);
bool msh_pg_table_exists(msh_pg *pg, const char *name);
msh_rc msh_pg_sql_prepare(msh_pg *pg, const char *sql, msh_pg_sql **out);
void msh_pg_sql_finalize(msh_pg_sql *q);
void msh_pg_sql_reset(msh_pg_sql *q);
/** Bind parameter i (from 1) as text (NULL: SQL NULL) or as bytes (`bin`). */
void msh_pg_sql_bind(msh_pg_sql *q, int i, const char *s, int n, bool bin);
int msh_pg_sql_step(msh_pg_sql *q);
/** Column i of the current row: NULL when SQL NULL; *len its bytes (bytea decoded). */
const char *msh_pg_sql_col(msh_pg_sql *q, int i, size_t *len);

#endif
