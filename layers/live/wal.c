/* wal.c: segment files, group commit with a leader and tickets, replay with torn-tail repair,
 * and recovery after a failed write (wal.h has the design and the lock contract). */
#include "wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/msh_buf.h"
#include "core/msh_le.h"

#define HDR 9                        /* length, crc, type */
#define PROBE_BYTES ((off_t)1 << 16) /* recovery checks the new segment can take this much */

struct msh_wal {
    char *dir;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    int fd;               /* current segment, -1 while broken */
    uint64_t seg_first;   /* first LSN (the name) of the current segment */
    off_t seg_good;       /* bytes of the current segment known durable */
    uint64_t next_lsn;    /* LSN the next record gets */
    uint64_t durable_lsn; /* highest LSN on disk */
    int flushing;
    bool broken;          /* a write failed: appends wait for recovery */
    char reason[200];     /* why, while broken */
    double last_try;      /* monotonic seconds of the last recovery attempt */
    double retry_s;
    msh_buf batch;
    msh_wal_ticket *head, *tail; /* pending tickets, LSN order */
    msh_wal_stats st;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

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
    *torn = off != size;
    free(buf);
    return MSH_OK;
}

/* Mark the log broken with the reason (errno text). Caller holds mu. */
static void set_broken(msh_wal *w, const char *what, int e)
{
    if (!w->broken)
        w->st.failures++;
    w->broken = true;
    snprintf(w->reason, sizeof w->reason, "write-ahead log: %s: %s", what, strerror(e));
}

/* Cut the current segment back to its durable bytes (removing it when it holds none) and
 * close it: after a failed flush, what is on disk is exactly what was acknowledged.
 * Returns 0 or an errno. Caller holds mu, no flush in flight. */
static int cut_back(msh_wal *w)
{
    char path[4096];
    seg_path(w->dir, w->seg_first, path, sizeof path);
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    if (w->seg_good == 0)
        return unlink(path) && errno != ENOENT ? errno : 0;
    struct stat sb;
    if (stat(path, &sb) == 0 && sb.st_size == w->seg_good)
        return 0; /* nothing past the durable bytes */
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int e = 0;
    if (ftruncate(fd, w->seg_good) || fsync(fd))
        e = errno;
    close(fd);
    return e;
}

/* Remove segments after the current one (left behind a torn record at open). Caller holds mu. */
static int drop_later_segments(msh_wal *w)
{
    uint64_t *segs;
    size_t n;
    if (list_segments(w->dir, &segs, &n, NULL))
        return errno ? errno : EIO;
    int e = 0;
    for (size_t i = 0; i < n && !e; i++) {
        if (segs[i] <= w->seg_first)
            continue;
        char path[4096];
        seg_path(w->dir, segs[i], path, sizeof path);
        if (unlink(path) && errno != ENOENT)
            e = errno;
    }
    free(segs);
    return e;
}

/* Make the log writable again: cut the current segment back, open a new one named for the next
 * LSN and check it can take PROBE_BYTES. Caller holds mu, no flush in flight. */
static bool recover(msh_wal *w)
{
    w->last_try = mono_s();
    int e;
    if ((e = cut_back(w))) {
        set_broken(w, "cannot cut back the last segment", e);
        return false;
    }
    if ((e = drop_later_segments(w))) {
        set_broken(w, "cannot remove a segment after a torn record", e);
        return false;
    }
    char path[4096];
    seg_path(w->dir, w->next_lsn, path, sizeof path);
    /* not O_APPEND yet: glibc's posix_fallocate fallback refuses O_APPEND files */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        set_broken(w, "cannot create a segment", errno);
        return false;
    }
    /* room for the next writes? (EINVAL/EOPNOTSUPP/ENOSYS: the file system cannot tell in advance) */
    e = posix_fallocate(fd, 0, PROBE_BYTES);
    if (e == EINVAL || e == EOPNOTSUPP || e == ENOSYS)
        e = 0;
    if (!e && (ftruncate(fd, 0) || fcntl(fd, F_SETFL, O_APPEND) || fsync(fd)))
        e = errno;
    if (!e && fsync_dir(w->dir))
        e = errno;
    if (e) {
        close(fd);
        unlink(path);
        set_broken(w, "cannot write a new segment", e);
        return false;
    }
    w->fd = fd;
    w->seg_first = w->next_lsn;
    w->seg_good = 0;
    if (w->broken)
        w->st.recoveries++;
    w->broken = false;
    w->reason[0] = 0;
    return true;
}

