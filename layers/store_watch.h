/* store_watch.h: edits of the store by other programs (QGIS, sqlite3) are noticed.
 *
 * The server reuses a loaded layer while its `msh_layers.version` is unchanged, and only its own
 * writes and imports bump that version. So each static layer's table carries three triggers
 * (after insert, update, delete; installed when a layer is written and, for stores made before,
 * when the server opens its edit connection) that bump the store's version counter, the layer's
 * `msh_layers.version`, and note the change in `msh_external` (layer, version, when). They use
 * core SQL only, so any SQLite client fires them, SpatiaLite loaded or not. The reload thread
 * sees the commit through PRAGMA data_version and loads the layer again; its tiles all take the
 * new version (msh_store_watch_version: an external change has no bounds, so it touches every
 * tile).
 *
 * Mashaer's own writers (layers/edit.c) bump the versions themselves and audit the change: they
 * mark their transaction quiet (a `msh_quiet` row in msh_meta, inserted after BEGIN and deleted
 * before COMMIT, so it is never seen outside the transaction) and the triggers stay still.
 */
#ifndef MSH_STORE_WATCH_H
#define MSH_STORE_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "store.h"

/** Install the triggers on `layer`'s table (idempotent). Inside the caller's transaction, if any. */
msh_rc msh_store_watch_layer(msh_store *s, const char *layer, msh_err *err);

/** Install them on every static layer of the registry whose table exists (one transaction). */
msh_rc msh_store_watch_all(msh_store *s, msh_err *err);

/** Mark the current transaction as Mashaer's own write (`on`), or end the mark before COMMIT. */
msh_rc msh_store_watch_quiet(msh_store *s, bool on, msh_err *err);

/** The layer version made by the latest external change of `layer` (0: none recorded). */
uint64_t msh_store_watch_version(msh_store *s, const char *layer);

#endif
