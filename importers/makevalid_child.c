/* makevalid_child.c: MakeValid under a budget, in a forked child (makevalid_child.h). */
#define _GNU_SOURCE
#include "makevalid_child.h"

#include "geos_budget.h"

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

/* Field `field` (0 size, 1 resident) of /proc/PID/statm in bytes; 0 when unknown. */
static size_t statm_bytes(pid_t pid, int field)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    unsigned long v[2] = {0, 0};
    if (sscanf(buf, "%lu %lu", &v[0], &v[1]) != 2)
        return 0;
    return (size_t)v[field] * (size_t)sysconf(_SC_PAGESIZE);
}

/* GEOS reports a failed allocation through the error handler as std::bad_alloc. */
static void child_msg(const char *msg, void *ud)
{
    if (strstr(msg, "bad_alloc"))
        *(int *)ud = 1;
}

/* The child: limits, repair, WKB to `fd`, exit (0 done, 1 failed, 3 out of memory). Never returns.
 * The memory budget is the parent's to watch (resident size, every 10 ms): RLIMIT_AS would also
 * hold, but AddressSanitizer aborts the process when its own mmap fails. */
static void child(const msh_geom_cleaner *c, const unsigned char *wkb, size_t n, int fd)
{
    double cpu_s = c->repair_cpu_s > 0 ? c->repair_cpu_s : c->repair_wall_ms / 1e3;
    rlim_t secs = (rlim_t)cpu_s + 2; /* a backstop: the parent's deadlines come first */
    struct rlimit cpu = {secs, secs + 1};
    if (cpu_s > 0 && setrlimit(RLIMIT_CPU, &cpu))
        _exit(2);
    int no_memory = 0;
    GEOSContextHandle_t h = GEOS_init_r();
    if (!h)
        _exit(3);
    GEOSContext_setErrorMessageHandler_r(h, child_msg, &no_memory);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    GEOSWKBWriter *wr = GEOSWKBWriter_create_r(h);
    GEOSGeometry *g = rd ? GEOSWKBReader_read_r(h, rd, wkb, n) : NULL;
    GEOSGeometry *mv = g && wr ? GEOSMakeValid_r(h, g) : NULL;
    size_t len = 0;
    unsigned char *out = mv ? GEOSWKBWriter_write_r(h, wr, mv, &len) : NULL;
    if (!out)
        _exit(no_memory || !rd || !wr ? 3 : 1);
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

/* CPU seconds the child has used so far (0 when its clock cannot be read). */
static double child_cpu_s(clockid_t clk)
{
    struct timespec ts;
    if (clock_gettime(clk, &ts))
        return 0;
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read the child's answer until EOF or a limit: the wall deadline, or (checked every 10 ms) the
 * child's CPU time and resident size over `rss_limit`; *over says which, or that the answer
 * outgrew its cap. */
static unsigned char *read_answer(const msh_geom_cleaner *c, pid_t pid, int fd, size_t rss_limit, size_t *len,
                                  int *over)
{
    unsigned char *buf = NULL;
    size_t cap = 0;
    double deadline = c->repair_wall_ms > 0 ? now_ms() + c->repair_wall_ms : 0;
    clockid_t clk;
    int have_clk = c->repair_cpu_s > 0 && clock_getcpuclockid(pid, &clk) == 0;
    *len = 0;
    *over = 0;
    for (;;) {
        int wait_ms = -1;
        if (deadline > 0) {
            double left = deadline - now_ms();
            if (left <= 0) {
                *over = MSH_BUDGET_TIME;
                break;
            }
            wait_ms = (int)left + 1;
        }
        if (have_clk && child_cpu_s(clk) > c->repair_cpu_s) {
            *over = MSH_BUDGET_TIME;
            break;
        }
        if (rss_limit && statm_bytes(pid, 1) > rss_limit) {
            *over = MSH_BUDGET_MEMORY;
            break;
        }
        if ((have_clk || rss_limit) && (wait_ms < 0 || wait_ms > 10))
            wait_ms = 10;
        struct pollfd p = {fd, POLLIN, 0};
        int pr = poll(&p, 1, wait_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            break;
        if (pr == 0)
            continue; /* the loop sees the deadlines */
        if (*len == cap) {
            size_t nc = cap ? cap * 2 : 65536;
            unsigned char *nb = nc <= MSH_MAKEVALID_OUT_MAX ? realloc(buf, nc) : NULL;
            if (!nb) {
                *over = MSH_BUDGET_MEMORY; /* an answer over the cap */
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
    /* the child starts with this process's pages (shared, counted in its resident size) */
    size_t rss_limit = c->repair_bytes ? statm_bytes(getpid(), 1) + c->repair_bytes : 0;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child(c, wkb, n, fds[1]);
    }
    close(fds[1]);
    GEOSFree_r(c->geos, wkb);
    if (pid < 0) {
        close(fds[0]);
        snprintf(c->geos_msg, sizeof c->geos_msg, "cannot start the repair: %s", strerror(errno));
        return NULL;
    }
    size_t len = 0;
    int over = 0;
    unsigned char *out = read_answer(c, pid, fds[0], rss_limit, &len, &over);
    close(fds[0]);
    if (over)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!over && WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL))
        over = MSH_BUDGET_TIME; /* the CPU backstop, or killed from outside */
    else if (!over && WIFEXITED(status) && WEXITSTATUS(status) == 3)
        over = MSH_BUDGET_MEMORY; /* an allocation failed */
    GEOSGeometry *res = NULL;
    if (!over && WIFEXITED(status) && WEXITSTATUS(status) == 0 && out && len)
        res = GEOSWKBReader_read_r(c->geos, c->rd, out, len);
    free(out);
    c->too_complex = over;
    return res;
}
