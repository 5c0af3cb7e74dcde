/* fuzz_access.c: the access rules reader (server/http/access.h) never crashes; a refusal says
 * why; accepted rules grant only the four operations, nothing to a caller without a token, and
 * admin at least what ops has; an id field ("ids") is a name, "id" for the Feature's member. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/access.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msh_access *a = NULL;
    msh_err err;
    if (msh_access_parse((const char *)data, size, &a, &err)) {
        if (a || !err.msg[0])
            abort();
        return 0;
    }
    static const char *const colls[] = {"assets", "reports", "*", "x", ""};
    for (size_t c = 0; c < sizeof colls / sizeof colls[0]; c++) {
        for (int role = MSH_ROLE_NONE; role <= MSH_ROLE_ADMIN; role++) {
            bool opt = true;
            unsigned ops = msh_access_ops(a, colls[c], (msh_role)role, &opt);
            if (ops & ~15u)
                abort();
            if (role == MSH_ROLE_NONE && (ops || opt))
                abort();
            /* what a role gets on a collection it gets on it again: the rules are read-only */
            if (msh_access_ops(a, colls[c], (msh_role)role, NULL) != ops)
                abort();
            /* admin may do what ops may */
            if (role == MSH_ROLE_ADMIN && (msh_access_ops(a, colls[c], MSH_ROLE_OPS, NULL) & ~ops))
                abort();
        }
        /* an id field, when named, is a non-empty name; the Feature's member is "id" */
        bool member = false;
        const char *idf = msh_access_id_field(a, colls[c], &member);
        if (idf && (!*idf || (member && strcmp(idf, "id"))))
            abort();
        if (!idf && member)
            abort();
    }
    msh_access_free(a);
    return 0;
}
