/* fuzz_kpiconfig.c: the KPI configuration reader never crashes, and what it accepts is in range
 * (every distance and time positive, the weights not all 0); a refusal leaves the config as it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpi/kpi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msh_kpi_config c, before;
    msh_kpi_config_default(&c);
    before = c;
    msh_err err;
    if (msh_kpi_config_parse((const char *)data, size, &c, &err) != MSH_OK) {
        if (memcmp(&c, &before, sizeof c) || !err.msg[0])
            abort();
        return 0;
    }
    double w = 0;
    for (int i = 0; i < MSH_KPI_NW; i++) {
        if (!(c.weight[i] >= 0))
            abort();
        w += c.weight[i];
    }
    if (!(w > 0) || c.interval_s < 1 || !(c.window_h > 0) || !(c.toilet_m > 0) || !(c.water_m > 0) ||
        !(c.clinic_m > 0) || !(c.cleaning_h > 0) || !(c.cleaning_buffer_m > 0) || !(c.response_target_s > 0) ||
        !(c.snap_m >= 0) || !(c.max_gap_s >= 0) || !(c.history_days >= 0))
        abort();
    return 0;
}
