"""HTTP behaviour of `mashaer serve` on the demo store.

gzip, ETag / 304, Cache-Control, CORS, 204 for empty tiles, 400/404 JSON
errors, TileJSON and /catalog content against the store, /metrics counters,
styles, the web viewer, path traversal, oversized requests, methods, HEAD and
the reload of re-imported data.
"""

import gzip
import json
import os
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402

SERVER = None
STORE = None
DB = None


def setUpModule():
    global SERVER, STORE, DB
    DB = mshtest.work_path("http.sqlite")
    mshtest.import_demo(DB)
    STORE = mshtest.Store(DB)
    SERVER = mshtest.Server(DB, "--threads", "2").start()


def tearDownModule():
    rc = SERVER.stop()
    STORE.close()
    if rc != 0:
        raise AssertionError("mashaer serve exited %s after SIGTERM; stderr:\n%s" % (rc, SERVER.stderr()))


def camp_tile(fid=1, z=15):
    """(z, x, y) of the tile holding the centroid of camp `fid`."""
    c = STORE.geometries("camps")[fid].Centroid()
    return (z,) + mshtest.lonlat_to_tile(c.GetX(), c.GetY(), z)


def raw_exchange(port, request, timeout=10):
    """Send raw bytes, read until the server closes; returns (status or None, header bytes, body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    data = b""
    try:
        try:
            s.sendall(request)
        except OSError:
            pass  # the server may answer and close before reading everything
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = None
    if head.startswith(b"HTTP/1."):
        status = int(head.split(b" ", 2)[1])
    return status, head, body



def delta_of(before, after, name, **labels):
    """How much a /metrics sample grew between two snapshots."""
    return mshtest.metric(after, name, **labels) - mshtest.metric(before, name, **labels)

class JsonErrorMixin:
    def assertJsonError(self, r, status, path=""):
        self.assertEqual(r.status, status, "%s: %d %r" % (path, r.status, r.body[:200]))
        self.assertTrue(r.header("content-type", "").startswith("application/json"), (path, r.headers))
        body = r.body
        if r.header("content-encoding") == "gzip":
            body = gzip.decompress(body)
        text = body.decode("utf-8")
        self.assertEqual(text.count("\n"), 1, "%s: the error is not one line: %r" % (path, text))
        self.assertTrue(text.endswith("\n"))
        doc = json.loads(text)
        self.assertIsInstance(doc.get("error"), str, (path, doc))
        self.assertGreater(len(doc["error"]), 5, (path, doc))
        self.assertEqual(doc.get("status"), status, (path, doc))
        self.assertEqual(r.header("access-control-allow-origin"), "*", path)
        return doc


class Tiles(unittest.TestCase, JsonErrorMixin):
    def test_tile_content_and_headers(self):
        z, x, y = camp_tile(1)
        r, dec = mshtest.fetch_tile(SERVER, "camps", z, x, y)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/vnd.mapbox-vector-tile")
        self.assertEqual(r.header("access-control-allow-origin"), "*")
        self.assertEqual(r.header("cache-control"), "public, max-age=60")
        self.assertIn("Accept-Encoding", r.header("vary", ""))
        self.assertIsNone(r.header("content-encoding"))
        self.assertEqual(int(r.header("content-length")), len(r.body))
        self.assertIn(1, {f.id for f in dec["camps"]})
        rows = STORE.rows("camps")
        for f in dec["camps"]:
            self.assertEqual(f.attrs["camp_id"], rows[f.id]["camp_id"])

    def test_two_layers_in_one_tile(self):
        z, x, y = camp_tile(1)
        r, dec = mshtest.fetch_tile(SERVER, "sites,camps", z, x, y)
        self.assertEqual(list(dec), ["sites", "camps"])  # in the order asked for
        _, only_camps = mshtest.fetch_tile(SERVER, "camps", z, x, y)
        self.assertEqual(sorted(f.id for f in dec["camps"]), sorted(f.id for f in only_camps["camps"]))
        self.assertEqual({f.attrs["site_id"] for f in dec["sites"]}, {"mina"})

    def test_gzip(self):
        z, x, y = camp_tile(1)
        path = "/tiles/camps,assets/%d/%d/%d.mvt" % (z, x, y)
        plain = SERVER.get(path)
        gz = SERVER.get(path, headers={"Accept-Encoding": "gzip"})
        self.assertEqual(plain.status, 200)
        self.assertEqual(gz.status, 200)
        self.assertEqual(gz.header("content-encoding"), "gzip")
        self.assertEqual(gz.body[:2], b"\x1f\x8b")
        self.assertEqual(gzip.decompress(gz.body), plain.body)
        self.assertLess(len(gz.body), len(plain.body))
        self.assertIn("Accept-Encoding", gz.header("vary", ""))
        # the second gzip answer (from the cache) is the same data
        gz2 = SERVER.get(path, headers={"Accept-Encoding": "deflate, gzip"})
        self.assertEqual(gzip.decompress(gz2.body), plain.body)
        # gzip refused: identity
        no = SERVER.get(path, headers={"Accept-Encoding": "gzip;q=0"})
        self.assertIsNone(no.header("content-encoding"))
        self.assertEqual(no.body, plain.body)
        # a JSON document too
        cat_plain = SERVER.get("/catalog")
        cat_gz = SERVER.get("/catalog", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(cat_gz.header("content-encoding"), "gzip")
        self.assertEqual(json.loads(gzip.decompress(cat_gz.body)), json.loads(cat_plain.body))

    def test_etag_and_304(self):
        z, x, y = camp_tile(2)
        path = "/tiles/camps/%d/%d/%d.mvt" % (z, x, y)
        r1 = SERVER.get(path)
        etag = r1.header("etag")
        self.assertRegex(etag or "", r'^"[^"]+"$')
        r2 = SERVER.get(path)
        self.assertEqual(r2.header("etag"), etag)
        self.assertEqual(r2.body, r1.body)
        r304 = SERVER.get(path, headers={"If-None-Match": etag})
        self.assertEqual(r304.status, 304)
        self.assertEqual(r304.body, b"")
        self.assertEqual(r304.header("etag"), etag)
        # weak and list forms match too; another ETag does not
        self.assertEqual(SERVER.get(path, headers={"If-None-Match": '"nope", W/' + etag}).status, 304)
        self.assertEqual(SERVER.get(path, headers={"If-None-Match": "*"}).status, 304)
        other = SERVER.get(path, headers={"If-None-Match": '"0000000000000000"'})
        self.assertEqual(other.status, 200)
        self.assertEqual(other.body, r1.body)
        # gzip variant: its own ETag, and 304 on it
        g = SERVER.get(path, headers={"Accept-Encoding": "gzip"})
        self.assertNotEqual(g.header("etag"), etag)
        g304 = SERVER.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": g.header("etag")})
        self.assertEqual(g304.status, 304)
        self.assertEqual(g304.body, b"")
        # HEAD honours it as well
        self.assertEqual(SERVER.get(path, headers={"If-None-Match": etag}, method="HEAD").status, 304)
        # different layers, different ETag
        other_layers = SERVER.get("/tiles/camps,sites/%d/%d/%d.mvt" % (z, x, y))
        self.assertNotEqual(other_layers.header("etag"), etag)

    def test_empty_tile_204(self):
        # z10 over Colorado, far from every layer
        x, y = mshtest.lonlat_to_tile(-105.0, 39.7, 10)
        for layers in ("camps", "camps,walkways,assets"):
            r = SERVER.get("/tiles/%s/10/%d/%d.mvt" % (layers, x, y))
            self.assertEqual(r.status, 204, layers)
            self.assertEqual(r.body, b"")
            self.assertEqual(r.header("access-control-allow-origin"), "*")
            rg = SERVER.get("/tiles/%s/10/%d/%d.mvt" % (layers, x, y), headers={"Accept-Encoding": "gzip"})
            self.assertEqual(rg.status, 204)
            self.assertEqual(rg.body, b"")
            self.assertIsNone(rg.header("content-encoding"))
        # the deepest zoom is valid: 24 is allowed, 25 is not
        r = SERVER.get("/tiles/camps/24/%d/%d.mvt" % ((1 << 24) - 1, (1 << 24) - 1))
        self.assertEqual(r.status, 204)

    def test_bad_tile_paths_400(self):
        big = "9" * 40
        paths = [
            "/tiles/camps/25/0/0.mvt",
            "/tiles/camps/3/8/0.mvt",
            "/tiles/camps/3/0/8.mvt",
            "/tiles/camps/a/b/c.mvt",
            "/tiles/camps/1/0/0.jpg",
            "/tiles/camps/1/0/0@3x.png",
            "/tiles//1/0/0.mvt",
            "/tiles/camps,camps/1/0/0.mvt",
            "/tiles/Camps/1/0/0.mvt",
            "/tiles/camps,/1/0/0.mvt",
            "/tiles/,camps/1/0/0.mvt",
            "/tiles/camps/%s/0/0.mvt" % big,
            "/tiles/camps/3/%s/0.mvt" % big,
            "/tiles/camps/3/0/%s.mvt" % big,
            "/tiles/camps/24/16777216/0.mvt",
            "/tiles/camps/1/4294967297/0.mvt",
            "/tiles/camps/1/18446744073709551617/0.mvt",
            "/tiles/camps/-1/0/0.mvt",
            "/tiles/camps/1/-1/0.mvt",
            "/tiles/camps/1/0/0.5.mvt",
            "/tiles/camps/1/0.mvt",
            "/tiles/camps/1/0/0/0.mvt",
            "/tiles/camps/1/0/0.mvt/",
            "/tiles/camps/1/0/0",
            "/tiles/camps",
            "/tiles/",
            "/tiles/camps%00/1/0/0.mvt",
            "/tiles/" + "a" * 300 + "/1/0/0.mvt",
        ]
        for p in paths:
            with self.subTest(path=p):
                r = SERVER.raw(p)
                self.assertJsonError(r, 400, p)

    def test_unknown_layer_404(self):
        for p, name in (("/tiles/nope/1/0/0.mvt", "nope"), ("/tiles/camps,nope/1/0/0.mvt", "nope"),
                        ("/tiles/nope.json", "nope"), ("/tiles/sites,zz_missing.json", "zz_missing")):
            with self.subTest(path=p):
                doc = self.assertJsonError(SERVER.get(p), 404, p)
                self.assertIn(name, doc["error"])

    def test_head_on_a_tile(self):
        z, x, y = camp_tile(3)
        path = "/tiles/camps/%d/%d/%d.mvt" % (z, x, y)
        get = SERVER.get(path)
        head = SERVER.get(path, method="HEAD")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.body, b"")
        for h in ("etag", "content-type", "cache-control", "access-control-allow-origin"):
            self.assertEqual(head.header(h), get.header(h), h)
        self.assertEqual(int(head.header("content-length")), len(get.body))
        # on the wire: nothing after the headers
        status, hdr, body = raw_exchange(SERVER.port, ("HEAD %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                        "Connection: close\r\n\r\n" % path).encode())
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")

    def test_cors_everywhere(self):
        z, x, y = camp_tile(1)
        for p in ("/tiles/camps/%d/%d/%d.mvt" % (z, x, y), "/tiles/camps.json", "/catalog", "/health", "/metrics",
                  "/styles/operations.json", "/", "/tiles/nope/1/0/0.mvt", "/tiles/camps/99/0/0.mvt"):
            with self.subTest(path=p):
                self.assertEqual(SERVER.get(p).header("access-control-allow-origin"), "*")
        pre = SERVER.raw("/tiles/camps/1/1/0.mvt", method="OPTIONS",
                         headers={"Origin": "http://example.org", "Access-Control-Request-Method": "GET"})
        self.assertIn(pre.status, (200, 204))
        self.assertEqual(pre.header("access-control-allow-origin"), "*")
        self.assertIn("GET", pre.header("access-control-allow-methods", ""))


class Documents(unittest.TestCase, JsonErrorMixin):
    def test_catalog_equals_store(self):
        cat = SERVER.json("/catalog")
        reg = STORE.registry()
        layers = {l["id"]: l for l in cat["layers"] if l["kind"] == "static"}
        self.assertEqual(set(layers), set(mshtest.PUBLIC_SERVED_LAYERS))   # /catalog without a token
        for name, l in layers.items():
            with self.subTest(layer=name):
                row = reg[name]
                self.assertEqual(l["feature_count"], STORE.count(name))
                self.assertEqual(l["feature_count"], row["feature_count"])
                self.assertEqual(l["version"], row["version"])
                self.assertEqual(l["kind"], "static")
                self.assertEqual(l["geometry_type"], row["geometry_type"])
                self.assertEqual((l["minzoom"], l["maxzoom"]), (row["minzoom"], row["maxzoom"]))
                if row["minx"] is None:  # an empty layer (work_orders before its first): no bounds
                    self.assertIsNone(l["bounds"])
                for got, want in zip(l["bounds"] or (), (row["minx"], row["miny"], row["maxx"], row["maxy"])):
                    self.assertAlmostEqual(got, want, delta=1e-7)
                self.assertEqual(l["fields"], {f["name"]: f["type"] for f in row["fields"]})
                self.assertEqual(list(l["fields"]), [f["name"] for f in row["fields"]])  # store order
                self.assertLessEqual(set(l["fields"].values()), {"string", "integer", "number", "boolean"})
                self.assertEqual(l["tilejson"], SERVER.url("/tiles/%s.json" % name))
                self.assertEqual(l["tiles"], SERVER.url("/tiles/%s/{z}/{x}/{y}.mvt" % name))
        self.assertEqual(layers["walkways"]["fields"], {"from_node": "integer", "to_node": "integer",
                                                        "length_m": "number"})
        self.assertEqual(layers["camps"]["fields"]["capacity"], "integer")
        self.assertEqual(layers["camps"]["fields"]["name_ar"], "string")
        # the bounds really enclose the data
        for name in ("camps", "assets"):
            w, s, e, n = layers[name]["bounds"]
            for g in STORE.geometries(name).values():
                minx, maxx, miny, maxy = g.GetEnvelope()
                self.assertTrue(w - 1e-7 <= minx and maxx <= e + 1e-7 and s - 1e-7 <= miny and maxy <= n + 1e-7)

    def test_tilejson(self):
        cat = {l["id"]: l for l in SERVER.json("/catalog")["layers"]}
        tj_types = {"string": "String", "integer": "Number", "number": "Number", "boolean": "Boolean"}
        for name in mshtest.DEMO_LAYERS:
            with self.subTest(layer=name):
                r = SERVER.get("/tiles/%s.json" % name)
                self.assertEqual(r.status, 200)
                self.assertTrue(r.header("content-type").startswith("application/json"))
                tj = r.json()
                self.assertEqual(tj["tilejson"], "3.0.0")
                self.assertEqual(tj["tiles"], [SERVER.url("/tiles/%s/{z}/{x}/{y}.mvt" % name)])
                for got, want in zip(tj["bounds"], cat[name]["bounds"]):
                    self.assertAlmostEqual(got, want, delta=1e-7)
                self.assertEqual((tj["minzoom"], tj["maxzoom"]), (cat[name]["minzoom"], cat[name]["maxzoom"]))
                self.assertEqual([v["id"] for v in tj["vector_layers"]], [name])
                vl = tj["vector_layers"][0]
                self.assertEqual(set(vl["fields"]), set(cat[name]["fields"]))
                for k, t in cat[name]["fields"].items():
                    self.assertEqual(vl["fields"][k], tj_types[t], k)
                w, s, e, n = tj["bounds"]
                cx, cy = tj["center"][:2]
                self.assertTrue(w <= cx <= e and s <= cy <= n, tj["center"])
        # several layers: union of the bounds, layers in the order asked for, and the template works
        names = ["sites", "camps", "walkways"]
        tj = SERVER.json("/tiles/%s.json" % ",".join(names))
        self.assertEqual([v["id"] for v in tj["vector_layers"]], names)
        want = [min(cat[n]["bounds"][0] for n in names), min(cat[n]["bounds"][1] for n in names),
                max(cat[n]["bounds"][2] for n in names), max(cat[n]["bounds"][3] for n in names)]
        for got, w in zip(tj["bounds"], want):
            self.assertAlmostEqual(got, w, delta=1e-7)
        z, x, y = camp_tile(1)
        url = tj["tiles"][0].replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
        self.assertTrue(url.startswith(SERVER.base + "/"))
        r = mshtest.fetch(url)
        self.assertEqual(r.status, 200)
        box = mshtest.box_geometry(*mshtest.tile_bounds_3857(z, x, y))
        has_walkways = any(mshtest.to_3857(g).Intersects(box) for g in STORE.geometries("walkways").values())
        self.assertEqual(set(mshtest.decode_mvt(r.body, z, x, y)),
                         {"sites", "camps"} | ({"walkways"} if has_walkways else set()))

    def test_tilejson_ignores_a_bad_host_header(self):
        status, head, body = raw_exchange(SERVER.port, b'GET /tiles/camps.json HTTP/1.1\r\nHost: evil"}, "x\r\n'
                                                       b"Connection: close\r\n\r\n")
        self.assertEqual(status, 200)
        tj = json.loads(body)
        self.assertEqual(tj["tiles"], [SERVER.url("/tiles/camps/{z}/{x}/{y}.mvt")])

    def test_health(self):
        h = SERVER.json("/health")
        self.assertEqual(h["status"], "ok")
        self.assertEqual(h["layers"], len(mshtest.SERVED_LAYERS))
        self.assertEqual(h["features"], sum(STORE.count(n) for n in mshtest.DEMO_LAYERS))

    def test_metrics_count_requests(self):
        def snapshot():
            r = SERVER.get("/metrics")
            self.assertEqual(r.status, 200)
            self.assertTrue(r.header("content-type").startswith("text/plain"))
            return mshtest.parse_metrics(r.body.decode())

        z, x, y = camp_tile(5, z=16)
        before = snapshot()
        path = "/tiles/camps,assets/%d/%d/%d.mvt" % (z, x, y)
        for _ in range(3):
            self.assertEqual(SERVER.get(path).status, 200)
        self.assertEqual(SERVER.get("/tiles/nope/1/0/0.mvt").status, 404)
        self.assertEqual(SERVER.get("/tiles/camps/99/0/0.mvt").status, 400)
        self.assertEqual(SERVER.get("/catalog").status, 200)
        # each endpoint counts under its own label (the route table's), not under "other"
        own = {"/ogc/collections": "ogc", "/kpi/nope": "kpi", "/tiles/camps.json": "tilejson",
               "/heatmaps/density/legend": "heatmap", "/styles/operations.json": "style",
               "/query/at?lon=39.89&lat=21.41": "at", "/fonts.json": "fonts", "/events?types=nope": "events",
               "/route?from=x": "route", "/isochrone": "isochrone", "/query/nearest": "nearest"}
        statuses = {p: SERVER.get(p).status for p in own}
        posted = mshtest.fetch(SERVER.url("/catalog"), method="POST", data=b"{}").status
        after = snapshot()
        for p, label in own.items():
            self.assertEqual(delta_of(before, after, "mashaer_http_requests_total", endpoint=label,
                                      code=str(statuses[p])), 1, (p, label, statuses[p]))
        self.assertEqual(posted, 405)
        self.assertEqual(delta_of(before, after, "mashaer_http_requests_total", endpoint="catalog", code="405"), 1)
        self.assertEqual(delta_of(before, after, "mashaer_http_requests_total", endpoint="other"), 0)

        def delta(name, **labels):
            return delta_of(before, after, name, **labels)

        self.assertEqual(delta("mashaer_http_requests_total", endpoint="tile", code="200"), 3)
        self.assertEqual(delta("mashaer_http_requests_total", endpoint="tile", code="404"), 1)
        self.assertEqual(delta("mashaer_http_requests_total", endpoint="tile", code="400"), 1)
        self.assertEqual(delta("mashaer_http_requests_total", endpoint="catalog", code="200"), 1)
        self.assertEqual(delta("mashaer_http_requests_total", endpoint="metrics", code="200"), 1)
        self.assertEqual(delta("mashaer_tiles_served_total"), 3)
        self.assertEqual(delta("mashaer_tile_cache_hits_total"), 2)
        self.assertEqual(delta("mashaer_tile_cache_misses_total"), 1)
        self.assertEqual(delta("mashaer_http_request_duration_seconds_count", endpoint="tile"), 5)
        self.assertGreater(delta("mashaer_http_request_duration_seconds_sum", endpoint="tile"), 0)
        # the histogram is cumulative and ends with +Inf == count
        buckets = sorted(((float(dict(ls)["le"]), v) for (n, ls), v in after.items()
                          if n == "mashaer_http_request_duration_seconds_bucket" and dict(ls)["endpoint"] == "tile"))
        self.assertGreater(len(buckets), 3)
        self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets))
        self.assertEqual(buckets[-1], (float("inf"),
                                       mshtest.metric(after, "mashaer_http_request_duration_seconds_count",
                                                      endpoint="tile")))
        self.assertEqual(mshtest.metric(after, "mashaer_layers"), len(mshtest.SERVED_LAYERS))
        self.assertEqual(mshtest.metric(after, "mashaer_features"), sum(STORE.count(n) for n in mshtest.DEMO_LAYERS))
        self.assertGreater(mshtest.metric(after, "mashaer_tile_cache_entries"), 0)

    def test_style(self):
        r = SERVER.get("/styles/operations.json")
        self.assertEqual(r.status, 200)
        style = r.json()
        with open(os.path.join(mshtest.CONFIG.source_dir, "styles", "operations.json"), encoding="utf-8") as f:
            src = json.load(f)
        self.assertEqual(style["version"], 8)
        self.assertEqual(style["layers"], src["layers"])
        for name, s in src["sources"].items():
            got = style["sources"][name]
            if s.get("url", "").startswith("/"):
                self.assertEqual(got["url"], SERVER.base + s["url"])
                tj = mshtest.fetch(got["url"])
                self.assertEqual(tj.status, 200, got["url"])
                ids = [v["id"] for v in json.loads(tj.body)["vector_layers"]]
                used = {l["source-layer"] for l in src["layers"] if l.get("source") == name and "source-layer" in l}
                self.assertLessEqual(used, set(ids))
        self.assertJsonError(SERVER.get("/styles/nope.json"), 404)
        self.assertIn(SERVER.raw("/styles/..%2fstyles%2foperations.json").status, (400, 404))
        self.assertIn(SERVER.raw("/styles/../CMakeLists.txt").status, (400, 404))


class HostLinks(unittest.TestCase):
    """Absolute links come from --public-url; without it from the Host header, and then the answer
    says Vary: Host and its ETag differs per host (no cache may hand one host's links to another)."""
    PATHS = ["/tiles/camps.json", "/styles/operations.json", "/catalog", "/ogc?f=json", "/ogc/collections?f=json",
             "/ogc/collections/camps/items?f=json&limit=2"]

    @staticmethod
    def vary(r):
        return [v.strip() for v in r.header("vary", "").split(",") if v.strip()]

    def both_hosts(self, srv, path):
        """path asked with a foreign Host and with none given; both answer 200. Returns (foreign, own)."""
        evil = srv.get(path, headers={"Host": "evil.example"})
        mine = srv.get(path)
        self.assertEqual((evil.status, mine.status), (200, 200))
        return evil, mine

    def test_links_from_host_vary_on_it(self):
        for path in self.PATHS:
            with self.subTest(path=path):
                evil, mine = self.both_hosts(SERVER, path)
                self.assertIn(b"http://evil.example/", evil.body)
                self.assertNotIn(b"evil.example", mine.body)
                self.assertIn("Host", self.vary(evil))
                self.assertIn("Host", self.vary(mine))
                if mine.header("etag"):
                    self.assertNotEqual(evil.header("etag"), mine.header("etag"))
                    # the tag of the other host's body is no validator for this one
                    again = SERVER.get(path, headers={"If-None-Match": evil.header("etag")})
                    self.assertEqual(again.status, 200)
                    self.assertEqual(SERVER.get(path, headers={"If-None-Match": mine.header("etag")}).status, 304)

    def test_public_url(self):
        with mshtest.Server(DB, "--public-url", "https://maps.example.org/", name="public-url") as srv:
            tj = srv.json("/tiles/camps.json")
            self.assertEqual(tj["tiles"], ["https://maps.example.org/tiles/camps/{z}/{x}/{y}.mvt"])
            for path in self.PATHS:
                with self.subTest(path=path):
                    evil, mine = self.both_hosts(srv, path)
                    self.assertNotIn(b"evil.example", evil.body)
                    self.assertNotIn(("127.0.0.1:%d" % srv.port).encode(), mine.body)
                    self.assertIn(b"https://maps.example.org/", evil.body)
                    self.assertNotIn("Host", self.vary(evil))
                    self.assertEqual(evil.header("etag"), mine.header("etag"))
        for bad in ("ftp://maps.example.org", "https://", "https://a b.org", 'https://a.org/"x', "https://a.org/?q=1",
                    "maps.example.org"):
            with self.subTest(url=bad):
                p = mshtest.run_mashaer("serve", "--db", DB, "--public-url", bad, "--port", "0")
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("--public-url", p.stderr)


class Static(unittest.TestCase, JsonErrorMixin):
    def test_viewer(self):
        web = os.path.join(mshtest.CONFIG.source_dir, "web")
        r = SERVER.get("/")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/html"))
        with open(os.path.join(web, "index.html"), "rb") as f:
            self.assertEqual(r.body, f.read())
        for name in ("app.js", "app.css"):
            if os.path.exists(os.path.join(web, name)):
                r = SERVER.get("/" + name)
                self.assertEqual(r.status, 200, name)
                with open(os.path.join(web, name), "rb") as f:
                    self.assertEqual(r.body, f.read(), name)
        self.assertJsonError(SERVER.get("/no-such-file.js"), 404)

    def test_vendor_maplibre(self):
        dist = os.path.join(mshtest.CONFIG.source_dir, "web", "node_modules", "maplibre-gl", "dist", "maplibre-gl.js")
        if not os.path.exists(dist):
            self.skipTest("web/node_modules is not installed (npm)")
        r = SERVER.get("/vendor/maplibre-gl/maplibre-gl.js")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/javascript"))
        with open(dist, "rb") as f:
            self.assertEqual(r.body, f.read())

    def test_only_the_viewers_files(self):
        """The static handler serves an allow-list: every file the viewer loads answers 200, and
        the development files beside them (npm's, tests, source maps, other dist builds) 404."""
        web = os.path.join(mshtest.CONFIG.source_dir, "web")
        with open(os.path.join(web, "index.html"), encoding="utf-8") as f:
            html = f.read()
        loads = sorted(set(re.findall(r'(?:src|href)="(/[^"]*)"', html)))
        self.assertIn("/app.js", loads)
        # the RTL text plugin is loaded by app.js, not named in index.html
        loads.append("/vendor/@mapbox/mapbox-gl-rtl-text/mapbox-gl-rtl-text.js")
        have_npm = os.path.isdir(os.path.join(web, "node_modules", "maplibre-gl"))
        for path in loads:
            if path.startswith("/vendor/") and not have_npm:
                continue
            with self.subTest(path=path):
                self.assertEqual(SERVER.get(path).status, 200, path)
        dev = ["/package-lock.json", "/package.json", "/node_modules/.package-lock.json",
               "/vendor/maplibre-gl/package.json", "/vendor/maplibre-gl/maplibre-gl-dev.js",
               "/vendor/maplibre-gl/maplibre-gl.js.map", "/vendor/maplibre-gl/maplibre-gl.d.ts",
               "/vendor/uplot/uPlot.esm.js", "/vendor/playwright-core/index.js"]
        self.assertTrue(os.path.exists(os.path.join(web, "package-lock.json")))
        for path in dev:
            with self.subTest(path=path):
                r = SERVER.get(path)
                self.assertIn(r.status, (400, 404), path)  # 400: a hidden file's name is refused outright
                self.assertNotIn(b'"lockfileVersion"', r.body)
                self.assertNotIn(b'"dependencies"', r.body)

    def test_path_traversal(self):
        paths = [
            "/../../etc/passwd",
            "/../../../../../../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
            "/..%2f..%2f..%2f..%2fetc%2fpasswd",
            "/vendor/..%2f..%2fetc/passwd",
            "/vendor/maplibre-gl/../../../../../../etc/passwd",
            "/vendor/maplibre-gl/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
            "/vendor/../../../etc/passwd",
            "/node_modules/maplibre-gl/package.json",
            "/node_modules/maplibre-gl/dist/maplibre-gl.js",
            "/x/node_modules/maplibre-gl/package.json",
            "/.git/config",
            "/%2egit/config",
            "/../.git/config",
            "/..%2f.git%2fconfig",
            "/..%5c..%5cetc%5cpasswd",
            "//etc/passwd",
            "/etc/passwd",
            "/./index.html",
            "/tiles/../../etc/passwd",
            "/styles/../../etc/passwd",
            "/index.html/../../../etc/passwd",
            "/vendor/maplibre-gl/%2e%2e/%2e%2e/%2e%2e/package.json",
            # files with a type the server does serve (.txt, .json), one level above web/
            "/../CMakeLists.txt",
            "/%2e%2e/CMakeLists.txt",
            "/%2e%2e%2fCMakeLists.txt",
            "/..%2fCMakeLists.txt",
            "/.%2e/CMakeLists.txt",
            "/vendor/maplibre-gl/..%2f..%2f..%2f..%2fCMakeLists.txt",
            "/vendor/maplibre-gl/../../../../CMakeLists.txt",
            "/vendor/x/../../../../tests/integration/CMakeLists.txt",
            "/../styles/operations.json",
            "/%2e%2e/styles/operations.json",
        ]
        for p in paths:
            with self.subTest(path=p):
                r = SERVER.raw(p)
                self.assertIn(r.status, (400, 404), "%s answered %d" % (p, r.status))
                self.assertNotIn(b"root:", r.body)
                self.assertNotIn(b"[core]", r.body)
                self.assertNotIn(b'"name"', r.body)  # no package.json
                self.assertNotIn(b"cmake_minimum_required", r.body)
                self.assertNotIn(b"add_test", r.body)
                self.assertNotIn(b'"sources"', r.body)  # the style file, raw
        # and the server is still fine
        self.assertEqual(SERVER.json("/health")["status"], "ok")

    def test_symlink_is_not_followed(self):
        """With --web pointing at a folder holding a symlink to a file outside it, the file is not served."""
        web = mshtest.work_path("web")
        os.makedirs(web, exist_ok=True)
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><title>t</title>")
        secret = mshtest.work_path("secret.txt")
        with open(secret, "w") as f:
            f.write("root:x:0:0:secret\n")
        link = os.path.join(web, "secret.txt")
        if not os.path.lexists(link):
            os.symlink(secret, link)
        with mshtest.Server(DB, "--web", web, name="serve-web") as srv:
            self.assertEqual(srv.get("/").body, b"<!doctype html><title>t</title>")
            r = srv.raw("/secret.txt")
            self.assertIn(r.status, (400, 403, 404))
            self.assertNotIn(b"root:", r.body)


class Robustness(unittest.TestCase, JsonErrorMixin):
    def test_oversized_url(self):
        path = "/tiles/" + "a" * 100000 + "/1/0/0.mvt"
        status, head, body = raw_exchange(SERVER.port, ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                        "Connection: close\r\n\r\n" % path).encode())
        self.assertIsNotNone(status, "no HTTP answer to a 100 KB URL")
        self.assertTrue(400 <= status < 500, status)
        self.assertTrue(SERVER.alive())
        self.assertEqual(SERVER.json("/health")["status"], "ok")

    def test_oversized_header(self):
        status, head, body = raw_exchange(SERVER.port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
                                          + b"a" * 100000 + b"\r\nConnection: close\r\n\r\n")
        self.assertIsNotNone(status, "no HTTP answer to a 100 KB header")
        self.assertTrue(400 <= status < 500, status)
        self.assertNotIn(b'"status":"ok"', body)
        self.assertTrue(SERVER.alive())
        self.assertEqual(SERVER.json("/health")["status"], "ok")

    def test_many_headers(self):
        req = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(
            b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(2000)) + b"Connection: close\r\n\r\n"
        status, _, _ = raw_exchange(SERVER.port, req)
        self.assertTrue(status is None or 400 <= status < 500, status)
        self.assertEqual(SERVER.json("/health")["status"], "ok")

    def test_garbage_requests(self):
        for req in (b"GARBAGE\r\n\r\n", b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
                    b"GET /health\r\n\r\n", b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    b"BREW /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
            with self.subTest(request=req[:30]):
                status, _, body = raw_exchange(SERVER.port, req, timeout=5)
                self.assertTrue(status is None or status >= 400, status)  # closed, or an error status
                self.assertNotIn(b"root:", body)
        self.assertEqual(SERVER.json("/health")["status"], "ok")

    def test_methods(self):
        z, x, y = camp_tile(1)
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            for p in ("/tiles/camps/%d/%d/%d.mvt" % (z, x, y), "/catalog", "/"):
                with self.subTest(method=method, path=p):
                    r = SERVER.raw(p, method=method)
                    doc = self.assertJsonError(r, 405, p)
                    self.assertIn(method, doc["error"])
                    self.assertIn("GET", r.header("allow", ""))
        # a POST with a body
        r = mshtest.fetch(SERVER.url("/catalog"), method="POST", data=b"x" * 5000)
        self.assertJsonError(r, 405)
        self.assertEqual(SERVER.json("/health")["status"], "ok")


class Reload(unittest.TestCase):
    """Re-import camps with one feature fewer into a served store: new data and new ETags within 2 s."""

    def test_reimport_is_served(self):
        db = mshtest.work_path("reload.sqlite")
        _, reps = mshtest.import_layer(db, mshtest.demo_path("camps.geojson"), "camps")
        n = reps[0]["features"]
        v1 = reps[0]["version"]
        with mshtest.Store(db) as st:
            last = max(st.fids("camps"))
            c = st.geometries("camps")[last].Centroid()
        self.assertEqual(last, n)
        z = 15
        x, y = mshtest.lonlat_to_tile(c.GetX(), c.GetY(), z)
        path = "/tiles/camps/%d/%d/%d.mvt" % (z, x, y)
        with mshtest.Server(db, name="serve-reload") as srv:
            r1 = srv.get(path)
            self.assertEqual(r1.status, 200)
            ids1 = {f.id for f in mshtest.decode_mvt(r1.body, z, x, y)["camps"]}
            self.assertIn(last, ids1)
            etag1 = r1.header("etag")
            tj_etag1 = srv.get("/tiles/camps.json").header("etag")
            # the same camps without the last feature
            with open(mshtest.demo_path("camps.geojson"), encoding="utf-8") as f:
                doc = json.load(f)
            doc["features"] = doc["features"][:-1]
            smaller = mshtest.work_path("camps_minus_one.geojson")
            with open(smaller, "w", encoding="utf-8") as f:
                json.dump(doc, f, ensure_ascii=False)
            _, reps = mshtest.import_layer(db, smaller, "camps")
            t0 = time.monotonic()
            self.assertEqual(reps[0]["features"], n - 1)
            self.assertGreater(reps[0]["version"], v1)

            def new_tile():
                r = srv.get(path)
                return r if r.header("etag") != etag1 else None
            r2 = mshtest.wait_for(new_tile, 2.0, "the new tile (the server served the old one 2 s after the import)",
                                  interval=0.05)
            mshtest.note("reload seen after %.2f s" % (time.monotonic() - t0))
            ids2 = {f.id for f in mshtest.decode_mvt(r2.body, z, x, y)["camps"]} if r2.status == 200 else set()
            self.assertEqual(ids2, ids1 - {last})
            # the old ETag no longer matches
            r3 = srv.get(path, headers={"If-None-Match": etag1})
            self.assertIn(r3.status, (200, 204))
            self.assertEqual(r3.header("etag"), r2.header("etag"))
            self.assertNotEqual(srv.get("/tiles/camps.json").header("etag"), tj_etag1)
            cat = {l["id"]: l for l in srv.json("/catalog")["layers"]}
            self.assertEqual(cat["camps"]["feature_count"], n - 1)
            self.assertEqual(cat["camps"]["version"], reps[0]["version"])
            self.assertEqual(srv.json("/health")["features"], n - 1)
            # a new layer shows up as well
            mshtest.import_layer(db, mshtest.demo_path("sites.geojson"), "sites")
            mshtest.wait_for(lambda: srv.get("/tiles/sites.json").status == 200, 2.0,
                             "the new layer's TileJSON within 2 s of the import", interval=0.05)
            self.assertEqual(srv.get("/tiles/sites.json").status, 200)
            self.assertEqual({l["id"] for l in srv.json("/catalog")["layers"] if l["kind"] == "static"},
                             {"camps", "sites"})


if __name__ == "__main__":
    mshtest.main()
