"""Heatmap tiles end to end: GET /heatmaps/density/... and /heatmaps/{layer}/... from a running
`mashaer serve`, decoded by mshtest.decode_png, a small PNG reader written on zlib (no imaging
library) that checks every chunk's CRC.

A known crowd is posted through /feeds/positions (300 people in one 8.9 m cell: Fruin F; 30: B;
20: A; 3: under k-anonymity) and each place's pixels must carry exactly the legend colour of its
level, transparent elsewhere. Seams: the four z16 tiles around a crowd on their common corner,
stitched, must equal the z15 @2x tile pixel for pixel (same pixel grid, same cell level), for the
density and for a kernel heatmap. Kernel: one incident gives a symmetric blob peaking at the point,
ending at the radius; a new incident changes the ETag and the picture. Bad input: 400 / 404 with
the reason. Expected values are computed here from what was posted, never read from the server.
"""

import json
import math
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402

EARTH_C = 40075016.685578488
TOKENS = {}
SERVER = None
K_ANON = 5

# ---------------------------------------------------------------------------
# geometry


def to_world(lon, lat):
    return (lon + 180.0) / 360.0, (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0


def from_world(wx, wy):
    return wx * 360.0 - 180.0, math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * wy))))


def cell_center(cx, cy, level=22):
    n = float(1 << level)
    return from_world((cx + 0.5) / n, (cy + 0.5) / n)


def cell_density(count, cy, level=22):
    lat = cell_center(0, cy, level)[1]
    side = EARTH_C * math.cos(math.radians(lat)) / (1 << level)
    return count / (side * side)


def fruin(d):
    for limit, letter in ((0.31, "A"), (0.43, "B"), (0.72, "C"), (1.08, "D")):
        if d < limit:
            return letter
    return "E" if d <= 2.15 else "F"


def pixel_of(wx, wy, z, x, y, size=256):
    """The pixel (column, row) of tile (z, x, y) holding world point (wx, wy)."""
    n = (1 << z) * size
    return int(math.floor(wx * n - x * size)), int(math.floor(wy * n - y * size))


def metres_per_pixel(lat, z, size=256):
    return EARTH_C * math.cos(math.radians(lat)) / ((1 << z) * size)

# ---------------------------------------------------------------------------
# server


def setUpModule():
    global SERVER
    db = mshtest.work_path("heat.sqlite")
    mshtest.import_layer(db, mshtest.demo_path("sites.geojson"), "sites")
    mshtest.import_layer(db, mshtest.demo_path("assets.geojson"), "assets")
    for role in ("feed", "ops"):
        p = mshtest.run_mashaer("token", "add", "--db", db, "--role", role, "--name", "heat-" + role, check=0)
        TOKENS[role] = p.stdout.splitlines()[0].strip()
    SERVER = mshtest.Server(db, "--threads", "4", "--k-anon", str(K_ANON), name="heat").start()


def tearDownModule():
    rc = SERVER.stop()
    if rc != 0:
        raise AssertionError("mashaer serve exited %s; stderr:\n%s" % (rc, SERVER.stderr()))


def iso_now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def crowd(prefix, cx, cy, count):
    """`count` people spread inside base cell (cx, cy), never on its edges."""
    n = float(1 << 22)
    t = iso_now()
    recs = []
    for i in range(count):
        fx = 0.1 + 0.8 * ((i * 0.618034) % 1.0)
        fy = 0.1 + 0.8 * ((i * 0.414214) % 1.0)
        lon, lat = from_world((cx + fx) / n, (cy + fy) / n)
        recs.append({"id": "%s-%d" % (prefix, i), "lon": lon, "lat": lat, "time": t, "speed": 0.5, "heading": 90})
    mshtest.post_ok(SERVER, "positions", recs, TOKENS["feed"])


def base_cell(k):
    """A base cell near Makkah, well inside its z16 tile, about 2 km apart for each k."""
    wx, wy = to_world(39.70 + 0.02 * k, 21.40)
    x16, y16 = int(wx * 65536), int(wy * 65536)
    return x16 * 64 + 20, y16 * 64 + 20


