/* auth.c: the bearer-token parser and the role check write routes call first. */
#include "http/auth.h"

#include <pthread.h>
#include <strings.h>
#include <time.h>

#include "http/http_guard.h"

static const char REALM[] = "Bearer realm=\"mashaer\"";

/* RFC 6750 b64token characters, "=" aside (padding, only at the end). */
static bool token_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '+' || c == '/';
}

int msh_auth_parse_bearer(const char *header, const char **token, size_t *len)
{
    *token = NULL;
    *len = 0;
    if (!header || strncasecmp(header, "Bearer", 6) != 0 || header[6] != ' ')
        return -1;
    const char *p = header + 7;
    while (*p == ' ')
        p++;
    const char *t = p;
    /* stop one past the cap, so a long header costs no more than a long token */
    while (token_char((unsigned char)*p) && p - t <= MSH_AUTH_TOKEN_MAX)
        p++;
    if (p == t)
        return -1; /* empty, or padding with nothing before it */
    while (*p == '=' && p - t <= MSH_AUTH_TOKEN_MAX)
        p++;
    if (*p || p - t > MSH_AUTH_TOKEN_MAX)
        return -1;
    *token = t;
    *len = (size_t)(p - t);
    return 0;
}

static void unauthorized(msh_req *r, const char *why)
{
    msh_resp_error(r, 401, "%s", why);
    r->resp.www_authenticate = REALM;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Failed tokens are throttled per client address (server/http/client_limits.h): false (and
 * *retry_after) while the client's failures are over its budget; then no token is checked at all. */
static bool may_try(msh_req *r, double *retry_after)
{
    msh_climits *cl = msh_http_guard_limits(r->app->guard);
    return !cl || !r->client || msh_climits_auth_allowed(cl, r->client, now_s(), retry_after);
}

static void failed(msh_req *r)
{
    msh_climits *cl = msh_http_guard_limits(r->app->guard);
    if (cl && r->client)
        msh_climits_auth_failed(cl, r->client, now_s());
}

msh_role msh_auth_who(msh_req *r, char *name, size_t cap)
{
    const char *h = msh_req_header(r, "Authorization");
    const char *tok;
    size_t len;
    double retry;
    if (name && cap)
        name[0] = 0;
    if (!h || !may_try(r, &retry))
        return MSH_ROLE_NONE;
    if (msh_auth_parse_bearer(h, &tok, &len)) {
        failed(r);
        return MSH_ROLE_NONE;
    }
    pthread_mutex_lock(&r->app->tok_lock);
    msh_role role = msh_token_set_who(r->app->tokens, tok, len, name, cap);
    pthread_mutex_unlock(&r->app->tok_lock);
    if (role == MSH_ROLE_NONE)
        failed(r);
    return role;
}

msh_role msh_auth_role(msh_req *r)
{
    return msh_auth_who(r, NULL, 0);
}

bool msh_auth_require(msh_req *r, msh_role needed)
{
    const char *h = msh_req_header(r, "Authorization");
    const char *tok;
    size_t len;
    if (!h) {
        unauthorized(r, "this needs a token: send 'Authorization: Bearer TOKEN'");
        return false;
    }
    double retry = 0;
    if (!may_try(r, &retry)) {
        msh_resp_error(r, 429, "too many failed tokens from this address: try again in %.0f s", retry + 1);
        r->resp.retry_after = (int)retry + 1;
        return false;
    }
    if (msh_auth_parse_bearer(h, &tok, &len)) {
        failed(r);
        unauthorized(r, "malformed Authorization header: expected 'Bearer TOKEN'");
        return false;
    }
    /* The reload thread may swap and free the set at any moment: check (and copy the
     * role out) while holding the lock, never keep a pointer to the set. */
    msh_app *app = r->app;
    pthread_mutex_lock(&app->tok_lock);
    msh_role role = msh_token_set_check(app->tokens, tok, len);
    pthread_mutex_unlock(&app->tok_lock);
    if (role == MSH_ROLE_NONE) {
        failed(r);
        unauthorized(r, "unknown or revoked token");
        return false;
    }
    if (role < needed) {
        msh_resp_error(r, 403, "a %s token may not do this: it needs the %s role or above", msh_role_name(role),
                       msh_role_name(needed));
        return false;
    }
    return true;
}
