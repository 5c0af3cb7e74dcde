/* fuzz_heatqs.c: the heatmap path and query-string parsers (layers/render/heatmap.c) never crash,
 * never read past their input, and accept only values inside the documented ranges. The input
 * is "PATH?k=v&k=v..." as it follows "/heatmaps/"; arguments go to both parameter sets. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "heatmap.h"
#include "fuzz_cstr.h"

static void args(char *qs, bool density)
{
    msh_heat_params p;
    msh_heat_params_init(&p);
    msh_err err;
    char *save = qs;
    while (save) {
        char *arg = save;
        char *amp = strchr(arg, '&');
        save = amp ? amp + 1 : NULL;
        if (amp) *amp = 0;
        char *eq = strchr(arg, '=');
        if (eq) *eq = 0;
        if (msh_heat_param(&p, density, arg, eq ? eq + 1 : NULL, &err) != MSH_OK) {
            if (!err.msg[0]) abort();
        }
    } /* the separators stay cut: values are borrowed by the parameters, as from the request */
    if (!(p.radius_m >= MSH_HEAT_MIN_RADIUS && p.radius_m <= MSH_HEAT_MAX_RADIUS) || !(p.max > 0) || !isfinite(p.max))
        abort();
    if (p.filter && p.filter_len != strlen(p.filter)) abort();
    if (p.weight && (strlen(p.weight) == 0 || strlen(p.weight) > 63)) abort();
    char key[256];
    msh_heat_params_key(&p, density, key, sizeof key);
    if (strlen(key) >= sizeof key) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    if (!s)
        return 0;
    char *q = strchr(s, '?');
    if (q) *q++ = 0;
    msh_heat_path hp;
    msh_err err;
    if (msh_heat_path_parse(s, &hp, &err) == MSH_OK) {
        if (hp.kind == MSH_HEAT_TILE && (!msh_tile_valid(hp.z, hp.x, hp.y) || (hp.scale != 1 && hp.scale != 2)))
            abort();
        if (!hp.layer[0] || strlen(hp.layer) >= sizeof hp.layer) abort();
    } else if (!err.msg[0]) {
        abort();
    }
    if (q) {
        char *copy = strdup(q);
        args(q, false);
        args(copy, true);
        free(copy);
    }
    free(s);
    return 0;
}
