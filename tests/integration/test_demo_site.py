"""The demo site end to end: import every data/demo layer, serve it, decode tiles.

Checks that what the tiles say equals what the store holds:
  (a) feature ids over all tiles of a zoom = every fid of the store (points, camps),
  (b) attribute values of every decoded feature = the store row of its fid,
  (c) camp polygon areas summed over z16 tiles (each clipped to its tile) = source area,
  (d) walkway lengths summed over z16 tiles (clipped) = source length,
  (e) every decoded geometry is valid and non-empty.
"""

import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from mshtest import ogr  # noqa: E402

# Tolerances, stated once.
AREA_TOLERANCE = 0.01        # (c) total camp area over z16 tiles vs source, relative
CAMP_AREA_TOLERANCE = 0.03   # (c) one camp's area over z16 tiles vs its source area, relative
LENGTH_TOLERANCE = 0.01      # (d) total walkway length over z16 tiles vs source, relative
REAL_REL_TOLERANCE = 1e-9    # (b) real attributes, relative


def source_geometries_3857(layer):
    """[(source feature index, geometry in EPSG:3857)] of data/demo/{layer}.geojson, read by GDAL."""
    ds = ogr.Open(mshtest.demo_path(layer + ".geojson"))
    lyr = ds.GetLayer(0)
    lyr_srs = lyr.GetSpatialRef()
    lyr_srs.SetAxisMappingStrategy(mshtest.osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = mshtest.osr.CoordinateTransformation(lyr_srs, mshtest.srs(3857))
    out = []
    for i, f in enumerate(lyr):
        g = f.GetGeometryRef()
        if g is None:
            continue
        g = g.Clone()
        g.Transform(ct)
        out.append((i, g))
    return out


class DemoSite(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = mshtest.work_path("demo.sqlite")
        cls.reports = mshtest.import_demo(cls.db)
        cls.store = mshtest.Store(cls.db)
        cls.registry = cls.store.registry()
        cls.rows = {name: cls.store.rows(name) for name in mshtest.DEMO_LAYERS}
        cls.server = mshtest.Server(cls.db, "--threads", "2").start()
        cls._tiles = {}

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        cls.store.close()
        if rc != 0:
            raise AssertionError("mashaer serve exited %s after SIGTERM; stderr:\n%s" % (rc, cls.server.stderr()))

    # -- helpers --------------------------------------------------------

    def bounds(self, layer):
        r = self.registry[layer]
        return (r["minx"], r["miny"], r["maxx"], r["maxy"])

    def tile(self, layer, z, x, y):
        """Decoded features of `layer` in tile z/x/y (cached); [] for an empty tile."""
        key = (layer, z, x, y)
        if key not in self._tiles:
            resp, dec = mshtest.fetch_tile(self.server, layer, z, x, y)
            if resp.status == 200:
                self.assertEqual(set(dec), {layer}, "tile %s/%d/%d/%d has unexpected layers" % key)
            self._tiles[key] = dec.get(layer, [])
        return self._tiles[key]

    def zoom_tiles(self, layer, z, sample=None):
        """[(x, y, features)] for the tiles covering the layer's bounds at zoom z (every `sample`-th if given)."""
        xys = mshtest.tiles_covering(self.bounds(layer), z)
        if sample:
            xys = xys[::sample]
        return [(x, y, self.tile(layer, z, x, y)) for x, y in xys]

    def fetched(self, layer=None):
        for (lname, z, x, y), feats in self._tiles.items():
            if layer is None or lname == layer:
                yield lname, z, x, y, feats

    # -- tests ----------------------------------------------------------

    def test_00_import_reports_match_sources(self):
        for name in mshtest.DEMO_LAYERS:
            ds = ogr.Open(mshtest.demo_path(name + ".geojson"))
            n_source = ds.GetLayer(0).GetFeatureCount()
            rep = self.reports[name]
            with self.subTest(layer=name):
                self.assertEqual(rep["features"], n_source, rep)
                self.assertEqual((rep["repaired"], rep["skipped"], rep["rejected"]), (0, 0, 0), rep)
                self.assertEqual(self.store.count(name), n_source)
                self.assertEqual(self.registry[name]["feature_count"], n_source)
                self.assertEqual(self.registry[name]["version"], rep["version"])
        self.assertEqual(len(self.rows["walkways"]), 22001)
        self.assertEqual(self.registry["walkways"]["geometry_type"], "LineString")
        self.assertEqual(self.registry["camps"]["geometry_type"], "Polygon")
        self.assertEqual(self.registry["assets"]["geometry_type"], "Point")

    def test_01_point_ids_complete(self):
        """(a) for the point layer, the ids over every tile of a zoom are exactly the store's fids."""
        store_pts = {fid: mshtest.to_3857(g) for fid, g in self.store.geometries("assets").items()}
        for z in (13, 15):
            seen = set()
            n_tiles = 0
            for x, y, feats in self.zoom_tiles("assets", z):
                n_tiles += bool(feats)
                cell = (2 * mshtest.MERC / (1 << z)) / 4096
                for f in feats:
                    self.assertIsNotNone(f.id, "a point without a feature id in %d/%d/%d" % (z, x, y))
                    seen.add(f.id)
                    # the decoded point is the stored point snapped to the 4096 grid
                    sp = store_pts[f.id]
                    self.assertEqual(f.geom.GetGeometryType(), ogr.wkbPoint)
                    d = math.hypot(f.geom.GetX() - sp.GetX(), f.geom.GetY() - sp.GetY())
                    self.assertLessEqual(d, cell * 0.75, "asset %d moved %.3f m in %d/%d/%d" % (f.id, d, z, x, y))
            with self.subTest(z=z):
                self.assertGreater(n_tiles, 1)
                self.assertEqual(seen, set(self.rows["assets"]),
                                 "z%d: missing %s, extra %s" % (z, sorted(set(self.rows["assets"]) - seen)[:20],
                                                                 sorted(seen - set(self.rows["assets"]))[:20]))

    def test_02_camp_ids_complete_z15(self):
        """(a) every camp appears in some z15 tile under its fid, and nothing else does."""
        seen = set()
        for x, y, feats in self.zoom_tiles("camps", 15):
            seen.update(f.id for f in feats)
        self.assertEqual(seen, set(self.rows["camps"]))
        # z13 too: camps are much larger than a grid cell there
        seen13 = set()
        for x, y, feats in self.zoom_tiles("camps", 13):
            seen13.update(f.id for f in feats)
        self.assertEqual(seen13, set(self.rows["camps"]))

    def test_03_walkway_ids_z16(self):
        """(a) every walkway longer than a z16 grid cell appears in the z16 tiles."""
        cell = (2 * mshtest.MERC / (1 << 16)) / 4096
        long_enough = {fid for fid, g in self.store.geometries("walkways").items()
                       if mshtest.to_3857(g).Length() > 2 * cell}
        seen = set()
        for x, y, feats in self.zoom_tiles("walkways", 16):
            seen.update(f.id for f in feats)
        self.assertLessEqual(seen, set(self.rows["walkways"]), "ids that are not store fids")
        self.assertEqual(long_enough - seen, set(), "walkways missing from every z16 tile")

    def test_04_attributes_equal_store(self):
        """(b) attributes of every decoded feature equal the store row of the same fid."""
        # make sure every layer has tiles fetched, across zooms
        for layer in mshtest.DEMO_LAYERS:
            for z in (13, 15):
                self.zoom_tiles(layer, z)
        for z in (14, 17):
            self.zoom_tiles("walkways", z, sample=None if z == 14 else 37)
        self.zoom_tiles("camps", 16)
        checked = {name: 0 for name in mshtest.DEMO_LAYERS}
        for layer, z, x, y, feats in self.fetched():
            rows = self.rows[layer]
            fields = self.store.field_names(layer)
            for f in feats:
                self.assertIn(f.id, rows, "%s %d/%d/%d: id %s is not a store fid" % (layer, z, x, y, f.id))
                row = rows[f.id]
                want = {k: v for k, v in row.items() if v is not None}
                self.assertEqual(set(f.attrs), set(want),
                                 "%s fid %d in %d/%d/%d: attribute keys differ" % (layer, f.id, z, x, y))
                for k, v in want.items():
                    if not mshtest.values_equal(v, f.attrs[k], REAL_REL_TOLERANCE):
                        self.fail("%s fid %d in %d/%d/%d: %s = %r in the tile, %r in the store"
                                  % (layer, f.id, z, x, y, k, f.attrs[k], v))
                    # integers stay integers, text stays text
                    self.assertEqual(type(f.attrs[k]) is str, type(v) is str, (layer, k, v, f.attrs[k]))
                self.assertTrue(set(f.attrs) <= set(fields))
                checked[layer] += 1
        for layer, n in checked.items():
            self.assertGreater(n, 0, "no feature of %s was checked" % layer)
        # Arabic text survives byte for byte: one known camp and one known site
        arabic = [f for _, _, _, _, feats in self.fetched("sites") for f in feats if f.attrs.get("site_id") == "mina"]
        self.assertTrue(arabic)
        self.assertEqual(arabic[0].attrs["name_ar"].encode("utf-8"), "منى".encode("utf-8"))

    def test_05_camp_area_z16(self):
        """(c) camp areas: decoded polygons clipped to their tile, summed over z16, vs the source (1%)."""
        z = 16
        per_fid = {}
        for x, y, feats in self.zoom_tiles("camps", z):
            for f in feats:
                part = mshtest.clip_to_tile(f.geom, z, x, y)
                per_fid[f.id] = per_fid.get(f.id, 0.0) + mshtest.polygon_area(part)
        source = source_geometries_3857("camps")
        src_total = sum(g.GetArea() for _, g in source)
        tile_total = sum(per_fid.values())
        self.assertGreater(src_total, 1e5)
        mshtest.note("camps z16: tiles %.1f m2, source %.1f m2, difference %.4f%%"
                     % (tile_total, src_total, 100 * (tile_total - src_total) / src_total))
        self.assertLessEqual(abs(tile_total - src_total) / src_total, AREA_TOLERANCE,
                             "z16 tile area %.1f m2 vs source %.1f m2" % (tile_total, src_total))
        # and camp by camp: source feature i is store fid i+1 (import keeps the order)
        store_area = {fid: mshtest.to_3857(g).GetArea() for fid, g in self.store.geometries("camps").items()}
        self.assertEqual(len(store_area), len(source))
        for i, g in source:
            self.assertAlmostEqual(store_area[i + 1], g.GetArea(), delta=1e-6 * g.GetArea())
        for fid, a in store_area.items():
            got = per_fid.get(fid, 0.0)
            self.assertLessEqual(abs(got - a) / a, CAMP_AREA_TOLERANCE,
                                 "camp %d: %.1f m2 over z16 tiles, %.1f m2 in the store" % (fid, got, a))

    def test_06_walkway_length_z16(self):
        """(d) walkway lengths: decoded lines clipped to their tile, summed over z16, vs the source (1%)."""
        z = 16
        tile_total = 0.0
        for x, y, feats in self.zoom_tiles("walkways", z):
            box = mshtest.box_geometry(*mshtest.tile_bounds_3857(z, x, y))
            for f in feats:
                tile_total += mshtest.line_length(f.geom.Intersection(box))
        src_total = sum(g.Length() for _, g in source_geometries_3857("walkways"))
        self.assertGreater(src_total, 1e5)
        mshtest.note("walkways z16: tiles %.1f m, source %.1f m, difference %.4f%%"
                     % (tile_total, src_total, 100 * (tile_total - src_total) / src_total))
        self.assertLessEqual(abs(tile_total - src_total) / src_total, LENGTH_TOLERANCE,
                             "z16 tile length %.1f m vs source %.1f m" % (tile_total, src_total))

    def test_07_geometries_valid(self):
        """(e) every decoded geometry is valid and non-empty, of the layer's type."""
        for layer in ("camps", "service_zones", "sites", "cleaning_routes"):
            for z in (13, 14, 15, 16):
                self.zoom_tiles(layer, z)
        self.zoom_tiles("assets", 13)
        self.zoom_tiles("walkways", 14)
        self.zoom_tiles("walkways", 17, sample=37)
        kinds = {"assets": (ogr.wkbPoint, ogr.wkbMultiPoint),
                 "camps": (ogr.wkbPolygon, ogr.wkbMultiPolygon),
                 "service_zones": (ogr.wkbPolygon, ogr.wkbMultiPolygon),
                 "sites": (ogr.wkbPolygon, ogr.wkbMultiPolygon),
                 "cleaning_routes": (ogr.wkbLineString, ogr.wkbMultiLineString),
                 "walkways": (ogr.wkbLineString, ogr.wkbMultiLineString),
                 "site_walkways": (ogr.wkbLineString, ogr.wkbMultiLineString)}
        n = 0
        bad = []
        for layer, z, x, y, feats in self.fetched():
            for f in feats:
                g = f.geom
                where = "%s fid %s in %d/%d/%d" % (layer, f.id, z, x, y)
                self.assertIsNotNone(g, where)
                self.assertIn(ogr.GT_Flatten(g.GetGeometryType()), kinds[layer], where)
                self.assertFalse(g.IsEmpty(), where)
                if not g.IsValid():
                    bad.append(where + ": " + g.ExportToWkt()[:200])
                if kinds[layer][0] == ogr.wkbPolygon:
                    self.assertGreater(g.GetArea(), 0, where)
                elif kinds[layer][0] == ogr.wkbLineString:
                    self.assertGreater(g.Length(), 0, where)
                n += 1
        self.assertGreater(n, 1000)
        self.assertEqual(bad, [], "%d invalid decoded geometries" % len(bad))


if __name__ == "__main__":
    mshtest.main()
