/* sim.c: the crowd model: groups on the Hajj schedule, local density and walking speed, crews,
 * incidents, gate counts and sensor state. The design note is in sim_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"
#include "core/msh_grow.h"

#define DAY 86400.0
#define HOUR 3600.0
#define MIN 60.0
#define SUBSTEP 60.0 /* longest model step, simulated seconds */
#define CELL 20.0    /* density grid cell, metres */
#define NONE UINT32_MAX

/* Sun times in Makkah (UTC+3) in late May 2026, taken as the same on all six days. */
#define FAJR_H 4
#define FAJR_M 14
#define SUNSET_H 18
#define SUNSET_M 58

#define JAMARAT_PER_HOUR 300000.0 /* HAJJ-FACTS.md: the Jamarat's capacity */

/* Muzdalifah's centre (HAJJ-FACTS.md), the waypoint between Mina and Arafat. */
#define MUZ_LAT 21.3925
#define MUZ_LON 39.9378

static const char *const k_phase[MSH_SIM_NPHASES] = {
    "makkah", "to_mina", "mina", "to_arafat", "arafat", "to_muzdalifah",
    "muzdalifah", "to_jamarat", "jamarat", "to_haram", "haram", "to_makkah"};
static const uint8_t k_walk_phase[PL_N] = {MSH_SIM_TO_MAKKAH, MSH_SIM_TO_MINA, MSH_SIM_TO_ARAFAT,
                                           MSH_SIM_TO_MUZDALIFAH, MSH_SIM_TO_JAMARAT, MSH_SIM_TO_HARAM};
static const uint8_t k_rest_phase[PL_N] = {MSH_SIM_MAKKAH, MSH_SIM_MINA, MSH_SIM_ARAFAT,
                                           MSH_SIM_MUZDALIFAH, MSH_SIM_JAMARAT, MSH_SIM_HARAM};
static const int k_place_site[PL_N] = {-1, SITE_MINA, SITE_ARAFAT, SITE_MUZDALIFAH, SITE_JAMARAT, SITE_HARAM};
/* How densely a group packs while it stays (persons/m2): hotel lobbies and streets, tents, the
 * open plains, the Jamarat, the mataf. Sets the spread of its pilgrims' positions. */
static const double k_rest_rho[PL_N] = {1.0, 0.5, 0.4, 0.6, 2.0, 2.5};

/* The radius (m) of the disc a group's pilgrims are spread over: packed as it walks, or as it rests. */
static double group_radius(const sim_group *g)
{
    return sqrt(g->size / (M_PI * (g->walking ? fmax(g->rho, 0.8) : k_rest_rho[g->place])));
}

const char *msh_sim_phase_name(int phase)
{
    return phase >= 0 && phase < MSH_SIM_NPHASES ? k_phase[phase] : "?";
}

void msh_sim_opts_init(msh_sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->pilgrims = 100000;
    o->group_min = 20;
    o->group_max = 250;
    o->crews = 40;
    o->incidents_per_hour = 6;
    o->barred_share = 0.3;
    o->seed = 1;
    o->day8_ms = 1779656400000LL;  /* 2026-05-24T21:00:00Z = 2026-05-25 00:00 in Makkah */
    o->start_ms = 1779688800000LL; /* 2026-05-25T06:00:00Z = 09:00 on the 8th */
    o->run_id = "0";
}

double msh_sim_weidmann(double rho)
{
    if (!(rho > 0))
        return 1.34;
    if (rho >= 5.4)
        return 0;
    return 1.34 * (1 - exp(-1.913 * (1 / rho - 1 / 5.4)));
}

void msh_sim_pacer_init(msh_sim_pacer *p, double rate_per_s, uint32_t tick_ms)
{
    p->per_tick = rate_per_s > 0 ? rate_per_s * tick_ms / 1000.0 : 0;
    p->carry = 0;
}

uint64_t msh_sim_pacer_next(msh_sim_pacer *p)
{
    double want = p->per_tick + p->carry;
    uint64_t n = (uint64_t)floor(want + 1e-9);
    p->carry = want - (double)n;
    return n;
}

static double T(int day, int hh, int mm) { return (day - 8) * DAY + hh * HOUR + mm * MIN; }

static double rand_normal(sim_rng *r)
{
    double u = sim_u(r), v = sim_u(r);
    return sqrt(-2 * log(u > 1e-300 ? u : 1e-300)) * cos(2 * M_PI * v);
}

static uint64_t poisson(sim_rng *r, double lambda)
{
    if (!(lambda > 0))
        return 0;
    if (lambda > 30) {
        double x = lambda + sqrt(lambda) * rand_normal(r);
        return x > 0 ? (uint64_t)llround(x) : 0;
    }
    double l = exp(-lambda), p = 1;
    uint64_t k = 0;
    do {
        k++;
        p *= sim_u(r);
    } while (p > l);
    return k - 1;
}

static sim_pt disc(sim_rng *r, sim_pt c, double r0, double r1)
{
    double rr = sqrt(sim_uniform(r, r0 * r0, r1 * r1)), a = sim_uniform(r, 0, 2 * M_PI);
    sim_pt p = {c.x + rr * cos(a), c.y + rr * sin(a)};
    return p;
}

/* ---------------------------------------------------------------- routes */

msh_rc sim_route_push(sim_group *g, sim_pt p)
{
    if (g->rn && fabs(g->route[g->rn - 1].x - p.x) < 0.01 && fabs(g->route[g->rn - 1].y - p.y) < 0.01)
        return MSH_OK;
    if (g->rn == g->rcap) {
        uint32_t nc = g->rcap ? g->rcap * 2 : 16;
        sim_pt *a = realloc(g->route, sizeof *a * nc);
        if (!a)
            return MSH_ENOMEM;
        g->route = a, g->rcap = nc;
    }
    g->route[g->rn++] = p;
    return MSH_OK;
}

