/* test_workflow.c: the workflow rules (layers/workflow/): asset status values, the work order
 * transitions, the server's fields, the coupling with the asset; the work_orders layer made once;
 * a work order and its asset change written in one transaction (msh_edit_apply_n: both or none). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "store_build.h"
#include "edit.h"
#include "store_sql.h"
#include "workflow/cleaning_tasks.h"
#include "workflow/wf_layer.h"
#include "workflow/wf_rules.h"
#include "workflow/work_orders.h"

#define T0 1779782400000LL /* 2026-05-26T08:00:00Z */

static msh_field WO_F[] = {{(char *)"asset_id", MSH_FT_STRING}, {(char *)"fault", MSH_FT_STRING},
                           {(char *)"assigned_crew", MSH_FT_STRING}, {(char *)"status", MSH_FT_STRING},
                           {(char *)"opened_at", MSH_FT_STRING}, {(char *)"assigned_at", MSH_FT_STRING},
                           {(char *)"done_at", MSH_FT_STRING}, {(char *)"note", MSH_FT_STRING}};
static const msh_layer_info WO = {.name = (char *)"work_orders", .nfields = 8, .fields = WO_F};
static const msh_value NUL = {0};

static bool text_is(const msh_value *v, const char *s)
{
    return msh_wf_value_is(v, s);
}

static void test_assets(void)
{
    msh_field f[2] = {{(char *)"kind", MSH_FT_STRING}, {(char *)"status", MSH_FT_STRING}};
    msh_layer_info li = {.name = (char *)"assets", .nfields = 2, .fields = f};
    msh_wf_refusal ref;
    CHECK(msh_asset_check(&li, (msh_value[]){S("water_point"), S("faulty")}, &ref));
    CHECK(msh_asset_check(&li, (msh_value[]){S("water_point"), NUL}, &ref)); /* unknown: null */
    CHECK(!msh_asset_check(&li, (msh_value[]){S("water_point"), S("Working")}, &ref));
    CHECK(ref.kind == MSH_WF_INVALID && !strcmp(ref.code, "invalid_value"));
    CHECK(strstr(ref.description, "'Working'") && strstr(ref.description, "working, faulty or maintenance"));
    CHECK(ref.allowed && !strcmp(ref.allowed[2], "maintenance") && !ref.allowed[3]);
    CHECK(!msh_asset_check(&li, (msh_value[]){S("water_point"), I(1)}, &ref));
}

