/* edit_batch.h: group commit of Part 4 writes.
 *
 * Design: a writer (a request thread, its body already checked) queues a job and waits. One
 * committer thread takes every job queued, and under the edit lock (edit_service.h) runs them in
 * one SQLite transaction: for each, in arrival order, the item as the batch sees it (the served
 * layer with the batch's earlier edits over it), the job's own check (If-Match, merge: a job that
 * fails it is answered alone), the write in a savepoint of its own (layers/edit.h: a failed edit
 * leaves no trace, the others stand), and the edited feature put into an overlay of its layer
 * (layers/overlay_layer.h). Then one COMMIT (one fsync for the batch), one publication of the
 * catalog with the overlay layers in place (no reload from SQLite), each job's answer made from
 * the published item, and only then are the writers woken: an answer goes out after its edit is
 * durable and visible to every reader. Two writes of one item in one batch see each other: the
 * second's If-Match is checked against the first's result (one 200, one 412).
 *
 * The batch is whatever queued while the previous one committed: one writer alone pays one fsync,
 * many writers share one. An overlay that holds more than cfg.edit_overlay_max (--edit-overlay-max)
 * features and edit boxes is replaced, after the batch's answers, by the layer loaded afresh from the store.
 *
 * Lock order: queue lock alone (never held while committing); the committer then takes the edit
 * lock, then pub_lock and cat_lock (serve_reload.c).
 */
#ifndef MSH_EDIT_BATCH_H
#define MSH_EDIT_BATCH_H

#include <stdbool.h>

#include "catalog.h"
#include "edit.h"
#include "layer.h"
#include "serve/app.h"


typedef struct msh_edit_job msh_edit_job;

struct msh_edit_job {
    const char *coll;  /* the collection */
    uint64_t fid;      /* the item (ignored for a create) */
    msh_edit_kind kind;
    /* On the committer, in the batch's transaction: `cat` the served catalog, `l` the layer (NULL: no
     * such collection), `cur` the item as the batch sees it (NULL: none). Fill *op (its memory the
     * job's), and `extra` when a coupled write goes with it (a work order's asset), and return true
     * to write; or return false, having noted its own answer (a 404, a 412...) in the job. */
    bool (*check)(msh_edit_job *j, msh_catalog *cat, msh_layer *l, const msh_feature *cur, msh_edit_op *op);
    /* On the committer after the commit and the publication: the item as published (NULL: deleted). */
    void (*answer)(msh_edit_job *j, msh_layer *l, const msh_feature *item);
    /* For msh_edit_batch_post: called on the committer once the job is done, last (it may free j). */
    void (*finished)(msh_edit_job *j);
    /* out: written (res holds the edit) or not; rc/err when the store refused it */
    bool written;
    msh_rc rc;
    msh_err err;
    msh_edit_result res;
    /* a coupled write (another layer's item, an update keeping its geometry), written in the same
     * savepoint as the job's own: both stand or neither; extra_res its result. It sets one field,
     * extra_field, to extra.values[extra_field]; the other values are the item's as the batch sees
     * it (an earlier edit of the same item in the batch is kept, not overwritten). extra.li is valid
     * during the batch only (its catalog is released before the answers): answers name the layer
     * themselves. */
    bool has_extra;
    int extra_field;
    msh_edit_op extra;
    msh_edit_result extra_res;
    /* the queue's */
    msh_edit_job *next;
    bool done;
};

/** For a check: couple `extra` (setting its field `field`) to the job's own write `own`, by the same
 * user and role at the same time. */
void msh_edit_job_couple(msh_edit_job *j, const msh_edit_op *extra, int field, const msh_edit_op *own);

typedef struct msh_edit_batch msh_edit_batch;

msh_rc msh_edit_batch_start(msh_app *app, msh_edit_batch **out, msh_err *err);
/** Finish the queued jobs (answering the parked requests) and end the committer thread; a job
 * submitted or posted after that runs on its caller's thread. Before the HTTP daemon stops. */
void msh_edit_batch_drain(msh_edit_batch *b);
/** Drain, then free. */
void msh_edit_batch_stop(msh_edit_batch *b);

/** Queue `j` and wait until it is committed and published, or failed. */
void msh_edit_batch_submit(msh_edit_batch *b, msh_edit_job *j);
/** Queue `j` and return: j->finished is called when it is done (the caller's thread is free meanwhile:
 * a parked request, http/defer.h, so that one libmicrohttpd thread does not hold up its other clients). */
void msh_edit_batch_post(msh_edit_batch *b, msh_edit_job *j);

/** The committer's gauges and counters in the Prometheus text format (/metrics). */
void msh_edit_batch_metrics(msh_edit_batch *b, msh_buf *o);

#endif
