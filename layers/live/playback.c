/* playback.c: the kept minutes of density cells: files, index, recording and the read cache
 * (design in playback.h, the record format in playback_codec.h). */
#include "playback.h"

#include "core/msh_grow.h"
#include "core/msh_time.h"
#include "live_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MINUTE_MS 60000
#define CACHE_MAX 16 /* decoded minutes at most, whatever their size */

struct msh_pb_minute {
    atomic_int refs;
    int64_t minute;
    uint32_t crc;
    size_t n;
    msh_pb_cell *cells;
};

typedef struct {
    int64_t minute;
    int64_t hour; /* its file */
    uint64_t off;
    uint32_t len; /* header and payload */
    uint32_t crc;
} entry;

typedef struct {
    int64_t hour;
    uint64_t size;
} pfile;

struct msh_playback {
    char *dir;
    int hours;
    pthread_mutex_t mu; /* guards the index, files, cache and figures */
    pthread_mutex_t load_mu; /* one minute read and decoded at a time (taken before mu, never inside it) */
    entry *ents;        /* by minute, oldest first */
    size_t n, cap;
    pfile *files;       /* by hour */
    size_t nfiles, fcap;
    struct {
        msh_pb_minute *m;
        uint64_t used; /* LRU stamp */
    } cache[CACHE_MAX];
    uint64_t stamp, cache_bytes;
    msh_playback_stats st;
    /* the recorder's own (one recorder at a time) */
    int fd;
    int64_t fd_hour;
    uint8_t *buf;
    size_t bufcap;
    msh_pb_cell *scratch;
    size_t ns, scap;
    bool scratch_failed;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static void file_path(const msh_playback *p, int64_t hour, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%010lld.mpb", p->dir, (long long)hour);
}

/* ---- the index (mu held) ---- */

static pfile *find_file(msh_playback *p, int64_t hour)
{
    for (size_t i = p->nfiles; i-- > 0;)
        if (p->files[i].hour == hour)
            return &p->files[i];
    return NULL;
}

static void figures(msh_playback *p)
{
    p->st.minutes = (uint32_t)p->n;
    p->st.first_ms = p->n ? p->ents[0].minute * MINUTE_MS : -1;
    p->st.last_ms = p->n ? p->ents[p->n - 1].minute * MINUTE_MS : -1;
    p->st.files = (uint32_t)p->nfiles;
    p->st.bytes = 0;
    for (size_t i = 0; i < p->nfiles; i++)
        p->st.bytes += p->files[i].size;
}

/* Drop minutes before `newest` - hours (so `hours` x 60 minutes stay) and delete files left with none. */
static void drop_old(msh_playback *p, int64_t newest)
{
    int64_t keep_from = newest - (int64_t)p->hours * 60 + 1;
    size_t d = 0;
    while (d < p->n && p->ents[d].minute < keep_from)
        d++;
    if (d) {
        memmove(p->ents, p->ents + d, (p->n - d) * sizeof *p->ents);
        p->n -= d;
    }
    size_t w = 0;
    for (size_t i = 0; i < p->nfiles; i++) {
        if ((p->files[i].hour + 1) * 60 <= keep_from && p->files[i].hour != p->fd_hour) {
            char path[4200];
            file_path(p, p->files[i].hour, path, sizeof path);
            unlink(path);
            continue;
        }
        p->files[w++] = p->files[i];
    }
    p->nfiles = w;
    figures(p);
}

/* ---- open: read every file's headers ---- */

static int by_hour(const void *a, const void *b)
{
    int64_t x = ((const pfile *)a)->hour, y = ((const pfile *)b)->hour;
    return x < y ? -1 : x > y;
}

/* Whether the record at off (header h) is whole: its payload read and checked. */
static bool record_whole(int fd, uint64_t off, const msh_pb_header *h)
{
    uint8_t *z = malloc(h->zlen ? h->zlen : 1);
    bool ok = z && pread(fd, z, h->zlen, (off_t)off + MSH_PB_HEADER) == (ssize_t)h->zlen &&
              (uint32_t)crc32(0, z, (uInt)h->zlen) == h->crc;
    free(z);
    return ok;
}

/* Index one file's records; cut it back at the first record that is not whole. */
static msh_rc scan_file(msh_playback *p, pfile *f, msh_err *err)
{
    char path[4200];
    file_path(p, f->hour, path, sizeof path);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb)) {
        if (fd >= 0)
            close(fd);
        return msh_err_set(err, MSH_EIO, "playback: cannot open %s: %s", path, strerror(errno));
    }
    uint64_t off = 0, size = (uint64_t)sb.st_size;
    while (off < size) {
        uint8_t hb[MSH_PB_HEADER];
        msh_pb_header h;
        if (size - off < MSH_PB_HEADER || pread(fd, hb, sizeof hb, (off_t)off) != (ssize_t)sizeof hb ||
            msh_pb_header_read(hb, sizeof hb, &h, NULL) || size - off - MSH_PB_HEADER < h.zlen ||
            floor_div(h.minute, 60) != f->hour || (p->n && h.minute <= p->ents[p->n - 1].minute))
            break;
        uint64_t end = off + MSH_PB_HEADER + h.zlen;
        if (end == size && !record_whole(fd, off, &h)) /* the last record: a torn write shows here */
            break;
        if (msh_grow((void **)&p->ents, &p->cap, p->n + 1, sizeof *p->ents)) {
            close(fd);
            return msh_err_set(err, MSH_ENOMEM, "playback: out of memory");
        }
        p->ents[p->n++] = (entry){h.minute, f->hour, off, (uint32_t)(MSH_PB_HEADER + h.zlen), h.crc};
        off = end;
    }
    if (off < size) {
        fprintf(stderr, "mashaer: playback: %s: cut back from %llu to %llu bytes (a record cut short or damaged)\n",
                path, (unsigned long long)size, (unsigned long long)off);
        if (ftruncate(fd, (off_t)off)) {
            close(fd);
            return msh_err_set(err, MSH_EIO, "playback: cannot cut back %s: %s", path, strerror(errno));
        }
        p->st.cut_bytes += size - off;
    }
    f->size = off;
    close(fd);
    return MSH_OK;
}

