"""Walking routes, nearest-by-walking, containment and isochrones, end to end.

* /route against pgRouting's pgr_dijkstra on the same edges in a real PostgreSQL (lengths by
  PostGIS on the spheroid, topology by pgr_createTopology): 1,000 random pairs agree within 0.1%,
  and both say "no path" for the same pairs.
* /query/nearest against brute force (a route to every candidate).
* /query/at against GEOS (OGR's Intersects) on the demo's sites, camps and service zones.
* live costs: a crowd at level of service F and an incident each move the route off them.
* /isochrone against routed distances; bad input gets 4xx with a message.
"""

import json
import math
import random
import sys
import time
import unittest
import urllib.parse

import mshtest
import pgsupport
from mshtest import ogr

DB = None
SERVER = None
PG = None
TOKEN = None
WALK = ["walkways", "site_walkways"]


def setUpModule():
    global DB, SERVER, PG, TOKEN
    DB = mshtest.work_path("route.sqlite")
    mshtest.import_demo(DB, layers=WALK + ["camps", "assets", "sites", "service_zones"])
    p = mshtest.run_mashaer("token", "add", "--db", DB, "--role", "feed", "--name", "route-test", check=0)
    TOKEN = p.stdout.splitlines()[0].strip()
    # 1,000 route pairs asked back to back from one address: over the default --rate-per-client
    SERVER = mshtest.Server(DB, "--reload-ms", "100", "--rate-per-client", "0").start()
    PG = pgsupport.Postgres().start()
    PG.psql("postgres", "CREATE DATABASE routes")
    PG.psql("routes", "CREATE EXTENSION postgis; CREATE EXTENSION pgrouting;")
    for name in WALK:
        PG.load("routes", mshtest.demo_path(name + ".geojson"), name, "-nlt", "LINESTRING")
    # one edge table, lengths on the WGS84 spheroid, nodes by pgRouting's own topology
    PG.psql("routes", """
        CREATE TABLE edges AS
          SELECT row_number() OVER ()::int AS id, geom FROM
            (SELECT geom FROM walkways UNION ALL SELECT geom FROM site_walkways) s;
        ALTER TABLE edges ADD COLUMN source int, ADD COLUMN target int, ADD COLUMN cost float8;
        UPDATE edges SET cost = ST_Length(geom::geography, true);
        SELECT pgr_createTopology('edges', 0.0000001, 'geom', 'id', clean := true);
    """)


def tearDownModule():
    if PG:
        PG.stop()
    if SERVER:
        rc = SERVER.stop()
        if rc != 0:
            raise AssertionError("mashaer serve exited %s; stderr:\n%s" % (rc, SERVER.stderr()))


def get(path, **params):
    q = urllib.parse.urlencode(params, safe=",:'")
    return SERVER.get(path + ("?" + q if q else ""))


def route(frm, to, **kw):
    return get("/route", **{"from": frm, "to": to}, **kw)


def ll(lon, lat):
    return "%.7f,%.7f" % (lon, lat)


def metres(lon1, lat1, lon2, lat2):
    """Equirectangular metres; enough for the geometric checks here (not for the 0.1% one)."""
    k = math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot((lon2 - lon1) * k, lat2 - lat1) * 111320.0


def seg_dist(p, a, b):
    """Metres from point p to segment a-b (local plane)."""
    k = math.cos(math.radians(p[1])) * 111320.0, 110574.0
    px, py = 0.0, 0.0
    ax, ay = (a[0] - p[0]) * k[0], (a[1] - p[1]) * k[1]
    bx, by = (b[0] - p[0]) * k[0], (b[1] - p[1]) * k[1]
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    t = 0 if l2 == 0 else max(0, min(1, ((px - ax) * dx + (py - ay) * dy) / l2))
    return math.hypot(ax + t * dx - px, ay + t * dy - py)


