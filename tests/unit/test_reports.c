/* test_reports.c: the reports' rules (layers/workflow/reports.c) and per-token budgets
 * (layers/workflow/report_limits.c), time stepped by hand: no clock, no server, no sleeps.
 *   - a create: status new, reporter, created, sla_due (the category's minutes), zone; a client's
 *     value for a server field, a category outside the list, 2,001 characters: refused;
 *   - the status table (409 with the allowed ones), a reason to reject, closed set once, the text kept,
 *     an escalation's link allowed once (from null) and never by a plain write;
 *   - --report-sla parsed over the defaults, bad items named;
 *   - the buckets: N reports, the next refused with the wait, one back after 60/N s; photo bytes by the
 *     hour, a photo over the whole budget never, a refund; two tokens apart. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "store_build.h"
#include "workflow/report_limits.h"
#include "workflow/reports.h"

#define T0 1779782400000LL /* 2026-05-26T08:00:00Z */

static msh_field F[] = {{(char *)"category", MSH_FT_STRING}, {(char *)"text", MSH_FT_STRING},
                        {(char *)"status", MSH_FT_STRING},   {(char *)"reporter", MSH_FT_STRING},
                        {(char *)"created", MSH_FT_STRING},  {(char *)"sla_due", MSH_FT_STRING},
                        {(char *)"zone", MSH_FT_STRING},     {(char *)"closed", MSH_FT_STRING},
                        {(char *)"incident", MSH_FT_STRING}, {(char *)"work_order", MSH_FT_STRING},
                        {(char *)"note", MSH_FT_STRING}};
static const msh_layer_info LI = {.name = (char *)"reports", .nfields = 11, .fields = F};
static const msh_value NUL = {0};
enum { CAT, TEXT, STATUS, REPORTER, CREATED, DUE, ZONE, CLOSED, INCIDENT, WORK_ORDER, NOTE };

