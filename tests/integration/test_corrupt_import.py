"""Corrupt sources fail cleanly; re-imports replace.

A store holds sites and camps. Importing broken files (truncated GeoJSON,
GeoJSON with garbage in the middle, a GeoJSON sequence cut mid-record, a
truncated Shapefile) into `camps` or into a new layer must exit 1, name the
file, and leave the store exactly as it was: same registry rows, same tables,
same rows. A running server keeps serving the old data. Re-importing a good
file bumps the version and replaces the features instead of appending.
"""

import hashlib
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402


def snapshot(db):
    """Everything an import could change: the registry, the table list, every row of every layer."""
    with mshtest.Store(db) as st:
        reg = st.registry()
        tables = st.tables()
        meta = st.sql("SELECT key, value FROM msh_meta ORDER BY key")
        content = {}
        for name in reg:
            h = hashlib.sha256()
            n = 0
            for row in st.table_rows(name):
                h.update(repr(row).encode())
                n += 1
            content[name] = (n, h.hexdigest())
    return {"registry": reg, "tables": tables, "meta": meta, "content": content}


def cut(data, frac):
    return data[:int(len(data) * frac)]


def insert_garbage(data, frac, garbage=b'@@@ this is not JSON ### \x00\xff\xfe'):
    """Garbage right before the first feature after `frac` of the file."""
    i = int(len(data) * frac)
    j = data.find(b'{"type"', i)
    assert j > 0
    return data[:j] + garbage + data[j:]


