"""OGC API - Features under /ogc, read by GDAL's OAPIF driver and checked against the store.

Every static collection is read through `OAPIF:` with a small page size (so GDAL follows
many `next` links) and compared with the SpatiaLite store: ids, attribute values with their
types, geometry within 1e-7 degrees. CQL2 filters, bbox, datetime and property filters are
checked against the same predicate computed here over the store (OGR's Intersects for the
spatial ones). Bad input gets 400/404 with a message naming the problem; the ops-only live
layer is not a collection without an ops token; Arabic text round-trips byte-exact and the
HTML view escapes everything.
"""

import datetime
import gzip
import json
import os
import re
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from mshtest import gdal, ogr  # noqa: E402

SERVER = None
STORE = None
DB = None
TOKENS = {}
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
LIVE_PUBLIC = ["crews", "gates", "incidents", "movement", "sensors"]

# a layer of awkward values: markup, quotes, Arabic, a 64-bit integer past 2^53, reals, nulls
NOTES = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [39.8925, 21.4131]},
         "properties": {"name": "<script>alert('x')</script> & \"q\"", "name_ar": "مخيم الحجاج ١٢",
                        "big": 9007199254740993, "ratio": 0.1, "flag": True}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [39.8940123, 21.4145678]},
         "properties": {"name": "plain", "name_ar": "منى - جسر الجمرات", "big": -9007199254740993,
                        "ratio": 1e-300, "flag": False}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [39.9001, 21.4202]},
         "properties": {"name": None, "name_ar": None, "big": None, "ratio": None, "flag": None}},
    ],
}

INCIDENTS = [
    # id, kind, severity, minutes ago, description
    ("INC-OGC-1", "medical", "high", 50, "حالة إغماء قرب الجمرات"),
    ("INC-OGC-2", "fire", "critical", 40, "smoke <near> camp & gate"),
    ("INC-OGC-3", "lost_person", "low", 30, "طفل مفقود"),
    ("INC-OGC-4", "medical", "medium", 20, "heat stroke"),
    ("INC-OGC-5", "crowding", "high", 10, "crowding at gate 4"),
]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def setUpModule():
    global SERVER, STORE, DB
    DB = mshtest.work_path("ogc.sqlite")
    mshtest.import_demo(DB)
    notes = mshtest.work_path("notes.geojson")
    with open(notes, "w", encoding="utf-8") as f:
        json.dump(NOTES, f, ensure_ascii=False)
    mshtest.import_layer(DB, notes, "notes")
    for role in ("feed", "ops"):
        p = mshtest.run_mashaer("token", "add", "--db", DB, "--role", role, "--name", "ogc-" + role, check=0)
        TOKENS[role] = p.stdout.splitlines()[0].strip()
    STORE = mshtest.Store(DB)
    SERVER = mshtest.Server(DB, "--threads", "4").start()
    lines = []
    for i, (iid, kind, sev, ago, desc) in enumerate(INCIDENTS):
        lines.append(json.dumps({"id": iid, "lon": 39.89 + i * 0.001, "lat": 21.41 + i * 0.001,
                                 "time": iso(NOW - datetime.timedelta(minutes=ago)), "kind": kind,
                                 "severity": sev, "description": desc}, ensure_ascii=False))
    mshtest.post_ok(SERVER, "incidents", "\n".join(lines), TOKENS["feed"], accepted=len(lines))
    people = [json.dumps({"id": "P-OGC-%d" % i, "lon": 39.8925 + i * 1e-4, "lat": 21.4131, "time": iso(NOW),
                          "speed": 1.0, "heading": 90}) for i in range(3)]
    # a crowd of 7 on one spot: one 8.9 m movement cell over the k-anonymity floor (5)
    people += [json.dumps({"id": "P-CROWD-%d" % i, "lon": 39.9000, "lat": 21.4200, "time": iso(NOW),
                           "speed": 0.5, "heading": 180}) for i in range(7)]
    mshtest.post_ok(SERVER, "positions", "\n".join(people), TOKENS["feed"], accepted=len(people))
    mshtest.post_ok(SERVER, "crews", json.dumps({"id": "CREW-OGC", "lon": 39.891, "lat": 21.411, "time": iso(NOW),
                                                 "kind": "cleaning", "status": "standby", "name": "فرقة النظافة ٣"},
                                                ensure_ascii=False), TOKENS["feed"], accepted=1)
    mshtest.post_ok(SERVER, "gates", [{"id": "GATE-OGC", "lon": 39.892, "lat": 21.412, "time": iso(NOW), "in": 120,
                                       "out": 20, "capacity": 500}], TOKENS["feed"])
    mshtest.post_ok(SERVER, "sensors", [{"id": "SENS-OGC", "lon": 39.893, "lat": 21.413, "time": iso(NOW),
                                         "temperature": 41.5, "relativeHumidity": 0.2}], TOKENS["feed"])


def tearDownModule():
    rc = SERVER.stop()
    STORE.close()
    if rc != 0:
        raise AssertionError("mashaer serve exited %s after SIGTERM; stderr:\n%s" % (rc, SERVER.stderr()))


def get(path, headers=None):
    return mshtest.fetch(SERVER.url(path), headers=headers)


def get_json(path, headers=None):
    r = get(path, headers)
    if r.status != 200:
        raise AssertionError("GET %s: %d %r" % (path, r.status, r.body[:400]))
    body = gzip.decompress(r.body) if r.header("content-encoding") == "gzip" else r.body
    return json.loads(body)


