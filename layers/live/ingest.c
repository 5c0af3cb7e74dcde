/* ingest.c: feed batches -> checks -> write-ahead log -> durable -> live state -> acknowledgement.
 *
 * Order: a batch's log records get consecutive LSNs and are applied only once the log holds
 * them, strictly in LSN order (a batch waits its turn: `next_apply` is the lowest LSN neither
 * applied nor given up). A batch whose flush failed gives its turn up without applying: the
 * live state only ever holds what was acknowledged, and replay rebuilds exactly it.
 *
 * Locks: in->mu guards next_apply and the snapshot state; it is the innermost lock (taken
 * under the live lock, never the other way). next_apply moves past applied records under the
 * live write lock too, so under the read lock the state is exactly the log up to next_apply-1.
 */
#include "ingest.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/msh_le.h"
#include "live_ops.h"
#include "ngsi.h"
#include "ingest_int.h"
#include "snapshot.h"

#define REC_HEADER 9 /* WAL record: type = feed, payload = [i64 received_ms, little endian] then the encoded records */


void msh_ingest_set_snapshot_hook(msh_ingest *in, msh_ingest_snap_hook fn, void *ud)
{
    in->snap_hook = fn;
    in->snap_ud = ud;
}

void msh_ingest_snap_path(const msh_ingest *in, uint64_t lsn, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s-%016llx.snap", in->dir, in->snap_prefix, (unsigned long long)lsn);
}

/* The newest snapshot in in->dir named with in->snap_prefix: its LSN (0 if none). */
static uint64_t newest_snapshot(const msh_ingest *in, char *path, size_t cap)
{
    DIR *d = opendir(in->dir);
    uint64_t best = 0;
    if (!d)
        return 0;
    size_t np = strlen(in->snap_prefix);
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned long long v;
        char tail[8];
        if (!strncmp(e->d_name, in->snap_prefix, np) && e->d_name[np] == '-' &&
            sscanf(e->d_name + np, "-%16llx.sna%1s", &v, tail) == 2 && !strcmp(tail, "p") && v > best)
            best = v;
    }
    closedir(d);
    if (best)
        msh_ingest_snap_path(in, best, path, cap);
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

void msh_ingest_replay_record(msh_live *live, uint8_t type, int64_t received, const uint8_t *data, size_t len)
{
    if (type == MSH_WAL_OPS) { /* an operator's write (live_ops.h) */
        msh_ops_replay(live, received, data, len);
        return;
    }
    if (type >= MSH_FEED_COUNT)
        return;
    const uint8_t *p = data, *end = data + len;
    msh_feed_rec r;
    while (p < end && msh_feed_decode(&p, end, &r))
        msh_live_apply(live, (msh_feed)type, &r, 1, received);
}

static int replay_one(void *ud, uint64_t lsn, uint8_t type, const uint8_t *data, size_t len)
{
    (void)lsn;
    if (len >= REC_HEADER - 1) /* [i64 received ms] then the payload */
        msh_ingest_replay_record(ud, type, (int64_t)msh_le64_get(data), data + 8, len - 8);
    return 0;
}

msh_rc msh_ingest_load_snapshot(msh_ingest *in, msh_err *err)
{
    char snap[4096];
    if (!newest_snapshot(in, snap, sizeof snap))
        return MSH_OK;
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 36);
    msh_rc rc = read_file(snap, &b, err);
    if (!rc && (rc = msh_live_restore(in->live, b.data, b.len, &in->snap_lsn, err)) && err) {
        /* what it covers is nowhere else on this node: starting without it would lose that state */
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        msh_err_set(err, rc,
                    "cannot load %s (%s). Not started, so as not to lose the state it holds: the log "
                    "keeps only the updates after it. Start a build that reads it, or move it "
                    "aside to start from the log alone",
                    snap, why);
    }
    msh_buf_free(&b);
    return rc;
}

