/* archive_service.h: tile archives made elsewhere (PMTiles, MBTiles), served as tile sources.
 *
 * Design: every `mashaer serve --tiles FILE` is opened and checked at start (a hostile or broken
 * archive stops the start with its reason: exporters/pmtiles_read.h, mbtiles_read.h) and named by
 * its file's stem, which must be a valid layer name and not one of the store's layers nor another
 * archive's. A PMTiles archive keeps its file open and is read with pread (any number of threads
 * at once); an MBTiles one through its reader's one connection under a mutex. What TileJSON needs
 * (zooms, bounds, centre, attribution, vector_layers) is taken from the archive's header and
 * metadata at open. The routes are server/routes/routes_archives.c. After start the service is
 * read-only.
 */
#ifndef MSH_ARCHIVE_SERVICE_H
#define MSH_ARCHIVE_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "core/msh_buf.h"
#include "core/msh_err.h"

#define MSH_ARCHIVES_MAX 64

typedef struct msh_archive {
    char name[64];
    const char *path;
    bool vector;         /* MVT tiles, else images */
    bool gzipped;        /* tiles stored gzipped (vector tiles) */
    const char *ctype;   /* the tiles' Content-Type */
    const char *ext;     /* "mvt", "png", "jpg", "webp" */
    int minzoom, maxzoom;
    double bounds[4], center[3];
    char *attribution;   /* may be NULL */
    char *vector_layers; /* the JSON array, or NULL */
    char etag[24];       /* the file's identity (size, time, inode), hex */
    int fd;                            /* PMTiles: the file */
    struct msh_pmtiles_reader *pm;     /* PMTiles */
    struct msh_mbtiles_reader *mb;     /* MBTiles */
} msh_archive;

typedef struct msh_archive_service msh_archive_service;

/** Open the n files (checked against the layers of cat); err says which file and why. An empty
 * service when n is 0. */
msh_rc msh_archive_service_open(const char *const *files, size_t n, const msh_catalog *cat, msh_archive_service **out,
                                msh_err *err);
void msh_archive_service_free(msh_archive_service *s);

/** The archive called name, or NULL. s may be NULL. */
const msh_archive *msh_archive_find(const msh_archive_service *s, const char *name);

/** Tile z/x/y as stored into out (reset first); MSH_ENOTFOUND when the archive has none. */
msh_rc msh_archive_tile(const msh_archive *a, int z, uint32_t x, uint32_t y, msh_buf *out, msh_err *err);

#endif
