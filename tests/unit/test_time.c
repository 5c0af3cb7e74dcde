/* test_time.c: core/msh_time.c against an independent day count, libc's gmtime_r, and values worked out by
 * hand: leap years, impossible dates, offsets, fractions, refusals that name the field, and the writer. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "core/msh_time.h"
#include "kpi/kpi_history.h"
#include "query/qs.h"

/* Parse a NUL-terminated string; *ms is set to a marker first so that a refusal can be seen to keep it. */
static msh_rc parse(const char *s, int64_t *ms, msh_err *err)
{
    *ms = 42;
    err->msg[0] = 0;
    return msh_time_parse_iso(s, strlen(s), ms, err);
}

/* Refused, *ms untouched, and the message holds `want`. */
static int refused(const char *s, const char *want)
{
    int64_t ms;
    msh_err err;
    msh_rc rc = parse(s, &ms, &err);
    if (rc == MSH_EINVAL && ms == 42 && strstr(err.msg, want))
        return 1;
    fprintf(stderr, "  '%s': rc %d, message '%s', wanted '%s'\n", s, (int)rc, err.msg, want);
    return 0;
}

static int64_t parsed(const char *s)
{
    int64_t ms;
    msh_err err;
    if (parse(s, &ms, &err)) {
        fprintf(stderr, "  '%s' refused: %s\n", s, err.msg);
        return INT64_MIN;
    }
    return ms;
}

static int formats(int64_t ms, int frac, const char *want)
{
    char out[MSH_TIME_ISO_CAP];
    size_t n = msh_time_format_iso(ms, out, sizeof out, frac);
    if (n == strlen(want) && !strcmp(out, want))
        return 1;
    fprintf(stderr, "  %lld (%d digits): '%s' (%zu), wanted '%s'\n", (long long)ms, frac, out, n, want);
    return 0;
}

