"""The crowd density forecast on the map: GET /tiles/forecast/{z}/{x}/{y}.mvt?minutes=M (decoded by
GDAL's MVT driver and compared cell by cell with /forecast/density for the same box), its TileJSON,
its ETags (a new forecast changes them, a repeated request is 304), and GET
/heatmaps/forecast/{z}/{x}/{y}.png?minutes=M (every forecast cell's pixel in the colour of its level
of service from the density legend; cells under --k-anon transparent). A server without a forecast
answers 404.

The walkway is one made-up street, 1 km east-west and 6 m wide, and the crowds and helpers are
test_forecast.py's; every check follows a POST /forecast/refresh (the barrier: it answers once the
new forecast is published).
"""
import json
import math
import unittest

import mshtest
import test_forecast
from mshtest import now_ms
from test_forecast import LAT, crowd, density, lon, refresh

DB = DB_OFF = None
SERVER = OFF = None
TOK = test_forecast.TOK
MASK29 = (1 << 29) - 1


def cells_of(doc):
    """/forecast/density's features by cell: {(cx, cy): properties}."""
    return {tuple(int(v) for v in f["id"].split("-")): f["properties"] for f in doc["features"]}


def tile_cells(minutes, z, bounds):
    """Every forecast cell of the tiles at zoom z over the lon/lat box, as GDAL decodes them:
    {(level, cx, cy): (attrs, geometry)}; a cell in a tile's buffer is the same cell (same id, same
    values) as in the tile it belongs to."""
    out = {}
    for x, y in mshtest.tiles_covering(bounds, z):
        r = SERVER.get("/tiles/forecast/%d/%d/%d.mvt?minutes=%d" % (z, x, y, minutes))
        assert r.status in (200, 204), (r.status, r.body[:300])
        assert r.header("content-type") == "application/vnd.mapbox-vector-tile"
        if r.status == 204:
            continue
        layers = mshtest.decode_mvt(r.body, z, x, y)
        assert list(layers) == ["forecast"], list(layers)
        for f in layers["forecast"]:
            key = (f.id >> 58, (f.id >> 29) & MASK29, f.id & MASK29)
            if key in out:
                assert out[key][0] == f.attrs, (key, out[key][0], f.attrs)
            # the geometry from the tile the cell is in (in a neighbour's buffer it is cut at the buffer's edge)
            if key not in out or (key[1] >> (key[0] - z), key[2] >> (key[0] - z)) == (x, y):
                out[key] = (f.attrs, f.geom)
    return out


BOUNDS = (lon(-30), LAT - 0.0004, lon(1030), LAT + 0.0004)