static void test_transitions(void)
{
    msh_wo_plan plan;
    msh_wf_refusal ref;
    /* create: status open, opened_at set, a working asset becomes faulty */
    msh_value v[8] = {S("A-1"), S("leak"), NUL, NUL, NUL, NUL, NUL, NUL};
    CHECK(msh_wo_check(&WO, NULL, v, "working", false, T0, &plan, &ref));
    CHECK(text_is(&v[3], "open") && text_is(&v[4], "2026-05-26T08:00:00.000Z") && v[5].type == 0);
    CHECK(plan.asset_status && !strcmp(plan.asset_status, "faulty"));
    /* on an asset already in maintenance: left alone */
    msh_value m[8] = {S("A-1"), S("leak"), NUL, NUL, NUL, NUL, NUL, NUL};
    CHECK(msh_wo_check(&WO, NULL, m, "maintenance", false, T0, &plan, &ref) && !plan.asset_status);
    /* a client's opened_at on a create: 400 */
    msh_value c[8] = {S("A-1"), S("leak"), NUL, NUL, S("2020-01-01T00:00:00Z"), NUL, NUL, NUL};
    CHECK(!msh_wo_check(&WO, NULL, c, "working", false, T0, &plan, &ref) && ref.kind == MSH_WF_INVALID);
    CHECK(strstr(ref.description, "opened_at") != NULL);
    const msh_value open[8] = {S("A-1"), S("leak"), NUL, S("open"), S("2026-05-26T08:00:00.000Z"), NUL, NUL, NUL};
    /* open -> done: 409 with the allowed ones */
    msh_value d[8];
    memcpy(d, open, sizeof d);
    d[3] = S("done");
    CHECK(!msh_wo_check(&WO, open, d, "faulty", false, T0 + 1000, &plan, &ref));
    CHECK(ref.kind == MSH_WF_CONFLICT && !strcmp(ref.code, "invalid_transition") && !strcmp(ref.from, "open") &&
          !strcmp(ref.to, "done") && !strcmp(ref.allowed[0], "assigned") && !strcmp(ref.allowed[1], "cancelled") &&
          !ref.allowed[2]);
    /* open -> assigned needs a crew, then sets assigned_at and keeps opened_at */
    msh_value a[8];
    memcpy(a, open, sizeof a);
    a[3] = S("assigned");
    CHECK(!msh_wo_check(&WO, open, a, "faulty", false, T0 + 1000, &plan, &ref) && !strcmp(ref.code, "missing_value"));
    a[2] = S("CREW-1");
    a[4] = NUL; /* a merge patch may drop it: the server keeps its value */
    CHECK(msh_wo_check(&WO, open, a, "faulty", false, T0 + 1000, &plan, &ref));
    CHECK(text_is(&a[4], "2026-05-26T08:00:00.000Z") && text_is(&a[5], "2026-05-26T08:00:01.000Z"));
    CHECK(!plan.asset_status);
    /* assigned -> done: the asset works again, unless another order on it is still active */
    const msh_value asg[8] = {S("A-1"), S("leak"), S("CREW-1"), S("assigned"), S("2026-05-26T08:00:00.000Z"),
                              S("2026-05-26T08:00:01.000Z"), NUL, NUL};
    memcpy(d, asg, sizeof d);
    d[3] = S("done");
    CHECK(msh_wo_check(&WO, asg, d, "faulty", false, T0 + 2000, &plan, &ref));
    CHECK(plan.asset_status && !strcmp(plan.asset_status, "working") && text_is(&d[6], "2026-05-26T08:00:02.000Z"));
    memcpy(d, asg, sizeof d);
    d[3] = S("done");
    CHECK(msh_wo_check(&WO, asg, d, "faulty", true, T0 + 2000, &plan, &ref) && !plan.asset_status);
    /* cancelled needs a note; the asset may not move to another work order; done is final */
    msh_value x[8];
    memcpy(x, asg, sizeof x);
    x[3] = S("cancelled");
    CHECK(!msh_wo_check(&WO, asg, x, "faulty", false, T0, &plan, &ref) && strstr(ref.description, "note"));
    x[7] = S("duplicate");
    CHECK(msh_wo_check(&WO, asg, x, "faulty", false, T0, &plan, &ref) && !plan.asset_status);
    memcpy(x, asg, sizeof x);
    x[0] = S("A-2");
    CHECK(!msh_wo_check(&WO, asg, x, "faulty", false, T0, &plan, &ref) && strstr(ref.description, "asset_id"));
    const msh_value done[8] = {S("A-1"), S("leak"), S("CREW-1"), S("done"), S("t0"), S("t1"), S("t2"), NUL};
    memcpy(x, done, sizeof x);
    x[3] = S("open");
    CHECK(!msh_wo_check(&WO, done, x, "working", false, T0, &plan, &ref) && ref.kind == MSH_WF_CONFLICT &&
          !ref.allowed[0]);
    x[3] = S("closed");
    CHECK(!msh_wo_check(&WO, done, x, "working", false, T0, &plan, &ref) && ref.kind == MSH_WF_INVALID &&
          strstr(ref.description, "'closed'"));
}

static long count(msh_store *s, const char *sql)
{
    int64_t n = -1;
    return msh_sql_one_int(s, sql, NULL, &n) ? (long)n : -1;
}

/* A room's own connection (store_sql.h): its tables made, or nothing left open and the room named. */
static void test_store_own(const char *db)
{
    msh_store *own = NULL;
    msh_err err;
    CHECK(msh_store_open_own(db, "test tables", "CREATE TABLE msh_test_own (n INTEGER); INSERT INTO msh_test_own"
                             " VALUES (41)", 1000, &own, &err) == MSH_OK && own);
    int64_t n = 0, one = 1;
    CHECK(msh_sql_one_int(own, "SELECT n + ? FROM msh_test_own", &one, &n) && n == 42);
    n = 7;
    CHECK(!msh_sql_one_int(own, "SELECT n FROM msh_test_own WHERE n > 100", NULL, &n) && n == 7); /* no row */
    CHECK(!msh_sql_one_int(own, "SELECT nothing FROM nowhere", NULL, &n) && n == 7);
    msh_store_close(own);
    CHECK(msh_store_open_own(db, "test tables", "CREATE TABLE msh_test_own (n INTEGER)", 0, &own, &err) == MSH_EIO &&
          !own && !strncmp(err.msg, "test tables: ", 13) && strstr(err.msg, "already exists"));
}

