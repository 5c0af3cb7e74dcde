/* sim_int.h: the simulator's private structures, shared by sim_data.c, sim.c and sim_emit.c.
 *
 * Design note
 * -----------
 * Frame. Everything moves in metres in a local equirectangular frame centred at 21.39 N 39.90 E
 * (x east, y north); the sites span 20 km, where the error of this frame is centimetres. Records
 * are converted back to degrees with one multiply-add per axis.
 *
 * Places. A group is always at, or walking to, one of six places: its hotel (a walkway node within
 * 1.5 km of the Kaaba), its Mina camp, its Arafat camp, its spot in Muzdalifah, the Jamarat, the
 * Haram. Camps come from camps.geojson (weighted by capacity), the other spots from the site
 * polygons of sites.geojson and the centres in docs/HAJJ-FACTS.md.
 *
 * Routes. The OSM walkway network (data/demo/walkways.geojson) covers Makkah from the Haram to the
 * Jamarat and Mina's west edge. At load we keep the streets inside the sites' bounding box (so no
 * route leaves it) and build the server's walking graph of them (layers/route: nodes where lines
 * meet, geodesic lengths), then, in its largest connected part, grow one
 * shortest-path tree (msh_graph_tree) to each of a few roots: the Haram node, the Jamarat
 * node and up to four "entry" nodes inside Mina. Every network leg has a root at one end (hotel or
 * Haram or Jamarat to a Mina entry, Jamarat to Haram, ...), so a route is read off a tree's
 * predecessor array in O(path) with no search at run time. Each root has four trees: the true
 * shortest paths and three on lengths jittered by up to 80 % per street; a group keeps one of
 * them, so a crowd spreads over parallel streets instead of queueing on a single path. Legs off the network (Mina, Arafat,
 * Muzdalifah) are straight lines between spots, Mina <-> Arafat through Muzdalifah's centre. A
 * waypoint is kept only when the distance to the destination keeps falling along it, so a group on
 * such a leg always gets closer to where it is going.
 *
 * Schedule. Each group gets an itinerary of steps at creation (sim.c, plan_group): "leave for
 * place P when the clock is past T and you have stayed at least S". Times follow HAJJ-FACTS.md in
 * Makkah time: 8th to Mina through the day, 9th to Arafat 02:00-06:00 (there by about 10:00),
 * Arafat until sunset (18:58), Muzdalifah overnight, 10th back to Mina after Fajr (some after
 * midnight), then the Jamarat at the group's stoning slot, Tawaf al-Ifadah at the Haram, back to
 * Mina; stoning on the 11th, 12th (and for 30 % the 13th) after midday; then the farewell Tawaf
 * and the hotel. Slots are the batches: a group (at most 250) is released as one batch; slots are
 * spread evenly over the day's window, outside the barred windows for the barred groups, and the
 * window is stretched if the pilgrims would exceed the Jamarat's 300,000 per hour.
 *
 * Speed. A walking group moves at f * Weidmann(rho), f a per-group factor 0.7-1.05 (the old walk
 * slower), rho the local density from a cheap grid: every walking group (and every group at the
 * Jamarat or the Haram) adds its size to the 20 m cell under its centre; rho is the 3 x 3 sum over
 * the walkable area of those cells (35 % of the ground on the street network, 60 % on the open
 * roads between the sites). The speed takes the larger of the density here and 60 m ahead, so a
 * group slows before a crowd; a group about to walk from thinner ground (under 4/m2) into a jam
 * (5.4/m2 or more ahead) waits, so queues grow backwards as they do; a group already in the jam
 * never waits, so the jam always drains. Otherwise speed never falls under
 * 0.1 m/s: crowds do not stop dead even at 10 persons/m2 (Johansson et al. 2008), and a hard
 * zero inside a jam would deadlock the model.
 *
 * Pilgrims. Only groups move. A pilgrim is its group's centre plus a fixed offset in the unit
 * disc, scaled by the group's radius (from its size and the density it is at: 0.8-1/m2 walking,
 * 0.4-2.5 at rest), plus up to 0.75 m of fresh jitter per record, so the server's density cells
 * fill the way a real group's would. Offsets are stored as floats in one array (8 bytes a
 * pilgrim); groups are contiguous runs of pilgrims, so a pilgrim's group is found by walking the
 * cursor, never by a lookup.
 *
 * Bins. The demo's assets of kind waste_bin are bins (sim_bins.c). Each starts a run at a random
 * fill level (0.05-0.85, so a few overflow at once) and fills with the crowd around it: the
 * walking people on the density grid near it and its share of the people resting at its site,
 * each simulated pilgrim standing for HAJJ_CROWD / pilgrims real ones, so a small run fills bins
 * as the real crowd would. A cleaning crew sweeping within 30 m empties it. Their readings go out
 * every 5 simulated minutes with the sensors' (the `bins` feed).
 *
 * Records. Written straight into the caller's buffer after one reserve per call: fixed-point
 * numbers by hand (micro-degrees, centi-m/s), the time string made once per stamp, no malloc, no
 * printf per record. Two random streams: the model's (plans, incidents, sensors) and the emitter's
 * (jitter), so what is emitted never changes how the crowd moves: the same seed gives the same
 * crowd at any --rate.
 */
