"""Zoom and simplification sanity on the demo polygons (camps, service zones, sites).

* the z11 tile holding Mina is smaller (bytes and vertices) than its z15 tiles
  put together, and still has every camp that meets it;
* no decoded polygon is invalid or empty at any zoom from 0 to 14;
* per-layer --minzoom/--maxzoom are honoured (no features outside the range).
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from mshtest import ogr  # noqa: E402

LOW_ZOOM_AREA_TOLERANCE = 0.05  # z12 camp area (clipped, summed) vs source, relative
POLYGON_LAYERS = ("camps", "service_zones", "sites")


def vertex_count(g):
    n = g.GetPointCount()
    for i in range(g.GetGeometryCount()):
        n += vertex_count(g.GetGeometryRef(i))
    return n


class Zoom(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = mshtest.work_path("zoom.sqlite")
        mshtest.import_demo(cls.db, POLYGON_LAYERS)
        # the same camps again, served only from z14 to z16
        mshtest.import_layer(cls.db, mshtest.demo_path("camps.geojson"), "camps_hi", "--minzoom", "14",
                             "--maxzoom", "16")
        cls.store = mshtest.Store(cls.db)
        cls.registry = cls.store.registry()
        cls.server = mshtest.Server(cls.db, "--threads", "2").start()
        sites = cls.store.rows("sites")
        mina = [fid for fid, r in sites.items() if r["site_id"] == "mina"]
        assert len(mina) == 1, sites
        c = cls.store.geometries("sites")[mina[0]].Centroid()
        cls.mina_lonlat = (c.GetX(), c.GetY())

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        cls.store.close()
        if rc != 0:
            raise AssertionError("mashaer serve exited %s after SIGTERM" % rc)

    def bounds(self, layer):
        r = self.registry[layer]
        return (r["minx"], r["miny"], r["maxx"], r["maxy"])

    def test_low_zoom_tile_smaller_than_z15_tiles(self):
        z = 11
        x, y = mshtest.lonlat_to_tile(*self.mina_lonlat, z)
        low, dec = mshtest.fetch_tile(self.server, "camps", z, x, y)
        self.assertEqual(low.status, 200)
        low_feats = dec["camps"]
        # every camp whose polygon meets the z11 tile is in it, under its fid
        box = mshtest.box_geometry(*mshtest.tile_bounds_3857(z, x, y))
        want = {fid for fid, g in self.store.geometries("camps").items() if mshtest.to_3857(g).Intersects(box)}
        self.assertGreater(len(want), 10)
        self.assertEqual({f.id for f in low_feats}, want)
        # the z15 descendants of that tile that cover camps
        scale = 1 << (15 - z)
        z15_bytes = z15_vertices = n15 = 0
        for x15, y15 in mshtest.tiles_covering(self.bounds("camps"), 15):
            if x15 // scale != x or y15 // scale != y:
                continue
            r, d = mshtest.fetch_tile(self.server, "camps", 15, x15, y15)
            if r.status == 200:
                n15 += 1
                z15_bytes += len(r.body)
                z15_vertices += sum(vertex_count(f.geom) for f in d["camps"])
        low_vertices = sum(vertex_count(f.geom) for f in low_feats)
        mshtest.note("camps: z11 tile %d bytes, %d vertices; %d z15 tiles %d bytes, %d vertices"
                     % (len(low.body), low_vertices, n15, z15_bytes, z15_vertices))
        self.assertGreater(n15, 4)
        self.assertLess(len(low.body), z15_bytes)
        self.assertLessEqual(low_vertices, z15_vertices)

    def test_low_zoom_polygons_valid(self):
        bad = []
        seen = {layer: 0 for layer in POLYGON_LAYERS}
        for layer in POLYGON_LAYERS:
            for z in range(0, 15):
                for x, y in mshtest.tiles_covering(self.bounds(layer), z):
                    r, d = mshtest.fetch_tile(self.server, layer, z, x, y)
                    for f in d.get(layer, []):
                        seen[layer] += 1
                        where = "%s fid %s in %d/%d/%d" % (layer, f.id, z, x, y)
                        self.assertIn(ogr.GT_Flatten(f.geom.GetGeometryType()), (ogr.wkbPolygon, ogr.wkbMultiPolygon),
                                      where)
                        if f.geom.IsEmpty() or not f.geom.IsValid() or f.geom.GetArea() <= 0:
                            bad.append(where + ": " + f.geom.ExportToWkt()[:160])
        for layer, n in seen.items():
            self.assertGreater(n, 0, layer)
        self.assertEqual(bad, [], "%d invalid or empty polygons at low zoom" % len(bad))

    def test_sites_visible_at_every_zoom(self):
        """A site is in the z0..z12 tiles under its fid once it spans more than 20 grid cells.

        (Smaller rings may vanish: the server simplifies with a tolerance of 8 grid cells.)
        """
        size = {}
        for fid, g in self.store.geometries("sites").items():
            minx, maxx, miny, maxy = mshtest.to_3857(g).GetEnvelope()
            size[fid] = max(maxx - minx, maxy - miny)
        for z in range(0, 13):
            cell = 2 * mshtest.MERC / (1 << z) / 4096
            seen = set()
            for x, y in mshtest.tiles_covering(self.bounds("sites"), z):
                _, d = mshtest.fetch_tile(self.server, "sites", z, x, y)
                seen.update(f.id for f in d.get("sites", []))
            must = {fid for fid, s in size.items() if s > 20 * cell}
            with self.subTest(z=z):
                self.assertLessEqual(must, seen)
                self.assertLessEqual(seen, set(size))
                if z >= 9:
                    self.assertEqual(seen, set(size))

    def test_z12_area_close_to_source(self):
        z = 12
        total = 0.0
        for x, y in mshtest.tiles_covering(self.bounds("camps"), z):
            _, d = mshtest.fetch_tile(self.server, "camps", z, x, y)
            for f in d.get("camps", []):
                total += mshtest.polygon_area(mshtest.clip_to_tile(f.geom, z, x, y))
        src = sum(mshtest.to_3857(g).GetArea() for g in self.store.geometries("camps").values())
        mshtest.note("camps z12: tiles %.1f m2, store %.1f m2, difference %.3f%%" % (total, src, 100 * (total - src) / src))
        self.assertLessEqual(abs(total - src) / src, LOW_ZOOM_AREA_TOLERANCE)

    def test_layer_zoom_range(self):
        cat = {l["id"]: l for l in self.server.json("/catalog")["layers"]}
        self.assertEqual((cat["camps_hi"]["minzoom"], cat["camps_hi"]["maxzoom"]), (14, 16))
        self.assertEqual((cat["camps"]["minzoom"], cat["camps"]["maxzoom"]), (0, 18))
        for z in (12, 13, 14, 16, 17):
            # find a tile of zoom z with camps in it, from the full camps layer
            cand = mshtest.tiles_covering(self.bounds("camps"), z)
            full = None
            for cx, cy in cand:
                r, d = mshtest.fetch_tile(self.server, "camps", z, cx, cy)
                if d.get("camps"):
                    full = (cx, cy, d)
                    break
            self.assertIsNotNone(full, "no camps tile at z%d" % z)
            cx, cy, d = full
            r, dh = mshtest.fetch_tile(self.server, "camps_hi", z, cx, cy)
            with self.subTest(z=z):
                if 14 <= z <= 16:
                    self.assertEqual(r.status, 200)
                    self.assertEqual({f.id for f in dh["camps_hi"]}, {f.id for f in d["camps"]})
                else:
                    self.assertIn(r.status, (200, 204))
                    self.assertEqual(dh.get("camps_hi", []), [], "camps_hi has features at z%d" % z)
        tj = self.server.json("/tiles/camps_hi.json")
        self.assertEqual((tj["minzoom"], tj["maxzoom"]), (14, 16))


if __name__ == "__main__":
    mshtest.main()