uint32_t sim_attach(const msh_sim *s, const sim_group *g, int place)
{
    if (!s->net.n)
        return NONE;
    switch (place) {
    case PL_HOTEL: return g->hotel;
    case PL_HARAM: return s->net.haram;
    case PL_JAMARAT: return s->net.jamarat;
    case PL_MINA: return s->net.root[2 + g->mina_entry];
    default: return NONE;
    }
}

/* Going on from `p` toward `dest` through `w` keeps the distance to dest falling all the way. */
static int monotone(sim_pt p, sim_pt w, sim_pt dest)
{
    return sim_dist(w, dest) < sim_dist(p, dest) && (w.x - p.x) * (dest.x - w.x) + (w.y - p.y) * (dest.y - w.y) >= 0;
}

static msh_rc build_route(msh_sim *s, sim_group *g, int to, msh_err *err)
{
    g->rn = 0;
    g->seg = 0;
    g->seg_pos = 0;
    g->route_net = 0;
    sim_pt here = {g->x, g->y};
    if (sim_route_push(g, here))
        goto nomem;
    uint32_t na = sim_attach(s, g, g->place), nb = sim_attach(s, g, to);
    if (na != NONE && nb != NONE) {
        uint32_t keep = g->rn;
        int r = sim_net_path(s, na, nb, g);
        if (r == -2)
            goto nomem;
        if (r == 0)
            g->route_net = 1;
        else
            g->rn = keep; /* no path: straight */
    } else if ((g->place == PL_MINA && to == PL_ARAFAT) || (g->place == PL_ARAFAT && to == PL_MINA)) {
        sim_pt w = sim_to_xy(s, MUZ_LON, MUZ_LAT);
        if (monotone(here, w, g->spot[to]) && sim_route_push(g, w))
            goto nomem;
    }
    if (sim_route_push(g, g->spot[to]))
        goto nomem;
    return MSH_OK;
nomem:
    return msh_err_set(err, MSH_ENOMEM, "out of memory routing a group");
}

/* ---------------------------------------------------------------- plans */

typedef struct window {
    double a, b, ba, bb; /* stoning window and the barred part of it (ba == bb: none) */
} window;

static double slot_in(sim_rng *r, const window *w, int barred)
{
    if (!barred || w->bb <= w->ba)
        return sim_uniform(r, w->a, w->b);
    double ba = fmax(w->ba, w->a), bb = fmin(w->bb, w->b);
    if (bb <= ba)
        return sim_uniform(r, w->a, w->b);
    double len = (w->b - w->a) - (bb - ba);
    if (len <= 0)
        return bb;
    double x = w->a + sim_u(r) * len;
    return x < ba ? x : x + (bb - ba);
}

static void add_step(sim_group *g, int place, double depart_at, double stay)
{
    if (g->nsteps >= SIM_MAX_STEPS)
        return;
    sim_step *st = &g->steps[g->nsteps++];
    st->place = (uint8_t)place;
    st->depart_at = (int32_t)depart_at;
    st->stay = (int32_t)stay;
}

/* Stretch a stoning window so its pilgrims stay under the Jamarat's capacity. */
static void fit_window(window *w, double pilgrims)
{
    double need = pilgrims / JAMARAT_PER_HOUR * HOUR;
    double have = (w->b - w->a) - fmax(0, fmin(w->bb, w->b) - fmax(w->ba, w->a));
    if (have < need)
        w->b += need - have;
}

static void plan_all(msh_sim *s)
{
    sim_rng *r = &s->rng;
    window w10 = {T(10, 6, 0), T(10, 20, 0), T(10, 6, 0), T(10, 10, 30)};
    window w11 = {T(11, 12, 30), T(11, 23, 0), T(11, 14, 0), T(11, 18, 0)};
    window w12 = {T(12, 12, 30), T(12, 19, 0), T(12, 10, 30), T(12, 14, 0)};
    window w13 = {T(13, 12, 30), T(13, 17, 0), 0, 0};
    double stay13 = 0;
    for (uint32_t i = 0; i < s->ng; i++) {
        sim_group *g = &s->g[i];
        g->barred = sim_u(r) < s->o.barred_share;
        g->weak = sim_u(r) < 0.15;
        g->leaves_12 = sim_u(r) < 0.7;
        if (!g->leaves_12)
            stay13 += g->size;
    }
    fit_window(&w10, s->np);
    fit_window(&w11, s->np);
    fit_window(&w12, s->np);
    fit_window(&w13, stay13);
    for (uint32_t i = 0; i < s->ng; i++) {
        sim_group *g = &s->g[i];
        g->nsteps = 0;
        g->step = 0;
        add_step(g, PL_MINA, T(8, 7, 0) + sim_uniform(r, 0, 13 * HOUR), 0);           /* the 8th, Tarwiyah */
        add_step(g, PL_ARAFAT, T(9, 2, 0) + sim_uniform(r, 0, 4 * HOUR), 30 * MIN);   /* there by about 10:00 */
        add_step(g, PL_MUZDALIFAH, T(9, SUNSET_H, SUNSET_M) + sim_uniform(r, 0, 90 * MIN), HOUR);
        if (g->weak) /* the weak may leave after midnight */
            add_step(g, PL_MINA, T(10, 0, 30) + sim_uniform(r, 0, 150 * MIN), HOUR);
        else
            add_step(g, PL_MINA, T(10, FAJR_H, FAJR_M) + sim_uniform(r, 0, 145 * MIN), HOUR);
        add_step(g, PL_JAMARAT, slot_in(r, &w10, g->barred), 20 * MIN); /* Jamrat al-Aqaba */
        add_step(g, PL_HARAM, 0, sim_uniform(r, 15, 30) * MIN);          /* Tawaf al-Ifadah */
        add_step(g, PL_MINA, 0, sim_uniform(r, 60, 150) * MIN);
        add_step(g, PL_JAMARAT, slot_in(r, &w11, g->barred), 30 * MIN);
        add_step(g, PL_MINA, 0, sim_uniform(r, 20, 40) * MIN);
        add_step(g, PL_JAMARAT, slot_in(r, &w12, g->barred), 30 * MIN);
        if (!g->leaves_12) {
            add_step(g, PL_MINA, 0, sim_uniform(r, 20, 40) * MIN);
            add_step(g, PL_JAMARAT, slot_in(r, &w13, g->barred), 30 * MIN);
        }
        add_step(g, PL_HARAM, 0, sim_uniform(r, 20, 40) * MIN); /* the farewell Tawaf */
        add_step(g, PL_HOTEL, 0, sim_uniform(r, 45, 90) * MIN);
    }
}

