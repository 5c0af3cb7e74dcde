/* snapshot.h: the live state in one file, readable by every later build.
 *
 * Design: a snapshot bounds the replay of the write-ahead log (wal.h) after a restart. It
 * records the LSN it covers; ingest.c writes it as `snapshot-<lsn>.snap` (temporary file,
 * fsync, rename) and then drops the log segments it covers, so from then on the snapshot
 * is the only copy of that state. Hence the format is fixed and documented here, every
 * number has one width and one byte order (never a struct or host integer copied out), and
 * a file this build cannot read is refused with the reason, never guessed at.
 *
 * On disk (format version 1): a 64-byte header, then the body. All integers are little
 * endian, two's complement when signed; f64 is IEEE 754 binary64 stored like a u64. A
 * string is [u8 length][that many bytes] (UTF-8 text as the feeds delivered it).
 *
 *   header
 *   offset  width  field
 *        0      8  magic: the bytes "MSHSNAP" and 0x00 (4D 53 48 53 4E 41 50 00)
 *        8      4  u32 format version: 1
 *       12      4  u32 flags: bit 0 = the operators' section (4. below) follows the items; a reader
 *                  refuses a flag it does not know
 *       16      8  u64 LSN: the last write-ahead log record the state includes (replay resumes after it)
 *       24      8  u64 body length in bytes: the file is exactly 64 + this long
 *       32      4  u32 number of group names
 *       36      4  u32 number of people
 *       40      4  u32 number of crews      (msh_feed 1)
 *       44      4  u32 number of incidents  (msh_feed 2)
 *       48      4  u32 number of gates      (msh_feed 3)
 *       52      4  u32 number of sensors    (msh_feed 4)
 *       56      4  u32 number of bins       (msh_feed 5; this field was reserved, 0, before the bins
 *                  feed: a file written then reads as one without bins, and a state without bins
 *                  is written exactly as before)
 *       60      4  u32 checksum: CRC-32 (zlib's crc32, as the log's records) of header bytes 0..59
 *                  followed by the whole body
 *
 *   body, these sections one after another, nothing between or after them:
 *   1. group names, in number order (the first is group 1):
 *        string   the name, 1..64 bytes, no NUL
 *   2. people:
 *        string   id, 1..64 bytes
 *        i64      t_ms: Unix epoch milliseconds of the last accepted position
 *        u32      wx: Web Mercator world x (0 = 180 W, growing east) x 2^32
 *        u32      wy: Web Mercator world y (0 = north edge at 85.05 N, growing south) x 2^32
 *        i16      vx: velocity east, cm/s
 *        i16      vy: velocity north, cm/s
 *        u32      group: number of the person's group name, 0 = none
 *        u8       flags: bit 0 = active (heard from within the position max age, counted in the
 *                 density cells); the other bits 0
 *      26 bytes + the id each.
 *   3. items: the crews, then the incidents, the gates, the sensors, the bins; each:
 *        record   the latest record in the compact feed form (feeds.h, msh_feed_encode)
 *        u8       status: incidents, where the lifecycle stands (msh_inc_status 0..3: it stays
 *                 when an update carries no status, which the record alone cannot say); else 0
 *        i64 x 4  status_ms: when the incident entered reported, dispatched, on_scene, resolved
 *                 (Unix epoch ms, 0 = not yet); 0 for the other tables
 *        i64      in_total: gates, people counted in since counting began; else 0
 *        i64      out_total: gates, people counted out; else 0
 *        f64      flow_per_hour: gates, people per hour through the gate in the last interval
 *        u64      updates: records applied to this item
 *      65 bytes + the record each.
 *   4. only with flag bit 0: the operators' state (layers/live/live_ops.h):
 *        u64      the highest n of an incident id INC-OPS-<n> ever applied
 *        u32      count, then per item with any operator state:
 *        u8       msh_feed (2 incidents, 3 gates, 1 crews, 4 sensors, 5 bins)
 *        string   id, 1..64 bytes (an item of section 3)
 *        u8       flags: 1 cancelled, 2 escalated, 4 closed (gates), 8 stale (crews), 16 retired,
 *                 32 overflowing (bins: live.h, MSH_ITEM_OVERFLOW)
 *        i64      incidents: cancelled_ms (0 = not cancelled); gates: reopens_ms, when a closed gate
 *                 is planned to reopen (0 = not said; the same bytes, so the format did not change)
 *        string   assigned crew, 0..64 bytes
 *        string   reason (why cancelled or closed), 0..200 bytes
 *      A state without operator state is written without the section and the flag.
 *
 * Loading checks, in this order, and refuses with a message: the magic (a file starting with
 * "MSHLIV01" is a raw memory dump from a build before this format), the header's length, the
 * version (a later one is refused, never guessed at), the body length (truncated or trailing
 * bytes), the checksum, the flags and reserved field, the counts against the body's length and
 * the store's caps; all before anything is added to the store. Then every value as it decodes
 * (a bad one there means a writer bug, as the checksum held: the load stops and the caller
 * discards the half-filled store). A new layout gets a new version number; this build reads
 * version 1, and tests/golden/snapshot/v1.snap keeps every later build able to read it.
 */
#ifndef MSH_SNAPSHOT_H
#define MSH_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"
#include "live.h"

#define MSH_SNAPSHOT_VERSION 1
#define MSH_SNAPSHOT_HEADER 64

/** Append a snapshot of the whole state covering log records up to `lsn` to `out` (read lock held). */
msh_rc msh_live_snapshot(msh_live *l, uint64_t lsn, msh_buf *out, msh_err *err);
/**
 * Load a snapshot into an empty store (write lock held); *lsn gets the LSN it covers. On
 * failure the message says why (MSH_EFORMAT; MSH_ETOOBIG when it holds more than the store's
 * caps; MSH_ENOMEM) and the store is to be discarded (it may hold part of the file).
 */
msh_rc msh_live_restore(msh_live *l, const uint8_t *data, size_t len, uint64_t *lsn, msh_err *err);
/**
 * Fill in the body length and checksum of the snapshot in data[0..len) from its bytes (len >=
 * MSH_SNAPSHOT_HEADER): the writer's last step. Tests and the fuzz target use it to edit a file
 * and still reach the checks after the checksum.
 */
void msh_live_snapshot_seal(uint8_t *data, size_t len);

#endif
