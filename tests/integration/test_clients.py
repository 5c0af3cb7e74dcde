"""Per-client limits and request hygiene (issue 17, findings 2, 4, 10, 11): one client cannot take
the server from the others.

Clients are told apart by address: the whole of 127/8 is loopback, so an "attacker" binds its
sockets to 127.0.0.2 (or .3) while the "other client" uses 127.0.0.1. Raw sockets throughout, so
the bytes on the wire are exactly the ones written here. No fixed sleeps: waits are on the
server's answers (a status, the end of a stream, a log line), bounded by a timeout.
"""
import http.client
import re
import resource
import socket
import threading
import time
import unittest

import mshtest

DB = None
OPS = None
FEED = None


def connect(port, src="127.0.0.1", timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_response(s):
    """(status, {lower-case header: value}, body) of one response read to the end of the connection."""
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    if not data:
        return None, {}, b""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split(" ")[1]), headers, body


def raw(port, data, src="127.0.0.1", timeout=10):
    s = connect(port, src, timeout)
    try:
        s.sendall(data)
        return read_response(s)
    finally:
        s.close()


def get(port, path, src="127.0.0.1", headers=None, timeout=10):
    hdr = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
    return raw(port, ("GET %s HTTP/1.1\r\nHost: t\r\n%sConnection: close\r\n\r\n" % (path, hdr)).encode(), src, timeout)


