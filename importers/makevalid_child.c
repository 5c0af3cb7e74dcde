/* makevalid_child.c: MakeValid under a budget, in a forked child (makevalid_child.h). */
#define _GNU_SOURCE
#include "makevalid_child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The address space in use now (bytes), from /proc/self/statm; 0 when unknown. */
static size_t vm_size(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    return (size_t)strtoull(buf, NULL, 10) * (size_t)sysconf(_SC_PAGESIZE);
}

/* The child: limits, repair, WKB to `fd`, exit. Never returns. */
static void child(const unsigned char *wkb, size_t n, int fd)
{
    size_t vm = vm_size();
    struct rlimit as = {vm + MSH_MAKEVALID_MEM_BYTES, vm + MSH_MAKEVALID_MEM_BYTES};
    rlim_t secs = (MSH_MAKEVALID_WALL_MS + 999) / 1000 + 1; /* a backstop: the parent's deadline comes first */
    struct rlimit cpu = {secs, secs + 1};
    if ((vm && setrlimit(RLIMIT_AS, &as)) || setrlimit(RLIMIT_CPU, &cpu))
        _exit(2);
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSWKBReader *rd = h ? GEOSWKBReader_create_r(h) : NULL;
    GEOSWKBWriter *wr = h ? GEOSWKBWriter_create_r(h) : NULL;
    GEOSGeometry *g = rd ? GEOSWKBReader_read_r(h, rd, wkb, n) : NULL;
    GEOSGeometry *mv = g && wr ? GEOSMakeValid_r(h, g) : NULL;
    size_t len = 0;
    unsigned char *out = mv ? GEOSWKBWriter_write_r(h, wr, mv, &len) : NULL;
    if (!out)
        _exit(1);
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, out + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(1);
        off += (size_t)w;
    }
    _exit(0); /* the kernel frees the rest */
}

/* Read the child's answer until EOF or the deadline; *timed_out when the deadline passed. */
static unsigned char *read_answer(int fd, double deadline, size_t *len, int *timed_out)
{
    unsigned char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    *timed_out = 0;
    for (;;) {
        double left = deadline - now_ms();
        if (left <= 0) {
            *timed_out = 1;
            break;
        }
        struct pollfd p = {fd, POLLIN, 0};
        int pr = poll(&p, 1, (int)left + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            break;
        if (pr == 0)
            continue; /* the loop sees the deadline */
        if (*len == cap) {
            size_t nc = cap ? cap * 2 : 65536;
            unsigned char *nb = nc <= MSH_MAKEVALID_OUT_MAX ? realloc(buf, nc) : NULL;
            if (!nb) {
                *timed_out = 1; /* an answer over the cap: as complex as one over time */
                break;
            }
            buf = nb;
            cap = nc;
        }
        ssize_t r = read(fd, buf + *len, cap - *len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return buf; /* EOF (or an error: the exit status decides) */
        *len += (size_t)r;
    }
    free(buf);
    *len = 0;
    return NULL;
}

GEOSGeometry *msh_makevalid_child(msh_geom_cleaner *c, const GEOSGeometry *g)
{
    size_t n = 0;
    unsigned char *wkb = GEOSWKBWriter_write_r(c->geos, c->wr, g, &n);
    if (!wkb)
        return NULL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC)) {
        GEOSFree_r(c->geos, wkb);
        return NULL;
    }
    double deadline = now_ms() + MSH_MAKEVALID_WALL_MS;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child(wkb, n, fds[1]);
    }
    close(fds[1]);
    GEOSFree_r(c->geos, wkb);
    if (pid < 0) {
        close(fds[0]);
        snprintf(c->geos_msg, sizeof c->geos_msg, "cannot start the repair: %s", strerror(errno));
        return NULL;
    }
    size_t len = 0;
    int timed_out = 0;
    unsigned char *out = read_answer(fds[0], deadline, &len, &timed_out);
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    /* over time, over memory (the allocation failed: exit 1 with nothing written) or over CPU */
    bool killed = timed_out || (WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL));
    GEOSGeometry *res = NULL;
    if (!killed && WIFEXITED(status) && WEXITSTATUS(status) == 0 && out && len)
        res = GEOSWKBReader_read_r(c->geos, c->rd, out, len);
    else if (!killed && WIFEXITED(status) && WEXITSTATUS(status) == 1)
        killed = true; /* MakeValid ran out of its memory (GEOS answers NULL on bad_alloc) */
    free(out);
    if (killed)
        c->too_complex = 1;
    return res;
}
