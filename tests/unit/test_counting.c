/* test_counting.c: the counting lines' segment grid (layers/live/seg_grid.h) against a scan of every
 * box, and the counts of msh_counting_cross (which asks the grid) against the crossing rule applied
 * to every segment of every line, as counting.c did before the grid: the same crossings, each way,
 * for short walker's steps, moves over many cells, moves along and exactly onto lines and vertices.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/msh_tilemath.h"
#include "live/counting.h"
#include "live/seg_grid.h"

static uint64_t g_seed = 0x9e3779b97f4a7c15ull;

static double urand(void)
{
    g_seed ^= g_seed << 13, g_seed ^= g_seed >> 7, g_seed ^= g_seed << 17;
    return (double)(g_seed >> 11) / 9007199254740992.0;
}

/* ---- the grid against a scan ---- */

static int meets_grown(const double b[4], const double q[4])
{
    double p = MSH_SEG_GRID_PAD;
    return !(b[2] + p < q[0] || b[0] - p > q[2] || b[3] + p < q[1] || b[1] - p > q[3]);
}

static void grid_case(uint32_t n, double span, double move, int queries)
{
    double (*box)[4] = malloc((n ? n : 1) * sizeof *box);
    uint32_t *want = malloc((n ? n : 1) * sizeof *want);
    for (uint32_t i = 0; i < n; i++) {
        double x = 0.6 + urand() * span, y = 0.4 + urand() * span, w = urand() * span / 20, h = urand() * span / 20;
        box[i][0] = x, box[i][1] = y, box[i][2] = x + w, box[i][3] = y + h;
    }
    msh_seg_grid g;
    msh_err err;
    CHECK(msh_seg_grid_build(&g, (const double (*)[4])box, n, &err) == MSH_OK);
    int bad = 0;
    for (int k = 0; k < queries; k++) {
        double x = 0.6 - span * 0.1 + urand() * span * 1.2, y = 0.4 - span * 0.1 + urand() * span * 1.2;
        double q[4] = {x, y, x + urand() * move, y + urand() * move};
        if (k % 50 == 0 && n) /* a query box exactly on a box's corner */
            q[0] = q[2] = box[k % n][2] + MSH_SEG_GRID_PAD, q[1] = q[3] = box[k % n][3];
        uint32_t nw = 0, nh;
        for (uint32_t i = 0; i < n; i++)
            if (meets_grown(box[i], q))
                want[nw++] = i;
        const uint32_t *hit = msh_seg_grid_query(&g, q, &nh);
        if (nh != nw || (nw && memcmp(hit, want, nw * sizeof *want)))
            bad++;
    }
    CHECK(bad == 0);
    if (bad)
        fprintf(stderr, "  %d of %d queries differ (n %u, span %g, move %g)\n", bad, queries, n, span, move);
    msh_seg_grid_free(&g);
    free(box);
    free(want);
}

static void test_grid(void)
{
    double span = 3000.0 / 40075016.0; /* 3 km in world units */
    grid_case(0, span, span / 100, 100);
    grid_case(1, span, span / 100, 2000);
    grid_case(512, span, span / 1000, 20000);   /* walkers' steps: mostly one cell */
    grid_case(512, span, span / 10, 5000);      /* several cells: merged, each box once */
    grid_case(512, span, span * 2, 500);        /* over the whole grid: every box tested */
    grid_case(5000, span / 1000, span / 1e5, 5000);
    /* every box the same point: no area, no grid, still right */
    double same[3][4] = {{0.5, 0.5, 0.5, 0.5}, {0.5, 0.5, 0.5, 0.5}, {0.5, 0.5, 0.5, 0.5}};
    msh_seg_grid g;
    msh_err err;
    CHECK(msh_seg_grid_build(&g, (const double (*)[4])same, 3, &err) == MSH_OK);
    uint32_t nh;
    const uint32_t *hit = msh_seg_grid_query(&g, (const double[4]){0.4, 0.4, 0.6, 0.6}, &nh);
    CHECK(nh == 3 && hit[0] == 0 && hit[1] == 1 && hit[2] == 2);
    msh_seg_grid_query(&g, (const double[4]){0.6, 0.6, 0.7, 0.7}, &nh);
    CHECK(nh == 0);
    msh_seg_grid_free(&g);
}

/* ---- the counts against every segment of every line ---- */

#define NLINES 40
#define MAXV 6

typedef struct {
    msh_layer base;
    int n;
    int nv[NLINES];
    double xy[NLINES][2 * MAXV];
} mem_lines;

static msh_rc q_lines(msh_layer *base, const double box[4], int z, msh_feature_fn fn, void *ud)
{
    (void)box, (void)z;
    mem_lines *l = (mem_lines *)base;
    msh_value v = {0};
    for (int i = 0; i < l->n; i++) {
        msh_feature f = {(uint64_t)i + 1, {MSH_GT_LINE, (uint32_t)l->nv[i], 0, l->xy[i], NULL}, &v};
        if (fn(ud, &f))
            break;
    }
    return MSH_OK;
}

static void no_free(msh_layer *l)
{
    (void)l;
}

