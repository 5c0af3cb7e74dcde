/* cleaning_tasks.c: cleaning task values, transitions and the layer (cleaning_tasks.h). */
#include "workflow/cleaning_tasks.h"

#include <string.h>

#include "core/msh_time.h"
#include "workflow/wf_layer.h"

const char *const msh_ct_statuses[] = {"open", "in_progress", "done", "cancelled", NULL};

enum { ST_OPEN, ST_IN_PROGRESS, ST_DONE, ST_CANCELLED };

static const msh_wf_step CT_STEPS[] = {
    {"open", {"in_progress", "cancelled", NULL}},
    {"in_progress", {"done", "cancelled", NULL}},
    {"done", {NULL}},
    {"cancelled", {NULL}},
};

static const char *const TIME_FIELDS[] = {"shift_start", "shift_end", "due"};

msh_rc msh_ct_ensure_layer(msh_store *s, bool *created, msh_err *err)
{
    static const msh_field fields[] = {
        {(char *)"route", MSH_FT_INT},          {(char *)"crew", MSH_FT_STRING},
        {(char *)"shift_start", MSH_FT_STRING}, {(char *)"shift_end", MSH_FT_STRING},
        {(char *)"due", MSH_FT_STRING},         {(char *)"status", MSH_FT_STRING},
        {(char *)"progress", MSH_FT_INT},       {(char *)"note", MSH_FT_STRING},
    };
    msh_layer_spec spec = {.name = MSH_CT_LAYER,
                           .fields = fields,
                           .nfields = sizeof fields / sizeof fields[0],
                           .minzoom = 0,
                           .maxzoom = 18,
                           .source = "mashaer serve (cleaning tasks)",
                           .title = "Cleaning tasks"};
    /* no routes: nothing to sweep, so no task could make progress */
    return msh_wf_ensure_layer(s, &spec, MSH_CT_ROUTES_LAYER, "Polygon", created, err);
}

/* A text value as an instant; 0 when null or not one. */
static int64_t time_of(const msh_value *v)
{
    int64_t ms = 0;
    msh_err e;
    if (v->type != MSH_FT_STRING || msh_time_parse_iso(v->u.s, v->len, &ms, &e))
        return 0;
    return ms;
}

static int status_of(const msh_value *v)
{
    for (int i = 0; msh_ct_statuses[i]; i++)
        if (msh_wf_value_is(v, msh_ct_statuses[i]))
            return i;
    return -1;
}

void msh_ct_read(const msh_layer_info *li, const msh_value *vals, msh_ct_task *out)
{
    memset(out, 0, sizeof *out);
    out->status = -1;
    out->progress = -1;
    int k;
    if ((k = msh_wf_field(li, "route")) >= 0 && vals[k].type == MSH_FT_INT)
        out->route = vals[k].u.i;
    if ((k = msh_wf_field(li, "crew")) >= 0 && vals[k].type == MSH_FT_STRING && vals[k].len) {
        out->crew = vals[k].u.s;
        out->crew_len = vals[k].len;
    }
    if ((k = msh_wf_field(li, "shift_start")) >= 0)
        out->shift_start = time_of(&vals[k]);
    if ((k = msh_wf_field(li, "shift_end")) >= 0)
        out->shift_end = time_of(&vals[k]);
    if ((k = msh_wf_field(li, "due")) >= 0)
        out->due = time_of(&vals[k]);
    if ((k = msh_wf_field(li, "status")) >= 0)
        out->status = status_of(&vals[k]);
    if ((k = msh_wf_field(li, "progress")) >= 0 && vals[k].type == MSH_FT_INT)
        out->progress = vals[k].u.i;
}

bool msh_ct_active_status(int status)
{
    return status == ST_OPEN || status == ST_IN_PROGRESS;
}

bool msh_ct_finished_status(int status)
{
    return status == ST_DONE || status == ST_CANCELLED;
}

