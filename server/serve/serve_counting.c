/* serve_counting.c: counting lines in `mashaer serve` (serve.h; the rules: layers/live/counting.h).
 * Opened before the log is replayed, with the lines read from the store then (the catalog comes
 * later), so the crossings of replayed positions are counted; the lines follow the catalog
 * (msh_serve_counting_lines, from the fences' rebuild); the minutes are served as the
 * `counting_line_counts` collection and made durable with each live snapshot (serve_gates.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live/counting.h"
#include "live/counting_layer.h"
#include "serve/serve.h"
#include "static_layer.h"

/* The counting_lines layer as the store holds it now (NULL when none). */
static msh_rc stored_lines(msh_store *s, msh_layer **out, msh_err *err)
{
    *out = NULL;
    msh_layer_info *infos = NULL;
    size_t n = 0;
    msh_rc rc = msh_store_list(s, &infos, &n, err);
    for (size_t i = 0; !rc && i < n; i++)
        if (!strcmp(infos[i].name, MSH_COUNTING_LAYER))
            rc = msh_static_layer_load(s, &infos[i], out, err);
    msh_store_infos_free(infos, n);
    return rc;
}

/* While the log replays: crossings only (the fences are not built yet). */
static void on_replayed_move(void *ud, const char *id, size_t n, bool had_old, uint32_t owx, uint32_t owy,
                             uint32_t nwx, uint32_t nwy, int64_t t_ms)
{
    (void)id;
    (void)n;
    msh_app *app = ud;
    if (had_old)
        msh_counting_cross(app->counting, owx, owy, nwx, nwy, t_ms);
}

msh_rc msh_serve_open_counting(msh_app *app, msh_err *err)
{
    bool created = false;
    msh_layer *lines = NULL;
    msh_rc rc = msh_counting_ensure_layer(app->store, &created, err);
    if (!rc && created)
        fprintf(stderr, "mashaer: created the %s layer (empty)\n", MSH_COUNTING_LAYER);
    if (!rc)
        rc = msh_counting_open(app->cfg.db_path, (int64_t)app->cfg.gate_history_days * 86400000, &app->counting, err);
    if (!rc)
        rc = stored_lines(app->store, &lines, err);
    if (!rc)
        rc = msh_counting_set_lines(app->counting, lines, err); /* the live state is not shared yet */
    if (lines)
        msh_layer_release(lines);
    if (!rc)
        msh_live_set_move_observer(app->live, on_replayed_move, app);
    return rc;
}

msh_rc msh_serve_counting_start(msh_app *app, msh_err *err)
{
    msh_layer *l;
    msh_rc rc = msh_counting_layer_new(app->counting, &l, err);
    return rc ? rc : msh_serve_add_live_layer(app, l, err);
}

void msh_serve_counting_lines(msh_app *app, const msh_catalog *cat)
{
    if (!app->counting)
        return;
    msh_layer *l = msh_catalog_find(cat, MSH_COUNTING_LAYER, strlen(MSH_COUNTING_LAYER));
    msh_err err;
    if (msh_counting_set_lines(app->counting, l, &err)) /* kept as they were */
        fprintf(stderr, "mashaer: counting lines not updated: %s\n", err.msg);
}

void msh_serve_close_counting(msh_app *app)
{
    msh_counting_close(app->counting);
    app->counting = NULL;
}
