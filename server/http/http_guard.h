/* http_guard.h: the door of the HTTP server: who may connect, how long a header may take, which
 * requests are framed well enough to read, and how often a client may ask.
 *
 * With http.c it is the only code that knows libmicrohttpd. It hooks the daemon where 0.9.75 lets
 * an application in (MHD_OPTION_ARRAY of msh_http_guard_options, the accept policy) and keeps one
 * record per open connection (the socket context):
 *   - at accept: a peer address over --max-conn-per-client is refused (the socket is closed; the
 *     --trusted-proxy addresses are exempt: they carry many clients);
 *   - a header deadline: a request's header must be complete --header-timeout seconds after the
 *     connection opened or the previous response on it ended. libmicrohttpd's own timeout is
 *     renewed by every byte; this one is not. A thread checks the deadlines five times a second
 *     and shuts a late socket down (shutdown(2): libmicrohttpd reads the end and closes it; the
 *     record is unlinked under the guard's lock before libmicrohttpd closes the descriptor, so
 *     the thread never touches a reused one);
 *   - when the header is complete (msh_http_guard_headers, http.c's first call of a request):
 *     framing (http/framing.h) and NUL checks, then the client's identity (the peer, or the last
 *     X-Forwarded-For address when the peer is a trusted proxy; a valid token for the rate) and
 *     its request budget (http/client_limits.h);
 *   - every message of libmicrohttpd's own log and the refusal counts go out as at most a few
 *     lines per --client-log-s interval (10 s) plus one summary line.
 * Lock contract: the guard's mutex covers the connection list and each record's deadline; the
 * client table has its own (taken inside the guard's, never the other way round).
 */
#ifndef MSH_HTTP_GUARD_H
#define MSH_HTTP_GUARD_H

#include <microhttpd.h>
#include <stdbool.h>

#include "http/client_limits.h"
#include "serve/app.h"

typedef struct msh_http_guard msh_http_guard;

/** The guard of `app` (its limits from app->cfg.clients), its deadline thread started; NULL and
 *  *why set when the configuration is bad (a --trusted-proxy that is not an address) or out of memory. */
msh_http_guard *msh_http_guard_new(msh_app *app, const char **why);
/** Stop the thread and free; after the daemon has stopped (its callbacks use the guard). */
void msh_http_guard_free(msh_http_guard *g);

/** The options to pass as MHD_OPTION_ARRAY (connection notices, URI log, unescape, logger). */
struct MHD_OptionItem *msh_http_guard_options(msh_http_guard *g);
/** The accept policy (pass with `g` to MHD_start_daemon). */
enum MHD_Result msh_http_guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);

/** A request refused at its header: the status, why, Retry-After seconds (0: none), close the connection. */
typedef struct msh_refusal {
    int status;
    int retry_after;
    bool close;
    char why[240];
} msh_refusal;

/**
 * The header of a request on `conn` is complete (http.c's first call): stop its deadline, check
 * framing and NULs, find its client and take one request from its budget. Returns true and fills
 * *no when the request is refused (400 framing, 429 rate).
 */
bool msh_http_guard_headers(msh_http_guard *g, struct MHD_Connection *conn, const char *method, const char *version,
                            msh_refusal *no);
/** The response to the request on `conn` is done: the next header's deadline starts. */
void msh_http_guard_done(msh_http_guard *g, struct MHD_Connection *conn);
/** The client (address key) of the request on `conn`, valid while the connection is open; NULL if unknown. */
const msh_client_key *msh_http_guard_client(struct MHD_Connection *conn);
/** True when the client of `conn` has closed its end or the socket failed (polled, not read): for
 *  connections libmicrohttpd does not watch, the suspended event streams. */
bool msh_http_peer_gone(void *conn);
/** The per-client table (for auth.c and the event streams). */
msh_climits *msh_http_guard_limits(msh_http_guard *g);

#endif
