"""NATS JetStream as the replicated live-feed log: `mashaer serve --feed-log nats://HOST:PORT`.

One real nats-server (JetStream on, its store in this test's work dir, a loopback port) and two
Mashaer nodes A and B on copies of one store, each with its own live folder:

  * a batch posted to A is answered after the stream stored it, and B applies it from the
    stream: /health's feed_seq equal on both, the same person on both, the movement tiles of
    the two nodes byte-identical with the same ETag at the same sequence (what a node serves
    depends only on the stream, not on when the batch reached it);
  * an operator's new incident (OGC API Part 4) made on A is served by B;
  * B stopped (a snapshot at its sequence), batches posted to A meanwhile, B started again with
    a slow consumer (--feed-apply-delay-ms): B loads its snapshot, replays from the next
    sequence, answers 503 "catching_up" on /health while it does, then 200 "ok" at A's sequence
    with the same tiles;
  * NATS down: a post answers 503 and nothing is applied on either node; NATS back (same
    store): posts are acknowledged again;
  * retention: a stream of its own limited to 1 MB (--feed-retain-mb 1) drops its oldest
    messages as batches come; the node that applied them all stays 200 "ok", a node started
    with nothing (its snapshot older than the stream's first message) answers 503 "stream_gap"
    with the reason, says so in its log, applies nothing and refuses posts;
  * NATS stopped with SIGSTOP (the connection stays, no answer comes): an operator's new incident
    answers 503 without Retry-After, saying it may or may not have been made; resumed, the
    incident is there once or not at all on both nodes, and writes are taken again.

Skipped (as a whole, with a message) only when nats-server is not installed.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from mshtest import now_ms  # noqa: E402

NATS = shutil.which("nats-server") or ("/usr/sbin/nats-server" if os.access("/usr/sbin/nats-server", os.X_OK)
                                        else None)
SPOT = (39.8262, 21.4225)  # near the Grand Mosque
Z = 16

DB_A = DB_B = None
FEED = OPS = None
NATSD = None
A = B = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nats:
    """One nats-server with JetStream, its store under the work dir; start() waits until it takes
    connections. With `cluster` (its route port and every route URL) it joins a cluster."""

    def __init__(self, name, cluster=None):
        self.name = name
        self.port = free_port()
        self.store = mshtest.work_path("nats-" + name)
        self.log = mshtest.work_path("nats-%s.log" % name)
        self.cluster = cluster
        self.proc = None

    @property
    def url(self):
        return "nats://127.0.0.1:%d" % self.port

    def start(self):
        cmd = [NATS, "-js", "-a", "127.0.0.1", "-p", self.port, "-sd", self.store, "-n", "n" + self.name]
        if self.cluster:
            cport, routes = self.cluster
            cmd += ["--cluster_name", "msh", "--cluster", "nats://127.0.0.1:%d" % cport, "--routes", routes]
        with open(self.log, "ab") as log:
            self.proc = mshtest.spawn(cmd, stdout=log, stderr=subprocess.STDOUT)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("nats-server exited: %s" % open(self.log).read()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as c:
                    return c.recv(4096).startswith(b"INFO ")
            except OSError:
                return False
        mshtest.wait_for(up, 30, "nats-server on port %d" % self.port)
        return self

    def pause(self):
        """SIGSTOP: the connections stay open and nothing answers. Returns once every thread of the
        server is stopped: the signal reaches one thread first, and until it stops the others the
        server may still answer what comes (seen on a loaded machine)."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        task = "/proc/%d/task" % self.proc.pid

        def state(tid):
            try:
                with open("%s/%s/stat" % (task, tid)) as f:
                    stat = f.read()
            except FileNotFoundError:  # a thread that ended
                return "T"
            return stat[stat.rindex(")") + 2]
        mshtest.wait_for(lambda: all(state(t) == "T" for t in os.listdir(task)), 30,
                         "every thread of nats-server %s stopped" % self.name)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def node(db, name, *extra, urls=None):
    return mshtest.Server(db, "--threads", "2", "--forecast-every", "0", "--feed-log", urls or NATSD.url,
                          "--live-dir", mshtest.work_path(name + ".live"), *extra, name=name)