static msh_rc scan_dir(msh_playback *p, msh_err *err)
{
    DIR *d = opendir(p->dir);
    if (!d)
        return msh_err_set(err, MSH_EIO, "playback: cannot read %s: %s", p->dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len != 14 || strcmp(e->d_name + 10, ".mpb") || strspn(e->d_name, "0123456789") != 10)
            continue;
        if (msh_grow((void **)&p->files, &p->fcap, p->nfiles + 1, sizeof *p->files)) {
            closedir(d);
            return msh_err_set(err, MSH_ENOMEM, "playback: out of memory");
        }
        p->files[p->nfiles++] = (pfile){strtoll(e->d_name, NULL, 10), 0};
    }
    closedir(d);
    if (p->nfiles)
        qsort(p->files, p->nfiles, sizeof *p->files, by_hour);
    for (size_t i = 0; i < p->nfiles; i++) {
        msh_rc rc = scan_file(p, &p->files[i], err);
        if (rc)
            return rc;
    }
    return MSH_OK;
}

msh_rc msh_playback_open(const char *dir, int hours, int64_t now_ms, msh_playback **out, msh_err *err)
{
    *out = NULL;
    if (hours < 1 || hours > 720)
        return msh_err_set(err, MSH_EINVAL, "playback: hours from 1 to 720");
    if (mkdir(dir, 0700) && errno != EEXIST)
        return msh_err_set(err, MSH_EIO, "playback: cannot make %s: %s", dir, strerror(errno));
    msh_playback *p = calloc(1, sizeof *p);
    if (!p || !(p->dir = strdup(dir))) {
        free(p);
        return msh_err_set(err, MSH_ENOMEM, "playback: out of memory");
    }
    p->hours = hours;
    p->fd = -1;
    p->fd_hour = INT64_MIN;
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->load_mu, NULL);
    p->st.hours = hours;
    p->st.cache_cap = MSH_PB_CACHE_BYTES;
    msh_rc rc = scan_dir(p, err);
    if (rc) {
        msh_playback_close(p);
        return rc;
    }
    int64_t now_min = floor_div(now_ms, MINUTE_MS);
    drop_old(p, p->n && p->ents[p->n - 1].minute > now_min ? p->ents[p->n - 1].minute : now_min);
    *out = p;
    return MSH_OK;
}

void msh_playback_close(msh_playback *p)
{
    if (!p)
        return;
    if (p->fd >= 0)
        close(p->fd);
    for (int i = 0; i < CACHE_MAX; i++)
        if (p->cache[i].m)
            msh_pb_minute_release(p->cache[i].m);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->load_mu);
    free(p->ents);
    free(p->files);
    free(p->buf);
    free(p->scratch);
    free(p->dir);
    free(p);
}

/* ---- recording ---- */

static int by_morton(const void *a, const void *b)
{
    uint64_t x = ((const msh_pb_cell *)a)->m, y = ((const msh_pb_cell *)b)->m;
    return x < y ? -1 : x > y;
}

