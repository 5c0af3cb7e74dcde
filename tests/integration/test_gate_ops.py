"""Operators open and close gates: PATCH state (If-Match, 400 on a bad state), the `gate` event,
`state` and `closed_reason` on the items and the vector tiles, a closed gate closes its walkways
to routing at once (the route goes around it; with no way around, /route answers 404 naming the
gate), reopening brings the route back, a closed gate's planned reopening (reopens_at: refused
when it is not a future time or the gate is open, cleared when it opens), and a closed gate stays
closed, with its reopening time, across kill -9.

The walkways are a small made-up network: a 207 x 111 m rectangle (A B C D) and a spur east of
B in three lines. Gate G-BOTTOM stands on the bottom side A-B, gate G-SPUR on the spur's middle
line. No fixed sleeps: the PATCH recomputes the walking costs before it answers.
"""
import json
import time
import unittest

import mshtest
import test_events
from mshtest import now_ms

DB = None
SERVER = None
TOK = {}
GATES = "/ogc/collections/gates/items"
A, B, C, D = (39.880, 21.410), (39.882, 21.410), (39.882, 21.411), (39.880, 21.411)
M1, M2, E = (39.8828, 21.410), (39.8832, 21.410), (39.884, 21.410)
P, Q = "39.8800000,21.4102000", "39.8820000,21.4102000"   # just above A on A-D, just above B on B-C


def req(path, method="GET", token=None, body=None, headers=None):
    return mshtest.request(SERVER, path, method, token, body, "application/merge-patch+json", headers)


def set_gate(gid, body, etag=None):
    if etag is None:
        etag = req("%s/%s" % (GATES, gid)).header("ETag")
    return req("%s/%s" % (GATES, gid), "PATCH", TOK["ops"], body, {"If-Match": etag})


