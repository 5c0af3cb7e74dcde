/* routes_wheelchair.c: /route?profile=wheelchair: the route over the costs of route/access.h (the
 * walkways a wheelchair cannot use closed), and the clear answer when there is none:
 *   422 when an end's nearest walkway is itself barred or too steep, or when a walking route exists
 *       but every one uses such a walkway (one more search, only on failure, tells the two apart);
 *   404 when no route exists at all, as for walking. */
#include <stdlib.h>

#include "route/access.h"
#include "routes/routes.h"
#include "routes/walkreq.h"

msh_rc msh_wheelchair_route(msh_req *r, const msh_graph *g, const float *w, double minw, const msh_snap *a,
                            const msh_snap *b, msh_path *p, uint32_t *barred)
{
    double max_incline = r->app->cfg.max_incline;
    const msh_snap *ends[2] = {a, b};
    for (int i = 0; i < 2; i++)
        if (!msh_access_edge_ok(g, ends[i]->edge, max_incline)) {
            msh_resp_error(r, 422,
                           "no wheelchair-accessible route: the walkway nearest the %s has steps, is marked "
                           "wheelchair=no or is steeper than %.0f%%",
                           i ? "destination" : "origin", max_incline);
            return MSH_EINVAL;
        }
    float *ww = msh_access_weights(g, w, max_incline, barred);
    if (!ww) {
        msh_resp_error(r, 503, "out of memory");
        return MSH_ENOMEM;
    }
    msh_err err;
    msh_rc rc = msh_graph_route(g, ww, minw, a, b, p, &err);
    free(ww);
    if (!rc)
        return MSH_OK;
    if (err.code != MSH_ENOTFOUND) {
        msh_resp_error(r, 500, "%s", err.msg);
        return rc;
    }
    msh_path walk;
    msh_path_init(&walk);
    msh_err err2;
    bool walkable = !msh_graph_route(g, w, minw, a, b, &walk, &err2);
    msh_path_free(&walk);
    if (walkable)
        msh_resp_error(r, 422,
                       "no wheelchair-accessible route: every way between these points uses steps, a walkway marked "
                       "wheelchair=no or one steeper than %.0f%% (%u such walkway pieces on the network)",
                       max_incline, *barred);
    else
        msh_resp_error(r, 404, "%s", err.msg);
    return rc;
}
