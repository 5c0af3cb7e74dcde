/* mbtiles.c: the MBTiles 1.3 writer (see mbtiles.h). */
#include "mbtiles.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "outfile.h"

struct msh_mbtiles {
    msh_outfile out; /* first (msh_outfile_writer_new) */
    sqlite3 *db;
    sqlite3_stmt *ins_image, *ins_map;
};

static const char *const schema =
    "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE; PRAGMA page_size=4096;"
    "CREATE TABLE metadata (name TEXT, value TEXT);"
    "CREATE UNIQUE INDEX name ON metadata (name);"
    "CREATE TABLE map (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_id TEXT);"
    "CREATE TABLE images (tile_data BLOB, tile_id TEXT);"
    "CREATE VIEW tiles AS SELECT map.zoom_level AS zoom_level, map.tile_column AS tile_column,"
    " map.tile_row AS tile_row, images.tile_data AS tile_data"
    " FROM map JOIN images ON images.tile_id = map.tile_id;"
    "BEGIN;";

static msh_rc sql_fail(msh_mbtiles *w, const char *what, msh_err *err)
{
    return msh_err_set(err, MSH_EIO, "cannot %s %s: %s", what, w->out.tmp, w->db ? sqlite3_errmsg(w->db) : "no memory");
}

msh_rc msh_mbtiles_open(const char *path, msh_mbtiles **out, msh_err *err)
{
    msh_mbtiles *w = msh_outfile_writer_new(sizeof *w, path, err); /* w->out first: see outfile.h */
    if (!w)
        return err ? err->code : MSH_ENOMEM;
    msh_rc rc;
    if (sqlite3_open_v2(w->out.tmp, &w->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_exec(w->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db, "INSERT INTO images (tile_data, tile_id) VALUES (?, ?)", -1, &w->ins_image, NULL) ||
        sqlite3_prepare_v2(w->db, "INSERT INTO map (zoom_level, tile_column, tile_row, tile_id) VALUES (?, ?, ?, ?)",
                           -1, &w->ins_map, NULL)) {
        rc = sql_fail(w, "create", err);
        msh_mbtiles_free(w);
        return rc;
    }
    *out = w;
    return MSH_OK;
}

msh_rc msh_mbtiles_add(void *ud, const msh_export_tile *t, msh_err *err)
{
    msh_mbtiles *w = ud;
    char id[33];
    for (int i = 0; i < 16; i++)
        snprintf(id + 2 * i, 3, "%02x", t->digest[i]);
    if (t->fresh) {
        sqlite3_reset(w->ins_image);
        sqlite3_bind_blob(w->ins_image, 1, t->data, (int)t->len, SQLITE_STATIC);
        sqlite3_bind_text(w->ins_image, 2, id, 32, SQLITE_STATIC);
        if (sqlite3_step(w->ins_image) != SQLITE_DONE)
            return sql_fail(w, "write a tile to", err);
    }
    sqlite3_reset(w->ins_map);
    sqlite3_bind_int(w->ins_map, 1, t->z);
    sqlite3_bind_int64(w->ins_map, 2, t->x);
    sqlite3_bind_int64(w->ins_map, 3, (int64_t)(((uint64_t)1 << t->z) - 1 - t->y)); /* TMS: y up */
    sqlite3_bind_text(w->ins_map, 4, id, 32, SQLITE_STATIC);
    if (sqlite3_step(w->ins_map) != SQLITE_DONE)
        return sql_fail(w, "write a tile to", err);
    return MSH_OK;
}

static bool put_meta(sqlite3_stmt *q, const char *name, const char *value)
{
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
    return sqlite3_step(q) == SQLITE_DONE;
}

msh_rc msh_mbtiles_finish(msh_mbtiles *w, const msh_mbtiles_info *in, uint64_t *size, msh_err *err)
{
    sqlite3_stmt *q = NULL;
    char bounds[128], center[96], minz[8], maxz[8];
    snprintf(bounds, sizeof bounds, "%.7f,%.7f,%.7f,%.7f", in->bounds[0], in->bounds[1], in->bounds[2], in->bounds[3]);
    snprintf(center, sizeof center, "%.7f,%.7f,%d", in->center[0], in->center[1], (int)in->center[2]);
    snprintf(minz, sizeof minz, "%d", in->minzoom);
    snprintf(maxz, sizeof maxz, "%d", in->maxzoom);
    bool ok = sqlite3_prepare_v2(w->db, "INSERT INTO metadata (name, value) VALUES (?, ?)", -1, &q, NULL) == SQLITE_OK &&
              put_meta(q, "name", in->name) && put_meta(q, "format", in->format) && put_meta(q, "bounds", bounds) &&
              put_meta(q, "center", center) && put_meta(q, "minzoom", minz) && put_meta(q, "maxzoom", maxz) &&
              put_meta(q, "type", strcmp(in->format, "png") ? "overlay" : "baselayer") && put_meta(q, "version", "1") &&
              put_meta(q, "description", in->description) &&
              put_meta(q, "attribution", "\xc2\xa9 OpenStreetMap contributors") && (!in->json || put_meta(q, "json", in->json));
    sqlite3_finalize(q);
    /* the indexes once the rows are in: one sort instead of a B-tree insert per tile */
    ok = ok && sqlite3_exec(w->db,
                            "CREATE UNIQUE INDEX map_index ON map (zoom_level, tile_column, tile_row);"
                            "CREATE UNIQUE INDEX images_id ON images (tile_id);"
                            "COMMIT;",
                            NULL, NULL, NULL) == SQLITE_OK;
    if (!ok)
        return sql_fail(w, "finish", err);
    sqlite3_finalize(w->ins_image);
    sqlite3_finalize(w->ins_map);
    w->ins_image = w->ins_map = NULL;
    int c = sqlite3_close(w->db);
    w->db = NULL;
    if (c != SQLITE_OK)
        return msh_err_set(err, MSH_EIO, "cannot close %s", w->out.tmp);
    struct stat st;
    if (size)
        *size = fstat(w->out.fd, &st) ? 0 : (uint64_t)st.st_size;
    return msh_outfile_commit(&w->out, err);
}

void msh_mbtiles_free(msh_mbtiles *w)
{
    if (!w)
        return;
    sqlite3_finalize(w->ins_image);
    sqlite3_finalize(w->ins_map);
    if (w->db)
        sqlite3_close(w->db);
    msh_outfile_discard(&w->out);
    free(w);
}
