"""OGC API - Tiles under /ogc and the WMTS 1.0.0 capabilities, read by GDAL and checked by hand.

- The JSON documents (landing links, conformance, tile matrix sets, tilesets lists, tilesets)
  are checked for the members OGC API - Tiles 1.0 and 2D TMS 2.0 require (the schema checks are
  written here: no network), and every tileset's limits against the data's extent.
- A tile through OGC API - Tiles is the same answer as the plain path: the same bytes (plain and
  gzip), the same ETag (304 across paths), the same tile cache entry (the second path is a hit),
  and GDAL's MVT driver reads the same features from both. The dataset tileset is the composite
  of every visible collection. Raster styles give the same PNG as /styles/{name}/{z}/{x}/{y}.png.
- GDAL's WMTS driver opens the capabilities and reads a window of tile pixels equal to the
  server's PNG; GDAL's OGCAPI driver opens a style's map tiles and reads the same pixels (its
  vector tiles need GDAL 3.7: Debian's 3.6 is built without them, OSGeo/gdal#7993).
- Errors are OGC exceptions: 400 for a tileMatrix that is not one, 404 outside the matrix or the
  tileset's limits; personal collections have no tiles without an ops token; names and titles
  are escaped in the XML and HTML (an Arabic title with markup round-trips).
"""

import gzip
import json
import math
import os
import shutil
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from mshtest import gdal  # noqa: E402

SERVER = None
TOKENS = {}
MARKED = []  # the store name of the layer titled TITLE
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
CRS_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
REL = "http://www.opengis.net/def/rel/ogc/1.0/"
MVT = "application/vnd.mapbox-vector-tile"
WMTS = "{http://www.opengis.net/wmts/1.0}"
OWS = "{http://www.opengis.net/ows/1.1}"
EDGE = 20037508.3427892
TITLE = "مخيم <A&B> \"q\""  # the source name of the markup layer: its title


def setUpModule():
    global SERVER
    db = mshtest.work_path("tiles.sqlite")
    mshtest.import_demo(db)
    # a layer whose title (its source's own name) holds Arabic and markup, drawn by a style of its own
    src = mshtest.work_path(TITLE + ".geojson")
    with open(src, "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"n": 1},
             "geometry": {"type": "Polygon", "coordinates": [[[39.88, 21.41], [39.9, 21.41], [39.9, 21.42],
                                                              [39.88, 21.42], [39.88, 21.41]]]}}]}, f)
    mshtest.import_layer(db, src)
    with mshtest.Store(db) as st:
        MARKED.extend(name for name, row in st.registry().items() if row.get("title") == TITLE)
    assert len(MARKED) == 1, MARKED
    styles = mshtest.work_path("styles")
    shutil.copytree(os.path.join(mshtest.CONFIG.source_dir, "styles"), styles)
    with open(os.path.join(styles, "marked.json"), "w") as f:
        json.dump({"version": 8, "sources": {"m": {"type": "vector", "url": "/tiles/%s.json" % MARKED[0]}},
                   "layers": [{"id": "m", "type": "fill", "source": "m", "source-layer": MARKED[0],
                               "paint": {"fill-color": "#ff0000"}}]}, f)
    TOKENS["ops"] = mshtest.add_token(db, "ops", "tiles-ops")
    SERVER = mshtest.Server(db, "--styles", styles).start()


def tearDownModule():
    mshtest.stop_servers(SERVER)


def get_json(path, status=200, headers=None):
    r = SERVER.get(path, headers=headers)
    assert r.status == status, "%s: HTTP %d %r" % (path, r.status, r.body[:300])
    assert r.header("Content-Type", "").startswith(("application/json", "application/geo+json")), r.header("Content-Type")
    return r.json()


def rel_links(doc, rel, type_=None):
    return [ln for ln in doc["links"] if ln["rel"] == rel and (type_ is None or ln.get("type") == type_)]


