/* broadcast_service.c: the registry and the table of broadcasts (broadcast_service.h); the reads of
 * the table that other nodes write are broadcast_sync.c. */
#include "services/broadcast_service.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/msh_grow.h"
#include "core/msh_time.h"
#include "routes/events.h"
#include "services/broadcast_registry.h"
#include "store_sql.h"

#define ZONES_MAX 4096 /* bytes of the zones list of one broadcast */

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS msh_broadcasts (id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL, withdrawn_ms INTEGER, severity TEXT NOT NULL, target_kind TEXT NOT NULL,"
    " target_id TEXT, message TEXT NOT NULL, area TEXT NOT NULL, zones TEXT NOT NULL, by_name TEXT, by_role TEXT,"
    " withdrawn_by_name TEXT, withdrawn_by_role TEXT);";

/* ---- the registry ------------------------------------------------------------------------------ */

/* Add `b` (a heap copy is taken) to the registry; under lk exclusive. */
msh_rc msh_bcs_add(msh_broadcasts *bs, const msh_broadcast *b)
{
    if (msh_grow_from((void **)&bs->v, &bs->cap, bs->n + 1, sizeof *bs->v, 64))
        return MSH_ENOMEM;
    msh_broadcast *c = malloc(sizeof *c);
    if (!c)
        return MSH_ENOMEM;
    *c = *b;
    bs->v[bs->n++] = c;
    return MSH_OK;
}

/* The active broadcast `id`, or -1; under lk. */
long msh_bcs_find(msh_broadcasts *bs, const char *id, int64_t now_ms)
{
    for (size_t i = 0; i < bs->n; i++)
        if (!strcmp(bs->v[i]->id, id) && msh_bc_active(bs->v[i], now_ms))
            return (long)i;
    return -1;
}

msh_rc msh_broadcasts_open(msh_app *app, msh_err *err)
{
    msh_broadcasts *bs = calloc(1, sizeof *bs);
    if (!bs)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    msh_rc rc = msh_store_open(app->cfg.db_path, false, &bs->db, err);
    if (rc) {
        free(bs);
        return rc;
    }
    pthread_mutex_init(&bs->wmu, NULL);
    pthread_rwlock_init(&bs->lk, NULL);
    app->broadcasts = bs;
    size_t loaded = 0;
    /* FULL: a committed broadcast is on disk before its 201 (the store's own connections use NORMAL) */
    if (msh_store_exec(bs->db, "PRAGMA synchronous=FULL;") || msh_store_exec(bs->db, SCHEMA))
        rc = msh_err_set(err, MSH_EIO, "broadcasts table: %s", msh_store_errmsg(bs->db));
    else {
        pthread_mutex_lock(&bs->wmu);
        rc = msh_bcs_read_table(app, bs, msh_now_ms(), false, &loaded, err);
        pthread_mutex_unlock(&bs->wmu);
    }
    if (rc) {
        msh_broadcasts_close(app);
        return rc;
    }
    if (loaded)
        fprintf(stderr, "mashaer: broadcasts: %zu active\n", loaded);
    return MSH_OK;
}

void msh_broadcasts_close(msh_app *app)
{
    msh_broadcasts *bs = app->broadcasts;
    if (!bs)
        return;
    for (size_t i = 0; i < bs->n; i++) {
        msh_bc_free(bs->v[i]);
        free(bs->v[i]);
    }
    free(bs->v);
    msh_store_close(bs->db);
    pthread_mutex_destroy(&bs->wmu);
    pthread_rwlock_destroy(&bs->lk);
    free(bs);
    app->broadcasts = NULL;
}

/* ---- the target's area and the zones it touches ---------------------------------------------- */

typedef struct {
    int field;          /* the id field */
    const char *id;     /* the wanted id (target), or NULL: every feature (zones touched) */
    msh_bc_area *area;  /* target: the polygons of the features named id */
    const msh_bc_area *probe; /* zones touched: the broadcast's area */
    msh_buf *zones;     /* and the list being made */
    size_t matched;
    msh_rc rc;
    msh_err *err;
} area_ctx;

static bool value_str(const msh_feature *f, int field, const char **s, size_t *len)
{
    const msh_value *v = &f->values[field];
    if (v->type != MSH_FT_STRING)
        return false;
    *s = v->u.s;
    *len = v->len;
    return true;
}

static int target_cb(void *ud, const msh_feature *f)
{
    area_ctx *c = ud;
    const char *s;
    size_t len;
    if (!value_str(f, c->field, &s, &len) || len != strlen(c->id) || memcmp(s, c->id, len))
        return 0;
    c->matched++;
    c->rc = msh_bc_area_add_world(c->area, &f->geom, c->err);
    return c->rc != MSH_OK;
}

static int touch_cb(void *ud, const msh_feature *f)
{
    area_ctx *c = ud;
    const char *s;
    size_t len;
    if (!value_str(f, c->field, &s, &len) || !len || len > MSH_BC_ID_MAX || memchr(s, ',', len))
        return 0; /* a zone id with a comma cannot be listed */
    msh_bc_area za = {0};
    msh_err e;
    if (msh_bc_area_add_world(&za, &f->geom, &e) == MSH_OK && msh_bc_area_intersects(c->probe, &za)) {
        /* once per id, within the list's bound */
        char key[MSH_BC_ID_MAX + 3];
        snprintf(key, sizeof key, ",%.*s,", (int)len, s);
        msh_buf_putc(c->zones, 0);
        char *have = (char *)c->zones->data;
        bool dup = strstr(have, key) != NULL;
        msh_buf_truncate(c->zones, c->zones->len - 1);
        if (!dup && c->zones->len + len + 1 < ZONES_MAX)
            msh_buf_printf(c->zones, "%.*s,", (int)len, s);
    }
    msh_bc_area_free(&za);
    return 0;
}

/* Scan `layer` of `cat` with `cb` over `c` (field `field`); false when there is no such layer or field. */
static bool scan(msh_catalog *cat, const char *layer, const char *field, msh_feature_fn cb, area_ctx *c)
{
    msh_layer *l = cat ? msh_catalog_find(cat, layer, strlen(layer)) : NULL;
    c->field = -1;
    for (uint32_t i = 0; l && i < l->info.nfields; i++)
        if (!strcmp(l->info.fields[i].name, field))
            c->field = (int)i;
    if (c->field < 0)
        return false;
    double world[4] = {0, 0, 1, 1};
    (void)l->vt->query(l, world, l->info.maxzoom, cb, c);
    return true;
}

/* The area of a zone or camp target, and the zones every target touches ("A,B"). */
static msh_rc resolve(msh_app *app, msh_broadcast *b, msh_err *err)
{
    msh_catalog *cat = msh_app_catalog(app);
    msh_rc rc = MSH_OK;
    if (b->target != MSH_BC_GEOMETRY) {
        bool zone = b->target == MSH_BC_ZONE;
        area_ctx c = {.id = b->target_id, .area = &b->area, .err = err};
        if (!scan(cat, zone ? "service_zones" : "camps", zone ? "zone_id" : "camp_id", target_cb, &c) || !c.matched)
            rc = msh_err_set(err, MSH_ENOTFOUND, "target.%s: no %s '%s'", zone ? "zone" : "camp",
                             zone ? "service zone" : "camp", b->target_id);
        else if (c.rc)
            rc = c.rc;
        else if (!b->area.npts)
            rc = msh_err_set(err, MSH_EINVAL, "target.%s: '%s' has no polygon to cover", zone ? "zone" : "camp",
                             b->target_id);
    }
    msh_buf zones;
    msh_buf_init(&zones, ZONES_MAX + MSH_BC_ID_MAX + 8);
    msh_buf_putc(&zones, ',');
    if (!rc && b->target == MSH_BC_ZONE) {
        msh_buf_printf(&zones, "%s,", b->target_id);
    } else if (!rc) {
        area_ctx c = {.probe = &b->area, .zones = &zones, .err = err};
        (void)scan(cat, "service_zones", "zone_id", touch_cb, &c);
    }
    msh_buf_putc(&zones, 0);
    if (!rc) { /* ",A,B," -> "A,B" */
        size_t n = strlen((const char *)zones.data);
        b->zones = n > 1 ? strndup((const char *)zones.data + 1, n - 2) : strdup("");
        if (!b->zones)
            rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    msh_buf_free(&zones);
    msh_catalog_release(cat);
    return rc;
}

/* ---- writes -------------------------------------------------------------------------------- */

/* Run the write `q` in its own transaction: on PostgreSQL the commit notifies every node (store_pg.h),
 * on SQLite it moves the other connections' data_version; the error names the store's message. */
static msh_rc store_write(msh_broadcasts *bs, msh_sql *q, msh_err *err)
{
    if (msh_store_begin(bs->db))
        return msh_err_set(err, MSH_EIO, "broadcasts: cannot store: %s", msh_store_errmsg(bs->db));
    if (msh_sql_step(q) != MSH_SQL_DONE || msh_store_commit(bs->db)) {
        msh_err_set(err, MSH_EIO, "broadcasts: cannot store: %s", msh_store_errmsg(bs->db));
        msh_store_rollback(bs->db);
        return MSH_EIO;
    }
    return MSH_OK;
}

static msh_rc store_insert(msh_broadcasts *bs, const msh_broadcast *b, msh_err *err)
{
    msh_buf msg, area;
    msh_buf_init(&msg, MSH_BC_BODY_MAX * 2);
    msh_buf_init(&area, (size_t)64 << 20);
    msh_bc_messages_json(&msg, b);
    msh_bc_area_geojson(&area, &b->area);
    msh_sql *q = NULL;
    msh_rc rc = msh_buf_error(&msg) || msh_buf_error(&area) ? MSH_ENOMEM : MSH_OK;
    if (!rc && !msh_sql_prepare(bs->db,
                                "INSERT INTO msh_broadcasts (id, created_ms, expires_ms, severity, target_kind,"
                                " target_id, message, area, zones, by_name, by_role) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                                &q)) {
        msh_sql_bind_text(q, 1, b->id, -1);
        msh_sql_bind_int(q, 2, b->created_ms);
        msh_sql_bind_int(q, 3, b->expires_ms);
        msh_sql_bind_text(q, 4, msh_bc_severity_name(b->severity), -1);
        msh_sql_bind_text(q, 5, msh_bc_target_name(b->target), -1);
        msh_sql_bind_text(q, 6, b->target == MSH_BC_GEOMETRY ? NULL : b->target_id, -1);
        msh_sql_bind_text(q, 7, (const char *)msg.data, (int)msg.len);
        msh_sql_bind_text(q, 8, (const char *)area.data, (int)area.len);
        msh_sql_bind_text(q, 9, b->zones, -1);
        msh_sql_bind_text(q, 10, b->by_name, -1);
        msh_sql_bind_text(q, 11, b->by_role, -1);
        rc = store_write(bs, q, err);
    } else if (!rc) {
        rc = msh_err_set(err, MSH_EIO, "broadcasts: cannot store: %s", msh_store_errmsg(bs->db));
    } else {
        msh_err_set(err, rc, "out of memory");
    }
    msh_sql_finalize(q);
    msh_buf_free(&msg);
    msh_buf_free(&area);
    return rc;
}

/* Drop the broadcasts no longer active at `now`; under lk exclusive. */
void msh_bcs_prune(msh_broadcasts *bs, int64_t now_ms)
{
    size_t k = 0;
    for (size_t i = 0; i < bs->n; i++) {
        if (msh_bc_active(bs->v[i], now_ms)) {
            bs->v[k++] = bs->v[i];
        } else {
            msh_bc_free(bs->v[i]);
            free(bs->v[i]);
        }
    }
    bs->n = k;
}

/* {"action": ..., "broadcast": Feature} on the event stream (no author: the stream is public). */
void msh_bcs_publish(msh_app *app, const char *action, const msh_broadcast *b, int64_t now_ms)
{
    if (!app->events)
        return;
    msh_buf ev;
    msh_buf_init(&ev, (size_t)64 << 20);
    msh_buf_printf(&ev, "{\"action\":\"%s\",\"broadcast\":", action);
    msh_bc_feature(&ev, b, now_ms, false);
    msh_buf_printf(&ev, "}");
    msh_buf_putc(&ev, 0);
    if (!msh_buf_error(&ev))
        msh_events_publish_area(app->events, MSH_EV_BROADCAST, b->zones, &b->area, (const char *)ev.data);
    msh_buf_free(&ev);
}

msh_rc msh_broadcasts_create(msh_app *app, msh_broadcast *b, const char *by_name, const char *by_role, char *id,
                             msh_buf *out, msh_err *err)
{
    msh_broadcasts *bs = app->broadcasts;
    uint64_t rnd = 0;
    msh_rc rc = MSH_OK;
    if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        rc = msh_err_set(err, MSH_EINTERNAL, "no random id");
    snprintf(b->id, sizeof b->id, "bc-%016llx", (unsigned long long)rnd);
    snprintf(b->by_name, sizeof b->by_name, "%s", by_name);
    snprintf(b->by_role, sizeof b->by_role, "%s", by_role);
    if (!rc)
        rc = resolve(app, b, err); /* reads the catalog: before any lock of ours */
    if (rc) {
        msh_bc_free(b);
        return rc;
    }
    pthread_mutex_lock(&bs->wmu);
    int64_t now = msh_now_ms();
    b->created_ms = now;
    pthread_rwlock_wrlock(&bs->lk);
    msh_bcs_prune(bs, now);
    size_t n = bs->n;
    pthread_rwlock_unlock(&bs->lk);
    if (n >= MSH_BC_ACTIVE_MAX) {
        rc = msh_err_set(err, MSH_EINVAL, "there are %d active broadcasts, the most kept: withdraw some first",
                         MSH_BC_ACTIVE_MAX);
        if (err)
            err->http_status = 409; /* the body was fine: the registry is full */
    }
    else if (b->expires_ms <= now)
        rc = msh_err_set(err, MSH_EINVAL, "expires: a time in the future");
    if (!rc)
        rc = store_insert(bs, b, err);
    if (!rc) {
        msh_bc_feature(out, b, now, true);
        msh_bcs_publish(app, "created", b, now);
        snprintf(id, 40, "%s", b->id);
        pthread_rwlock_wrlock(&bs->lk);
        rc = msh_bcs_add(bs, b); /* the struct moves into the registry */
        pthread_rwlock_unlock(&bs->lk);
        if (rc) /* stored, but not served until the next sync (which announces it again) */
            msh_err_set(err, rc, "out of memory");
    }
    if (rc)
        msh_bc_free(b);
    pthread_mutex_unlock(&bs->wmu);
    return rc;
}

msh_rc msh_broadcasts_withdraw(msh_app *app, const char *id, const char *by_name, const char *by_role, msh_buf *out,
                               msh_err *err)
{
    msh_broadcasts *bs = app->broadcasts;
    pthread_mutex_lock(&bs->wmu); /* the only writer: what we find stays until we change it */
    int64_t now = msh_now_ms();
    pthread_rwlock_rdlock(&bs->lk);
    long i = msh_bcs_find(bs, id, now);
    pthread_rwlock_unlock(&bs->lk);
    msh_rc rc = MSH_OK;
    msh_sql *q = NULL;
    if (i < 0) {
        rc = msh_err_set(err, MSH_ENOTFOUND, "no active broadcast '%.64s'", id);
    } else if (msh_sql_prepare(bs->db,
                               "UPDATE msh_broadcasts SET withdrawn_ms = ?, withdrawn_by_name = ?, withdrawn_by_role = ?"
                               " WHERE id = ?",
                               &q)) {
        rc = msh_err_set(err, MSH_EIO, "broadcasts: cannot store: %s", msh_store_errmsg(bs->db));
    } else {
        msh_sql_bind_int(q, 1, now);
        msh_sql_bind_text(q, 2, by_name, -1);
        msh_sql_bind_text(q, 3, by_role, -1);
        msh_sql_bind_text(q, 4, id, -1);
        rc = store_write(bs, q, err);
    }
    msh_sql_finalize(q);
    if (!rc) {
        pthread_rwlock_wrlock(&bs->lk);
        msh_broadcast *b = bs->v[i];
        b->withdrawn_ms = now;
        pthread_rwlock_unlock(&bs->lk);
        msh_bc_feature(out, b, now, true);
        msh_bcs_publish(app, "withdrawn", b, now);
        pthread_rwlock_wrlock(&bs->lk);
        msh_bcs_prune(bs, now);
        pthread_rwlock_unlock(&bs->lk);
    }
    pthread_mutex_unlock(&bs->wmu);
    return rc;
}

/* ---- reads --------------------------------------------------------------------------------- */

static bool matches(const msh_broadcast *b, const msh_bc_query *q, int64_t now_ms)
{
    if (!msh_bc_active(b, now_ms))
        return false;
    if (q->has_point && !msh_bc_area_contains(&b->area, q->lon, q->lat))
        return false;
    return !q->zone || msh_bc_in_zone(b, q->zone);
}

msh_rc msh_broadcasts_get(msh_app *app, const msh_bc_query *q, bool with_author, msh_buf *out, msh_err *err)
{
    msh_broadcasts *bs = app->broadcasts;
    int64_t now = msh_now_ms();
    msh_rc rc = MSH_OK;
    pthread_rwlock_rdlock(&bs->lk);
    if (q->id) {
        long i = msh_bcs_find(bs, q->id, now);
        if (i < 0)
            rc = msh_err_set(err, MSH_ENOTFOUND, "no active broadcast '%.64s'", q->id);
        else
            msh_bc_feature(out, bs->v[i], now, with_author);
    } else {
        size_t n = 0;
        msh_buf_printf(out, "{\"type\":\"FeatureCollection\",\"features\":[");
        for (size_t i = 0; i < bs->n; i++) { /* newest first: what a phone shows on top */
            const msh_broadcast *b = bs->v[bs->n - 1 - i];
            if (!matches(b, q, now))
                continue;
            if (n++)
                msh_buf_putc(out, ',');
            msh_bc_feature(out, b, now, with_author);
        }
        char iso[MSH_TIME_ISO_CAP];
        msh_time_format_iso(now, iso, sizeof iso, 0);
        msh_buf_printf(out, "],\"numberReturned\":%zu,\"timeStamp\":\"%s\"}", n, iso);
    }
    pthread_rwlock_unlock(&bs->lk);
    return rc;
}
