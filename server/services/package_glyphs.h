/* package_glyphs.h: which glyph ranges a package's labels need.
 *
 * MapLibre asks for glyphs in ranges of 256 code points per fontstack. A label's text comes from
 * a symbol layer's text-field: literal strings and the values of the feature fields it reads
 * (["get", F] anywhere in an expression, or the "{F}" tokens of a plain string). Its code points
 * (UTF-8; broken sequences skipped; beyond the basic plane dropped, as MapLibre draws none) mark
 * their ranges. Arabic is drawn after MapLibre's RTL text plugin shaped it, into presentation
 * forms: Arabic letters into Forms-B (U+FE70-FEFF), the added letters of Persian, Urdu and the
 * others (U+0671-06D3) into Forms-A (U+FB50-FBFF), so those ranges are marked too, and any Arabic
 * or Hebrew marks the text as needing the plugin.
 */
#ifndef MSH_PACKAGE_GLYPHS_H
#define MSH_PACKAGE_GLYPHS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSH_GLYPH_FIELD_MAX 64 /* bytes of a field name read from a text-field, with its NUL */

typedef struct msh_glyph_use {
    uint8_t ranges[256]; /* ranges[i]: code points i*256..i*256+255 are drawn */
    bool rtl;            /* right-to-left text: the RTL plugin is needed */
} msh_glyph_use;

/** Mark what the UTF-8 text s (n bytes) draws. */
void msh_glyph_use_text(msh_glyph_use *u, const char *s, size_t n);

/** Mark the literal text of a text-field expression and copy the names of the fields it reads
 * into fields (up to cap, each cut to MSH_GLYPH_FIELD_MAX - 1 bytes); returns how many. */
size_t msh_glyph_use_expr(msh_glyph_use *u, const json_t *text_field, char (*fields)[MSH_GLYPH_FIELD_MAX], size_t cap);

#endif
