/* geofence.h: which service zone and which camp a point is in, for enter/exit events.
 *
 * Design: the polygons of the static layers `service_zones` (named by `zone_id`) and `camps`
 * (`camp_id`) are rasterised once per data version onto the live store's base grid (2^22 cells,
 * 8.9 m at Makkah) over their bounding box: a lookup per position update is two array reads, so
 * geofencing costs nothing at 300,000 updates a second. Cells are decided by their centre
 * (even-odd over every ring, holes included), so a boundary is exact to half a cell (4.5 m).
 * A person moving from one zone or camp to another crosses out of one and into the other; the
 * server turns the crossings into exit and enter events on /events (type `geofence`, carrying the
 * person's id: personal data, streamed to ops tokens only).
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

/** Told of one crossing: `kind` 0 zone, 1 camp; `enter` false for an exit. */
typedef void (*msh_fence_fn)(void *ud, int kind, const char *name, bool enter);

/**
 * The crossings of a move from (owx, owy) (none when !had_old) to (nwx, nwy), world coordinates
 * scaled to 2^32: for each kind, the exit from the old fence, then the entry to the new one.
 * Nothing when f is NULL. Pure: reads f only.
 */
void msh_fences_crossings(const msh_fences *f, bool had_old, uint32_t owx, uint32_t owy, uint32_t nwx, uint32_t nwy,
                          msh_fence_fn fn, void *ud);

/** The zone (kind 0) or camp (kind 1) at lon/lat, or NULL. */
const char *msh_fences_at(const msh_fences *f, int kind, double lon, double lat);

#endif
