/* live_timers.c: escalation, retention, stale crews, sensors and bins (live_timers.h). Locks: msh_timers_tick
 * takes the live write lock for its pass; the observer and `fn` run under it. */
#include "live_timers.h"

#include "live_int.h"
#include "live_ops.h"

void msh_timers_cfg_init(msh_timers_cfg *c)
{
    c->escalate_after_s = 120;
    c->retention_s = 1800;
    c->crew_stale_s = 120;
    c->crew_drop_s = 900;
    c->sensor_stale_s = 900;
    c->bin_stale_s = 1800;
}

bool msh_timers_crew_stale(const msh_live_item *it, const msh_timers_cfg *c, int64_t now_ms)
{
    return (it->ops_flags & MSH_ITEM_STALE) || now_ms - it->rec.t_ms >= (int64_t)c->crew_stale_s * 1000;
}

typedef struct {
    msh_live *l;
    const msh_timers_cfg *c;
    int64_t now;
    msh_escalate_fn fn;
    void *ud;
    msh_timers_result *res;
    msh_feed stale_feed; /* the feed mark_stale looks at, and after how long */
    int stale_s;
} pass;

/* When an incident ended (resolved or cancelled); 0 while it is open. */
static int64_t ended_ms(const msh_live_item *it)
{
    if (it->ops_flags & MSH_ITEM_CANCELLED)
        return it->cancelled_ms ? it->cancelled_ms : it->rec.t_ms;
    if (it->rec.status == MSH_INC_RESOLVED)
        return it->status_ms[MSH_INC_RESOLVED] ? it->status_ms[MSH_INC_RESOLVED] : it->rec.t_ms;
    return 0;
}

static int escalate(void *ud, const msh_live_item *cit)
{
    pass *p = ud;
    msh_live_item *it = msh_live_raw_item(p->l, MSH_FEED_INCIDENTS, cit->rec.id, cit->rec.id_len);
    int64_t since = it->status_ms[MSH_INC_REPORTED] ? it->status_ms[MSH_INC_REPORTED] : it->rec.t_ms;
    if (msh_ops_status(it) != MSH_INC_REPORTED || it->rec.severity < 3 || (it->ops_flags & MSH_ITEM_ESCALATED) ||
        p->now - since < (int64_t)p->c->escalate_after_s * 1000)
        return 0;
    it->ops_flags |= MSH_ITEM_ESCALATED;
    p->res->escalated++;
    if (p->fn)
        p->fn(p->ud, it, p->now);
    return 0;
}

static int mark_stale(void *ud, const msh_live_item *cit)
{
    pass *p = ud;
    if ((cit->ops_flags & MSH_ITEM_STALE) || p->now - cit->rec.t_ms < (int64_t)p->stale_s * 1000)
        return 0;
    msh_live_item *it = msh_live_raw_item(p->l, p->stale_feed, cit->rec.id, cit->rec.id_len);
    it->ops_flags |= MSH_ITEM_STALE;
    p->res->stale++;
    return 0;
}

static int retire(void *ud, const msh_live_item *cit)
{
    pass *p = ud;
    int64_t end = ended_ms(cit);
    if ((cit->ops_flags & MSH_ITEM_RETIRED) || !end || p->now - end < (int64_t)p->c->retention_s * 1000)
        return 0;
    msh_live_item *it = msh_live_raw_item(p->l, MSH_FEED_INCIDENTS, cit->rec.id, cit->rec.id_len);
    it->ops_flags |= MSH_ITEM_RETIRED;
    p->res->removed++;
    return 0;
}

static bool crew_gone(void *ud, const msh_live_item *it)
{
    const pass *p = ud;
    return p->now - it->rec.t_ms >= (int64_t)p->c->crew_drop_s * 1000;
}

void msh_timers_tick(msh_live *l, const msh_timers_cfg *c, int64_t now_ms, msh_escalate_fn fn, void *ud,
                     msh_timers_result *res)
{
    *res = (msh_timers_result){0};
    pass p = {l, c, now_ms, fn, ud, res, MSH_FEED_CREWS, c->crew_stale_s};
    msh_live_wrlock(l);
    msh_live_items(l, MSH_FEED_INCIDENTS, escalate, &p);
    msh_live_items(l, MSH_FEED_CREWS, mark_stale, &p);
    p.stale_feed = MSH_FEED_SENSORS;
    p.stale_s = c->sensor_stale_s;
    msh_live_items(l, MSH_FEED_SENSORS, mark_stale, &p);
    p.stale_feed = MSH_FEED_BINS;
    p.stale_s = c->bin_stale_s;
    msh_live_items(l, MSH_FEED_BINS, mark_stale, &p);
    msh_live_items(l, MSH_FEED_INCIDENTS, retire, &p);
    res->dropped = msh_live_raw_remove(l, MSH_FEED_CREWS, crew_gone, &p);
    if (res->stale || res->removed || res->dropped)
        msh_live_raw_touch(l); /* tiles hash their content; walking costs and KPIs watch the update count */
    msh_live_unlock(l);
}
