/* kpi.h: the officials' key performance indicators, per service zone and overall.
 *
 * Design (formulas, units and sources in docs/KPIS.md):
 * - Every indicator is one double in a fixed table (msh_kpi_ind[]): a group ("crowd",
 *   "coverage", "emergency", "gates", "environment", "assets", "cleaning", "index") and a
 *   name. A zone's values are an array indexed by msh_kpi_id; NAN means "not measured"
 *   (no people, no camps, no sensors ...) and is written as null. The crowd indicators go
 *   through k-anonymity (live/kanon.h): a zone of 1 to k-1 people shows its crowd values as
 *   null with crowd.suppressed true (docs/KPIS.md). The same table names the
 *   JSON members, the fields of the kpi_zones layer and the history documents, so they can
 *   never disagree.
 * - msh_kpi_compute() is pure of HTTP and of SQLite: it reads the static layers of a catalog
 *   snapshot (service_zones, camps, assets, cleaning_routes), the live state (density cells
 *   at the 8.9 m base grid, incidents, gates, sensors) and the walking-network graph, and
 *   returns an immutable, reference-counted result.
 * - Indicators measured over time (minutes at Fruin LoS E/F, hours above the heat threshold)
 *   integrate the observations: each compute is an observation, the time until the next one
 *   is credited to the state seen (a gap longer than max_gap_s credits nothing: the server
 *   was not looking). After a restart the recorded history is replayed (msh_kpi_observe).
 * - Cleaning coverage needs where crews went, not only where they are: crew moves are queued
 *   by msh_kpi_crew_moved() (cheap, from the live observer) and applied at the next compute
 *   to the cleaning routes cut into pieces of at most 10 m; the swept times are saved with the
 *   history and given back after a restart (msh_kpi_swept_changes, msh_kpi_restore_swept).
 * - Network coverage (UN SDG 11.2.1) depends only on static data and the graph: it is cached
 *   by the versions of the assets, camps and walkways.
 * Thread safety: compute, observe and set calls are serialised by an internal lock;
 * crew_moved takes only a small queue lock (it runs under the live write lock).
 */
#ifndef MSH_KPI_H
#define MSH_KPI_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "core/msh_buf.h"
#include "core/msh_err.h"
#include "live/live.h"

struct msh_graph;

typedef enum {
    /* crowd */
    MSH_KPI_PEOPLE = 0, MSH_KPI_SUPPRESSED, MSH_KPI_PEAK_DENSITY, MSH_KPI_MINUTES_LOS_EF,
    MSH_KPI_SHARE_LOS_A, MSH_KPI_SHARE_LOS_B, MSH_KPI_SHARE_LOS_C, MSH_KPI_SHARE_LOS_D, MSH_KPI_SHARE_LOS_E,
    MSH_KPI_SHARE_LOS_F, MSH_KPI_ZONE_CAPACITY, MSH_KPI_OCCUPANCY,
    /* coverage (UN SDG 11.2.1) */
    MSH_KPI_CAMPS, MSH_KPI_CAMP_CAPACITY,
    MSH_KPI_TOILET_CAMPS, MSH_KPI_TOILET_CAPACITY, MSH_KPI_WATER_CAMPS, MSH_KPI_WATER_CAPACITY,
    MSH_KPI_CLINIC_CAMPS, MSH_KPI_CLINIC_CAPACITY,
    /* emergency (ISO 37120 10.5) */
    MSH_KPI_INCIDENTS, MSH_KPI_OPEN, MSH_KPI_SEV_INFO, MSH_KPI_SEV_LOW, MSH_KPI_SEV_MEDIUM, MSH_KPI_SEV_HIGH,
    MSH_KPI_SEV_CRITICAL, MSH_KPI_ON_SCENE_P50, MSH_KPI_ON_SCENE_P90, MSH_KPI_RESOLVED_P50, MSH_KPI_RESOLVED_P90,
    MSH_KPI_WITHIN_TARGET,
    /* gates */
    MSH_KPI_GATES, MSH_KPI_FLOW, MSH_KPI_GATE_CAPACITY, MSH_KPI_UTILISATION, MSH_KPI_OVER_CAPACITY,
    /* environment */
    MSH_KPI_SENSORS, MSH_KPI_TEMP_MAX, MSH_KPI_HOURS_HEAT, MSH_KPI_HEAT_INDEX_MAX, MSH_KPI_HOURS_CAUTION,
    MSH_KPI_HOURS_EXTREME_CAUTION, MSH_KPI_HOURS_DANGER, MSH_KPI_HOURS_EXTREME_DANGER, MSH_KPI_PM25_MAX,
    MSH_KPI_SENSORS_STALE,
    /* assets */
    MSH_KPI_ASSETS, MSH_KPI_WORKING, MSH_KPI_SHARE_WORKING,
    /* cleaning */
    MSH_KPI_ROUTE_M, MSH_KPI_COVERED_M, MSH_KPI_SHARE_COVERED, MSH_KPI_BINS, MSH_KPI_BINS_OVERFLOWING,
    MSH_KPI_BINS_STALE,
    /* index: the sub-scores (0..1) and the composite (0..100) */
    MSH_KPI_SCORE_CROWD, MSH_KPI_SCORE_COVERAGE, MSH_KPI_SCORE_RESPONSE, MSH_KPI_SCORE_GATES,
    MSH_KPI_SCORE_ENVIRONMENT, MSH_KPI_SCORE_ASSETS, MSH_KPI_SCORE_CLEANING, MSH_KPI_COMPOSITE,
    MSH_KPI_N
} msh_kpi_id;