/* ---------------------------------------------------------------- groups */

static uint32_t pick_camp(msh_sim *s, int which)
{
    uint32_t n = s->ncamp_site[which];
    if (!n)
        return NONE;
    double x = sim_u(&s->rng) * s->camp_cum[which][n - 1];
    uint32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (s->camp_cum[which][mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return s->camp_idx[which][lo];
}

static sim_pt camp_spot(msh_sim *s, int which, int site)
{
    uint32_t c = pick_camp(s, which);
    if (c == NONE)
        return sim_poly_random(&s->site[site], &s->rng);
    const sim_camp *cp = &s->camps[c];
    sim_pt p = {cp->c.x + sim_uniform(&s->rng, -0.35, 0.35) * cp->w, cp->c.y + sim_uniform(&s->rng, -0.35, 0.35) * cp->h};
    return p;
}

static msh_rc make_groups(msh_sim *s, msh_err *err)
{
    sim_rng *r = &s->rng;
    uint32_t gmin = s->o.group_min, gmax = s->o.group_max;
    uint32_t cap = s->np / gmin + 2;
    s->g = calloc(cap, sizeof *s->g);
    s->ox = malloc(sizeof *s->ox * s->np);
    s->oy = malloc(sizeof *s->oy * s->np);
    if (!s->g || !s->ox || !s->oy)
        return msh_err_set(err, MSH_ENOMEM, "out of memory for %u pilgrims", s->np);
    uint32_t done = 0;
    while (done < s->np) {
        uint32_t n = gmin + sim_below(r, gmax - gmin + 1);
        if (n > s->np - done)
            n = s->np - done;
        if (n < gmin && s->ng) { /* a short last group: share with the one before */
            sim_group *prev = &s->g[s->ng - 1];
            uint32_t both = prev->size + n;
            if (both <= gmax) {
                prev->size = both;
                done += n;
                break;
            }
            prev->size = both / 2;
            n = both - prev->size;
            done = prev->first + prev->size;
        }
        s->g[s->ng].first = done;
        s->g[s->ng].size = n;
        s->ng++;
        done += n;
    }
    for (uint32_t i = 0; i < s->np; i++) {
        double rr = sqrt(sim_u(r)), a = sim_uniform(r, 0, 2 * M_PI);
        s->ox[i] = (float)(rr * cos(a));
        s->oy[i] = (float)(rr * sin(a));
    }
    sim_pt kaaba = sim_to_xy(s, 39.8262, 21.4225); /* HAJJ-FACTS.md */
    sim_pt jam = s->net.n ? sim_net_pos(s, s->net.jamarat) : s->site[SITE_JAMARAT].c;
    for (uint32_t i = 0; i < s->ng; i++) {
        sim_group *g = &s->g[i];
        g->factor = (float)sim_uniform(r, 0.7, 1.05);
        g->variant = (uint8_t)sim_below(r, SIM_VARIANTS);
        if (s->net.nhotels) {
            g->hotel = s->net.hotels[sim_below(r, s->net.nhotels)];
            g->spot[PL_HOTEL] = sim_net_pos(s, g->hotel);
        } else {
            g->hotel = NONE;
            g->spot[PL_HOTEL] = disc(r, kaaba, 300, 1200);
        }
        g->spot[PL_MINA] = camp_spot(s, 0, SITE_MINA);
        g->spot[PL_ARAFAT] = camp_spot(s, 1, SITE_ARAFAT);
        g->spot[PL_MUZDALIFAH] = sim_poly_random(&s->site[SITE_MUZDALIFAH], r);
        /* the bridge is 950 m long on five levels; the mosque reaches about 250 m from the Kaaba */
        g->spot[PL_JAMARAT] = disc(r, jam, 0, 200);
        g->spot[PL_HARAM] = disc(r, kaaba, 20, 250);
        g->mina_entry = 0;
        double bd = INFINITY;
        for (uint32_t e = 0; e < s->net.nentry; e++) {
            double d = sim_dist(sim_net_pos(s, s->net.root[2 + e]), g->spot[PL_MINA]);
            if (d < bd)
                bd = d, g->mina_entry = (uint16_t)e;
        }
    }
    return MSH_OK;
}

static msh_rc camp_tables(msh_sim *s, msh_err *err)
{
    for (int w = 0; w < 2; w++) {
        int site = w ? SITE_ARAFAT : SITE_MINA;
        uint32_t n = 0;
        for (uint32_t i = 0; i < s->ncamps; i++)
            n += s->camps[i].site == site;
        s->ncamp_site[w] = n;
        if (!n)
            continue;
        s->camp_cum[w] = malloc(sizeof *s->camp_cum[w] * n);
        s->camp_idx[w] = malloc(sizeof *s->camp_idx[w] * n);
        if (!s->camp_cum[w] || !s->camp_idx[w])
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
        double cum = 0;
        uint32_t k = 0;
        for (uint32_t i = 0; i < s->ncamps; i++) {
            if (s->camps[i].site != site)
                continue;
            cum += s->camps[i].capacity;
            s->camp_cum[w][k] = cum;
            s->camp_idx[w][k++] = i;
        }
    }
    return MSH_OK;
}

/* ---------------------------------------------------------------- crews */

static msh_rc make_crews(msh_sim *s, msh_err *err)
{
    if (!s->nlines) { /* no cleaning routes: a 300 m square round each site's centre */
        s->lines = calloc(SITE_N, sizeof *s->lines);
        if (!s->lines)
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
        for (int k = 0; k < SITE_N; k++) {
            sim_line *l = &s->lines[k];
            l->pts = malloc(sizeof *l->pts * 5);
            if (!l->pts)
                return msh_err_set(err, MSH_ENOMEM, "out of memory");
            sim_pt c = s->site[k].c;
            sim_pt sq[5] = {{c.x - 150, c.y - 150}, {c.x + 150, c.y - 150}, {c.x + 150, c.y + 150},
                            {c.x - 150, c.y + 150}, {c.x - 150, c.y - 150}};
            memcpy(l->pts, sq, sizeof sq);
            l->n = 5;
            l->site = k;
            s->nlines++;
        }
    }
    s->ncrews = s->o.crews;
    if (!s->ncrews)
        return MSH_OK;
    s->crews = calloc(s->ncrews, sizeof *s->crews);
    if (!s->crews)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    uint32_t ncl = s->ncrews * 2 / 3;
    for (uint32_t i = 0; i < s->ncrews; i++) {
        sim_crew *c = &s->crews[i];
        c->incident = -1;
        if (i < ncl) {
            c->kind = 0;
            c->status = CREW_CLEANING;
            c->line = &s->lines[(uint64_t)i * s->nlines / ncl];
            c->seg = sim_below(&s->rng, c->line->n - 1);
            c->dir = 1;
            c->p = c->line->pts[c->seg];
            if (c->line->name[0])
                snprintf(c->name, sizeof c->name, "%s (%s)", c->line->name, c->line->id);
            else
                snprintf(c->name, sizeof c->name, "Cleaning team %02u", i + 1);
        } else {
            uint32_t j = i - ncl;
            c->kind = 1;
            c->status = CREW_STANDBY;
            c->base = s->nclinics ? s->clinics[j % s->nclinics] : s->site[j % SITE_N].c;
            c->p = c->base;
            snprintf(c->name, sizeof c->name, "Emergency team %02u", j + 1);
        }
    }
    return MSH_OK;
}

/* Move p toward q by at most d metres; 1 when it got there. */
static int move_to(sim_pt *p, sim_pt q, double d)
{
    double L = sim_dist(*p, q);
    if (L <= d) {
        *p = q;
        return 1;
    }
    p->x += (q.x - p->x) * d / L;
    p->y += (q.y - p->y) * d / L;
    return 0;
}

/* ---------------------------------------------------------------- incidents */

static void event(msh_sim *s, const sim_incident *in)
{
    if (s->warming)
        return;
    if (s->nev == 65536)
        return; /* nobody is draining the events: drop rather than grow without end */
    if (msh_grow_from((void **)&s->ev, &s->evcap, s->nev + 1, sizeof *s->ev, 64))
        return;
    sim_event *e = &s->ev[s->nev++];
    e->num = in->num;
    e->kind = (uint8_t)in->kind;
    e->severity = (uint8_t)in->severity;
    e->status = (uint8_t)in->status;
    e->p = in->p;
    memcpy(e->desc, in->desc, sizeof e->desc);
}

static const char *const k_medical[] = {"heat exhaustion", "fainting", "heat stroke", "fall injury",
                                        "breathing difficulty", "chest pain"};
static const char *const k_fire[] = {"cooking gas leak", "small fire in a tent", "electrical fire", "vehicle fire"};
static const char *const k_lost[] = {"elderly pilgrim separated from the group", "child separated from the group",
                                     "pilgrim lost near a gate"};

static int new_incident(msh_sim *s, int kind, sim_pt p, double rho)
{
    int slot = -1;
    for (int i = 0; i < SIM_MAX_INCIDENTS; i++)
        if (!s->inc[i].used) {
            slot = i;
            break;
        }
    if (slot < 0)
        return -1;
    sim_rng *r = &s->rng;
    sim_incident *in = &s->inc[slot];
    memset(in, 0, sizeof *in);
    in->used = 1;
    in->num = ++s->inc_total;
    in->kind = kind;
    in->p = p;
    in->crew = -1;
    in->status = INC_REPORTED;
    in->next_at = s->t + sim_uniform(r, 1, 3) * MIN; /* call handling before dispatch */
    double u = sim_u(r);
    switch (kind) {
    case KIND_MEDICAL:
        in->severity = u < 0.5 ? 2 : u < 0.85 ? 3 : 4;
        snprintf(in->desc, sizeof in->desc, "%s", k_medical[sim_below(r, 6)]);
        break;
    case KIND_FIRE:
        in->severity = u < 0.7 ? 3 : 4;
        snprintf(in->desc, sizeof in->desc, "%s", k_fire[sim_below(r, 4)]);
        break;
    case KIND_LOST:
        in->severity = u < 0.6 ? 1 : 2;
        snprintf(in->desc, sizeof in->desc, "%s", k_lost[sim_below(r, 3)]);
        break;
    default:
        in->severity = rho < 4 ? 2 : rho < 5 ? 3 : 4;
        snprintf(in->desc, sizeof in->desc, "density %.1f persons/m2 (unstable flow)", rho);
        break;
    }
    event(s, in);
    return slot;
}

static double incident_minutes(sim_rng *r, int kind)
{
    switch (kind) {
    case KIND_MEDICAL: return sim_uniform(r, 5, 25);
    case KIND_FIRE: return sim_uniform(r, 10, 40);
    case KIND_LOST: return sim_uniform(r, 15, 60);
    default: return sim_uniform(r, 15, 45);
    }
}

static void step_incidents(msh_sim *s, double dt)
{
    sim_rng *r = &s->rng;
    for (int i = 0; i < SIM_MAX_INCIDENTS; i++) {
        sim_incident *in = &s->inc[i];
        if (!in->used)
            continue;
        if (in->status == INC_REPORTED && s->t >= in->next_at) {
            int best = -1, any = 0;
            double bd = INFINITY;
            for (uint32_t c = 0; c < s->ncrews; c++) {
                sim_crew *cr = &s->crews[c];
                if (cr->kind != 1)
                    continue;
                any = 1;
                if (cr->status != CREW_STANDBY && cr->status != CREW_RETURNING)
                    continue;
                double d = sim_dist(cr->p, in->p);
                if (d < bd)
                    bd = d, best = (int)c;
            }
            if (best >= 0) {
                in->crew = best;
                s->crews[best].status = CREW_EN_ROUTE;
                s->crews[best].incident = i;
            } else if (any) {
                continue; /* every team is busy: wait */
            } else {
                in->next_at = s->t + sim_uniform(r, 3, 10) * MIN; /* no teams simulated: a notional one */
            }
            in->status = INC_DISPATCHED;
            event(s, in);
        } else if (in->status == INC_DISPATCHED && in->crew < 0 && s->t >= in->next_at) {
            in->status = INC_ON_SCENE;
            in->next_at = s->t + incident_minutes(r, in->kind) * MIN;
            event(s, in);
        } else if (in->status == INC_ON_SCENE && s->t >= in->next_at) {
            in->status = INC_RESOLVED;
            event(s, in);
            if (in->crew >= 0) {
                s->crews[in->crew].status = CREW_RETURNING;
                s->crews[in->crew].incident = -1;
            }
            in->used = 0;
        }
    }
    /* crews */
    for (uint32_t c = 0; c < s->ncrews; c++) {
        sim_crew *cr = &s->crews[c];
        if (cr->kind == 0) { /* sweep back and forth along the route at cleaning pace */
            double d = 0.6 * dt;
            const sim_line *l = cr->line;
            for (int guard = 0; d > 0 && l->n > 1 && guard < 1000; guard++) {
                uint32_t nx = cr->dir > 0 ? cr->seg + 1 : cr->seg - 1;
                if (nx >= l->n) { /* an end: turn */
                    cr->dir = -cr->dir;
                    continue;
                }
                double L = sim_dist(cr->p, l->pts[nx]);
                if (L > d) {
                    move_to(&cr->p, l->pts[nx], d);
                    d = 0;
                } else {
                    cr->p = l->pts[nx];
                    cr->seg = nx;
                    d -= L;
                    if (nx == 0 || nx == l->n - 1)
                        cr->dir = -cr->dir;
                }
            }
        } else if (cr->status == CREW_EN_ROUTE && cr->incident >= 0) {
            sim_incident *in = &s->inc[cr->incident];
            if (move_to(&cr->p, in->p, 3.0 * dt)) { /* service vehicles and buggies, about 11 km/h */
                cr->status = CREW_ON_SCENE;
                in->status = INC_ON_SCENE;
                in->next_at = s->t + dt + incident_minutes(r, in->kind) * MIN;
                event(s, in);
            }
        } else if (cr->status == CREW_RETURNING) {
            if (move_to(&cr->p, cr->base, 2.0 * dt))
                cr->status = CREW_STANDBY;
        }
    }
}

/* A random incident where someone is. */
static void spawn_incidents(msh_sim *s, double dt)
{
    sim_rng *r = &s->rng;
    uint64_t n = poisson(r, s->o.incidents_per_hour * dt / HOUR);
    for (uint64_t k = 0; k < n && s->np; k++) {
        uint32_t p = sim_below(r, s->np), lo = 0, hi = s->ng - 1;
        while (lo < hi) { /* the group holding pilgrim p */
            uint32_t mid = (lo + hi + 1) / 2;
            if (s->g[mid].first <= p)
                lo = mid;
            else
                hi = mid - 1;
        }
        const sim_group *g = &s->g[lo];
        double rad = group_radius(g);
        sim_pt at = {g->x + s->ox[p] * rad, g->y + s->oy[p] * rad};
        double u = sim_u(r);
        new_incident(s, u < 0.65 ? KIND_MEDICAL : u < 0.9 ? KIND_LOST : KIND_FIRE, at, 0);
    }
}

/* ---------------------------------------------------------------- gates */

static void count_gate(msh_sim *s, int site, sim_pt p, uint32_t n, int in)
{
    if (site < 0 || s->warming)
        return;
    sim_gate *best = NULL;
    double bd = INFINITY;
    for (uint32_t i = 0; i < s->ngates; i++) {
        if (s->gates[i].site != site)
            continue;
        double d = sim_dist(s->gates[i].p, p);
        if (d < bd)
            bd = d, best = &s->gates[i];
    }
    if (best) {
        if (in)
            best->in += n;
        else
            best->out += n;
    }
}

/* People going in and out on errands while their group stays: 1 % of a site's stayers a minute
 * each way, shared by its gates. */
static void gate_background(msh_sim *s, double dt)
{
    uint32_t per_site[SITE_N] = {0};
    for (uint32_t i = 0; i < s->ngates; i++)
        if (s->gates[i].site >= 0)
            per_site[s->gates[i].site]++;
    for (uint32_t i = 0; i < s->ngates; i++) {
        sim_gate *gt = &s->gates[i];
        if (gt->site < 0)
            continue;
        double lambda = s->site_pop[gt->site] / per_site[gt->site] * 0.01 * dt / MIN;
        gt->in += poisson(&s->rng, lambda);
        gt->out += poisson(&s->rng, lambda);
    }
}

/* ---------------------------------------------------------------- the step */

static uint32_t cell_of(const msh_sim *s, double x, double y)
{
    double fx = (x - s->gx0) / s->cell, fy = (y - s->gy0) / s->cell;
    uint32_t cx = fx <= 0 ? 0 : fx >= s->gw - 1 ? s->gw - 1 : (uint32_t)fx;
    uint32_t cy = fy <= 0 ? 0 : fy >= s->gh - 1 ? s->gh - 1 : (uint32_t)fy;
    return cy * s->gw + cx;
}

double sim_people_near(const msh_sim *s, sim_pt p)
{
    uint32_t c = cell_of(s, p.x, p.y), cx = c % s->gw, cy = c / s->gw;
    double sum = 0;
    for (uint32_t yy = cy ? cy - 1 : 0; yy <= cy + 1 && yy < s->gh; yy++)
        for (uint32_t xx = cx ? cx - 1 : 0; xx <= cx + 1 && xx < s->gw; xx++)
            sum += s->grid[yy * s->gw + xx];
    return sum;
}

static double density_at(const msh_sim *s, double x, double y, double walkable)
{
    return sim_people_near(s, (sim_pt){x, y}) / (9 * s->cell * s->cell * walkable);
}

static void advance(sim_group *g, double d)
{
    while (d > 0 && g->seg + 1 < g->rn) {
        sim_pt a = g->route[g->seg], b = g->route[g->seg + 1];
        double left = sim_dist(a, b) - g->seg_pos;
        if (d < left) {
            g->seg_pos += d;
            d = 0;
        } else {
            d -= left;
            g->seg++;
            g->seg_pos = 0;
        }
    }
    if (g->seg + 1 >= g->rn) {
        g->x = g->route[g->rn - 1].x;
        g->y = g->route[g->rn - 1].y;
        return;
    }
    sim_pt a = g->route[g->seg], b = g->route[g->seg + 1];
    double L = sim_dist(a, b), f = L > 0 ? g->seg_pos / L : 0;
    g->x = a.x + (b.x - a.x) * f;
    g->y = a.y + (b.y - a.y) * f;
    double h = atan2(b.x - a.x, b.y - a.y) * 180 / M_PI;
    g->heading = h < 0 ? h + 360 : h;
}

/* The point d metres further along the group's route. */
static sim_pt look_ahead(const sim_group *g, double d)
{
    uint32_t seg = g->seg;
    double pos = g->seg_pos + d;
    while (seg + 1 < g->rn) {
        sim_pt a = g->route[seg], b = g->route[seg + 1];
        double L = sim_dist(a, b);
        if (pos <= L) {
            double f = L > 0 ? pos / L : 0;
            sim_pt p = {a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f};
            return p;
        }
        pos -= L;
        seg++;
    }
    return g->route[g->rn - 1];
}

static msh_rc substep(msh_sim *s, double dt, msh_err *err)
{
    /* the density grid from where the groups are now */
    for (uint32_t i = 0; i < s->ntouched; i++)
        s->grid[s->touched[i]] = 0;
    s->ntouched = 0;
    memset(s->site_pop, 0, sizeof s->site_pop);
    for (uint32_t i = 0; i < s->ng; i++) {
        sim_group *g = &s->g[i];
        if (g->walking || g->place == PL_JAMARAT || g->place == PL_HARAM) {
            uint32_t c = cell_of(s, g->x, g->y);
            if (s->grid[c] == 0)
                s->touched[s->ntouched++] = c;
            s->grid[c] += (float)g->size;
        }
        if (!g->walking && k_place_site[g->place] >= 0)
            s->site_pop[k_place_site[g->place]] += g->size;
        else if (!g->walking) /* in Makkah: half of them at the Haram at any time, for the prayers */
            s->site_pop[SITE_HARAM] += g->size / 2.0;
    }
    s->max_rho = 0;
    for (uint32_t i = 0; i < s->ng; i++) {
        sim_group *g = &s->g[i];
        if (!g->walking) {
            g->speed = 0;
            if (g->step >= g->nsteps)
                continue;
            const sim_step *st = &g->steps[g->step];
            if (s->t < st->depart_at || s->t < g->arrived_at + st->stay)
                continue;
            if (build_route(s, g, st->place, err))
                return MSH_ENOMEM;
            if (s->log_departures && !s->warming) /* its stay there is the wait before its next step */
                sim_plan_departure(s, i, st->place, dt, group_radius(g),
                                   g->step + 1 < g->nsteps ? g->steps[g->step + 1].stay : 86400);
            count_gate(s, k_place_site[g->place], g->spot[g->place], g->size, 0);
            g->walking = 1;
            g->phase = k_walk_phase[st->place];
        }
        /* streets are about a third of the ground in the city, the roads between the sites more */
        double walkable = g->route_net ? 0.35 : 0.6;
        sim_pt ahead = look_ahead(g, 60);
        double rho_ahead = density_at(s, ahead.x, ahead.y, walkable);
        g->rho = density_at(s, g->x, g->y, walkable);
        if (g->rho > s->max_rho)
            s->max_rho = g->rho;
        if (rho_ahead >= 5.4 && g->rho < 4)
            g->speed = 0; /* do not walk into a jam: queue before it (who is in it moves on) */
        else
            g->speed = fmax(0.1, g->factor * msh_sim_weidmann(fmax(g->rho, rho_ahead)));
        advance(g, g->speed * dt);
        if (g->seg + 1 >= g->rn) {
            int to = g->steps[g->step].place;
            g->walking = 0;
            g->speed = 0;
            g->place = (uint8_t)to;
            g->phase = k_rest_phase[to];
            g->arrived_at = s->t + dt;
            g->step++;
            count_gate(s, k_place_site[to], g->spot[to], g->size, 1);
        } else if (g->rho >= 3.5 && !s->warming && sim_u(&s->rng) < 0.2) {
            /* Still's unstable band: report crowding unless it is already reported close by */
            sim_pt here = {g->x, g->y};
            int near = 0;
            for (int k = 0; k < SIM_MAX_INCIDENTS && !near; k++)
                near = s->inc[k].used && s->inc[k].kind == KIND_CROWDING && sim_dist(s->inc[k].p, here) < 300;
            if (!near)
                new_incident(s, KIND_CROWDING, here, g->rho);
        }
    }
    if (!s->warming) {
        spawn_incidents(s, dt);
        gate_background(s, dt);
    }
    step_incidents(s, dt);
    if (!s->warming)
        sim_bins_step(s, dt);
    s->t += dt;
    return MSH_OK;
}

static void refresh_emit_cache(msh_sim *s)
{
    for (uint32_t i = 0; i < s->ng; i++) {
        sim_group *g = &s->g[i];
        double rad = group_radius(g);
        g->clon = sim_lon(s, g->x);
        g->clat = sim_lat(s, g->y);
        g->rlon = rad / s->kx;
        g->rlat = rad / s->ky;
    }
}

/* Everyone at the hotel, new plans, and the model run from 00:00 of the 8th to the start. */
static msh_rc restart(msh_sim *s, msh_err *err)
{
    for (uint32_t i = 0; i < s->ng; i++) {
        sim_group *g = &s->g[i];
        g->place = PL_HOTEL;
        g->phase = MSH_SIM_MAKKAH;
        g->walking = 0;
        g->x = g->spot[PL_HOTEL].x;
        g->y = g->spot[PL_HOTEL].y;
        g->speed = g->heading = g->rho = 0;
        g->arrived_at = -DAY;
        g->rn = 0;
        g->route_net = 0;
    }
    plan_all(s);
    s->t = 0;
    s->warming = 1;
    while (s->t < s->t_start) {
        double dt = fmin(SUBSTEP, s->t_start - s->t);
        if (substep(s, dt, err))
            return MSH_ENOMEM;
    }
    s->warming = 0;
    s->next_sensor_t = s->t;
    s->next_bin_t = s->t;
    sim_bins_reset(s);
    refresh_emit_cache(s);
    return MSH_OK;
}

msh_rc msh_sim_step(msh_sim *s, double dt, msh_err *err)
{
    while (dt > 1e-9) {
        double d = fmin(dt, SUBSTEP);
        if (substep(s, d, err))
            return MSH_ENOMEM;
        dt -= d;
        if (s->t >= SIM_DAYS * DAY) {
            s->loops++;
            if (restart(s, err))
                return MSH_ENOMEM;
        }
    }
    refresh_emit_cache(s);
    return MSH_OK;
}

/* ---------------------------------------------------------------- create, destroy, look */

static int digits(uint64_t v)
{
    int n = 1;
    while (v >= 10)
        v /= 10, n++;
    return n;
}

msh_rc msh_sim_create(const msh_sim_opts *o, msh_sim **out, msh_err *err)
{
    msh_rc rc = MSH_OK;
    *out = NULL;
    if (o->pilgrims < 1 || o->pilgrims > 50000000)
        return msh_err_set(err, MSH_EINVAL, "pilgrims must be 1 to 50,000,000 (got %u)", o->pilgrims);
    if (o->group_min < 1 || o->group_min > o->group_max)
        return msh_err_set(err, MSH_EINVAL, "group sizes: need 1 <= min <= max (got %u..%u)", o->group_min,
                           o->group_max);
    if (o->start_ms < o->day8_ms || o->start_ms >= o->day8_ms + (int64_t)(SIM_DAYS * DAY * 1000))
        return msh_err_set(err, MSH_EINVAL,
                           "the start must fall within the six days from 00:00 (Makkah time) of 8 Dhul Hijjah");
    if (o->crews > 10000)
        return msh_err_set(err, MSH_EINVAL, "at most 10,000 crews");
    msh_sim *s = calloc(1, sizeof *s);
    if (!s)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    s->o = *o;
    snprintf(s->run_id, sizeof s->run_id, "%s", o->run_id && *o->run_id ? o->run_id : "0");
    for (char *c = s->run_id; *c; c++) /* it goes into ids: keep it to letters, digits, - and _ */
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
            *c = '-';
    s->o.run_id = s->run_id;
    double phi = SIM_LAT0 * M_PI / 180;
    s->ky = 111132.92 - 559.82 * cos(2 * phi) + 1.175 * cos(4 * phi);
    s->kx = 111412.84 * cos(phi) - 93.5 * cos(3 * phi);
    s->rng.s = o->seed ^ 0x6a09e667f3bcc908ull;
    s->erng.s = o->seed * 0x9E3779B97F4A7C15ull + 0xbb67ae8584caa73bull;
    s->np = o->pilgrims;
    s->t_start = (double)(o->start_ms - o->day8_ms) / 1000.0;
    s->id_digits = digits(s->np) > 7 ? digits(s->np) : 7;
    msh_sim_set_stamp(s, o->start_ms);

    if ((rc = sim_load(s, err)))
        goto out;
    if ((rc = camp_tables(s, err)))
        goto out;
    /* the density grid over the sites and the network, 500 m around */
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (int k = 0; k < SITE_N; k++) {
        minx = fmin(minx, s->site[k].minx), maxx = fmax(maxx, s->site[k].maxx);
        miny = fmin(miny, s->site[k].miny), maxy = fmax(maxy, s->site[k].maxy);
    }
    for (uint32_t i = 0; i < s->net.nhotels; i++) {
        sim_pt p = sim_net_pos(s, s->net.hotels[i]);
        minx = fmin(minx, p.x), maxx = fmax(maxx, p.x), miny = fmin(miny, p.y), maxy = fmax(maxy, p.y);
    }
    minx -= 500, miny -= 500, maxx += 500, maxy += 500;
    s->cell = CELL;
    while ((maxx - minx) / s->cell * (maxy - miny) / s->cell > 8e6)
        s->cell *= 2;
    s->gx0 = minx, s->gy0 = miny;
    s->gw = (uint32_t)((maxx - minx) / s->cell) + 1;
    s->gh = (uint32_t)((maxy - miny) / s->cell) + 1;
    s->grid = calloc((size_t)s->gw * s->gh, sizeof *s->grid);
    if (!s->grid) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory for the density grid");
        goto out;
    }
    if ((rc = make_groups(s, err)))
        goto out;
    s->gid_digits = digits(s->ng) > 5 ? digits(s->ng) : 5;
    s->touched = malloc(sizeof *s->touched * s->ng);
    if (!s->touched) {
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = make_crews(s, err)))
        goto out;
    for (uint32_t i = 0; i < s->nsensors; i++) {
        s->sensors[i].t_off = sim_uniform(&s->rng, -1, 1) + (s->sensors[i].site == SITE_ARAFAT ? 0.5 : 0);
    }
    if ((rc = restart(s, err)))
        goto out;
    *out = s;
    return MSH_OK;
out:
    msh_sim_destroy(s);
    return rc;
}

