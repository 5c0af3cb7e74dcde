/* fuzz_cstr.h: the fuzz input as a C string, for targets whose parser takes one. */
#ifndef MSH_FUZZ_CSTR_H
#define MSH_FUZZ_CSTR_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/** A malloc'd NUL-terminated copy of data[0..size) (an embedded NUL ends the string early, as it
 * would for the server); NULL when out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = 0;
    }
    return s;
}

#endif