/** The seven components of the composite index, in the order of msh_kpi_config.weight. */
enum { MSH_KPI_W_CROWD, MSH_KPI_W_COVERAGE, MSH_KPI_W_RESPONSE, MSH_KPI_W_GATES, MSH_KPI_W_ENVIRONMENT,
       MSH_KPI_W_ASSETS, MSH_KPI_W_CLEANING, MSH_KPI_NW };

typedef struct msh_kpi_ind {
    const char *group; /* JSON object the value sits in */
    const char *name;  /* member name; the layer field and history key is group_name */
    const char *unit;
} msh_kpi_ind;
extern const msh_kpi_ind msh_kpi_inds[MSH_KPI_N];
/** The names of the composite's components ("crowd", "coverage", ...), as in the configuration. */
extern const char *const msh_kpi_weight_names[MSH_KPI_NW];

typedef struct msh_kpi_config {
    double window_h;          /* incidents, minutes at E/F and hours of heat count over this window (24) */
    int interval_s;           /* history is recorded this often (60) */
    double max_gap_s;         /* observations further apart credit no time (0: 3 x interval_s) */
    double toilet_m, water_m, clinic_m; /* walking distance along the network (300, 300, 500) */
    double snap_m;            /* a camp or asset further than this from the network is not on it (150) */
    double heat_c;            /* heat-stress threshold of the air temperature, deg C (40) */
    double cleaning_h;        /* a route piece counts as cleaned for this long after a crew passed (6) */
    double cleaning_buffer_m; /* a crew within this of a piece cleans it (15) */
    double response_target_s; /* on-scene target for the response score (480) */
    double history_days;      /* recorded KPIs older than this are deleted (60; 0 keeps everything) */
    int k_anon;               /* k-anonymity of the crowd indicators (5; the server's --k-anon, not in the JSON) */
    double weight[MSH_KPI_NW];
} msh_kpi_config;

void msh_kpi_config_default(msh_kpi_config *c);
/**
 * Parse a JSON configuration (docs/KPIS.md) over the defaults already in *c. Unknown keys,
 * wrong types and values out of range fail with MSH_EINVAL and a message naming the key.
 */
msh_rc msh_kpi_config_parse(const char *text, size_t len, msh_kpi_config *c, msh_err *err);

/** One zone's values (or the overall values: id ""). */
typedef struct msh_kpi_zone {
    char id[65];
    char name[129];
    uint64_t fid;             /* feature id in service_zones */
    double v[MSH_KPI_N];
} msh_kpi_zone;

/** An immutable result; hold a reference while reading it. */
typedef struct msh_kpi_result {
    atomic_int refs;
    int64_t t_ms;             /* when it was computed (the `now` given) */
    double compute_ms;        /* how long the computation took, all told */
    double live_wait_ms;      /* of which waiting for the live read lock (a writer held it) */
    double live_copy_ms;      /* of which copying the cells and items under the read lock */
    size_t nzones;
    msh_kpi_zone *zones;      /* sorted by fid */
    msh_kpi_zone overall;
    msh_layer *zones_layer;   /* the service_zones layer it was computed over (a reference), or NULL */
    uint64_t hash;            /* of every value: equal hashes, equal results */
    bool graph;               /* the walking network was available (coverage measured) */
    struct msh_kpi_gap *gaps; /* camps lacking a service within walking distance, in camp order */
    size_t ngaps;
    struct msh_kpi_task *tasks; /* the cleaning tasks, sorted by fid */
    size_t ntasks;
    struct msh_kpi_site *sites; /* people on each site from its gates' counts (kpi_sites.c), by name */
    size_t nsites;
} msh_kpi_result;
/** A site's occupancy from its gates: in minus out since `since_ms` (the site's reset, else the
 * start of the day in Makkah, UTC+3), 5 minutes at a time, never below zero. */
