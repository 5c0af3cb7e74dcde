/* report_service.c: the reports' SLA, budgets and photos (report_service.h). */
#include "services/report_service.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_hash.h"
#include "core/msh_time.h"
#include "services/edit_service.h"
#include "store_sql.h"
#include "workflow/report_limits.h"

struct msh_report_service {
    msh_report_sla sla;
    pthread_mutex_t mu; /* the budgets */
    msh_rlim *limits;
    int photos_max;
};

static const char PHOTOS_SQL[] =
    "CREATE TABLE IF NOT EXISTS msh_report_photos (id INTEGER PRIMARY KEY, report INTEGER NOT NULL,"
    " ctype TEXT NOT NULL, bytes BLOB NOT NULL, thumb_ctype TEXT NOT NULL, thumb BLOB NOT NULL,"
    " width INTEGER, height INTEGER, hash INTEGER NOT NULL, by_name TEXT, at_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS msh_report_photos_report ON msh_report_photos (report, id);";

msh_rc msh_report_service_start(msh_app *app, msh_store *s, msh_err *err)
{
    msh_report_service *rs = calloc(1, sizeof *rs);
    if (!rs)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    pthread_mutex_init(&rs->mu, NULL);
    app->reports = rs;
    msh_report_sla_defaults(&rs->sla);
    msh_rc rc;
    if (app->cfg.report_sla && (rc = msh_report_sla_parse(app->cfg.report_sla, &rs->sla, err)))
        return rc;
    msh_rlim_cfg lc = {app->cfg.report_rate, app->cfg.report_photo_mb * 1024.0 * 1024.0};
    rs->photos_max = app->cfg.report_photos;
    if (!(rs->limits = msh_rlim_new(&lc)))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    bool created = false;
    if ((rc = msh_reports_ensure_layer(s, &created, err)))
        return rc;
    if (msh_store_exec(s, PHOTOS_SQL))
        return msh_err_set(err, MSH_EIO, "creating msh_report_photos: %s", msh_store_errmsg(s));
    if (created)
        fprintf(stderr, "mashaer: edits: created the %s layer (empty)\n", MSH_REPORTS_LAYER);
    return MSH_OK;
}

void msh_report_service_stop(msh_app *app)
{
    msh_report_service *rs = app->reports;
    if (!rs)
        return;
    msh_rlim_free(rs->limits);
    pthread_mutex_destroy(&rs->mu);
    free(rs);
    app->reports = NULL;
}

static msh_report_sla default_sla;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static void default_init(void)
{
    msh_report_sla_defaults(&default_sla);
}

const msh_report_sla *msh_report_service_sla(msh_app *app)
{
    if (app->reports)
        return &app->reports->sla;
    pthread_once(&default_once, default_init);
    return &default_sla;
}

bool msh_report_service_may_create(msh_app *app, const char *who, int *retry_s)
{
    msh_report_service *rs = app->reports;
    if (!rs)
        return true;
    pthread_mutex_lock(&rs->mu);
    bool ok = msh_rlim_report(rs->limits, who, msh_now_ms(), retry_s);
    pthread_mutex_unlock(&rs->mu);
    return ok;
}

bool msh_report_service_may_upload(msh_app *app, const char *who, size_t bytes, int *retry_s)
{
    msh_report_service *rs = app->reports;
    if (!rs)
        return true;
    pthread_mutex_lock(&rs->mu);
    bool ok = msh_rlim_photo(rs->limits, who, bytes, msh_now_ms(), retry_s);
    pthread_mutex_unlock(&rs->mu);
    return ok;
}

void msh_report_service_refund(msh_app *app, const char *who, size_t bytes)
{
    msh_report_service *rs = app->reports;
    if (!rs)
        return;
    pthread_mutex_lock(&rs->mu);
    msh_rlim_photo_refund(rs->limits, who, bytes);
    pthread_mutex_unlock(&rs->mu);
}

/* ---- photos ---------------------------------------------------------------------------------- */

