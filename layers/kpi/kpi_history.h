/* kpi_history.h: KPIs recorded over time in the store, and the /kpi/history query.
 *
 * Design: one row per zone (and one for the whole service, zone_id "") per recording, in
 * `msh_kpi_history` (t_ms, zone_id, peak_density, temperature_max, composite, doc), where doc
 * is the zone's indicators as the JSON object /kpi/zones/{id} answers. The two numbers that
 * the time-integrated indicators need are columns of their own, so a restarted server replays
 * them into msh_kpi (minutes at LoS E/F and hours of heat carry over). The module owns one
 * SQLite connection guarded by a mutex: it is written once a minute and read by the rare
 * history request, never on the tile path.
 */
#ifndef MSH_KPI_HISTORY_H
#define MSH_KPI_HISTORY_H

#include <stdint.h>

#include "core/msh_buf.h"
#include "core/msh_err.h"
#include "kpi.h"

typedef struct msh_kpi_history msh_kpi_history;

/** Open the store at `db_path` on a new connection and create the table if missing. */
msh_rc msh_kpi_history_open(const char *db_path, msh_kpi_history **out, msh_err *err);
void msh_kpi_history_close(msh_kpi_history *h);

/** Record every zone of `r` and the overall values at r->t_ms (a second record at the same time replaces it). */
msh_rc msh_kpi_history_append(msh_kpi_history *h, const msh_kpi_result *r, msh_err *err);

/** Delete the records older than before_ms; *deleted gets how many rows went. */
/**
 * Suppress, in place, the crowd values of recorded zones with 1 to k_anon - 1 people (records made
 * by a build before k-anonymity, or with a smaller --k-anon): people, peak density, peak LoS and
 * shares become null and crowd.suppressed true, as a compute under k would have written them.
 * *changed gets how many records were rewritten.
 */
/** True when a record at or after `from_ms` is in the store (by any node of a cluster). */
bool msh_kpi_history_has_since(msh_kpi_history *h, int64_t from_ms);
msh_rc msh_kpi_history_suppress(msh_kpi_history *h, int k_anon, size_t *changed, msh_err *err);
msh_rc msh_kpi_history_prune(msh_kpi_history *h, int64_t before_ms, size_t *deleted, msh_err *err);

/** Feed the recorded observations in [from_ms, to_ms] into `k` in time order (after a restart). */
msh_rc msh_kpi_history_replay(msh_kpi_history *h, msh_kpi *k, int64_t from_ms, int64_t to_ms, size_t *rows,
                              msh_err *err);

/**
 * Cleaning coverage across restarts: save the route pieces swept since the last save
 * (msh_kpi_swept_changes) into `msh_cleaning_swept` (by the piece's geometry; every row written anew
 * when the pieces were cut again, so the rows of pieces gone are dropped); load
 * them back into a new engine (msh_kpi_restore_swept). *rows gets how many were written or read.
 */
msh_rc msh_kpi_history_save_swept(msh_kpi_history *h, msh_kpi *k, size_t *rows, msh_err *err);
msh_rc msh_kpi_history_load_swept(msh_kpi_history *h, msh_kpi *k, size_t *rows, msh_err *err);

/** Query parameters of /kpi/history, checked. */
typedef struct msh_kpi_hq {
    int64_t from_ms, to_ms, step_ms;
} msh_kpi_hq;

#define MSH_KPI_HISTORY_MAX_POINTS 10000

/**
 * Check the query values (each may be NULL): `from` and `to` ISO 8601 times (default: the 24 hours
 * up to now), `step` seconds as a number with an optional unit s, m, h or d, or an ISO 8601 duration
 * (PT5M, PT1H, P1D; default 60 s). MSH_EINVAL with a message naming the parameter otherwise, or
 * when from is after to or the answer would pass MSH_KPI_HISTORY_MAX_POINTS points.
 */
msh_rc msh_kpi_hq_parse(const char *from, const char *to, const char *step, int64_t now_ms, msh_kpi_hq *out,
                        msh_err *err);

/**
 * Append the JSON answer for zone `zone` ("" overall): the first record in each step from `from`,
 * as {"zone_id":..,"from":..,"to":..,"step_s":..,"points":[{"time":..,"kpi":{...}},...]}.
 */
msh_rc msh_kpi_history_query(msh_kpi_history *h, const char *zone, const msh_kpi_hq *q, msh_buf *out, msh_err *err);

#endif
