/* cleaning_match.c: the cost of matching cleaning crews' moves to the route pieces of their tasks
 * (layers/kpi/kpi_tasks.c), without HTTP: what the reload thread pays once a second.
 *
 *   build/bench_cleaning_match STORE [CREWS] [SECONDS]     (default 27 crews, 600 s)
 *
 * STORE holds `cleaning_routes` (for example `mashaer import --db STORE data/demo/cleaning_routes.geojson`);
 * its `cleaning_tasks` layer is replaced by one open task per crew, crew i on route (i mod routes) + 1.
 * The simulator's default is 40 crews, two thirds of them cleaning: 27. Each simulated second every
 * crew walks 1.3 m further along its route (one move each), then msh_kpi_tasks applies the moves
 * and computes every task's progress, as the cleaning tick does; only that call is timed, by the CPU
 * time of the calling thread. Prints the pieces, the tasks' pieces, the median and p99 of a call and
 * the cost per move.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "geom.h"
#include "core/msh_tilemath.h"
#include "kpi/kpi.h"
#include "store.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    double *xy; /* lon/lat of the first part's vertices */
    size_t n;
    double len_m;
} route;

typedef struct {
    route *v;
    size_t n, cap;
} routes;

static int take_route(void *ud, const msh_feature *f)
{
    routes *rs = ud;
    if (f->geom.type != MSH_GT_LINE || !f->geom.nparts)
        return 0;
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? 2 * rs->cap : 64;
        rs->v = realloc(rs->v, rs->cap * sizeof *rs->v);
    }
    route *r = &rs->v[rs->n++];
    r->n = MSH_PART_LEN(f->geom.parts[0]);
    r->xy = malloc(2 * r->n * sizeof *r->xy);
    r->len_m = 0;
    for (size_t i = 0; i < r->n; i++) {
        msh_world_to_lonlat(f->geom.xy[2 * i], f->geom.xy[2 * i + 1], &r->xy[2 * i], &r->xy[2 * i + 1]);
        if (i)
            r->len_m += hypot((r->xy[2 * i] - r->xy[2 * i - 2]) * 111320 * cos(r->xy[2 * i + 1] * M_PI / 180),
                              (r->xy[2 * i + 1] - r->xy[2 * i - 1]) * 110540);
    }
    return 0;
}

/* The point `d` metres along route r (wrapping), lon/lat. */
static void along(const route *r, double d, double *lon, double *lat)
{
    d = r->len_m > 0 ? fmod(d, r->len_m) : 0;
    for (size_t i = 1; i < r->n; i++) {
        double seg = hypot((r->xy[2 * i] - r->xy[2 * i - 2]) * 111320 * cos(r->xy[2 * i + 1] * M_PI / 180),
                           (r->xy[2 * i + 1] - r->xy[2 * i - 1]) * 110540);
        if (d <= seg || i + 1 == r->n) {
            double t = seg > 0 ? fmin(d / seg, 1) : 0;
            *lon = r->xy[2 * i - 2] + t * (r->xy[2 * i] - r->xy[2 * i - 2]);
            *lat = r->xy[2 * i - 1] + t * (r->xy[2 * i + 1] - r->xy[2 * i - 1]);
            return;
        }
        d -= seg;
    }
    *lon = r->xy[0];
    *lat = r->xy[1];
}

