"""A cluster on one PostgreSQL store with the feed log on three NATS servers, and its failures.

Real processes on loopback: three nats-server with JetStream routed into one cluster (the stream
has 3 replicas), a private PostgreSQL + PostGIS (pgsupport, a child of this test), and two Mashaer
nodes A and B on that one database, each with `--live-dir` of its own and `--feed-log` naming all
three NATS servers. A poster thread sends batches of distinct people to A, one stream message each,
and keeps the ids of every batch A acknowledged. Every wait is a barrier on what a process reports
(acknowledgements, /health's feed_seq, /metrics, NATS's monitoring endpoints, rows in the store),
never a fixed sleep.

- the live tables on the shared store: an incident posted to A is one row (and one history row) in
  PostgreSQL although both nodes apply it; a gate's 5-minute count is one row with A's counts; a
  permit alert both nodes compute is one ledger row and one event on each node's stream; incidents
  operators create on A and on B get numbers from one sequence;
- kill -9 the NATS server holding A's consumer (a single copy on one server), made the stream's
  leader first where stepping down gets it there, while batches flow: a batch sent after the kill
  is acknowledged within 30 s of it (a new stream leader stores it and the library makes A's
  consumer again, after two missed 1 s heartbeats, so that A applies it; the time is printed), and
  every acknowledged person is on both nodes once they are at the same feed_seq; the killed
  server comes back and rejoins;
- kill -9 node B while batches flow: A goes on; B restarted on its live folder replays from its
  snapshot and the stream, answers 200 at A's feed_seq, holds every acknowledged person, and the
  movement and positions tiles of the two nodes are byte-identical;
- kill -9 two of the three NATS servers (the stream's quorum) while four posters keep A's
  asynchronous publishes and group commit busy: posts answer 503 (none 200 while nothing can be
  stored), each with Retry-After (a stream leader election passes; as after the stream leader's
  kill above), the two come back, posts are acknowledged again, and every person A acknowledged
  before, during and after is on both nodes (a 200 only for what the stream stored).
- kill -9 the emitter lease's holder while KPIs are recorded every second: the other node records
  from the next second on, one record per second of the clock, no second missing and none twice.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
import pgsupport  # noqa: E402
import test_feed_log as fl  # noqa: E402  (its helpers: crowd, health, feed_seq, tile; its tests are not loaded here)

NATS = fl.NATS
SERVERS = []  # [{name, port, mon, route, conf, proc}]
A = B = None
PG = URL = None
FEED = OPS = None
KPI_CONFIG = None  # KPIs recorded every second


def nats_conf(i):
    s = SERVERS[i]
    routes = ",".join("nats-route://127.0.0.1:%d" % o["route"] for o in SERVERS)
    with open(s["conf"], "w") as f:
        f.write('server_name: %s\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\njetstream { store_dir: "%s" }\n'
                'cluster { name: it, listen: 127.0.0.1:%d, routes: [%s] }\n'
                % (s["name"], s["port"], s["mon"], mshtest.work_path("js-" + s["name"]), s["route"], routes))


def nats_start(i):
    s = SERVERS[i]
    s["log"] = open(mshtest.work_path("%s.log" % s["name"]), "ab")
    s["proc"] = mshtest.spawn([NATS, "-c", s["conf"]], stdout=s["log"], stderr=subprocess.STDOUT)


def jsz(i, query=""):
    try:
        r = mshtest.fetch("http://127.0.0.1:%d/jsz%s" % (SERVERS[i]["mon"], query), timeout=2)
        return json.loads(r.body) if r.status == 200 else None
    except OSError:
        return None


def meta_leader(i):
    j = jsz(i)
    return (j or {}).get("meta_cluster", {}).get("leader")


def stream_leader():
    """The name of the server leading the feed stream, as a live server reports it."""
    for i, s in enumerate(SERVERS):
        if s["proc"] and s["proc"].poll() is None:
            j = jsz(i, "?accounts=true&streams=true") or {}
            for acc in j.get("account_details", []):
                for st in acc.get("stream_detail", []):
                    if st.get("name") == "MASHAER_FEED" and st.get("cluster", {}).get("leader"):
                        return st["cluster"]["leader"]
    return None


def stream_stepdown():
    """Ask the stream's leader to step down (a JetStream API request in NATS's text protocol, on a
    live server): another replica is elected. True when the servers answered without an error."""
    i = next(i for i, s in enumerate(SERVERS) if s["proc"] and s["proc"].poll() is None)
    with socket.create_connection(("127.0.0.1", SERVERS[i]["port"]), timeout=10) as c:
        f = c.makefile("rb")
        f.readline()  # INFO
        c.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB _INBOX.stepdown 1\r\n'
                  b"PUB $JS.API.STREAM.LEADER.STEPDOWN.MASHAER_FEED _INBOX.stepdown 0\r\n\r\n")
        while True:
            line = f.readline()
            if not line:
                return False
            if line.startswith(b"PING"):
                c.sendall(b"PONG\r\n")
            elif line.startswith(b"MSG "):
                body = f.read(int(line.split()[-1]) + 2)
                return "error" not in json.loads(body)


def node(name):
    urls = ",".join("nats://127.0.0.1:%d" % s["port"] for s in SERVERS)
    return mshtest.Server(URL, "--threads", "2", "--forecast-every", "0", "--feed-log", urls,
                          "--live-dir", mshtest.work_path(name + ".live"), "--snapshot-s", "1", "--reload-ms", "200",
                          "--permit-min-scans", "10", "--kpi-config", KPI_CONFIG, name=name)


def sql(query):
    return PG.psql("cluster", query)


def lease(server):
    return int(mshtest.metric(mshtest.parse_metrics(server.get("/metrics").body.decode()), "mashaer_emitter_lease"))


class Poster:
    """Posts batches of 20 new people to A until stopped; `acked` holds the ids A acknowledged,
    `acks` when each acknowledged batch was sent and answered (time.monotonic()), `refusals` the
    answers that were not 200 (status, Retry-After header, JSON body)."""

    def __init__(self, prefix):
        self.prefix, self.acked, self.failed = prefix, [], 0
        self.acks, self.refusals = [], []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        i = 0
        while not self.stop.is_set():
            people = fl.crowd("%s%04d" % (self.prefix, i), 20, mshtest.now_ms())
            sent = time.monotonic()
            try:
                r = mshtest.post_feed(A, "positions", people, FEED)
                ok = r.status == 200 and r.json().get("accepted") == 20
                if r.status != 200:
                    self.refusals.append((r.status, r.header("Retry-After"), r.body))
            except OSError:
                ok = False
            if ok:
                self.acked.extend(p["id"] for p in people)
                self.acks.append((sent, time.monotonic()))
            else:
                self.failed += 1
            i += 1

    def end(self):
        self.stop.set()
        self.thread.join(60)


def feed_log_state(server):
    """What a node's feed log is doing, for a failure's message: its mashaer_feed_log_* metrics and the
    last lines of its stderr that name the feed log."""
    try:
        text = server.get("/metrics").body.decode()
        counters = " ".join(l for l in text.splitlines() if l.startswith("mashaer_feed_log_"))
    except OSError as e:
        counters = "no /metrics: %s" % e
    lines = [l for l in server.stderr().splitlines() if "feed log" in l][-8:]
    return "%s\n%s" % (counters, "\n".join(lines))


def feed_log_route(server):
    """Which NATS server `server` goes through and which holds its consumer (names, from what its
    stderr said last; "?" when it did not say)."""
    port = cons = "?"
    for line in server.stderr().splitlines():
        if "feed log:" in line and "through nats://" in line:
            port = line.split("through nats://")[1].split(")")[0].split(":")[-1]
        if "feed log: consumer " in line:
            cons = line.split()[-1]
    name = next((s["name"] for s in SERVERS if str(s["port"]) == port.strip()), "?")
    return name, cons


def refusal_reasons(refusals):
    """How many refusals gave each reason (the error's text up to its second colon)."""
    counts = {}
    for status, retry, body in refusals:
        try:
            why = json.loads(body).get("error", "")
        except ValueError:
            why = body[:60]
        why = "%d %s" % (status, ":".join(why.split(":")[:2]))
        counts[why] = counts.get(why, 0) + 1
    return ", ".join("%d x %s" % (n, why) for why, n in sorted(counts.items()))


def assert_retry_after(test, refusals):
    """Every refusal of a batch while the stream has no leader is a 503 that says when to send it
    again: Retry-After of 1 or 2 s, and the same in the body's retry_after_s."""
    for status, retry, body in refusals:
        test.assertEqual(status, 503, body)
        test.assertIn(retry, ("1", "2"), body)
        j = json.loads(body)
        test.assertEqual((j.get("retry_after_s"), j.get("status")), (int(retry), 503), body)
        test.assertIn("send", j.get("error", ""), body)


def position_ids(server):
    x, y = mshtest.lonlat_to_tile(fl.SPOT[0], fl.SPOT[1], fl.Z)
    r = fl.tile(server, "positions", OPS)
    return set(f.attrs["id"] for f in mshtest.decode_mvt(r.body, fl.Z, x, y).get("positions", []))


def setUpModule():
    global A, B, PG, URL, FEED, OPS, KPI_CONFIG
    if not NATS:
        raise unittest.SkipTest("nats-server is not installed (scripts/setup.sh): cluster feed tests skipped")
    for i in range(3):
        SERVERS.append(dict(name="n%d" % (i + 1), port=fl.free_port(), mon=fl.free_port(), route=fl.free_port(),
                            conf=mshtest.work_path("n%d.conf" % (i + 1)), proc=None))
    for i in range(3):
        nats_conf(i)
        nats_start(i)
    mshtest.wait_for(lambda: all(meta_leader(i) for i in range(3)), 60, "the NATS cluster to elect a meta leader")
    PG = pgsupport.Postgres(routing=False, in_memory=True).start_child(
        mshtest.spawn, mshtest.wait_for, ["-c", "max_connections=60"], template_root=mshtest.pg_template_root())
    PG.psql("postgres", "CREATE DATABASE cluster")
    URL = PG.url("cluster")
    mshtest.import_layer(URL, mshtest.demo_path("sites.geojson"), "sites")
    FEED = mshtest.add_token(URL, "feed", "it-cluster-feed")
    OPS = mshtest.add_token(URL, "ops", "it-cluster-ops")
    KPI_CONFIG = mshtest.work_path("kpi.json")
    with open(KPI_CONFIG, "w") as f:
        json.dump({"interval_s": 1}, f)
    A = node("a").start()
    B = node("b").start()
    for s in (A, B):
        mshtest.wait_for(lambda s=s: fl.health(s)[0] == 200, 30, "%s caught up" % s.log_path)


def tearDownModule():
    try:
        mshtest.stop_servers(*[s for s in (A, B) if s is not None])
    finally:
        if PG is not None:
            PG.stop()
        for s in SERVERS:
            if s["proc"] and s["proc"].poll() is None:
                s["proc"].terminate()
                s["proc"].wait(15)
            if s.get("log"):
                s["log"].close()


class A0SharedStore(unittest.TestCase):
    def test_0_live_tables_once_in_the_shared_store(self):
        t = mshtest.now_ms()
        inc = {"id": "INC-CF-1", "lon": fl.SPOT[0], "lat": fl.SPOT[1], "time": t, "kind": "medical",
               "severity": "high", "status": "reported", "description": "shared store"}
        gate = {"id": "G-CF", "lon": fl.SPOT[0], "lat": fl.SPOT[1], "time": t, "in": 7, "out": 2,
                "scans_valid": 10, "scans_denied": 5}
        subs = [mshtest.EventStream(s.port, "types=permit", "permit", timeout=60) for s in (A, B)]
        self.assertEqual(mshtest.post_feed(A, "incidents", [inc], FEED).json()["accepted"], 1)
        self.assertEqual(mshtest.post_feed(A, "gates", [gate], FEED).json()["accepted"], 1)
        fl.same_seq(A, B)
        # both nodes applied both records: one row each in the store
        mshtest.wait_for(lambda: sql("SELECT id, status, description FROM msh_incident_history "
                                     "WHERE id = 'INC-CF-1'") == [["INC-CF-1", "reported", "shared store"]], 30,
                         "the incident's history row")
        self.assertEqual(sql("SELECT id, severity, status FROM msh_incidents WHERE id = 'INC-CF-1'"),
                         [["INC-CF-1", "high", "reported"]])
        mshtest.wait_for(lambda: sql("SELECT gate, in_n, out_n, scans_denied FROM msh_gate_counts "
                                     "WHERE gate = 'G-CF'") == [["G-CF", "7", "2", "5"]], 30,
                         "the gate's 5-minute row (written at a snapshot)")
        # the permit alert (5 denied of 15) both nodes computed: one ledger row, one event on each stream
        for sub in subs:
            mshtest.wait_for(lambda sub=sub: sub.events, 30, "the permit event")
        mshtest.wait_for(lambda: lease(A) + lease(B) == 1, 10, "one emitter")
        self.assertEqual(sql("SELECT key, state FROM msh_alert_ledger WHERE key LIKE '%G-CF%'"),
                         [["permit/G-CF", "raised"]])
        fl.same_seq(A, B)
        for sub in subs:
            with sub.lock:
                self.assertEqual([(e["gate"], e["state"]) for e in sub.events], [("G-CF", "raised")])
        # incidents operators create on either node: numbers from the store's one sequence
        body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(fl.SPOT)},
                "properties": {"kind": "medical", "severity": "low", "description": "by an operator"}}
        ids = []
        for s in (A, B):
            r = mshtest.api(s, "/ogc/collections/incidents/items", "POST", OPS, body)
            self.assertEqual(r.status, 201, r.body)
            ids.append(r.json()["properties"]["id"])
        self.assertEqual(len(set(ids)), 2)
        last = int(sql("SELECT last_value FROM msh_incident_ops_ids")[0][0])
        self.assertEqual(sorted(ids), ["INC-OPS-%d" % (last - 1), "INC-OPS-%d" % last])
        fl.same_seq(A, B)
        mshtest.wait_for(lambda: sql("SELECT count(*) FROM msh_incidents WHERE id LIKE 'INC-OPS-%'") == [["2"]],
                         30, "both operators' incidents in the store")


