"""Hostile and unusual import files (issue 17, findings 6, 7 and 13).

Every source is built here with GDAL's Python bindings (and sqlite3 for the view):
  * a GeoPackage whose two layers are named in Arabic -> two distinct transliterated layers,
    each titled with its Arabic name in the registry, /catalog and the OGC API; two names
    that transliterate alike in one command get _2, never one replacing the other;
  * a 2,000-vertex polygon crossing itself about a million times (MakeValid ran minutes
    and gigabytes) -> that feature rejected by index within the per-feature budget, the
    others imported, exit 3 (partial), the whole import well under 10 s of CPU and 1 GB;
  * a GeoPackage with a recursive SQL view after two good layers -> refused before a
    single layer is written (the store unchanged), within seconds of CPU;
  * a CSV with one row of deeply nested WKT -> that row rejected, the others imported with
    their attributes, exit 3; with --strict nothing of the file is imported, exit 1;
  * a GeometryCollection (point, line, polygon) -> all three parts kept, one feature per
    family with the same attributes, served by the OGC API;
  * a polygon and a line crossing the antimeridian -> split into parts on either side of
    180 degrees (bounds and areas checked), not a band around the world.
"""

import math
import os
import sqlite3
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from mshtest import ogr, osr  # noqa: E402

AR_CAMPS = "المخيمات"
AR_WALKS = "الممرات"


def gpkg(path, layers):
    """layers: [(name, [(label, wkt), ...])] -> a GeoPackage in EPSG:4326 with a `label` field."""
    if os.path.exists(path):
        os.remove(path)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    sr = osr.SpatialReference()
    sr.ImportFromEPSG(4326)
    for name, feats in layers:
        lyr = ds.CreateLayer(name, sr, ogr.wkbUnknown)
        lyr.CreateField(ogr.FieldDefn("label", ogr.OFTString))
        for label, wkt in feats:
            f = ogr.Feature(lyr.GetLayerDefn())
            f.SetField("label", label)
            f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
            lyr.CreateFeature(f)
    ds = None
    return path


def star_polygon(n=2000, step=997):
    """A closed ring of n vertices jumping `step` of n around a circle: every edge crosses hundreds."""
    pts = []
    for i in range(n):
        a = 2 * math.pi * i * step / n
        pts.append((39.9 + 0.01 * math.cos(a), 21.4 + 0.01 * math.sin(a)))
    pts.append(pts[0])
    return "POLYGON((%s))" % ",".join("%.7f %.7f" % p for p in pts)


SQUARE = "POLYGON((39.80 21.30,39.81 21.30,39.81 21.31,39.80 21.31,39.80 21.30))"


def run_import(db, *args, timeout=60):
    """`mashaer import` -> (CompletedProcess, CPU seconds of the child and its children)."""
    p, cpu, _ = import_with_peak(db, *args, timeout=timeout)
    return p, cpu


def import_with_peak(db, *args, timeout=60):
    """`mashaer import` -> (CompletedProcess, CPU seconds, the child's own peak resident MB), both from
    wait4, so that they count the child and the children it waited for (the MakeValid child). A budget
    is checked in CPU time, not wall time: a loaded machine stretches the wall clock, not the work;
    `timeout` (wall) only bounds a hang."""
    out_path, err_path = mshtest.work_path("peak.stdout"), mshtest.work_path("peak.stderr")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = mshtest.spawn([mshtest.CONFIG.mashaer, "import", "--db", mshtest.store_url(db)] + list(args),
                             stdout=out, stderr=err)
    result = {}
    waiter = threading.Thread(target=lambda: result.update(w=os.wait4(proc.pid, 0)))
    waiter.start()
    waiter.join(timeout)
    if waiter.is_alive():
        proc.kill()
        waiter.join()
        raise AssertionError("mashaer import %s ran over %d s" % (" ".join(args), timeout))
    _, status, ru = result["w"]
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path) as f1, open(err_path) as f2:
        return (subprocess.CompletedProcess(proc.args, proc.returncode, f1.read(), f2.read()),
                ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024)


