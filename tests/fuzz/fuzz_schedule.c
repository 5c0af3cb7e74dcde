/* fuzz_schedule.c: the forecast schedule reader (layers/forecast/schedule.c) never crashes, and what
 * it accepts is in range: sizes 1..1e6 (0 allowed for a return) spread over a window of 1 s to 24 h,
 * coordinates on the map, a destination for every group; a refusal returns nothing and says why. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "forecast/schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msh_fc_source *s = (msh_fc_source *)1;
    size_t n = 7;
    msh_err err;
    err.msg[0] = 0;
    if (msh_fc_schedule_parse((const char *)data, size, &s, &n, &err) != MSH_OK) {
        if (s || n || !err.msg[0])
            abort();
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const msh_fc_source *g = &s[i];
        double window = (double)(g->to_ms - g->from_ms) / 1000.0, people = g->rate * window;
        if (!g->has_dest || !(window >= 1 && window <= 86400) || !(people >= (g->turn ? 0 : 0.999) && people <= 1e6 * 1.001) ||
            !(fabs(g->lon) <= 180 && fabs(g->lat) <= 85 && fabs(g->dest_lon) <= 180 && fabs(g->dest_lat) <= 85))
            abort();
    }
    free(s);
    return 0;
}
