/* cli_args.h: option values the commands share, read the same way and refused in the same words. */
#ifndef MSH_CLI_ARGS_H
#define MSH_CLI_ARGS_H

#include <stdbool.h>

/** --bbox W,S,E,N in degrees (the OGC bbox reader), W <= E: no box across the antimeridian.
 * On failure prints "mashaer CMD: ..." to stderr and returns false. */
bool msh_cli_bbox(const char *cmd, const char *arg, double out[4]);

/** --zoom Z or Z1-Z2 within 0..MSH_MAX_ZOOM. On failure prints "mashaer CMD: ..." and returns false. */
bool msh_cli_zoom(const char *cmd, const char *arg, int *z0, int *z1);

/** --threads N within 1..256. On failure prints "mashaer CMD: ..." and returns false. */
bool msh_cli_threads(const char *cmd, const char *arg, long *out);

#endif
