/* schedule.c: the planned movements file (schedule.h): JSON through jansson, CSV by hand. */
#include "forecast/schedule.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_time.h"

/* Check one group's numbers and turn it into a source. */
/* What a group does besides walking from origin to destination: where it waits before it leaves
 * (radius 0: it comes from off the map), how long it stays at the destination (0: it leaves the
 * network there). */
typedef struct extras {
    double wait_lon, wait_lat, wait_radius_m;
    double stay_min;
} extras;

static msh_rc make_source(const char *where, double size, double olon, double olat, double dlon, double dlat,
                          int64_t from, int64_t to, bool turn, const extras *x, msh_fc_source *s, msh_err *err)
{
    if (!(size >= (turn ? 0 : 1) && size <= 1e6))
        return msh_err_set(err, MSH_EINVAL, "%s: size must be %d to 1000000 people", where, turn ? 0 : 1);
    if (!(fabs(olon) <= 180 && fabs(olat) <= 85 && fabs(dlon) <= 180 && fabs(dlat) <= 85))
        return msh_err_set(err, MSH_EINVAL, "%s: coordinates out of range (lon -180..180, lat -85..85)", where);
    if (!(to > from && to - from <= 86400000LL && to - from >= 1000))
        return msh_err_set(err, MSH_EINVAL, "%s: the departure window must be 1 s to 24 h, depart_to after depart_from",
                           where);
    if (!(x->stay_min >= 0 && x->stay_min <= 1440))
        return msh_err_set(err, MSH_EINVAL, "%s: stay_min must be 0 to 1440 minutes", where);
    if (!(x->wait_radius_m >= 0 && x->wait_radius_m <= 1000))
        return msh_err_set(err, MSH_EINVAL, "%s: wait_radius_m must be 0 to 1000 metres", where);
    if (!(fabs(x->wait_lon) <= 180 && fabs(x->wait_lat) <= 85))
        return msh_err_set(err, MSH_EINVAL, "%s: wait_at out of range (lon -180..180, lat -85..85)", where);
    *s = (msh_fc_source){.lon = olon, .lat = olat, .rate = size * 1000.0 / (double)(to - from), .from_ms = from,
                         .to_ms = to, .has_dest = true, .dest_lon = dlon, .dest_lat = dlat, .planned = true,
                         .turn = turn, .stay_s = x->stay_min * 60, .wait_lon = x->wait_lon, .wait_lat = x->wait_lat,
                         .wait_radius_m = x->wait_radius_m};
    return MSH_OK;
}

static msh_rc json_time(const char *where, json_t *v, const char *name, int64_t *ms, msh_err *err)
{
    const char *s = json_string_value(json_object_get(v, name));
    if (!s || msh_time_parse_iso(s, strlen(s), ms, NULL))
        return msh_err_set(err, MSH_EINVAL, "%s: %s must be an ISO 8601 time", where, name);
    return MSH_OK;
}

static msh_rc json_point(const char *where, json_t *v, const char *name, double *lon, double *lat, msh_err *err)
{
    json_t *a = json_object_get(v, name);
    if (!json_is_array(a) || json_array_size(a) != 2 || !json_is_number(json_array_get(a, 0)) ||
        !json_is_number(json_array_get(a, 1)))
        return msh_err_set(err, MSH_EINVAL, "%s: %s must be [lon, lat]", where, name);
    *lon = json_number_value(json_array_get(a, 0));
    *lat = json_number_value(json_array_get(a, 1));
    return MSH_OK;
}

/* An optional number field: *v untouched when absent, an error when it is not a number. */
static msh_rc json_opt_number(const char *where, json_t *v, const char *name, double *out, msh_err *err)
{
    json_t *f = json_object_get(v, name);
    if (!f)
        return MSH_OK;
    if (!json_is_number(f))
        return msh_err_set(err, MSH_EINVAL, "%s: %s must be a number", where, name);
    *out = json_number_value(f);
    return MSH_OK;
}

