/* test_wal.c: the write-ahead log: group commit from many threads, replay, torn tails, truncation,
 * kill -9 of a writer at random moments (every acknowledged record must come back), and a write
 * fault (a file size limit, RLIMIT_FSIZE: a real failing write() without privileges): the failed
 * records are not in the log, appends are refused while it lasts, and the log recovers by itself. */
#include <dirent.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "live/wal.h"

typedef struct {
    uint64_t count, sum, last;
    int ordered;
} replay_acc;

static int on_rec(void *ud, uint64_t lsn, uint8_t type, const uint8_t *data, size_t len)
{
    replay_acc *a = ud;
    uint64_t v = 0;
    if (len == 8)
        memcpy(&v, data, 8);
    if (type != 7 || len != 8 || (a->count && lsn <= a->last))
        a->ordered = 0;
    a->last = lsn;
    a->count++;
    a->sum += v;
    return 0;
}


/* Append one record and wait for it; *lsn gets its LSN. */
static msh_rc put(msh_wal *w, uint64_t v, uint64_t *lsn, msh_err *err)
{
    msh_wal_ticket t;
    msh_wal_rec r = {&v, 8};
    msh_rc rc = msh_wal_append(w, 7, &r, 1, &t, err);
    if (!rc)
        rc = msh_wal_wait(w, &t, err);
    if (!rc && lsn)
        *lsn = t.first;
    return rc;
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) ? -1 : sb.st_size;
}

/* A write fault in the middle of a run (RLIMIT_FSIZE makes write() fail with EFBIG). */
static void fault_and_recover(const char *dir)
{
    rm_rf(dir);
    msh_err err;
    msh_wal *w;
    replay_acc acc = {0, 0, 0, 1};
    CHECK(msh_wal_open(dir, 0, on_rec, &acc, &w, &err) == MSH_OK);
    msh_wal_set_retry_ms(w, 0);
    uint64_t lsn = 0, acked_sum = 0;
    for (uint64_t v = 1; v <= 3; v++) {
        CHECK(put(w, v, &lsn, &err) == MSH_OK);
        acked_sum += v;
    }
    char seg[2048];
    snprintf(seg, sizeof seg, "%s/wal-%016llx.log", dir, 1ULL);
    off_t good = file_size(seg);
    CHECK(good == 3 * 17);
    CHECK((file_size(dir) >= 0) && msh_wal_health(w, NULL, 0));

    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)good + 20; /* the next flush of 5 records gets one in and part of another */
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    uint64_t vals[5] = {100, 200, 300, 400, 500};
    msh_wal_rec recs[5];
    for (int i = 0; i < 5; i++)
        recs[i] = (msh_wal_rec){&vals[i], 8};
    msh_wal_ticket t;
    CHECK(msh_wal_append(w, 7, recs, 5, &t, &err) == MSH_OK && t.first == 4 && t.last == 8);
    CHECK(msh_wal_wait(w, &t, &err) == MSH_EIO && t.state < 0);
    char why[256];
    CHECK(!msh_wal_health(w, why, sizeof why) && strstr(why, strerror(EFBIG)) != NULL);
    CHECK(file_size(seg) == good); /* cut back to what was acknowledged */
    /* still failing: appends are refused (recovery cannot allocate room), nothing is batched */
    msh_wal_ticket t2 = {0, 0, 7, NULL};
    CHECK(msh_wal_append(w, 7, recs, 1, &t2, &err) == MSH_EIO && t2.state == 7);
    CHECK(!msh_wal_retry(w));
    msh_wal_stats st;
    msh_wal_get_stats(w, &st);
    CHECK(st.failures == 1 && st.recoveries == 0);

    /* the fault ends: the log recovers by itself, new records go on after the given-up LSNs */
    CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
    CHECK(msh_wal_retry(w) && msh_wal_health(w, NULL, 0));
    CHECK(put(w, 7000, &lsn, &err) == MSH_OK && lsn == 9);
    acked_sum += 7000;
    msh_wal_get_stats(w, &st);
    CHECK(st.recoveries == 1);
    msh_wal_close(w);

    /* the log holds exactly what was acknowledged */
    acc = (replay_acc){0, 0, 0, 1};
    CHECK(msh_wal_open(dir, 0, on_rec, &acc, &w, &err) == MSH_OK);
    CHECK(acc.count == 4 && acc.sum == acked_sum && acc.ordered && acc.last == 9);
    CHECK(put(w, 1, &lsn, &err) == MSH_OK && lsn == 10);
    msh_wal_close(w);

    /* files private to the owner */
    struct stat sb;
    CHECK(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700);
    CHECK(stat(seg, &sb) == 0 && (sb.st_mode & 0777) == 0600);
}

