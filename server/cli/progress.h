/* progress.h: the progress bar of the long commands (import, export, package), on stderr, on a terminal only. */
#ifndef MSH_CLI_PROGRESS_H
#define MSH_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct msh_cli_progress {
    int tty;    /* stderr is a terminal */
    int quiet;  /* -q: never drawn */
    int drawn;  /* a bar is on the line */
    double last;
} msh_cli_progress;

/** Seconds of the monotonic clock. */
double msh_cli_now(void);
/** Draw `label [####....] P% done/total` and `tail`, at most every 0.1 s (the last step always);
 * with total 0, `label N what`. Nothing unless on a terminal and not quiet. */
void msh_cli_progress_draw(msh_cli_progress *p, const char *label, uint64_t done, uint64_t total, const char *what,
                           const char *tail);
/** Wipe the bar's line, so that a message can be printed. */
void msh_cli_progress_clear(msh_cli_progress *p);

/** A bar of tiles with their rate since `start` (msh_cli_now). */
typedef struct msh_cli_tile_progress {
    msh_cli_progress bar;
    double start;
} msh_cli_tile_progress;
/** Draw it: a progress callback of the export walk (ud is the msh_cli_tile_progress). */
void msh_cli_tile_progress_draw(void *ud, uint64_t done, uint64_t total);

#endif