class ImportHostile(unittest.TestCase):
    def test_arabic_layer_names_distinct_with_titles(self):
        db = mshtest.work_path("arabic.sqlite")
        src = gpkg(mshtest.work_path("arabic.gpkg"),
                   [(AR_CAMPS, [("c1", "POINT(39.89 21.41)")]),
                    (AR_WALKS, [("w1", "LINESTRING(39.9 21.4,39.91 21.41)"), ("w2", "POINT(39.9 21.4)")])])
        p, _ = run_import(db, src)
        self.assertEqual(p.returncode, 0, p.stderr)
        with mshtest.Store(db) as st:
            reg = st.registry()
            self.assertEqual(sorted(reg), ["almkhymat", "almmrat"])
            self.assertEqual(reg["almkhymat"]["title"], AR_CAMPS)
            self.assertEqual(reg["almmrat"]["title"], AR_WALKS)
            self.assertEqual({r["label"] for r in st.rows("almkhymat").values()}, {"c1"})
            self.assertEqual({r["label"] for r in st.rows("almmrat").values()}, {"w1", "w2"})
        self.assertIn("stored as 'almkhymat'", p.stderr)
        # names that transliterate alike (shadda and tatweel are dropped): a suffix, not a replacement
        db2 = mshtest.work_path("arabic_clash.sqlite")
        src2 = gpkg(mshtest.work_path("clash.gpkg"),
                    [("مخيم", [("a", "POINT(39.9 21.4)")]), ("مخيّـم", [("b", "POINT(39.91 21.41)")])])
        p, _ = run_import(db2, src2)
        self.assertEqual(p.returncode, 0, p.stderr)
        with mshtest.Store(db2) as st:
            reg = st.registry()
            self.assertEqual(sorted(reg), ["mkhym", "mkhym_2"])
            self.assertEqual((reg["mkhym"]["title"], reg["mkhym_2"]["title"]), ("مخيم", "مخيّـم"))
            self.assertEqual([r["label"] for r in st.rows("mkhym_2").values()], ["b"])
        self.assertIn("'mkhym' is taken", p.stderr)
        # the title reaches the viewer's catalog and the OGC API
        with mshtest.Server(db, name="arabic") as srv:
            cat = {l["id"]: l for l in srv.json("/catalog")["layers"]}
            self.assertEqual(cat["almkhymat"]["title"], AR_CAMPS)
            self.assertEqual(cat["almmrat"]["title"], AR_WALKS)
            col = srv.json("/ogc/collections/almmrat?f=json")
            self.assertEqual((col["id"], col["title"]), ("almmrat", AR_WALKS))
            items = srv.json("/ogc/collections/almmrat/items?f=json")
            self.assertEqual(sorted(f["properties"]["label"] for f in items["features"]), ["w1", "w2"])

    def test_self_crossing_polygon_rejected_within_budget(self):
        db = mshtest.work_path("bowtie.sqlite")
        star = star_polygon()
        self.assertGreater(len(star), 40000)
        src = gpkg(mshtest.work_path("bowtie.gpkg"),
                   [("zones", [("ok1", SQUARE), ("star", star), ("ok2", "POINT(39.9 21.4)")])])
        # the store exists first: what is timed is the import, not SpatiaLite's first set-up
        small = gpkg(mshtest.work_path("small.gpkg"), [("small", [("s", "POINT(39.9 21.4)")])])
        self.assertEqual(run_import(db, small)[0].returncode, 0)
        p, cpu, peak_mb = import_with_peak(db, src, timeout=120)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)  # partial: one feature rejected
        self.assertLess(cpu, 10.0, "import took %.1f s of CPU" % cpu)
        self.assertLess(peak_mb, 1024, "a child peaked at %.0f MB" % peak_mb)
        self.assertRegex(p.stderr, r"layer zones, feature 2 \(fid 2\): rejected: over the per-feature budget: "
                                   r"more than 1\.0 s in MakeValid")
        self.assertIn("1 rejected; PARTIAL", p.stdout)
        with mshtest.Store(db) as st:
            self.assertEqual(sorted(r["label"] for r in st.rows("zones").values()), ["ok1", "ok2"])
            self.assertEqual(sorted(st.registry()), ["small", "zones"])
        mshtest.note("2,000-vertex self-crossing polygon: import %.2f s of CPU, child peak %.0f MB" % (cpu, peak_mb))
        # a longer time budget reaches MakeValid's noding, which allocates a gigabyte without one GEOS
        # interrupt check (the CI machine got there within 1 s): the memory budget still holds it
        p, cpu, peak_mb = import_with_peak(db, "--feature-seconds", "8", src, timeout=120)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r"feature 2 \(fid 2\): rejected: over the per-feature budget: more than 512 MB of "
                                   r"memory in MakeValid")
        self.assertLess(peak_mb, 1024, "a child peaked at %.0f MB" % peak_mb)
        # the memory side of the budget alone (no time limit): stopped at 64 MB of growth
        p, cpu = run_import(db, "--feature-seconds", "0", "--feature-memory-mb", "64", src, timeout=120)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r"feature 2 \(fid 2\): rejected: over the per-feature budget: more than 64 MB of "
                                   r"memory in MakeValid")
        self.assertLess(cpu, 30.0)

    def test_recursive_view_refused_before_anything_is_written(self):
        db = mshtest.work_path("view.sqlite")
        path = gpkg(mshtest.work_path("view.gpkg"),
                    [("first", [("a", "POINT(39.9 21.4)")]), ("second", [("b", "POINT(39.91 21.41)")])])
        c = sqlite3.connect(path)
        c.execute("CREATE VIEW endless AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)"
                  " SELECT n AS fid, (SELECT geom FROM first) AS geom, n AS label FROM r")
        c.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)"
                  " VALUES ('endless', 'features', 'endless', 4326)")
        c.execute("INSERT INTO gpkg_geometry_columns VALUES ('endless', 'geom', 'POINT', 4326, 0, 0)")
        c.commit()
        c.close()
        # a store that already holds a layer named like the first one: it must stay as it was
        good = gpkg(mshtest.work_path("first.gpkg"), [("first", [("old", "POINT(39.8 21.3)")])])
        self.assertEqual(run_import(db, good)[0].returncode, 0)
        p, cpu = run_import(db, path, timeout=120)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertLess(cpu, 10.0)
        self.assertIn("layer 'endless' is an SQL view", p.stderr)
        with mshtest.Store(db) as st:
            self.assertEqual(sorted(st.registry()), ["first"])
            self.assertEqual([r["label"] for r in st.rows("first").values()], ["old"])
        # the other layers can still be imported by name
        p, _ = run_import(db, "--source-layer", "second", path)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_csv_bad_row_rejected_alone(self):
        deep = "GEOMETRYCOLLECTION(" * 200 + "POINT(39.9 21.4)" + ")" * 200
        path = mshtest.work_path("nested.csv")
        with open(path, "w") as f:
            f.write('name,beds,wkt\none,10,"POINT(39.9 21.4)"\ntwo,20,"%s"\nthree,30,"POINT(39.91 21.41)"\n' % deep)
        db = mshtest.work_path("nested.sqlite")
        p, _ = run_import(db, path)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r"layer nested, feature 2 \(fid 2\): rejected: geometry could not be read: .*recursion")
        self.assertIn("1 of 1 sources imported, 1 layers, 2 features imported", p.stdout)
        with mshtest.Store(db) as st:
            rows = sorted((r["name"], r["beds"]) for r in st.rows("nested").values())
            self.assertEqual(rows, [("one", 10), ("three", 30)])
            geoms = sorted(g.ExportToWkt() for g in st.geometries("nested").values())
            self.assertEqual(geoms, ["POINT (39.9 21.4)", "POINT (39.91 21.41)"])
        # --strict: one rejected row fails the file; nothing changes
        db2 = mshtest.work_path("nested_strict.sqlite")
        p, _ = run_import(db2, "--strict", path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("--strict", p.stderr)
        with mshtest.Store(db2) as st:
            self.assertEqual(st.registry(), {})

    def test_geometry_collection_kept_whole(self):
        gc = ("GEOMETRYCOLLECTION(POINT(39.9 21.4),LINESTRING(39.9 21.4,39.91 21.41),"
              "POLYGON((39.8 21.3,39.81 21.3,39.81 21.31,39.8 21.31,39.8 21.3)))")
        src = gpkg(mshtest.work_path("gc.gpkg"), [("mixed", [("gc", gc), ("pt", "POINT(39.95 21.45)")])])
        db = mshtest.work_path("gc.sqlite")
        p, _ = run_import(db, src)
        self.assertEqual(p.returncode, 0, p.stderr)
        with mshtest.Store(db) as st:
            rows = st.rows("mixed")
            geoms = st.geometries("mixed")
            got = sorted((rows[fid]["label"], g.ExportToWkt()) for fid, g in geoms.items())
            want = sorted([("gc", "POINT (39.9 21.4)"), ("gc", "LINESTRING (39.9 21.4,39.91 21.41)"),
                           ("gc", "POLYGON ((39.8 21.3,39.81 21.3,39.81 21.31,39.8 21.31,39.8 21.3))"),
                           ("pt", "POINT (39.95 21.45)")])
            self.assertEqual(got, want)
            self.assertEqual(st.registry()["mixed"]["geometry_type"], "Geometry")
        self.assertIn("1 geometry collections stored as one feature per geometry family", p.stderr)
        with mshtest.Server(db, name="gc") as srv:
            items = srv.json("/ogc/collections/mixed/items?f=json")
            kinds = sorted(f["geometry"]["type"] for f in items["features"] if f["properties"]["label"] == "gc")
            self.assertEqual(kinds, ["LineString", "Point", "Polygon"])

    def test_antimeridian_split(self):
        src = gpkg(mshtest.work_path("fiji.gpkg"),
                   [("fiji", [("poly", "POLYGON((179 -17,-179 -17,-179 -16,179 -16,179 -17))"),
                              ("line", "LINESTRING(178.5 -18,-178.5 -18)"),
                              ("near", "POLYGON((178 -17,178.5 -17,178.5 -16,178 -16,178 -17))")])])
        db = mshtest.work_path("fiji.sqlite")
        p, _ = run_import(db, src)
        self.assertEqual(p.returncode, 0, p.stderr)
        with mshtest.Store(db) as st:
            rows = st.rows("fiji")
            by = {rows[fid]["label"]: g for fid, g in st.geometries("fiji").items()}
        poly = by["poly"]
        self.assertEqual(poly.GetGeometryName(), "MULTIPOLYGON")
        parts = sorted(poly.GetGeometryRef(i).GetEnvelope() for i in range(poly.GetGeometryCount()))
        self.assertEqual(parts, [(-180.0, -179.0, -17.0, -16.0), (179.0, 180.0, -17.0, -16.0)])
        self.assertAlmostEqual(poly.GetArea(), 2.0, places=9)  # not a 358-degree band
        line = by["line"]
        self.assertEqual(line.GetGeometryName(), "MULTILINESTRING")
        self.assertAlmostEqual(line.Length(), 3.0, places=9)
        segs = sorted(line.GetGeometryRef(i).GetEnvelope()[:2] for i in range(line.GetGeometryCount()))
        self.assertEqual(segs, [(-180.0, -178.5), (178.5, 180.0)])
        self.assertIn("2 features crossing the antimeridian split", p.stderr)
        self.assertEqual(by["near"].ExportToWkt(), "POLYGON ((178 -17,178.5 -17,178.5 -16,178 -16,178 -17))")


if __name__ == "__main__":
    mshtest.main()