def closed_without_answer(s, timeout=10):
    """True when the server closes `s` (EOF or reset) without sending a byte."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


class Stream:
    """GET /events (http.client decodes the chunks): the status, the SSE frames, whether it has ended."""

    def __init__(self, port, query="", src="127.0.0.1", headers=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(src, 0))
        self.conn.request("GET", "/events" + query, headers=headers or {})
        self.sock = self.conn.sock
        self.status = None
        self.body = b""
        self.frames = []
        self.ended = threading.Event()
        self.subscribed = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            resp = self.conn.getresponse()
            self.status = resp.status
            if self.status != 200:
                self.body = resp.read()
                return
            frame = []
            for line in iter(resp.readline, b""):
                line = line.rstrip(b"\n").decode()
                if line:
                    frame.append(line)
                    continue
                self.frames.append("\n".join(frame))
                if frame and frame[0].startswith("retry:"):
                    self.subscribed.set()
                frame = []
        except (OSError, ValueError, http.client.HTTPException):
            return  # the connection went: the stream has ended
        finally:
            self.subscribed.set()
            self.ended.set()

    def wait(self):
        if not self.subscribed.wait(20):
            raise AssertionError("no answer to GET /events within 20 s")
        return self

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # a recv blocked in the reader thread would keep the socket open
        except OSError:
            pass
        self.ended.wait(10)  # the reader is done with the connection
        self.conn.close()


def start(*flags, name):
    return mshtest.Server(DB, "--snapshot-s", "3600", *flags, name=name, client_limits=True)  # started by `with`


class TestSlowClients(unittest.TestCase):
    """Finding 2: slow or idle connections from one address leave the server to the others."""

    def test_dribbled_header_meets_its_deadline(self):
        # a header sent a byte every 0.2 s: libmicrohttpd's timeout renews on each; the deadline does not
        with start("--header-timeout", "2", name="dribble") as srv:
            s = connect(srv.port, "127.0.0.2")
            t0 = time.monotonic()
            s.sendall(b"GET /health HTTP/1.1\r\n")
            s.settimeout(0.2)
            closed = False
            while time.monotonic() - t0 < 8 and not closed:
                try:
                    closed = s.recv(1) == b""
                except socket.timeout:
                    try:
                        s.sendall(b"X")
                    except OSError:
                        closed = True
                except ConnectionResetError:
                    closed = True
            took = time.monotonic() - t0
            s.close()
            self.assertTrue(closed, "a dribbling header kept its connection 8 s past a 2 s deadline")
            self.assertGreaterEqual(took, 1.9)
            self.assertLess(took, 4.0)
            # a header that arrives whole in time is answered as ever
            self.assertEqual(get(srv.port, "/health")[0], 200)

    def test_connection_flood_from_one_address(self):
        # 4,200 idle connections from one address: over libmicrohttpd's pool of 4,096 without the
        # per-client limit; with it 64 are kept and the rest closed at accept
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < 9000:
            self.skipTest("needs 9,000 open files (hard limit %d)" % hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        socks = []
        try:
            with start("--max-conn-per-client", "64", "--header-timeout", "30", "--client-log-s", "2",
                       name="flood") as srv:
                for _ in range(4200):
                    s = socket.socket()
                    s.setblocking(False)
                    s.bind(("127.0.0.2", 0))
                    s.connect_ex(("127.0.0.1", srv.port))
                    socks.append(s)
                # the other client is answered, quickly, while the flood holds
                for _ in range(20):
                    t0 = time.monotonic()
                    st, _, body = get(srv.port, "/health", timeout=5)
                    self.assertEqual(st, 200)
                    self.assertIn(b'"status":"ok"', body)
                    # idle it takes a millisecond; without the limit it never comes (the flood holds every slot)
                    self.assertLess(time.monotonic() - t0, 3.0)
                # the flood is refused at accept: all but 64 of its sockets are closed unanswered
                def refused():
                    n = 0
                    for s in socks:
                        try:
                            if s.recv(1) == b"":
                                n += 1
                        except ConnectionResetError:
                            n += 1
                        except OSError:  # no data yet, or still connecting
                            pass
                    return n >= 4200 - 64 and n
                n = mshtest.wait_for(refused, 30, "the flood's sockets over the limit to be closed")
                self.assertEqual(n, 4200 - 64)
                m = mshtest.parse_metrics(get(srv.port, "/metrics")[2].decode())
                self.assertEqual(mshtest.metric(m, "mashaer_client_refusals_total", reason="connection"), 4200 - 64)
                # one summary line counts them, not a line per connection
                line = mshtest.wait_for(lambda: [ln for ln in srv.stderr().splitlines()
                                                 if "connections refused" in ln], 15, "the summary log line")
                self.assertRegex(line[0], r"clients in the last \d+ s: \d+ connections refused \(most 127\.0\.0\.2: \d+\)")
                self.assertLess(len(srv.stderr().splitlines()), 30, srv.stderr()[-2000:])
        finally:
            for s in socks:
                s.close()
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    def test_over_limit_connection_refused_until_one_closes(self):
        with start("--max-conn-per-client", "5", name="connlimit") as srv:
            held = []
            for _ in range(5):  # five keep-alive connections, each answered once: open and counted
                s = connect(srv.port, "127.0.0.2")
                s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
                self.assertTrue(s.recv(65536).startswith(b"HTTP/1.1 200"))
                held.append(s)
            extra = connect(srv.port, "127.0.0.2")
            self.assertTrue(closed_without_answer(extra), "a sixth connection from the same address was kept")
            extra.close()
            self.assertEqual(get(srv.port, "/health", src="127.0.0.3")[0], 200)  # another address is not limited
            held.pop().close()
            def accepted_again():
                try:  # until the server has seen the close, a new connection is still refused (reset)
                    return get(srv.port, "/health", src="127.0.0.2")[0] == 200
                except ConnectionError:
                    return False
            mshtest.wait_for(accepted_again, 10, "a connection to be accepted again once one closed")
            for s in held:
                s.close()


class TestEventStreamCaps(unittest.TestCase):
    """Finding 2: event-stream subscribers are capped per client (429) and in all (503)."""

    def test_caps(self):
        with start("--max-sse-per-client", "3", "--max-sse", "5", name="ssecaps") as srv:
            mine = [Stream(srv.port, src="127.0.0.2").wait() for _ in range(3)]
            self.assertEqual([s.status for s in mine], [200] * 3)
            over = Stream(srv.port, src="127.0.0.2").wait()
            self.assertEqual(over.status, 429)
            self.assertIn(b"--max-sse-per-client", over.body)
            other = [Stream(srv.port, src="127.0.0.3").wait() for _ in range(2)]
            self.assertEqual([s.status for s in other], [200] * 2)
            full = Stream(srv.port, src="127.0.0.4").wait()
            self.assertEqual(full.status, 503)
            self.assertIn(b"--max-sse", full.body)
            m = mshtest.parse_metrics(get(srv.port, "/metrics")[2].decode())
            self.assertEqual(mshtest.metric(m, "mashaer_event_streams_open"), 5)
            self.assertEqual(mshtest.metric(m, "mashaer_client_refusals_total", reason="event_stream"), 2)
            # a stream that ends gives its place back
            mine.pop().close()

            def reopened():
                s = Stream(srv.port, src="127.0.0.2").wait()
                if s.status == 200:
                    return s
                s.close()
                return None
            again = mshtest.wait_for(reopened, 10, "a stream place to be given back")
            for s in mine + other + [again, over, full]:
                s.close()


class TestRate(unittest.TestCase):
    """Request rate per client; behind a trusted proxy the client is its X-Forwarded-For address;
    a valid feed token has a budget of its own."""

    def test_trusted_proxy_and_token_budgets(self):
        with start("--rate-per-client", "5", "--rate-per-token", "1000", "--trusted-proxy", "127.0.0.2",
                   name="rate") as srv:
            def until_429(src, headers=None):
                for i in range(1, 40):
                    st, h, body = get(srv.port, "/health", src=src, headers=headers)
                    if st == 429:
                        return i, h, body
                    self.assertEqual(st, 200)
                self.fail("no 429 in 40 requests at 5/s")
            # through the proxy: the budget of 1.2.3.4 (a burst of 10), named in the answer
            n, h, body = until_429("127.0.0.2", {"X-Forwarded-For": "10.9.9.9, 1.2.3.4"})
            self.assertGreaterEqual(n, 11)
            self.assertLessEqual(n, 14)
            self.assertIn(b"too many requests from 1.2.3.4", body)
            self.assertGreaterEqual(int(h["retry-after"]), 1)
            # another client behind the same proxy has its own budget
            self.assertEqual(get(srv.port, "/health", src="127.0.0.2", headers={"X-Forwarded-For": "5.6.7.8"})[0], 200)
            # X-Forwarded-For from an address that is not the trusted proxy is ignored
            n, h, body = until_429("127.0.0.3", {"X-Forwarded-For": "5.6.7.8"})
            self.assertIn(b"too many requests from 127.0.0.3", body)
            # 127.0.0.3 is out of budget; with a valid feed token it writes on the token's own
            rec = b'{"id":"P-1","lon":39.8925,"lat":21.4131,"time":"2026-05-26T10:00:00Z"}\n'
            for i in range(30):
                st, _, body = raw(srv.port, b"POST /feeds/positions HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
                                  + FEED.encode() + b"\r\nContent-Type: application/x-ndjson\r\nContent-Length: "
                                  + str(len(rec)).encode() + b"\r\nConnection: close\r\n\r\n" + rec, src="127.0.0.3")
                self.assertEqual(st, 200, body)
                self.assertIn(b'"accepted":1', body)


class TestFailedTokens(unittest.TestCase):
    """Finding 11: wrong tokens are throttled per address and logged once per interval."""

    def test_throttled_and_logged(self):
        with start("--auth-fail-per-min", "10", "--client-log-s", "2", name="authfail") as srv:
            bad = {"Authorization": "Bearer msh_" + "A" * 43}
            for _ in range(10):
                st, _, body = get(srv.port, "/entities/P-1", src="127.0.0.2", headers=bad)
                self.assertEqual(st, 401, body)
            st, h, body = get(srv.port, "/entities/P-1", src="127.0.0.2", headers=bad)
            self.assertEqual(st, 429)
            self.assertIn(b"too many failed tokens", body)
            self.assertGreaterEqual(int(h["retry-after"]), 1)
            # no token is checked meanwhile, not even a good one
            self.assertEqual(get(srv.port, "/entities/P-1", src="127.0.0.2",
                                 headers={"Authorization": "Bearer " + OPS})[0], 429)
            # another address is not throttled
            self.assertEqual(get(srv.port, "/entities/P-1", src="127.0.0.3",
                                 headers={"Authorization": "Bearer " + OPS})[0], 404)
            # one summary line per interval (two if the requests straddled an interval's end)
            def counted():
                lines = [ln for ln in srv.stderr().splitlines() if "failed tokens" in ln or "throttled" in ln]
                failed = sum(int(n) for ln in lines for n in re.findall(r"(\d+) failed tokens \(most 127\.0\.0\.2", ln))
                throttled = sum(int(n) for ln in lines
                                for n in re.findall(r"(\d+) token requests throttled \(most 127\.0\.0\.2", ln))
                return (failed, throttled) == (10, 2) and lines
            lines = mshtest.wait_for(counted, 25, "the summary log lines to count 10 failures and 2 throttled")
            self.assertLessEqual(len(lines), 2, lines)


class TestRevokedStream(unittest.TestCase):
    """Finding 4: a revoked token's open event stream ends as soon as the server knows."""

    def test_revoked_ops_stream_ends(self):
        ops = mshtest.add_token(DB, "ops", "revoked-ops")
        with start("--reload-ms", "100", name="revoke") as srv:
            auth = {"Authorization": "Bearer " + ops}
            mshtest.wait_for(lambda: get(srv.port, "/entities/NOBODY", headers=auth)[0] == 404, 10, "the new token")
            s = Stream(srv.port, "?types=geofence", headers=auth).wait()
            self.assertEqual(s.status, 200)
            public = Stream(srv.port, "?types=incident", headers=auth).wait()  # needs no token: kept
            self.assertFalse(s.ended.is_set())
            mshtest.run_mashaer("token", "revoke", "--db", DB, "revoked-ops", check=0)
            mshtest.wait_for(lambda: get(srv.port, "/entities/NOBODY", headers=auth)[0] == 401, 10,
                             "the revoked token to be refused")
            self.assertTrue(s.ended.wait(1.0), "the stream of a revoked token still open 1 s after its 401")
            self.assertIn('event: error\ndata: {"error":"the token of this stream was revoked","status":401}', s.frames)
            self.assertFalse(public.ended.is_set())
            s.close()
            public.close()


