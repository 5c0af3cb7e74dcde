"""Tracking and guidance on a real server: the trail kept per tracked person (bounded, ordered,
`since=` and the --track-hours window, ops tokens only), the lost-person search by id and by group,
group dispersion events raised and cleared at the injected clock, and wheelchair routes that avoid
steps, walkways marked wheelchair=no and ramps steeper than --max-incline.

No sleeps: time is moved with POST /test/clock (--test-clock), which runs the time rules and the
dispersion pass before it answers; events are waited on as barriers (test_events.Stream).
"""
import json
import math
import unittest
import urllib.parse

from osgeo import ogr

import mshtest
import test_events

DB = None
SERVER = None
TOK = {}
BASE = (39.8700, 21.4000)       # the tracking tests' people walk east from here


def advance(seconds):
    r = mshtest.request(SERVER, "/test/clock?advance_s=%d" % seconds, "POST", TOK["admin"])
    assert r.status == 200, r.body
    return json.loads(r.body)


def get(path, role="ops"):
    return mshtest.request(SERVER, path, token=TOK.get(role))


def metres(lon1, lat1, lon2, lat2):
    k = math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot((lon2 - lon1) * k, lat2 - lat1) * 111195.0


def east(lon, lat, m):
    """The point m metres east of lon/lat."""
    return lon + m / (111195.0 * math.cos(math.radians(lat))), lat


def iso(ms):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


class Track(unittest.TestCase):
    def test_trail_bounded_ordered_since(self):
        now = advance(0)["now_ms"]
        t0 = (now // 1000 - 990) * 1000
        # 100 positions 20 m apart every 10 s, in one batch and in order
        recs = []
        for i in range(100):
            lon, lat = east(BASE[0], BASE[1], 20 * i)
            recs.append({"id": "P-T1", "group": "G-T", "lon": lon, "lat": lat, "time": t0 + i * 10000})
        mshtest.post_ok(SERVER, "positions", recs, TOK["feed"])
        r = get("/tracking/P-T1/track")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.header("Content-Type"), "application/geo+json")
        doc = json.loads(r.body)
        coords, times = doc["geometry"]["coordinates"], doc["properties"]["times"]
        self.assertEqual(doc["geometry"]["type"], "LineString")
        self.assertEqual(len(coords), len(times))
        self.assertEqual(doc["properties"]["points"], len(coords))
        self.assertLessEqual(len(coords), 32)               # bounded: 32 points a person
        self.assertGreaterEqual(len(coords), 30)
        self.assertEqual(times, sorted(times))              # ordered, oldest first
        self.assertEqual(len(set(times)), len(times))
        self.assertEqual(times[0], iso(t0)[:-5] + "Z")      # the first position is kept
        self.assertEqual(times[-1], iso(t0 + 990000)[:-5] + "Z")
        lons = [c[0] for c in coords]
        self.assertEqual(lons, sorted(lons))                # walking east
        for c, t in zip(coords, times):                     # each point where the person was then (2.2 m grid)
            i = [iso(x["time"])[:-5] + "Z" for x in recs].index(t)
            self.assertLess(metres(c[0], c[1], recs[i]["lon"], recs[i]["lat"]), 3.5)
        # thinned by age: the newest points are 10 s apart, the old ones further
        secs = [int(t[11:13]) * 3600 + int(t[14:16]) * 60 + int(t[17:19]) for t in times]
        gaps = [(b - a) % 86400 for a, b in zip(secs, secs[1:])]
        self.assertEqual(gaps[-1], 10)
        self.assertGreater(max(gaps[:5]), 10)
        last = doc["properties"]["last"]
        self.assertAlmostEqual(last["lon"], recs[-1]["lon"], places=6)
        # since=: only points at or after it
        since = t0 + 500000
        d2 = json.loads(get("/tracking/P-T1/track?since=" + iso(since)).body)
        t2 = d2["properties"]["times"]
        self.assertTrue(t2 and all(t >= iso(since)[:-5] + "Z" for t in t2), t2)
        self.assertEqual(t2, [t for t in times if t >= iso(since)[:-5] + "Z"])
        self.assertEqual(d2["properties"]["since"], iso(since)[:-5] + "Z")

    def test_standing_still_costs_no_points(self):
        now = advance(0)["now_ms"]
        lon, lat = east(BASE[0], BASE[1] + 0.002, 0)
        recs = [{"id": "P-T2", "lon": lon + (i % 2) * 1e-5, "lat": lat, "time": now - 600000 + i * 10000}
                for i in range(50)]                         # 50 positions within a metre
        mshtest.post_ok(SERVER, "positions", recs, TOK["feed"])
        doc = json.loads(get("/tracking/P-T2/track").body)
        self.assertEqual(doc["properties"]["points"], 2)    # arrived, and still there
        self.assertEqual(doc["properties"]["times"][0], iso(recs[0]["time"])[:-5] + "Z")
        self.assertEqual(doc["properties"]["times"][1], iso(recs[-1]["time"])[:-5] + "Z")

    def test_roles_and_bad_requests(self):
        mshtest.post_ok(SERVER, "positions", [{"id": "P-T3", "lon": BASE[0], "lat": BASE[1],
                                              "time": advance(0)["now_ms"]}], TOK["feed"])
        for path in ("/tracking/P-T3/track", "/tracking/search?id=P-T3"):
            self.assertEqual(get(path, role=None).status, 401, path)
            self.assertEqual(get(path, role="feed").status, 403, path)
            self.assertEqual(get(path, role="ops").status, 200, path)
        r = get("/tracking/NOBODY/track")
        self.assertEqual(r.status, 404)
        self.assertIn("no tracked person 'NOBODY'", r.body.decode())
        self.assertEqual(get("/tracking/search?id=NOBODY").status, 404)
        self.assertEqual(get("/tracking/search?group=NO-GROUP").status, 404)
        for bad in ("/tracking/P-T3/track?since=yesterday", "/tracking/search", "/tracking/search?id=P-T3&group=G-T",
                    "/tracking/search?id=" + "x" * 65, "/tracking/search?group=", "/tracking/%s/track" % ("y" * 65)):
            r = get(bad)
            self.assertEqual(r.status, 400, (bad, r.body))


    def test_z_window_of_track_hours(self):
        # P-T1's trail (test_trail_bounded_ordered_since: whole seconds 10 s apart) seen 6 hours less 505 s
        # later: only the points of the last 6 hours (--track-hours 6, the default) are served. The window's
        # start falls 5 s from any point, so comparing whole seconds is exact.
        before = json.loads(get("/tracking/P-T1/track").body)["properties"]["times"]
        now = advance(6 * 3600 - 505)["now_ms"]
        after = json.loads(get("/tracking/P-T1/track").body)["properties"]["times"]
        start = iso(now - 6 * 3600 * 1000)[:-5] + "Z"
        self.assertTrue(after, before)
        self.assertLess(len(after), len(before))
        self.assertEqual(after, [t for t in before if t >= start])


