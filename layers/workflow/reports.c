/* reports.c: report categories, statuses, SLA and the server's fields (reports.h). */
#include "workflow/reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sql.h"
#include "workflow/wf_layer.h"

const char *const msh_report_categories[] = {"cleanliness", "crowding", "medical", "lost_person", "facility_fault",
                                             "other", NULL};
const char *const msh_report_statuses[] = {"new", "acknowledged", "in_progress", "resolved", "rejected", NULL};

static const msh_wf_step STEPS[] = {
    {"new", {"acknowledged", "rejected", NULL}},
    {"acknowledged", {"in_progress", "resolved", "rejected", NULL}},
    {"in_progress", {"resolved", "rejected", NULL}},
    {"resolved", {NULL}},
    {"rejected", {NULL}},
};

/* The fields only the server writes (a client sends them back unchanged or null). */
static const char *const SERVER_FIELDS[] = {"reporter", "created", "sla_due", "zone", "closed", "incident",
                                            "work_order", NULL};

void msh_report_sla_defaults(msh_report_sla *sla)
{
    static const int def[MSH_REPORT_NCAT] = {60, 10, 15, 15, 240, 120};
    memcpy(sla->minutes, def, sizeof def);
}

int msh_report_category(const char *s, size_t len)
{
    for (int i = 0; msh_report_categories[i]; i++)
        if (strlen(msh_report_categories[i]) == len && !memcmp(msh_report_categories[i], s, len))
            return i;
    return -1;
}

msh_rc msh_report_sla_parse(const char *spec, msh_report_sla *sla, msh_err *err)
{
    const char *p = spec;
    while (*p) {
        const char *end = p + strcspn(p, ","), *eq = memchr(p, '=', (size_t)(end - p));
        int cat = eq ? msh_report_category(p, (size_t)(eq - p)) : -1;
        char *num_end;
        long v = eq ? strtol(eq + 1, &num_end, 10) : 0;
        if (cat < 0 || num_end != end || eq + 1 == end || v < 1 || v > 10080)
            return msh_err_set(err, MSH_EINVAL, "--report-sla: '%.*s': use category=minutes (1 to 10080), the "
                                                "categories cleanliness, crowding, medical, lost_person, "
                                                "facility_fault, other", (int)(end - p > 60 ? 60 : end - p), p);
        sla->minutes[cat] = (int)v;
        p = *end ? end + 1 : end;
    }
    return MSH_OK;
}

bool msh_report_closed(const char *status)
{
    return status && (!strcmp(status, "resolved") || !strcmp(status, "rejected"));
}

msh_rc msh_reports_ensure_layer(msh_store *s, bool *created, msh_err *err)
{
    static const msh_field fields[] = {
        {(char *)"category", MSH_FT_STRING}, {(char *)"text", MSH_FT_STRING},     {(char *)"status", MSH_FT_STRING},
        {(char *)"reporter", MSH_FT_STRING}, {(char *)"created", MSH_FT_STRING},  {(char *)"sla_due", MSH_FT_STRING},
        {(char *)"zone", MSH_FT_STRING},     {(char *)"closed", MSH_FT_STRING},   {(char *)"incident", MSH_FT_STRING},
        {(char *)"work_order", MSH_FT_STRING}, {(char *)"note", MSH_FT_STRING},
    };
    msh_layer_spec spec = {.name = MSH_REPORTS_LAYER, .fields = fields, .nfields = sizeof fields / sizeof fields[0],
                           .minzoom = 0, .maxzoom = 18, .source = "mashaer serve (reports)", .title = "Reports"};
    return msh_wf_ensure_layer(s, &spec, NULL, "Point", created, err); /* a report needs no other layer */
}

static msh_value text_value(const char *s)
{
    return (msh_value){.type = MSH_FT_STRING, .len = (uint32_t)strlen(s), .u.s = s};
}

