/* rstyle.h: a MapLibre style (version 8) compiled for drawing raster tiles with Cairo.
 *
 * Design: the style JSON is parsed once (at server start) into an immutable msh_rstyle: per
 * style layer its type, source layer, zoom range, a compiled filter and one compiled expression
 * per supported paint/layout property. Expressions are small trees (see rstyle_int.h)
 * evaluated per feature and zoom; a property that depends on neither is folded to a constant at
 * compile time, one that depends on the zoom only is evaluated once per tile. The compiled
 * style is shared read-only by every rendering thread.
 *
 * The subset (docs/STYLES.md, "Raster tiles"): layer types background, fill, line, circle,
 * symbol (text and icons), heatmap; the expression operators listed in rstyle_int.h; legacy
 * filters and {"stops": ...} functions. Anything else is not an error: the property (or layer) is
 * skipped and a warning naming it is added to the list the caller prints. Malformed input (bad
 * JSON, a layer without id or type, wrong arguments to a known operator) is an error naming the
 * style, the line and the reason.
 */
#ifndef MSH_RSTYLE_H
#define MSH_RSTYLE_H

#include <stddef.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"

typedef struct msh_rstyle msh_rstyle;

/**
 * Compile the style JSON `json` (len bytes; `name` for messages, e.g. the file name).
 * Warnings (ignored properties, layers, operators), one line each ending in '\n', are appended
 * to `warnings` when it is not NULL. On success *out is the compiled style (free with
 * msh_rstyle_free). Fails with MSH_EFORMAT and "NAME:LINE: reason" on malformed input.
 */
msh_rc msh_rstyle_compile(const char *name, const char *json, size_t len, msh_buf *warnings, msh_rstyle **out,
                          msh_err *err);
void msh_rstyle_free(msh_rstyle *s);

/** Largest style file msh_rstyle_load reads. */
#define MSH_RSTYLE_MAX_BYTES ((size_t)8 << 20)

/** Read the style file `path` (at most MSH_RSTYLE_MAX_BYTES) and compile it as msh_rstyle_compile does. */
msh_rc msh_rstyle_load(const char *path, msh_buf *warnings, msh_rstyle **out, msh_err *err);

/**
 * A default style for a list of catalog layers, as /tiles/{layers}/{z}/{x}/{y}.png draws them:
 * transparent background; per layer (by geometry type "Point", "LineString", "Polygon",
 * anything else all three) a fill with an outline, a line or a circle, in a colour picked from
 * the layer name. `names`/`gtypes` are n entries.
 */
msh_rc msh_rstyle_default(const char *const *names, const char *const *gtypes, size_t n, msh_rstyle **out,
                          msh_err *err);

/** The number of style layers and the source layer (catalog layer name) of the i-th; NULL for background. */
size_t msh_rstyle_nlayers(const msh_rstyle *s);
const char *msh_rstyle_source_layer(const msh_rstyle *s, size_t i);
/** A hash of the style's text (ETags and cache keys change when the style does). */
unsigned long long msh_rstyle_hash(const msh_rstyle *s);

#endif
