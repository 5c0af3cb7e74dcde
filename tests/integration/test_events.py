"""GET /events (Server-Sent Events): incident, density-alert and gate events, filters, hysteresis,
Last-Event-ID resume, bad parameters, and many idle subscribers that do not slow ingest.

No fixed sleeps. A Stream is subscribed once it has read the `retry:` frame the server sends
first. Events reach every subscriber in one order (the server's event ring), so an event that
must NOT come is checked with a marker: something the stream's filter admits, made after the
action; once the marker has arrived, the absent event would have arrived before it.
"""
import json
import math
import socket
import threading
import unittest

import mshtest
from mshtest import now_ms

SERVER = None
TOKEN = None
OPS = None
DB = None
ALERT_LEVEL = 21   # the grid of the density alerts (server/events.c): "cell" is "21/x/y"


class Stream:
    """A raw SSE client: reads the chunked response and collects (id, event, data) in order."""

    def __init__(self, query="", headers=None, subscribe=True):
        self.query = query
        self.sock = socket.create_connection(("127.0.0.1", SERVER.port), timeout=60)
        hdr = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        self.sock.sendall(("GET /events%s HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n%s\r\n"
                           % (query, hdr)).encode())
        self.events = []
        self.status = None
        self.headers = None
        self.retry = None    # the `retry:` field: the first frame the server sends a subscriber
        self.ended = False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if subscribe:
            self.wait_subscribed()

    def _run(self):
        try:
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
            head, buf = buf.split(b"\r\n\r\n", 1)
            self.headers = head.decode()
            self.status = int(head.split(b" ")[1])
            chunked = b"\r\ntransfer-encoding: chunked" in head.lower()
            text = b""   # the decoded body not yet split into frames
            while True:
                if chunked:
                    while b"\r\n" in buf:
                        line, rest = buf.split(b"\r\n", 1)
                        size = int(line.split(b";")[0], 16)
                        if len(rest) < size + 2:
                            break
                        if size == 0:
                            return
                        text += rest[:size]
                        buf = rest[size + 2:]
                else:
                    text, buf = text + buf, b""
                while b"\n\n" in text:
                    frame, text = text.split(b"\n\n", 1)
                    self._frame(frame.decode("utf-8"))
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
        except (OSError, ValueError):
            return
        finally:
            self.ended = True

    def _frame(self, frame):
        ev = {}
        for line in frame.split("\n"):
            if ":" in line and not line.startswith(":"):
                k, v = line.split(":", 1)
                ev[k.strip()] = v.strip()
        with self.lock:
            if "retry" in ev:
                self.retry = int(ev["retry"])
            if "event" in ev:
                self.events.append((int(ev.get("id", "0") or 0), ev["event"], json.loads(ev["data"])))

    def wait_subscribed(self, timeout=30):
        """Until the `retry:` frame has been read: the server has registered this subscriber, and
        every event published from now on reaches it."""
        mshtest.wait_for(lambda: self.retry is not None or self.ended, timeout,
                         "the subscription to /events" + self.query)
        if self.retry is None:
            raise AssertionError("/events%s: no retry frame; status %s, headers %r" % (self.query, self.status,
                                                                                       self.headers))

    def hits(self, pred):
        with self.lock:
            return [e for e in self.events if pred(e)]

    def wait_for(self, pred, what, timeout=30):
        """The events matching pred, once there is at least one."""
        try:
            return mshtest.wait_for(lambda: self.hits(pred), timeout, what, interval=0.05)
        except AssertionError as e:
            with self.lock:
                raise AssertionError("%s on /events%s; it had: %r" % (e, self.query, self.events)) from None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def crowd(prefix, lon, lat, n, spread=0.00015, heading=None):
    out = []
    for i in range(n):
        rec = {"id": "%s-%d" % (prefix, i), "lon": lon + (i % 40) * spread / 40, "lat": lat + (i // 40) * spread / 40,
               "time": now_ms()}
        if heading is not None:
            rec.update(speed=1.0, heading=heading if heading >= 0 else (i * 97) % 360)
        out.append(rec)
    return out


def alert_cell(lon, lat, level=ALERT_LEVEL):
    """(cx, cy) of the density-alert cell holding lon/lat."""
    n = 2 ** level
    x = (lon + 180) / 360 * n
    s_ = math.sin(math.radians(lat))
    y = (0.5 - math.log((1 + s_) / (1 - s_)) / (4 * math.pi)) * n
    return int(x), int(y)


def is_density(state, cell):
    return lambda e: e[1] == "density" and e[2]["state"] == state and e[2]["cell"] == cell


def density_marker(prefix, lon, lat, streams):
    """A marker for density streams: raise a density alert (LoS E) in the alert cell at lon/lat and
    wait for it on every stream, then let the crowd leave and wait for the alert's clearing on every
    stream. The clearing comes from a later alert scan than the raise (a scan looks at each cell
    once), and a scan publishes all its events before the next one begins. Returns the cell."""
    cx, cy = alert_cell(lon, lat)
    cell = "%d/%d/%d" % (ALERT_LEVEL, cx, cy)
    n = 2 ** ALERT_LEVEL
    clon = (cx + 0.5) / n * 360 - 180
    clat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (cy + 0.5) / n))))
    # 600 people within 3 m of the cell's centre: about 1.7 persons/m2 in its ~350 m2
    people = [{"id": "%s-%d" % (prefix, i), "lon": clon + ((i % 25) - 12) * 0.000002,
               "lat": clat + ((i // 25) - 12) * 0.000002, "time": now_ms()} for i in range(600)]
    mshtest.post_ok(SERVER, "positions", people, TOKEN)
    for s in streams:
        s.wait_for(is_density("raised", cell), "the marker alert in %s raised" % cell)
    away = [dict(p, lon=p["lon"] + 0.02 + (i % 40) * 0.0001, lat=p["lat"] + (i // 40) * 0.0001, time=now_ms() + 1)
            for i, p in enumerate(people)]
    mshtest.post_ok(SERVER, "positions", away, TOKEN)
    for s in streams:
        s.wait_for(is_density("cleared", cell), "the marker alert in %s cleared" % cell)
    return cell


class Events(unittest.TestCase):
    def test_incident_events_and_filters(self):
        everything = Stream()
        only_density = Stream("?types=density")
        far_away = Stream("?bbox=10,10,11,11")
        near = Stream("?types=incident&bbox=39.86,21.41,39.89,21.43")
        self.assertEqual(everything.status, 200)
        self.assertIn("text/event-stream", everything.headers)
        ev1 = {"id": "EV-1", "kind": "medical", "severity": "high", "lon": 39.8729, "lat": 21.4215}
        mshtest.post_ok(SERVER, "incidents", [dict(ev1, time=now_ms(), description="إغماء")], TOKEN)
        mshtest.post_ok(SERVER, "incidents", [dict(ev1, status="dispatched", time=now_ms() + 1)], TOKEN)
        got = everything.wait_for(lambda e: e[1] == "incident" and e[2]["id"] == "EV-1" and e[2]["action"] == "updated",
                                  "EV-1 updated")
        created = [e for e in everything.events if e[1] == "incident" and e[2]["action"] == "created"][0]
        self.assertEqual(created[2]["severity"], "high")
        self.assertEqual(created[2]["description"], "إغماء")
        self.assertEqual(got[0][2]["status"], "dispatched")
        self.assertEqual(got[0][2]["previous_status"], "reported")
        self.assertLess(created[0], got[0][0])  # ids increase
        near.wait_for(lambda e: e[1] == "incident", "an incident in the bbox")
        # the marker: a density alert inside far_away's bbox, which both other streams admit
        density_marker("EVM", 10.5, 10.5, [only_density, far_away])
        self.assertFalse([e for e in only_density.events if e[1] != "density"])
        self.assertFalse([e for e in far_away.events if e[1] == "incident"])
        for s in (everything, only_density, far_away, near):
            s.close()

    def test_density_alert_raised_then_cleared(self):
        s = Stream("?types=density")
        # 2,000 people in about 16 m x 16 m, walking every which way: LoS F and crowd pressure
        mshtest.post_ok(SERVER, "positions", crowd("D", 39.8950, 21.4100, 2000, spread=0.00015, heading=-1), TOKEN)
        raised = s.wait_for(lambda e: e[2]["state"] == "raised" and e[2]["level_of_service_alert"], "an alert raised")
        ev = raised[0][2]
        self.assertIn(ev["los"], "EF")
        self.assertGreater(ev["density"], 1.08)
        self.assertGreater(ev["pressure"], 0.02)
        self.assertTrue(ev["pressure_alert"])
        # the crowd leaves (moves 2 km away): the alert clears
        mshtest.post_ok(SERVER, "positions", [dict(r, lon=r["lon"] + 0.02, time=now_ms() + 5) for r in
                                              crowd("D", 39.8950, 21.4100, 2000, spread=0.004, heading=90)], TOKEN)
        s.wait_for(lambda e: e[2]["state"] == "cleared" and e[2]["cell"] == ev["cell"], "the alert cleared")
        s.close()

    def test_hysteresis(self):
        # a cell hovering just under the LoS E line after being raised does not clear (no flapping)
        s = Stream("?types=density")
        lon, lat = 39.9000, 21.4050
        mshtest.post_ok(SERVER, "positions", crowd("H", lon, lat, 1500, spread=0.0002), TOKEN)
        first = s.wait_for(lambda e: e[2]["state"] == "raised" and e[2]["level_of_service_alert"], "an alert raised")
        cell = first[0][2]["cell"]
        count = first[0][2]["count"]
        area = count / first[0][2]["density"]
        level, cx, cy = (int(v) for v in cell.split("/"))
        people = crowd("H", lon, lat, 1500, spread=0.0002)
        inside = [r for r in people if alert_cell(r["lon"], r["lat"], level) == (cx, cy)]
        self.assertEqual(len(inside), count)
        # bring the cell down to 95% of the LoS E line (1.08 p/m2): inside the band, above 80%
        target = int(0.95 * 1.08 * area)
        self.assertGreater(target, 0.8 * 1.08 * area)
        leaving = [dict(r, lon=r["lon"] + 0.05, time=now_ms() + 10) for r in inside[:count - target]]
        mshtest.post_ok(SERVER, "positions", leaving, TOKEN)
        # the alert scan that raises the marker sees the cell at 95% (posted before the marker), and
        # the marker's clearing comes from a later scan: had the cell cleared, it would be in by then
        density_marker("HM", 10.6, 10.4, [s])
        self.assertFalse([e for e in s.events if e[2]["cell"] == cell and e[2]["state"] == "cleared"],
                         "cleared within the hysteresis band: %r" % s.events)
        s.close()

    def test_gate_over_capacity(self):
        s = Stream("?types=gate")
        t = now_ms() - 120000
        mshtest.post_ok(SERVER, "gates", [{"gate": "GT-1", "in": 10, "out": 0, "capacity": 600, "time": t,
                                           "lon": 39.87, "lat": 21.42}], TOKEN)
        mshtest.post_ok(SERVER, "gates", [{"gate": "GT-1", "in": 15, "out": 5, "time": t + 60000}],
                        TOKEN)   # 1,200/h > 600/h
        over = s.wait_for(lambda e: e[2]["state"] == "over_capacity", "GT-1 over capacity")
        self.assertAlmostEqual(over[0][2]["flow_per_hour"], 1200, delta=1)
        self.assertAlmostEqual(over[0][2]["utilisation"], 2.0, delta=0.01)
        mshtest.post_ok(SERVER, "gates", [{"gate": "GT-1", "in": 2, "out": 2, "time": t + 120000}], TOKEN)  # 240/h
        s.wait_for(lambda e: e[2]["state"] == "back_under_capacity", "GT-1 back under capacity")
        s.close()

    def test_last_event_id_resumes(self):
        a = Stream("?types=incident")
        mshtest.post_ok(SERVER, "incidents", [{"id": "R-1", "kind": "fire", "severity": "medium", "lon": 39.87,
                                               "lat": 21.42, "time": now_ms()}], TOKEN)
        first = a.wait_for(lambda e: e[2].get("id") == "R-1", "R-1")
        a.close()
        mshtest.post_ok(SERVER, "incidents", [{"id": "R-2", "kind": "fire", "severity": "low", "lon": 39.87,
                                               "lat": 21.42, "time": now_ms()}], TOKEN)
        b = Stream("?types=incident", headers={"Last-Event-ID": str(first[0][0])})
        b.wait_for(lambda e: e[2].get("id") == "R-2", "R-2 after resuming")
        # R-1 came before R-2 in the ring: had the resume sent it, it would be in by now
        self.assertFalse([e for e in b.events if e[2].get("id") == "R-1"])
        b.close()

    def test_geofence_enter_exit_for_ops_only(self):
        # geofence events name people: anonymous and feed tokens may not subscribe
        self.assertEqual(SERVER.get("/events?types=geofence").status, 401)
        self.assertEqual(SERVER.get("/events?types=geofence", headers={"Authorization": "Bearer " + TOKEN}).status, 403)
        public = Stream()
        s = Stream("?types=geofence", headers={"Authorization": "Bearer " + OPS})
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
        mshtest.post_ok(SERVER, "positions", [{"id": "GF-1", "lon": a[2][0], "lat": a[2][1], "time": t}], TOKEN)
        mshtest.post_ok(SERVER, "positions", [{"id": "GF-1", "lon": b[2][0], "lat": b[2][1], "time": t + 1000}], TOKEN)
        s.wait_for(lambda e: e[2]["id"] == "GF-1" and e[2]["event"] == "enter" and e[2].get("camp_id") == b[0],
                   "GF-1 entering camp %s" % b[0])
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
        # a move inside the same camp makes no event: a marker (GF-2 entering camp a) comes after it
        n = len(seq)
        mshtest.post_ok(SERVER, "positions", [{"id": "GF-1", "lon": b[2][0] + 1e-6, "lat": b[2][1], "time": t + 2000}],
                        TOKEN)
        mshtest.post_ok(SERVER, "positions", [{"id": "GF-2", "lon": a[2][0], "lat": a[2][1], "time": t + 2000}], TOKEN)
        s.wait_for(lambda e: e[2]["id"] == "GF-2" and e[2]["event"] == "enter" and e[2].get("camp_id") == a[0],
                   "the marker GF-2 entering camp %s" % a[0])
        self.assertEqual(len([e for e in s.events if e[2]["id"] == "GF-1"]), n)
        # the public stream never carries them: an incident marker comes after all of the above
        mshtest.post_ok(SERVER, "incidents", [{"id": "GF-MARK", "kind": "medical", "severity": "low", "lon": a[2][0],
                                               "lat": a[2][1], "time": now_ms()}], TOKEN)
        public.wait_for(lambda e: e[1] == "incident" and e[2]["id"] == "GF-MARK", "the marker incident GF-MARK")
        self.assertFalse([e for e in public.events if e[1] == "geofence"])
        s.close()
        public.close()

    def test_incidents_kept_in_the_store(self):
        t = now_ms()
        db1 = {"id": "DB-1", "kind": "fire", "severity": "critical", "lon": 39.8729, "lat": 21.4215}
        mshtest.post_ok(SERVER, "incidents", [dict(db1, time=t, description="حريق")], TOKEN)
        for i, st in enumerate(("dispatched", "on_scene", "resolved")):
            mshtest.post_ok(SERVER, "incidents", [dict(db1, status=st, time=t + 60000 * (i + 1))], TOKEN)

        def resolved():
            with mshtest.Store(DB) as store:
                rows = store.sql("SELECT status, reported_at, dispatched_at, on_scene_at, resolved_at, description,"
                                 " AsText(geom) FROM msh_incidents WHERE id = 'DB-1'")
                hist = store.sql("SELECT status FROM msh_incident_history WHERE id = 'DB-1' ORDER BY time")
            return (rows[0], hist) if rows and rows[0][0] == "resolved" else None
        row, hist = mshtest.wait_for(resolved, 30, "the resolved incident in msh_incidents", interval=0.2)
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
        for name, (lon, lat) in (("A", a), ("B", b)):
            mshtest.post_ok(SERVER, "positions", [{"id": "ET-%s-%d" % (name, i), "lon": lon + i * 1e-6, "lat": lat,
                                                   "time": now_ms()} for i in range(6)], TOKEN)
        ea, sa = etag("movement", *a, 18)
        eb, sb = etag("movement", *b, 18)
        self.assertEqual((sa, sb), (200, 200))
        # people move inside A's tile: A's ETag changes, B's does not
        mshtest.post_ok(SERVER, "positions", [{"id": "ET-A-%d" % i, "lon": a[0] + 0.00012 + i * 1e-6, "lat": a[1],
                                               "time": now_ms() + 5} for i in range(6)], TOKEN)
        self.assertNotEqual(etag("movement", *a, 18)[0], ea)
        self.assertEqual(etag("movement", *b, 18)[0], eb)
        # an incident updated elsewhere leaves this incidents tile's ETag alone
        et_i = {"id": "ET-I", "kind": "medical", "severity": "low", "lon": b[0], "lat": b[1]}
        mshtest.post_ok(SERVER, "incidents", [dict(et_i, time=now_ms())], TOKEN)
        ei = etag("incidents", *b, 16)[0]
        mshtest.post_ok(SERVER, "incidents", [{"id": "ET-J", "kind": "fire", "severity": "low", "lon": 39.95,
                                               "lat": 21.36, "time": now_ms()}], TOKEN)
        self.assertEqual(etag("incidents", *b, 16)[0], ei)
        mshtest.post_ok(SERVER, "incidents", [dict(et_i, status="dispatched", time=now_ms() + 1)], TOKEN)
        self.assertNotEqual(etag("incidents", *b, 16)[0], ei)

    def test_bad_parameters(self):
        for q in ("?types=nope", "?bbox=1,2,3", "?bbox=3,2,1,4", "?bbox=a,b,c,d", "?types=incident,,gate"):
            r = SERVER.get("/events" + q)
            self.assertEqual(r.status, 400, q)
            self.assertIn("error", r.json())

    def test_many_idle_subscribers_do_not_slow_ingest(self):
        body = [{"id": "S-%d" % i, "lon": 39.88 + i * 1e-5, "lat": 21.41, "time": now_ms()} for i in range(5000)]
        # the server's CPU time, not the wall clock: a loaded machine stretches the one, not the other;
        # an ingest that visited every subscriber for every record would spend a million visits here
        cpu0 = mshtest.cpu_seconds(SERVER.proc.pid)
        mshtest.post_ok(SERVER, "positions", body, TOKEN)
        alone = mshtest.cpu_seconds(SERVER.proc.pid) - cpu0
        streams = [Stream("?types=incident", subscribe=False) for _ in range(200)]
        for s in streams:
            s.wait_subscribed()
        self.assertEqual(sum(1 for s in streams if s.status == 200), 200)
        cpu0 = mshtest.cpu_seconds(SERVER.proc.pid)
        mshtest.post_ok(SERVER, "positions", [dict(r, time=now_ms() + 1) for r in body], TOKEN)
        crowded = mshtest.cpu_seconds(SERVER.proc.pid) - cpu0
        mshtest.note("5,000 positions: %.3f s of server CPU alone, %.3f s with 200 idle SSE subscribers"
                     % (alone, crowded))
        self.assertLess(crowded, max(0.5, alone * 5))
        # every subscriber still gets the next event
        mshtest.post_ok(SERVER, "incidents", [{"id": "M-1", "kind": "lost_person", "severity": "low", "lon": 39.87,
                                               "lat": 21.42, "time": now_ms()}], TOKEN)
        def reached():
            return sum(1 for s in streams if s.hits(lambda e: e[2].get("id") == "M-1"))
        mshtest.wait_for(lambda: reached() == 200, 30, "M-1 on all 200 streams", interval=0.1)
        self.assertEqual(reached(), 200)
        for s in streams:
            s.close()
        self.assertTrue(SERVER.alive())


def setUpModule():
    global SERVER, TOKEN, OPS, DB
    db = mshtest.work_path("events.sqlite")
    mshtest.import_demo(db, ["sites", "camps", "service_zones"])
    TOKEN = mshtest.add_token(db, "feed", "events")
    DB = db
    OPS = mshtest.add_token(db, "ops", "events-ops")
    # 200 idle subscribers from one address (test_many_idle_subscribers) are over the per-client defaults
    SERVER = mshtest.Server(db, "--max-conn-per-client", "0", "--max-sse-per-client", "0").start()


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
