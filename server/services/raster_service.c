/* raster_service.c: the compiled styles and each worker thread's renderer (raster_service.h). */
#include "services/raster_service.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raster.h"
#include "rstyle.h"

#define MAX_STYLES 64

typedef struct rs_style {
    char name[80];
    msh_rstyle *st;
    char *error; /* why it did not compile */
} rs_style;

struct msh_raster_service {
    pthread_key_t key; /* the thread's msh_raster */
    rs_style styles[MAX_STYLES];
    size_t n;
};

static void free_tls(void *p) { msh_raster_free(p); }

bool msh_raster_style_name_ok(const char *s, size_t n)
{
    if (!n || n >= 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void load_style(rs_style *rs, const char *dir, const char *file)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    msh_buf warn;
    msh_buf_init(&warn, (size_t)1 << 20);
    msh_err err = {0};
    msh_rc rc = msh_rstyle_load(path, &warn, &rs->st, &err);
    if (warn.len) {
        /* one line per ignored property, operator or layer */
        fprintf(stderr, "mashaer: raster style %s draws without:\n", rs->name);
        fwrite(warn.data, 1, warn.len, stderr);
    }
    if (rc) {
        fprintf(stderr, "mashaer: raster style %s rejected: %s\n", rs->name, err.msg);
        rs->error = strdup(err.msg);
    }
    msh_buf_free(&warn);
}

msh_raster_service *msh_raster_service_new(const char *styles_dir)
{
    msh_raster_service *s = calloc(1, sizeof *s);
    if (!s || pthread_key_create(&s->key, free_tls)) {
        free(s);
        return NULL;
    }
    DIR *d = styles_dir ? opendir(styles_dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) && s->n < MAX_STYLES) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") || !msh_raster_style_name_ok(e->d_name, n - 5))
            continue;
        rs_style *rs = &s->styles[s->n++];
        snprintf(rs->name, sizeof rs->name, "%.*s", (int)(n - 5), e->d_name);
        load_style(rs, styles_dir, e->d_name);
    }
    if (d)
        closedir(d);
    return s;
}

void msh_raster_service_free(msh_raster_service *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        msh_rstyle_free(s->styles[i].st);
        free(s->styles[i].error);
    }
    msh_raster_free(pthread_getspecific(s->key));
    pthread_key_delete(s->key);
    free(s);
}

const char *msh_raster_service_name(const msh_raster_service *s, size_t i)
{
    return s && i < s->n ? s->styles[i].name : NULL;
}

msh_raster *msh_raster_service_thread(msh_raster_service *s)
{
    msh_raster *r = pthread_getspecific(s->key);
    if (!r && (r = msh_raster_new()))
        pthread_setspecific(s->key, r);
    return r;
}


msh_rc msh_raster_service_style(msh_raster_service *s, const char *name, size_t n, const msh_rstyle **st, msh_err *err)
{
    for (size_t i = 0; s && i < s->n; i++) {
        rs_style *rs = &s->styles[i];
        if (strlen(rs->name) != n || memcmp(rs->name, name, n))
            continue;
        if (!rs->st)
            return msh_err_set(err, MSH_EINTERNAL, "style '%s' was rejected at start: %s", rs->name,
                               rs->error ? rs->error : "?");
        *st = rs->st;
        return MSH_OK;
    }
    return msh_err_set(err, MSH_ENOTFOUND, "no style named '%.*s' (styles are read at start)", (int)n, name);
}
