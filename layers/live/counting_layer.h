/* counting_layer.h: the `counting_line_counts` collection over counting.h (one item per line and
 * minute with a crossing: line, name, minute and time (its start), ab, ba, total; at a point of the
 * line), and each line's totals as JSON for /kpi. */
#ifndef MSH_COUNTING_LAYER_H
#define MSH_COUNTING_LAYER_H

#include "core/msh_buf.h"
#include "counting.h"
#include "layer.h"

/** A layer reading c (which must outlive it). */
msh_rc msh_counting_layer_new(msh_counting *c, msh_layer **out, msh_err *err);
/** [{"line":fid,"name":..,"ab":..,"ba":..,"total":..,"last_minute":ISO|null}, ...] (takes the read lock). */
msh_rc msh_counting_totals_json(msh_counting *c, msh_buf *b);

#endif
