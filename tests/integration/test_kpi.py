"""KPIs end to end: a small site imported into a store, live data posted to /feeds, then /kpi,
/kpi/zones/{id}, /kpi/history, the kpi_zones tiles and the PNG of styles/kpi.json read back and checked against values worked
out here by hand; history that survives a restart; bad parameters and a bad configuration.

The site (the same as tests/unit/test_kpi.c, at lat ~21.405 where 0.001 deg of longitude is 103.5 m):
  zones Z1 (lon 39.880-39.890) and Z2 (39.890-39.900), lat 21.400-21.410;
  a walkway along lat 21.405 (39.870-39.900) with a vertex at 39.886 where a north-south street crosses;
  assets T1 toilet working 39.882 (Z1), K1 clinic working 39.884 (Z1), G-1 gate working (Z1, capacity
  1000), T2 toilet faulty 39.895 (Z2), W1 water point working 39.897 (Z2), G-2 gate maintenance (Z2,
  capacity 2000), L1 lighting faulty (Z2);
  camps 22 m north of the walkway: C1 39.883 (Z1, 1000), C2 39.888 (Z1, 3000, entrance at 39.8845),
  C3 39.896 (Z2, 2000);
  cleaning routes R1 lat 21.408 lon 39.881-39.887 (Z1), R2 lat 21.402 lon 39.891-39.899 (Z2).
"""

import json
import math
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
import test_events  # noqa: E402

EARTH_C = 40075016.685578488
LAT = 21.405
DB = None
TOKEN = None
OPS = None            # writes the cleaning tasks
CONFIG = None
SERVER = None
T = None              # "now" of the scenario, ms (whole seconds)
STARTED = None        # when the server started (s)
FED_MS = None         # a whole second after the scenario was posted (ms)
WEIGHTS = {"crowd": 3, "coverage": 1, "response": 2, "gates": 1, "environment": 1, "assets": 1, "cleaning": 1}


def box(w, s, e, n):
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def fc(features):
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]}


def write_site(dirname):
    pt = lambda lon, lat: {"type": "Point", "coordinates": [lon, lat]}  # noqa: E731
    line = lambda *xy: {"type": "LineString", "coordinates": [list(p) for p in xy]}  # noqa: E731
    layers = {
        "service_zones": [({"zone_id": "Z1", "name": "Zone one", "population_capacity": 100},
                           box(39.880, 21.400, 39.890, 21.410)),
                          ({"zone_id": "Z2", "name": "Zone two", "population_capacity": 1000},
                           box(39.890, 21.400, 39.900, 21.410))],
        "assets": [({"asset_id": a, "kind": k, "status": s, "zone_id": z, "capacity": c}, pt(lon, lat))
                   for a, k, s, z, lon, lat, c in [
                       ("T1", "toilet", "working", "Z1", 39.882, LAT, 12),
                       ("K1", "clinic", "working", "Z1", 39.884, LAT, 0),
                       ("G-1", "gate", "working", "Z1", 39.889, 21.409, 1000),
                       ("T2", "toilet", "faulty", "Z2", 39.895, LAT, 12),
                       ("W1", "water_point", "working", "Z2", 39.897, LAT, 0),
                       ("G-2", "gate", "maintenance", "Z2", 39.899, 21.401, 2000),
                       ("L1", "lighting", "faulty", "Z2", 39.893, 21.402, 0)]],
        "camps": [({"camp_id": c, "capacity": cap, "zone_id": z, "entrance_lon": e,
                    "entrance_lat": LAT + 0.0002 if e else None},
                   box(lon - 0.0001, LAT + 0.0001, lon + 0.0001, LAT + 0.0003))
                  for c, lon, cap, z, e in [("C1", 39.883, 1000, "Z1", None), ("C2", 39.888, 3000, "Z1", 39.8845),
                                            ("C3", 39.896, 2000, "Z2", None)]],
        "cleaning_routes": [({"route_id": "R1"}, line((39.881, 21.408), (39.887, 21.408))),
                            ({"route_id": "R2"}, line((39.891, 21.402), (39.899, 21.402)))],
        "walkways": [({"highway": "footway"}, line((39.870, LAT), (39.886, LAT), (39.900, LAT))),
                     ({"highway": "footway"}, line((39.886, 21.400), (39.886, LAT), (39.886, 21.410)))],
    }
    for name, feats in layers.items():
        path = os.path.join(dirname, name + ".geojson")
        with open(path, "w") as f:
            json.dump(fc(feats), f)
        yield name, path


