/* graph.h: the walking network as a graph, for routes, nearest-by-walking,
 * isochrones and network coverage KPIs.
 *
 * Built once per version of a line layer (the walkways): every line vertex
 * shared by two lines, and every line end, is a node; each run of vertices
 * between nodes is an edge keeping its shape. Vertices closer than 5 cm are
 * the same node. Edges are undirected; lengths are geodesic metres (haversine
 * per segment). Nodes and edges live in flat arrays (CSR adjacency) with a
 * packed R-tree over edge boxes for snapping points onto the network.
 *
 * Costs: a search runs over edge costs the caller hands in (`w`, seconds or
 * metres per edge, INFINITY = closed) or, with w NULL, over lengths in metres.
 * The graph itself is immutable and reference counted, so a request keeps the
 * one it started with while a re-import builds the next.
 */
#ifndef MSH_GRAPH_H
#define MSH_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"
#include "layer.h"

typedef struct msh_graph msh_graph;

/**
 * Build the graph of every line of the `n` line layers (the walkways, plus any other
 * walking layer: vertices they share join them). One reference.
 */
msh_rc msh_graph_build(msh_layer *const *layers, size_t n, msh_graph **out, msh_err *err);
/**
 * The same graph from lines given in lon/lat (a caller that reads its lines itself, such as the
 * simulator): `nlines` lines of npts[i] points each, one after another in `lonlat` (lon lat
 * pairs); fids[i] is line i's feature id (NULL: i + 1). Lines of fewer than 2 points are skipped.
 * Its layer_version is 0. One reference.
 */
msh_rc msh_graph_build_lonlat(const double *lonlat, const uint32_t *npts, const uint64_t *fids, size_t nlines,
                              msh_graph **out, msh_err *err);
msh_graph *msh_graph_retain(msh_graph *g);
void msh_graph_release(msh_graph *g);

typedef struct msh_graph_stats {
    uint32_t nodes, edges;
    uint32_t components;   /* connected parts */
    uint32_t largest;      /* nodes in the largest part */
    double total_m;        /* sum of edge lengths */
    uint64_t layer_version; /* a digest of the versions of the layers it was built from */
} msh_graph_stats;
void msh_graph_get_stats(const msh_graph *g, msh_graph_stats *st);

uint32_t msh_graph_edge_count(const msh_graph *g);
/** Length in metres of edge e. */
double msh_graph_edge_length(const msh_graph *g, uint32_t e);
/** The two end nodes of edge e. */
void msh_graph_edge_nodes(const msh_graph *g, uint32_t e, uint32_t *a, uint32_t *b);
/** The shape of edge e in lon/lat (npts pairs, from node a to node b), borrowed. */
const double *msh_graph_edge_shape(const msh_graph *g, uint32_t e, uint32_t *npts);
/** The feature id (in the line layer) edge e came from. */
uint64_t msh_graph_edge_fid(const msh_graph *g, uint32_t e);
/**
 * The street names of edge e, from its line's text fields `name` and `name_ar` (borrowed; "" where
 * the line has none or its layer lacks the field). False when the line has neither.
 */
bool msh_graph_edge_names(const msh_graph *g, uint32_t e, const char **name, const char **name_ar);
/** What a wheelchair finds on edge e (route/access.h): INFINITY barred, else |incline| percent, NAN unknown. */
float msh_graph_edge_access(const msh_graph *g, uint32_t e);
uint32_t msh_graph_node_count(const msh_graph *g);
void msh_graph_node_lonlat(const msh_graph *g, uint32_t n, double *lon, double *lat);

/** True when node n is in the largest connected part (the first of equal ones, by least node). */
bool msh_graph_in_largest(const msh_graph *g, uint32_t n);
/** The node nearest lon/lat (straight distance; only the largest part's when `largest`), UINT32_MAX
 * when there is none. A scan of every node: for a few look-ups, not per request. */
uint32_t msh_graph_nearest_node(const msh_graph *g, double lon, double lat, bool largest);

/** A point put on the network: the closest point of the closest edge. */
typedef struct msh_snap {
    uint32_t edge;
    double t;       /* position along the edge, 0 at node a .. 1 at node b (by length) */
    double off_m;   /* straight distance from the query point to the network, metres */
    double lon, lat; /* the point on the edge */
} msh_snap;

