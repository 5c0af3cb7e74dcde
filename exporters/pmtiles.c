/* pmtiles.c: the PMTiles v3 writer (see pmtiles.h). */
#define _GNU_SOURCE /* copy_file_range, before any system header */
#include "pmtiles.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/msh_grow.h"
#include "core/msh_le.h"
#include "gzip.h"
#include "outfile.h"

enum { PMT_COMPRESSION_NONE = 1, PMT_COMPRESSION_GZIP = 2, PMT_TYPE_MVT = 1, PMT_TYPE_PNG = 2 };

struct msh_pmtiles {
    msh_outfile out; /* first (msh_outfile_writer_new) */
    FILE *data;           /* the tile data, in an unlinked file beside the archive */
    uint64_t data_len;
    uint64_t *offsets;    /* by content number */
    size_t ncontents, contents_cap;
    msh_pmtiles_entry *e;
    size_t n, cap;
    uint64_t addressed;
};

uint64_t msh_pmtiles_tile_id(int z, uint32_t x, uint32_t y)
{
    uint64_t acc = (((uint64_t)1 << (2 * z)) - 1) / 3; /* 4^0 + ... + 4^(z-1) */
    uint64_t n = (uint64_t)1 << z, d = 0, tx = x, ty = y;
    for (uint64_t s = n / 2; s > 0; s /= 2) {
        uint64_t rx = (tx & s) > 0, ry = (ty & s) > 0;
        d += s * s * ((3 * rx) ^ ry);
        if (!ry) { /* rotate the quadrant */
            if (rx) {
                tx = n - 1 - tx;
                ty = n - 1 - ty;
            }
            uint64_t t = tx;
            tx = ty;
            ty = t;
        }
    }
    return acc + d;
}

void msh_pmtiles_dir_encode(msh_buf *b, const msh_pmtiles_entry *e, size_t n)
{
    msh_buf_varint(b, n);
    uint64_t last = 0;
    for (size_t i = 0; i < n; i++) {
        msh_buf_varint(b, e[i].tile_id - last);
        last = e[i].tile_id;
    }
    for (size_t i = 0; i < n; i++)
        msh_buf_varint(b, e[i].run);
    for (size_t i = 0; i < n; i++)
        msh_buf_varint(b, e[i].length);
    for (size_t i = 0; i < n; i++)
        msh_buf_varint(b, i > 0 && e[i].offset == e[i - 1].offset + e[i - 1].length ? 0 : e[i].offset + 1);
}

