/* admit.c: route cost estimates through the admission gate (see admit.h). */
#include "http/admit.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "http/admission.h"

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *const REASON[] = {"", "budget", "slots"};

static void refuse(msh_req *r, msh_admit_result why, unsigned units, unsigned retry_s)
{
    const msh_admission *a = &r->app->admission; /* budget and slots are set once, before any request */
    char msg[400];
    if (why == MSH_ADMIT_SLOTS)
        snprintf(msg, sizeof msg,
                 "busy: %u expensive requests are running, the most at once (--admit-slots); try again in %u s",
                 a->st.slots, retry_s);
    else
        snprintf(msg, sizeof msg,
                 "busy: this request would cost %u units, more than is left of the %u-unit budget of "
                 "expensive work (--admit-budget); try again in %u s",
                 units, a->st.budget, retry_s);
    msh_buf b;
    msh_buf_init(&b, 4096);
    msh_buf_printf(&b, "{\"error\":\"");
    msh_buf_json_str(&b, msg);
    msh_buf_printf(&b, "\",\"reason\":\"%s\",\"cost_units\":%u,\"retry_after_s\":%u,\"status\":503}\n", REASON[why],
                   units, retry_s);
    r->resp.etag[0] = 0;
    r->resp.cache_control = "no-store";
    r->resp.retry_after = retry_s;
    msh_resp_body(r, 503, "application/json", b.data, b.len);
    msh_buf_free(&b);
}

bool msh_admit_begin(msh_req *r, const msh_route *route, msh_admit_ticket *t)
{
    t->units = 0;
    t->t0 = 0;
    if (!route->cost)
        return true;
    int est = route->cost(r);
    if (est == MSH_COST_ANSWERED)
        return false;
    if (est <= 0)
        return true;
    unsigned units = (unsigned)est, retry_s = 1;
    msh_admit_result res = msh_admission_enter(&r->app->admission, r->label, &units, &retry_s);
    if (res != MSH_ADMIT_OK) {
        refuse(r, res, units, retry_s);
        return false;
    }
    t->units = units;
    t->t0 = mono_s();
    return true;
}

/* Requests of at least this many units give their freed memory back to the system when done. */
#define TRIM_UNITS 20

void msh_admit_end(msh_req *r, const msh_admit_ticket *t)
{
    if (!t->units)
        return;
    /* An isochrone's GEOS geometry is a hundred megabytes of small blocks, freed at the end into
     * the arena of the worker thread that ran it; glibc keeps freed pages in each thread's arena,
     * so without this every worker thread would keep the peak of the largest request it ever
     * ran (measured: 30 isochrones on 8 threads left 267 MB resident). A trim after a
     * request of a quarter-second or more costs a few milliseconds. */
    if (t->units >= TRIM_UNITS)
        malloc_trim(0);
    msh_admission_leave(&r->app->admission, t->units, mono_s() - t->t0);
}

void msh_admit_metrics(msh_app *app, msh_buf *o)
{
    msh_admission_stats *st = malloc(sizeof *st);
    if (!st)
        return;
    msh_admission_stats_get(&app->admission, st);
    int n;
    const char *const *labels = msh_route_labels(&n);
    msh_buf_printf(o, "# HELP mashaer_admission_requests_total Expensive requests at the admission gate, by "
                      "endpoint and outcome (admitted, or refused with 503 for the budget or the slots).\n"
                      "# TYPE mashaer_admission_requests_total counter\n");
    for (int e = 0; e < n && e < MSH_METRICS_MAX_LABELS; e++) {
        const uint64_t *c = st->by_label[e];
        if (!c[0] && !c[1] && !c[2])
            continue;
        for (int k = 0; k < 3; k++)
            msh_buf_printf(o, "mashaer_admission_requests_total{endpoint=\"%s\",outcome=\"%s\"} %llu\n", labels[e],
                           k == 0 ? "admitted" : k == 1 ? "refused_budget" : "refused_slots", (unsigned long long)c[k]);
    }
    msh_buf_printf(o,
                   "# HELP mashaer_admission_units Cost units of the expensive requests running now, and the budget.\n"
                   "# TYPE mashaer_admission_units gauge\nmashaer_admission_units{state=\"in_flight\"} %u\n"
                   "mashaer_admission_units{state=\"budget\"} %u\n"
                   "# HELP mashaer_admission_running Expensive requests running now, and the most at once.\n"
                   "# TYPE mashaer_admission_running gauge\nmashaer_admission_running{state=\"in_flight\"} %u\n"
                   "mashaer_admission_running{state=\"slots\"} %u\n"
                   "# HELP mashaer_admission_units_total Cost units of the expensive requests finished.\n"
                   "# TYPE mashaer_admission_units_total counter\nmashaer_admission_units_total %llu\n",
                   st->units, st->budget, st->running, st->slots, (unsigned long long)st->units_done);
    free(st);
}