class ForecastTiles(unittest.TestCase):
    def test_a_tiles_equal_density(self):
        mshtest.post_ok(SERVER, "positions", crowd("W", 300, 0, 90, speed=1.2), TOK["feed"])
        mshtest.post_ok(SERVER, "positions", crowd("K", 3, 500, 501), TOK["feed"])  # 3 people: under k
        refresh()
        for minutes in (0, 10):
            want = cells_of(density("minutes=%d&bbox=%.7f,%.7f,%.7f,%.7f" % ((minutes,) + BOUNDS)))
            self.assertGreater(len(want), 5)
            got = tile_cells(minutes, 17, BOUNDS)
            self.assertEqual({(22, cx, cy) for cx, cy in want}, set(got), minutes)
            for (cx, cy), p in want.items():
                attrs, geom = got[(22, cx, cy)]
                self.assertEqual(set(attrs), set(p))
                for k in ("count", "density", "p_e", "p_f"):
                    self.assertAlmostEqual(attrs[k], p[k], delta=0.011 if k == "count" else 1.1e-4, msg=(k, cx, cy))
                self.assertEqual((attrs["los"], attrs["minutes"], attrs["issued_at"]),
                                 (p["los"], minutes, p["issued_at"]))
                # the polygon is the cell: 8.9 m a side (in EPSG:3857 metres, 1/cos(lat) larger)
                minx, maxx, miny, maxy = geom.GetEnvelope()
                side = 40075016.686 / (1 << 22)
                self.assertAlmostEqual(maxx - minx, side, delta=0.01)
                self.assertAlmostEqual((minx + 20037508.343) / side, cx, delta=0.01)
            # zoomed out, the cells are summed as the movement tiles' (64 a tile side): the same people
            wide = tile_cells(minutes, 12, BOUNDS)
            self.assertTrue(all(k[0] == 18 for k in wide), set(k[0] for k in wide))
            self.assertAlmostEqual(sum(a["count"] for a, _ in wide.values()), sum(p["count"] for p in want.values()),
                                   delta=0.01 * len(wide) + 0.01)
            self.assertGreaterEqual(max(a["p_e"] for a, _ in wide.values()), max(p["p_e"] for p in want.values()) - 1e-4)
        # the default horizon is 10 minutes (the crowd is 720 m east by then); anything but the six
        # horizons is refused with the list
        cx, cy = next(iter(cells_of(density("minutes=10"))))
        x, y = cx >> 5, cy >> 5
        r = SERVER.get("/tiles/forecast/17/%d/%d.mvt" % (x, y))
        self.assertEqual(r.status, 200)
        self.assertTrue(all(f.attrs["minutes"] == 10 for f in mshtest.decode_mvt(r.body, 17, x, y)["forecast"]))
        for q in ("minutes=7", "minutes=-5", "minutes=ten", "minutes="):
            r = SERVER.get("/tiles/forecast/17/%d/%d.mvt?%s" % (x, y, q))
            self.assertEqual(r.status, 400, q)
            self.assertIn("0, 5, 10, 15, 20, 30", json.loads(r.body)["error"])
        self.assertEqual(SERVER.get("/tiles/forecast/17/%d/%d.png" % (x, y)).status, 400)
        self.assertEqual(SERVER.get("/tiles/forecast/99/0/0.mvt").status, 400)

    def test_b_etags_follow_the_forecast(self):
        mshtest.post_ok(SERVER, "positions", crowd("W", 300, 0, 90, speed=1.2), TOK["feed"])
        refresh()
        x, y = mshtest.lonlat_to_tile(lon(40), LAT, 17)
        path = "/tiles/forecast/17/%d/%d.mvt?minutes=0" % (x, y)
        a = SERVER.get(path)
        self.assertEqual(a.status, 200)
        tag = a.header("etag")
        self.assertTrue(tag)
        self.assertEqual(SERVER.get(path).header("etag"), tag)
        self.assertEqual(SERVER.get(path, headers={"If-None-Match": tag}).status, 304)
        self.assertNotEqual(SERVER.get(path.replace("minutes=0", "minutes=5")).header("etag"), tag)
        heat = "/heatmaps/forecast/17/%d/%d.png?minutes=0" % (x, y)
        htag = SERVER.get(heat).header("etag")
        self.assertEqual(SERVER.get(heat, headers={"If-None-Match": htag}).status, 304)
        # the crowd moves on: the next forecast answers with new tiles
        mshtest.post_ok(SERVER, "positions", crowd("W", 300, 200, 290, speed=1.2), TOK["feed"])
        refresh()
        b = SERVER.get(path, headers={"If-None-Match": tag})
        self.assertEqual(b.status, 200)
        self.assertNotEqual(b.header("etag"), tag)
        self.assertNotEqual(SERVER.get(heat, headers={"If-None-Match": htag}).status, 304)
        tj = SERVER.json("/tiles/forecast.json?minutes=20")
        self.assertTrue(tj["tiles"][0].endswith("/tiles/forecast/{z}/{x}/{y}.mvt?minutes=20"), tj["tiles"])
        self.assertEqual([v["id"] for v in tj["vector_layers"]], ["forecast"])
        self.assertEqual(set(tj["vector_layers"][0]["fields"]),
                         {"count", "density", "los", "p_e", "p_f", "minutes", "issued_at"})

    def test_c_heatmap_pixels_are_the_levels(self):
        legend = {lv["los"]: tuple(lv["rgba"]) for lv in SERVER.json("/heatmaps/density/legend")["levels"]}
        # a standing crowd packed into one 8.9 m cell (level F), a walking one thinner, 3 alone (hidden)
        packed = [{"id": "P-%d" % i, "lon": lon(600.5 + (i % 10) * 0.3), "lat": LAT + (i // 10) * 0.000003,
                   "time": now_ms(), "speed": 0} for i in range(200)]
        mshtest.post_ok(SERVER, "positions", packed, TOK["feed"])
        mshtest.post_ok(SERVER, "positions", crowd("W", 300, 0, 90, speed=1.2), TOK["feed"])
        mshtest.post_ok(SERVER, "positions", crowd("K", 3, 500, 501), TOK["feed"])
        refresh()
        z = 19
        seen = set()
        for minutes in (0, 10):
            doc = density("minutes=%d" % minutes)
            cells = cells_of(doc)
            # now: the packed cell at F; in 10 minutes the model has let it walk on with the street's flow
            # (a standing crowd in a one-way stream is that stream's queue), so only the levels' colours count
            self.assertTrue(cells, minutes)
            if minutes == 0:
                self.assertIn("F", {p["los"] for p in cells.values()})
            tiles = {}
            for (cx, cy), p in cells.items():
                tx, ty = cx >> (22 - z), cy >> (22 - z)
                if (tx, ty) not in tiles:
                    for mode in ("cells", "smooth"):
                        r = SERVER.get("/heatmaps/forecast/%d/%d/%d.png?minutes=%d&mode=%s" % (z, tx, ty, minutes, mode))
                        self.assertEqual((r.status, r.header("content-type")), (200, "image/png"), r.body[:200])
                        tiles[(tx, ty, mode)] = mshtest.decode_png(r.body)[2]
                    tiles[(tx, ty)] = True
                # the pixel at the cell's centre: 32 px a cell at z19, 256 px a tile
                px, py = (cx - (tx << (22 - z))) * 32 + 16, (cy - (ty << (22 - z))) * 32 + 16
                self.assertEqual(tiles[(tx, ty, "cells")][py][px], legend[p["los"]], (minutes, cx, cy, p))
                seen.add(p["los"])
            # the 3 alone are nobody on the picture (now: in 10 minutes the street's flow has reached their cell)
            if minutes:
                continue
            kx, ky = (int((lon(500.5) + 180) / 360 * (1 << 22)),
                      int((1 - math.asinh(math.tan(math.radians(LAT))) / math.pi) / 2 * (1 << 22)))
            self.assertNotIn((kx, ky), cells)
            r = SERVER.get("/heatmaps/forecast/%d/%d/%d.png?minutes=%d&mode=cells" % (z, kx >> 3, ky >> 3, minutes))
            rows = mshtest.decode_png(r.body)[2]
            self.assertEqual(rows[(ky & 7) * 32 + 16][(kx & 7) * 32 + 16][3], 0)
        self.assertIn("F", seen)
        self.assertGreaterEqual(len(seen), 2)
        # the packed cell in smooth mode too: a lone cell keeps its own colour at its centre
        f = [k for k, p in cells_of(density("minutes=0")).items() if p["los"] == "F"][0]
        r = SERVER.get("/heatmaps/forecast/%d/%d/%d.png?minutes=0" % (z, f[0] >> 3, f[1] >> 3))
        self.assertEqual(mshtest.decode_png(r.body)[2][(f[1] & 7) * 32 + 16][(f[0] & 7) * 32 + 16], legend["F"])
        for q in ("minutes=7", "minutes=10&radius=5", "minutes=10&mode=dots"):
            self.assertEqual(SERVER.get("/heatmaps/forecast/19/0/0.png?" + q).status, 400, q)

    def test_d_no_forecast_404(self):
        for path in ("/tiles/forecast/17/1/1.mvt?minutes=10", "/tiles/forecast.json", "/heatmaps/forecast/17/1/1.png"):
            r = OFF.get(path)
            self.assertEqual(r.status, 404, path)
            self.assertIn("no forecast", json.loads(r.body)["error"])


def setUpModule():
    global DB, DB_OFF, SERVER, OFF
    street = mshtest.work_path("fct_walkways.geojson")
    with open(street, "w") as f:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": "street", "width_m": 6.0},
             "geometry": {"type": "LineString", "coordinates": [[lon(0), LAT], [lon(1000), LAT]]}}]}, f)
    DB = mshtest.work_path("forecast_tiles.sqlite")
    DB_OFF = mshtest.work_path("forecast_tiles_off.sqlite")
    for db in (DB, DB_OFF):
        mshtest.import_layer(db, street, "walkways", check=0)
    for role, name in (("feed", "sensor"), ("admin", "root")):
        TOK[role] = mshtest.add_token(DB, role, name)
    SERVER = mshtest.Server(DB, "--test-clock", "--k-anon", "5", "--forecast-every", "3600").start()
    test_forecast.SERVER = SERVER  # its refresh() and density() ask this server
    OFF = mshtest.Server(DB_OFF, "--forecast-every", "0", name="serve_off").start()


def tearDownModule():
    mshtest.stop_servers(SERVER, OFF)


if __name__ == "__main__":
    mshtest.main()
