/* reports_hooks.h: where the reports (routes_reports.c) step into the shared OGC paths.
 *
 * The Part 4 write path (routes_ogc_write.c) asks for the creation budget and publishes a report's
 * change as a `report` event scoped to its reporter instead of the public `change`; the read path
 * (routes_ogc.c) serves a reporter token the view of its own reports (layers/owned_layer.h), where
 * any other caller under ops finds no such collection.
 */
#ifndef MSH_REPORTS_HOOKS_H
#define MSH_REPORTS_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "edit.h"
#include "http/http.h"
#include "layer.h"
#include "workflow/reports.h"

/** A report's `reporter` from its values into out ("" when none). */
void msh_reports_owner(const msh_layer_info *li, const msh_value *vals, char *out, size_t cap);

/** Publish the `report` event of a written report (`item`: its GeoJSON, len bytes) for `owner` and ops. */
void msh_reports_event(msh_app *app, const char *owner, const char *op, const char *item, size_t len);

/** Before a write is queued: true, or (a report's create over the token's --report-rate) false with a 429 answered. */
bool msh_reports_may_create(msh_req *r, const char *coll, msh_edit_kind kind, const char *who);

/** For a reader not allowed `l`: the view of its own reports (a reporter token on `reports`, no asof), or NULL. */
msh_layer *msh_reports_own_view(msh_req *r, msh_layer *l);

struct msh_feed_rec;
/** Create the live incident `rec` (its id set, or "" for the next INC-OPS-n) as POST .../incidents/items
 * does and answer it into `r`: 201 + Location, 409 when the id exists, 503 (routes_live_write.c). */
void msh_route_live_create_incident(msh_req *r, struct msh_feed_rec *rec);

#endif
