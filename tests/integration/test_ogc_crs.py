"""OGC API - Features Part 2 (crs, bbox-crs, Content-Crs) and downloads (f=gpkg|shp|csv|kml), read by GDAL.

Reprojection is checked against a client no one here wrote: the CRS84 answer turned into EPSG:32637
(and 3857) by `ogr2ogr -t_srs`, compared vertex by vertex with the server's own answer in that CRS,
read by GDAL's GeoJSON driver, to a millimetre. EPSG:4326 must be the CRS84 answer with its axes
swapped, number for number. A bbox in 32637 selects what OGR's Intersects selects in 32637 over the
CRS84 features, and boxes in 3857 and 4326 select what the same box in CRS84 does. Every download
format is opened by GDAL and its features (ids, attributes, Arabic text, geometry) equal the GeoJSON
answer of the same query; the temporary files are gone after every answer, also after a client
that hung up in the middle of one. Hostile values get a 400 that names the parameter.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import unittest
import urllib.parse
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from mshtest import gdal, ogr, osr  # noqa: E402

SERVER = None
TMP = None
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/%d"
SERVED = [CRS84, EPSG % 4326, EPSG % 3857, EPSG % 32637]
MM = 0.001

# awkward values: Arabic, a long text, a field named fid, numbers of every type, nulls
NOTES = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [39.8925, 21.4131]},
         "properties": {"name": "مخيم الحجاج ١٢ - منى", "fid": 7, "ratio": 0.1, "flag": True,
                        "long": "طريق " * 40 + "."}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [39.8940123, 21.4145678]},
         "properties": {"name": "plain, with \"quotes\"", "fid": -3, "ratio": 1.5e-7, "flag": False,
                        "long": "x"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [39.9001, 21.4202]},
         "properties": {"name": None, "fid": None, "ratio": None, "flag": None, "long": None}},
    ],
}


def setUpModule():
    global SERVER, TMP
    db = mshtest.work_path("crs.sqlite")
    mshtest.import_demo(db, ["camps", "cleaning_routes", "assets", "sites"])
    notes = mshtest.work_path("notes.geojson")
    with open(notes, "w", encoding="utf-8") as f:
        json.dump(NOTES, f, ensure_ascii=False)
    mshtest.import_layer(db, notes, "notes")
    # the server's temporary downloads go here, so the test can see that none is left
    TMP = mshtest.work_path("tmp")
    shutil.rmtree(TMP, ignore_errors=True)
    os.makedirs(TMP)
    os.environ["TMPDIR"] = TMP
    SERVER = mshtest.Server(db, "--threads", "4").start()


def tearDownModule():
    mshtest.stop_servers(SERVER)


def items_url(coll, **params):
    return "/ogc/collections/%s/items?%s" % (coll, urllib.parse.urlencode(params))


def get(path):
    r = SERVER.get(path)
    if r.body[:2] == b"\x1f\x8b":
        import gzip
        r = r._replace(body=gzip.decompress(r.body))
    return r


def get_json(path):
    r = get(path)
    assert r.status == 200, (path, r.status, r.body[:300])
    return r, json.loads(r.body)


def vertices(g):
    """Every (x, y) of an OGR geometry, in order."""
    out = []
    if g.GetGeometryCount():
        for i in range(g.GetGeometryCount()):
            out += vertices(g.GetGeometryRef(i))
    else:
        out += [(g.GetX(i), g.GetY(i)) for i in range(g.GetPointCount())]
    return out


def paths(g):
    """The vertex lists of an OGR geometry: one per point, line or ring."""
    if g.GetGeometryCount():
        return [p for i in range(g.GetGeometryCount()) for p in paths(g.GetGeometryRef(i))]
    return [[(g.GetX(i), g.GetY(i)) for i in range(g.GetPointCount())]]


def path_gap(a, b):
    """The largest coordinate difference between two vertex lists of the same length."""
    return max(max(abs(p[0] - q[0]), abs(p[1] - q[1])) for p, q in zip(a, b))


def geojson_features(path_or_text):
    """{id: (properties, ogr geometry)} read by GDAL's GeoJSON driver."""
    ds = gdal.OpenEx(path_or_text, gdal.OF_VECTOR, allowed_drivers=["GeoJSON"])
    lyr = ds.GetLayer(0)
    out = {}
    for f in lyr:
        out[f.GetFID()] = (f.items(), f.GetGeometryRef().Clone())
    return out


