"""OGC API - Features Part 4 on the static collections: create, replace, update (merge patch),
delete; ETags and If-Match (two clients on one asset: one gets 412); who may write what (roles,
OPTIONS Allow); hostile bodies change nothing; the audit history; an acknowledged edit survives
kill -9; the edit reaches the vector tiles and /events at once.

The server is real (a real port, a real SpatiaLite store: the demo assets, the reports layer the server makes and an areas
layer). No fixed sleeps: the `change` event is waited on as a barrier.
"""
import json
import socket
import time
import unittest

import mshtest

DB = None
SERVER = None
TOK = {}            # role -> token
ITEMS = "/ogc/collections/assets/items"
# live feeds (/events, the live collections) are not on a PostgreSQL store yet (README)
LIVE_PG = "live feeds: not on PostgreSQL yet"
REPORTS = "/ogc/collections/reports/items"


def req(path, method="GET", token=None, body=None, ctype="application/geo+json", headers=None):
    return mshtest.api(SERVER, path, method, token, body, ctype, headers)


def patch(fid, body, token=None, etag="*", ctype="application/merge-patch+json"):
    h = {"If-Match": etag} if etag else {}
    return req("%s/%d" % (ITEMS, fid), "PATCH", token or TOK["ops"], body, ctype, h)


def get_item(fid, path=ITEMS):
    r = req("%s/%d" % (path, fid))
    return r, (json.loads(r.body) if r.status == 200 else None)


def point(lon, lat):
    return {"type": "Point", "coordinates": [lon, lat]}


def store_state():
    """Everything a write touches: rows and geometry of assets, the layer's version, the audit."""
    with mshtest.Store(DB) as s:
        rows = s.rows("assets")
        geoms = {fid: g.ExportToWkt() for fid, g in s.geometries("assets").items()}
        version = s.registry()["assets"]["version"]
        audit = s.sql("SELECT count(*) FROM msh_audit")[0][0]
    return rows, geoms, version, audit


class Sse(mshtest.EventStream):
    """The server's /events?QUERY: the data of every `change` event, in order."""

    def __init__(self, query):
        super().__init__(SERVER.port, query, "change")


