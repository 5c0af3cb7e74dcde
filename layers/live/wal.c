/* wal.c: segment files, group commit with a leader, replay with torn-tail repair. */
#include "wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/msh_buf.h"
#include "core/msh_le.h"

#define HDR 9 /* length, crc, type */

struct msh_wal {
    char *dir;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fd;                /* current segment */
    uint64_t seg_first;    /* first LSN of the current segment */
    uint64_t next_lsn;     /* LSN the next record gets */
    uint64_t batched_lsn;  /* highest LSN in `batch` */
    uint64_t durable_lsn;  /* highest LSN on disk */
    int flushing;
    msh_rc flush_rc;       /* sticky: once a write fails, every later sync fails */
    msh_buf batch;
    msh_wal_stats st;
};

static int is_segment(const char *name, uint64_t *first)
{
    if (strncmp(name, "wal-", 4) || strlen(name) != 4 + 16 + 4 || strcmp(name + 20, ".log"))
        return 0;
    char *end;
    *first = strtoull(name + 4, &end, 16);
    return end == name + 20;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The first LSNs of every segment in the folder, sorted. */
static msh_rc list_segments(const char *dir, uint64_t **out, size_t *n, msh_err *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return msh_err_set(err, MSH_EIO, "write-ahead log %s: %s", dir, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    msh_rc rc = MSH_OK;
    while ((e = readdir(d))) {
        uint64_t first;
        if (!is_segment(e->d_name, &first))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *nv = realloc(*out, cap * sizeof **out);
            if (!nv) {
                rc = msh_err_set(err, MSH_ENOMEM, "out of memory");
                break;
            }
            *out = nv;
        }
        (*out)[(*n)++] = first;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, cmp_u64);
    return rc;
}

static void seg_path(const char *dir, uint64_t first, char *out, size_t cap)
{
    snprintf(out, cap, "%s/wal-%016llx.log", dir, (unsigned long long)first);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

/* Replay one segment; sets *good_end to the offset after the last whole record and *last to its LSN. */
static msh_rc replay_segment(const char *path, uint64_t first, uint64_t after, msh_wal_replay_fn fn, void *ud,
                             off_t *good_end, uint64_t *last, int *torn, msh_err *err)
{
    *good_end = 0;
    *torn = 0;
    *last = first - 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return msh_err_set(err, MSH_EIO, "write-ahead log %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb)) {
        close(fd);
        return msh_err_set(err, MSH_EIO, "write-ahead log %s: %s", path, strerror(errno));
    }
    size_t size = (size_t)sb.st_size;
    uint8_t *buf = size ? malloc(size) : NULL;
    if (size && !buf) {
        close(fd);
        return msh_err_set(err, MSH_ENOMEM, "out of memory reading %s", path);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    size_t off = 0;
    uint64_t lsn = first;
    int stopped = 0;
    while (off + HDR <= got) {
        uint32_t len = msh_le32_get(buf + off), crc = msh_le32_get(buf + off + 4);
        if (len > MSH_WAL_MAX_RECORD || off + HDR + len > got)
            break;
        uint32_t c = (uint32_t)crc32(0L, buf + off + 8, 1 + len);
        if (c != crc)
            break;
        if (lsn > after && !stopped && fn && fn(ud, lsn, buf[off + 8], buf + off + HDR, len))
            stopped = 1;
        off += HDR + len;
        *last = lsn;
        lsn++;
    }
    *good_end = (off_t)off;
    *torn = off != got;
    free(buf);
    return MSH_OK;
}

static msh_rc open_segment(msh_wal *w, uint64_t first, msh_err *err)
{
    char path[4096];
    seg_path(w->dir, first, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return msh_err_set(err, MSH_EIO, "write-ahead log %s: %s", path, strerror(errno));
    if (w->fd >= 0)
        close(w->fd);
    w->fd = fd;
    w->seg_first = first;
    fsync_dir(w->dir);
    return MSH_OK;
}

msh_rc msh_wal_open(const char *dir, uint64_t after, msh_wal_replay_fn fn, void *ud, msh_wal **out, msh_err *err)
{
    *out = NULL;
    if (mkdir(dir, 0755) && errno != EEXIST)
        return msh_err_set(err, MSH_EIO, "cannot create write-ahead log folder %s: %s", dir, strerror(errno));
    msh_wal *w = calloc(1, sizeof *w);
    if (!w || !(w->dir = strdup(dir))) {
        free(w);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    w->fd = -1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    msh_buf_init(&w->batch, (size_t)1 << 30);
    uint64_t *segs;
    size_t nseg;
    msh_rc rc = list_segments(dir, &segs, &nseg, err);
    uint64_t last = after;
    for (size_t i = 0; i < nseg && !rc; i++) {
        char path[4096];
        seg_path(dir, segs[i], path, sizeof path);
        off_t good;
        uint64_t seg_last;
        int torn;
        rc = replay_segment(path, segs[i], after, fn, ud, &good, &seg_last, &torn, err);
        if (rc)
            break;
        if (seg_last >= segs[i] && seg_last > last)
            last = seg_last;
        if (torn) {
            /* a crash mid-write: cut the tail, and drop later segments (they cannot be valid) */
            if (truncate(path, good) != 0) {
                rc = msh_err_set(err, MSH_EIO, "cannot repair %s: %s", path, strerror(errno));
                break;
            }
            for (size_t j = i + 1; j < nseg; j++) {
                seg_path(dir, segs[j], path, sizeof path);
                unlink(path);
            }
            nseg = i + 1;
            break;
        }
    }
    free(segs);
    if (!rc) {
        w->next_lsn = last + 1;
        w->durable_lsn = w->batched_lsn = last;
        rc = open_segment(w, w->next_lsn, err);
    }
    if (rc) {
        msh_wal_close(w);
        return rc;
    }
    *out = w;
    return MSH_OK;
}

/* Write the batch and fdatasync; called by the leader without the lock held. */
static msh_rc flush_batch(msh_wal *w, const uint8_t *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t r = write(w->fd, data + off, len - off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return MSH_EIO;
        }
        off += (size_t)r;
    }
    return fdatasync(w->fd) == 0 ? MSH_OK : MSH_EIO;
}

msh_rc msh_wal_sync(msh_wal *w, uint64_t lsn, msh_err *err)
{
    pthread_mutex_lock(&w->mu);
    while (w->durable_lsn < lsn && w->flush_rc == MSH_OK) {
        if (w->flushing) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        /* become the leader: take the whole batch */
        w->flushing = 1;
        msh_buf mine = w->batch;
        uint64_t upto = w->batched_lsn;
        msh_buf_init(&w->batch, (size_t)1 << 30);
        pthread_mutex_unlock(&w->mu);
        msh_rc rc = flush_batch(w, mine.data, mine.len);
        msh_buf_free(&mine);
        pthread_mutex_lock(&w->mu);
        w->flushing = 0;
        if (rc)
            w->flush_rc = rc;
        else
            w->durable_lsn = upto;
        w->st.syncs++;
        pthread_cond_broadcast(&w->cv);
    }
    msh_rc rc = w->durable_lsn >= lsn ? MSH_OK : w->flush_rc;
    pthread_mutex_unlock(&w->mu);
    return rc ? msh_err_set(err, rc, "write-ahead log: cannot write to %s", w->dir) : MSH_OK;
}

msh_rc msh_wal_append(msh_wal *w, uint8_t type, const void *data, size_t len, uint64_t *lsn, msh_err *err)
{
    if (len > MSH_WAL_MAX_RECORD)
        return msh_err_set(err, MSH_ETOOBIG, "write-ahead log record of %zu bytes is over the limit", len);
    uint8_t hdr[HDR];
    uint32_t crc = (uint32_t)crc32(0L, &type, 1);
    crc = (uint32_t)crc32(crc, data, (uInt)len);
    msh_le32_put(hdr, (uint32_t)len);
    msh_le32_put(hdr + 4, crc);
    hdr[8] = type;
    pthread_mutex_lock(&w->mu);
    msh_rc rc = w->flush_rc;
    if (!rc)
        rc = msh_buf_reserve(&w->batch, HDR + len);
    if (!rc) {
        msh_buf_append(&w->batch, hdr, HDR);
        msh_buf_append(&w->batch, data, len);
        *lsn = w->next_lsn++;
        w->batched_lsn = *lsn;
        w->st.records++;
        w->st.bytes += HDR + len;
    }
    pthread_mutex_unlock(&w->mu);
    return rc ? msh_err_set(err, rc, "write-ahead log: cannot append (%s)", msh_rc_str(rc)) : MSH_OK;
}

uint64_t msh_wal_last_lsn(msh_wal *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t v = w->batched_lsn;
    pthread_mutex_unlock(&w->mu);
    return v;
}

uint64_t msh_wal_durable_lsn(msh_wal *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t v = w->durable_lsn;
    pthread_mutex_unlock(&w->mu);
    return v;
}

msh_rc msh_wal_rotate(msh_wal *w, msh_err *err)
{
    /* everything batched goes into the current segment first */
    pthread_mutex_lock(&w->mu);
    uint64_t upto = w->batched_lsn;
    pthread_mutex_unlock(&w->mu);
    msh_rc rc = msh_wal_sync(w, upto, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&w->mu);
    while (w->flushing)
        pthread_cond_wait(&w->cv, &w->mu);
    if (w->batch.len) { /* appended meanwhile: write them to the old segment too */
        rc = flush_batch(w, w->batch.data, w->batch.len);
        if (!rc) {
            w->durable_lsn = w->batched_lsn;
            msh_buf_reset(&w->batch);
        }
    }
    if (!rc)
        rc = open_segment(w, w->next_lsn, err);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

msh_rc msh_wal_truncate_before(msh_wal *w, uint64_t lsn, msh_err *err)
{
    uint64_t *segs;
    size_t n;
    msh_rc rc = list_segments(w->dir, &segs, &n, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&w->mu);
    uint64_t current = w->seg_first;
    pthread_mutex_unlock(&w->mu);
    for (size_t i = 0; i + 1 < n; i++) {
        /* segment i holds [segs[i], segs[i+1]); drop it when all of that is <= lsn */
        if (segs[i + 1] - 1 <= lsn && segs[i] != current) {
            char path[4096];
            seg_path(w->dir, segs[i], path, sizeof path);
            unlink(path);
        }
    }
    free(segs);
    fsync_dir(w->dir);
    return MSH_OK;
}

void msh_wal_get_stats(msh_wal *w, msh_wal_stats *st)
{
    pthread_mutex_lock(&w->mu);
    *st = w->st;
    pthread_mutex_unlock(&w->mu);
}

void msh_wal_close(msh_wal *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        msh_err err;
        msh_wal_sync(w, w->batched_lsn, &err);
        close(w->fd);
    }
    msh_buf_free(&w->batch);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->dir);
    free(w);
}
