/* cli_args.c: the --bbox and --zoom readers of render and export (see cli_args.h). */
#include "cli/cli_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/msh_tilemath.h"
#include "query/qs.h"

bool msh_cli_bbox(const char *cmd, const char *arg, double b[4])
{
    msh_err err = {0};
    msh_rc rc = msh_qs_bbox(arg, b, &err);
    if (!rc && b[0] > b[2])
        snprintf(err.msg, sizeof err.msg, "west (%g) is east of east (%g): boxes across the antimeridian are not drawn",
                 b[0], b[2]);
    if (rc || b[0] > b[2]) {
        fprintf(stderr, "mashaer %s: --bbox wants W,S,E,N in degrees with W <= E and S <= N, got '%s': %s\n", cmd, arg,
                err.msg);
        return false;
    }
    return true;
}

bool msh_cli_zoom(const char *cmd, const char *arg, int *z0, int *z1)
{
    char tail;
    int n = sscanf(arg, "%d-%d%c", z0, z1, &tail);
    if (n == 1) *z1 = *z0;
    if ((n != 1 && n != 2) || *z0 < 0 || *z1 < *z0 || *z1 > MSH_MAX_ZOOM) {
        fprintf(stderr, "mashaer %s: --zoom wants Z or Z1-Z2 within 0..%d, got '%s'\n", cmd, MSH_MAX_ZOOM, arg);
        return false;
    }
    return true;
}

bool msh_cli_threads(const char *cmd, const char *arg, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || *end || end == arg || v < 1 || v > 256) {
        fprintf(stderr, "mashaer %s: --threads wants 1..256, got '%s'\n", cmd, arg);
        return false;
    }
    *out = v;
    return true;
}