class Search(unittest.TestCase):
    def test_search_by_id_and_group(self):
        now = advance(0)["now_ms"]
        c = (BASE[0], BASE[1] + 0.01)
        offsets = [0, 10, 20, 30, 200]                      # metres east of c
        recs = []
        for i, m in enumerate(offsets):
            lon, lat = east(c[0], c[1], m)
            recs.append({"id": "P-S%d" % i, "group": "G-S", "lon": lon, "lat": lat, "time": now - 1000})
        mshtest.post_ok(SERVER, "positions", recs, TOK["feed"])
        doc = json.loads(get("/tracking/search?group=G-S").body)
        self.assertEqual((doc["group"], doc["count"], doc["active"], doc["truncated"]), ("G-S", 5, 5, False))
        clon = sum(r["lon"] for r in recs) / 5
        clat = sum(r["lat"] for r in recs) / 5
        self.assertAlmostEqual(doc["centroid"]["lon"], clon, places=6)
        by_id = {m["id"]: m for m in doc["members"]}
        self.assertEqual(set(by_id), {"P-S%d" % i for i in range(5)})
        for r in recs:
            m = by_id[r["id"]]
            self.assertAlmostEqual(m["to_centroid_m"], metres(r["lon"], r["lat"], clon, clat), delta=0.5)
            self.assertAlmostEqual(m["last"]["lon"], r["lon"], places=6)
        self.assertEqual((by_id["P-S0"]["nearest"], by_id["P-S0"]["nearest_m"]), ("P-S1", 10.0))
        self.assertEqual(by_id["P-S4"]["nearest"], "P-S3")
        self.assertAlmostEqual(by_id["P-S4"]["nearest_m"], 170.0, delta=0.5)
        self.assertAlmostEqual(doc["spread_m"], by_id["P-S4"]["to_centroid_m"], delta=0.1)
        # by id: the person's last position, trail and group
        d = json.loads(get("/tracking/search?id=P-S4").body)
        self.assertEqual((d["id"], d["group"]), ("P-S4", "G-S"))
        self.assertAlmostEqual(d["last"]["lon"], recs[4]["lon"], places=6)
        self.assertEqual(d["track"]["properties"]["points"], 1)
        self.assertEqual(d["track"]["geometry"]["type"], "Point")
        self.assertEqual(d["group_members"]["count"], 5)
        self.assertEqual({m["id"] for m in d["group_members"]["members"]}, set(by_id))