def component_vertex(order):
    """lon, lat of the first vertex of the smallest (ASC) or largest (DESC) connected part."""
    node = PG.psql("routes", """
        WITH c AS (SELECT * FROM pgr_connectedComponents(
            'SELECT id, source, target, cost, cost AS reverse_cost FROM edges'))
        SELECT v.node FROM c v JOIN (SELECT component, count(*) n FROM c GROUP BY component) s
          ON s.component = v.component ORDER BY s.n %s, v.node LIMIT 1""" % order)[0][0]
    return PG.psql("routes", "SELECT ST_X(the_geom), ST_Y(the_geom) FROM edges_vertices_pgr WHERE id = %s" % node)[0]


class PgRouting(unittest.TestCase):
    def test_1000_pairs_agree_with_pgr_dijkstra(self):
        verts = PG.psql("routes", "SELECT id, ST_X(the_geom), ST_Y(the_geom) FROM edges_vertices_pgr ORDER BY id")
        coords = {int(v[0]): (float(v[1]), float(v[2])) for v in verts}
        ids = sorted(coords)
        self.assertGreater(len(ids), 20000)
        rnd = random.Random(20261201)
        pairs = []
        while len(pairs) < 1000:
            a, b = rnd.choice(ids), rnd.choice(ids)
            if a != b:
                pairs.append((a, b))
        values = ",".join("(%d,%d)" % p for p in pairs)
        t0 = time.monotonic()
        rows = PG.psql("routes", """
            SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstra(
              'SELECT id, source, target, cost, cost AS reverse_cost FROM edges',
              'SELECT * FROM (VALUES %s) AS t(source, target)', directed => false)
            WHERE edge = -1""" % values)
        pg_s = time.monotonic() - t0
        want = {(int(r[0]), int(r[1])): float(r[2]) for r in rows}
        worst, checked, nopath = 0.0, 0, 0
        t0 = time.monotonic()
        for a, b in pairs:
            r = route(ll(*coords[a]), ll(*coords[b]), max_snap=5)
            if (a, b) not in want:
                self.assertEqual(r.status, 404, "pgRouting finds no path %d -> %d; Mashaer said %d %r"
                                 % (a, b, r.status, r.body[:200]))
                self.assertIn(b"no walking path", r.body)
                nopath += 1
                continue
            self.assertEqual(r.status, 200, r.body[:300])
            doc = r.json()
            got = doc["properties"]["network_m"]
            exp = want[(a, b)]
            rel = abs(got - exp) / max(exp, 1e-9)
            worst = max(worst, rel)
            self.assertLess(rel, 0.001, "pair %d -> %d (%s -> %s): Mashaer %.3f m, pgRouting %.3f m"
                            % (a, b, ll(*coords[a]), ll(*coords[b]), got, exp))
            # the line drawn is the line measured, end to end
            c = doc["geometry"]["coordinates"]
            self.assertAlmostEqual(c[0][0], coords[a][0], places=6)
            self.assertAlmostEqual(c[-1][1], coords[b][1], places=6)
            checked += 1
        ours_s = time.monotonic() - t0
        print("\n  %d pairs: %d routes agree (worst relative difference %.2e), %d without a path in both; "
              "pgr_dijkstra %.2f s for all in one call, Mashaer %.2f s over HTTP"
              % (len(pairs), checked, worst, nopath, pg_s, ours_s), file=sys.stderr)
        self.assertGreater(checked, 900)


