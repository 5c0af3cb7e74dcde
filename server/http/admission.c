/* admission.c: the budget of expensive work in flight (see admission.h). */
#include "http/admission.h"

#include <math.h>
#include <string.h>

/* Before any request has been measured: a guess of 10 ms of CPU per unit. */
#define SECS_PER_UNIT_GUESS 0.01

void msh_admission_init(msh_admission *a, unsigned budget, unsigned slots)
{
    pthread_mutex_init(&a->mu, NULL);
    memset(&a->st, 0, sizeof a->st);
    a->st.budget = budget ? budget : 1;
    a->st.slots = slots ? slots : 1;
    a->secs_per_unit = SECS_PER_UNIT_GUESS;
}

void msh_admission_destroy(msh_admission *a) { pthread_mutex_destroy(&a->mu); }

msh_admit_result msh_admission_enter(msh_admission *a, int label, unsigned *units, unsigned *retry_s)
{
    pthread_mutex_lock(&a->mu);
    unsigned u = *units < 1 ? 1 : *units > a->st.budget ? a->st.budget : *units;
    *units = u;
    msh_admit_result res = MSH_ADMIT_OK;
    bool slot = u >= MSH_ADMIT_SLOT_UNITS;
    if (slot && a->st.running >= a->st.slots)
        res = MSH_ADMIT_SLOTS;
    else if (a->st.units + u > a->st.budget)
        res = MSH_ADMIT_BUDGET;
    if (res == MSH_ADMIT_OK) {
        a->st.units += u;
        a->st.running += slot;
        a->st.admitted++;
    } else {
        if (res == MSH_ADMIT_SLOTS)
            a->st.refused_slots++;
        else
            a->st.refused_budget++;
        /* the work in flight spread over the slots that run it: when room for this one is likely */
        double s = ceil(a->secs_per_unit * a->st.units / (a->st.running ? a->st.running : 1));
        *retry_s = s < 1 ? 1 : s > 60 ? 60 : (unsigned)s;
    }
    if (label >= 0 && label < MSH_METRICS_MAX_LABELS)
        a->st.by_label[label][res]++;
    pthread_mutex_unlock(&a->mu);
    return res;
}

void msh_admission_leave(msh_admission *a, unsigned units, double seconds)
{
    pthread_mutex_lock(&a->mu);
    a->st.units -= units <= a->st.units ? units : a->st.units;
    if (units >= MSH_ADMIT_SLOT_UNITS && a->st.running)
        a->st.running--;
    a->st.units_done += units;
    /* the first measure replaces the guess; then an exponential moving average in which the last
     * twenty or so requests count */
    if (units && seconds >= 0)
        a->secs_per_unit += (a->st.units_done == units ? 1 : 0.05) * (seconds / units - a->secs_per_unit);
    pthread_mutex_unlock(&a->mu);
}

void msh_admission_stats_get(msh_admission *a, msh_admission_stats *out)
{
    pthread_mutex_lock(&a->mu);
    *out = a->st;
    pthread_mutex_unlock(&a->mu);
}