class Dispersion(unittest.TestCase):
    def place(self, group, straggler_m, t):
        c = (BASE[0], BASE[1] + 0.02)
        recs = [{"id": "%s-%d" % (group, i), "group": group, "lon": c[0], "lat": c[1] + i * 2e-5, "time": t}
                for i in range(4)]
        lon, lat = east(c[0], c[1], straggler_m)
        recs.append({"id": "%s-4" % group, "group": group, "lon": lon, "lat": lat, "time": t})
        mshtest.post_ok(SERVER, "positions", recs, TOK["feed"])

    def test_group_events_need_ops(self):
        s = test_events.Stream("?types=group", subscribe=False)
        try:
            mshtest.wait_for(lambda: s.status is not None or s.ended, 10, "the answer")
            self.assertEqual(s.status, 401)
        finally:
            s.close()

    def test_raised_after_a_minute_cleared_under_80_percent(self):
        s = test_events.Stream("?types=group", headers={"Authorization": "Bearer " + TOK["ops"]})
        try:
            t0 = advance(0)["now_ms"]
            self.place("GA", 600, t0)                       # the straggler 480 m from the centroid
            r0 = advance(0)                                 # a pass: GA over the radius from now
            advance(30)
            r2 = advance(31)
            ev = s.wait_for(lambda e: e[2]["group"] == "GA" and e[2]["state"] == "raised", "GA raised")[0][2]
            self.assertEqual((ev["members"], ev["outside_count"], ev["outside"]), (5, 1, ["GA-4"]))
            self.assertAlmostEqual(ev["spread_m"], 480, delta=3)
            self.assertEqual(ev["radius_m"], 300)
            since = mshtest_ms(ev["over_since"])
            at = mshtest_ms(ev["at"])
            self.assertGreaterEqual(since, t0)
            self.assertLessEqual(since, r0["now_ms"])       # the pass of the first step saw it
            self.assertGreaterEqual(at - since, 60000)      # held for a minute before it was raised
            self.assertLessEqual(at, r2["now_ms"])          # and raised by the step that made it a minute
            # 272 m: under the radius but over 80 % of it: still raised; 80 m: cleared
            t = advance(1)["now_ms"]
            self.place("GA", 340, t)
            advance(5)
            self.place("GA", 100, t + 6000)
            advance(1)
            cl = s.wait_for(lambda e: e[2]["group"] == "GA" and e[2]["state"] == "cleared", "GA cleared")
            self.assertEqual(len(cl), 1)
            self.assertAlmostEqual(cl[0][2]["spread_m"], 80, delta=3)   # not cleared at 272 m
            self.assertEqual(cl[0][2]["outside"], [])
            raised = s.hits(lambda e: e[2]["group"] == "GA" and e[2]["state"] == "raised")
            self.assertEqual(len(raised), 1)
        finally:
            s.close()


def mshtest_ms(text):
    import calendar
    import time
    base, frac = text[:-1].split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) * 1000 + int(frac)


# ------------------------------------------------------------------ wheelchair routes

A, B = (39.9000, 21.4300), (39.9020, 21.4300)
C = (39.9010, 21.4320)          # the gentle detour (4 %)
J = (39.9010, 21.4308)          # a steep ramp (12 %), shorter than the detour
D, E, F, G = (39.9100, 21.4300), (39.9110, 21.4300), (39.9120, 21.4300), (39.9090, 21.4300)


def walkway_features():
    def line(pts, **props):
        return {"type": "Feature", "properties": dict({"name": "w", "highway": "footway", "incline": None,
                                                        "wheelchair": None}, **props),
                "geometry": {"type": "LineString", "coordinates": [list(p) for p in pts]}}
    return [
        line([A, B], highway="steps"),                      # the short way: steps
        line([A, J]), line([J, B], incline="12%"),          # a ramp too steep
        line([A, C], incline="4%"), line([C, B], incline="-4 %"),
        line([(A[0] - 0.001, A[1]), A]), line([B, (B[0] + 0.001, B[1])]),
        # G - D plain, D - E only by steps (and a ramp marked wheelchair=no), E - F plain
        line([G, D]), line([D, E], highway="steps"), line([D, (D[0] + 0.0005, D[1] + 0.0003), E], wheelchair="no"),
        line([E, F]),
    ]