def health(server):
    r = server.get("/health")
    return r.status, json.loads(r.body)


def feed_seq(server):
    return health(server)[1]["feed_seq"]


def crowd(prefix, n, t_ms, lon=SPOT[0], lat=SPOT[1]):
    return [{"id": "%s-%03d" % (prefix, i), "lon": lon + (i % 10) * 1e-7, "lat": lat + (i // 10) * 1e-7,
             "time": t_ms, "speed": 1.2, "heading": 90} for i in range(n)]


def tile(server, layer, role=None):
    x, y = mshtest.lonlat_to_tile(SPOT[0], SPOT[1], Z)
    h = {"Authorization": "Bearer " + role} if role else {}
    r = server.get("/tiles/%s/%d/%d/%d.mvt" % (layer, Z, x, y), headers=h)
    if r.status not in (200, 204):
        raise AssertionError("%s tile: HTTP %d %r" % (layer, r.status, r.body[:200]))
    return r


def incidents_described(server, description):
    """The live incidents of `server` whose description is `description` (GeoJSON Features)."""
    r = mshtest.api(server, "/ogc/collections/incidents/items?limit=1000", token=OPS)
    if r.status != 200:
        raise AssertionError("incidents: HTTP %d %r" % (r.status, r.body[:200]))
    return [f for f in r.json()["features"] if f["properties"].get("description") == description]


def same_seq(a, b, timeout=30):
    """Wait until b applied what a applied; returns that sequence."""
    want = feed_seq(a)
    mshtest.wait_for(lambda: feed_seq(b) == want, timeout, "node B at feed_seq %d" % want)
    return want


def setUpModule():
    global DB_A, DB_B, FEED, OPS, NATSD, A, B
    if not NATS:
        raise unittest.SkipTest("nats-server is not installed (scripts/setup.sh installs nats-server): "
                                "feed log tests skipped")
    DB_A = mshtest.work_path("a.sqlite")
    mshtest.import_layer(DB_A, mshtest.demo_path("sites.geojson"), "sites")
    FEED = mshtest.add_token(DB_A, "feed", "it-feedlog-feed")
    OPS = mshtest.add_token(DB_A, "ops", "it-feedlog-ops")
    DB_B = mshtest.work_path("b.sqlite")
    mshtest.copy_store(DB_A, DB_B)  # the same store (a shared PostgreSQL in production)
    NATSD = Nats("1").start()
    try:
        A = node(DB_A, "a").start()
        B = node(DB_B, "b").start()
        for s in (A, B):
            mshtest.wait_for(lambda s=s: health(s)[0] == 200, 30, "%s caught up" % s.log_path)
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    try:
        mshtest.stop_servers(A, B)
    finally:
        if NATSD:
            NATSD.stop()


class FeedLog(unittest.TestCase):
    def test_1_batch_on_a_served_by_b(self):
        t = now_ms()
        people = crowd("FL1", 40, t)
        before = feed_seq(A)
        mshtest.post_ok(A, "positions", people, FEED)
        # answered after the stream stored it and A applied it: A's sequence moved by one message
        self.assertEqual(feed_seq(A), before + 1)
        st, h = health(A)  # one read: the body carries times that move between two
        self.assertEqual(st, 200, h)
        seq = same_seq(A, B)
        for s in (A, B):
            r = s.get("/entities/FL1-007", headers={"Authorization": "Bearer " + OPS})
            self.assertEqual(r.status, 200, r.body)
            got = r.json()["geometry"]["coordinates"]
            self.assertAlmostEqual(got[0], people[7]["lon"], places=6)  # as the live state stores it
            self.assertAlmostEqual(got[1], people[7]["lat"], places=6)
        ta, tb = tile(A, "movement"), tile(B, "movement")
        self.assertEqual(ta.status, 200)
        self.assertEqual(ta.body, tb.body, "movement tiles differ at feed_seq %d" % seq)
        self.assertEqual(ta.header("ETag"), tb.header("ETag"))
        x, y = mshtest.lonlat_to_tile(SPOT[0], SPOT[1], Z)
        cells = mshtest.decode_mvt(ta.body, Z, x, y)["movement"]
        self.assertEqual(sum(int(f.attrs["count"]) for f in cells), 40)
        pa, pb = tile(A, "positions", OPS), tile(B, "positions", OPS)
        ids = sorted(f.attrs["id"] for f in mshtest.decode_mvt(pb.body, Z, x, y)["positions"])
        self.assertEqual(ids, sorted(p["id"] for p in people))
        self.assertEqual(pa.body, pb.body)
        m = mshtest.parse_metrics(B.get("/metrics").body.decode())
        self.assertEqual(mshtest.metric(m, "mashaer_feed_log_applied_seq"), seq)

    def test_2_operator_incident_on_a_served_by_b(self):
        body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [SPOT[0], SPOT[1]]},
                "properties": {"kind": "medical", "severity": "high", "description": "feed log test"}}
        r = mshtest.api(A, "/ogc/collections/incidents/items", "POST", OPS, body)
        self.assertEqual(r.status, 201, r.body)
        iid = r.json()["properties"]["id"]
        same_seq(A, B)
        x, y = mshtest.lonlat_to_tile(SPOT[0], SPOT[1], Z)
        got = {f.attrs["id"]: f.attrs for f in
               mshtest.decode_mvt(tile(B, "incidents").body, Z, x, y).get("incidents", [])}
        self.assertIn(iid, got)
        self.assertEqual(got[iid]["severity"], "high")
        self.assertEqual(tile(A, "incidents").body, tile(B, "incidents").body)

    def test_3_restart_replays_from_snapshot(self):
        global B
        self.assertEqual(B.stop(), 0)
        stopped_at = feed_seq(A)
        t = now_ms()
        n = 200
        for i in range(n):  # one stream message each, applied by A as it goes
            mshtest.post_ok(A, "positions", crowd("FL3-%03d" % i, 3, t + i), FEED)
        target = feed_seq(A)
        self.assertEqual(target, stopped_at + n)
        B = node(DB_B, "b", "--feed-apply-delay-ms", "25").start()
        # the barrier: n messages at 25 ms each keep B replaying for about 5 s
        st = mshtest.wait_for(lambda: health(B), 30, "B's first /health")
        self.assertEqual(st[0], 503, st)
        self.assertEqual(st[1]["status"], "catching_up")
        self.assertLess(st[1]["feed_seq"], target)
        self.assertGreaterEqual(st[1]["feed_seq"], stopped_at)
        mshtest.wait_for(lambda: health(B) == (200, health(B)[1]) and health(B)[1]["feed_seq"] == target, 60,
                         "B caught up at %d" % target)
        self.assertEqual(health(B)[1]["status"], "ok")
        # it started from the snapshot it wrote when it stopped, not from the stream's start
        self.assertIn("applied up to %d, catching up to %d" % (stopped_at, target), B.stderr())
        self.assertEqual(tile(A, "movement").body, tile(B, "movement").body)
        self.assertEqual(tile(A, "positions", OPS).body, tile(B, "positions", OPS).body)

    def test_4_nats_down_answers_503_and_applies_nothing(self):
        seq = same_seq(A, B)
        NATSD.stop()
        mshtest.wait_for(lambda: not health(A)[1]["feed_log_connected"], 30, "A sees NATS gone")
        r = mshtest.post_feed(A, "positions", crowd("FL4", 5, now_ms()), FEED)
        self.assertEqual(r.status, 503, r.body)
        self.assertIn("feed log", r.json()["description"] if "description" in r.json() else r.body.decode())
        # a refusal that passes: when to send it again, in the header and the body
        self.assertEqual((r.header("Retry-After"), r.json().get("retry_after_s")), ("2", 2), r.body)
        body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [SPOT[0], SPOT[1]]},
                "properties": {"kind": "medical", "severity": "high", "description": "NATS down"}}
        r = mshtest.api(A, "/ogc/collections/incidents/items", "POST", OPS, body)  # an operator's write alike
        self.assertEqual((r.status, r.header("Retry-After"), r.json().get("retry_after_s")), (503, "2", 2), r.body)
        for s in (A, B):
            self.assertEqual(s.get("/entities/FL4-000", headers={"Authorization": "Bearer " + OPS}).status, 404)
            self.assertEqual(feed_seq(s), seq)
        NATSD.start()  # the same store: the stream and its sequence are back
        mshtest.wait_for(lambda: health(A)[1]["feed_log_connected"], 30, "A reconnected")
        mshtest.post_ok(A, "positions", crowd("FL4", 5, now_ms()), FEED)
        self.assertEqual(feed_seq(A), seq + 1)
        same_seq(A, B)
        self.assertEqual(B.get("/entities/FL4-000", headers={"Authorization": "Bearer " + OPS}).status, 200)


    def test_5_retention_gap(self):
        db_c, db_d = mshtest.work_path("c.sqlite"), mshtest.work_path("d.sqlite")
        mshtest.copy_store(DB_A, db_c)
        mshtest.copy_store(DB_A, db_d)
        c = node(db_c, "c", "--feed-stream", "RETAIN_TEST", "--feed-retain-mb", "1").start()
        d = None
        try:
            mshtest.wait_for(lambda: health(c)[0] == 200, 30, "C caught up")
            t = now_ms()
            for i in range(24):  # 2,000 people a message (about 90 kB): 24 messages are twice the 1 MB kept
                mshtest.post_ok(c, "positions", crowd("RT%02d" % i, 2000, t + i), FEED)
            st, h = health(c)  # one read: the body carries times that move between two
            self.assertEqual(st, 200, h)
            self.assertEqual(feed_seq(c), 24)
            d = node(db_d, "d", "--feed-stream", "RETAIN_TEST", "--feed-retain-mb", "1").start()
            st, h = health(d)
            self.assertEqual((st, h["status"], h["feed_seq"]), (503, "stream_gap", 0), h)
            m = re.search(r"holds sequences (\d+) to 24\n", d.stderr())
            self.assertTrue(m, d.stderr())
            first = int(m.group(1))
            self.assertGreater(first, 2)  # the oldest messages are gone
            self.assertIn("the feed log no longer holds sequence 1 (it starts at %d)" % first, h["reason"])
            self.assertIn("stream RETAIN_TEST no longer holds sequence 1 (it starts at %d" % first, d.stderr())
            r = mshtest.post_feed(d, "positions", crowd("RTD", 3, now_ms()), FEED)
            self.assertEqual(r.status, 503, r.body)
            self.assertIn(b"stream_gap", r.body)
            # no Retry-After: this node stays out until an operator acts; the body says to use another
            self.assertEqual((r.header("Retry-After"), "retry_after_s" in r.json()), (None, False), r.body)
            self.assertEqual(d.get("/entities/RT23-000", headers={"Authorization": "Bearer " + OPS}).status, 404)
            m = mshtest.parse_metrics(d.get("/metrics").body.decode())
            self.assertEqual(mshtest.metric(m, "mashaer_feed_log_gap"), 1)
            self.assertEqual(feed_seq(c), 24)  # D's refused post reached nothing
        finally:
            mshtest.stop_servers(*[s for s in (c, d) if s])

    def test_6_operator_write_without_answer(self):
        """NATS stopped (SIGSTOP: the connection stays, nobody answers): an operator's new incident
        times out in the stream and may or may not be stored, so it answers 503 without Retry-After
        (sent again it could make a twin) and says so. NATS resumed: the incident is there once or
        not at all, on both nodes, and the node takes writes again."""
        seq = same_seq(A, B)
        desc = "no answer %d" % now_ms()
        body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [SPOT[0], SPOT[1]]},
                "properties": {"kind": "fire", "severity": "low", "description": desc}}
        try:
            NATSD.pause()
            # the barrier is the answer itself: it comes once the publish timed out (feed_pub.c, 5 s)
            t0 = time.monotonic()
            r = mshtest.api(A, "/ogc/collections/incidents/items", "POST", OPS, body)
            waited = time.monotonic() - t0
        finally:
            NATSD.resume()
        self.assertEqual(r.status, 503, r.body)
        self.assertIsNone(r.header("Retry-After"), r.body)
        self.assertNotIn("retry_after_s", r.json(), r.body)
        self.assertEqual(r.json()["status"], 503)
        self.assertIn("may or may not have been made", r.json()["error"])
        self.assertIn("read the item (or the collection) before writing again", r.json()["error"])
        # the stream takes messages in the order the connection sent them: once a batch sent after the
        # refused write is applied, the write is applied too if the stream stored it
        mshtest.post_ok(A, "positions", crowd("FL6", 3, now_ms()), FEED)
        after = same_seq(A, B)
        stored = after - seq - 1  # stream messages besides the batch: 1 when the incident was stored
        self.assertIn(stored, (0, 1), "feed_seq went from %d to %d" % (seq, after))
        mshtest.note("operator write with NATS stopped: 503 after %.1f s; once resumed, %s" % (
            waited, "stored once" if stored else "not stored"))
        for s in (A, B):
            got = incidents_described(s, desc)
            self.assertEqual(len(got), stored, "%s: %r" % (s.log_path, got))
        # the node carries on: a write answers at once, and B serves it
        r = mshtest.api(A, "/ogc/collections/incidents/items", "POST", OPS, dict(body, properties=dict(
            body["properties"], description=desc + " again")))
        self.assertEqual(r.status, 201, r.body)
        same_seq(A, B)
        self.assertEqual([f["properties"]["id"] for f in incidents_described(B, desc + " again")],
                         [r.json()["properties"]["id"]])