void msh_sim_destroy(msh_sim *s)
{
    if (!s)
        return;
    sim_data_free(s);
    if (s->g)
        for (uint32_t i = 0; i < s->ng; i++)
            free(s->g[i].route);
    free(s->g);
    free(s->ox);
    free(s->oy);
    free(s->grid);
    free(s->touched);
    free(s->crews);
    free(s->ev);
    free(s->dep);
    free(s);
}

int64_t msh_sim_time_ms(const msh_sim *s)
{
    return s->o.day8_ms + (int64_t)llround(s->t * 1000);
}

void msh_sim_get_stats(const msh_sim *s, msh_sim_stats *st)
{
    memset(st, 0, sizeof *st);
    st->time_ms = msh_sim_time_ms(s);
    st->pilgrims = s->np;
    st->groups = s->ng;
    for (uint32_t i = 0; i < s->ng; i++)
        st->in_phase[s->g[i].phase] += s->g[i].size;
    for (int i = 0; i < SIM_MAX_INCIDENTS; i++)
        st->incidents_open += s->inc[i].used != 0;
    for (uint32_t c = 0; c < s->ncrews; c++)
        st->crews_busy += s->crews[c].kind == 1 && s->crews[c].status != CREW_STANDBY;
    st->incidents_total = s->inc_total;
    st->loops = s->loops;
    st->net_nodes = s->net.n;
    st->camps = s->ncamps;
    st->gates = s->ngates;
    st->sensors = s->nsensors;
    st->bins = s->nbins;
    st->max_density = s->max_rho;
}

uint32_t msh_sim_group_count(const msh_sim *s) { return s->ng; }

void msh_sim_group_get(const msh_sim *s, uint32_t i, msh_sim_group_info *gi)
{
    memset(gi, 0, sizeof *gi);
    if (i >= s->ng)
        return;
    const sim_group *g = &s->g[i];
    gi->phase = g->phase;
    gi->walking = g->walking;
    gi->size = g->size;
    gi->lon = sim_lon(s, g->x);
    gi->lat = sim_lat(s, g->y);
    sim_pt t = g->walking ? g->spot[g->steps[g->step].place] : g->spot[g->place];
    gi->target_lon = sim_lon(s, t.x);
    gi->target_lat = sim_lat(s, t.y);
    gi->speed = g->speed;
    gi->density = g->rho;
}

void msh_sim_sites_bbox(const msh_sim *s, double bbox[4])
{
    memcpy(bbox, s->site_bbox, sizeof s->site_bbox);
}