class Wheelchair(unittest.TestCase):
    def route(self, a, b, profile=None):
        q = {"from": "%f,%f" % a, "to": "%f,%f" % b}
        if profile:
            q["profile"] = profile
        return SERVER.get("/route?" + urllib.parse.urlencode(q))

    def test_avoids_steps_and_steep_ramps(self):
        a, b = (A[0] - 0.0005, A[1]), (B[0] + 0.0005, B[1])
        walk = json.loads(self.route(a, b).body)
        wheel_r = self.route(a, b, "wheelchair")
        self.assertEqual(wheel_r.status, 200, wheel_r.body)
        wheel = json.loads(wheel_r.body)
        self.assertEqual((walk["properties"]["profile"], wheel["properties"]["profile"]), ("walking", "wheelchair"))
        wc = [tuple(round(v, 5) for v in c) for c in wheel["geometry"]["coordinates"]]
        kc = [tuple(round(v, 5) for v in c) for c in walk["geometry"]["coordinates"]]
        self.assertNotIn(C, kc)                              # walking takes the steps
        self.assertNotIn(J, kc)
        self.assertIn(C, wc)                                 # the wheelchair the 4 % detour
        self.assertNotIn(J, wc)                              # never the 12 % ramp
        self.assertGreater(wheel["properties"]["length_m"], walk["properties"]["length_m"] + 200)
        self.assertGreaterEqual(wheel["properties"]["barred_edges"], 4)
        self.assertTrue(wheel["properties"]["steps"])        # told as steps, in Arabic too
        ar = json.loads(SERVER.get("/route?" + urllib.parse.urlencode(
            {"from": "%f,%f" % a, "to": "%f,%f" % b, "profile": "wheelchair", "lang": "ar"})).body)
        self.assertTrue(any("\u0627" <= ch <= "\u064a" for ch in ar["properties"]["steps"][0]["instruction"]))

    def test_refused_when_only_steps_connect(self):
        a, b = ((G[0] + D[0]) / 2, G[1]), ((E[0] + F[0]) / 2, E[1])
        self.assertEqual(self.route(a, b).status, 200)       # on foot, by the steps
        r = self.route(a, b, "wheelchair")
        self.assertEqual(r.status, 422, r.body)
        self.assertIn("no wheelchair-accessible route", r.body.decode())
        self.assertIn("steps", r.body.decode())
        r = self.route(((D[0] + E[0]) / 2, D[1]), b, "wheelchair")   # starting on the steps
        self.assertEqual(r.status, 422, r.body)
        self.assertIn("nearest the origin", r.body.decode())
        r = self.route(a, b, "bicycle")
        self.assertEqual(r.status, 400)
        self.assertIn("profile", r.body.decode())

    def test_isochrone_profile(self):
        # 3 minutes from the middle of G - D: on foot over the steps to the middle of E - F (207 m);
        # the wheelchair stays west of D (the steps and the ramp marked wheelchair=no are closed)
        o, beyond = ((G[0] + D[0]) / 2, G[1]), ((E[0] + F[0]) / 2, E[1])
        def iso(profile=None):
            q = {"lon": o[0], "lat": o[1], "minutes": 3}
            if profile:
                q["profile"] = profile
            return SERVER.get("/isochrone?" + urllib.parse.urlencode(q))
        walk = json.loads(iso().body)   # first, so that a cache keyed without the profile would answer it again
        r = iso("wheelchair")
        self.assertEqual(r.status, 200, r.body)
        wheel = json.loads(r.body)
        self.assertEqual((walk["properties"]["profile"], wheel["properties"]["profile"]), ("walking", "wheelchair"))
        pt = ogr.CreateGeometryFromWkt("POINT (%f %f)" % beyond)
        near = ogr.CreateGeometryFromWkt("POINT (%f %f)" % (G[0] + 0.0002, G[1]))
        wg, hg = (ogr.CreateGeometryFromJson(json.dumps(x["geometry"])) for x in (walk, wheel))
        self.assertTrue(wg.Contains(pt))
        self.assertFalse(hg.Contains(pt))
        self.assertTrue(hg.Contains(near))
        self.assertGreater(wheel["properties"]["barred_edges"], 0)
        self.assertLess(wheel["properties"]["reachable_network_m"], walk["properties"]["reachable_network_m"] - 100)
        r = SERVER.get("/isochrone?" + urllib.parse.urlencode(
            {"lon": (D[0] + E[0]) / 2, "lat": D[1], "minutes": 3, "profile": "wheelchair"}))   # on the steps
        self.assertEqual(r.status, 422, r.body)
        self.assertIn("no wheelchair-accessible isochrone", r.body.decode())
        r = SERVER.get("/isochrone?" + urllib.parse.urlencode({"lon": o[0], "lat": o[1], "minutes": 3,
                                                               "profile": "bicycle"}))
        self.assertEqual(r.status, 400)
        self.assertIn("profile", r.body.decode())


def setUpModule():
    global DB, SERVER
    DB = mshtest.work_path("tracking.sqlite")
    path = mshtest.work_path("walkways.geojson")
    with open(path, "w") as f:
        json.dump({"type": "FeatureCollection", "features": walkway_features()}, f)
    mshtest.import_layer(DB, path, "walkways", check=0)
    for role, name in (("admin", "admin-trk"), ("feed", "feed-trk"), ("ops", "ops-trk")):
        TOK[role] = mshtest.add_token(DB, role, name)
    SERVER = mshtest.Server(DB, "--test-clock").start()
    test_events.SERVER = SERVER


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