static void test_store(const char *tmp)
{
    char db[1024];
    snprintf(db, sizeof db, "%s/test_workflow.sqlite", tmp);
    unlink(db);
    msh_store *s;
    msh_err err;
    CHECK(msh_store_open(db, true, &s, &err) == MSH_OK);
    test_store_own(db);
    CHECK(msh_edit_prepare(s, &err) == MSH_OK);
    bool created = true;
    CHECK(msh_wo_ensure_layer(s, &created, &err) == MSH_OK && !created); /* no assets: no work orders */
    msh_field af[2] = {{(char *)"asset_id", MSH_FT_STRING}, {(char *)"status", MSH_FT_STRING}};
    msh_store_writer *w = begin(s, "assets", af, 2);
    wkb g;
    wkb_point(&g, 39.89, 21.40);
    add(w, &g, (msh_value[]){S("A-1"), S("working")});
    commit(w);
    CHECK(msh_wo_ensure_layer(s, &created, &err) == MSH_OK && created);
    CHECK(msh_wo_ensure_layer(s, &created, &err) == MSH_OK && !created); /* once */
    CHECK(count(s, "SELECT count(*) FROM msh_layers WHERE name = 'work_orders' AND geometry_type = 'Point' AND"
                   " feature_count = 0") == 1);
    CHECK(count(s, "SELECT count(*) FROM msh_audit WHERE collection = 'work_orders' AND op = 'import'") == 1);
    /* both or none: the second write fails (no asset 99), the first is rolled back with it */
    msh_layer_info *infos;
    size_t n;
    CHECK(msh_store_list(s, &infos, &n, &err) == MSH_OK);
    const msh_layer_info *ai = NULL, *wi = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(infos[i].name, "assets"))
            ai = &infos[i];
        if (!strcmp(infos[i].name, "work_orders"))
            wi = &infos[i];
    }
    CHECK(ai && wi);
    if (!ai || !wi)
        return;
    long audit0 = count(s, "SELECT count(*) FROM msh_audit");
    wkb_point(&g, 39.89, 21.40);
    CHECK(wi->nfields == 9 && !strcmp(wi->fields[8].name, "report")); /* the report an escalation made it from */
    msh_value wv[9] = {S("A-1"), S("leak"), NUL, S("open"), S("t"), NUL, NUL, NUL, NUL};
    msh_value av[2] = {S("A-1"), S("faulty")};
    msh_edit_op ops[2] = {{MSH_EDIT_CREATE, wi, 0, wv, g.b, g.n, "ops-a", "ops", T0, NULL},
                          {MSH_EDIT_UPDATE, ai, 99, av, NULL, 0, "ops-a", "ops", T0, NULL}};
    msh_edit_result res[2];
    CHECK(msh_edit_apply_n(s, ops, 2, res, &err) == MSH_ENOTFOUND);
    CHECK(count(s, "SELECT count(*) FROM work_orders") == 0);
    CHECK(count(s, "SELECT count(*) FROM msh_audit") == audit0);
    ops[1].fid = 1;
    CHECK(msh_edit_apply_n(s, ops, 2, res, &err) == MSH_OK);
    CHECK(count(s, "SELECT count(*) FROM work_orders") == 1);
    CHECK(count(s, "SELECT count(*) FROM assets WHERE status = 'faulty'") == 1);
    CHECK(count(s, "SELECT count(*) FROM msh_audit") == audit0 + 2);
    CHECK(res[1].seq == res[0].seq + 1 && res[1].version > res[0].version);
    msh_store_infos_free(infos, n);
    /* a store made before reports: work_orders without `report` gets it, rows kept */
    CHECK(msh_store_exec(s, "ALTER TABLE work_orders DROP COLUMN report; UPDATE msh_layers SET fields ="
                            " json_remove(fields, '$[8]') WHERE name = 'work_orders'") == MSH_OK);
    CHECK(count(s, "SELECT count(*) FROM msh_layers WHERE name = 'work_orders' AND fields LIKE '%report%'") == 0);
    CHECK(msh_wo_ensure_layer(s, &created, &err) == MSH_OK && !created);
    CHECK(count(s, "SELECT count(*) FROM msh_layers WHERE name = 'work_orders' AND"
                   " json_extract(fields, '$[8].name') = 'report'") == 1);
    CHECK(count(s, "SELECT count(*) FROM work_orders WHERE report IS NULL") == 1);
    CHECK(msh_wo_ensure_layer(s, &created, &err) == MSH_OK); /* once */
    CHECK(count(s, "SELECT count(*) FROM pragma_table_info('work_orders') WHERE name = 'report'") == 1);
    /* the one field-adding helper: only the missing ones, in the table and the registry, rows kept */
    static const char *const more[] = {"status", "owner", "note", NULL};
    int added = -1;
    CHECK(msh_wf_ensure_fields(s, "assets", more, &added, &err) == MSH_OK && added == 2);
    CHECK(count(s, "SELECT count(*) FROM msh_layers WHERE name = 'assets' AND json_array_length(fields) = 4 AND"
                   " json_extract(fields, '$[2].name') = 'owner' AND json_extract(fields, '$[3].name') = 'note'") == 1);
    CHECK(count(s, "SELECT count(*) FROM assets WHERE status = 'faulty' AND owner IS NULL AND note IS NULL") == 1);
    CHECK(msh_wf_ensure_fields(s, "assets", more, &added, &err) == MSH_OK && added == 0); /* once */
    CHECK(msh_wf_ensure_fields(s, "no_such_layer", more, &added, &err) == MSH_OK && added == 0);
    msh_store_close(s);
}

