/* gate_counts_layer.h: the `gate_counts` collection over gate_counts.h (fields: gate, time (the
 * bucket's start), end, in, out, net, peak_utilisation, scans_valid, scans_denied, denied_share). */
#ifndef MSH_GATE_COUNTS_LAYER_H
#define MSH_GATE_COUNTS_LAYER_H

#include "gate_counts.h"
#include "layer.h"

/** A layer reading gc (which must outlive it). */
msh_rc msh_gate_counts_layer_new(msh_gate_counts *gc, msh_layer **out, msh_err *err);

#endif
