/* gunzip.h: bounded gzip decompression, for archives read from untrusted files.
 *
 * The output is capped: a small input that would inflate past the cap (a zip bomb) fails with
 * MSH_ETOOBIG after writing at most cap bytes, whatever the input says.
 */
#ifndef MSH_GUNZIP_H
#define MSH_GUNZIP_H

#include <stddef.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"

/** gunzip in[0..len) (one gzip member, nothing after it) into out (reset first).
 * MSH_EFORMAT when it is not valid gzip, MSH_ETOOBIG past cap bytes, MSH_ENOMEM. */
msh_rc msh_gunzip(const uint8_t *in, size_t len, size_t cap, msh_buf *out);

#endif
