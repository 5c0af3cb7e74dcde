/* params.c: strict parsing of the routing and query parameters (see params.h). */
#include "params.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"

/* A number from s[0..len): digits, sign, '.', exponent only; no spaces, no hex, no inf/nan. */
static bool number(const char *s, size_t len, double *out)
{
    char buf[64];
    if (!len || len >= sizeof buf)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
            return false;
    }
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + len || errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static msh_rc too_long(const char *name, msh_err *err)
{
    return msh_err_set(err, MSH_EINVAL, "'%s' is longer than %d characters", name, MSH_PARAM_MAX);
}

msh_rc msh_param_number(const char *name, const char *s, double lo, double hi, double *out, msh_err *err)
{
    if (!s || !*s)
        return msh_err_set(err, MSH_EINVAL, "'%s' is required (a number from %g to %g)", name, lo, hi);
    size_t len = strnlen(s, MSH_PARAM_MAX + 1);
    if (len > MSH_PARAM_MAX)
        return too_long(name, err);
    double v;
    if (!number(s, len, &v))
        return msh_err_set(err, MSH_EINVAL, "'%s' must be a number, not '%.40s'", name, s);
    if (v < lo || v > hi)
        return msh_err_set(err, MSH_EINVAL, "'%s' must be from %g to %g, not %g", name, lo, hi, v);
    *out = v;
    return MSH_OK;
}

msh_rc msh_param_lonlat(const char *name, const char *s, double *lon, double *lat, msh_err *err)
{
    if (!s || !*s)
        return msh_err_set(err, MSH_EINVAL, "'%s' is required: lon,lat in degrees", name);
    size_t len = strnlen(s, MSH_PARAM_MAX + 1);
    if (len > MSH_PARAM_MAX)
        return too_long(name, err);
    const char *comma = memchr(s, ',', len);
    double x, y;
    if (!comma || memchr(comma + 1, ',', len - (size_t)(comma + 1 - s)) || !number(s, (size_t)(comma - s), &x) ||
        !number(comma + 1, len - (size_t)(comma + 1 - s), &y))
        return msh_err_set(err, MSH_EINVAL, "'%s' must be lon,lat in degrees (like 39.8262,21.4225), not '%.40s'",
                           name, s);
    if (x < -180 || x > 180)
        return msh_err_set(err, MSH_EINVAL, "'%s': longitude %g is outside -180..180", name, x);
    if (y < -MSH_MAX_LAT || y > MSH_MAX_LAT)
        return msh_err_set(err, MSH_EINVAL, "'%s': latitude %g is outside -85.05..85.05", name, y);
    *lon = x;
    *lat = y;
    return MSH_OK;
}

msh_rc msh_param_place(const char *name, const char *s, msh_place *out, msh_err *err)
{
    memset(out, 0, sizeof *out);
    if (s && (!strncmp(s, "camp:", 5) || !strncmp(s, "asset:", 6))) {
        bool camp = s[0] == 'c';
        const char *id = s + (camp ? 5 : 6);
        size_t n = strnlen(id, sizeof out->id);
        if (n == 0 || n >= sizeof out->id)
            return msh_err_set(err, MSH_EINVAL, "'%s': the %s id must be 1 to %zu characters", name,
                               camp ? "camp" : "asset", sizeof out->id - 1);
        for (size_t i = 0; i < n; i++) {
            char c = id[i];
            if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-' ||
                  c == '.'))
                return msh_err_set(err, MSH_EINVAL, "'%s': a %s id holds only letters, digits, '_', '-' and '.'",
                                   name, camp ? "camp" : "asset");
        }
        out->kind = camp ? MSH_PLACE_CAMP : MSH_PLACE_ASSET;
        memcpy(out->id, id, n);
        out->id[n] = 0;
        return MSH_OK;
    }
    out->kind = MSH_PLACE_POINT;
    msh_rc rc = msh_param_lonlat(name, s, &out->lon, &out->lat, err);
    if (rc && s && *s && !strchr(s, ','))
        return msh_err_set(err, MSH_EINVAL, "'%s' must be lon,lat, camp:ID or asset:ID, not '%.40s'", name, s);
    return rc;
}

msh_rc msh_param_profile(const char *s, msh_profile *out, msh_err *err)
{
    *out = MSH_PROFILE_WALKING;
    if (!s || !strcmp(s, "walking"))
        return MSH_OK;
    if (!strcmp(s, "wheelchair")) {
        *out = MSH_PROFILE_WHEELCHAIR;
        return MSH_OK;
    }
    return msh_err_set(err, MSH_EINVAL, "profile: walking or wheelchair, not '%.32s'", s);
}
