/* edit_service.c: the connection, lock and rules of Part 4 writes (edit_service.h). */
#include "services/edit_service.h"
#include "services/report_service.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"
#include "store_watch.h"
#include "serve/serve.h"
#include "services/edit_batch.h"
#include "services/workflow_service.h"

struct msh_edit_service {
    pthread_mutex_t lock; /* one write at a time; guards `store` and `seen` */
    msh_store *store;
    long seen;            /* PRAGMA data_version when the catalog last matched the store */
    msh_access *access;
    msh_edit_batch *batch; /* the committer (edit_batch.h) */
};

msh_rc msh_edit_service_open(msh_app *app, msh_err *err)
{
    msh_edit_service *e = calloc(1, sizeof *e);
    if (!e)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    pthread_mutex_init(&e->lock, NULL);
    app->edit = e;
    msh_rc rc = app->cfg.access_file ? msh_access_load(app->cfg.access_file, &e->access, err)
                                     : msh_access_parse(MSH_ACCESS_DEFAULTS, strlen(MSH_ACCESS_DEFAULTS),
                                                        &e->access, err);
    if (rc)
        return rc;
    if ((rc = msh_store_open(app->cfg.db_path, false, &e->store, err)))
        return rc;
    if ((rc = msh_edit_prepare(e->store, err)) || (rc = msh_workflow_start(app, e->store, err)))
        return rc;
    msh_err werr; /* stores written before the triggers existed: other programs' edits noticed from now on */
    if (msh_store_watch_all(e->store, &werr))
        fprintf(stderr, "mashaer: edits: external edits of the store will not be noticed: %s\n", werr.msg);
    e->seen = msh_store_data_version(e->store);
    if ((rc = msh_edit_batch_start(app, &e->batch, err)))
        return rc;
    fprintf(stderr, "mashaer: edits: %zu access rules (%s)\n", msh_access_count(e->access),
            app->cfg.access_file ? app->cfg.access_file : "the defaults");
    return MSH_OK;
}

void msh_edit_service_close(msh_app *app)
{
    msh_edit_service *e = app->edit;
    if (!e)
        return;
    msh_edit_batch_stop(e->batch);
    msh_report_service_stop(app);
    msh_store_close(e->store);
    msh_access_free(e->access);
    pthread_mutex_destroy(&e->lock);
    free(e);
    app->edit = NULL;
}

const msh_access *msh_edit_service_access(msh_app *app)
{
    return app->edit->access;
}

void msh_edit_service_catch_up(msh_app *app)
{
    msh_edit_service *e = app->edit;
    long v = msh_store_data_version(e->store);
    if (v != e->seen) {
        msh_err err;
        if (msh_serve_publish(app, e->store, &err))
            fprintf(stderr, "mashaer: edits: catching up with the store failed: %s\n", err.msg);
        else
            e->seen = v;
    }
}

msh_store *msh_edit_service_lock(msh_app *app)
{
    msh_edit_service *e = app->edit;
    pthread_mutex_lock(&e->lock);
    msh_edit_service_catch_up(app);
    return e->store;
}

void msh_edit_service_submit(msh_app *app, msh_edit_job *job)
{
    msh_edit_batch_submit(app->edit->batch, job);
}

void msh_edit_service_drain(msh_app *app)
{
    if (app->edit)
        msh_edit_batch_drain(app->edit->batch);
}

void msh_edit_service_metrics(msh_app *app, msh_buf *o)
{
    msh_edit_batch_metrics(app->edit->batch, o);
}

void msh_edit_service_post(msh_app *app, msh_edit_job *job)
{
    msh_edit_batch_post(app->edit->batch, job);
}

msh_rc msh_edit_service_publish(msh_app *app, msh_err *err)
{
    return msh_serve_publish(app, app->edit->store, err);
}

void msh_edit_service_unlock(msh_app *app)
{
    pthread_mutex_unlock(&app->edit->lock);
}
