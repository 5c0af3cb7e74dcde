/* broadcast_registry.h: what broadcast_service.c (the registry, the writes) and broadcast_sync.c
 * (the table read back) share; nothing else includes it. Locks: broadcast_service.h. */
#ifndef MSH_BROADCAST_REGISTRY_H
#define MSH_BROADCAST_REGISTRY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "live/broadcast.h"
#include "serve/app.h"
#include "services/broadcast_service.h"
#include "store.h"

struct msh_broadcasts {
    pthread_mutex_t wmu;
    pthread_rwlock_t lk;
    msh_store *db;     /* under wmu */
    msh_broadcast **v; /* under lk */
    size_t n, cap;
};

/** Add `b` (a heap copy is taken) to the registry; under lk exclusive. */
msh_rc msh_bcs_add(msh_broadcasts *bs, const msh_broadcast *b);
/** The index of the active broadcast `id`, or -1; under lk. */
long msh_bcs_find(msh_broadcasts *bs, const char *id, int64_t now_ms);
/** Drop the broadcasts no longer active at `now`; under lk exclusive. */
void msh_bcs_prune(msh_broadcasts *bs, int64_t now_ms);
/** Publish {"action": ..., "broadcast": Feature} on the event stream (no author: the stream is public). */
void msh_bcs_publish(msh_app *app, const char *action, const msh_broadcast *b, int64_t now_ms);

/** Read the table's unexpired rows into the registry (the ids first; the rows only when some are
 * new): those not held are added, those withdrawn there are withdrawn here; with `announce` each
 * change is published. *added counts those added. Under wmu (the caller's). */
msh_rc msh_bcs_read_table(msh_app *app, msh_broadcasts *bs, int64_t now_ms, bool announce, size_t *added,
                          msh_err *err);

#endif
