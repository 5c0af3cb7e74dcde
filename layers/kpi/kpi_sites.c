/* kpi_sites.c: how many people each site (Mina, Arafat, Muzdalifah, the Jamarat, the Haram) holds,
 * counted at its gates: the sum of its gates' `in` minus `out` since the site's reset.
 *
 * Rules (docs/KPIS.md, "sites"):
 * - A gate belongs to the site its asset (kind `gate`, `asset_id` = the feed's gate id) names in
 *   `site`; a gate without one counts for no site.
 * - The count starts at the site's last reset (an operator's, POST /kpi/sites/{site}/reset) or at the
 *   start of the day in Makkah (00:00 UTC+3), whichever is later. The history is kept in 5-minute
 *   buckets, so a reset keeps what the site's gates had counted in the bucket holding it so far (its
 *   baseline, stored with it) and the count is that bucket minus the baseline, then the buckets after.
 * - The site's gates are summed bucket by bucket in time order, and the running count never goes
 *   below zero: more people leaving than were counted in (people already there at the reset, a
 *   gate that under-counts) holds it at zero rather than showing a negative crowd (`clamped`).
 */
#include "kpi_int.h"

#include <stdio.h>
#include <string.h>

#include "core/msh_time.h"
#include "live/gate_counts.h"

#define MAKKAH_UTC_OFFSET_MS (3 * 3600000LL)
#define DAY_MS 86400000LL

typedef struct {
    int64_t start, in, out;
} step_t;

