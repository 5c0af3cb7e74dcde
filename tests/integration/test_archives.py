"""Raster archives (`mashaer export --style`) and archives served as tile sources (`serve --tiles`).

* Raster export: a PMTiles archive of the operations style, read by the reference decoder (the
  `pmtiles` npm package), holds for every tile of the box the bytes /styles/operations/{z}/{x}/{y}.png
  answers (tile type png, no tile compression); the MBTiles of the same export, opened by GDAL's
  MBTiles raster driver, gives for a tile's block the pixels of the live PNG decoded. A style
  without a background leaves blank tiles out: each missing one is fully transparent live.
* `serve --tiles FILE`: archives made by `mashaer export` (vector PMTiles and MBTiles, raster
  PMTiles), by `ogr2ogr -f MBTILES` and by hand (tests/integration/pmtiles_build.py: leaf
  directories, no internal compression) are served under their names: the stored bytes with the
  right Content-Type and Content-Encoding (ungzipped for a client that does not take gzip), an
  ETag honoured with 304, 404 outside the archive's zooms or box and for the wrong extension, and
  a TileJSON from the archive's metadata; features decoded by GDAL's MVT driver equal the
  archive's own. Hostile archives and a name clash stop the start with a message naming the fault.
"""

import gzip
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
import pmtiles_build  # noqa: E402
from mshtest import gdal  # noqa: E402
from test_export import box_tiles, pmtiles_read  # noqa: E402

MINA = (39.8768, 21.406, 39.9032, 21.4334)  # the sites layer's mina polygon's box (checked below)
LAYERS = "sites,camps"


def sha(b):
    return hashlib.sha256(b).hexdigest()


