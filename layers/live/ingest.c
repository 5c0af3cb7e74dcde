/* ingest.c: feed batches -> checks -> write-ahead log -> live state -> durable acknowledgement. */
#include "ingest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/msh_le.h"
#include "snapshot.h"

#define REC_HEADER 9 /* WAL record: type = feed, payload = [i64 received_ms, little endian] then the encoded records */

struct msh_ingest {
    msh_live *live;
    msh_wal *wal;
    char *dir;
    uint64_t snap_lsn; /* LSN covered by the newest snapshot */
};

/* The newest snapshot in dir: its LSN (0 if none). */
static uint64_t newest_snapshot(const char *dir, char *path, size_t cap)
{
    DIR *d = opendir(dir);
    uint64_t best = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned long long v;
        char tail[8];
        if (sscanf(e->d_name, "snapshot-%16llx.sna%1s", &v, tail) == 2 && !strcmp(tail, "p") && v > best)
            best = v;
    }
    closedir(d);
    if (best)
        snprintf(path, cap, "%s/snapshot-%016llx.snap", dir, (unsigned long long)best);
    return best;
}

static msh_rc read_file(const char *path, msh_buf *out, msh_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return msh_err_set(err, MSH_EIO, "cannot read %s: %s", path, strerror(errno));
    char chunk[1 << 16];
    ssize_t r;
    msh_rc rc = MSH_OK;
    while (!rc && (r = read(fd, chunk, sizeof chunk)) > 0)
        rc = msh_buf_append(out, chunk, (size_t)r);
    close(fd);
    return rc ? msh_err_set(err, rc, "snapshot %s too large", path) : MSH_OK;
}

void msh_ingest_result_init(msh_ingest_result *r)
{
    r->accepted = r->rejected = 0;
    msh_buf_init(&r->rejections, (size_t)1 << 20);
}

msh_rc msh_ingest_result_json(const msh_ingest_result *r, msh_buf *b)
{
    msh_buf_printf(b, "{\"accepted\":%llu,\"rejected\":[", (unsigned long long)r->accepted);
    msh_buf_append(b, r->rejections.data, r->rejections.len);
    msh_buf_printf(b, "]");
    if (r->rejected > MSH_INGEST_MAX_LISTED)
        msh_buf_printf(b, ",\"rejected_total\":%llu", (unsigned long long)r->rejected);
    return msh_buf_printf(b, "}\n");
}

void msh_ingest_result_free(msh_ingest_result *r)
{
    msh_buf_free(&r->rejections);
}

static int replay_one(void *ud, uint64_t lsn, uint8_t type, const uint8_t *data, size_t len)
{
    (void)lsn;
    msh_live *live = ud;
    if (type >= MSH_FEED_COUNT || len < REC_HEADER - 1)
        return 0;
    int64_t received = (int64_t)msh_le64_get(data);
    const uint8_t *p = data + 8, *end = data + len;
    msh_feed_rec r;
    while (p < end && msh_feed_decode(&p, end, &r))
        msh_live_apply(live, (msh_feed)type, &r, 1, received);
    return 0;
}

