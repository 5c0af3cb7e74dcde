/* photo.h: a photo from a phone, checked by its content before it is stored (report attachments).
 *
 * Design: a photo is taken only when it is exactly what its Content-Type says, whole, and nothing
 * else. Two steps, cheapest first:
 *   1. the structure, byte by byte, without a library: JPEG from SOI through its marker segments
 *      and entropy-coded scans (byte stuffing, restart markers) to EOI; PNG from its signature
 *      through its chunks (each length in bounds, each CRC right: zlib's crc32), IHDR first, IDAT
 *      present, IEND last. Either must end at the body's last byte: anything appended (a ZIP, a
 *      script: a polyglot) is refused, as is a body that stops early.
 *   2. a full decode with GDAL's own JPEG or PNG driver only (no other driver may claim the
 *      bytes), every row of every band, after the size in the header was checked against
 *      MSH_PHOTO_MAX_PIXELS (a 5 MB PNG may claim a gigapixel: refused before a row is read). Any
 *      warning or error GDAL raises on the way (a corrupt scan, a premature end) refuses it.
 * Then the thumbnail: the longest side MSH_PHOTO_THUMB_SIDE pixels (never enlarged), averaged by
 * GDAL, written as JPEG (grey or RGB sources) or PNG (others: alpha, CMYK).
 *
 * Errors: MSH_EFORMAT (not the type, truncated, trailing bytes, does not decode: the caller's 400),
 * MSH_ETOOBIG (over the pixel cap: 400 too), MSH_ENOMEM, MSH_EIO (GDAL could not write the
 * thumbnail). Thread-safe: each call uses its own /vsimem files and a thread-local error handler.
 */
#ifndef MSH_PHOTO_H
#define MSH_PHOTO_H

#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"

#define MSH_PHOTO_MAX_BYTES (5u * 1024 * 1024)  /* the largest photo body */
#define MSH_PHOTO_MAX_PIXELS (40u * 1000 * 1000) /* width x height, checked before decoding */
#define MSH_PHOTO_THUMB_SIDE 256

typedef enum { MSH_PHOTO_NONE = 0, MSH_PHOTO_JPEG = 1, MSH_PHOTO_PNG = 2 } msh_photo_type;

/** The type a Content-Type names (image/jpeg, image/png; parameters and case ignored), or NONE. */
msh_photo_type msh_photo_ctype(const char *ctype);
/** "image/jpeg" or "image/png". */
const char *msh_photo_mime(msh_photo_type t);

typedef struct msh_photo_info {
    int width, height, bands;
} msh_photo_info;

/** Step 1 alone (pure, no allocation): is `data` a whole `want` with nothing after it? Fills the header's size. */
msh_rc msh_photo_scan(const uint8_t *data, size_t len, msh_photo_type want, msh_photo_info *info, msh_err *err);

/**
 * Both steps, then the thumbnail: *thumb (malloc'ed, the caller frees) of *thumb_len bytes and type
 * *thumb_type. Nothing is returned unless every check passed.
 */
msh_rc msh_photo_read(const uint8_t *data, size_t len, msh_photo_type want, msh_photo_info *info, uint8_t **thumb,
                      size_t *thumb_len, msh_photo_type *thumb_type, msh_err *err);

#endif
