/* msh_time.c: the calendar, the ISO 8601 reader and writer, the wall clock. */
#include "msh_time.h"

#include <stdatomic.h>

#include <stdio.h>
#include <time.h>

/* Days in the 400-year Gregorian cycle, and from 0000-03-01 to 1970-01-01. */
#define ERA_DAYS 146097
#define EPOCH_SHIFT 719468

/* The test clock's lead over the wall clock (msh_time_advance_ms): 0 outside tests. */
static _Atomic int64_t clock_lead_ms;

int64_t msh_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + atomic_load(&clock_lead_ms);
}

int64_t msh_time_advance_ms(int64_t ms)
{
    return atomic_fetch_add(&clock_lead_ms, ms) + ms;
}

bool msh_is_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int msh_days_in_month(int64_t y, int m)
{
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && msh_is_leap_year(y) ? 29 : DAYS[m - 1];
}

/*
 * The year is counted from 1 March, so that February and its leap day come last: the day of
 * that year is then a linear function of the month (153 days every 5 months, 31 30 31 30 31),
 * and the days before a year are 365 a year plus the leap days of the years before it.
 */
int64_t msh_days_from_civil(int64_t y, int m, int d)
{
    if (m <= 2)
        y--;
    int64_t era = (y >= 0 ? y : y - 399) / 400;               /* floor(y / 400) */
    int64_t yoe = y - era * 400;                               /* 0..399 */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365, from 1 March */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;      /* 0..146096 */
    return era * ERA_DAYS + doe - EPOCH_SHIFT;
}

void msh_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + EPOCH_SHIFT;
    int64_t era = (z >= 0 ? z : z - (ERA_DAYS - 1)) / ERA_DAYS;
    int64_t doe = z - era * ERA_DAYS;                                         /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / (ERA_DAYS - 1)) / 365; /* 0..399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                    /* 0..365 */
    int64_t mp = (5 * doy + 2) / 153;                                         /* 0..11, March first */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void msh_time_split(int64_t ms, msh_time_parts *out)
{
    int64_t days = ms / MSH_DAY_MS, rem = ms % MSH_DAY_MS;
    if (rem < 0) { /* floor, without forming days * MSH_DAY_MS (it may not fit near INT64_MIN) */
        rem += MSH_DAY_MS;
        days--;
    }
    int64_t y;
    msh_civil_from_days(days, &y, &out->month, &out->day);
    out->year = (int)y; /* |y| < 3e8 for any int64_t ms */
    out->hour = (int)(rem / 3600000);
    out->minute = (int)(rem / 60000 % 60);
    out->second = (int)(rem / 1000 % 60);
    out->ms = (int)(rem % 1000);
}

size_t msh_time_format_iso(int64_t ms, char *out, size_t cap, int frac_digits)
{
    static const int DIV[4] = {1000, 100, 10, 1};
    msh_time_parts p;
    msh_time_split(ms, &p);
    char year[16], frac[8] = "";
    snprintf(year, sizeof year, p.year >= 0 && p.year <= 9999 ? "%04d" : "%+05d", p.year);
    int fd = frac_digits < 0 ? 0 : frac_digits > 3 ? 3 : frac_digits;
    if (fd)
        snprintf(frac, sizeof frac, ".%0*d", fd, p.ms / DIV[fd]);
    int k = snprintf(out, cap, "%s-%02d-%02dT%02d:%02d:%02d%sZ", year, p.month, p.day, p.hour, p.minute, p.second,
                     frac);
    return k < 0 ? 0 : (size_t)k;
}

/* ---------------------------------------------------------------- reading */

/* A cursor over the text being read. */
typedef struct {
    const char *s;
    size_t n, i;
} rd;

/* Exactly `w` decimal digits at the cursor into *v (and past them); false (cursor kept) if not. */
static bool num(rd *r, int w, int *v)
{
    if (r->n - r->i < (size_t)w)
        return false;
    int x = 0;
    for (int k = 0; k < w; k++) {
        char c = r->s[r->i + (size_t)k];
        if (c < '0' || c > '9')
            return false;
        x = x * 10 + (c - '0');
    }
    *v = x;
    r->i += (size_t)w;
    return true;
}

/* The character `c` at the cursor (and past it). */
static bool lit(rd *r, char c)
{
    if (r->i >= r->n || r->s[r->i] != c)
        return false;
    r->i++;
    return true;
}

static bool at_end(const rd *r)
{
    return r->i == r->n;
}

static msh_rc bad(msh_err *err, const char *what)
{
    return msh_err_set(err, MSH_EINVAL, "%s", what);
}

/* Field `name` of `form`: `w` digits at the cursor, then the separator `sep` unless it is 0. */
static msh_rc field(rd *r, const char *name, int w, int *v, char sep, const char *form, msh_err *err)
{
    if (!num(r, w, v))
        return msh_err_set(err, MSH_EINVAL, "%s: %d digits expected (%s)", name, w, form);
    if (sep && !lit(r, sep))
        return msh_err_set(err, MSH_EINVAL, "'%c' expected after the %s (%s)", sep, name, form);
    return MSH_OK;
}

/* Field `name` read as v: refused outside lo..hi. */
static msh_rc in_range(const char *name, int v, int lo, int hi, msh_err *err)
{
    if (v < lo || v > hi)
        return msh_err_set(err, MSH_EINVAL, "%s: %02d is not %02d to %02d", name, v, lo, hi);
    return MSH_OK;
}

