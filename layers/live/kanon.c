/* kanon.c: the k-anonymity rule and the pyramid of shown cells (design in kanon.h).
 *
 * The pyramid: the base cells under the box (widened to whole cells of the level asked for) are
 * copied under the read lock and sorted in Morton order, so the four children of any cell are
 * neighbours in the array at every level. Each pass then merges runs with the same parent in
 * place, level by level up to the one asked for: O(n log n) for the sort and O(n) a level.
 */
#include "kanon.h"

#include "core/msh_grow.h"
#include "core/msh_morton.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define BASE 22

uint64_t msh_kanon_shown(uint64_t count, uint64_t shown_parts, int k)
{
    uint64_t kk = k < 1 ? 1 : (uint64_t)k;
    if (shown_parts > count)
        shown_parts = count;
    uint64_t rest = count - shown_parts;
    uint64_t s = rest == 0 || rest >= kk ? count : shown_parts;
    return s >= kk ? s : 0;
}

/* One cell of the pyramid: its true count, and the sums over the people it shows and hides. */
typedef struct {
    uint64_t m; /* Morton code of the base cell it started from (parents: the shifted code) */
    uint64_t count, shown;
    double sx, sy, s2; /* shown: sums of vx, vy (m/s) and |v|^2 */
    double hx, hy, h2; /* hidden: the same */
    uint32_t peak;     /* fullest shown base cell */
} kcell;

typedef struct {
    kcell *v;
    size_t n, cap;
    int fail;
} kcells;

static int take(void *ud, const msh_live_cell *c)
{
    kcells *a = ud;
    if (msh_grow((void **)&a->v, &a->cap, a->n + 1, sizeof *a->v))
        return a->fail = 1;
    double n = c->count, e2 = c->var_v + c->mean_vx * c->mean_vx + c->mean_vy * c->mean_vy;
    /* everyone starts hidden; settle() shows the cell's people when they are k or more */
    a->v[a->n++] = (kcell){msh_morton(c->cx, c->cy), c->count, 0, 0, 0, 0,
                           c->mean_vx * n, c->mean_vy * n, e2 * n, 0};
    return 0;
}

static int by_morton(const void *a, const void *b)
{
    uint64_t x = ((const kcell *)a)->m, y = ((const kcell *)b)->m;
    return x < y ? -1 : x > y;
}

/* Apply the rule to a cell whose parts have been summed: release its hidden people or keep them hidden. */
static void settle(kcell *c, int k)
{
    uint64_t s = msh_kanon_shown(c->count, c->shown, k);
    if (s == c->count && c->count > c->shown) {
        c->sx += c->hx;
        c->sy += c->hy;
        c->s2 += c->h2;
        c->hx = c->hy = c->h2 = 0;
    }
    c->shown = s;
}

void msh_kanon_box(int level, const double box[4], double wide[4])
{
    /* whole cells of the level: what a cell shows must not depend on the box */
    double n = ldexp(1.0, level < 0 ? 0 : level > BASE ? BASE : level);
    double eps = ldexp(0.25, -BASE); /* base cells meeting the far edges belong to the next cell */
    wide[0] = floor(box[0] * n) / n;
    wide[1] = floor(box[1] * n) / n;
    wide[2] = (floor(box[2] * n) + 1) / n - eps;
    wide[3] = (floor(box[3] * n) + 1) / n - eps;
}

static atomic_ullong pyramids; /* msh_kanon_pyramids */

unsigned long long msh_kanon_pyramids(void)
{
    return atomic_load_explicit(&pyramids, memory_order_relaxed);
}

/* The live store as a source: its base cells under the box, copied under the read lock. */
static void live_source(void *src, const double box[4], msh_live_cell_fn fn, void *ud)
{
    msh_live *l = src;
    msh_live_rdlock(l);
    msh_live_base_cells(l, box, fn, ud);
    msh_live_unlock(l);
}

msh_rc msh_kanon_cells(msh_live *l, int level, const double box[4], int k, msh_live_cell_fn fn, void *ud,
                       msh_err *err)
{
    return msh_kanon_cells_from(live_source, l, level, box, k, fn, ud, err);
}

msh_rc msh_kanon_cells_from(msh_kanon_source source, void *src, int level, const double box[4], int k,
                            msh_live_cell_fn fn, void *ud, msh_err *err)
{
    atomic_fetch_add_explicit(&pyramids, 1, memory_order_relaxed);
    if (level > BASE)
        level = BASE;
    if (level < 0)
        level = 0;
    double wide[4];
    msh_kanon_box(level, box, wide);
    kcells a = {NULL, 0, 0, 0};
    source(src, wide, take, &a);
    if (a.fail) {
        free(a.v);
        return msh_err_set(err, MSH_ENOMEM, "k-anonymity: out of memory");
    }
    if (!a.n)
        return MSH_OK; /* nobody under the box (qsort wants an array even for none) */
    qsort(a.v, a.n, sizeof *a.v, by_morton);
    for (size_t i = 0; i < a.n; i++) { /* base cells: shown when they hold k people */
        kcell *c = &a.v[i];
        settle(c, k);
        c->peak = c->shown ? (uint32_t)c->shown : 0;
    }
    for (int lv = BASE - 1; lv >= level; lv--) {
        size_t w = 0;
        for (size_t i = 0; i < a.n;) {
            kcell p = a.v[i];
            p.m >>= 2;
            size_t j = i + 1;
            for (; j < a.n && a.v[j].m >> 2 == p.m; j++) {
                const kcell *c = &a.v[j];
                p.count += c->count;
                p.shown += c->shown;
                p.sx += c->sx, p.sy += c->sy, p.s2 += c->s2;
                p.hx += c->hx, p.hy += c->hy, p.h2 += c->h2;
                if (c->peak > p.peak)
                    p.peak = c->peak;
            }
            settle(&p, k);
            a.v[w++] = p;
            i = j;
        }
        a.n = w;
    }
    for (size_t i = 0; i < a.n; i++) {
        const kcell *c = &a.v[i];
        if (!c->shown)
            continue;
        msh_live_cell o;
        o.level = (uint32_t)level;
        msh_unmorton(c->m, &o.cx, &o.cy);
        o.count = (uint32_t)c->shown;
        o.peak_count = c->peak;
        double s = (double)c->shown;
        o.mean_vx = c->sx / s;
        o.mean_vy = c->sy / s;
        o.var_v = fmax(0, c->s2 / s - (o.mean_vx * o.mean_vx + o.mean_vy * o.mean_vy));
        if (fn(ud, &o))
            break;
    }
    free(a.v);
    return MSH_OK;
}
