/* kpi_tasks_json.c: the cleaning tasks of a KPI result as JSON (kpi.h msh_kpi_tasks_json).
 *
 * Counts by status, the tasks overdue (open or in progress after their due time), the mean
 * progress of the tasks not cancelled, the same per crew, then each task. Pure: from the result. */
#include "kpi_int.h"

#include <string.h>

#include "core/msh_time.h"

typedef struct {
    size_t tasks, by_status[4], overdue, counted;
    double progress;
} tally;

static bool overdue(const msh_kpi_task *t, int64_t now_ms)
{
    return t->due && now_ms > t->due && msh_ct_active_status(t->status);
}

static void count(tally *c, const msh_kpi_task *t, int64_t now_ms)
{
    c->tasks++;
    if (t->status >= 0 && t->status < 4)
        c->by_status[t->status]++;
    c->overdue += overdue(t, now_ms);
    if (t->status != 3) { /* cancelled tasks say nothing about the work done */
        c->counted++;
        c->progress += t->progress;
    }
}

static void tally_json(const tally *c, msh_buf *b)
{
    msh_buf_printf(b, "\"tasks\":%zu", c->tasks);
    for (int s = 0; s < 4; s++)
        msh_buf_printf(b, ",\"%s\":%zu", msh_ct_statuses[s], c->by_status[s]);
    msh_buf_printf(b, ",\"overdue\":%zu,\"mean_progress\":", c->overdue);
    if (c->counted)
        msh_buf_printf(b, "%.2f", c->progress / (double)c->counted);
    else
        msh_buf_printf(b, "null");
}

msh_rc msh_kpi_tasks_json(const msh_kpi_result *r, int64_t now_ms, msh_buf *b)
{
    tally all;
    memset(&all, 0, sizeof all);
    for (size_t i = 0; i < r->ntasks; i++)
        count(&all, &r->tasks[i], now_ms);
    msh_buf_putc(b, '{');
    tally_json(&all, b);
    msh_buf_printf(b, ",\"crews\":[");
    /* per crew, in the order crews first appear (tasks are few: a pass per crew) */
    bool first = true;
    for (size_t i = 0; i < r->ntasks; i++) {
        const char *crew = r->tasks[i].crew;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(r->tasks[j].crew, crew);
        if (seen)
            continue;
        tally c;
        memset(&c, 0, sizeof c);
        for (size_t j = i; j < r->ntasks; j++)
            if (!strcmp(r->tasks[j].crew, crew))
                count(&c, &r->tasks[j], now_ms);
        msh_buf_printf(b, "%s{\"crew\":\"", first ? "" : ",");
        msh_buf_json_str(b, crew);
        msh_buf_printf(b, "\",");
        tally_json(&c, b);
        msh_buf_putc(b, '}');
        first = false;
    }
    msh_buf_printf(b, "],\"items\":[");
    for (size_t i = 0; i < r->ntasks; i++) {
        const msh_kpi_task *t = &r->tasks[i];
        msh_buf_printf(b, "%s{\"id\":%llu,\"crew\":\"", i ? "," : "", (unsigned long long)t->fid);
        msh_buf_json_str(b, t->crew);
        msh_buf_printf(b, "\",\"status\":");
        if (t->status >= 0)
            msh_buf_printf(b, "\"%s\"", msh_ct_statuses[t->status]);
        else
            msh_buf_printf(b, "null");
        msh_buf_printf(b, ",\"progress\":%d,\"length_m\":%.1f,\"swept_m\":%.1f,\"due\":", t->progress, t->len_m,
                       t->swept_m);
        if (t->due) {
            char iso[MSH_TIME_ISO_CAP];
            msh_time_format_iso(t->due, iso, sizeof iso, 0);
            msh_buf_printf(b, "\"%s\"", iso);
        } else {
            msh_buf_printf(b, "null");
        }
        msh_buf_printf(b, ",\"overdue\":%s}", overdue(t, now_ms) ? "true" : "false");
    }
    return msh_buf_printf(b, "]}") ? MSH_ENOMEM : MSH_OK;
}