def iso(ms):
    """The server's form of a time: ISO 8601 UTC to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def route(frm, to):
    r = SERVER.get("/route?from=%s&to=%s" % (frm, to))
    return r.status, json.loads(r.body)


class GateOps(unittest.TestCase):
    def test_close_route_around_reopen(self):
        status, doc = route(P, Q)
        self.assertEqual(status, 200, doc)
        direct = doc["properties"]["length_m"]
        self.assertLess(direct, 260)                      # 22 m down, A-B, 22 m up
        s = test_events.Stream("?types=gate")
        try:
            r = set_gate("G-BOTTOM", {"state": "closed", "reason": "crowd control"})
            self.assertEqual(r.status, 200, r.body)
            p = json.loads(r.body)["properties"]
            self.assertEqual((p["state"], p["closed_reason"]), ("closed", "crowd control"))
            ev = s.wait_for(lambda e: e[2].get("gate") == "G-BOTTOM", "the gate event")[0][2]
            self.assertEqual((ev["state"], ev["reason"]), ("closed", "crowd control"))
            # at once: the answer came after the costs were recomputed
            status, doc = route(P, Q)
            self.assertEqual(status, 200, doc)
            self.assertGreater(doc["properties"]["length_m"], 370)   # up, D-C, down: around the gate
            # the tile carries the state too
            x, y = mshtest.lonlat_to_tile(39.881, 21.410, 16)
            _, tile = mshtest.fetch_tile(SERVER, "gates", 16, x, y)
            states = {f.attrs["id"]: f.attrs.get("state") for f in tile["gates"]}
            self.assertEqual(states.get("G-BOTTOM"), "closed")
            r = set_gate("G-BOTTOM", {"state": "open"})
            self.assertEqual(r.status, 200, r.body)
            p = json.loads(r.body)["properties"]
            self.assertEqual(p["state"], "open")
            self.assertIsNone(p["closed_reason"])
            s.wait_for(lambda e: e[2].get("gate") == "G-BOTTOM" and e[2]["state"] == "open", "the open event")
            status, doc = route(P, Q)
            self.assertEqual(doc["properties"]["length_m"], direct)
        finally:
            s.close()

    def test_no_way_around_names_the_gate(self):
        to_e = "%.7f,%.7f" % E
        status, doc = route(P, to_e)
        self.assertEqual(status, 200, doc)
        self.assertEqual(set_gate("G-SPUR", {"state": "closed", "reason": "maintenance"}).status, 200)
        status, doc = route(P, to_e)
        self.assertEqual(status, 404, doc)
        self.assertIn("G-SPUR", doc["error"])
        self.assertEqual(set_gate("G-SPUR", {"state": "open"}).status, 200)
        self.assertEqual(route(P, to_e)[0], 200)

    def test_queue_in_front(self):
        def queue(gid):
            p = json.loads(req("%s/%s" % (GATES, gid)).body)["properties"]
            return p["queue_people"], p["queue_density"], p["queue_los"]
        self.assertEqual(queue("G-SPUR"), (None, None, None))      # nobody there
        # 3 people by G-SPUR: under k (5), not shown; 40 on G-BOTTOM (one 8.9 m cell) over 30 m x 30 m,
        # and 2 more 11 m east of it: inside the square, but their cell (under k) stays hidden
        at = lambda lon, lat, tag, n: [{"id": "Q-%s%d" % (tag, i), "lon": lon, "lat": lat, "time": now_ms()}  # noqa: E731
                                       for i in range(n)]
        recs = at(39.8830, 21.410, "S", 3) + at(39.881, 21.410, "B", 40) + at(39.88111, 21.410, "E", 2)
        mshtest.post_ok(SERVER, "positions", recs, TOK["feed"])
        self.assertEqual(queue("G-SPUR"), (None, None, None))
        self.assertEqual(queue("G-BOTTOM"), (40, round(40 / 900, 3), "A"))
        # the tile carries it too
        x, y = mshtest.lonlat_to_tile(39.881, 21.410, 16)
        _, tile = mshtest.fetch_tile(SERVER, "gates", 16, x, y)
        got = {f.attrs["id"]: f.attrs.get("queue_people") for f in tile["gates"]}
        self.assertEqual(got.get("G-BOTTOM"), 40)

    def test_refusals(self):
        self.assertEqual(set_gate("G-BOTTOM", {"state": "ajar"}).status, 400)
        self.assertEqual(set_gate("G-BOTTOM", {"capacity": 5}).status, 400)
        self.assertEqual(set_gate("G-NONE", {"state": "closed"}, etag='"x"').status, 404)
        r = req("%s/G-BOTTOM" % GATES, "PATCH", TOK["ops"], {"state": "closed"})
        self.assertEqual(r.status, 428)
        self.assertEqual(set_gate("G-BOTTOM", {"state": "closed"}, etag='"i0"').status, 412)
        r = req("%s/G-BOTTOM" % GATES, "PATCH", TOK["feed"], {"state": "closed"}, {"If-Match": "*"})
        self.assertEqual(r.status, 403)
        self.assertEqual(req(GATES, "POST", TOK["ops"], {}).status, 405)
        self.assertEqual(json.loads(req("%s/G-BOTTOM" % GATES).body)["properties"]["state"], "open")

    def test_reopens_at(self):
        def props():
            r = req("%s/G-BOTTOM" % GATES)
            return r.header("ETag"), json.loads(r.body)["properties"]
        etag0, p0 = props()
        self.assertEqual((p0["state"], p0["reopens_at"]), ("open", None))
        later = iso(now_ms() + 3600 * 1000)
        # refused, nothing changed: not a time, a time without its zone, a past time, a time on an open gate
        for body, says in (({"state": "closed", "reopens_at": "soon"}, "'reopens_at' must be an ISO 8601 time"),
                           ({"state": "closed", "reopens_at": later[:-1]}, "'reopens_at' must be an ISO 8601 time"),
                           ({"state": "closed", "reopens_at": iso(now_ms() - 60000)}, "in the future"),
                           ({"reopens_at": later}, "only a closed gate reopens")):
            r = set_gate("G-BOTTOM", body)
            self.assertEqual(r.status, 400, (body, r.body))
            self.assertIn(says, json.loads(r.body)["error"])
            self.assertEqual(props(), (etag0, p0))
        s = test_events.Stream("?types=gate")
        try:
            r = set_gate("G-BOTTOM", {"state": "closed", "reason": "full", "reopens_at": later})
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(json.loads(r.body)["properties"]["reopens_at"], later)
            ev = s.wait_for(lambda e: e[2].get("gate") == "G-BOTTOM" and e[2]["state"] == "closed", "the event")
            self.assertEqual(ev[0][2]["reopens_at"], later)
        finally:
            s.close()
        self.assertEqual(props()[1]["reopens_at"], later)
        # opening the gate clears it
        self.assertEqual(set_gate("G-BOTTOM", {"state": "open"}).status, 200)
        self.assertEqual(props()[1]["reopens_at"], None)

    def test_z_kill9_keeps_it_closed(self):
        global SERVER
        later = iso(now_ms() + 7200 * 1000)
        self.assertEqual(set_gate("G-SPUR", {"state": "closed", "reason": "kept", "reopens_at": later}).status, 200)
        SERVER.proc.kill()
        SERVER.proc.wait()
        SERVER.stop()
        SERVER = mshtest.Server(DB, name="serve2").start()
        test_events.SERVER = SERVER
        p = json.loads(req("%s/G-SPUR" % GATES).body)["properties"]
        self.assertEqual((p["state"], p["closed_reason"], p["reopens_at"]), ("closed", "kept", later))
        # the feed keeps counting a closed gate, and does not open it
        mshtest.post_ok(SERVER, "gates", [{"id": "G-SPUR", "in": 3, "out": 1, "time": now_ms()}], TOK["feed"])
        p = json.loads(req("%s/G-SPUR" % GATES).body)["properties"]
        self.assertEqual((p["state"], p["in_total"]), ("closed", 3))


def setUpModule():
    global DB, SERVER
    DB = mshtest.work_path("gate_ops.sqlite")
    mshtest.import_walkways(DB, [(A, B), (B, C), (C, D), (D, A), (B, M1), (M1, M2), (M2, E)])
    for role, name in (("ops", "ops-alice"), ("feed", "sensor")):
        TOK[role] = mshtest.add_token(DB, role, name)
    SERVER = mshtest.Server(DB).start()
    test_events.SERVER = SERVER
    mshtest.post_ok(SERVER, "gates", [{"id": "G-BOTTOM", "lon": 39.881, "lat": 21.410, "capacity": 5000,
                                       "in": 0, "out": 0, "time": now_ms()},
                                      {"id": "G-SPUR", "lon": 39.8830, "lat": 21.410, "capacity": 5000,
                                       "in": 0, "out": 0, "time": now_ms()}], TOK["feed"])


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
