/* catalog.c: refcounted snapshots of the served layers. */
#include "catalog.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "static_layer.h"
#include "core/msh_hash.h"

struct msh_catalog {
    atomic_int refs;
    size_t n;
    msh_layer **layers;
    char store_id[40];
    uint64_t digest;
};

static int cmp_layer(const void *a, const void *b)
{
    return strcmp((*(msh_layer *const *)a)->info.name, (*(msh_layer *const *)b)->info.name);
}

/* One layer's share of the digest: a sum of these, so that replacing one layer (msh_catalog_with)
 * updates it without the others (extras count by name only). */
static uint64_t entry_digest(const char *name, const uint64_t *version)
{
    uint64_t h = msh_fnv1a(name, strlen(name) + 1, MSH_FNV1A_INIT);
    return version ? msh_fnv1a(version, sizeof *version, h) : h;
}

msh_rc msh_catalog_load(msh_store *s, const msh_catalog *prev, msh_catalog **out, msh_err *err)
{
    return msh_catalog_load_with(s, prev, NULL, 0, out, err);
}

msh_rc msh_catalog_load_with(msh_store *s, const msh_catalog *prev, msh_layer *const *extras, size_t nextras,
                             msh_catalog **out, msh_err *err)
{
    *out = NULL;
    msh_layer_info *infos = NULL;
    size_t n = 0;
    msh_rc rc = msh_store_list(s, &infos, &n, err);
    if (rc)
        return rc;
    msh_catalog *c = calloc(1, sizeof *c);
    if (!c || (n + nextras && !(c->layers = calloc(n + nextras, sizeof *c->layers)))) {
        free(c);
        msh_store_infos_free(infos, n);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    atomic_init(&c->refs, 1);
    snprintf(c->store_id, sizeof c->store_id, "%s", msh_store_id(s));
    c->digest = msh_fnv1a(c->store_id, strlen(c->store_id), MSH_FNV1A_INIT);
    for (size_t i = 0; i < n && !rc; i++) {
        int hidden = 0;
        for (size_t k = 0; k < nextras; k++)
            hidden |= !strcmp(extras[k]->info.name, infos[i].name);
        if (hidden)
            continue;
        msh_layer *old = prev ? msh_catalog_find(prev, infos[i].name, strlen(infos[i].name)) : NULL;
        if (old && old->info.version == infos[i].version) {
            c->layers[c->n++] = msh_layer_retain(old);
        } else {
            rc = msh_static_layer_load(s, &infos[i], &c->layers[c->n], err);
            if (!rc)
                c->n++;
        }
        c->digest += entry_digest(infos[i].name, &infos[i].version);
    }
    msh_store_infos_free(infos, n);
    for (size_t k = 0; k < nextras && !rc; k++) {
        c->layers[c->n++] = msh_layer_retain(extras[k]);
        c->digest += entry_digest(extras[k]->info.name, NULL);
    }
    if (!rc && c->n > 1)
        qsort(c->layers, c->n, sizeof *c->layers, cmp_layer);
    if (rc) {
        msh_catalog_release(c);
        return rc;
    }
    *out = c;
    return MSH_OK;
}

msh_rc msh_catalog_with(const msh_catalog *c, msh_layer *const *layers, size_t n, msh_catalog **out, msh_err *err)
{
    *out = NULL;
    msh_catalog *nc = calloc(1, sizeof *nc);
    if (!nc || (c->n && !(nc->layers = calloc(c->n, sizeof *nc->layers)))) {
        free(nc);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    atomic_init(&nc->refs, 1);
    memcpy(nc->store_id, c->store_id, sizeof nc->store_id);
    nc->digest = c->digest;
    nc->n = c->n;
    for (size_t i = 0; i < c->n; i++) {
        msh_layer *l = c->layers[i];
        for (size_t k = 0; k < n; k++) {
            if (strcmp(layers[k]->info.name, l->info.name) || layers[k]->info.version < l->info.version)
                continue; /* another layer, or an older version of it than the served one */
            nc->digest += entry_digest(l->info.name, &layers[k]->info.version) -
                          entry_digest(l->info.name, &l->info.version);
            l = layers[k];
        }
        nc->layers[i] = msh_layer_retain(l);
    }
    *out = nc;
    return MSH_OK;
}

msh_catalog *msh_catalog_retain(msh_catalog *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void msh_catalog_release(msh_catalog *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    for (size_t i = 0; i < c->n; i++)
        msh_layer_release(c->layers[i]);
    free(c->layers);
    free(c);
}

size_t msh_catalog_count(const msh_catalog *c)
{
    return c->n;
}

msh_layer *msh_catalog_at(const msh_catalog *c, size_t i)
{
    return i < c->n ? c->layers[i] : NULL;
}

msh_layer *msh_catalog_find(const msh_catalog *c, const char *name, size_t len)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *m = c->layers[mid]->info.name;
        int r = strncmp(m, name, len);
        if (r == 0 && m[len] != 0)
            r = 1;
        if (r == 0)
            return c->layers[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *msh_catalog_store_id(const msh_catalog *c)
{
    return c->store_id;
}

uint64_t msh_catalog_digest(const msh_catalog *c)
{
    return c->digest;
}
