"""The crowd density forecast served: GET /forecast/density (the three models, minutes, bbox,
k-anonymity, refusals), POST /forecast/refresh as the barrier, GET /forecast/zones, the refresh on
the serving timer driven by the test clock, the `forecast` events raised and cleared, and
GET /forecast/warnings, the warnings those events describe, for a console that opens later; a
closed gate whose operator says when it reopens holds the crowd until then and lets it through after,
unless an incident's closure or another gate closed until later holds the same walkways.

The walkway is one made-up street, 1 km east-west and 6 m wide (`width_m`), then a passage 1 m wide
for 100 m (a bottleneck), each open at its far end (people leave the map there); a service zone
covers the street's last 150 m. Crowds are posted as positions with speed and heading;
every check follows a POST /forecast/refresh, which answers once the new forecast is published.
"""
import datetime
import json
import math
import unittest

import mshtest
import test_events
from mshtest import now_ms

DB = None
SERVER = None
TOK = {}
LAT = 21.41
LON0 = 39.880
M_PER_DEG = 111320 * math.cos(math.radians(LAT))


def lon(x_m):
    return LON0 + x_m / M_PER_DEG


def x_of(lon_):
    return (lon_ - LON0) * M_PER_DEG


def crowd(prefix, n, x0, x1, speed=0.0, heading=90):
    """n people spread evenly from x0 to x1 metres along the street, all at that speed and heading."""
    out = []
    for i in range(n):
        rec = {"id": "%s-%d" % (prefix, i), "lon": lon(x0 + (x1 - x0) * (i + 0.5) / n), "lat": LAT,
               "time": now_ms()}
        if speed:
            rec.update(speed=speed, heading=heading)
        else:
            rec.update(speed=0)
        out.append(rec)
    return out


