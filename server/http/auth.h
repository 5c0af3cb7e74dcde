/* auth.h: bearer tokens on requests: the Authorization header parser and the role check.
 *
 * A write route starts with `if (!msh_auth_require(r, MSH_ROLE_FEED)) return;`. The check
 * reads `Authorization: Bearer TOKEN`, looks the token up in the app's current token set
 * (layers/tokens.h) and, when it fails, has already filled the response: 401 with
 * `WWW-Authenticate: Bearer realm="mashaer"` for a missing, malformed, unknown or revoked
 * token, 403 for a valid token whose role is too low. Roles are ordered (admin > ops > feed > reporter).
 */
#ifndef MSH_AUTH_H
#define MSH_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"
#include "tokens.h"

/** Longest token accepted in a header, in bytes. */
#define MSH_AUTH_TOKEN_MAX 512

/**
 * Parse an Authorization header value as RFC 6750 `Bearer b64token`: the scheme "Bearer"
 * in any case, one or more spaces, then 1 to MSH_AUTH_TOKEN_MAX bytes of base64url and
 * "._~+/-" followed by optional "=" padding, and nothing else (no tabs, no trailing
 * spaces). Returns 0 and points `*token`/`*len` into `header` (no copy), or -1 when the
 * header is NULL or malformed (then *token = NULL, *len = 0). Pure: no allocation, no state.
 */
int msh_auth_parse_bearer(const char *header, const char **token, size_t *len);

/**
 * True when the request carries a valid token whose role is at least `needed`
 * (MSH_ROLE_NONE: any valid token). Otherwise fills r->resp with a JSON error (401 and
 * WWW-Authenticate, or 403) and returns false: the handler just returns.
 */
bool msh_auth_require(msh_req *r, msh_role needed);

/**
 * The role of the request's bearer token, or MSH_ROLE_NONE when it has none, a malformed one or
 * an unknown one. Never answers: for reads that show more to a higher role (OGC collections).
 */
msh_role msh_auth_role(msh_req *r);
/** The same, and the token's name into `name` (`cap` bytes; "" without a valid token): who wrote an edit. */
msh_role msh_auth_who(msh_req *r, char *name, size_t cap);

#endif
