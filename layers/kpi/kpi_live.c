/* kpi_live.c: the copy of the live state one compute works on, taken under the live read lock. */
#include "kpi_int.h"

static int copy_cell(void *ud, const msh_live_cell *c)
{
    live_copy *lc = ud;
    if (msh_grow_from((void **)&lc->cells, &lc->capcells, lc->ncells + 1, sizeof *lc->cells, 4096))
        return lc->fail = 1;
    lc->cells[lc->ncells++] = (cell_rec){c->cx, c->cy, c->count};
    return 0;
}

static int copy_item(void *ud, const msh_live_item *it)
{
    live_copy *lc = ud;
    int w = lc->which;
    if (msh_grow_from((void **)&lc->items[w], &lc->capitems[w], lc->nitems[w] + 1, sizeof *lc->items[w], 64))
        return lc->fail = 1;
    lc->items[w][lc->nitems[w]++] = *it;
    return 0;
}

void kpi_live_copy_free(live_copy *lc)
{
    free(lc->cells);
    for (int i = 0; i < 4; i++)
        free(lc->items[i]);
}

int kpi_live_take(msh_live *live, live_copy *lc, double *wait_ms, double *copy_ms)
{
    double tc = kpi_mono_ms();
    msh_live_rdlock(live);
    *wait_ms = kpi_mono_ms() - tc;
    msh_live_scan(live, BASE_LEVEL, copy_cell, lc);
    static const msh_feed F[4] = {MSH_FEED_INCIDENTS, MSH_FEED_GATES, MSH_FEED_SENSORS, MSH_FEED_BINS};
    for (lc->which = 0; lc->which < 4; lc->which++)
        msh_live_items(live, F[lc->which], copy_item, lc);
    msh_live_unlock(live);
    *copy_ms = kpi_mono_ms() - tc - *wait_ms;
    return lc->fail ? -1 : 0;
}