def q(s):
    return urllib.parse.quote(s, safe="")


def all_items(collection, query="", limit=500, headers=None):
    """Every feature of a filtered collection, following `next` links; also checks the paging."""
    url = "/ogc/collections/%s/items?limit=%d%s" % (collection, limit, ("&" + query) if query else "")
    feats, matched = [], None
    pages = 0
    while url:
        doc = get_json(url, headers)
        pages += 1
        assert doc["type"] == "FeatureCollection"
        assert doc["numberReturned"] == len(doc["features"]), url
        assert len(doc["features"]) <= limit
        if matched is None:
            matched = doc["numberMatched"]
        feats += doc["features"]
        nxt = [ln["href"] for ln in doc["links"] if ln["rel"] == "next"]
        assert len(nxt) <= 1
        url = nxt[0][len(SERVER.base):] if nxt else None
        assert pages < 10000
    assert matched == len(feats), (collection, query, matched, len(feats))
    ids = [f["id"] for f in feats]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), "pages overlap or are out of order"
    return feats


def flat_points(g):
    """Every vertex of an OGR geometry, in order."""
    out = []
    n = g.GetGeometryCount()
    if n:
        for i in range(n):
            out += flat_points(g.GetGeometryRef(i))
    else:
        out += [(g.GetX(i), g.GetY(i)) for i in range(g.GetPointCount())]
    return out


def geojson_geom(d):
    return ogr.CreateGeometryFromJson(json.dumps(d))


class JsonError:
    def assertError(self, path, status, *words, headers=None):
        r = get(path, headers)
        self.assertEqual(r.status, status, "%s: %d %r" % (path, r.status, r.body[:300]))
        self.assertTrue(r.header("content-type", "").startswith("application/json"), path)
        doc = json.loads(r.body)
        self.assertEqual(doc["status"], status)
        for w in words:
            self.assertIn(w.lower(), doc["error"].lower(), "%s: %r lacks %r" % (path, doc["error"], w))
        return doc["error"]


class Discovery(unittest.TestCase):
    def test_landing_and_conformance(self):
        doc = get_json("/ogc")
        rels = {ln["rel"]: ln for ln in doc["links"]}
        for rel in ("self", "alternate", "service-desc", "service-doc", "conformance", "data"):
            self.assertIn(rel, rels)
        self.assertEqual(rels["data"]["href"], SERVER.base + "/ogc/collections")
        self.assertEqual(rels["service-desc"]["href"], SERVER.base + "/ogc/api")
        conf = set(get_json("/ogc/conformance")["conformsTo"])
        # OGC API - Tiles and 2D TMS classes: test_ogc_tiles.py
        conf = {c for c in conf if "/ogcapi-tiles-1/" not in c and "/spec/tms/" not in c}
        core = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
        cql = "http://www.opengis.net/spec/cql2/1.0/conf/"
        f3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
        f4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"   # Part 4 edits: test_edits.py
        f2 = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/"   # Part 2 CRS: test_ogc_crs.py
        self.assertEqual(conf, {core + c for c in ("core", "geojson", "html", "oas30")} | {f2 + "crs"} |
                         {f4 + c for c in ("create-replace-delete", "update", "features")} |
                         {f3 + c for c in ("queryables", "queryables-query-parameters", "filter", "features-filter")} |
                         {cql + c for c in ("cql2-text", "basic-cql2", "advanced-comparison-operators",
                                            "basic-spatial-functions", "basic-spatial-functions-plus")})
        # nothing claimed that is not implemented
        for c in conf:
            self.assertNotIn("cql2-json", c)
            self.assertNotIn("temporal", c)
            self.assertTrue("crs" not in c or c == f2 + "crs", c)   # Part 2 only

    def test_openapi(self):
        r = get("/ogc/api")
        self.assertEqual(r.status, 200)
        self.assertIn("openapi", r.header("content-type"))
        doc = json.loads(r.body)
        self.assertTrue(doc["openapi"].startswith("3.0"))
        items = doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
        limit = [p for p in items if p["name"] == "limit"][0]
        self.assertEqual((limit["schema"]["default"], limit["schema"]["maximum"]), (10, 10000))
        ids = [p for p in items if p["name"] == "collectionId"][0]["schema"]["enum"]
        self.assertNotIn("positions", ids)
        self.assertIn("camps", ids)
        camps = doc["paths"]["/collections/camps/items"]["get"]["parameters"]
        self.assertIn("zone_id", {p["name"] for p in camps})
        self.assertEqual(doc["servers"][0]["url"], SERVER.base + "/ogc")

    def test_collections_and_roles(self):
        public = {c["id"] for c in get_json("/ogc/collections")["collections"]}
        catalog = {la["id"]: la["access"] for la in get_json("/catalog")["layers"]}
        self.assertEqual(catalog["positions"], "ops")
        self.assertEqual(public, {k for k, v in catalog.items() if v == "public"})
        self.assertTrue(set(mshtest.DEMO_LAYERS) | {"notes"} | set(LIVE_PUBLIC) <= public)
        ops = {c["id"] for c in get_json("/ogc/collections",
                                         {"Authorization": "Bearer " + TOKENS["ops"]})["collections"]}
        self.assertEqual(ops, public | {"positions", "reports"})   # personal data: ops only
        feed = {c["id"] for c in get_json("/ogc/collections",
                                          {"Authorization": "Bearer " + TOKENS["feed"]})["collections"]}
        self.assertEqual(feed, public)
        bad = {c["id"] for c in get_json("/ogc/collections", {"Authorization": "Bearer nope"})["collections"]}
        self.assertEqual(bad, public)
        for path in ("/ogc/collections/positions", "/ogc/collections/positions/items",
                     "/ogc/collections/positions/queryables"):
            r = get(path)
            self.assertEqual(r.status, 404, path)
            self.assertNotIn(b"P-OGC", r.body)
        feats = all_items("positions", headers={"Authorization": "Bearer " + TOKENS["ops"]})
        self.assertEqual({f["properties"]["id"] for f in feats} >= {"P-OGC-0", "P-OGC-1", "P-OGC-2"}, True)
        r = get("/ogc/collections/positions/items", {"Authorization": "Bearer " + TOKENS["ops"]})
        self.assertIn("private", r.header("cache-control"))

    def test_collection_document(self):
        reg = STORE.registry()
        c = get_json("/ogc/collections/camps")
        self.assertEqual(c["id"], "camps")
        bbox = c["extent"]["spatial"]["bbox"][0]
        for got, want in zip(bbox, (reg["camps"]["minx"], reg["camps"]["miny"], reg["camps"]["maxx"],
                                    reg["camps"]["maxy"])):
            self.assertAlmostEqual(got, want, places=6)
        rels = {ln["rel"] for ln in c["links"]}
        self.assertTrue({"self", "alternate", "items"} <= rels)
        self.assertNotIn("temporal", c["extent"])
        self.assertIn("temporal", get_json("/ogc/collections/incidents")["extent"])
        qd = get_json("/ogc/collections/camps/queryables")
        types = {k: v.get("type") for k, v in qd["properties"].items()}
        self.assertEqual(types["capacity"], "integer")
        self.assertEqual(types["camp_id"], "string")
        self.assertIn("geometry", types)
        self.assertEqual(set(types) - {"geometry"}, set(STORE.field_names("camps")))


