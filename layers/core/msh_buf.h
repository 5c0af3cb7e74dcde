/* msh_buf.h: a growable byte buffer with a size cap fixed when it is made.
 *
 * Every buffer that grows from input carries a cap (curl's dynbuf habit): an append past the
 * cap fails with MSH_ETOOBIG (or MSH_ENOMEM) and leaves the content as it was. The error is
 * sticky, as in curl's dynbuf: every later write is refused with it too, so a document can
 * never go out with a hole where a write failed. Writers may ignore each call's result and ask
 * once, where the document is used: msh_buf_error(). A deliberate rollback to a complete mark
 * (drop the last feature, give back arena room) uses msh_buf_truncate(), which clears it.
 */
#ifndef MSH_BUF_H
#define MSH_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "msh_err.h"

typedef struct msh_buf {
    uint8_t *data;
    size_t len;
    size_t cap;   /* allocated */
    size_t limit; /* hard cap on len */
    msh_rc err;   /* the first failed write since the buffer was empty: later writes fail with it */
} msh_buf;

/** Start an empty buffer that may grow up to `limit` bytes. */
void msh_buf_init(msh_buf *b, size_t limit);
/** Free the memory; the buffer is empty and usable again afterwards. */
void msh_buf_free(msh_buf *b);
/** Forget the content (and any error), keep the memory. */
static inline void msh_buf_reset(msh_buf *b) { b->len = 0; b->err = MSH_OK; }
/** MSH_OK, or the error of the first write that failed: the content is then incomplete. */
static inline msh_rc msh_buf_error(const msh_buf *b) { return b->err; }
/** Roll back to `len` bytes (a point where the content was whole) and clear the error. */
static inline void msh_buf_truncate(msh_buf *b, size_t len)
{
    if (len < b->len)
        b->len = len;
    b->err = MSH_OK;
}
/** Make room for `n` more bytes. */
msh_rc msh_buf_reserve(msh_buf *b, size_t n);
msh_rc msh_buf_append(msh_buf *b, const void *p, size_t n);
msh_rc msh_buf_putc(msh_buf *b, uint8_t c);
msh_rc msh_buf_printf(msh_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Append `s` escaped as the inside of a JSON string (no quotes added). */
msh_rc msh_buf_json_str(msh_buf *b, const char *s);
/** A JSON string value with its quotes, or null when s is empty. */
msh_rc msh_buf_json_str_or_null(msh_buf *b, const char *s);
/** Protobuf base-128 varint. */
msh_rc msh_buf_varint(msh_buf *b, uint64_t v);
/** Hand the memory to the caller (who frees it); the buffer becomes empty. */
uint8_t *msh_buf_steal(msh_buf *b, size_t *len);

#endif