static msh_rc parse_json(const char *text, size_t n, msh_fc_source **out, size_t *nout, msh_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return msh_err_set(err, MSH_EINVAL, "schedule: JSON line %d: %s", je.line, je.text);
    json_t *arr = json_is_object(root) ? json_object_get(root, "groups") : root;
    msh_rc rc = MSH_OK;
    msh_fc_source *src = NULL;
    size_t cnt = json_is_array(arr) ? json_array_size(arr) : 0;
    if (!json_is_array(arr))
        rc = msh_err_set(err, MSH_EINVAL, "schedule: an array of groups (or {\"groups\": [...]}) was expected");
    else if (cnt > MSH_SCHED_MAX)
        rc = msh_err_set(err, MSH_ETOOBIG, "schedule: more than %d groups", MSH_SCHED_MAX);
    else if (!(src = malloc((cnt + 1) * sizeof *src)))
        rc = MSH_ENOMEM;
    for (size_t i = 0; i < cnt && !rc; i++) {
        json_t *g = json_array_get(arr, i);
        char where[64];
        snprintf(where, sizeof where, "schedule group %zu", i + 1);
        json_t *size = json_object_get(g, "size");
        double olon = 0, olat = 0, dlon = 0, dlat = 0;
        int64_t from = 0, to = 0;
        if (!json_is_object(g) || !json_is_string(json_object_get(g, "group")) || !json_is_number(size))
            rc = msh_err_set(err, MSH_EINVAL, "%s: an object with \"group\" (text) and \"size\" (number)", where);
        if (!rc)
            rc = json_point(where, g, "origin", &olon, &olat, err);
        if (!rc)
            rc = json_point(where, g, "destination", &dlon, &dlat, err);
        if (!rc)
            rc = json_time(where, g, "depart_from", &from, err);
        if (!rc)
            rc = json_time(where, g, "depart_to", &to, err);
        json_t *ret = json_object_get(g, "return");
        if (!rc && ret && !json_is_boolean(ret))
            rc = msh_err_set(err, MSH_EINVAL, "%s: \"return\" must be true or false", where);
        extras x = {olon, olat, 0, 0};
        if (!rc && json_object_get(g, "wait_at"))
            rc = json_point(where, g, "wait_at", &x.wait_lon, &x.wait_lat, err);
        if (!rc)
            rc = json_opt_number(where, g, "wait_radius_m", &x.wait_radius_m, err);
        if (!rc)
            rc = json_opt_number(where, g, "stay_min", &x.stay_min, err);
        if (!rc)
            rc = make_source(where, json_number_value(size), olon, olat, dlon, dlat, from, to, json_is_true(ret), &x,
                             &src[i], err);
    }
    json_decref(root);
    if (rc) {
        free(src);
        return rc == MSH_ENOMEM ? msh_err_set(err, rc, "schedule: out of memory") : rc;
    }
    *out = src;
    *nout = cnt;
    return MSH_OK;
}

/* The next comma-separated field of line [p, end): copied into f (cap bytes, blanks trimmed), p
 * moved past it; *more tells whether a comma followed. False when it does not fit. */
