/* playback.h: the density cells of every minute of the last hours, kept on disk, for the past
 * movement tiles and density heatmaps (`?time=`, server/routes/routes_playback.c).
 *
 * Recording: once a minute (msh_playback_tick, from the server's one-second timer pass, or at once
 * when a test moves the clock), the first pass whose clock is in a minute later than the last one
 * recorded copies the occupied base cells under the live read lock (their exact integer sums,
 * playback_codec.h), sorts them, encodes them and appends the record to the file of its hour,
 * then fdatasync. A minute is therefore the state at its start (within a second), written as
 * soon as the minute begins: a kill -9 loses nothing recorded, and a server that was down
 * records nothing for those minutes (a time in such a gap shows the minute before it).
 *
 * On disk: `<dir>/<hour>.mpb` (hour: hours since 1970, ten digits), the minute records one after
 * another. At open every file's headers are read (not the payloads, but the last record of each
 * file is checked whole): a record cut short or damaged ends its file there (the file is cut
 * back), so a torn write at a crash costs that one record. Minutes older than `hours` before
 * the newest are dropped from the index, and a file whose minutes are all dropped is deleted:
 * the disk holds at most hours + 1 files.
 *
 * Reading: msh_playback_at finds the minute at or before a time (404 outside the window, with the
 * window in the message), reads and decodes it and keeps it in a small cache (MSH_PB_CACHE_BYTES
 * of decoded cells; minutes in use by a request stay alive by their reference until released).
 *
 * Memory: the index (32 bytes a minute), the recorder's scratch (32 bytes a cell at the last
 * minute, plus its encoded bytes), the cache and the one minute being read (one at a time: the
 * tiles of a new minute come together, and the first request reads it for all). Locks: one mutex
 * over the index, the files' sizes, the cache and the figures, never held while reading a file or
 * decoding; a second (load_mu, taken first) lets one request at a time read a minute; the recorder
 * (msh_playback_tick, msh_playback_record) runs on one thread at a time (the caller's rule) and
 * holds the mutex only to publish a written minute.
 */
#ifndef MSH_PLAYBACK_H
#define MSH_PLAYBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "live.h"
#include "playback_codec.h"

typedef struct msh_playback msh_playback;
typedef struct msh_pb_minute msh_pb_minute;

/** Decoded minutes kept in memory for requests (bytes of cells). */
#define MSH_PB_CACHE_BYTES (96u << 20)
/** A minute is not written when the disk would be left with less than this free (the live feeds'
 * write-ahead log is on the same disk, and an acknowledged update matters more than the past). */
#define MSH_PB_DISK_RESERVE (256u << 20)
/** zlib level of the records: 1 is the fastest and at 3 M people within 10% of level 6's size. */
#define MSH_PB_ZLEVEL 1

typedef struct msh_playback_stats {
    int hours;
    int64_t first_ms, last_ms; /* the kept window's first and last minute; -1 when none */
    uint32_t minutes;          /* minutes kept */
    uint32_t files;
    uint64_t bytes;            /* on disk */
    uint64_t recorded;         /* minutes recorded since the start */
    uint64_t failures;         /* recordings that failed (retried at the next pass) */
    uint64_t cut_bytes;        /* bytes cut from damaged or torn files at open */
    uint64_t last_cells, last_bytes; /* the last minute recorded: cells, bytes on disk */
    double last_record_s;      /* how long the last recording took (copy, sort, encode, write, sync) */
    double last_cpu_s;         /* of which the recording thread's CPU time */
    double last_lock_s;        /* of which under the live read lock (the copy: feed batches wait meanwhile) */
    double last_write_s;       /* of which writing and fdatasync */
    double record_s;           /* all recordings since the start */
    uint64_t cache_bytes, cache_cap;
    uint32_t cached;           /* decoded minutes in the cache */
} msh_playback_stats;

/**
 * Open (or make, 0700) the playback folder `dir` keeping `hours` hours (1..720). now_ms: the clock,
 * for dropping what is older than the window at once. Files cut back or deleted are counted.
 */
msh_rc msh_playback_open(const char *dir, int hours, int64_t now_ms, msh_playback **out, msh_err *err);
void msh_playback_close(msh_playback *p);

/**
 * Record the live cells when now_ms's minute is later than the last one recorded (*recorded: whether
 * it did). Takes the live read lock while it copies. MSH_EIO when the file cannot be written (the
 * file is cut back to what it held; the next pass in the same minute tries again).
 */
msh_rc msh_playback_tick(msh_playback *p, msh_live *live, int64_t now_ms, bool *recorded, msh_err *err);

/** Record cells[0..n) (any order; sorted here) as `minute` (minutes since 1970), later than the last. */
msh_rc msh_playback_record(msh_playback *p, int64_t minute, msh_pb_cell *cells, size_t n, msh_err *err);

/**
 * The minute at or before t_ms, with a reference (msh_pb_minute_release it). MSH_ENOTFOUND when
 * t_ms is outside the kept window (before its first minute or after its last minute's end), the
 * message naming the window; MSH_EIO / MSH_EFORMAT when its record cannot be read.
 */
msh_rc msh_playback_at(msh_playback *p, int64_t t_ms, msh_pb_minute **out, msh_err *err);
void msh_pb_minute_release(msh_pb_minute *m);
/** The minute's start (ms since 1970) and its record's payload CRC (with the minute, its identity). */
int64_t msh_pb_minute_ms(const msh_pb_minute *m);
uint32_t msh_pb_minute_crc(const msh_pb_minute *m);
size_t msh_pb_minute_cells(const msh_pb_minute *m);
/** The minute's base cells meeting box (world units), as msh_live_base_cells gives them; a
 * msh_kanon_source (kanon.h) with the minute as its `src`. */
void msh_pb_minute_base_cells(void *minute, const double box[4], msh_live_cell_fn fn, void *ud);

void msh_playback_stats_get(msh_playback *p, msh_playback_stats *s);

#endif