class CorruptImport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sources = {}
        with open(mshtest.demo_path("camps.geojson"), "rb") as f:
            camps = f.read()
        with open(mshtest.demo_path("walkways.geojson"), "rb") as f:
            walk = f.read()
        files = {
            "camps_truncated.geojson": cut(camps, 0.5),
            "camps_cut_in_a_string.geojson": camps[:camps.index(b'"camp_id"', len(camps) // 3) + 5],
            "camps_garbage.geojson": insert_garbage(camps, 0.5),
            "camps_garbage_early.geojson": insert_garbage(camps, 0.05, b"]]]}}}"),
            "walkways_truncated.geojson": cut(walk, 0.8),
            "walkways_garbage.geojson": insert_garbage(walk, 0.8),
            "empty.geojson": b"",
            "not_geojson.geojson": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        }
        for name, data in files.items():
            path = mshtest.work_path(name)
            with open(path, "wb") as f:
                f.write(data)
            cls.sources[name] = path
        # a GeoJSON sequence cut in the middle of a record: fails while reading, after features were written
        seq = mshtest.work_path("camps.geojsons")
        mshtest.gdal.VectorTranslate(seq, mshtest.demo_path("camps.geojson"), format="GeoJSONSeq")
        with open(seq, "rb") as f:
            data = f.read()
        path = mshtest.work_path("camps_seq_truncated.geojsons")
        with open(path, "wb") as f:
            f.write(cut(data, 0.6))
        cls.sources["camps_seq_truncated.geojsons"] = path
        # a Shapefile whose .shp lost its second half
        shp_dir = mshtest.work_path("shp")
        os.makedirs(shp_dir, exist_ok=True)
        shp = os.path.join(shp_dir, "camps.shp")
        mshtest.gdal.VectorTranslate(shp, mshtest.demo_path("camps.geojson"), format="ESRI Shapefile",
                                     layerCreationOptions=["ENCODING=UTF-8"])
        with open(shp, "rb") as f:
            data = f.read()
        with open(shp, "wb") as f:
            f.write(cut(data, 0.5))
        cls.sources["camps.shp (truncated)"] = shp

    def setUp(self):
        self.db = mshtest.work_path("store-%s.sqlite" % self._testMethodName)
        for suffix in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(self.db + suffix):
                os.remove(self.db + suffix)
        mshtest.import_demo(self.db, ["sites", "camps"])

    def assertFailedImport(self, source, layer, before):
        args = ["import", "--db", self.db] + (["--layer", layer] if layer else []) + [source]
        p = mshtest.run_mashaer(*args)
        self.assertEqual(p.returncode, 1, "%s: exit %d\n%s%s" % (source, p.returncode, p.stdout, p.stderr))
        self.assertIn(source, p.stderr, "the error does not name the file")
        self.assertIn("error", p.stderr.lower())
        self.assertEqual(mshtest.parse_reports(p.stdout), [], "a layer was reported as imported")
        after = snapshot(self.db)
        self.assertEqual(after["tables"], before["tables"])
        self.assertEqual(after["registry"], before["registry"])
        self.assertEqual(after["content"], before["content"])
        self.assertEqual(after["meta"], before["meta"])
        return p

    def test_corrupt_sources_leave_the_store_unchanged(self):
        before = snapshot(self.db)
        self.assertEqual(set(before["registry"]), {"sites", "camps"})
        self.assertEqual(before["content"]["camps"][0], before["registry"]["camps"]["feature_count"])
        for name, path in self.sources.items():
            for layer in ("camps", "fresh", None):
                if layer is None and name.endswith(".shp (truncated)"):
                    continue
                with self.subTest(source=name, layer=layer):
                    self.assertFailedImport(path, layer, before)

    def test_one_bad_source_among_good_ones(self):
        before = snapshot(self.db)
        good = mshtest.demo_path("service_zones.geojson")
        bad = self.sources["camps_truncated.geojson"]
        p = mshtest.run_mashaer("import", "--db", self.db, good, bad)
        self.assertEqual(p.returncode, 1)
        self.assertIn(bad, p.stderr)
        self.assertNotIn(good, p.stderr)
        reps = mshtest.parse_reports(p.stdout)
        self.assertEqual([r["name"] for r in reps], ["service_zones"])
        after = snapshot(self.db)
        self.assertEqual(set(after["registry"]), {"sites", "camps", "service_zones"})
        for name in ("sites", "camps"):
            self.assertEqual(after["registry"][name], before["registry"][name])
            self.assertEqual(after["content"][name], before["content"][name])
        self.assertEqual(after["content"]["service_zones"][0], 30)

    def test_missing_file(self):
        before = snapshot(self.db)
        path = mshtest.work_path("does_not_exist.geojson")
        self.assertFailedImport(path, "camps", before)

    def test_server_keeps_serving_after_a_failed_import(self):
        with mshtest.Server(self.db, "--reload-ms", "100", name="serve-corrupt") as srv:
            cat1 = srv.json("/catalog")
            c = mshtest.Store(self.db)
            fid1 = c.geometries("camps")[1].Centroid()
            c.close()
            x, y = mshtest.lonlat_to_tile(fid1.GetX(), fid1.GetY(), 15)
            t1 = srv.get("/tiles/camps/15/%d/%d.mvt" % (x, y))
            before = snapshot(self.db)
            self.assertFailedImport(self.sources["camps_seq_truncated.geojsons"], "camps", before)
            self.assertFailedImport(self.sources["camps_garbage.geojson"], "camps", before)
            # a barrier: a token added after the failed imports is a commit the reload pass sees, and
            # that pass re-reads the layers before the tokens: once it says the tokens changed, the
            # server has looked at the store as the failed imports left it
            logged = srv.stderr().count("write tokens changed")
            mshtest.run_mashaer("token", "add", "--db", self.db, "--role", "feed", "--name", "reload-marker", check=0)
            mshtest.wait_for(lambda: srv.stderr().count("write tokens changed") > logged, 30,
                             "the reload pass to see the marker token")
            self.assertNotIn("data changed", srv.stderr())
            self.assertEqual(srv.json("/catalog"), cat1)
            t2 = srv.get("/tiles/camps/15/%d/%d.mvt" % (x, y))
            self.assertEqual(t2.header("etag"), t1.header("etag"))
            self.assertEqual(t2.body, t1.body)
            self.assertTrue(srv.alive())

    def test_reimport_replaces(self):
        before = snapshot(self.db)
        v0 = before["registry"]["camps"]["version"]
        n = before["registry"]["camps"]["feature_count"]
        # the same file again: same features, not twice as many
        _, reps = mshtest.import_layer(self.db, mshtest.demo_path("camps.geojson"), "camps")
        self.assertEqual(reps[0]["features"], n)
        self.assertGreater(reps[0]["version"], v0)
        mid = snapshot(self.db)
        self.assertEqual(mid["registry"]["camps"]["version"], reps[0]["version"])
        self.assertEqual(mid["registry"]["camps"]["feature_count"], n)
        self.assertEqual(mid["content"]["camps"], before["content"]["camps"])  # same rows, same fids
        self.assertEqual(mid["registry"]["sites"], before["registry"]["sites"])  # others untouched
        # a smaller file: the layer shrinks to it, with its own bounds
        with open(mshtest.demo_path("camps.geojson"), encoding="utf-8") as f:
            doc = json.load(f)
        doc["features"] = doc["features"][:40]
        small = mshtest.work_path("camps_40.geojson")
        with open(small, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        _, reps2 = mshtest.import_layer(self.db, small, "camps")
        self.assertEqual(reps2[0]["features"], 40)
        self.assertGreater(reps2[0]["version"], reps[0]["version"])
        with mshtest.Store(self.db) as st:
            self.assertEqual(st.count("camps"), 40)
            self.assertEqual(st.fids("camps"), set(range(1, 41)))
            reg = st.registry()["camps"]
            self.assertEqual(reg["feature_count"], 40)
            xs = [pt[0] for ft in doc["features"] for pt in ft["geometry"]["coordinates"][0]]
            ys = [pt[1] for ft in doc["features"] for pt in ft["geometry"]["coordinates"][0]]
            for got, want in zip((reg["minx"], reg["miny"], reg["maxx"], reg["maxy"]),
                                 (min(xs), min(ys), max(xs), max(ys))):
                self.assertAlmostEqual(got, want, delta=1e-9)
            rows = st.rows("camps")
            self.assertEqual([rows[i]["camp_id"] for i in range(1, 41)],
                             [ft["properties"]["camp_id"] for ft in doc["features"]])
            # a store-wide version that only goes up
            self.assertEqual(int(st.sql("SELECT value FROM msh_meta WHERE key='version'")[0][0]), reps2[0]["version"])
        # and a failed import after that still leaves the 40
        after = snapshot(self.db)
        self.assertFailedImport(self.sources["camps_truncated.geojson"], "camps", after)


if __name__ == "__main__":
    mshtest.main()
