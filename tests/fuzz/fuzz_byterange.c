/* fuzz_byterange.c: the Range header reader on arbitrary values, against sizes from the input.
 * Input: 2 bytes of size (0..65535) then the header value. Whatever it reads, a single range lies
 * inside the resource and is not empty. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/byterange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint64_t total = (uint64_t)data[0] << 8 | data[1];
    char *s = malloc(size - 1);
    memcpy(s, data + 2, size - 2);
    s[size - 2] = 0;
    uint64_t first = 0, len = 0;
    msh_range_kind k = msh_range_parse(s, total, &first, &len);
    if (k == MSH_RANGE_ONE && (len == 0 || first >= total || len > total - first))
        abort();
    /* the same value against the largest size: a range is still inside */
    k = msh_range_parse(s, UINT64_MAX, &first, &len);
    if (k == MSH_RANGE_ONE && (len == 0 || len > UINT64_MAX - first))
        abort();
    free(s);
    return 0;
}
