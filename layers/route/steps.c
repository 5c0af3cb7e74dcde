/* steps.c: turn-by-turn steps of a walking route, with street names, in a language (steps.h). */
#include "steps.h"

#include <math.h>
#include <string.h>

static double bearing(double lon1, double lat1, double lon2, double lat2)
{
    double kx = cos(0.5 * (lat1 + lat2) * M_PI / 180);
    double b = atan2((lon2 - lon1) * kx, lat2 - lat1) * 180 / M_PI;
    return b < 0 ? b + 360 : b;
}

static int octant(double b) { return (int)floor(fmod(b + 22.5, 360) / 45) % 8; }

static msh_maneuver turn(double delta)
{
    /* delta in (-180, 180]: positive is clockwise (right) */
    double a = fabs(delta);
    if (a < 30)
        return MSH_MV_CONTINUE;
    if (a < 60)
        return delta > 0 ? MSH_MV_BEAR_RIGHT : MSH_MV_BEAR_LEFT;
    if (a < 150)
        return delta > 0 ? MSH_MV_TURN_RIGHT : MSH_MV_TURN_LEFT;
    return MSH_MV_TURN_AROUND;
}

/* ------------------------------------------------------------------ street names along the line */

/* The path's edges as intervals of distance along the line, walked in order by a cursor. */
typedef struct namer {
    const msh_graph *g;
    const uint32_t *edges;
    const double *edge_m;
    size_t ne, k;  /* k: the first edge that ends after the last step's end */
    double k_at;   /* where edge k starts on the line */
    bool ar;
} namer;

/* The street name to say for an edge in the namer's language: its own, else the other. */
static const char *edge_name(const namer *nm, uint32_t e)
{
    const char *en, *ar;
    if (!msh_graph_edge_names(nm->g, e, &en, &ar))
        return "";
    return nm->ar ? (*ar ? ar : en) : (*en ? en : ar);
}

#define NAME_SLOTS 8

/* The name walked along for at least half of [d0, d1], "" when none is. */
static const char *step_name(namer *nm, double d0, double d1)
{
    const char *name[NAME_SLOTS];
    double metres[NAME_SLOTS];
    int used = 0;
    while (nm->k < nm->ne && nm->k_at + nm->edge_m[nm->k] <= d0) {
        nm->k_at += nm->edge_m[nm->k];
        nm->k++;
    }
    double at = nm->k_at;
    for (size_t j = nm->k; j < nm->ne && at < d1; at += nm->edge_m[j], j++) {
        double in = fmin(d1, at + nm->edge_m[j]) - fmax(d0, at);
        const char *s = edge_name(nm, nm->edges[j]);
        if (in <= 0 || !*s)
            continue;
        int i = 0;
        while (i < used && strcmp(name[i], s))
            i++;
        if (i == used) {
            if (used == NAME_SLOTS)
                continue;
            name[used] = s;
            metres[used++] = 0;
        }
        metres[i] += in;
    }
    int best = -1;
    for (int i = 0; i < used; i++)
        if (best < 0 || metres[i] > metres[best])
            best = i;
    return best >= 0 && metres[best] >= 0.5 * (d1 - d0) ? name[best] : "";
}

/* ------------------------------------------------------------------ steps */

/* One step; *prev is the street of the step before ("" for none), then this one's. */
static void put_step(msh_buf *b, bool first, msh_maneuver m, double br, double run, double secs, const double *at,
                     const char *name, const char **prev, const msh_phrases *ph)
{
    msh_buf_printf(b, "%s{\"maneuver\":\"%s\",\"instruction\":", first ? "" : ",", msh_maneuver_code(m));
    msh_phrases_say_json(b, ph, m, octant(br), name, *name && !strcmp(name, *prev));
    *prev = name;
    if (*name) {
        msh_buf_printf(b, ",\"name\":\"");
        msh_buf_json_str(b, name);
        msh_buf_putc(b, '"');
    }
    msh_buf_printf(b, ",\"heading\":\"%s\",\"bearing\":%.0f,\"distance_m\":%.1f,\"duration_s\":%.0f,"
                      "\"location\":[%.7f,%.7f]}",
                   msh_compass_code(octant(br)), br, run, secs, at[0], at[1]);
}

void msh_steps_json(msh_buf *b, const msh_graph *g, const msh_path *p, const double *ll, size_t n, double lead_m,
                    double secs_per_m, const msh_phrases *ph)
{
    namer nm = {g, (const uint32_t *)p->edges.data, (const double *)p->edge_m.data,
                p->edges.len / sizeof(uint32_t), 0, lead_m, !strcmp(ph->lang, "ar")};
    if (p->edge_m.len / sizeof(double) < nm.ne)
        nm.ne = p->edge_m.len / sizeof(double);
    msh_buf_printf(b, "\"steps\":[");
    size_t start = 0;
    int k = 0;
    double run = 0, run_bearing = -1, prev_bearing = -1, pos = 0; /* pos: where the run starts on the line */
    const char *prev = "";
    for (size_t i = 1; i < n; i++) {
        double seg = msh_metres(ll[2 * i - 2], ll[2 * i - 1], ll[2 * i], ll[2 * i + 1]);
        if (seg < 0.01)
            continue;
        double br = bearing(ll[2 * i - 2], ll[2 * i - 1], ll[2 * i], ll[2 * i + 1]);
        if (run_bearing < 0)
            run_bearing = br;
        double delta = fmod(br - run_bearing + 540, 360) - 180;
        if (run >= 15 && fabs(delta) >= 30) {
            msh_maneuver m = k == 0 ? MSH_MV_DEPART : turn(fmod(run_bearing - prev_bearing + 540, 360) - 180);
            put_step(b, k == 0, m, run_bearing, run, run * secs_per_m, ll + 2 * start, step_name(&nm, pos, pos + run),
                     &prev, ph);
            k++;
            prev_bearing = run_bearing;
            start = i - 1;
            pos += run;
            run = 0;
            run_bearing = br;
        }
        run += seg;
    }
    if (run > 0 || k == 0) {
        msh_maneuver m = k == 0 ? MSH_MV_DEPART : turn(fmod(run_bearing - prev_bearing + 540, 360) - 180);
        double br = run_bearing < 0 ? 0 : run_bearing;
        put_step(b, k == 0, m, br, run, run * secs_per_m, ll + 2 * start, step_name(&nm, pos, pos + run), &prev, ph);
    }
    msh_buf_printf(b, ",{\"maneuver\":\"arrive\",\"instruction\":");
    msh_phrases_say_json(b, ph, MSH_MV_ARRIVE, 0, NULL, false);
    msh_buf_printf(b, ",\"distance_m\":0,\"duration_s\":0,\"location\":[%.7f,%.7f]}]", ll[2 * n - 2], ll[2 * n - 1]);
}