/* Characters (code points) of UTF-8 text: the bytes that do not continue a sequence. */
static size_t chars_of(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* The server's fields: a client may send them back as they are (or null); they are kept, then the
 * escalation may set a link. */
static bool keep_server_fields(const msh_layer_info *li, const msh_value *before, msh_value *after, bool link,
                               msh_wf_refusal *ref)
{
    static const msh_value null_value;
    for (int i = 0; SERVER_FIELDS[i]; i++) {
        int k = msh_wf_field(li, SERVER_FIELDS[i]);
        if (k < 0)
            continue;
        const msh_value *was = before ? &before[k] : &null_value;
        bool linkable = link && was->type == 0 && (!strcmp(SERVER_FIELDS[i], "incident") ||
                                                   !strcmp(SERVER_FIELDS[i], "work_order"));
        if (linkable)
            continue;
        if (after[k].type != 0 && !msh_wf_same_value(&after[k], was))
            return msh_wf_refuse(ref, "server_field", "%s: set by the server; send it back unchanged or leave it out",
                                 SERVER_FIELDS[i]);
        after[k] = *was;
    }
    return true;
}

/* A time field of `vals` as ms, or false. */
static bool time_of(const msh_layer_info *li, const msh_value *vals, const char *name, int64_t *ms)
{
    int k = msh_wf_field(li, name);
    msh_err err;
    return k >= 0 && vals[k].type == MSH_FT_STRING && !msh_time_parse_iso(vals[k].u.s, vals[k].len, ms, &err);
}

static void set_time(const msh_layer_info *li, msh_value *vals, const char *name, int64_t ms, char *buf)
{
    int k = msh_wf_field(li, name);
    if (k < 0)
        return;
    msh_time_format_iso(ms, buf, MSH_TIME_ISO_CAP, 3);
    vals[k] = text_value(buf);
}

bool msh_report_check(const msh_layer_info *li, const msh_value *before, msh_value *after, const msh_report_ctx *ctx,
                      msh_report_plan *plan, msh_wf_refusal *ref)
{
    memset(plan, 0, sizeof *plan);
    memset(ref, 0, sizeof *ref);
    int ks = msh_wf_field(li, "status"), kt = msh_wf_field(li, "text"), kc = msh_wf_field(li, "category");
    if (ks < 0 || kt < 0 || kc < 0)
        return msh_wf_refuse(ref, "invalid_layer", "%s: the layer lacks its status, text or category field", li->name);
    const char *from = NULL, *to, *cat;
    if (before && !msh_wf_check_domain(li, before, "status", msh_report_statuses, false, &from, ref))
        return false; /* a stored status outside the table (an external edit): no transition from it */
    if (!msh_wf_check_domain(li, after, "category", msh_report_categories, false, &cat, ref))
        return false;
    const msh_value *text = &after[kt];
    if (text->type != 0 && text->type != MSH_FT_STRING)
        return msh_wf_refuse(ref, "invalid_value", "text: a string");
    if (text->type && chars_of(text->u.s, text->len) > MSH_REPORT_TEXT_MAX)
        return msh_wf_refuse(ref, "invalid_value", "text: at most %d characters (it has %zu)", MSH_REPORT_TEXT_MAX,
                             chars_of(text->u.s, text->len));
    if (before && !msh_wf_same_value(&before[kt], text))
        return msh_wf_refuse(ref, "invalid_value", "text: the reporter's words do not change; write in note");
    if (!before && after[ks].type == 0)
        after[ks] = text_value("new");
    if (!msh_wf_check_domain(li, after, "status", msh_report_statuses, false, &to, ref))
        return false;
    if (!before && strcmp(to, "new"))
        return msh_wf_refuse(ref, "invalid_value", "status: a new report is new (it was '%s'); the operators move "
                                                   "it on", to);
    if (before && !msh_wf_check_step(STEPS, sizeof STEPS / sizeof STEPS[0], from, to, ref))
        return false;
    int kn = msh_wf_field(li, "note");
    if (!strcmp(to, "rejected") && (!from || strcmp(from, to)) &&
        (kn < 0 || after[kn].type != MSH_FT_STRING || !after[kn].len))
        return msh_wf_refuse(ref, "missing_value", "note: required to reject a report (why)");
    if (!keep_server_fields(li, before, after, ctx->link, ref))
        return false;
    int64_t created = ctx->now_ms;
    if (!before) {
        snprintf(plan->who, sizeof plan->who, "%s", ctx->who ? ctx->who : "");
        int kr = msh_wf_field(li, "reporter"), kz = msh_wf_field(li, "zone");
        if (kr >= 0)
            after[kr] = text_value(plan->who);
        if (kz >= 0 && ctx->zone) {
            snprintf(plan->zone, sizeof plan->zone, "%s", ctx->zone);
            after[kz] = text_value(plan->zone);
        }
        set_time(li, after, "created", created, plan->created);
    } else if (!time_of(li, before, "created", &created)) {
        created = ctx->now_ms; /* an external edit lost it: count from now */
    }
    int ci = msh_report_category(cat, strlen(cat));
    if (!before || !msh_wf_same_value(&before[kc], &after[kc]))
        set_time(li, after, "sla_due", created + (int64_t)ctx->sla->minutes[ci] * 60000, plan->sla_due);
    if (msh_report_closed(to) && !msh_report_closed(from))
        set_time(li, after, "closed", ctx->now_ms, plan->closed);
    return true;
}
