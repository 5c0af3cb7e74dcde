/* report_kpi.h: the reports' KPIs (issue 13: reports by category and zone, SLA met, median time to close).
 *
 * One pass over the reports layer (layers/workflow/reports.h) at `now`:
 *   - count, open (not resolved nor rejected), by category, by zone (a report in no zone under "");
 *   - SLA met: of the reports whose outcome against their deadline is known (closed, or open past
 *     `sla_due`), the share closed by their deadline; null when there is none;
 *   - median time to close (seconds from `created` to `closed`), over the closed ones; null when none.
 * Only counts and durations: no report, reporter or place is in the result, so /kpi stays public.
 * Pure (the time is a parameter); the zones' list grows as it finds them (a few dozen).
 */
#ifndef MSH_REPORT_KPI_H
#define MSH_REPORT_KPI_H

#include <stddef.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "layer.h"
#include "workflow/reports.h"

typedef struct msh_report_zone_count {
    char zone[MSH_REPORT_ID_MAX + 1];
    uint64_t count;
} msh_report_zone_count;

typedef struct msh_report_kpi {
    uint64_t total, open, closed, by_category[MSH_REPORT_NCAT];
    uint64_t sla_known, sla_met;   /* outcome known against the deadline; of them, closed by it */
    double median_close_s;         /* NAN: nothing closed */
    msh_report_zone_count *zones;  /* by zone, in the order first met */
    size_t nzones;
} msh_report_kpi;

/** The KPIs of reports layer `l` (NULL: all zero) at now_ms. Errors: MSH_ENOMEM. */
msh_rc msh_report_kpi_compute(msh_layer *l, int64_t now_ms, msh_report_kpi *out, msh_err *err);
void msh_report_kpi_free(msh_report_kpi *k);
/** As a JSON object: {"count","open","closed","by_category":{..},"by_zone":{..},"sla_met_share","median_close_s"}. */
void msh_report_kpi_json(const msh_report_kpi *k, msh_buf *b);

#endif