/* Cleaning tasks: what a create needs, the server's progress, the transitions, the route kept. */
static void test_cleaning_tasks(void)
{
    msh_field f[8] = {{(char *)"route", MSH_FT_INT},         {(char *)"crew", MSH_FT_STRING},
                      {(char *)"shift_start", MSH_FT_STRING}, {(char *)"shift_end", MSH_FT_STRING},
                      {(char *)"due", MSH_FT_STRING},         {(char *)"status", MSH_FT_STRING},
                      {(char *)"progress", MSH_FT_INT},       {(char *)"note", MSH_FT_STRING}};
    msh_layer_info li = {.name = (char *)"cleaning_tasks", .nfields = 8, .fields = f};
    msh_wf_refusal ref;
    int64_t route;
    const char *due = "2026-05-26T12:00:00Z";
    /* a create: open and progress 0 set by the server */
    msh_value a[8] = {I(3), S("CL-1"), NUL, NUL, S(due), NUL, NUL, NUL};
    CHECK(msh_ct_check(&li, NULL, a, false, &route, &ref) && route == 3);
    CHECK(text_is(&a[5], "open") && a[6].type == MSH_FT_INT && a[6].u.i == 0);
    /* an area task needs its polygon; progress is not the client's; neither is a done create */
    msh_value b[8] = {NUL, S("CL-1"), NUL, NUL, S(due), NUL, NUL, NUL};
    CHECK(!msh_ct_check(&li, NULL, b, false, &route, &ref) && !strcmp(ref.code, "missing_value"));
    CHECK(msh_ct_check(&li, NULL, b, true, &route, &ref) && route == 0);
    msh_value c[8] = {I(3), S("CL-1"), NUL, NUL, S(due), NUL, I(40), NUL};
    CHECK(!msh_ct_check(&li, NULL, c, false, &route, &ref) && !strcmp(ref.code, "server_field"));
    msh_value d[8] = {I(3), S("CL-1"), S("2026-05-26T10:00:00Z"), S("2026-05-26T09:00:00Z"), S(due), NUL, NUL, NUL};
    CHECK(!msh_ct_check(&li, NULL, d, false, &route, &ref) && strstr(ref.description, "shift_end"));
    /* transitions from the stored task (a[]): open -> done refused, open -> in_progress with progress
     * sent back unchanged, the route kept */
    msh_value e[8];
    memcpy(e, a, sizeof e);
    e[5] = S("done");
    CHECK(!msh_ct_check(&li, a, e, false, &route, &ref) && ref.kind == MSH_WF_CONFLICT);
    CHECK(!strcmp(ref.from, "open") && !strcmp(ref.to, "done") && !strcmp(ref.allowed[0], "in_progress"));
    e[5] = S("in_progress");
    CHECK(msh_ct_check(&li, a, e, false, &route, &ref));
    e[0] = I(4);
    CHECK(!msh_ct_check(&li, a, e, false, &route, &ref) && strstr(ref.description, "route"));
    /* the stored values as the matching reads them */
    msh_ct_task t;
    msh_ct_read(&li, a, &t);
    CHECK(t.route == 3 && t.crew_len == 4 && !memcmp(t.crew, "CL-1", 4) && t.status == 0 && t.progress == 0);
    CHECK(t.due == 1779796800000LL && !t.shift_start && msh_ct_active_status(t.status));
}

int main(int argc, char **argv)
{
    test_assets();
    test_cleaning_tasks();
    test_transitions();
    test_store(argc > 1 ? argv[1] : "/tmp");
    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
