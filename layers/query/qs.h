/* qs.h: the query-string values of OGC API Features, parsed without HTTP.
 *
 * Each parser takes one decoded parameter value (NUL-terminated) and either fills its result
 * or fails with MSH_EINVAL and a message that names the parameter and what is wrong with it,
 * ready to be sent as a 400. Times are milliseconds since 1970 UTC.
 */
#ifndef MSH_QS_H
#define MSH_QS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msh_err.h"
#include "layer.h"

/** Features per page when `limit` is not given, and the most one page carries. */
#define MSH_QS_LIMIT_DEFAULT 10
#define MSH_QS_LIMIT_MAX 10000
/** Longest parameter value accepted (a CQL2 filter included). */
#define MSH_QS_VALUE_MAX 16384

/** Open ends of a datetime interval. */
#define MSH_TIME_MIN INT64_MIN
#define MSH_TIME_MAX INT64_MAX

/** The 4 (or 6, 3D: the heights dropped) numbers of a bbox in whatever CRS its bbox-crs names, in their
 * order: finite, checked for nothing else (layers' own CRS: msh_qs_bbox; others: exporters/features/crs_ref.h). */
msh_rc msh_qs_bbox_any(const char *s, double out[4], msh_err *err);
/**
 * bbox=west,south,east,north (or 6 numbers with heights, which are ignored), in CRS84 degrees:
 * longitudes in [-180, 180], latitudes in [-90, 90], south <= north. west > east crosses the
 * antimeridian and is allowed.
 */
msh_rc msh_qs_bbox(const char *s, double out[4], msh_err *err);

/** limit=N: an integer >= 1; values above `max` are lowered to `max` (OGC API Features 1.0.1). */
msh_rc msh_qs_limit(const char *s, uint32_t max, uint32_t *out, msh_err *err);

/** Length of a date alone, "2026-06-14". */
#define MSH_QS_DATE_LEN 10

/**
 * One RFC 3339 instant ("2026-06-14T10:00:00Z", fraction and offsets allowed, 'T' or ' ';
 * core/msh_time.h msh_time_parse_iso, from 1970) or a date ("2026-06-14"). For a date, *lo and
 * *hi span the day; for an instant both are the instant. MSH_EINVAL when s[0..len) is not one
 * or names a day that does not exist (2026-02-29), with the field in the message.
 */
msh_rc msh_qs_time(const char *s, size_t len, int64_t *lo, int64_t *hi, msh_err *err);

/**
 * datetime=INSTANT | START/END with ".." or "" for an open end. *lo, *hi: the closed interval
 * (MSH_TIME_MIN / MSH_TIME_MAX when open); a date covers its whole day.
 */
msh_rc msh_qs_datetime(const char *s, int64_t *lo, int64_t *hi, msh_err *err);

/** A property filter's value typed for a field: integer, number, boolean (true/false) or string. */
msh_rc msh_qs_value(const char *name, const char *s, msh_ftype type, msh_value *out, msh_err *err);

/** True when a stored value equals a property filter's value (nulls equal nothing). */
bool msh_value_equals(const msh_value *a, const msh_value *b);

/** The page cursor: an opaque token naming the last feature id of the previous page. */
msh_rc msh_qs_cursor(const char *s, uint64_t *after, msh_err *err);
/** Write the cursor for `after` (at least 24 bytes). */
void msh_qs_cursor_fmt(uint64_t after, char *out, size_t cap);

/**
 * The time field of a layer for `datetime`: the first string field named reported_at, time,
 * datetime, timestamp or updated_at; -1 when the layer has none.
 */
int msh_qs_time_field(const msh_layer_info *info);

#endif
