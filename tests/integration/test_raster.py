#!/usr/bin/env python3
"""Raster tiles from MapLibre styles: golden images, pixels checked by value, seams, @2x, cache keys.

The server renders tests/golden/raster/golden.json (every layer type: background, fill, line with
dashes, circle, heatmap, symbol text in Arabic and English, sprite icons) over the demo site.
Each golden tile is compared with tests/golden/raster/{name}.png with a small tolerance: at most
1% of pixels may differ by more than 48 (of 255) in a channel, and the mean difference must stay
under 2. The goldens were made by the renderer itself and checked by eye; MSH_UPDATE_GOLDEN=1
writes them again. Pixels are also checked by value against the style: the background colour
away from data, the camp fill colour (interpolated by capacity) inside camps, the walkway colour
on walkways, the label colour around camp labels.
PNGs are decoded with zlib by mshtest.decode_png (filters 0-4, RGB and RGBA).
"""

import json
import math
import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from osgeo import ogr  # noqa: E402

SERVER = None
DB = None
GOLDEN_DIR = None
UPDATE = os.environ.get("MSH_UPDATE_GOLDEN") == "1"

MINA = (39.8926, 21.4134)
JAMARAT = (39.8727, 21.4215)
BACKGROUND = (0xEF, 0xE6, 0xD2)
WALKWAY = (0x55, 0x55, 0x55)
CAMP_TEXT = (0x5A, 0x3D, 0x12)


def setUpModule():
    global SERVER, DB, GOLDEN_DIR
    GOLDEN_DIR = os.path.join(mshtest.CONFIG.source_dir, "tests", "golden", "raster")
    DB = mshtest.work_path("raster.sqlite")
    mshtest.import_demo(DB)
    styles = mshtest.work_path("styles")
    os.makedirs(styles)
    shutil.copy(os.path.join(GOLDEN_DIR, "golden.json"), os.path.join(styles, "golden.json"))
    shutil.copy(os.path.join(mshtest.CONFIG.source_dir, "styles", "operations.json"),
                os.path.join(styles, "operations.json"))
    with open(os.path.join(styles, "broken.json"), "w") as f:
        f.write('{"version": 8,\n "layers": [\n  {"id": "bg", "type": "background"},\n'
                '  {"id": "zones", "type": "fill", "source-layer": "service_zones",\n'
                '   "paint": {"fill-color": ["interpolate", ["linear"], ["get", "x"], 5, "#000", 1, "#fff"]}}\n ]\n}\n')
    with open(os.path.join(styles, "badjson.json"), "w") as f:
        f.write('{"version": 8,\n "layers": [\n  {"id": "bg" "type": "background"}\n ]\n}\n')
    with open(os.path.join(styles, "partial.json"), "w") as f:
        f.write(json.dumps({"version": 8, "layers": [
            {"id": "bg", "type": "background", "paint": {"background-color": "#102030"}},
            {"id": "hill", "type": "hillshade", "source": "dem"},
            {"id": "camps", "type": "fill", "source-layer": "camps",
             "paint": {"fill-color": "#ff0000", "fill-pattern": "stripes", "fill-translate": [1, 1]}},
        ]}, indent=1))
    SERVER = mshtest.Server(DB, "--threads", "4", "--no-live", "--styles", styles, "--reload-ms", "200").start()


def tearDownModule():
    if SERVER:
        rc = SERVER.stop()
        if rc != 0:
            raise AssertionError("mashaer serve exited %s; stderr:\n%s" % (rc, SERVER.stderr()))


# ---------------------------------------------------------------------------
# pixels


decode_png = mshtest.decode_png


def diff(a, b):
    return max(abs(a[i] - b[i]) for i in range(3))


def compare(img, ref):
    """(fraction of pixels differing by more than 48 in a channel, mean channel difference)."""
    wa, ha, ra = img
    wb, hb, rb = ref
    assert (wa, ha) == (wb, hb), ((wa, ha), (wb, hb))
    big, total = 0, 0
    for y in range(ha):
        for x in range(wa):
            p, q = ra[y][x], rb[y][x]
            d = max(abs(p[i] - q[i]) for i in range(4))
            total += sum(abs(p[i] - q[i]) for i in range(4)) / 4
            if d > 48:
                big += 1
    return big / (wa * ha), total / (wa * ha)


# ---------------------------------------------------------------------------
# tiles and geometry


def tile_of(lonlat, z):
    return mshtest.lonlat_to_tile(lonlat[0], lonlat[1], z)


def png(path, status=200):
    r = SERVER.get(path)
    if r.status != status:
        raise AssertionError("GET %s: %d %r" % (path, r.status, r.body[:300]))
    return r


def tile_png(style, z, x, y, suffix=".png"):
    r = png("/styles/%s/%d/%d/%d%s" % (style, z, x, y, suffix))
    assert r.header("content-type") == "image/png", r.headers
    return decode_png(r.body)


def lonlat_px(lon, lat, z, x, y, size=256):
    """Pixel of lon/lat in tile z/x/y."""
    n = 2 ** z
    wx = (lon + 180) / 360 * n
    wy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return (wx - x) * size, (wy - y) * size


