/* edit_service.h: what OGC API - Features Part 4 writes keep between requests.
 *
 * Design: one store connection of its own (layers/edit.h makes it synchronous=FULL: an
 * acknowledged edit survives kill -9 and power loss) and one lock. Writes go through the committer
 * (edit_batch.h), which holds the lock from a batch's If-Match checks to the publication of the
 * catalog that carries its edits: the ETag a writer checked is the one of the data it replaces,
 * and the next request, from anyone, sees the edit. Before
 * the check the catalog is brought up to date when another connection committed meanwhile (a
 * re-import), so the check never compares against data older than the store's.
 * The access rules (http/access.h) are read once at start.
 *
 * Lock order: edit lock, then pub_lock, then cat_lock (serve_reload.c). The history and asof
 * reads take the same lock (the connection is used by one thread at a time).
 */
#ifndef MSH_EDIT_SERVICE_H
#define MSH_EDIT_SERVICE_H

#include "http/access.h"
#include "services/edit_batch.h"
#include "serve/app.h"
#include "store.h"

typedef struct msh_edit_service msh_edit_service;

/** Open the edit connection and read the access rules (cfg.access_file, or the defaults) into app->edit. */
msh_rc msh_edit_service_open(msh_app *app, msh_err *err);
void msh_edit_service_close(msh_app *app);

/** The access rules (never NULL once open). */
const msh_access *msh_edit_service_access(msh_app *app);

/**
 * Take the write lock and bring the served catalog up to the store (see above); returns the
 * connection to write through, valid until msh_edit_service_unlock.
 */
msh_store *msh_edit_service_lock(msh_app *app);
/** With the lock held: publish the catalog from the store when another connection committed since. */
void msh_edit_service_catch_up(msh_app *app);
/** Write through the committer (edit_batch.h): returns once `job` is durable and published, or failed. */
void msh_edit_service_submit(msh_app *app, msh_edit_job *job);
/** Answer every queued write and end the committer (edit_batch.h), before the daemon stops. */
void msh_edit_service_drain(msh_app *app);
/** The committer's metrics (edit_batch.h) for /metrics. */
void msh_edit_service_metrics(msh_app *app, msh_buf *o);
/** The same without waiting: job->finished is called on the committer when it is done (edit_batch.h). */
void msh_edit_service_post(msh_app *app, msh_edit_job *job);
/** After a committed write (with the lock held): publish the catalog that carries it (a reload). */
msh_rc msh_edit_service_publish(msh_app *app, msh_err *err);
void msh_edit_service_unlock(msh_app *app);

#endif
