/* byterange.h: the Range request header (RFC 9110 section 14), as far as a file server needs it.
 *
 * One range of bytes is served (206); several ranges in one request are recognised and refused
 * (no multipart/byteranges answers: a PMTiles client asks one range at a time); a range starting
 * past the end is unsatisfiable (416). Anything else (another unit, a malformed value) is no
 * range at all, as the RFC lets a server ignore what it does not understand: the whole file.
 */
#ifndef MSH_BYTERANGE_H
#define MSH_BYTERANGE_H

#include <stdint.h>

typedef enum {
    MSH_RANGE_NONE = 0,      /* no (usable) Range: send the whole */
    MSH_RANGE_ONE,           /* bytes [*first, *first + *len) */
    MSH_RANGE_MANY,          /* a valid list of several ranges: refused */
    MSH_RANGE_UNSATISFIABLE  /* 416 with Content-Range: bytes * / size */
} msh_range_kind;

/** Read Range header `h` (NULL: none) against a resource of `size` bytes. */
msh_range_kind msh_range_parse(const char *h, uint64_t size, uint64_t *first, uint64_t *len);

#endif