class ThroughGdal(unittest.TestCase):
    """Every static collection through GDAL's OAPIF driver, compared with the store."""

    @classmethod
    def setUpClass(cls):
        cls.ds = gdal.OpenEx("OAPIF:" + SERVER.url("/ogc"), gdal.OF_VECTOR, open_options=["PAGE_SIZE=97"])

    def compare_layer(self, name):
        lyr = self.ds.GetLayerByName(name)
        self.assertIsNotNone(lyr, name)
        rows = STORE.rows(name, raw_text=True)
        geoms = STORE.geometries(name)
        fields = STORE.field_names(name)
        types = {f["name"]: f["type"] for f in STORE.registry()[name]["fields"]}
        seen = set()
        worst = 0.0
        for feat in lyr:
            fid = feat.GetFID()
            self.assertNotIn(fid, seen)
            seen.add(fid)
            want = rows[fid]
            for fld in fields:
                got = feat.GetField(fld) if feat.IsFieldSetAndNotNull(fld) else None
                exp = want[fld]
                if isinstance(exp, bytes):
                    self.assertIsNotNone(got, (name, fid, fld))
                    self.assertEqual(got.encode("utf-8"), exp, (name, fid, fld))
                elif types[fld] == "integer" and exp is not None:
                    self.assertEqual(int(got), exp, (name, fid, fld))
                    self.assertIsInstance(got, int, (name, fid, fld))
                else:
                    self.assertEqual(got, exp, (name, fid, fld))
            a, b = flat_points(feat.GetGeometryRef()), flat_points(geoms[fid])
            self.assertEqual(len(a), len(b), (name, fid))
            for (x1, y1), (x2, y2) in zip(a, b):
                worst = max(worst, abs(x1 - x2), abs(y1 - y2))
        self.assertEqual(seen, set(rows), name)
        self.assertLess(worst, 1e-7, name)
        return len(seen)

    def test_small_layers(self):
        for name in ("camps", "cleaning_routes", "service_zones", "sites", "notes"):
            self.assertGreater(self.compare_layer(name), 0, name)

    def test_assets(self):
        self.assertEqual(self.compare_layer("assets"), STORE.count("assets"))

    def test_walkways_64bit_node_ids(self):
        self.assertEqual(self.compare_layer("walkways"), 22001)
        self.assertGreater(max(r["from_node"] for r in STORE.rows("walkways").values()), 2 ** 32)

    def test_gdal_bbox_and_where(self):
        lyr = self.ds.GetLayerByName("camps")
        box = (39.885, 21.40, 39.895, 21.43)
        lyr.SetSpatialFilterRect(*box)
        lyr.SetAttributeFilter("site = 'mina'")
        got = {f.GetFID() for f in lyr}
        lyr.SetSpatialFilter(None)
        lyr.SetAttributeFilter(None)
        poly = mshtest.box_geometry(*box)
        rows = STORE.rows("camps")
        want = {fid for fid, g in STORE.geometries("camps").items() if g.Intersects(poly) and rows[fid]["site"] == "mina"}
        self.assertTrue(want)
        self.assertEqual(got, want)

    def test_every_collection(self):
        """GDAL lists exactly the public collections; each live one reads back as /ogc serves it."""
        names = {self.ds.GetLayer(i).GetName() for i in range(self.ds.GetLayerCount())}
        self.assertEqual(names, {c["id"] for c in get_json("/ogc/collections")["collections"]})
        for name in LIVE_PUBLIC:
            with self.subTest(name=name):
                want = {f["id"]: f for f in all_items(name)}
                lyr = self.ds.GetLayerByName(name)
                got = {}
                for feat in lyr:
                    got[feat.GetFID()] = feat
                self.assertEqual(set(got), set(want))
                self.assertTrue(want)
                for fid, f in want.items():
                    for k, v in f["properties"].items():
                        g = got[fid].GetField(k) if got[fid].IsFieldSetAndNotNull(k) else None
                        ftype = got[fid].GetFieldDefnRef(k).GetType()
                        if ftype == ogr.OFTDateTime and v is not None:
                            # GDAL reads the RFC 3339 text as a DateTime field (UTC: tz flag 100)
                            y, mo, d, h, mi, sec, tz = got[fid].GetFieldAsDateTime(k)
                            want_t = datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ")
                            self.assertEqual((y, mo, d, h, mi, int(sec), tz),
                                             (want_t.year, want_t.month, want_t.day, want_t.hour, want_t.minute,
                                              want_t.second, 100), (name, fid, k))
                        elif isinstance(v, float):
                            self.assertAlmostEqual(g, v, places=9)
                        else:
                            self.assertEqual(g, v, (name, fid, k))
        crews = {f.GetField("id"): f for f in self.ds.GetLayerByName("crews")}
        self.assertEqual(crews["CREW-OGC"].GetField("name"), "فرقة النظافة ٣")
        gates = {f.GetField("id"): f for f in self.ds.GetLayerByName("gates")}
        self.assertEqual((gates["GATE-OGC"].GetField("in_total"), gates["GATE-OGC"].GetField("occupancy")), (120, 100))

    def test_ops_token_through_gdal(self):
        """With an ops token (GDAL_HTTP_HEADERS) GDAL sees positions, and reads our people."""
        gdal.SetConfigOption("GDAL_HTTP_HEADERS", "Authorization: Bearer " + TOKENS["ops"])
        try:
            ds = gdal.OpenEx("OAPIF:" + SERVER.url("/ogc"), gdal.OF_VECTOR, open_options=["PAGE_SIZE=2"])
            lyr = ds.GetLayerByName("positions")
            self.assertIsNotNone(lyr)
            ids = {f.GetField("id"): f.GetGeometryRef().GetX() for f in lyr}
        finally:
            gdal.SetConfigOption("GDAL_HTTP_HEADERS", None)
        for i in range(3):
            self.assertAlmostEqual(ids["P-OGC-%d" % i], 39.8925 + i * 1e-4, places=7)
        self.assertEqual(len([k for k in ids if k.startswith("P-CROWD-")]), 7)

    def test_live_collections_through_gdal(self):
        lyr = self.ds.GetLayerByName("incidents")
        feats = {f.GetField("id"): f for f in lyr}
        self.assertEqual(set(feats) >= {i[0] for i in INCIDENTS}, True)
        for iid, kind, sev, ago, desc in INCIDENTS:
            self.assertEqual(feats[iid].GetField("description"), desc)
            self.assertEqual(feats[iid].GetField("severity"), sev)
        self.assertIsNone(self.ds.GetLayerByName("positions"))


