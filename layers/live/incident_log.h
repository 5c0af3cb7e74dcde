/* incident_log.h: incidents and their history, kept in the SpatiaLite store.
 *
 * The write-ahead log makes an incident update durable; this keeps the queryable record
 * planners and officials expect in the store itself: `msh_incidents` (one row per incident,
 * its latest state, the time it entered each status, a POINT geometry QGIS can show) and
 * `msh_incident_history` (one row per update, with the operator who made it: by_name and
 * by_role, NULL for a feed record; the columns are added to an older store on open). The ingest path only queues a copy (under the
 * live write lock, no I/O); a writer thread with its own connection commits the queue about
 * once a second. Replaying the log after a restart queues the same updates again: the
 * writes are idempotent (upsert, and history rows are unique per id, time and status). Gates an
 * operator opened or closed get the same treatment in `msh_gate_history`, and every sensor reading
 * in `msh_sensor_readings` (one row per sensor and time stamp, pruned to the horizon of the memory
 * copy, sensor_history.h, which each reading joins once committed).
 */
#ifndef MSH_INCIDENT_LOG_H
#define MSH_INCIDENT_LOG_H

#include "core/msh_err.h"
#include "live.h"
#include "sensor_history.h"

typedef struct msh_incident_log msh_incident_log;

/** Open the store at `db_path` on a new connection, create the tables, load the readings within the
 * horizon into `sensors` (NULL: readings are not kept), start the writer. */
msh_rc msh_incident_log_open(const char *db_path, msh_sensor_history *sensors, msh_incident_log **out, msh_err *err);
/** Queue a sensor reading (copied) for msh_sensor_readings. Never blocks on I/O. */
void msh_incident_log_push_sensor(msh_incident_log *lg, const msh_live_item *it);
/** Queue one incident's new state (copied). Never blocks on I/O. */
void msh_incident_log_push(msh_incident_log *lg, const msh_live_item *it);
/** Queue a gate's new state when an operator set it (it->by names who; otherwise nothing): one row
 * of `msh_gate_history` (id, time, state, reason, by_name, by_role). Never blocks on I/O. */
void msh_incident_log_push_gate(msh_incident_log *lg, const msh_live_item *it);
/** Write what is queued and stop the writer. */
void msh_incident_log_close(msh_incident_log *lg);
/** Rows written so far (for tests and metrics). */
unsigned long long msh_incident_log_written(msh_incident_log *lg);

#endif
