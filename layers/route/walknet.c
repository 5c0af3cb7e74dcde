/* walknet.c: the current walking graph and its live costs (see walknet.h). */
#include "route/walknet.h"

#include "core/msh_time.h"
#include "route/nearcache.h"
#include "core/msh_hash.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct msh_walknet {
    char *layers;
    msh_livecost_cfg cfg;
    pthread_mutex_t lock; /* guards `view` */
    pthread_mutex_t update_mu; /* one update at a time: the reload thread's, or a request's that closed a gate */
    msh_netview *view;
    uint64_t built_from;  /* digest of (name, version) of the layers the graph came from */
    uint64_t live_seen;   /* live state version the costs came from */
    uint64_t published;   /* views published (the last one's version); under `lock` */
    msh_nearcache *near;  /* nearest-feature labels per (layer, filter) */
};

msh_walknet *msh_walknet_new(const char *layers, const msh_livecost_cfg *cfg)
{
    msh_walknet *w = calloc(1, sizeof *w);
    if (!w || !(w->layers = strdup(layers)) || !(w->near = msh_nearcache_new())) {
        if (w)
            free(w->layers);
        free(w);
        return NULL;
    }
    w->cfg = *cfg;
    pthread_mutex_init(&w->lock, NULL);
    pthread_mutex_init(&w->update_mu, NULL);
    return w;
}

void msh_netview_release(msh_netview *v)
{
    if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
        return;
    msh_graph_release(v->graph);
    msh_livecost_clear(&v->cost);
    free(v);
}

void msh_walknet_free(msh_walknet *w)
{
    if (!w)
        return;
    msh_netview_release(w->view);
    msh_nearcache_free(w->near);
    pthread_mutex_destroy(&w->lock);
    pthread_mutex_destroy(&w->update_mu);
    free(w->layers);
    free(w);
}

msh_netview *msh_walknet_view(msh_walknet *w)
{
    if (!w)
        return NULL;
    pthread_mutex_lock(&w->lock);
    msh_netview *v = w->view;
    if (v)
        atomic_fetch_add(&v->refs, 1);
    pthread_mutex_unlock(&w->lock);
    return v;
}

const msh_livecost_cfg *msh_walknet_cfg(const msh_walknet *w) { return &w->cfg; }
const char *msh_walknet_layers(const msh_walknet *w) { return w->layers; }
msh_nearcache *msh_walknet_nearcache(msh_walknet *w) { return w->near; }

static void publish(msh_walknet *w, msh_netview *v)
{
    pthread_mutex_lock(&w->lock);
    msh_netview *old = w->view;
    if (v)
        v->version = ++w->published;
    w->view = v;
    pthread_mutex_unlock(&w->lock);
    msh_netview_release(old);
}

/* The walking layers present in `cat`, and a digest of their names and versions. */
static size_t walk_layers(const msh_walknet *w, const msh_catalog *cat, msh_layer **out, size_t cap, uint64_t *digest);

size_t msh_walknet_walk_layers(const msh_walknet *w, const msh_catalog *cat, msh_layer **out, size_t cap)
{
    uint64_t digest;
    return walk_layers(w, cat, out, cap, &digest);
}

static size_t walk_layers(const msh_walknet *w, const msh_catalog *cat, msh_layer **out, size_t cap, uint64_t *digest)
{
    size_t n = 0;
    uint64_t d = MSH_FNV1A_INIT;
    const char *p = w->layers;
    while (*p && n < cap) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        msh_layer *l = len ? msh_catalog_find(cat, p, len) : NULL;
        if (l && l->info.geometry_type && !strcmp(l->info.geometry_type, "LineString")) {
            out[n++] = l;
            d = msh_fnv1a(p, len, d);
            d = msh_fnv1a(&l->info.version, sizeof l->info.version, d);
        }
        p += len + (e != NULL);
    }
    *digest = d;
    return n;
}

static void update_graph(msh_walknet *w, const msh_catalog *cat)
{
    msh_layer *ls[16];
    uint64_t digest;
    size_t n = walk_layers(w, cat, ls, 16, &digest);
    if (digest == w->built_from && (n == 0 || w->view))
        return;
    w->built_from = digest;
    if (!n) {
        publish(w, NULL);
        return;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    msh_graph *g;
    msh_err err;
    if (msh_graph_build(ls, n, &g, &err)) {
        fprintf(stderr, "mashaer: walking graph not rebuilt, keeping the previous one: %s\n", err.msg);
        return;
    }
    msh_netview *v = calloc(1, sizeof *v);
    if (!v) {
        msh_graph_release(g);
        return;
    }
    atomic_init(&v->refs, 1);
    v->graph = g;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    msh_graph_stats st;
    msh_graph_get_stats(g, &st);
    fprintf(stderr,
            "mashaer: walking graph from %s: %u nodes, %u edges, %.1f km, %u connected parts (the largest %u nodes) in %.2f s\n",
            w->layers, st.nodes, st.edges, st.total_m / 1000, st.components, st.largest,
            (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    /* the costs of the previous graph do not fit this one: free flow until the next update */
    w->live_seen = 0;
    publish(w, v);
}

static void update_costs(msh_walknet *w, msh_live *live)
{
    if (!live)
        return;
    msh_netview *cur = msh_walknet_view(w);
    if (!cur)
        return;
    msh_live_stats st;
    msh_live_get_stats(live, &st);
    /* any accepted record or expiry changes `updates` or `active` */
    uint64_t seen = st.updates * 1000003ull + st.active + 1;
    if (seen == w->live_seen) {
        msh_netview_release(cur);
        return;
    }
    msh_netview *v = calloc(1, sizeof *v);
    msh_err err;
    if (!v || msh_livecost_compute(cur->graph, live, &w->cfg, &v->cost, &err)) {
        if (v)
            fprintf(stderr, "mashaer: live walking costs not updated: %s\n", err.msg);
        free(v);
        msh_netview_release(cur);
        return;
    }
    atomic_init(&v->refs, 1);
    v->graph = msh_graph_retain(cur->graph);
    v->live = true;
    v->costs_ms = msh_now_ms();
    w->live_seen = seen;
    msh_netview_release(cur);
    /* only if the graph was not swapped meanwhile (update_mu: no other update runs now) */
    publish(w, v);
}

void msh_walknet_update_graph(msh_walknet *w, const msh_catalog *cat)
{
    pthread_mutex_lock(&w->update_mu);
    update_graph(w, cat);
    pthread_mutex_unlock(&w->update_mu);
}

void msh_walknet_update_costs(msh_walknet *w, msh_live *live)
{
    pthread_mutex_lock(&w->update_mu);
    update_costs(w, live);
    pthread_mutex_unlock(&w->update_mu);
}
