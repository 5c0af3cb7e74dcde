/* pmtiles.h: a PMTiles version 3 archive writer (the protomaps specification).
 *
 * Layout written: the 127-byte header, the root directory, the JSON metadata, the leaf
 * directories, the tile data; directories and metadata gzipped (internal compression gzip), tiles
 * as given (gzipped MVT, or PNG). Tiles must arrive in increasing tile id (msh_export_run's order), which
 * makes the archive clustered: a new content is appended to the data, a repeated one points back
 * at the bytes already written, and a run of consecutive tile ids with one content is one entry
 * with a run length. The root directory holds every entry while it fits in the first 16 KiB with
 * the header; beyond that the entries go to leaf directories of equal count (4,096 entries,
 * doubled until the root of leaf pointers fits).
 *
 * The tile data goes to an unlinked temporary file while the export runs, and is copied after the
 * directories into the archive's temporary file, which is renamed only when complete (outfile.h).
 * One thread at a time.
 */
#ifndef MSH_PMTILES_H
#define MSH_PMTILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"
#include "export.h"

#define MSH_PMTILES_HEADER_LEN 127
/* The header and the root directory are within the first 16 KiB. */
#define MSH_PMTILES_ROOT_MAX (16384 - MSH_PMTILES_HEADER_LEN)

/** The tile id of z/x/y: the tiles of the zooms below, then the position on zoom z's Hilbert curve. */
uint64_t msh_pmtiles_tile_id(int z, uint32_t x, uint32_t y);

typedef struct msh_pmtiles_entry {
    uint64_t tile_id;
    uint64_t offset;
    uint32_t length;
    uint32_t run; /* 0: a leaf directory */
} msh_pmtiles_entry;

/** Append the directory of entries 0..n-1, uncompressed (count, tile id deltas, run lengths,
 * lengths, offsets as varints; an offset right after the previous entry's bytes is written 0). */
void msh_pmtiles_dir_encode(msh_buf *b, const msh_pmtiles_entry *e, size_t n);

typedef struct msh_pmtiles_info {
    int minzoom, maxzoom;
    double bounds[4];  /* lon/lat W,S,E,N */
    double center[3];  /* lon, lat, zoom */
    const char *metadata; /* JSON object */
    size_t metadata_len;
    bool png;          /* tiles are PNG (tile type 2, compression none), else gzipped MVT */
} msh_pmtiles_info;

typedef struct msh_pmtiles msh_pmtiles;

/** Start an archive that will be `path` (nothing appears there until msh_pmtiles_finish). */
msh_rc msh_pmtiles_open(const char *path, msh_pmtiles **out, msh_err *err);
/** Add a tile: an msh_export_tile_fn (ud is the writer). */
msh_rc msh_pmtiles_add(void *w, const msh_export_tile *t, msh_err *err);
/** Write the directories and metadata, put the tiles after them and give the archive its name.
 * *size gets the archive's size in bytes. */
msh_rc msh_pmtiles_finish(msh_pmtiles *w, const msh_pmtiles_info *info, uint64_t *size, msh_err *err);
/** Free the writer; an archive not finished is removed. */
void msh_pmtiles_free(msh_pmtiles *w);

/** The whole export into one archive at `path`: the tiles of o (msh_export_run), the metadata of
 * msh_export_metadata_json under `name`, written and renamed into place. *size gets its bytes. */
msh_rc msh_pmtiles_export(const char *path, const msh_export_opts *o, const char *name, msh_export_summary *sum,
                          uint64_t *size, msh_err *err);

#endif
