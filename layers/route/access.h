/* access.h: which walkways a wheelchair can use (/route?profile=wheelchair, /isochrone too).
 *
 * Rules, from the walkway's own attributes (OSM tags as the importer keeps them):
 * - barred: `highway=steps`, `steps=yes` (or true), `wheelchair=no`;
 * - too steep: the absolute `incline` over --max-incline (percent: "8%", "-8 %", "8"; degrees:
 *   "4.5°" or "4.5deg", taken as the tangent; "up"/"down" without a value say nothing), or, when a
 *   line has numeric `ele_start` and `ele_end` (metres at its first and last vertex), the rise over
 *   the line's length. An edge of the graph gets the value of the line it came from.
 * A walkway saying nothing is taken as usable: the profile avoids what the data says, it cannot
 * know what it does not say (docs/ROUTING.md).
 * Each edge keeps one float (graph.h: msh_graph_edge_access): INFINITY barred, else the absolute
 * incline in percent, NAN unknown; the profile's weights close the barred and too steep edges.
 */
#ifndef MSH_ROUTE_ACCESS_H
#define MSH_ROUTE_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "layer.h"

/** The absolute incline in percent of an `incline` text (n bytes), NAN when it gives no number. */
float msh_access_incline(const char *s, size_t n);

/** The field indices of a layer the rules read (-1 where absent). */
typedef struct msh_access_fields {
    int highway, steps, wheelchair, incline, ele_start, ele_end;
} msh_access_fields;
void msh_access_fields_find(const msh_layer_info *info, msh_access_fields *out);

/** A line's value (INFINITY barred, else |incline| percent, NAN unknown); length_m for elevations. */
float msh_access_line(const msh_access_fields *af, const msh_feature *f, double length_m);

struct msh_graph;
/**
 * The costs of the wheelchair profile: `w` (NULL: lengths) copied, INFINITY on every edge barred or
 * steeper than max_incline percent; *closed counts them. NULL without memory.
 */
float *msh_access_weights(const struct msh_graph *g, const float *w, double max_incline, uint32_t *closed);

/** True when edge e is usable by the profile. */
int msh_access_edge_ok(const struct msh_graph *g, uint32_t e, double max_incline);

#endif
