/* gunzip.c: bounded gzip decompression (see gunzip.h). */
#include "gunzip.h"

#include <zlib.h>

msh_rc msh_gunzip(const uint8_t *in, size_t len, size_t cap, msh_buf *out)
{
    msh_buf_reset(out);
    if (len > UINT32_MAX)
        return MSH_ETOOBIG;
    z_stream zs = {0};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) /* gzip only */
        return MSH_ENOMEM;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    msh_rc rc = MSH_OK;
    uint8_t chunk[16384];
    for (;;) {
        zs.next_out = chunk;
        zs.avail_out = sizeof chunk;
        int z = inflate(&zs, Z_NO_FLUSH);
        size_t got = sizeof chunk - zs.avail_out;
        if (out->len + got > cap) {
            rc = MSH_ETOOBIG;
            break;
        }
        if (got && msh_buf_append(out, chunk, got)) {
            rc = MSH_ENOMEM;
            break;
        }
        if (z == Z_STREAM_END) {
            if (zs.avail_in) /* bytes after the member */
                rc = MSH_EFORMAT;
            break;
        }
        if (z != Z_OK || (got == 0 && zs.avail_in == 0)) { /* corrupt, or the input ended early */
            rc = z == Z_MEM_ERROR ? MSH_ENOMEM : MSH_EFORMAT;
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}
