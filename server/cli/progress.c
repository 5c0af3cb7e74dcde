/* progress.c: the progress bar (see progress.h). One thread draws it. */
#include "cli/progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

double msh_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void msh_cli_progress_draw(msh_cli_progress *p, const char *label, uint64_t done, uint64_t total, const char *what,
                           const char *tail)
{
    if (!p->tty || p->quiet)
        return;
    double t = msh_cli_now();
    if (t - p->last < 0.1 && done != total)
        return;
    p->last = t;
    p->drawn = 1;
    if (total) {
        int w = 30, fill = (int)((double)done / (double)total * w);
        if (fill > w) fill = w;
        char bar[32];
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(w - fill));
        bar[w] = 0;
        fprintf(stderr, "\r  %-20.20s [%s] %3d%% %llu/%llu%s", label, bar, (int)(100.0 * (double)done / (double)total),
                (unsigned long long)done, (unsigned long long)total, tail ? tail : "");
    } else {
        fprintf(stderr, "\r  %-20.20s %llu %s%s", label, (unsigned long long)done, what, tail ? tail : "");
    }
    fflush(stderr);
}

void msh_cli_progress_clear(msh_cli_progress *p)
{
    if (p->drawn) {
        fprintf(stderr, "\r\033[K");
        p->drawn = 0;
    }
}

void msh_cli_tile_progress_draw(void *ud, uint64_t done, uint64_t total)
{
    msh_cli_tile_progress *p = ud;
    double el = msh_cli_now() - p->start;
    char rate[48];
    snprintf(rate, sizeof rate, ", %.0f/s", el > 0 ? (double)done / el : 0.0);
    msh_cli_progress_draw(&p->bar, "tiles", done, total, "tiles", rate);
}
