/* cleaning_service.c: cleaning tasks' progress written back and their overdue events
 * (cleaning_service.h). */
#include "services/cleaning_service.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_time.h"
#include "kpi/kpi.h"
#include "routes/events.h"
#include "services/edit_service.h"
#include "workflow/cleaning_tasks.h"

struct msh_cleaning_service {
    uint64_t *announced; /* tasks overdue and announced, sorted */
    size_t nann, capann;
};

/* ---- progress: a write of one field by the server ------------------------------------------- */

typedef struct {
    msh_edit_job job;
    int64_t progress;
    msh_value *vals;
} progress_job;

static bool progress_check(msh_edit_job *jb, msh_catalog *cat, msh_layer *l, const msh_feature *cur, msh_edit_op *op)
{
    progress_job *j = (progress_job *)jb;
    (void)cat;
    int k = l && cur ? msh_wf_field(&l->info, "progress") : -1;
    if (k < 0) /* the task was deleted meanwhile */
        return false;
    if (cur->values[k].type == MSH_FT_INT && cur->values[k].u.i == j->progress)
        return false; /* written already (by an earlier tick in the batch) */
    j->vals = malloc(l->info.nfields * sizeof *j->vals);
    if (!j->vals)
        return false;
    memcpy(j->vals, cur->values, l->info.nfields * sizeof *j->vals);
    j->vals[k] = (msh_value){.type = MSH_FT_INT, .u.i = j->progress};
    *op = (msh_edit_op){MSH_EDIT_UPDATE, &l->info, (int64_t)jb->fid, j->vals, NULL, 0, "mashaer", "server",
                        msh_now_ms(), NULL};
    return true;
}

static void progress_answer(msh_edit_job *jb, msh_layer *l, const msh_feature *item)
{
    (void)jb, (void)l, (void)item;
}

/* Every changed task's progress in one batch of the committer (one transaction, one publication:
 * the catalog and what follows it are rebuilt once a tick, not once a task): posted together, then
 * waited for. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t pending;
} progress_wait;

typedef struct {
    progress_job pj;
    progress_wait *w;
} posted_job;

static void progress_finished(msh_edit_job *jb)
{
    progress_wait *w = ((posted_job *)jb)->w;
    pthread_mutex_lock(&w->mu);
    w->pending--;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void write_progress(msh_app *app, const msh_kpi_task *tasks, size_t n)
{
    size_t changed = 0;
    for (size_t i = 0; i < n; i++)
        changed += tasks[i].stored != tasks[i].progress;
    posted_job *jobs = changed ? calloc(changed, sizeof *jobs) : NULL;
    if (!jobs)
        return; /* nothing changed, or out of memory: the next tick */
    progress_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, changed};
    const msh_kpi_task **which = calloc(changed, sizeof *which);
    if (!which) {
        free(jobs);
        return;
    }
    for (size_t i = 0, k = 0; i < n; i++) {
        if (tasks[i].stored == tasks[i].progress)
            continue;
        posted_job *j = &jobs[k];
        which[k++] = &tasks[i];
        j->w = &w;
        j->pj.job.coll = MSH_CT_LAYER;
        j->pj.job.fid = tasks[i].fid;
        j->pj.job.kind = MSH_EDIT_UPDATE;
        j->pj.job.check = progress_check;
        j->pj.job.answer = progress_answer;
        j->pj.job.finished = progress_finished;
        j->pj.progress = tasks[i].progress;
    }
    for (size_t k = 0; k < changed; k++)
        msh_edit_service_post(app, &jobs[k].pj.job);
    pthread_mutex_lock(&w.mu);
    while (w.pending)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    for (size_t k = 0; k < changed; k++) {
        progress_job *j = &jobs[k].pj;
        if (j->job.written && app->events) {
            const double *bb = j->job.res.touched;
            char json[512];
            snprintf(json, sizeof json,
                     "{\"collection\":\"%s\",\"id\":%lld,\"op\":\"update\",\"version\":%llu,\"progress\":%d,"
                     "\"bbox\":[%.9f,%.9f,%.9f,%.9f]}",
                     MSH_CT_LAYER, (long long)j->job.res.fid, (unsigned long long)j->job.res.version,
                     which[k]->progress, bb[0], bb[1], bb[2], bb[3]);
            msh_events_publish_in(app->events, MSH_EV_CHANGE, MSH_CT_LAYER, (bb[0] + bb[2]) / 2, (bb[1] + bb[3]) / 2,
                                  json);
        } else if (!j->job.written && j->job.rc) {
            fprintf(stderr, "mashaer: cleaning task %llu: progress not written: %s\n", (unsigned long long)j->job.fid,
                    j->job.err.msg);
        }
        free(j->vals);
    }
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    free(which);
    free(jobs);
}

