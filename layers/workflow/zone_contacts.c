/* zone_contacts.c: service_company and contact on the service zones (zone_contacts.h). */
#include "workflow/zone_contacts.h"

#include <string.h>

#include "store_sql.h"
#include "workflow/wf_rules.h"

static const char *const FIELDS[2] = {"service_company", "contact"};

msh_rc msh_zones_ensure_contacts(msh_store *s, int *added, msh_err *err)
{
    *added = 0;
    msh_layer_info *infos = NULL;
    size_t n = 0;
    msh_rc rc = msh_store_list(s, &infos, &n, err);
    if (rc)
        return rc;
    bool missing[2] = {false, false}, have = false;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(infos[i].name, MSH_ZONES_LAYER)) {
            have = true;
            for (int f = 0; f < 2; f++)
                missing[f] = msh_wf_field(&infos[i], FIELDS[f]) < 0;
        }
    msh_store_infos_free(infos, n);
    if (!have || (!missing[0] && !missing[1]))
        return MSH_OK;
    rc = msh_store_begin(s);
    for (int f = 0; f < 2 && !rc; f++) {
        if (!missing[f])
            continue;
        if (msh_store_add_text_field(s, MSH_ZONES_LAYER, FIELDS[f]))
            rc = MSH_EIO;
        if (!rc)
            (*added)++;
    }
    if (rc) {
        rc = msh_err_set(err, MSH_EIO, "adding service_company and contact to %s: %s", MSH_ZONES_LAYER,
                         msh_store_errmsg(s));
        msh_store_rollback(s);
        *added = 0;
        return rc;
    }
    if (msh_store_commit(s)) {
        *added = 0;
        return msh_err_set(err, MSH_EIO, "adding service_company and contact to %s: %s", MSH_ZONES_LAYER,
                           msh_store_errmsg(s));
    }
    return MSH_OK;
}
