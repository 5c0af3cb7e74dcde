/* kpi_service.c: the KPI service of a running server: configuration, replay, the recording tick
 * and fresh results (kpi_service.h). */
#include "services/kpi_service.h"
#include "services/emitter_lease.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/msh_time.h"
#include "kpi/kpi_history.h"
#include "kpi/cleaning_layer.h"
#include "kpi/kpi_layer.h"
#include "route/graph.h"

#define MAX_CONFIG_BYTES (1 << 20)

static msh_rc read_config(const char *path, msh_kpi_config *c, msh_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return msh_err_set(err, MSH_EIO, "cannot read the KPI configuration %s", path);
    char *buf = malloc(MAX_CONFIG_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_CONFIG_BYTES + 1, f) : 0;
    fclose(f);
    msh_rc rc;
    if (!buf)
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    else if (n > MAX_CONFIG_BYTES)
        rc = msh_err_set(err, MSH_ETOOBIG, "%s: a KPI configuration is at most 1 MiB", path);
    else if ((rc = msh_kpi_config_parse(buf, n, c, err))) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        msh_err_set(err, rc, "%s: %.400s", path, why);
    }
    free(buf);
    return rc;
}

msh_rc msh_kpi_service_open(msh_app *app, msh_err *err)
{
    msh_kpi_config c;
    msh_kpi_config_default(&c);
    msh_rc rc;
    if (app->cfg.kpi_config && (rc = read_config(app->cfg.kpi_config, &c, err)))
        return rc;
    c.k_anon = app->cfg.k_anon; /* the crowd indicators hide what the movement tiles hide */
    if ((rc = msh_kpi_new(&c, &app->kpi, err)) || (rc = msh_kpi_history_open(app->cfg.db_path, &app->kpi_history, err)))
        return rc;
    msh_kpi_set_gate_counts(app->kpi, app->gate_counts); /* sites from the gates (serve_gates.c) */
    size_t hidden = 0; /* records under k from before (an older build, a smaller --k-anon) */
    if ((rc = msh_kpi_history_suppress(app->kpi_history, c.k_anon, &hidden, err)))
        return rc;
    if (hidden)
        fprintf(stderr, "mashaer: KPI history: %zu recorded zones of fewer than %d people suppressed\n", hidden,
                c.k_anon);
    int64_t now = msh_now_ms();
    size_t rows = 0;
    if ((rc = msh_kpi_history_replay(app->kpi_history, app->kpi, now - (int64_t)(c.window_h * 3600000.0), now, &rows,
                                     err)))
        return rc;
    size_t swept = 0;
    if ((rc = msh_kpi_history_load_swept(app->kpi_history, app->kpi, &swept, err)))
        return rc;
    fprintf(stderr, "mashaer: KPIs every %d s (window %.3g h); replayed %zu recorded values, %zu swept route pieces\n",
            c.interval_s, c.window_h, rows, swept);
    msh_layer *l[2] = {NULL, NULL};
    msh_layer **nv = NULL;
    if ((rc = msh_kpi_layer_new(app->kpi, &l[0], err)) || (rc = msh_cleaning_layer_new(app->kpi, &l[1], err)) ||
        !(nv = realloc(app->live_layers, (app->nlive + 2) * sizeof *nv))) {
        msh_layer_release(l[0]);
        msh_layer_release(l[1]);
        return rc ? rc : msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    app->live_layers = nv;
    app->live_layers[app->nlive++] = l[0]; /* kpi_zones */
    app->live_layers[app->nlive++] = l[1]; /* cleaning_progress (kpi/cleaning_layer.h) */
    return MSH_OK;
}

/* The KPIs at now: the latest when fresh enough, else computed. */
msh_rc msh_kpi_service_current(msh_app *app, int64_t now, int64_t max_age, msh_kpi_result **out, msh_err *err)
{
    msh_catalog *cat = msh_app_catalog(app);
    struct msh_graph *g = msh_app_graph(app);
    msh_rc rc = msh_kpi_fresh(app->kpi, cat, app->live, g, now, max_age, out, err);
    msh_graph_release(g);
    msh_catalog_release(cat);
    return rc;
}

msh_kpi_result *msh_kpi_service_tick(msh_app *app)
{
    if (!app->kpi)
        return NULL;
    int64_t now = msh_now_ms();
    int64_t every = (int64_t)msh_kpi_get_config(app->kpi)->interval_s * 1000;
    /* Once per interval of the clock's grid (every node of a cluster ticks in the same slots), and in
     * a cluster only the emitter lease's holder records (emitter_lease.h). A node that has just taken
     * the lease records at once unless the slot is in the store already: a holder that died after
     * the slot began but before recording it leaves no gap, and one that had recorded it no twin. */
    int64_t slot = now - now % every;
    bool records = msh_emitter_holds(app->emitter);
    unsigned long long epoch = msh_emitter_epoch(app->emitter);
    bool gained = records && epoch != app->kpi_epoch;
    app->kpi_epoch = epoch;
    if (gained && msh_kpi_history_has_since(app->kpi_history, slot))
        app->kpi_last_record_ms = now; /* recorded by the holder before: this node records from the next slot */
    else if (gained)
        app->kpi_last_record_ms = 0;
    if (app->kpi_last_record_ms && slot <= app->kpi_last_record_ms - app->kpi_last_record_ms % every)
        return NULL;
    bool first = !app->kpi_last_record_ms;
    app->kpi_last_record_ms = now;
    msh_kpi_result *r = NULL;
    msh_err err;
    size_t swept, pruned = 0;
    double keep_days = msh_kpi_get_config(app->kpi)->history_days;
    bool failed = msh_kpi_service_current(app, now, 0, &r, &err) ||
                  (records && (msh_kpi_history_append(app->kpi_history, r, &err) ||
                               msh_kpi_history_save_swept(app->kpi_history, app->kpi, &swept, &err) ||
                               (keep_days > 0 && msh_kpi_history_prune(app->kpi_history,
                                                                       now - (int64_t)(keep_days * 86400000.0),
                                                                       &pruned, &err))));
    if (failed)
        fprintf(stderr, "mashaer: KPIs not recorded: %s\n", err.msg);
    else if (first)
        fprintf(stderr, "mashaer: first KPI computation (%zu zones%s) in %.1f ms\n", r->nzones,
                r->graph ? ", network coverage included" : ", no walking network: coverage not measured",
                r->compute_ms);
    return r;
}

void msh_kpi_service_close(msh_app *app)
{
    msh_kpi_history_close(app->kpi_history);
    app->kpi_history = NULL;
    msh_kpi_free(app->kpi);
    app->kpi = NULL;
}