def setUpModule():
    global DB, TOKEN, CONFIG, SERVER, T, STARTED
    DB = mshtest.work_path("kpi.sqlite")
    for name, path in write_site(mshtest.CONFIG.work_dir):
        mshtest.import_layer(DB, path, name)
    TOKEN = mshtest.run_mashaer("token", "add", "--db", DB, "--role", "feed", "--name", "kpi",
                                check=0).stdout.splitlines()[0].strip()
    global OPS
    OPS = mshtest.add_token(DB, "ops", "kpi-ops")
    CONFIG = mshtest.work_path("kpi.json")
    with open(CONFIG, "w") as f:
        json.dump({"interval_s": 1}, f)   # record every second; every other value as data/kpi.json
    T = (int(time.time()) - 5) * 1000
    SERVER = mshtest.Server(DB, "--kpi-config", CONFIG, name="kpi").start()
    test_events.SERVER = SERVER
    STARTED = time.time()
    feed_scenario()
    # the barrier: a KPI record made after the whole scenario was posted (the server records every
    # second, from its first second on; a record made while the feeds arrived holds part of them).
    # /kpi answers from the latest record, so every test below sees the whole scenario.
    global FED_MS
    FED_MS = (int(time.time()) + 1) * 1000
    q = urllib.parse.urlencode({"from": mshtest_iso(FED_MS), "to": mshtest_iso(FED_MS + 3600 * 1000), "step": "1"})
    mshtest.wait_for(lambda: SERVER.json("/kpi/history?" + q)["points"], 30, "a KPI record after the scenario",
                     interval=0.1)


def tearDownModule():
    if SERVER and SERVER.alive():
        SERVER.stop()


MIN = 60000
PEOPLE = [(10, 39.8815, 21.4015), (100, 39.8855, 21.4035), (200, 39.8955, 21.4035), (40, 39.8985, 21.4085),
          (5, 39.8700, 21.4050)]


def feed_scenario():
    n = 0
    recs = []
    for count, lon, lat in PEOPLE:
        for _ in range(count):
            recs.append({"id": "P-%d" % n, "lon": lon, "lat": lat, "time": T})
            n += 1
    mshtest.post_ok(SERVER, "positions", recs, TOKEN)
    # incidents: (id, severity, lon, reported minutes before T, on scene after s, resolved after s)
    inc = [("I1", "high", 39.885, 120, 120, 1800), ("I2", "medium", 39.885, 110, 300, 900),
           ("I3", "critical", 39.885, 100, 180, 3600), ("I4", "low", 39.885, 90, 600, 0),
           ("I5", "high", 39.885, 80, 240, 0), ("I6", "informational", 39.895, 60, 0, 0),
           ("I7", "critical", 39.895, 25 * 60, 100, 200)]
    for iid, sev, lon, before, os_, rs in inc:
        rep = T - before * MIN
        steps = [("reported", rep)] + ([("on_scene", rep + os_ * 1000)] if os_ else []) + \
                ([("resolved", rep + rs * 1000)] if rs else [])
        mshtest.post_ok(SERVER, "incidents", [{"id": iid, "kind": "medical", "severity": sev, "status": st, "lon": lon,
                                               "lat": 21.407, "time": t} for st, t in steps], TOKEN)
    mshtest.post_ok(SERVER, "gates", [{"id": "G-1", "in": 0, "out": 0, "time": T - MIN},
                                      {"id": "G-1", "in": 20, "out": 5, "time": T}], TOKEN)
    mshtest.post_ok(SERVER, "gates", [{"id": "G-2", "in": 0, "out": 0, "capacity": 2000, "time": T - 2 * MIN},
                                      {"id": "G-2", "in": 30, "out": 10, "time": T}], TOKEN)
    mshtest.post_ok(SERVER, "sensors", [{"id": "S1", "lon": 39.882, "lat": 21.402, "temperature": 42, "time": T},
                                        {"id": "S2", "lon": 39.887, "lat": 21.409, "temperature": 35, "time": T},
                                        {"id": "S3", "lon": 39.894, "lat": 21.409, "temperature": 38, "time": T}], TOKEN)
    # the cleaning tasks: CL-1 on R1 (fid 1), CL-2 on R2 (fid 2); only a task's crew credits its pieces
    for route, crew in ((1, "CL-1"), (2, "CL-2")):
        r = mshtest.api(SERVER, "/ogc/collections/cleaning_tasks/items", "POST", OPS,
                        {"type": "Feature", "properties": {"route": route, "crew": crew,
                                                           "due": mshtest_iso(T + 3600 * 1000)}})
        assert r.status == 201, r.body
    # a cleaning crew sweeps R1 from 39.881 to 39.884 (two reports a minute apart: the line between
    # counts); then R2's last 207 m; an emergency crew crossing R2's start cleans nothing
    for cid, kind, lon, lat, t in [("CL-1", "cleaning", 39.881, 21.408, T - 2 * MIN),
                                   ("CL-1", "cleaning", 39.884, 21.408, T - MIN),
                                   ("CL-2", "cleaning", 39.897, 21.402, T - 2 * MIN),
                                   ("CL-2", "cleaning", 39.899, 21.402, T - MIN),
                                   ("EM-1", "emergency", 39.891, 21.402, T - 2 * MIN),
                                   ("EM-1", "emergency", 39.893, 21.402, T - MIN)]:
        mshtest.post_ok(SERVER, "crews", [{"id": cid, "kind": kind, "lon": lon, "lat": lat, "time": t}], TOKEN)