/* ---- overdue ---------------------------------------------------------------------------------- */

static bool announced(const msh_cleaning_service *cs, uint64_t fid)
{
    for (size_t i = 0; i < cs->nann; i++)
        if (cs->announced[i] == fid)
            return true;
    return false;
}

static void announce(msh_app *app, msh_cleaning_service *cs, const msh_kpi_task *t, int64_t now)
{
    if (msh_grow_from((void **)&cs->announced, &cs->capann, cs->nann + 1, sizeof *cs->announced, 16))
        return; /* announced at the next tick */
    cs->announced[cs->nann++] = t->fid;
    if (!app->events)
        return;
    char due[MSH_TIME_ISO_CAP], at[MSH_TIME_ISO_CAP], json[512];
    msh_time_format_iso(t->due, due, sizeof due, 0);
    msh_time_format_iso(now, at, sizeof at, 0);
    msh_buf crew;
    msh_buf_init(&crew, 256);
    msh_buf_json_str(&crew, t->crew);
    msh_buf_putc(&crew, 0);
    snprintf(json, sizeof json,
             "{\"task\":%llu,\"crew\":\"%s\",\"status\":\"%s\",\"progress\":%d,\"due\":\"%s\",\"at\":\"%s\"}",
             (unsigned long long)t->fid, crew.data ? (char *)crew.data : "", msh_ct_statuses[t->status], t->progress,
             due, at);
    msh_buf_free(&crew);
    msh_events_publish_in(app->events, MSH_EV_CLEANING_OVERDUE, MSH_CT_LAYER, NAN, NAN, json);
}

/* Keep only the announced tasks still overdue (a new due time, done, cancelled, deleted: forgotten). */
static void forget(msh_cleaning_service *cs, const msh_kpi_task *tasks, size_t n, int64_t now)
{
    size_t w = 0;
    for (size_t i = 0; i < cs->nann; i++) {
        bool still = false;
        for (size_t t = 0; t < n && !still; t++)
            still = tasks[t].fid == cs->announced[i] && tasks[t].due && now > tasks[t].due &&
                    msh_ct_active_status(tasks[t].status);
        if (still)
            cs->announced[w++] = cs->announced[i];
    }
    cs->nann = w;
}

void msh_cleaning_service_tick(msh_app *app)
{
    if (!app->kpi || !app->edit)
        return;
    if (!app->cleaning && !(app->cleaning = calloc(1, sizeof *app->cleaning)))
        return;
    msh_cleaning_service *cs = app->cleaning;
    msh_catalog *cat = msh_app_catalog(app);
    msh_kpi_task *tasks = NULL;
    size_t n = 0;
    msh_err err;
    msh_rc rc = msh_kpi_tasks(app->kpi, cat, &tasks, &n, &err);
    msh_catalog_release(cat);
    if (rc) {
        fprintf(stderr, "mashaer: cleaning tasks: %s\n", err.msg);
        return;
    }
    int64_t now = msh_now_ms();
    write_progress(app, tasks, n);
    forget(cs, tasks, n, now);
    for (size_t i = 0; i < n; i++)
        if (tasks[i].due && now > tasks[i].due && msh_ct_active_status(tasks[i].status) &&
            !announced(cs, tasks[i].fid))
            announce(app, cs, &tasks[i], now);
    free(tasks);
}

void msh_cleaning_service_close(msh_app *app)
{
    if (!app->cleaning)
        return;
    free(app->cleaning->announced);
    free(app->cleaning);
    app->cleaning = NULL;
}