class Nearest(unittest.TestCase):
    def test_nearest_water_matches_brute_force(self):
        ds = ogr.Open(mshtest.demo_path("assets.geojson"))
        lyr = ds.GetLayer(0)
        water = []
        for f in lyr:
            if f.GetField("kind") == "water_point" and f.GetField("status") == "working":
                g = f.GetGeometryRef()
                water.append((f.GetField("asset_id"), g.GetX(), g.GetY()))
        origins = [(39.8262, 21.4225), (39.8905, 21.4150), (39.8870, 21.4172), (39.9840, 21.3560)]
        flt = "kind='water_point' AND status='working'"
        for lon, lat in origins:
            r = get("/query/nearest", lon=lon, lat=lat, layer="assets", limit=3, filter=flt)
            self.assertEqual(r.status, 200, r.body[:300])
            doc = r.json()
            got = [(f["properties"]["asset_id"], f["properties"]["walking_m"]) for f in doc["features"]]
            self.assertEqual(len(got), 3, doc)
            for f in doc["features"]:
                self.assertEqual(f["properties"]["kind"], "water_point")
                self.assertEqual(f["properties"]["status"], "working")
                self.assertGreaterEqual(f["properties"]["walking_m"] + 0.01, f["properties"]["straight_m"])
            # brute force: a route to every working water point within 3 km in a straight line
            brute = []
            for aid, x, y in water:
                if metres(lon, lat, x, y) > 3000:
                    continue
                rr = route(ll(lon, lat), "asset:" + aid)
                if rr.status == 200:
                    brute.append((rr.json()["properties"]["length_m"], aid))
            brute.sort()
            self.assertGreater(len(brute), 3)
            self.assertLess(brute[2][0], 3000)  # so nothing farther in a straight line can beat them
            for (gid, gw), (bw, bid) in zip(got, brute[:3]):
                self.assertAlmostEqual(gw, bw, delta=0.05, msg="%s vs brute force %s" % (got, brute[:3]))
            self.assertEqual([g[0] for g in got], [b[1] for b in brute[:3]])

    def test_nearest_bad_input(self):
        cases = [
            ({"lat": 21.42, "layer": "assets"}, 400, b"'lon' is required"),
            ({"lon": "abc", "lat": 21.42, "layer": "assets"}, 400, b"must be a number"),
            ({"lon": 39.8262, "lat": 21.4225}, 400, b"'layer' is required"),
            ({"lon": 39.8262, "lat": 21.4225, "layer": "nope"}, 404, b"no layer 'nope'"),
            ({"lon": 39.8262, "lat": 21.4225, "layer": "assets", "limit": 0}, 400, b"'limit' must be from 1"),
            ({"lon": 39.8262, "lat": 21.4225, "layer": "assets", "limit": 1.5}, 400, b"whole number"),
            ({"lon": 39.8262, "lat": 21.4225, "layer": "assets", "filter": "kind = "}, 400, b"filter"),
            ({"lon": 39.8262, "lat": 21.4225, "layer": "assets", "filter": "nosuch = 1"}, 400, b"nosuch"),
            ({"lon": 39.8262, "lat": 21.4225, "layer": "assets", "filter": "(" * 5000}, 400, b"filter"),
            ({"lon": 10, "lat": 10, "layer": "assets"}, 422, b"walking network"),
            ({"lon": "9" * 300, "lat": 21.4, "layer": "assets"}, 400, b"'lon'"),
        ]
        for params, status, msg in cases:
            r = get("/query/nearest", **params)
            self.assertEqual(r.status, status, (params, r.body[:300]))
            self.assertIn(msg, r.body, params)
            self.assertEqual(r.json()["status"], status)


