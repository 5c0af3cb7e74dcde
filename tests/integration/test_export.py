"""`mashaer export`: PMTiles and MBTiles files of the server's tiles, judged by readers no one here wrote.

* PMTiles: the reference decoder (the `pmtiles` npm package, tests/integration/pmtiles_read.mjs)
  reads the header and metadata, and every tile of the box at every zoom it returns is the
  server's tile for that z/x/y, byte for byte once ungzipped; a tile the server answers 204 for is
  not in the archive. Identical tiles are stored once (runs and shared contents in the header's
  counts), an archive too big for a root directory gets leaf directories and still reads whole, and
  the file is the same whatever the number of threads.
* MBTiles: GDAL's MBTiles driver opens it (ogrinfo), its metadata carries vector_layers, and its
  features at a zoom equal those of the server's tiles decoded by GDAL's MVT driver; the tiles
  view holds the server's gzip bytes at TMS rows.
* An interrupted export (SIGINT) exits 130 and leaves the file that was there untouched and no
  temporary file; bad usage and an export with nothing to write leave no file either.
"""

import glob
import gzip
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from mshtest import gdal  # noqa: E402

LAYERS = "sites,camps,walkways,site_walkways"
WALKWAYS_BOX = (39.77, 21.39, 39.89, 21.46)
NODE = "/usr/bin/node"
READER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pmtiles_read.mjs")