typedef struct msh_kpi_site {
    char site[33];
    int64_t since_ms;
    int64_t people, in, out;
    uint32_t gates;       /* gates of the site (assets of kind gate naming it) */
    bool clamped;         /* more left than entered at some point: the count was held at zero */
} msh_kpi_site;
/** The service companies ranked by their zones' KPIs (kpi_companies.c), as the members
 * "ranked_by":..,"companies":[..],"unassigned":[..] of an object, appended to b. */
msh_rc msh_kpi_companies_json(const msh_kpi_result *r, msh_buf *b);
/** One site as a JSON object; the result's sites as a JSON array. */
msh_rc msh_kpi_site_json(const msh_kpi_site *s, msh_buf *b);
msh_rc msh_kpi_sites_json(const msh_kpi_result *r, msh_buf *b);

/** A camp without a working toilet, water point or clinic within walking distance (coverage). */
typedef struct msh_kpi_gap {
    char camp[65];    /* its camp_id (its feature id when it has none) */
    int zone;         /* index into the result's zones, -1 outside every zone */
    uint8_t missing;  /* bit 0 toilet, 1 water_point, 2 clinic */
} msh_kpi_gap;

/** The camps of zone `zone` (an index; -1: every camp) lacking each service, as a JSON object
 * {"toilet":[ids],"water_point":[ids],"clinic":[ids]}; `null` when coverage was not measured. */
msh_rc msh_kpi_gaps_json(const msh_kpi_result *r, int zone, msh_buf *b);

msh_kpi_result *msh_kpi_result_retain(msh_kpi_result *r);
void msh_kpi_result_release(msh_kpi_result *r);
/** The zone with id `id` (length n), or NULL. */
const msh_kpi_zone *msh_kpi_result_zone(const msh_kpi_result *r, const char *id, size_t n);
/** Fruin LoS letter of a zone's peak density, or 0 when not measured. */
char msh_kpi_peak_los(const msh_kpi_zone *z);

/** A value as published (JSON and tiles alike): whole numbers as they are, others to 6 significant digits. */
double msh_kpi_published(double v);

/** The values of one zone as a JSON object of groups ({"crowd":{...},...}), appended to b. */
msh_rc msh_kpi_zone_json(const msh_kpi_zone *z, msh_buf *b);

typedef struct msh_kpi msh_kpi;
struct msh_gate_counts;
/** The gates' 5-minute counts the sites are counted from (live/gate_counts.h); NULL: no sites. */
void msh_kpi_set_gate_counts(msh_kpi *k, struct msh_gate_counts *gc);
/** Count `site` from now (an operator's reset, kept in the store). MSH_ENOTFOUND: no gate names it
 * (the gates are those of the last compute). */
msh_rc msh_kpi_site_reset(msh_kpi *k, const char *site, int64_t now_ms, msh_err *err);

msh_rc msh_kpi_new(const msh_kpi_config *c, msh_kpi **out, msh_err *err);
void msh_kpi_free(msh_kpi *k);
const msh_kpi_config *msh_kpi_get_config(const msh_kpi *k);

/**
 * Compute every indicator now. `cat` gives the static layers by name (any may be missing),
 * `live` may be NULL (no live indicators), `g` may be NULL (coverage not measured). Takes
 * the live read lock while it copies what it needs. The result is also kept as the latest.
 */
msh_rc msh_kpi_compute(msh_kpi *k, const msh_catalog *cat, msh_live *live, struct msh_graph *g, int64_t now_ms,
                       msh_kpi_result **out, msh_err *err);
/**
 * The latest result when it is younger than max_age_ms at now_ms, else a new compute (as
 * msh_kpi_compute): concurrent callers wait for one compute instead of each making their own.
 */
msh_rc msh_kpi_fresh(msh_kpi *k, const msh_catalog *cat, msh_live *live, struct msh_graph *g, int64_t now_ms,
                     int64_t max_age_ms, msh_kpi_result **out, msh_err *err);