class At(unittest.TestCase):
    def test_containment_matches_geos(self):
        keys = {"sites": "site_id", "camps": "camp_id", "service_zones": "zone_id"}
        polys = {}
        for layer, key in keys.items():
            ds = ogr.Open(mshtest.demo_path(layer + ".geojson"))
            polys[layer] = [(f.GetField(key), f.GetGeometryRef().Clone()) for f in ds.GetLayer(0)]
        rnd = random.Random(7)
        inside_camp = 0
        # half the points in camps (so the test sees hits), half anywhere over the sites
        pts = []
        for _ in range(150):
            cid, g = rnd.choice(polys["camps"])
            env = g.GetEnvelope()
            pts.append((rnd.uniform(env[0], env[1]), rnd.uniform(env[2], env[3])))
        for _ in range(150):
            pts.append((rnd.uniform(39.82, 40.007), rnd.uniform(21.342, 21.4334)))
        ds = ogr.Open(mshtest.demo_path("assets.geojson"))
        gates = [(f.GetField("asset_id"), f.GetGeometryRef().GetX(), f.GetGeometryRef().GetY())
                 for f in ds.GetLayer(0) if f.GetField("kind") == "gate"]
        gates_seen = 0
        for lon, lat in pts:
            doc = get("/query/at", lon="%.8f" % lon, lat="%.8f" % lat).json()
            # the nearest gate within 300 m, by brute force
            near = sorted((metres(lon, lat, x, y), gid) for gid, x, y in gates)
            near = [g for g in near if g[0] <= 300]
            if not near or (doc["gate"] is None and near[0][0] > 299):
                self.assertIsNone(doc["gate"])
            elif len(near) < 2 or near[1][0] - near[0][0] > 1:
                self.assertEqual(doc["gate"]["id"], near[0][1])
                self.assertAlmostEqual(doc["gate"]["distance_m"], near[0][0], delta=0.01 * near[0][0] + 0.2)
                gates_seen += 1
            p = ogr.CreateGeometryFromWkt("POINT (%.8f %.8f)" % (lon, lat))
            for layer, key in keys.items():
                want = sorted(k for k, g in polys[layer] if g.Intersects(p))
                got = sorted(f[key] for f in doc[layer])
                self.assertEqual(got, want, "%s at %.8f,%.8f" % (layer, lon, lat))
                if layer == "camps" and got:
                    inside_camp += 1
                    self.assertIn("capacity", doc[layer][0])
        self.assertGreater(inside_camp, 100)
        self.assertGreater(gates_seen, 5)

    def test_at_bad_input(self):
        for params, msg in [({}, b"'lon' is required"), ({"lon": 39.8, "lat": 95}, b"'lat' must be from"),
                            ({"lon": "1e999", "lat": 21}, b"must be a number")]:
            r = get("/query/at", **params)
            self.assertEqual(r.status, 400, r.body)
            self.assertIn(msg, r.body)