/* YYYY-MM-DD, checked, into days since 1970. */
static msh_rc read_date(rd *r, int64_t *days, msh_err *err)
{
    static const char FORM[] = "YYYY-MM-DD";
    int y, m, d;
    msh_rc rc;
    if ((rc = field(r, "year", 4, &y, '-', FORM, err)) || (rc = field(r, "month", 2, &m, '-', FORM, err)) ||
        (rc = field(r, "day", 2, &d, 0, FORM, err)) || (rc = in_range("month", m, 1, 12, err)))
        return rc;
    int last = msh_days_in_month(y, m);
    if (d < 1)
        return bad(err, "day: 00 is not a day of the month");
    if (d > last) {
        if (m == 2 && d == 29)
            return msh_err_set(err, MSH_EINVAL, "day: %04d is not a leap year, its February has 28 days, not 29", y);
        return msh_err_set(err, MSH_EINVAL, "day: %04d-%02d has %d days, not %02d", y, m, last, d);
    }
    if (y < 1970) /* after the calendar checks: a date that does not exist is said so whatever its year */
        return msh_err_set(err, MSH_EINVAL, "year: %04d is before 1970", y);
    *days = msh_days_from_civil(y, m, d);
    return MSH_OK;
}

/* HH:MM[:SS[.f]] (seconds optional when `short_ok`), checked, into milliseconds of the day. */
static msh_rc read_clock(rd *r, bool short_ok, int64_t *ms, msh_err *err)
{
    static const char FORM[] = "HH:MM:SS";
    int h, mi, sec = 0, frac = 0;
    msh_rc rc;
    if ((rc = field(r, "hour", 2, &h, ':', FORM, err)) || (rc = field(r, "minute", 2, &mi, 0, FORM, err)))
        return rc;
    if (lit(r, ':')) {
        if ((rc = field(r, "second", 2, &sec, 0, FORM, err)))
            return rc;
        if (lit(r, '.')) {
            int k = 0, dig;
            while (num(r, 1, &dig)) {
                if (++k > 9)
                    return bad(err, "fraction: more than 9 digits");
                if (k <= 3)
                    frac = frac * 10 + dig;
            }
            if (k == 0)
                return bad(err, "fraction: digits expected after '.'");
            for (; k < 3; k++)
                frac *= 10;
        }
    } else if (!short_ok) {
        return bad(err, "second: ':' and 2 digits expected after the minute (HH:MM:SS)");
    }
    if (h == 24)
        return bad(err, "hour: 24 is not 00 to 23 (write 00:00:00 of the next day)");
    if ((rc = in_range("hour", h, 0, 23, err)) || (rc = in_range("minute", mi, 0, 59, err)) ||
        (rc = in_range("second", sec, 0, 60, err)))
        return rc;
    *ms = ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + frac;
    return MSH_OK;
}

/* Z or ±HH:MM (nothing when `short_ok`: UTC) into minutes east of UTC. */
static msh_rc read_zone(rd *r, bool short_ok, int *off_min, msh_err *err)
{
    *off_min = 0;
    if ((at_end(r) && short_ok) || lit(r, 'Z'))
        return MSH_OK;
    int sign = lit(r, '+') ? 1 : lit(r, '-') ? -1 : 0, oh, om;
    if (!sign)
        return bad(err, "zone: 'Z' or an offset such as +03:00 expected after the time");
    if (!num(r, 2, &oh) || !lit(r, ':') || !num(r, 2, &om))
        return bad(err, "zone: the offset is +HH:MM or -HH:MM");
    msh_rc rc;
    if ((rc = in_range("zone: offset hours", oh, 0, 14, err)) ||
        (rc = in_range("zone: offset minutes", om, 0, 59, err)))
        return rc;
    *off_min = sign * (oh * 60 + om);
    return MSH_OK;
}

msh_rc msh_time_parse(const char *s, size_t n, unsigned forms, int64_t *ms, msh_err *err)
{
    if (n > MSH_TIME_ISO_MAX_LEN)
        return msh_err_set(err, MSH_EINVAL, "too long for a time (%zu characters, at most %d)", n,
                           MSH_TIME_ISO_MAX_LEN);
    rd r = {s, n, 0};
    int64_t days = 0, tod = 0;
    int off_min = 0;
    msh_rc rc = read_date(&r, &days, err);
    if (rc)
        return rc;
    if (at_end(&r) && !(forms & MSH_TIME_DATE))
        return bad(err, "time expected after the date ('T', HH:MM:SS and a zone: Z or +03:00)");
    if (!at_end(&r)) {
        bool short_ok = forms & MSH_TIME_SHORT;
        if (!lit(&r, 'T') && !lit(&r, ' '))
            return bad(err, "'T' or a space expected between the date and the time");
        if ((rc = read_clock(&r, short_ok, &tod, err)) || (rc = read_zone(&r, short_ok, &off_min, err)))
            return rc;
        if (!at_end(&r))
            return bad(err, "unexpected text after the zone");
    }
    *ms = days * MSH_DAY_MS + tod - (int64_t)off_min * 60000;
    return MSH_OK;
}

msh_rc msh_time_parse_iso(const char *s, size_t n, int64_t *ms, msh_err *err)
{
    return msh_time_parse(s, n, 0, ms, err);
}
