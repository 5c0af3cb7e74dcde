/* msh_buf.h: a growable byte buffer with a size cap fixed when it is made.
 *
 * Every buffer that grows from input carries a cap (curl's dynbuf habit): an
 * append past the cap fails with MSH_ETOOBIG and leaves the buffer as it was.
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
} msh_buf;

/** Start an empty buffer that may grow up to `limit` bytes. */
void msh_buf_init(msh_buf *b, size_t limit);
/** Free the memory; the buffer is empty and usable again afterwards. */
void msh_buf_free(msh_buf *b);
/** Forget the content, keep the memory. */
static inline void msh_buf_reset(msh_buf *b) { b->len = 0; }
/** Make room for `n` more bytes. */
msh_rc msh_buf_reserve(msh_buf *b, size_t n);
msh_rc msh_buf_append(msh_buf *b, const void *p, size_t n);
msh_rc msh_buf_putc(msh_buf *b, uint8_t c);
msh_rc msh_buf_printf(msh_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Append `s` escaped as the inside of a JSON string (no quotes added). */
msh_rc msh_buf_json_str(msh_buf *b, const char *s);
/** Protobuf base-128 varint. */
msh_rc msh_buf_varint(msh_buf *b, uint64_t v);
/** Hand the memory to the caller (who frees it); the buffer becomes empty. */
uint8_t *msh_buf_steal(msh_buf *b, size_t *len);

#endif
