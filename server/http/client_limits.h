/* client_limits.h: what one client may hold and ask for, and the counts behind one log line.
 *
 * A client is a key: an IPv4 or IPv6 address (the socket's peer, or the address a trusted proxy
 * reports in X-Forwarded-For) or a valid bearer token (feed writers get budgets of their own, by
 * token, not the anonymous ones of their address). Per client this keeps:
 *   - open connections (per peer address; refused at accept over --max-conn-per-client),
 *   - a request-rate token bucket (--rate-per-client or --rate-per-token per second, a burst
 *     of two seconds' worth),
 *   - open event streams (--max-sse-per-client, and --max-sse in all),
 *   - a failed-token bucket (--auth-fail-per-min: that many failures at once, refilled at that
 *     rate per minute; an empty bucket answers 429 before any token is checked),
 *   - counters of what was refused in the current log interval.
 *
 * Pure of HTTP and of the clock: every call takes `now` (seconds, monotonic), so the unit test
 * steps time by hand. One mutex guards the table; every call holds it for a hash lookup and a
 * few arithmetic steps, never while calling out. Memory is bounded: at most MSH_CLIENTS_MAX
 * entries (one more client shares an overflow entry); entries with nothing open, idle for a
 * minute, are dropped at report time.
 */
#ifndef MSH_CLIENT_LIMITS_H
#define MSH_CLIENT_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

#define MSH_CLIENTS_MAX 65536

typedef struct msh_client_limits_cfg {
    int max_conn_per_client; /* open connections per peer address; 0: no limit */
    double rate_per_client;  /* requests per second per client address; 0: no limit */
    double rate_per_token;   /* requests per second per valid token; 0: no limit */
    int max_sse_per_client;  /* open /events streams per client; 0: no limit */
    int max_sse;             /* open /events streams in all; 0: no limit */
    int header_timeout_s;    /* a request's header must be complete this long after the connection
                                opened or the previous response ended; bytes do not extend it */
    int auth_fail_per_min;   /* failed tokens a client may send per minute; 0: no limit */
    int log_interval_s;      /* seconds between summary log lines */
    const char *trusted_proxy; /* comma-separated addresses whose X-Forwarded-For is believed; NULL: none */
} msh_client_limits_cfg;

/** The defaults `mashaer serve` starts with (README, --help). */
void msh_client_limits_defaults(msh_client_limits_cfg *cfg);

/** A client: b[0] is 4 (IPv4, b[1..4]), 6 (IPv6, b[1..16]), 'T' (a token, b[1..16] its hash), 0: none. */
typedef struct msh_client_key {
    unsigned char b[17];
} msh_client_key;

/** The key of a socket address (AF_INET, AF_INET6; a v4-mapped IPv6 address is its IPv4 key); -1 otherwise. */
int msh_client_key_from_sockaddr(const struct sockaddr *sa, msh_client_key *k);
/** The key of an address written as text (`len` bytes, surrounding spaces allowed); -1 when not an address. */
int msh_client_key_parse(const char *text, size_t len, msh_client_key *k);
/** The client an X-Forwarded-For value names: its last address (the one the proxy itself added); -1
 *  when that is not an address. */
int msh_client_key_from_xff(const char *v, msh_client_key *k);
/** The key of a bearer token (a hash of its text: the table never holds a token). */
void msh_client_key_token(const char *tok, size_t len, msh_client_key *k);
/** "203.0.113.7", "2001:db8::1" or "token:3fa9c2d1" (the start of the key's hash), into out. */
void msh_client_key_format(const msh_client_key *k, char *out, size_t cap);

typedef struct msh_climits msh_climits;

/** A table for `cfg` (copied; trusted_proxy parsed: -1 and NULL when it names a non-address). */
msh_climits *msh_climits_new(const msh_client_limits_cfg *cfg);
void msh_climits_free(msh_climits *cl);
const msh_client_limits_cfg *msh_climits_cfg(const msh_climits *cl);
/** True when `k` is one of the --trusted-proxy addresses. */
bool msh_climits_trusted(const msh_climits *cl, const msh_client_key *k);

/** At accept: may peer `k` open one more connection? Counts a refusal when not. */
bool msh_climits_conn_allowed(msh_climits *cl, const msh_client_key *k, double now);
/** A connection of `k` opened: counted until msh_climits_conn_close. False when that puts it over
 *  its limit (accepts on several threads at once): the caller closes it, and a refusal is counted. */
bool msh_climits_conn_open(msh_climits *cl, const msh_client_key *k, double now);
void msh_climits_conn_close(msh_climits *cl, const msh_client_key *k, double now);

/** One request of `k`: true when its bucket had one; else *retry_after (s) until it will. */
bool msh_climits_request(msh_climits *cl, const msh_client_key *k, double now, double *retry_after);

/** One more event stream for `k`: 0, or 429 (its own cap) or 503 (the server's), with *retry_after. */
int msh_climits_sse_acquire(msh_climits *cl, const msh_client_key *k, double now, double *retry_after);
void msh_climits_sse_release(msh_climits *cl, const msh_client_key *k, double now);
/** Event streams open in all. */
int msh_climits_sse_open(msh_climits *cl);

/** May `k` present a token now? False while its failed-token bucket is empty (*retry_after s). */
bool msh_climits_auth_allowed(msh_climits *cl, const msh_client_key *k, double now, double *retry_after);
/** `k` presented a token that is malformed, unknown or revoked. */
void msh_climits_auth_failed(msh_climits *cl, const msh_client_key *k, double now);

/** A connection of `k` missed its header deadline and was closed. */
void msh_climits_note_header_timeout(msh_climits *cl, const msh_client_key *k, double now);

/** What is counted per log interval (the summary line's fields). */
typedef enum {
    MSH_CL_CONN_REFUSED,   /* connections refused over the per-client limit */
    MSH_CL_RATE_LIMITED,   /* requests answered 429 over the request rate */
    MSH_CL_SSE_REFUSED,    /* event streams refused over a cap */
    MSH_CL_HEADER_TIMEOUT, /* connections closed at the header deadline */
    MSH_CL_AUTH_FAILED,    /* failed tokens */
    MSH_CL_AUTH_THROTTLED, /* requests with a token refused while failures were throttled */
    MSH_CL_NCOUNTS
} msh_cl_count;

/** Totals counted since the table was made (for /metrics and tests). */
uint64_t msh_climits_total(msh_climits *cl, msh_cl_count what);

struct msh_buf;
/** The totals, open streams and table size as Prometheus text (/metrics); nothing when cl is NULL. */
void msh_climits_write_metrics(msh_climits *cl, struct msh_buf *b);

/**
 * The summary of the interval since the last call, then counters reset and idle entries dropped:
 * writes one line (no newline) such as "clients in the last 10 s: 4096 connections refused
 * (most 127.0.0.1: 4096), 12 header timeouts (most 10.0.0.9: 12)" plus `extra` (NULL or
 * text appended, e.g. the count of suppressed library messages). Returns its length, 0 when
 * nothing was counted and `extra` is NULL or empty.
 */
size_t msh_climits_report(msh_climits *cl, double now, double interval_s, const char *extra, char *out, size_t cap);

#endif
