/* fuzz_crsqs.c: the Part 2 parameters (exporters/features/crs_ref.h) on arbitrary bytes: a `crs` /
 * `bbox-crs` / Content-Crs value, and a bbox in each CRS served turned into lon/lat. The first byte
 * picks the case (and the CRS). Contracts: a CRS named is one served and its own URI names it
 * again; a bbox accepted lies in the world, its ring (when it has one) is finite and closed, and
 * inside its box; every refusal says why. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crs_ref.h"
#include "query/qs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0; /* parameter values arrive NUL-terminated (and may hold an early NUL) */
    msh_err err;
    err.msg[0] = 0;
    msh_rc rc = MSH_OK;
    if (data[0] < 128) {
        msh_crs c = MSH_CRS_COUNT, again = MSH_CRS_COUNT;
        rc = msh_crs_parse("crs", s, &c, &err);
        if (!rc && ((unsigned)c >= MSH_CRS_COUNT || msh_crs_parse("crs", msh_crs_uri(c), &again, &err) || again != c))
            abort();
    } else {
        msh_crs c = (msh_crs)(data[0] % MSH_CRS_COUNT);
        double v[4], ll[4], ring[2 * (4 * MSH_CRS_BBOX_SIDE + 1)];
        bool has_ring = false;
        rc = msh_qs_bbox_any(s, v, &err);
        if (!rc)
            rc = msh_crs_bbox(c, v, ll, ring, &has_ring, &err);
        if (!rc) {
            if (!(ll[1] <= ll[3]) || !(fabs(ll[0]) <= 180) || !(fabs(ll[2]) <= 180) || !(fabs(ll[1]) <= 90) ||
                !(fabs(ll[3]) <= 90))
                abort();
            if (has_ring) {
                int n = 4 * MSH_CRS_BBOX_SIDE + 1;
                if (ring[0] != ring[2 * (n - 1)] || ring[1] != ring[2 * (n - 1) + 1])
                    abort();
                for (int i = 0; i < n; i++)
                    if (!(ring[2 * i] >= ll[0] && ring[2 * i] <= ll[2] && ring[2 * i + 1] >= ll[1] &&
                          ring[2 * i + 1] <= ll[3]))
                        abort();
            }
        }
    }
    if (rc && !err.msg[0])
        abort(); /* every refusal says why */
    free(s);
    return 0;
}
