/* edit_batch.c: the committer of Part 4 writes, many edits to one fsync (edit_batch.h). */
#include "services/edit_batch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "overlay_layer.h"
#include "serve/serve.h"
#include "services/edit_service.h"
#include "static_layer.h"

struct msh_edit_batch {
    msh_app *app;
    pthread_t thread;
    pthread_mutex_t mu;   /* guards head, tail, stop and every queued job's `done` */
    pthread_cond_t queued, done;
    msh_edit_job *head, *tail;
    bool stop;
    msh_edit_stmts *stmts; /* the committer's prepared statements (layers/edit.h) */
    /* for /metrics (under mu): jobs waiting or in the running batch, batches committed, edits written */
    unsigned long long pending, batches, written;
};

/* The changes of one batch to one layer. */
typedef struct {
    const char *name;
    msh_overlay_edit *e;
} lchange;

#define MAX_LAYERS 64

/* The overlay edit of `name` in this batch, begun on first use over the served layer `l`. */
static msh_overlay_edit *changes_for(lchange *ch, size_t *n, msh_layer *l, msh_err *err)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(ch[i].name, l->info.name))
            return ch[i].e;
    if (*n == MAX_LAYERS) {
        msh_err_set(err, MSH_EINTERNAL, "too many layers in one batch");
        return NULL;
    }
    if (msh_overlay_begin(l, &ch[*n].e, err))
        return NULL;
    ch[*n].name = l->info.name;
    return ch[(*n)++].e;
}

/* One job inside the transaction (edit lock held): the item, the job's check, the write, the
 * overlay. False: the overlay could not follow the store (the batch then publishes by a reload). */
static bool run_job(msh_store *store, msh_edit_stmts *stmts, msh_catalog *cat, lchange *ch, size_t *nch,
                    msh_edit_job *j)
{
    msh_layer *l = msh_catalog_find(cat, j->coll, strlen(j->coll));
    msh_overlay_edit *e = l ? changes_for(ch, nch, l, &j->err) : NULL;
    if (l && !e) {
        j->rc = j->err.code;
        return true;
    }
    msh_feature cur;
    bool has = e && j->kind != MSH_EDIT_CREATE && msh_overlay_edit_find(e, j->fid, &cur);
    msh_edit_op op;
    memset(&op, 0, sizeof op);
    if (!j->check(j, cat, l, has ? &cur : NULL, &op))
        return true;
    /* the coupled write's layer and item as the batch sees them (an update keeping the geometry) */
    msh_layer *xl = j->has_extra ? msh_catalog_find(cat, j->extra.li->name, strlen(j->extra.li->name)) : NULL;
    msh_overlay_edit *xe = xl ? changes_for(ch, nch, xl, &j->err) : NULL;
    msh_feature xcur;
    if (j->has_extra && !(xe && msh_overlay_edit_find(xe, (uint64_t)j->extra.fid, &xcur))) {
        j->rc = msh_err_set(&j->err, MSH_ENOTFOUND, "the item a coupled write changes is gone");
        return true;
    }
    msh_edit_op ops[2] = {op, j->extra};
    msh_edit_result res[2];
    memset(res, 0, sizeof res);
    ops[0].stmts = ops[1].stmts = stmts;
    msh_value *xv = NULL;
    if (j->has_extra) {
        size_t nf = xl->info.nfields;
        if (j->extra_field < 0 || (size_t)j->extra_field >= nf || !(xv = malloc(nf * sizeof *xv))) {
            j->rc = msh_err_set(&j->err, MSH_ENOMEM, "out of memory");
            return true;
        }
        memcpy(xv, xcur.values, nf * sizeof *xv);
        xv[j->extra_field] = j->extra.values[j->extra_field];
        ops[1].values = xv;
    }
    if ((j->rc = msh_edit_apply_in_n(store, ops, j->has_extra ? 2 : 1, res, &j->err))) {
        j->res.duplicate = res[0].duplicate; /* a create naming an id the layer has or had: 409 */
        free(xv);
        return true;
    }
    j->written = true;
    j->res = res[0];
    if (j->has_extra)
        j->extra_res = res[1];
    const msh_edit_result *r = &j->res;
    msh_err err;
    msh_rc rc = MSH_OK;
    if (j->has_extra)
        rc = msh_overlay_put(xe, (uint64_t)res[1].fid, false, &xcur.geom, xv, res[1].version, res[1].touched,
                             res[1].has_after ? res[1].after : NULL, &err);
    free(xv); /* the put copied its strings */
    if (rc)
        ; /* noted below */
    else if (op.kind == MSH_EDIT_DELETE)
        rc = msh_overlay_put(e, (uint64_t)r->fid, false, NULL, NULL, r->version, r->touched, NULL, &err);
    else if (op.wkb)
        rc = msh_overlay_put_wkb(e, (uint64_t)r->fid, op.kind == MSH_EDIT_CREATE, op.wkb, op.wkb_len, op.values,
                                 r->version, r->touched, r->has_after ? r->after : NULL, &err);
    else /* an update keeping the geometry */
        rc = msh_overlay_put(e, (uint64_t)r->fid, false, &cur.geom, op.values, r->version, r->touched,
                             r->has_after ? r->after : NULL, &err);
    if (rc)
        fprintf(stderr, "mashaer: edits: the in-memory copy fell behind (%s): reloading from the store\n", err.msg);
    return rc == MSH_OK;
}

