/* sim_plan.c: the simulator's plan handed to the forecast: the group departures of a run, logged as
 * they happen and written as a `--forecast-schedule` file (layers/forecast/schedule.h).
 *
 * A departure is what an operator's schedule says of a group: who (its id, as its pilgrims report
 * it), how many, from where to where and when it leaves. The stoning slots are the groups' planned
 * times (sim.c, plan_all); a leg that follows a stay (the Jamarat to the Haram) leaves when the model
 * lets it, after the group's arrival, which an operator would only know roughly. Origin and
 * destination are the walkway nodes the group's route joins and leaves the network at (sim_attach),
 * since the forecast moves people on the walkways only and takes a source within 50 m of one; legs
 * across open ground (to and from Arafat and Muzdalifah) have no walkway and are counted, not written.
 * Each entry also says where the group rests before it leaves (its centre and spread: the forecast
 * takes its people off the slow people seen there rather than adding them) and how long it rests at
 * the destination (the wait before its next step; a day when it has none).
 * The simulator sends nobody back along the way they came (a leg back from the Jamarat is a walk of
 * its own, not a crowd turning round), so no entry is a "return". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/msh_grow.h"
#include "sim_int.h"

/* The waiting area written is the group's disc and about a density cell more: its people are
 * reported in the cells its disc touches. */
#define WAIT_MARGIN_M 10.0

static const char *const k_place_name[PL_N] = {"hotel", "mina", "arafat", "muzdalifah", "jamarat", "haram"};

void msh_sim_log_departures(msh_sim *s) { s->log_departures = 1; }

void msh_sim_departure_counts(const msh_sim *s, uint64_t *written, uint64_t *off_net, uint64_t *dropped)
{
    *written = s->ndep;
    *off_net = s->dep_off_net;
    *dropped = s->dep_dropped;
}

void sim_plan_departure(msh_sim *s, uint32_t gi, int to, double dt, double radius_m, double stay_s)
{
    const sim_group *g = &s->g[gi];
    uint32_t a = sim_attach(s, g, g->place), b = sim_attach(s, g, to);
    if (!g->route_net || a == UINT32_MAX || b == UINT32_MAX) {
        s->dep_off_net++;
        return;
    }
    if (s->ndep >= SIM_MAX_DEPARTURES ||
        msh_grow((void **)&s->dep, &s->depcap, s->ndep + 1, sizeof *s->dep)) {
        s->dep_dropped++; /* the log is bounded; its user is told how many it missed */
        return;
    }
    s->dep[s->ndep++] = (sim_departure){.group = gi, .from = g->place, .to = (uint8_t)to, .a = a, .b = b,
                                        .t = s->t, .dt = dt, .wait_lon = sim_lon(s, g->x),
                                        .wait_lat = sim_lat(s, g->y), .wait_r = radius_m, .stay = stay_s};
}

msh_rc msh_sim_write_schedule(const msh_sim *s, msh_buf *b, msh_err *err)
{
    msh_buf_putc(b, '[');
    for (size_t i = 0; i < s->ndep; i++) {
        const sim_departure *d = &s->dep[i];
        double olon, olat, dlon, dlat;
        msh_graph_node_lonlat(s->net.g, d->a, &olon, &olat);
        msh_graph_node_lonlat(s->net.g, d->b, &dlon, &dlat);
        int64_t from = s->o.day8_ms + llround(d->t * 1000);
        int64_t to = from + (d->dt >= 1 ? llround(d->dt * 1000) : 1000); /* the schedule's shortest window */
        char t0[MSH_TIME_ISO_CAP], t1[MSH_TIME_ISO_CAP];
        msh_time_format_iso(from, t0, sizeof t0, 3);
        msh_time_format_iso(to, t1, sizeof t1, 3);
        msh_buf_printf(b,
                       "%s\n{\"group\":\"G-%0*u\",\"size\":%u,\"origin\":[%.7f,%.7f],\"destination\":[%.7f,%.7f],"
                       "\"depart_from\":\"%s\",\"depart_to\":\"%s\",\"wait_at\":[%.7f,%.7f],"
                       "\"wait_radius_m\":%.0f,\"stay_min\":%.1f,\"leg\":\"%s>%s\"}",
                       i ? "," : "", s->gid_digits, d->group + 1, s->g[d->group].size, olon, olat, dlon, dlat, t0,
                       t1, d->wait_lon, d->wait_lat, fmin(1000, ceil(d->wait_r + WAIT_MARGIN_M)),
                       fmin(1440, d->stay / 60), k_place_name[d->from], k_place_name[d->to]);
    }
    msh_buf_printf(b, "\n]\n");
    if (msh_buf_error(b))
        return msh_err_set(err, msh_buf_error(b), "the schedule of %zu departures does not fit in memory", s->ndep);
    return MSH_OK;
}