/* A WKB Polygon: the box around a route (the task's area, as the server makes it). */
static void box_wkb(const route *r, uint8_t out[MSH_WKB_BOX_LEN])
{
    double bb[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < r->n; i++) {
        bb[0] = fmin(bb[0], r->xy[2 * i]);
        bb[1] = fmin(bb[1], r->xy[2 * i + 1]);
        bb[2] = fmax(bb[2], r->xy[2 * i]);
        bb[3] = fmax(bb[3], r->xy[2 * i + 1]);
    }
    msh_wkb_box(bb, out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s STORE [CREWS] [SECONDS]\n", argv[0]);
        return 2;
    }
    int crews = argc > 2 ? atoi(argv[2]) : 27, seconds = argc > 3 ? atoi(argv[3]) : 600;
    msh_err err;
    msh_store *s;
    msh_catalog *cat = NULL;
    if (msh_store_open(argv[1], false, &s, &err) || msh_catalog_load(s, NULL, &cat, &err)) {
        fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        return 1;
    }
    routes rs = {NULL, 0, 0};
    msh_layer *rl = msh_catalog_find(cat, "cleaning_routes", strlen("cleaning_routes"));
    double world[4] = {0, 0, 1, 1};
    if (!rl || rl->vt->query(rl, world, rl->info.maxzoom, take_route, &rs) || !rs.n) {
        fprintf(stderr, "%s: no cleaning_routes\n", argv[1]);
        return 1;
    }
    /* one open task per crew */
    msh_field fields[3] = {{(char *)"route", MSH_FT_INT}, {(char *)"crew", MSH_FT_STRING},
                           {(char *)"status", MSH_FT_STRING}};
    msh_layer_spec spec = {"cleaning_tasks", fields, 3, 0, 22, "bench", NULL};
    msh_store_writer *w;
    if (msh_store_writer_begin(s, &spec, &w, &err))
        return fprintf(stderr, "%s\n", err.msg), 1;
    char id[32];
    for (int c = 0; c < crews; c++) {
        uint8_t wkb[MSH_WKB_BOX_LEN];
        box_wkb(&rs.v[c % rs.n], wkb);
        snprintf(id, sizeof id, "CL-%d", c);
        msh_value v[3] = {{MSH_FT_INT, 0, {.i = (int64_t)(c % rs.n) + 1}},
                          {MSH_FT_STRING, (uint32_t)strlen(id), {.s = id}},
                          {MSH_FT_STRING, 4, {.s = "open"}}};
        if (msh_store_writer_add(w, wkb, sizeof wkb, v, &err))
            return fprintf(stderr, "%s\n", err.msg), 1;
    }
    uint64_t ver;
    msh_catalog *cat2;
    if (msh_store_writer_commit(w, &ver, &err) || msh_catalog_load(s, cat, &cat2, &err))
        return fprintf(stderr, "%s\n", err.msg), 1;
    msh_catalog_release(cat);
    cat = cat2;
    msh_kpi_config cfg;
    msh_kpi_config_default(&cfg);
    msh_kpi *k;
    if (msh_kpi_new(&cfg, &k, &err))
        return fprintf(stderr, "%s\n", err.msg), 1;
    msh_kpi_task *tasks = NULL;
    size_t nt = 0;
    if (msh_kpi_tasks(k, cat, &tasks, &nt, &err)) /* the pieces cut, the tasks read: not timed */
        return fprintf(stderr, "%s\n", err.msg), 1;
    double task_pieces_m = 0;
    for (size_t i = 0; i < nt; i++)
        task_pieces_m += tasks[i].len_m;
    free(tasks);
    double *t = malloc((size_t)seconds * sizeof *t);
    int64_t t0 = 1779782400000LL;
    for (int sec = 0; sec < seconds; sec++) {
        for (int c = 0; c < crews; c++) {
            const route *r = &rs.v[c % rs.n];
            double lon0, lat0, lon1, lat1, start = 37.0 * c; /* crews on one route spread out */
            along(r, start + 1.3 * sec, &lon0, &lat0);
            along(r, start + 1.3 * (sec + 1), &lon1, &lat1);
            snprintf(id, sizeof id, "CL-%d", c);
            msh_kpi_crew_path(k, id, lon0, lat0, lon1, lat1, t0 + 1000LL * (sec + 1));
        }
        double a = cpu_s();
        if (msh_kpi_tasks(k, cat, &tasks, &nt, &err))
            return fprintf(stderr, "%s\n", err.msg), 1;
        t[sec] = cpu_s() - a;
        if (sec == seconds - 1) {
            double mean = 0;
            for (size_t i = 0; i < nt; i++)
                mean += tasks[i].progress;
            printf("after %d s: mean progress %.1f %% over %zu tasks\n", seconds, nt ? mean / nt : 0, nt);
        }
        free(tasks);
    }
    qsort(t, (size_t)seconds, sizeof *t, cmp_double);
    double med = t[seconds / 2], p99 = t[(size_t)(seconds * 0.99)];
    printf("routes %zu, crews %d (one task each, %.0f m of route pieces in tasks), %d s simulated\n", rs.n, crews,
           task_pieces_m, seconds);
    printf("msh_kpi_tasks per second of moves: median %.1f us, p99 %.1f us; %.2f us per move (median)\n", med * 1e6,
           p99 * 1e6, med * 1e6 / crews);
    free(t);
    msh_kpi_free(k);
    msh_catalog_release(cat);
    msh_store_close(s);
    for (size_t i = 0; i < rs.n; i++)
        free(rs.v[i].xy);
    free(rs.v);
    return 0;
}
