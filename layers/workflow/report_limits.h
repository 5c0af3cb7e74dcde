/* report_limits.h: what one reporter token may send: reports per minute and photo bytes per hour.
 *
 * Design: two token buckets per reporter (the token's name: every device has its own token), so
 * one phone cannot flood the store: `creates` holds up to `reports_per_min` and refills at that
 * rate per minute; `bytes` holds up to `photo_bytes_per_hour` and refills at that rate per hour. A
 * request takes from its bucket only when the whole of it is there; otherwise the answer is how
 * long until it will be (429 + Retry-After), and nothing was taken. Pure of the clock: every call
 * takes `now_ms` (the server passes msh_now_ms, which --test-clock moves). Memory is bounded: at
 * most MSH_RLIM_MAX entries (a linear scan: microseconds); when full, the entry idle longest is
 * reused. Not thread-safe: the caller holds its own lock.
 */
#ifndef MSH_REPORT_LIMITS_H
#define MSH_REPORT_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSH_RLIM_MAX 8192
#define MSH_RLIM_NAME_MAX 100

typedef struct msh_rlim_cfg {
    double reports_per_min;      /* 0: no limit */
    double photo_bytes_per_hour; /* 0: no limit */
} msh_rlim_cfg;

typedef struct msh_rlim msh_rlim;

msh_rlim *msh_rlim_new(const msh_rlim_cfg *cfg);
void msh_rlim_free(msh_rlim *l);

/** May `who` create one report now? True (and counted) or false with *retry_s (whole seconds, >= 1). */
bool msh_rlim_report(msh_rlim *l, const char *who, int64_t now_ms, int *retry_s);

/** May `who` store `bytes` of photos now? True (and counted) or false with *retry_s; a photo larger
 *  than the whole hourly budget is never allowed (*retry_s 3600). */
bool msh_rlim_photo(msh_rlim *l, const char *who, size_t bytes, int64_t now_ms, int *retry_s);

/** Give back `bytes` taken by msh_rlim_photo for a photo that was then refused (not stored). */
void msh_rlim_photo_refund(msh_rlim *l, const char *who, size_t bytes);

#endif