static const msh_layer_vt VT = {q_lines, no_free, NULL};

/* The crossing rule applied to every segment of every line (counting.c before the grid: no line's box,
 * no grid, each segment in turn). */
static void reference(const mem_lines *ml, double px, double py, double qx, double qy, uint64_t ab[], uint64_t ba[])
{
    for (int li = 0; li < ml->n; li++) {
        const double *xy = ml->xy[li];
        for (int k = 0; k + 1 < ml->nv[li]; k++) {
            int side = msh_counting_seg_cross(xy[2 * k], xy[2 * k + 1], xy[2 * k + 2], xy[2 * k + 3],
                                              k + 2 == ml->nv[li], px, py, qx, qy);
            ab[li] += side > 0;
            ba[li] += side < 0;
        }
    }
}

typedef struct {
    uint64_t ab[NLINES], ba[NLINES];
} totals;

static int add_totals(void *ud, uint64_t line, const char *name, bool has_pt, double lon, double lat,
                      const msh_line_minute *m, size_t n, uint64_t ab, uint64_t ba)
{
    (void)name, (void)has_pt, (void)lon, (void)lat, (void)m, (void)n;
    totals *t = ud;
    t->ab[line - 1] += ab;
    t->ba[line - 1] += ba;
    return 0;
}

/* A world coordinate on the 2^32 grid the live store keeps. */
static uint32_t w32(double w)
{
    return (uint32_t)llround(w * 4294967296.0);
}

static void test_counts(const char *dir)
{
    char db[1024];
    snprintf(db, sizeof db, "%s/test_counting.sqlite", dir);
    unlink(db);
    msh_store *s;
    msh_err err;
    CHECK(msh_store_open(db, true, &s, &err) == MSH_OK);
    msh_store_close(s);
    msh_counting *c;
    CHECK(msh_counting_open(db, 86400000LL, &c, &err) == MSH_OK);
    mem_lines ml;
    memset(&ml, 0, sizeof ml);
    ml.base.vt = &VT;
    ml.base.info.maxzoom = 22;
    ml.n = NLINES;
    double x0 = 0.6108, y0 = 0.4370, span = 2000.0 / 40075016.0;
    for (int i = 0; i < NLINES; i++) {
        ml.nv[i] = 2 + i % (MAXV - 1);
        double x = x0 + urand() * span, y = y0 + urand() * span;
        for (int k = 0; k < ml.nv[i]; k++) { /* vertices on the 2^32 grid: moves can land on them exactly */
            ml.xy[i][2 * k] = w32(x) / 4294967296.0;
            ml.xy[i][2 * k + 1] = w32(y) / 4294967296.0;
            x += (urand() - 0.5) * span / 4, y += (urand() - 0.5) * span / 4;
        }
    }
    CHECK(msh_counting_set_lines(c, &ml.base, &err) == MSH_OK);
    totals want;
    memset(&want, 0, sizeof want);
    int64_t t = 1779782400000LL;
    for (int k = 0; k < 300000; k++) {
        double px = x0 + urand() * span, py = y0 + urand() * span, step = span / (k % 10 == 9 ? 2 : 400);
        double qx = px + (urand() - 0.5) * step, qy = py + (urand() - 0.5) * step;
        if (k % 97 == 0) { /* onto a vertex exactly */
            int li = k % NLINES, v = k % ml.nv[li];
            qx = ml.xy[li][2 * v], qy = ml.xy[li][2 * v + 1];
        }
        uint32_t ox = w32(px), oy = w32(py), nx = w32(qx), ny = w32(qy);
        const double u = 1.0 / 4294967296.0;
        reference(&ml, ox * u, oy * u, nx * u, ny * u, want.ab, want.ba);
        msh_counting_cross(c, ox, oy, nx, ny, t + k);
    }
    totals got;
    memset(&got, 0, sizeof got);
    msh_counting_rdlock(c);
    msh_counting_each(c, add_totals, &got);
    msh_counting_unlock(c);
    uint64_t all = 0;
    for (int i = 0; i < NLINES; i++)
        all += want.ab[i] + want.ba[i];
    CHECK(all > 1000); /* the moves do cross lines */
    CHECK(!memcmp(&got, &want, sizeof got));
    for (int i = 0; i < NLINES; i++)
        if (got.ab[i] != want.ab[i] || got.ba[i] != want.ba[i])
            fprintf(stderr, "  line %d: ab %llu (want %llu), ba %llu (want %llu)\n", i + 1,
                    (unsigned long long)got.ab[i], (unsigned long long)want.ab[i], (unsigned long long)got.ba[i],
                    (unsigned long long)want.ba[i]);
    /* no lines: nothing counted, nothing asked */
    CHECK(msh_counting_set_lines(c, NULL, &err) == MSH_OK);
    uint64_t before = msh_counting_version(c);
    msh_counting_cross(c, w32(x0), w32(y0), w32(x0 + span), w32(y0 + span), t);
    CHECK(msh_counting_version(c) == before);
    msh_counting_close(c);
    unlink(db);
}

int main(int argc, char **argv)
{
    test_grid();
    test_counts(argc > 1 ? argv[1] : ".");
    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
