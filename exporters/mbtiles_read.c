/* mbtiles_read.c: the MBTiles reader (see mbtiles_read.h). */
#include "mbtiles_read.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct msh_mbtiles_reader {
    pthread_mutex_t mu;
    sqlite3 *db;
    sqlite3_stmt *get; /* guarded by mu */
    msh_mbtiles_meta m;
};

static msh_rc sql_fail(msh_mbtiles_reader *r, const char *path, const char *what, msh_err *err)
{
    return msh_err_set(err, MSH_EFORMAT, "%s: cannot %s: %s", path, what, r->db ? sqlite3_errmsg(r->db) : "no memory");
}

static void read_meta(msh_mbtiles_reader *r, sqlite3_stmt *q)
{
    msh_mbtiles_meta *m = &r->m;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(q, 0), *v = (const char *)sqlite3_column_text(q, 1);
        if (!k || !v)
            continue;
        if (!strcmp(k, "format"))
            snprintf(m->format, sizeof m->format, "%s", v);
        else if (!strcmp(k, "minzoom"))
            m->minzoom = atoi(v);
        else if (!strcmp(k, "maxzoom"))
            m->maxzoom = atoi(v);
        else if (!strcmp(k, "bounds"))
            sscanf(v, "%lf,%lf,%lf,%lf", &m->bounds[0], &m->bounds[1], &m->bounds[2], &m->bounds[3]);
        else if (!strcmp(k, "center"))
            sscanf(v, "%lf,%lf,%lf", &m->center[0], &m->center[1], &m->center[2]);
        else if (!strcmp(k, "name") && !m->name)
            m->name = strdup(v);
        else if (!strcmp(k, "attribution") && !m->attribution)
            m->attribution = strdup(v);
        else if (!strcmp(k, "json") && !m->json)
            m->json = strdup(v);
    }
}

msh_rc msh_mbtiles_reader_open(const char *path, msh_mbtiles_reader **out, msh_err *err)
{
    *out = NULL;
    msh_mbtiles_reader *r = calloc(1, sizeof *r);
    if (!r)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    pthread_mutex_init(&r->mu, NULL);
    msh_mbtiles_meta *m = &r->m;
    m->minzoom = m->maxzoom = -1;
    m->bounds[0] = -180, m->bounds[1] = -85.0511287, m->bounds[2] = 180, m->bounds[3] = 85.0511287;
    m->center[2] = -1;
    sqlite3_stmt *q = NULL;
    msh_rc rc = MSH_OK;
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = sql_fail(r, path, "open it as SQLite", err);
        goto out;
    }
    if (sqlite3_prepare_v2(r->db, "SELECT name, value FROM metadata", -1, &q, NULL) != SQLITE_OK) {
        rc = sql_fail(r, path, "read its metadata table", err);
        goto out;
    }
    read_meta(r, q);
    sqlite3_finalize(q);
    q = NULL;
    if (m->minzoom < 0 || m->maxzoom < 0) { /* not in the metadata: from the tiles */
        if (sqlite3_prepare_v2(r->db, "SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles", -1, &q, NULL) != SQLITE_OK ||
            sqlite3_step(q) != SQLITE_ROW) {
            rc = sql_fail(r, path, "read its tiles", err);
            goto out;
        }
        if (m->minzoom < 0) m->minzoom = sqlite3_column_int(q, 0);
        if (m->maxzoom < 0) m->maxzoom = sqlite3_column_int(q, 1);
        sqlite3_finalize(q);
        q = NULL;
    }
    if (m->minzoom < 0 || m->maxzoom > 30 || m->minzoom > m->maxzoom) {
        rc = msh_err_set(err, MSH_EFORMAT, "%s: zooms %d-%d are not a zoom range", path, m->minzoom, m->maxzoom);
        goto out;
    }
    if (!m->format[0])
        snprintf(m->format, sizeof m->format, "%s", m->json ? "pbf" : "png");
    if (strcmp(m->format, "pbf") && strcmp(m->format, "png") && strcmp(m->format, "jpg") && strcmp(m->format, "webp")) {
        rc = msh_err_set(err, MSH_EFORMAT, "%s: tile format '%s': pbf, png, jpg and webp are served", path, m->format);
        goto out;
    }
    if (m->center[2] < 0) {
        m->center[0] = (m->bounds[0] + m->bounds[2]) / 2, m->center[1] = (m->bounds[1] + m->bounds[3]) / 2;
        m->center[2] = m->minzoom;
    }
    if (sqlite3_prepare_v2(r->db, "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                           -1, &r->get, NULL) != SQLITE_OK)
        rc = sql_fail(r, path, "query its tiles", err);
out:
    sqlite3_finalize(q);
    if (rc) {
        msh_mbtiles_reader_free(r);
        return rc;
    }
    *out = r;
    return MSH_OK;
}

void msh_mbtiles_reader_free(msh_mbtiles_reader *r)
{
    if (!r)
        return;
    sqlite3_finalize(r->get);
    if (r->db)
        sqlite3_close(r->db);
    free(r->m.name);
    free(r->m.attribution);
    free(r->m.json);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

const msh_mbtiles_meta *msh_mbtiles_reader_meta(const msh_mbtiles_reader *r) { return &r->m; }

msh_rc msh_mbtiles_reader_tile(msh_mbtiles_reader *r, int z, uint32_t x, uint32_t y, msh_buf *out, msh_err *err)
{
    msh_buf_reset(out);
    if (z < 0 || z > 30 || (uint64_t)x >> z || (uint64_t)y >> z)
        return msh_err_set(err, MSH_ENOTFOUND, "no tile %d/%u/%u", z, x, y);
    msh_rc rc = MSH_OK;
    pthread_mutex_lock(&r->mu);
    sqlite3_reset(r->get);
    sqlite3_bind_int(r->get, 1, z);
    sqlite3_bind_int64(r->get, 2, x);
    sqlite3_bind_int64(r->get, 3, (int64_t)(((uint64_t)1 << z) - 1 - y)); /* TMS: y up */
    int s = sqlite3_step(r->get);
    if (s == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(r->get, 0);
        int n = sqlite3_column_bytes(r->get, 0);
        if (n <= 0)
            rc = msh_err_set(err, MSH_ENOTFOUND, "tile %d/%u/%u is empty in the archive", z, x, y);
        else if (msh_buf_append(out, p, (size_t)n))
            rc = msh_err_set(err, MSH_ETOOBIG, "tile %d/%u/%u is too large (%d bytes)", z, x, y, n);
    } else if (s == SQLITE_DONE) {
        rc = msh_err_set(err, MSH_ENOTFOUND, "no tile %d/%u/%u in the archive", z, x, y);
    } else {
        rc = msh_err_set(err, MSH_EIO, "reading tile %d/%u/%u: %s", z, x, y, sqlite3_errmsg(r->db));
    }
    sqlite3_reset(r->get);
    pthread_mutex_unlock(&r->mu);
    return rc;
}