class Part4(unittest.TestCase):
    def test_conformance_and_api_name_part4(self):
        conf = SERVER.json("/ogc/conformance")["conformsTo"]
        for c in ("create-replace-delete", "update", "features"):
            self.assertIn("http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/" + c, conf)
        paths = SERVER.json("/ogc/api")["paths"]
        self.assertIn("post", paths["/collections/{collectionId}/items"])
        for m in ("put", "patch", "delete"):
            self.assertIn(m, paths["/collections/{collectionId}/items/{featureId}"])

    def test_create_replace_patch_delete(self):
        r = req(ITEMS, "POST", TOK["ops"], {"type": "Feature", "geometry": point(39.8301, 21.4201),
                                            "properties": {"kind": "water", "status": "working", "capacity": 4}})
        self.assertEqual(r.status, 201, r.body)
        loc = r.header("Location")
        fid = int(loc.rsplit("/", 1)[1])
        self.assertTrue(loc.endswith("/ogc/collections/assets/items/%d" % fid), loc)
        self.assertGreater(fid, 5904)          # after every imported id
        etag = r.header("ETag")
        self.assertRegex(etag, r'^"i[0-9a-f]{16}(-h[0-9a-f]{8})?"$')
        g, item = get_item(fid)
        self.assertEqual(g.header("ETag"), etag)   # GET sends the same version
        self.assertEqual(item["properties"]["kind"], "water")
        self.assertEqual(item["geometry"]["coordinates"], [39.8301, 21.4201])
        # conditional GET on that ETag
        self.assertEqual(req("%s/%d" % (ITEMS, fid), headers={"If-None-Match": etag}).status, 304)
        # PUT replaces everything: a property left out becomes null
        r = req("%s/%d" % (ITEMS, fid), "PUT", TOK["ops"], {"type": "Feature", "geometry": point(39.8302, 21.4202),
                                                             "properties": {"kind": "water", "status": "faulty"}},
                headers={"If-Match": etag})
        self.assertEqual(r.status, 200, r.body)
        self.assertNotEqual(r.header("ETag"), etag)
        item = json.loads(r.body)
        self.assertEqual(item["properties"]["status"], "faulty")
        self.assertIsNone(item["properties"]["capacity"])
        # PATCH merges: null removes (the field becomes null), others kept, the geometry replaced
        r = patch(fid, {"properties": {"status": "maintenance", "kind": None, "name_ar": "ماء"},
                        "geometry": point(39.8303, 21.4203)}, etag=r.header("ETag"))
        self.assertEqual(r.status, 200, r.body)
        _, item = get_item(fid)
        self.assertEqual(item["properties"]["status"], "maintenance")
        self.assertIsNone(item["properties"]["kind"])
        self.assertEqual(item["properties"]["name_ar"], "ماء")
        self.assertEqual(item["geometry"]["coordinates"], [39.8303, 21.4203])
        with mshtest.Store(DB) as s:
            self.assertEqual(s.rows("assets")[fid]["status"], "maintenance")
        # DELETE, then GET is 404 and the id is not reused
        r = req("%s/%d" % (ITEMS, fid), "DELETE", TOK["ops"], headers={"If-Match": get_item(fid)[0].header("ETag")})
        self.assertEqual(r.status, 204, r.body)
        self.assertEqual(get_item(fid)[0].status, 404)
        r = req(ITEMS, "POST", TOK["ops"], {"type": "Feature", "geometry": point(39.83, 21.42), "properties": {}})
        self.assertEqual(r.status, 201, r.body)
        self.assertGreater(int(r.header("Location").rsplit("/", 1)[1]), fid)

    def test_two_clients_one_gets_412(self):
        fid = 11
        a = get_item(fid)[0].header("ETag")
        b = get_item(fid)[0].header("ETag")
        self.assertEqual(a, b)
        r1 = patch(fid, {"properties": {"status": "faulty"}}, TOK["ops"], a)
        self.assertEqual(r1.status, 200, r1.body)
        r2 = patch(fid, {"properties": {"status": "working", "capacity": 99}}, TOK["ops2"], b)
        self.assertEqual(r2.status, 412, r2.body)
        body = json.loads(r2.body)
        self.assertEqual(body["current"]["properties"]["status"], "faulty")   # the version that won
        self.assertEqual(body["etag"], r1.header("ETag"))
        self.assertEqual(r2.header("ETag"), r1.header("ETag"))
        with mshtest.Store(DB) as s:
            row = s.rows("assets")[fid]
        self.assertEqual(row["status"], "faulty")
        self.assertNotEqual(row["capacity"], 99)
        # without If-Match the ops rules refuse (428); with the fresh ETag it goes through
        self.assertEqual(patch(fid, {"properties": {"status": "working"}}, etag=None).status, 428)
        self.assertEqual(patch(fid, {"properties": {"status": "working"}}, TOK["ops2"], r1.header("ETag")).status, 200)

    @unittest.skipIf(mshtest.STORE_BACKEND == "postgresql", LIVE_PG)
    def test_roles(self):
        body = {"properties": {"status": "faulty"}}
        self.assertEqual(patch(12, body, token=TOK["reporter"]).status, 403)
        self.assertEqual(patch(12, body, token=TOK["feed"]).status, 403)
        r = mshtest.fetch(SERVER.url("%s/12" % ITEMS), method="PATCH", data=b"{}",
                          headers={"Content-Type": "application/merge-patch+json", "If-Match": "*"})
        self.assertEqual(r.status, 401)
        self.assertIn("Bearer", r.header("WWW-Authenticate"))
        # a reporter may create reports, and nothing else there
        r = req(REPORTS, "POST", TOK["reporter"], {"type": "Feature", "geometry": point(39.87, 21.41),
                                                   "properties": {"category": "facility_fault", "text": "water leak"}})
        self.assertEqual(r.status, 201, r.body)
        rid = int(r.header("Location").rsplit("/", 1)[1])
        # beyond its creates, a private collection answers a reporter as an unknown one (test_reports.py)
        self.assertEqual(req("%s/%d" % (REPORTS, rid), "DELETE", TOK["reporter"], headers={"If-Match": "*"}).status, 404)
        # admin edits any layer, without If-Match (its rule says so)
        r = req("%s/%d" % (REPORTS, rid), "PATCH", TOK["admin"], {"properties": {"note": "fixed"}},
                "application/merge-patch+json")
        self.assertEqual(r.status, 200, r.body)

        def allow(path, token):
            h = {"Authorization": "Bearer " + token} if token else {}
            r = mshtest.fetch(SERVER.url(path), method="OPTIONS", headers=h)
            self.assertIn(r.status, (200, 204))
            return {m.strip() for m in r.header("Allow").split(",")}
        self.assertTrue({"PUT", "PATCH", "DELETE"} <= allow("%s/12" % ITEMS, TOK["ops"]))
        self.assertEqual(allow("%s/12" % ITEMS, TOK["reporter"]), {"GET", "HEAD", "OPTIONS"})
        self.assertEqual(allow("%s/12" % ITEMS, None), {"GET", "HEAD", "OPTIONS"})
        self.assertIn("POST", allow(ITEMS, TOK["ops"]))
        self.assertIn("POST", allow(REPORTS, TOK["reporter"]))
        self.assertNotIn("POST", allow(ITEMS, TOK["reporter"]))
        # live collections are read-only here (but incidents and gates: test_incident_ops.py)
        r = req("/ogc/collections/crews/items", "POST", TOK["admin"], {"type": "Feature"})
        self.assertEqual(r.status, 405, r.body)

    def test_hostile_bodies_change_nothing(self):
        before = store_state()
        deep = b"[" * 100000 + b"]" * 100000
        cases = [
            ("POST", ITEMS, b'{"type":"Feature","properties":{},"geometry":' + deep + b"}", "application/geo+json", 400),
            ("POST", ITEMS, b'{"type":"Feature","properties":' + b'{"a":' * 40 + b"1" + b"}" * 40 + b"}",
             "application/geo+json", 400),
            ("POST", ITEMS, b'{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[NaN,1]}}',
             "application/geo+json", 400),
            ("POST", ITEMS, b'{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1e999,1]}}',
             "application/geo+json", 400),
            ("POST", ITEMS, json.dumps({"type": "Feature", "properties": {}, "geometry": {
                "type": "LineString", "coordinates": [[39.8, 21.4], [39.9, 21.5]]}}).encode(), "application/geo+json", 400),
            ("POST", ITEMS, json.dumps({"type": "Feature", "geometry": point(39.8, 21.4),
                                        "properties": {"colour": "red"}}).encode(), "application/geo+json", 400),
            ("POST", ITEMS, json.dumps({"type": "Feature", "geometry": point(39.8, 21.4),
                                        "properties": {"capacity": "lots"}}).encode(), "application/geo+json", 400),
            ("POST", ITEMS, json.dumps({"type": "Feature", "geometry": point(239.8, 21.4),
                                        "properties": {}}).encode(), "application/geo+json", 400),
            ("POST", ITEMS, b'{"type":"Feature","type":"Feature","geometry":null}', "application/geo+json", 400),
            ("POST", ITEMS, b"not json", "application/geo+json", 400),
            ("POST", ITEMS, b"{}", "text/plain", 415),
            ("PATCH", ITEMS + "/13", b'{"geometry":null}', "application/merge-patch+json", 400),
            ("PATCH", ITEMS + "/13", b'{"properties":{"status":5}}', "application/merge-patch+json", 400),
            ("PATCH", ITEMS + "/13", b'{"properties":{"status":"x"}}', "application/json", 415),
        ]
        for method, path, body, ctype, want in cases:
            h = {"Authorization": "Bearer " + TOK["ops"], "Content-Type": ctype, "If-Match": "*"}
            r = mshtest.fetch(SERVER.url(path), headers=h, method=method, data=body)
            self.assertEqual(r.status, want, (method, path, body[:80], r.body[:300]))
            if want == 400:
                self.assertTrue(json.loads(r.body)["error"], r.body)
        r = req(ITEMS, "POST", TOK["ops"], {"type": "Feature", "geometry": point(39.8, 21.4),
                                            "properties": {"colour": "red"}})
        self.assertIn("colour", json.loads(r.body)["error"])   # the error names the property
        # a body over the 1 MiB cap: refused (413) from its Content-Length, before a byte of it is read
        with socket.create_connection(("127.0.0.1", SERVER.port), timeout=30) as sock:
            sock.sendall(("PUT %s/13 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\nIf-Match: *\r\n"
                          "Content-Type: application/geo+json\r\nContent-Length: %d\r\n\r\n"
                          % (ITEMS, TOK["ops"], 2 << 20)).encode())
            self.assertIn(b" 413 ", sock.recv(4096).split(b"\r\n")[0])
        self.assertEqual(store_state(), before)

    def test_invalid_polygon_is_repaired_and_crs_reprojected(self):
        bowtie = {"type": "Polygon", "coordinates": [[[39.80, 21.40], [39.81, 21.41], [39.81, 21.40], [39.80, 21.41],
                                                      [39.80, 21.40]]]}
        r = req("/ogc/collections/areas/items", "POST", TOK["admin"], {"type": "Feature", "geometry": bowtie,
                                                                       "properties": {}})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(json.loads(r.body)["geometry"]["type"], "MultiPolygon")   # MakeValid, still polygonal
        self.assertEqual(req("/ogc/collections/areas/items", "POST", TOK["ops"], {"type": "Feature", "geometry": bowtie,
                                                                                  "properties": {}}).status, 403)
        r = req(ITEMS, "POST", TOK["ops"], {"type": "Feature", "geometry": point(21.4211, 39.8311),
                                            "properties": {"kind": "water"}},
                headers={"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4326>"})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(json.loads(r.body)["geometry"]["coordinates"], [39.8311, 21.4211])   # lat,lon in
        r = req(ITEMS, "POST", TOK["ops"], {"type": "Feature", "geometry": point(1, 2), "properties": {}},
                headers={"Content-Crs": "<urn:nonsense>"})
        self.assertEqual(r.status, 400, r.body)

    def test_history_lists_every_version(self):
        fid = 14
        e = get_item(fid)[0].header("ETag")
        r = patch(fid, {"properties": {"status": "faulty"}}, TOK["ops"], e)
        self.assertEqual(r.status, 200)
        r = patch(fid, {"properties": {"status": "working"}}, TOK["ops2"], r.header("ETag"))
        self.assertEqual(r.status, 200)
        self.assertEqual(req("%s/%d/history" % (ITEMS, fid)).status, 401)
        self.assertEqual(req("%s/%d/history" % (ITEMS, fid), token=TOK["reporter"]).status, 403)
        h = json.loads(req("%s/%d/history" % (ITEMS, fid), token=TOK["ops"]).body)
        v = h["versions"]
        self.assertEqual([x["op"] for x in v], ["import", "update", "update"])
        self.assertEqual([x["by"]["name"] for x in v[1:]], ["ops-alice", "ops-bob"])
        self.assertEqual([x["by"]["role"] for x in v[1:]], ["ops", "ops"])
        self.assertEqual([x["feature"]["properties"]["status"] for x in v], ["working", "faulty", "working"])
        for x in v[1:]:
            self.assertRegex(x["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        # paged
        p1 = json.loads(req("%s/%d/history?limit=2" % (ITEMS, fid), token=TOK["ops"]).body)
        self.assertEqual(len(p1["versions"]), 2)
        nxt = [lk["href"] for lk in p1["links"] if lk["rel"] == "next"][0]
        p2 = json.loads(mshtest.fetch(nxt, headers={"Authorization": "Bearer " + TOK["ops"]}).body)
        self.assertEqual([x["seq"] for x in p2["versions"]], [v[2]["seq"]])
        # asof: as it was between the two edits
        at = v[1]["at"]
        _, item = get_item(fid)
        r = req("%s/%d?asof=%s" % (ITEMS, fid, at))
        self.assertEqual(json.loads(r.body)["properties"]["status"], "faulty", r.body)
        # the item as it was has no Mashaer-Time (it is the server's clock now: only on an answer about now)
        self.assertIsNone(r.header("Mashaer-Time"))
        self.assertRegex(get_item(fid)[0].header("Mashaer-Time"), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        # a refused asof is an answer about now: it has the server's time
        bad = req("%s/%d?asof=garbage" % (ITEMS, fid))
        self.assertEqual(bad.status, 400, bad.body)
        self.assertRegex(bad.header("Mashaer-Time") or "", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        r = req("%s/%d?asof=2000-01-01T00:00:00Z" % (ITEMS, fid))
        self.assertEqual(r.status, 404)

    @unittest.skipIf(mshtest.STORE_BACKEND == "postgresql", LIVE_PG)
    def test_edit_reaches_tiles_and_events_within_a_second(self):
        sse = Sse("types=change")
        try:
            lon, lat = 39.8421, 21.4129
            e = get_item(15)[0].header("ETag")
            t0 = time.monotonic()
            r = patch(15, {"properties": {"status": "faulty", "name": "moved"}, "geometry": point(lon, lat)}, etag=e)
            self.assertEqual(r.status, 200, r.body)
            ev = sse.wait(lambda x: x["collection"] == "assets" and x["id"] == 15, "the change event")
            self.assertEqual(ev["op"], "update")
            self.assertLessEqual(ev["bbox"][0], lon)
            self.assertGreaterEqual(ev["bbox"][2], lon)
            with mshtest.Store(DB) as s:
                self.assertEqual(ev["version"], s.registry()["assets"]["version"])
            z = 16
            x, y = mshtest.lonlat_to_tile(lon, lat, z)
            _, tile = mshtest.fetch_tile(SERVER, "assets", z, x, y)
            names = [f.attrs.get("name") for f in tile.get("assets", [])]
            elapsed = time.monotonic() - t0
            self.assertIn("moved", names)
            self.assertLess(elapsed, 1.0)
        finally:
            sse.close()

    @unittest.skipIf(mshtest.STORE_BACKEND == "postgresql", LIVE_PG)
    def test_change_events_filtered_by_collection(self):
        only_reports = Sse("types=change&collections=reports,areas")
        try:
            e = get_item(18)[0].header("ETag")
            self.assertEqual(patch(18, {"properties": {"status": "faulty"}}, etag=e).status, 200)
            # a report (private: no public change event at all, see test_reports.py), then a marker the
            # filter admits, made after the asset edit: once it is here, the asset's would be too
            r = req(REPORTS, "POST", TOK["reporter"], {"type": "Feature", "geometry": point(39.87, 21.41),
                                                       "properties": {"category": "other", "text": "marker"}})
            self.assertEqual(r.status, 201, r.body)
            r = req("/ogc/collections/areas/items/1", "PATCH", TOK["admin"], {"properties": {"label": "b"}},
                    "application/merge-patch+json")
            self.assertEqual(r.status, 200, r.body)
            only_reports.wait(lambda x: x["collection"] == "areas" and x["op"] == "update", "the area's event")
            with only_reports.lock:
                self.assertEqual({x["collection"] for x in only_reports.events}, {"areas"})
        finally:
            only_reports.close()
        bad = mshtest.fetch(SERVER.url("/events?types=change&collections=a,,b"))
        self.assertEqual(bad.status, 400)

    def test_untouched_tiles_keep_their_etag(self):
        z = 16
        here = get_item(17)[1]["geometry"]["coordinates"]
        feats = json.loads(req(ITEMS + "?limit=500").body)["features"]
        far = next(f["geometry"]["coordinates"] for f in feats
                   if abs(f["geometry"]["coordinates"][0] - here[0]) + abs(f["geometry"]["coordinates"][1] - here[1]) > 0.05)
        tiles = [mshtest.lonlat_to_tile(lon, lat, z) for lon, lat in (here, far)]

        def etags():
            return [mshtest.fetch_tile(SERVER, "assets", z, x, y)[0].header("ETag") for x, y in tiles]
        before = etags()
        r = patch(17, {"properties": {"name": "tile-check"}}, etag=get_item(17)[0].header("ETag"))
        self.assertEqual(r.status, 200, r.body)
        after = etags()
        self.assertNotEqual(after[0], before[0])     # the tile the edit touched: a new version
        self.assertEqual(after[1], before[1])        # a tile far away keeps its ETag (and its cache entry)
        x, y = tiles[0]
        _, tile = mshtest.fetch_tile(SERVER, "assets", z, x, y)
        self.assertIn("tile-check", [f.attrs.get("name") for f in tile["assets"]])

    def test_kill9_after_ack_loses_nothing(self):
        global SERVER
        e = get_item(16)[0].header("ETag")
        r = patch(16, {"properties": {"status": "faulty", "name": "durable"}}, etag=e)
        self.assertEqual(r.status, 200, r.body)
        SERVER.proc.kill()             # SIGKILL right after the answer
        SERVER.proc.wait()
        SERVER.stop()
        SERVER = mshtest.Server(DB, name="serve2").start()
        _, item = get_item(16)
        self.assertEqual(item["properties"]["name"], "durable")
        with mshtest.Store(DB) as s:
            self.assertEqual(s.sql("SELECT count(*) FROM msh_audit WHERE collection='assets' AND fid=16")[0][0], 1)


def setUpModule():
    global DB, SERVER
    DB = mshtest.work_path("edits.sqlite")
    mshtest.import_demo(DB, ["assets"])
    # `reports` is made by the server at start (test_reports.py has its rules)
    areas = mshtest.work_path("areas.geojson")
    with open(areas, "w") as f:
        json.dump({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"label": "a"},
                   "geometry": {"type": "Polygon", "coordinates": [[[39.8, 21.4], [39.9, 21.4], [39.9, 21.5],
                                                                    [39.8, 21.4]]]}}]}, f)
    mshtest.import_layer(DB, areas, "areas", check=0)
    for role, name in (("ops", "ops-alice"), ("ops2", "ops-bob"), ("reporter", "phone"), ("feed", "sensor"),
                       ("admin", "root")):
        TOK[role] = mshtest.add_token(DB, role.rstrip("2"), name)
    SERVER = mshtest.Server(DB).start()


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