class Archives(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = mshtest.work_path("archives.sqlite")
        mshtest.import_demo(cls.db, ["sites", "camps"])
        # a style with no background: tiles away from the sites are blank
        cls.styles = mshtest.work_path("styles")
        os.makedirs(cls.styles, exist_ok=True)
        with open(os.path.join(mshtest.CONFIG.source_dir, "styles", "operations.json")) as f:
            ops = f.read()
        with open(os.path.join(cls.styles, "operations.json"), "w") as f:
            f.write(ops)
        with open(os.path.join(cls.styles, "siteonly.json"), "w") as f:
            json.dump({"version": 8, "sources": {"m": {"type": "vector", "url": "/tiles/sites.json"}},
                       "layers": [{"id": "s", "type": "fill", "source": "m", "source-layer": "sites",
                                   "paint": {"fill-color": "#c04020"}}]}, f)
        cls.a = {}
        ex = lambda out, *args: mshtest.run_mashaer("export", "--db", cls.db, "--styles", cls.styles, *args, out,
                                                   check=0, timeout=300)
        cls.a["rast"] = mshtest.work_path("rast.pmtiles")
        ex(cls.a["rast"], "--style", "operations", "--site", "mina", "--zoom", "12-15")
        cls.a["rastm"] = mshtest.work_path("rastm.mbtiles")
        ex(cls.a["rastm"], "--style", "operations", "--site", "mina", "--zoom", "12-15")
        cls.a["vec"] = mshtest.work_path("vec.pmtiles")
        ex(cls.a["vec"], "--layers", LAYERS, "--site", "mina", "--zoom", "12-16")
        cls.a["vecm"] = mshtest.work_path("vecm.mbtiles")
        ex(cls.a["vecm"], "--layers", LAYERS, "--site", "mina", "--zoom", "12-16")
        # by a client nobody here wrote
        cls.a["ogrmb"] = mshtest.work_path("ogrmb.mbtiles")
        subprocess.run(["ogr2ogr", "-f", "MBTILES", cls.a["ogrmb"], mshtest.demo_path("sites.geojson"),
                        "-dsco", "MINZOOM=11", "-dsco", "MAXZOOM=13"], check=True, timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # by hand: leaf directories, no internal compression, gzipped tiles from the live server below
        cls.server = mshtest.Server(cls.db, "--styles", cls.styles, "--threads", "2", name="live").start()
        cls.hand_tiles = {}
        for z, x, y in box_tiles(MINA, 13, 14):
            r = cls.server.get("/tiles/%s/%d/%d/%d.mvt" % (LAYERS, z, x, y), headers={"Accept-Encoding": "gzip"})
            if r.status == 200:
                cls.hand_tiles[(z, x, y)] = r.body
        cls.a["hand"] = mshtest.work_path("hand.pmtiles")
        with open(cls.a["hand"], "wb") as f:
            f.write(pmtiles_build.build(cls.hand_tiles, leaf=3, internal="none",
                                        metadata={"vector_layers": [{"id": "sites", "fields": {}}], "attribution": "by hand"}))
        cls.served = mshtest.Server(cls.db, *sum((["--tiles", p] for p in cls.a.values()), []), name="archives").start()

    @classmethod
    def tearDownClass(cls):
        mshtest.stop_servers(getattr(cls, "server", None), getattr(cls, "served", None))

    # -- raster export

    def live_png(self, style, z, x, y):
        r = self.server.get("/styles/%s/%d/%d/%d.png" % (style, z, x, y))
        self.assertEqual(r.status, 200, (z, x, y, r.body[:200]))
        return r.body

    def test_raster_pmtiles_every_tile_is_the_live_png(self):
        tiles = box_tiles(MINA, 12, 15)
        d = pmtiles_read(self.a["rast"], tiles)
        h = d["header"]
        self.assertEqual((h["tileType"], h["tileCompression"], h["minZoom"], h["maxZoom"]), (2, 1, 12, 15))
        self.assertEqual(d["metadata"]["format"], "png")
        self.assertNotIn("vector_layers", d["metadata"])
        for (z, x, y), got in zip(tiles, d["tiles"]):
            # the operations style paints a background: no tile is blank
            self.assertEqual(got, sha(self.live_png("operations", z, x, y)), "tile %d/%d/%d" % (z, x, y))
        self.assertLess(h["numTileContents"], len(tiles) + 1)

    def test_raster_mbtiles_gdal_reads_the_live_pixels(self):
        with sqlite3.connect(self.a["rastm"]) as c:
            meta = dict(c.execute("SELECT name, value FROM metadata"))
            n = c.execute("SELECT COUNT(*) FROM tiles").fetchone()[0]
        self.assertEqual(meta["format"], "png")
        self.assertNotIn("json", meta)
        self.assertEqual(n, len(box_tiles(MINA, 12, 15)))
        # the extent from the tiles (tile-aligned), not from the bounds metadata
        ds = gdal.OpenEx(self.a["rastm"], gdal.OF_RASTER, open_options=["USE_BOUNDS=NO"])
        self.assertEqual(ds.GetDriver().ShortName, "MBTiles")
        gt = ds.GetGeoTransform()
        checked = 0
        for z, x, y in box_tiles(MINA, 15, 15)[::3]:
            minx, _, _, maxy = mshtest.tile_bounds_3857(z, x, y)
            px, py = (minx - gt[0]) / gt[1], (maxy - gt[3]) / gt[5]
            self.assertAlmostEqual(px, round(px), places=3)
            self.assertAlmostEqual(py, round(py), places=3)
            px, py = int(round(px)), int(round(py))
            if px < 0 or py < 0 or px + 256 > ds.RasterXSize or py + 256 > ds.RasterYSize:
                continue
            bands = [ds.GetRasterBand(i + 1).ReadRaster(px, py, 256, 256) for i in range(ds.RasterCount)]
            w, hh, rows = mshtest.decode_png(self.live_png("operations", z, x, y))
            self.assertEqual((w, hh), (256, 256))
            for yy in range(0, 256, 5):
                for xx in range(0, 256, 5):
                    got = tuple(b[yy * 256 + xx] for b in bands)
                    self.assertEqual(got[:3], rows[yy][xx][:3], "tile %d/%d/%d pixel %d,%d" % (z, x, y, xx, yy))
            checked += 1
        self.assertGreater(checked, 0)

    def test_raster_blank_tiles_are_left_out(self):
        box = (39.82, 21.34, 40.01, 21.44)  # every site and the desert between them
        out = mshtest.work_path("siteonly.pmtiles")
        p = mshtest.run_mashaer("export", "--db", self.db, "--styles", self.styles, "--style", "siteonly",
                                "--bbox", ",".join(map(str, box)), "--zoom", "12-13", out, check=0, timeout=300)
        tiles = box_tiles(box, 12, 13)
        d = pmtiles_read(out, tiles)
        blank = 0
        for (z, x, y), got in zip(tiles, d["tiles"]):
            live = self.live_png("siteonly", z, x, y)
            if got is None:
                blank += 1
                _, _, rows = mshtest.decode_png(live)
                self.assertTrue(all(px[3] == 0 for row in rows for px in row), "tile %d/%d/%d left out but drawn live"
                                % (z, x, y))
            else:
                self.assertEqual(got, sha(live))
        self.assertGreater(blank, 0)
        self.assertLess(blank, len(tiles))
        self.assertIn("%d written" % (len(tiles) - blank), p.stdout)

    # -- serving archives

    def test_vector_archives_serve_the_stored_tiles(self):
        tiles = box_tiles(MINA, 12, 16)
        present = 0
        for z, x, y in tiles:
            live = self.server.get("/tiles/%s/%d/%d/%d.mvt" % (LAYERS, z, x, y), headers={"Accept-Encoding": "gzip"})
            for name in ("vec", "vecm"):
                r = self.served.get("/tiles/%s/%d/%d/%d.mvt" % (name, z, x, y), headers={"Accept-Encoding": "gzip"})
                if live.status == 204:
                    self.assertEqual(r.status, 404, (name, z, x, y))
                    continue
                self.assertEqual(r.status, 200, (name, z, x, y, r.body[:200]))
                self.assertEqual(r.header("Content-Type"), "application/vnd.mapbox-vector-tile")
                self.assertEqual(r.header("Content-Encoding"), "gzip")
                self.assertEqual(r.body, live.body, (name, z, x, y))  # the stored bytes: the live gzip
                present += 1
        self.assertGreater(present, 20)
        # a client that does not take gzip gets the tile ungzipped; GDAL decodes it as the live one
        z, x, y = next(k for k in box_tiles(MINA, 14, 14)
                       if self.server.get("/tiles/%s/%d/%d/%d.mvt" % tuple([LAYERS] + k)).status == 200)
        r = self.served.raw("/tiles/vec/%d/%d/%d.mvt" % (z, x, y))
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("Content-Encoding"))
        live = self.server.raw("/tiles/%s/%d/%d/%d.mvt" % (LAYERS, z, x, y)).body
        self.assertEqual(r.body, live)
        dec = mshtest.decode_mvt(r.body, z, x, y)
        self.assertEqual({k: len(v) for k, v in dec.items()},
                         {k: len(v) for k, v in mshtest.decode_mvt(live, z, x, y).items()})
        # ETag and 304
        etag = r.header("ETag")
        self.assertTrue(etag)
        self.assertEqual(self.served.raw("/tiles/vec/%d/%d/%d.mvt" % (z, x, y), headers={"If-None-Match": etag}).status,
                         304)
        # outside the zooms, outside the box, the wrong kind
        for path in ("/tiles/vec/11/%d/%d.mvt" % (x >> 3, y >> 3), "/tiles/vec/17/%d/%d.mvt" % (x * 8, y * 8),
                     "/tiles/vec/14/0/0.mvt", "/tiles/vec/%d/%d/%d.png" % (z, x, y), "/tiles/vecm/14/0/0.mvt"):
            r = self.served.get(path)
            self.assertEqual(r.status, 404, path)
            self.assertIn("error", r.json())

    def test_raster_archive_serves_pngs(self):
        z, x, y = box_tiles(MINA, 14, 14)[0]
        r = self.served.get("/tiles/rast/%d/%d/%d.png" % (z, x, y), headers={"Accept-Encoding": "gzip"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "image/png")
        self.assertIsNone(r.header("Content-Encoding"))
        self.assertEqual(r.body, self.live_png("operations", z, x, y))
        m = self.served.get("/tiles/rastm/%d/%d/%d.png" % (z, x, y))  # the MBTiles of the same export
        self.assertEqual((m.status, m.header("Content-Type"), m.body), (200, "image/png", r.body))
        self.assertEqual(self.served.get("/tiles/rast/%d/%d/%d@2x.png" % (z, x, y)).status, 404)
        self.assertEqual(self.served.get("/tiles/rast/%d/%d/%d.mvt" % (z, x, y)).status, 404)
        tj = self.served.json("/tiles/rast.json")
        self.assertEqual(tj["tiles"], [self.served.base + "/tiles/rast/{z}/{x}/{y}.png"])
        self.assertEqual((tj["minzoom"], tj["maxzoom"], tj["format"]), (12, 15, "png"))
        self.assertNotIn("vector_layers", tj)

    def test_tilejson_from_the_archive_metadata(self):
        live = self.server.json("/tiles/%s.json" % LAYERS)
        for name in ("vec", "vecm"):
            tj = self.served.json("/tiles/%s.json" % name)
            self.assertEqual(tj["tiles"], [self.served.base + "/tiles/%s/{z}/{x}/{y}.mvt" % name])
            self.assertEqual((tj["minzoom"], tj["maxzoom"]), (12, 16))
            for got, want in zip(tj["bounds"], MINA):
                self.assertAlmostEqual(got, want, places=4)
            self.assertEqual([v["id"] for v in tj["vector_layers"]], [v["id"] for v in live["vector_layers"]])
            self.assertEqual(tj["vector_layers"][1]["fields"], live["vector_layers"][1]["fields"])
        tj = self.served.json("/tiles/hand.json")
        self.assertEqual((tj["minzoom"], tj["maxzoom"], tj["attribution"]), (13, 14, "by hand"))
        self.assertEqual(tj["vector_layers"], [{"id": "sites", "fields": {}}])

    def test_ogr2ogr_mbtiles_and_hand_built_pmtiles(self):
        with sqlite3.connect(self.a["ogrmb"]) as c:
            rows = c.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()
            meta = dict(c.execute("SELECT name, value FROM metadata"))
        self.assertTrue(rows)
        tj = self.served.json("/tiles/ogrmb.json")
        self.assertEqual([v["id"] for v in tj["vector_layers"]],
                         [v["id"] for v in json.loads(meta["json"])["vector_layers"]])
        features = 0
        for z, col, row, data in rows:
            y = (1 << z) - 1 - row
            r = self.served.raw("/tiles/ogrmb/%d/%d/%d.mvt" % (z, col, y))
            self.assertEqual(r.status, 200, (z, col, y))
            self.assertEqual(r.body, gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
            got, want = mshtest.decode_mvt(r.body, z, col, y), mshtest.decode_mvt(data, z, col, y)
            self.assertEqual(sorted(got), sorted(want))
            for lyr in want:
                self.assertEqual([f.attrs for f in got[lyr]], [f.attrs for f in want[lyr]])
                self.assertEqual([f.geom.ExportToWkt() for f in got[lyr]], [f.geom.ExportToWkt() for f in want[lyr]])
                features += len(want[lyr])
        self.assertGreater(features, 0)
        for (z, x, y), data in self.hand_tiles.items():
            r = self.served.get("/tiles/hand/%d/%d/%d.mvt" % (z, x, y), headers={"Accept-Encoding": "gzip"})
            self.assertEqual((r.status, r.body), (200, data), (z, x, y))
        self.assertGreater(len(self.hand_tiles), 3)

    def test_bad_archives_stop_the_start(self):
        cases = dict(pmtiles_build.hostile())
        want = {"data_past_end": "past the end of the file", "entry_past_data": "outside the tile data",
                "leaf_loop": "nest more than", "leaf_twice": "out of order", "huge_count": "claims",
                "gzip_bomb": "decompresses to more than", "endless_varint": "no entry count",
                "zero_length": "lengths", "out_of_order": "out of order", "version_2": "version 2",
                "no_magic": "not a PMTiles archive", "truncated": "too short"}
        self.assertEqual(sorted(cases), sorted(want))
        for name, data in cases.items():
            path = mshtest.work_path("bad_%s.pmtiles" % name)
            with open(path, "wb") as f:
                f.write(data)
            p = mshtest.run_mashaer("serve", "--db", self.db, "--port", "0", "--tiles", path, timeout=60)
            self.assertEqual(p.returncode, 1, (name, p.stdout, p.stderr))
            self.assertNotIn("listening", p.stdout)
            self.assertIn("--tiles %s: " % path, p.stderr)
            self.assertIn(want[name], p.stderr, name)
        # a name that is a layer's, a file that is no archive, an unknown extension
        clash = mshtest.work_path("sites.pmtiles")
        with open(clash, "wb") as f:
            f.write(pmtiles_build.build({(0, 0, 0): b"x"}))
        notdb = mshtest.work_path("junk.mbtiles")
        with open(notdb, "wb") as f:
            f.write(b"this is not SQLite" * 100)
        for path, msg in ((clash, "already a layer"), (notdb, "junk.mbtiles: "), (self.db, "must end in .pmtiles")):
            p = mshtest.run_mashaer("serve", "--db", self.db, "--port", "0", "--tiles", path, timeout=60)
            self.assertEqual(p.returncode, 1, (path, p.stderr))
            self.assertIn(msg, p.stderr)

    def test_mina_box(self):
        """MINA above is the export's --site mina box."""
        with sqlite3.connect(self.a["vecm"]) as c:
            b = [float(v) for v in dict(c.execute("SELECT name, value FROM metadata"))["bounds"].split(",")]
        for got, want in zip(b, MINA):
            self.assertAlmostEqual(got, want, places=4)


if __name__ == "__main__":
    mshtest.main()
