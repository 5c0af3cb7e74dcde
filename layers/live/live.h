/* live.h: the in-memory live state: tracked people, crews, incidents, gates, sensors, bins.
 *
 * Design (see docs/ARCHITECTURE.md, "Live state"):
 * - People are kept by id in a dense array (28 bytes each: position in 32-bit
 *   world units, time, velocity, group, state) with an open-addressing index of
 *   id hashes. 3 million people take about 85 MB plus their id strings.
 * - Density is kept incrementally on a grid of 2^22 cells around the world
 *   (8.9 m at Makkah's latitude, never under 5 m), stored in chunks of 64 x 64
 *   cells allocated where people are. A move subtracts a person from the old
 *   cell and adds them to the new one (count, velocity sums, squared speeds),
 *   so a tile never recounts people: it sums the cells of the chunks it covers.
 * - Every chunk carries a version bumped by any change in it; a tile's ETag is
 *   built from the versions of the chunks it covers, so it changes only when
 *   its cells do.
 * - People not heard from for max_age seconds stop counting (expire()).
 * - Crews, incidents, gates, sensors and bins are small tables keyed by id; an
 *   incident keeps the time it entered each status.
 * - A snapshot (snapshot.h) writes it all in a documented, portable format.
 * One reader-writer lock guards it all: feed batches take it for writing,
 * tiles and queries for reading.
 */
#ifndef MSH_LIVE_H
#define MSH_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "feeds.h"
#include "core/msh_constants.h"
#include "track.h"

typedef struct msh_live msh_live;

typedef struct msh_live_config {
    int max_age_s;          /* positions older than this stop counting (default 600) */
    uint32_t max_entities;  /* cap on tracked people (default 5,000,000) */
    int track_hours;        /* hours of trail kept per person (track.h; default 0 = none) */
    double bin_overflow;    /* a bin's fill level that makes it overflowing (bins.h; default 0.8) */
} msh_live_config;

void msh_live_config_init(msh_live_config *c);
msh_rc msh_live_new(const msh_live_config *c, msh_live **out, msh_err *err);
void msh_live_free(msh_live *l);

void msh_live_rdlock(msh_live *l);
void msh_live_wrlock(msh_live *l);
void msh_live_unlock(msh_live *l);

/**
 * Apply checked records (caller holds the write lock). Records for one id
 * older than what the store holds are ignored (out-of-order delivery); a full
 * store refuses new ids. Returns how many changed the state.
 */
size_t msh_live_apply(msh_live *l, msh_feed feed, const msh_feed_rec *recs, size_t n, int64_t now_ms);
/**
 * Called (under the write lock) after an incident, crew, gate or sensor record changed the
 * state: `it` is the item as it now is, `prev` the record before (NULL for a new item).
 * Keep it short: it runs on the ingest path.
 */
struct msh_live_item;
typedef void (*msh_live_observer)(void *ud, msh_feed feed, const struct msh_live_item *it, const msh_feed_rec *prev);
void msh_live_set_observer(msh_live *l, msh_live_observer fn, void *ud);

/**
 * Called (under the write lock) for every accepted position: the person's id, the previous
 * position in world units x 2^32 (had_old false for a person not active before) and the new one.
 * Used for geofences; keep it cheap: it runs for every update.
 */
typedef void (*msh_live_move_fn)(void *ud, const char *id, size_t n, bool had_old, uint32_t owx, uint32_t owy,
                                 uint32_t nwx, uint32_t nwy, int64_t t_ms);
void msh_live_set_move_observer(msh_live *l, msh_live_move_fn fn, void *ud);

/** Stop counting people not heard from in max_age (takes the write lock). Returns how many expired. */
size_t msh_live_expire(msh_live *l, int64_t now_ms);

/** One density cell at some grid level, summed from the base cells. */
typedef struct msh_live_cell {
    uint32_t level;       /* 2^level cells around the world */
    uint32_t cx, cy;
    uint32_t count;
    uint32_t peak_count;  /* people in the fullest base cell (2^22) inside this one */
    double mean_vx, mean_vy; /* m/s, east and north */
    double var_v;         /* variance of the velocity vectors, m2/s2 */
} msh_live_cell;

typedef int (*msh_live_cell_fn)(void *ud, const msh_live_cell *c);
/** Cells of `level` (<= 22) meeting box (world units), counted over active people; read lock held by caller. */
void msh_live_cells(msh_live *l, int level, const double box[4], msh_live_cell_fn fn, void *ud);
/**
 * Every non-empty cell of `level` (16..22) over the whole state, chunk by chunk (no grid the
 * size of the area is allocated: the cost follows the occupied chunks). Read lock held.
 */
void msh_live_scan(msh_live *l, int level, msh_live_cell_fn fn, void *ud);
/**
 * Every non-empty base cell (level 22) meeting box, walking only the chunks that meet it (the
 * cost follows the occupied chunks, whatever the box's size). Read lock held by caller.
 */