def local(url):
    """The path and query of one of the server's own absolute links."""
    base = SERVER.url("")
    assert url.startswith(base), url
    return url[len(base):] if url[len(base):].startswith("/") else "/" + url[len(base):]


# ---- schema checks (OGC API - Tiles 1.0, 2D TMS 2.0), written out ----------------------------------

def check_link(ln):
    assert isinstance(ln.get("href"), str) and ln["href"], ln
    assert isinstance(ln.get("rel"), str) and ln["rel"], ln


def check_tms(doc):
    for k in ("id", "crs", "tileMatrices"):
        assert k in doc, "TileMatrixSet without %s" % k
    assert doc["id"] == "WebMercatorQuad" and doc["uri"] == TMS_URI and doc["crs"] == CRS_3857
    tms = doc["tileMatrices"]
    assert [m["id"] for m in tms] == [str(z) for z in range(25)]
    for z, m in enumerate(tms):
        for k in ("id", "scaleDenominator", "cellSize", "pointOfOrigin", "tileWidth", "tileHeight",
                  "matrixWidth", "matrixHeight"):
            assert k in m, "tileMatrix %d without %s" % (z, k)
        assert m["tileWidth"] == m["tileHeight"] == 256
        assert m["matrixWidth"] == m["matrixHeight"] == 2 ** z
        assert abs(m["pointOfOrigin"][0] + EDGE) < 1e-3 and abs(m["pointOfOrigin"][1] - EDGE) < 1e-3
        assert abs(m["cellSize"] * 256 * 2 ** z - 2 * EDGE) < 1e-3, m
        assert abs(m["scaleDenominator"] - m["cellSize"] / 0.00028) < 1e-3 * m["scaleDenominator"] * 1e-6, m


def check_tileset(doc, data_type):
    for k in ("dataType", "crs", "links"):
        assert k in doc, "tileset without %s" % k
    assert doc["dataType"] == data_type and doc["crs"] == CRS_3857 and doc["tileMatrixSetURI"] == TMS_URI
    for ln in doc["links"]:
        check_link(ln)
    assert rel_links(doc, "self", "application/json")
    scheme = rel_links(doc, REL + "tiling-scheme", "application/json")
    assert len(scheme) == 1 and local(scheme[0]["href"]).startswith("/ogc/tileMatrixSets/WebMercatorQuad")
    items = rel_links(doc, "item")
    assert len(items) == 1 and items[0]["templated"] is True
    assert items[0]["href"].endswith("/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"), items[0]
    assert items[0]["type"] == (MVT if data_type == "vector" else "image/png")
    limits = doc["tileMatrixSetLimits"]
    assert limits, "no limits"
    for lim in limits:
        for k in ("tileMatrix", "minTileRow", "maxTileRow", "minTileCol", "maxTileCol"):
            assert k in lim, "limits without %s" % k
        assert 0 <= lim["minTileRow"] <= lim["maxTileRow"] < 2 ** int(lim["tileMatrix"])
        assert 0 <= lim["minTileCol"] <= lim["maxTileCol"] < 2 ** int(lim["tileMatrix"])
    return items[0]["href"], {int(lim["tileMatrix"]): lim for lim in limits}


def world(lon, lat):
    """lon/lat to Web Mercator world units (0..1, y down)."""
    x, y = to_3857(lon, lat)
    return (x + EDGE) / (2 * EDGE), (EDGE - y) / (2 * EDGE)


def to_3857(lon, lat):
    lat = max(min(lat, 85.0511287798066), -85.0511287798066)
    return EDGE * lon / 180, EDGE / math.pi * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def check_limits_cover(limits, bbox):
    """Each level's limits are exactly the tiles under the extent (its NW and SE corners' tiles),
    from the first level at which the extent spans a pixel both ways."""
    w, s, e, n = bbox
    for z, lim in limits.items():
        c0, r0 = mshtest.lonlat_to_tile(w, n, z)
        c1, r1 = mshtest.lonlat_to_tile(e, s, z)
        assert (lim["minTileCol"], lim["maxTileCol"], lim["minTileRow"], lim["maxTileRow"]) == (c0, c1, r0, r1), \
            (z, lim, bbox)
    (x0, y0), (x1, y1) = world(w, n), world(e, s)
    pixels = lambda z: min(x1 - x0, y1 - y0) * 256 * 2 ** z  # noqa: E731
    first = min(limits)
    assert pixels(first) >= 1 and (first == 0 or pixels(first - 1) < 1), (first, pixels(first))
    assert sorted(limits) == list(range(first, max(limits) + 1))


