/* serve_gates.c: the gates' history in `mashaer serve` (serve.h): the 5-minute counts opened before
 * the log is replayed (so replayed records are counted, once: layers/live/gate_counts.h), made
 * durable with each live snapshot, served as the `gate_counts` collection, and the `permit` event
 * when a gate's denied scans pass --permit-denied-share. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/msh_buf.h"
#include "live/counting.h"
#include "live/gate_counts.h"
#include "live/gate_counts_layer.h"
#include "live/ingest.h"
#include "routes/events.h"
#include "serve/serve.h"

/* The `permit` event of a gate whose alert changed (under the live write lock: the observer). */
static void permit_event(msh_app *app, const msh_live_item *it, const msh_permit_change *pc)
{
    const msh_feed_rec *r = &it->rec;
    bool loc = (r->has & MSH_FR_LOC) != 0;
    msh_buf b;
    msh_buf_init(&b, 1024);
    msh_buf_printf(&b, "{\"state\":\"%s\",\"gate\":\"", pc->change > 0 ? "raised" : "cleared");
    msh_buf_json_str(&b, r->id);
    msh_buf_printf(&b, "\",\"denied_share\":%.4f,\"scans_valid\":%lld,\"scans_denied\":%lld,\"window_s\":%lld,"
                       "\"threshold\":%g,\"time\":%lld",
                   pc->share, (long long)pc->valid, (long long)pc->denied, MSH_PERMIT_WINDOW_MS / 1000,
                   app->cfg.permit_denied_share, (long long)r->t_ms);
    if (loc)
        msh_buf_printf(&b, ",\"lon\":%.7f,\"lat\":%.7f", r->lon, r->lat);
    msh_buf_printf(&b, "}");
    msh_buf_putc(&b, 0);
    char key[160];
    snprintf(key, sizeof key, "permit/%.*s", (int)r->id_len, r->id);
    if (!b.err)
        msh_events_alert(app->events, MSH_EV_PERMIT, key, pc->change > 0 ? "raised" : "cleared", pc->change > 0,
                         loc ? r->lon : NAN, loc ? r->lat : NAN, (const char *)b.data);
    msh_buf_free(&b);
}

void msh_serve_gates_on_item(msh_app *app, msh_feed feed, const msh_live_item *it)
{
    if (feed != MSH_FEED_GATES || !app->gate_counts)
        return;
    msh_permit_change pc;
    msh_gate_counts_fold(app->gate_counts, it, &pc);
    if (pc.change && app->events) /* no events while the log replays */
        permit_event(app, it, &pc);
}

/* While the log replays: only the counts (nothing else is open yet). */
static void on_replayed(void *ud, msh_feed feed, const msh_live_item *it, const msh_feed_rec *prev)
{
    (void)prev;
    msh_serve_gates_on_item(ud, feed, it);
}

/* With each live snapshot: the gates' counts and the counting lines' (serve_counting.c). */
static msh_rc snap_hook(void *ud, int phase, msh_err *err)
{
    msh_app *app = ud;
    msh_rc rc = phase == 0 ? msh_gate_counts_stage(app->gate_counts, err) : msh_gate_counts_commit(app->gate_counts, err);
    if (!rc && app->counting)
        rc = phase == 0 ? msh_counting_stage(app->counting, err) : msh_counting_commit(app->counting, err);
    return rc;
}

msh_rc msh_serve_open_gates(msh_app *app, msh_err *err)
{
    msh_rc rc = msh_gate_counts_open(app->cfg.db_path, (int64_t)app->cfg.gate_history_days * 86400000,
                                     app->cfg.permit_denied_share, app->cfg.permit_min_scans, &app->gate_counts, err);
    if (!rc)
        msh_live_set_observer(app->live, on_replayed, app);
    return rc;
}

msh_rc msh_serve_gates_start(msh_app *app, msh_err *err)
{
    msh_ingest_set_snapshot_hook(app->ingest, snap_hook, app);
    msh_layer *l;
    msh_rc rc = msh_gate_counts_layer_new(app->gate_counts, &l, err);
    return rc ? rc : msh_serve_add_live_layer(app, l, err);
}

msh_rc msh_serve_add_live_layer(msh_app *app, msh_layer *l, msh_err *err)
{
    msh_layer **v = realloc(app->live_layers, (app->nlive + 1) * sizeof *v);
    if (!v) {
        msh_layer_release(l);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    app->live_layers = v;
    v[app->nlive++] = l;
    return MSH_OK;
}

void msh_serve_close_gates(msh_app *app)
{
    msh_gate_counts_close(app->gate_counts);
    app->gate_counts = NULL;
}
