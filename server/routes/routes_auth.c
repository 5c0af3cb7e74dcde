/* routes_auth.c: GET /auth/whoami: who the caller's token says it is (its name and role).
 *
 * The viewer's console signs in with a token typed by the officer: it asks here, once, whether the
 * token is valid and what role it carries, and shows the console only to ops and admin. The route
 * table's row needs any valid token (reporter, the lowest role), so a missing, malformed, unknown or
 * revoked one has already been answered 401 (and counted against --auth-fail-per-min) before this
 * runs. Nothing is looked up in SQLite: the token set is in memory (layers/tokens.h). The answer is
 * private and never cached: it names a token.
 */
#include <stdio.h>

#include "core/msh_buf.h"
#include "http/auth.h"
#include "routes/routes.h"

void msh_route_whoami(msh_req *r, const char *rest)
{
    (void)rest;
    char name[MSH_TOKEN_NAME_MAX + 1];
    msh_role role = msh_auth_who(r, name, sizeof name);
    msh_buf b;
    msh_buf_init(&b, 4096);
    msh_buf_printf(&b, "{\"name\":\"");
    msh_buf_json_str(&b, name);
    msh_buf_printf(&b, "\",\"role\":\"%s\"}\n", msh_role_name(role));
    r->resp.cache_control = "private, no-store";
    msh_resp_buf(r, 200, "application/json", &b);
    msh_buf_free(&b);
}
