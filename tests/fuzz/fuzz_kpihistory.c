/* fuzz_kpihistory.c: the /kpi/history parameters (from, to, step: three lines of the input; an
 * empty line is an absent parameter) never crash the checker, and what it accepts is a window in
 * order with a step from 1 s to 31 days and at most MSH_KPI_HISTORY_MAX_POINTS points. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpi/kpi_history.h"
#include "fuzz_cstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    if (!s)
        return 0;
    char *part[3] = {NULL, NULL, NULL};
    char *p = s;
    for (int i = 0; i < 3 && p; i++) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        part[i] = *p ? p : NULL;
        p = nl ? nl + 1 : NULL;
    }
    msh_kpi_hq q;
    msh_err err;
    const int64_t now = 1779782400000LL;
    if (msh_kpi_hq_parse(part[0], part[1], part[2], now, &q, &err) == MSH_OK) {
        if (q.from_ms > q.to_ms || q.step_ms < 1000 || q.step_ms > 31LL * 86400000 ||
            (q.to_ms - q.from_ms) / q.step_ms + 1 > MSH_KPI_HISTORY_MAX_POINTS)
            abort();
        if (!part[1] && q.to_ms != now)
            abort();
    } else if (!err.msg[0]) {
        abort();
    }
    free(s);
    return 0;
}