def iso_ms(text):
    """Milliseconds since the epoch of an ISO 8601 UTC time as the server writes it."""
    return round(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def refresh():
    r = mshtest.api(SERVER, "/forecast/refresh", "POST", TOK["admin"])
    assert r.status == 200, (r.status, r.body)
    return r.json()


def density(query):
    r = SERVER.get("/forecast/density?" + query)
    assert r.status == 200, (query, r.status, r.body)
    return json.loads(r.body)


def centre(doc):
    """(people, mean x in metres) over the features of a FeatureCollection."""
    n = sx = 0
    for f in doc["features"]:
        ring = f["geometry"]["coordinates"][0]
        cx = (ring[0][0] + ring[2][0]) / 2
        n += f["properties"]["count"]
        sx += f["properties"]["count"] * x_of(cx)
    return n, (sx / n if n else float("nan"))


class Forecast(unittest.TestCase):
    def test_a_density_models_and_privacy(self):
        # ten cells (89 m) from the street's west end: nobody is seen coming in there (an inflow
        # would go on); cell-aligned as the street's start, so that no cell holds under k people
        x_w = 10 * 360.0 / (1 << 22) * M_PER_DEG
        mshtest.post_ok(SERVER, "positions", crowd("W", 300, x_w, x_w + 90, speed=1.3), TOK["feed"])
        mshtest.post_ok(SERVER, "positions", crowd("K", 3, 500, 501), TOK["feed"])  # 3 people: under k
        info = refresh()
        self.assertEqual(info["people"], 303)
        now = density("minutes=0")
        self.assertEqual((now["type"], now["model"], now["minutes"]), ("FeatureCollection", "ctm", 0))
        n0, x0 = centre(now)
        self.assertAlmostEqual(n0, 300, delta=0.01)         # the 3 alone are not shown
        self.assertTrue(all(x_of(f["geometry"]["coordinates"][0][0][0]) < 220 for f in now["features"]))
        f = now["features"][0]
        self.assertEqual(f["geometry"]["type"], "Polygon")
        p = f["properties"]
        self.assertEqual(set(p), {"count", "density", "los", "p_e", "p_f", "minutes", "issued_at"})
        self.assertEqual(p["issued_at"], now["issued_at"])
        self.assertEqual(p["issued_at"], info["issued_at"])
        ring = f["geometry"]["coordinates"][0]
        side = (ring[1][0] - ring[0][0]) * M_PER_DEG
        self.assertAlmostEqual(p["density"], p["count"] / (side * side), delta=0.01)
        self.assertIn(p["los"], "ABCDEF")
        # ten minutes at Weidmann's speed for their density (0.56 persons/m2, 1.28 m/s, then 1.34
        # as they spread): about 785 m east; persistence stays; advection at the reported 1.3 m/s
        # on a straight street agrees with the model
        ten = density("minutes=10")
        n10, x10 = centre(ten)
        # the crowd spreads as it walks (the model's speeds differ across it); the cells its thin
        # edges leave under k people are not shown
        self.assertGreater(n10, 240)
        self.assertLessEqual(n10, 300.01)
        self.assertAlmostEqual(x10 - x0, 785, delta=45)
        self.assertTrue(all(f["properties"]["minutes"] == 10 for f in ten["features"]))
        np_, xp = centre(density("minutes=10&model=persistence"))
        self.assertAlmostEqual((np_, xp), (n0, x0), delta=1e-6)
        na, xa = centre(density("minutes=10&model=advection"))
        self.assertAlmostEqual(xa - x0, 780, delta=15)
        # bbox: the west end holds nobody any more at 10 minutes, everyone now
        west = "bbox=%.7f,21.409,%.7f,21.411" % (lon(-20), lon(250))
        self.assertEqual(density("minutes=10&" + west)["features"], [])
        self.assertAlmostEqual(centre(density("minutes=0&" + west))[0], 300, delta=0.01)
        # standing people stay put
        mshtest.post_ok(SERVER, "positions", crowd("W", 300, x_w, x_w + 90), TOK["feed"])
        refresh()
        self.assertAlmostEqual(centre(density("minutes=30"))[1], x0, delta=5)

    def test_b_refusals(self):
        for q in ("", "minutes=7", "minutes=-5", "minutes=ten", "minutes=10&model=magic", "minutes=10&bbox=1,2",
                  "minutes=10&bbox=40,22,39,21&x=1", "minutes=10&bbox=39,91,40,92"):
            r = SERVER.get("/forecast/density?" + q)
            self.assertEqual(r.status, 400, q)
            self.assertIn("error", json.loads(r.body))
        self.assertEqual(SERVER.get("/forecast/zones?minutes=3").status, 400)
        self.assertEqual(mshtest.api(SERVER, "/forecast/refresh", "POST").status, 401)
        self.assertEqual(mshtest.api(SERVER, "/forecast/refresh", "POST", TOK["feed"]).status, 403)
        self.assertEqual(SERVER.get("/forecast/refresh").status, 405)

    def test_c_warning_raised_zone_then_cleared(self):
        s = test_events.Stream("?types=forecast")
        try:
            # 600 people walking east into the 1 m passage: a queue forms in front of it within minutes
            mshtest.post_ok(SERVER, "positions", crowd("E", 600, 700, 800, speed=1.2), TOK["feed"])
            refresh()
            ev = s.wait_for(lambda e: e[1] == "forecast" and e[2]["state"] == "raised" and e[2]["level"] == "F",
                            "a level F warning")[0][2]
            self.assertGreater(x_of(ev["lon"]), 900)
            self.assertLess(x_of(ev["lon"]), 1010)
            self.assertIn(ev["minutes"], (5, 10, 15, 20, 30))
            self.assertGreater(ev["density"], 2.15)
            zones = SERVER.json("/forecast/zones?minutes=30")
            end = [z for z in zones["zones"] if z["zone"] == "Z-END"]
            self.assertEqual(len(end), 1, zones)
            self.assertEqual(end[0]["los"], "F")
            self.assertGreater(end[0]["peak_density"], 2.15)
            self.assertIn(end[0]["peak_minutes"], (5, 10, 15, 20, 30))
            now_zone = SERVER.json("/forecast/zones?minutes=0")["zones"]
            self.assertTrue(all(z["peak_density"] < 1.08 for z in now_zone if z["zone"] == "Z-END"))
            # the crowd stops and spreads out thinly: the warning clears
            raised = len(s.hits(lambda e: e[2]["state"] == "raised"))
            mshtest.post_ok(SERVER, "positions", crowd("E", 600, 100, 700), TOK["feed"])
            refresh()
            s.wait_for(lambda e: e[2]["state"] == "cleared" and abs(e[2]["lon"] - ev["lon"]) < 1e-6, "the clearing")
            refresh()   # nothing new to say: no event
            self.assertEqual(len(s.hits(lambda e: e[2]["state"] == "raised")), raised)
        finally:
            s.close()

    def test_c_warnings_list(self):
        def warnings(query=""):
            r = SERVER.get("/forecast/warnings" + query)
            self.assertEqual(r.status, 200, (query, r.body))
            self.assertEqual(r.headers.get("content-type"), "application/geo+json")
            return json.loads(r.body)

        self.assertEqual(warnings()["features"], [])   # the last test's warning was cleared
        s = test_events.Stream("?types=forecast")
        try:
            s.wait_subscribed()
            mshtest.post_ok(SERVER, "positions", crowd("L", 600, 700, 800, speed=1.2), TOK["feed"])
            info = refresh()
            doc = warnings()
            self.assertEqual((doc["type"], doc["issued_at"]), ("FeatureCollection", info["issued_at"]))
            self.assertEqual(doc["numberReturned"], len(doc["features"]))

            # the list is the set the events describe: every cell raised or updated and not cleared since,
            # with the level and minutes of its last event
            def from_events():
                state = {}
                for _, _, d in s.hits(lambda e: e[1] == "forecast"):
                    if d["state"] == "cleared":
                        state.pop(d["cell"], None)
                    else:
                        state[d["cell"]] = (d["level"], d["minutes"])
                return state
            listed = {f["properties"]["cell"]: (f["properties"]["level"], f["properties"]["minutes"])
                      for f in doc["features"]}
            mshtest.wait_for(lambda: from_events() == listed, 30, "the events to match the list %r" % listed,
                             interval=0.05)
            fs = [f for f in doc["features"] if f["properties"]["level"] == "F"]
            self.assertTrue(fs, doc)
            order = [(f["properties"]["level"] != "F", f["properties"]["minutes"]) for f in doc["features"]]
            self.assertEqual(order, sorted(order))   # F first, then the soonest
            f = fs[0]
            p = f["properties"]
            self.assertEqual(set(p), {"cell", "zone", "level", "minutes", "expected_at", "probability", "density",
                                      "raised_at", "updated_at"})
            self.assertEqual(f["id"], p["cell"])
            self.assertEqual(f["geometry"]["type"], "Point")
            x = x_of(f["geometry"]["coordinates"][0])
            self.assertGreater(x, 900)
            self.assertLess(x, 1010)
            self.assertEqual(p["zone"], "Z-END")
            self.assertGreater(p["density"], 2.15)
            self.assertGreater(p["probability"], 0.5)
            self.assertLessEqual(p["probability"], 1.0)
            self.assertEqual(p["raised_at"], info["issued_at"])
            self.assertEqual(p["updated_at"], info["issued_at"])
            expected = iso_ms(info["issued_at"]) + p["minutes"] * 60000
            self.assertEqual(iso_ms(p["expected_at"]), expected)
            # filters: F only; a box around the passage's mouth; a box elsewhere
            self.assertEqual({g["properties"]["cell"] for g in warnings("?level=F")["features"]},
                             {g["properties"]["cell"] for g in fs})
            self.assertEqual(len(warnings("?level=E")["features"]), len(doc["features"]))
            near = "?bbox=%.7f,21.409,%.7f,21.411" % (lon(x - 5), lon(x + 5))
            self.assertIn(p["cell"], [g["properties"]["cell"] for g in warnings(near)["features"]])
            self.assertEqual(warnings("?bbox=%.7f,21.409,%.7f,21.411" % (lon(0), lon(300)))["features"], [])
            for q in ("?level=D", "?level=", "?bbox=1,2", "?bbox=39,91,40,92"):
                r = SERVER.get("/forecast/warnings" + q)
                self.assertEqual(r.status, 400, q)
                self.assertIn("error", json.loads(r.body))
            # the same state again: the warning stands, raised when it was
            again = refresh()
            g = [w for w in warnings()["features"] if w["properties"]["cell"] == p["cell"]]
            self.assertEqual(len(g), 1)
            self.assertEqual(g[0]["properties"]["raised_at"], info["issued_at"])
            self.assertEqual(warnings()["issued_at"], again["issued_at"])
            # the crowd stops and spreads out thinly: nothing stands
            mshtest.post_ok(SERVER, "positions", crowd("L", 600, 100, 700), TOK["feed"])
            refresh()
            self.assertEqual(warnings()["features"], [])
            mshtest.wait_for(lambda: from_events() == {}, 30, "the events' clearings", interval=0.05)
        finally:
            s.close()

    def test_d_timer_refresh_on_test_clock(self):
        before = mshtest.metric(mshtest.parse_metrics(SERVER.get("/metrics").body.decode()),
                                "mashaer_forecast_refreshes_total")
        # --forecast-every is an hour of server time: real time alone does not reach it in this test
        r = mshtest.api(SERVER, "/test/clock?advance_s=3601", "POST", TOK["admin"])
        self.assertEqual(r.status, 200, r.body)
        mshtest.wait_for(lambda: mshtest.metric(mshtest.parse_metrics(SERVER.get("/metrics").body.decode()),
                                                "mashaer_forecast_refreshes_total") > before, 30,
                         "a refresh on the serving timer")
        issued = density("minutes=0")["issued_at"]
        self.assertGreaterEqual(issued[:19], r.json()["now"][:19])   # made after the clock moved
        # an hour on, past --position-max-age (10 min), everyone posted is gone at once: the clock's
        # answer drops them (the serving timer would only have, a real second later)
        self.assertGreater(r.json()["expired"], 0)
        refresh()
        self.assertEqual(density("minutes=0")["features"], [])

    def test_e_gate_reopens(self):
        # a gate where the street meets the passage, closed by an operator who says it reopens in
        # 10 minutes; 300 people walking up to it. The forecast holds them at the gate until then
        # (nobody in the passage at 10 minutes), then lets them through: at 30 minutes they have all
        # gone through the passage and off its far end. Without the reopening time nobody passes.
        clock = mshtest.api(SERVER, "/test/clock?advance_s=0", "POST", TOK["admin"]).json()["now_ms"]
        mshtest.post_ok(SERVER, "gates", [{"id": "G-FC", "lon": lon(1000), "lat": LAT, "capacity": 5000, "in": 0,
                                           "out": 0, "time": clock}], TOK["feed"])
        recs = crowd("R", 300, 800, 890, speed=1.3)
        for r in recs:
            r["time"] = clock
        mshtest.post_ok(SERVER, "positions", recs, TOK["feed"])
        path = "/ogc/collections/gates/items/G-FC"

        def patch(body):
            etag = SERVER.get(path).header("ETag")
            r = mshtest.api(SERVER, path, "PATCH", TOK["admin"], body, "application/merge-patch+json",
                            {"If-Match": etag})
            self.assertEqual(r.status, 200, r.body)

        reopens = datetime.datetime.fromtimestamp(clock / 1000 + 600, datetime.timezone.utc)
        patch({"state": "closed", "reopens_at": reopens.strftime("%Y-%m-%dT%H:%M:%SZ")})
        refresh()
        passage = "bbox=%.7f,21.409,%.7f,21.411" % (lon(1003), lon(1200))
        self.assertAlmostEqual(centre(density("minutes=0"))[0], 300, delta=0.01)
        for m in (5, 10):
            self.assertEqual(density("minutes=%d&%s" % (m, passage))["features"], [], m)
            self.assertGreater(centre(density("minutes=%d" % m))[0], 290)  # cells under k (5) not shown
        self.assertLess(centre(density("minutes=30"))[0], 5)
        patch({"reopens_at": None})
        refresh()
        self.assertGreater(centre(density("minutes=30"))[0], 290)
        patch({"state": "open"})

    def test_f_gate_reopens_incident_holds(self):
        # the same gate closed until 10 minutes from now, and a fire at it whose closure (50 m) holds
        # the same walkways with no planned end: nobody passes at 30 minutes. Once the fire is
        # resolved the gate's time counts again; a second gate there closed until 40 minutes holds
        # them past 30 minutes (the later reopening wins). Each gate PATCH recomputes the walking
        # costs before it answers, so the incident's change is in the view the refresh reads.
        clock = mshtest.api(SERVER, "/test/clock?advance_s=0", "POST", TOK["admin"]).json()["now_ms"]
        mshtest.post_ok(SERVER, "gates", [{"id": g, "lon": lon(1000), "lat": LAT, "capacity": 5000, "in": 0,
                                           "out": 0, "time": clock} for g in ("G-FC", "G-FC2")], TOK["feed"])
        recs = crowd("R", 300, 800, 890, speed=1.3)
        for r in recs:
            r["time"] = clock
        mshtest.post_ok(SERVER, "positions", recs, TOK["feed"])
        fire = {"id": "INC-FC", "kind": "fire", "severity": "high", "status": "reported", "lon": lon(1000),
                "lat": LAT, "time": clock}
        mshtest.post_ok(SERVER, "incidents", [fire], TOK["feed"])

        def patch(gid, body):
            path = "/ogc/collections/gates/items/" + gid
            etag = SERVER.get(path).header("ETag")
            r = mshtest.api(SERVER, path, "PATCH", TOK["admin"], body, "application/merge-patch+json",
                            {"If-Match": etag})
            self.assertEqual(r.status, 200, r.body)

        def at(minutes):
            return datetime.datetime.fromtimestamp(clock / 1000 + 60 * minutes,
                                                   datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

        patch("G-FC", {"state": "closed", "reason": "fire", "reopens_at": at(10)})
        refresh()
        self.assertGreater(centre(density("minutes=30"))[0], 290)   # the fire holds the gate's walkways
        mshtest.post_ok(SERVER, "incidents", [dict(fire, status="resolved", time=clock + 1000)], TOK["feed"])
        patch("G-FC", {"reason": "fire out"})
        refresh()
        self.assertLess(centre(density("minutes=30"))[0], 5)         # the gate's reopening alone
        patch("G-FC2", {"state": "closed", "reopens_at": at(40)})
        refresh()
        self.assertGreater(centre(density("minutes=30"))[0], 290)   # the later of the two gates
        patch("G-FC", {"state": "open"})
        patch("G-FC2", {"state": "open"})


class OpenGround(unittest.TestCase):
    def test_walk_on_straight(self):
        # 100 people walking together east at 1.2 m/s, 300 m north of the street (no walkway there), and
        # 30 milling about (headings all round) further west: the first walk on straight (5 minutes:
        # 360 m), the others stay where they are
        north = 300 / 110574.0
        t = now_ms()
        walk = [{"id": "OG-%d" % i, "lon": lon(i * 0.2), "lat": LAT + north, "time": t, "speed": 1.2,
                 "heading": 90} for i in range(100)]
        mill = [{"id": "OM-%d" % i, "lon": lon(-400 + i * 0.2), "lat": LAT + north, "time": t, "speed": 1.0,
                 "heading": (i % 4) * 90} for i in range(30)]
        mshtest.post_ok(SERVER, "positions", walk + mill, TOK["feed"])
        info = refresh()
        self.assertGreaterEqual(info["open_ground_people"], 100 - 0.01)  # and any other test's left there
        band = "bbox=%.7f,%.7f,%.7f,%.7f" % (lon(-100), LAT + north - 50 / 110574, lon(2000), LAT + north + 50 / 110574)
        n0, x0 = centre(density("minutes=0&" + band))
        self.assertAlmostEqual(n0, 100, delta=0.01)
        n5, x5 = centre(density("minutes=5&" + band))
        self.assertAlmostEqual(n5, 100, delta=5)       # spread over +-36 m: the end cells may fall under k = 5
        self.assertAlmostEqual(x5 - x0, 360, delta=9)
        self.assertAlmostEqual(centre(density("minutes=5&model=persistence&" + band))[1], x0, delta=1e-6)
        west = "bbox=%.7f,%.7f,%.7f,%.7f" % (lon(-450), LAT + north - 50 / 110574, lon(-350), LAT + north + 50 / 110574)
        nm, xm = centre(density("minutes=30&" + west))
        self.assertAlmostEqual(nm, 30, delta=0.01)
        self.assertAlmostEqual(xm, centre(density("minutes=0&" + west))[1], delta=1e-6)


def setUpModule():
    global DB, SERVER
    DB = mshtest.work_path("forecast.sqlite")
    street = mshtest.work_path("walkways.geojson")
    with open(street, "w") as f:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": "street", "width_m": 6.0},
             "geometry": {"type": "LineString", "coordinates": [[lon(0), LAT], [lon(1000), LAT]]}},
            {"type": "Feature", "properties": {"name": "passage", "width_m": 1.0},
             "geometry": {"type": "LineString", "coordinates": [[lon(1000), LAT], [lon(1100), LAT]]}}]}, f)
    mshtest.import_layer(DB, street, "walkways", check=0)
    zones = mshtest.work_path("service_zones.geojson")
    w, e = lon(850), lon(1010)
    with open(zones, "w") as f:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"zone_id": "Z-END"},
             "geometry": {"type": "Polygon", "coordinates": [[[w, 21.4095], [e, 21.4095], [e, 21.4105], [w, 21.4105],
                                                             [w, 21.4095]]]}}]}, f)
    mshtest.import_layer(DB, zones, "service_zones", check=0)
    for role, name in (("feed", "sensor"), ("admin", "root")):
        TOK[role] = mshtest.add_token(DB, role, name)
    SERVER = mshtest.Server(DB, "--test-clock", "--k-anon", "5", "--forecast-every", "3600").start()
    test_events.SERVER = SERVER


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
