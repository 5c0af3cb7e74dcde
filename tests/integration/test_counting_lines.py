"""Counting lines (issue 13, section 6): an admin draws a line in `counting_lines` (Part 4, LineString
only, at most 1,000 vertices; ops, feed and a 10,000-vertex line or a polygon are refused); people
crossing it are counted per minute from consecutive positions of the same id: `ab` left to right of
the line as drawn, `ba` right to left; served as `counting_line_counts` items (line=, datetime) and
in /kpi `counting_lines`; durable across kill -9 (a crossing before a snapshot and one after it).

The line runs north from A to B at lon 39.8900: walking north along it, west is its left. No sleeps:
the line is in force once /kpi lists it (the reload thread rebuilds the lines with the geofences),
and the snapshot is waited for on its log line.
"""
import datetime
import json
import unittest

import mshtest
from mshtest import now_ms

DB = None
SERVER = None
TOK = {}
LINES = "/ogc/collections/counting_lines/items"
COUNTS = "/ogc/collections/counting_line_counts/items"
LON, LAT0, LAT1 = 39.8900, 21.4100, 21.4110
W, E = LON - 0.0001, LON + 0.0001
LINE = None
T0 = None


def line_feature(coords, name="Mina east bridge"):
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords}, "properties": {"name": name}}


def kpi_line(fid):
    doc = SERVER.json("/kpi")
    return {ln["line"]: ln for ln in doc.get("counting_lines", [])}.get(fid)


def move(pid, frm, to, dt_s):
    return [{"id": pid, "lon": frm[0], "lat": frm[1], "time": T0 + dt_s * 1000},
            {"id": pid, "lon": to[0], "lat": to[1], "time": T0 + (dt_s + 5) * 1000}]


def counts():
    r = SERVER.get(COUNTS + "?line=%d&limit=1000" % LINE)
    assert r.status == 200, r.body
    return [f["properties"] for f in json.loads(r.body)["features"]]


def start(name="serve"):
    global SERVER
    SERVER = mshtest.Server(DB, "--snapshot-s", "1", name=name).start()


def snapshot_after():
    """Two live snapshots begun after the records posted so far (a snapshot is taken when something
    was logged since the last: each gets a gate record of its own): the second covers them all."""
    log = lambda: SERVER.stderr().count("live snapshot:")  # noqa: E731
    for k in range(2):
        n = log()
        mshtest.post_ok(SERVER, "gates", [{"id": "G-TICK", "in": 0, "time": now_ms()}], TOK["feed"])
        mshtest.wait_for(lambda: log() > n, 20, "a live snapshot")


class CountingLines(unittest.TestCase):
    def test_a_crossings_per_minute_and_direction(self):
        at = lambda lon, dlat=0.0005: (lon, LAT0 + dlat)  # noqa: E731
        recs = (move("P-AB1", at(W), at(E), 0) + move("P-AB2", at(W, 0.0002), at(E, 0.0008), 1)
                + move("P-BA1", at(E), at(W), 2)
                + move("P-PAR", at(W, 0.0001), at(W, 0.0009), 3)              # along the line: no crossing
                + move("P-NORTH", (W, LAT1 + 0.0002), (E, LAT1 + 0.0002), 4)  # past its end: none
                + [{"id": "P-NEW", "lon": E, "lat": LAT0 + 0.0005, "time": T0}])  # a first position: none
        mshtest.post_ok(SERVER, "positions", recs, TOK["feed"])
        minute = (T0 + 5000) // 60000 * 60000
        got = counts()
        self.assertEqual(sum(c["ab"] for c in got), 2)
        self.assertEqual(sum(c["ba"] for c in got), 1)
        iso = datetime.datetime.fromtimestamp(minute / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.assertIn(iso, [c["minute"] for c in got])
        for c in got:
            self.assertEqual((c["line"], c["name"], c["total"]), (LINE, "Mina east bridge", c["ab"] + c["ba"]))
            self.assertEqual(c["time"], c["minute"])
        k = kpi_line(LINE)
        self.assertEqual((k["ab"], k["ba"], k["total"]), (2, 1, 3))
        # datetime: nothing before the first minute
        r = SERVER.get(COUNTS + "?line=%d&datetime=../%s" % (LINE, "2000-01-01T00:00:00Z"))
        self.assertEqual(json.loads(r.body)["features"], [])

    def test_b_hostile_lines(self):
        many = [[LON + i * 1e-6, LAT0 + (i % 2) * 1e-6] for i in range(10000)]
        r = mshtest.request(SERVER, LINES, "POST", TOK["admin"], line_feature(many, "long"))
        self.assertEqual(r.status, 400, r.body[:300])
        self.assertEqual(json.loads(r.body)["code"], "too_many_vertices")
        poly = {"type": "Feature", "properties": {"name": "area"},
                "geometry": {"type": "Polygon", "coordinates": [[[LON, LAT0], [E, LAT0], [E, LAT1], [LON, LAT0]]]}}
        self.assertEqual(mshtest.request(SERVER, LINES, "POST", TOK["admin"], poly).status, 400)
        for role in ("ops", "feed"):
            r = mshtest.request(SERVER, LINES, "POST", TOK[role], line_feature([[W, LAT0], [E, LAT1]]))
            self.assertEqual(r.status, 403, role)
        lines = json.loads(SERVER.get(LINES).body)["features"]
        self.assertEqual([f["id"] for f in lines], [LINE])

    def test_z_kill9(self):
        at = lambda lon: (lon, LAT0 + 0.0003)  # noqa: E731
        mshtest.post_ok(SERVER, "positions", move("P-K1", at(W), at(E), 20), TOK["feed"])   # ab, then a snapshot
        snapshot_after()
        mshtest.post_ok(SERVER, "positions", move("P-K2", at(E), at(W), 21), TOK["feed"])   # ba, in the log only
        SERVER.proc.kill()
        SERVER.proc.wait()
        SERVER.stop()
        start("serve2")
        got = counts()
        self.assertEqual((sum(c["ab"] for c in got), sum(c["ba"] for c in got)), (3, 2))
        # the replayed state's snapshot, kill -9 again: nothing counted twice
        snapshot_after()
        SERVER.proc.kill()
        SERVER.proc.wait()
        SERVER.stop()
        start("serve3")
        got = counts()
        self.assertEqual((sum(c["ab"] for c in got), sum(c["ba"] for c in got)), (3, 2))


def setUpModule():
    global DB, LINE, T0
    DB = mshtest.work_path("counting_lines.sqlite")
    mshtest.import_walkways(DB, [((LON - 0.001, LAT0), (LON + 0.001, LAT0))])
    src = mshtest.work_path("counting_sites.geojson")   # counting lines are made where the sites are
    with open(src, "w") as f:
        json.dump({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"site_id": "mina"},
                   "geometry": {"type": "Polygon", "coordinates": [[[39.88, 21.40], [39.90, 21.40], [39.90, 21.42],
                                                                     [39.88, 21.40]]]}}]}, f)
    mshtest.import_layer(DB, src, "sites")
    for role, name in (("ops", "ops-alice"), ("feed", "phones"), ("admin", "root")):
        TOK[role] = mshtest.add_token(DB, role, name)
    start()
    r = mshtest.request(SERVER, LINES, "POST", TOK["admin"], line_feature([[LON, LAT0], [LON, LAT1]]))
    assert r.status == 201, r.body
    LINE = json.loads(r.body)["id"]
    mshtest.wait_for(lambda: kpi_line(LINE), 10, "the line in force")
    T0 = now_ms() - 60000


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
