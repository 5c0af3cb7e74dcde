/* playback_codec.h: one recorded minute of density cells, as bytes and back.
 *
 * A minute is the list of occupied 8.9 m base cells (level 22) at that minute, with the exact
 * integer sums the live store keeps per cell (count, velocity sums in cm/s, sum of squared
 * speeds): from them the k-anonymity pyramid (kanon.h) rebuilds exactly the cells a live tile
 * showed, so a past tile is the live tile of its minute, byte for byte.
 *
 * Record (little-endian), written by msh_pb_encode and read by msh_pb_decode:
 *   0  "MPB1"
 *   4  i64  minute (minutes since 1970-01-01T00:00Z)
 *  12  u32  cells
 *  16  u32  raw_len  (bytes of the varint stream)
 *  20  u32  zlen     (bytes of the payload: the stream, zlib-deflated)
 *  24  u32  CRC-32 of the payload
 *  28  u32  CRC-32 of bytes 0..27
 *  32  payload
 * The stream holds per cell, in increasing Morton order of (cx, cy): varint(Morton code minus the
 * previous one; the first one as it is), varint(count), zigzag varint(vx), zigzag varint(vy),
 * varint(v2 minus the least it can be for those sums, ceil((vx^2 + vy^2) / count): 0 for one person).
 *
 * The decoder takes bytes from a file the server wrote, but a disk can hand back anything: every
 * length is bounded before it is trusted (MSH_PB_MAX_CELLS, MSH_PB_MAX_CELL_BYTES), cells must be
 * strictly increasing, inside the grid and non-empty; a bad record is MSH_EFORMAT, never a crash
 * (fuzz_playback holds it to that).
 */
#ifndef MSH_PLAYBACK_CODEC_H
#define MSH_PLAYBACK_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "live.h"

/** One occupied base cell of a minute: the live store's own sums. 32 bytes. */
typedef struct msh_pb_cell {
    uint64_t m;     /* Morton code of (cx, cy) on the 2^22 grid: bits of cx even, of cy odd */
    uint32_t count; /* people, >= 1 */
    int32_t vx, vy; /* sums of velocities, cm/s, east and north */
    uint64_t v2;    /* sum of squared speeds, (cm/s)^2 */
} msh_pb_cell;

#define MSH_PB_HEADER 32
/** Most cells a minute may hold (a 2^22 grid around 3 M people holds far fewer). */
#define MSH_PB_MAX_CELLS (1u << 23)
/** Most stream bytes one cell takes (10 + 5 + 5 + 5 + 10). */
#define MSH_PB_MAX_CELL_BYTES 35

typedef struct msh_pb_header {
    int64_t minute;
    uint32_t cells, raw_len, zlen, crc;
} msh_pb_header;

/** Morton code of a base cell and back. */
uint64_t msh_pb_morton(uint32_t cx, uint32_t cy);
void msh_pb_unmorton(uint64_t m, uint32_t *cx, uint32_t *cy);

/**
 * Append the record of `minute` holding cells[0..n) (sorted by m, distinct) to `out` (grown with
 * realloc; *len is its length in and out). level: zlib's (1 fast .. 9 small). MSH_ENOMEM, or
 * MSH_EINVAL when the cells are not sorted or too many.
 */
msh_rc msh_pb_encode(int64_t minute, const msh_pb_cell *cells, size_t n, int level, uint8_t **out, size_t *len,
                     size_t *cap, msh_err *err);

/** Read and check a record's header from p[0..n) (n >= MSH_PB_HEADER); MSH_EFORMAT when it is not one. */
msh_rc msh_pb_header_read(const uint8_t *p, size_t n, msh_pb_header *h, msh_err *err);

/**
 * Decode a whole record p[0..n) (header and payload, nothing after): *cells (malloc'd, the caller
 * frees) gets h->cells cells. MSH_EFORMAT for anything that is not a record this codec wrote.
 */
msh_rc msh_pb_decode(const uint8_t *p, size_t n, msh_pb_header *h, msh_pb_cell **cells, msh_err *err);

/** Decode a varint stream of `ncells` cells (the inflated payload); as msh_pb_decode. */
msh_rc msh_pb_decode_stream(const uint8_t *s, size_t n, uint32_t ncells, msh_pb_cell **cells, msh_err *err);

/** One recorded cell as the live store's base cell (live.h), computed as msh_live_base_cells does. */
void msh_pb_cell_to_live(const msh_pb_cell *c, msh_live_cell *o);

#endif
