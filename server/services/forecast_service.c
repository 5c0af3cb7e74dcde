/* forecast_service.c: the forecast thread, its refresh and the published result (forecast_service.h). */
#include "services/forecast_service.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/msh_grow.h"
#include "core/msh_time.h"
#include "forecast/schedule.h"
#include "forecast/widths.h"
#include "live/live.h"
#include "route/walknet.h"
#include "services/forecast_alerts.h"

const char *const msh_fc_model_names[MSH_FC_NMODELS] = {"ctm", "persistence", "advection"};

struct msh_forecast_service {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t wake, done_cv;
    uint64_t want, done;          /* refreshes asked for and finished (under mu) */
    bool stop;
    atomic_bool cancel;           /* set with stop, read by the model between its steps (no lock) */
    int64_t last_start_ms;        /* server time the last refresh was asked for (under mu) */
    msh_forecast_result *cur;     /* under mu */
    uint64_t refreshes, failures; /* under mu */
    /* the forecast thread's own */
    msh_fc_source *sched;
    size_t nsched;
    msh_graph *wgraph;            /* the graph `widths` belong to (a reference) */
    float *widths;
    msh_fc_net *net;              /* the model's set-up, kept while the network's view stays the same */
    msh_fc_alerts *alerts;
};

void msh_forecast_result_release(msh_forecast_result *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    for (int m = 0; m < MSH_FC_NMODELS; m++)
        for (int h = 0; h < MSH_FC_NH; h++)
            msh_fc_grid_free(&r->grid[m][h]);
    free(r->warnings);
    free(r->observed);
    pthread_mutex_destroy(&r->adv_mu);
    free(r);
}

/* The advection baseline of a published result, drawn once, by the first request that asks for it. */
static bool advection_drawn(msh_forecast_result *r)
{
    if (atomic_load_explicit(&r->adv_done, memory_order_acquire))
        return true;
    pthread_mutex_lock(&r->adv_mu);
    if (!atomic_load_explicit(&r->adv_done, memory_order_relaxed)) {
        msh_fc_input in = {.cells = r->observed, .ncells = r->nobserved};
        msh_fc_params p;
        msh_fc_params_init(&p);
        msh_err err;
        if (msh_fc_advection(&in, &p, r->grid[MSH_FC_MODEL_ADVECTION], &err) == MSH_OK) {
            free(r->observed); /* drawn: the cells are not needed any more */
            r->observed = NULL;
            atomic_store_explicit(&r->adv_done, true, memory_order_release);
        } else { /* the next request tries again */
            fprintf(stderr, "mashaer: forecast: the advection baseline: %s\n", err.msg);
        }
    }
    bool ok = atomic_load_explicit(&r->adv_done, memory_order_relaxed);
    pthread_mutex_unlock(&r->adv_mu);
    return ok;
}

const msh_fc_grid *msh_forecast_grid(const msh_forecast_result *r, int model, int h)
{
    /* the observed cells are every model's horizon 0 and every horizon of persistence: held once */
    if (h == 0 || model == MSH_FC_MODEL_PERSISTENCE)
        return &r->grid[MSH_FC_MODEL_CTM][0];
    if (model == MSH_FC_MODEL_ADVECTION && !advection_drawn((msh_forecast_result *)r))
        return NULL;
    return &r->grid[model][h];
}