msh_rc msh_pmtiles_open(const char *path, msh_pmtiles **out, msh_err *err)
{
    msh_pmtiles *w = msh_outfile_writer_new(sizeof *w, path, err); /* w->out first: see outfile.h */
    if (!w)
        return err ? err->code : MSH_ENOMEM;
    msh_rc rc;
    char dt[sizeof w->out.tmp + 16];
    snprintf(dt, sizeof dt, "%s.tilesXXXXXX", w->out.tmp);
    int fd = mkstemp(dt);
    if (fd >= 0)
        unlink(dt); /* gone with the process, however it ends */
    w->data = fd >= 0 ? fdopen(fd, "w+") : NULL;
    if (!w->data) {
        rc = msh_err_set(err, MSH_EIO, "cannot create a temporary file beside %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        msh_pmtiles_free(w);
        return rc;
    }
    *out = w;
    return MSH_OK;
}

msh_rc msh_pmtiles_add(void *ud, const msh_export_tile *t, msh_err *err)
{
    msh_pmtiles *w = ud;
    if (t->fresh) {
        if (t->content != w->ncontents)
            return msh_err_set(err, MSH_EINTERNAL, "contents out of order");
        if (msh_grow_from((void **)&w->offsets, &w->contents_cap, w->ncontents + 1, sizeof *w->offsets, 1024))
            return msh_err_set(err, MSH_ENOMEM, "out of memory");
        if (fwrite(t->data, 1, t->len, w->data) != t->len)
            return msh_err_set(err, MSH_EIO, "cannot write the tile data: %s", strerror(errno));
        w->offsets[w->ncontents++] = w->data_len;
        w->data_len += t->len;
    }
    if (t->content >= w->ncontents)
        return msh_err_set(err, MSH_EINTERNAL, "unknown content %u", t->content);
    uint64_t off = w->offsets[t->content];
    msh_pmtiles_entry *last = w->n ? &w->e[w->n - 1] : NULL;
    if (last && t->tile_id <= last->tile_id + last->run - 1)
        return msh_err_set(err, MSH_EINTERNAL, "tiles out of order");
    w->addressed++;
    if (last && last->offset == off && last->tile_id + last->run == t->tile_id) {
        last->run++;
        return MSH_OK;
    }
    if (msh_grow_from((void **)&w->e, &w->cap, w->n + 1, sizeof *w->e, 1024))
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    w->e[w->n++] = (msh_pmtiles_entry){t->tile_id, off, (uint32_t)t->len, 1};
    return MSH_OK;
}

/* gzip the directory of entries e[0..n) into out. */
static msh_rc dir_gz(const msh_pmtiles_entry *e, size_t n, msh_buf *raw, msh_buf *out)
{
    msh_buf_reset(raw);
    msh_pmtiles_dir_encode(raw, e, n);
    if (msh_buf_error(raw))
        return msh_buf_error(raw);
    return msh_gzip(raw->data, raw->len, out, 6);
}

/* The root directory in root, the leaves back to back in leaves: every entry in the root when it
 * fits, else leaves of `per` entries, `per` doubled until the root of leaf pointers fits. */
static msh_rc directories(const msh_pmtiles *w, msh_buf *root, msh_buf *leaves, msh_err *err)
{
    msh_buf raw, one;
    msh_buf_init(&raw, SIZE_MAX);
    msh_buf_init(&one, SIZE_MAX);
    msh_pmtiles_entry *ptr = NULL;
    msh_rc rc = dir_gz(w->e, w->n, &raw, root);
    for (size_t per = 4096; !rc && root->len > MSH_PMTILES_ROOT_MAX; per *= 2) {
        size_t nleaves = (w->n + per - 1) / per;
        free(ptr);
        ptr = malloc(nleaves * sizeof *ptr);
        if (!ptr) {
            rc = MSH_ENOMEM;
            break;
        }
        msh_buf_reset(leaves);
        for (size_t i = 0; !rc && i < nleaves; i++) {
            size_t first = i * per, cnt = w->n - first < per ? w->n - first : per;
            rc = dir_gz(w->e + first, cnt, &raw, &one);
            if (!rc) {
                ptr[i] = (msh_pmtiles_entry){w->e[first].tile_id, leaves->len, (uint32_t)one.len, 0};
                rc = msh_buf_append(leaves, one.data, one.len);
            }
        }
        if (!rc)
            rc = dir_gz(ptr, nleaves, &raw, root);
    }
    free(ptr);
    msh_buf_free(&raw);
    msh_buf_free(&one);
    return rc ? msh_err_set(err, rc, "cannot build the PMTiles directories: %s", msh_rc_str(rc)) : MSH_OK;
}

static void put_pos(uint8_t *p, double lon, double lat)
{
    msh_le32_put(p, (uint32_t)(int32_t)lround(lon * 1e7));
    msh_le32_put(p + 4, (uint32_t)(int32_t)lround(lat * 1e7));
}

static msh_rc write_all(int fd, const void *p, size_t n, const char *what, msh_err *err)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return msh_err_set(err, MSH_EIO, "cannot write the %s: %s", what, k < 0 ? strerror(errno) : "short write");
        b += k, n -= (size_t)k;
    }
    return MSH_OK;
}

/* Copy the tile data file to the end of fd. */
static msh_rc copy_data(msh_pmtiles *w, int fd, msh_err *err)
{
    if (fflush(w->data))
        return msh_err_set(err, MSH_EIO, "cannot write the tile data: %s", strerror(errno));
    int in = fileno(w->data);
    loff_t at = 0;
    while ((uint64_t)at < w->data_len) {
        ssize_t k = copy_file_range(in, &at, fd, NULL, (size_t)(w->data_len - (uint64_t)at), 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k > 0)
            continue;
        if (k < 0 && errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL)
            return msh_err_set(err, MSH_EIO, "cannot copy the tile data: %s", strerror(errno));
        /* no copy_file_range here: read and write */
        char buf[1 << 16];
        while ((uint64_t)at < w->data_len) {
            size_t want = w->data_len - (uint64_t)at < sizeof buf ? (size_t)(w->data_len - (uint64_t)at) : sizeof buf;
            ssize_t r = pread(in, buf, want, at);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return msh_err_set(err, MSH_EIO, "cannot read the tile data back: %s", r < 0 ? strerror(errno) : "short");
            msh_rc rc = write_all(fd, buf, (size_t)r, "tile data", err);
            if (rc)
                return rc;
            at += r;
        }
    }
    return MSH_OK;
}