def layer_features(name):
    ds = ogr.Open(mshtest.demo_path(name + ".geojson"))
    lyr = ds.GetLayer(0)
    out = []
    for f in lyr:
        out.append((f.GetGeometryRef().Clone(), f.items()))
    return out


def px_geom(g, z, x, y):
    """A copy of g (lon/lat) in the pixel space of tile z/x/y (y down)."""
    g = g.Clone()
    pts = []

    def walk(geom):
        if geom.GetGeometryCount():
            for i in range(geom.GetGeometryCount()):
                walk(geom.GetGeometryRef(i))
        else:
            for i in range(geom.GetPointCount()):
                lon, lat = geom.GetX(i), geom.GetY(i)
                px, py = lonlat_px(lon, lat, z, x, y)
                geom.SetPoint_2D(i, px, py)
                pts.append((px, py))
    walk(g)
    return g


def camp_colour(capacity):
    stops = [(1800, (0xF6, 0xEA, 0xD2)), (6000, (0xE9, 0xCF, 0x9F)), (15000, (0xD4, 0xA9, 0x5E))]
    if capacity <= stops[0][0]:
        return stops[0][1]
    for (a, ca), (b, cb) in zip(stops, stops[1:]):
        if capacity <= b:
            t = (capacity - a) / (b - a)
            return tuple(ca[i] + (cb[i] - ca[i]) * t for i in range(3))
    return stops[-1][1]


# ---------------------------------------------------------------------------