msh_forecast_result *msh_forecast_service_current(msh_app *app)
{
    struct msh_forecast_service *s = app->forecast;
    if (!s)
        return NULL;
    pthread_mutex_lock(&s->mu);
    msh_forecast_result *r = s->cur;
    if (r)
        atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* ------------------------------------------------------------------ copying the live state */

typedef struct copy {
    msh_fc_cell *cells;
    size_t n, cap;
    msh_fc_source *src;
    size_t nsrc, srccap;
    bool oom;
} copy;

static int copy_cell(void *ud, const msh_live_cell *c)
{
    copy *k = ud;
    if (msh_grow_from((void **)&k->cells, &k->cap, k->n + 1, sizeof *k->cells, 4096)) {
        k->oom = true;
        return 1;
    }
    k->cells[k->n++] =
        (msh_fc_cell){c->cx, c->cy, (float)c->count, (float)c->mean_vx, (float)c->mean_vy, (float)c->var_v};
    return 0;
}

static bool grow_src(copy *k)
{
    return msh_grow((void **)&k->src, &k->srccap, k->nsrc + 1, sizeof *k->src) == MSH_OK;
}

/* Gates feed people at their current rate; a closed one feeds nobody (its walkways are closed too). */
static int copy_gate(void *ud, const msh_live_item *it)
{
    copy *k = ud;
    if (!(it->rec.has & MSH_FR_LOC) || (it->ops_flags & MSH_ITEM_CLOSED) || !(it->flow_per_hour > 0))
        return 0;
    if (!grow_src(k)) {
        k->oom = true;
        return 1;
    }
    k->src[k->nsrc++] = (msh_fc_source){.lon = it->rec.lon, .lat = it->rec.lat, .rate = it->flow_per_hour / 3600.0,
                                        .from_ms = INT64_MIN, .to_ms = INT64_MAX};
    return 0;
}

static double thread_cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* The widths of the view's graph, read from the walking layers when the graph changed. */
static void update_widths(msh_app *app, struct msh_forecast_service *s, msh_graph *g)
{
    if (g == s->wgraph)
        return;
    free(s->widths);
    s->widths = NULL;
    msh_graph_release(s->wgraph);
    s->wgraph = msh_graph_retain(g);
    msh_catalog *cat = msh_app_catalog(app);
    msh_layer *ls[16];
    size_t n = msh_walknet_walk_layers(app->walknet, cat, ls, 16);
    msh_err err;
    if (msh_fc_edge_widths(g, ls, n, &s->widths, &err))
        fprintf(stderr, "mashaer: forecast: walkway widths not read, %d m everywhere: %s\n", app->cfg.forecast_width,
                err.msg);
    msh_catalog_release(cat);
}

/* The closed edges planned to open after `issued` (the view's edge_reopens: closed gates' reopens_at,
 * unless an incident or a gate with no planned reopening holds the edge too): open in *closed,
 * closed until then in *until (allocated here; NULL when there is none). A gate whose reopening time
 * has passed while it is still closed stays closed: the operator has not let anyone through. No lock:
 * the view is immutable. */
static void closures_that_end(const msh_netview *v, uint32_t ne, int64_t issued, uint8_t *closed, int64_t **until)
{
    *until = NULL;
    if (!closed || !v->cost.edge_reopens)
        return;
    for (uint32_t e = 0; e < ne; e++) {
        int64_t ends = v->cost.edge_reopens[e];
        if (!closed[e] || ends <= issued || ends == INT64_MAX)
            continue;
        if (!*until && !(*until = calloc(ne + 1, sizeof **until)))
            return; /* out of memory: the gate stays closed all along, as before */
        (*until)[e] = ends;
        closed[e] = 0;
    }
}

static msh_rc refresh(msh_app *app, struct msh_forecast_service *s, msh_forecast_result **out, msh_err *err)
{
    double c0 = thread_cpu_ms(), w0 = wall_ms();
    msh_netview *v = msh_walknet_view(app->walknet);
    msh_graph *g = v ? v->graph : NULL;
    if (g)
        update_widths(app, s, g);
    uint8_t *closed = NULL;
    if (g && v->cost.secs) {
        uint32_t ne = msh_graph_edge_count(g);
        closed = calloc(ne + 1, 1);
        for (uint32_t e = 0; closed && e < ne; e++)
            closed[e] = isinf(v->cost.secs[e]) != 0;
    }
    copy k = {0};
    double l0 = wall_ms();
    msh_live_rdlock(app->live);
    int64_t issued = msh_now_ms();
    msh_live_scan(app->live, MSH_FC_LEVEL, copy_cell, &k);
    msh_live_items(app->live, MSH_FEED_GATES, copy_gate, &k);
    msh_live_unlock(app->live);
    double copy_ms = wall_ms() - l0;
    int64_t *until = NULL;
    if (g)
        closures_that_end(v, msh_graph_edge_count(g), issued, closed, &until);
    for (size_t i = 0; i < s->nsched && !k.oom; i++) {
        if (s->sched[i].to_ms <= issued - 3600000) /* left over an hour ago: it plans nothing any more */
            continue;
        /* leaves after the last horizon: nothing it does is in this forecast (a day's plan of thousands
         * of groups costs the model only the groups of the next half hour) */
        if (s->sched[i].from_ms > issued + (int64_t)msh_fc_minutes[MSH_FC_NH - 1] * 60000)
            continue;
        if (!grow_src(&k)) {
            k.oom = true;
            break;
        }
        k.src[k.nsrc] = s->sched[i];
        if (s->sched[i].to_ms <= issued) /* left already: it only marks its start as planned (no tree) */
            k.src[k.nsrc].has_dest = false, k.src[k.nsrc].rate = 0;
        k.nsrc++;
    }
    msh_forecast_result *r = calloc(1, sizeof *r);
    if (r) { /* ready to be released whatever follows */
        atomic_init(&r->refs, 1);
        atomic_init(&r->adv_done, false);
        pthread_mutex_init(&r->adv_mu, NULL);
    }
    msh_rc rc = r && !k.oom ? MSH_OK : msh_err_set(err, MSH_ENOMEM, "forecast: out of memory");
    if (!rc) {
        r->issued_ms = issued;
        r->cells = k.n;
        msh_fc_input in = {.net = s->net, .g = g, .width_m = g ? s->widths : NULL, .closed = closed, .closed_until = until,
                           .cells = k.cells, .ncells = k.n, .src = k.src, .nsrc = k.nsrc, .issued_ms = issued,
                           .cancel = &s->cancel, .default_width_m = app->cfg.forecast_width};
        msh_fc_params p;
        msh_fc_params_init(&p);
        rc = msh_fc_ctm(&in, &p, r->grid[MSH_FC_MODEL_CTM], &r->stats, err);
        r->observed = k.cells; /* for the advection baseline, if anyone asks */
        r->nobserved = k.n;
        k.cells = NULL;
    }
    free(k.cells);
    free(k.src);
    free(until);
    free(closed);
    msh_netview_release(v);
    if (rc) {
        msh_forecast_result_release(r);
        return rc;
    }
    r->copy_ms = copy_ms;
    r->cpu_ms = thread_cpu_ms() - c0;
    r->wall_ms = wall_ms() - w0;
    *out = r;
    return MSH_OK;
}

static void *forecast_main(void *arg)
{
    msh_app *app = arg;
    struct msh_forecast_service *s = app->forecast;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && s->done == s->want)
            pthread_cond_wait(&s->wake, &s->mu);
        if (s->stop)
            break;
        uint64_t upto = s->want;
        pthread_mutex_unlock(&s->mu);
        msh_forecast_result *r = NULL;
        msh_err err;
        msh_rc rc = refresh(app, s, &r, &err);
        if (rc && !atomic_load(&s->cancel))
            fprintf(stderr, "mashaer: forecast refresh failed: %s\n", err.msg);
        if (r && msh_forecast_alerts_publish(s->alerts, app, r))
            fprintf(stderr, "mashaer: forecast warnings: out of memory\n");
        pthread_mutex_lock(&s->mu);
        if (r) {
            msh_forecast_result *old = s->cur;
            s->refreshes++;
            r->seq = s->refreshes; /* before anyone can see it */
            s->cur = r;
            msh_forecast_result_release(old); /* only drops a reference: requests keep theirs */
        } else {
            s->failures++;
        }
        s->done = upto;
        pthread_cond_broadcast(&s->done_cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

msh_rc msh_forecast_service_open(msh_app *app, msh_err *err)
{
    if (!app->live || !app->walknet || app->cfg.forecast_every <= 0)
        return MSH_OK;
    struct msh_forecast_service *s = calloc(1, sizeof *s);
    if (!s)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->done_cv, NULL);
    app->forecast = s;
    msh_rc rc = MSH_OK;
    if (app->cfg.forecast_schedule) {
        rc = msh_fc_schedule_load(app->cfg.forecast_schedule, &s->sched, &s->nsched, err);
        if (!rc)
            fprintf(stderr, "mashaer: forecast schedule %s: %zu planned groups\n", app->cfg.forecast_schedule,
                    s->nsched);
    }
    if (!rc && (!(s->alerts = msh_fc_alerts_new()) || !(s->net = msh_fc_net_new())))
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    if (!rc && pthread_create(&s->thread, NULL, forecast_main, app) != 0)
        rc = msh_err_set(err, MSH_EINTERNAL, "cannot start the forecast thread");
    if (rc) {
        msh_forecast_service_close(app);
        return rc;
    }
    s->started = true;
    /* the first forecast at once */
    pthread_mutex_lock(&s->mu);
    s->last_start_ms = msh_now_ms();
    s->want++;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    return MSH_OK;
}

void msh_forecast_service_tick(msh_app *app)
{
    struct msh_forecast_service *s = app->forecast;
    if (!s)
        return;
    int64_t now = msh_now_ms();
    pthread_mutex_lock(&s->mu);
    if (now - s->last_start_ms >= (int64_t)app->cfg.forecast_every * 1000 && s->done == s->want) {
        s->last_start_ms = now;
        s->want++;
        pthread_cond_signal(&s->wake);
    }
    pthread_mutex_unlock(&s->mu);
}

msh_rc msh_forecast_service_refresh(msh_app *app, msh_err *err)
{
    struct msh_forecast_service *s = app->forecast;
    if (!s)
        return msh_err_set(err, MSH_ENOTFOUND, "no forecast: the server runs without live feeds or walkways");
    pthread_mutex_lock(&s->mu);
    s->last_start_ms = msh_now_ms();
    uint64_t mine = ++s->want;
    uint64_t failures = s->failures;
    pthread_cond_signal(&s->wake);
    while (s->done < mine && !s->stop)
        pthread_cond_wait(&s->done_cv, &s->mu);
    bool failed = s->failures != failures;
    pthread_mutex_unlock(&s->mu);
    return failed ? msh_err_set(err, MSH_EINTERNAL, "the forecast refresh failed (see the server log)") : MSH_OK;
}

void msh_forecast_service_metrics(msh_app *app, msh_buf *out)
{
    struct msh_forecast_service *s = app->forecast;
    if (!s)
        return;
    msh_forecast_result *r = msh_forecast_service_current(app);
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->refreshes, f = s->failures;
    pthread_mutex_unlock(&s->mu);
    msh_buf_printf(out,
                   "# TYPE mashaer_forecast_refreshes_total counter\nmashaer_forecast_refreshes_total %llu\n"
                   "# TYPE mashaer_forecast_failures_total counter\nmashaer_forecast_failures_total %llu\n",
                   (unsigned long long)n, (unsigned long long)f);
    if (r)
        msh_buf_printf(out,
                       "# TYPE mashaer_forecast_refresh_cpu_seconds gauge\nmashaer_forecast_refresh_cpu_seconds %.6f\n"
                       "# TYPE mashaer_forecast_refresh_seconds gauge\nmashaer_forecast_refresh_seconds %.6f\n"
                       "# TYPE mashaer_forecast_copy_seconds gauge\nmashaer_forecast_copy_seconds %.6f\n"
                       "# TYPE mashaer_forecast_cells gauge\nmashaer_forecast_cells %zu\n"
                       "# TYPE mashaer_forecast_segments gauge\nmashaer_forecast_segments %zu\n",
                       r->cpu_ms / 1e3, r->wall_ms / 1e3, r->copy_ms / 1e3, r->cells, r->stats.segments);
    msh_forecast_result_release(r);
}

void msh_forecast_service_close(msh_app *app)
{
    struct msh_forecast_service *s = app->forecast;
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    atomic_store(&s->cancel, true);
    pthread_cond_broadcast(&s->wake);
    pthread_cond_broadcast(&s->done_cv);
    pthread_mutex_unlock(&s->mu);
    if (s->started)
        pthread_join(s->thread, NULL);
    msh_forecast_result_release(s->cur);
    msh_fc_alerts_free(s->alerts);
    msh_fc_net_free(s->net);
    msh_graph_release(s->wgraph);
    free(s->widths);
    free(s->sched);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->done_cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
    app->forecast = NULL;
}
