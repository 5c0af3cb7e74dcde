/* export.h: the tile walk behind `mashaer export`: every tile of a box over a zoom range, made
 * the way the server makes it, handed to a writer in PMTiles tile-id order.
 *
 * Tiles are made by a maker: by default the vector one below; raster_tiles.h's draws PNGs from
 * a style. The vector maker's tile is msh_tile_mvt of the layers (the server's composite tile: same clipping,
 * simplification and attributes) gzipped at MSH_TILE_GZIP_LEVEL, so its bytes are the body the
 * server sends with gzip. Empty tiles are skipped. Identical tiles are told apart by the first
 * 16 bytes of their SHA-256: the writer is given a content number and whether the content is new,
 * and stores each content once.
 *
 * Threads: `threads` workers take chunks of consecutive tiles (in tile-id order) and make them;
 * the calling thread hands the chunks to the writer in order, so the writer runs on one thread and
 * needs no lock. Workers run at most a window of chunks ahead of the writer: memory is bounded by
 * that window, whatever the size of the export.
 */
#ifndef MSH_EXPORT_H
#define MSH_EXPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "layer.h"

/* More tiles than this in one export are refused (their list alone would take 24 bytes each). */
#define MSH_EXPORT_MAX_TILES 20000000ull

typedef struct msh_export_tile {
    int z;
    uint32_t x, y;       /* XYZ (y down) */
    uint64_t tile_id;    /* PMTiles tile id (Hilbert order within a zoom) */
    uint32_t content;    /* 0, 1, 2... in the order contents first appear */
    bool fresh;          /* first time this content is handed over */
    uint8_t digest[16];  /* the first 16 bytes of the content's SHA-256 */
    const uint8_t *data; /* the maker's bytes (gzipped MVT, PNG), valid during the call */
    size_t len;
} msh_export_tile;

/** Called on the exporting thread for each non-empty tile, in increasing tile id. */
typedef msh_rc (*msh_export_tile_fn)(void *ud, const msh_export_tile *t, msh_err *err);

/** How tiles are made. Each worker thread has its own state (state_new/state_free); make runs
 * on that worker with that state only. *data (len bytes) stays valid until the next make on the
 * same state; *len 0 is a blank tile, skipped. */
typedef struct msh_export_maker {
    void *(*state_new)(void *ud, size_t max_tile_bytes); /* NULL: out of memory */
    void (*state_free)(void *state);
    msh_rc (*make)(void *ud, void *state, int z, uint32_t x, uint32_t y, const uint8_t **data, size_t *len,
                   uint64_t *features, msh_err *err);
    void *ud;
} msh_export_maker;

typedef struct msh_export_opts {
    msh_layer *const *layers;
    size_t nlayers;
    double bbox[4];            /* lon/lat W,S,E,N */
    int minzoom, maxzoom;
    int threads;               /* workers, >= 1 */
    size_t max_tile_bytes;     /* the server's --max-tile-bytes */
    /** Optional: progress after each chunk, on the exporting thread. */
    void (*progress)(void *ud, uint64_t done, uint64_t total);
    void *ud;
    /** Optional: set (e.g. by a signal handler) to stop early; the export then fails. */
    const atomic_int *stop;
    /** Optional: the tile maker; NULL is the layers' vector tiles (gzipped MVT). */
    const msh_export_maker *maker;
} msh_export_opts;

typedef struct msh_export_summary {
    uint64_t walked;   /* tiles made */
    uint64_t written;  /* non-empty tiles handed to the writer */
    uint64_t contents; /* distinct contents among them */
    uint64_t bytes;    /* gzipped bytes of the distinct contents */
    uint64_t features; /* encoded, over every tile */
} msh_export_summary;

/** The number of tiles meeting bbox at zooms minzoom..maxzoom. */
uint64_t msh_export_count(const double bbox[4], int minzoom, int maxzoom);

/** Walk the tiles; fn gets each non-empty one. Fails on the first error of a worker or of fn
 * (MSH_EINTERNAL "interrupted" when *stop was set). */
msh_rc msh_export_run(const msh_export_opts *o, msh_export_tile_fn fn, void *ud, msh_export_summary *sum,
                      msh_err *err);

/** A box and zoom range's metadata for a tile archive: a JSON object with name, format, bounds,
 * center, minzoom, maxzoom, attribution and vector_layers, into b. `center` gets the centre
 * (lon, lat, zoom) also written there. With `png` (a raster export of style `name`): format png,
 * no vector_layers. */
void msh_export_metadata_json(msh_buf *b, const msh_export_opts *o, const char *name, bool png, double center[3]);

#endif
