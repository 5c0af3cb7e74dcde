/* sim.h: the crowd model behind `mashaer simulate`: pilgrims in groups on the Hajj schedule, crews,
 * gates, sensors, waste bins and incidents, written out as NDJSON records of the live feeds (docs/FEEDS.md).
 *
 * The model owns its clock (simulated seconds since 00:00 Makkah time of 8 Dhul Hijjah) and its
 * random streams; the caller steps it, sets the time stamp the records carry, and asks for records
 * to be appended to its buffers. Nothing here speaks HTTP, prints or exits: the command
 * (server/cli/cmd_simulate.c) does that. See sim_int.h for the design note.
 *
 * Threads: one msh_sim is used by one thread at a time.
 */
#ifndef MSH_SIM_H
#define MSH_SIM_H

#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"

typedef struct msh_sim msh_sim;

/** What a group is doing. Walking phases are named after their destination. */
typedef enum {
    MSH_SIM_MAKKAH = 0, /* at the hotel in Makkah (before the 8th, after the farewell Tawaf) */
    MSH_SIM_TO_MINA,
    MSH_SIM_MINA,
    MSH_SIM_TO_ARAFAT,
    MSH_SIM_ARAFAT,
    MSH_SIM_TO_MUZDALIFAH,
    MSH_SIM_MUZDALIFAH,
    MSH_SIM_TO_JAMARAT,
    MSH_SIM_JAMARAT, /* stoning */
    MSH_SIM_TO_HARAM,
    MSH_SIM_HARAM, /* Tawaf */
    MSH_SIM_TO_MAKKAH,
    MSH_SIM_NPHASES
} msh_sim_phase;

/** Short lower-case name of a phase ("to_arafat"). */
const char *msh_sim_phase_name(int phase);

typedef struct msh_sim_opts {
    const char *data_dir; /* sites, camps, assets, cleaning_routes, service_zones (.geojson) */
    const char *walkways; /* the walkway network; NULL: <data_dir>/walkways.geojson */
    uint32_t pilgrims;    /* default 100000 */
    uint32_t group_min, group_max; /* group sizes, default 20..250 (250 = the Jamarat batch limit) */
    uint32_t crews;       /* cleaning + emergency teams, default 40 (two thirds cleaning) */
    double incidents_per_hour; /* random incidents per simulated hour, default 6 (crowding comes on top) */
    double barred_share;  /* share of groups barred from the stoning windows of HAJJ-FACTS.md, default 0.3 */
    uint64_t seed;        /* default 1 */
    int64_t day8_ms;      /* Unix ms of 00:00 Makkah time (UTC+3) on 8 Dhul Hijjah; default 2026-05-24T21:00Z */
    int64_t start_ms;     /* simulated start; must fall in the six days from day8_ms; default 2026-05-25T06:00Z */
    const char *run_id;   /* makes incident ids unique per run ("INC-<run_id>-000001"); default "0" */
    void *ud;
    /** A note for the user while loading (a missing optional file, a fallback). May be NULL. */
    void (*note)(void *ud, const char *msg);
} msh_sim_opts;

/** Defaults as documented above; data_dir stays NULL. */
void msh_sim_opts_init(msh_sim_opts *o);

/**
 * Load the site data, build the walkway graph and its shortest-path trees, make the groups and
 * their schedules, and run the model from 00:00 of the 8th up to start_ms (no records). Only
 * sites.geojson is needed; every other file has a fallback (see docs/FEEDS.md, "The simulator").
 */
msh_rc msh_sim_create(const msh_sim_opts *o, msh_sim **out, msh_err *err);
void msh_sim_destroy(msh_sim *s);

/**
 * Advance the simulated clock by `dt` seconds, in sub-steps of at most 60 s. After the 13th (six
 * days from the 8th at 00:00) the model starts over from start_ms with new schedules.
 * Fails only when memory runs out.
 */
msh_rc msh_sim_step(msh_sim *s, double dt, msh_err *err);

/** The simulated time, Unix ms. */
int64_t msh_sim_time_ms(const msh_sim *s);

/** The `time` the next records carry (the wall clock or the simulated clock: the caller's choice). */
void msh_sim_set_stamp(msh_sim *s, int64_t unix_ms);

/**
 * Append up to `max` position records, one per pilgrim, continuing round robin over all pilgrims
 * from where the last call stopped, so a pilgrim reports once every N records. *written gets the
 * count. Fails with MSH_ETOOBIG when `b` would pass its limit (nothing appended then).
 */
