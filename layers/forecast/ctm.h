/* ctm.h: the crowd forecast models: a cell-transmission model on the walking network, and the
 * two baselines it is measured against (persistence, straight-line advection).
 *
 * The cell-transmission model (ctm.c; docs/ARCHITECTURE.md, "Forecast"):
 * - The network: every edge of the walking graph is cut into segments about one density cell
 *   long (8.9 m at Makkah). A segment's width is its walkway's (`width_m` in the data, else
 *   the input's default_width_m: `serve --forecast-width`, 4 m unless told), its area length x width, its capacity Weidmann's largest specific
 *   flow (about 1.22 persons per metre of width per second) times the width, and it is full at
 *   Weidmann's jam density (5.4 persons/m2). A closed edge (a closed gate, an incident) has no
 *   capacity: nobody enters or leaves it. This set-up depends on the network only and is kept
 *   between runs in an msh_fc_net (rebuilt when the graph, the widths or the closed edges change).
 * - The start: each occupied cell goes onto the nearest edge whose walkway it lies on (within
 *   half the width plus most of a cell), in the direction its mean velocity points along the
 *   edge. Slower along it than 0.1 m/s: they stand, unless their segment is dense (queue_density,
 *   1 person/m2, or more) and the edge's moving people walk one way: a queue, part of that flow.
 *   Cells on no walkway: the people walking there together (wait_speed or faster, open_min_people
 *   or more in the cell, their mean velocity at least as large as its spread: a milling crowd's
 *   mean says nothing of where it goes) walk straight on over open ground until they come onto a walkway they head
 *   along, and join it (open_ground.h); the others stay where they are. A walkway is the only way the model routes people: where no
 *   walkway is mapped, it knows of no wall either.
 * - A step of dt (Godunov's scheme for Weidmann's fundamental diagram q = rho v(rho)): a
 *   segment offers its demand, q at its density below the critical density and the capacity
 *   above it (a queue discharges at capacity); a receiver takes its supply, the capacity below
 *   the critical density and q above it, never beyond jam density; where more is offered than a
 *   receiver takes, every sender is cut in the same proportion and the rest waits: a queue. The
 *   speed is the diagram's, from the density: the observed velocity gives the direction only.
 *   People reaching the end of an edge go on along the edges of that node the way the people
 *   already there walk (shares of the observed outflow), or straight on where nobody is seen; at
 *   a walkway end (no other edge meets there) they leave the network; where every other edge is
 *   closed they wait. People of a planned movement walk the shortest open way to their
 *   destination and leave the network there; with no open way there (a closed gate across it)
 *   they set out all the same and walk as the crowd where they start walks, queueing where it does.
 * - A group seen before it leaves (a source with wait_radius_m: pilgrims resting in their camp): as
 *   it departs, the people entering are taken off the slow people (standing on a walkway, or on no
 *   walkway and slower than wait_speed) seen within the radius of its waiting point, in proportion
 *   to what each cell holds, up to what is there; only the rest are new people. The total is kept.
 * - A stay (stay_s): a group's people reaching its destination stand on the segments within
 *   stay_reach_m of the destination node along its edges (in proportion to their area) for stay_s,
 *   then leave the network.
 * - Planned returns (a schedule's "return" groups: a crowd leaving the Jamarat back to the camps): at
 *   the return's time, everyone on the walkways of the shortest way from its origin to its
 *   destination (observed or planned, walking either way or standing) turns and walks to the
 *   destination as one planned group; its size, if any, sets out from the origin over its window.
 * - Closures that end: an edge closed until a time T (a closed gate an operator plans to reopen at
 *   T, its `reopens_at`) is set up as an open edge, and until T nobody crosses its ends (into it
 *   from another edge or out of it into one); people walk within it and queue at its ends, and
 *   planned groups take it as their way (they will be let through). From T on the queue
 *   discharges as any queue does: at the capacity of the walkway (Godunov's demand of a jammed
 *   segment). People whose way at an edge end is closed wait; the others at that end go on.
 * - The known plan: sources add people at a rate: gates at their current flow (nothing for a
 *   closed gate), planned groups (schedule.h) over their departure window, and every walkway end
 *   where people are seen walking in at the flow observed there (the people walking inwards on
 *   its first segments times the diagram's speed), all along the horizon, except at an end a planned
 *   group starts from: there the plan says who comes and until when, and the people seen walking in
 *   are the group's, already counted by it. What a full segment cannot take waits outside it.
 * - The output: at each horizon, every segment's people spread over the cells its area covers, in
 *   proportion to the part of the area in each.
 *
 * Baselines (baseline.c): persistence (every cell as now) and advection (every cell's people
 * carried in a straight line at its mean velocity, walls or not).
 */
#ifndef MSH_FC_CTM_H
#define MSH_FC_CTM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "forecast/grid.h"
#include "route/graph.h"

/** The horizons, in minutes; index 0 is the observed state the forecast starts from. */
#define MSH_FC_NH 6
extern const int msh_fc_minutes[MSH_FC_NH];
/** The index of `minutes` in msh_fc_minutes, -1 when it is not a horizon. */
int msh_fc_horizon_index(long minutes);

#define MSH_FC_DEFAULT_WIDTH_M 4.0

/** An occupied base cell of the live state. */
typedef struct msh_fc_cell {
    uint32_t cx, cy;  /* MSH_FC_LEVEL */
    float count;
    float vx, vy;     /* mean velocity, m/s east and north */
    float var_v;      /* variance of the people's velocity vectors around it, m2/s2 (0: all alike) */
} msh_fc_cell;

