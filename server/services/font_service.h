/* font_service.h: what the glyph and sprite routes keep between requests.
 *
 * Design: glyph ranges are made on first request and kept in memory (plain and gzip bodies and
 * an ETag hashed from the bytes) in a table under one mutex; rendering happens outside the lock,
 * so a slow range never holds up the others (two threads asking for the same new range may
 * both render it; the second copy is dropped). Entries are never evicted while the server runs;
 * past MSH_FONT_CACHE_BYTES new ranges are rendered per request and not kept, so made-up
 * fontstacks cannot grow memory. Fonts are listed (fontconfig) and the sprite sheets drawn on
 * first use, not at start.
 */
#ifndef MSH_FONT_SERVICE_H
#define MSH_FONT_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "glyphs.h"
#include "http/fontpath.h"
#include "sprites.h"

#define MSH_FONT_CACHE_BYTES ((size_t)64 << 20)

typedef struct msh_font_service msh_font_service;

/** A glyph range as sent: the protobuf, its gzip (NULL when gzip would not pay), an ETag. */
typedef struct msh_glyph_range {
    const uint8_t *plain, *gz;
    size_t plain_len, gz_len;
    char etag[40]; /* "\"g-<hash>\"" */
} msh_glyph_range;
typedef struct msh_glyph_entry msh_glyph_entry;

/** NULL only when out of memory. */
msh_font_service *msh_font_service_new(void);
void msh_font_service_free(msh_font_service *s);

/** The installed fonts (listed on first use); NULL when fontconfig failed, and *why says why. */
msh_glyphs *msh_font_service_glyphs(msh_font_service *s, const char **why);

/**
 * The range starting at `start` of the stack `names`, made on first request and kept: *out points
 * into the cache until the service is freed. Past MSH_FONT_CACHE_BYTES the range is made but not
 * kept: *owned is then set, and the caller copies *out and releases it. Errors: unknown fonts
 * (MSH_ENOTFOUND), a bad range, out of memory.
 */
msh_rc msh_font_service_range(msh_font_service *s, msh_glyphs *g, const char *const *names, size_t n, unsigned start,
                              msh_glyph_range *out, msh_glyph_entry **owned, msh_err *err);
void msh_font_service_release(msh_glyph_entry *owned);

/** The sprite sheet at `ratio` 1 or 2 (drawn on first use) and its ETag; NULL when Cairo failed (*why). */
const msh_sprite_sheet *msh_font_service_sprites(msh_font_service *s, int ratio, const char **etag, const char **why);

#endif
