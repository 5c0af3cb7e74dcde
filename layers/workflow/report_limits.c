/* report_limits.c: per-reporter token buckets (report_limits.h). */
#include "workflow/report_limits.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char name[MSH_RLIM_NAME_MAX + 1]; /* "" : free */
    double creates, bytes;            /* what is left in each bucket */
    int64_t at_ms;                    /* when they were last brought up to date */
} entry;

struct msh_rlim {
    msh_rlim_cfg cfg;
    entry *e;
    size_t n;
};

msh_rlim *msh_rlim_new(const msh_rlim_cfg *cfg)
{
    msh_rlim *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->cfg = *cfg;
    return l;
}

void msh_rlim_free(msh_rlim *l)
{
    if (!l)
        return;
    free(l->e);
    free(l);
}

/* The entry of `who`, its buckets refilled up to now; NULL when out of memory. */
static entry *find(msh_rlim *l, const char *who, int64_t now_ms)
{
    entry *hit = NULL, *oldest = NULL;
    for (size_t i = 0; i < l->n && !hit; i++) {
        if (!strncmp(l->e[i].name, who, MSH_RLIM_NAME_MAX))
            hit = &l->e[i];
        else if (!oldest || l->e[i].at_ms < oldest->at_ms)
            oldest = &l->e[i];
    }
    if (!hit) {
        if (l->n < MSH_RLIM_MAX) {
            if (!l->e && !(l->e = calloc(MSH_RLIM_MAX, sizeof *l->e)))
                return NULL;
            hit = &l->e[l->n++];
        } else {
            hit = oldest;
        }
        memset(hit, 0, sizeof *hit);
        strncpy(hit->name, who, MSH_RLIM_NAME_MAX);
        hit->creates = l->cfg.reports_per_min;
        hit->bytes = l->cfg.photo_bytes_per_hour;
        hit->at_ms = now_ms;
    }
    double dt = now_ms > hit->at_ms ? (double)(now_ms - hit->at_ms) : 0;
    hit->creates = fmin(l->cfg.reports_per_min, hit->creates + dt * l->cfg.reports_per_min / 60000.0);
    hit->bytes = fmin(l->cfg.photo_bytes_per_hour, hit->bytes + dt * l->cfg.photo_bytes_per_hour / 3600000.0);
    hit->at_ms = now_ms > hit->at_ms ? now_ms : hit->at_ms;
    return hit;
}

/* Take `want` from a bucket refilling `rate` per `period_ms`, or say when it can. */
static bool take(double *have, double want, double rate, double period_ms, int *retry_s)
{
    if (*have >= want) {
        *have -= want;
        return true;
    }
    double s = ceil((want - *have) * period_ms / rate / 1000.0);
    *retry_s = s < 1 ? 1 : s > 86400 ? 86400 : (int)s;
    return false;
}

bool msh_rlim_report(msh_rlim *l, const char *who, int64_t now_ms, int *retry_s)
{
    *retry_s = 60;
    if (l->cfg.reports_per_min <= 0)
        return true;
    entry *e = find(l, who, now_ms);
    return e && take(&e->creates, 1, l->cfg.reports_per_min, 60000.0, retry_s);
}

bool msh_rlim_photo(msh_rlim *l, const char *who, size_t bytes, int64_t now_ms, int *retry_s)
{
    *retry_s = 3600;
    if (l->cfg.photo_bytes_per_hour <= 0)
        return true;
    if ((double)bytes > l->cfg.photo_bytes_per_hour)
        return false;
    entry *e = find(l, who, now_ms);
    return e && take(&e->bytes, (double)bytes, l->cfg.photo_bytes_per_hour, 3600000.0, retry_s);
}

void msh_rlim_photo_refund(msh_rlim *l, const char *who, size_t bytes)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strncmp(l->e[i].name, who, MSH_RLIM_NAME_MAX))
            l->e[i].bytes = fmin(l->cfg.photo_bytes_per_hour, l->e[i].bytes + (double)bytes);
}
