/* geofence.h: which service zone and which camp a point is in, for enter/exit events.
 *
 * Design: the polygons of the static layers `service_zones` (named by `zone_id`) and `camps`
 * (`camp_id`) are rasterised once per data version onto the live store's base grid (2^22 cells,
 * 8.9 m at Makkah) over their bounding box: a lookup per position update is two array reads, so
 * geofencing costs nothing at 300,000 updates a second. Cells are decided by their centre
 * (even-odd over every ring, holes included), so a boundary is exact to half a cell (4.5 m).
 * A person moving from one zone or camp to another yields exit and enter events on /events,
 * type `geofence`, which carry the person's id: personal data, streamed to ops tokens only.
 */
#ifndef MSH_GEOFENCE_H
#define MSH_GEOFENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"

typedef struct msh_fences msh_fences;

/** Rasterise the zones and camps of `cat` (either may be missing: then no fences of that kind). */
msh_fences *msh_fences_build(const msh_catalog *cat);
void msh_fences_free(msh_fences *f);

/** The live store's move observer; `ud` is the msh_app. */
void msh_geofence_on_move(void *ud, const char *id, size_t n, bool had_old, uint32_t owx, uint32_t owy, uint32_t nwx,
                          uint32_t nwy, int64_t t_ms);

/** The zone (kind 0) or camp (kind 1) at lon/lat, or NULL. */
const char *msh_fences_at(const msh_fences *f, int kind, double lon, double lat);

#endif
