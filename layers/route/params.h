/* params.h: the query-string values of /route, /isochrone and the /query routes, parsed without HTTP.
 *
 * Each parser takes one decoded value (NUL-terminated) and fills its result, or fails with
 * MSH_EINVAL and a message naming the parameter and what is wrong, ready for a 400.
 */
#ifndef MSH_ROUTE_PARAMS_H
#define MSH_ROUTE_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/msh_err.h"

/** Longest value accepted. */
#define MSH_PARAM_MAX 256

/** A finite decimal number within [lo, hi]; `name` goes into the message. */
msh_rc msh_param_number(const char *name, const char *s, double lo, double hi, double *out, msh_err *err);

/** "lon,lat" in degrees (lon in [-180, 180], lat in [-85.05, 85.05]). */
msh_rc msh_param_lonlat(const char *name, const char *s, double *lon, double *lat, msh_err *err);

/** Where a route goes: a point, or a feature named by its id. */
typedef struct msh_place {
    enum { MSH_PLACE_POINT, MSH_PLACE_CAMP, MSH_PLACE_ASSET } kind;
    double lon, lat;           /* MSH_PLACE_POINT */
    char id[65];               /* camp:ID or asset:ID: [A-Za-z0-9_.-]{1,64} */
} msh_place;

/** "lon,lat", "camp:ID" or "asset:ID". */
msh_rc msh_param_place(const char *name, const char *s, msh_place *out, msh_err *err);

/** A route's profile: "walking" (the default when absent) or "wheelchair" (route/access.h). */
typedef enum { MSH_PROFILE_WALKING = 0, MSH_PROFILE_WHEELCHAIR } msh_profile;
/** `s` may be NULL (absent: walking). */
msh_rc msh_param_profile(const char *s, msh_profile *out, msh_err *err);

#endif