class GoldenTiles(unittest.TestCase):
    """Request in, expected PNG out, for every layer type and for Arabic labels."""

    def check_golden(self, name, path):
        r = png(path)
        img = decode_png(r.body)
        ref_path = os.path.join(GOLDEN_DIR, name + ".png")
        if UPDATE or not os.path.exists(ref_path):
            if not UPDATE:
                self.fail("no golden image %s (run with MSH_UPDATE_GOLDEN=1 and look at it)" % ref_path)
            with open(ref_path, "wb") as f:
                f.write(r.body)
            return img
        with open(ref_path, "rb") as f:
            ref = decode_png(f.read())
        frac, mean = compare(img, ref)
        mshtest.note("%s: %.3f%% of pixels differ, mean difference %.2f" % (name, 100 * frac, mean))
        self.assertLess(frac, 0.01, "%s differs from its golden image in %.2f%% of pixels" % (name, 100 * frac))
        self.assertLess(mean, 2.0, "%s: mean difference %.2f" % (name, mean))
        return img

    def test_goldens(self):
        cases = [
            ("mina_z13_heatmap", 13, MINA, ".png"),       # heatmap, fills, lines, site labels
            ("mina_z15", 15, MINA, ".png"),               # circles, dashes, zone labels (Arabic + English)
            ("mina_z17", 17, MINA, ".png"),               # icons, camp labels
            ("jamarat_z16", 16, JAMARAT, ".png"),         # walkways, assets, the Jamarat site
            ("mina_z16_2x", 16, MINA, "@2x.png"),         # 512 px
        ]
        for name, z, where, suffix in cases:
            with self.subTest(name=name):
                x, y = tile_of(where, z)
                self.check_golden(name, "/styles/golden/%d/%d/%d%s" % (z, x, y, suffix))
        x, y = tile_of(MINA, 15)
        self.check_golden("default_camps_walkways_assets_z15", "/tiles/camps,site_walkways,assets/15/%d/%d.png" % (x, y))

    def test_background_away_from_data(self):
        x, y = tile_of((10.0, 50.0), 15)  # Europe: no data at all
        w, h, rows = tile_png("golden", 15, x, y)
        self.assertEqual((w, h), (256, 256))
        colours = {p for row in rows for p in row}
        self.assertEqual(colours, {BACKGROUND + (255,)})
        # the layers' own style has a transparent background: an empty tile is fully transparent
        r = png("/tiles/camps/15/%d/%d.png" % (x, y))
        _, _, rows = decode_png(r.body)
        self.assertEqual({p[3] for row in rows for p in row}, {0})

    def test_camp_fill_and_walkway_pixels(self):
        z = 17
        x, y = tile_of(MINA, z)
        _, _, rows = tile_png("golden", z, x, y)
        assets = [px_geom(g, z, x, y) for g, _ in layer_features("assets")]
        assets = [(a.GetX(), a.GetY()) for a in assets if -30 < a.GetX() < 286 and -30 < a.GetY() < 286]
        lines = []
        for g, props in layer_features("site_walkways"):
            if props.get("kind") != "connector":
                pg = px_geom(g, z, x, y)
                env = pg.GetEnvelope()
                if env[1] > -10 and env[0] < 266 and env[3] > -10 and env[2] < 266:
                    lines.append(pg)
        routes = [px_geom(g, z, x, y) for g, _ in layer_features("cleaning_routes")]
        checked, good = 0, 0
        for g, props in layer_features("camps"):
            pg = px_geom(g, z, x, y)
            env = pg.GetEnvelope()
            if env[1] < 0 or env[0] > 256 or env[3] < 0 or env[2] > 256:
                continue
            want = camp_colour(props["capacity"])
            inner = pg.Buffer(-5)
            for py in range(4, 252, 9):
                for px in range(4, 252, 9):
                    pt = ogr.Geometry(ogr.wkbPoint)
                    pt.AddPoint_2D(px + 0.5, py + 0.5)
                    if not inner.Contains(pt):
                        continue
                    if any(math.hypot(ax - px, ay - py) < 16 for ax, ay in assets):
                        continue
                    if any(r.Distance(pt) < 6 for r in routes) or any(ln.Distance(pt) < 6 for ln in lines):
                        continue
                    checked += 1
                    good += diff(rows[py][px], want) <= 2
        mshtest.note("camp interiors: %d of %d sampled pixels have the camp colour" % (good, checked))
        self.assertGreater(checked, 40)
        # labels and halos cover a few samples; everything else is exactly the style's colour
        self.assertGreater(good / checked, 0.85)

        # walkways: points every 10 px along the lines, away from the rest, have the line colour
        # (2.5 px wide at z17)
        checked, good = 0, 0
        for ln in lines:
            for i in range(ln.GetPointCount() - 1):
                ax, ay = ln.GetX(i), ln.GetY(i)
                bx, by = ln.GetX(i + 1), ln.GetY(i + 1)
                seg = math.hypot(bx - ax, by - ay)
                for k in range(1, int(seg // 10)):
                    t = k * 10 / seg
                    mx, my = ax + (bx - ax) * t, ay + (by - ay) * t
                    if not (3 <= mx < 253 and 3 <= my < 253):
                        continue
                    if any(math.hypot(px - mx, py - my) < 16 for px, py in assets):
                        continue
                    pt = ogr.Geometry(ogr.wkbPoint)
                    pt.AddPoint_2D(mx, my)
                    if any(r.Distance(pt) < 8 for r in routes):
                        continue
                    checked += 1
                    good += diff(rows[int(my)][int(mx)], WALKWAY) <= 40
        mshtest.note("walkways: %d of %d segment middles have the line colour" % (good, checked))
        self.assertGreater(checked, 8)
        self.assertGreater(good / checked, 0.8)

    def test_arabic_camp_labels(self):
        z = 17
        x, y = tile_of(MINA, z)
        _, _, rows = tile_png("golden", z, x, y)
        found = 0
        centres = 0
        for g, props in layer_features("camps"):
            c = g.Centroid()
            cx, cy = lonlat_px(c.GetX(), c.GetY(), z, x, y)
            if not (50 < cx < 206 and 30 < cy < 226):
                continue
            centres += 1
            text = 0
            for py in range(int(cy) - 20, int(cy) + 21):
                for px in range(int(cx) - 40, int(cx) + 41):
                    text += diff(rows[py][px], CAMP_TEXT) <= 40
            found += text > 40
        mshtest.note("camp labels: text pixels around %d of %d camps in the tile's middle" % (found, centres))
        self.assertGreater(centres, 0)
        self.assertEqual(found, centres)
        # the same tile without label layers has none of the label colour
        r = png("/tiles/camps,site_walkways/%d/%d/%d.png" % (z, x, y))
        _, _, plain = decode_png(r.body)
        self.assertFalse(any(diff(p, CAMP_TEXT) <= 20 for row in plain for p in row))

    def test_every_layer_type_draws(self):
        # the heatmap is there at z13 and gone from z14 (style maxzoom 13 = tile zoom 14)
        x, y = tile_of(MINA, 13)
        _, _, rows = tile_png("golden", 13, x, y)
        heat = sum(1 for row in rows for p in row if p[2] > p[0] + 60)  # the default ramp is blue to cyan
        self.assertGreater(heat, 200)
        x, y = tile_of(MINA, 15)
        _, _, rows = tile_png("golden", 15, x, y)
        toilets = sum(1 for row in rows for p in row if diff(p, (0x1F, 0x78, 0xB4)) <= 10)
        self.assertGreater(toilets, 50)  # circles
        dashes = sum(1 for row in rows for p in row if diff(p, (0x2A, 0x9D, 0x8F)) <= 12 or diff(p, (0xE7, 0x6F, 0x51)) <= 12
                     or diff(p, (0x3D, 0x34, 0x8B)) <= 12)
        self.assertGreater(dashes, 50)  # cleaning routes


class Seams(unittest.TestCase):
    def test_neighbours_stitch_without_seams(self):
        z, n = 16, 3
        x0, y0 = tile_of(MINA, z)
        x0, y0 = x0 - 1, y0 - 1
        size = 256 * n
        big = [[None] * size for _ in range(size)]
        for dx in range(n):
            for dy in range(n):
                rows = tile_png("golden", z, x0 + dx, y0 + dy)[2]
                for yy in range(256):
                    big[dy * 256 + yy][dx * 256:dx * 256 + 256] = rows[yy]

        def col_diff(a, b):
            return sum(diff(big[yy][a], big[yy][b]) for yy in range(size)) / size

        def row_diff(a, b):
            return sum(diff(big[a][xx], big[b][xx]) for xx in range(size)) / size
        # a seam is a step between the last row of one tile and the first of the next that stands
        # out from the steps between neighbouring rows inside the tiles (8 each side): above the
        # largest of them, and well above their median (a row of dots or a street may run along
        # the edge, so one inner step may be as large)
        for e in range(1, n):
            edge = 256 * e
            ks = [k for k in range(-9, 8) if k != -1]
            for name, step in (("column", col_diff), ("row", row_diff)):
                at = step(edge - 1, edge)
                inner = sorted(step(edge + k, edge + k + 1) for k in ks)
                med = inner[len(inner) // 2]
                mshtest.note("edge %d: %s step at the seam %.2f (inside: median %.2f, largest %.2f)"
                             % (e, name, at, med, inner[-1]))
                self.assertLess(at, inner[-1] + 2)
                self.assertLess(at, med * 2.5 + 2)
        # lines crossing the edges continue: every short run of walkway pixels along an edge (a line
        # crossing it; a long run is a line running along the edge, whose far side may rightly be
        # bare) has walkway pixels right across the edge, at least half covered (a line may end
        # within a pixel of the edge)
        cross, cont = 0, 0
        for e in range(1, n):
            a, b = 256 * e - 1, 256 * e
            for vertical in (True, False):
                def px(k, c):
                    return big[k][c] if vertical else big[c][k]
                k = 0
                while k < size:
                    if diff(px(k, a), WALKWAY) > 30:
                        k += 1
                        continue
                    end = k
                    while end < size and diff(px(end, a), WALKWAY) <= 30:
                        end += 1
                    if end - k <= 8:
                        cross += 1
                        cont += any(diff(px(i, b), WALKWAY) <= 90 for i in range(max(k - 1, 0), min(end + 1, size)))
                    k = end
        mshtest.note("walkways crossing tile edges: %d, continued across: %d" % (cross, cont))
        self.assertGreater(cross, 5)
        # not all: a circle or a label drawn over a walkway can sit on one side of an edge
        self.assertGreater(cont / cross, 0.8)

    def test_labels_are_decided_alike_on_both_sides(self):
        # a label cut by the edge is drawn by both neighbours: a text pixel at column 255 of the
        # left tile has text or its halo (rgba(255, 250, 240, 0.9): near white, bluer than any
        # camp fill) in the first columns of the right tile, in the same row
        z = 17
        x0, y0 = tile_of(MINA, z)
        hits, both = 0, 0
        for dx in range(-2, 3):
            left = tile_png("golden", z, x0 + dx, y0)[2]
            right = tile_png("golden", z, x0 + dx + 1, y0)[2]
            for yy in range(256):
                a = diff(left[yy][255], CAMP_TEXT) <= 30
                b = any(diff(right[yy][k], CAMP_TEXT) <= 130 or (right[yy][k][0] >= 244 and right[yy][k][0] - right[yy][k][2] <= 35)
                        for k in (0, 1, 2, 3))
                if a:
                    hits += 1
                    both += b
        mshtest.note("label pixels on a vertical edge: %d, continued across it: %d" % (hits, both))
        self.assertGreater(hits, 3)
        self.assertEqual(both, hits)


class Retina(unittest.TestCase):
    def test_2x_is_the_same_picture(self):
        for z, where in ((15, MINA), (17, MINA), (16, JAMARAT)):
            x, y = tile_of(where, z)
            w1, h1, one = tile_png("golden", z, x, y)
            w2, h2, two = tile_png("golden", z, x, y, "@2x.png")
            self.assertEqual((w1, h1, w2, h2), (256, 256, 512, 512))
            total, far = 0, 0
            for yy in range(256):
                for xx in range(256):
                    q = [two[2 * yy + i][2 * xx + j] for i in (0, 1) for j in (0, 1)]
                    avg = tuple(sum(p[c] for p in q) / 4 for c in range(3))
                    d = diff(one[yy][xx], avg)
                    total += d
                    far += d > 64
            mean = total / 65536
            mshtest.note("z%d @2x downsampled vs 1x: mean difference %.2f, %.2f%% far" % (z, mean, far / 655.36))
            self.assertLess(mean, 10)
            self.assertLess(far / 65536, 0.05)


class RenderCommand(unittest.TestCase):
    """`mashaer render` draws the same picture as the server, straight from the store."""

    def test_files_match_the_server(self):
        styles = mshtest.work_path("styles")
        out = mshtest.work_path("rendered")
        x, y = tile_of(MINA, 15)
        jx, jy = tile_of(JAMARAT, 16)
        for scale, suffix in ((1, ".png"), (2, "@2x.png")):
            p = mshtest.run_mashaer("render", "--db", DB, "--style", os.path.join(styles, "golden.json"),
                                    "--scale", scale, "--out", out, "15/%d/%d" % (x, y), "16/%d/%d" % (jx, jy),
                                    "--repeat", 3, check=0)
            rows = [line.split() for line in p.stdout.splitlines()[1:3]]
            self.assertEqual([r[0] for r in rows], ["15/%d/%d" % (x, y), "16/%d/%d" % (jx, jy)])
            for r in rows:
                self.assertGreater(int(r[1]), 50, "features drawn: %s" % r)  # the Mina and Jamarat tiles are full
            self.assertRegex(p.stdout, r"2 tiles: draw [0-9.]+ ms \+ png [0-9.]+ ms CPU")
            for z, tx, ty in ((15, x, y), (16, jx, jy)):
                with open(os.path.join(out, "%d-%d-%d%s" % (z, tx, ty, suffix)), "rb") as f:
                    mine = decode_png(f.read())
                served = tile_png("golden", z, tx, ty, suffix)
                self.assertEqual(mine[:2], served[:2])
                self.assertEqual(mine[2], served[2], "render and serve differ at %d/%d/%d%s" % (z, tx, ty, suffix))
                # not a blank picture: the walkway colour is drawn
                self.assertGreater(sum(1 for row in mine[2] for p in row if diff(p, WALKWAY) < 24), 50)

    def test_bbox_and_errors(self):
        styles = mshtest.work_path("styles")
        golden = os.path.join(styles, "golden.json")
        # every tile meeting a box, over a zoom range
        w, s_, e, n = 39.884, 21.409, 39.899, 21.418
        want = []
        for z in (14, 15, 16):
            x0, y0 = tile_of((w, n), z)
            x1, y1 = tile_of((e, s_), z)
            want += ["%d/%d/%d" % (z, tx, ty) for tx in range(x0, x1 + 1) for ty in range(y0, y1 + 1)]
        p = mshtest.run_mashaer("render", "--db", DB, "--style", golden, "--bbox", "%s,%s,%s,%s" % (w, s_, e, n),
                                "--zoom", "14-16", check=0)
        lines = p.stdout.splitlines()
        self.assertEqual(sorted(line.split()[0] for line in lines[1:-1]), sorted(want))
        self.assertGreater(len(want), 4)
        self.assertTrue(lines[-1].startswith("%d tiles: " % len(want)), lines[-1])
        for args, code, msg in (
                (["15/99999/1"], 2, "not a tile z/x/y"),
                (["15/1"], 2, "not a tile z/x/y"),
                (["--zoom", "9-3", "--bbox", "39,21,40,22"], 2, "--zoom wants"),
                (["--bbox", "40,21,39,22"], 2, "--bbox wants"),
                (["--bbox", "-180,-85,180,85", "--zoom", "12"], 2, "more than 100000 tiles"),
                (["--scale", "3", "15/1/1"], 2, "--scale is 1 or 2"),
                (["--repeat", "0", "15/1/1"], 2, "--repeat wants"),
                ([], 2, "no tiles"),
        ):
            p = mshtest.run_mashaer("render", "--db", DB, "--style", golden, *args)
            self.assertEqual(p.returncode, code, (args, p.stderr))
            self.assertIn(msg, p.stderr, args)
        p = mshtest.run_mashaer("render", "--db", DB, "--style", os.path.join(styles, "broken.json"), "15/1/1")
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"broken\.json:4: layer 'zones'")
        p = mshtest.run_mashaer("render", "--db", DB, "--style", mshtest.work_path("nosuch.json"), "15/1/1")
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot open", p.stderr)
        p = mshtest.run_mashaer("render", "--db", mshtest.work_path("nosuch.sqlite"), "--style", golden, "15/1/1")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        # a full disk: the file cannot be written (seen only when it is closed), said once, exit 1
        full = mshtest.work_path("full")
        os.makedirs(full, exist_ok=True)
        if os.path.exists("/dev/full"):
            os.symlink("/dev/full", os.path.join(full, "15-20015-14387.png"))
            p = mshtest.run_mashaer("render", "--db", DB, "--style", golden, "--out", full, "15/20015/14387")
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("cannot write", p.stderr)


def png_renders():
    body = SERVER.get("/metrics").body.decode()
    return {k: int(v) for k, v in (line.split() for line in body.splitlines()
                                   if line.startswith("mashaer_png_renders"))}


class LineLabels(unittest.TestCase):
    """symbol-placement line: the text follows the line, Arabic shaped and read right to left."""

    def render(self, placement, z, x, y):
        """The text pixels of tile z/x/y: red text of the trunk paths' Arabic names, nothing else."""
        style = {"version": 8, "sources": {"m": {"type": "vector", "url": "/tiles/site_walkways.json"}}, "layers": [
            {"id": "bg", "type": "background", "paint": {"background-color": "#ffffff"}},
            {"id": "names", "type": "symbol", "source": "m", "source-layer": "site_walkways",
             "filter": ["==", ["get", "kind"], "trunk"],
             "layout": {"symbol-placement": placement, "symbol-spacing": 200, "text-field": ["get", "name_ar"],
                        "text-font": ["Noto Sans Arabic Regular"], "text-size": 14},
             "paint": {"text-color": "#ff0000"}}]}
        path = mshtest.work_path("linelabels-%s.json" % placement)
        with open(path, "w") as f:
            json.dump(style, f)
        out = mshtest.work_path("linelabels-" + placement)
        mshtest.run_mashaer("render", "--db", DB, "--style", path, "--out", out, "%d/%d/%d" % (z, x, y), check=0)
        with open(os.path.join(out, "%d-%d-%d.png" % (z, x, y)), "rb") as f:
            rows = decode_png(f.read())[2]
        return [(xx + 0.5, yy + 0.5) for yy in range(256) for xx in range(256)
                if rows[yy][xx][0] > 150 and rows[yy][xx][1] < 110]

    @staticmethod
    def axis(pts):
        """Direction (degrees, 0..180) of the principal axis of a set of pixels."""
        n = len(pts)
        mx, my = sum(p[0] for p in pts) / n, sum(p[1] for p in pts) / n
        sxx = sum((p[0] - mx) ** 2 for p in pts)
        syy = sum((p[1] - my) ** 2 for p in pts)
        sxy = sum((p[0] - mx) * (p[1] - my) for p in pts)
        return math.degrees(0.5 * math.atan2(2 * sxy, sxx - syy)) % 180

    def test_text_follows_the_line(self):
        # a straight stretch of the Muzdalifah - Arafat pedestrian path, about 28 degrees below the
        # horizontal at z16: its direction from the data, not from the picture
        z, x, y = 16, 40044, 28784
        paths = [px_geom(g, z, x, y) for g, props in layer_features("site_walkways") if props["kind"] == "trunk"]
        best = None
        for g in paths:
            for i in range(g.GetPointCount() - 1):
                ax, ay, bx, by = g.GetX(i), g.GetY(i), g.GetX(i + 1), g.GetY(i + 1)
                mid_in = 0 <= (ax + bx) / 2 < 256 and 0 <= (ay + by) / 2 < 256
                if mid_in and (best is None or math.hypot(bx - ax, by - ay) > best[0]):
                    best = (math.hypot(bx - ax, by - ay), math.degrees(math.atan2(by - ay, bx - ax)) % 180)
        self.assertIsNotNone(best)
        along = self.render("line", z, x, y)
        mshtest.note("line placement: %d text pixels" % len(along))
        self.assertGreater(len(along), 300)
        # every text pixel lies on the path (text 14 px high, centred on the line)
        lines = ogr.Geometry(ogr.wkbMultiLineString)
        for g in paths:
            lines.AddGeometry(g)
        near = sum(1 for px, py in along if lines.Distance(ogr.CreateGeometryFromWkt("POINT (%f %f)" % (px, py))) <= 11)
        self.assertGreater(near / len(along), 0.97, "%d of %d text pixels near the path" % (near, len(along)))
        # and the text runs along it (not level, as a point label's would): the pixels' principal
        # axis is the path's direction
        got = self.axis(along)
        mshtest.note("path direction %.1f deg, text axis %.1f deg" % (best[1], got))
        self.assertGreater(best[1], 15)
        self.assertLess(abs(got - best[1]), 8)


class LineOffsets(unittest.TestCase):
    """line-offset moves a line to the right of its direction; line-gap-width draws it twice, either
    side of an empty gap."""

    def test_offset_and_gap(self):
        z, x, y = 16, 40044, 28784  # a straight stretch of the Muzdalifah - Arafat pedestrian path
        style = {"version": 8, "sources": {"m": {"type": "vector", "url": "/tiles/site_walkways.json"}}, "layers": [
            {"id": "bg", "type": "background", "paint": {"background-color": "#ffffff"}},
            {"id": "casing", "type": "line", "source": "m", "source-layer": "site_walkways",
             "filter": ["==", ["get", "kind"], "trunk"],
             "paint": {"line-color": "#0000ff", "line-width": 2, "line-gap-width": 8}},
            {"id": "right", "type": "line", "source": "m", "source-layer": "site_walkways",
             "filter": ["==", ["get", "kind"], "trunk"],
             "paint": {"line-color": "#ff0000", "line-width": 2, "line-offset": 12}},
            {"id": "left-dashed", "type": "line", "source": "m", "source-layer": "site_walkways",
             "filter": ["==", ["get", "kind"], "trunk"],
             "paint": {"line-color": "#00ff00", "line-width": 2, "line-offset": -12, "line-dasharray": [3, 2]}}]}
        path = mshtest.work_path("offsets.json")
        with open(path, "w") as f:
            json.dump(style, f)
        out = mshtest.work_path("offsets")
        mshtest.run_mashaer("render", "--db", DB, "--style", path, "--out", out, "%d/%d/%d" % (z, x, y), check=0)
        with open(os.path.join(out, "%d-%d-%d.png" % (z, x, y)), "rb") as f:
            rows = decode_png(f.read())[2]
        segs = []
        for g, props in layer_features("site_walkways"):
            if props["kind"] == "trunk":
                g = px_geom(g, z, x, y)
                segs += [(g.GetX(i), g.GetY(i), g.GetX(i + 1), g.GetY(i + 1)) for i in range(g.GetPointCount() - 1)]

        def signed(px, py):
            """Distance to the nearest path segment, positive on the right of its direction (y down)."""
            best = None
            for ax, ay, bx, by in segs:
                dx, dy = bx - ax, by - ay
                t = max(0, min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
                d = math.hypot(px - ax - t * dx, py - ay - t * dy)
                if best is None or d < abs(best):
                    best = d if dx * (py - ay) - dy * (px - ax) >= 0 else -d
            return best

        def pixels(colour):
            return [signed(xx + 0.5, yy + 0.5) for yy in range(256) for xx in range(256)
                    if all(abs(rows[yy][xx][i] - colour[i]) < 60 for i in range(3))]
        red, blue, green = pixels((255, 0, 0)), pixels((0, 0, 255)), pixels((0, 255, 0))
        med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
        mshtest.note("red %d px, median %.2f; green %d px, median %.2f; blue %d px, |d| median %.2f, nearest %.2f"
                     % (len(red), med(red), len(green), med(green), len(blue), med([abs(d) for d in blue]),
                        min(abs(d) for d in blue)))
        self.assertGreater(len(red), 200)
        self.assertLess(abs(med(red) - 12), 1)             # 12 px to the right
        self.assertTrue(all(9 < d < 15 for d in red))
        self.assertGreater(len(green), 100)
        self.assertLess(abs(med(green) + 12), 1)           # 12 px to the left, dashed
        self.assertLess(len(green), len(red) * 0.8)
        # the casing: two 2 px lines whose middles are (8 + 2) / 2 = 5 px either side, nothing inside
        self.assertLess(abs(med([abs(d) for d in blue]) - 5), 1)
        self.assertGreater(min(abs(d) for d in blue), 3)
        self.assertGreater(sum(1 for d in blue if d > 0), 100)
        self.assertGreater(sum(1 for d in blue if d < 0), 100)


class CachingAndErrors(unittest.TestCase):
    def test_each_tile_is_drawn_once_then_cached(self):
        before = png_renders()
        self.assertIn("mashaer_png_renders_queued_total", before)
        x, y = tile_of((39.9840, 21.3550), 18)  # Arafat at z18: no other test asks for it
        first = png("/styles/golden/18/%d/%d.png" % (x, y))
        self.assertEqual(png_renders()["mashaer_png_renders_total"], before["mashaer_png_renders_total"] + 1)
        again = png("/styles/golden/18/%d/%d.png" % (x, y))
        self.assertEqual(again.body, first.body)
        self.assertEqual(png_renders()["mashaer_png_renders_total"], before["mashaer_png_renders_total"] + 1)

    def test_etag_and_304(self):
        x, y = tile_of(MINA, 15)
        path = "/styles/golden/15/%d/%d@2x.png" % (x + 1, y)

        def counts():
            m = mshtest.parse_metrics(SERVER.get("/metrics").body.decode())
            return (mshtest.metric(m, "mashaer_tile_cache_hits_total"), mshtest.metric(m, "mashaer_tile_cache_misses_total"),
                    mshtest.metric(m, "mashaer_http_requests_total", endpoint="raster", code="200"))
        h0, m0, t0 = counts()
        png(path)
        h1, m1, t1 = counts()
        png(path)
        h2, m2, t2 = counts()
        # rendered once, then answered from the tile cache; counted with the tiles
        self.assertEqual((h1 - h0, m1 - m0, t1 - t0), (0, 1, 1))
        self.assertEqual((h2 - h1, m2 - m1, t2 - t1), (1, 0, 1))
        path = "/styles/golden/15/%d/%d.png" % (x, y)
        a = png(path)
        b = png(path)
        self.assertEqual(a.body, b.body)
        etag = a.header("etag")
        self.assertTrue(etag and etag.startswith('"'))
        self.assertIn("max-age", a.header("cache-control"))
        r = SERVER.get(path, headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304)
        r2 = png("/styles/golden/15/%d/%d@2x.png" % (x, y))
        self.assertNotEqual(r2.header("etag"), etag)
        self.assertNotEqual(png("/styles/operations/15/%d/%d.png" % (x, y)).header("etag"), etag)

    def test_data_change_makes_stale_pngs_unreachable(self):
        z = 17
        x, y = tile_of(MINA, z)
        path = "/styles/golden/%d/%d/%d.png" % (z, x, y)
        before = png(path)
        # every camp to 15000 places: the camp colour becomes #d4a95e
        with open(mshtest.demo_path("camps.geojson")) as f:
            fc = json.load(f)
        for feat in fc["features"]:
            feat["properties"]["capacity"] = 15000
        src = mshtest.work_path("camps_full.geojson")
        with open(src, "w") as f:
            json.dump(fc, f)
        try:
            mshtest.import_layer(DB, src, "camps")

            def redrawn():
                r = png(path)
                return r if r.header("etag") != before.header("etag") else None
            after = mshtest.wait_for(redrawn, 30, "the picture of the re-imported camps (a new ETag)", interval=0.1)
            self.assertNotEqual(after.header("etag"), before.header("etag"))
            _, _, rows = decode_png(after.body)
            full = sum(1 for row in rows for p in row if diff(p, (0xD4, 0xA9, 0x5E)) <= 2)
            _, _, old = decode_png(before.body)
            full_before = sum(1 for row in old for p in row if diff(p, (0xD4, 0xA9, 0x5E)) <= 2)
            mshtest.note("camp colour #d4a95e: %d pixels before, %d after" % (full_before, full))
            self.assertGreater(full, 10000)
            self.assertLess(full_before, 1000)
        finally:
            mshtest.import_layer(DB, mshtest.demo_path("camps.geojson"), "camps")
            deadline = time.time() + 10
            while time.time() < deadline and png(path).body != before.body:
                time.sleep(0.1)
        # the data is as before (under a new version, so a new ETag): so is the picture
        restored = png(path)
        self.assertEqual(restored.body, before.body)
        self.assertNotEqual(restored.header("etag"), before.header("etag"))

    def test_bad_requests(self):
        self.assertEqual(SERVER.get("/styles/nosuch/15/1/1.png").status, 404)
        self.assertEqual(SERVER.get("/styles/golden/15/1/1.jpg").status, 400)
        self.assertEqual(SERVER.get("/styles/golden/15/40000/1.png").status, 400)
        self.assertEqual(SERVER.get("/styles/golden/25/1/1.png").status, 400)
        self.assertEqual(SERVER.get("/styles/golden/15/01/1.png").status, 400)
        self.assertEqual(SERVER.get("/styles/golden/15/1/1@3x.png").status, 400)
        self.assertEqual(SERVER.get("/tiles/nosuch/15/1/1.png").status, 404)
        self.assertEqual(SERVER.get("/tiles/camps/15/1/1.gif").status, 400)
        # the style JSON is still served as before
        self.assertEqual(SERVER.get("/styles/golden.json").status, 200)

    def test_malformed_styles_are_rejected_with_file_line_and_reason(self):
        err = SERVER.stderr()
        self.assertRegex(err, r"raster style broken rejected: \S*broken\.json:4: layer 'zones', fill-color: "
                              r"interpolate stops must be in strictly ascending order")
        self.assertRegex(err, r"raster style badjson rejected: \S*badjson\.json:3:\d+: ")
        r = SERVER.get("/styles/broken/15/1/1.png")
        self.assertEqual(r.status, 500)
        self.assertIn("broken.json:4", r.json()["error"])

    def test_unsupported_properties_are_named_at_start(self):
        err = SERVER.stderr()
        self.assertIn("layer 'hill': layer type 'hillshade' is not supported", err)
        self.assertIn("paint property 'fill-pattern' is not supported, ignored", err)
        self.assertIn("paint property 'fill-translate' is not supported, ignored", err)
        self.assertNotIn("raster style operations rejected", err)
        self.assertNotIn("raster style golden", err)  # the golden style draws without a warning
        # the partial style still draws what it knows: red camps on a dark background
        z = 17
        x, y = tile_of(MINA, z)
        _, _, rows = tile_png("partial", z, x, y)
        reds = sum(1 for row in rows for p in row if diff(p, (255, 0, 0)) <= 2)
        darks = sum(1 for row in rows for p in row if diff(p, (0x10, 0x20, 0x30)) <= 2)
        self.assertGreater(reds, 5000)
        self.assertGreater(darks, 1000)


class LiveLayers(unittest.TestCase):
    """The operations style reads live layers: a crowd posted under one tile changes that PNG at once
    (its ETag carries the live region version) and leaves a tile elsewhere as it was."""

    @classmethod
    def setUpClass(cls):
        cls.db = mshtest.work_path("live.sqlite")
        mshtest.import_layer(cls.db, mshtest.demo_path("sites.geojson"), "sites")
        mshtest.import_layer(cls.db, mshtest.demo_path("camps.geojson"), "camps")
        p = mshtest.run_mashaer("token", "add", "--db", cls.db, "--role", "feed", "--name", "raster", check=0)
        cls.token = p.stdout.splitlines()[0].strip()
        cls.server = mshtest.Server(cls.db, "--threads", "4", "--live-dir", mshtest.work_path("live"), "--k-anon", "1",
                                    "--styles", mshtest.work_path("styles"), name="live").start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        if rc != 0:
            raise AssertionError("live server exited %s; stderr:\n%s" % (rc, cls.server.stderr()))

    def get_png(self, path):
        r = self.server.get(path)
        self.assertEqual(r.status, 200, r.body[:300])
        return r

    def test_live_update_changes_only_its_tiles(self):
        z = 17
        x, y = tile_of(MINA, z)
        xf, yf = tile_of(JAMARAT, z)
        here, far = "/styles/operations/%d/%d/%d.png" % (z, x, y), "/styles/operations/%d/%d/%d.png" % (z, xf, yf)
        a0, b0 = self.get_png(here), self.get_png(far)
        self.assertEqual(a0.header("cache-control"), "no-cache")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        recs = []
        for i in range(80):
            recs.append({"id": "R-%03d" % i, "lon": MINA[0] + (i % 9 - 4) * 0.00002, "lat": MINA[1] + (i // 9 - 4) * 0.00002,
                         "time": now, "speed": 0.4, "heading": 90})
        mshtest.post_ok(self.server, "positions", recs, self.token)

        def redrawn():
            r = self.get_png(here)
            return r if r.header("etag") != a0.header("etag") else None
        a1 = mshtest.wait_for(redrawn, 30, "the picture with the live crowd (a new ETag)", interval=0.1)
        self.assertNotEqual(a1.header("etag"), a0.header("etag"))
        b1 = self.get_png(far)
        self.assertEqual(b1.header("etag"), b0.header("etag"))
        self.assertEqual(b1.body, b0.body)
        _, _, before = decode_png(a0.body)
        _, _, after = decode_png(a1.body)
        px, py = lonlat_px(MINA[0], MINA[1], z, x, y)
        changed = sum(1 for yy in range(256) for xx in range(256) if diff(before[yy][xx], after[yy][xx]) > 20)
        near = sum(1 for yy in range(max(0, int(py) - 20), min(256, int(py) + 20))
                   for xx in range(max(0, int(px) - 20), min(256, int(px) + 20)) if diff(before[yy][xx], after[yy][xx]) > 20)
        mshtest.note("live crowd: %d pixels changed, %d of them within 20 px of the crowd" % (changed, near))
        self.assertGreater(near, 50)
        self.assertGreater(near / changed, 0.5)


if __name__ == "__main__":
    mshtest.main()