/* The times must be ISO 8601 (or null, but for `due`), and a shift must end after it starts. */
static bool check_times(const msh_layer_info *li, const msh_value *after, msh_wf_refusal *ref)
{
    int64_t t[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        int k = msh_wf_field(li, TIME_FIELDS[i]);
        if (k < 0 || after[k].type == 0)
            continue;
        msh_err e;
        if (after[k].type != MSH_FT_STRING || msh_time_parse_iso(after[k].u.s, after[k].len, &t[i], &e))
            return msh_wf_refuse(ref, "invalid_value", "%s: an ISO 8601 date and time such as "
                                                       "2026-05-26T08:00:00Z",
                                 TIME_FIELDS[i]);
    }
    if (!msh_wf_has_text(li, after, "due"))
        return msh_wf_refuse(ref, "missing_value", "due: required, when the task must be done (ISO 8601)");
    int ks = msh_wf_field(li, "shift_start"), ke = msh_wf_field(li, "shift_end");
    if ((after[ks].type == 0) != (after[ke].type == 0))
        return msh_wf_refuse(ref, "missing_value", "shift_start, shift_end: give both or neither");
    if (after[ks].type && t[1] <= t[0])
        return msh_wf_refuse(ref, "invalid_value", "shift_end: must be after shift_start");
    return true;
}

bool msh_ct_check(const msh_layer_info *li, const msh_value *before, msh_value *after, bool has_geometry,
                  int64_t *route, msh_wf_refusal *ref)
{
    memset(ref, 0, sizeof *ref);
    *route = 0;
    int ks = msh_wf_field(li, "status"), kp = msh_wf_field(li, "progress"), kr = msh_wf_field(li, "route");
    if (ks < 0 || kp < 0 || kr < 0 || msh_wf_field(li, "shift_start") < 0 || msh_wf_field(li, "shift_end") < 0)
        return msh_wf_refuse(ref, "invalid_layer", "%s: the layer lacks its status, progress, route or shift fields",
                             li->name);
    const char *from = NULL, *to;
    if (before && !msh_wf_check_domain(li, before, "status", msh_ct_statuses, false, &from, ref))
        return false; /* a stored status outside the table (an external edit): no transition from it */
    if (!before && after[ks].type == 0)
        after[ks] = (msh_value){.type = MSH_FT_STRING, .len = 4, .u.s = "open"};
    if (!msh_wf_check_domain(li, after, "status", msh_ct_statuses, false, &to, ref))
        return false;
    /* progress is the server's: sent back unchanged or left out, never set */
    static const msh_value zero = {.type = MSH_FT_INT, .u.i = 0};
    const msh_value *was = before ? &before[kp] : &zero;
    if (after[kp].type != 0 && !msh_wf_same_value(&after[kp], was))
        return msh_wf_refuse(ref, "server_field", "progress: computed by the server from the crew's sweeps (0-100); "
                                                  "send it back unchanged or leave it out");
    after[kp] = *was;
    if (after[kr].type != 0 && (after[kr].type != MSH_FT_INT || after[kr].u.i <= 0))
        return msh_wf_refuse(ref, "invalid_value", "route: the id of a feature of %s", MSH_CT_ROUTES_LAYER);
    if (!before) {
        if (strcmp(to, "open"))
            return msh_wf_refuse(ref, "invalid_value", "status: a new task is open (it was '%s'); start it with a "
                                                       "PATCH afterwards", to);
        if (after[kr].type == 0 && !has_geometry)
            return msh_wf_refuse(ref, "missing_value", "route or geometry: a task sweeps a route of %s (its id in "
                                                       "`route`) or an area (a Polygon geometry)",
                                 MSH_CT_ROUTES_LAYER);
    } else if (!msh_wf_same_value(&before[kr], &after[kr])) {
        return msh_wf_refuse(ref, "invalid_value", "route: a task stays on its route; open a new task");
    } else if (!msh_wf_check_step(CT_STEPS, sizeof CT_STEPS / sizeof CT_STEPS[0], from, to, ref)) {
        return false;
    }
    if (!msh_wf_has_text(li, after, "crew"))
        return msh_wf_refuse(ref, "missing_value", "crew: required, the id of the cleaning crew (as in the crews feed)");
    if (!check_times(li, after, ref))
        return false;
    if (!strcmp(to, "cancelled") && (!from || strcmp(from, to)) && !msh_wf_has_text(li, after, "note"))
        return msh_wf_refuse(ref, "missing_value", "note: required to cancel a task (why)");
    *route = after[kr].type == MSH_FT_INT ? after[kr].u.i : 0;
    return true;
}