def ogr2ogr(src_text, epsg):
    """`ogr2ogr -t_srs EPSG:n` of a CRS84 GeoJSON answer; the output's text."""
    src = mshtest.work_path("ogr2ogr_in.geojson")
    dst = mshtest.work_path("ogr2ogr_out_%d.geojson" % epsg)
    with open(src, "wb") as f:
        f.write(src_text)
    if os.path.exists(dst):
        os.remove(dst)
    subprocess.run(["ogr2ogr", "-f", "GeoJSON", "-s_srs", "OGC:CRS84", "-t_srs", "EPSG:%d" % epsg,
                    "-lco", "COORDINATE_PRECISION=6", "-lco", "WRITE_NAME=NO", dst, src], check=True,
                   capture_output=True)
    return dst


class CrsTest(unittest.TestCase):

    def assertSameVertices(self, a, b, tol, what):
        va, vb = vertices(a), vertices(b)
        self.assertEqual(len(va), len(vb), what)
        self.assertGreater(len(va), 0, what)
        worst = max(max(abs(p[0] - q[0]), abs(p[1] - q[1])) for p, q in zip(va, vb))
        self.assertLessEqual(worst, tol, "%s: a vertex %.6g apart" % (what, worst))

    def test_crs_lists_and_conformance(self):
        _, d = get_json("/ogc/collections")
        self.assertEqual(d["crs"], SERVED)
        self.assertGreater(len(d["collections"]), 5)
        for c in d["collections"]:
            self.assertEqual(c["crs"], SERVED, c["id"])
            self.assertEqual(c["storageCrs"], CRS84, c["id"])
        _, one = get_json("/ogc/collections/camps")
        self.assertEqual(one["crs"], SERVED)
        _, conf = get_json("/ogc/conformance")
        self.assertIn("http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs", conf["conformsTo"])
        _, api = get_json("/ogc/api")
        names = [p["name"] for p in api["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]]
        self.assertIn("crs", names)
        self.assertIn("bbox-crs", names)

    def test_items_in_32637_and_3857_equal_ogr2ogr_to_a_millimetre(self):
        for coll, limit in (("camps", 10000), ("cleaning_routes", 10000), ("assets", 3000), ("sites", 10)):
            r84 = get(items_url(coll, limit=limit))
            self.assertEqual(r84.status, 200)
            self.assertEqual(r84.header("Content-Crs"), "<%s>" % CRS84)
            for epsg in (32637, 3857):
                r = get(items_url(coll, limit=limit, crs=EPSG % epsg))
                self.assertEqual(r.status, 200, r.body[:300])
                self.assertEqual(r.header("Content-Crs"), "<%s>" % (EPSG % epsg))
                ours = geojson_features(r.body.decode())
                theirs = geojson_features(ogr2ogr(r84.body, epsg))
                self.assertEqual(sorted(ours), sorted(theirs), coll)
                self.assertGreater(len(ours), 0, coll)
                for fid in ours:
                    self.assertEqual(ours[fid][0], theirs[fid][0], (coll, fid))
                    self.assertSameVertices(ours[fid][1], theirs[fid][1], MM, "%s %d in %d" % (coll, fid, epsg))

    def test_epsg_4326_is_lat_lon(self):
        _, a = get_json(items_url("camps", limit=20))
        r, b = get_json(items_url("camps", limit=20, crs="[EPSG:4326]"))
        self.assertEqual(r.header("Content-Crs"), "<%s>" % (EPSG % 4326))
        for fa, fb in zip(a["features"], b["features"]):
            self.assertEqual(fa["id"], fb["id"])
            ring_a, ring_b = fa["geometry"]["coordinates"][0], fb["geometry"]["coordinates"][0]
            self.assertEqual([[p[1], p[0]] for p in ring_a], ring_b)
            self.assertTrue(all(21 < p[0] < 22 and 39 < p[1] < 40 for p in ring_b))  # Makkah: lat first

    def test_one_item_in_a_crs(self):
        _, page = get_json(items_url("camps", limit=1, crs=EPSG % 32637))
        fid = page["features"][0]["id"]
        r84, one84 = get_json("/ogc/collections/camps/items/%d" % fid)
        r, one = get_json("/ogc/collections/camps/items/%d?crs=%s" % (fid, urllib.parse.quote(EPSG % 32637)))
        self.assertEqual(r.header("Content-Crs"), "<%s>" % (EPSG % 32637))
        self.assertEqual(one["geometry"], page["features"][0]["geometry"])
        self.assertEqual(one["properties"], one84["properties"])
        self.assertNotEqual(r.header("ETag"), r84.header("ETag"))  # another representation, another tag
        x, y = one["geometry"]["coordinates"][0][0]
        self.assertTrue(500000 < x < 700000 and 2300000 < y < 2500000, (x, y))
        bad = get("/ogc/collections/camps/items/%d?crs=EPSG:2039" % fid)
        self.assertEqual(bad.status, 400)
        self.assertIn("EPSG/0/32637", bad.json()["error"])
        self.assertIsNone(bad.header("Content-Crs"))

    def test_bbox_crs_selects_what_ogr_selects(self):
        bb = (39.88, 21.42, 39.90, 21.44)
        _, want84 = get_json(items_url("camps", bbox="%g,%g,%g,%g" % bb, limit=10000))
        ids84 = sorted(f["id"] for f in want84["features"])
        self.assertGreater(len(ids84), 20)
        src = osr.SpatialReference()
        src.SetFromUserInput("OGC:CRS84")
        # 4326 (lat, lon) and 3857: the same box, so the same features
        for epsg in (4326, 3857):
            dst = osr.SpatialReference()
            dst.ImportFromEPSG(epsg)
            ct = osr.CoordinateTransformation(src, dst)
            x0, y0, _ = ct.TransformPoint(bb[0], bb[1])
            x1, y1, _ = ct.TransformPoint(bb[2], bb[3])
            _, got = get_json(items_url("camps", bbox="%r,%r,%r,%r" % (x0, y0, x1, y1), limit=10000,
                                        **{"bbox-crs": EPSG % epsg}))
            self.assertEqual(sorted(f["id"] for f in got["features"]), ids84, epsg)
        # 32637: a box whose sides are straight in UTM, against OGR's Intersects there
        _, utm = get_json(items_url("camps", limit=10000, crs=EPSG % 32637))
        for box, some in (((591000, 2369000, 592500, 2370600), True), ((592100, 2370100, 592200, 2370200), True),
                          ((0, 0, 1, 1), False)):
            poly = ogr.CreateGeometryFromWkt("POLYGON((%d %d,%d %d,%d %d,%d %d,%d %d))" % (
                box[0], box[1], box[2], box[1], box[2], box[3], box[0], box[3], box[0], box[1]))
            want = sorted(f["id"] for f in utm["features"]
                          if ogr.CreateGeometryFromJson(json.dumps(f["geometry"])).Intersects(poly))
            _, got = get_json(items_url("camps", bbox="%d,%d,%d,%d" % box, limit=10000,
                                        **{"bbox-crs": "EPSG:32637"}))
            self.assertEqual(sorted(f["id"] for f in got["features"]), want, box)
            self.assertEqual(got["numberMatched"], len(want))
            self.assertEqual(len(want) > 0, some, box)

    def test_hostile_values_get_400(self):
        cases = [
            ({"crs": "EPSG:9999"}, "crs"),
            ({"crs": "EPSG:4326' OR '1'='1"}, "crs"),
            ({"crs": "<http://evil.example/def/crs/EPSG/0/32637>"}, "crs"),
            ({"crs": EPSG % 32637 + "\n"}, "crs"),
            ({"crs": "+proj=utm +zone=37"}, "crs"),
            ({"crs": "x" * 5000}, "crs"),
            ({"crs": ""}, "crs"),
            ({"bbox-crs": "EPSG:3395", "bbox": "0,0,1,1"}, "bbox-crs"),
            ({"bbox-crs": "EPSG:32637", "bbox": "1e300,0,1e301,1"}, "bbox"),
            ({"bbox-crs": "EPSG:32637", "bbox": "-1e308,-1e308,1e308,1e308"}, "bbox"),
            ({"bbox-crs": "EPSG:32637", "bbox": "0,inf,1,2"}, "bbox"),
            ({"bbox-crs": "EPSG:32637", "bbox": "nan,0,1,1"}, "bbox"),
            ({"bbox-crs": "EPSG:32637", "bbox": "600000,2400000,500000,2500000"}, "bbox"),
            ({"bbox-crs": "EPSG:3857", "bbox": "0,0,1e9,1"}, "bbox"),
            ({"bbox-crs": "EPSG:4326", "bbox": "39.8,21.4,39.9,21.5"}, "bbox"),  # lat first: 39.9 > 90? no; lon 21.5
            ({"f": "zip"}, "f"),
            ({"f": "gpkg; rm -rf /"}, "f"),
            ({"f": "kml", "crs": EPSG % 32637}, "crs"),
            ({"filter-crs": EPSG % 32637}, "filter-crs"),
        ]
        for params, names in cases:
            r = get(items_url("camps", **params))
            if params.get("bbox") == "39.8,21.4,39.9,21.5":
                # a valid lat,lon box (lat 39.8..39.9, lon 21.4..21.5): nothing of Makkah is there
                self.assertEqual(r.status, 200, params)
                self.assertEqual(json.loads(r.body)["numberMatched"], 0)
                continue
            self.assertEqual(r.status, 400, (params, r.status, r.body[:200]))
            msg = r.json()["error"]
            self.assertTrue(msg.startswith(names + ":") or msg.startswith(names + " ") or names in msg[:20],
                            (params, msg))
            self.assertLess(len(msg), 700)
            self.assertIsNone(r.header("Content-Crs"))
        r = get("/ogc/collections?f=gpkg")
        self.assertEqual(r.status, 400)
        self.assertIn("items", r.json()["error"])
        self.assertEqual(get("/health").status, 200)


DL_FORMATS = {"gpkg": ("application/geopackage+sqlite3", ".gpkg"), "shp": ("application/zip", ".shp.zip"),
              "csv": ("text/csv; charset=utf-8", ".csv"), "kml": ("application/vnd.google-earth.kml+xml", ".kml")}


def open_download(path):
    """{id: (properties, ogr geometry)} of a downloaded file, read by GDAL."""
    ds = gdal.OpenEx(path, gdal.OF_VECTOR, open_options=["AUTODETECT_TYPE=NO"] if path.endswith(".csv") else [])
    assert ds is not None, path
    lyr = ds.GetLayer(0)
    out = {}
    idf = "fid" if lyr.GetLayerDefn().GetFieldIndex("fid") >= 0 and not path.endswith(".gpkg") else None
    for f in lyr:
        props = f.items()
        if path.endswith(".gpkg"):
            fid = f.GetFID()
        else:
            fid = int(props.pop(idf))
        g = f.GetGeometryRef()
        out[fid] = (props, g.Clone() if g else None)
    return ds, out


def same_value(ours, theirs, text_only):
    if ours is None:
        return theirs in (None, "")
    if text_only:
        if isinstance(ours, bool):
            return str(theirs) in ("1", "true", "True") if ours else str(theirs) in ("0", "false", "False")
        if isinstance(ours, float):
            return abs(float(theirs) - ours) <= 1e-12 * max(1, abs(ours))
        return str(theirs) == str(ours)
    if isinstance(ours, bool):
        return bool(theirs) == ours
    if isinstance(ours, float):
        return abs(float(theirs) - ours) <= 1e-12 * max(1, abs(ours))
    return theirs == ours


class DownloadTest(unittest.TestCase):

    def download(self, coll, fmt, **params):
        r = SERVER.get(items_url(coll, f=fmt, **params))
        self.assertEqual(r.status, 200, (fmt, params, r.body[:300]))
        ctype, suffix = DL_FORMATS[fmt]
        self.assertEqual(r.header("Content-Type"), ctype)
        self.assertEqual(r.header("Content-Disposition"), 'attachment; filename="%s%s"' % (coll, suffix))
        self.assertEqual(int(r.header("Content-Length")), len(r.body))
        path = mshtest.work_path("dl", "%s_%s%s" % (coll, "_".join("%s" % v for v in params.values())[:40]
                                                       .replace("/", "_").replace(":", "_"), suffix))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(r.body)
        self.assertEqual(os.listdir(TMP), [], "a temporary download was left behind")
        return r, path

    def check_equal(self, coll, fmt, epsg, **params):
        crs = {} if epsg is None else {"crs": EPSG % epsg}
        _, page = get_json(items_url(coll, **params, **crs))
        r, path = self.download(coll, fmt, **params, **crs)
        self.assertEqual(r.header("Content-Crs"), "<%s>" % (CRS84 if epsg is None else EPSG % epsg))
        ds, got = open_download(path)
        want = {f["id"]: f for f in page["features"]}
        self.assertEqual(sorted(got), sorted(want), (coll, fmt))
        self.assertGreater(len(want), 0)
        srs = ds.GetLayer(0).GetSpatialRef()
        if fmt in ("gpkg", "shp"):
            self.assertEqual(srs.GetAuthorityCode(None), str(epsg or 4326), (coll, fmt))
        text_only = fmt in ("csv", "kml")
        for fid, feat in want.items():
            props, geom = got[fid]
            if fmt == "shp":  # dBASE names are 10 bytes (GDAL makes them distinct): the fields in order
                props = dict(zip(feat["properties"], props.values()))
            if fmt == "kml" and "Name" in props:  # LIBKML makes a field called name the placemark's <name>
                props["name"] = props.pop("Name")
            for k, v in feat["properties"].items():
                self.assertIn(k, props, (coll, fmt, k))
                self.assertTrue(same_value(v, props[k], text_only), (coll, fmt, fid, k, v, props[k]))
            g = ogr.CreateGeometryFromJson(json.dumps(feat["geometry"]))
            if epsg == 4326:
                g.SwapXY()  # the answer is lat, lon; files hold x east, y north
            tol = MM if epsg in (32637, 3857) else 1e-8
            pa, pb = paths(g), paths(geom)
            self.assertEqual([len(x) for x in pa], [len(x) for x in pb], (coll, fmt, fid))
            for a, b in zip(pa, pb):
                # a shapefile turns outer rings clockwise, GeoJSON counter-clockwise: either way round
                gap = min(path_gap(a, b), path_gap(a[::-1], b) if fmt == "shp" else float("inf"))
                self.assertLessEqual(gap, tol, (coll, fmt, fid))
        return path

    def test_every_format_equals_the_geojson_answer(self):
        q = {"limit": 40, "filter": "capacity > 1000", "bbox": "39.86,21.40,39.92,21.46"}
        for fmt in DL_FORMATS:
            for epsg in ((None, 4326) if fmt == "kml" else (None, 32637, 4326)):
                with self.subTest(fmt=fmt, crs=epsg):
                    self.check_equal("camps", fmt, epsg, **q)
        for fmt in ("gpkg", "shp", "csv"):
            self.check_equal("cleaning_routes", fmt, 32637, limit=200)
        self.check_equal("assets", "gpkg", 3857, limit=500)

    def test_arabic_survives_and_the_shapefile_says_utf8(self):
        for fmt in ("gpkg", "csv", "kml"):
            path = self.check_equal("notes", fmt, None, limit=10)
            _, got = open_download(path)
            self.assertIn("مخيم الحجاج ١٢ - منى", {p.get("name", p.get("Name")) for p, _ in got.values()}, fmt)
            self.assertIn("طريق " * 40 + ".", {p.get("long") for p, _ in got.values()}, fmt)
        # a text longer than a dBASE field: refused, not cut short, and the half-written file removed
        r = SERVER.get(items_url("notes", f="shp", limit=10))
        self.assertEqual(r.status, 400)
        self.assertIn("'long'", r.json()["error"])
        self.assertIn("254", r.json()["error"])
        self.assertEqual(os.listdir(TMP), [])
        path = self.check_equal("notes", "shp", None, limit=10, long="x")
        path = self.check_equal("camps", "shp", None, limit=10)  # name_ar, company_ar: Arabic
        _, got = open_download(path)
        self.assertTrue(any(p["name_ar"].startswith("مخيم") for p, _ in got.values()))
        with zipfile.ZipFile(path) as z:
            members = sorted(z.namelist())
            self.assertEqual(members, ["camps.cpg", "camps.dbf", "camps.prj", "camps.shp", "camps.shx"])
            self.assertEqual(z.read("camps.cpg").strip(), b"UTF-8")
        with open(self.download("notes", "csv", limit=10)[1], "rb") as f:
            self.assertEqual(f.read(3), b"\xef\xbb\xbf")  # a byte order mark: spreadsheets then read UTF-8

    def test_paging_and_links(self):
        r, page = get_json(items_url("camps", limit=7, crs=EPSG % 32637))
        alts = {link["type"]: link["href"] for link in page["links"] if link["rel"] == "alternate"}
        for fmt, (ctype, _) in DL_FORMATS.items():
            if fmt == "kml":
                self.assertNotIn(ctype, alts)  # KML is lon/lat only
                continue
            self.assertIn(ctype, alts)
            self.assertIn("f=" + fmt, alts[ctype])
            self.assertIn("crs=" + urllib.parse.quote(EPSG % 32637, safe=":"), alts[ctype])
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"][0]
        cursor = urllib.parse.parse_qs(urllib.parse.urlparse(nxt).query)["cursor"][0]
        _, page2 = get_json(items_url("camps", limit=7, cursor=cursor))
        _, got = open_download(self.download("camps", "gpkg", limit=7, cursor=cursor)[1])
        self.assertEqual(sorted(got), [f["id"] for f in page2["features"]])
        # a download may hold a whole layer: past the 10,000 of a GeoJSON page
        _, page = get_json(items_url("assets", limit=100000))
        self.assertEqual(page["numberReturned"], 5904 if page["numberMatched"] >= 5904 else page["numberMatched"])
        _, got = open_download(self.download("assets", "csv", limit=1000000)[1])
        self.assertEqual(len(got), page["numberMatched"])

    def test_refusals_leave_nothing(self):
        r = SERVER.get(items_url("camps", f="kml", crs=EPSG % 3857))
        self.assertEqual(r.status, 400)
        self.assertIn("KML", r.json()["error"])
        self.assertIsNone(r.header("Content-Disposition"))
        r = SERVER.get(items_url("camps", f="gpkg", nosuch=1))
        self.assertEqual(r.status, 400)
        self.assertEqual(os.listdir(TMP), [])

    def test_a_client_that_hangs_up_leaves_no_file(self):
        s = socket.create_connection(("127.0.0.1", SERVER.port))
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % items_url("assets", f="gpkg", limit=100000)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(1024)
            self.assertTrue(chunk)
            head += chunk
        self.assertIn(b"200 OK", head.split(b"\r\n")[0])
        s.close()  # gone before the body is read
        self.assertEqual(os.listdir(TMP), [])

        def no_open_download():
            fds = os.listdir("/proc/%d/fd" % SERVER.proc.pid)
            links = []
            for fd in fds:
                try:
                    links.append(os.readlink("/proc/%d/fd/%s" % (SERVER.proc.pid, fd)))
                except OSError:
                    pass
            return not any("mashaer-dl-" in x for x in links)
        # the descriptor of the unlinked file is closed once libmicrohttpd drops the connection
        mshtest.wait_for(no_open_download, 20, "the server to close the hung-up download")
        self.assertEqual(get("/health").status, 200)


if __name__ == "__main__":
    mshtest.main()
