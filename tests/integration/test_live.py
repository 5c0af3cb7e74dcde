"""Live feeds end to end: POST /feeds/{feed} into a running `mashaer serve`, read back through
GET /entities/{id} and the live vector tiles (decoded by GDAL).

Tokens and roles (401 / 403 / 200), per-record rejections with their line numbers, GeoJSON
input, the body size cap, the movement layer (counts, density, Fruin level of service, mean
speed and heading, pressure, k-anonymity, aggregation over zoom levels, people moving between
cells, out-of-order records), live ETags, incidents, gates, sensors and crews, expiry of
positions and the replay of the write-ahead log after a restart.

Every expected value is computed here from what the test posted, never read from the server.
Each test works in its own spot of the map (about 2 km apart, so no two share a density chunk).
"""

import json
import math
import os
import random
import re
import select
import socket
import sys
import time
import unittest
import http.client
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from mshtest import now_ms  # noqa: E402

EARTH_C = 40075016.685578488   # equator length of Web Mercator, metres
BASE_LEVEL = 22                # finest density grid: 2^22 cells around the world
FRUIN = [(0.31, "A"), (0.43, "B"), (0.72, "C"), (1.08, "D")]  # below these; E up to 2.15 included; F above

BASE_DB = None
TOKENS = {}          # role -> token
FEED = None          # the feed token (TOKENS["feed"])
SERVER = None        # default options
STAMP = time.strftime("%H%M%S")


def setUpModule():
    global BASE_DB, SERVER, FEED
    BASE_DB = mshtest.work_path("base.sqlite")
    mshtest.import_layer(BASE_DB, mshtest.demo_path("sites.geojson"), "sites")
    for role in ("feed", "ops", "admin"):
        p = mshtest.run_mashaer("token", "add", "--db", BASE_DB, "--role", role, "--name", "it-" + role, check=0)
        tok = p.stdout.splitlines()[0].strip()
        assert re.fullmatch(r"[A-Za-z0-9_~+/.-]{16,}", tok), p.stdout
        TOKENS[role] = tok
    FEED = TOKENS["feed"]
    SERVER = start_server("main")


def tearDownModule():
    rc = SERVER.stop()
    if rc != 0:
        raise AssertionError("mashaer serve exited %s after SIGTERM; stderr:\n%s" % (rc, SERVER.stderr()))


def start_server(name, *extra):
    """A server on its own copy of the base store (same tokens), with its own live log."""
    db = mshtest.work_path(name + ".sqlite")
    if not mshtest.store_exists(db):
        mshtest.copy_store(BASE_DB, db)
    return mshtest.Server(db, "--threads", "4", *extra, name=name).start()

# ---------------------------------------------------------------------------
# geometry: Web Mercator world coordinates (0..1, y down) and the density grid


def to_world(lon, lat):
    return (lon + 180.0) / 360.0, (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0


def from_world(wx, wy):
    return wx * 360.0 - 180.0, math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * wy))))


def cell_of(lon, lat, level=BASE_LEVEL):
    wx, wy = to_world(lon, lat)
    n = 1 << level
    return int(math.floor(wx * n)), int(math.floor(wy * n))


def cell_center(cx, cy, level=BASE_LEVEL):
    n = float(1 << level)
    return from_world((cx + 0.5) / n, (cy + 0.5) / n)


def cell_metres(level, lat):
    """Ground size of a grid cell at `level` (Web Mercator cells are square on the ground)."""
    return EARTH_C * math.cos(math.radians(lat)) / (1 << level)


def offset(lon, lat, east_m, north_m):
    """The point east_m / north_m metres from (lon, lat), in the local Mercator scale."""
    wx, wy = to_world(lon, lat)
    s = EARTH_C * math.cos(math.radians(lat))
    return from_world(wx + east_m / s, wy - north_m / s)


def tile_of_cell(cx, cy, level, z):
    return cx >> (level - z), cy >> (level - z)


def spot(k):
    """Centre of a base cell near Makkah, about 2 km apart for each k. The cell is the 20th of its
    z16 tile in x and y: the first of a z20 tile (4 cells a side), the 5th of a z18 tile (16 cells)
    and the first of a level-20 cell, so a test has room to the east and south in each."""
    x, y = mshtest.lonlat_to_tile(39.70 + 0.02 * k, 21.40, 16)
    return cell_center(x * 64 + 20, y * 64 + 20)


def fruin(density):
    for limit, letter in FRUIN:
        if density < limit:
            return letter
    return "E" if density <= 2.15 else "F"


def velocity_cm(speed, heading):
    """(vx, vy) in whole cm/s, east and north, as a server keeping centimetres per second would."""
    a = math.radians(heading)
    return round(speed * math.sin(a) * 100), round(speed * math.cos(a) * 100)

# ---------------------------------------------------------------------------
# time


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))

# ---------------------------------------------------------------------------
# HTTP


def auth(role):
    return {"Authorization": "Bearer " + TOKENS[role]} if role else {}


def entity(server, eid, role="ops"):
    r = server.get("/entities/" + eid, headers=auth(role))
    return r, (r.json() if r.status == 200 else None)


def person(eid, lon, lat, t_ms, **extra):
    d = {"id": eid, "lon": lon, "lat": lat, "time": iso(t_ms) if extra.pop("as_iso", False) else t_ms}
    d.update(extra)
    return d


def crowd(prefix, lon, lat, n, t_ms, radius_m=1.4, rng=None, **extra):
    """n people within a square of side 2 * radius_m around (lon, lat)."""
    rng = rng or random.Random(prefix)
    out = []
    for i in range(n):
        plon, plat = offset(lon, lat, rng.uniform(-radius_m, radius_m), rng.uniform(-radius_m, radius_m))
        out.append(person("%s-%03d" % (prefix, i), plon, plat, t_ms, **extra))
    return out


def world_of_3857(x, y):
    return (x + mshtest.MERC) / (2 * mshtest.MERC), (mshtest.MERC - y) / (2 * mshtest.MERC)


def movement(server, z, x, y, headers=None):
    """(response, {(cx, cy): attrs}) for the movement cells of a tile whose centre lies in the
    tile proper (the buffer's cells belong to the neighbours). Also checks each cell's shape."""
    r, dec = mshtest.fetch_tile(server, "movement", z, x, y, headers=headers)
    level = min(z + 6, BASE_LEVEL)
    n = 1 << level
    side = 2 * mshtest.MERC / n
    cells = {}
    for f in dec.get("movement", []):
        c = f.geom.Centroid()
        wx, wy = world_of_3857(c.GetX(), c.GetY())
        cx, cy = int(math.floor(wx * n)), int(math.floor(wy * n))
        # a cell is a square of the grid: area within 1% (MVT quantisation is 1/64 of a cell)
        area = mshtest.polygon_area(f.geom)
        if abs(area - side * side) > 0.01 * side * side:
            raise AssertionError("movement cell %s at z%d is not a grid square: area %.1f, expected %.1f"
                                 % ((cx, cy), z, area, side * side))
        if tile_of_cell(cx, cy, level, z) == (x, y):
            if (cx, cy) in cells:
                raise AssertionError("cell %s twice in tile %d/%d/%d" % ((cx, cy), z, x, y))
            cells[(cx, cy)] = f.attrs
    return r, cells


def cell_tile(lon, lat, z):
    """(z, x, y, (cx, cy)): the tile at z holding (lon, lat) and its movement cell there."""
    level = min(z + 6, BASE_LEVEL)
    c = cell_of(lon, lat, level)
    return (z,) + tile_of_cell(c[0], c[1], level, z) + (c,)


def positions_ids(server, z, x, y, role="ops"):
    r, dec = mshtest.fetch_tile(server, "positions", z, x, y, headers=auth(role))
    return {f.attrs["id"]: f for f in dec.get("positions", [])}


def items(server, layer, lon, lat, z=16):
    """{id: attrs} of a live item layer in the z tile holding (lon, lat)."""
    x, y = mshtest.lonlat_to_tile(lon, lat, z)
    r, dec = mshtest.fetch_tile(server, layer, z, x, y)
    return {f.attrs["id"]: f.attrs for f in dec.get(layer, [])}


def metrics(server):
    return mshtest.parse_metrics(server.get("/metrics").body.decode())

# ---------------------------------------------------------------------------