def cell_area(lon, lat):
    """Area of the 2^22 base cell holding lon/lat (Web Mercator cells are square on the ground)."""
    n = 1 << 22
    wy = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0
    cy = math.floor(wy * n) + 0.5
    clat = math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * cy / n))))
    side = EARTH_C * math.cos(math.radians(clat)) / n
    return side * side


def route_m(deg, lat):
    return deg * math.pi / 180 * 6378137 * math.cos(math.radians(lat))


def composite(index):
    ws = sum(WEIGHTS[k] for k, v in index.items() if k in WEIGHTS and v is not None)
    return 100 * sum(WEIGHTS[k] * v for k, v in index.items() if k in WEIGHTS and v is not None) / ws


class KpiTest(unittest.TestCase):
    def zone(self, zid):
        doc = SERVER.json("/kpi/zones/" + zid)
        self.assertEqual(doc["zone"]["zone_id"], zid)
        return doc["zone"]["kpi"]

    def test_crowd(self):
        z1, z2, doc = self.zone("Z1"), self.zone("Z2"), SERVER.json("/kpi")
        allv = doc["overall"]
        self.assertEqual((z1["crowd"]["people"], z2["crowd"]["people"], allv["crowd"]["people"]), (110, 240, 355))
        self.assertAlmostEqual(z1["crowd"]["peak_density"], 100 / cell_area(39.8855, 21.4035), delta=1e-5)
        self.assertAlmostEqual(z2["crowd"]["peak_density"], 200 / cell_area(39.8955, 21.4035), delta=1e-5)
        self.assertEqual((z1["crowd"]["peak_los"], z2["crowd"]["peak_los"], allv["crowd"]["peak_los"]),
                         ("E", "F", "F"))
        self.assertAlmostEqual(z1["crowd"]["share_los_a"], 10 / 110, places=5)
        self.assertAlmostEqual(z1["crowd"]["share_los_e"], 100 / 110, places=5)
        self.assertAlmostEqual(z2["crowd"]["share_los_c"], 40 / 240, places=5)
        self.assertAlmostEqual(z2["crowd"]["share_los_f"], 200 / 240, places=5)
        self.assertEqual((z2["crowd"]["share_los_a"], z2["crowd"]["share_los_e"]), (0, 0))
        self.assertAlmostEqual(allv["crowd"]["share_los_a"], 15 / 355, places=5)
        # never more than the server has been up (the growth is checked in test_z_history_survives_restart)
        self.assertLessEqual(z1["crowd"]["minutes_los_ef"], (time.time() - STARTED) / 60)
        self.assertEqual(doc["zones_count"], 2)
        self.assertEqual({z["zone_id"]: z["peak_los"] for z in doc["zones"]}, {"Z1": "E", "Z2": "F"})

    def test_occupancy(self):
        # people counted against each zone's population_capacity: Z1 110 of 100, Z2 240 of 1000
        z1, z2, allv = self.zone("Z1")["crowd"], self.zone("Z2")["crowd"], SERVER.json("/kpi")["overall"]["crowd"]
        self.assertEqual((z1["capacity"], z1["occupancy"]), (100, 1.1))
        self.assertEqual((z2["capacity"], z2["occupancy"]), (1000, 0.24))
        self.assertEqual(allv["capacity"], 1100)
        self.assertAlmostEqual(allv["occupancy"], 355 / 1100, places=5)
        # Z1 over its capacity raised one `zone` event (read back from the start of the stream), Z2 none
        s = test_events.Stream("?types=zone", headers={"Last-Event-ID": "0"})
        try:
            ev = s.wait_for(lambda e: e[2].get("zone") == "Z1", "the zone event")
            self.assertEqual(len(ev), 1, s.events)
            d = ev[0][2]
            self.assertEqual((d["state"], d["name"], d["people"], d["capacity"], d["occupancy"]),
                             ("over_capacity", "Zone one", 110, 100, 1.1))
            self.assertFalse(s.hits(lambda e: e[2].get("zone") == "Z2"))
        finally:
            s.close()

    def test_coverage(self):
        # toilets 300 m (T2 faulty): C1 126 m and C2 (from its entrance) 281 m from T1; water 300 m: C3 126 m
        # from W1; clinics 500 m: C1 126 m and C2 74 m from K1
        z1, z2, allv = self.zone("Z1")["coverage"], self.zone("Z2")["coverage"], SERVER.json("/kpi")["overall"]
        self.assertEqual((z1["camps"], z1["capacity"], z2["camps"], z2["capacity"]), (2, 4000, 1, 2000))
        self.assertEqual((z1["toilet_camps"], z1["toilet_capacity"]), (1, 1))
        self.assertEqual((z1["water_camps"], z1["clinic_camps"], z1["clinic_capacity"]), (0, 1, 1))
        self.assertEqual((z2["toilet_camps"], z2["water_camps"], z2["water_capacity"], z2["clinic_camps"]),
                         (0, 1, 1, 0))
        c = allv["coverage"]
        self.assertAlmostEqual(c["toilet_capacity"], 4000 / 6000, places=5)
        self.assertAlmostEqual(c["water_camps"], 1 / 3, places=5)
        self.assertAlmostEqual(c["clinic_capacity"], 4000 / 6000, places=5)
        # the camps behind those shares, by name
        self.assertEqual(SERVER.json("/kpi/zones/Z1")["coverage_gaps"],
                         {"toilet": [], "water_point": ["C1", "C2"], "clinic": []})
        self.assertEqual(SERVER.json("/kpi/zones/Z2")["coverage_gaps"],
                         {"toilet": ["C3"], "water_point": [], "clinic": ["C3"]})

    def test_emergency(self):
        # Z1 on scene 120 180 240 300 600: p50 240, p90 300 + 0.6 x 300 = 480; resolved 900 1800 3600:
        # p50 1800, p90 1800 + 0.8 x 1800 = 3240; within 480 s: 4 of 5. I7 is older than 24 h.
        e1, e2 = self.zone("Z1")["emergency"], self.zone("Z2")["emergency"]
        self.assertEqual((e1["incidents"], e1["open"], e1["high"], e1["medium"], e1["critical"], e1["low"]),
                         (5, 2, 2, 1, 1, 1))
        self.assertEqual((e1["on_scene_p50_s"], e1["on_scene_p90_s"]), (240, 480))
        self.assertEqual((e1["resolved_p50_s"], e1["resolved_p90_s"]), (1800, 3240))
        self.assertEqual(e1["within_target"], 0.8)
        self.assertEqual((e2["incidents"], e2["open"], e2["informational"], e2["critical"], e2["on_scene_p50_s"]),
                         (1, 1, 1, 0, None))
        allv = SERVER.json("/kpi")["overall"]["emergency"]
        self.assertEqual((allv["incidents"], allv["open"]), (6, 3))

    def test_gates_environment_assets_cleaning(self):
        z1, z2, allv = self.zone("Z1"), self.zone("Z2"), SERVER.json("/kpi")["overall"]
        # G-1: 25 people in 60 s = 1500/h against the asset's 1000; G-2: 40 in 120 s = 1200/h of 2000
        self.assertEqual((z1["gates"]["gates"], z1["gates"]["flow_per_hour"], z1["gates"]["capacity_per_hour"],
                          z1["gates"]["utilisation"], z1["gates"]["over_capacity"]), (1, 1500, 1000, 1.5, 1))
        self.assertEqual((z2["gates"]["utilisation"], z2["gates"]["over_capacity"]), (0.6, 0))
        self.assertEqual((allv["gates"]["flow_per_hour"], allv["gates"]["utilisation"]), (2700, 0.9))
        self.assertEqual((z1["environment"]["sensors"], z1["environment"]["temperature_max"]), (2, 42))
        self.assertLessEqual(z1["environment"]["hours_above_heat"], (time.time() - STARTED) / 3600)
        self.assertEqual(z2["environment"]["hours_above_heat"], 0)   # 38 degC: never above 40
        self.assertEqual((z1["assets"]["assets"], z1["assets"]["share_working"]), (3, 1))
        self.assertEqual((z2["assets"]["assets"], z2["assets"]["share_working"]), (4, 0.25))
        self.assertAlmostEqual(allv["assets"]["share_working"], 4 / 7, places=5)
        # R1: 63 pieces, 33 swept; R2: 83 pieces, 22 swept (see tests/unit/test_kpi.c)
        self.assertAlmostEqual(z1["cleaning"]["route_m"], route_m(0.006, 21.408), delta=0.1)
        self.assertAlmostEqual(z1["cleaning"]["share_covered"], 33 / 63, places=5)
        self.assertAlmostEqual(z2["cleaning"]["share_covered"], 22 / 83, places=5)

    def test_composite(self):
        z1 = self.zone("Z1")
        idx = z1["index"]
        self.assertAlmostEqual(idx["crowd"], 1 - 100 / 110, places=5)
        self.assertAlmostEqual(idx["coverage"], 2 / 3, places=5)
        self.assertEqual((idx["response"], idx["gates"], idx["assets"]), (0.8, 0, 1))
        self.assertAlmostEqual(idx["cleaning"], 33 / 63, places=5)
        self.assertGreater(idx["environment"], 0.99)   # a few seconds of heat in a 24 h window
        self.assertAlmostEqual(idx["composite"], composite(idx), places=3)
        # with the environment at 1 it would be 50.611 (worked out in tests/unit/test_kpi.c)
        self.assertAlmostEqual(idx["composite"], 50.611, delta=0.05)
        z2 = self.zone("Z2")["index"]
        self.assertIsNone(z2["response"])
        self.assertAlmostEqual(z2["composite"], 41.855, delta=0.01)

    def test_tiles(self):
        z, x, y = 15, *mshtest.lonlat_to_tile(39.885, 21.405, 15)[:2]
        _, tile = mshtest.fetch_tile(SERVER, "kpi_zones", z, x, y)
        feats = {f.attrs["zone_id"]: f.attrs for f in tile.get("kpi_zones", [])}
        self.assertIn("Z1", feats)
        z1 = self.zone("Z1")
        a = feats["Z1"]
        self.assertEqual((a["name"], a["peak_los"], a["crowd_people"]), ("Zone one", "E", 110))
        self.assertAlmostEqual(a["coverage_toilet_capacity"], 1)
        self.assertAlmostEqual(a["emergency_on_scene_p90_s"], 480)
        self.assertAlmostEqual(a["index_composite"], z1["index"]["composite"], delta=0.05)
        self.assertNotIn("emergency_on_scene_p50_s", feats.get("Z2", {}))  # null: left out of the tile
        cat = {l["id"]: l for l in SERVER.json("/catalog")["layers"]}
        self.assertEqual(cat["kpi_zones"]["kind"], "derived")
        self.assertEqual(cat["kpi_zones"]["fields"]["index_composite"], "number")

    def test_raster(self):
        """styles/kpi.json drawn as PNG by the server: a zone's pixels have the colour of its composite index."""
        comp = self.zone("Z2")["index"]["composite"]
        z = 16
        x, y = mshtest.lonlat_to_tile(39.8965, 21.4065, z)[:2]
        r = SERVER.get("/styles/kpi/%d/%d/%d.png" % (z, x, y))
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(r.header("content-type"), "image/png")
        w, h, px = mshtest.decode_png(r.body)
        # the pixel of (39.8965, 21.4065) in the tile, inside Z2 away from its edges
        n = 2 ** z
        fx = ((39.8965 + 180) / 360 * n - x) * w
        fy = ((1 - math.asinh(math.tan(math.radians(21.4065))) / math.pi) / 2 * n - y) * h
        got = px[int(fy)][int(fx)]
        # the style's ramp: 0 #d7191c, 50 #fdae61, 75 #a6d96a, 100 #1a9641
        stops = [(0, (0xd7, 0x19, 0x1c)), (50, (0xfd, 0xae, 0x61)), (75, (0xa6, 0xd9, 0x6a)), (100, (0x1a, 0x96, 0x41))]
        for (a, ca), (b, cb) in zip(stops, stops[1:]):
            if a <= comp <= b:
                t = (comp - a) / (b - a)
                want = [ca[i] + t * (cb[i] - ca[i]) for i in range(3)]
        self.assertEqual(got[3], 255)
        for i in range(3):
            self.assertAlmostEqual(got[i], want[i], delta=4, msg="pixel %r, composite %.3f wants %r" % (got, comp, want))

    def test_bad_requests(self):
        cases = [("/kpi/history?from=yesterday", 400, "from: not an ISO 8601 time"),
                 ("/kpi/history?to=2026-13-01T00:00:00Z", 400, "to: not an ISO 8601 time"),
                 ("/kpi/history?from=2026-02-29T00:00:00Z", 400, "day: 2026 is not a leap year"),
                 ("/kpi/history?to=2026-04-31T00:00:00Z", 400, "day: 2026-04 has 30 days, not 31"),
                 ("/kpi/history?step=0", 400, "step: from 1 second"),
                 ("/kpi/history?step=soon", 400, "step: seconds"),
                 ("/kpi/history?from=2026-05-26T09:00:00Z&to=2026-05-26T08:00:00Z", 400, "from must not be after to"),
                 ("/kpi/history?from=2026-01-01T00:00:00Z&to=2026-05-26T00:00:00Z&step=1", 400, "at most 10000"),
                 ("/kpi/history?zone=NOPE", 404, "unknown zone 'NOPE'"),
                 ("/kpi/zones/NOPE", 404, "unknown zone 'NOPE'"),
                 ("/kpi/bogus", 404, "no such KPI resource")]
        for path, status, msg in cases:
            r = SERVER.get(path)
            self.assertEqual(r.status, status, path)
            doc = json.loads(r.body)
            self.assertEqual(doc["status"], status)
            self.assertIn(msg, doc["error"], path)

    def test_bad_config(self):
        for doc, msg in [('{"toilet_m": -1}', "'toilet_m' must be from"), ('{"nope": 1}', "unknown key 'nope'"),
                         ("{", "not JSON")]:
            path = mshtest.work_path("bad.json")
            with open(path, "w") as f:
                f.write(doc)
            p = mshtest.run_mashaer("serve", "--db", DB, "--port", "0", "--live-dir", mshtest.work_path("bad.live"),
                                    "--kpi-config", path, timeout=30)
            self.assertEqual(p.returncode, 1)
            self.assertIn(msg, p.stderr)

    def test_no_live(self):
        """Without live feeds there are no KPIs: 503 with a message, and no kpi_zones layer."""
        db = mshtest.work_path("nolive.sqlite")
        mshtest.copy_store(DB, db)
        srv = mshtest.Server(db, "--no-live", name="nolive").start()
        try:
            r = srv.get("/kpi")
            self.assertEqual(r.status, 503)
            self.assertIn("KPIs are not available", json.loads(r.body)["error"])
            self.assertNotIn("kpi_zones", {l["id"] for l in srv.json("/catalog")["layers"]})
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_default_config_file(self):
        """data/kpi.json holds the built-in defaults (the server without --kpi-config uses them)."""
        with open(os.path.join(mshtest.CONFIG.source_dir, "data", "kpi.json")) as f:
            file_cfg = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
        served = SERVER.json("/kpi")["config"]
        file_cfg.pop("max_gap_s")
        expected = dict(file_cfg, interval_s=1)   # this server's file changes only interval_s
        self.assertEqual({k: served[k] for k in expected}, expected)

    def test_z_history_survives_restart(self):
        global SERVER
        q = urllib.parse.urlencode({"zone": "Z1", "from": mshtest_iso(FED_MS), "to": mshtest_iso(T + 10 * MIN),
                                    "step": "1"})
        # the KPIs are recorded every second (interval_s 1): wait for three records
        def three_points():
            d = SERVER.json("/kpi/history?" + q)
            return d if len(d["points"]) >= 3 else None
        doc = mshtest.wait_for(three_points, 30, "three KPI records in /kpi/history", interval=0.2)
        self.assertEqual(doc["zone_id"], "Z1")
        self.assertEqual(doc["step_s"], 1)
        self.assertGreaterEqual(len(doc["points"]), 3)
        for p in doc["points"]:
            self.assertEqual(p["kpi"]["crowd"]["people"], 110)
            self.assertEqual(p["kpi"]["emergency"]["on_scene_p90_s"], 480)
        times = [p["t_ms"] for p in doc["points"]]
        self.assertEqual(times, sorted(times))
        # a step of an hour keeps only the first record of the hour-long step
        q1 = urllib.parse.urlencode({"from": mshtest_iso(FED_MS), "to": mshtest_iso(T + 10 * MIN), "step": "PT1H"})
        one = SERVER.json("/kpi/history?" + q1)
        self.assertIsNone(one["zone_id"])
        self.assertEqual(len(one["points"]), 1)
        self.assertEqual(one["points"][0]["kpi"]["crowd"]["people"], 355)
        # always at E or F and above 40 degC since the server started: time credited, and no more than that
        z1 = self.zone("Z1")
        up = time.time() - STARTED
        before = z1["crowd"]["minutes_los_ef"]
        self.assertGreater(before, 0)
        self.assertLessEqual(before, up / 60)
        # after the scenario Z1 is always at E or F and above 40 degC: between two records both clocks
        # advance by the same time (before it, a record may have come between the positions and the
        # sensors). Both are written with 6 significant digits: equal within that rounding.
        p0, p1 = doc["points"][0]["kpi"], doc["points"][-1]["kpi"]
        d_ef = p1["crowd"]["minutes_los_ef"] - p0["crowd"]["minutes_los_ef"]
        d_heat = (p1["environment"]["hours_above_heat"] - p0["environment"]["hours_above_heat"]) * 60
        self.assertGreater(d_ef, 0)
        self.assertAlmostEqual(d_heat, d_ef, delta=p1["crowd"]["minutes_los_ef"] * 2e-5 + 1e-9)
        self.assertEqual(SERVER.stop(), 0)
        SERVER = mshtest.Server(DB, "--kpi-config", CONFIG, name="kpi2").start()
        self.assertIn("replayed", SERVER.stderr())
        doc2 = SERVER.json("/kpi/history?" + q)
        self.assertEqual([p["t_ms"] for p in doc2["points"]][:len(times)], times)
        self.assertEqual(doc2["points"][0]["kpi"], doc["points"][0]["kpi"])
        # cleaning coverage came back from the store (crew paths are not in the live log's replay)
        self.assertIn("swept route pieces", SERVER.stderr())
        self.assertAlmostEqual(self.zone("Z1")["cleaning"]["share_covered"], 33 / 63, places=5)
        self.assertAlmostEqual(self.zone("Z2")["cleaning"]["share_covered"], 22 / 83, places=5)
        # minutes at E/F carried over from the recorded history (recorded every second: what the last
        # second before the stop added may be lost), then grow again
        self.assertGreaterEqual(self.zone("Z1")["crowd"]["minutes_los_ef"], before - 2 / 60)


def mshtest_iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


if __name__ == "__main__":
    mshtest.main()
