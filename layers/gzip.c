/* gzip.c: one call of zlib's deflate with the gzip wrapper, into a buffer sized by deflateBound.
 * Thread-safe: no state but the caller's buffer. */
#include "gzip.h"

#include <string.h>
#include <zlib.h>

msh_rc msh_gzip(const uint8_t *in, size_t len, msh_buf *out, int level)
{
    msh_buf_reset(out);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return MSH_ENOMEM;
    size_t bound = deflateBound(&zs, (uLong)len) + 32;
    msh_rc rc = msh_buf_reserve(out, bound);
    if (rc) {
        deflateEnd(&zs);
        return rc;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out->data;
    zs.avail_out = (uInt)bound;
    int z = deflate(&zs, Z_FINISH);
    out->len = zs.total_out;
    deflateEnd(&zs);
    return z == Z_STREAM_END ? MSH_OK : MSH_EINTERNAL;
}