def fill(template, z, row, col):
    return local(template.replace("{tileMatrix}", str(z)).replace("{tileRow}", str(row))
                 .replace("{tileCol}", str(col)))


def metric(name):
    return mshtest.metric(mshtest.parse_metrics(SERVER.get("/metrics").body.decode()), name)


class OgcTiles(unittest.TestCase):

    def test_landing_conformance_and_tms(self):
        land = get_json("/ogc")
        self.assertEqual(local(rel_links(land, REL + "tiling-schemes")[0]["href"]), "/ogc/tileMatrixSets")
        self.assertEqual(local(rel_links(land, REL + "tilesets-vector")[0]["href"]), "/ogc/tiles")
        conf = get_json("/ogc/conformance")["conformsTo"]
        for c in ("core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets", "mvt", "png"):
            self.assertIn("http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/" + c, conf)
        self.assertIn("http://www.opengis.net/spec/tms/2.0/conf/tilematrixset", conf)
        lst = get_json("/ogc/tileMatrixSets")
        self.assertEqual([t["id"] for t in lst["tileMatrixSets"]], ["WebMercatorQuad"])
        for t in lst["tileMatrixSets"]:
            self.assertEqual(t["uri"], TMS_URI)
            check_tms(get_json(local(rel_links(t, "self")[0]["href"])))
        html = SERVER.get("/ogc/tileMatrixSets/WebMercatorQuad?f=html")
        self.assertEqual(html.status, 200)
        self.assertTrue(html.header("Content-Type").startswith("text/html"))
        self.assertIn(b"<tr><td>0</td><td>559082264</td><td>156543.033928</td><td>1</td></tr>", html.body)
        r = SERVER.get("/ogc/tileMatrixSets/WorldCRS84Quad")
        self.assertEqual((r.status, r.json()["code"]), (404, "NotFound"))

    def test_collection_tiles_are_the_tiles_path(self):
        coll = get_json("/ogc/collections/camps")
        link = rel_links(coll, REL + "tilesets-vector", "application/json")
        self.assertEqual(len(link), 1)
        lst = get_json(local(link[0]["href"]))
        self.assertEqual(len(lst["tilesets"]), 1)
        item = lst["tilesets"][0]
        self.assertEqual((item["dataType"], item["tileMatrixSetURI"]), ("vector", TMS_URI))
        ts = get_json(local(rel_links(item, "self", "application/json")[0]["href"]))
        template, limits = check_tileset(ts, "vector")
        self.assertEqual([ly["id"] for ly in ts["layers"]], ["camps"])
        self.assertEqual(ts["layers"][0]["geometryDimension"], 2)
        bbox = coll["extent"]["spatial"]["bbox"][0]
        check_limits_cover(limits, bbox)
        self.assertEqual(max(limits), ts["layers"][0]["maxTileMatrix"] and int(ts["layers"][0]["maxTileMatrix"]))
        # the tiles under a camp at three zooms: the same bytes, ETag and cache entry
        ring = get_json("/ogc/collections/camps/items?limit=1")["features"][0]["geometry"]["coordinates"][0]
        while isinstance(ring[0][0], list):
            ring = ring[0]
        lon, lat = ring[0]
        checked = 0
        for z in (max(min(limits), 12), 15, max(limits)):
            col, row = mshtest.lonlat_to_tile(lon, lat, z)
            hits = metric("mashaer_tile_cache_hits_total")
            ogc = SERVER.get(fill(template, z, row, col))
            plain = SERVER.get("/tiles/camps/%d/%d/%d.mvt" % (z, col, row))
            self.assertEqual(ogc.status, plain.status)
            self.assertEqual(ogc.status, 200, ogc.body[:200])
            self.assertEqual(ogc.header("Content-Type"), MVT)
            self.assertEqual(ogc.body, plain.body)
            self.assertEqual(ogc.header("ETag"), plain.header("ETag"))
            self.assertEqual(metric("mashaer_tile_cache_hits_total"), hits + 1, "the second path hit the first's entry")
            gz = SERVER.get(fill(template, z, row, col), headers={"Accept-Encoding": "gzip"})
            gzp = SERVER.get("/tiles/camps/%d/%d/%d.mvt" % (z, col, row), headers={"Accept-Encoding": "gzip"})
            self.assertEqual(gzip.decompress(gz.body), plain.body)
            self.assertEqual(gz.header("ETag"), gzp.header("ETag"))
            r304 = SERVER.get(fill(template, z, row, col), headers={"If-None-Match": plain.header("ETag")})
            self.assertEqual(r304.status, 304)
            a, b = mshtest.decode_mvt(ogc.body, z, col, row), mshtest.decode_mvt(plain.body, z, col, row)
            self.assertEqual(sorted(a), ["camps"])
            self.assertTrue(a["camps"])
            self.assertEqual([(f.id, f.attrs, f.geom.ExportToWkt()) for f in a["camps"]],
                             [(f.id, f.attrs, f.geom.ExportToWkt()) for f in b["camps"]])
            checked += 1
        self.assertEqual(checked, 3)

    def test_dataset_tiles_are_the_composite(self):
        stored = {ly["id"] for ly in get_json("/catalog")["layers"] if ly.get("kind") == "static"}
        names = [c["id"] for c in get_json("/ogc/collections")["collections"] if c["id"] in stored]
        self.assertGreaterEqual(len(names), 3)
        lst = get_json("/ogc/tiles")
        ts = get_json(local(rel_links(lst["tilesets"][0], "self", "application/json")[0]["href"]))
        template, limits = check_tileset(ts, "vector")
        self.assertEqual([ly["id"] for ly in ts["layers"]], names)
        z = 15
        lim = limits[z]
        row, col = (lim["minTileRow"] + lim["maxTileRow"]) // 2, (lim["minTileCol"] + lim["maxTileCol"]) // 2
        ogc = SERVER.get(fill(template, z, row, col))
        plain = SERVER.get("/tiles/%s/%d/%d/%d.mvt" % (",".join(names), z, col, row))
        self.assertEqual((ogc.status, plain.status), (200, 200))
        self.assertEqual(ogc.body, plain.body)
        self.assertGreaterEqual(len(mshtest.decode_mvt(ogc.body, z, col, row)), 3)
        # live and derived collections have their own tilesets, not the dataset's (an ops token's neither)
        ops = get_json("/ogc/tiles/WebMercatorQuad", headers={"Authorization": "Bearer " + TOKENS["ops"]})
        self.assertEqual([ly["id"] for ly in ops["layers"]], names)

    def test_errors_are_ogc_exceptions(self):
        base = "/ogc/collections/camps/tiles/WebMercatorQuad/"
        ts = get_json(base[:-1])
        limits = {int(lim["tileMatrix"]): lim for lim in ts["tileMatrixSetLimits"]}
        cases = [
            ("abc/0/0", 400, "InvalidParameterValue"),
            ("25/0/0", 400, "InvalidParameterValue"),
            ("015/0/0", 400, "InvalidParameterValue"),
            ("3/x/0", 400, "InvalidParameterValue"),
            ("3/8/0", 404, "NotFound"),      # outside the 8 x 8 matrix
            ("15/0/0", 404, "NotFound"),     # inside the matrix, outside the limits
            ("%d/%d/%d" % (max(limits) + 1, 0, 0), 404, "NotFound"),
            ("15/1/2/3", 404, "NotFound"),
        ]
        for tail, status, code in cases:
            r = SERVER.get(base + tail)
            self.assertEqual(r.status, status, (tail, r.body))
            doc = r.json()
            self.assertEqual((doc["code"], doc["status"]), (code, status), tail)
            self.assertTrue(doc["error"], tail)
        lim = limits[15]
        r = SERVER.get(base + "15/%d/%d" % (lim["maxTileRow"] + 1, lim["minTileCol"]))
        self.assertEqual(r.status, 404)
        self.assertIn("limits", r.json()["error"])
        for path in ("/ogc/collections/nope/tiles", "/ogc/collections/positions/tiles",
                     "/ogc/collections/camps/tiles/WorldCRS84Quad", "/ogc/styles/nope/map/tiles",
                     "/ogc/styles/operations/map/nope"):
            r = SERVER.get(path)
            self.assertEqual((r.status, r.json()["code"]), (404, "NotFound"), path)
        self.assertEqual(SERVER.get("/ogc/collections/camps/tiles?f=xml").status, 400)
        if mshtest.STORE_BACKEND == "postgresql":
            return  # no live layers on a PostgreSQL store yet
        ok = SERVER.get("/ogc/collections/positions/tiles", headers={"Authorization": "Bearer " + TOKENS["ops"]})
        self.assertEqual(ok.status, 200)
        self.assertEqual(ok.header("Cache-Control"), "private, no-cache")

    def test_html_escapes_titles(self):
        r = SERVER.get("/ogc/collections/%s/tiles/WebMercatorQuad?f=html" % MARKED[0])
        self.assertEqual(r.status, 200)
        body = r.body.decode()
        self.assertIn("مخيم &lt;A&amp;B&gt; &quot;q&quot;", body)
        self.assertNotIn("<A&B>", body)
        doc = get_json("/ogc/collections/%s/tiles/WebMercatorQuad" % MARKED[0])
        self.assertEqual(doc["title"], TITLE)
        self.assertEqual(doc["layers"][0]["title"], TITLE)

    def test_map_tiles_are_the_style_png(self):
        styles = get_json("/ogc/styles")
        self.assertEqual(sorted(s["id"] for s in styles["styles"]), ["kpi", "marked", "operations"])
        st = get_json("/ogc/styles/operations")
        lst = get_json(local(rel_links(st, REL + "tilesets-map", "application/json")[0]["href"]))
        ts = get_json(local(rel_links(lst["tilesets"][0], "self", "application/json")[0]["href"]))
        template, limits = check_tileset(ts, "map")
        check_limits_cover(limits, st["extent"]["spatial"]["bbox"][0])
        z = 16
        lim = limits[z]
        row, col = (lim["minTileRow"] + lim["maxTileRow"]) // 2, (lim["minTileCol"] + lim["maxTileCol"]) // 2
        ogc = SERVER.get(fill(template, z, row, col))
        plain = SERVER.get("/styles/operations/%d/%d/%d.png" % (z, col, row))
        self.assertEqual((ogc.status, ogc.header("Content-Type")), (200, "image/png"))
        self.assertEqual(ogc.body, plain.body)
        self.assertEqual(ogc.header("ETag"), plain.header("ETag"))


