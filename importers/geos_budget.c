/* geos_budget.c: the GEOS interrupt callback that enforces a per-feature budget.
 *
 * Design: the callback runs often (from GEOS_CHECK_FOR_INTERRUPTS in inner loops), so it
 * reads the importing thread's CPU clock (vDSO, no system call) every time and the resident size
 * (/proc/self/statm, a read) at most every 10 ms. Arming costs one clock read: the memory base is
 * taken at the feature's first check, since most features end before GEOS ever checks. Once tripped it keeps asking GEOS to stop
 * until disarmed, so a call that swallowed one interrupt still ends promptly.
 * State is static: see the header for why (GEOS 3.11's callback is process-wide).
 */
#include "geos_budget.h"

#include <geos_c.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static GEOSInterruptCallback *prev_cb;
static int armed;
static double deadline, next_mem_check;
static size_t mem_budget, mem_limit; /* bytes of growth; the resident limit (0: not yet read) */
static msh_budget_state tripped;

/* CPU time of this thread, not the wall clock: a busy machine must not change which step of
 * MakeValid the budget stops in (GEOS checks for interrupts in some steps only), nor let a feature
 * through on a quiet one that a loaded one rejects. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &res) != 2)
        res = 0;
    fclose(f);
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static void on_interrupt_check(void)
{
    if (prev_cb)
        prev_cb();
    if (!armed)
        return;
    if (tripped == MSH_BUDGET_OK) {
        double t = now_s();
        if (deadline > 0 && t > deadline) {
            tripped = MSH_BUDGET_TIME;
        } else if (mem_budget && t >= next_mem_check) {
            next_mem_check = t + 0.01;
            size_t rss = resident_bytes();
            if (!mem_limit) /* the first check of this feature sets the base */
                mem_limit = rss + mem_budget;
            else if (rss > mem_limit)
                tripped = MSH_BUDGET_MEMORY;
        }
    }
    if (tripped != MSH_BUDGET_OK)
        GEOS_interruptRequest();
}

void msh_geos_budget_install(void)
{
    prev_cb = GEOS_interruptRegisterCallback(on_interrupt_check);
    if (prev_cb == on_interrupt_check)
        prev_cb = NULL;
}

void msh_geos_budget_uninstall(void)
{
    armed = 0;
    GEOS_interruptRegisterCallback(prev_cb);
    prev_cb = NULL;
}

void msh_geos_budget_arm(double seconds, size_t bytes)
{
    double t = now_s();
    deadline = seconds > 0 ? t + seconds : 0;
    mem_budget = bytes;
    mem_limit = 0; /* read at the first check: most features never reach one, and statm is a file read */
    next_mem_check = t;
    tripped = MSH_BUDGET_OK;
    armed = 1;
}

msh_budget_state msh_geos_budget_disarm(void)
{
    armed = 0;
    GEOS_interruptCancel();
    msh_budget_state s = tripped;
    tripped = MSH_BUDGET_OK;
    return s;
}
