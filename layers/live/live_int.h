/* live_int.h: the live store's state as it keeps it, for the snapshot code (snapshot.c), which
 * writes it out and puts it back without going through msh_live_apply (that one derives
 * velocities, calls observers and counts updates). Internal to layers/live/. */
#ifndef MSH_LIVE_INT_H
#define MSH_LIVE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <math.h>

#include "live.h"

/** One tracked person as the store keeps them. */
typedef struct msh_live_raw_person {
    const char *id;  /* id_len bytes, not NUL-terminated */
    size_t id_len;   /* 1..MSH_FEED_ID_MAX */
    int64_t t_ms;    /* time of the last accepted position */
    uint32_t wx, wy; /* Web Mercator world coordinates x 2^32 (msh_lonlat_to_world: x east, y south) */
    int16_t vx, vy;  /* velocity, cm/s east and north */
    uint32_t group;  /* 1 + index into the group names, 0 = none */
    bool active;     /* counted in the density cells (heard from within max_age) */
} msh_live_raw_person;

/* Reading (read lock held). Group names and people are numbered from 0 in the order the store
 * keeps them; a person's `group` refers to that numbering, plus one. */
uint32_t msh_live_raw_ngroups(const msh_live *l);
const char *msh_live_raw_group(const msh_live *l, uint32_t i, size_t *n);
uint32_t msh_live_raw_npeople(const msh_live *l);
void msh_live_raw_person_get(const msh_live *l, uint32_t i, msh_live_raw_person *out);
/** A person's group and place, as msh_live_raw_grouped copies them. */
typedef struct msh_live_grouped {
    uint32_t group;  /* 1 + index into the group names */
    uint32_t wx, wy;
} msh_live_grouped;
/** The active people with a group among people [from, from + n) (clamped to the people there are), in
 * order, into out (room for n); returns how many. A tight copy for passes that work off the lock. */
uint32_t msh_live_raw_grouped(const msh_live *l, uint32_t from, uint32_t n, msh_live_grouped *out);
/** The cap on tracked people (msh_live_config.max_entities) and on the items of each small table. */
uint32_t msh_live_raw_max_people(const msh_live *l);
#define MSH_LIVE_MAX_ITEMS 1000000u

/** A base cell (level 22) from the store's integer sums (velocities in cm/s, squared speeds in
 * (cm/s)^2): the one formula msh_live_base_cells and the playback recording (playback.h) share,
 * so a recorded minute gives back exactly the cells the live store gave. */
static inline void msh_live_cell_from_sums(uint32_t cx, uint32_t cy, uint32_t count, int32_t vx, int32_t vy,
                                           uint64_t v2, msh_live_cell *o)
{
    o->level = 22;
    o->cx = cx;
    o->cy = cy;
    o->count = count;
    o->peak_count = count;
    o->mean_vx = (double)vx / count / 100.0;
    o->mean_vy = (double)vy / count / 100.0;
    double e2 = (double)v2 / count / 10000.0;
    o->var_v = fmax(0, e2 - (o->mean_vx * o->mean_vx + o->mean_vy * o->mean_vy));
}

/** Every occupied base cell with its integer sums, chunk by chunk in no set order; stops when fn
 * answers non-zero. Read lock held. */
typedef int (*msh_live_raw_cell_fn)(void *ud, uint32_t cx, uint32_t cy, uint32_t count, int32_t vx, int32_t vy,
                                    uint64_t v2);
void msh_live_raw_cells(const msh_live *l, msh_live_raw_cell_fn fn, void *ud);

/* Restoring (write lock held). Each fails with a message on a bad value, a duplicate id, a full
 * table or no memory; what was added before stays. */
/** Make room for `npeople` people at once (a restore knows how many come). */
msh_rc msh_live_raw_reserve(msh_live *l, uint32_t npeople, msh_err *err);
/** Add group name g[0..n) (1..MSH_FEED_ID_MAX bytes, no NUL); *index gets the number people use for it. */
msh_rc msh_live_raw_add_group(msh_live *l, const char *g, size_t n, uint32_t *index, msh_err *err);
/** Add a person whose `group` is an index from msh_live_raw_add_group (or 0). */
msh_rc msh_live_raw_add_person(msh_live *l, const msh_live_raw_person *p, msh_err *err);
/** Add an item of `feed` (not positions) as it is. */
msh_rc msh_live_raw_add_item(msh_live *l, msh_feed feed, const msh_live_item *it, msh_err *err);

/* Operator writes and time rules (live_ops.c, live_timers.c; write lock held). */
/** The item `id` of `feed`, to change in place; NULL if none. */
msh_live_item *msh_live_raw_item(msh_live *l, msh_feed feed, const char *id, size_t n);
/** Tell the observer that `it` changed (prev: its record before). */
void msh_live_raw_changed(msh_live *l, msh_feed feed, const msh_live_item *it, const msh_feed_rec *prev);
/** Count a change made outside msh_live_apply (an update, for those who watch the count). */
void msh_live_raw_touch(msh_live *l);
/** Remove every item of `feed` for which `drop` answers true; returns how many. */
typedef bool (*msh_live_drop_fn)(void *ud, const msh_live_item *it);
size_t msh_live_raw_remove(msh_live *l, msh_feed feed, msh_live_drop_fn drop, void *ud);
/** The highest n of an operator-created incident id INC-OPS-<n> ever applied (kept across removals). */
uint64_t msh_live_raw_ops_seq(const msh_live *l);
void msh_live_raw_set_ops_seq(msh_live *l, uint64_t seq);
/** The author the next msh_live_apply gives the items it changes (live_ops.c: an operator's create);
 * NULL for none (feed records). The strings must live until it is set back to NULL. */
void msh_live_raw_set_author(msh_live *l, const char *by, const char *role);

#endif
