/* test_client_limits.c: the per-client table (server/http/client_limits.c) on a clock stepped by
 * hand, the address keys, and the framing rules (server/http/framing.c) on laid-out header blocks. */
#include <string.h>

#include "check.h"
#include "http/client_limits.h"
#include "http/framing.h"

static msh_client_key addr(const char *s)
{
    msh_client_key k;
    CHECK(msh_client_key_parse(s, strlen(s), &k) == 0);
    return k;
}

static void test_keys(void)
{
    msh_client_key a = addr("203.0.113.7"), b = addr(" ::ffff:203.0.113.7 "), c = addr("2001:db8::1");
    CHECK(!memcmp(&a, &b, sizeof a)); /* a v4-mapped address is its IPv4 client */
    CHECK(c.b[0] == 6);
    char out[64];
    msh_client_key_format(&c, out, sizeof out);
    CHECK(!strcmp(out, "2001:db8::1"));
    msh_client_key k;
    CHECK(msh_client_key_parse("1.2.3", 5, &k) == -1);
    CHECK(msh_client_key_parse("", 0, &k) == -1);
    CHECK(msh_client_key_parse("1.2.3.4\0x", 9, &k) == -1);
    CHECK(msh_client_key_from_xff("10.0.0.1, 198.51.100.2", &k) == 0);
    msh_client_key_format(&k, out, sizeof out);
    CHECK(!strcmp(out, "198.51.100.2")); /* the last: what the trusted proxy itself saw */
    CHECK(msh_client_key_from_xff("198.51.100.2, unknown", &k) == -1);
    msh_client_key t1, t2;
    msh_client_key_token("msh_abc", 7, &t1);
    msh_client_key_token("msh_abd", 7, &t2);
    CHECK(t1.b[0] == 'T' && memcmp(&t1, &t2, sizeof t1));
}

static msh_climits *limits(int conns, double rate, int auth_per_min)
{
    msh_client_limits_cfg cfg;
    msh_client_limits_defaults(&cfg);
    cfg.max_conn_per_client = conns;
    cfg.rate_per_client = rate;
    cfg.rate_per_token = rate * 10;
    cfg.max_sse_per_client = 2;
    cfg.max_sse = 3;
    cfg.auth_fail_per_min = auth_per_min;
    cfg.trusted_proxy = "10.0.0.9,2001:db8::9";
    return msh_climits_new(&cfg);
}

static void test_connections(void)
{
    msh_climits *cl = limits(2, 0, 0);
    msh_client_key a = addr("192.0.2.1"), b = addr("192.0.2.2"), lb = addr("10.0.0.9");
    CHECK(msh_climits_conn_allowed(cl, &a, 0) && msh_climits_conn_open(cl, &a, 0));
    CHECK(msh_climits_conn_allowed(cl, &a, 0) && msh_climits_conn_open(cl, &a, 0));
    CHECK(!msh_climits_conn_allowed(cl, &a, 0));       /* the third is refused at accept */
    CHECK(!msh_climits_conn_open(cl, &a, 0));          /* or when it raced past the check */
    msh_climits_conn_close(cl, &a, 0);
    CHECK(msh_climits_conn_allowed(cl, &b, 0));        /* another client is not affected */
    msh_climits_conn_close(cl, &a, 1);
    CHECK(msh_climits_conn_allowed(cl, &a, 1));        /* closing gives the place back */
    for (int i = 0; i < 10; i++)                       /* the trusted proxy is exempt */
        CHECK(msh_climits_conn_open(cl, &lb, 1));
    CHECK(msh_climits_trusted(cl, &lb) && !msh_climits_trusted(cl, &a));
    CHECK(msh_climits_total(cl, MSH_CL_CONN_REFUSED) == 2);
    msh_climits_free(cl);
    msh_client_limits_cfg bad;
    msh_client_limits_defaults(&bad);
    bad.trusted_proxy = "10.0.0.9,proxy.example";
    CHECK(msh_climits_new(&bad) == NULL);
}

static void test_rate(void)
{
    msh_climits *cl = limits(0, 5, 0);
    msh_client_key a = addr("192.0.2.1"), t;
    msh_client_key_token("msh_x", 5, &t);
    double retry = 0;
    int ok = 0;
    while (msh_climits_request(cl, &a, 100.0, &retry))
        ok++;
    CHECK(ok == 10); /* a burst of two seconds' worth */
    CHECK_NEAR(retry, 0.2, 1e-9);
    CHECK(!msh_climits_request(cl, &a, 100.1, &retry));
    CHECK(msh_climits_request(cl, &a, 100.2, &retry)); /* one more every 1/rate s */
    ok = 0;
    while (msh_climits_request(cl, &t, 100.2, &retry))
        ok++;
    CHECK(ok == 100); /* a token's own budget, ten times the address's here */
    CHECK(msh_climits_request(cl, &a, 200.0, &retry)); /* refilled, not past the burst */
    ok = 1;
    while (msh_climits_request(cl, &a, 200.0, &retry))
        ok++;
    CHECK(ok == 10);
    CHECK(msh_climits_total(cl, MSH_CL_RATE_LIMITED) == 4);
    msh_climits_free(cl);
}

