/* nearcache.h: nearest-by-walking answers for static point layers, labelled once per filter.
 *
 * GET /query/nearest on a static point layer asks the same few questions again and again
 * ("the nearest working water points"). The first ask of a (layer, filter) labels every node
 * of the walking graph with its MSH_NEAR_K nearest matching features (layers/route/knearest.h);
 * later asks are a snap and two label lists. An entry is keyed by layer name, filter text,
 * layer version and graph, so a re-import or a new graph makes it unreachable at once; the
 * cache keeps the most recently used entries only.
 */
#ifndef MSH_NEARCACHE_H
#define MSH_NEARCACHE_H

#include <stdatomic.h>

#include "layer.h"
#include "query/cql2.h"
#include "route/knearest.h"

#define MSH_NEAR_K 10

/** One labelled feature: its id and point, and where it meets the network. */
typedef struct msh_nearsrc {
    uint64_t fid;
    double lon, lat;
    msh_snap snap;
} msh_nearsrc;

typedef struct msh_nearset {
    atomic_int refs;
    char *key;              /* "layer\nfilter" */
    uint64_t layer_version;
    msh_graph *graph;       /* retained */
    msh_knear *kn;
    size_t n;
    msh_nearsrc *src;       /* the features, by label source index */
    uint64_t last_used;
} msh_nearset;

typedef struct msh_nearcache msh_nearcache;

msh_nearcache *msh_nearcache_new(void);
void msh_nearcache_free(msh_nearcache *c);
/**
 * The labelled features of point layer `l` matching `filter` (its text `ftext`, "" for none),
 * features farther than snap_m from the network left out. Built on a miss. One reference.
 */
msh_nearset *msh_nearcache_get(msh_nearcache *c, msh_graph *g, msh_layer *l, const char *ftext, msh_cql2 *filter,
                               double snap_m, msh_err *err);
void msh_nearset_release(msh_nearset *s);

#endif
