/* kpi_int.h: the KPI object's insides, shared by the kpi*.c files (private to layers/kpi). */
/*
 * The parts:
 *   kpi.c            the indicator table, the object's and the results' lifecycle;
 *   kpi_static.c     the static side, prepared once per layer version: zones (and the bucket grid
 *                    that finds them), camps, assets, cleaning routes cut into pieces;
 *   kpi_crews.c      crews sweeping the route pieces, and the swept times across restarts;
 *   kpi_integrate.c  indicators measured over time (spans of LoS E/F and heat per zone);
 *   kpi_live.c       the copy of the live cells and items taken under the read lock;
 *   kpi_coverage.c   network coverage of the camps (UN SDG 11.2.1), cached;
 *   kpi_compute.c    one compute: the accumulators per zone, the values, the composite;
 *   kpi_json.c       a zone's values as JSON;
 *   kpi_sites.c      sites' occupancy from their gates' counts.
 */
#ifndef MSH_KPI_INT_H
#define MSH_KPI_INT_H

#include "kpi.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/msh_constants.h"
#include "core/msh_grow.h"
#include "core/msh_tilemath.h"
#include "live/envlevels.h"
#include "workflow/cleaning_tasks.h"

#define BASE_LEVEL 22
struct msh_kpi_result;
/** The sites of res from k's gates and their counts (under k's lock). */
msh_rc kpi_sites(msh_kpi *k, struct msh_kpi_result *res, int64_t now_ms, msh_err *err); /* the live density cells counted (about 8.9 m) */

typedef struct {
    double *xy;       /* world units, every ring */
    uint32_t *parts;  /* ring lengths (flag bits cleared) */
    uint32_t nparts;
    double bb[4];
    char id[65], name[129];
    uint64_t fid;
    double capacity;  /* population_capacity (or capacity) of the zone; 0: not given */
} zone_t;

typedef struct {
    double wx, wy;    /* centroid, world units */
    double lon, lat;  /* where it meets the network: its entrance when the layer gives one, else the centroid */
    double capacity;
    int zone;         /* index or -1 */
    char id[65];      /* camp_id, or the feature id */
} camp_t;

typedef struct {
    double lon, lat;
    int kind;         /* 0 toilet, 1 water_point, 2 clinic, -1 other */
} svc_t;

typedef struct {
    char id[65];
    int zone;
    double capacity;
    char site[33];    /* the asset's `site` ("" none) */
} gate_t;

typedef struct {
    double wx, wy;    /* midpoint */
    double ax, ay, bx, by; /* its ends, world units */
    double len_m;
    int zone;
    int64_t last_ms;  /* last time an assigned crew passed, 0 never */
    uint64_t fid;     /* the route feature and the piece's number along it */
    uint32_t idx;
    int32_t crew;     /* who swept it last: index into k->crews, -1 never */
    uint64_t task;    /* for which task (its fid), 0 never */
    uint64_t gkey;    /* its name across restarts and re-imports: a hash of its two ends (kpi_piece_key) */
    bool dirty;       /* last_ms changed since msh_kpi_swept_changes last saw it */
} piece_t;

typedef struct {
    uint64_t gkey;
    int64_t last_ms;
    int32_t crew;
    uint64_t task;
} piece_mark;

typedef struct {
    double ax, ay, bx, by; /* world units */
    int64_t t_ms;
    char crew[65];         /* the crew's id */
} crew_move;

typedef struct {
    uint64_t fid;
    int32_t crew;          /* index into k->crews, -1: none */
    int64_t shift_start, shift_end, due; /* ms, 0: not given */
    int status;            /* index into msh_ct_statuses, -1 outside it */
    int64_t stored;        /* the progress the store holds, -1 null */
    uint64_t route;        /* route fid, 0: an area task */
    double *ring;          /* an area task's rings (world units), parts in ring_parts */
    uint32_t *ring_parts, nring_parts;
    double bb[4];
    uint32_t *pieces;      /* indices into k->pieces it covers */
    size_t npieces;
    double len_m;
} task_t;

typedef struct {
    int64_t t0, t1;
    uint8_t what;     /* bit 0: LoS E or F; bit 1: above the heat threshold; bit 1 + L: heat index at NWS level L (1..4) */
} span;

typedef struct {
    char id[65];
    int64_t last_t;
    uint8_t last_state;
    bool has_last;
    span *v;
    size_t n, cap;
} tracker;

