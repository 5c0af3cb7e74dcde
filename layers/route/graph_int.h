/* graph_int.h: the graph's layout, shared by graph.c (building, snapping) and search.c. */
#ifndef MSH_GRAPH_INT_H
#define MSH_GRAPH_INT_H

#include <stdatomic.h>

#include "graph.h"

struct msh_graph {
    atomic_int refs;
    uint32_t nn, ne;
    double *node_ll;     /* 2 * nn: lon lat */
    uint32_t *ea, *eb;   /* edge end nodes */
    double *elen;        /* edge length, metres */
    uint64_t *efid;      /* feature id each edge came from */
    uint32_t *ename;     /* each edge's street names: an offset into names, 0 when the line has none */
    float *eacc;         /* each edge's access value (access.h): INFINITY barred, |incline| %, NAN unknown */
    char *names;         /* "name\0name_ar\0" of each named line part, after a leading "\0" */
    uint32_t *eoff;      /* ne + 1: each edge's first point in shape */
    double *shape;       /* lon lat of every edge's points, ends included */
    double *cum;         /* metres from the edge's start to each shape point */
    uint32_t *adj_off;   /* nn + 1: CSR offsets into adj */
    uint32_t *adj;       /* edge ids meeting each node */
    /* the local plane (metres around lon0/lat0) and the snapping grid over it */
    double lon0, lat0, kx, ky, plane_slack;
    double gx0, gy0;
    uint32_t gw, gh;
    uint32_t *cell_off, *cell_seg, *seg_edge;
    uint32_t components, largest;
    uint32_t *part;        /* nn: each node's connected part (the least node in it) */
    uint32_t largest_part; /* the part of `largest` nodes (the first such), UINT32_MAX when empty */
    double total_m;
    uint64_t layer_version;
};

/** A lower bound of the metres walked between two points (the local plane, scaled down so it never overestimates). */
double msh_graph_plane_metres(const msh_graph *g, double lon1, double lat1, double lon2, double lat2);

#endif