class TestFraming(unittest.TestCase):
    """Finding 10: a request that could be read two ways is refused with 400, before its body."""

    CASES = {
        "two Content-Length": (b"POST /feeds/positions HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                               b"Content-Length: 6\r\n\r\nabcdef", b"two different Content-Length headers"),
        "Content-Length and chunked": (b"POST /feeds/positions HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                                       b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                                       b"both Content-Length and Transfer-Encoding"),
        "chunked first": (b"POST /feeds/positions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                          b"Content-Length: 5\r\n\r\n0\r\n\r\n", b"both Content-Length and Transfer-Encoding"),
        "other coding": (b"POST /feeds/positions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                         b"a Transfer-Encoding other than 'chunked'"),
        "NUL in a value": (b"GET /health HTTP/1.1\r\nHost: t\r\nX-A: ab\0cd\r\nConnection: close\r\n\r\n",
                           b"a NUL byte in a header line"),
        "NUL in the last value": (b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-A: ab\0cd\r\n\r\n",
                                  b"a NUL byte in a header line"),
        "NULs then text": (b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-A: ab\0\0\0\0cd\r\n\r\n",
                           b"a NUL byte in a header line"),
        "NUL in the target": (b"GET /heal\0th HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                              b"a NUL byte (or %00) in the request target"),
        "%00 in a static path": (b"GET /index.html%00.png HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                                 b"a NUL byte (or %00) in the request target"),
        "%00 in an argument": (b"GET /catalog?x=a%00b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                               b"a NUL byte (%00) in the query argument 'x'"),
        "%00 in a name": (b"GET /catalog?y%00z=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                          b"a NUL byte (%00) in the query argument 'y'"),
        "control character": (b"GET /health HTTP/1.1\r\nHost: t\r\nX-A: a\x01b\r\nConnection: close\r\n\r\n",
                              b"a control character in a header value"),
        "space in a name": (b"GET /health HTTP/1.1\r\nHost: t\r\nX A: b\r\nConnection: close\r\n\r\n",
                            b"a header name with a character outside"),
        "folded line": (b"GET /health HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n",
                        b"folded header lines"),
    }

    def test_each_case_is_400(self):
        with start(name="framing") as srv:
            for name, (req, why) in self.CASES.items():
                with self.subTest(name):
                    st, h, body = raw(srv.port, req)
                    self.assertEqual(st, 400, body)
                    self.assertIn(why, body)
                    self.assertEqual(h.get("connection", "").lower(), "close")
            # well-framed requests still pass: equal duplicate lengths, bare LF line ends, chunked alone
            st, _, body = raw(srv.port, b"POST /feeds/positions HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
                              + FEED.encode() + b"\r\nContent-Length: 0\r\nContent-Length: 0\r\n"
                              b"Connection: close\r\n\r\n")
            self.assertEqual(st, 200, body)
            st, _, body = raw(srv.port, b"POST /feeds/positions HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
                              + FEED.encode() + b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n")
            self.assertEqual(st, 200, body)
            self.assertEqual(raw(srv.port, b"GET /health HTTP/1.1\nHost: t\nConnection: close\n\n")[0], 200)
            self.assertEqual(get(srv.port, "/index.html")[0], 200)


def setUpModule():
    global DB, OPS, FEED
    DB = mshtest.work_path("clients.sqlite")
    mshtest.import_demo(DB, ["camps"])
    OPS = mshtest.add_token(DB, "ops", "ops")
    FEED = mshtest.add_token(DB, "feed", "feed")


if __name__ == "__main__":
    mshtest.main()