struct msh_kpi {
    msh_kpi_config cfg;
    pthread_mutex_t lock;
    /* zones */
    msh_layer *zones_layer;
    uint64_t zones_ver;
    zone_t *zones;
    size_t nzones;
    double gbb[4];
    uint32_t *gstart, *gitems; /* bucket grid: CSR of zone indices */
    /* camps */
    uint64_t camps_ver;
    const msh_layer *camps_layer;
    camp_t *camps;
    size_t ncamps;
    /* assets */
    uint64_t assets_ver;
    const msh_layer *assets_layer;
    svc_t *svc;
    size_t nsvc;
    gate_t *gates;
    size_t ngates;
    struct msh_gate_counts *gate_counts; /* sites (kpi_sites.c); set once before computes */
    double *asset_n, *asset_working; /* per zone, index nzones = overall */
    /* coverage cache */
    uint64_t cov_key;
    uint8_t *camp_cov; /* per camp: bit k covered for kind k */
    bool cov_valid;
    /* cleaning */
    uint64_t routes_ver;
    const msh_layer *routes_layer;
    piece_t *pieces;
    size_t npieces;
    piece_mark *pend;  /* swept times waiting for the pieces they name (by gkey) */
    size_t npend, cappend;
    bool resave;       /* the pieces were cut again: the saved swept times are all written anew */
    uint64_t sweep_ver; /* bumped whenever a piece is swept or the pieces change (cleaning_progress) */
    char (*crews)[65]; /* crew ids met in tasks and sweeps, by index */
    size_t ncrews, capcrews;
    /* cleaning tasks */
    const msh_layer *tasks_layer;
    uint64_t tasks_ver;
    bool tasks_stale;  /* the pieces changed: the tasks' pieces are found again */
    task_t *tasks;
    size_t ntasks;
    pthread_mutex_t q_lock;
    crew_move *queue;
    size_t nq, capq;
    /* time integration */
    tracker *tr;
    size_t ntr, captr;
    msh_kpi_result *latest;
};

/* Metres per world unit at world y. */
static inline double kpi_scale_at(double wy)
{
    double lon, lat;
    msh_world_to_lonlat(0.5, wy, &lon, &lat);
    return MSH_EARTH_CIRCUMFERENCE * cos(lat * M_PI / 180.0);
}

/* Milliseconds on the monotonic clock. */
static inline double kpi_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The live state as copied for one compute. */
typedef struct {
    uint32_t cx, cy, count;
} cell_rec;

typedef struct {
    cell_rec *cells;
    size_t ncells, capcells;
    msh_live_item *items[4]; /* incidents, gates, sensors, bins */
    size_t nitems[4], capitems[4];
    int which;
    int fail;
} live_copy;

/* kpi_static.c */
/** Prepare the static side from the catalog's layers (service_zones, camps, assets, cleaning_routes). */
msh_rc kpi_prepare(msh_kpi *k, const msh_catalog *cat, msh_err *err);
/** The zone containing world point (x, y), or -1. */
int kpi_zone_at(const msh_kpi *k, double x, double y);
void kpi_zones_clear(msh_kpi *k);

/* kpi_crews.c */
/** Keep a swept time for the piece named `gkey`, to give back when those pieces are cut. */
void kpi_push_mark(msh_kpi *k, uint64_t gkey, int64_t last_ms, int32_t crew, uint64_t task);
/** The name of a piece across re-imports: a hash of its two ends (order-free, 2^-32 world units). */
uint64_t kpi_piece_key(double ax, double ay, double bx, double by);

/* kpi_tasks.c */
/** The index of crew `id` (length n), added when new; -1 when out of memory. */
int32_t kpi_crew_intern(msh_kpi *k, const char *id, size_t n);
/** The index of crew `id`, or -1 when no task or sweep named it. */
int32_t kpi_crew_find(const msh_kpi *k, const char *id, size_t n);
/** Read the cleaning tasks from `tl` (NULL: none) when its version or the pieces changed. */
msh_rc kpi_prepare_tasks(msh_kpi *k, const msh_layer *tl, msh_err *err);
/** Credit the move to the pieces of the active tasks of its crew. */
void kpi_credit_move(msh_kpi *k, const crew_move *c);
/** A task's swept length (its pieces swept for it, within its shift). */
double kpi_task_swept_m(const msh_kpi *k, const task_t *t);
void kpi_tasks_clear(msh_kpi *k);
/** The tasks as they stand (malloc'd, sorted by fid), or -1 when out of memory. */
int kpi_tasks_out(const msh_kpi *k, msh_kpi_task **out, size_t *n);
/** Give the pieces of the routes now prepared the swept times kept for them. */
void kpi_apply_marks(msh_kpi *k);
/** Apply the queued crew moves to the pieces. */
void kpi_apply_moves(msh_kpi *k);

/* kpi_integrate.c */
/** The tracker of zone `id` ("" overall), made when new; NULL when out of memory. */
tracker *kpi_tracker_get(msh_kpi *k, const char *id);
/** msh_kpi_observe with k->lock held. */
void kpi_observe_locked(msh_kpi *k, const char *id, int64_t t_ms, double peak, double temp, double heat_index);
/** Seconds in the window ending at now with state bit `bit`. */
double kpi_tracked_s(const msh_kpi *k, const tracker *t, int bit, int64_t now_ms);

/* kpi_live.c */
/** Copy the base cells and the incidents, gates and sensors of `live` under its read lock; the
 * time waiting for the lock and copying go to *wait_ms, *copy_ms. -1 when out of memory. */
int kpi_live_take(msh_live *live, live_copy *lc, double *wait_ms, double *copy_ms);
void kpi_live_copy_free(live_copy *lc);

/* kpi_coverage.c */
/** Which camps each kind of working asset covers (k->camp_cov), unless cached for these versions. */
msh_rc kpi_coverage(msh_kpi *k, struct msh_graph *g, msh_err *err);

#endif
