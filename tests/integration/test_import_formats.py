"""Importing many formats and awkward geometries, checked in the store and in the tiles.

The fixtures are written by this test into its work dir with GDAL (and by hand
for CSV and KML):
  shapes.geojson   polygon with a hole, multipolygon, bow-tie (repaired), no geometry (skipped)
  line3d.geojson   a 3D line (Z dropped)
  bad.geojson      a point outside EPSG:4326 and a degenerate line (both rejected)
  sites_utm.gpkg   EPSG:32637 points and polygons with Arabic attributes
  gates_wkt.csv    a CSV with a WKT column
  pumps.csv        a CSV with lon/lat columns
  places.kml       a KML with a point, a line and a polygon
"""

import math
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from mshtest import ogr, osr  # noqa: E402

DEG_TOLERANCE = 1e-6   # reprojected coordinates vs osr, degrees
AREA_REL = 1e-9        # store areas vs the exact fixture areas (no reprojection: only float noise)
TILE_AREA_REL = 0.005  # decoded z13 polygon area vs store area in EPSG:3857

Z = 13
# all planar fixtures fit inside one z13 tile near Mina, so one tile shows every feature whole
TX, TY = mshtest.lonlat_to_tile(39.90, 21.41, Z)


def tile_lonlat_bounds():
    n = 1 << Z
    w = TX / n * 360.0 - 180.0
    e = (TX + 1) / n * 360.0 - 180.0
    nn = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * TY / n))))
    s = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (TY + 1) / n))))
    return w, s, e, nn


W, S, E, N = tile_lonlat_bounds()


def P(fx, fy):
    """A lon/lat point at fractions (fx, fy) of the z13 tile (0,0 = south-west)."""
    return (round(W + fx * (E - W), 7), round(S + fy * (N - S), 7))


def ring_wkt(pts):
    return "(" + ", ".join("%r %r" % p for p in pts) + ")"


def rect(fx0, fy0, fx1, fy1):
    return [P(fx0, fy0), P(fx1, fy0), P(fx1, fy1), P(fx0, fy1), P(fx0, fy0)]


def shoelace(pts):
    """Area of a closed ring (computed relative to its first point, to keep the digits)."""
    ox, oy = pts[0]
    a = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        a += (x0 - ox) * (y1 - oy) - (x1 - ox) * (y0 - oy)
    return abs(a) / 2


def polygons(g):
    """The polygons of a Polygon or MultiPolygon, as a list."""
    if ogr.GT_Flatten(g.GetGeometryType()) == ogr.wkbPolygon:
        return [g]
    return [g.GetGeometryRef(i) for i in range(g.GetGeometryCount())]


HOLE_OUTER = rect(0.05, 0.05, 0.30, 0.30)
HOLE_INNER = rect(0.10, 0.10, 0.20, 0.20)
MULTI_A = rect(0.40, 0.05, 0.50, 0.15)
MULTI_B = rect(0.60, 0.05, 0.70, 0.15)
# bow-tie: (0,0) -> (2,2) -> (2,0) -> (0,2) -> (0,0) in units of 0.1 tile, crossing at (1,1)
BOWTIE = [P(0.05, 0.50), P(0.25, 0.70), P(0.25, 0.50), P(0.05, 0.70), P(0.05, 0.50)]
BOWTIE_AREA = shoelace([P(0.05, 0.50), P(0.15, 0.60), P(0.05, 0.70), P(0.05, 0.50)]) + \
    shoelace([P(0.25, 0.50), P(0.25, 0.70), P(0.15, 0.60), P(0.25, 0.50)])

SHAPES = [
    # name, kind, rank, score, ok, wkt
    ("hole", "polygon with a hole", 1, 0.5, True,
     "POLYGON (%s, %s)" % (ring_wkt(HOLE_OUTER), ring_wkt(HOLE_INNER))),
    ("multi", "multipolygon", 2, -1.25, False,
     "MULTIPOLYGON ((%s), (%s))" % (ring_wkt(MULTI_A), ring_wkt(MULTI_B))),
    ("nogeom", "no geometry", 3, 0.0, True, None),
    ("bowtie", "self-intersecting", -4, 1e-12, False, "POLYGON (%s)" % ring_wkt(BOWTIE)),
]

