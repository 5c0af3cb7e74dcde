/* fuzz_cql2.c: the CQL2-text parser and evaluator on arbitrary bytes: a parse error or a filter that
 * evaluates on a few features (points, a line, a polygon with a hole, nulls), never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/msh_tilemath.h"
#include "query/cql2.h"

static msh_field FIELDS[] = {{(char *)"name", MSH_FT_STRING}, {(char *)"capacity", MSH_FT_INT},
                             {(char *)"ratio", MSH_FT_REAL},  {(char *)"open", MSH_FT_BOOL},
                             {(char *)"reported_at", MSH_FT_STRING}};
static const msh_layer_info INFO = {(char *)"fuzz", (char *)"static", (char *)"Geometry", {0}, 0, 20, 5,
                                    FIELDS, 0, 1, 0, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msh_cql2 *f = NULL;
    msh_err err;
    if (msh_cql2_parse((const char *)data, size, &INFO, &f, &err)) {
        if (!err.msg[0] || !memchr(err.msg, 0, sizeof err.msg))
            abort(); /* every refusal says why */
        return 0;
    }
    static const double ll[] = {39.0, 21.0, 40.0, 21.0, 40.0, 22.0, 39.0, 22.0, 39.0, 21.0,
                                39.4, 21.4, 39.6, 21.4, 39.6, 21.6, 39.4, 21.6, 39.4, 21.4};
    double xy[20];
    for (int i = 0; i < 10; i++)
        msh_lonlat_to_world(ll[2 * i], ll[2 * i + 1], &xy[2 * i], &xy[2 * i + 1]);
    uint32_t poly_parts[2] = {5 | MSH_RING_OUTER, 5};
    uint32_t line_parts[1] = {3};
    msh_value v[5];
    memset(v, 0, sizeof v);
    v[0].type = MSH_FT_STRING;
    v[0].u.s = "مخيم 12";
    v[0].len = (uint32_t)strlen(v[0].u.s);
    v[1].type = MSH_FT_INT;
    v[1].u.i = INT64_MIN;
    v[2].type = MSH_FT_REAL;
    v[2].u.d = 0.5;
    v[4].type = MSH_FT_STRING;
    v[4].u.s = "2026-05-26T08:00:00Z";
    v[4].len = 20;
    msh_value nulls[5];
    memset(nulls, 0, sizeof nulls);
    msh_feature feats[4] = {
        {1, {MSH_GT_POINT, 1, 0, xy, NULL}, v},
        {2, {MSH_GT_LINE, 3, 1, xy, line_parts}, nulls},
        {3, {MSH_GT_POLYGON, 10, 2, xy, poly_parts}, v},
        {4, {MSH_GT_POINT, 2, 0, xy + 10, NULL}, NULL},
    };
    for (int i = 0; i < 4; i++)
        (void)msh_cql2_match(f, &feats[i]);
    (void)msh_cql2_uses_geometry(f);
    msh_cql2_free(f);
    return 0;
}