def get_png(path, headers=None):
    r = SERVER.get(path, headers=headers)
    if r.status != 200:
        raise AssertionError("GET %s: %d %r" % (path, r.status, r.body[:300]))
    assert r.header("content-type") == "image/png", r.headers
    return r, mshtest.decode_png(r.body)


def legend():
    return {lv["los"]: tuple(lv["rgba"]) for lv in SERVER.json("/heatmaps/density/legend")["levels"]}


class Density(unittest.TestCase):
    def test_levels_colours_and_k_anonymity(self):
        cx, cy = base_cell(0)
        places = [(cx, cy, 300), (cx + 8, cy, 30), (cx, cy + 8, 20), (cx + 8, cy + 8, 3)]
        for i, (x, y, n) in enumerate(places):
            crowd("LV%d" % i, x, y, n)
        colours = legend()
        expect = {300: "F", 30: "B", 20: "A"}
        for n, los in expect.items():
            self.assertEqual(fruin(cell_density(n, cy)), los)  # the test's own arithmetic agrees
        for z, size, suffix in ((16, 256, ""), (18, 256, ""), (17, 512, "@2x")):
            for mode in ("", "?mode=cells"):
                with self.subTest(z=z, size=size, mode=mode):
                    tx, ty = cx >> (22 - z), cy >> (22 - z)
                    _, (w, h, px) = get_png("/heatmaps/density/%d/%d/%d%s.png%s" % (z, tx, ty, suffix, mode))
                    self.assertEqual((w, h), (size, size))
                    per = size >> (22 - z) if z <= 22 else size  # pixels per base cell
                    seen = set()
                    for (x, y, n) in places:
                        # the pixels around the cell's centre, and every pixel of the cell in cells mode
                        c0 = (x - (tx << (22 - z))) * per, (y - (ty << (22 - z))) * per
                        pts = [(c0[0] + per // 2 - 1, c0[1] + per // 2 - 1), (c0[0] + per // 2, c0[1] + per // 2)]
                        if mode:
                            pts += [(c0[0], c0[1]), (c0[0] + per - 1, c0[1] + per - 1)]
                        for (pxl, pyl) in pts:
                            got = px[pyl][pxl]
                            want = colours[expect[n]] if n in expect else (0, 0, 0, 0)
                            self.assertEqual(got, want, "cell with %d people, pixel %d,%d" % (n, pxl, pyl))
                            seen.add(got)
                    # nobody between and around the crowds: transparent
                    for (pxl, pyl) in ((0, 0), (size - 1, size - 1), (size // 8, size - 1)):
                        self.assertEqual(px[pyl][pxl][3], 0)
                    self.assertGreaterEqual(len(seen), 4)
                    # every opaque pixel has a legend colour
                    legal = set(colours.values()) | {(0, 0, 0, 0)}
                    self.assertTrue(all(p in legal for row in px for p in row))

    def test_no_seam_at_a_tile_corner(self):
        wx, wy = to_world(39.70 + 0.02 * 3, 21.40)
        x15, y15 = int(wx * 32768), int(wy * 32768)
        ccx, ccy = (2 * x15 + 1) * 64, (2 * y15 + 1) * 64  # the base cell just south-east of the corner
        # a crowd on all four sides of the corner, densities falling away from it
        k = 0
        for dx in range(-4, 4):
            for dy in range(-4, 4):
                n = max(0, 320 - 45 * (abs(dx + 0.5) + abs(dy + 0.5)))
                if n >= K_ANON:
                    crowd("SEAM%d" % k, ccx + dx, ccy + dy, int(n))
                    k += 1
        self.compare_stitched("/heatmaps/density/%d/%d/%d%s.png", x15, y15, "")
        self.compare_stitched("/heatmaps/density/%d/%d/%d%s.png", x15, y15, "?mode=cells")

    def compare_stitched(self, pattern, x15, y15, query):
        quads = {}
        for i in (0, 1):
            for j in (0, 1):
                _, (w, h, px) = get_png(pattern % (16, 2 * x15 + i, 2 * y15 + j, "") + query)
                quads[i, j] = px
        _, (w2, h2, big) = get_png(pattern % (15, x15, y15, "@2x") + query)
        self.assertEqual((w2, h2), (512, 512))
        stitched = [quads[0, j][y] + quads[1, j][y] for j in (0, 1) for y in range(256)]
        mism = [(x, y) for y in range(512) for x in range(512) if stitched[y][x] != big[y][x]]
        self.assertEqual(mism[:10], [], "%d pixels differ" % len(mism))
        # and the picture is not empty on either side of both seams
        for (x, y) in ((255, 250), (256, 250), (250, 255), (250, 256), (255, 255), (256, 256)):
            self.assertGreater(stitched[y][x][3], 0, (x, y))

    def test_etag_and_cache_follow_the_crowd(self):
        cx, cy = base_cell(5)
        crowd("ET", cx, cy, 40)
        path = "/heatmaps/density/17/%d/%d.png" % (cx >> 5, cy >> 5)
        r1, (_, _, p1) = get_png(path)
        e1 = r1.header("etag")
        self.assertTrue(e1)
        self.assertIn("max-age=2", r1.header("cache-control"))
        self.assertEqual(SERVER.get(path, headers={"If-None-Match": e1}).status, 304)
        r1b = SERVER.get(path)
        self.assertEqual((r1b.header("etag"), r1b.body), (e1, r1.body))  # same data: same bytes (cached)
        crowd("ET2", cx, cy, 300)  # the cell becomes F
        r2, (_, _, p2) = get_png(path, headers={"If-None-Match": e1})
        self.assertNotEqual(r2.header("etag"), e1)
        self.assertNotEqual(p1, p2)

    def test_legend(self):
        doc = SERVER.json("/heatmaps/density/legend")
        lv = doc["levels"]
        self.assertEqual([x["los"] for x in lv], list("ABCDEF"))
        self.assertEqual([(x["min"], x["max"]) for x in lv],
                         [(0, 0.31), (0.31, 0.43), (0.43, 0.72), (0.72, 1.08), (1.08, 2.15), (2.15, None)])
        self.assertIn("Fruin", doc["source"])
        self.assertTrue(all(re.fullmatch(r"#[0-9a-f]{6}", x["colour"]) and x["label"]["ar"] for x in lv))
        r = SERVER.get("/heatmaps/density/legend")
        self.assertEqual(SERVER.get("/heatmaps/density/legend", headers={"If-None-Match": r.header("etag")}).status, 304)
        for path in ("/heatmaps/density/legend.png", "/heatmaps/density/legend?f=png"):
            r, (w, h, px) = get_png(path)
            self.assertEqual(SERVER.get(path, headers={"If-None-Match": r.header("etag")}).status, 304)
            self.assertGreater(w, 200)
            # each level's swatch colour (over the legend's white) appears in the picture
            flat = set(p[:3] for row in px for p in row)
            for x in lv:
                r, g, b, a = x["rgba"]
                over = tuple(round((c * a + 255 * (255 - a)) / 255) for c in (r, g, b))
                self.assertTrue(any(all(abs(o - q) <= 3 for o, q in zip(over, f)) for f in flat), (x["los"], over))


class Kernel(unittest.TestCase):
    def test_single_point_blob(self):
        z = 17
        wx, wy = to_world(39.70 + 0.02 * 6, 21.40)
        tx, ty = int(wx * (1 << z)), int(wy * (1 << z))
        n = (1 << z) * 256
        # the point on a pixel centre in the middle of the tile
        pwx, pwy = (tx * 256 + 128.5) / n, (ty * 256 + 128.5) / n
        lon, lat = from_world(pwx, pwy)
        mshtest.post_ok(SERVER, "incidents", [{"id": "KDE-1", "lon": lon, "lat": lat, "kind": "medical",
                                               "severity": "high", "status": "reported", "time": iso_now()}],
                        TOKENS["feed"])
        radius = 40.0
        rp = radius / metres_per_pixel(lat, z)
        _, (w, h, px) = get_png("/heatmaps/incidents/%d/%d/%d.png?radius=%g&max=1" % (z, tx, ty, radius))
        alpha = [[p[3] for p in row] for row in px]
        self.assertEqual(px[128][128], (253, 231, 37, 230))  # the top of the ramp at the point (t = 1)
        peak = max(max(r) for r in alpha)
        self.assertEqual(alpha[128][128], peak)
        for d in range(1, int(rp) + 3):
            vals = {alpha[128][128 + d], alpha[128][128 - d], alpha[128 + d][128], alpha[128 - d][128]}
            self.assertEqual(len(vals), 1, "not symmetric at %d px: %s" % (d, vals))
            if d <= rp - 1:
                self.assertGreater(alpha[128][128 + d], 0, d)
            if d >= rp + 1:
                self.assertEqual(alpha[128][128 + d], 0, d)
            if d > 1:
                self.assertLessEqual(alpha[128][128 + d], alpha[128][128 + d - 1])
        for y in range(h):
            for x in range(w):
                if math.hypot(x - 128, y - 128) > rp + 1:
                    self.assertEqual(alpha[y][x], 0, (x, y))

    def test_new_incident_changes_etag_and_picture(self):
        z = 16
        wx, wy = to_world(39.70 + 0.02 * 7, 21.40)
        tx, ty = int(wx * (1 << z)), int(wy * (1 << z))
        lon, lat = from_world((tx + 0.3) / (1 << z), (ty + 0.3) / (1 << z))
        mshtest.post_ok(SERVER, "incidents", [{"id": "KDE-E1", "lon": lon, "lat": lat, "kind": "fire",
                                               "severity": "high", "status": "reported", "time": iso_now()}],
                        TOKENS["feed"])
        path = "/heatmaps/incidents/%d/%d/%d.png?radius=60" % (z, tx, ty)
        r1, (_, _, p1) = get_png(path)
        e1 = r1.header("etag")
        self.assertEqual(SERVER.get(path, headers={"If-None-Match": e1}).status, 304)
        lon2, lat2 = from_world((tx + 0.7) / (1 << z), (ty + 0.7) / (1 << z))
        mshtest.post_ok(SERVER, "incidents", [{"id": "KDE-E2", "lon": lon2, "lat": lat2, "kind": "fire",
                                               "severity": "high", "status": "reported", "time": iso_now()}],
                        TOKENS["feed"])
        r2, (_, _, p2) = get_png(path, headers={"If-None-Match": e1})
        self.assertNotEqual(r2.header("etag"), e1)
        x2, y2 = pixel_of(*to_world(lon2, lat2), z, tx, ty)
        self.assertEqual(p1[y2][x2][3], 0)
        self.assertGreater(p2[y2][x2][3], 0)
        # an incident just outside the tile, within the radius, reaches in (no seam at the edge)
        lon3, lat3 = from_world((tx + 1.02) / (1 << z), (ty + 0.5) / (1 << z))
        mshtest.post_ok(SERVER, "incidents", [{"id": "KDE-E3", "lon": lon3, "lat": lat3, "kind": "fire",
                                               "severity": "high", "status": "reported", "time": iso_now()}],
                        TOKENS["feed"])
        _, (_, _, p3) = get_png(path)
        self.assertGreater(p3[128][255][3], 0)

    def test_no_seam_kernel(self):
        wx, wy = to_world(39.70 + 0.02 * 8, 21.40)
        x15, y15 = int(wx * 32768), int(wy * 32768)
        cwx, cwy = (x15 + 0.5) / 32768, (y15 + 0.5) / 32768
        recs = []
        for i, (dx, dy) in enumerate(((0.1, 0.2), (-9.3, 4.1), (12.7, -6.6), (-3.3, -14.2))):
            lon, lat = from_world(cwx + dx / (256 * 65536), cwy + dy / (256 * 65536))
            recs.append({"id": "SEAMK-%d" % i, "lon": lon, "lat": lat, "kind": "medical", "severity": "low",
                         "status": "reported", "time": iso_now()})
        mshtest.post_ok(SERVER, "incidents", recs, TOKENS["feed"])
        Density.compare_stitched(self, "/heatmaps/incidents/%d/%d/%d%s.png", x15, y15, "?radius=45&max=2")

    def test_static_layer_weight_and_filter(self):
        # the toilets of the demo, weighted by capacity, over the Haram
        lon, lat = 39.8262, 21.4225
        z = 15
        tx, ty = mshtest.lonlat_to_tile(lon, lat, z)
        base = "/heatmaps/assets/%d/%d/%d.png" % (z, tx, ty)
        r_all, (_, _, all_px) = get_png(base + "?radius=80")
        self.assertIn("max-age", r_all.header("cache-control"))
        r_t, (_, _, toilets) = get_png(base + "?radius=80&filter=" + urllib.parse.quote("kind='toilet'"))
        r_w, (_, _, weighted) = get_png(base + "?radius=80&weight=capacity&max=200&filter=" +
                                        urllib.parse.quote("kind='toilet'"))
        n_all = sum(p[3] > 0 for row in all_px for p in row)
        n_t = sum(p[3] > 0 for row in toilets for p in row)
        self.assertGreater(n_all, n_t)
        self.assertGreater(n_t, 0)
        self.assertEqual(n_t, sum(p[3] > 0 for row in weighted for p in row))  # same support, other values
        self.assertNotEqual(toilets, weighted)
        self.assertEqual(len({r_all.header("etag"), r_t.header("etag"), r_w.header("etag")}), 3)

    def test_bad_input(self):
        cases = [
            ("/heatmaps/nosuch/15/1/1.png", 404, "unknown layer"),
            ("/heatmaps/sites/15/1/1.png", 400, "point layers"),
            ("/heatmaps/assets/15/1/1.png?radius=0", 400, "radius"),
            ("/heatmaps/assets/15/1/1.png?radius=abc", 400, "radius"),
            ("/heatmaps/assets/15/1/1.png?radius=5000", 400, "radius"),
            ("/heatmaps/assets/15/1/1.png?max=-1", 400, "max"),
            ("/heatmaps/assets/15/1/1.png?weight=kind", 400, "numeric"),
            ("/heatmaps/assets/15/1/1.png?weight=nope", 400, "numeric"),
            ("/heatmaps/assets/15/1/1.png?filter=nosuch%3D1", 400, "nosuch"),
            ("/heatmaps/assets/15/1/1.png?radius=10&radius=20", 400, "more than once"),
            ("/heatmaps/assets/15/1/1.png?colour=red", 400, "unknown parameter"),
            ("/heatmaps/density/15/1/1.png?radius=10", 400, "unknown parameter"),
            ("/heatmaps/density/15/1/1.png?mode=blur", 400, "mode"),
            ("/heatmaps/assets/15/99999/1.png", 400, "x must be"),
            ("/heatmaps/assets/25/1/1.png", 400, "zoom"),
            ("/heatmaps/assets/15/1/1.jpg", 400, ".png"),
            ("/heatmaps/density/legend.svg", 400, "legend"),
            ("/heatmaps/positions/15/1/1.png", 401, "token"),
            # 2 km kernels over the ~2,700 assets of Mina at z18 @2x: about 700 million pixel sums
            ("/heatmaps/assets/18/%d/%d@2x.png?radius=2000" % mshtest.lonlat_to_tile(39.8933, 21.4133, 18), 413,
             "smaller radius"),
        ]
        for path, status, words in cases:
            with self.subTest(path=path):
                r = SERVER.get(path)
                self.assertEqual(r.status, status, r.body)
                self.assertIn(words, json.loads(r.body)["error"])


if __name__ == "__main__":
    mshtest.main()
