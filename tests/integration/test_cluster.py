"""The cluster: nodes on one PostgreSQL store behind HAProxy, the emitter lease, and node failures.

Real processes on loopback: a private PostgreSQL + PostGIS (pgsupport, a child of this test), two
`mashaer serve` nodes on one database, and HAProxy in front (`haproxy -db`: in the foreground, a
child of this test too) health-checking /health every 100 ms. Every wait is a barrier on what a
process reports (/metrics, HAProxy's CSV stats), never a fixed sleep.

- one lease: of two nodes exactly one holds the emitter lease (/metrics and /health agree), and a
  node that keeps being refused does not take it while the holder lives;
- kill -9 the holder: the other node takes the lease within a few checks; the restarted node does
  not take it back;
- kill -9 a node while four clients ask for tiles through HAProxy: no request fails (HAProxy
  retries a GET whose connection was refused or cut, on the other node), the answers are the
  same bytes, and the restarted node is back in the rotation once its /health answers 200;
- a single machine (SpatiaLite) always holds the lease.
"""

import json
import os
import shutil
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clustersupport  # noqa: E402
import mshtest  # noqa: E402
import pgsupport  # noqa: E402
from mshtest import Server, wait_for, work_path  # noqa: E402

# the cluster's PostgreSQL is this test's own, named by URL
mshtest.spatialite_only("its one file store is the single machine on SpatiaLite, which always holds the lease")

PG = None
URL = None
NODES = []
NODE_PORTS = []
TILE = "/tiles/sites,camps/10/625/449.mvt"  # the demo's holy sites
HA = None  # clustersupport.Haproxy in front of the two nodes
ADMIN = None  # an admin token (POST /test/alert)


def lease(node):
    """(holds, checks) as the node's /metrics say."""
    s = mshtest.parse_metrics(node.get("/metrics").body.decode())
    return int(mshtest.metric(s, "mashaer_emitter_lease")), int(mshtest.metric(s, "mashaer_emitter_lease_checks_total"))


def holders():
    return [n for n in NODES if n.alive() and lease(n)[0] == 1]


def start_node(i, name):
    """Node i on its own fixed port (HAProxy's configuration names it); flags after --port 0 win."""
    return Server(URL, "--reload-ms", "200", "--test-clock", "--port", NODE_PORTS[i], name=name).start()


def setUpModule():
    global PG, URL, HA, ADMIN
    if not shutil.which("haproxy"):
        raise AssertionError("haproxy is not installed; run scripts/setup.sh")
    PG = pgsupport.Postgres(routing=False, in_memory=True).start_child(mshtest.spawn, wait_for,
                                                                      template_root=mshtest.pg_template_root())
    PG.psql("postgres", "CREATE DATABASE cluster")
    URL = PG.url("cluster")
    for layer in ("sites", "camps"):
        mshtest.run_mashaer("import", "--db", URL, "--layer", layer, mshtest.demo_path(layer + ".geojson"), check=0)
    ADMIN = mshtest.run_mashaer("token", "add", "--db", URL, "--role", "admin", "--name", "test",
                                check=0).stdout.splitlines()[0].strip()
    NODE_PORTS.extend([pgsupport._free_port(), pgsupport._free_port()])
    NODES.extend([start_node(0, "node0"), start_node(1, "node1")])
    HA = clustersupport.Haproxy(NODE_PORTS).start()
    wait_for(HA.all_up, 30, "HAProxy to see both nodes UP")


def tearDownModule():
    if HA is not None:
        HA.stop()
    mshtest.stop_servers(*[n for n in NODES if n.alive()])  # a node that exits non-zero (ASan) fails
    if PG is not None:
        PG.stop()


def kill9(node):
    node.proc.kill()
    node.proc.wait()
    node.stop()  # closes its pipes; it is gone already


def raise_alert(node, subject, state="raised"):
    r = mshtest.fetch(node.url("/test/alert?subject=%s&state=%s" % (subject, state)), method="POST",
                      headers={"Authorization": "Bearer " + ADMIN})
    if r.status != 200:
        raise AssertionError("POST /test/alert on %s: %d %r" % (node.base, r.status, r.body))


class Sse(mshtest.EventStream):
    """A node's /events?types=zone: the data of every zone event, in order."""

    def __init__(self, node):
        super().__init__(node.port, "types=zone", "zone", timeout=60)

    def zones(self):
        with self.lock:
            return [(e["zone"], e["state"]) for e in self.events]