def read_window(ds, z, col, row):
    """The 256 x 256 pixels of tile z/col/row from a GDAL dataset in EPSG:3857 at zoom z, as rows of RGBA."""
    gt = ds.GetGeoTransform()
    cell = 2 * EDGE / 256 / 2 ** z
    assert abs(gt[1] - cell) < 1e-6 * cell, (gt, cell)
    x0 = -EDGE + col * 256 * cell
    y0 = EDGE - row * 256 * cell
    px, py = (x0 - gt[0]) / gt[1], (y0 - gt[3]) / gt[5]
    assert abs(px - round(px)) < 1e-2 and abs(py - round(py)) < 1e-2, (px, py)
    bands = [ds.GetRasterBand(i + 1).ReadRaster(int(round(px)), int(round(py)), 256, 256) for i in range(ds.RasterCount)]
    assert len(bands) == 4, ds.RasterCount
    return [[tuple(bands[b][y * 256 + x] for b in range(4)) for x in range(256)] for y in range(256)]


class GdalClients(unittest.TestCase):

    def server_tile(self, z, col, row):
        r = SERVER.get("/styles/operations/%d/%d/%d.png" % (z, col, row))
        self.assertEqual(r.status, 200)
        w, h, rows = mshtest.decode_png(r.body)
        self.assertEqual((w, h), (256, 256))
        drawn = sum(1 for line in rows for p in line if p[3])
        self.assertGreater(drawn, 1000, "the tile draws something")
        return [list(line) for line in rows]

    def tile_in_extent(self, z):
        ts = get_json("/ogc/styles/operations/map/tiles/WebMercatorQuad")
        lim = {int(m["tileMatrix"]): m for m in ts["tileMatrixSetLimits"]}[z]
        return (lim["minTileCol"] + lim["maxTileCol"]) // 2, (lim["minTileRow"] + lim["maxTileRow"]) // 2

    def test_wmts_capabilities(self):
        r = SERVER.get("/wmts/1.0.0/WMTSCapabilities.xml")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("application/xml"))
        root = ET.fromstring(r.body)
        self.assertEqual((root.tag, root.get("version")), (WMTS + "Capabilities", "1.0.0"))
        contents = root.find(WMTS + "Contents")
        layers = {ly.find(OWS + "Identifier").text: ly for ly in contents.findall(WMTS + "Layer")}
        self.assertEqual(sorted(layers), ["kpi", "marked", "operations"])
        self.assertIn(TITLE, layers["marked"].find(OWS + "Abstract").text)   # escaped, parsed back whole
        self.assertIn("<A&amp;B>".replace("<", "&lt;").replace(">", "&gt;").encode(), r.body)
        op = layers["operations"]
        self.assertEqual(op.find(WMTS + "Style").find(OWS + "Identifier").text, "default")
        self.assertEqual(op.find(WMTS + "Format").text, "image/png")
        link = op.find(WMTS + "TileMatrixSetLink")
        self.assertEqual(link.find(WMTS + "TileMatrixSet").text, "WebMercatorQuad")
        wmts_limits = {int(m.find(WMTS + "TileMatrix").text): m for m in link.iter(WMTS + "TileMatrixLimits")}
        ogc = get_json("/ogc/styles/operations/map/tiles/WebMercatorQuad")
        for lim in ogc["tileMatrixSetLimits"]:
            m = wmts_limits[int(lim["tileMatrix"])]
            self.assertEqual([int(m.find(WMTS + k).text) for k in ("MinTileRow", "MaxTileRow", "MinTileCol", "MaxTileCol")],
                             [lim[k] for k in ("minTileRow", "maxTileRow", "minTileCol", "maxTileCol")])
        self.assertEqual(max(wmts_limits), 22)
        bb = op.find(OWS + "WGS84BoundingBox")
        lo = [float(v) for v in bb.find(OWS + "LowerCorner").text.split()]
        hi = [float(v) for v in bb.find(OWS + "UpperCorner").text.split()]
        ext = get_json("/ogc/styles/operations")["extent"]["spatial"]["bbox"][0]
        self.assertEqual([round(v, 6) for v in lo + hi], [round(v, 6) for v in ext])
        url = op.find(WMTS + "ResourceURL")
        self.assertEqual((url.get("format"), url.get("resourceType")), ("image/png", "tile"))
        self.assertEqual(local(url.get("template")), "/styles/operations/{TileMatrix}/{TileCol}/{TileRow}.png")
        tms = contents.find(WMTS + "TileMatrixSet")
        mats = tms.findall(WMTS + "TileMatrix")
        self.assertEqual([m.find(OWS + "Identifier").text for m in mats], [str(z) for z in range(23)])
        for z, m in enumerate(mats):
            self.assertAlmostEqual(float(m.find(WMTS + "ScaleDenominator").text), 559082264.0287178 / 2 ** z,
                                   delta=1e-6 * 559082264.0287178 / 2 ** z)
            self.assertEqual(int(m.find(WMTS + "MatrixWidth").text), 2 ** z)

    def test_gdal_wmts_reads_the_tile(self):
        z = 16
        col, row = self.tile_in_extent(z)
        want = self.server_tile(z, col, row)
        ds = gdal.OpenEx("WMTS:%s,layer=operations" % SERVER.url("/wmts/1.0.0/WMTSCapabilities.xml"),
                         gdal.OF_RASTER, open_options=["TILEMATRIX=%d" % z])
        self.assertIsNotNone(ds, gdal.GetLastErrorMsg())
        self.assertEqual(ds.GetSpatialRef().GetAuthorityCode(None), "3857")
        self.assertEqual(read_window(ds, z, col, row), want)

    def open_ogcapi_map(self, z):
        # GDAL 3.6 does not project a collection's CRS84 extent into the tile matrix set's CRS:
        # give it in EPSG:3857 (later versions do it themselves)
        ext = get_json("/ogc/styles/operations")["extent"]["spatial"]["bbox"][0]
        lo, hi = to_3857(ext[0], ext[1]), to_3857(ext[2], ext[3])
        ds = gdal.OpenEx("OGCAPI:" + SERVER.url("/ogc/styles/operations"), gdal.OF_RASTER,
                         open_options=["MINX=%.9f" % lo[0], "MINY=%.9f" % lo[1], "MAXX=%.9f" % hi[0],
                                       "MAXY=%.9f" % hi[1], "TILEMATRIX=%d" % z])
        self.assertIsNotNone(ds, gdal.GetLastErrorMsg())
        return ds, lo, hi

    def test_gdal_ogcapi_opens_the_map_tiles(self):
        z = 16
        ds, lo, hi = self.open_ogcapi_map(z)
        self.assertEqual(ds.GetSpatialRef().GetAuthorityCode(None), "3857")
        self.assertEqual(ds.RasterCount, 4)
        gt = ds.GetGeoTransform()
        cell = 2 * EDGE / 256 / 2 ** z
        self.assertAlmostEqual(gt[1], cell, delta=1e-9 * cell)   # the tileMatrix it was asked for
        self.assertAlmostEqual(gt[0], lo[0], delta=cell)          # and the extent's west edge
        self.assertAlmostEqual(gt[3], hi[1], delta=cell)          # and its north edge

    @unittest.skipIf(int(gdal.VersionInfo()) < 3070000,
                     "GDAL 3.6's OGCAPI driver sizes a map tileset's rows from the CRS84 extent (gdalinfo shows a "
                     "pixel height of under a millimetre at z16): the pixels are read through WMTS instead")
    def test_gdal_ogcapi_reads_the_map_tile(self):
        z = 16
        col, row = self.tile_in_extent(z)
        want = self.server_tile(z, col, row)
        ds, _, _ = self.open_ogcapi_map(z)
        self.assertEqual(read_window(ds, z, col, row), want)

    @unittest.skipIf(int(gdal.VersionInfo()) < 3070000,
                     "GDAL's OGCAPI driver reads vector tiles from 3.7 (3.6 builds leave them out: OSGeo/gdal#7993)")
    def test_gdal_ogcapi_reads_vector_tiles(self):
        ds = gdal.OpenEx("OGCAPI:" + SERVER.url("/ogc/collections/camps"), gdal.OF_VECTOR)
        self.assertIsNotNone(ds, gdal.GetLastErrorMsg())
        self.assertGreater(ds.GetLayerCount(), 0)


if __name__ == "__main__":
    mshtest.main()
