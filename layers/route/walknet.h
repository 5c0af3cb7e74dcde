/* walknet.h: the walking network the server routes on, kept current.
 *
 * The graph (layers/route/graph.h) is built from the walking layers (--walk-layers,
 * default "walkways,site_walkways"; the ones missing from the store are skipped) and
 * rebuilt by the reload thread when any of them changes. Live walking costs
 * (layers/route/livecost.h) are recomputed from the crowd and the incidents at most once a
 * second, and only when the live state changed. Requests take a view: the graph and the
 * costs that go with it, immutable and reference counted, so a rebuild never waits for
 * a request and a request never sees half of one.
 */
#ifndef MSH_WALKNET_H
#define MSH_WALKNET_H

#include <stdatomic.h>
#include <stdbool.h>

#include "catalog.h"
#include "live/live.h"
#include "route/graph.h"
#include "route/livecost.h"

typedef struct msh_netview {
    atomic_int refs;
    msh_graph *graph;
    msh_livecost cost;  /* per-edge costs; w and secs are NULL when there is no live state */
    bool live;          /* costs come from a live state */
    int64_t costs_ms;   /* when the costs were computed */
    uint64_t version;   /* 1, 2, 3, ... in the order views are published: a new graph or new costs, a new number */
} msh_netview;

typedef struct msh_walknet msh_walknet;

/** `layers`: comma-separated layer names. */
msh_walknet *msh_walknet_new(const char *layers, const msh_livecost_cfg *cfg);
void msh_walknet_free(msh_walknet *w);
/** Rebuild the graph if the walking layers of `cat` differ from the ones it was built from. */
void msh_walknet_update_graph(msh_walknet *w, const msh_catalog *cat);
/** Recompute the live costs if `live` changed since the last time (call about once a second). */
void msh_walknet_update_costs(msh_walknet *w, msh_live *live);
/** The current view (one reference), or NULL when no walking layer exists. */
msh_netview *msh_walknet_view(msh_walknet *w);
void msh_netview_release(msh_netview *v);
const msh_livecost_cfg *msh_walknet_cfg(const msh_walknet *w);
/** The nearest-feature label cache (server/nearcache.h). */
struct msh_nearcache *msh_walknet_nearcache(msh_walknet *w);
/** The line layers of `cat` the graph is built from, in the order named (at most cap; borrowed from cat). */
size_t msh_walknet_walk_layers(const msh_walknet *w, const msh_catalog *cat, msh_layer **out, size_t cap);
/** The layer names it builds from. */
const char *msh_walknet_layers(const msh_walknet *w);

#endif
