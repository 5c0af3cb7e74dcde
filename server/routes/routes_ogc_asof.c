/* routes_ogc_asof.c: GET /ogc/collections/{c}/items?asof=ISO, a collection as it was at an instant.
 *
 * The audit (layers/edit.h) keeps every write with the feature before it, so the collection at
 * T is the served layer with each feature changed since T set back (layers/asof_layer.h). The
 * page is then made as any other (routes_ogc.c items(): paging, bbox, limit, filter and
 * `datetime`, which keeps its Part 1 meaning: the features' own time property). The layer is
 * built per request, under the edit lock (the edit connection reads the audit), at the cost of
 * decoding the features changed since T; the unchanged ones are the served layer's own.
 * Static collections only: live ones keep no past here (their history is the feed log).
 */
#include <string.h>

#include "asof_layer.h"
#include "core/msh_time.h"
#include "routes/ogc.h"
#include "services/edit_service.h"

bool ogc_items_asof(msh_req *r, msh_layer *l, const char *asof, msh_layer **past)
{
    *past = NULL;
    int64_t t;
    msh_err err;
    if (msh_time_parse(asof, strlen(asof), MSH_TIME_DATE, &t, &err)) {
        msh_resp_error(r, 400, "asof: %s", err.msg);
        return true;
    }
    if (!r->app->edit || !l->info.kind || strcmp(l->info.kind, "static") != 0) {
        msh_resp_error(r, 400, "asof: collection '%s' keeps no past (only edited collections, from their audit)",
                       l->info.name);
        return true;
    }
    msh_store *store = msh_edit_service_lock(r->app);
    msh_rc rc = msh_asof_layer_new(store, l, t, past, &err);
    msh_edit_service_unlock(r->app);
    if (rc) {
        msh_resp_error(r, 500, "asof: %s", err.msg);
        return true;
    }
    return false;
}