static int by_start(const void *a, const void *b)
{
    const step_t *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

void msh_kpi_set_gate_counts(msh_kpi *k, struct msh_gate_counts *gc)
{
    pthread_mutex_lock(&k->lock);
    k->gate_counts = gc;
    pthread_mutex_unlock(&k->lock);
}

static int64_t bucket_of(int64_t t)
{
    return t - ((t % MSH_GATE_BUCKET_MS) + MSH_GATE_BUCKET_MS) % MSH_GATE_BUCKET_MS;
}

/* The site's gates' buckets since `since` into *steps (less the reset's baseline), in time order, counted. */
static msh_rc site_count(msh_kpi *k, msh_kpi_site *s, const msh_site_reset *base, step_t **steps, size_t *cap)
{
    size_t n = 0;
    int64_t from = bucket_of(s->since_ms);
    if (base) { /* the baseline as a step of its own, first in its bucket */
        if (msh_grow_from((void **)steps, cap, 1, sizeof **steps, 256))
            return MSH_ENOMEM;
        (*steps)[n++] = (step_t){from, -base->base_in, -base->base_out};
    }
    for (size_t gi = 0; gi < k->ngates; gi++) {
        if (strcmp(k->gates[gi].site, s->site))
            continue;
        s->gates++;
        size_t nb;
        const msh_gate_bucket *b = msh_gate_counts_gate(k->gate_counts, k->gates[gi].id, from, &nb);
        if (msh_grow_from((void **)steps, cap, n + nb, sizeof **steps, 256))
            return MSH_ENOMEM;
        for (size_t i = 0; i < nb; i++)
            (*steps)[n++] = (step_t){b[i].start_ms, b[i].in, b[i].out};
    }
    if (n > 1) /* qsort's array may not be NULL even when empty */
        qsort(*steps, n, sizeof **steps, by_start);
    int64_t people = 0;
    for (size_t i = 0; i < n; i++) {
        s->in += (*steps)[i].in;
        s->out += (*steps)[i].out;
        people += (*steps)[i].in - (*steps)[i].out;
        bool last_of_start = i + 1 == n || (*steps)[i + 1].start != (*steps)[i].start;
        if (last_of_start && people < 0) { /* the clamp, once per 5 minutes of all the site's gates */
            people = 0;
            s->clamped = true;
        }
    }
    s->people = people;
    return MSH_OK;
}

msh_rc kpi_sites(msh_kpi *k, msh_kpi_result *res, int64_t now_ms, msh_err *err)
{
    if (!k->gate_counts)
        return MSH_OK;
    int64_t day = (now_ms + MAKKAH_UTC_OFFSET_MS) / DAY_MS * DAY_MS - MAKKAH_UTC_OFFSET_MS;
    size_t cap = 0, capst = 0;
    step_t *steps = NULL;
    msh_rc rc = MSH_OK;
    msh_gate_counts_rdlock(k->gate_counts);
    for (size_t gi = 0; gi < k->ngates && !rc; gi++) {
        const char *site = k->gates[gi].site;
        bool seen = !site[0];
        for (size_t i = 0; i < res->nsites && !seen; i++)
            seen = !strcmp(res->sites[i].site, site);
        if (seen)
            continue;
        if (msh_grow_from((void **)&res->sites, &cap, res->nsites + 1, sizeof *res->sites, 8)) {
            rc = MSH_ENOMEM;
            break;
        }
        msh_kpi_site *s = &res->sites[res->nsites++];
        memset(s, 0, sizeof *s);
        snprintf(s->site, sizeof s->site, "%s", site);
        msh_site_reset reset = msh_gate_counts_site_reset(k->gate_counts, site);
        s->since_ms = reset.t_ms > day ? reset.t_ms : day;
        rc = site_count(k, s, reset.t_ms > day ? &reset : NULL, &steps, &capst);
    }
    msh_gate_counts_unlock(k->gate_counts);
    free(steps);
    if (rc)
        return msh_err_set(err, rc, "sites: out of memory");
    for (size_t i = 1; i < res->nsites; i++) /* by name: insertion sort, a handful of sites */
        for (size_t j = i; j > 0 && strcmp(res->sites[j - 1].site, res->sites[j].site) > 0; j--) {
            msh_kpi_site t = res->sites[j];
            res->sites[j] = res->sites[j - 1];
            res->sites[j - 1] = t;
        }
    return MSH_OK;
}

msh_rc msh_kpi_site_reset(msh_kpi *k, const char *site, int64_t now_ms, msh_err *err)
{
    pthread_mutex_lock(&k->lock);
    msh_rc rc = MSH_OK;
    msh_site_reset rs = {now_ms, 0, 0};
    bool known = false;
    if (!k->gate_counts) {
        rc = msh_err_set(err, MSH_ENOTFOUND, "no gate counts on this server");
        goto out;
    }
    msh_gate_counts_rdlock(k->gate_counts); /* the baseline: what the bucket of now holds so far */
    for (size_t gi = 0; gi < k->ngates; gi++) {
        if (strcmp(k->gates[gi].site, site))
            continue;
        known = true;
        size_t nb;
        const msh_gate_bucket *b = msh_gate_counts_gate(k->gate_counts, k->gates[gi].id, bucket_of(now_ms), &nb);
        for (size_t i = 0; i < nb; i++) {
            rs.base_in += b[i].in;
            rs.base_out += b[i].out;
        }
    }
    msh_gate_counts_unlock(k->gate_counts);
    if (!known)
        rc = msh_err_set(err, MSH_ENOTFOUND, "no gate names the site '%.40s' (the sites are listed by /kpi/sites)", site);
    else
        rc = msh_gate_counts_reset_site(k->gate_counts, site, &rs, err);
out:
    pthread_mutex_unlock(&k->lock);
    return rc;
}

msh_rc msh_kpi_site_json(const msh_kpi_site *s, msh_buf *b)
{
    char since[MSH_TIME_ISO_CAP];
    msh_time_format_iso(s->since_ms, since, sizeof since, 0);
    msh_buf_printf(b, "{\"site\":\"");
    msh_buf_json_str(b, s->site);
    return msh_buf_printf(b, "\",\"people\":%lld,\"in\":%lld,\"out\":%lld,\"gates\":%u,\"since\":\"%s\",\"clamped\":%s}",
                          (long long)s->people, (long long)s->in, (long long)s->out, s->gates, since,
                          s->clamped ? "true" : "false");
}

msh_rc msh_kpi_sites_json(const msh_kpi_result *r, msh_buf *b)
{
    msh_buf_putc(b, '[');
    for (size_t i = 0; i < r->nsites; i++) {
        if (i)
            msh_buf_putc(b, ',');
        msh_kpi_site_json(&r->sites[i], b);
    }
    return msh_buf_putc(b, ']');
}