class Filters(unittest.TestCase, JsonError):
    def check(self, collection, cql, pred):
        rows = STORE.rows(collection)
        want = {fid for fid, r in rows.items() if pred(r)}
        got = all_items(collection, "filter=" + q(cql) + "&filter-lang=cql2-text")
        self.assertEqual({f["id"] for f in got}, want, cql)
        return want

    def test_comparisons_and_logic(self):
        cases = [
            ("capacity > 3000", lambda r: r["capacity"] > 3000),
            ("capacity >= 2700 AND site = 'mina'", lambda r: r["capacity"] >= 2700 and r["site"] == "mina"),
            ("site = 'arafat' OR capacity < 1000", lambda r: r["site"] == "arafat" or r["capacity"] < 1000),
            ("NOT (site = 'mina')", lambda r: r["site"] != "mina"),
            ("not site <> 'mina' and (blocks <= 60 or blocks_x = 6)",
             lambda r: r["site"] == "mina" and (r["blocks"] <= 60 or r["blocks_x"] == 6)),
            ("company LIKE 'Company 0%'", lambda r: r["company"].startswith("Company 0")),
            ("company LIKE 'Company _3'", lambda r: re.fullmatch(r"Company .3", r["company"]) is not None),
            ("company NOT LIKE '%1%'", lambda r: "1" not in r["company"]),
            ("name_ar LIKE 'مخيم 1%'", lambda r: r["name_ar"].startswith("مخيم 1")),
            ("name_ar LIKE 'مخيم _'", lambda r: re.fullmatch("مخيم .", r["name_ar"]) is not None),
            ("company_ar = 'شركة 06'", lambda r: r["company_ar"] == "شركة 06"),
            ("zone_id IN ('MINA-04', 'MINA-05', 'nope')", lambda r: r["zone_id"] in ("MINA-04", "MINA-05")),
            ("zone_id NOT IN ('MINA-04')", lambda r: r["zone_id"] != "MINA-04"),
            ("capacity BETWEEN 1000 AND 2000", lambda r: 1000 <= r["capacity"] <= 2000),
            ("capacity NOT BETWEEN 1000 AND 2000", lambda r: not 1000 <= r["capacity"] <= 2000),
            ("\"capacity\" = 2700.0", lambda r: r["capacity"] == 2700),
            ("capacity IN (2700, 3000)", lambda r: r["capacity"] in (2700, 3000)),
            ("TRUE", lambda r: True),
            ("FALSE OR capacity < 0", lambda r: False),
        ]
        for cql, pred in cases:
            with self.subTest(cql=cql):
                self.check("camps", cql, pred)
        self.assertTrue(self.check("camps", "capacity > 3000", lambda r: r["capacity"] > 3000))

    def test_nulls_and_64bit(self):
        self.check("assets", "capacity IS NULL", lambda r: r["capacity"] is None)
        self.check("assets", "capacity IS NOT NULL AND kind = 'gate'",
                   lambda r: r["capacity"] is not None and r["kind"] == "gate")
        # null makes a comparison unknown: neither it nor its negation keeps the feature
        a = self.check("assets", "capacity > 100", lambda r: r["capacity"] is not None and r["capacity"] > 100)
        b = self.check("assets", "NOT (capacity > 100)", lambda r: r["capacity"] is not None and r["capacity"] <= 100)
        self.assertFalse(a & b)
        big = sorted(r["from_node"] for r in STORE.rows("walkways").values())[-5]
        self.check("walkways", "from_node >= %d" % big, lambda r: r["from_node"] >= big)
        self.check("notes", "big = 9007199254740993", lambda r: r["big"] == 9007199254740993)
        self.check("notes", "flag = true", lambda r: r["flag"] == 1)
        self.check("walkways", "length_m < 10.5 AND length_m > 10", lambda r: 10 < r["length_m"] < 10.5)

    def intersects(self, collection, wkt):
        poly = ogr.CreateGeometryFromWkt(wkt)
        want = {fid for fid, g in STORE.geometries(collection).items() if g.Intersects(poly)}
        got = {f["id"] for f in all_items(collection, "filter=" + q("S_INTERSECTS(geometry, %s)" % wkt))}
        self.assertEqual(got, want, (collection, wkt))
        return want

    def test_s_intersects(self):
        # a polygon with a hole over Mina: features wholly in the hole are out, those crossing its edge in
        holed = ("POLYGON((39.880 21.405, 39.900 21.405, 39.900 21.430, 39.880 21.430, 39.880 21.405),"
                 "(39.885 21.410, 39.895 21.410, 39.895 21.425, 39.885 21.425, 39.885 21.410))")
        for coll in ("camps", "walkways", "assets", "cleaning_routes"):
            with self.subTest(coll=coll):
                got = self.intersects(coll, holed)
                self.assertTrue(got)
                outer = self.intersects(coll, "POLYGON((39.880 21.405, 39.900 21.405, 39.900 21.430, 39.880 21.430,"
                                                " 39.880 21.405))")
                if coll == "assets":
                    self.assertLess(len(got), len(outer))  # the hole takes features away
        pt = STORE.geometries("camps")[7].Centroid()
        self.assertEqual(self.intersects("camps", "POINT(%.9f %.9f)" % (pt.GetX(), pt.GetY())), {7})
        self.intersects("walkways", "LINESTRING(39.88 21.41, 39.90 21.42, 39.89 21.43)")
        self.intersects("camps", "MULTIPOLYGON(((39.88 21.41, 39.885 21.41, 39.885 21.415, 39.88 21.41)),"
                                 "((39.89 21.42, 39.895 21.42, 39.895 21.425, 39.89 21.42)))")
        self.intersects("camps", "MULTILINESTRING((39.88 21.41, 39.90 21.42),(39.95 21.35, 39.96 21.36))")
        self.intersects("assets", "GEOMETRYCOLLECTION(POINT(39.89 21.41), POLYGON((39.95 21.35, 39.97 21.35, "
                                  "39.97 21.37, 39.95 21.37, 39.95 21.35)))")
        self.assertEqual(all_items("camps", "filter=" + q("S_INTERSECTS(geometry, POLYGON EMPTY)")), [])
        self.assertEqual(all_items("camps", "filter=" + q("S_INTERSECTS(geometry, POINT(0 0))")), [])
        # BBOX is the same as its polygon
        a = {f["id"] for f in all_items("camps", "filter=" + q("S_INTERSECTS(geometry, BBOX(39.88,21.40,39.89,21.42))"))}
        b = self.intersects("camps", "POLYGON((39.88 21.40, 39.89 21.40, 39.89 21.42, 39.88 21.42, 39.88 21.40))")
        self.assertEqual(a, b)
        # combined with attributes
        rows = STORE.rows("camps")
        got = {f["id"] for f in all_items("camps", "filter=" + q("site='mina' AND S_INTERSECTS(geometry, %s)" % holed))}
        poly = ogr.CreateGeometryFromWkt(holed)
        self.assertEqual(got, {fid for fid, g in STORE.geometries("camps").items()
                               if g.Intersects(poly) and rows[fid]["site"] == "mina"})

    def test_bbox_parameter(self):
        c = STORE.geometries("walkways")[100].Centroid()
        wbox = (c.GetX() - 0.002, c.GetY() - 0.002, c.GetX() + 0.002, c.GetY() + 0.002)
        for coll, box in (("camps", (39.885, 21.40, 39.895, 21.43)), ("walkways", wbox),
                          ("assets", (39.87, 21.35, 40.0, 21.45)), ("sites", (-180, -90, 180, 90))):
            poly = mshtest.box_geometry(*box)
            want = {fid for fid, g in STORE.geometries(coll).items() if g.Intersects(poly)}
            got = {f["id"] for f in all_items(coll, "bbox=%s" % ",".join(repr(v) for v in box))}
            self.assertEqual(got, want, coll)
            self.assertTrue(want, coll)
        # 6 numbers (with heights) mean the same
        a = {f["id"] for f in all_items("camps", "bbox=39.885,21.40,-5,39.895,21.43,100")}
        b = {f["id"] for f in all_items("camps", "bbox=39.885,21.40,39.895,21.43")}
        self.assertEqual(a, b)
        # a box far away
        self.assertEqual(all_items("camps", "bbox=0,0,1,1"), [])
        # across the antimeridian: nothing there, but valid
        self.assertEqual(all_items("camps", "bbox=170,0,-170,10"), [])

    def test_property_filters(self):
        rows = STORE.rows("camps")
        got = {f["id"] for f in all_items("camps", "site=mina&capacity=2700")}
        self.assertEqual(got, {fid for fid, r in rows.items() if r["site"] == "mina" and r["capacity"] == 2700})
        got = {f["id"] for f in all_items("camps", "company_ar=" + q("شركة 06"))}
        self.assertEqual(got, {fid for fid, r in rows.items() if r["company_ar"] == "شركة 06"})
        self.assertTrue(got)

    def test_datetime(self):
        def ids(query):
            return {f["properties"]["id"] for f in all_items("incidents", query)
                    if f["properties"]["id"].startswith("INC-OGC")}
        t = lambda ago: iso(NOW - datetime.timedelta(minutes=ago))  # noqa: E731
        self.assertEqual(ids("datetime=" + q(t(30))), {"INC-OGC-3"})
        self.assertEqual(ids("datetime=" + q("%s/%s" % (t(45), t(15)))), {"INC-OGC-2", "INC-OGC-3", "INC-OGC-4"})
        self.assertEqual(ids("datetime=" + q("../" + t(35))), {"INC-OGC-1", "INC-OGC-2"})
        self.assertEqual(ids("datetime=" + q(t(25) + "/..")), {"INC-OGC-4", "INC-OGC-5"})
        self.assertEqual(ids("datetime=" + q(t(25) + "/")), {"INC-OGC-4", "INC-OGC-5"})
        day = (NOW - datetime.timedelta(minutes=10)).strftime("%Y-%m-%d")  # INC-OGC-5's day, even at midnight
        self.assertIn("INC-OGC-5", ids("datetime=" + day))
        self.assertIn("INC-OGC-5", ids("datetime=" + q("%s/%s" % (day, day))))
        self.assertEqual(ids("datetime=2001-01-01T00:00:00Z/2001-12-31T00:00:00Z"), set())
        # the same through CQL2 with TIMESTAMP
        self.assertEqual(ids("filter=" + q("reported_at < TIMESTAMP('%s') AND id LIKE 'INC-OGC-%%'" % t(35))),
                         {"INC-OGC-1", "INC-OGC-2"})
        # a collection without a time property says so
        self.assertError("/ogc/collections/camps/items?datetime=2026-01-01", 400, "datetime", "camps", "no time")

    def test_bad_input(self):
        bad = [
            ("bbox=1,2,3", 400, ["bbox", "4 numbers"]),
            ("bbox=a,b,c,d", 400, ["bbox", "not a number"]),
            ("bbox=0,10,1,5", 400, ["bbox", "south"]),
            ("bbox=0,0,200,1", 400, ["bbox", "longitude"]),
            ("bbox=0,-95,1,1", 400, ["bbox", "latitude"]),
            ("bbox=nan,0,1,1", 400, ["bbox"]),
            ("limit=-1", 400, ["limit"]),
            ("limit=abc", 400, ["limit", "abc"]),
            ("limit=0", 400, ["limit"]),
            ("limit=1.5", 400, ["limit"]),
            ("cursor=zzz", 400, ["cursor"]),
            ("datetime=yesterday", 400, ["datetime"]),
            ("datetime=2026-13-01T00:00:00Z", 400, ["datetime"]),
            ("datetime=2026-02-29", 400, ["datetime", "not a leap year"]),
            ("datetime=2026-02-31T00:00:00Z/..", 400, ["datetime", "2026-02 has 28 days"]),
            ("f=xml", 400, ["f", "xml"]),
            ("nosuchparam=1", 400, ["nosuchparam"]),
            ("capacity=lots", 400, ["capacity", "integer"]),
            ("filter-lang=cql2-json&filter=x", 400, ["filter-lang"]),
            ("bbox-crs=EPSG:3395&bbox=0,0,1,1", 400, ["bbox-crs"]),   # served: test_ogc_crs.py
            ("filter=" + q("capacity >"), 400, ["filter", "character"]),
            ("filter=" + q("nosuch = 1"), 400, ["unknown property", "nosuch", "capacity"]),
            ("filter=" + q("capacity = 'x'"), 400, ["cannot compare", "number", "string"]),
            ("filter=" + q("site = 'unterminated"), 400, ["filter"]),
            ("filter=" + q("site = 'a' AND"), 400, ["filter", "end of the filter"]),
            ("filter=" + q("S_WITHIN(geometry, POINT(1 2))"), 400, ["S_INTERSECTS"]),
            ("filter=" + q("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1)))"), 400, ["ring"]),
            ("filter=" + q("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"), 400, ["filter"]),
            ("filter=" + q("S_INTERSECTS(geometry, CIRCLE(0 0, 1))"), 400, ["geometry"]),
            ("filter=" + q("capacity LIKE 'x%'"), 400, ["LIKE"]),
            ("filter=" + q("site == 'mina'"), 400, ["filter"]),
            ("filter=" + q("UPPER(site) = 'MINA'"), 400, ["function"]),
            ("filter=" + q("(" * 5000 + "site = 'mina'" + ")" * 5000), 400, ["filter", "too deep"]),
            ("filter=" + q("NOT " * 500 + "site = 'mina'"), 400, ["too deep"]),
            ("filter=" + q(" OR ".join(["capacity=%d" % i for i in range(700)])), 400, ["too complex"]),
            ("filter=" + q("site = 'x\x00y'"), 400, ["filter"]),
            ("filter=", 400, ["filter", "empty"]),
        ]
        for query, status, words in bad:
            with self.subTest(query=query[:60]):
                self.assertError("/ogc/collections/camps/items?" + query, status, *words)
        self.assertError("/ogc/collections/nope", 404, "unknown collection", "nope")
        self.assertError("/ogc/collections/nope/items", 404, "unknown collection")
        self.assertError("/ogc/collections/camps/items/999999", 404, "999999", "camps")
        self.assertError("/ogc/collections/camps/items/abc", 404, "abc")
        self.assertError("/ogc/collections/camps/items/99999999999999999999999", 404, "camps")
        self.assertError("/ogc/collections/camps/nope", 404, "camps")
        self.assertError("/ogc/nope", 404, "nope")
        # a long filter within the URL limit: parsed and answered, or refused with a message
        wanted = sorted(r["camp_id"] for r in STORE.rows("camps").values())[::2]
        long_or = " OR ".join("camp_id = '%s'" % c for c in wanted)
        feats = all_items("camps", "filter=" + q(long_or))
        self.assertEqual(sorted(f["properties"]["camp_id"] for f in feats), wanted)
        # a URL past the server's request memory is refused before parsing, not crashed on
        r = get("/ogc/collections/camps/items?filter=" + "x" * 70000)
        self.assertIn(r.status, (400, 413, 414))
        self.assertTrue(SERVER.alive())
        # the server is still well
        self.assertEqual(get_json("/ogc/collections/camps/items?limit=1")["numberReturned"], 1)


