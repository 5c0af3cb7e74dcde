/* png.h: a small, fast PNG encoder (8-bit RGB or RGBA, libdeflate) for rendered tiles.
 *
 * Design: map tiles are encoded on the request path, so speed matters more than the last
 * byte. Rows are converted and filtered (None, Sub or Up, fixed per image: no per-row
 * heuristic) into one reused buffer, which libdeflate compresses whole at a low level straight
 * into the output buffer (about twice as fast as zlib at level 1, and as small). An image whose
 * every pixel is opaque is written as RGB (colour type 2): a quarter fewer bytes to deflate and
 * send, the same picture; otherwise RGBA (colour type 6). Output is a plain PNG: IHDR (8 bits,
 * no interlace), one IDAT, IEND; CRCs from libdeflate. The compressor and buffers live in an
 * msh_png_enc that a worker thread reuses.
 *
 * Two pixel layouts are accepted:
 *   - MSH_PNG_RGBA: bytes R, G, B, A in memory, straight (not premultiplied) alpha;
 *   - MSH_PNG_CAIRO_ARGB32: Cairo's CAIRO_FORMAT_ARGB32 (native-endian 32-bit words,
 *     premultiplied alpha); un-premultiplied while filtering, so a Cairo surface needs no copy.
 * An msh_png_enc is used by one thread at a time. Errors are msh_rc with a message.
 */
#ifndef MSH_PNG_H
#define MSH_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"

typedef enum { MSH_PNG_RGBA = 0, MSH_PNG_CAIRO_ARGB32 = 1 } msh_png_layout;

/** Row filter used for every row (PNG filter types 0, 1, 2). Sub suits smooth maps best. */
typedef enum { MSH_PNG_FILTER_NONE = 0, MSH_PNG_FILTER_SUB = 1, MSH_PNG_FILTER_UP = 2 } msh_png_filter;

/** Largest width or height accepted (keeps every size computation far from overflow). */
#define MSH_PNG_MAX_SIDE 16384

typedef struct msh_png_opts {
    msh_png_layout layout;
    msh_png_filter filter; /* default MSH_PNG_FILTER_SUB */
    int level;             /* deflate level 0..12 (libdeflate; 1 fastest); default 2 */
} msh_png_opts;

/** Defaults: RGBA input, Sub filter, level 2. */
void msh_png_opts_init(msh_png_opts *o);

typedef struct msh_png_enc msh_png_enc;

/** A reusable encoder (NULL when out of memory). */
msh_png_enc *msh_png_enc_new(void);
void msh_png_enc_free(msh_png_enc *e);

/**
 * Encode a `w` x `h` image whose rows start `stride` bytes apart at `pixels` (borrowed) and
 * append the PNG file to `out` (out's cap applies: MSH_ETOOBIG when it would pass it).
 * `enc` may be NULL (a temporary encoder is made). MSH_EINVAL for a zero or too large side or
 * a stride shorter than a row; on error `out` keeps its previous length.
 */
msh_rc msh_png_encode(msh_png_enc *enc, const uint8_t *pixels, uint32_t w, uint32_t h, size_t stride,
                      const msh_png_opts *o, msh_buf *out, msh_err *err);

#endif
