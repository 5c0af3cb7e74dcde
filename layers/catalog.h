/* catalog.h: an immutable snapshot of every layer the server can serve.
 *
 * A snapshot is built from the store's registry; layers whose version did not
 * change are shared with the previous snapshot instead of reloaded. Readers
 * take a reference to the current snapshot for the length of a request; a
 * reload publishes a new one and the old one is freed by its last reader.
 */
#ifndef MSH_CATALOG_H
#define MSH_CATALOG_H

#include <stddef.h>

#include "layer.h"
#include "store.h"

typedef struct msh_catalog msh_catalog;

/** Build a snapshot of `s`, reusing unchanged layers of `prev` (may be NULL). One reference. */
msh_rc msh_catalog_load(msh_store *s, const msh_catalog *prev, msh_catalog **out, msh_err *err);
/**
 * The same, plus `extras` (live layers, borrowed: the snapshot takes its own references).
 * A store layer with the name of an extra is hidden by it.
 */
msh_rc msh_catalog_load_with(msh_store *s, const msh_catalog *prev, msh_layer *const *extras, size_t nextras,
                             msh_catalog **out, msh_err *err);
/**
 * A snapshot equal to `c` but for `layers` (borrowed: the snapshot takes its own references), each
 * in the place of the store layer of its name, unless that one has a higher version already (a
 * re-import published meanwhile). Used by edits: an overlay layer (overlay_layer.h) replaces its
 * base without any reload. One reference.
 */
msh_rc msh_catalog_with(const msh_catalog *c, msh_layer *const *layers, size_t n, msh_catalog **out, msh_err *err);
msh_catalog *msh_catalog_retain(msh_catalog *c);
void msh_catalog_release(msh_catalog *c);

size_t msh_catalog_count(const msh_catalog *c);
/** Layers sorted by name. Borrowed: valid while the caller holds the snapshot. */
msh_layer *msh_catalog_at(const msh_catalog *c, size_t i);
msh_layer *msh_catalog_find(const msh_catalog *c, const char *name, size_t len);
/** The store id the snapshot was built from (goes into ETags). */
const char *msh_catalog_store_id(const msh_catalog *c);
/** A digest of every (name, version) pair: equal digests mean nothing changed. */
uint64_t msh_catalog_digest(const msh_catalog *c);

#endif