msh_rc msh_wal_open(const char *dir, uint64_t after, msh_wal_replay_fn fn, void *ud, msh_wal **out, msh_err *err)
{
    *out = NULL;
    struct stat sb;
    if (mkdir(dir, 0700) && errno != EEXIST && !(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)))
        return msh_err_set(err, MSH_EIO, "cannot create write-ahead log folder %s: %s", dir, strerror(errno));
    msh_wal *w = calloc(1, sizeof *w);
    if (!w || !(w->dir = strdup(dir))) {
        free(w);
        return msh_err_set(err, MSH_ENOMEM, "out of memory");
    }
    w->fd = -1;
    w->retry_s = 0.1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    msh_buf_init(&w->batch, (size_t)1 << 30);
    uint64_t *segs;
    size_t nseg;
    msh_rc rc = list_segments(dir, &segs, &nseg, err);
    uint64_t last = after;
    off_t good = 0;
    uint64_t cur = 0; /* the last segment read, or 0 for none */
    for (size_t i = 0; i < nseg && !rc; i++) {
        char path[4096];
        seg_path(dir, segs[i], path, sizeof path);
        uint64_t seg_last;
        int torn;
        rc = replay_segment(path, segs[i], after, fn, ud, &good, &seg_last, &torn, err);
        if (rc)
            break;
        cur = segs[i];
        /* an empty segment still claims its name: LSNs after a failed flush skip ahead */
        if (segs[i] - 1 > last)
            last = segs[i] - 1;
        if (seg_last >= segs[i] && seg_last > last)
            last = seg_last;
        if (torn) /* a crash mid-write: the tail and any later segment go at recovery below */
            break;
    }
    free(segs);
    if (rc) {
        msh_wal_close(w);
        return rc;
    }
    w->next_lsn = last + 1;
    w->durable_lsn = last;
    w->seg_first = cur ? cur : w->next_lsn;
    w->seg_good = cur ? good : 0;
    /* cut the torn tail, drop what follows it, open a new segment; a folder that cannot be
     * written opens broken, serving what it replayed */
    w->broken = true;
    recover(w);
    w->st.failures = w->broken ? 1 : 0;
    w->st.recoveries = 0;
    *out = w;
    return MSH_OK;
}

/* Resolve pending tickets: those up to `upto` as durable (ok) or all of them as failed. Caller holds mu. */
static void resolve(msh_wal *w, bool ok, uint64_t upto)
{
    while (w->head && (!ok || w->head->last <= upto)) {
        msh_wal_ticket *t = w->head;
        w->head = t->next;
        t->next = NULL;
        t->state = ok ? 1 : -1;
    }
    if (!w->head)
        w->tail = NULL;
}

/* Write the batch and fdatasync; 0 or an errno. Called by the leader without the lock held. */
static int flush_batch(int fd, const uint8_t *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t r = write(fd, data + off, len - off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        off += (size_t)r;
    }
    return fdatasync(fd) == 0 ? 0 : errno;
}

/* Become the leader: write out the whole batch, then resolve the tickets it carried. On failure
 * every pending ticket fails (those batched meanwhile too: their LSNs are given up with the
 * segment's tail) and the segment is cut back. Caller holds mu, !flushing, !broken. */
static void lead_flush(msh_wal *w)
{
    w->flushing = 1;
    msh_buf mine = w->batch;
    uint64_t upto = w->next_lsn - 1;
    int fd = w->fd;
    msh_buf_init(&w->batch, (size_t)1 << 30);
    pthread_mutex_unlock(&w->mu);
    int e = flush_batch(fd, mine.data, mine.len);
    pthread_mutex_lock(&w->mu);
    w->flushing = 0;
    w->st.syncs++;
    if (!e) {
        w->durable_lsn = upto;
        w->seg_good += (off_t)mine.len;
        resolve(w, true, upto);
    } else {
        set_broken(w, "cannot write", e);
        resolve(w, false, 0);
        msh_buf_reset(&w->batch);
        cut_back(w); /* best effort now; recovery repeats it */
    }
    msh_buf_free(&mine);
    pthread_cond_broadcast(&w->cv);
}

msh_rc msh_wal_wait(msh_wal *w, msh_wal_ticket *t, msh_err *err)
{
    pthread_mutex_lock(&w->mu);
    while (t->state == 0) {
        if (w->flushing)
            pthread_cond_wait(&w->cv, &w->mu);
        else
            lead_flush(w); /* the ticket is pending, so the log is not broken */
    }
    int ok = t->state > 0;
    char why[sizeof w->reason];
    snprintf(why, sizeof why, "%s", w->reason);
    pthread_mutex_unlock(&w->mu);
    return ok ? MSH_OK : msh_err_set(err, MSH_EIO, "%s", why[0] ? why : "write-ahead log: cannot write");
}