void msh_live_base_cells(msh_live *l, const double box[4], msh_live_cell_fn fn, void *ud);
/** A hash of the versions of the chunks meeting box; changes when any of their cells change. Read lock held. */
uint64_t msh_live_region_version(msh_live *l, const double box[4]);

typedef struct msh_live_person {
    double lon, lat;
    int64_t t_ms;
    float speed, heading;
    char group[MSH_FEED_ID_MAX + 1];
    bool active;
} msh_live_person;
/** The last known state of person `id`; false if unknown. Read lock held. */
bool msh_live_person_get(msh_live *l, const char *id, size_t n, msh_live_person *out);
/** Every active person in box (world units): id and state. Read lock held. */
typedef int (*msh_live_person_fn)(void *ud, const char *id, const msh_live_person *p);
void msh_live_people(msh_live *l, const double box[4], msh_live_person_fn fn, void *ud);

/**
 * The trail of person `id` (track.h): points at or after since_ms within the window before now_ms,
 * oldest first, into out (room for MSH_TRACK_POINTS); -1 for an unknown id, 0 points when trails
 * are off. Read lock held.
 */
int msh_live_track(msh_live *l, const char *id, size_t n, int64_t since_ms, int64_t now_ms, msh_track_pt *out);
/** True when trails are kept (track_hours > 0). */
bool msh_live_tracking(const msh_live *l);
/** Every person of group g[0..n) (active or not), in the store's order, until fn returns nonzero;
 * false when no one ever reported that group. Read lock held; a scan of every person. */
bool msh_live_group_people(msh_live *l, const char *g, size_t n, msh_live_person_fn fn, void *ud);

/** The longest author name an item carries (a token name: layers/tokens.h). */
#define MSH_LIVE_BY_MAX 100

/** The small tables: crews, incidents, gates, sensors, bins. */
typedef struct msh_live_item {
    msh_feed_rec rec;          /* the latest record */
    int64_t status_ms[4];      /* incidents: when it entered each status (0 = not yet) */
    int64_t in_total, out_total; /* gates: sums since the server began counting */
    double flow_per_hour;      /* gates: persons per hour through the gate in the last interval */
    uint64_t updates;
    /* operator state (live_ops.h): what operators set and a feed record does not carry */
    uint8_t ops_flags;         /* MSH_ITEM_* */
    union {
        int64_t cancelled_ms;  /* incidents: when it was cancelled (0 = not) */
        int64_t reopens_ms;    /* gates: when a closed gate is planned to reopen (reopens_at; 0 = not said) */
    };
    char crew[MSH_FEED_ID_MAX + 1];     /* incidents: assigned_crew ("" = none) */
    char reason[MSH_FEED_TEXT_MAX + 1]; /* incidents: why cancelled; gates: why closed */
    /* who made the change the observer is told of (live_ops.h): an operator's token name and role;
     * "" for a feed record. Not kept in snapshots: the history rows (incident_log.h) keep it. */
    char by[MSH_LIVE_BY_MAX + 1];
    char by_role[16];
    /* bins: +1 when the record just applied made the bin overflowing, -1 when it ended that, else 0
     * (bins.h); for the observer, not kept in snapshots */
    int8_t overflow_change;
} msh_live_item;

enum {
    MSH_ITEM_CANCELLED = 1, /* incidents: cancelled by an operator (final) */
    MSH_ITEM_ESCALATED = 2, /* incidents: the escalation event went out */
    MSH_ITEM_CLOSED = 4,    /* gates: closed by an operator */
    MSH_ITEM_STALE = 8,     /* crews, sensors, bins: not heard from for long (live_timers.h); cleared by a record */
    MSH_ITEM_RETIRED = 16,  /* incidents: ended longer ago than --incident-retention: off the live map */
    MSH_ITEM_OVERFLOW = 32  /* bins: overflowing (bins.h), decided as each record is applied */
};
typedef int (*msh_live_item_fn)(void *ud, const msh_live_item *it);
/** Every item of `feed` (not positions). Read lock held. */
void msh_live_items(msh_live *l, msh_feed feed, msh_live_item_fn fn, void *ud);

/* Snapshots of the whole state (msh_live_snapshot, msh_live_restore) and their file format: snapshot.h. */

typedef struct msh_live_stats {
    uint64_t people, active, cells, chunks, items[MSH_FEED_COUNT], bytes, updates;
    uint64_t track_bytes; /* the trails (track.h), apart from bytes */
} msh_live_stats;
void msh_live_get_stats(msh_live *l, msh_live_stats *st);

/** Ground size in metres of a cell at `level` and latitude `lat`. */
double msh_live_cell_metres(int level, double lat);
/* msh_fruin_los(density): core/msh_constants.h */

#endif
