/* routes_fonts.h: what the glyph and sprite routes keep between requests.
 *
 * Design: glyph ranges are made on first request and kept in memory (plain and gzip bodies and
 * an ETag hashed from the bytes) in a table under one mutex; rendering happens outside the lock,
 * so a slow range never holds up the others (two threads asking for the same new range may
 * both render it; the second copy is dropped). Entries are never evicted while the server runs;
 * past MSH_FONT_CACHE_BYTES new ranges are rendered per request and not kept, so made-up
 * fontstacks cannot grow memory. Fonts are listed (fontconfig) and the sprite sheets drawn on
 * first use, not at start.
 */
#ifndef MSH_ROUTES_FONTS_H
#define MSH_ROUTES_FONTS_H

#define MSH_FONT_CACHE_BYTES ((size_t)64 << 20)

typedef struct msh_font_service msh_font_service;

/** NULL only when out of memory. */
msh_font_service *msh_font_service_new(void);
void msh_font_service_free(msh_font_service *s);

#endif