/* Open the file of `hour` for appending (the recorder's); a new file's name is made durable. */
static msh_rc open_hour(msh_playback *p, int64_t hour, msh_err *err)
{
    if (p->fd >= 0 && p->fd_hour == hour)
        return MSH_OK;
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    char path[4200];
    file_path(p, hour, path, sizeof path);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return msh_err_set(err, MSH_EIO, "playback: cannot open %s: %s", path, strerror(errno));
    int dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    p->fd = fd;
    p->fd_hour = hour;
    return MSH_OK;
}

static msh_rc append(msh_playback *p, int64_t hour, const uint8_t *b, size_t len, uint64_t *off, msh_err *err)
{
    struct statvfs vs; /* the write-ahead log shares the disk: its acknowledged updates come first */
    if (!statvfs(p->dir, &vs) && (uint64_t)vs.f_bavail * vs.f_frsize < MSH_PB_DISK_RESERVE + len)
        return msh_err_set(err, MSH_EIO, "playback: under %u MiB free on the disk: left to the write-ahead log",
                           MSH_PB_DISK_RESERVE >> 20);
    msh_rc rc = open_hour(p, hour, err);
    if (rc)
        return rc;
    off_t start = lseek(p->fd, 0, SEEK_END);
    size_t done = 0;
    while (start >= 0 && done < len) {
        ssize_t w = write(p->fd, b + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    if (start < 0 || done < len || fdatasync(p->fd)) {
        int e = errno;
        if (start >= 0)
            (void)ftruncate(p->fd, start); /* the file holds whole records only */
        close(p->fd);
        p->fd = -1;
        return msh_err_set(err, MSH_EIO, "playback: cannot write the minute: %s", strerror(e ? e : EIO));
    }
    *off = (uint64_t)start;
    return MSH_OK;
}

msh_rc msh_playback_record(msh_playback *p, int64_t minute, msh_pb_cell *cells, size_t n, msh_err *err)
{
    double t0 = mono_s();
    pthread_mutex_lock(&p->mu);
    int64_t last = p->n ? p->ents[p->n - 1].minute : INT64_MIN;
    pthread_mutex_unlock(&p->mu);
    if (minute <= last)
        return msh_err_set(err, MSH_EINVAL, "playback: minute %lld is not after the last one recorded",
                           (long long)minute);
    if (n)
        qsort(cells, n, sizeof *cells, by_morton);
    size_t len = 0;
    msh_rc rc = msh_pb_encode(minute, cells, n, MSH_PB_ZLEVEL, &p->buf, &len, &p->bufcap, err);
    int64_t hour = floor_div(minute, 60);
    uint64_t off = 0;
    double tw = mono_s();
    if (!rc)
        rc = append(p, hour, p->buf, len, &off, err);
    tw = mono_s() - tw;
    pthread_mutex_lock(&p->mu);
    if (rc) {
        p->st.failures++;
        pthread_mutex_unlock(&p->mu);
        return rc;
    }
    pfile *f = find_file(p, hour);
    if (!f && !msh_grow((void **)&p->files, &p->fcap, p->nfiles + 1, sizeof *p->files)) {
        f = &p->files[p->nfiles++];
        *f = (pfile){hour, 0};
    }
    if (!f || msh_grow((void **)&p->ents, &p->cap, p->n + 1, sizeof *p->ents)) {
        p->st.failures++;
        pthread_mutex_unlock(&p->mu);
        return msh_err_set(err, MSH_ENOMEM, "playback: out of memory");
    }
    f->size = off + len;
    uint32_t crc = (uint32_t)p->buf[24] | (uint32_t)p->buf[25] << 8 | (uint32_t)p->buf[26] << 16 |
                   (uint32_t)p->buf[27] << 24;
    p->ents[p->n++] = (entry){minute, hour, off, (uint32_t)len, crc};
    p->st.recorded++;
    p->st.last_cells = n;
    p->st.last_bytes = len;
    p->st.last_record_s = mono_s() - t0;
    p->st.record_s += p->st.last_record_s;
    p->st.last_write_s = tw;
    p->st.last_lock_s = 0;
    drop_old(p, minute);
    pthread_mutex_unlock(&p->mu);
    return MSH_OK;
}

static int take_raw(void *ud, uint32_t cx, uint32_t cy, uint32_t count, int32_t vx, int32_t vy, uint64_t v2)
{
    msh_playback *p = ud;
    if (msh_grow_from((void **)&p->scratch, &p->scap, p->ns + 1, sizeof *p->scratch, 4096))
        return p->scratch_failed = true;
    p->scratch[p->ns++] = (msh_pb_cell){msh_pb_morton(cx, cy), count, vx, vy, v2};
    return 0;
}

msh_rc msh_playback_tick(msh_playback *p, msh_live *live, int64_t now_ms, bool *recorded, msh_err *err)
{
    *recorded = false;
    int64_t minute = floor_div(now_ms, MINUTE_MS);
    pthread_mutex_lock(&p->mu);
    bool due = !p->n || p->ents[p->n - 1].minute < minute;
    pthread_mutex_unlock(&p->mu);
    if (!due)
        return MSH_OK;
    double t0 = mono_s(), c0 = cpu_s();
    p->ns = 0;
    p->scratch_failed = false;
    msh_live_rdlock(live);
    msh_live_raw_cells(live, take_raw, p);
    msh_live_unlock(live);
    double locked = mono_s() - t0;
    if (p->scratch_failed)
        return msh_err_set(err, MSH_ENOMEM, "playback: out of memory");
    msh_rc rc = msh_playback_record(p, minute, p->scratch, p->ns, err);
    if (!rc) {
        pthread_mutex_lock(&p->mu);
        p->st.record_s += (mono_s() - t0) - p->st.last_record_s;
        p->st.last_record_s = mono_s() - t0;
        p->st.last_lock_s = locked;
        p->st.last_cpu_s = cpu_s() - c0;
        pthread_mutex_unlock(&p->mu);
        *recorded = true;
    }
    return rc;
}

/* ---- reading ---- */

void msh_pb_minute_release(msh_pb_minute *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1) {
        free(m->cells);
        free(m);
    }
}

int64_t msh_pb_minute_ms(const msh_pb_minute *m)
{
    return m->minute * MINUTE_MS;
}

uint32_t msh_pb_minute_crc(const msh_pb_minute *m)
{
    return m->crc;
}

size_t msh_pb_minute_cells(const msh_pb_minute *m)
{
    return m->n;
}

static uint64_t minute_bytes(const msh_pb_minute *m)
{
    return sizeof *m + m->n * sizeof *m->cells;
}

/* The cached minute (a new reference), NULL when not cached. mu held. */
static msh_pb_minute *cache_get(msh_playback *p, int64_t minute)
{
    for (int i = 0; i < CACHE_MAX; i++)
        if (p->cache[i].m && p->cache[i].m->minute == minute) {
            p->cache[i].used = ++p->stamp;
            atomic_fetch_add(&p->cache[i].m->refs, 1);
            return p->cache[i].m;
        }
    return NULL;
}

/* Keep m (the cache takes a reference), evicting the least recently used until it fits. mu held. */
static void cache_put(msh_playback *p, msh_pb_minute *m)
{
    for (;;) {
        int lru = -1, used = 0;
        for (int i = 0; i < CACHE_MAX; i++)
            if (p->cache[i].m) {
                used++;
                if (lru < 0 || p->cache[i].used < p->cache[lru].used)
                    lru = i;
            }
        if (lru < 0 || (used < CACHE_MAX && p->cache_bytes + minute_bytes(m) <= MSH_PB_CACHE_BYTES))
            break;
        p->cache_bytes -= minute_bytes(p->cache[lru].m);
        msh_pb_minute_release(p->cache[lru].m);
        p->cache[lru].m = NULL;
    }
    if (minute_bytes(m) > MSH_PB_CACHE_BYTES)
        return; /* larger than the whole cache: served, not kept */
    for (int i = 0; i < CACHE_MAX; i++)
        if (!p->cache[i].m) {
            atomic_fetch_add(&m->refs, 1);
            p->cache[i].m = m;
            p->cache[i].used = ++p->stamp;
            p->cache_bytes += minute_bytes(m);
            return;
        }
}

static msh_rc read_minute(msh_playback *p, const entry *e, msh_pb_minute **out, msh_err *err)
{
    char path[4200];
    file_path(p, e->hour, path, sizeof path);
    uint8_t *b = malloc(e->len);
    if (!b)
        return msh_err_set(err, MSH_ENOMEM, "playback: out of memory");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? pread(fd, b, e->len, (off_t)e->off) : -1;
    if (fd >= 0)
        close(fd);
    if (got != (ssize_t)e->len) {
        free(b);
        /* its file was deleted as the window moved on since the look-up */
        return msh_err_set(err, fd < 0 && errno == ENOENT ? MSH_ENOTFOUND : MSH_EIO,
                           "playback: cannot read the minute from %s", path);
    }
    msh_pb_header h;
    msh_pb_cell *cells = NULL;
    msh_rc rc = msh_pb_decode(b, e->len, &h, &cells, err);
    free(b);
    if (rc)
        return rc;
    msh_pb_minute *m = malloc(sizeof *m);
    if (!m) {
        free(cells);
        return msh_err_set(err, MSH_ENOMEM, "playback: out of memory");
    }
    atomic_init(&m->refs, 1);
    m->minute = h.minute;
    m->crc = h.crc;
    m->n = h.cells;
    m->cells = cells;
    *out = m;
    return MSH_OK;
}

static void window_text(const msh_playback *p, char *out, size_t cap)
{
    char a[MSH_TIME_ISO_CAP], b[MSH_TIME_ISO_CAP];
    if (!p->n) {
        snprintf(out, cap, "nothing recorded yet (playback keeps %d hours)", p->hours);
        return;
    }
    msh_time_format_iso(p->ents[0].minute * MINUTE_MS, a, sizeof a, 0);
    msh_time_format_iso(p->ents[p->n - 1].minute * MINUTE_MS, b, sizeof b, 0);
    snprintf(out, cap, "the kept window is %s to %s (minutes; playback keeps %d hours)", a, b, p->hours);
}

msh_rc msh_playback_at(msh_playback *p, int64_t t_ms, msh_pb_minute **out, msh_err *err)
{
    *out = NULL;
    int64_t minute = floor_div(t_ms, MINUTE_MS);
    pthread_mutex_lock(&p->mu);
    if (!p->n || minute < p->ents[0].minute || minute > p->ents[p->n - 1].minute) {
        char w[200], t[MSH_TIME_ISO_CAP];
        window_text(p, w, sizeof w);
        msh_time_format_iso(t_ms, t, sizeof t, 3);
        pthread_mutex_unlock(&p->mu);
        return msh_err_set(err, MSH_ENOTFOUND, "time %s is outside the recorded minutes: %s", t, w);
    }
    size_t lo = 0, hi = p->n; /* the last entry at or before minute */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->ents[mid].minute <= minute)
            lo = mid;
        else
            hi = mid;
    }
    entry e = p->ents[lo];
    msh_pb_minute *m = cache_get(p, e.minute);
    pthread_mutex_unlock(&p->mu);
    if (m) {
        *out = m;
        return MSH_OK;
    }
    /* One reader at a time: the tiles of a new minute arrive together (a viewer asks a screenful),
     * and each would otherwise read and decode the same minute (8 MB of cells at 3 M people). */
    pthread_mutex_lock(&p->load_mu);
    pthread_mutex_lock(&p->mu);
    m = cache_get(p, e.minute); /* the reader before this one may have brought it */
    pthread_mutex_unlock(&p->mu);
    msh_rc rc = MSH_OK;
    if (!m && !(rc = read_minute(p, &e, &m, err))) {
        pthread_mutex_lock(&p->mu);
        cache_put(p, m);
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&p->load_mu);
    *out = m;
    return rc;
}