class Live(unittest.TestCase):
    FROM = (39.8262, 21.4225)
    TO = (39.8300, 21.4190)

    def base_route(self):
        r = route(ll(*self.FROM), ll(*self.TO))
        self.assertEqual(r.status, 200, r.body[:300])
        return r.json()

    @staticmethod
    def same_length(route, before):
        return abs(route["properties"]["network_m"] - before["properties"]["network_m"]) < 0.01

    def test_1_crowd_at_los_f_is_avoided(self):
        before = self.base_route()
        c = before["geometry"]["coordinates"]
        # a vertex in the middle of the route, on the network
        mid = c[len(c) // 2]
        now = mshtest.now_ms()
        # 300 people in one 8.9 m cell: about 3.8 persons/m2, level of service F
        mshtest.post_ok(SERVER, "positions", [{"id": "LOSF-%03d" % i, "lon": mid[0], "lat": mid[1], "time": now}
                                              for i in range(300)], TOKEN)

        def moved():
            d = self.base_route()
            return d if d["properties"]["live_costs"] and all(
                metres(p[0], p[1], mid[0], mid[1]) > 3 for p in d["geometry"]["coordinates"]) else None
        after = mshtest.wait_for(moved, 20, "the route to leave the crowd at %s" % (mid,), interval=0.2)
        self.assertEqual(after["properties"]["los_f_edges"], 0)
        self.assertGreaterEqual(after["properties"]["network_m"], before["properties"]["network_m"] - 0.01)
        # a route that must start in the crowd still exists, and is slowed
        r = route(ll(mid[0], mid[1]), ll(*self.TO))
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertGreater(r.json()["properties"]["slowed_edges"], 0)
        # the crowd leaves (an update far away): the original route comes back
        mshtest.post_ok(SERVER, "positions", [{"id": "LOSF-%03d" % i, "lon": 39.70, "lat": 21.30, "time": now + 1000}
                                              for i in range(300)], TOKEN)
        mshtest.wait_for(lambda: self.same_length(self.base_route(), before), 20,
                         "the original route to come back once the crowd left", interval=0.2)

    def test_2_incident_closes_walkways(self):
        before = self.base_route()
        c = before["geometry"]["coordinates"]
        mid = c[len(c) // 2]
        now = mshtest.now_ms()
        inc = {"id": "ROUTE-INC-1", "kind": "fire", "severity": "high", "status": "reported",
               "lon": mid[0], "lat": mid[1], "time": now}
        mshtest.post_ok(SERVER, "incidents", [inc], TOKEN)

        def clear():
            d = self.base_route()
            cc = d["geometry"]["coordinates"]
            near = min(seg_dist(mid, cc[i], cc[i + 1]) for i in range(len(cc) - 1))
            return d if near > 50 else None
        after = mshtest.wait_for(clear, 20, "the route to pass 50 m or more from the incident", interval=0.2)
        self.assertGreater(after["properties"]["closed_edges"], 0)
        self.assertGreater(after["properties"]["network_m"], before["properties"]["network_m"])
        # whoever stands at the incident can still walk out, and leaves the closure the short way
        r = route(ll(mid[0], mid[1]), ll(*self.TO))
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertTrue(r.json()["properties"]["leaves_closure"])
        # a low-severity incident closes nothing (the default --close-severity is medium)
        mshtest.post_ok(SERVER, "incidents", [dict(inc, id="ROUTE-INC-2", severity="low", lon=self.TO[0],
                                                   lat=self.TO[1])], TOKEN)
        # resolved: the way opens again
        mshtest.post_ok(SERVER, "incidents", [dict(inc, status="resolved", time=now + 1000)], TOKEN)
        mshtest.wait_for(lambda: self.same_length(self.base_route(), before), 20,
                         "the original route to come back after the incident was resolved", interval=0.2)


class Isochrone(unittest.TestCase):
    def test_isochrone_contains_what_is_reachable(self):
        lon, lat = 39.8262, 21.4225
        r = get("/isochrone", lon=lon, lat=lat, minutes=4)
        self.assertEqual(r.status, 200, r.body[:300])
        doc = r.json()
        poly = ogr.CreateGeometryFromJson(json.dumps(doc["geometry"]))
        self.assertTrue(poly.IsValid())
        self.assertTrue(poly.Contains(ogr.CreateGeometryFromWkt("POINT (%f %f)" % (lon, lat))))
        reach_m = 4 * 60 * 1.34 - doc["properties"]["off_network_m"]
        verts = PG.psql("routes", """SELECT ST_X(the_geom), ST_Y(the_geom) FROM edges_vertices_pgr
                                     WHERE ST_DWithin(the_geom::geography, ST_MakePoint(%f, %f)::geography, 700)"""
                        % (lon, lat))
        inside = outside = 0
        for x, y in ((float(a), float(b)) for a, b in verts):
            pt = ogr.CreateGeometryFromWkt("POINT (%.7f %.7f)" % (x, y))
            rr = route(ll(lon, lat), ll(x, y))
            if rr.status != 200:
                continue
            walk = rr.json()["properties"]["network_m"]
            if walk < reach_m - 5:
                self.assertTrue(poly.Contains(pt), "%.7f,%.7f is %.0f m away on foot but outside" % (x, y, walk))
                inside += 1
            elif metres(lon, lat, x, y) > reach_m + doc["properties"]["buffer_m"] + 10:
                self.assertFalse(poly.Contains(pt), "%.7f,%.7f is too far but inside" % (x, y))
                outside += 1
        self.assertGreater(inside, 20)
        self.assertGreater(outside, 20)
        # more minutes, more area
        bigger = get("/isochrone", lon=lon, lat=lat, minutes=8).json()
        self.assertGreater(bigger["properties"]["area_m2"], doc["properties"]["area_m2"] * 2)

    def test_isochrone_bad_input(self):
        for params, status, msg in [({"lon": 39.8262, "lat": 21.4225}, 400, b"'minutes' is required"),
                                    ({"lon": 39.8262, "lat": 21.4225, "minutes": 0}, 400, b"'minutes' must be from"),
                                    ({"lon": 39.8262, "lat": 21.4225, "minutes": 999}, 400, b"'minutes' must be from"),
                                    ({"lon": 0, "lat": 0, "minutes": 5}, 422, b"walking network")]:
            r = get("/isochrone", **params)
            self.assertEqual(r.status, status, (params, r.body[:200]))
            self.assertIn(msg, r.body)


class RouteAnswers(unittest.TestCase):
    def test_route_to_camp_and_asset(self):
        r = route(ll(39.8262, 21.4225), "camp:M-0001")
        self.assertEqual(r.status, 200, r.body[:300])
        doc = r.json()
        p = doc["properties"]
        # it ends at the camp's entrance
        ds = ogr.Open(mshtest.demo_path("camps.geojson"))
        lyr = ds.GetLayer(0)
        lyr.SetAttributeFilter("camp_id = 'M-0001'")
        camp = lyr.GetNextFeature()
        end = doc["geometry"]["coordinates"][-1]
        self.assertAlmostEqual(end[0], camp.GetField("entrance_lon"), places=6)
        self.assertAlmostEqual(end[1], camp.GetField("entrance_lat"), places=6)
        self.assertGreater(p["length_m"], metres(39.8262, 21.4225, end[0], end[1]))
        self.assertAlmostEqual(p["duration_s"], p["length_m"] / 1.34, delta=1.0)
        self.assertEqual(p["steps"][0]["maneuver"], "depart")
        self.assertEqual(p["steps"][-1]["maneuver"], "arrive")
        self.assertAlmostEqual(sum(s["distance_m"] for s in p["steps"]), p["length_m"], delta=1.0)
        r = route(ll(39.8262, 21.4225), "asset:A-000191")
        self.assertEqual(r.status, 200, r.body[:300])

    def test_route_errors(self):
        island = component_vertex("ASC")   # a vertex of the smallest connected part
        home = component_vertex("DESC")    # and of the largest
        cases = [
            ({"to": "39.83,21.42"}, 400, b"'from' is required"),
            ({"from": "39.83", "to": "39.83,21.42"}, 400, b"must be lon,lat"),
            ({"from": "39.83,21.42,3", "to": "39.83,21.42"}, 400, b"must be lon,lat"),
            ({"from": "39.83,95", "to": "39.83,21.42"}, 400, b"latitude 95"),
            ({"from": "39.83,21.42", "to": "camp:NOPE-1"}, 404, b"no camp with camp_id 'NOPE-1'"),
            ({"from": "39.83,21.42", "to": "camp:<script>"}, 400, b"only letters"),
            ({"from": "39.83,21.42", "to": "0,0"}, 422, b"not near the walking network"),
            ({"from": "39.83,21.42", "to": "39.8726,21.4133"}, 422, b"m from the nearest walkway"),
            ({"from": "39.83,21.42", "to": "39.8726,21.4133", "max_snap": "x"}, 400, b"'max_snap' must be a number"),
            ({"from": "%s,%s" % (home[0], home[1]), "to": "%s,%s" % (island[0], island[1]), "max_snap": 1}, 404,
             b"no walking path"),
        ]
        for params, status, msg in cases:
            r = get("/route", **params)
            self.assertEqual(r.status, status, (params, r.body[:300]))
            self.assertIn(msg, r.body, params)
        self.assertTrue(SERVER.alive())


if __name__ == "__main__":
    mshtest.main()
