/* store.h: the store that holds every static layer: a SpatiaLite file (the default) or a
 * PostgreSQL + PostGIS database (store_pg.h), chosen by what msh_store_open is given.
 *
 * One table per layer (fid INTEGER PRIMARY KEY, typed attribute columns, a
 * `geom` GEOMETRY column in EPSG:4326 with an R*Tree spatial index) plus the
 * layer registry `msh_layers` (name, kind, geometry type, bounds, zoom range,
 * fields as JSON, feature count, data version) and `msh_meta` (the store's
 * random id, which goes into ETags so a new file never reuses an old tag, and
 * the version counter). A layer may carry a title: the source's own name for it, in any
 * script, when its store name had to be transliterated. The file stays a plain SpatiaLite database that QGIS
 * and ogrinfo open as they are.
 *
 * A store handle is one SQLite connection: use it from one thread at a time.
 *
 * Given a `postgresql://USER@HOST:PORT/DB` connection string instead of a path, the same
 * functions work on PostgreSQL (store_pg.h has the backend and what it keeps alike); there
 * msh_store_sqlite is NULL, and code that reads SQLite directly says it is not available.
 */
#ifndef MSH_STORE_H
#define MSH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "layer.h"

typedef struct msh_store msh_store;
typedef struct sqlite3 sqlite3;

/** True when `path` is a connection string (postgresql://...) rather than a file. */
bool msh_store_is_url(const char *path);
/** Open (and with `create`, create and initialise) the store at `path` (a file, or a postgresql:// URL). */
msh_rc msh_store_open(const char *path, bool create, msh_store **out, msh_err *err);
void msh_store_close(msh_store *s);
/** The SQLite connection, for modules of layers/ that read tables directly; NULL on PostgreSQL. */
sqlite3 *msh_store_sqlite(msh_store *s);
/** True when the store is a PostgreSQL database. */
bool msh_store_is_pg(const msh_store *s);
/** The store's random id (hex). */
const char *msh_store_id(const msh_store *s);

/** A number that changes whenever another connection commits to the file (PRAGMA data_version). */
long msh_store_data_version(msh_store *s);

/** Every registered layer's info, sorted by name. Free with msh_store_infos_free. */
msh_rc msh_store_list(msh_store *s, msh_layer_info **infos, size_t *n, msh_err *err);
void msh_store_infos_free(msh_layer_info *infos, size_t n);

/** One feature as the store reads it: fid, 2D WKB, the layer's nfields values (strings valid
 * during the call only). A non-zero return stops the scan with that code. */
typedef msh_rc (*msh_store_row_fn)(void *ud, uint64_t fid, const uint8_t *wkb, size_t len, const msh_value *vals);
/** Every feature of the layer `info` describes, in fid order; rows without a geometry are left out. */
msh_rc msh_store_scan(msh_store *s, const msh_layer_info *info, msh_store_row_fn fn, void *ud, msh_err *err);

/** Writing one layer in one transaction: begin, add features, commit (or abort). */
typedef struct msh_store_writer msh_store_writer;

typedef struct msh_layer_spec {
    const char *name;
    const msh_field *fields;
    uint32_t nfields;
    int minzoom, maxzoom;
    const char *source; /* where it came from, for the registry */
    const char *title;  /* the source's own name for it (any script), or NULL */
} msh_layer_spec;

/**
 * Group the layers written until msh_store_batch_end into one transaction: either every one of
 * them is committed or none (an import of one file is all-or-nothing). Inside a batch a
 * writer's begin/commit/abort are a savepoint and its release or rollback.
 */
msh_rc msh_store_batch_begin(msh_store *s, msh_err *err);
/** Commit the batch (`commit`) or roll all of it back. */
msh_rc msh_store_batch_end(msh_store *s, bool commit, msh_err *err);

/**
 * Start replacing (or creating) a layer: opens a transaction, drops the old
 * table if any and creates the new one. Nothing is visible to readers until
 * commit; abort (or a failure anywhere) leaves the store as it was.
 */
msh_rc msh_store_writer_begin(msh_store *s, const msh_layer_spec *spec, msh_store_writer **out, msh_err *err);
/** Add one feature: 2D WKB in EPSG:4326 and spec.nfields values (type 0 = NULL). */
msh_rc msh_store_writer_add(msh_store_writer *w, const uint8_t *wkb, size_t len, const msh_value *vals, msh_err *err);
/** Build the spatial index, update the registry with a new version, commit. Frees w. */
msh_rc msh_store_writer_commit(msh_store_writer *w, uint64_t *version, msh_err *err);
/** Roll back and free w. */
void msh_store_writer_abort(msh_store_writer *w);

/** Append `name` quoted as an SQL identifier ("a""b"). */
msh_rc msh_store_quote_ident(msh_buf *b, const char *name);

/** Remove a layer and its registry row. */
msh_rc msh_store_drop_layer(msh_store *s, const char *name, msh_err *err);

#endif
