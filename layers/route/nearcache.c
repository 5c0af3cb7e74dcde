/* nearcache.c: the labelled nearest-feature sets (see nearcache.h). */
#include "route/nearcache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_grow.h"
#include "core/msh_tilemath.h"

#define SLOTS 32

struct msh_nearcache {
    pthread_mutex_t lock; /* guards the slots, and is held while an entry is built */
    msh_nearset *slot[SLOTS];
    uint64_t clock;
};

msh_nearcache *msh_nearcache_new(void)
{
    msh_nearcache *c = calloc(1, sizeof *c);
    if (c)
        pthread_mutex_init(&c->lock, NULL);
    return c;
}

void msh_nearset_release(msh_nearset *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    msh_knear_free(s->kn);
    msh_graph_release(s->graph);
    free(s->key);
    free(s->src);
    free(s);
}

void msh_nearcache_free(msh_nearcache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SLOTS; i++)
        msh_nearset_release(c->slot[i]);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

typedef struct build_ctx {
    msh_cql2 *filter;
    const msh_graph *g;
    double snap_m;
    msh_nearset *s;
    size_t cap;
    bool oom;
} build_ctx;

static int add_source(void *ud, const msh_feature *f)
{
    build_ctx *b = ud;
    if (f->geom.type != MSH_GT_POINT || !f->geom.npts || (b->filter && !msh_cql2_match(b->filter, f)))
        return 0;
    msh_nearset *s = b->s;
    msh_nearsrc one = {.fid = f->id};
    msh_world_to_lonlat(f->geom.xy[0], f->geom.xy[1], &one.lon, &one.lat);
    if (!msh_graph_snap(b->g, one.lon, one.lat, b->snap_m, &one.snap))
        return 0; /* off the network: nobody walks there */
    if (msh_grow_from((void **)&s->src, &b->cap, s->n + 1, sizeof *s->src, 256)) {
        b->oom = true;
        return 1;
    }
    s->src[s->n++] = one;
    return 0;
}

static msh_nearset *build(msh_graph *g, msh_layer *l, const char *key, msh_cql2 *filter, double snap_m, msh_err *err)
{
    msh_nearset *s = calloc(1, sizeof *s);
    if (!s || !(s->key = strdup(key))) {
        free(s);
        msh_err_set(err, MSH_ENOMEM, "out of memory");
        return NULL;
    }
    atomic_init(&s->refs, 1);
    s->graph = msh_graph_retain(g);
    s->layer_version = l->info.version;
    build_ctx b = {filter, g, snap_m, s, 0, false};
    const double world[4] = {0, 0, 1, 1};
    l->vt->query(l, world, l->info.maxzoom, add_source, &b);
    msh_snap *snaps = b.oom ? NULL : malloc((s->n ? s->n : 1) * sizeof *snaps);
    for (size_t i = 0; snaps && i < s->n; i++)
        snaps[i] = s->src[i].snap;
    if (!snaps || msh_knear_build(g, snaps, s->n, MSH_NEAR_K, &s->kn, err)) {
        if (!snaps)
            msh_err_set(err, MSH_ENOMEM, "out of memory");
        free(snaps);
        msh_nearset_release(s);
        return NULL;
    }
    free(snaps);
    return s;
}

msh_nearset *msh_nearcache_get(msh_nearcache *c, msh_graph *g, msh_layer *l, const char *ftext, msh_cql2 *filter,
                               double snap_m, msh_err *err)
{
    size_t kl = strlen(l->info.name) + 1 + strlen(ftext) + 1;
    char *key = malloc(kl);
    if (!key) {
        msh_err_set(err, MSH_ENOMEM, "out of memory");
        return NULL;
    }
    snprintf(key, kl, "%s\n%s", l->info.name, ftext);
    pthread_mutex_lock(&c->lock);
    msh_nearset *hit = NULL;
    int victim = 0;
    for (int i = 0; i < SLOTS; i++) {
        msh_nearset *s = c->slot[i];
        if (!s) {
            victim = i;
            continue;
        }
        if (s->graph == g && s->layer_version == l->info.version && !strcmp(s->key, key)) {
            hit = s;
            break;
        }
        if (c->slot[victim] && s->last_used < c->slot[victim]->last_used)
            victim = i;
    }
    if (!hit) {
        hit = build(g, l, key, filter, snap_m, err);
        if (hit) {
            msh_nearset_release(c->slot[victim]);
            c->slot[victim] = hit;
        }
    }
    if (hit) {
        hit->last_used = ++c->clock;
        atomic_fetch_add(&hit->refs, 1);
    }
    pthread_mutex_unlock(&c->lock);
    free(key);
    return hit;
}
