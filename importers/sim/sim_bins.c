/* sim_bins.c: the simulator's waste bins: filled by the crowd around them, emptied by the cleaning
 * crews that pass (the design note is in sim_int.h, "Bins").
 *
 * The waste: a pilgrim leaves about 2 litres a day where they are (HAJJ_WASTE_L), a quarter of it
 * in the street bins (BIN_SHARE: the rest goes to the camps' own skips); a bin holds BIN_L litres.
 * The people around a bin are the walking ones on the density grid within a cell of it, plus its
 * share of those resting at its site (the site's people over its bins), times HAJJ_CROWD /
 * pilgrims: a run of 600 pilgrims fills bins as the real crowd would, so a short demo still shows
 * bins filling. A bin with 2,000 people around (a Mina street by day) fills in about 6 hours; one
 * on an empty street barely moves. A full bin stays at 1.
 */
#include "sim_int.h"

#define HAJJ_CROWD 1.8e6   /* pilgrims the simulated ones stand for */
#define HAJJ_WASTE_L 2.0   /* litres a pilgrim leaves in the bins a day */
#define BIN_L 240.0        /* a street bin */
#define BIN_SHARE 0.25     /* of that waste, what goes into the street bins */
#define EMPTIED_M 30.0     /* a cleaning crew this close empties a bin */
#define EMPTY_LEFT 0.02    /* what is left in a bin just emptied */

void sim_bins_reset(msh_sim *s)
{
    s->brng.s = s->o.seed ^ 0xb1b5b1b5b1b5b1b5ULL;
    for (uint32_t i = 0; i < s->nbins; i++) {
        s->bins[i].fill = sim_uniform(&s->brng, 0.05, 0.85);
        s->bins[i].factor = sim_uniform(&s->brng, 0.6, 1.4);
    }
}

void sim_bins_step(msh_sim *s, double dt)
{
    if (!s->nbins)
        return;
    double scale = s->np ? fmax(1, HAJJ_CROWD / s->np) : 1;
    double per_person = HAJJ_WASTE_L / 86400.0 / BIN_L * BIN_SHARE * dt; /* fill a person adds in dt */
    for (uint32_t i = 0; i < s->nbins; i++) {
        sim_bin *bn = &s->bins[i];
        double resting = bn->site >= 0 && s->bins_at[bn->site] ? s->site_pop[bn->site] / s->bins_at[bn->site] : 0;
        double people = (sim_people_near(s, bn->p) + resting) * scale;
        bn->fill = fmin(1, bn->fill + people * per_person * bn->factor);
    }
    for (uint32_t c = 0; c < s->ncrews; c++) {
        const sim_crew *cr = &s->crews[c];
        if (cr->kind != 0 || cr->status != CREW_CLEANING)
            continue;
        for (uint32_t i = 0; i < s->nbins; i++)
            if (s->bins[i].fill > EMPTY_LEFT && fabs(s->bins[i].p.x - cr->p.x) < EMPTIED_M &&
                sim_dist(s->bins[i].p, cr->p) < EMPTIED_M)
                s->bins[i].fill = EMPTY_LEFT;
    }
}
