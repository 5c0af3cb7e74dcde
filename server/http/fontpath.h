/* fontpath.h: the glyph URL "{fontstack}/{range}.pbf" (after "/fonts/") taken apart and checked. */
#ifndef MSH_FONTPATH_H
#define MSH_FONTPATH_H

#include <stddef.h>

#include "core/msh_err.h"
#include "glyphs.h"

#define MSH_FONTPATH_NAME_MAX 128 /* bytes of one font name, with its NUL */

typedef struct msh_fontpath {
    char names[MSH_GLYPH_MAX_STACK][MSH_FONTPATH_NAME_MAX];
    size_t n;       /* 1..MSH_GLYPH_MAX_STACK */
    unsigned start; /* a multiple of 256, at most 65280 */
} msh_fontpath;

/**
 * Parse `rest` (already percent-decoded by the HTTP layer): a comma-separated list of font
 * names (no '/', '\\' or control characters, spaces around a name dropped), a '/', then
 * "{start}-{end}.pbf" with start a multiple of 256 up to 65280 and end = start + 255, in
 * plain decimal. Anything else: MSH_EINVAL with a message for a 400.
 */
msh_rc msh_fontpath_parse(const char *rest, msh_fontpath *fp, msh_err *err);

#endif
