/* broadcast_service.h: the broadcasts the server holds (POST/GET/DELETE /broadcasts).
 *
 * Design: the rules of one broadcast are layers/live/broadcast.h; this service keeps them. A create
 * resolves the target into an area (a zone's or camp's polygons, read from the served catalog:
 * `service_zones` by `zone_id`, `camps` by `camp_id`; 404 for an unknown one), lists the service
 * zones the area targets or touches, gives it an id and the author (token name and role), writes
 * it to the table `msh_broadcasts` of the store on the service's own connection (synchronous=FULL:
 * on disk before the 201), then adds it to the registry and publishes a `broadcast` event
 * (routes/events.h: SSE, and MQTT through the events tap). A withdrawal is the same, with the
 * withdrawal time and who withdrew it. Each write is its own transaction, whose commit notifies the
 * other nodes of a shared PostgreSQL store (store_pg.h). At start the active rows (not withdrawn, not
 * expired) are read back; expired ones are never loaded. Afterwards the reload thread calls
 * msh_broadcasts_sync whenever another connection committed (msh_store_data_version moved): what
 * another node created or withdrew is held and announced within the reload thread's 50 ms step, and
 * a broadcast already held (this node's own) is never announced twice.
 *
 * The registry holds the active broadcasts (at most MSH_BC_ACTIVE_MAX; a create past it is 409):
 * reads filter by time (msh_now_ms, which `serve --test-clock` moves), so an expired broadcast
 * leaves every answer at once; writes drop the inactive ones. Expired and withdrawn broadcasts
 * stay in the store's table, for the record.
 *
 * Lock contract: `wmu` orders writers and the reload thread's sync (the store connection is used
 * by one thread at a time, and only by them after start; entries are added and freed only under
 * it, so its holder may read an entry without `lk`); `lk` (a read-write lock) guards the registry: readers (the GETs)
 * take it shared, a writer exclusive only to add or drop entries, after its store write. Order:
 * wmu, then lk. Events are published after lk is released (the events' lock comes after both).
 */
#ifndef MSH_BROADCAST_SERVICE_H
#define MSH_BROADCAST_SERVICE_H

#include <stdbool.h>

#include "core/msh_buf.h"
#include "live/broadcast.h"
#include "serve/app.h"

#define MSH_BC_ACTIVE_MAX 10000

typedef struct msh_broadcasts msh_broadcasts;

/** Open the table (created when missing) and load the active broadcasts into app->broadcasts. */
msh_rc msh_broadcasts_open(msh_app *app, msh_err *err);
void msh_broadcasts_close(msh_app *app);

/** Another connection (another node) committed: add the unexpired broadcasts the table has and the
 * registry lacks, withdraw those withdrawn there, and publish an event for each (once: a node's own
 * writes are already held). Takes wmu, then lk; failures are logged and what is held is kept. */
void msh_broadcasts_sync(msh_app *app);

/**
 * Create the broadcast `b` (from msh_bc_parse; taken: freed here whatever happens) by the token
 * (`by_name`, `by_role`): as above. On success `id` (40 bytes) names it and `out` holds its Feature.
 * Errors: MSH_ENOTFOUND (unknown zone or camp), MSH_EINVAL (a camp without an area), MSH_EIO.
 */
msh_rc msh_broadcasts_create(msh_app *app, msh_broadcast *b, const char *by_name, const char *by_role, char *id,
                             msh_buf *out, msh_err *err);

/** Withdraw the active broadcast `id` (MSH_ENOTFOUND when none): stored, then an event; `out` its Feature. */
msh_rc msh_broadcasts_withdraw(msh_app *app, const char *id, const char *by_name, const char *by_role, msh_buf *out,
                               msh_err *err);

/** What a GET asks for: a place, a zone, one id; each optional. */
typedef struct msh_bc_query {
    bool has_point;
    double lon, lat;
    const char *zone; /* NULL: any */
    const char *id;   /* set: that one broadcast as a Feature (MSH_ENOTFOUND when not active) */
} msh_bc_query;

/** The active broadcasts matching `q` as a GeoJSON FeatureCollection (or one Feature), authors for ops. */
msh_rc msh_broadcasts_get(msh_app *app, const msh_bc_query *q, bool with_author, msh_buf *out, msh_err *err);

#endif
