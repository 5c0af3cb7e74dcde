/* edit.h: one write to a static layer, durable and audited in one SQLite transaction.
 *
 * OGC API - Features Part 4 writes land here (server/services/edit_service.c holds the
 * connection and the lock). One call is one transaction (BEGIN IMMEDIATE ... COMMIT): the row
 * (insert, update or delete; SpatiaLite's triggers keep the R*Tree index), the store's version
 * counter and the layer's `msh_layers.version` (so every reader of the registry sees the change,
 * and tile ETags with it), the feature count and bounds, and one row of `msh_audit`: the
 * collection, the feature id, the operation, when (UTC, ms), who (token name and role), and the
 * feature before and after as GeoJSON text (null before a create, after a delete). A failure
 * anywhere rolls all of it back. Durability is the connection's: msh_edit_prepare sets
 * `PRAGMA synchronous=FULL` on it, so an acknowledged write survives kill -9 and power loss.
 *
 * Ids: a created feature gets one more than the largest id the layer or its audit ever had, so
 * an id is never reused, even after a delete of the last feature.
 *
 * A re-import (msh_store_writer_commit) writes an `import` row (no feature id) to the audit, when
 * the table exists: an item's history starts at its layer's latest import.
 */
#ifndef MSH_EDIT_H
#define MSH_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "layer.h"
#include "store.h"

typedef enum { MSH_EDIT_CREATE = 1, MSH_EDIT_REPLACE = 2, MSH_EDIT_UPDATE = 3, MSH_EDIT_DELETE = 4 } msh_edit_kind;

/** "create", "replace", "update", "delete". */
const char *msh_edit_kind_name(msh_edit_kind k);

/** Make `s` the edit connection: `PRAGMA synchronous=FULL`, and the audit table and its index when missing. */
msh_rc msh_edit_prepare(msh_store *s, msh_err *err);

/** Prepared statements kept across the edits of one connection (the committer's); one thread at a time. */
typedef struct msh_edit_stmts msh_edit_stmts;
msh_edit_stmts *msh_edit_stmts_new(void);
void msh_edit_stmts_free(msh_edit_stmts *c);

typedef struct msh_edit_op {
    msh_edit_kind kind;
    const msh_layer_info *li;  /* the layer: name and fields */
    int64_t fid;               /* replace, update, delete; create: the id asked for, or 0 (the next one) */
    const msh_value *values;   /* create, replace, update: li->nfields values */
    const uint8_t *wkb;        /* 2D WKB in EPSG:4326; NULL on update: the geometry is kept */
    size_t wkb_len;
    const char *who, *role;    /* the token's name and role */
    int64_t at_ms;             /* when (UTC) */
    msh_edit_stmts *stmts;     /* NULL: statements prepared for this edit alone */
} msh_edit_op;

typedef struct msh_edit_result {
    int64_t fid;
    uint64_t version;          /* the layer's new version */
    int64_t seq;               /* the audit row */
    bool has_before, has_after;
    double before[4], after[4]; /* lon/lat bounds of the geometry before and after */
    double touched[4];          /* both together: where the edit changed the map */
    bool duplicate;             /* a create asked for an id the layer has or had: nothing written */
} msh_edit_result;

/** Apply one write in one transaction. Errors: MSH_ENOTFOUND (no such feature or layer), MSH_EIO. */
msh_rc msh_edit_apply(msh_store *s, const msh_edit_op *op, msh_edit_result *res, msh_err *err);
/**
 * Apply `n` writes (res: n results) in one transaction, in order: all of them are committed or
 * none (a work order and the asset status it changes). Each has its own audit row and version.
 */
msh_rc msh_edit_apply_n(msh_store *s, const msh_edit_op *ops, size_t n, msh_edit_result *res, msh_err *err);

/**
 * Group commit: msh_edit_begin (BEGIN IMMEDIATE), any number of msh_edit_apply_in, msh_edit_commit
 * (one COMMIT, one fsync for all; on failure everything is rolled back). Each apply_in is a
 * savepoint of its own: a failed edit leaves no trace and the others of the transaction stand.
 */
msh_rc msh_edit_begin(msh_store *s, msh_err *err);
msh_rc msh_edit_apply_in(msh_store *s, const msh_edit_op *op, msh_edit_result *res, msh_err *err);
/** msh_edit_apply_in for `n` writes in one savepoint: all of them stand or none (a work order and the
 * asset status it changes); res: n results. */
msh_rc msh_edit_apply_in_n(msh_store *s, const msh_edit_op *ops, size_t n, msh_edit_result *res, msh_err *err);
msh_rc msh_edit_commit(msh_store *s, msh_err *err);

/** One version of an item, as the audit holds it. Strings are valid during the callback only. */
typedef struct msh_edit_version {
    int64_t seq;               /* 0 for the imported version */
    const char *op;            /* "import", "create", "replace", "update", "delete" */
    const char *at;            /* ISO 8601 UTC */
    const char *who, *role;    /* for "import": the source file, "import" */
    const char *feature;       /* GeoJSON Feature text after this version; NULL once deleted */
} msh_edit_version;

/**
 * The versions of item `fid` of `layer` since the layer's latest import, oldest first, with
 * seq > `after` (0: from the start, the imported version included when the item was imported),
 * at most `limit`; *more says whether more follow. `current` (GeoJSON text, may be NULL) stands
 * for the imported version of an item never edited. Errors: MSH_ENOTFOUND (no version), MSH_EIO.
 */
msh_rc msh_edit_history(msh_store *s, const char *layer, int64_t fid, int64_t after, int limit, const char *current,
                        int (*fn)(void *ud, const msh_edit_version *v), void *ud, bool *more, msh_err *err);

/**
 * The item as it was at `t_ms`: *json is its GeoJSON text then (malloc'd), or NULL with *absent
 * set when it did not exist then; with neither set (no change since `t_ms`) the current item
 * stands. Errors: MSH_EIO.
 */
msh_rc msh_edit_asof(msh_store *s, const char *layer, int64_t fid, int64_t t_ms, char **json, bool *absent,
                     msh_err *err);

/**
 * The layer's latest import: its audit seq (0 when the audit has none) and its time in UTC ms
 * (the registry's time for a layer imported before the audit existed; 0 when unknown), where
 * every history of the layer starts. Errors: MSH_EIO.
 */
msh_rc msh_edit_import_of(msh_store *s, const char *layer, int64_t *seq, int64_t *at_ms, msh_err *err);

/** Where one edit since the layer's import changed it, and the layer version it made. */
typedef struct msh_edit_region {
    uint64_t version;
    double bbox[4]; /* lon/lat: the geometry before and after */
} msh_edit_region;

/**
 * The edits of `layer` since its latest import, oldest first (*out: free()), and *base, the
 * layer's version before them (0 when it has none). A static layer answers a tile's version from
 * them (the latest edit touching the tile, else *base), so an edit changes the ETags and cache
 * keys of only the tiles its old and new geometry touch.
 */
msh_rc msh_edit_regions(msh_store *s, const char *layer, uint64_t *base, msh_edit_region **out, size_t *n,
                        msh_err *err);

/** Called by the layer writer inside its transaction: note a re-import in the audit (no-op without the table). */
msh_rc msh_edit_note_import(msh_store *s, const char *layer, const char *source, msh_err *err);

#endif