#ifndef MSH_SIM_INT_H
#define MSH_SIM_INT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/msh_time.h"
#include "route/graph.h"
#include "sim.h"

/* The local frame. */
#define SIM_LAT0 21.39
#define SIM_LON0 39.90

/* Sites, in the order of this enum everywhere. */
enum { SITE_HARAM, SITE_JAMARAT, SITE_MINA, SITE_MUZDALIFAH, SITE_ARAFAT, SITE_N };

/* Places a group can be at. */
enum { PL_HOTEL, PL_MINA, PL_ARAFAT, PL_MUZDALIFAH, PL_JAMARAT, PL_HARAM, PL_N };

#define SIM_MAX_STEPS 16
#define SIM_MAX_ROOTS 6
#define SIM_VARIANTS 4 /* route variants per root: the shortest, and three on jittered lengths */
#define SIM_MAX_INCIDENTS 256
#define SIM_DAYS 6 /* 8th 00:00 to 14th 00:00 */

typedef struct sim_pt {
    double x, y;
} sim_pt;
_Static_assert(sizeof(sim_pt) == 2 * sizeof(double), "sim_pt is read as an xy array (msh_ring_odd)");

typedef struct sim_poly {
    sim_pt *ring; /* outer ring, closed or not */
    uint32_t n;
    double minx, miny, maxx, maxy;
    sim_pt c; /* centroid */
} sim_poly;

typedef struct sim_camp {
    sim_pt c;
    double w, h; /* bbox size */
    double capacity;
    int site;
} sim_camp;

typedef struct sim_gate {
    char id[32];
    sim_pt p;
    int site;
    int64_t capacity; /* -1: unknown */
    uint64_t in, out; /* since the last emit */
} sim_gate;

typedef struct sim_line {
    char id[32];
    char name[48];
    sim_pt *pts;
    uint32_t n;
    int site;
} sim_line;

typedef struct sim_sensor {
    char id[40];
    sim_pt p;
    int site;
    double t_off, drift_t, drift_pm, drift_db;
} sim_sensor;

/* A waste bin (an asset of kind waste_bin): its fill level, 0 empty .. 1 full (sim_bins.c). */
typedef struct sim_bin {
    char id[40];
    sim_pt p;
    int site;
    double fill;
    double factor; /* this bin's share of the waste around it, 0.6-1.4 */
} sim_bin;

/* The walkway graph (layers/route, the graph the server routes on) and one tree per root. */
typedef struct sim_net {
    msh_graph *g;  /* NULL: no network */
    uint32_t n;    /* its nodes; 0: no network, every leg straight */
    uint32_t nroots;
    uint32_t root[SIM_MAX_ROOTS];
    uint32_t *pred[SIM_MAX_ROOTS][SIM_VARIANTS]; /* the edge toward the root; MSH_GRAPH_NO_EDGE: root or unreached */
    uint32_t haram, jamarat;      /* root nodes */
    uint32_t nentry;              /* entries are roots 2 .. 2 + nentry - 1 */
    uint32_t *hotels;
    uint32_t nhotels;
    msh_buf path;                 /* lon/lat of the last path read off a tree */
} sim_net;