/* Replace an overlay grown large by the layer loaded afresh from the store (after the answers).
 * Edit lock held (the store connection is the committer's); takes pub_lock and cat_lock. */
static void compact(msh_app *app, msh_store *store, msh_layer *l)
{
    if (msh_overlay_size(l) < (size_t)app->cfg.edit_overlay_max)
        return;
    msh_layer *fresh = NULL;
    msh_err err;
    if (msh_static_layer_load(store, &l->info, &fresh, &err) || msh_serve_publish_layers(app, &fresh, 1, &err))
        fprintf(stderr, "mashaer: edits: compacting '%s' failed, keeping the overlay: %s\n", l->info.name, err.msg);
    msh_layer_release(fresh);
}

/* One batch: one transaction, one publication, every job's answer made. Takes the edit lock
 * (inside it pub_lock and cat_lock, serve_reload.c); the queue lock is not held. */
static void run_batch(msh_app *app, msh_edit_stmts *stmts, msh_edit_job *jobs)
{
    lchange ch[MAX_LAYERS];
    size_t nch = 0;
    msh_layer *made[MAX_LAYERS];
    size_t nmade = 0;
    bool in_memory = true;
    msh_err err;
    msh_store *store = msh_edit_service_lock(app);
    msh_rc rc = msh_edit_begin(store, &err);
    msh_catalog *cat = NULL;
    if (!rc) {
        msh_edit_service_catch_up(app); /* a commit of another connection just before BEGIN */
        cat = msh_app_catalog(app);
        for (msh_edit_job *j = jobs; j; j = j->next) {
            if (in_memory) {
                in_memory = run_job(store, stmts, cat, ch, &nch, j);
            } else { /* the batch's view of its items fell behind: the rest wait for the next one */
                j->rc = msh_err_set(&j->err, MSH_ENOMEM, "out of memory: try again");
            }
        }
        rc = msh_edit_commit(store, &err);
    }
    for (size_t i = 0; i < nch; i++) {
        if (rc || !in_memory)
            msh_overlay_abort(ch[i].e);
        else if (msh_overlay_finish(ch[i].e, &made[nmade], &err))
            in_memory = false;
        else
            nmade++;
    }
    if (rc) { /* nothing of the batch is stored (a job its check answered keeps that answer) */
        for (msh_edit_job *j = jobs; j; j = j->next)
            if (j->written || j->rc == MSH_OK) {
                j->written = false;
                j->rc = rc;
                j->err = err;
            }
    } else if (!in_memory || msh_serve_publish_layers(app, made, nmade, &err)) {
        if (msh_edit_service_publish(app, &err)) /* stored and audited; served after the reload thread's pass */
            fprintf(stderr, "mashaer: edits: the edits are stored, but publishing them failed: %s\n", err.msg);
    }
    msh_catalog_release(cat);
    cat = msh_app_catalog(app);
    for (msh_edit_job *j = jobs; !rc && j; j = j->next) {
        if (!j->written)
            continue;
        msh_layer *l = msh_catalog_find(cat, j->coll, strlen(j->coll));
        msh_feature f;
        bool found = l && j->kind != MSH_EDIT_DELETE && msh_overlay_find(l, (uint64_t)j->res.fid, &f);
        j->answer(j, l, found ? &f : NULL);
    }
    for (size_t i = 0; i < nmade; i++) {
        compact(app, store, made[i]);
        msh_layer_release(made[i]);
    }
    msh_catalog_release(cat);
    msh_edit_service_unlock(app);
}

