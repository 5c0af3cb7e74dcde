/* style_doc.h: a MapLibre style document as served: parsed, checked, URLs made absolute. */
#ifndef MSH_STYLE_DOC_H
#define MSH_STYLE_DOC_H

#include <stddef.h>

#include "core/msh_err.h"

/**
 * Parse the style JSON in `json` (len bytes; `name` for messages), rewrite every
 * source `url`, source `tiles` entry, `sprite` and `glyphs` that starts with "/"
 * into `base` + value, and return the compact JSON in *out (free with free()).
 * Malformed input fails with MSH_EFORMAT and a message naming line and column.
 */
msh_rc msh_style_rewrite(const char *name, const char *json, size_t len, const char *base, char **out, msh_err *err);

#endif