class Auth(unittest.TestCase):
    def test_feed_post_tokens(self):
        lon, lat = spot(1)
        rec = [person("AUTH-1", lon, lat, now_ms())]
        for role, hdr in ((None, {}), ("bad", {"Authorization": "Bearer msh_" + "x" * 43}),
                          ("malformed", {"Authorization": "Basic dXNlcjpwYXNz"})):
            with self.subTest(case=role):
                r = mshtest.post_feed(SERVER, "positions", rec, None, headers=hdr)
                self.assertEqual(r.status, 401, r.body)
                self.assertEqual(r.header("www-authenticate"), 'Bearer realm="mashaer"')
                self.assertEqual(r.json()["status"], 401)
        self.assertEqual(entity(SERVER, "AUTH-1")[0].status, 404, "a refused post left a trace")
        for role in ("feed", "ops", "admin"):
            with self.subTest(role=role):
                r = mshtest.post_feed(SERVER, "positions", rec, TOKENS[role])
                self.assertEqual(r.status, 200, r.body)
                self.assertEqual(r.json(), {"accepted": 1, "rejected": []})
                self.assertEqual(r.header("cache-control"), "no-store")

    def test_entities_need_ops(self):
        lon, lat = spot(2)
        mshtest.post_ok(SERVER, "positions", [person("AUTH-E1", lon, lat, now_ms(), group="G-A")], FEED)
        r, _ = entity(SERVER, "AUTH-E1", role=None)
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header("www-authenticate"), 'Bearer realm="mashaer"')
        r = SERVER.get("/entities/AUTH-E1", headers={"Authorization": "Bearer not-a-real-token"})
        self.assertEqual(r.status, 401)
        r, _ = entity(SERVER, "AUTH-E1", role="feed")
        self.assertEqual(r.status, 403, r.body)
        self.assertNotIn(b"AUTH-E1\",\"geometry", r.body)
        for role in ("ops", "admin"):
            r, doc = entity(SERVER, "AUTH-E1", role=role)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(doc["properties"]["group"], "G-A")
        self.assertEqual(entity(SERVER, "AUTH-NOBODY")[0].status, 404)

    def test_positions_layer_is_ops_only(self):
        lon, lat = spot(3)
        t = now_ms()
        mshtest.post_ok(SERVER, "positions", [person("AUTH-P1", lon, lat, t, group="G-P", speed=1.5, heading=180)],
                        FEED)
        z = 18
        x, y = mshtest.lonlat_to_tile(lon, lat, z)
        for layers in ("positions", "movement,positions"):
            path = "/tiles/%s/%d/%d/%d.mvt" % (layers, z, x, y)
            with self.subTest(layers=layers):
                self.assertEqual(SERVER.get(path).status, 401)
                self.assertEqual(SERVER.get(path, headers=auth("feed")).status, 403)
                r = SERVER.get(path, headers=auth("ops"))
                self.assertEqual(r.status, 200)
                self.assertEqual(r.header("cache-control"), "private, no-cache")
        feats = positions_ids(SERVER, z, x, y)
        self.assertEqual(set(feats), {"AUTH-P1"})
        a = feats["AUTH-P1"].attrs
        self.assertEqual((a["group"], a["speed"], a["heading"], a["time"]), ("G-P", 1.5, 180, iso(t)))
        p = mshtest.to_3857(ogr_point(lon, lat))
        g = feats["AUTH-P1"].geom
        tile_m = 2 * mshtest.MERC / (1 << z) / 4096  # one MVT unit
        self.assertLess(math.hypot(g.GetX() - p.GetX(), g.GetY() - p.GetY()), 1.5 * tile_m)
        # the movement layer alone is public
        self.assertIn(SERVER.get("/tiles/movement/%d/%d/%d.mvt" % (z, x, y)).status, (200, 204))

    def test_catalog_lists_live_layers(self):
        cat = {l["id"]: l for l in SERVER.json("/catalog")["layers"]}
        for name in ("movement", "positions", "incidents", "crews", "gates", "sensors"):
            self.assertEqual(cat[name]["kind"], "live", name)
        self.assertEqual(cat["positions"]["access"], "ops")
        self.assertEqual(cat["movement"]["access"], "public")
        self.assertEqual(cat["sites"]["kind"], "static")
        self.assertEqual(set(cat["movement"]["fields"]),
                         {"count", "density", "los", "speed", "heading", "pressure", "cell_m", "peak_density", "peak_los"})
        self.assertEqual(cat["movement"]["geometry_type"], "Polygon")

    def test_unknown_feed_404(self):
        for feed in ("people", "position", "positions/extra", "POSITIONS", ""):
            with self.subTest(feed=feed):
                r = mshtest.post_feed(SERVER, feed, [{"id": "X", "lon": 1, "lat": 1, "time": now_ms()}], FEED)
                self.assertEqual(r.status, 404, r.body)
                self.assertEqual(r.json()["status"], 404)
        self.assertEqual(entity(SERVER, "X")[0].status, 404)


def kill9(srv):
    os.kill(srv.proc.pid, 9)
    srv.proc.wait(10)
    srv.proc.stdout.close()
    srv._log.close()
    srv.proc = None


def ogr_point(lon, lat):
    from osgeo import ogr
    g = ogr.Geometry(ogr.wkbPoint)
    g.AddPoint_2D(lon, lat)
    return g