class A1Failures(unittest.TestCase):
    def test_1_kill_stream_leader_mid_ingest(self):
        p = Poster("K1-")
        try:
            mshtest.wait_for(lambda: len(p.acked) >= 400, 30, "20 batches acknowledged")
            # the server killed holds A's consumer (a single copy, on one server: A applies nothing, and
            # so acknowledges nothing, until the library makes it again) and, when the stream's leadership
            # can be moved there by stepping down (the servers choose whom), leads the stream too
            route = feed_log_route(A)
            self.assertIn(route[1], [s["name"] for s in SERVERS], "A's stderr names its consumer's server")
            leader = mshtest.wait_for(stream_leader, 10, "the stream's leader")
            for _ in range(4):
                if leader == route[1]:
                    break
                self.assertTrue(stream_stepdown())
                leader = mshtest.wait_for(lambda old=leader: (stream_leader() or old) != old and stream_leader(), 30,
                                          "a new stream leader after a step down")
            victim = next(i for i, s in enumerate(SERVERS) if s["name"] == route[1])
            resets = lambda: mshtest.metric(mshtest.parse_metrics(A.get("/metrics").body.decode()),
                                            "mashaer_feed_log_consumer_resets_total")
            resets0 = resets()
            SERVERS[victim]["proc"].kill()
            SERVERS[victim]["proc"].wait()
            t_kill = time.monotonic()
            after_kill = lambda: [acked - t_kill for sent, acked in list(p.acks) if sent > t_kill]
            # the goal: a batch sent after the kill acknowledged within 30 s of it (a new stream
            # leader stores it, and A's consumer, made again if it was on the dead server, applies it
            # here); then 20 more, to see ingest flow on (a slower pace under a sanitizer on a busy
            # machine is not what this measures)
            try:
                mshtest.wait_for(after_kill, 30, "an acknowledgement of a batch sent after the kill")
            except AssertionError as e:
                raise AssertionError("%s (%d batches refused so far); node A:\n%s"
                                     % (e, p.failed, feed_log_state(A))) from None
            mshtest.wait_for(lambda: len(after_kill()) >= 20, 90, "20 batches acknowledged after the kill")
            resumed = after_kill()[0]
            print("kill -9 of %s (A's consumer; %s; A went through %s): a batch sent after the kill "
                  "acknowledged %.2f s after it; %d batches refused: %s"
                  % (route[1], "the stream leader" if leader == route[1] else "the stream led by " + leader,
                     route[0], resumed, p.failed, refusal_reasons(p.refusals)), file=sys.stderr)
            self.assertLess(resumed, 30)
            if route[0] != route[1]:  # A stayed connected: the library found its consumer silent and made it again
                self.assertGreater(resets(), resets0, "no consumer reset counted after the kill")
        finally:
            p.end()
        assert_retry_after(self, p.refusals)
        want = fl.feed_seq(A)
        mshtest.wait_for(lambda: fl.feed_seq(B) == want, 30, "B at A's feed_seq")
        for s in (A, B):
            missing = set(p.acked) - position_ids(s)
            self.assertEqual(missing, set(), "acknowledged people missing on %s" % s.log_path)
        self.assertEqual(fl.tile(A, "movement").body, fl.tile(B, "movement").body)
        # the killed server comes back on its store and rejoins the cluster
        nats_start(victim)
        mshtest.wait_for(lambda: meta_leader(victim), 60, "the restarted NATS server to see a meta leader")

    def test_2_kill_node_mid_ingest(self):
        global B
        p = Poster("K2-")
        try:
            mshtest.wait_for(lambda: len(p.acked) >= 400, 30, "20 batches acknowledged")
            B.proc.kill()
            B.proc.wait()
            B.stop()
            n_kill = len(p.acked)
            mshtest.wait_for(lambda: len(p.acked) >= n_kill + 400, 30, "A acknowledging with B dead")
        finally:
            p.end()
        B = node("b").start()
        want = fl.feed_seq(A)
        mshtest.wait_for(lambda: fl.health(B) == (200, fl.health(B)[1]) and fl.feed_seq(B) == want, 60,
                         "the restarted B to catch up to %d" % want)
        self.assertEqual(set(p.acked) - position_ids(B), set())
        self.assertEqual(position_ids(A), position_ids(B))
        ta, tb = fl.tile(A, "movement"), fl.tile(B, "movement")
        self.assertEqual(ta.status, 200)
        self.assertEqual((ta.body, ta.header("ETag")), (tb.body, tb.header("ETag")))

    def test_3_quorum_lost_mid_ingest(self):
        posters = [Poster("Q%d-" % k) for k in range(4)]
        try:
            mshtest.wait_for(lambda: sum(len(p.acked) for p in posters) >= 800, 30, "40 batches acknowledged")
            m = mshtest.parse_metrics(A.get("/metrics").body.decode())
            self.assertGreaterEqual(mshtest.metric(m, "mashaer_feed_log_published_total"), 40)
            victims = [1, 2]
            for i in victims:
                SERVERS[i]["proc"].kill()
                SERVERS[i]["proc"].wait()
            failed0 = [p.failed for p in posters]
            mshtest.wait_for(lambda: all(p.failed > f for p, f in zip(posters, failed0)), 60,
                             "every poster refused once the quorum is gone")
            acked_out = [len(p.acked) for p in posters]
            seq_out = fl.feed_seq(A)
            for i in victims:
                nats_start(i)
            mshtest.wait_for(lambda: all(len(p.acked) >= n + 40 for p, n in zip(posters, acked_out)), 60,
                             "acknowledgements again once the two servers are back")
        finally:
            for p in posters:
                p.end()
        refusals = [x for p in posters for x in p.refusals]
        self.assertGreater(len(refusals), 0)  # every poster was refused at least once (above)
        assert_retry_after(self, refusals)
        print("quorum lost: %d batches refused, each 503 with Retry-After %s" % (
            len(refusals), sorted(set(x[1] for x in refusals))), file=sys.stderr)
        want = fl.feed_seq(A)
        mshtest.wait_for(lambda: fl.feed_seq(B) == want, 30, "B at A's feed_seq")
        acked = set().union(*(p.acked for p in posters))
        for s in (A, B):
            self.assertEqual(acked - position_ids(s), set(), "acknowledged people missing on %s" % s.log_path)
        self.assertEqual(position_ids(A), position_ids(B))
        self.assertGreater(want, seq_out)
        for i in victims:
            mshtest.wait_for(lambda i=i: meta_leader(i), 60, "NATS server %d back in the cluster" % i)


