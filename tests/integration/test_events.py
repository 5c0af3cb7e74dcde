"""GET /events (Server-Sent Events): incident, density-alert and gate events, filters, hysteresis,
Last-Event-ID resume, bad parameters, and many idle subscribers that do not slow ingest."""
import http.client
import json
import math
import os
import socket
import threading
import time
import unittest

import mshtest

SERVER = None
TOKEN = None
OPS = None
DB = None


def post(feed, lines):
    body = ("\n".join(json.dumps(l) for l in lines) + "\n").encode()
    c = http.client.HTTPConnection("127.0.0.1", SERVER.port, timeout=30)
    c.request("POST", "/feeds/" + feed, body, {"Authorization": "Bearer " + TOKEN,
                                               "Content-Type": "application/x-ndjson"})
    r = c.getresponse()
    res = json.loads(r.read())
    c.close()
    assert r.status == 200 and res["accepted"] == len(lines), res
    return res


class Stream:
    """A raw SSE client: collects (id, event, data) until told to stop."""

    def __init__(self, query="", headers=None):
        self.sock = socket.create_connection(("127.0.0.1", SERVER.port), timeout=30)
        hdr = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        self.sock.sendall(("GET /events%s HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n%s\r\n"
                           % (query, hdr)).encode())
        self.events = []
        self.raw = b""
        self.status = None
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        buf = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
                with self.lock:
                    self.raw += chunk
                if self.status is None and b"\r\n\r\n" in buf:
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    self.status = int(head.split(b" ")[1])
                    self.headers = head.decode()
                # chunked encoding: strip size lines loosely by parsing frames on blank lines
                text = buf.decode("utf-8", "replace")
                while "\n\n" in text:
                    frame, text = text.split("\n\n", 1)
                    ev = {}
                    for line in frame.split("\n"):
                        if ":" in line and not line.startswith(":"):
                            k, v = line.split(":", 1)
                            ev[k.strip()] = v.strip()
                    if "event" in ev:
                        with self.lock:
                            self.events.append((int(ev.get("id", "0") or 0), ev["event"], json.loads(ev["data"])))
                buf = text.encode()
        except (OSError, ValueError):
            return

    def wait_for(self, pred, timeout=8):
        t0 = time.monotonic()
        while True:
            with self.lock:
                hits = [e for e in self.events if pred(e)]
            if hits or time.monotonic() - t0 >= timeout:
                return hits
            time.sleep(0.05)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def now_ms():
    return int(time.time() * 1000)


