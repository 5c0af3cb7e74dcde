/* pmtiles_read.h: a PMTiles version 3 archive reader, for serving archives made elsewhere.
 *
 * Design: the archive is read through a callback (pread on a file in the server, a buffer in the
 * fuzz target). Opening checks the whole archive's structure once and keeps its directory in
 * memory as one flat array of tile entries, sorted by tile id: a tile lookup is then a binary
 * search and one read of the tile's bytes, with no decompression on the request path.
 *
 * What opening refuses, each with a message naming the archive's fault (it is untrusted input):
 * a bad magic or version; a section (root directory, metadata, leaf directories, tile data) that
 * does not lie inside the file; an unknown compression or a tile type it cannot serve; a
 * directory that is not valid gzip or decompresses past MSH_PMTILES_MAX_DIR bytes; a varint that
 * does not end; an entry whose tile bytes lie outside the tile data or whose leaf lies outside
 * the leaf directories; a length of 0 or past MSH_PMTILES_MAX_TILE; leaves nested more than
 * MSH_PMTILES_MAX_DEPTH deep; an empty leaf; tile ids that do not increase across the whole tree
 * (which also ends any directory loop: a leaf read twice repeats ids); and more than
 * MSH_PMTILES_MAX_ENTRIES entries visited. Memory is bounded by those caps.
 *
 * Thread safety: after open, a reader is read-only; lookups may run on any number of threads
 * (the read callback must be safe to call concurrently, as pread is).
 */
#ifndef MSH_PMTILES_READ_H
#define MSH_PMTILES_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"

#define MSH_PMTILES_MAX_DIR ((size_t)64 << 20)    /* one directory, decompressed */
#define MSH_PMTILES_MAX_META ((size_t)16 << 20)   /* the metadata, decompressed */
#define MSH_PMTILES_MAX_TILE ((uint64_t)64 << 20) /* one tile */
#define MSH_PMTILES_MAX_ENTRIES 16000000u         /* directory entries visited in all */
#define MSH_PMTILES_MAX_DEPTH 4                   /* the root, then leaves within leaves */

enum { MSH_PMT_TYPE_UNKNOWN = 0, MSH_PMT_TYPE_MVT = 1, MSH_PMT_TYPE_PNG = 2, MSH_PMT_TYPE_JPEG = 3,
       MSH_PMT_TYPE_WEBP = 4, MSH_PMT_TYPE_AVIF = 5 };
enum { MSH_PMT_COMP_UNKNOWN = 0, MSH_PMT_COMP_NONE = 1, MSH_PMT_COMP_GZIP = 2, MSH_PMT_COMP_BROTLI = 3,
       MSH_PMT_COMP_ZSTD = 4 };

/** Read len bytes at off into out; MSH_OK only when all of them were read. */
typedef msh_rc (*msh_pmtiles_read_fn)(void *ud, uint64_t off, size_t len, uint8_t *out);

typedef struct msh_pmtiles_header {
    uint64_t root_off, root_len, meta_off, meta_len, leaf_off, leaf_len, data_off, data_len;
    uint64_t addressed, entries, contents;
    bool clustered;
    int internal_comp, tile_comp, tile_type;
    int minzoom, maxzoom, center_zoom;
    double bounds[4]; /* lon/lat W,S,E,N */
    double center[2];
} msh_pmtiles_header;

typedef struct msh_pmtiles_reader msh_pmtiles_reader;

/** Check and index the archive of `size` bytes read by fn; err names what is wrong. */
msh_rc msh_pmtiles_reader_open(msh_pmtiles_read_fn fn, void *ud, uint64_t size, msh_pmtiles_reader **out,
                               msh_err *err);
void msh_pmtiles_reader_free(msh_pmtiles_reader *r);

const msh_pmtiles_header *msh_pmtiles_reader_header(const msh_pmtiles_reader *r);
/** The metadata JSON text (decompressed), NUL-terminated; "{}" when the archive has none. */
const char *msh_pmtiles_reader_metadata(const msh_pmtiles_reader *r);

/** Where tile z/x/y's bytes are in the file: true and *off, *len when the archive has it. */
bool msh_pmtiles_reader_find(const msh_pmtiles_reader *r, int z, uint32_t x, uint32_t y, uint64_t *off, uint32_t *len);

/** Tile z/x/y's bytes (as stored: gzipped when tile_comp says so) into out (reset first).
 * MSH_ENOTFOUND when the archive does not have it. */
msh_rc msh_pmtiles_reader_tile(const msh_pmtiles_reader *r, int z, uint32_t x, uint32_t y, msh_buf *out, msh_err *err);

#endif