msh_rc msh_ingest_open(const char *dir, msh_live *live, msh_ingest **out, uint64_t *replayed, msh_err *err)
{
    msh_ingest *in = calloc(1, sizeof *in);
    if (!in)
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    in->live = live;
    in->dir = strdup(dir);
    if (!in->dir) {
        free(in);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    if (mkdir(dir, 0755) && errno != EEXIST) {
        msh_rc rc = msh_err_set(err, MSH_EIO, "cannot create %s: %s", dir, strerror(errno));
        free(in->dir);
        free(in);
        return rc;
    }
    char snap[4096];
    msh_rc rc = MSH_OK;
    msh_live_wrlock(live);
    if (newest_snapshot(dir, snap, sizeof snap)) {
        msh_buf b;
        msh_buf_init(&b, (size_t)1 << 36);
        rc = read_file(snap, &b, err);
        if (!rc && (rc = msh_live_restore(live, b.data, b.len, &in->snap_lsn, err)) && err) {
            /* the log segments it covers are gone: starting without it would lose that state */
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            msh_err_set(err, rc,
                        "cannot load %s (%s). Not started, so as not to lose the state it holds: the write-ahead "
                        "log beside it keeps only the updates after it. Start a build that reads it, or move it "
                        "aside to start from the log alone",
                        snap, why);
        }
        msh_buf_free(&b);
    }
    if (!rc)
        rc = msh_wal_open(dir, in->snap_lsn, replay_one, live, &in->wal, err);
    msh_live_unlock(live);
    if (rc) {
        free(in->dir);
        free(in);
        return rc;
    }
    msh_wal_stats st;
    msh_wal_get_stats(in->wal, &st);
    if (replayed) {
        msh_live_stats ls;
        msh_live_get_stats(live, &ls);
        *replayed = ls.updates;
    }
    *out = in;
    return MSH_OK;
}

void msh_ingest_close(msh_ingest *in)
{
    if (!in)
        return;
    msh_wal_close(in->wal);
    free(in->dir);
    free(in);
}

uint64_t msh_ingest_unsnapshotted(msh_ingest *in)
{
    uint64_t last = msh_wal_last_lsn(in->wal);
    return last > in->snap_lsn ? last - in->snap_lsn : 0;
}

msh_rc msh_ingest_snapshot(msh_ingest *in, uint64_t *bytes, msh_err *err)
{
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 36);
    /* appenders hold the write lock while they log and apply: under the read lock the
     * state is exactly the log up to last_lsn */
    msh_live_rdlock(in->live);
    uint64_t lsn = msh_wal_last_lsn(in->wal);
    msh_rc rc = msh_live_snapshot(in->live, lsn, &b, err);
    msh_live_unlock(in->live);
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/snapshot.tmp", in->dir);
    snprintf(path, sizeof path, "%s/snapshot-%016llx.snap", in->dir, (unsigned long long)lsn);
    int fd = -1;
    if (!rc && (rc = msh_wal_sync(in->wal, lsn, err)) == MSH_OK) { /* the snapshot never runs ahead of the log */
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            rc = msh_err_set(err, MSH_EIO, "cannot write %s: %s", tmp, strerror(errno));
    }
    size_t off = 0;
    while (!rc && off < b.len) {
        ssize_t w = write(fd, b.data + off, b.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            rc = msh_err_set(err, MSH_EIO, "cannot write %s: %s", tmp, strerror(errno));
        else
            off += (size_t)w;
    }
    if (!rc && fsync(fd))
        rc = msh_err_set(err, MSH_EIO, "cannot sync %s: %s", tmp, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (!rc && rename(tmp, path))
        rc = msh_err_set(err, MSH_EIO, "cannot rename %s: %s", tmp, strerror(errno));
    if (!rc) {
        int dfd = open(in->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        uint64_t prev = in->snap_lsn;
        in->snap_lsn = lsn;
        if (bytes)
            *bytes = b.len;
        /* what the snapshot covers can go: older log segments and the previous snapshot */
        rc = msh_wal_rotate(in->wal, err);
        if (!rc)
            rc = msh_wal_truncate_before(in->wal, lsn, err);
        if (prev && prev != lsn) {
            snprintf(tmp, sizeof tmp, "%s/snapshot-%016llx.snap", in->dir, (unsigned long long)prev);
            unlink(tmp);
        }
    }
    msh_buf_free(&b);
    return rc;
}

msh_live *msh_ingest_live(msh_ingest *in)
{
    return in->live;
}

static void reject(msh_ingest_result *res, uint64_t line, const char *why)
{
    res->rejected++;
    if (res->rejected > MSH_INGEST_MAX_LISTED)
        return;
    if (res->rejections.len)
        msh_buf_putc(&res->rejections, ',');
    msh_buf_printf(&res->rejections, "{\"line\":%llu,\"reason\":\"", (unsigned long long)line);
    msh_buf_json_str(&res->rejections, why);
    msh_buf_printf(&res->rejections, "\"}");
}

/* Check one JSON object text; append it to recs when good. */
static void check_line(msh_feed feed, const char *s, size_t n, uint64_t line, int64_t now, msh_buf *recs,
                       msh_ingest_result *res)
{
    msh_jrec j;
    const char *why;
    char reason[200];
    if (msh_jrec_parse(s, n, &j, &why)) {
        snprintf(reason, sizeof reason, "not a JSON object: %s", why);
        reject(res, line, reason);
        return;
    }
    msh_feed_rec r;
    if (msh_feed_rec_from_json(feed, &j, now, &r, reason, sizeof reason)) {
        reject(res, line, reason);
        return;
    }
    if (msh_buf_append(recs, &r, sizeof r)) {
        reject(res, line, "batch too large");
        return;
    }
    res->accepted++;
}

/* A FeatureCollection: each feature's properties plus its Point as lon/lat, as one JSON object. */
static msh_rc geojson_lines(msh_feed feed, const char *body, size_t len, int64_t now, msh_buf *recs,
                            msh_ingest_result *res, msh_err *err)
{
    json_error_t je;
    json_t *fc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!fc || !json_is_object(fc) || !json_is_array(json_object_get(fc, "features"))) {
        json_decref(fc);
        return msh_err_set(err, MSH_EFORMAT, "body is not a GeoJSON FeatureCollection%s%s", fc ? "" : ": ",
                           fc ? "" : je.text);
    }
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(fc, "features"), i, f)
    {
        json_t *props = json_object_get(f, "properties");
        json_t *obj = json_is_object(props) ? json_deep_copy(props) : json_object();
        json_t *geom = json_object_get(f, "geometry");
        json_t *coords = json_object_get(geom, "coordinates");
        if (json_is_object(geom)) {
            const char *t = json_string_value(json_object_get(geom, "type"));
            if (!t || strcmp(t, "Point") || json_array_size(coords) < 2 || !json_is_number(json_array_get(coords, 0)) ||
                !json_is_number(json_array_get(coords, 1))) {
                json_decref(obj);
                reject(res, i + 1, "geometry must be a Point");
                continue;
            }
            json_object_set(obj, "lon", json_array_get(coords, 0));
            json_object_set(obj, "lat", json_array_get(coords, 1));
        }
        json_t *id = json_object_get(f, "id");
        if (id && !json_object_get(obj, "id"))
            json_object_set(obj, "id", id);
        char *text = json_dumps(obj, JSON_COMPACT);
        json_decref(obj);
        if (!text) {
            reject(res, i + 1, "out of memory");
            continue;
        }
        check_line(feed, text, strlen(text), i + 1, now, recs, res);
        free(text);
    }
    json_decref(fc);
    return MSH_OK;
}

msh_rc msh_feed_parse_body(msh_feed feed, const char *body, size_t len, bool geojson, int64_t now_ms, msh_buf *recs,
                           msh_ingest_result *res, msh_err *err)
{
    msh_rc rc = MSH_OK;
    if (geojson) {
        rc = geojson_lines(feed, body, len, now_ms, recs, res, err);
    } else {
        uint64_t line = 0;
        const char *p = body, *end = body + len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *e = nl ? nl : end;
            line++;
            const char *a = p, *b = e;
            while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
                a++;
            while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
                b--;
            if (b > a)
                check_line(feed, a, (size_t)(b - a), line, now_ms, recs, res);
            p = nl ? nl + 1 : end;
        }
    }
    return rc;
}

