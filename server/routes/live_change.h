/* live_change.h: the `change` event of an operator's write on a live collection (incidents,
 * gates), shaped as the store-layer edits' (routes_ogc_write.c): collection, id, op, version,
 * bbox. It goes on /events (`types=change&collections=incidents`) and, through the events' tap,
 * on MQTT `mashaer/changes/{collection}` (serve/mqtt.h).
 *
 * `id` is the item's text id (INC-OPS-3, G-1), `version` its update count after the write (the
 * count the item's ETag follows), the bbox the item's point (empty box at 0,0 without one).
 */
#ifndef MSH_ROUTES_LIVE_CHANGE_H
#define MSH_ROUTES_LIVE_CHANGE_H

#include "live/live.h"
#include "serve/app.h"

/** Publish the change `op` ("create" or "update") of live item `it` in collection `coll`. No lock needed. */
void msh_live_change_publish(msh_app *app, const char *coll, const char *op, const msh_live_item *it);

#endif