def pmtiles_read(archive, tiles):
    """The reference decoder's view of an archive: header, metadata and the sha256 of each tile."""
    p = subprocess.run([NODE, READER, mshtest.CONFIG.source_dir, archive], input=json.dumps(tiles),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if p.returncode != 0:
        raise AssertionError("pmtiles reader failed on %s:\n%s" % (archive, p.stderr))
    return json.loads(p.stdout)


def box_tiles(bbox, z0, z1):
    return [[z, x, y] for z in range(z0, z1 + 1) for (x, y) in mshtest.tiles_covering(bbox, z)]


def summary(stdout):
    """The numbers of the `exported ...` line."""
    import re
    m = re.search(r"(\d+) tiles walked, (\d+) written \((\d+) distinct, (\d+) features\), (\w+) (\d+) bytes", stdout)
    assert m, stdout
    return {"walked": int(m[1]), "written": int(m[2]), "distinct": int(m[3]), "features": int(m[4]),
            "format": m[5], "bytes": int(m[6])}


class Export(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = mshtest.work_path("export.sqlite")
        mshtest.import_demo(cls.db, ["sites", "camps", "walkways", "site_walkways"])
        cls.server = mshtest.Server(cls.db, "--threads", "2").start()
        sites = mshtest.Store(cls.db)
        try:
            geoms, rows = sites.geometries("sites"), sites.rows("sites")
        finally:
            sites.close()
        cls.site_box = {}
        for fid, r in rows.items():
            env = geoms[fid].GetEnvelope()  # (minx, maxx, miny, maxy)
            cls.site_box[r["site_id"]] = (env[0], env[2], env[1], env[3])

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        if rc != 0:
            raise AssertionError("mashaer serve exited %s after SIGTERM" % rc)

    def export(self, out, *args, check=0):
        p = mshtest.run_mashaer("export", "--db", self.db, *args, out, check=check, timeout=300)
        return p

    def server_tile(self, layers, z, x, y):
        """The server's tile, ungzipped, or None for 204."""
        r = self.server.get("/tiles/%s/%d/%d/%d.mvt" % (layers, z, x, y), headers={"Accept-Encoding": "gzip"})
        if r.status == 204:
            return None, None
        self.assertEqual(r.status, 200, (z, x, y, r.body[:200]))
        raw = r.body
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw, raw

    def assert_tiles_equal_server(self, layers, got, tiles):
        present = 0
        for (z, x, y), sha in zip(tiles, got):
            mvt, _ = self.server_tile(layers, z, x, y)
            if mvt is None:
                self.assertIsNone(sha, "tile %d/%d/%d is empty on the server but in the archive" % (z, x, y))
                continue
            present += 1
            self.assertEqual(sha, hashlib.sha256(mvt).hexdigest(), "tile %d/%d/%d differs from the server's" % (z, x, y))
        return present

    def test_pmtiles_mina_every_tile_is_the_servers(self):
        out = mshtest.work_path("mina.pmtiles")
        p = self.export(out, "--layers", LAYERS, "--site", "mina", "--zoom", "12-18")
        s = summary(p.stdout)
        self.assertEqual(s["format"], "pmtiles")
        self.assertEqual(s["bytes"], os.path.getsize(out))
        bbox = self.site_box["mina"]
        tiles = box_tiles(bbox, 12, 18)
        self.assertEqual(s["walked"], len(tiles))
        d = pmtiles_read(out, tiles)
        h = d["header"]
        self.assertEqual((h["specVersion"], h["tileType"], h["tileCompression"], h["internalCompression"]), (3, 1, 2, 2))
        self.assertTrue(h["clustered"])
        self.assertEqual((h["minZoom"], h["maxZoom"]), (12, 18))
        for got, want in zip((h["minLon"], h["minLat"], h["maxLon"], h["maxLat"]), bbox):
            self.assertAlmostEqual(got, want, places=6)
        self.assertEqual(h["numAddressedTiles"], s["written"])
        self.assertEqual(h["numTileContents"], s["distinct"])
        md = d["metadata"]
        self.assertEqual(md["name"], LAYERS)
        self.assertEqual([v["id"] for v in md["vector_layers"]], LAYERS.split(","))
        tj = self.server.json("/tiles/%s.json" % LAYERS)
        self.assertEqual(md["vector_layers"], tj["vector_layers"])
        present = self.assert_tiles_equal_server(LAYERS, d["tiles"], tiles)
        self.assertEqual(present, s["written"])
        self.assertGreater(present, 400)
        self.assertLess(present, len(tiles))  # empty tiles (no layer there) are not written

    def test_pmtiles_same_file_on_one_thread_or_three(self):
        a, b = mshtest.work_path("t1.pmtiles"), mshtest.work_path("t3.pmtiles")
        self.export(a, "--layers", "camps,site_walkways", "--site", "jamarat", "--zoom", "13-17", "--threads", "1")
        self.export(b, "--layers", "camps,site_walkways", "--site", "jamarat", "--zoom", "13-17", "--threads", "3")
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertEqual(fa.read(), fb.read())

    def test_pmtiles_identical_tiles_stored_once(self):
        # inside Arafat's polygon, the z15-z18 tiles of `sites` alone are one and the same square
        out = mshtest.work_path("arafat.pmtiles")
        p = self.export(out, "--layers", "sites", "--site", "arafat", "--zoom", "15-18")
        s = summary(p.stdout)
        tiles = box_tiles(self.site_box["arafat"], 15, 18)
        d = pmtiles_read(out, tiles)
        h = d["header"]
        self.assertEqual(h["numAddressedTiles"], s["written"])
        self.assertLess(h["numTileContents"], s["written"] / 3)      # contents shared
        self.assertLess(h["numTileEntries"], h["numAddressedTiles"])  # and runs of tile ids merged
        self.assertEqual(h["numTileContents"], s["distinct"])
        self.assertLess(h["tileDataLength"], s["written"] * 100)
        self.assertEqual(self.assert_tiles_equal_server("sites", d["tiles"], tiles), s["written"])

    def test_pmtiles_leaf_directories(self):
        # every tile of the OpenStreetMap walkways up to z19: too many entries for a 16 KiB root
        # (the layer again, served up to z19; the export reads the store, the server is not asked)
        mshtest.import_layer(self.db, mshtest.demo_path("walkways.geojson"), "walkways_hi", "--maxzoom", "19")
        out = mshtest.work_path("walkways.pmtiles")
        p = self.export(out, "--layers", "walkways_hi", "--bbox", ",".join(map(str, WALKWAYS_BOX)), "--zoom", "12-19")
        s = summary(p.stdout)
        tiles = box_tiles(WALKWAYS_BOX, 12, 19)
        d = pmtiles_read(out, tiles)
        h = d["header"]
        self.assertGreater(h["leafDirectoryLength"], 0)
        self.assertLessEqual(h["rootDirectoryOffset"] + h["rootDirectoryLength"], 16384)
        found = [t for t in d["tiles"] if t]
        self.assertEqual(len(found), s["written"])
        self.assertGreater(len(found), 8000)
        # a sample against the server (every tile was read above), once it serves the new layer
        mshtest.wait_for(lambda: self.server.get("/tiles/walkways_hi.json").status == 200, 30, "walkways_hi served")
        step = max(1, len(tiles) // 300)
        sample = list(range(0, len(tiles), step))
        self.assert_tiles_equal_server("walkways_hi", [d["tiles"][i] for i in sample], [tiles[i] for i in sample])

    def test_mbtiles_gdal_reads_the_servers_features(self):
        out = mshtest.work_path("mina.mbtiles")
        p = self.export(out, "--layers", LAYERS, "--site", "mina", "--zoom", "13-16")
        s = summary(p.stdout)
        self.assertEqual(s["format"], "mbtiles")
        info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=120)
        self.assertEqual(info.returncode, 0, info.stderr)
        self.assertIn("using driver `MBTiles' successful", info.stdout)
        for name in LAYERS.split(","):
            self.assertIn("Layer name: %s" % name, info.stdout)
        db = sqlite3.connect(out)
        try:
            meta = dict(db.execute("SELECT name, value FROM metadata"))
            self.assertEqual((meta["format"], meta["minzoom"], meta["maxzoom"]), ("pbf", "13", "16"))
            vl = json.loads(meta["json"])["vector_layers"]
            self.assertEqual([v["id"] for v in vl], LAYERS.split(","))
            rows = {(z, x, r): bytes(b) for z, x, r, b in
                    db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")}
            images = db.execute("SELECT count(*) FROM images").fetchone()[0]
        finally:
            db.close()
        self.assertEqual(len(rows), s["written"])
        self.assertEqual(images, s["distinct"])
        written = 0
        for z, x, y in box_tiles(self.site_box["mina"], 13, 16):
            mvt, raw = self.server_tile(LAYERS, z, x, y)
            got = rows.get((z, x, (1 << z) - 1 - y))
            if mvt is None:
                self.assertIsNone(got, (z, x, y))
                continue
            written += 1
            self.assertEqual(got, raw, "tile %d/%d/%d: not the server's gzip bytes" % (z, x, y))
        self.assertEqual(written, s["written"])
        # GDAL's MBTiles driver against GDAL's MVT driver on the server's tiles, at z15
        z = 15
        want = {}
        for x, y in mshtest.tiles_covering(self.site_box["mina"], z):
            mvt, _ = self.server_tile(LAYERS, z, x, y)
            if mvt is None:
                continue
            for layer, feats in mshtest.decode_mvt(mvt, z, x, y, clip=True).items():
                want.setdefault(layer, []).extend(self.feature_key(f.attrs, f.geom) for f in feats)
        ds = gdal.OpenEx(out, gdal.OF_VECTOR, open_options=["ZOOM_LEVEL=%d" % z])
        self.assertIsNotNone(ds)
        got = {}
        for i in range(ds.GetLayerCount()):
            lyr = ds.GetLayer(i)
            got[lyr.GetName()] = [self.feature_key({k: v for k, v in f.items().items() if v is not None and k != "mvt_id"},
                                                   f.GetGeometryRef()) for f in lyr]
        ds = None
        self.assertEqual(sorted(got), sorted(want))
        for layer in want:
            self.assertGreater(len(want[layer]), 0, layer)
            self.assertEqual(sorted(got[layer]), sorted(want[layer]), layer)

    @staticmethod
    def feature_key(attrs, geom):
        # GDAL's MBTiles driver types fields from vector_layers, where every number is "Number" (Real);
        # its MVT driver reading one tile types them from the values: compare numbers as numbers
        attrs = {k: float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for k, v in attrs.items()}
        return (json.dumps(attrs, sort_keys=True), geom.ExportToIsoWkt() if geom is not None else "")

    def test_interrupted_export_leaves_the_old_file(self):
        out = mshtest.work_path("big.pmtiles")
        with open(out, "wb") as f:
            f.write(b"the archive of yesterday")
        proc = mshtest.spawn([mshtest.CONFIG.mashaer, "export", "--db", mshtest.store_url(self.db), "--layers", "walkways",
                              "--bbox", ",".join(map(str, WALKWAYS_BOX)), "--zoom", "12-21", "--threads", "1", out],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            # the barrier: the temporary file exists, so the walk is under way (z21 takes many seconds)
            mshtest.wait_for(lambda: glob.glob(mshtest.work_path(".big.pmtiles.part*")), 30, "the temporary file")
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn(b"interrupted", err)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"the archive of yesterday")
        self.assertEqual(glob.glob(mshtest.work_path(".big.pmtiles*")), [])

    def test_refusals_write_nothing(self):
        out = mshtest.work_path("never.pmtiles")
        for args, code, words in (
                (["--layers", "nope", "--site", "mina", "--zoom", "12"], 2, "unknown layer 'nope'"),
                (["--layers", "camps", "--site", "atlantis", "--zoom", "12"], 2, "no site 'atlantis'"),
                (["--layers", "camps", "--zoom", "12"], 2, "give one of --bbox and --site"),
                (["--layers", "camps", "--site", "mina", "--zoom", "12-30"], 2, "--zoom wants"),
                (["--layers", "camps", "--site", "mina", "--zoom", "12", "--format", "zip"], 2, "--format"),
                (["--layers", "camps", "--bbox", "10,10,11,11", "--zoom", "12"], 1, "no tile has any feature"),
                (["--layers", "camps", "--bbox", "-180,-85,180,85", "--zoom", "0-14"], 2, "narrow it")):
            for fmt in ("pmtiles", "mbtiles"):
                p = self.export(out, *args, "--format", fmt, check=code) if "--format" not in args else \
                    self.export(out, *args, check=code)
                self.assertIn(words, p.stderr)
                self.assertEqual(glob.glob(mshtest.work_path("*never*")) + glob.glob(mshtest.work_path(".never*")), [])

    def test_help_names_every_option(self):
        p = mshtest.run_mashaer("export", "--help", check=0)
        for opt in ("--db", "--layers", "--bbox", "--site", "--zoom", "--format", "--threads", "--quiet"):
            self.assertIn(opt, p.stdout)


if __name__ == "__main__":
    mshtest.main()