static bool csv_field(const char **p, const char *end, char *f, size_t cap, bool *more)
{
    const char *s = *p, *c = memchr(s, ',', (size_t)(end - s));
    const char *e = c ? c : end;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    const char *t = e;
    while (t > s && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r'))
        t--;
    if ((size_t)(t - s) >= cap)
        return false;
    memcpy(f, s, (size_t)(t - s));
    f[t - s] = 0;
    *p = c ? c + 1 : end;
    *more = c != NULL;
    return true;
}

static bool csv_number(const char *f, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(f, &end);
    return *f && !*end && !errno && isfinite(*v);
}

static msh_rc parse_csv(const char *text, size_t n, msh_fc_source **out, size_t *nout, msh_err *err)
{
    const char *p = text, *end = text + n;
    size_t cap = 64, cnt = 0, line = 0;
    msh_fc_source *src = malloc(cap * sizeof *src);
    msh_rc rc = src ? MSH_OK : MSH_ENOMEM;
    while (!rc && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        const char *q = p;
        p = nl ? nl + 1 : end;
        if (line == 1 || le == q || (le - q == 1 && *q == '\r'))
            continue; /* the header, blank lines */
        char where[64], f[10][64];
        snprintf(where, sizeof where, "schedule line %zu", line);
        int k = 0;
        bool more = true;
        while (more && k < 10 && csv_field(&q, le, f[k], sizeof f[k], &more))
            k++;
        double v[5];
        int64_t from, to;
        if (k < 8 || more || !f[0][0])
            rc = msh_err_set(err, MSH_EINVAL,
                             "%s: 8 to 10 fields expected: group,size,origin_lon,origin_lat,dest_lon,dest_lat,"
                             "depart_from,depart_to[,stay_min[,wait_radius_m]]",
                             where);
        for (int i = 0; i < 5 && !rc; i++)
            if (!csv_number(f[1 + i], &v[i]))
                rc = msh_err_set(err, MSH_EINVAL, "%s: field %d is not a number", where, i + 2);
        extras x = {rc ? 0 : v[1], rc ? 0 : v[2], 0, 0};
        if (!rc && k >= 9 && f[8][0] && !csv_number(f[8], &x.stay_min))
            rc = msh_err_set(err, MSH_EINVAL, "%s: stay_min (field 9) is not a number", where);
        if (!rc && k >= 10 && f[9][0] && !csv_number(f[9], &x.wait_radius_m))
            rc = msh_err_set(err, MSH_EINVAL, "%s: wait_radius_m (field 10) is not a number", where);
        if (!rc && (msh_time_parse_iso(f[6], strlen(f[6]), &from, NULL) || msh_time_parse_iso(f[7], strlen(f[7]), &to, NULL)))
            rc = msh_err_set(err, MSH_EINVAL, "%s: depart_from and depart_to must be ISO 8601 times", where);
        if (!rc && cnt >= MSH_SCHED_MAX)
            rc = msh_err_set(err, MSH_ETOOBIG, "schedule: more than %d groups", MSH_SCHED_MAX);
        if (!rc && cnt == cap) {
            msh_fc_source *s2 = realloc(src, 2 * cap * sizeof *src);
            rc = s2 ? MSH_OK : MSH_ENOMEM;
            if (s2)
                src = s2, cap *= 2;
        }
        if (!rc)
            rc = make_source(where, v[0], v[1], v[2], v[3], v[4], from, to, false, &x, &src[cnt], err);
        if (!rc)
            cnt++;
    }
    if (rc) {
        free(src);
        return rc == MSH_ENOMEM ? msh_err_set(err, rc, "schedule: out of memory") : rc;
    }
    *out = src;
    *nout = cnt;
    return MSH_OK;
}

msh_rc msh_fc_schedule_parse(const char *text, size_t n, msh_fc_source **out, size_t *nout, msh_err *err)
{
    *out = NULL;
    *nout = 0;
    if (n > MSH_SCHED_BYTES_MAX)
        return msh_err_set(err, MSH_ETOOBIG, "schedule: larger than %zu bytes", MSH_SCHED_BYTES_MAX);
    size_t i = 0;
    while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    if (i < n && (text[i] == '[' || text[i] == '{'))
        return parse_json(text, n, out, nout, err);
    return parse_csv(text, n, out, nout, err);
}

msh_rc msh_fc_schedule_load(const char *path, msh_fc_source **out, size_t *nout, msh_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return msh_err_set(err, MSH_EIO, "%s: %s", path, strerror(errno));
    char *buf = malloc(MSH_SCHED_BYTES_MAX + 1);
    size_t n = buf ? fread(buf, 1, MSH_SCHED_BYTES_MAX + 1, f) : 0;
    bool bad = ferror(f);
    fclose(f);
    msh_rc rc;
    if (!buf)
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    else if (bad)
        rc = msh_err_set(err, MSH_EIO, "%s: read error", path);
    else
        rc = msh_fc_schedule_parse(buf, n, out, nout, err);
    free(buf);
    return rc;
}
