/* storage_status.h: the live store's write faults as /health and /metrics show them.
 *
 * The rule (layers/live/ingest.c, wal.c): while the write-ahead log or the last snapshot cannot
 * be written the server is degraded: /health answers 503 {"status":"degraded","reason":...};
 * it is "ok" again by itself once writes succeed. No locks of its own: it reads the ingest
 * state through msh_ingest_health / msh_ingest_storage_stats (which take the ingest locks).
 */
#ifndef MSH_STORAGE_STATUS_H
#define MSH_STORAGE_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/msh_buf.h"
#include "serve/app.h"

/** True when the live store cannot write now; `reason` gets why (JSON-safe is up to the caller). */
bool msh_storage_degraded(msh_app *app, char *reason, size_t cap);
/** The storage metrics (failures, recoveries, the degraded gauge) in the Prometheus text format. */
void msh_storage_metrics(msh_app *app, msh_buf *b);

#endif