msh_rc msh_pmtiles_finish(msh_pmtiles *w, const msh_pmtiles_info *info, uint64_t *size, msh_err *err)
{
    msh_buf root, leaves, meta;
    msh_buf_init(&root, SIZE_MAX);
    msh_buf_init(&leaves, SIZE_MAX);
    msh_buf_init(&meta, SIZE_MAX);
    msh_rc rc = MSH_OK;
    if (!w->n) {
        rc = msh_err_set(err, MSH_EINVAL, "no tile has any feature: nothing to write (check --layers, --bbox and --zoom)");
        goto out;
    }
    rc = directories(w, &root, &leaves, err);
    if (!rc && msh_gzip((const uint8_t *)info->metadata, info->metadata_len, &meta, 6))
        rc = msh_err_set(err, MSH_ENOMEM, "cannot compress the metadata");
    if (rc)
        goto out;
    uint8_t h[MSH_PMTILES_HEADER_LEN] = {0};
    uint64_t root_off = MSH_PMTILES_HEADER_LEN, meta_off = root_off + root.len, leaf_off = meta_off + meta.len,
             data_off = leaf_off + leaves.len;
    memcpy(h, "PMTiles", 7);
    h[7] = 3;
    msh_le64_put(h + 8, root_off);
    msh_le64_put(h + 16, root.len);
    msh_le64_put(h + 24, meta_off);
    msh_le64_put(h + 32, meta.len);
    msh_le64_put(h + 40, leaf_off);
    msh_le64_put(h + 48, leaves.len);
    msh_le64_put(h + 56, data_off);
    msh_le64_put(h + 64, w->data_len);
    msh_le64_put(h + 72, w->addressed);
    msh_le64_put(h + 80, w->n);
    msh_le64_put(h + 88, w->ncontents);
    h[96] = 1; /* clustered */
    h[97] = PMT_COMPRESSION_GZIP;
    h[98] = info->png ? PMT_COMPRESSION_NONE : PMT_COMPRESSION_GZIP;
    h[99] = info->png ? PMT_TYPE_PNG : PMT_TYPE_MVT;
    h[100] = (uint8_t)info->minzoom;
    h[101] = (uint8_t)info->maxzoom;
    put_pos(h + 102, info->bounds[0], info->bounds[1]);
    put_pos(h + 110, info->bounds[2], info->bounds[3]);
    h[118] = (uint8_t)info->center[2];
    put_pos(h + 119, info->center[0], info->center[1]);
    int fd = w->out.fd;
    rc = write_all(fd, h, sizeof h, "header", err);
    if (!rc) rc = write_all(fd, root.data, root.len, "root directory", err);
    if (!rc) rc = write_all(fd, meta.data, meta.len, "metadata", err);
    if (!rc) rc = write_all(fd, leaves.data, leaves.len, "leaf directories", err);
    if (!rc) rc = copy_data(w, fd, err);
    if (!rc) rc = msh_outfile_commit(&w->out, err);
    if (!rc && size)
        *size = data_off + w->data_len;
out:
    msh_buf_free(&root);
    msh_buf_free(&leaves);
    msh_buf_free(&meta);
    return rc;
}

void msh_pmtiles_free(msh_pmtiles *w)
{
    if (!w)
        return;
    msh_outfile_discard(&w->out);
    if (w->data)
        fclose(w->data);
    free(w->offsets);
    free(w->e);
    free(w);
}

msh_rc msh_pmtiles_export(const char *path, const msh_export_opts *o, const char *name, msh_export_summary *sum,
                          uint64_t *size, msh_err *err)
{
    msh_buf meta;
    msh_buf_init(&meta, (size_t)64 << 20);
    double center[3];
    bool png = o->maker != NULL; /* a style's PNG tiles (the only other maker) */
    msh_export_metadata_json(&meta, o, name, png, center);
    msh_buf_putc(&meta, 0);
    msh_pmtiles *w = NULL;
    msh_rc rc = msh_buf_error(&meta) ? msh_err_set(err, MSH_ENOMEM, "metadata too large") : MSH_OK;
    if (!rc)
        rc = msh_pmtiles_open(path, &w, err);
    if (!rc)
        rc = msh_export_run(o, msh_pmtiles_add, w, sum, err);
    msh_pmtiles_info info = {o->minzoom, o->maxzoom, {o->bbox[0], o->bbox[1], o->bbox[2], o->bbox[3]},
                             {center[0], center[1], center[2]}, (const char *)meta.data, meta.len ? meta.len - 1 : 0, png};
    if (!rc)
        rc = msh_pmtiles_finish(w, &info, size, err);
    msh_pmtiles_free(w);
    msh_buf_free(&meta);
    return rc;
}
