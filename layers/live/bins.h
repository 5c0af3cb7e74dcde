/* bins.h: when a waste bin is overflowing (the `bins` feed, FIWARE WasteContainer).
 *
 * A bin reports its fill level (`fillingLevel`, 0 empty .. 1 full). It is overflowing from the
 * first reading at or above the level (`--bin-overflow`, 0.8 by default) and stays so until a
 * reading falls below that level times MSH_ALERT_CLEAR_RATIO (0.64 for 0.8), the hysteresis every
 * alert of the house uses: a sensor that reads 0.79, 0.81, 0.79 around the line raises it once,
 * and only an emptied bin clears it. The state is the item's MSH_ITEM_OVERFLOW flag (live.h),
 * decided as each record is applied, so the log's replay rebuilds it and snapshots keep it.
 * Pure: no clock, no lock.
 */
#ifndef MSH_BINS_H
#define MSH_BINS_H

#include <stdbool.h>

#include "core/msh_constants.h"

#define MSH_BIN_OVERFLOW_DEFAULT 0.8

/** Whether a bin that `was` overflowing is overflowing after a reading of `fill` (level in (0, 1]). */
static inline bool msh_bin_overflowing(bool was, double fill, double level)
{
    return was ? fill >= level * MSH_ALERT_CLEAR_RATIO : fill >= level;
}

#endif
