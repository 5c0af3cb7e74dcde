/* route_costs.c: cost estimates of /route, /query/nearest and OGC item pages (see route_costs.h;
 * the isochrone's is in routes_isochrone.c, next to its cache). */
#include "routes/route_costs.h"

#include <math.h>
#include <string.h>

#include "download.h"
#include "query/qs.h"
#include "route/params.h"

/* A route is one A* search: 2 ms at p99 on the demo network (docs/BENCHMARKS.md), a few times
 * that on a long route under live costs. */
#define ROUTE_UNITS 2

int msh_cost_route(msh_req *r)
{
    return ROUTE_UNITS;
}

/* A number argument clamped to [lo, hi], or `dflt` when absent or bad (its handler answers that one). */
static double arg_number(msh_req *r, const char *name, double dflt, double lo, double hi)
{
    const char *s = msh_req_arg(r, name);
    double v;
    msh_err err;
    if (!s || msh_param_number(name, s, -INFINITY, INFINITY, &v, &err))
        return dflt;
    return v < lo ? lo : v > hi ? hi : v;
}

int msh_cost_nearest(msh_req *r)
{
    /* an incremental search that grows with the distance walked and the answers wanted; a
     * filter makes it walk past the features that fail it */
    double limit = arg_number(r, "limit", 5, 1, 100), max_m = arg_number(r, "max_m", 5000, 1, 50000);
    const char *f = msh_req_arg(r, "filter");
    return 1 + (int)(limit / 10) + (int)(max_m / 2000) + (f && *f ? 3 : 0);
}

int msh_cost_responders(msh_req *r)
{
    /* two one-to-all searches (time and distance) over the whole graph: about four routes, whatever
     * the number of crews; the limit only trims the answer */
    (void)r;
    return 4;
}

int msh_cost_ogc(msh_req *r)
{
    size_t n = strlen(r->path);
    if (n < 6 || strcmp(r->path + n - 6, "/items"))
        return 0;
    const char *ls = msh_req_arg(r, "limit"), *f = msh_req_arg(r, "f");
    uint32_t limit = MSH_QS_LIMIT_DEFAULT;
    msh_err err;
    msh_dl_fmt dl;
    bool download = f && msh_dl_format(f, &dl);
    if (ls && msh_qs_limit(ls, download ? MSH_DL_LIMIT_MAX : MSH_QS_LIMIT_MAX, &limit, &err))
        return 0;
    /* a file written by GDAL (download.h): the demo's 22,001 walkways take 0.2 s as GeoPackage, CSV or
     * KML and 0.9 s as a zipped shapefile (docs/BENCHMARKS.md); always a pool slot, never in place */
    if (download)
        return 5 + (int)(limit / (dl == MSH_DL_SHP ? 250 : 1000));
    return 1 + (int)(limit / 250);
}
