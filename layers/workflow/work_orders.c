/* work_orders.c: assets' status values, the work order layer and its transitions (work_orders.h). */
#include "workflow/work_orders.h"

#include <string.h>

#include "store_sql.h"
#include "workflow/wf_layer.h"

const char *const msh_asset_statuses[] = {"working", "faulty", "maintenance", NULL};

static const char *const WO_STATUSES[] = {"open", "assigned", "done", "cancelled", NULL};

static const msh_wf_step WO_STEPS[] = {
    {"open", {"assigned", "cancelled", NULL}},
    {"assigned", {"done", "cancelled", NULL}},
    {"done", {NULL}},
    {"cancelled", {NULL}},
};

/* The times the server sets, and the status at which each is set. */
static const char *const TIME_FIELDS[3] = {"opened_at", "assigned_at", "done_at"};
static const char *const TIME_STATUS[3] = {"open", "assigned", "done"};

bool msh_asset_check(const msh_layer_info *li, const msh_value *vals, msh_wf_refusal *ref)
{
    const char *status;
    return msh_wf_check_domain(li, vals, "status", msh_asset_statuses, true, &status, ref);
}

msh_rc msh_wo_ensure_layer(msh_store *s, bool *created, msh_err *err)
{
    /* made before reports could be escalated: the `report` field (the report it was made from) added */
    static const char *const linked[] = {"report", NULL};
    int added;
    msh_rc rc = msh_wf_ensure_fields(s, MSH_WO_LAYER, linked, &added, err);
    if (rc)
        return rc;
    static const msh_field fields[] = {
        {(char *)"asset_id", MSH_FT_STRING},    {(char *)"fault", MSH_FT_STRING},
        {(char *)"assigned_crew", MSH_FT_STRING}, {(char *)"status", MSH_FT_STRING},
        {(char *)"opened_at", MSH_FT_STRING},   {(char *)"assigned_at", MSH_FT_STRING},
        {(char *)"done_at", MSH_FT_STRING},     {(char *)"note", MSH_FT_STRING},
        {(char *)"report", MSH_FT_STRING},
    };
    msh_layer_spec spec = {.name = MSH_WO_LAYER, .fields = fields, .nfields = sizeof fields / sizeof fields[0],
                           .minzoom = 0, .maxzoom = 18, .source = "mashaer serve (work orders)", .title = "Work orders"};
    /* no assets: no work order could name one */
    return msh_wf_ensure_layer(s, &spec, MSH_ASSETS_LAYER, "Point", created, err);
}

bool msh_wo_asset_id(const msh_layer_info *li, const msh_value *vals, const char **id, size_t *len,
                     msh_wf_refusal *ref)
{
    if (!msh_wf_has_text(li, vals, "asset_id"))
        return msh_wf_refuse(ref, "missing_value", "asset_id: required, the asset_id of an asset (see %s)",
                             MSH_ASSETS_LAYER);
    const msh_value *v = &vals[msh_wf_field(li, "asset_id")];
    *id = v->u.s;
    *len = v->len;
    return true;
}

bool msh_wo_active(const msh_layer_info *li, const msh_value *vals)
{
    int k = msh_wf_field(li, "status");
    return k >= 0 && (msh_wf_value_is(&vals[k], "open") || msh_wf_value_is(&vals[k], "assigned"));
}

/* The server's times: a client may only send them back as they are (or null); then kept, and set
 * now for the status the work order reaches. */
static bool set_times(const msh_layer_info *li, const msh_value *before, msh_value *after, const char *from,
                      const char *to, int64_t now_ms, msh_wo_plan *plan, msh_wf_refusal *ref)
{
    static const msh_value null_value;
    for (int i = 0; i < 3; i++) {
        int k = msh_wf_field(li, TIME_FIELDS[i]);
        if (k < 0)
            continue;
        const msh_value *was = before ? &before[k] : &null_value;
        if (after[k].type != 0 && !msh_wf_same_value(&after[k], was))
            return msh_wf_refuse(ref, "server_field", "%s: set by the server when the status becomes %s; send it "
                                                      "back unchanged or leave it out",
                                 TIME_FIELDS[i], TIME_STATUS[i]);
        after[k] = *was;
        if (!strcmp(to, TIME_STATUS[i]) && (!from || strcmp(from, to))) {
            msh_time_format_iso(now_ms, plan->times[i], sizeof plan->times[i], 3);
            after[k] = (msh_value){.type = MSH_FT_STRING, .len = (uint32_t)strlen(plan->times[i]),
                                   .u.s = plan->times[i]};
        }
    }
    return true;
}

bool msh_wo_check(const msh_layer_info *li, const msh_value *before, msh_value *after, const char *asset_status,
                  bool others_active, int64_t now_ms, msh_wo_plan *plan, msh_wf_refusal *ref)
{
    memset(plan, 0, sizeof *plan);
    memset(ref, 0, sizeof *ref);
    int ks = msh_wf_field(li, "status"), ka = msh_wf_field(li, "asset_id");
    if (ks < 0 || ka < 0)
        return msh_wf_refuse(ref, "invalid_layer", "%s: the layer lacks its status or asset_id field", li->name);
    const char *from = NULL, *to;
    if (before && !msh_wf_check_domain(li, before, "status", WO_STATUSES, false, &from, ref))
        return false; /* a stored status outside the table (an external edit): no transition from it */
    if (!before && after[ks].type == 0)
        after[ks] = (msh_value){.type = MSH_FT_STRING, .len = 4, .u.s = "open"};
    if (!msh_wf_check_domain(li, after, "status", WO_STATUSES, false, &to, ref))
        return false;
    if (!before) {
        if (strcmp(to, "open"))
            return msh_wf_refuse(ref, "invalid_value", "status: a new work order is open (it was '%s'); assign it "
                                                       "with a PATCH afterwards", to);
        if (!msh_wf_has_text(li, after, "fault"))
            return msh_wf_refuse(ref, "missing_value", "fault: required, what is wrong with the asset");
    } else if (!msh_wf_same_value(&before[ka], &after[ka])) {
        return msh_wf_refuse(ref, "invalid_value", "asset_id: a work order stays on its asset; open a new one");
    } else if (!msh_wf_check_step(WO_STEPS, sizeof WO_STEPS / sizeof WO_STEPS[0], from, to, ref)) {
        return false;
    }
    if (!strcmp(to, "assigned") && !msh_wf_has_text(li, after, "assigned_crew"))
        return msh_wf_refuse(ref, "missing_value", "assigned_crew: required to assign a work order");
    if (!strcmp(to, "cancelled") && (!from || strcmp(from, to)) && !msh_wf_has_text(li, after, "note"))
        return msh_wf_refuse(ref, "missing_value", "note: required to cancel a work order (why)");
    if (!set_times(li, before, after, from, to, now_ms, plan, ref))
        return false;
    bool opened = !before, finished = !strcmp(to, "done") && strcmp(from ? from : "", "done");
    if (opened && asset_status && !strcmp(asset_status, "working"))
        plan->asset_status = "faulty";
    else if (finished && !others_active && (!asset_status || strcmp(asset_status, "working")))
        plan->asset_status = "working";
    return true;
}