msh_rc msh_ingest_batch(msh_ingest *in, msh_feed feed, const char *body, size_t len, bool geojson, int64_t now_ms,
                        msh_ingest_result *res, msh_err *err)
{
    msh_buf recs, enc;
    msh_buf_init(&recs, (size_t)1 << 31);
    msh_buf_init(&enc, MSH_WAL_MAX_RECORD);
    msh_rc rc = msh_feed_parse_body(feed, body, len, geojson, now_ms, &recs, res, err);
    size_t n = recs.len / sizeof(msh_feed_rec);
    const msh_feed_rec *r = (const msh_feed_rec *)(const void *)recs.data;
    uint64_t lsn = 0;
    if (!rc && n) {
        uint8_t hdr[8];
        msh_le64_put(hdr, (uint64_t)now_ms);
        /* the log record: received time, then the records; split batches over the record size cap */
        msh_live *live = in->live;
        size_t done = 0;
        while (!rc && done < n) {
            msh_buf_reset(&enc);
            msh_buf_append(&enc, hdr, 8);
            size_t k = done;
            /* at most 512 records per log record and per hold of the write lock: tile readers
             * wait for one short slice, never for a whole 5,000-record batch */
            while (k < n && k - done < 512 && enc.len + 1024 < MSH_WAL_MAX_RECORD) {
                if (msh_feed_encode(&r[k], 1, &enc))
                    break;
                k++;
            }
            msh_live_wrlock(live);
            rc = msh_wal_append(in->wal, (uint8_t)feed, enc.data, enc.len, &lsn, err);
            if (!rc)
                msh_live_apply(live, feed, r + done, k - done, now_ms);
            msh_live_unlock(live);
            done = k;
        }
        if (!rc)
            rc = msh_wal_sync(in->wal, lsn, err);
        if (rc) {
            res->rejected += res->accepted;
            res->accepted = 0;
        }
    }
    msh_buf_free(&recs);
    msh_buf_free(&enc);
    return rc;
}