typedef struct sim_step {
    uint8_t place;
    int32_t depart_at; /* simulated seconds since 8th 00:00 */
    int32_t stay;      /* minimum seconds at the previous place */
} sim_step;

typedef struct sim_group {
    uint32_t first, size;
    uint32_t hotel; /* network node, or UINT32_MAX */
    sim_pt spot[PL_N];
    uint16_t mina_entry; /* root index of its Mina entry */
    uint8_t variant;     /* which of the route variants it walks */
    uint8_t place;       /* where it is, or was last */
    uint8_t phase;
    uint8_t walking;
    uint8_t step, nsteps;
    uint8_t barred, weak, leaves_12;
    float factor;        /* walking speed factor */
    double x, y;
    double speed, heading, rho;
    double arrived_at;
    sim_step steps[SIM_MAX_STEPS];
    /* current route */
    sim_pt *route;
    uint32_t rn, rcap, seg;
    double seg_pos;
    uint8_t route_net; /* on the street network (denser ground) */
    /* emit cache, refreshed after each step */
    double clon, clat, rlon, rlat;
} sim_group;

typedef struct sim_crew {
    int kind; /* 0 cleaning, 1 emergency */
    int status;
    sim_pt p, base;
    const sim_line *line; /* cleaning route */
    uint32_t seg;
    double seg_pos;
    int dir;
    int incident; /* slot, -1 */
    char name[96];
} sim_crew;

enum { CREW_CLEANING, CREW_STANDBY, CREW_EN_ROUTE, CREW_ON_SCENE, CREW_RETURNING };
enum { INC_REPORTED, INC_DISPATCHED, INC_ON_SCENE, INC_RESOLVED };
enum { KIND_MEDICAL, KIND_LOST, KIND_FIRE, KIND_CROWDING };

typedef struct sim_incident {
    int used;
    uint64_t num;
    int kind, severity, status;
    sim_pt p;
    double next_at; /* when the next lifecycle change is due */
    int crew;       /* -1 */
    char desc[96];
} sim_incident;

typedef struct sim_event {
    uint64_t num;
    uint8_t kind, severity, status;
    sim_pt p;
    char desc[96];
} sim_event;

typedef struct sim_rng {
    uint64_t s;
} sim_rng;

/* One group setting out on the walkway network (sim_plan.c): between network nodes a and b, over
 * the model step [t, t + dt) (simulated seconds since 8th 00:00). */
typedef struct sim_departure {
    uint32_t group;
    uint8_t from, to; /* places */
    uint32_t a, b;
    double t, dt;
    double wait_lon, wait_lat, wait_r; /* where the group rests before it leaves, and its spread (m) */
    double stay;                       /* how long it rests at the destination (s) */
} sim_departure;

#define SIM_MAX_DEPARTURES 100000 /* as many groups as a forecast schedule takes (MSH_SCHED_MAX) */

struct msh_sim {
    msh_sim_opts o;
    char run_id[32];
    double kx, ky; /* metres per degree */
    double t, t_start;
    int warming;
    uint32_t loops;
    sim_rng rng, erng;

    sim_poly site[SITE_N];
    double site_bbox[4]; /* degrees */
    sim_camp *camps;
    uint32_t ncamps;
    double *camp_cum[2]; /* cumulative capacity: Mina, Arafat */
    uint32_t *camp_idx[2];
    uint32_t ncamp_site[2];
    sim_gate *gates;
    uint32_t ngates;
    sim_pt *clinics;
    uint32_t nclinics;
    sim_line *lines;
    uint32_t nlines;
    sim_sensor *sensors;
    uint32_t nsensors;
    double next_sensor_t;
    sim_bin *bins;
    uint32_t nbins;
    uint32_t bins_at[SITE_N]; /* bins per site */
    double next_bin_t;
    sim_rng brng; /* the bins' own stream: they never change how the crowd moves */
    sim_net net;

