/* knearest.h: the k nearest sources of every node of the walking graph, for nearest-by-walking
 * answers in O(k) per query.
 *
 * One search from all sources at once where each node keeps up to k labels (source, distance)
 * from distinct sources, settled in distance order: the k nearest sources of every node. A
 * point on edge (a, b) then has its k nearest among those of a (plus the walk to a), those of b
 * (plus the walk to b) and the sources on its own edge: a source nearer to the point through a
 * than the point's k-th is nearer to a than a's k-th, so nothing is missed. Distances include
 * each source's own walk onto the network (its snap offset).
 */
#ifndef MSH_KNEAREST_H
#define MSH_KNEAREST_H

#include "graph.h"

#define MSH_KNEAR_MAX 16

typedef struct msh_knear msh_knear;

/** Labels for the `n` snapped sources (ids are their indexes), up to k (<= MSH_KNEAR_MAX) per node. */
msh_rc msh_knear_build(const msh_graph *g, const msh_snap *src, size_t n, uint32_t k, msh_knear **out, msh_err *err);
void msh_knear_free(msh_knear *kn);
uint32_t msh_knear_k(const msh_knear *kn);

/**
 * The up to k nearest sources to the snapped point p by network distance (p's own snap offset
 * not included), nearest first: their indexes and distances. Returns how many.
 */
uint32_t msh_knear_query(const msh_knear *kn, const msh_graph *g, const msh_snap *p, uint32_t *ids, double *dist);

#endif
