/* fuzz_routeqs.c: the query-string parsers of /route, /isochrone and the /query routes never
 * crash, never read past their input, and accept only values inside the documented ranges. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route/params.h"
#include "fuzz_cstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    if (!s)
        return 0;
    msh_err err;
    double v, lon, lat;
    if (msh_param_number("minutes", s, 0.1, 60, &v, &err) == MSH_OK && !(v >= 0.1 && v <= 60))
        abort();
    if (msh_param_lonlat("from", s, &lon, &lat, &err) == MSH_OK &&
        !(isfinite(lon) && isfinite(lat) && fabs(lon) <= 180 && fabs(lat) <= 85.06))
        abort();
    msh_place p;
    if (msh_param_place("to", s, &p, &err) == MSH_OK) {
        if (p.kind == MSH_PLACE_POINT && !(fabs(p.lon) <= 180 && fabs(p.lat) <= 85.06))
            abort();
        if (p.kind != MSH_PLACE_POINT && (strlen(p.id) == 0 || strlen(p.id) > 64))
            abort();
    }
    msh_profile prof;
    if (msh_param_profile(s, &prof, &err) == MSH_OK && prof != MSH_PROFILE_WALKING && prof != MSH_PROFILE_WHEELCHAIR)
        abort();
    free(s);
    return 0;
}
