/* wf_layer.c: a workflow's own layer, made when the store lacks it (wf_layer.h). */
#include "workflow/wf_layer.h"

#include <stdio.h>
#include <string.h>

#include "store_sql.h"
#include "workflow/wf_rules.h"

#define WF_FIELDS_MAX 16 /* names msh_wf_ensure_fields takes at once: a caller's constant list */

msh_rc msh_wf_create_layer(msh_store *s, const msh_layer_spec *spec, const char *gtype, msh_err *err)
{
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE msh_layers SET geometry_type = '%s' WHERE name = '%s'", gtype, spec->name);
    /* one transaction: the table, its registry row and the `import` audit row that starts its history */
    msh_store_writer *w;
    msh_rc rc = msh_store_batch_begin(s, err);
    if (rc)
        return rc;
    if (!(rc = msh_store_writer_begin(s, spec, &w, err)) && !(rc = msh_store_writer_commit(w, NULL, err)) &&
        msh_store_exec(s, sql))
        rc = msh_err_set(err, MSH_EIO, "creating %s: %s", spec->name, msh_store_errmsg(s));
    msh_rc end = msh_store_batch_end(s, rc == MSH_OK, err);
    return rc ? rc : end;
}

msh_rc msh_wf_ensure_layer(msh_store *s, const msh_layer_spec *spec, const char *needs, const char *gtype,
                           bool *created, msh_err *err)
{
    *created = false;
    msh_layer_info *infos = NULL;
    size_t n = 0;
    msh_rc rc = msh_store_list(s, &infos, &n, err);
    if (rc)
        return rc;
    bool have = false, needed = !needs;
    for (size_t i = 0; i < n; i++) {
        have |= !strcmp(infos[i].name, spec->name);
        needed |= needs && !strcmp(infos[i].name, needs);
    }
    msh_store_infos_free(infos, n);
    if (have || !needed)
        return MSH_OK;
    if ((rc = msh_wf_create_layer(s, spec, gtype, err)))
        return rc;
    *created = true;
    return MSH_OK;
}

msh_rc msh_wf_ensure_fields(msh_store *s, const char *layer, const char *const names[], int *added, msh_err *err)
{
    *added = 0;
    msh_layer_info *infos = NULL;
    size_t n = 0, nnames = 0;
    msh_rc rc = msh_store_list(s, &infos, &n, err);
    if (rc)
        return rc;
    while (names[nnames])
        nnames++;
    if (nnames > WF_FIELDS_MAX) {
        msh_store_infos_free(infos, n);
        return msh_err_set(err, MSH_EINVAL, "at most %d fields are added to %s at once", WF_FIELDS_MAX, layer);
    }
    bool missing[WF_FIELDS_MAX] = {false};
    bool have = false, any = false;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(infos[i].name, layer)) {
            have = true;
            for (size_t f = 0; f < nnames; f++)
                any |= missing[f] = msh_wf_field(&infos[i], names[f]) < 0;
        }
    msh_store_infos_free(infos, n);
    if (!have || !any)
        return MSH_OK;
    rc = msh_store_begin(s);
    for (size_t f = 0; f < nnames && !rc; f++)
        if (missing[f] && msh_store_add_text_field(s, layer, names[f]))
            rc = MSH_EIO;
    if (rc) {
        rc = msh_err_set(err, MSH_EIO, "adding fields to %s: %s", layer, msh_store_errmsg(s));
        msh_store_rollback(s);
        return rc;
    }
    if (msh_store_commit(s))
        return msh_err_set(err, MSH_EIO, "adding fields to %s: %s", layer, msh_store_errmsg(s));
    for (size_t f = 0; f < nnames; f++)
        *added += missing[f];
    return MSH_OK;
}
