/* glyphs.h: MapLibre SDF glyph ranges made from the installed fonts (fontconfig finds them, FreeType reads them).
 *
 * Design: a glyph range is the MapLibre/Mapbox "glyphs" protobuf (one fontstack, the 256 code points
 * start..start+255), rendered the way node-fontnik / sdf-glyph-foundry do it so MapLibre's shaders
 * and its -17 px baseline offset fit: a 24 px em, a 3 px buffer around each bitmap, one byte per
 * pixel, 192 at the outline, 32 steps per pixel (inside saturates 2 px in, outside 6 px out),
 * advance, left and top in whole pixels, top measured from the font's ascender.
 *
 * The distance field is computed from the outline itself, not from a raster: each contour is
 * flattened (Bezier curves cut to 0.05 px), every pixel centre takes its exact Euclidean distance
 * to the nearest segment, and the nonzero winding rule says inside or outside (fonts overlap
 * contours; the even-odd rule of sdf-glyph-foundry punches holes there).
 *
 * Fonts are named "{family} {style}" as fontnik names them ("Noto Sans Arabic Regular",
 * "DejaVu Sans Book"); every scalable font fontconfig lists is available under that name. A stack
 * is tried in order per code point, then the fallbacks: Noto Sans Arabic, then DejaVu Sans (their
 * Bold faces when the first name says Bold). The first font of the stack that exists sets the
 * ascender every glyph's top is measured from, so mixed fonts share one baseline.
 *
 * Threads: an msh_glyphs is immutable after msh_glyphs_open; msh_glyphs_range opens its own
 * FreeType library and faces per call, so any number of threads may call it at once.
 */
#ifndef MSH_GLYPHS_H
#define MSH_GLYPHS_H

#include <stddef.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"

#define MSH_GLYPH_EM 24      /* px per em */
#define MSH_GLYPH_BUFFER 3   /* px of distance field around each bitmap */
#define MSH_GLYPH_EDGE 192   /* the byte value on the outline (MapLibre's 0.75) */
#define MSH_GLYPH_MAX_STACK 8 /* names in one fontstack */

typedef struct msh_glyphs msh_glyphs;

/** List the installed scalable fonts (fontconfig). No fonts at all is not an error: every stack is then unknown. */
msh_rc msh_glyphs_open(msh_glyphs **out, msh_err *err);
void msh_glyphs_close(msh_glyphs *g);

/** How many font names there are, and the i-th in sorted order (owned by g). */
size_t msh_glyphs_count(const msh_glyphs *g);
const char *msh_glyphs_name(const msh_glyphs *g, size_t i);
/** The font file behind `name`, or NULL when no installed font has that name. */
const char *msh_glyphs_file(const msh_glyphs *g, const char *name);

/**
 * The stack as it is drawn: its installed names (unknown ones dropped, repeats dropped), joined
 * with "," into `out` (cap bytes). Two requests with the same result get the same glyphs, so it
 * is the key to cache them under. None installed: MSH_ENOTFOUND; 0 or too many names: MSH_EINVAL.
 */
msh_rc msh_glyphs_stack(const msh_glyphs *g, const char *const *names, size_t n, char *out, size_t cap,
                        msh_err *err);

/**
 * Render the glyph range start..start+255 (start a multiple of 256, at most 65280) of the
 * stack `names` (n names, 1..MSH_GLYPH_MAX_STACK) into `out` (appended) as a glyphs protobuf
 * whose fontstack name is msh_glyphs_stack's. Unknown names are skipped; when none is known:
 * MSH_ENOTFOUND. Code points no font has are left out. Bad start: MSH_EINVAL.
 */
msh_rc msh_glyphs_range(const msh_glyphs *g, const char *const *names, size_t n, unsigned start, msh_buf *out,
                        msh_err *err);

#endif