typedef struct {
    msh_wal *w;
    int n;
    uint64_t base;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *a = p;
    msh_err err;
    for (int i = 0; i < a->n; i++) {
        if (put(a->w, a->base + (uint64_t)i, NULL, &err))
            abort();
    }
    return NULL;
}

int main(int argc, char **argv)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/wal_test", argc > 1 ? argv[1] : ".");
    rm_rf(dir);
    msh_err err;
    msh_wal *w;
    replay_acc acc = {0, 0, 0, 1};
    CHECK(msh_wal_open(dir, 0, on_rec, &acc, &w, &err) == MSH_OK);
    CHECK(acc.count == 0);

    /* 4 threads x 500 synced appends: group commit needs far fewer flushes than records */
    pthread_t th[4];
    writer_arg wa[4];
    for (int i = 0; i < 4; i++) {
        wa[i] = (writer_arg){w, 500, (uint64_t)i * 1000};
        pthread_create(&th[i], NULL, writer, &wa[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    msh_wal_stats st;
    msh_wal_get_stats(w, &st);
    CHECK(st.records == 2000);
    CHECK(st.syncs < 2000);
    CHECK(msh_wal_durable_lsn(w) == 2000);
    uint64_t want_sum = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 500; j++)
            want_sum += (uint64_t)i * 1000 + (uint64_t)j;
    msh_wal_close(w);

    acc = (replay_acc){0, 0, 0, 1};
    CHECK(msh_wal_open(dir, 0, on_rec, &acc, &w, &err) == MSH_OK);
    CHECK(acc.count == 2000 && acc.sum == want_sum && acc.ordered && acc.last == 2000);
    /* new records continue the numbering */
    uint64_t v = 5, lsn = 0;
    CHECK(put(w, v, &lsn, &err) == MSH_OK && lsn == 2001);
    /* rotate, write more, drop what a snapshot at 2001 covers */
    CHECK(msh_wal_rotate(w, &err) == MSH_OK);
    v = 6;
    CHECK(put(w, v, &lsn, &err) == MSH_OK);
    CHECK(msh_wal_truncate_before(w, 2001, &err) == MSH_OK);
    msh_wal_close(w);
    acc = (replay_acc){0, 0, 0, 1};
    CHECK(msh_wal_open(dir, 2001, on_rec, &acc, &w, &err) == MSH_OK);
    CHECK(acc.count == 1 && acc.sum == 6 && acc.last == 2002);
    msh_wal_close(w);

    /* a torn tail (half a record) is cut off, and appends go on after the last good record */
    char seg[2048];
    snprintf(seg, sizeof seg, "%s/wal-%016llx.log", dir, 2002ULL);
    FILE *f = fopen(seg, "ab");
    CHECK(f != NULL);
    if (f) {
        fwrite("\x08\x00\x00\x00garbage", 1, 11, f);
        fclose(f);
    }
    acc = (replay_acc){0, 0, 0, 1};
    CHECK(msh_wal_open(dir, 2001, on_rec, &acc, &w, &err) == MSH_OK);
    CHECK(acc.count == 1);
    CHECK(put(w, v, &lsn, &err) == MSH_OK && lsn == 2003);
    msh_wal_close(w);
    acc = (replay_acc){0, 0, 0, 1};
    msh_wal_open(dir, 0, on_rec, &acc, &w, &err);
    CHECK(acc.count == 2 && acc.ordered); /* 2002, 2003: 1..2001 were truncated away */
    msh_wal_close(w);

    /* kill -9 while writing: every LSN the writer acknowledged (wrote to the pipe after sync) is replayed */
    srand((unsigned)time(NULL));
    for (int round = 0; round < 8; round++) {
        rm_rf(dir);
        int fds[2];
        if (pipe(fds))
            abort();
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            msh_wal *cw;
            msh_err e;
            if (msh_wal_open(dir, 0, NULL, NULL, &cw, &e))
                _exit(3);
            for (uint64_t i = 1;; i++) {
                uint64_t l;
                if (put(cw, i, &l, &e))
                    _exit(4);
                if (write(fds[1], &l, 8) != 8)
                    _exit(5);
            }
        }
        close(fds[1]);
        uint64_t first_ack;
        if (read(fds[0], &first_ack, 8) != 8) /* the writer is up and has acknowledged once */
            abort();
        usleep((useconds_t)(rand() % 80000));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        uint64_t acked = first_ack, l;
        while (read(fds[0], &l, 8) == 8)
            acked = l;
        close(fds[0]);
        acc = (replay_acc){0, 0, 0, 1};
        CHECK(msh_wal_open(dir, 0, on_rec, &acc, &w, &err) == MSH_OK);
        CHECK(acked > 0);
        CHECK(acc.count >= acked && acc.ordered);
        msh_wal_close(w);
    }
    fault_and_recover(dir);
    rm_rf(dir);
    CHECK_DONE();
}