static void test_sse_and_auth(void)
{
    msh_climits *cl = limits(0, 0, 6);
    msh_client_key a = addr("192.0.2.1"), b = addr("192.0.2.2");
    double retry;
    CHECK(msh_climits_sse_acquire(cl, &a, 0, &retry) == 0);
    CHECK(msh_climits_sse_acquire(cl, &a, 0, &retry) == 0);
    CHECK(msh_climits_sse_acquire(cl, &a, 0, &retry) == 429);
    CHECK(msh_climits_sse_acquire(cl, &b, 0, &retry) == 0);
    CHECK(msh_climits_sse_acquire(cl, &b, 0, &retry) == 503); /* three in all */
    msh_climits_sse_release(cl, &a, 0);
    CHECK(msh_climits_sse_open(cl) == 2);
    CHECK(msh_climits_sse_acquire(cl, &b, 0, &retry) == 0);
    /* failed tokens: six at once, then one every ten seconds */
    for (int i = 0; i < 6; i++) {
        CHECK(msh_climits_auth_allowed(cl, &a, 10, &retry));
        msh_climits_auth_failed(cl, &a, 10);
    }
    CHECK(!msh_climits_auth_allowed(cl, &a, 10, &retry));
    CHECK_NEAR(retry, 10, 1e-9);
    CHECK(msh_climits_auth_allowed(cl, &b, 10, &retry));
    CHECK(msh_climits_auth_allowed(cl, &a, 20.5, &retry));
    msh_climits_auth_failed(cl, &a, 20.5);
    CHECK(!msh_climits_auth_allowed(cl, &a, 21, &retry));
    /* the interval's summary: counts and the worst client of each, then reset */
    msh_climits_note_header_timeout(cl, &b, 21);
    char line[512];
    size_t n = msh_climits_report(cl, 21, 10, "3 more libmicrohttpd messages not shown", line, sizeof line);
    CHECK(n == strlen(line));
    CHECK(strstr(line, "clients in the last 10 s: ") == line);
    CHECK(strstr(line, "2 event streams refused (most 192.0.2.1: 1)") != NULL);
    CHECK(strstr(line, "7 failed tokens (most 192.0.2.1: 7)") != NULL);
    CHECK(strstr(line, "2 token requests throttled (most 192.0.2.1: 2)") != NULL);
    CHECK(strstr(line, "1 header timeouts (most 192.0.2.2: 1)") != NULL);
    CHECK(strstr(line, ", 3 more libmicrohttpd messages not shown") != NULL);
    CHECK(msh_climits_report(cl, 22, 1, NULL, line, sizeof line) == 0); /* nothing new: no line */
    msh_climits_free(cl);
}

/* Lay headers out as libmicrohttpd 0.9.75 leaves them: "name\0 value\0\0" per line, then "\0\0". */
typedef struct {
    char block[512];
    msh_hdr_ref h[8];
    size_t n;
    char *end;
} layout;

static void lay(layout *l, const char *const *lines, const size_t *lens, size_t n)
{
    memset(l, 0, sizeof *l);
    char *p = l->block;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, lines[i], lens[i]);
        char *colon = strchr(p, ':'); /* stops at a NUL, as libmicrohttpd's does */
        *colon = 0;
        char *v = colon + 1;
        while (*v == ' ')
            v++;
        l->h[l->n++] = (msh_hdr_ref){p, (size_t)(colon - p), v, strlen(v)};
        p += lens[i] + 2; /* CRLF -> two zeros */
    }
    l->end = p + 2;
}

static const char *check_lines(const char *const *lines, size_t n)
{
    size_t lens[8];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(lines[i]);
    layout l;
    lay(&l, lines, lens, n);
    return msh_framing_check(l.h, l.n, l.end);
}

static void test_framing(void)
{
    const char *ok[] = {"Host: t", "Content-Length: 5", "content-length: 5"};
    CHECK(check_lines(ok, 3) == NULL);
    const char *two[] = {"Host: t", "Content-Length: 5", "Content-Length: 6"};
    CHECK(!strcmp(check_lines(two, 3), "two different Content-Length headers"));
    const char *both[] = {"Transfer-Encoding: chunked", "Content-Length: 5"};
    CHECK(!strcmp(check_lines(both, 2), "both Content-Length and Transfer-Encoding"));
    const char *te[] = {"Transfer-Encoding:  Chunked "};
    CHECK(check_lines(te, 1) == NULL);
    const char *te2[] = {"Transfer-Encoding: gzip, chunked"};
    CHECK(check_lines(te2, 1) != NULL);
    const char *name[] = {"X A: b"};
    CHECK(check_lines(name, 1) != NULL);
    const char *ctl[] = {"X-A: a\rb"};
    CHECK(!strcmp(check_lines(ctl, 1), "a control character in a header value"));
    /* a NUL inside a value, in the middle and in the last line */
    const char *nul[] = {"X-A: ab\0cd", "Host: t"};
    size_t lens[] = {10, 7};
    layout l;
    lay(&l, nul, lens, 2);
    CHECK(!strcmp(msh_framing_check(l.h, l.n, l.end), "a NUL byte in a header line"));
    const char *nul_last[] = {"Host: t", "X-A: ab\0\0\0\0cd"};
    size_t lens2[] = {7, 13};
    lay(&l, nul_last, lens2, 2);
    CHECK(msh_framing_check(l.h, l.n, l.end) != NULL);
    const char *empty[] = {"X-A:", "Host: t"};
    CHECK(check_lines(empty, 2) == NULL);
}

int main(void)
{
    test_keys();
    test_connections();
    test_rate();
    test_sse_and_auth();
    test_framing();
    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
