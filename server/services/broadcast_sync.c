/* broadcast_sync.c: the table of broadcasts read back (broadcast_registry.h): every active row at
 * start, and after another connection (another node) committed, what it created or withdrew
 * (msh_broadcasts_sync, broadcast_service.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_time.h"
#include "json_in.h"
#include "services/broadcast_registry.h"
#include "services/broadcast_service.h"
#include "store_sql.h"

/* Parse `len` bytes of JSON text from a row (bounded as a body is). */
static json_t *row_json(msh_sql *q, int col, msh_err *err)
{
    size_t len = 0;
    const char *s = msh_sql_text(q, col, &len);
    json_t *j = NULL;
    if (!s || msh_json_in(s, len, 8, &j, err))
        return NULL;
    return j;
}

/* One row of the table into `b`. */
static msh_rc load_row(msh_sql *q, msh_broadcast *b, msh_err *err)
{
    memset(b, 0, sizeof *b);
    const char *id = msh_sql_text(q, 0, NULL), *sev = msh_sql_text(q, 3, NULL), *kind = msh_sql_text(q, 4, NULL);
    const char *tid = msh_sql_text(q, 5, NULL), *zones = msh_sql_text(q, 8, NULL);
    const char *by = msh_sql_text(q, 9, NULL), *role = msh_sql_text(q, 10, NULL);
    if (!id || !sev || !kind || !zones)
        return msh_err_set(err, MSH_EFORMAT, "a row without its id, severity, target or zones");
    snprintf(b->id, sizeof b->id, "%s", id);
    b->created_ms = msh_sql_int(q, 1);
    b->expires_ms = msh_sql_int(q, 2);
    b->severity = !strcmp(sev, "danger") ? MSH_BC_DANGER : !strcmp(sev, "warning") ? MSH_BC_WARNING : MSH_BC_INFO;
    b->target = !strcmp(kind, "zone") ? MSH_BC_ZONE : !strcmp(kind, "camp") ? MSH_BC_CAMP : MSH_BC_GEOMETRY;
    snprintf(b->target_id, sizeof b->target_id, "%s", tid ? tid : "");
    snprintf(b->by_name, sizeof b->by_name, "%s", by ? by : "");
    snprintf(b->by_role, sizeof b->by_role, "%s", role ? role : "");
    if (!(b->zones = strdup(zones)))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    json_t *msg = row_json(q, 6, err), *area = msg ? row_json(q, 7, err) : NULL;
    msh_rc rc = !msg || !area ? MSH_EFORMAT : msh_bc_messages(msg, b, err);
    if (!rc)
        rc = msh_bc_area_geojson_in(area, MSH_BC_AREA_MAX_VERTICES, &b->area, err);
    json_decref(msg);
    json_decref(area);
    return rc;
}


/* One pass over the table's unexpired rows: a held one withdrawn there is withdrawn here; a row not
 * held and not withdrawn is counted in *unheld and, with `full`, added. The registry holds a node's
 * own writes before their commit is seen, so a row is added (and its event sent) once whichever node
 * wrote it; with `announce` each change is published. Without `full` only ids and withdrawal times
 * are read: the pass every store change costs. Under wmu (the caller's). */
static msh_rc sync_pass(msh_app *app, msh_broadcasts *bs, int64_t now_ms, bool full, bool announce, size_t *unheld,
                        msh_err *err)
{
    static const char ids[] = "SELECT id, withdrawn_ms FROM msh_broadcasts WHERE expires_ms > ?";
    static const char rows[] =
        "SELECT id, created_ms, expires_ms, severity, target_kind, target_id, message, area, zones,"
        " by_name, by_role, withdrawn_ms FROM msh_broadcasts WHERE expires_ms > ? ORDER BY created_ms, id";
    const int wcol = full ? 11 : 1;
    msh_sql *q = NULL;
    if (msh_sql_prepare(bs->db, full ? rows : ids, &q))
        return msh_err_set(err, MSH_EIO, "broadcasts: %s", msh_store_errmsg(bs->db));
    msh_sql_bind_int(q, 1, now_ms);
    msh_rc rc = MSH_OK;
    bool withdrawn_any = false;
    int st;
    while (!rc && (st = msh_sql_step(q)) == MSH_SQL_ROW) {
        const char *id = msh_sql_text(q, 0, NULL);
        bool withdrawn = msh_sql_text(q, wcol, NULL) != NULL;
        pthread_rwlock_rdlock(&bs->lk);
        long i = id ? msh_bcs_find(bs, id, now_ms) : -1;
        pthread_rwlock_unlock(&bs->lk);
        if (withdrawn && i >= 0) { /* withdrawn by another node: entries move only under wmu, which we hold */
            pthread_rwlock_wrlock(&bs->lk);
            msh_broadcast *held = bs->v[i];
            held->withdrawn_ms = msh_sql_int(q, wcol);
            pthread_rwlock_unlock(&bs->lk);
            if (announce)
                msh_bcs_publish(app, "withdrawn", held, now_ms);
            withdrawn_any = true;
        }
        if (withdrawn || i >= 0)
            continue;
        if (!full) {
            (*unheld)++;
            continue;
        }
        msh_broadcast b;
        msh_err e;
        if (load_row(q, &b, &e)) { /* a row we cannot read is left in the table and said once */
            fprintf(stderr, "mashaer: broadcasts: skipping %s: %s\n", b.id[0] ? b.id : "a row", e.msg);
            msh_bc_free(&b);
            continue;
        }
        pthread_rwlock_wrlock(&bs->lk);
        bool room = bs->n < MSH_BC_ACTIVE_MAX;
        if (room)
            rc = msh_bcs_add(bs, &b);
        const msh_broadcast *added = room && !rc ? bs->v[bs->n - 1] : NULL;
        pthread_rwlock_unlock(&bs->lk);
        if (!added) {
            msh_bc_free(&b);
            continue;
        }
        (*unheld)++;
        if (announce)
            msh_bcs_publish(app, "created", added, now_ms); /* entries are freed only under wmu, which we hold */
    }
    if (rc)
        msh_err_set(err, rc, "broadcasts: out of memory");
    msh_sql_finalize(q);
    if (withdrawn_any) {
        pthread_rwlock_wrlock(&bs->lk);
        msh_bcs_prune(bs, now_ms);
        pthread_rwlock_unlock(&bs->lk);
    }
    return rc;
}

/* The ids first; the rows (messages and areas) only when some are new. *added counts those added. */
msh_rc msh_bcs_read_table(msh_app *app, msh_broadcasts *bs, int64_t now_ms, bool announce, size_t *added, msh_err *err)
{
    size_t unheld = 0;
    msh_rc rc = sync_pass(app, bs, now_ms, false, announce, &unheld, err);
    if (!rc && unheld)
        rc = sync_pass(app, bs, now_ms, true, announce, added, err);
    return rc;
}

void msh_broadcasts_sync(msh_app *app)
{
    msh_broadcasts *bs = app->broadcasts;
    if (!bs)
        return;
    size_t added = 0;
    msh_err err;
    pthread_mutex_lock(&bs->wmu);
    (void)msh_store_data_version(bs->db); /* drains this connection's own change notifications */
    if (msh_bcs_read_table(app, bs, msh_now_ms(), true, &added, &err))
        fprintf(stderr, "mashaer: broadcasts: reloading failed, serving those held: %s\n", err.msg);
    pthread_mutex_unlock(&bs->wmu);
}