class Items(unittest.TestCase):
    def test_paging(self):
        doc = get_json("/ogc/collections/camps/items")
        self.assertEqual(doc["numberReturned"], 10)
        self.assertEqual(doc["numberMatched"], STORE.count("camps"))
        rels = {ln["rel"]: ln["href"] for ln in doc["links"]}
        for rel in ("self", "alternate", "next", "collection"):
            self.assertIn(rel, rels)
        alternates = {ln["type"]: ln["href"] for ln in doc["links"] if ln["rel"] == "alternate"}
        self.assertIn("f=html", alternates["text/html"])   # and the downloads (test_ogc_crs.py)
        # pages of 37 cover everything once, in id order
        ids = [f["id"] for f in all_items("camps", limit=37)]
        self.assertEqual(ids, sorted(STORE.fids("camps")))
        # the last page has no next link
        last = get_json("/ogc/collections/sites/items?limit=100")
        self.assertNotIn("next", {ln["rel"] for ln in last["links"]})
        # a limit over the maximum is lowered to it (OGC API Features 1.0.1)
        big = get_json("/ogc/collections/walkways/items?limit=50000")
        self.assertEqual(big["numberReturned"], 10000)
        self.assertEqual(big["numberMatched"], 22001)
        # a next link stays right when features are added elsewhere: cursor, not offset
        first = get_json("/ogc/collections/camps/items?limit=5")
        nxt = [ln["href"] for ln in first["links"] if ln["rel"] == "next"][0]
        second = get_json(nxt[len(SERVER.base):])
        self.assertEqual([f["id"] for f in second["features"]], sorted(STORE.fids("camps"))[5:10])

    def test_gzip(self):
        path = "/ogc/collections/walkways/items?limit=300&bbox=39.8,21.3,40.0,21.5"
        plain = get(path)
        gz = get(path, {"Accept-Encoding": "gzip"})
        self.assertIsNone(plain.header("content-encoding"))
        self.assertEqual(gz.header("content-encoding"), "gzip")
        self.assertIn("Accept-Encoding", gz.header("vary", ""))
        self.assertEqual(gzip.decompress(gz.body), plain.body)
        self.assertLess(len(gz.body), len(plain.body))
        self.assertEqual(json.loads(plain.body)["numberReturned"], 300)

    def test_one_item(self):
        rows = STORE.rows("camps")
        geoms = STORE.geometries("camps")
        r = get("/ogc/collections/camps/items/42")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/geo+json")
        f = json.loads(r.body)
        self.assertEqual(f["id"], 42)
        self.assertEqual(f["properties"], rows[42])
        g = geojson_geom(f["geometry"])
        for (x1, y1), (x2, y2) in zip(flat_points(g), flat_points(geoms[42])):
            self.assertLess(max(abs(x1 - x2), abs(y1 - y2)), 1e-7)
        self.assertIn("collection", {ln["rel"] for ln in f["links"]})

    def test_types_and_arabic_bytes(self):
        raw = STORE.rows("notes", raw_text=True)
        r = get("/ogc/collections/notes/items")
        self.assertEqual(r.status, 200)
        doc = json.loads(r.body)
        byid = {f["id"]: f["properties"] for f in doc["features"]}
        self.assertEqual(set(byid), set(raw))
        for fid, props in byid.items():
            for k, v in raw[fid].items():
                if isinstance(v, bytes):
                    self.assertEqual(props[k].encode("utf-8"), v)
                else:
                    self.assertEqual(props[k], v, k)
        # integers past 2^53 stay exact in the text (no float formatting)
        self.assertIn(b"9007199254740993", r.body)
        self.assertIn(b"-9007199254740993", r.body)
        self.assertIn(b'"ratio":0.1,', r.body)
        flags = sorted(v["flag"] for v in byid.values() if v["flag"] is not None)
        self.assertEqual(flags, [0, 1] if isinstance(flags[0], int) and not isinstance(flags[0], bool) else [False, True])
        # Arabic in the live layer too, straight from the feed
        incs = {f["properties"]["id"]: f["properties"] for f in all_items("incidents")}
        self.assertEqual(incs["INC-OGC-1"]["description"], INCIDENTS[0][4])

    def test_live_layers(self):
        for name in LIVE_PUBLIC:
            doc = get_json("/ogc/collections/%s/items?limit=1000" % name)
            self.assertEqual(doc["numberMatched"], len(all_items(name)), name)
        feats = all_items("incidents")
        ours = [f for f in feats if f["properties"]["id"].startswith("INC-OGC")]
        self.assertEqual(len(ours), len(INCIDENTS))
        for f in ours:
            i = int(f["properties"]["id"][-1]) - 1
            self.assertAlmostEqual(f["geometry"]["coordinates"][0], 39.89 + i * 0.001, places=7)
            self.assertAlmostEqual(f["geometry"]["coordinates"][1], 21.41 + i * 0.001, places=7)
            one = get_json("/ogc/collections/incidents/items/%d" % f["id"])
            self.assertEqual(one["properties"], f["properties"])
        cells = all_items("movement")
        self.assertEqual(len(cells), 1)  # the 3 scattered people are under k-anonymity
        cell = cells[0]
        self.assertEqual(cell["properties"]["count"], 7)
        self.assertIsInstance(cell["properties"]["count"], int)
        self.assertEqual(cell["properties"]["cell_m"], 8.9)
        ring = geojson_geom(cell["geometry"])
        self.assertEqual(cell["geometry"]["type"], "Polygon")
        self.assertTrue(ring.Contains(ogr.CreateGeometryFromWkt("POINT (39.9 21.42)")))
        self.assertEqual([f["id"] for f in all_items("movement", "filter=" + q("count >= 7 AND los IS NOT NULL"))],
                         [cell["id"]])
        crit = all_items("incidents", "severity=critical")
        self.assertEqual({f["properties"]["id"] for f in crit if f["properties"]["id"].startswith("INC-OGC")},
                         {"INC-OGC-2"})