msh_rc msh_report_photo_put(msh_app *app, int64_t report, msh_photo_type type, const uint8_t *data, size_t len,
                            msh_photo_type thumb_type, const uint8_t *thumb, size_t thumb_len,
                            const msh_photo_info *info, const char *who, int64_t *aid, msh_err *err)
{
    msh_store *s = msh_edit_service_lock(app);
    msh_sql *count = NULL, *ins = NULL;
    msh_rc rc = msh_store_begin(s);
    if (rc) {
        rc = msh_err_set(err, MSH_EIO, "storing the photo: %s", msh_store_errmsg(s));
        goto out;
    }
    if (msh_sql_prepare(s, "SELECT count(*) FROM msh_report_photos WHERE report = ?1", &count) ||
        msh_sql_prepare(s, "INSERT INTO msh_report_photos (report, ctype, bytes, thumb_ctype, thumb, width, height,"
                           " hash, by_name, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &ins)) {
        rc = msh_err_set(err, MSH_EIO, "storing the photo: %s", msh_store_errmsg(s));
        goto rollback;
    }
    msh_sql_bind_int(count, 1, report);
    if (msh_sql_step(count) != MSH_SQL_ROW) {
        rc = msh_err_set(err, MSH_EIO, "storing the photo: %s", msh_store_errmsg(s));
        goto rollback;
    }
    int max = app->reports ? app->reports->photos_max : 5;
    if (msh_sql_int(count, 0) >= max) {
        rc = msh_err_set(err, MSH_ETOOBIG, "report %lld has %d photos already: the most a report takes",
                         (long long)report, max);
        goto rollback;
    }
    msh_sql_bind_int(ins, 1, report);
    msh_sql_bind_text(ins, 2, msh_photo_mime(type), -1);
    msh_sql_bind_blob(ins, 3, data, len);
    msh_sql_bind_text(ins, 4, msh_photo_mime(thumb_type), -1);
    msh_sql_bind_blob(ins, 5, thumb, thumb_len);
    msh_sql_bind_int(ins, 6, info->width);
    msh_sql_bind_int(ins, 7, info->height);
    msh_sql_bind_int(ins, 8, (int64_t)(msh_fnv1a(data, len, MSH_FNV1A_INIT) >> 1));
    msh_sql_bind_text(ins, 9, who, -1);
    msh_sql_bind_int(ins, 10, msh_now_ms());
    if (msh_sql_step(ins) != MSH_SQL_DONE) {
        rc = msh_err_set(err, MSH_EIO, "storing the photo: %s", msh_store_errmsg(s));
        goto rollback;
    }
    msh_sql_finalize(count);
    count = NULL;
    msh_sql *last = NULL;
    if (msh_sql_prepare(s, "SELECT last_insert_rowid()", &last) || msh_sql_step(last) != MSH_SQL_ROW) {
        msh_sql_finalize(last);
        rc = msh_err_set(err, MSH_EIO, "storing the photo: %s", msh_store_errmsg(s));
        goto rollback;
    }
    *aid = msh_sql_int(last, 0);
    msh_sql_finalize(last);
    if (msh_store_commit(s)) {
        rc = msh_err_set(err, MSH_EIO, "storing the photo: %s", msh_store_errmsg(s));
        goto rollback;
    }
    goto out;
rollback:
    msh_store_rollback(s);
out:
    msh_sql_finalize(count);
    msh_sql_finalize(ins);
    msh_edit_service_unlock(app);
    return rc;
}

msh_rc msh_report_photo_get(msh_app *app, int64_t report, int64_t aid, bool thumb, uint8_t **data, size_t *len,
                            char *ctype, size_t ctype_cap, uint64_t *hash, msh_err *err)
{
    *data = NULL;
    *len = 0;
    msh_store *s = msh_edit_service_lock(app);
    msh_sql *q = NULL;
    msh_rc rc = MSH_OK;
    if (msh_sql_prepare(s, thumb ? "SELECT thumb_ctype, thumb, hash FROM msh_report_photos WHERE report = ?1 AND id = ?2"
                                 : "SELECT ctype, bytes, hash FROM msh_report_photos WHERE report = ?1 AND id = ?2",
                        &q)) {
        rc = msh_err_set(err, MSH_EIO, "reading the photo: %s", msh_store_errmsg(s));
        goto out;
    }
    msh_sql_bind_int(q, 1, report);
    msh_sql_bind_int(q, 2, aid);
    int st = msh_sql_step(q);
    if (st == MSH_SQL_DONE) {
        rc = msh_err_set(err, MSH_ENOTFOUND, "report %lld has no photo %lld", (long long)report, (long long)aid);
        goto out;
    }
    size_t n = 0;
    const void *b = st == MSH_SQL_ROW ? msh_sql_blob(q, 1, &n) : NULL;
    const char *ct = st == MSH_SQL_ROW ? msh_sql_text(q, 0, NULL) : NULL;
    if (!b || !ct || !(*data = malloc(n))) {
        rc = msh_err_set(err, st == MSH_SQL_ROW ? MSH_ENOMEM : MSH_EIO, "reading the photo: %s", msh_store_errmsg(s));
        goto out;
    }
    memcpy(*data, b, n);
    *len = n;
    snprintf(ctype, ctype_cap, "%s", ct);
    *hash = (uint64_t)msh_sql_int(q, 2);
out:
    msh_sql_finalize(q);
    msh_edit_service_unlock(app);
    return rc;
}

msh_rc msh_report_photo_list(msh_app *app, int64_t report, const char *base, msh_buf *out, msh_err *err)
{
    msh_store *s = msh_edit_service_lock(app);
    msh_sql *q = NULL;
    msh_rc rc = MSH_OK;
    if (msh_sql_prepare(s, "SELECT id, ctype, length(bytes), width, height, at_ms FROM msh_report_photos"
                           " WHERE report = ?1 ORDER BY id", &q)) {
        rc = msh_err_set(err, MSH_EIO, "reading the photos: %s", msh_store_errmsg(s));
        goto out;
    }
    msh_sql_bind_int(q, 1, report);
    msh_buf_putc(out, '[');
    int st, n = 0;
    while ((st = msh_sql_step(q)) == MSH_SQL_ROW) {
        char at[MSH_TIME_ISO_CAP];
        msh_time_format_iso(msh_sql_int(q, 5), at, sizeof at, 3);
        long long id = (long long)msh_sql_int(q, 0);
        const char *href = "%s/ogc/collections/" MSH_REPORTS_LAYER "/items/%lld/attachments/%lld";
        msh_buf_printf(out, "%s{\"id\":%lld,\"type\":\"%s\",\"bytes\":%lld,\"width\":%lld,\"height\":%lld,"
                            "\"created\":\"%s\",\"href\":\"",
                       n++ ? "," : "", id, msh_sql_text(q, 1, NULL), (long long)msh_sql_int(q, 2),
                       (long long)msh_sql_int(q, 3), (long long)msh_sql_int(q, 4), at);
        msh_buf_printf(out, href, base, (long long)report, id);
        msh_buf_printf(out, "\",\"thumbnail\":\"");
        msh_buf_printf(out, href, base, (long long)report, id);
        msh_buf_printf(out, "?size=thumb\"}");
    }
    msh_buf_putc(out, ']');
    if (st != MSH_SQL_DONE)
        rc = msh_err_set(err, MSH_EIO, "reading the photos: %s", msh_store_errmsg(s));
out:
    msh_sql_finalize(q);
    msh_edit_service_unlock(app);
    return rc;
}
