/* kpi_layer.h: the `kpi_zones` layer: service zones carrying their latest indicator values.
 *
 * Geometry is the service_zones layer's (the one the latest KPI result was computed over);
 * the fields are zone_id, name, peak_los and every indicator as group_name (numbers, null when
 * not measured). Its region_version hashes the result's values, so tiles and ETags change
 * when an indicator does and not otherwise. The layer reads msh_kpi_latest(): it shows what
 * the last compute (the recording tick or a /kpi request) found.
 */
#ifndef MSH_KPI_LAYER_H
#define MSH_KPI_LAYER_H

#include "kpi.h"
#include "layer.h"

/** A new kpi_zones layer over `k` (borrowed: it must outlive the layer). One reference. */
msh_rc msh_kpi_layer_new(msh_kpi *k, msh_layer **out, msh_err *err);

#endif