class A2KpiRecords(unittest.TestCase):
    def test_3_kpi_once_per_second_across_kill_of_the_holder(self):
        global A, B
        mshtest.wait_for(lambda: lease(A) + lease(B) == 1, 10, "one emitter")
        holder, other = (A, B) if lease(A) else (B, A)
        seconds = lambda: [int(r[0]) for r in sql("SELECT t_ms / 1000 FROM msh_kpi_history WHERE zone_id = "
                                                   "(SELECT min(zone_id) FROM msh_kpi_history) ORDER BY t_ms")]
        n0 = len(mshtest.wait_for(lambda: len(seconds()) >= 3 and seconds(), 30, "three KPI records"))
        holder.proc.kill()
        holder.proc.wait()
        holder.stop()
        try:
            mshtest.wait_for(lambda: lease(other) == 1, 10, "the other node to take the lease")
            mshtest.wait_for(lambda: len(seconds()) >= n0 + 4, 30, "four more KPI records")
            got = seconds()
            self.assertEqual(len(got), len(set(got)), "a second recorded twice: %r" % got)
            self.assertEqual(got, list(range(got[0], got[0] + len(got))), "a second missing: %r" % got)
        finally:  # the killed node back, for the module's end
            if holder is A:
                A = node("a").start()
            else:
                B = node("b").start()
        mshtest.wait_for(lambda: fl.health(A)[0] == 200 and fl.health(B)[0] == 200, 60, "both nodes caught up")


if __name__ == "__main__":
    mshtest.main()