class Rejections(unittest.TestCase):
    def test_mixed_batch(self):
        lon, lat = spot(4)
        t = now_ms() - 5000
        rng = random.Random(4)

        def near():
            return offset(lon, lat, rng.uniform(-1.4, 1.4), rng.uniform(-1.4, 1.4))

        good, lines, expect = {}, [], {}

        def add_good(eid, rec):
            good[eid] = rec
            lines.append(json.dumps(rec))

        def add_bad(rec_text, reason_re):
            lines.append(rec_text)
            expect[len(lines)] = reason_re

        p = near()
        add_good("MIX-1", {"id": "MIX-1", "lon": p[0], "lat": p[1], "time": iso(t), "group": "G-MIX",
                           "speed": 1.0, "heading": 45})                                        # 1
        lines.append("")                                                                           # 2 blank
        p = near()
        add_bad(json.dumps({"lon": p[0], "lat": p[1], "time": t}), r"'id'")                        # 3
        p = near()
        add_good("MIX-2", {"id": "MIX-2", "lon": p[0], "lat": p[1], "time": t + 1})               # 4 epoch ms
        add_bad('{"id": "MIX-BAD-JSON", "lon": 39.8, ', r"JSON")                                   # 5
        p = near()
        add_bad(json.dumps({"id": "MIX-BAD-FUT", "lon": p[0], "lat": p[1], "time": now_ms() + 600000}),
                r"future")                                                                        # 6
        add_bad(json.dumps({"id": "MIX-BAD-LON", "lon": 200.0, "lat": lat, "time": t}), r"outside")  # 7
        add_bad(json.dumps({"id": "MIX-BAD-LAT", "lon": lon, "lat": -95.0, "time": t}), r"outside")  # 8
        lines.append("   \t ")                                                                     # 9 blank
        p = near()
        add_bad(json.dumps({"id": "MIX-BAD-NOTIME", "lon": p[0], "lat": p[1]}), r"'time'")         # 10
        p = near()
        add_good("MIX-3", {"id": "MIX-3", "location": {"type": "Point", "coordinates": [p[0], p[1]]},
                           "dateObserved": iso(t)})                                                # 11
        p = near()
        add_bad(json.dumps({"id": "MIX-BAD-TIME", "lon": p[0], "lat": p[1], "time": "yesterday"}),
                r"ISO 8601")                                                                      # 12
        p = near()
        add_bad(json.dumps({"id": "MIX-BAD-SPEED", "lon": p[0], "lat": p[1], "time": t, "speed": 20,
                            "heading": 10}), r"speed")                                            # 13
        p = near()
        fut = now_ms() + 4 * 60 * 1000
        add_good("MIX-4", {"id": "MIX-4", "lon": p[0], "lat": p[1], "time": fut})                 # 14 4 min ahead
        add_bad(json.dumps({"id": "MIX-BAD-NOLOC", "time": t}), r"location|'lon'")                # 15
        p = near()
        add_good("MIX-5", {"id": "MIX-5", "longitude": p[0], "latitude": p[1], "timestamp": t})    # 16
        p = near()
        good["MIX-6"] = {"id": "MIX-6", "lon": p[0], "lat": p[1], "time": t}
        lines.append(json.dumps(good["MIX-6"]) + "\r")                                            # 17 CRLF
        add_bad("[1, 2, 3]", r"JSON object")                                                       # 18
        p = near()
        add_bad(json.dumps({"id": "", "lon": p[0], "lat": p[1], "time": t}), r"'id'")             # 19
        p = near()
        add_good("MIX-7", {"id": "MIX-7", "lon": p[0], "lat": p[1], "time": t, "speed": 0.5,
                           "bearing": 270})                                                        # 20, last: no \n
        body = "\n".join(lines)
        before = metrics(SERVER)
        r = mshtest.post_feed(SERVER, "positions", body, FEED)
        self.assertEqual(r.status, 200, r.body)
        doc = r.json()
        self.assertEqual(doc["accepted"], len(good), doc)
        got = [(x["line"], x["reason"]) for x in doc["rejected"]]
        self.assertEqual([l for l, _ in got], sorted(expect), doc)
        for line, reason in got:
            self.assertRegex(reason, expect[line], "line %d: %r" % (line, lines[line - 1]))
        after = metrics(SERVER)
        self.assertEqual(mshtest.metric(after, "mashaer_feed_records_total", feed="positions", outcome="accepted")
                         - mshtest.metric(before, "mashaer_feed_records_total", feed="positions",
                                          outcome="accepted"), len(good))
        self.assertEqual(mshtest.metric(after, "mashaer_feed_records_total", feed="positions", outcome="rejected")
                         - mshtest.metric(before, "mashaer_feed_records_total", feed="positions",
                                          outcome="rejected"), len(expect))

        # every good record is in, as sent
        for eid, rec in good.items():
            with self.subTest(entity=eid):
                resp, e = entity(SERVER, eid)
                self.assertEqual(resp.status, 200, resp.body)
                if "location" in rec:
                    elon, elat = rec["location"]["coordinates"]
                else:
                    elon, elat = rec.get("lon", rec.get("longitude")), rec.get("lat", rec.get("latitude"))
                glon, glat = e["geometry"]["coordinates"]
                self.assertAlmostEqual(glon, elon, delta=2e-7)
                self.assertAlmostEqual(glat, elat, delta=2e-7)
                rt = rec.get("time", rec.get("dateObserved", rec.get("timestamp")))
                self.assertEqual(e["properties"]["time"], rt if isinstance(rt, str) else iso(rt))
                self.assertIs(e["properties"]["active"], True)
        self.assertEqual(entity(SERVER, "MIX-1")[1]["properties"]["group"], "G-MIX")
        self.assertEqual(entity(SERVER, "MIX-1")[1]["properties"]["heading"], 45)
        self.assertEqual(entity(SERVER, "MIX-1")[1]["properties"]["speed"], 1.0)
        self.assertEqual(entity(SERVER, "MIX-7")[1]["properties"]["heading"], 270)  # 'bearing'
        self.assertIsNone(entity(SERVER, "MIX-2")[1]["properties"]["group"])
        for bad in ("MIX-BAD-JSON", "MIX-BAD-FUT", "MIX-BAD-LON", "MIX-BAD-LAT", "MIX-BAD-NOTIME",
                    "MIX-BAD-TIME", "MIX-BAD-SPEED", "MIX-BAD-NOLOC"):
            self.assertEqual(entity(SERVER, bad)[0].status, 404, bad)

        # and through the tiles: all in one base cell, the bad ones beside them left out
        z, x, y, c = cell_tile(lon, lat, 20)
        _, cells = movement(SERVER, z, x, y)
        self.assertEqual({k: v["count"] for k, v in cells.items()}, {c: len(good)})
        self.assertEqual(set(positions_ids(SERVER, z, x, y)), set(good))

    def test_id_length_limits(self):
        """Ids (and groups) are 1 to 64 bytes, as the rejection reason and GET /entities say."""
        lon, lat = spot(29)
        t = now_ms() - 1000
        ok = {n: ("L%02d-" % n + "i" * 64)[:n] for n in (1, 59, 60, 61, 63, 64)}
        recs = [person(eid, lon, lat, t) for eid in ok.values()]
        recs.append(person("L65-" + "i" * 61, lon, lat, t))                        # 65 bytes: too long
        recs.append(person("LG64", lon, lat, t, group="G" * 64))                   # a 64-byte group
        recs.append(person("L-" + "\u00e9" * 31, lon, lat, t))                   # 2 + 62 bytes of UTF-8
        r = mshtest.post_feed(SERVER, "positions", recs, FEED)  # the last id goes as \u00e9 escapes
        doc = r.json()
        self.assertEqual([x["line"] for x in doc["rejected"]], [7],
                         "only the 65-byte id may be refused: %r" % doc)
        self.assertRegex(doc["rejected"][0]["reason"], "64")
        for n, eid in ok.items():
            with self.subTest(bytes=n):
                self.assertEqual(len(eid.encode()), n)
                resp, e = entity(SERVER, eid)
                self.assertEqual(resp.status, 200, resp.body)
                self.assertEqual(e["properties"]["id"], eid)
        self.assertEqual(entity(SERVER, "LG64")[1]["properties"]["group"], "G" * 64)
        utf = "L-" + "\u00e9" * 31
        resp, e = entity(SERVER, urllib.parse.quote(utf))
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(e["properties"]["id"], utf)

    def test_time_forms(self):
        """ISO 8601 with an offset, fractions and a space; the 5-minute limit applies to the instant."""
        lon, lat = spot(30)
        base = (now_ms() // 1000 - 3600) * 1000
        utc = time.gmtime(base // 1000)
        plus3 = time.gmtime(base // 1000 + 3 * 3600)
        minus0530 = time.gmtime(base // 1000 - 5 * 3600 - 30 * 60)
        future_local = time.gmtime(now_ms() // 1000 + 3 * 3600)  # now, written as +03:00 local time
        recs = [
            person("TF-1", lon, lat, 0) | {"time": time.strftime("%Y-%m-%dT%H:%M:%S+03:00", plus3)},
            person("TF-2", lon, lat, 0) | {"time": time.strftime("%Y-%m-%dT%H:%M:%S.250Z", utc)},
            person("TF-3", lon, lat, 0) | {"time": time.strftime("%Y-%m-%d %H:%M:%SZ", utc)},
            person("TF-4", lon, lat, 0) | {"time": time.strftime("%Y-%m-%dT%H:%M:%S-05:30", minus0530)},
            person("TF-5", lon, lat, 0) | {"time": time.strftime("%Y-%m-%dT%H:%M:%S+03:00", future_local)},
            person("TF-BAD-1", lon, lat, 0) | {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", future_local)},
            person("TF-BAD-2", lon, lat, 0) | {"time": time.strftime("%Y-%m-%dT%H:%M:%S", utc)},  # no zone
            person("TF-BAD-3", lon, lat, 0) | {"time": base + 0.5},
            person("TF-BAD-4", lon, lat, 0) | {"time": -1000},
            person("TF-BAD-5", lon, lat, 0) | {"time": "2026-02-29T08:00:00Z"},  # not a leap year: not 1 March
            person("TF-BAD-6", lon, lat, 0) | {"time": "2025-04-31 08:00:00+03:00"},
        ]
        doc = mshtest.post_feed(SERVER, "positions", recs, FEED).json()
        self.assertEqual(doc["accepted"], 5, doc)
        self.assertEqual([x["line"] for x in doc["rejected"]], [6, 7, 8, 9, 10, 11], doc)
        self.assertRegex(doc["rejected"][0]["reason"], "future")
        self.assertRegex(doc["rejected"][4]["reason"], r"'time' .*day: 2026 is not a leap year")
        self.assertRegex(doc["rejected"][5]["reason"], r"'time' .*day: 2025-04 has 30 days, not 31")
        for eid in ("TF-1", "TF-2", "TF-3", "TF-4"):
            self.assertEqual(entity(SERVER, eid)[1]["properties"]["time"], iso(base), eid)

    def test_whole_batch_bad(self):
        r = mshtest.post_feed(SERVER, "incidents", "not json\n{\"id\":1}\n", FEED)
        self.assertEqual(r.status, 200, r.body)
        doc = r.json()
        self.assertEqual(doc["accepted"], 0)
        self.assertEqual([x["line"] for x in doc["rejected"]], [1, 2])
        r = mshtest.post_feed(SERVER, "positions", b"", FEED)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), {"accepted": 0, "rejected": []})

    def test_many_rejections_are_capped_but_counted(self):
        lines = ['{"id":"CAP-%d"}' % i for i in range(3000)]  # no time, no location
        r = mshtest.post_feed(SERVER, "positions", "\n".join(lines), FEED)
        self.assertEqual(r.status, 200)
        doc = r.json()
        self.assertEqual(doc["accepted"], 0)
        listed = [x["line"] for x in doc["rejected"]]
        self.assertEqual(listed, list(range(1, len(listed) + 1)))
        self.assertGreater(len(listed), 0)
        if len(listed) < 3000:
            self.assertEqual(doc.get("rejected_total"), 3000, "a capped list must say how many were refused")


class GeoJsonInput(unittest.TestCase):
    def feature(self, lon, lat, props, fid=None, geom=None):
        f = {"type": "Feature", "geometry": geom or {"type": "Point", "coordinates": [lon, lat]},
             "properties": props}
        if fid is not None:
            f["id"] = fid
        return f

    def test_feature_collection(self):
        lon, lat = spot(5)
        t = now_ms() - 2000
        pts = [offset(lon, lat, dx, 0) for dx in (-1.2, -0.6, 0.0, 0.6, 1.2, 1.3)]
        fc = {"type": "FeatureCollection", "features": [
            self.feature(*pts[0], {"id": "GJ-1", "time": iso(t), "group": "G-GJ"}),
            self.feature(*pts[1], {"dateObserved": iso(t)}, fid="GJ-2"),
            self.feature(0, 0, {"id": "GJ-BAD-LINE", "time": t},
                         geom={"type": "LineString", "coordinates": [[lon, lat], [lon + 1e-5, lat]]}),
            self.feature(*pts[2], {"id": "GJ-BAD-NOTIME"}),
            self.feature(181.0, lat, {"id": "GJ-BAD-LON", "time": t}),
            self.feature(*pts[3], {"id": "GJ-3", "time": t, "speed": 0.8, "heading": 135}),
        ]}
        r = mshtest.post_feed(SERVER, "positions", fc, FEED, content_type="application/geo+json")
        self.assertEqual(r.status, 200, r.body)
        doc = r.json()
        self.assertEqual(doc["accepted"], 3, doc)
        self.assertEqual([x["line"] for x in doc["rejected"]], [3, 4, 5], doc)
        self.assertRegex(doc["rejected"][0]["reason"], "Point")
        self.assertRegex(doc["rejected"][1]["reason"], "'time'")
        self.assertRegex(doc["rejected"][2]["reason"], "outside")
        # application/json is GeoJSON too; with no Content-Type a FeatureCollection is recognised
        fc2 = {"type": "FeatureCollection", "features": [self.feature(*pts[4], {"id": "GJ-4", "time": t})]}
        r = mshtest.post_feed(SERVER, "positions", fc2, FEED, content_type="application/json")
        self.assertEqual(r.json(), {"accepted": 1, "rejected": []})
        fc3 = {"type": "FeatureCollection", "features": [self.feature(*pts[5], {"id": "GJ-5", "time": t})]}
        conn = http.client.HTTPConnection("127.0.0.1", SERVER.port, timeout=30)
        try:
            conn.request("POST", "/feeds/positions", body=json.dumps(fc3).encode(), headers=auth("feed"))
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            self.assertEqual(json.loads(resp.read()), {"accepted": 1, "rejected": []})
        finally:
            conn.close()
        for eid, (plon, plat) in (("GJ-1", pts[0]), ("GJ-2", pts[1]), ("GJ-3", pts[3]), ("GJ-4", pts[4]),
                                  ("GJ-5", pts[5])):
            with self.subTest(entity=eid):
                resp, e = entity(SERVER, eid)
                self.assertEqual(resp.status, 200, resp.body)
                self.assertAlmostEqual(e["geometry"]["coordinates"][0], plon, delta=2e-7)
                self.assertAlmostEqual(e["geometry"]["coordinates"][1], plat, delta=2e-7)
                self.assertEqual(e["properties"]["time"], iso(t))
        self.assertEqual(entity(SERVER, "GJ-1")[1]["properties"]["group"], "G-GJ")
        self.assertEqual(entity(SERVER, "GJ-3")[1]["properties"]["heading"], 135)
        for bad in ("GJ-BAD-LINE", "GJ-BAD-NOTIME", "GJ-BAD-LON"):
            self.assertEqual(entity(SERVER, bad)[0].status, 404)
        z, x, y, c = cell_tile(lon, lat, 20)
        _, cells = movement(SERVER, z, x, y)
        self.assertEqual({k: v["count"] for k, v in cells.items()}, {c: 5})

    def test_not_a_feature_collection_400(self):
        lon, lat = spot(6)
        rec = json.dumps({"id": "GJ-NDJSON", "lon": lon, "lat": lat, "time": now_ms()})
        for body in (rec + "\n" + rec + "\n", '{"type":"FeatureCollection"}', '{"type":"Feature"}', "[]",
                     "{\"type\":\"FeatureCollection\",\"features\":[", ""):
            with self.subTest(body=body[:40]):
                r = mshtest.post_feed(SERVER, "positions", body, FEED, content_type="application/geo+json")
                self.assertEqual(r.status, 400, r.body)
                self.assertEqual(r.json()["status"], 400)
        self.assertEqual(entity(SERVER, "GJ-NDJSON")[0].status, 404)


def send_raw_post(port, path, headers, body, chunk=65536, timeout=20):
    """POST with a body sent in chunks, stopping as soon as the server answers (as it does for
    413 before the body is in). Returns (status or None, raw head, body, bytes sent)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n" % (path, len(body))
    head += "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
    data = b""
    sent = 0
    try:
        s.sendall(head.encode())
        while sent < len(body):
            r, _, _ = select.select([s], [], [], 0)
            if r:
                break
            try:
                sent += s.send(body[sent:sent + chunk])
            except OSError:
                break
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                got = s.recv(65536)
            except OSError:
                break
            if not got:
                break
            data += got
            h, sep, b = data.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", h)
                if m and len(b) >= int(m.group(1)):
                    break
    finally:
        s.close()
    h, _, b = data.partition(b"\r\n\r\n")
    status = int(h.split(b" ", 2)[1]) if h.startswith(b"HTTP/1.") else None
    return status, h, b, sent


class BodyLimit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = start_server("smallbody", "--max-body-mb", "1", "--k-anon", "2")

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        if rc != 0:
            raise AssertionError("exit %s; stderr:\n%s" % (rc, cls.srv.stderr()))

    def test_413_then_healthy(self):
        lon, lat = spot(7)
        t = now_ms()
        rec = json.dumps(person("BIG-000000", lon, lat, t)) + "\n"
        lines = []
        size = 0
        i = 0
        while size < 2 * 1024 * 1024:
            line = rec.replace("BIG-000000", "BIG-%06d" % i)
            lines.append(line)
            size += len(line)
            i += 1
        body = "".join(lines).encode()
        status, head, rbody, sent = send_raw_post(
            self.srv.port, "/feeds/positions",
            {"Authorization": "Bearer " + FEED, "Content-Type": "application/x-ndjson"}, body)
        self.assertEqual(status, 413, head + rbody[:300])
        self.assertEqual(json.loads(rbody)["status"], 413)
        mshtest.note("413 after %d of %d body bytes" % (sent, len(body)))
        # still healthy, nothing of the refused batch is in, and a batch under the cap goes through
        self.assertTrue(self.srv.alive())
        self.assertEqual(self.srv.get("/health").status, 200)
        self.assertEqual(entity(self.srv, "BIG-000000")[0].status, 404)
        under = "".join(lines[: (900 * 1024) // len(rec)]).encode()
        r = mshtest.post_feed(self.srv, "positions", under, FEED)
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(r.json(), {"accepted": len(under.splitlines()), "rejected": []})
        self.assertEqual(entity(self.srv, "BIG-000000")[0].status, 200)

    def test_k_anon_2_shows_three(self):
        lon, lat = spot(8)
        mshtest.post_ok(self.srv, "positions", crowd("KA2", lon, lat, 3, now_ms()), FEED)
        z, x, y, c = cell_tile(lon, lat, 20)
        _, cells = movement(self.srv, z, x, y)
        self.assertEqual({k: v["count"] for k, v in cells.items()}, {c: 3})
        mshtest.post_ok(self.srv, "positions", [person("KA2-LONE", *offset(lon, lat, 0, 30), now_ms())], FEED)
        _, cells = movement(self.srv, z, x, y)
        self.assertEqual(sum(v["count"] for v in cells.values()), 3, "a single person must stay hidden at k=2")


class Movement(unittest.TestCase):
    def test_density_and_level_of_service(self):
        """Crowds of known size in one base cell each: count, density, LoS, cell_m; speed/heading of
        everyone walking east; pressure 0 for uniform motion."""
        lon0, lat0 = spot(9)
        c0 = cell_of(lon0, lat0)
        t = now_ms() - 1000
        sizes = [6, 30, 40, 70, 120, 200]
        cellmap = {}
        records = []
        for i, n in enumerate(sizes):
            c = (c0[0] + 2 * i, c0[1])  # every other cell along a row, same z20 tile
            lon, lat = cell_center(*c)
            cellmap[c] = n
            records += crowd("LOS%d" % n, lon, lat, n, t, speed=1.2, heading=90)
        mshtest.post_ok(SERVER, "positions", records, FEED)
        z, x, y, _ = cell_tile(lon0, lat0, 18)
        for c in cellmap:
            self.assertEqual(tile_of_cell(c[0], c[1], BASE_LEVEL, 18), (x, y), "test setup: one tile")
        r, cells = movement(SERVER, z, x, y)
        self.assertEqual(r.header("cache-control"), "no-cache")
        self.assertEqual({k: v["count"] for k, v in cells.items()}, cellmap)
        letters = set()
        for c, n in cellmap.items():
            with self.subTest(count=n):
                a = cells[c]
                lat = cell_center(*c)[1]
                side = cell_metres(BASE_LEVEL, lat)
                density = n / side ** 2
                self.assertAlmostEqual(a["cell_m"], side, delta=0.051)
                self.assertLess(abs(a["density"] - density), 0.01 * density, (a, density))
                self.assertEqual(a["los"], fruin(density), (a, density))
                letters.add(a["los"])
                self.assertAlmostEqual(a["speed"], 1.2, delta=0.011)
                self.assertLessEqual(abs(a["heading"] - 90), 2)
                self.assertLess(abs(a["pressure"]), 1e-3, a)
        self.assertEqual(letters, set("ABCDEF"), "the crowds were sized to cover every Fruin level")

    def test_forty_in_three_metres(self):
        lon, lat = spot(10)
        t = now_ms() - 1000
        mshtest.post_ok(SERVER, "positions", crowd("F40", lon, lat, 40, t, radius_m=1.5, speed=1.2, heading=90), FEED)
        z, x, y, c = cell_tile(lon, lat, 20)
        _, cells = movement(SERVER, z, x, y)
        self.assertEqual(list(cells), [c])
        a = cells[c]
        side = cell_metres(BASE_LEVEL, cell_center(*c)[1])
        self.assertEqual(a["count"], 40)
        self.assertLess(abs(a["density"] - 40 / side ** 2), 0.01 * 40 / side ** 2)
        self.assertEqual(a["los"], fruin(40 / side ** 2))
        self.assertEqual((a["speed"], a["heading"], a["pressure"]), (1.2, 90, 0))
        # coarser zooms sum the base cells: z14 cells are 2^2 base cells a side
        for z2 in (16, 15, 14, 10):
            with self.subTest(z=z2):
                z2, x2, y2, c2 = cell_tile(lon, lat, z2)
                _, cells2 = movement(SERVER, z2, x2, y2)
                self.assertIn(c2, cells2)
                a2 = cells2[c2]
                level = min(z2 + 6, BASE_LEVEL)
                side2 = cell_metres(level, cell_center(c2[0], c2[1], level)[1])
                self.assertEqual(a2["count"], 40)
                self.assertAlmostEqual(a2["cell_m"], side2, delta=0.051)
                self.assertLess(abs(a2["density"] - 40 / side2 ** 2), 0.01 * 40 / side2 ** 2 + 0.0006)
                self.assertEqual(a2["los"], fruin(40 / side2 ** 2))

    def test_pressure_of_mixed_directions(self):
        lon, lat = spot(11)
        t = now_ms() - 1000
        groups = [(6, 1.2, 90), (3, 0.8, 0), (3, 0.4, 270), (2, 1.0, 200)]
        recs = []
        vels = []
        rng = random.Random(11)
        for gi, (n, speed, heading) in enumerate(groups):
            recs += crowd("PR%d" % gi, lon, lat, n, t, rng=rng, speed=speed, heading=heading)
            vels += [velocity_cm(speed, heading)] * n
        mshtest.post_ok(SERVER, "positions", recs, FEED)
        n = len(vels)
        mvx = sum(v[0] for v in vels) / n / 100
        mvy = sum(v[1] for v in vels) / n / 100
        var = sum((v[0] / 100) ** 2 + (v[1] / 100) ** 2 for v in vels) / n - (mvx ** 2 + mvy ** 2)
        z, x, y, c = cell_tile(lon, lat, 20)
        side = cell_metres(BASE_LEVEL, cell_center(*c)[1])
        density = n / side ** 2
        _, cells = movement(SERVER, z, x, y)
        self.assertEqual(list(cells), [c])
        a = cells[c]
        self.assertEqual(a["count"], n)
        self.assertAlmostEqual(a["speed"], math.hypot(mvx, mvy), delta=0.011)
        heading = math.degrees(math.atan2(mvx, mvy)) % 360
        self.assertLessEqual(abs((a["heading"] - heading + 180) % 360 - 180), 1.0)
        self.assertGreater(a["pressure"], 0)
        self.assertLess(abs(a["pressure"] - density * var), 0.01 * density * var, (a, density * var))

    def test_k_anonymity(self):
        """With k = 5: 3 or 4 people in a cell are hidden, 5 and 6 are shown; at a coarser zoom they
        all share one cell (18)."""
        lon, lat = spot(12)
        c20 = cell_of(lon, lat, 20)
        x0, y0 = 4 * c20[0], 4 * c20[1]        # four base cells inside one level-20 cell
        groups = {(x0, y0): 3, (x0 + 2, y0 + 2): 6, (x0 + 3, y0): 4, (x0, y0 + 3): 5}
        t = now_ms() - 1000
        recs = []
        for c, n in groups.items():
            recs += crowd("KA%d" % n, *cell_center(*c), n, t)
        mshtest.post_ok(SERVER, "positions", recs, FEED)
        z, x, y, _ = cell_tile(lon, lat, 20)
        _, cells = movement(SERVER, z, x, y)
        self.assertEqual({k: v["count"] for k, v in cells.items()}, {c: n for c, n in groups.items() if n >= 5})
        self.assertEqual(len(positions_ids(SERVER, z, x, y)), 18, "ops still see every person")
        z, x, y, c = cell_tile(lon, lat, 14)
        _, cells = movement(SERVER, z, x, y)
        self.assertEqual(c, c20)
        self.assertEqual(cells[c20]["count"], 18)

    def test_counts_sum_over_tile(self):
        lon, lat = spot(13)
        z = 16
        x, y = mshtest.lonlat_to_tile(lon, lat, z)
        rng = random.Random(13)
        span = 1 << (BASE_LEVEL - z)
        chosen = set()
        while len(chosen) < 25:
            chosen.add((x * span + rng.randrange(1, span - 1), y * span + rng.randrange(1, span - 1)))
        t = now_ms() - 1000
        expect, recs = {}, []
        for i, c in enumerate(sorted(chosen)):
            n = rng.randrange(5, 21)
            expect[c] = n
            recs += crowd("SUM%02d" % i, *cell_center(*c), n, t, rng=rng)
        mshtest.post_ok(SERVER, "positions", recs, FEED)
        _, cells = movement(SERVER, z, x, y)
        self.assertEqual({k: v["count"] for k, v in cells.items()}, expect)
        self.assertEqual(sum(v["count"] for v in cells.values()), len(recs))
        self.assertEqual(len(positions_ids(SERVER, z, x, y)), len(recs))
        # every coarser tile holding them sums to the same total
        for z2 in (15, 13, 11):
            with self.subTest(z=z2):
                x2, y2 = x >> (z - z2), y >> (z - z2)
                _, cells2 = movement(SERVER, z2, x2, y2)
                self.assertEqual(sum(v["count"] for v in cells2.values()), len(recs))
        # the four z17 children split them exactly
        total = 0
        for dx in (0, 1):
            for dy in (0, 1):
                _, cc = movement(SERVER, z + 1, 2 * x + dx, 2 * y + dy)
                total += sum(v["count"] for v in cc.values())
        self.assertEqual(total, len(recs))

    def test_person_moves_between_cells(self):
        lon, lat = spot(14)
        ca = cell_of(lon, lat)
        cb = (ca[0] + 2, ca[1] - 1)      # ~20 m to the north-east
        t = now_ms() - 60000
        a_people = crowd("MVA", *cell_center(*ca), 7, t)
        mshtest.post_ok(SERVER, "positions", a_people + crowd("MVB", *cell_center(*cb), 5, t), FEED)
        z, x, y, _ = cell_tile(lon, lat, 18)
        self.assertEqual(tile_of_cell(cb[0], cb[1], BASE_LEVEL, 18), (x, y))
        _, cells = movement(SERVER, z, x, y)
        self.assertEqual({k: v["count"] for k, v in cells.items()}, {ca: 7, cb: 5})
        # one person walks from A to B in 20 s (no speed given: derived from the two positions)
        mover = a_people[0]
        blon, blat = cell_center(*cb)
        mshtest.post_ok(SERVER, "positions", [person(mover["id"], blon, blat, t + 20000)], FEED)
        _, cells = movement(SERVER, z, x, y)
        self.assertEqual({k: v["count"] for k, v in cells.items()}, {ca: 6, cb: 6})
        _, e = entity(SERVER, mover["id"])
        self.assertAlmostEqual(e["geometry"]["coordinates"][0], blon, delta=2e-7)
        self.assertAlmostEqual(e["geometry"]["coordinates"][1], blat, delta=2e-7)
        self.assertEqual(e["properties"]["time"], iso(t + 20000))
        ax, ay = to_world(mover["lon"], mover["lat"])
        bx, by = to_world(blon, blat)
        s = EARTH_C * math.cos(math.radians(blat))
        ve, vn = (bx - ax) * s / 20.0, -(by - ay) * s / 20.0
        self.assertAlmostEqual(e["properties"]["speed"], math.hypot(ve, vn), delta=0.02)
        self.assertLessEqual(abs((e["properties"]["heading"] - math.degrees(math.atan2(ve, vn)) + 180) % 360 - 180),
                             1.0)
        # two more: A falls under k and disappears, B has 8
        mshtest.post_ok(SERVER, "positions", [person(p["id"], blon, blat, t + 30000) for p in a_people[1:3]], FEED)
        _, cells = movement(SERVER, z, x, y)
        self.assertEqual({k: v["count"] for k, v in cells.items()}, {cb: 8})

        # an older record does not move anyone back, nor change the tile (or its ETag)
        r1, _ = movement(SERVER, z, x, y)
        old = person(mover["id"], *cell_center(*ca), t + 10000)
        r = mshtest.post_feed(SERVER, "positions", [old], FEED)
        self.assertEqual(r.status, 200, r.body)
        _, e2 = entity(SERVER, mover["id"])
        self.assertEqual(e2["geometry"], e["geometry"])
        self.assertEqual(e2["properties"]["time"], iso(t + 20000))
        r2, cells = movement(SERVER, z, x, y)
        self.assertEqual({k: v["count"] for k, v in cells.items()}, {cb: 8})
        self.assertEqual(r2.header("etag"), r1.header("etag"))
        # the same time again is not older: it applies
        mshtest.post_ok(SERVER, "positions", [person(mover["id"], *cell_center(*ca), t + 20000)], FEED)
        _, cells = movement(SERVER, z, x, y)
        self.assertEqual({k: v["count"] for k, v in cells.items()}, {ca: 5, cb: 7})

    def test_etags(self):
        lon1, lat1 = spot(15)
        lon2, lat2 = spot(16)   # 2 km away
        lon3, lat3 = spot(17)
        t = now_ms() - 30000
        crowd1 = crowd("ET1", lon1, lat1, 12, t)
        mshtest.post_ok(SERVER, "positions", crowd1 + crowd("ET2", lon2, lat2, 6, t), FEED)
        z = 18
        x1, y1 = mshtest.lonlat_to_tile(lon1, lat1, z)
        x2, y2 = mshtest.lonlat_to_tile(lon2, lat2, z)
        r1, cells1 = movement(SERVER, z, x1, y1)
        r2, _ = movement(SERVER, z, x2, y2)
        e1, e2 = r1.header("etag"), r2.header("etag")
        self.assertRegex(e1 or "", r'^"[^"]+"$')
        self.assertNotEqual(e1, e2)
        self.assertEqual(sum(v["count"] for v in cells1.values()), 12)
        path1 = "/tiles/movement/%d/%d/%d.mvt" % (z, x1, y1)
        path2 = "/tiles/movement/%d/%d/%d.mvt" % (z, x2, y2)
        # nothing changed: 304 (and again after an update somewhere else)
        r = SERVER.get(path1, headers={"If-None-Match": e1})
        self.assertEqual((r.status, r.body), (304, b""))
        self.assertEqual(SERVER.get(path1).header("etag"), e1)
        mshtest.post_ok(SERVER, "positions", crowd("ET3", lon3, lat3, 6, t + 1000), FEED)
        self.assertEqual(SERVER.get(path1, headers={"If-None-Match": e1}).status, 304)
        self.assertEqual(SERVER.get(path2, headers={"If-None-Match": e2}).status, 304)
        # a person of tile 1 moves 20 m: tile 1 has a new ETag and new content, tile 2 keeps its own
        mlon, mlat = offset(lon1, lat1, 20, 0)
        mshtest.post_ok(SERVER, "positions", [person(crowd1[0]["id"], mlon, mlat, t + 2000)], FEED)
        self.assertEqual(mshtest.lonlat_to_tile(mlon, mlat, z), (x1, y1))
        r = SERVER.get(path1, headers={"If-None-Match": e1})
        self.assertEqual(r.status, 200)
        self.assertNotEqual(r.header("etag"), e1)
        _, cells1b = movement(SERVER, z, x1, y1)
        self.assertEqual(sorted(v["count"] for v in cells1b.values()), [11])  # the lone mover is under k
        r = SERVER.get(path2, headers={"If-None-Match": e2})
        self.assertEqual(r.status, 304, "a tile 2 km away changed its ETag")
        # a new ETag is itself stable
        e1b = SERVER.get(path1).header("etag")
        self.assertEqual(SERVER.get(path1, headers={"If-None-Match": e1b}).status, 304)


class Items(unittest.TestCase):
    def test_incident_lifecycle(self):
        lon, lat = spot(18)
        # resolved at t0 + 900 s must stay younger than --incident-retention (1,800 s): an hour ago, the
        # timer pass of the next second retired it before the read (a race the fresh machine lost)
        t0 = now_ms() - 1200 * 1000
        base = {"id": "INC-LC-1", "lon": lon, "lat": lat, "kind": "medical", "severity": "high",
                "description": "fall near the stairs"}
        steps = [("reported", 0), ("dispatched", 60), ("on_scene", 180), ("resolved", 900)]
        r0 = SERVER.get("/tiles/incidents/16/%d/%d.mvt" % mshtest.lonlat_to_tile(lon, lat, 16))
        for status, dt in steps:
            with self.subTest(status=status):
                rec = dict(base, status=status, time=iso(t0 + dt * 1000))
                mshtest.post_ok(SERVER, "incidents", [rec], FEED)
                it = items(SERVER, "incidents", lon, lat)
                self.assertEqual(set(it), {"INC-LC-1"})
                a = it["INC-LC-1"]
                self.assertEqual(a["status"], status)
                self.assertEqual(a["reported_at"], iso(t0))
                self.assertEqual(a["updated_at"], iso(t0 + dt * 1000))
                self.assertEqual((a["kind"], a["severity"], a["description"]),
                                 ("medical", "high", "fall near the stairs"))
        r1 = SERVER.get("/tiles/incidents/16/%d/%d.mvt" % mshtest.lonlat_to_tile(lon, lat, 16))
        self.assertNotEqual(r0.header("etag"), r1.header("etag"))
        self.assertEqual(r1.header("cache-control"), "no-cache")
        # an older record is ignored; a lifecycle never goes back
        mshtest.post_ok(SERVER, "incidents", [dict(base, status="on_scene", time=iso(t0 + 300 * 1000))], FEED)
        self.assertEqual(items(SERVER, "incidents", lon, lat)["INC-LC-1"]["status"], "resolved")
        self.assertEqual(items(SERVER, "incidents", lon, lat)["INC-LC-1"]["updated_at"], iso(t0 + 900 * 1000))
        mshtest.post_ok(SERVER, "incidents", [dict(base, status="dispatched", time=iso(t0 + 1000 * 1000))], FEED)
        a = items(SERVER, "incidents", lon, lat)["INC-LC-1"]
        self.assertEqual((a["status"], a["reported_at"]), ("resolved", iso(t0)))

    def test_incident_fields_and_rejections(self):
        lon, lat = spot(19)
        t = now_ms() - 600 * 1000
        recs = [
            {"id": "INC-F-1", "lon": lon, "lat": lat, "time": t, "category": "fire", "severity": "critical",
             "status": "dispatched"},                                                    # 1: FIWARE name
            {"id": "INC-F-BAD1", "lon": lon, "lat": lat, "time": t, "kind": "x", "severity": "urgent"},  # 2
            {"id": "INC-F-BAD2", "lon": lon, "lat": lat, "time": t, "severity": "low"},    # 3 no kind
            {"id": "INC-F-BAD3", "lon": lon, "lat": lat, "time": t, "kind": "x", "severity": "low",
             "status": "closed"},                                                        # 4
            {"id": "INC-F-2", "location": {"type": "Point", "coordinates": [lon, lat]}, "time": iso(t),
             "kind": "crowding", "severity": "low"},                                     # 5 no status: reported
        ]
        r = mshtest.post_feed(SERVER, "incidents", recs, FEED)
        doc = r.json()
        self.assertEqual(doc["accepted"], 2, doc)
        self.assertEqual([x["line"] for x in doc["rejected"]], [2, 3, 4])
        self.assertRegex(doc["rejected"][0]["reason"], "severity")
        self.assertRegex(doc["rejected"][1]["reason"], "kind")
        self.assertRegex(doc["rejected"][2]["reason"], "status")
        it = items(SERVER, "incidents", lon, lat)
        self.assertEqual(set(it), {"INC-F-1", "INC-F-2"})
        self.assertEqual((it["INC-F-1"]["kind"], it["INC-F-1"]["severity"], it["INC-F-1"]["status"]),
                         ("fire", "critical", "dispatched"))
        self.assertEqual(it["INC-F-1"]["reported_at"], iso(t))  # first heard of already dispatched
        self.assertNotIn("description", it["INC-F-1"])
        self.assertEqual((it["INC-F-2"]["status"], it["INC-F-2"]["severity"]), ("reported", "low"))
        # an update without a status keeps the lifecycle where it was
        mshtest.post_ok(SERVER, "incidents", [{"id": "INC-F-1", "lon": lon, "lat": lat, "time": t + 5000,
                                               "kind": "fire", "severity": "medium"}], FEED)
        a = items(SERVER, "incidents", lon, lat)["INC-F-1"]
        self.assertEqual((a["status"], a["severity"], a["updated_at"]), ("dispatched", "medium", iso(t + 5000)))

    def test_gate_flow(self):
        lon, lat = spot(20)
        t0 = (now_ms() // 1000 - 600) * 1000  # whole seconds: ISO times carry no milliseconds here
        mshtest.post_ok(SERVER, "gates", [{"id": "GATE-T1", "location": {"type": "Point", "coordinates": [lon, lat]},
                                           "time": iso(t0), "in": 100, "out": 20, "capacity": 3000}], FEED)
        a = items(SERVER, "gates", lon, lat)["GATE-T1"]
        self.assertEqual((a["in_total"], a["out_total"], a["occupancy"], a["capacity"]), (100, 20, 80, 3000))
        # 60 s later, FIWARE names and no location (the gate keeps its own)
        mshtest.post_ok(SERVER, "gates", [{"gate": "GATE-T1", "dateObserved": iso(t0 + 60000),
                                           "peopleCountTowards": 150, "peopleCountAway": 30}], FEED)
        flow = (150 + 30) / (60 / 3600.0)
        a = items(SERVER, "gates", lon, lat)["GATE-T1"]
        self.assertEqual((a["in_total"], a["out_total"], a["occupancy"], a["capacity"]), (250, 50, 200, 3000))
        self.assertAlmostEqual(a["flow_per_hour"], flow, delta=1.0)
        self.assertAlmostEqual(a["utilisation"], flow / 3000, delta=0.0011)
        self.assertEqual(a["updated_at"], iso(t0 + 60000))
        # 120 s later, only people going in, 40 of them over 2 minutes
        mshtest.post_ok(SERVER, "gates", [{"id": "GATE-T1", "time": t0 + 180000, "in": 40}], FEED)
        a = items(SERVER, "gates", lon, lat)["GATE-T1"]
        self.assertEqual((a["in_total"], a["out_total"], a["occupancy"]), (290, 50, 240))
        self.assertAlmostEqual(a["flow_per_hour"], 40 / (120 / 3600.0), delta=1.0)
        # an older count is not added again
        mshtest.post_ok(SERVER, "gates", [{"id": "GATE-T1", "time": t0 + 30000, "in": 1000}], FEED)
        a = items(SERVER, "gates", lon, lat)["GATE-T1"]
        self.assertEqual((a["in_total"], a["out_total"]), (290, 50))
        # refusals
        r = mshtest.post_feed(SERVER, "gates", [{"id": "GATE-T1", "time": t0 + 200000},
                                                {"id": "GATE-T1", "time": t0 + 200000, "in": -3},
                                                {"id": "GATE-T1", "time": t0 + 200000, "in": 2.5}], FEED)
        doc = r.json()
        self.assertEqual(doc["accepted"], 0)
        self.assertEqual([x["line"] for x in doc["rejected"]], [1, 2, 3])
        self.assertRegex(doc["rejected"][0]["reason"], "'in'")

    def test_sensors(self):
        lon, lat = spot(21)
        t = now_ms() - 60000
        lon2, lat2 = offset(lon, lat, 50, 0)
        recs = [{"id": "SENS-1", "lon": lon, "lat": lat, "time": t, "temperature": 41.5, "relativeHumidity": 0.18,
                 "airQualityIndex": 87, "pm25": 35.2, "LAeq": 72.5},
                {"id": "SENS-2", "lon": lon2, "lat": lat2, "time": iso(t), "temperature": -3.25, "noise": 55},
                {"id": "SENS-BAD", "lon": lon, "lat": lat, "time": t, "relativeHumidity": 1.5},
                {"id": "SENS-BAD2", "lon": lon, "lat": lat, "time": t, "temperature": "hot"}]
        r = mshtest.post_feed(SERVER, "sensors", recs, FEED)
        doc = r.json()
        self.assertEqual(doc["accepted"], 2, doc)
        self.assertEqual([x["line"] for x in doc["rejected"]], [3, 4])
        self.assertRegex(doc["rejected"][0]["reason"], "relativeHumidity.*1.5.*0..1")
        self.assertRegex(doc["rejected"][1]["reason"], "temperature")
        it = items(SERVER, "sensors", lon, lat)
        self.assertEqual(set(it), {"SENS-1", "SENS-2"})
        want1 = {"temperature": 41.5, "relative_humidity": 0.18, "air_quality_index": 87, "pm25": 35.2,
                 "noise_laeq": 72.5}
        for k, v in want1.items():
            self.assertAlmostEqual(it["SENS-1"][k], v, delta=1e-5 * max(1, abs(v)), msg=k)
        self.assertEqual(it["SENS-1"]["updated_at"], iso(t))
        self.assertAlmostEqual(it["SENS-2"]["temperature"], -3.25, delta=1e-6)
        self.assertAlmostEqual(it["SENS-2"]["noise_laeq"], 55, delta=1e-6)
        for k in ("relative_humidity", "air_quality_index", "pm25"):
            self.assertNotIn(k, it["SENS-2"])
        # a newer reading replaces the old
        mshtest.post_ok(SERVER, "sensors", [{"id": "SENS-1", "lon": lon, "lat": lat, "time": t + 1000,
                                             "temperature": 43.0}], FEED)
        a = items(SERVER, "sensors", lon, lat)["SENS-1"]
        self.assertAlmostEqual(a["temperature"], 43.0, delta=1e-6)

    def test_crews(self):
        lon, lat = spot(22)
        t = now_ms() - 60000
        mshtest.post_ok(SERVER, "crews", [{"id": "CREW-7", "lon": lon, "lat": lat, "time": t, "kind": "cleaning",
                                           "status": "active", "name": "Team 7"}], FEED)
        a = items(SERVER, "crews", lon, lat)["CREW-7"]
        self.assertEqual((a["kind"], a["status"], a["name"], a["updated_at"]), ("cleaning", "active", "Team 7", iso(t)))
        lon2, lat2 = offset(lon, lat, 100, 100)
        mshtest.post_ok(SERVER, "crews", [{"id": "CREW-7", "lon": lon2, "lat": lat2, "time": t + 5000,
                                           "kind": "cleaning", "status": "busy", "name": "Team 7"}], FEED)
        x, y = mshtest.lonlat_to_tile(lon2, lat2, 20)
        _, dec = mshtest.fetch_tile(SERVER, "crews", 20, x, y)
        feats = [f for f in dec.get("crews", []) if f.attrs["id"] == "CREW-7"]
        self.assertEqual(len(feats), 1)
        self.assertEqual(feats[0].attrs["status"], "busy")
        p = mshtest.to_3857(ogr_point(lon2, lat2))
        self.assertLess(math.hypot(feats[0].geom.GetX() - p.GetX(), feats[0].geom.GetY() - p.GetY()), 0.2)


class Expiry(unittest.TestCase):
    def test_positions_expire(self):
        # an injected clock: each POST /test/clock step moves the server's time and expires what it
        # must at once, so no wall-clock wait; the server's time also runs with the real one, and
        # --position-max-age 60 leaves a loaded machine half a minute for the steps in between
        srv = start_server("expiry", "--position-max-age", "60", "--test-clock")

        def advance(seconds):
            r = mshtest.api(srv, "/test/clock?advance_s=%d" % seconds, "POST", TOKENS["admin"])
            self.assertEqual(r.status, 200, r.body)
            return json.loads(r.body)["now_ms"]
        try:
            lon, lat = spot(23)
            lon2, lat2 = spot(24)
            t = advance(0)
            mshtest.post_ok(srv, "positions", crowd("EXP", lon, lat, 6, t), FEED)
            # an hour-old report is accepted but never counts for long
            mshtest.post_ok(srv, "positions", crowd("EXPOLD", lon2, lat2, 6, t - 3600 * 1000), FEED)
            z, x, y, c = cell_tile(lon, lat, 20)
            z2, x2, y2, _ = cell_tile(lon2, lat2, 20)
            _, cells = movement(srv, z, x, y)
            self.assertEqual({k: v["count"] for k, v in cells.items()}, {c: 6})
            self.assertIs(entity(srv, "EXP-000")[1]["properties"]["active"], True)
            # half the maximum age later (and an expiry pass at that time): still counted
            advance(30)
            _, cells = movement(srv, z, x, y)
            self.assertEqual({k: v["count"] for k, v in cells.items()}, {c: 6}, "expired before --position-max-age")
            self.assertIs(entity(srv, "EXP-000")[1]["properties"]["active"], True)
            self.assertEqual(movement(srv, z2, x2, y2)[1], {})
            # past it: gone from the movement tile, inactive, no longer a position
            advance(31)
            self.assertEqual(movement(srv, z, x, y)[1], {}, "counted after --position-max-age")
            r, e = entity(srv, "EXP-000")
            self.assertEqual(r.status, 200)
            self.assertIs(e["properties"]["active"], False)
            self.assertEqual(positions_ids(srv, z, x, y), {})
            # heard from again: counted again
            mshtest.post_ok(srv, "positions", crowd("EXP", lon, lat, 6, advance(0)), FEED)
            _, cells = movement(srv, z, x, y)
            self.assertEqual({k: v["count"] for k, v in cells.items()}, {c: 6})
            self.assertIs(entity(srv, "EXP-000")[1]["properties"]["active"], True)
        finally:
            rc = srv.stop()
        self.assertEqual(rc, 0, srv.stderr())


# What the replay tests post is minutes old: every time rule (position expiry, stale and dropped
# crews, stale sensors) is set a day away, so that the once-a-second pass cannot change what is
# compared between a snapshot taken before it ran and one taken after, however slow the restarts.
RULES_A_DAY_AWAY = ("--position-max-age", "86400", "--crew-stale", "86400", "--crew-drop", "172800",
                    "--sensor-stale", "86400")


class Replay(unittest.TestCase):
    def snapshot(self, srv, ids, spots):
        """Everything a client can see of what was posted."""
        out = {"entities": {}}
        for eid in ids:
            r, e = entity(srv, eid)
            self.assertEqual(r.status, 200, (eid, r.body))
            out["entities"][eid] = e
        for name, (lon, lat) in spots.items():
            z, x, y, _ = cell_tile(lon, lat, 20)
            out["movement", name] = movement(srv, z, x, y)[1]
            z, x, y, _ = cell_tile(lon, lat, 14)
            out["movement14", name] = movement(srv, z, x, y)[1]
            for layer in ("incidents", "gates", "sensors", "crews"):
                out[layer, name] = items(srv, layer, lon, lat)
        return out

    def test_restart_replays_everything(self):
        srv = start_server("replay", *RULES_A_DAY_AWAY)
        lon, lat = spot(25)
        lon2, lat2 = spot(26)
        t0 = now_ms() - 300 * 1000
        people = crowd("RP", lon, lat, 12, t0, speed=1.1, heading=30, group="G-RP")
        people += crowd("RQ", lon2, lat2, 7, t0)
        accepted = 0
        try:
            mshtest.post_ok(srv, "positions", people, FEED)
            accepted += len(people)
            # three of them move later (velocity derived from the move)
            moved = [person(p["id"], *offset(p["lon"], p["lat"], 12, 0), t0 + 10000) for p in people[:3]]
            mshtest.post_ok(srv, "positions", moved, FEED)
            accepted += len(moved)
            inc = {"id": "INC-RP", "lon": lon, "lat": lat, "kind": "lost_person", "severity": "medium"}
            for st, dt in (("reported", 0), ("dispatched", 30), ("on_scene", 90)):
                mshtest.post_ok(srv, "incidents", [dict(inc, status=st, time=t0 + dt * 1000)], FEED)
                accepted += 1
            mshtest.post_ok(srv, "gates", [{"id": "GATE-RP", "lon": lon2, "lat": lat2, "time": t0, "in": 10, "out": 4,
                                            "capacity": 600},
                                           {"id": "GATE-RP", "time": t0 + 90000, "in": 33, "out": 12}], FEED)
            mshtest.post_ok(srv, "sensors", [{"id": "SENS-RP", "lon": lon, "lat": lat, "time": t0, "temperature": 39.25,
                                              "pm25": 12.5}], FEED)
            mshtest.post_ok(srv, "crews", [{"id": "CREW-RP", "lon": lon2, "lat": lat2, "time": t0, "kind": "emergency",
                                            "status": "en_route", "name": "Ambulance 3"}], FEED)
            accepted += 4
            ids = [p["id"] for p in people]
            spots = {"a": (lon, lat), "b": (lon2, lat2)}
            before = self.snapshot(srv, ids, spots)
            # what was posted is what we see (so that comparing after the restart means something)
            self.assertEqual(before["incidents", "a"]["INC-RP"]["status"], "on_scene")
            self.assertEqual(before["gates", "b"]["GATE-RP"]["in_total"], 43)
            self.assertEqual(sum(v["count"] for v in before["movement", "a"].values()), 9)  # 3 moved 12 m
            # the 3 who moved are fewer than k (5) in their cells: zoom 14 must not show 12 next to
            # zoom 20's 9, or subtracting would reveal them (k-anonymity across zooms)
            self.assertEqual(sum(v["count"] for v in before["movement14", "a"].values()), 9)
            self.assertGreater(before["entities"][moved[0]["id"]]["properties"]["speed"], 1.0)
        finally:
            rc = srv.stop()
        self.assertEqual(rc, 0, srv.stderr())
        # restarts after SIGTERM (a clean stop, which may leave a snapshot), after SIGKILL, after SIGTERM
        for round_, end in ((1, "SIGTERM"), (2, "SIGKILL"), (3, "SIGTERM")):
            with self.subTest(restart=round_):
                srv.start()
                try:
                    m = re.search(r"mashaer: live feeds: replayed (\d+) updates", srv.stderr())
                    self.assertIsNotNone(m, srv.stderr())
                    self.assertLessEqual(int(m.group(1)), accepted)
                    after = self.snapshot(srv, ids, spots)
                    self.assertEqual(after["entities"], before["entities"])
                    for k in before:
                        if k != "entities":
                            self.assertEqual(after[k], before[k], k)
                finally:
                    if end == "SIGKILL":
                        kill9(srv)
                    else:
                        self.assertEqual(srv.stop(), 0, srv.stderr())

    def test_log_replay_after_kill(self):
        """kill -9 before any snapshot: the state comes back from the log alone, every update of it."""
        srv = start_server("replay-log", "--snapshot-s", "86400", *RULES_A_DAY_AWAY)  # no snapshot however slow
        lon, lat = spot(31)
        t0 = now_ms() - 200 * 1000
        people = crowd("RL", lon, lat, 8, t0, group="G-RL", speed=0.7, heading=300)
        moved = [person(p["id"], *offset(p["lon"], p["lat"], 0, 15), t0 + 20000) for p in people[:2]]
        inc = {"id": "INC-RL", "lon": lon, "lat": lat, "kind": "heat", "severity": "high"}
        gate = [{"id": "GATE-RL", "lon": lon, "lat": lat, "time": t0, "in": 5, "out": 1, "capacity": 100},
                {"id": "GATE-RL", "time": t0 + 30000, "in": 20, "out": 10}]
        sensor = [{"id": "SENS-RL", "lon": lon, "lat": lat, "time": t0, "LAeq": 81.5}]
        crew = [{"id": "CREW-RL", "lon": lon, "lat": lat, "time": t0, "kind": "cleaning", "status": "idle"}]
        try:
            mshtest.post_ok(srv, "positions", people, FEED)
            mshtest.post_ok(srv, "positions", moved, FEED)
            for st, dt in (("reported", 0), ("dispatched", 40), ("resolved", 400)):
                mshtest.post_ok(srv, "incidents", [dict(inc, status=st, time=t0 + dt * 1000)], FEED)
            mshtest.post_ok(srv, "gates", gate, FEED)
            mshtest.post_ok(srv, "sensors", sensor, FEED)
            mshtest.post_ok(srv, "crews", crew, FEED)
            accepted = len(people) + len(moved) + 3 + len(gate) + len(sensor) + len(crew)
            before = self.snapshot(srv, [p["id"] for p in people], {"a": (lon, lat)})
            self.assertEqual(before["incidents", "a"]["INC-RL"]["status"], "resolved")
            self.assertEqual(before["gates", "a"]["GATE-RL"]["flow_per_hour"], round(30 / (30 / 3600.0)))
        finally:
            kill9(srv)
        self.assertFalse([f for f in os.listdir(srv.db + ".live") if f.endswith(".snap")],
                         "test setup: a snapshot was taken before the kill")
        srv.start()
        try:
            m = re.search(r"mashaer: live feeds: replayed (\d+) updates", srv.stderr())
            self.assertIsNotNone(m, srv.stderr())
            self.assertEqual(int(m.group(1)), accepted, srv.stderr())
            after = self.snapshot(srv, [p["id"] for p in people], {"a": (lon, lat)})
            self.assertEqual(after["entities"], before["entities"])
            for k in before:
                if k != "entities":
                    self.assertEqual(after[k], before[k], k)
        finally:
            self.assertEqual(srv.stop(), 0, srv.stderr())

    def test_etags_after_restart(self):
        """A live ETag handed out before a restart must not match different content after it: the
        client would keep showing stale data on the 304."""
        srv = start_server("etag-restart")
        lon, lat = spot(28)
        ca = cell_of(lon, lat)
        cb = (ca[0] + 1, ca[1])
        t = now_ms() - 60000
        people = crowd("ER", *cell_center(*ca), 6, t)
        inc = {"id": "INC-ER", "lon": lon, "lat": lat, "kind": "medical", "severity": "low"}
        z, x, y, _ = cell_tile(lon, lat, 18)
        mpath = "/tiles/movement/%d/%d/%d.mvt" % (z, x, y)
        ipath = "/tiles/incidents/%d/%d/%d.mvt" % (z, x, y)
        try:
            mshtest.post_ok(srv, "positions", people, FEED)
            mshtest.post_ok(srv, "incidents", [dict(inc, status="reported", time=t)], FEED)
            r, cells = movement(srv, z, x, y)
            self.assertEqual({k: v["count"] for k, v in cells.items()}, {ca: 6})
            old_m = r.header("etag")
            old_i = srv.get(ipath).header("etag")
            # everyone steps into the next cell; the incident is dispatched
            mshtest.post_ok(srv, "positions", [person(p["id"], *cell_center(*cb), t + 1000) for p in people], FEED)
            mshtest.post_ok(srv, "incidents", [dict(inc, status="dispatched", time=t + 1000)], FEED)
            r, cells = movement(srv, z, x, y)
            self.assertEqual({k: v["count"] for k, v in cells.items()}, {cb: 6})
            self.assertNotEqual(r.header("etag"), old_m)
            self.assertNotEqual(srv.get(ipath).header("etag"), old_i)
        finally:
            rc = srv.stop()
        self.assertEqual(rc, 0, srv.stderr())
        for how in ("after SIGTERM", "after SIGKILL"):
            with self.subTest(restart=how):
                srv.start()
                try:
                    r, cells = movement(srv, z, x, y)
                    self.assertEqual({k: v["count"] for k, v in cells.items()}, {cb: 6})
                    self.assertEqual(items(srv, "incidents", lon, lat)["INC-ER"]["status"], "dispatched")
                    stale = []
                    if srv.get(mpath, headers={"If-None-Match": old_m}).status == 304:
                        stale.append("movement: people in cell %s then, in %s now" % (ca, cb))
                    if srv.get(ipath, headers={"If-None-Match": old_i}).status == 304:
                        stale.append("incidents: INC-ER reported then, dispatched now")
                    self.assertEqual(stale, [], "304 for an ETag of content from before the restart")
                finally:
                    if how == "after SIGTERM":
                        self.assertEqual(srv.stop(), 0)
                    else:
                        kill9(srv)

    def test_no_live(self):
        live = mshtest.work_path("nolive.sqlite.live")
        # on SpatiaLite the live folder is FILE.live by default; a PostgreSQL store has live feeds only
        # when --live-dir names a folder, so there one is named and --no-live alone keeps them off
        srv = start_server("nolive", "--no-live", *(["--live-dir", live] if mshtest.STORE_BACKEND == "postgresql"
                                                   else []))
        try:
            lon, lat = spot(27)
            r = mshtest.post_feed(srv, "positions", [person("NL-1", lon, lat, now_ms())], FEED)
            self.assertEqual(r.status, 503, r.body)
            self.assertEqual(entity(srv, "NL-1")[0].status, 503)
            kinds = {l["id"]: l["kind"] for l in srv.json("/catalog")["layers"]}
            self.assertEqual(kinds, {"sites": "static"})
        finally:
            rc = srv.stop()
        self.assertEqual(rc, 0)
        self.assertFalse(os.path.exists(live))


if __name__ == "__main__":
    mshtest.main()