def crowd(prefix, lon, lat, n, spread=0.00015, heading=None):
    out = []
    for i in range(n):
        rec = {"id": "%s-%d" % (prefix, i), "lon": lon + (i % 40) * spread / 40, "lat": lat + (i // 40) * spread / 40,
               "time": now_ms()}
        if heading is not None:
            rec.update(speed=1.0, heading=heading if heading >= 0 else (i * 97) % 360)
        out.append(rec)
    return out


class Events(unittest.TestCase):
    def test_incident_events_and_filters(self):
        everything = Stream()
        only_density = Stream("?types=density")
        far_away = Stream("?bbox=10,10,11,11")
        near = Stream("?types=incident&bbox=39.86,21.41,39.89,21.43")
        time.sleep(0.3)
        self.assertEqual(everything.status, 200)
        self.assertIn("text/event-stream", everything.headers)
        post("incidents", [{"id": "EV-1", "kind": "medical", "severity": "high", "lon": 39.8729, "lat": 21.4215,
                            "time": now_ms(), "description": "إغماء"}])
        post("incidents", [{"id": "EV-1", "kind": "medical", "severity": "high", "status": "dispatched",
                            "lon": 39.8729, "lat": 21.4215, "time": now_ms() + 1}])
        got = everything.wait_for(lambda e: e[1] == "incident" and e[2]["id"] == "EV-1" and e[2]["action"] == "updated")
        self.assertTrue(got, everything.events)
        created = [e for e in everything.events if e[1] == "incident" and e[2]["action"] == "created"][0]
        self.assertEqual(created[2]["severity"], "high")
        self.assertEqual(created[2]["description"], "إغماء")
        self.assertEqual(got[0][2]["status"], "dispatched")
        self.assertEqual(got[0][2]["previous_status"], "reported")
        self.assertLess(created[0], got[0][0])  # ids increase
        self.assertTrue(near.wait_for(lambda e: e[1] == "incident"))
        time.sleep(0.5)
        self.assertFalse([e for e in only_density.events if e[1] != "density"])
        self.assertFalse([e for e in far_away.events if e[1] == "incident"])
        for s in (everything, only_density, far_away, near):
            s.close()

    def test_density_alert_raised_then_cleared(self):
        s = Stream("?types=density")
        time.sleep(0.3)
        # 2,000 people in about 16 m x 16 m, walking every which way: LoS F and crowd pressure
        post("positions", crowd("D", 39.8950, 21.4100, 2000, spread=0.00015, heading=-1))
        raised = s.wait_for(lambda e: e[2]["state"] == "raised" and e[2]["level_of_service_alert"])
        self.assertTrue(raised, s.events)
        ev = raised[0][2]
        self.assertIn(ev["los"], "EF")
        self.assertGreater(ev["density"], 1.08)
        self.assertGreater(ev["pressure"], 0.02)
        self.assertTrue(ev["pressure_alert"])
        # the crowd leaves (moves 2 km away): the alert clears
        post("positions", [dict(r, lon=r["lon"] + 0.02, time=now_ms() + 5) for r in
                           crowd("D", 39.8950, 21.4100, 2000, spread=0.004, heading=90)])
        cleared = s.wait_for(lambda e: e[2]["state"] == "cleared" and e[2]["cell"] == ev["cell"])
        self.assertTrue(cleared, s.events)
        s.close()

    def test_hysteresis(self):
        # a cell hovering just under the LoS E line after being raised does not clear (no flapping)
        s = Stream("?types=density")
        time.sleep(0.3)
        lon, lat = 39.9000, 21.4050
        post("positions", crowd("H", lon, lat, 1500, spread=0.0002))
        first = s.wait_for(lambda e: e[2]["state"] == "raised" and e[2]["level_of_service_alert"])
        self.assertTrue(first, s.events)
        cell = first[0][2]["cell"]
        count = first[0][2]["count"]
        area = count / first[0][2]["density"]
        level, cx, cy = (int(v) for v in cell.split("/"))
        people = crowd("H", lon, lat, 1500, spread=0.0002)

        def cell_of(r):
            n = 2 ** level
            x = (r["lon"] + 180) / 360 * n
            s_ = math.sin(math.radians(r["lat"]))
            y = (0.5 - math.log((1 + s_) / (1 - s_)) / (4 * math.pi)) * n
            return int(x), int(y)

        inside = [r for r in people if cell_of(r) == (cx, cy)]
        self.assertEqual(len(inside), count)
        # bring the cell down to 95% of the LoS E line (1.08 p/m2): inside the band, above 80%
        target = int(0.95 * 1.08 * area)
        self.assertGreater(target, 0.8 * 1.08 * area)
        post("positions", [dict(r, lon=r["lon"] + 0.05, time=now_ms() + 10) for r in inside[:count - target]])
        time.sleep(2.5)
        self.assertFalse([e for e in s.events if e[2]["cell"] == cell and e[2]["state"] == "cleared"],
                         "cleared within the hysteresis band: %r" % s.events)
        s.close()

    def test_gate_over_capacity(self):
        s = Stream("?types=gate")
        time.sleep(0.3)
        t = now_ms() - 120000
        post("gates", [{"gate": "GT-1", "in": 10, "out": 0, "capacity": 600, "time": t, "lon": 39.87, "lat": 21.42}])
        post("gates", [{"gate": "GT-1", "in": 15, "out": 5, "time": t + 60000}])   # 1,200/h > 600/h
        over = s.wait_for(lambda e: e[2]["state"] == "over_capacity")
        self.assertTrue(over, s.events)
        self.assertAlmostEqual(over[0][2]["flow_per_hour"], 1200, delta=1)
        self.assertAlmostEqual(over[0][2]["utilisation"], 2.0, delta=0.01)
        post("gates", [{"gate": "GT-1", "in": 2, "out": 2, "time": t + 120000}])    # 240/h
        self.assertTrue(s.wait_for(lambda e: e[2]["state"] == "back_under_capacity"))
        s.close()

    def test_last_event_id_resumes(self):
        a = Stream("?types=incident")
        time.sleep(0.3)
        post("incidents", [{"id": "R-1", "kind": "fire", "severity": "medium", "lon": 39.87, "lat": 21.42, "time": now_ms()}])
        first = a.wait_for(lambda e: e[2].get("id") == "R-1")
        self.assertTrue(first)
        a.close()
        post("incidents", [{"id": "R-2", "kind": "fire", "severity": "low", "lon": 39.87, "lat": 21.42, "time": now_ms()}])
        b = Stream("?types=incident", headers={"Last-Event-ID": str(first[0][0])})
        got = b.wait_for(lambda e: e[2].get("id") == "R-2")
        self.assertTrue(got, b.events)
        self.assertFalse([e for e in b.events if e[2].get("id") == "R-1"])
        b.close()

    def test_geofence_enter_exit_for_ops_only(self):
        # geofence events name people: anonymous and feed tokens may not subscribe
        self.assertEqual(SERVER.get("/events?types=geofence").status, 401)
        self.assertEqual(SERVER.get("/events?types=geofence", headers={"Authorization": "Bearer " + TOKEN}).status, 403)
        public = Stream()
        s = Stream("?types=geofence", headers={"Authorization": "Bearer " + OPS})
        time.sleep(0.3)
        self.assertEqual(s.status, 200)
        # two camps from the demo data, by their centres (checked to be inside with OGR)
        ds = mshtest.ogr.Open(mshtest.demo_path("camps.geojson"))
        lyr = ds.GetLayer()
        camps = []
        for f in lyr:
            env = f.GetGeometryRef().GetEnvelope()
            c = ((env[0] + env[1]) / 2, (env[2] + env[3]) / 2)
            pt = mshtest.ogr.CreateGeometryFromWkt("POINT (%r %r)" % c)
            if f.GetGeometryRef().Contains(pt) and f.GetField("site") == "mina":
                camps.append((f.GetField("camp_id"), f.GetField("zone_id"), c))
            if len(camps) == 40:
                break
        a, b = camps[0], [c for c in camps if c[1] != camps[0][1]][0]  # camps in different zones
        t = now_ms()
        post("positions", [{"id": "GF-1", "lon": a[2][0], "lat": a[2][1], "time": t}])
        post("positions", [{"id": "GF-1", "lon": b[2][0], "lat": b[2][1], "time": t + 1000}])
        got = s.wait_for(lambda e: e[2]["event"] == "enter" and e[2].get("camp_id") == b[0])
        self.assertTrue(got, s.events)
        seq = [(e[2]["event"], e[2]["kind"], e[2].get("camp_id") or e[2].get("zone_id")) for e in s.events
               if e[2]["id"] == "GF-1"]
        self.assertIn(("enter", "camp", a[0]), seq)
        self.assertIn(("exit", "camp", a[0]), seq)
        self.assertIn(("enter", "camp", b[0]), seq)
        self.assertLess(seq.index(("enter", "camp", a[0])), seq.index(("exit", "camp", a[0])))
        self.assertLess(seq.index(("exit", "camp", a[0])), seq.index(("enter", "camp", b[0])))
        if a[1] and b[1]:
            self.assertIn(("exit", "zone", a[1]), seq)
            self.assertIn(("enter", "zone", b[1]), seq)
        # a move inside the same camp makes no event
        n = len(seq)
        post("positions", [{"id": "GF-1", "lon": b[2][0] + 1e-6, "lat": b[2][1], "time": t + 2000}])
        time.sleep(1.0)
        self.assertEqual(len([e for e in s.events if e[2]["id"] == "GF-1"]), n)
        # the public stream never carries them
        self.assertFalse([e for e in public.events if e[1] == "geofence"])
        s.close()
        public.close()

    def test_incidents_kept_in_the_store(self):
        t = now_ms()
        post("incidents", [{"id": "DB-1", "kind": "fire", "severity": "critical", "lon": 39.8729, "lat": 21.4215,
                            "time": t, "description": "حريق"}])
        for i, st in enumerate(("dispatched", "on_scene", "resolved")):
            post("incidents", [{"id": "DB-1", "kind": "fire", "severity": "critical", "status": st, "lon": 39.8729,
                                "lat": 21.4215, "time": t + 60000 * (i + 1)}])
        deadline = time.monotonic() + 8
        row = None
        while time.monotonic() < deadline:
            with mshtest.Store(DB) as store:
                rows = store.sql("SELECT status, reported_at, dispatched_at, on_scene_at, resolved_at, description,"
                                 " AsText(geom) FROM msh_incidents WHERE id = 'DB-1'")
                hist = store.sql("SELECT status FROM msh_incident_history WHERE id = 'DB-1' ORDER BY time")
            if rows and rows[0][0] == "resolved":
                row = rows[0]
                break
            time.sleep(0.3)
        self.assertIsNotNone(row, "the incident did not reach msh_incidents")
        self.assertTrue(row[1] < row[2] < row[3] < row[4], row)  # ISO times in lifecycle order
        self.assertEqual(row[5], "حريق")
        self.assertTrue(row[6].startswith("POINT(39.8729"), row[6])
        self.assertEqual([h[0] for h in hist], ["reported", "dispatched", "on_scene", "resolved"])

    def test_live_etags_follow_the_tile_content(self):
        def etag(layer, lon, lat, z):
            x, y = mshtest.lonlat_to_tile(lon, lat, z)
            r = SERVER.get("/tiles/%s/%d/%d/%d.mvt" % (layer, z, x, y))
            return r.header("etag"), r.status
        a = (39.8801, 21.4201)
        b = (39.8831, 21.4201)   # about 310 m east: another z18 tile, the same 570 m density chunk
        post("positions", [{"id": "ET-A-%d" % i, "lon": a[0] + i * 1e-6, "lat": a[1], "time": now_ms()} for i in range(6)])
        post("positions", [{"id": "ET-B-%d" % i, "lon": b[0] + i * 1e-6, "lat": b[1], "time": now_ms()} for i in range(6)])
        ea, sa = etag("movement", *a, 18)
        eb, sb = etag("movement", *b, 18)
        self.assertEqual((sa, sb), (200, 200))
        # people move inside A's tile: A's ETag changes, B's does not
        post("positions", [{"id": "ET-A-%d" % i, "lon": a[0] + 0.00012 + i * 1e-6, "lat": a[1], "time": now_ms() + 5}
                           for i in range(6)])
        self.assertNotEqual(etag("movement", *a, 18)[0], ea)
        self.assertEqual(etag("movement", *b, 18)[0], eb)
        # an incident updated elsewhere leaves this incidents tile's ETag alone
        post("incidents", [{"id": "ET-I", "kind": "medical", "severity": "low", "lon": b[0], "lat": b[1], "time": now_ms()}])
        ei = etag("incidents", *b, 16)[0]
        post("incidents", [{"id": "ET-J", "kind": "fire", "severity": "low", "lon": 39.95, "lat": 21.36, "time": now_ms()}])
        self.assertEqual(etag("incidents", *b, 16)[0], ei)
        post("incidents", [{"id": "ET-I", "kind": "medical", "severity": "low", "status": "dispatched", "lon": b[0],
                            "lat": b[1], "time": now_ms() + 1}])
        self.assertNotEqual(etag("incidents", *b, 16)[0], ei)

    def test_bad_parameters(self):
        for q in ("?types=nope", "?bbox=1,2,3", "?bbox=3,2,1,4", "?bbox=a,b,c,d", "?types=incident,,gate"):
            r = SERVER.get("/events" + q)
            self.assertEqual(r.status, 400, q)
            self.assertIn("error", r.json())

    def test_many_idle_subscribers_do_not_slow_ingest(self):
        body = [{"id": "S-%d" % i, "lon": 39.88 + i * 1e-5, "lat": 21.41, "time": now_ms()} for i in range(5000)]
        t0 = time.monotonic()
        post("positions", body)
        alone = time.monotonic() - t0
        streams = [Stream("?types=incident") for _ in range(200)]
        time.sleep(1.0)
        self.assertEqual(sum(1 for s in streams if s.status == 200), 200)
        t0 = time.monotonic()
        post("positions", [dict(r, time=now_ms() + 1) for r in body])
        crowded = time.monotonic() - t0
        mshtest.note("5,000 positions: %.3f s alone, %.3f s with 200 idle SSE subscribers" % (alone, crowded))
        self.assertLess(crowded, max(0.5, alone * 5))
        # every subscriber still gets the next event
        post("incidents", [{"id": "M-1", "kind": "lost_person", "severity": "low", "lon": 39.87, "lat": 21.42,
                            "time": now_ms()}])
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10 and sum(1 for s in streams if s.wait_for(lambda e: e[2].get("id") == "M-1", 0)) < 200:
            time.sleep(0.1)
        self.assertEqual(sum(1 for s in streams if s.wait_for(lambda e: e[2].get("id") == "M-1", 0)), 200)
        for s in streams:
            s.close()
        self.assertTrue(SERVER.alive())


def setUpModule():
    global SERVER, TOKEN
    db = mshtest.work_path("events.sqlite")
    mshtest.import_demo(db, ["sites", "camps", "service_zones"])
    TOKEN = mshtest.run_mashaer("token", "add", "--db", db, "--role", "feed", "--name", "events",
                                check=0).stdout.split("\n")[0].strip()
    global OPS, DB
    DB = db
    OPS = mshtest.run_mashaer("token", "add", "--db", db, "--role", "ops", "--name", "events-ops",
                              check=0).stdout.split("\n")[0].strip()
    SERVER = mshtest.Server(db).start()


def tearDownModule():
    if SERVER:
        rc = SERVER.stop()
        assert rc == 0, SERVER.stderr()


if __name__ == "__main__":
    mshtest.main()