LINE3D = [P(0.30, 0.80) + (120.5,), P(0.50, 0.90) + (180.25,), P(0.70, 0.85) + (99.0,)]

ARABIC = [
    # name_ar, name_en, pop, lon, lat
    ("منى", "Mina", 3000000000, 39.8933, 21.4133),
    ("عرفات", "Arafat", 2500000, 39.9841, 21.3549),
    ("مُزْدَلِفَة", "Muzdalifah (with harakat)", -7, 39.9361, 21.3830),
    ("مكة المكرمة 🕋 «١٤٤٥»", "Makkah (emoji, Arabic digits, guillemets)", 0, 39.8262, 21.4225),
]

CSV_WKT = [(1, "Gate A", rect(0.75, 0.75, 0.80, 0.80)), (2, "Gate B, north", rect(0.85, 0.75, 0.90, 0.85))]
CSV_LONLAT = [("Pump 1", 39.90123456, 21.41234567, 12, 0.75), ("Pump 2", 39.8987654, 21.4098765, 0, 1.5)]


def write_ogr(path, driver, layers):
    """layers: [(name, srs epsg, geom type, [(field, ogr type, subtype)], [(values dict, geometry wkt or None)])]"""
    drv = ogr.GetDriverByName(driver)
    if os.path.exists(path):
        drv.DeleteDataSource(path)
    ds = drv.CreateDataSource(path)
    for name, epsg, gtype, fields, feats in layers:
        lyr = ds.CreateLayer(name, mshtest.srs(epsg), gtype)
        for fname, ftype, sub in fields:
            fd = ogr.FieldDefn(fname, ftype)
            if sub is not None:
                fd.SetSubType(sub)
            lyr.CreateField(fd)
        for values, wkt in feats:
            f = ogr.Feature(lyr.GetLayerDefn())
            for k, v in values.items():
                f.SetField(k, v)
            if wkt:
                f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
            lyr.CreateFeature(f)
    ds = None