void msh_pb_minute_base_cells(void *minute, const double box[4], msh_live_cell_fn fn, void *ud)
{
    const msh_pb_minute *m = minute;
    const double n = (double)(1u << 22);
    double x0 = box[0] * n, y0 = box[1] * n, x1 = box[2] * n, y1 = box[3] * n;
    uint32_t ax = (uint32_t)(x0 < 0 ? 0 : x0 > n - 1 ? n - 1 : x0), ay = (uint32_t)(y0 < 0 ? 0 : y0 > n - 1 ? n - 1 : y0);
    uint32_t bx = (uint32_t)(x1 < 0 ? 0 : x1 > n - 1 ? n - 1 : x1), by = (uint32_t)(y1 < 0 ? 0 : y1 > n - 1 ? n - 1 : y1);
    /* Morton order is monotone in x and in y: every cell of the box lies between its corners' codes */
    uint64_t from = msh_pb_morton(ax, ay), to = msh_pb_morton(bx, by);
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->cells[mid].m < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < m->n && m->cells[i].m <= to; i++) {
        uint32_t cx, cy;
        msh_pb_unmorton(m->cells[i].m, &cx, &cy);
        if (cx < ax || cx > bx || cy < ay || cy > by)
            continue;
        msh_live_cell o;
        msh_pb_cell_to_live(&m->cells[i], &o);
        if (fn(ud, &o))
            return;
    }
}

void msh_playback_stats_get(msh_playback *p, msh_playback_stats *s)
{
    pthread_mutex_lock(&p->mu);
    *s = p->st;
    s->cache_bytes = p->cache_bytes;
    s->cached = 0;
    for (int i = 0; i < CACHE_MAX; i++)
        s->cached += p->cache[i].m != NULL;
    pthread_mutex_unlock(&p->mu);
}