class Cluster(unittest.TestCase):
    """Three NATS servers in one cluster: the stream gets 3 replicas, and two nodes given all
    three servers replicate through it (the failure tests are the cluster's: scripts/cluster.sh)."""

    @classmethod
    def setUpClass(cls):
        cports = [free_port() for _ in range(3)]
        routes = ",".join("nats://127.0.0.1:%d" % c for c in cports)
        cls.nats = [Nats("c%d" % i, (cports[i], routes)) for i in range(3)]
        cls.nodes = []
        try:
            for n in cls.nats:
                n.start()
            urls = ",".join(n.url for n in cls.nats)
            db_a, db_b = mshtest.work_path("ca.sqlite"), mshtest.work_path("cb.sqlite")
            mshtest.copy_store(DB_A, db_a)
            mshtest.copy_store(DB_A, db_b)
            # a start may find no JetStream leader (not elected yet, or moving on a loaded machine): it exits
            # saying so, and is started again
            cls.a = mshtest.wait_for(lambda: cls.try_node(db_a, "ca", urls), 60, "a node on the new NATS cluster")
            cls.b = mshtest.wait_for(lambda: cls.try_node(db_b, "cb", urls), 60, "a second node on the NATS cluster")
            for s in (cls.a, cls.b):
                mshtest.wait_for(lambda s=s: health(s)[0] == 200, 30, "%s caught up" % s.log_path)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def try_node(cls, db, name, urls):
        s = node(db, name, "--feed-stream", "CLUSTER_TEST", urls=urls)
        try:
            s.start()
        except AssertionError as e:
            if "JetStream" not in str(e):
                raise
            return None
        cls.nodes.append(s)
        return s

    @classmethod
    def tearDownClass(cls):
        try:
            mshtest.stop_servers(*cls.nodes)
        finally:
            for n in cls.nats:
                n.stop()

    def test_three_replicas(self):
        self.assertIn("created stream CLUSTER_TEST (mashaer.feed.CLUSTER_TEST.>, 3 replicas)", self.a.stderr())
        mshtest.post_ok(self.a, "positions", crowd("CL", 20, now_ms()), FEED)
        seq = same_seq(self.a, self.b)
        self.assertEqual(seq, 1)
        r = self.b.get("/entities/CL-019", headers={"Authorization": "Bearer " + OPS})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(tile(self.a, "movement").body, tile(self.b, "movement").body)


if __name__ == "__main__":
    mshtest.main()