msh_rc msh_ingest_new(const char *dir, const char *prefix, msh_live *live, msh_ingest **out, msh_err *err)
{
    msh_ingest *in = calloc(1, sizeof *in);
    if (!in || !(in->dir = strdup(dir))) {
        free(in);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    struct stat sb;
    if (mkdir(dir, 0700) && errno != EEXIST && !(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))) {
        msh_rc rc = msh_err_set(err, MSH_EIO, "cannot create %s: %s", dir, strerror(errno));
        free(in->dir);
        free(in);
        return rc;
    }
    in->live = live;
    snprintf(in->snap_prefix, sizeof in->snap_prefix, "%s", prefix);
    pthread_mutex_init(&in->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* writers on a feed log wait with a timeout */
    pthread_cond_init(&in->turn, &ca);
    pthread_condattr_destroy(&ca);
    *out = in;
    return MSH_OK;
}

msh_rc msh_ingest_open(const char *dir, msh_live *live, msh_ingest **out, uint64_t *replayed, msh_err *err)
{
    msh_ingest *in;
    msh_rc rc = msh_ingest_new(dir, "snapshot", live, &in, err);
    if (rc)
        return rc;
    msh_live_wrlock(live);
    rc = msh_ingest_load_snapshot(in, err);
    if (!rc)
        rc = msh_wal_open(dir, in->snap_lsn, replay_one, live, &in->wal, err);
    msh_live_unlock(live);
    if (rc) {
        msh_ingest_close(in);
        return rc;
    }
    in->next_apply = msh_wal_last_lsn(in->wal) + 1;
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
    if (in->wal)
        msh_wal_close(in->wal);
    pthread_mutex_destroy(&in->mu);
    pthread_cond_destroy(&in->turn);
    free(in->dir);
    free(in);
}

/* The highest LSN applied or given up. */
static uint64_t applied_lsn(msh_ingest *in)
{
    pthread_mutex_lock(&in->mu);
    uint64_t v = in->next_apply - 1;
    pthread_mutex_unlock(&in->mu);
    return v;
}

uint64_t msh_ingest_unsnapshotted(msh_ingest *in)
{
    uint64_t last = applied_lsn(in);
    return last > in->snap_lsn ? last - in->snap_lsn : 0;
}

/* Remember how the last snapshot went (why, when it failed). */
static void snap_outcome(msh_ingest *in, msh_rc rc, const msh_err *err)
{
    pthread_mutex_lock(&in->mu);
    in->snap_failed = rc != MSH_OK;
    if (rc) {
        in->snap_failures++;
        snprintf(in->snap_reason, sizeof in->snap_reason, "snapshot: %.180s", err ? err->msg : msh_rc_str(rc));
    }
    pthread_mutex_unlock(&in->mu);
}

bool msh_ingest_health(msh_ingest *in, char *reason, size_t cap)
{
    if (in->wal && !msh_wal_health(in->wal, reason, cap))
        return false;
    pthread_mutex_lock(&in->mu);
    bool ok = !in->snap_failed;
    if (!ok && reason && cap)
        snprintf(reason, cap, "%s", in->snap_reason);
    pthread_mutex_unlock(&in->mu);
    return ok;
}

bool msh_ingest_retry(msh_ingest *in)
{
    return in->wal ? msh_wal_retry(in->wal) : true;
}

void msh_ingest_storage_stats(msh_ingest *in, msh_ingest_storage *st)
{
    msh_wal_stats ws = {0};
    if (in->wal)
        msh_wal_get_stats(in->wal, &ws);
    st->log_failures = ws.failures;
    st->log_recoveries = ws.recoveries;
    pthread_mutex_lock(&in->mu);
    st->snapshot_failures = in->snap_failures;
    pthread_mutex_unlock(&in->mu);
    st->degraded = !msh_ingest_health(in, NULL, 0);
}

msh_wal *msh_ingest_wal(msh_ingest *in)
{
    return in->wal;
}

msh_rc msh_ingest_snapshot(msh_ingest *in, uint64_t *bytes, msh_err *err)
{
    msh_buf b;
    msh_buf_init(&b, (size_t)1 << 36);
    /* next_apply moves under the write lock: under the read lock the state is exactly the log
     * up to next_apply-1, all of it durable (records are applied only once on disk) */
    msh_live_rdlock(in->live);
    uint64_t lsn = applied_lsn(in);
    msh_rc rc = msh_live_snapshot(in->live, lsn, &b, err);
    if (!rc && in->snap_hook)
        rc = in->snap_hook(in->snap_ud, 0, err);
    msh_live_unlock(in->live);
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/snapshot.tmp", in->dir);
    msh_ingest_snap_path(in, lsn, path, sizeof path);
    int fd = -1;
    if (!rc) {
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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
    if (!rc && in->snap_hook)
        rc = in->snap_hook(in->snap_ud, 1, err); /* what the snapshot covers is in the store before it exists */
    if (!rc && rename(tmp, path))
        rc = msh_err_set(err, MSH_EIO, "cannot rename %s: %s", tmp, strerror(errno));
    if (rc && fd >= 0)
        unlink(tmp); /* a part-written file only takes space the log may need */
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
        /* what the snapshot covers can go: older log segments and the previous snapshot (a log
         * that cannot rotate now reports that itself; its segments stay until a later snapshot) */
        msh_err rerr;
        if (in->wal && !msh_wal_rotate(in->wal, &rerr))
            msh_wal_truncate_before(in->wal, lsn, &rerr);
        if (prev && prev != lsn) {
            msh_ingest_snap_path(in, prev, tmp, sizeof tmp);
            unlink(tmp);
        }
    }
    snap_outcome(in, rc, err);
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

typedef struct {
    msh_feed feed;
    int64_t now;
    msh_buf *recs;
    msh_ingest_result *res;
} ngsi_job;

static void ngsi_entity(void *ud, uint64_t index, const char *obj, const char *why)
{
    ngsi_job *j = ud;
    if (obj)
        check_line(j->feed, obj, strlen(obj), index, j->now, j->recs, j->res);
    else
        reject(j->res, index, why);
}

/* A JSON document: a FeatureCollection (each feature's properties plus its Point as lon/lat, as one
 * JSON object) or FIWARE NGSI entities (ngsi.h: each flattened into one). */
static msh_rc geojson_lines(msh_feed feed, const char *body, size_t len, int64_t now, msh_buf *recs,
                            msh_ingest_result *res, msh_err *err)
{
    json_error_t je;
    json_t *fc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (fc && msh_ngsi_is_body(fc)) {
        ngsi_job j = {feed, now, recs, res};
        msh_ngsi_each(fc, ngsi_entity, &j);
        json_decref(fc);
        return MSH_OK;
    }
    if (!fc || !json_is_object(fc) || !json_is_array(json_object_get(fc, "features"))) {
        json_decref(fc);
        return msh_err_set(err, MSH_EFORMAT, "body is not a GeoJSON FeatureCollection nor NGSI entities%s%s",
                           fc ? "" : ": ", fc ? "" : je.text);
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

/* Wait until every LSN before `lsn` is applied or given up. Takes in->mu. */
static void wait_turn(msh_ingest *in, uint64_t lsn)
{
    pthread_mutex_lock(&in->mu);
    while (in->next_apply != lsn)
        pthread_cond_wait(&in->turn, &in->mu);
    pthread_mutex_unlock(&in->mu);
}

/* Hand the turn on to `next`. Takes in->mu (under the live write lock when records were applied). */
static void pass_turn(msh_ingest *in, uint64_t next)
{
    pthread_mutex_lock(&in->mu);
    in->next_apply = next;
    pthread_cond_broadcast(&in->turn);
    pthread_mutex_unlock(&in->mu);
}

/* One log record per slice of at most 512 records: tile readers wait for one short slice under
 * the write lock, never for a whole 5,000-record batch. */
#define SLICE 512

msh_rc msh_ingest_batch(msh_ingest *in, msh_feed feed, const char *body, size_t len, bool geojson, int64_t now_ms,
                        msh_ingest_result *res, msh_err *err)
{
    msh_buf recs;
    msh_buf_init(&recs, (size_t)1 << 31);
    msh_rc rc = msh_feed_parse_body(feed, body, len, geojson, now_ms, &recs, res, err);
    if (!rc)
        rc = msh_ingest_records(in, feed, (const msh_feed_rec *)(const void *)recs.data,
                                recs.len / sizeof(msh_feed_rec), now_ms, err);
    if (rc) {
        res->rejected += res->accepted;
        res->accepted = 0;
    }
    msh_buf_free(&recs);
    return rc;
}

msh_rc msh_ingest_op(msh_ingest *in, const void *payload, size_t len, int64_t now_ms, msh_ingest_apply_fn apply,
                     void *ud, msh_err *err)
{
    if (!in->wal) /* a feed log: the stream applies it (ingest_log.c) */
        return msh_ingest_log_op(in, payload, len, now_ms, apply, ud, err);
    msh_buf enc;
    msh_buf_init(&enc, MSH_WAL_MAX_RECORD);
    uint8_t hdr[8];
    msh_le64_put(hdr, (uint64_t)now_ms);
    msh_rc rc = msh_buf_append(&enc, hdr, 8);
    if (!rc && msh_buf_append(&enc, payload, len))
        rc = msh_err_set(err, MSH_ETOOBIG, "operator record too large");
    msh_wal_rec wr = {enc.data, enc.len};
    msh_wal_ticket t;
    if (!rc && !(rc = msh_wal_append(in->wal, MSH_WAL_OPS, &wr, 1, &t, err))) {
        rc = msh_wal_wait(in->wal, &t, err);
        wait_turn(in, t.first);
        if (!rc) {
            msh_live_wrlock(in->live);
            apply(ud, in->live);
            pass_turn(in, t.last + 1);
            msh_live_unlock(in->live);
        } else { /* not in the log: give the turn up without applying */
            pass_turn(in, t.last + 1);
        }
    }
    msh_buf_free(&enc);
    return rc;
}

msh_rc msh_ingest_records(msh_ingest *in, msh_feed feed, const msh_feed_rec *r, size_t n, int64_t now_ms,
                          msh_err *err)
{
    if (!in->wal) /* a feed log: the stream applies it (ingest_log.c) */
        return msh_ingest_log_records(in, feed, r, n, now_ms, err);
    msh_buf enc;
    msh_buf_init(&enc, (size_t)1 << 31);
    msh_rc rc = MSH_OK;
    size_t nslice = (n + SLICE - 1) / SLICE;
    size_t *ends = NULL, *offs = NULL; /* slice i: records [ends[i-1], ends[i]), bytes from offs[i] */
    msh_wal_rec *wr = NULL;
    if (!rc && n &&
        (!(ends = malloc(nslice * sizeof *ends)) || !(offs = malloc(nslice * sizeof *offs)) ||
         !(wr = malloc(nslice * sizeof *wr))))
        rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
    if (!rc && n) {
        /* each log record: received time, then its slice of records */
        uint8_t hdr[8];
        msh_le64_put(hdr, (uint64_t)now_ms);
        for (size_t i = 0; !rc && i < nslice; i++) {
            size_t a = i * SLICE, b = a + SLICE < n ? a + SLICE : n;
            offs[i] = enc.len;
            if (msh_buf_append(&enc, hdr, 8) || msh_feed_encode(r + a, b - a, &enc) ||
                enc.len - offs[i] > MSH_WAL_MAX_RECORD)
                rc = msh_err_set(err, MSH_ETOOBIG, "batch too large: send smaller batches");
            ends[i] = b;
        }
        for (size_t i = 0; !rc && i < nslice; i++) { /* enc no longer moves */
            wr[i].data = enc.data + offs[i];
            wr[i].len = (i + 1 < nslice ? offs[i + 1] : enc.len) - offs[i];
        }
        msh_wal_ticket t;
        if (!rc && !(rc = msh_wal_append(in->wal, (uint8_t)feed, wr, nslice, &t, err))) {
            rc = msh_wal_wait(in->wal, &t, err);
            if (rc) { /* not in the log: give the turn up without applying anything */
                wait_turn(in, t.first);
                pass_turn(in, t.last + 1);
            }
            for (size_t i = 0; !rc && i < nslice; i++) {
                size_t a = i ? ends[i - 1] : 0;
                wait_turn(in, t.first + i);
                msh_live_wrlock(in->live);
                msh_live_apply(in->live, feed, r + a, ends[i] - a, now_ms);
                pass_turn(in, t.first + i + 1);
                msh_live_unlock(in->live);
            }
        }
    }
    free(ends);
    free(offs);
    free(wr);
    msh_buf_free(&enc);
    return rc;
}