/* A day count that knows nothing of eras or March-based years: walk the calendar one day at a time. */
static int month_len(int y, int m)
{
    if (m == 2)
        return (y % 400 == 0 || (y % 4 == 0 && y % 100 != 0)) ? 29 : 28;
    return (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31;
}

/* One day further (dir 1) or back (dir -1) on the calendar. */
static void step_day(int *y, int *m, int *d, int dir)
{
    *d += dir;
    if (*d > month_len(*y, *m)) {
        *d = 1;
        *m += 1;
    } else if (*d < 1) {
        *m -= 1;
    }
    if (*m > 12 || *m < 1) {
        *y += dir;
        *m = *m > 12 ? 1 : 12;
    }
    if (*d < 1)
        *d = month_len(*y, *m);
}

/* Walk from y-m-d (day `days`) in direction `dir` until y-m-d is `stop_y`-01-01 or 0000-02-29; the number of
 * days on the way where msh_days_from_civil and msh_civil_from_days agree with the walk. */
static int64_t walk(int64_t days, int y, int m, int d, int dir, int stop_y)
{
    int64_t good = 0;
    for (; !(y == stop_y && m == 1 && d == 1) && !(y == 0 && m == 2 && d == 29); days += dir) {
        int64_t yy;
        int mm, dd;
        msh_civil_from_days(days, &yy, &mm, &dd);
        good += msh_days_from_civil(y, m, d) == days && yy == y && mm == m && dd == d;
        step_day(&y, &m, &d, dir);
    }
    return good;
}

static void calendar_walk(void)
{
    CHECK(walk(0, 1970, 1, 1, 1, 2401) == 157420);    /* forwards from 1970-01-01 (day 0) through 2400 */
    CHECK(walk(-1, 1969, 12, 31, -1, -1) == 719468);  /* back to 0000-03-01 (proleptic; 0 is a leap year) */
    /* known values */
    CHECK(msh_days_from_civil(1970, 1, 1) == 0);
    CHECK(msh_days_from_civil(2026, 5, 26) == 20599); /* 1779782400000 ms */
    CHECK(msh_days_from_civil(1900, 1, 1) == -25567);
    CHECK(msh_days_from_civil(1, 1, 1) == -719162);
    CHECK(msh_days_from_civil(0, 3, 1) == -719468);
    CHECK(msh_days_from_civil(9999, 12, 31) == 2932896);
    CHECK(msh_days_from_civil(-1, 12, 31) == msh_days_from_civil(0, 1, 1) - 1);
    int64_t yy;
    int mm, dd;
    msh_civil_from_days(-719469, &yy, &mm, &dd); /* the day before 0000-03-01 */
    CHECK(yy == 0 && mm == 2 && dd == 29);
}

/* msh_time_split against libc from 1970 to 2100, on seconds spread over the whole range. */
static void split_vs_libc(void)
{
    int bad = 0;
    for (int64_t s = 0; s < 4102444800LL; s += 7919 * 37 + 13) {
        int64_t ms = s * 1000 + s % 1000;
        msh_time_parts p;
        msh_time_split(ms, &p);
        time_t t = (time_t)s;
        struct tm tm;
        gmtime_r(&t, &tm);
        if (p.year != tm.tm_year + 1900 || p.month != tm.tm_mon + 1 || p.day != tm.tm_mday || p.hour != tm.tm_hour ||
            p.minute != tm.tm_min || p.second != tm.tm_sec || p.ms != s % 1000)
            bad++;
        int64_t back;
        char text[MSH_TIME_ISO_CAP];
        size_t n = msh_time_format_iso(ms, text, sizeof text, 3);
        if (msh_time_parse_iso(text, n, &back, NULL) || back != ms)
            bad++;
    }
    CHECK(bad == 0);
}

/* Accepted, with the instant each one names. */
static const struct {
    const char *s;
    int64_t ms;
} GOOD[] = {
    /* leap years */
    {"2024-02-29T00:00:00Z", 1709164800000LL},
    {"2000-02-29T12:00:00Z", 951825600000LL},
    {"2026-01-31T00:00:00Z", 1769817600000LL},
    {"2026-12-31T23:59:59.999Z", 1798761599999LL},
    /* the clock; a leap second reads as the next second */
    {"1970-01-01T00:00:00Z", 0},
    {"2026-12-31T23:59:60Z", 1798761600000LL},
    /* fractions: finer than milliseconds is dropped */
    {"2026-05-26T08:00:00.5Z", 1779782400500LL},
    {"2026-05-26T08:00:00.25Z", 1779782400250LL},
    {"2026-05-26T08:00:00.000Z", 1779782400000LL},
    {"2026-05-26T08:00:00.123456789Z", 1779782400123LL},
    /* offsets: the instant is local time minus the offset; +03:00 is Makkah */
    {"2026-05-26T11:00:00+03:00", 1779782400000LL},
    {"2026-05-26T11:00:00.250+03:00", 1779782400250LL},
    {"2026-05-26T02:30:00-05:30", 1779782400000LL},
    {"2026-01-01T01:00:00+03:00", 1767218400000LL}, /* the day and year before in UTC */
    {"2026-05-26T08:00:00-00:00", 1779782400000LL},
    {"2026-05-26T22:00:00+14:00", 1779782400000LL},
    {"1970-01-01T00:00:00+03:00", -3 * 3600000LL},
    {"2026-05-26T08:00:00.123456789+03:00", 1779771600123LL}, /* the longest form, 35 characters */
    /* a space for the 'T', as the feeds accepted before */
    {"2026-05-26 08:00:00Z", 1779782400000LL},
};

/* Refused, with what the message must hold. */
static const struct {
    const char *s;
    const char *why;
} BAD[] = {
    /* days that do not exist */
    {"2026-02-29T00:00:00Z", "day: 2026 is not a leap year, its February has 28 days, not 29"},
    {"2100-02-29T00:00:00Z", "day: 2100 is not a leap year"},
    {"1900-02-29T00:00:00Z", "day: 1900 is not a leap year"},
    {"2026-02-31T00:00:00Z", "day: 2026-02 has 28 days, not 31"},
    {"2024-02-30T00:00:00Z", "day: 2024-02 has 29 days, not 30"},
    {"2026-04-31T00:00:00Z", "day: 2026-04 has 30 days, not 31"},
    {"2026-06-31T00:00:00Z", "day: 2026-06 has 30 days, not 31"},
    {"2026-05-00T00:00:00Z", "day: 00"},
    {"2026-13-01T00:00:00Z", "month: 13 is not 01 to 12"},
    {"2026-00-01T00:00:00Z", "month: 00 is not 01 to 12"},
    {"1969-12-31T23:59:59Z", "year: 1969 is before 1970"},
    /* the clock */
    {"2026-05-26T24:00:00Z", "hour: 24 is not 00 to 23"},
    {"2026-05-26T08:60:00Z", "minute: 60 is not 00 to 59"},
    {"2026-05-26T08:00:61Z", "second: 61 is not 00 to 60"},
    {"2026-05-26T08:00:00.1234567891Z", "fraction: more than 9 digits"},
    {"2026-05-26T08:00:00.Z", "fraction: digits expected"},
    /* zones */
    {"2026-05-26T08:00:00+15:00", "zone: offset hours: 15 is not 00 to 14"},
    {"2026-05-26T08:00:00+03:60", "zone: offset minutes: 60 is not 00 to 59"},
    {"2026-05-26T08:00:00+0300", "zone: the offset is +HH:MM"},
    {"2026-05-26T08:00:00+03", "zone: the offset is +HH:MM"},
    {"2026-05-26T08:00:00", "zone: 'Z' or an offset"},
    {"2026-05-26T08:00:00z", "zone: 'Z' or an offset"},
    /* garbage and overlong input */
    {"", "year: 4 digits"},
    {"yesterday", "year: 4 digits"},
    {"2026", "'-' expected after the year"},
    {"2026-5-26T08:00:00Z", "month: 2 digits"},
    {"2026-05-2", "day: 2 digits"},
    {"2026-05-26", "time expected after the date"},
    {"2026-05-26t08:00:00Z", "'T' or a space"},
    {"2026-05-26T8:00:00Z", "hour: 2 digits"},
    {"2026-05-26T08-00:00Z", "':' expected after the hour"},
    {"2026-05-26T08:00Z", "second: ':' and 2 digits"},
    {"2026-05-26T08:00:00Zjunk", "unexpected text after the zone"},
    {"+2026-05-26T08:00:00Z", "year: 4 digits"},
    {"-026-05-26T08:00:00Z", "year: 4 digits"},
    {"2026-05-26T08:00:00.123456789+03:00x", "too long"},
    {"2026-05-26T08:00:00.000000000000000000000000000000000000000000001Z", "too long"},
};

int main(void)
{
    int64_t ms;
    msh_err err;

    for (size_t i = 0; i < sizeof GOOD / sizeof *GOOD; i++)
        CHECK(parsed(GOOD[i].s) == GOOD[i].ms);
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++)
        CHECK(refused(BAD[i].s, BAD[i].why));
    CHECK(msh_is_leap_year(2024) && msh_is_leap_year(2000) && !msh_is_leap_year(1900) && !msh_is_leap_year(2026));
    CHECK(msh_days_in_month(2024, 2) == 29 && msh_days_in_month(2100, 2) == 28 && msh_days_in_month(2026, 13) == 0);
    CHECK(parsed("2026-12-31T23:59:60Z") == parsed("2027-01-01T00:00:00Z"));
    CHECK(formats(parsed("2026-12-31T23:59:59.999Z"), 3, "2026-12-31T23:59:59.999Z")); /* the round trip */
    CHECK(msh_time_parse_iso("2026-05-26T08:00:00Z\0", 21, &ms, NULL) == MSH_EINVAL); /* a NUL inside */
    CHECK(msh_time_parse_iso("2026-05-26T08:00:00Zxyz", 20, &ms, NULL) == MSH_OK && ms == 1779782400000LL);

    /* the wider forms, only when asked for */
    CHECK(msh_time_parse("2026-05-26", 10, MSH_TIME_DATE, &ms, &err) == MSH_OK && ms == 1779753600000LL);
    CHECK(msh_time_parse("2026-02-29", 10, MSH_TIME_DATE, &ms, &err) == MSH_EINVAL && strstr(err.msg, "leap"));
    CHECK(msh_time_parse("2026-05-26T03:00", 16, MSH_TIME_SHORT, &ms, &err) == MSH_OK && ms == 1779764400000LL);
    CHECK(msh_time_parse("2026-05-26T03:00Z", 17, MSH_TIME_SHORT, &ms, &err) == MSH_OK && ms == 1779764400000LL);
    CHECK(msh_time_parse("2026-05-26T03:00:30", 19, MSH_TIME_SHORT, &ms, &err) == MSH_OK && ms == 1779764430000LL);
    CHECK(msh_time_parse("2026-05-26", 10, MSH_TIME_SHORT, &ms, &err) == MSH_EINVAL);
    CHECK(msh_time_parse("2026-05-26T03:00", 16, MSH_TIME_DATE, &ms, &err) == MSH_EINVAL);

    /* the writer */
    CHECK(formats(0, 0, "1970-01-01T00:00:00Z"));
    CHECK(formats(0, 3, "1970-01-01T00:00:00.000Z"));
    CHECK(formats(-1, 3, "1969-12-31T23:59:59.999Z"));
    CHECK(formats(-1000, 0, "1969-12-31T23:59:59Z"));
    CHECK(formats(-1, 0, "1969-12-31T23:59:59Z")); /* floor, not towards zero */
    CHECK(formats(-86400000LL * 365, 0, "1969-01-01T00:00:00Z"));
    CHECK(formats(1779782400250LL, 0, "2026-05-26T08:00:00Z"));
    CHECK(formats(1779782400250LL, 1, "2026-05-26T08:00:00.2Z"));
    CHECK(formats(1779782400250LL, 2, "2026-05-26T08:00:00.25Z"));
    CHECK(formats(1779782400250LL, 9, "2026-05-26T08:00:00.250Z")); /* clamped to 3 */
    CHECK(formats(1779782400250LL, -1, "2026-05-26T08:00:00Z"));
    CHECK(formats(1709164800000LL, 0, "2024-02-29T00:00:00Z"));
    CHECK(formats(253402300799999LL, 3, "9999-12-31T23:59:59.999Z"));
    CHECK(formats(253402300800000LL, 0, "+10000-01-01T00:00:00Z"));
    CHECK(formats(-62167219200000LL, 0, "0000-01-01T00:00:00Z"));
    CHECK(formats(-62167219200001LL, 0, "-0001-12-31T23:59:59Z"));
    CHECK(formats(INT64_MAX, 3, "+292278994-08-17T07:12:55.807Z"));
    CHECK(formats(INT64_MIN, 3, "-292275055-05-16T16:47:04.192Z"));
    char small[10];
    CHECK(msh_time_format_iso(0, small, sizeof small, 0) == 20 && !strcmp(small, "1970-01-0")); /* cut, like snprintf */

    calendar_walk();
    split_vs_libc();

    /* the wall clock: after 2024, and the same clock as libc's */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = msh_now_ms(), libc = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    CHECK(now > 1704067200000LL && now >= libc && now - libc < 60000);

    /* callers: impossible dates in a request are 400s that name the parameter and the field */
    msh_kpi_hq q;
    CHECK(msh_kpi_hq_parse("2026-02-29T00:00:00Z", "2026-03-01T00:00:00Z", NULL, 1779782400000LL, &q, &err) ==
          MSH_EINVAL);
    CHECK(err.http_status == 400 && strstr(err.msg, "from: not an ISO 8601 time") && strstr(err.msg, "leap year"));
    CHECK(msh_kpi_hq_parse(NULL, "2026-04-31T00:00:00Z", NULL, 1779782400000LL, &q, &err) == MSH_EINVAL);
    CHECK(strstr(err.msg, "to: not an ISO 8601 time") && strstr(err.msg, "has 30 days"));
    CHECK(msh_kpi_hq_parse("2024-02-28T12:00:00Z", "2024-02-29T12:00:00Z", "1h", 1779782400000LL, &q, &err) ==
          MSH_OK);
    CHECK(q.from_ms == 1709121600000LL && q.to_ms == 1709208000000LL);
    int64_t lo, hi;
    CHECK(msh_qs_datetime("2026-02-31/..", &lo, &hi, &err) == MSH_EINVAL && strstr(err.msg, "day: 2026-02 has 28"));
    CHECK(msh_qs_datetime("2024-02-29", &lo, &hi, &err) == MSH_OK && lo == 1709164800000LL &&
          hi == lo + MSH_DAY_MS - 1);
    CHECK_DONE();
}
