/* store_pg_edit.h: the steps of an audited edit (edit.h) on a PostgreSQL store.
 *
 * edit.c keeps the rules of a write (which id a create gets, what the audit row holds, group
 * commit and savepoints, how a history is read) and asks the backend for each step; on a
 * PostgreSQL store the steps are these, so every spelling that differs from SpatiaLite's
 * (ST_ functions, identity columns, casts, FOR UPDATE, RETURNING seq) stays in this pair of
 * files.
 *
 * Writers of several servers on one database are serialised as SQLite's BEGIN IMMEDIATE
 * serialises the connections of one file: msh_pg_edit_begin locks the store's version row
 * (SELECT ... FOR UPDATE) for the whole transaction, and every writer (edits, imports) updates
 * that row, so edits commit one transaction at a time and audit seq follows commit order. When
 * the version found under the lock is not the one this connection last saw, another server
 * committed in between: the connection counts it as a change (msh_store_data_version moves), so
 * the edit service reloads before it checks If-Match against a stale view.
 *
 * Durability: the edit connection runs with synchronous_commit = on, whatever the server's
 * default: COMMIT returns once the commit record is flushed (an acknowledged write survives a
 * crash of the database server, as with SQLite's synchronous=FULL). The commit sends NOTIFY
 * msh_changes in the transaction, so every other server reloads within its poll (50 ms).
 *
 * One connection, one thread at a time (the edit service's lock), as with the store handle.
 */
#ifndef MSH_STORE_PG_EDIT_H
#define MSH_STORE_PG_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "edit.h"
#include "layer.h"
#include "store_pg.h"

/** The audit table and its index (made once, under an advisory lock); synchronous_commit on. */
msh_rc msh_pg_edit_prepare(msh_pg *pg, msh_err *err);
/** BEGIN, the writers' lock (the version row), external-edit triggers quiet for this transaction. */
msh_rc msh_pg_edit_begin(msh_pg *pg, msh_err *err);
/** NOTIFY and COMMIT; on failure the transaction is rolled back. */
msh_rc msh_pg_edit_commit(msh_pg *pg, msh_err *err);

/** The next id of a create: one more than any the layer or its audit ever had. */
msh_rc msh_pg_edit_next_fid(msh_pg *pg, const msh_layer_info *li, int64_t *fid, msh_err *err);
/** Whether `fid` is or was an id of the layer (its table or its audit). */
msh_rc msh_pg_edit_fid_taken(msh_pg *pg, const msh_layer_info *li, int64_t fid, bool *taken, msh_err *err);

/** Feature `fid`: its geometry as GeoJSON (9 decimals), its lon/lat bounds and li->nfields values
 * (strings valid during the call). Not called when there is no such feature. */
typedef msh_rc (*msh_pg_feature_fn)(void *ud, const char *geojson, const double bb[4], const msh_value *vals);
msh_rc msh_pg_edit_read(msh_pg *pg, const msh_layer_info *li, int64_t fid, msh_pg_feature_fn fn, void *ud,
                        msh_err *err);

/** The row itself: insert (wkb set), update (wkb NULL: the geometry kept) or delete. */
msh_rc msh_pg_edit_write(msh_pg *pg, msh_edit_kind kind, const msh_layer_info *li, int64_t fid, const uint8_t *wkb,
                         size_t wkb_len, const msh_value *vals, msh_err *err);

/** The store's version counter and the layer's registry row: a new version, the feature count moved
 * by `dcount`, the bounds grown to `after` (NULL: kept). */
msh_rc msh_pg_edit_bump(msh_pg *pg, const char *layer, int dcount, const double *after, uint64_t *version,
                        msh_err *err);

/** One audit row (edit.c fills it); version 0: the store's current version (an import). */
typedef struct msh_edit_audit_row {
    const char *layer;
    const int64_t *fid; /* NULL: none (an import) */
    const char *op, *at;
    int64_t at_ms;
    const char *who, *role;
    uint64_t version;
    const char *before, *after;
    const double *bbox; /* NULL: none */
} msh_edit_audit_row;
msh_rc msh_pg_edit_audit(msh_pg *pg, const msh_edit_audit_row *a, int64_t *seq, msh_err *err);

/** The layer writer's note of a re-import (inside its transaction; no-op without the audit table). */
msh_rc msh_pg_edit_note_import(msh_pg *pg, const char *layer, const char *source, msh_err *err);

/** The as-of query of asof_layer.c in PostgreSQL's spelling: ?1 collection, ?2 import seq, ?3 time;
 * rows of fid, the audit's `before` text and its geometry as WKB. */
extern const char MSH_PG_ASOF_SQL[];

#endif
