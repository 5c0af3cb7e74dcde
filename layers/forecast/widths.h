/* widths.h: the width of every walking edge, from the walkway data.
 *
 * A walkway line may carry its width in metres in a number field `width_m` (or `width`); every
 * edge cut from that line gets it. Lines without one (or with a width outside 0.5..500 m) get 0,
 * which the forecast reads as MSH_FC_DEFAULT_WIDTH_M (4 m, a street between camps). Edges are
 * matched to lines by feature id; where two walking layers share an id, the first layer listed
 * gives the width.
 */
#ifndef MSH_FC_WIDTHS_H
#define MSH_FC_WIDTHS_H

#include "layer.h"
#include "route/graph.h"

/** Per-edge widths of g (malloc'd, msh_graph_edge_count values; 0: unknown) from its `n` line layers. */
msh_rc msh_fc_edge_widths(const msh_graph *g, msh_layer *const *layers, size_t n, float **out, msh_err *err);

#endif