static void test_create(void)
{
    msh_report_sla sla;
    msh_report_sla_defaults(&sla);
    msh_report_ctx ctx = {"phone-1", "MINA-04", T0, &sla, false};
    msh_report_plan plan;
    msh_wf_refusal ref;
    msh_value v[11] = {S("medical"), S("حاج مفقود"), NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL};
    CHECK(msh_report_check(&LI, NULL, v, &ctx, &plan, &ref));
    CHECK(msh_wf_value_is(&v[STATUS], "new") && msh_wf_value_is(&v[REPORTER], "phone-1"));
    CHECK(msh_wf_value_is(&v[CREATED], "2026-05-26T08:00:00.000Z"));
    CHECK(msh_wf_value_is(&v[DUE], "2026-05-26T08:15:00.000Z")); /* medical: 15 min */
    CHECK(msh_wf_value_is(&v[ZONE], "MINA-04") && v[CLOSED].type == 0);
    /* a server field from the client, another category, too long a text, a status other than new */
    static const struct { int field; const char *value; const char *word; } bad[] = {
        {REPORTER, "phone-2", "reporter"}, {ZONE, "MINA-01", "zone"}, {DUE, "2030-01-01T00:00:00Z", "sla_due"},
        {INCIDENT, "INC-1", "incident"},   {CAT, "fire", "category"}, {STATUS, "resolved", "status"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msh_value b[11] = {S("medical"), S("x"), NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL};
        b[bad[i].field] = S(bad[i].value);
        CHECK(!msh_report_check(&LI, NULL, b, &ctx, &plan, &ref) && strstr(ref.description, bad[i].word));
    }
    char text[2 * 2001 + 1];
    for (int i = 0; i < 2001; i++)
        memcpy(text + 2 * i, "\xd8\xac", 2); /* Arabic jeem: two bytes, one character */
    text[2 * 2001] = 0;
    msh_value t[11] = {S("other"), S(text), NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL};
    CHECK(!msh_report_check(&LI, NULL, t, &ctx, &plan, &ref) && strstr(ref.description, "2000"));
    text[2 * 2000] = 0;
    t[TEXT] = S(text);
    CHECK(msh_report_check(&LI, NULL, t, &ctx, &plan, &ref)); /* 2,000 characters, 4,000 bytes */
    ctx.zone = NULL;
    msh_value nz[11] = {S("facility_fault"), NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL, NUL};
    CHECK(msh_report_check(&LI, NULL, nz, &ctx, &plan, &ref) && nz[ZONE].type == 0);
    CHECK(msh_wf_value_is(&nz[DUE], "2026-05-26T12:00:00.000Z")); /* 240 min */
}

static void test_status(void)
{
    msh_report_sla sla;
    msh_report_sla_defaults(&sla);
    msh_report_ctx ctx = {"ops-1", NULL, T0 + 600000, &sla, false};
    msh_report_plan plan;
    msh_wf_refusal ref;
    const msh_value cur[11] = {S("crowding"), S("x"), S("new"), S("phone-1"), S("2026-05-26T08:00:00.000Z"),
                               S("2026-05-26T08:10:00.000Z"), S("MINA-04"), NUL, NUL, NUL, NUL};
    msh_value v[11];
    memcpy(v, cur, sizeof v);
    v[STATUS] = S("resolved");
    CHECK(!msh_report_check(&LI, cur, v, &ctx, &plan, &ref) && ref.kind == MSH_WF_CONFLICT);
    CHECK(!strcmp(ref.from, "new") && !strcmp(ref.allowed[0], "acknowledged") && !strcmp(ref.allowed[1], "rejected"));
    memcpy(v, cur, sizeof v);
    v[STATUS] = S("rejected");
    CHECK(!msh_report_check(&LI, cur, v, &ctx, &plan, &ref) && strstr(ref.description, "note"));
    v[NOTE] = S("duplicate");
    CHECK(msh_report_check(&LI, cur, v, &ctx, &plan, &ref));
    CHECK(msh_wf_value_is(&v[CLOSED], "2026-05-26T08:10:00.000Z") && msh_wf_value_is(&v[REPORTER], "phone-1"));
    /* PUT without the server's fields: kept */
    memcpy(v, cur, sizeof v);
    v[STATUS] = S("acknowledged");
    v[REPORTER] = v[CREATED] = v[DUE] = v[ZONE] = NUL;
    CHECK(msh_report_check(&LI, cur, v, &ctx, &plan, &ref));
    CHECK(msh_wf_value_is(&v[REPORTER], "phone-1") && msh_wf_value_is(&v[DUE], "2026-05-26T08:10:00.000Z"));
    /* the text stays; a category change moves the deadline from creation */
    memcpy(v, cur, sizeof v);
    v[TEXT] = S("y");
    CHECK(!msh_report_check(&LI, cur, v, &ctx, &plan, &ref));
    memcpy(v, cur, sizeof v);
    v[CAT] = S("cleanliness");
    CHECK(msh_report_check(&LI, cur, v, &ctx, &plan, &ref) && msh_wf_value_is(&v[DUE], "2026-05-26T09:00:00.000Z"));
    /* a link: only by an escalation, only from null */
    memcpy(v, cur, sizeof v);
    v[INCIDENT] = S("INC-REP-1");
    CHECK(!msh_report_check(&LI, cur, v, &ctx, &plan, &ref));
    ctx.link = true;
    CHECK(msh_report_check(&LI, cur, v, &ctx, &plan, &ref) && msh_wf_value_is(&v[INCIDENT], "INC-REP-1"));
    msh_value linked[11];
    memcpy(linked, cur, sizeof linked);
    linked[INCIDENT] = S("INC-REP-1");
    memcpy(v, linked, sizeof v);
    v[INCIDENT] = S("INC-REP-2");
    CHECK(!msh_report_check(&LI, linked, v, &ctx, &plan, &ref));
    /* final */
    msh_value done[11];
    memcpy(done, cur, sizeof done);
    done[STATUS] = S("resolved");
    memcpy(v, done, sizeof v);
    v[STATUS] = S("in_progress");
    CHECK(!msh_report_check(&LI, done, v, &ctx, &plan, &ref) && ref.kind == MSH_WF_CONFLICT && !ref.allowed[0]);
}

static void test_sla_parse(void)
{
    msh_report_sla sla;
    msh_report_sla_defaults(&sla);
    msh_err err;
    CHECK(!msh_report_sla_parse("medical=10,crowding=5", &sla, &err));
    CHECK(sla.minutes[2] == 10 && sla.minutes[1] == 5 && sla.minutes[0] == 60 && sla.minutes[4] == 240);
    static const char *bad[] = {"fire=5", "medical", "medical=", "medical=0", "medical=10x", "medical=10081", ",", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK(msh_report_sla_parse(bad[i], &sla, &err) == MSH_EINVAL && strstr(err.msg, "--report-sla"));
}

static void test_limits(void)
{
    msh_rlim_cfg cfg = {10, 1000};
    msh_rlim *l = msh_rlim_new(&cfg);
    int retry = 0;
    for (int i = 0; i < 10; i++)
        CHECK(msh_rlim_report(l, "a", T0, &retry));
    CHECK(!msh_rlim_report(l, "a", T0, &retry) && retry == 6); /* one back every 6 s */
    CHECK(msh_rlim_report(l, "b", T0, &retry));                /* another token: its own */
    CHECK(!msh_rlim_report(l, "a", T0 + 5999, &retry) && retry == 1);
    CHECK(msh_rlim_report(l, "a", T0 + 6000, &retry));
    CHECK(!msh_rlim_report(l, "a", T0 + 6000, &retry));
    /* photo bytes: 1000 an hour */
    CHECK(msh_rlim_photo(l, "a", 600, T0, &retry));
    CHECK(!msh_rlim_photo(l, "a", 600, T0, &retry) && retry == 720); /* 200 more: 0.2 h */
    msh_rlim_photo_refund(l, "a", 600);
    CHECK(msh_rlim_photo(l, "a", 600, T0, &retry));
    CHECK(!msh_rlim_photo(l, "a", 1001, T0 + 86400000, &retry) && retry == 3600); /* never */
    CHECK(msh_rlim_photo(l, "a", 1000, T0 + 3600000, &retry));
    msh_rlim_free(l);
    msh_rlim_cfg off = {0, 0};
    l = msh_rlim_new(&off);
    for (int i = 0; i < 1000; i++)
        CHECK(msh_rlim_report(l, "a", T0, &retry) && msh_rlim_photo(l, "a", 1 << 20, T0, &retry));
    msh_rlim_free(l);
}

int main(void)
{
    test_create();
    test_status();
    test_sla_parse();
    test_limits();
    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
