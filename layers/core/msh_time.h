/* msh_time.h: wall-clock time as the server keeps it (Unix milliseconds, UTC) and as it
 * reads and writes it (ISO 8601 / RFC 3339 text).
 *
 * Every time in the tree is an int64_t count of milliseconds since 1970-01-01T00:00:00Z
 * without leap seconds (POSIX time). Text goes through this one reader and one writer, so a
 * feed record, a query parameter and an answer agree on what a time is.
 *
 * Calendar: proleptic Gregorian, by the days-from-civil arithmetic (400-year eras of 146097
 * days, years starting on 1 March so that the leap day falls last), with no table and no libc
 * (timegm and mktime normalise impossible dates, gmtime_r depends on time_t).
 *
 * What the reader accepts (msh_time_parse_iso), one form only, upper-case 'T' and 'Z':
 *
 *     YYYY-MM-DD(T| )HH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)
 *
 *   - year 1970 to 9999 (a time before 1970 in a feed or a query is a clock error, not history;
 *     an offset may still put the instant a few hours before 1970);
 *   - month 01-12, day 01 to the last day of that month: 29 February only in leap years
 *     (divisible by 4, and not by 100 unless by 400); 30 February, 31 April are refused, never
 *     rolled over into the next month;
 *   - hour 00-23: "24:00:00" is refused (RFC 3339 has no hour 24; write the next day's 00:00);
 *   - second 00-60: 60 is a leap second and reads as the first second of the next minute;
 *   - a fraction of 1 to 9 digits; milliseconds are kept, finer digits dropped (truncated);
 *   - the zone is required: 'Z' or an offset of up to 14:00 (minutes 00-59); "+03:00" is
 *     Makkah, and the instant is the local time minus the offset.
 * msh_time_parse widens this for the callers that need it: a date alone, and the command
 * line's short forms (see MSH_TIME_DATE, MSH_TIME_SHORT).
 *
 * Refusals are MSH_EINVAL with a message that names the field ("day: 2026-02 has 28 days, not
 * 29") and does not quote the input, so the caller can put its own parameter name and the
 * value around it.
 */
#ifndef MSH_TIME_H
#define MSH_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msh_err.h"

/** Milliseconds in a day. */
#define MSH_DAY_MS 86400000LL
/** The longest text msh_time_parse_iso accepts: a 9-digit fraction and an offset. */
#define MSH_TIME_ISO_MAX_LEN 35
/** Room for anything msh_time_format_iso writes, the NUL included (any int64_t, 3 digits). */
#define MSH_TIME_ISO_CAP 32

/** Forms msh_time_parse accepts besides the full date-time (bits, or'ed). */
enum {
    /** "YYYY-MM-DD" alone: its midnight UTC. */
    MSH_TIME_DATE = 1u,
    /** For people at a command line: the seconds may be left out ("2026-05-26T03:00" is :00)
     *  and so may the zone (read as UTC). */
    MSH_TIME_SHORT = 2u,
};

/** A time broken down into its UTC calendar fields. */
typedef struct msh_time_parts {
    int year;   /* proleptic Gregorian; 0 is 1 BC */
    int month;  /* 1-12 */
    int day;    /* 1-31 */
    int hour;   /* 0-23 */
    int minute; /* 0-59 */
    int second; /* 0-59 */
    int ms;     /* 0-999 */
} msh_time_parts;

/** Now, from the wall clock (CLOCK_REALTIME), in Unix milliseconds, plus the test clock's lead. */
int64_t msh_now_ms(void);

/**
 * For tests only (`mashaer serve --test-clock`, POST /test/clock): move msh_now_ms forward by `ms`
 * from now on, so that time rules (escalation, retention, stale crews) are tested without
 * waiting. Returns the total lead. Never called unless a test asks for it.
 */
int64_t msh_time_advance_ms(int64_t ms);

/** True for the Gregorian leap years: divisible by 4, and not by 100 unless by 400. */
bool msh_is_leap_year(int64_t y);

/** Days in month m (1-12) of year y: 28 to 31; 0 for a month out of range. */
int msh_days_in_month(int64_t y, int m);

/**
 * Days from 1970-01-01 to y-m-d (negative before it), proleptic Gregorian. m is 1-12 and d
 * 1-31; the date is not checked (an impossible one counts on into the next month), so check
 * d against msh_days_in_month first when it comes from outside.
 */
int64_t msh_days_from_civil(int64_t y, int m, int d);

/** The inverse: the date `days` after 1970-01-01 (before it when negative). */
void msh_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/** Break `ms` down into UTC calendar fields (floor: -1 ms is 1969-12-31T23:59:59.999). */
void msh_time_split(int64_t ms, msh_time_parts *out);

/**
 * Read the RFC 3339 date-time s[0..n) (the form in the comment at the top; s need not be
 * NUL-terminated) into *ms. MSH_EINVAL with a message naming the field when it is not one or
 * names a date or time that does not exist; *ms is then untouched.
 */
msh_rc msh_time_parse_iso(const char *s, size_t n, int64_t *ms, msh_err *err);

/** msh_time_parse_iso, also taking the forms in `forms` (MSH_TIME_DATE, MSH_TIME_SHORT). */
msh_rc msh_time_parse(const char *s, size_t n, unsigned forms, int64_t *ms, msh_err *err);

/**
 * Write `ms` as "YYYY-MM-DDTHH:MM:SSZ" in UTC, with `frac_digits` (0 to 3; others are clamped)
 * digits of the second after a '.' before the 'Z' ("2026-05-26T08:00:00.250Z" with 3). Years
 * outside 0000-9999 get a sign and as many digits as they need ("+10000-01-01T..."), so any
 * int64_t fits in MSH_TIME_ISO_CAP. Returns the length the text needs, as snprintf does: when
 * it is cap or more the text is cut (always NUL-terminated when cap > 0).
 */
size_t msh_time_format_iso(int64_t ms, char *out, size_t cap, int frac_digits);

#endif