class ImportFormats(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = mshtest.work_path("formats.sqlite")
        cls.reports = {}
        cls.stderr = {}
        cls.make_fixtures()
        for src, layer, extra in (("shapes.geojson", "shapes", []), ("line3d.geojson", "line3d", []),
                                  ("bad.geojson", "bad", []), ("sites_utm.gpkg", None, []),
                                  ("gates_wkt.csv", "gate_points", []), ("pumps.csv", "pumps", []),
                                  ("places.kml", "places", [])):
            # bad.geojson has rejected features: a partial import exits 3
            p, reps = mshtest.import_layer(cls.db, mshtest.work_path(src), layer, *extra,
                                           check=3 if src == "bad.geojson" else 0)
            for r in reps:
                cls.reports[r["name"]] = r
            cls.stderr[src] = p.stderr
        cls.store = mshtest.Store(cls.db)

    @classmethod
    def tearDownClass(cls):
        cls.store.close()

    @classmethod
    def make_fixtures(cls):
        write_ogr(mshtest.work_path("shapes.geojson"), "GeoJSON", [(
            "shapes", 4326, ogr.wkbUnknown,
            [("name", ogr.OFTString, None), ("kind", ogr.OFTString, None), ("rank", ogr.OFTInteger, None),
             ("score", ogr.OFTReal, None), ("ok", ogr.OFTInteger, ogr.OFSTBoolean)],
            [({"name": n, "kind": k, "rank": r, "score": s, "ok": int(b)}, wkt) for n, k, r, s, b, wkt in SHAPES])])
        write_ogr(mshtest.work_path("line3d.geojson"), "GeoJSON", [(
            "line3d", 4326, ogr.wkbLineString25D, [("name", ogr.OFTString, None)],
            [({"name": "ramp"}, "LINESTRING Z (%s)" % ", ".join("%r %r %r" % p for p in LINE3D))])])
        write_ogr(mshtest.work_path("bad.geojson"), "GeoJSON", [(
            "bad", 4326, ogr.wkbUnknown, [("name", ogr.OFTString, None)],
            [({"name": "fine"}, "POINT (39.9 21.4)"),
             ({"name": "off the earth"}, "POINT (200 95)"),
             ({"name": "degenerate"}, "LINESTRING (39.9 21.4, 39.9 21.4)")])])
        # UTM 37N: points at known lon/lat, stored as UTM metres rounded to the millimetre
        to_utm = osr.CoordinateTransformation(mshtest.srs(4326), mshtest.srs(32637))
        cls.utm_points = []
        for ar, en, pop, lon, lat in ARABIC:
            x, y, _ = to_utm.TransformPoint(lon, lat)
            cls.utm_points.append((ar, en, pop, round(x, 3), round(y, 3)))
        mx, my = cls.utm_points[0][3], cls.utm_points[0][4]
        cls.utm_square = [(mx - 250, my - 250), (mx + 250, my - 250), (mx + 250, my + 250), (mx - 250, my + 250),
                          (mx - 250, my - 250)]
        write_ogr(mshtest.work_path("sites_utm.gpkg"), "GPKG", [
            ("holy_sites", 32637, ogr.wkbPoint,
             [("name_ar", ogr.OFTString, None), ("name_en", ogr.OFTString, None), ("pop", ogr.OFTInteger64, None)],
             [({"name_ar": ar, "name_en": en, "pop": pop}, "POINT (%r %r)" % (x, y))
              for ar, en, pop, x, y in cls.utm_points]),
            ("zones", 32637, ogr.wkbPolygon, [("name_ar", ogr.OFTString, None)],
             [({"name_ar": "مخيمات منى"}, "POLYGON (%s)" % ring_wkt(cls.utm_square))]),
        ])
        with open(mshtest.work_path("gates_wkt.csv"), "w", encoding="utf-8") as f:
            f.write("id,name,wkt\n")
            for i, name, ring in CSV_WKT:
                f.write('%d,"%s","POLYGON (%s)"\n' % (i, name, ring_wkt(ring)))
        with open(mshtest.work_path("pumps.csv"), "w", encoding="utf-8") as f:
            f.write("name,lon,lat,count,level\n")
            for name, lon, lat, count, level in CSV_LONLAT:
                f.write("%s,%r,%r,%d,%r\n" % (name, lon, lat, count, level))
        pt, line, poly = P(0.5, 0.5), [P(0.4, 0.4), P(0.6, 0.45), P(0.7, 0.3)], rect(0.55, 0.55, 0.65, 0.65)
        coords = lambda pts, z="": " ".join("%r,%r%s" % (x, y, z) for x, y in pts)  # noqa: E731
        kml = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
<Document>
  <name>places</name>
  <Placemark><name>جمرة العقبة</name><description>a point with an altitude</description>
    <Point><coordinates>%s</coordinates></Point></Placemark>
  <Placemark><name>path</name><description>a line</description>
    <LineString><coordinates>%s</coordinates></LineString></Placemark>
  <Placemark><name>square</name><description>a polygon</description>
    <Polygon><outerBoundaryIs><LinearRing><coordinates>%s</coordinates></LinearRing></outerBoundaryIs></Polygon>
  </Placemark>
</Document>
</kml>
""" % (coords([pt], ",25"), coords(line), coords(poly))
        with open(mshtest.work_path("places.kml"), "w", encoding="utf-8") as f:
            f.write(kml)
        cls.kml = {"point": pt, "line": line, "poly": poly}

    # -- the store ------------------------------------------------------

    def test_shapes_report(self):
        r = self.reports["shapes"]
        self.assertEqual((r["features"], r["repaired"], r["skipped"], r["rejected"]), (3, 1, 1, 0), r)
        reg = self.store.registry()["shapes"]
        self.assertEqual(reg["feature_count"], 3)
        self.assertEqual(reg["geometry_type"], "Polygon")
        self.assertEqual({f["name"]: f["type"] for f in reg["fields"]},
                         {"name": "string", "kind": "string", "rank": "integer", "score": "number", "ok": "boolean"})

    def test_shapes_store_content(self):
        rows = self.store.sql('SELECT fid, name, kind, rank, score, ok, ST_IsValid(geom), ST_SRID(geom), '
                              'GeometryType(geom), ST_NumGeometries(geom), ST_Area(geom) FROM shapes ORDER BY fid')
        self.assertEqual([r[1] for r in rows], ["hole", "multi", "bowtie"])
        self.assertEqual([r[0] for r in rows], [1, 2, 3])
        by = {r[1]: r for r in rows}
        for name, kind, rank, score, ok, wkt in SHAPES:
            if name == "nogeom":
                continue
            r = by[name]
            self.assertEqual((r[2], r[3], r[4], r[5]), (kind, rank, score, int(ok)), name)
            self.assertEqual(r[6], 1, "%s is not valid in the store" % name)
            self.assertEqual(r[7], 4326)
        hole_area = shoelace(HOLE_OUTER) - shoelace(HOLE_INNER)
        self.assertAlmostEqual(by["hole"][10], hole_area, delta=AREA_REL * hole_area + 1e-15)
        self.assertEqual(self.store.sql("SELECT ST_NumInteriorRing(geom) FROM shapes WHERE name='hole'")[0][0], 1)
        self.assertIn(by["hole"][8], ("POLYGON", "MULTIPOLYGON"))
        self.assertEqual(by["multi"][8], "MULTIPOLYGON")
        self.assertEqual(by["multi"][9], 2)
        multi_area = shoelace(MULTI_A) + shoelace(MULTI_B)
        self.assertAlmostEqual(by["multi"][10], multi_area, delta=AREA_REL * multi_area + 1e-15)
        # the bow-tie became its two triangles, same total area
        self.assertEqual(by["bowtie"][8], "MULTIPOLYGON")
        self.assertEqual(by["bowtie"][9], 2)
        self.assertAlmostEqual(by["bowtie"][10], BOWTIE_AREA, delta=1e-9 * BOWTIE_AREA)
        # the hole is a hole: its centre is outside, a point of the ring band is inside
        g = self.store.geometries("shapes")[1]
        c = P(0.15, 0.15)
        self.assertFalse(g.Contains(ogr.CreateGeometryFromWkt("POINT (%r %r)" % c)))
        self.assertTrue(g.Contains(ogr.CreateGeometryFromWkt("POINT (%r %r)" % P(0.07, 0.07))))
        # exact vertices: no reprojection of EPSG:4326 data
        outer = g.GetGeometryRef(0) if g.GetGeometryType() == ogr.wkbPolygon else g.GetGeometryRef(0).GetGeometryRef(0)
        got = sorted(set(outer.GetPoints()))
        self.assertEqual(got, sorted(set(HOLE_OUTER)))

    def test_3d_line_made_2d(self):
        r = self.reports["line3d"]
        self.assertEqual((r["features"], r["repaired"], r["skipped"], r["rejected"]), (1, 0, 0, 0), r)
        (is3d, dim, text), = self.store.sql("SELECT ST_Is3D(geom), CoordDimension(geom), AsText(geom) FROM line3d")
        self.assertEqual(is3d, 0)
        self.assertEqual(dim, "XY")
        self.assertTrue(text.startswith("LINESTRING("), text)
        g = self.store.geometries("line3d")[1]
        self.assertEqual(g.GetCoordinateDimension(), 2)
        self.assertEqual(g.GetPoints(), [(x, y) for x, y, _ in LINE3D])
        self.assertEqual(self.store.registry()["line3d"]["geometry_type"], "LineString")

    def test_rejected_features(self):
        r = self.reports["bad"]
        self.assertEqual((r["features"], r["repaired"], r["skipped"], r["rejected"]), (1, 0, 0, 2), r)
        err = self.stderr["bad.geojson"]
        self.assertIn("bad.geojson", err)
        self.assertEqual(err.count("rejected"), 2, err)
        self.assertIn("outside", err)
        self.assertEqual([row["name"] for row in self.store.rows("bad").values()], ["fine"])

    def test_utm_geopackage(self):
        # both layers of the GeoPackage, under their own names
        self.assertEqual(self.reports["holy_sites"]["src"], "holy_sites")
        self.assertEqual(self.reports["holy_sites"]["features"], len(ARABIC))
        self.assertEqual(self.reports["zones"]["features"], 1)
        to_ll = osr.CoordinateTransformation(mshtest.srs(32637), mshtest.srs(4326))
        geoms = self.store.geometries("holy_sites")
        rows = self.store.rows("holy_sites")
        self.assertEqual(len(rows), len(ARABIC))
        for fid, (ar, en, pop, x, y) in zip(sorted(rows), self.utm_points):
            lon, lat, _ = to_ll.TransformPoint(x, y)
            g = geoms[fid]
            with self.subTest(site=en):
                self.assertLessEqual(abs(g.GetX() - lon), DEG_TOLERANCE)
                self.assertLessEqual(abs(g.GetY() - lat), DEG_TOLERANCE)
                # and close to where the fixture started (mm rounding in UTM)
                src = [a for a in ARABIC if a[1] == en][0]
                self.assertLessEqual(abs(g.GetX() - src[3]), 1e-7)
                self.assertLessEqual(abs(g.GetY() - src[4]), 1e-7)
                self.assertEqual(rows[fid]["name_en"], en)
                self.assertEqual(rows[fid]["pop"], pop)
        # Arabic text byte for byte
        raw = self.store.rows("holy_sites", raw_text=True)
        self.assertEqual([raw[fid]["name_ar"] for fid in sorted(raw)],
                         [a[0].encode("utf-8") for a in ARABIC])
        types = {f["name"]: f["type"] for f in self.store.registry()["holy_sites"]["fields"]}
        self.assertEqual(types, {"name_ar": "string", "name_en": "string", "pop": "integer"})
        # the polygon, vertex by vertex
        zone = self.store.geometries("zones")[1]
        ring = zone.GetGeometryRef(0)
        want = [to_ll.TransformPoint(x, y)[:2] for x, y in self.utm_square]
        got = ring.GetPoints()
        self.assertEqual(len(got), len(want))
        for (gx, gy), (wx, wy) in zip(got, want):
            self.assertLessEqual(abs(gx - wx), DEG_TOLERANCE)
            self.assertLessEqual(abs(gy - wy), DEG_TOLERANCE)
        self.assertEqual(self.store.rows("zones", raw_text=True)[1]["name_ar"], "مخيمات منى".encode("utf-8"))

    def test_s_srs_override(self):
        """--s-srs EPSG:32637 on a CSV of UTM coordinates that says nothing of its CRS (else read as EPSG:4326)."""
        path = mshtest.work_path("utm_no_crs.csv")
        with open(path, "w") as f:
            f.write("name,wkt\n")
            for ar, en, pop, x, y in self.utm_points:
                f.write('"%s","POINT (%r %r)"\n' % (en, x, y))
        db = mshtest.work_path("srs.sqlite")
        p, reps = mshtest.import_layer(db, path, "utm_points", "--s-srs", "EPSG:32637")
        self.assertEqual(reps[0]["features"], len(ARABIC))
        with mshtest.Store(db) as st:
            geoms = st.geometries("utm_points")
        for fid, (ar, en, pop, lon, lat) in zip(sorted(geoms), ARABIC):
            self.assertLessEqual(abs(geoms[fid].GetX() - lon), 1e-7, en)
            self.assertLessEqual(abs(geoms[fid].GetY() - lat), 1e-7, en)
        # without --s-srs the metres are not degrees: every point is rejected
        p, reps = mshtest.import_layer(db, path, "utm_raw", check=3)  # all rejected: a partial import
        self.assertEqual((reps[0]["features"], reps[0]["rejected"]), (0, len(ARABIC)))
        # an unknown CRS is an error
        p = mshtest.run_mashaer("import", "--db", db, "--layer", "x", "--s-srs", "EPSG:999999", path)
        self.assertEqual(p.returncode, 1)
        self.assertIn("EPSG:999999", p.stderr)

    def test_datetime_fields_each_kept(self):
        """Several date-time and date fields in one feature: each stored as its own value. GDAL
        formats such a field into one scratch string per feature, freed by the next such call: the
        importer copies each before reading the next (it stored freed memory before)."""
        src, db = mshtest.work_path("times.geojson"), mshtest.work_path("times.sqlite")
        with open(src, "w", encoding="utf-8") as f:
            json.dump({"type": "FeatureCollection", "features": [{"type": "Feature",
                       "geometry": {"type": "Point", "coordinates": [39.89, 21.41]},
                       "properties": {"name": "a", "opened_at": "2026-01-01T00:00:00Z", "assigned_at": "2026-01-01T00:10:00Z",
                                      "done_at": "2026-01-01T01:00:00Z", "day": "2026-05-26"}}]}, f)
        mshtest.import_layer(db, src, "times")
        store = mshtest.Store(db)
        try:
            rows = list(store.rows("times").values())
        finally:
            store.close()
        self.assertEqual(rows, [{"name": "a", "opened_at": "2026/01/01 00:00:00+00", "assigned_at": "2026/01/01 00:10:00+00",
                                 "done_at": "2026/01/01 01:00:00+00", "day": "2026/05/26"}])

    def test_csv_wkt(self):
        r = self.reports["gate_points"]
        self.assertEqual((r["features"], r["skipped"], r["rejected"]), (2, 0, 0), r)
        types = {f["name"]: f["type"] for f in self.store.registry()["gate_points"]["fields"]}
        self.assertEqual(types, {"id": "integer", "name": "string"})
        rows = self.store.rows("gate_points")
        geoms = self.store.geometries("gate_points")
        for fid, (i, name, ring) in zip(sorted(rows), CSV_WKT):
            self.assertEqual(rows[fid], {"id": i, "name": name})
            g = geoms[fid]
            self.assertEqual(g.GetGeometryType(), ogr.wkbPolygon)
            self.assertEqual(g.GetGeometryRef(0).GetPoints(), ring)
        self.assertEqual(self.store.registry()["gate_points"]["geometry_type"], "Polygon")

    def test_csv_lonlat(self):
        r = self.reports["pumps"]
        self.assertEqual((r["features"], r["skipped"], r["rejected"]), (2, 0, 0), r)
        types = {f["name"]: f["type"] for f in self.store.registry()["pumps"]["fields"]}
        self.assertEqual(types, {"name": "string", "count": "integer", "level": "number"})
        rows = self.store.rows("pumps")
        geoms = self.store.geometries("pumps")
        for fid, (name, lon, lat, count, level) in zip(sorted(rows), CSV_LONLAT):
            self.assertEqual(rows[fid], {"name": name, "count": count, "level": level})
            self.assertEqual((geoms[fid].GetX(), geoms[fid].GetY()), (lon, lat))
        self.assertEqual(self.store.registry()["pumps"]["geometry_type"], "Point")

    def test_kml(self):
        r = self.reports["places"]
        self.assertEqual((r["features"], r["skipped"], r["rejected"]), (3, 0, 0), r)
        reg = self.store.registry()["places"]
        self.assertEqual(reg["geometry_type"], "Geometry")  # points, lines and polygons together
        names = [f["name"] for f in reg["fields"]]
        name_field = [n for n in names if n.lower() == "name"]
        self.assertEqual(len(name_field), 1, names)
        rows = self.store.rows("places", raw_text=True)
        geoms = self.store.geometries("places")
        by_name = {rows[fid][name_field[0]].decode("utf-8"): geoms[fid] for fid in rows}
        self.assertEqual(set(by_name), {"جمرة العقبة", "path", "square"})
        pt = by_name["جمرة العقبة"]
        self.assertEqual(pt.GetCoordinateDimension(), 2)  # the altitude is dropped
        self.assertAlmostEqual(pt.GetX(), self.kml["point"][0], delta=1e-9)
        self.assertAlmostEqual(pt.GetY(), self.kml["point"][1], delta=1e-9)
        self.assertEqual(ogr.GT_Flatten(by_name["path"].GetGeometryType()), ogr.wkbLineString)
        for (gx, gy), (wx, wy) in zip(by_name["path"].GetPoints(), self.kml["line"]):
            self.assertAlmostEqual(gx, wx, delta=1e-9)
            self.assertAlmostEqual(gy, wy, delta=1e-9)
        self.assertEqual(ogr.GT_Flatten(by_name["square"].GetGeometryType()), ogr.wkbPolygon)
        self.assertAlmostEqual(by_name["square"].GetArea(), shoelace(self.kml["poly"]), delta=1e-12)

    # -- the tiles ------------------------------------------------------

    def test_tiles(self):
        with mshtest.Server(self.db) as srv:
            cat = {l["id"]: l for l in srv.json("/catalog")["layers"] if l["kind"] == "static"}
            self.assertEqual(set(cat), {"shapes", "line3d", "bad", "holy_sites", "zones", "gate_points", "pumps", "places"})
            self.assertEqual(cat["shapes"]["fields"]["ok"], "boolean")
            r = srv.get("/tiles/shapes,line3d,gate_points,pumps,places/%d/%d/%d.mvt" % (Z, TX, TY))
            self.assertEqual(r.status, 200)
            dec = mshtest.decode_mvt(r.body, Z, TX, TY)
            self.assertEqual(list(dec), ["shapes", "line3d", "gate_points", "pumps", "places"])
            store3857 = {fid: mshtest.to_3857(g) for fid, g in self.store.geometries("shapes").items()}
            shapes = {f.id: f for f in dec["shapes"]}
            self.assertEqual(set(shapes), {1, 2, 3})
            for fid, f in shapes.items():
                want = store3857[fid].GetArea()
                self.assertLessEqual(abs(f.geom.GetArea() - want) / want, TILE_AREA_REL, f.attrs["name"])
                self.assertTrue(f.geom.IsValid(), f.attrs["name"])
            hole = shapes[1]
            self.assertEqual(hole.attrs, {"name": "hole", "kind": "polygon with a hole", "rank": 1, "score": 0.5,
                                          "ok": 1})
            # (GDAL may hand a single polygon back as a one-part MultiPolygon)
            self.assertEqual([p.GetGeometryCount() for p in polygons(hole.geom)], [2])  # outer ring + hole
            self.assertEqual([p.GetGeometryCount() for p in polygons(shapes[2].geom)], [1, 1])  # two polygons
            self.assertEqual([p.GetGeometryCount() for p in polygons(shapes[3].geom)], [1, 1])  # two triangles
            c = mshtest.to_3857(ogr.CreateGeometryFromWkt("POINT (%r %r)" % P(0.15, 0.15)))
            self.assertFalse(hole.geom.Contains(c), "the hole is filled in the tile")
            self.assertEqual(shapes[3].attrs["rank"], -4)
            self.assertEqual(shapes[3].attrs["score"], 1e-12)
            self.assertEqual(shapes[2].attrs["score"], -1.25)
            line = dec["line3d"][0]
            self.assertEqual(line.attrs, {"name": "ramp"})
            want = mshtest.to_3857(self.store.geometries("line3d")[1])
            self.assertLessEqual(abs(line.geom.Length() - want.Length()) / want.Length(), 0.001)
            self.assertEqual({f.attrs["name"] for f in dec["gate_points"]}, {"Gate A", "Gate B, north"})
            self.assertEqual({f.attrs["count"] for f in dec["pumps"]}, {0, 12})
            self.assertEqual(len(dec["places"]), 3)

            # Arabic attributes through the tile, byte for byte
            mx, my = mshtest.lonlat_to_tile(ARABIC[0][3], ARABIC[0][4], 14)
            r = srv.get("/tiles/holy_sites,zones/14/%d/%d.mvt" % (mx, my))
            self.assertEqual(r.status, 200)
            for s in (ARABIC[0][0], "مخيمات منى"):
                self.assertIn(s.encode("utf-8"), r.body)
            dec = mshtest.decode_mvt(r.body, 14, mx, my)
            self.assertEqual(dec["holy_sites"][0].attrs["name_ar"], "منى")
            self.assertEqual(dec["holy_sites"][0].attrs["pop"], 3000000000)
            self.assertEqual(dec["zones"][0].attrs["name_ar"], "مخيمات منى")
            # the decoded point sits where osr puts the UTM point (within one z14 grid cell)
            want = mshtest.to_3857(ogr.CreateGeometryFromWkt("POINT (%r %r)" % (ARABIC[0][3], ARABIC[0][4])))
            cell = 2 * mshtest.MERC / (1 << 14) / 4096
            got = dec["holy_sites"][0].geom
            self.assertLessEqual(abs(got.GetX() - want.GetX()), cell)
            self.assertLessEqual(abs(got.GetY() - want.GetY()), cell)
            # every Arabic name, each in its own z14 tile
            for ar, en, pop, lon, lat in ARABIC:
                x, y = mshtest.lonlat_to_tile(lon, lat, 14)
                r = srv.get("/tiles/holy_sites/14/%d/%d.mvt" % (x, y))
                self.assertIn(ar.encode("utf-8"), r.body, en)
                names = {f.attrs["name_ar"] for f in mshtest.decode_mvt(r.body, 14, x, y)["holy_sites"]}
                self.assertIn(ar, names)


if __name__ == "__main__":
    mshtest.main()