/** The latest result (a reference), or NULL before the first compute. */
msh_kpi_result *msh_kpi_latest(msh_kpi *k);

/**
 * Credit time to the time-integrated indicators of zone `id` ("" overall): an observation at
 * t_ms of its peak density and highest temperature (NAN: unknown). Observations must come
 * in time order per zone; msh_kpi_compute makes one per zone itself.
 */
void msh_kpi_observe(msh_kpi *k, const char *id, int64_t t_ms, double peak_density, double temp_max,
                     double heat_index_max);

/** A crew moved (from the live observer: `prev` NULL for a new crew). Only cleaning crews count. */
void msh_kpi_crew_moved(msh_kpi *k, const msh_live_item *it, const msh_feed_rec *prev);
/** Crew `crew` swept from (lon0,lat0) to (lon1,lat1) arriving at t_ms (the same queue, for tests and replays). */
void msh_kpi_crew_path(msh_kpi *k, const char *crew, double lon0, double lat0, double lon1, double lat1,
                       int64_t t_ms);

/**
 * Cleaning coverage across restarts and re-imports. msh_kpi_swept_changes calls fn for every route
 * piece swept since its last call (the piece's name: a hash of its two ends; when it was last
 * swept, by which crew, for which task), stopping early if fn returns non-zero (those pieces are
 * offered again next time); returns how many were taken. *all is true when the pieces were cut
 * again since the last call and every swept piece was offered: the saved rows are to be replaced.
 * msh_kpi_restore_swept gives such a record back (after a restart); it applies at the next compute
 * to the piece of that name, if the routes still have it.
 */
typedef int (*msh_kpi_swept_fn)(void *ud, uint64_t gkey, int64_t last_ms, const char *crew, uint64_t task);
size_t msh_kpi_swept_changes(msh_kpi *k, msh_kpi_swept_fn fn, void *ud, bool *all);
void msh_kpi_restore_swept(msh_kpi *k, uint64_t gkey, int64_t last_ms, const char *crew, uint64_t task);

/** A cleaning task as the sweeps left it (layers/kpi/kpi_tasks.c, docs/KPIS.md "cleaning tasks"). */
typedef struct msh_kpi_task {
    uint64_t fid;
    char crew[65];
    int status;        /* index into msh_ct_statuses (workflow/cleaning_tasks.h), -1 outside it */
    int64_t due;       /* ms, 0 when not given */
    int64_t stored;    /* the progress the store holds, -1 when null */
    int progress;      /* 0-100: floor(100 x swept_m / len_m), 0 for a task without pieces */
    double len_m, swept_m;
} msh_kpi_task;

/**
 * Apply the queued crew moves to the pieces of the routes and tasks of `cat` now, and copy the
 * tasks out (*out malloc'd, sorted by fid; free it). The same as a compute does, without the rest.
 */
msh_rc msh_kpi_tasks(msh_kpi *k, const msh_catalog *cat, msh_kpi_task **out, size_t *n, msh_err *err);

/** The cleaning task summary of a result as JSON (docs/KPIS.md): counts by status, overdue at `now_ms`,
 * mean progress, per crew, and each task. */
msh_rc msh_kpi_tasks_json(const msh_kpi_result *r, int64_t now_ms, msh_buf *b);

/** A route piece as the sweeps left it (for the cleaning_progress layer). */
typedef struct msh_kpi_piece {
    double ax, ay, bx, by;  /* world units */
    int64_t last_ms;        /* 0: never swept */
    const char *crew;       /* "" when never swept */
    uint64_t task, route;   /* the task it was swept for (0 never), its route's feature id */
    uint64_t id;            /* its index + 1 among the pieces now cut */
} msh_kpi_piece;
typedef int (*msh_kpi_piece_fn)(void *ud, const msh_kpi_piece *p);

/**
 * Call fn for every piece whose box meets `box` (world units), in piece order, under the engine's
 * lock (fn must not call the engine); stops when fn returns non-zero (returned). *version gets the
 * sweep version: it changes whenever a piece is swept or the pieces are cut again.
 */
int msh_kpi_pieces(msh_kpi *k, const double box[4], msh_kpi_piece_fn fn, void *ud, uint64_t *version);
/** The sweep version alone. */
uint64_t msh_kpi_sweep_version(msh_kpi *k);

/** Percentile p (0..1) of n sorted values by linear interpolation between ranks (Hyndman-Fan 7); NAN if n = 0. */
double msh_kpi_percentile(const double *sorted, size_t n, double p);

#endif