static void *committer_main(void *arg)
{
    msh_edit_batch *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->head && !b->stop)
            pthread_cond_wait(&b->queued, &b->mu);
        if (!b->head)
            break;
        msh_edit_job *jobs = b->head;
        b->head = b->tail = NULL;
        pthread_mutex_unlock(&b->mu);
        run_batch(b->app, b->stmts, jobs);
        unsigned long long n = 0, w = 0;
        for (msh_edit_job *j = jobs; j; j = j->next) {
            n++;
            w += j->written;
        }
        pthread_mutex_lock(&b->mu);
        b->pending -= n;
        b->batches++;
        b->written += w;
        pthread_mutex_unlock(&b->mu);
        msh_edit_job *waited = NULL;
        for (msh_edit_job *j = jobs, *next; j; j = next) {
            next = j->next;
            if (j->finished) { /* posted: answered here; j may be gone after */
                j->finished(j);
            } else {
                j->next = waited;
                waited = j;
            }
        }
        pthread_mutex_lock(&b->mu);
        for (msh_edit_job *j = waited; j; j = j->next)
            j->done = true; /* its waiter may return (and free it) once the lock is let go */
        if (waited)
            pthread_cond_broadcast(&b->done);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

msh_rc msh_edit_batch_start(msh_app *app, msh_edit_batch **out, msh_err *err)
{
    *out = NULL;
    msh_edit_batch *b = calloc(1, sizeof *b);
    if (!b)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    b->app = app;
    if (!(b->stmts = msh_edit_stmts_new())) {
        free(b);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->queued, NULL);
    pthread_cond_init(&b->done, NULL);
    if (pthread_create(&b->thread, NULL, committer_main, b)) {
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->queued);
        pthread_cond_destroy(&b->done);
        msh_edit_stmts_free(b->stmts);
        free(b);
        return msh_err_set(err, MSH_EIO, "cannot start the edit committer");
    }
    *out = b;
    return MSH_OK;
}

void msh_edit_batch_drain(msh_edit_batch *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    bool running = !b->stop;
    b->stop = true;
    pthread_cond_signal(&b->queued);
    pthread_mutex_unlock(&b->mu);
    if (running)
        pthread_join(b->thread, NULL); /* it finishes what is queued, then returns */
}

void msh_edit_batch_stop(msh_edit_batch *b)
{
    if (!b)
        return;
    msh_edit_batch_drain(b);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->queued);
    pthread_cond_destroy(&b->done);
    msh_edit_stmts_free(b->stmts); /* before the connection closes */
    free(b);
}

/* Queue j (the caller holds b->mu), or false once the committer is drained: then the caller
 * runs it itself (run_inline). */
static bool enqueue(msh_edit_batch *b, msh_edit_job *j)
{
    j->next = NULL;
    j->done = false;
    j->written = false;
    j->rc = MSH_OK;
    if (b->stop)
        return false;
    if (b->tail)
        b->tail->next = j;
    else
        b->head = j;
    b->tail = j;
    b->pending++;
    pthread_cond_signal(&b->queued);
    return true;
}

/* After the drain (shutdown): the job as a batch of its own on the caller's thread; the edit lock
 * orders it with any other. */
static void run_inline(msh_edit_batch *b, msh_edit_job *j)
{
    run_batch(b->app, b->stmts, j);
    if (j->finished)
        j->finished(j);
}

void msh_edit_batch_submit(msh_edit_batch *b, msh_edit_job *j)
{
    j->finished = NULL;
    pthread_mutex_lock(&b->mu);
    bool queued = enqueue(b, j);
    while (queued && !j->done)
        pthread_cond_wait(&b->done, &b->mu);
    pthread_mutex_unlock(&b->mu);
    if (!queued)
        run_inline(b, j);
}

void msh_edit_batch_post(msh_edit_batch *b, msh_edit_job *j)
{
    pthread_mutex_lock(&b->mu);
    bool queued = enqueue(b, j);
    pthread_mutex_unlock(&b->mu);
    if (!queued)
        run_inline(b, j);
}

void msh_edit_batch_metrics(msh_edit_batch *b, msh_buf *o)
{
    pthread_mutex_lock(&b->mu);
    unsigned long long pending = b->pending, batches = b->batches, written = b->written;
    pthread_mutex_unlock(&b->mu);
    msh_buf_printf(o,
                   "# HELP mashaer_edits_pending Part 4 writes queued for the committer or in its running batch.\n"
                   "# TYPE mashaer_edits_pending gauge\nmashaer_edits_pending %llu\n"
                   "# HELP mashaer_edit_batches_total Batches of writes committed (one transaction and fsync each).\n"
                   "# TYPE mashaer_edit_batches_total counter\nmashaer_edit_batches_total %llu\n"
                   "# HELP mashaer_edits_written_total Part 4 writes stored and published.\n"
                   "# TYPE mashaer_edits_written_total counter\nmashaer_edits_written_total %llu\n",
                   pending, batches, written);
}

void msh_edit_job_couple(msh_edit_job *j, const msh_edit_op *extra, int field, const msh_edit_op *own)
{
    j->has_extra = true;
    j->extra_field = field;
    j->extra = *extra;
    j->extra.who = own->who;
    j->extra.role = own->role;
    j->extra.at_ms = own->at_ms;
}