    /* pilgrims and groups */
    uint32_t np, ng;
    float *ox, *oy;
    sim_group *g;
    uint32_t cur_p, cur_g;
    int id_digits, gid_digits;

    /* density grid */
    double gx0, gy0, cell;
    uint32_t gw, gh;
    float *grid;
    uint32_t *touched;
    uint32_t ntouched;
    double max_rho;
    double site_pop[SITE_N];

    sim_crew *crews;
    uint32_t ncrews;
    sim_incident inc[SIM_MAX_INCIDENTS];
    uint64_t inc_total;
    sim_event *ev;
    uint32_t nev;
    size_t evcap;

    /* the departures log (sim_plan.c): kept only after msh_sim_log_departures */
    int log_departures;
    sim_departure *dep;
    size_t ndep, depcap;
    uint64_t dep_off_net, dep_dropped;

    char stamp[MSH_TIME_ISO_CAP]; /* "2026-05-26T08:00:00Z" */
    size_t stamp_len;
};

/* --- random numbers: splitmix64, enough for a simulation and trivially reproducible --- */
static inline uint64_t sim_rand(sim_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* [0, 1) */
static inline double sim_u(sim_rng *r) { return (double)(sim_rand(r) >> 11) * (1.0 / 9007199254740992.0); }
static inline double sim_uniform(sim_rng *r, double a, double b) { return a + (b - a) * sim_u(r); }
static inline uint32_t sim_below(sim_rng *r, uint32_t n) { return n ? (uint32_t)(sim_u(r) * n) % n : 0; }

static inline double sim_dist(sim_pt a, sim_pt b) { return hypot(a.x - b.x, a.y - b.y); }

/* Frame conversions. */
static inline sim_pt sim_to_xy(const msh_sim *s, double lon, double lat)
{
    sim_pt p = {(lon - SIM_LON0) * s->kx, (lat - SIM_LAT0) * s->ky};
    return p;
}
static inline double sim_lon(const msh_sim *s, double x) { return SIM_LON0 + x / s->kx; }
static inline double sim_lat(const msh_sim *s, double y) { return SIM_LAT0 + y / s->ky; }

/* sim_data.c */
msh_rc sim_load(msh_sim *s, msh_err *err);
void sim_data_free(msh_sim *s);

/* sim.c */
/** The walking people (groups on the density grid) in the 3 x 3 cells around p. */
double sim_people_near(const msh_sim *s, sim_pt p);

/* sim_bins.c */
/** Each bin's fill level at the start of a run: random, 0.05 to 0.85 (a few already overflowing). */
void sim_bins_reset(msh_sim *s);
/** Fill the bins for dt seconds from the crowd around them; a cleaning crew passing empties one. */
void sim_bins_step(msh_sim *s, double dt);
int sim_poly_contains(const sim_poly *p, sim_pt q);
/** A random point inside the site's polygon (its centroid after 200 misses). */
sim_pt sim_poly_random(const sim_poly *p, sim_rng *r);
/** Append the path between network nodes a and b to *route (one of them must be a root):
 * 0, -1 when they are not joined, -2 when out of memory. */
int sim_net_path(msh_sim *s, uint32_t a, uint32_t b, sim_group *g);
/** Where network node `node` is, in the local frame. */
sim_pt sim_net_pos(const msh_sim *s, uint32_t node);

/* sim.c */
msh_rc sim_route_push(sim_group *g, sim_pt p);
/** The network node a group joins the walkways at to leave or reach `place`; UINT32_MAX when it
 * walks there across open ground (Arafat, Muzdalifah) or there is no network. */
uint32_t sim_attach(const msh_sim *s, const sim_group *g, int place);

/* sim_plan.c */
/** Note that group gi sets out now (this step of dt seconds) for `to` (the departures log, when kept). */
void sim_plan_departure(msh_sim *s, uint32_t gi, int to, double dt, double radius_m, double stay_s);

#endif