class Concurrency(unittest.TestCase):
    def test_parallel_filters_agree(self):
        """Many clients at once, each with its own filter, get the answers one client gets."""
        import concurrent.futures
        queries = ["filter=" + q("capacity > %d" % c) for c in range(500, 4000, 250)]
        queries += ["bbox=39.88,21.40,39.89,%.3f" % (21.41 + i / 1000) for i in range(10)]
        queries += ["filter=" + q("S_INTERSECTS(geometry, BBOX(39.88,21.40,39.89,%.3f))" % (21.41 + i / 1000))
                    for i in range(10)]
        alone = {qs: [f["id"] for f in all_items("camps", qs, limit=50)] for qs in queries}
        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as ex:
            for _ in range(3):
                together = dict(zip(queries, ex.map(lambda qs: [f["id"] for f in all_items("camps", qs, limit=50)],
                                                    queries)))
                self.assertEqual(together, alone)
        self.assertTrue(any(alone.values()))


class Html(unittest.TestCase):
    def test_negotiation_and_escaping(self):
        r = get("/ogc/collections/notes/items", {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/html"))
        body = r.body.decode("utf-8")
        self.assertNotIn("<script>", body)
        self.assertIn("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;", body)
        self.assertIn('<td dir="auto">مخيم الحجاج ١٢</td>', body)
        self.assertEqual(get("/ogc/collections/notes/items?f=html").body, r.body)
        self.assertIn("Accept", [v.strip() for v in r.header("vary", "").split(",")])
        j = get("/ogc/collections/notes/items", {"Accept": "application/geo+json"})
        self.assertEqual(j.header("content-type"), "application/geo+json")
        for path in ("/ogc?f=html", "/ogc/collections?f=html", "/ogc/collections/camps?f=html",
                     "/ogc/conformance?f=html", "/ogc/collections/camps/items/3?f=html", "/ogc/api?f=html",
                     "/ogc/collections/camps/queryables?f=html"):
            r = get(path)
            self.assertEqual(r.status, 200, path)
            self.assertTrue(r.body.startswith(b"<!doctype html>"), path)
            self.assertTrue(r.body.rstrip().endswith(b"</html>"), path)
        q_html = get("/ogc/collections/camps/queryables", {"Accept": "text/html"}).body.decode()
        self.assertIn("<td dir=\"auto\">capacity</td><td>integer</td>", q_html)
        self.assertIn("limit", get("/ogc/api?f=html").body.decode())
        # GDAL asks for the API definition with OpenAPI media types: JSON, not HTML
        api = get("/ogc/api", {"Accept": "application/vnd.oai.openapi+json;version=3.0, application/json"})
        self.assertTrue(json.loads(api.body)["openapi"].startswith("3.0"))
        page = get("/ogc/collections/camps/items?f=html&limit=5").body.decode()
        self.assertEqual(page.count("<tr>"), 6)
        self.assertIn('rel="next"', page)
        self.assertIn("M-0001", page)
        inc = get("/ogc/collections/incidents/items?f=html&limit=1000").body.decode()
        self.assertIn("smoke &lt;near&gt; camp &amp; gate", inc)


if __name__ == "__main__":
    mshtest.main()
