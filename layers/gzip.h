/* gzip.h: the one gzip writer, shared by the server's answers and the tile archives.
 *
 * A vector tile is gzipped at MSH_TILE_GZIP_LEVEL wherever it leaves the process: on the request
 * path (server/routes/routes_tiles.c) and into PMTiles and MBTiles files (exporters/), so an
 * exported tile is byte for byte the body the server sends for the same z/x/y with gzip.
 */
#ifndef MSH_GZIP_H
#define MSH_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"

/* Fast deflate: tiles are compressed on the request path; level 1 costs a third of level 6
 * for about 10% more bytes. */
#define MSH_TILE_GZIP_LEVEL 1

/** gzip `in` into `out` (reset first) at zlib level `level`. MSH_ENOMEM, MSH_ETOOBIG past the
 * buffer's cap, MSH_EINTERNAL when zlib fails. */
msh_rc msh_gzip(const uint8_t *in, size_t len, msh_buf *out, int level);

#endif