/** People entering the network at a rate: a gate, or a planned group (with a destination). */
typedef struct msh_fc_source {
    double lon, lat;
    double rate;            /* persons per second */
    int64_t from_ms, to_ms; /* when they enter (INT64_MIN, INT64_MAX: all along) */
    bool has_dest;
    double dest_lon, dest_lat;
    bool planned;           /* a planned group (the schedule): the walkway end it starts from brings no
                             * observed inflow, before, during or after its window (the plan says who
                             * comes there and until when) */
    bool turn;              /* a planned return (has_dest): at from_ms everyone on the way between the
                             * origin and the destination turns and walks to the destination */
    double stay_s;          /* has_dest: its people stay this long at the destination (0: they leave there) */
    double wait_lon, wait_lat, wait_radius_m; /* planned: where the group waits before it leaves (radius 0:
                             * off the map); the people it sets out with are the slow people seen there */
} msh_fc_source;

typedef struct msh_fc_params {
    double dt_s;         /* time step (5 s: a segment of 8.9 m is crossed in no less at 1.8 m/s) */
    double max_speed;    /* observed speeds are capped at this (2.5 m/s) */
    double stand_speed;  /* slower along the edge than this: standing (0.1 m/s) */
    double free_speed;   /* speed of people from sources (1.34 m/s) */
    double jam_density;  /* persons/m2 where a walkway is full (5.4) */
    double snap_m;       /* how far a source may be from the network (50 m) */
    double queue_density; /* stopped people this dense (persons/m2, 1.0) are a queue of their edge's flow */
    double inflow_fade_s; /* an inflow seen at a walkway end flows on with chance exp(-t / this) (600 s) */
    double wait_speed;   /* people in a group's waiting area slower than this (m/s, 0.3) are the group waiting */
    double stay_reach_m; /* a group staying at its destination stands on its walkways this far (m, 50) from it */
    double open_min_people; /* a cell on no walkway walks on over open ground with this many people or more (5:
                             * the fewest the public layers show, --k-anon's default): fewer are no crowd
                             * (under 0.06 persons/m2 in a cell), and cost as much to follow as a group */
} msh_fc_params;

void msh_fc_params_init(msh_fc_params *p);

/** The model's set-up for one network (segments, widths, capacities, the cells they cover, the moves
 * at edge ends), kept between runs by the caller; a run rebuilds it when the graph (by identity), the
 * widths or the closed edges differ. One thread uses a net at a time. */
typedef struct msh_fc_net msh_fc_net;
msh_fc_net *msh_fc_net_new(void);
void msh_fc_net_free(msh_fc_net *n);

typedef struct msh_fc_input {
    msh_fc_net *net;        /* the set-up kept between runs; NULL: built for this run and dropped */
    const msh_graph *g;     /* NULL: no network (the model keeps every cell where it is) */
    const float *width_m;   /* per edge; NULL or <= 0: default_width_m */
    double default_width_m; /* a walkway's width where width_m has none; <= 0: MSH_FC_DEFAULT_WIDTH_M */
    const uint8_t *closed;  /* per edge, nonzero: closed; NULL: none */
    const int64_t *closed_until; /* per edge: closed until this time (Unix ms; a closed gate an operator
                                  * plans to reopen), then open; <= issued_ms: open; NULL: none. Such an
                                  * edge must not be in `closed` too (there it would be closed all along) */
    const msh_fc_cell *cells;
    size_t ncells;
    const msh_fc_source *src;
    size_t nsrc;
    int64_t issued_ms;      /* the time of the observed state */
    const atomic_bool *cancel; /* NULL, or set by another thread to end the run early: the model checks it
                                * between steps and gives up with MSH_EINTERNAL (a server shutting down
                                * does not wait for a refresh: seconds under a sanitizer) */
} msh_fc_input;

/** What a run did, for /metrics and the logs. */
typedef struct msh_fc_stats {
    size_t segments, mapped_cells, unmapped_cells;
    double people_start, people_end, arrived, waiting_outside;
    double end_inflow;          /* persons/s coming in at walkway ends (observed, kept all along) */
    double open_people;         /* people seen walking on no walkway (open_ground.h) */
    bool net_reused;            /* the network's set-up was the last run's */
    double setup_ms, run_ms;    /* thread CPU: the network, the start and the sources; the steps and drawing */
} msh_fc_stats;

/** The cell-transmission forecast: out[i] for msh_fc_minutes[i] (out[0]: the observed cells). */
msh_rc msh_fc_ctm(const msh_fc_input *in, const msh_fc_params *p, msh_fc_grid out[MSH_FC_NH], msh_fc_stats *st,
                  msh_err *err);
/** The observed cells as a grid (every forecast's horizon 0). */
msh_rc msh_fc_observed(const msh_fc_input *in, msh_fc_grid *out, msh_err *err);
/** Persistence: every horizon is the observed state. */
msh_rc msh_fc_persistence(const msh_fc_input *in, msh_fc_grid out[MSH_FC_NH], msh_err *err);
/** Straight-line advection at each cell's mean velocity (capped at p->max_speed). */
msh_rc msh_fc_advection(const msh_fc_input *in, const msh_fc_params *p, msh_fc_grid out[MSH_FC_NH], msh_err *err);

/** Weidmann's largest specific flow, persons per metre of width per second (about 1.22). */
double msh_fc_capacity_per_m(void);

#endif