class Alerts(unittest.TestCase):
    def test_alert_during_failover_sent_once(self):
        """Both nodes compute k1; only the survivor computes k2 before the holder dies: each is one event."""
        wait_for(lambda: len(holders()) == 1, 20, "one holder")
        h = NODES.index(holders()[0])
        o = 1 - h
        subs = [Sse(NODES[0]), Sse(NODES[1])]
        try:
            raise_alert(NODES[h], "k1")
            raise_alert(NODES[o], "k1")  # the same alert, computed by the other node from the same feed
            for sub in subs:
                wait_for(lambda: ("test/k1", "raised") in sub.zones(), 10, "k1 on both nodes' streams")
            # k2: computed by the non-holder only (the holder died before it wrote it): kept, not sent
            raise_alert(NODES[o], "k2")
            unwritten = lambda: mshtest.metric(mshtest.parse_metrics(NODES[o].get("/metrics").body.decode()),
                                               "mashaer_alert_ledger_subjects", state="unwritten")
            wait_for(lambda: unwritten() >= 2, 10, "the non-holder to keep k1 and k2 unwritten")
            self.assertEqual(PG.psql("cluster", "SELECT key, state FROM msh_alert_ledger ORDER BY key"),
                             [["zone/test/k1", "raised"]])
            kill9(NODES[h])
            t0 = time.monotonic()
            wait_for(lambda: ("test/k2", "raised") in subs[o].zones(), 10, "k2 sent by the new holder")
            print("an alert kept by the survivor sent %.2f s after kill -9 of the holder" % (time.monotonic() - t0),
                  file=sys.stderr)
            raise_alert(NODES[o], "k1")  # still raised: no event
            raise_alert(NODES[o], "k3")  # new, on the new holder: one event, after anything k1 could make
            wait_for(lambda: ("test/k3", "raised") in subs[o].zones(), 10, "k3 on the survivor's stream")
            self.assertEqual(subs[o].zones(), [("test/k1", "raised"), ("test/k2", "raised"), ("test/k3", "raised")])
            raise_alert(NODES[o], "k1", "cleared")
            wait_for(lambda: ("test/k1", "cleared") in subs[o].zones(), 10, "k1 cleared")
            self.assertEqual(subs[o].zones()[3:], [("test/k1", "cleared")])
        finally:
            for sub in subs:
                sub.close()
        NODES[h] = start_node(h, "node%d.after_alerts" % h)
        wait_for(lambda: HA.states().get("node%d" % h) == "UP", 20, "the restarted node UP in HAProxy")


class Lease(unittest.TestCase):
    def test_1_one_holder(self):
        wait_for(lambda: len(holders()) == 1, 20, "one node to take the emitter lease")
        holder = holders()[0]
        other = NODES[1 - NODES.index(holder)]
        # the other has been refused a few times since: still not a holder
        _, checks = lease(other)
        wait_for(lambda: lease(other)[1] >= checks + 3, 10, "three more lease answers on the other node")
        self.assertEqual(lease(other)[0], 0)
        self.assertEqual([n for n in NODES if lease(n)[0] == 1], [holder])
        self.assertTrue(holder.json("/health")["emitter_lease"])
        self.assertFalse(other.json("/health")["emitter_lease"])
        # the lock PostgreSQL holds is the holder's one session (application_name names it)
        rows = PG.psql("cluster", "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                                  "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = "
                                  "'mashaer-emitter-lease'")
        self.assertEqual(rows, [["1"]])

    def test_2_holder_killed(self):
        wait_for(lambda: len(holders()) == 1, 20, "one holder")
        i = NODES.index(holders()[0])
        other = NODES[1 - i]
        t0 = time.monotonic()
        kill9(NODES[i])
        wait_for(lambda: lease(other)[0] == 1, 10, "the surviving node to take the lease")
        took = time.monotonic() - t0
        print("lease taken over %.2f s after kill -9 of the holder" % took, file=sys.stderr)
        self.assertLess(took, 5.0)
        NODES[i] = start_node(i, "node%d.again" % i)
        _, checks = lease(NODES[i])
        wait_for(lambda: lease(NODES[i])[1] >= checks + 3, 10, "three lease answers on the restarted node")
        self.assertEqual(lease(NODES[i])[0], 0, "the restarted node took a lease that was held")
        self.assertEqual(lease(other)[0], 1)


class Balancer(unittest.TestCase):
    def test_kill_node_under_load(self):
        """A client asks through HAProxy for tiles while a node is killed: nothing fails."""
        wait_for(HA.all_up, 30, "both nodes UP")
        # the same tile from both nodes first: the same bytes and ETag (interchangeable nodes)
        a = NODES[0].get(TILE)
        b = NODES[1].get(TILE)
        self.assertEqual(a.status, 200)
        self.assertEqual((a.body, a.header("etag")), (b.body, b.header("etag")))
        stop = threading.Event()
        results = []  # (status, len)
        errors = []

        def client():
            while not stop.is_set():
                try:
                    r = mshtest.fetch("http://127.0.0.1:%d%s" % (HA.port, TILE), timeout=10)
                    results.append(r.status)
                    if r.status != 200 or r.body != a.body:
                        errors.append((r.status, r.body[:200]))
                except Exception as e:  # a refused or cut connection counts as a failure
                    errors.append(repr(e))

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            wait_for(lambda: len(results) >= 200, 30, "200 tiles through HAProxy")
            victim = 1
            kill9(NODES[victim])
            n_kill = len(results)
            wait_for(lambda: HA.states().get("node1") == "DOWN", 10, "HAProxy to mark the killed node DOWN")
            wait_for(lambda: len(results) >= n_kill + 200, 30, "200 more tiles after the kill")
            NODES[victim] = start_node(victim, "node1.back")  # the same port: back in the rotation
            wait_for(lambda: HA.states().get("node1") == "UP", 10, "HAProxy to take the node back")
            n_back = len(results)
            wait_for(lambda: len(results) >= n_back + 200, 30, "200 more tiles with the node back")
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        print("%d tiles through HAProxy across kill -9 of a node: %d failed" % (len(results), len(errors)),
              file=sys.stderr)
        self.assertEqual(errors, [])


class SingleMachine(unittest.TestCase):
    def test_spatialite_always_holds(self):
        db = work_path("one.sqlite")
        mshtest.import_layer(db, mshtest.demo_path("sites.geojson"), "sites")
        with Server(db, name="single") as s:
            self.assertEqual(lease(s), (1, 0))
            self.assertTrue(s.json("/health")["emitter_lease"])


if __name__ == "__main__":
    mshtest.main()
