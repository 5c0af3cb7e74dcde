/* schedule.h: the planned group movements a forecast adds (`mashaer serve --forecast-schedule FILE`).
 *
 * A schedule lists groups that have not started yet: who, how many, from where to where, and
 * the window in which they leave (the stoning time slots are the real case). Two forms, told
 * apart by the first non-blank byte:
 *   JSON  [ {"group":"G-12","size":2500,"origin":[39.8871,21.4125],"destination":[39.8726,21.4229],
 *            "depart_from":"2026-05-27T06:00:00Z","depart_to":"2026-05-27T06:30:00Z"}, ... ]
 *         (or the same array under {"groups": [...]})
 *   CSV   group,size,origin_lon,origin_lat,dest_lon,dest_lat,depart_from,depart_to[,stay_min[,wait_radius_m]]
 *         one header line, then one group a line (the last two fields may be left out or empty)
 * Two optional fields (JSON; CSV as above, waiting around the origin):
 *   "stay_min": N        the group stays N minutes (0..1440) at its destination, then leaves the
 *                        network; 0 or absent: it leaves the network as it arrives
 *   "wait_radius_m": R   the group is on the map before it leaves, standing within R metres
 *                        (0..1000) of "wait_at" ([lon, lat], default the origin): a camp. As it
 *                        departs, its people are taken off the slow people seen there (ctm.h)
 *                        instead of added; 0 or absent: it comes from off the map
 * A group leaves at an even rate over its window (size / window); the forecast adds the part
 * of it that leaves after the forecast's start.
 * A return (JSON only: "return": true) is a crowd turning back, as the pilgrims leaving the Jamarat
 * for their camps: at depart_from, everyone on the way between origin (where they turn) and
 * destination (where they go back to) turns and walks to the destination (ctm.h); its size (0
 * allowed) is the people who set out from the origin over the window besides them. Limits: MSH_SCHED_MAX groups, size 1..1,000,000,
 * a window of 1 s to 24 h, coordinates within lon -180..180, lat -85..85. Anything else is
 * refused whole, with the line or entry that broke the rule.
 */
#ifndef MSH_FC_SCHEDULE_H
#define MSH_FC_SCHEDULE_H

#include <stddef.h>

#include "core/msh_err.h"
#include "forecast/ctm.h"

#define MSH_SCHED_MAX 100000
#define MSH_SCHED_BYTES_MAX ((size_t)16 << 20)

/** Parse a schedule of n bytes: *out (malloc'd, *nout sources, has_dest set) or an error naming the entry. */
msh_rc msh_fc_schedule_parse(const char *text, size_t n, msh_fc_source **out, size_t *nout, msh_err *err);
/** Read and parse FILE (at most MSH_SCHED_BYTES_MAX bytes). */
msh_rc msh_fc_schedule_load(const char *path, msh_fc_source **out, size_t *nout, msh_err *err);

#endif