/* Recover when broken and the retry interval has passed. Caller holds mu, no flush in flight. */
static bool writable(msh_wal *w)
{
    if (!w->broken)
        return true;
    if (mono_s() - w->last_try < w->retry_s)
        return false;
    return recover(w);
}

msh_rc msh_wal_append(msh_wal *w, uint8_t type, const msh_wal_rec *recs, size_t n, msh_wal_ticket *t, msh_err *err)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].len > MSH_WAL_MAX_RECORD)
            return msh_err_set(err, MSH_ETOOBIG, "write-ahead log record of %zu bytes is over the limit",
                               recs[i].len);
        total += HDR + recs[i].len;
    }
    if (!n)
        return msh_err_set(err, MSH_EINVAL, "write-ahead log: nothing to append");
    pthread_mutex_lock(&w->mu);
    msh_rc rc = MSH_OK;
    if (!writable(w)) /* broken implies no flush in flight: a failure is handled before flushing ends */
        rc = msh_err_set(err, MSH_EIO, "%s", w->reason);
    else if (msh_buf_reserve(&w->batch, total))
        rc = msh_err_set(err, MSH_ENOMEM, "write-ahead log: batch too large");
    if (!rc) {
        for (size_t i = 0; i < n; i++) {
            uint8_t hdr[HDR];
            uint32_t crc = (uint32_t)crc32(0L, &type, 1);
            crc = (uint32_t)crc32(crc, recs[i].data, (uInt)recs[i].len);
            msh_le32_put(hdr, (uint32_t)recs[i].len);
            msh_le32_put(hdr + 4, crc);
            hdr[8] = type;
            msh_buf_append(&w->batch, hdr, HDR);
            msh_buf_append(&w->batch, recs[i].data, recs[i].len);
        }
        t->first = w->next_lsn;
        t->last = w->next_lsn + n - 1;
        t->state = 0;
        t->next = NULL;
        if (w->tail)
            w->tail->next = t;
        else
            w->head = t;
        w->tail = t;
        w->next_lsn += n;
        w->st.records += n;
        w->st.bytes += total;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

uint64_t msh_wal_last_lsn(msh_wal *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t v = w->next_lsn - 1;
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

/* Write out everything batched (waiting out flushes in flight). Caller holds mu. */
static void drain(msh_wal *w)
{
    while (w->flushing || (w->batch.len && !w->broken)) {
        if (w->flushing)
            pthread_cond_wait(&w->cv, &w->mu);
        else
            lead_flush(w);
    }
}

msh_rc msh_wal_rotate(msh_wal *w, msh_err *err)
{
    pthread_mutex_lock(&w->mu);
    drain(w);
    msh_rc rc = MSH_OK;
    if (w->broken) {
        rc = msh_err_set(err, MSH_EIO, "%s", w->reason);
    } else if (w->next_lsn != w->seg_first) { /* else the current segment is empty: keep it */
        char path[4096];
        seg_path(w->dir, w->next_lsn, path, sizeof path);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0 || fsync_dir(w->dir)) {
            rc = msh_err_set(err, MSH_EIO, "write-ahead log %s: %s", path, strerror(errno));
            if (fd >= 0) {
                close(fd);
                unlink(path);
            }
        } else {
            close(w->fd);
            w->fd = fd;
            w->seg_first = w->next_lsn;
            w->seg_good = 0;
        }
    }
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
        if (segs[i + 1] - 1 <= lsn && segs[i] < current) {
            char path[4096];
            seg_path(w->dir, segs[i], path, sizeof path);
            unlink(path);
        }
    }
    free(segs);
    fsync_dir(w->dir);
    return MSH_OK;
}

bool msh_wal_retry(msh_wal *w)
{
    pthread_mutex_lock(&w->mu);
    bool ok = !w->broken || (!w->flushing && writable(w));
    pthread_mutex_unlock(&w->mu);
    return ok;
}

void msh_wal_set_retry_ms(msh_wal *w, int ms)
{
    pthread_mutex_lock(&w->mu);
    w->retry_s = ms / 1000.0;
    pthread_mutex_unlock(&w->mu);
}

bool msh_wal_health(msh_wal *w, char *reason, size_t cap)
{
    pthread_mutex_lock(&w->mu);
    bool ok = !w->broken;
    if (reason && cap)
        snprintf(reason, cap, "%s", w->reason);
    pthread_mutex_unlock(&w->mu);
    return ok;
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
    pthread_mutex_lock(&w->mu);
    drain(w);
    if (w->fd >= 0)
        close(w->fd);
    pthread_mutex_unlock(&w->mu);
    msh_buf_free(&w->batch);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->dir);
    free(w);
}
