/* fuzz_incline.c: the `incline` tag reader of the wheelchair profile (route/access.h) never crashes,
 * never reads past its input (it takes a length, not a C string), and answers NAN or a number that
 * is not negative: a percent, or INFINITY for a vertical one. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route/access.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so that ASan sees a read past the end */
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    float v = msh_access_incline(s, size);
    if (!isnan(v) && !(v >= 0))
        abort();
    free(s);
    return 0;
}
