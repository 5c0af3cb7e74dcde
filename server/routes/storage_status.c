/* storage_status.c: /health and /metrics lines for the live store's write faults (storage_status.h). */
#include "routes/storage_status.h"

#include "live/ingest.h"

bool msh_storage_degraded(msh_app *app, char *reason, size_t cap)
{
    return app->ingest && !msh_ingest_health(app->ingest, reason, cap);
}

void msh_storage_metrics(msh_app *app, msh_buf *b)
{
    if (!app->ingest)
        return;
    msh_ingest_storage st;
    msh_ingest_storage_stats(app->ingest, &st);
    msh_buf_printf(b,
                   "# HELP mashaer_storage_degraded 1 while the live store cannot write (write-ahead log or "
                   "snapshot); /health is 503 then.\n"
                   "# TYPE mashaer_storage_degraded gauge\nmashaer_storage_degraded %d\n"
                   "# HELP mashaer_wal_failures_total Write-ahead log writes (or opens) that failed; their "
                   "batches were answered 503 and not applied.\n"
                   "# TYPE mashaer_wal_failures_total counter\nmashaer_wal_failures_total %llu\n"
                   "# HELP mashaer_wal_recoveries_total Times the write-ahead log became writable again.\n"
                   "# TYPE mashaer_wal_recoveries_total counter\nmashaer_wal_recoveries_total %llu\n"
                   "# HELP mashaer_snapshot_failures_total Live snapshots that could not be written.\n"
                   "# TYPE mashaer_snapshot_failures_total counter\nmashaer_snapshot_failures_total %llu\n",
                   st.degraded ? 1 : 0, (unsigned long long)st.log_failures, (unsigned long long)st.log_recoveries,
                   (unsigned long long)st.snapshot_failures);
}
