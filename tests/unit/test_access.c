/* test_access.c: the edit access rules (server/http/access.h): the defaults grant what README
 * says, data/access.json holds the same rules, role inheritance, and bad files name the fault. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http/access.h"

enum { ALL = MSH_ACC_CREATE | MSH_ACC_REPLACE | MSH_ACC_UPDATE | MSH_ACC_DELETE };

static void bad(const char *text, const char *says)
{
    msh_access *a = NULL;
    msh_err err;
    CHECK(msh_access_parse(text, strlen(text), &a, &err) == MSH_EINVAL && !a);
    CHECK(strstr(err.msg, says) != NULL);
    if (!strstr(err.msg, says))
        fprintf(stderr, "  got: %s\n", err.msg);
}

int main(void)
{
    msh_access *d = NULL, *f = NULL;
    msh_err err;
    CHECK(msh_access_parse(MSH_ACCESS_DEFAULTS, strlen(MSH_ACCESS_DEFAULTS), &d, &err) == MSH_OK);
    bool opt = true;
    CHECK(msh_access_ops(d, "assets", MSH_ROLE_OPS, &opt) == ALL && !opt);
    CHECK(msh_access_ops(d, "work_orders", MSH_ROLE_OPS, NULL) == ALL);
    CHECK(msh_access_ops(d, "camps", MSH_ROLE_OPS, NULL) == 0);
    CHECK(msh_access_ops(d, "camps", MSH_ROLE_ADMIN, &opt) == ALL && opt);
    CHECK(msh_access_ops(d, "reports", MSH_ROLE_REPORTER, &opt) == MSH_ACC_CREATE && !opt);
    CHECK(msh_access_ops(d, "assets", MSH_ROLE_REPORTER, NULL) == 0);
    CHECK(msh_access_ops(d, "reports", MSH_ROLE_FEED, NULL) == 0); /* feed tokens: feeds only */
    CHECK(msh_access_ops(d, "assets", MSH_ROLE_FEED, NULL) == 0);
    CHECK(msh_access_ops(d, "assets", MSH_ROLE_NONE, NULL) == 0);
    /* data/access.json documents the defaults: the same answers */
    FILE *fp = fopen(MSH_SOURCE_DIR "/data/access.json", "rb");
    CHECK(fp != NULL);
    if (fp)
        fclose(fp);
    CHECK(msh_access_load(MSH_SOURCE_DIR "/data/access.json", &f, &err) == MSH_OK);
    static const char *const colls[] = {"assets", "incidents", "work_orders", "gates", "reports", "camps", "sites"};
    for (size_t c = 0; f && c < sizeof colls / sizeof colls[0]; c++)
        for (int r = MSH_ROLE_NONE; r <= MSH_ROLE_ADMIN; r++) {
            bool o1, o2;
            CHECK(msh_access_ops(d, colls[c], (msh_role)r, &o1) == msh_access_ops(f, colls[c], (msh_role)r, &o2) &&
                  o1 == o2);
        }
    /* a rule for feed is feed's alone; ops rules reach admin */
    const char *t = "{\"rules\":[{\"role\":\"feed\",\"collections\":[\"x\"],\"may\":[\"update\"]},"
                    "{\"role\":\"ops\",\"collections\":[\"y\"],\"may\":[\"delete\"]}]}";
    msh_access *a = NULL;
    CHECK(msh_access_parse(t, strlen(t), &a, &err) == MSH_OK);
    CHECK(msh_access_ops(a, "x", MSH_ROLE_FEED, NULL) == MSH_ACC_UPDATE);
    CHECK(msh_access_ops(a, "x", MSH_ROLE_OPS, NULL) == MSH_ACC_UPDATE); /* ops and admin above it */
    CHECK(msh_access_ops(a, "x", MSH_ROLE_REPORTER, NULL) == 0);
    CHECK(msh_access_ops(a, "y", MSH_ROLE_ADMIN, NULL) == MSH_ACC_DELETE);
    CHECK(msh_access_ops(a, "y", MSH_ROLE_FEED, NULL) == 0);
    msh_access_free(a);
    bad("{\"rules\":[{\"role\":\"god\",\"collections\":[\"x\"],\"may\":[]}]}", "role must be");
    bad("{\"rules\":[{\"role\":\"ops\",\"collections\":[\"x\"],\"may\":[\"fly\"]}]}", "rules[0].may[0]");
    bad("{\"rules\":[{\"role\":\"ops\",\"collections\":[],\"may\":[]}]}", "collections must be");
    bad("{\"rules\":[{\"role\":\"ops\",\"collections\":[\"x\"],\"may\":[],\"colour\":1}]}", "unknown key 'colour'");
    bad("{\"rules\":[{\"role\":\"ops\",\"collections\":[\"x\"],\"may\":[],\"if_match\":\"maybe\"}]}", "if_match");
    bad("{\"rules\":[],\"extra\":1}", "expected {\"rules\"");
    bad("{\"rules\":[] ", "not valid JSON");
    bad("[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]", "nested deeper");
    CHECK(msh_access_load("/nonexistent/access.json", &a, &err) == MSH_EIO && strstr(err.msg, "--access"));
    msh_access_free(d);
    msh_access_free(f);
    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