msh_rc msh_sim_emit_positions(msh_sim *s, uint32_t max, msh_buf *b, uint32_t *written, msh_err *err);
/** Every crew's position and status. */
msh_rc msh_sim_emit_crews(msh_sim *s, msh_buf *b, uint32_t *written, msh_err *err);
/** Every gate's in/out counts since the last call (then zeroed). */
msh_rc msh_sim_emit_gates(msh_sim *s, msh_buf *b, uint32_t *written, msh_err *err);
/** Sensor readings when due (every 5 simulated minutes, and on the first call); else nothing. */
msh_rc msh_sim_emit_sensors(msh_sim *s, msh_buf *b, uint32_t *written, msh_err *err);
/** Bin fill levels (FIWARE WasteContainer: fillingLevel) when due (every 5 simulated minutes, and
 * on the first call); else nothing. */
msh_rc msh_sim_emit_bins(msh_sim *s, msh_buf *b, uint32_t *written, msh_err *err);
/** Incident lifecycle changes since the last call, in the order they happened. */
msh_rc msh_sim_emit_incidents(msh_sim *s, msh_buf *b, uint32_t *written, msh_err *err);

/**
 * The plan of a time window, for the forecast (sim_plan.c). From this call on, every group that sets
 * out on the walkway network is logged (up to 100,000 departures; the rest are counted):
 * msh_sim_write_schedule then writes them as a `--forecast-schedule` file.
 */
void msh_sim_log_departures(msh_sim *s);
/** The departures logged: *written on the walkway network, *off_net across open ground (Arafat,
 * Muzdalifah: no walkway the forecast could put them on, not written), *dropped past the limit. */
void msh_sim_departure_counts(const msh_sim *s, uint64_t *written, uint64_t *off_net, uint64_t *dropped);
/**
 * Append the logged departures to `b` as a forecast schedule (layers/forecast/schedule.h, JSON): one
 * entry per departure, "group" the id its pilgrims' records carry ("G-00012"), its size, origin and
 * destination the walkway nodes where its route joins and leaves the network, its departure window
 * the model step it set out in (at least 1 s), and "leg" (origin and destination places, e.g.
 * "mina>jamarat", which the forecast does not read). MSH_ETOOBIG when `b` would pass its limit.
 */
msh_rc msh_sim_write_schedule(const msh_sim *s, msh_buf *b, msh_err *err);

/** Weidmann's fundamental diagram: walking speed (m/s) at density rho (persons/m2); 0 from 5.4 on. */
double msh_sim_weidmann(double rho);

/** Spreads a rate over ticks: per_tick = rate * tick_ms / 1000, the fraction carried over. */
typedef struct msh_sim_pacer {
    double per_tick, carry;
} msh_sim_pacer;
void msh_sim_pacer_init(msh_sim_pacer *p, double rate_per_s, uint32_t tick_ms);
/** How many records this tick. */
uint64_t msh_sim_pacer_next(msh_sim_pacer *p);

typedef struct msh_sim_stats {
    int64_t time_ms;
    uint64_t pilgrims, groups;
    uint64_t in_phase[MSH_SIM_NPHASES]; /* pilgrims */
    uint32_t incidents_open, crews_busy;
    uint64_t incidents_total;
    uint32_t loops;      /* times the schedule started over */
    uint32_t net_nodes;  /* walkway graph size (0: no network, straight legs only) */
    uint32_t camps, gates, sensors, bins;
    double max_density;  /* highest local density seen in the last step, persons/m2 */
} msh_sim_stats;
void msh_sim_get_stats(const msh_sim *s, msh_sim_stats *st);

/** One group as the tests and the status line see it. */
typedef struct msh_sim_group_info {
    int phase;
    int walking;
    uint32_t size;
    double lon, lat;               /* the group's centre */
    double target_lon, target_lat; /* where it is walking to (or where it is) */
    double speed;                  /* m/s */
    double density;                /* the local density used for its speed */
} msh_sim_group_info;
uint32_t msh_sim_group_count(const msh_sim *s);
void msh_sim_group_get(const msh_sim *s, uint32_t i, msh_sim_group_info *gi);

/** The union of the sites' bounding boxes: {min lon, min lat, max lon, max lat}. */
void msh_sim_sites_bbox(const msh_sim *s, double bbox[4]);

#endif
