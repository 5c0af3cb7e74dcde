/* package_rebuild.c: rebuilding served packages whose layers changed (see package_rebuild.h). */
#include "services/package_rebuild.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/app.h"
#include "services/font_service.h"
#include "services/package_build.h"
#include "services/package_service.h"

#define MAX_FAILED 64

struct msh_package_rebuild {
    msh_app *app;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int stop;
    atomic_ullong ok, failed;
    /* packages whose last rebuild failed, and the versions it was tried with (thread only) */
    struct {
        char name[MSH_PACKAGE_NAME_MAX + 1];
        uint64_t sig;
    } bad[MAX_FAILED];
    size_t nbad;
};

static bool failed_before(msh_package_rebuild *r, const char *name, uint64_t sig)
{
    for (size_t i = 0; i < r->nbad; i++)
        if (!strcmp(r->bad[i].name, name))
            return r->bad[i].sig == sig;
    return false;
}

static void note_result(msh_package_rebuild *r, const char *name, uint64_t sig, bool ok)
{
    size_t i = 0;
    while (i < r->nbad && strcmp(r->bad[i].name, name))
        i++;
    if (ok) {
        if (i < r->nbad)
            r->bad[i] = r->bad[--r->nbad];
        return;
    }
    if (i == r->nbad) {
        if (r->nbad == MAX_FAILED)
            return;
        r->nbad++;
    }
    snprintf(r->bad[i].name, sizeof r->bad[i].name, "%.64s", name);
    r->bad[i].sig = sig;
}

static void rebuild(msh_package_rebuild *r, msh_catalog *cat, const char *name, const msh_package_folder *f)
{
    const msh_config *cfg = &r->app->cfg;
    char style_path[4200], rtl[4200];
    snprintf(style_path, sizeof style_path, "%s/%s.json", cfg->styles_dir, f->style);
    snprintf(rtl, sizeof rtl, "%s/%s", cfg->web_dir, MSH_PACKAGE_RTL_SOURCE);
    msh_package_spec spec = {name, f->style, style_path, {f->bbox[0], f->bbox[1], f->bbox[2], f->bbox[3]},
                             f->minzoom, f->maxzoom, rtl};
    const char *why = NULL;
    msh_glyphs *g = msh_font_service_glyphs(r->app->fonts, &why);
    msh_package_opts o = {1, NULL, NULL, &r->stop};
    msh_package_result res;
    msh_err err = {0};
    msh_rc rc = msh_package_build(cat, g, &spec, cfg->packages_dir, &o, &res, &err);
    if (atomic_load(&r->stop))
        return; /* shutting down: not a failure of the package */
    note_result(r, name, f->sig, !rc);
    if (rc) {
        atomic_fetch_add(&r->failed, 1);
        fprintf(stderr, "mashaer: package %s: rebuild failed: %s (the old package is still served)\n", name, err.msg);
    } else {
        atomic_fetch_add(&r->ok, 1);
        fprintf(stderr, "mashaer: package %s rebuilt: its layers changed; etag %s, %llu bytes\n", name, res.etag,
                (unsigned long long)res.bytes);
    }
}

/* One pass over the folder: rebuild, one at a time, the packages that are out of date. */
static void check_all(msh_package_rebuild *r)
{
    const char *dir = r->app->cfg.packages_dir;
    DIR *d = opendir(dir);
    if (!d)
        return;
    char names[256][MSH_PACKAGE_NAME_MAX + 1];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256)
        if (msh_package_build_name_ok(e->d_name))
            snprintf(names[n++], sizeof names[0], "%.64s", e->d_name);
    closedir(d);
    for (size_t i = 0; i < n && !atomic_load(&r->stop); i++) {
        msh_catalog *cat = msh_app_catalog(r->app);
        msh_package_folder f;
        msh_err err;
        if (!msh_package_folder_check(dir, names[i], cat, &f, &err) && f.stale && !failed_before(r, names[i], f.sig))
            rebuild(r, cat, names[i], &f);
        msh_catalog_release(cat);
    }
}

static void *rebuild_main(void *arg)
{
    msh_package_rebuild *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!atomic_load(&r->stop)) {
        pthread_mutex_unlock(&r->mu);
        check_all(r);
        pthread_mutex_lock(&r->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += MSH_PACKAGE_CHECK_MS / 1000;
        until.tv_nsec += (long)(MSH_PACKAGE_CHECK_MS % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L)
            until.tv_sec++, until.tv_nsec -= 1000000000L;
        while (!atomic_load(&r->stop) && pthread_cond_timedwait(&r->cv, &r->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

msh_rc msh_package_rebuild_start(msh_app *app, msh_package_rebuild **out, msh_err *err)
{
    *out = NULL;
    if (!app->cfg.packages_dir)
        return MSH_OK;
    msh_package_rebuild *r = calloc(1, sizeof *r);
    if (!r)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    r->app = app;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, rebuild_main, r)) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        free(r);
        return msh_err_set(err, MSH_EINTERNAL, "cannot start the package rebuild thread");
    }
    *out = r;
    return MSH_OK;
}

void msh_package_rebuild_stop(msh_package_rebuild *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->stop, 1);
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

void msh_package_rebuild_metrics(const msh_package_rebuild *r, msh_buf *b)
{
    if (!r)
        return;
    msh_buf_printf(b,
                   "# HELP mashaer_package_rebuilds_total Packages of --packages rebuilt because their layers changed.\n"
                   "# TYPE mashaer_package_rebuilds_total counter\n"
                   "mashaer_package_rebuilds_total{result=\"ok\"} %llu\n"
                   "mashaer_package_rebuilds_total{result=\"failed\"} %llu\n",
                   (unsigned long long)atomic_load(&r->ok), (unsigned long long)atomic_load(&r->failed));
}