/** Snap lon/lat to the nearest edge within max_m metres; false when none is that close. */
bool msh_graph_snap(const msh_graph *g, double lon, double lat, double max_m, msh_snap *out);

/**
 * One-to-all search from the snapped points `src` (n of them, cost 0 each), stopping at cutoff
 * (INFINITY: none). `w` are per-edge costs (NULL: lengths in metres). `cost` (node_count values)
 * gets each node's least cost, INFINITY where not reached within cutoff.
 */
msh_rc msh_graph_reach(const msh_graph *g, const float *w, const msh_snap *src, size_t n, double cutoff,
                       double *cost, msh_err *err);
/** The least cost to a snapped point given the node costs from msh_graph_reach. */
double msh_graph_cost_at(const msh_graph *g, const float *w, const double *cost, const msh_snap *at);

/**
 * The shortest-path tree of node `root` over edge costs `w` (NULL: lengths): pred[n] (node_count
 * values) is the edge from n toward the root, MSH_GRAPH_NO_EDGE at the root and where not reached.
 * The graph is undirected, so it is also the tree of shortest paths from every node to the root.
 * `cost` (NULL: not wanted) gets each node's least cost, INFINITY where not reached.
 */
#define MSH_GRAPH_NO_EDGE UINT32_MAX
msh_rc msh_graph_tree(const msh_graph *g, const float *w, uint32_t root, uint32_t *pred, double *cost, msh_err *err);
/**
 * Append to `lonlat` (doubles) the points of the tree path from node `from` to the tree's root,
 * along the edges' shapes. MSH_ENOTFOUND when `from` is not in the tree (nothing appended).
 */
msh_rc msh_graph_tree_path(const msh_graph *g, const uint32_t *pred, uint32_t root, uint32_t from, msh_buf *lonlat);

/** Call fn for every edge with a point within r metres of lon/lat (each edge once per call, any order). */
void msh_graph_edges_near(const msh_graph *g, double lon, double lat, double r, void (*fn)(void *ud, uint32_t e),
                          void *ud);
/** Append to `lonlat` (doubles) the points of edge e walked from d0 to d1 metres along it (either way). */
msh_rc msh_graph_edge_sub(const msh_graph *g, uint32_t e, double d0, double d1, msh_buf *lonlat);
/** The lon/lat box of the network: west, south, east, north. */
void msh_graph_bounds(const msh_graph *g, double out[4]);

/** The edges meeting node n (borrowed). */
const uint32_t *msh_graph_node_edges(const msh_graph *g, uint32_t n, uint32_t *count);

/**
 * An incremental one-to-all search that settles nodes one at a time in cost order (nearest
 * features by walking, stopped as soon as the answer is known). Its scratch memory is the
 * calling thread's: one search at a time per thread, and not across msh_graph_reach/route.
 */
typedef struct msh_graph_search msh_graph_search;
msh_graph_search *msh_graph_search_new(const msh_graph *g, const float *w, const msh_snap *src, size_t n);
/** The next settled node and its cost; false when every reachable node is settled. */
bool msh_graph_search_next(msh_graph_search *s, uint32_t *node, double *cost);
/** The cost of a settled node, INFINITY when not settled yet. */
double msh_graph_search_cost(const msh_graph_search *s, uint32_t node);
void msh_graph_search_free(msh_graph_search *s);

/** Metres between two lon/lat points (WGS84 radii at their mean latitude; for city distances). */
double msh_metres(double lon1, double lat1, double lon2, double lat2);

/** A path found by msh_graph_route. */
typedef struct msh_path {
    double cost;        /* in the units of w */
    double length_m;
    msh_buf lonlat;     /* doubles: lon lat lon lat ... from origin to destination */
    msh_buf edges;      /* uint32 edge ids in order (the partial first and last edges included) */
    msh_buf edge_m;     /* doubles: the metres walked on each of `edges` */
} msh_path;
void msh_path_init(msh_path *p);
void msh_path_free(msh_path *p);

/**
 * Least-cost path between two snapped points (A*; w NULL: lengths). `min_w_per_m`
 * is a lower bound of w per metre over every edge (for the A* bound; 1 when w is NULL).
 * MSH_ENOTFOUND when no path exists (different parts, or closed edges between).
 */
msh_rc msh_graph_route(const msh_graph *g, const float *w, double min_w_per_m, const msh_snap *from,
                       const msh_snap *to, msh_path *out, msh_err *err);

#endif
