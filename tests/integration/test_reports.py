"""Reports from pilgrims and staff (issue 13, section 2): the `reports` collection on a real server.

The layer is made at start; a reporter token creates reports (category, text in any language, a
Point) and the server sets status, reporter, created, sla_due (per category, --report-sla) and the
service zone; ops move the status along its table (409 otherwise); a reporter reads only its own
reports, anyone else under ops finds nothing (404); `report` events reach the reporter of the report
and ops only; photos are checked by content (415, 400, 413, 409), stored, served with their type, ETag
and a 256 px thumbnail; per-token budgets answer 429 with Retry-After and store nothing.

Real port, real SpatiaLite store (the demo service zones). No sleeps: events that must not reach a
stream are checked against a marker event published after them; time is moved by the test clock.
"""
import json
import struct
import unittest
import zlib

from osgeo import gdal

import mshtest
import test_events

DB = None
SERVER = None
OPS = ADMIN = FEED = None
REP = {}                        # reporter tokens by name
ITEMS = "/ogc/collections/reports/items"
IN_MINA4 = (39.8870, 21.4290)   # inside service zone MINA-04
FAR = (39.9500, 21.3500)        # in no zone
AR = "حاج مفقود قرب الجمرات، يرتدي إحراماً أبيض"


def report(category="medical", text=AR, where=IN_MINA4, **props):
    p = {"category": category, "text": text}
    p.update(props)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(where)}, "properties": p}


def post(token, feature, headers=None):
    return mshtest.api(SERVER, ITEMS, "POST", token, feature, "application/geo+json", headers)


def create(token, **kw):
    r = post(token, report(**kw))
    assert r.status == 201, (r.status, r.body)
    return r.json()


def patch(fid, props, token=None):
    path = "%s/%d" % (ITEMS, fid)
    etag = mshtest.api(SERVER, path, token=OPS).header("ETag")
    return mshtest.api(SERVER, path, "PATCH", token or OPS, {"properties": props}, "application/merge-patch+json",
                       {"If-Match": etag})


def count_rows():
    with mshtest.Store(DB) as s:
        return s.count("reports")


def image(fmt, w=64, h=48, bands=3, noise=False):
    """A real JPEG or PNG made by GDAL (a gradient, or noise that does not compress)."""
    import random
    mem = gdal.GetDriverByName("MEM").Create("", w, h, bands, gdal.GDT_Byte)
    rnd = random.Random(7)
    for b in range(bands):
        data = bytes(rnd.randrange(256) if noise else (x * 4 + y * 2 + b * 60) % 256
                     for y in range(h) for x in range(w))
        mem.GetRasterBand(b + 1).WriteRaster(0, 0, w, h, data)
    name = "/vsimem/t.%s" % fmt
    gdal.GetDriverByName("JPEG" if fmt == "jpg" else "PNG").CreateCopy(name, mem)
    f = gdal.VSIFOpenL(name, "rb")
    gdal.VSIFSeekL(f, 0, 2)
    n = gdal.VSIFTellL(f)
    gdal.VSIFSeekL(f, 0, 0)
    data = gdal.VSIFReadL(1, n, f)
    gdal.VSIFCloseL(f)
    gdal.Unlink(name)
    return bytes(data)


def size_of(data):
    name = "/vsimem/probe"
    gdal.FileFromMemBuffer(name, data)
    ds = gdal.Open(name)
    out = (ds.RasterXSize, ds.RasterYSize, ds.GetDriver().ShortName)
    ds = None
    gdal.Unlink(name)
    return out


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def declared_only(fid, length, token):
    """The status of a POST that declares `length` bytes and sends none of them."""
    import socket
    with socket.create_connection(("127.0.0.1", SERVER.port), timeout=30) as sock:
        sock.sendall(("POST %s/%d/attachments HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % (ITEMS, fid, token, length)).encode())
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
        return int(head.split(b" ")[1])


def attach(fid, data, ctype, token):
    return mshtest.api(SERVER, "%s/%d/attachments" % (ITEMS, fid), "POST", token, data, ctype)


def setUpModule():
    global DB, SERVER, OPS, ADMIN, FEED
    DB = mshtest.work_path("reports.sqlite")
    mshtest.import_demo(DB, ["service_zones", "assets"])
    OPS = mshtest.add_token(DB, "ops", "ops-desk-1")
    ADMIN = mshtest.add_token(DB, "admin", "it-admin")
    FEED = mshtest.add_token(DB, "feed", "it-feed")
    for name in ("phone-a", "phone-b", "phone-c", "phone-rate", "phone-photo", "phone-budget"):
        REP[name] = mshtest.add_token(DB, "reporter", name)
    SERVER = mshtest.Server(DB, "--live-dir", mshtest.work_path("reports.live"), "--test-clock",
                            "--report-sla", "medical=12", "--report-rate", "20", "--report-photo-mb", "1",
                            name="reports").start()
    test_events.SERVER = SERVER


def tearDownModule():
    rc = SERVER.stop() if SERVER else None
    if rc != 0:
        raise AssertionError("mashaer serve exited %s; stderr:\n%s" % (rc, SERVER.stderr()))


def iso_ms(s):
    import calendar
    import time
    t = time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(t) * 1000 + int(s[20:23])


class Create(unittest.TestCase):
    def test_layer_made_at_start_and_private(self):
        with mshtest.Store(DB) as s:
            self.assertEqual(s.registry()["reports"]["geometry_type"], "Point")
        self.assertEqual(mshtest.api(SERVER, "/ogc/collections/reports?f=json", token=OPS).status, 200)
        for token in (None, FEED):
            self.assertEqual(mshtest.api(SERVER, "/ogc/collections/reports?f=json", token=token).status, 404)
            self.assertEqual(mshtest.api(SERVER, ITEMS, token=token).status, 404)
        ids = [c["id"] for c in mshtest.api(SERVER, "/ogc/collections?f=json").json()["collections"]]
        self.assertNotIn("reports", ids)
        self.assertNotIn("reports", [l["id"] for l in mshtest.api(SERVER, "/catalog").json()["layers"]])
        self.assertIn("reports", [l["id"] for l in mshtest.api(SERVER, "/catalog", token=OPS).json()["layers"]])
        for token in (None, REP["phone-a"]):   # the tiles of reports are personal data: ops only
            self.assertIn(mshtest.api(SERVER, "/tiles/reports/14/10050/7070.mvt", token=token).status, (401, 403))

    def test_server_fields(self):
        f = create(REP["phone-a"], category="medical")
        p = f["properties"]
        self.assertEqual((p["status"], p["reporter"], p["zone"], p["category"], p["text"]),
                         ("new", "phone-a", "MINA-04", "medical", AR))
        self.assertRegex(p["created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(iso_ms(p["sla_due"]) - iso_ms(p["created"]), 12 * 60000)   # --report-sla medical=12
        self.assertIsNone(p["closed"])
        self.assertEqual(f["geometry"]["coordinates"], list(IN_MINA4))
        g = create(REP["phone-a"], category="facility_fault", where=FAR, text="Broken tap")["properties"]
        self.assertIsNone(g["zone"])
        self.assertEqual(iso_ms(g["sla_due"]) - iso_ms(g["created"]), 240 * 60000)   # the default
        with mshtest.Store(DB) as s:
            rows = s.sql("SELECT who, role, op FROM msh_audit WHERE collection = 'reports' AND fid = ?", f["id"])
        self.assertEqual(rows, [("phone-a", "reporter", "create")])

    def test_hostile_bodies_store_nothing(self):
        n = count_rows()
        tok = REP["phone-c"]
        cases = [
            (report(category="fire"), 400, "category"),
            (report(category=None), 400, "category"),
            (report(text="x" * 2001), 400, "2000"),
            (report(status="resolved"), 400, "status"),
            (report(reporter="phone-a"), 400, "reporter"),
            (report(zone="MINA-01"), 400, "zone"),
            (report(sla_due="2030-01-01T00:00:00Z"), 400, "sla_due"),
            (report(incident="INC-1"), 400, "incident"),
            ({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[39.88, 21.42], [39.89, 21.43]]},
              "properties": {"category": "other"}}, 400, "geometry"),
            ({"type": "Feature", "properties": {"category": "other"}}, 400, "geometry"),
        ]
        for body, status, word in cases:
            r = post(tok, body)
            self.assertEqual(r.status, status, (body["properties"], r.body))
            self.assertIn(word, r.json().get("description", r.json().get("error", "")))
        self.assertEqual(post(None, report()).status, 401)
        self.assertEqual(post(FEED, report()).status, 403)
        self.assertEqual(count_rows(), n)
        # 2,000 characters of Arabic (two bytes each) are fine
        self.assertEqual(post(tok, report(text="ج" * 2000)).status, 201)

    def test_rate_limit(self):
        tok = REP["phone-rate"]
        n = count_rows()
        for _ in range(20):                                  # --report-rate 20
            self.assertEqual(post(tok, report(category="crowding")).status, 201)
        r = post(tok, report(category="crowding"))
        self.assertEqual(r.status, 429, r.body)
        self.assertGreaterEqual(int(r.header("Retry-After")), 1)
        self.assertEqual(count_rows(), n + 20)
        self.assertEqual(post(REP["phone-b"], report()).status, 201)   # another token has its own budget
        self.assertEqual(mshtest.api(SERVER, "/test/clock?advance_s=61", "POST", ADMIN).status, 200)
        self.assertEqual(post(tok, report(category="crowding")).status, 201)


class Read(unittest.TestCase):
    def test_own_reports_only(self):
        a = create(REP["phone-a"], category="cleanliness", text="a's")
        b = create(REP["phone-b"], category="cleanliness", text="b's")
        mine = mshtest.api(SERVER, ITEMS + "?limit=1000", token=REP["phone-a"])
        self.assertEqual(mine.status, 200, mine.body)
        self.assertEqual({f["properties"]["reporter"] for f in mine.json()["features"]}, {"phone-a"})
        self.assertIn(a["id"], [f["id"] for f in mine.json()["features"]])
        self.assertEqual(mshtest.api(SERVER, "%s/%d" % (ITEMS, a["id"]), token=REP["phone-a"]).status, 200)
        for path in ("%s/%d" % (ITEMS, b["id"]), "%s/%d/attachments" % (ITEMS, b["id"])):
            r = mshtest.api(SERVER, path, token=REP["phone-a"])
            self.assertEqual(r.status, 404, (path, r.body))       # not 403: its existence is not told
        self.assertEqual(mshtest.api(SERVER, "%s/%d" % (ITEMS, b["id"]), token=None).status, 404)
        self.assertEqual(mshtest.api(SERVER, ITEMS + "?asof=2020-01-01T00:00:00Z", token=REP["phone-a"]).status, 404)
        # a filter cannot reach past the view
        q = ITEMS + "?reporter=phone-b"
        self.assertEqual(mshtest.api(SERVER, q, token=REP["phone-a"]).json()["features"], [])
        every = mshtest.api(SERVER, ITEMS + "?limit=1000", token=OPS).json()["features"]
        self.assertTrue({"phone-a", "phone-b"} <= {f["properties"]["reporter"] for f in every})
        # a reporter writes nothing but its creates
        r = mshtest.api(SERVER, "%s/%d" % (ITEMS, a["id"]), "PATCH", REP["phone-a"], {"properties": {"note": "x"}},
                        "application/merge-patch+json", {"If-Match": "*"})
        self.assertEqual(r.status, 404, r.body)


class Status(unittest.TestCase):
    def test_transitions(self):
        f = create(REP["phone-a"], category="lost_person")
        fid = f["id"]
        r = patch(fid, {"status": "resolved"})
        self.assertEqual(r.status, 409, r.body)
        self.assertEqual({k: r.json()[k] for k in ("code", "from", "to", "allowed")},
                         {"code": "invalid_transition", "from": "new", "to": "resolved",
                          "allowed": ["acknowledged", "rejected"]})
        self.assertEqual(patch(fid, {"status": "rejected"}).status, 400)           # a reason is needed
        self.assertEqual(patch(fid, {"text": "changed"}).status, 400)              # the reporter's words stay
        self.assertEqual(patch(fid, {"reporter": "someone"}).status, 400)
        for st in ("acknowledged", "in_progress"):
            r = patch(fid, {"status": st})
            self.assertEqual(r.status, 200, r.body)
            self.assertIsNone(r.json()["properties"]["closed"])
        r = patch(fid, {"status": "resolved", "note": "found at the gate"})
        self.assertEqual(r.status, 200, r.body)
        p = r.json()["properties"]
        self.assertEqual((p["status"], p["reporter"], p["text"]), ("resolved", "phone-a", AR))
        self.assertGreaterEqual(iso_ms(p["closed"]), iso_ms(p["created"]))
        self.assertEqual(patch(fid, {"status": "in_progress"}).status, 409)        # final


class Events(unittest.TestCase):
    def test_scoped_to_the_reporter(self):
        anon = mshtest.api(SERVER, "/events?types=report")
        self.assertEqual(anon.status, 401)
        a = test_events.Stream("?types=report", {"Authorization": "Bearer " + REP["phone-a"]})
        ops = test_events.Stream("?types=report", {"Authorization": "Bearer " + OPS})
        public = test_events.Stream("")
        try:
            fb = create(REP["phone-b"], category="other", text="b")["id"]
            fa = create(REP["phone-a"], category="other", text="a")["id"]
            self.assertEqual(patch(fa, {"status": "acknowledged"}).status, 200)
            marker = create(REP["phone-a"], category="other", text="marker")["id"]
            got = a.wait_for(lambda e: e[1] == "report" and e[2]["item"]["id"] == marker, "a's marker")
            self.assertTrue(got)
            seen = [(e[2]["op"], e[2]["item"]["id"], e[2]["item"]["properties"]["status"]) for e in a.hits(lambda e: e[1] == "report")]
            self.assertEqual(seen, [("create", fa, "new"), ("update", fa, "acknowledged"), ("create", marker, "new")])
            ops.wait_for(lambda e: e[1] == "report" and e[2]["item"]["id"] == marker, "ops' marker")
            self.assertEqual([e[2]["item"]["id"] for e in ops.hits(lambda e: e[1] == "report")], [fb, fa, fa, marker])
            # the public stream hears nothing of reports (no change event either): a marker after them,
            # an edit of a service zone (its `change` event)
            zone = mshtest.api(SERVER, "/ogc/collections/service_zones/items?limit=1").json()["features"][0]["id"]
            r = mshtest.api(SERVER, "/ogc/collections/service_zones/items/%d" % zone, "PATCH", ADMIN,
                            {"properties": {}}, "application/merge-patch+json")
            self.assertEqual(r.status, 200, r.body)
            public.wait_for(lambda e: e[1] == "change" and e[2]["collection"] == "service_zones", "the marker")
            self.assertEqual(public.hits(lambda e: e[1] == "report" or e[2].get("collection") == "reports"), [])
        finally:
            for s in (a, ops, public):
                s.close()


class Photos(unittest.TestCase):
    def test_upload_serve_thumbnail(self):
        fid = create(REP["phone-photo"], category="cleanliness")["id"]
        jpg = image("jpg", 640, 480)
        r = attach(fid, jpg, "image/jpeg", REP["phone-photo"])
        self.assertEqual(r.status, 201, r.body)
        loc = r.header("Location")
        self.assertRegex(loc, r"/ogc/collections/reports/items/%d/attachments/\d+$" % fid)
        self.assertEqual((r.json()["width"], r.json()["height"]), (640, 480))
        path = loc[loc.index("/ogc/"):]
        g = mshtest.api(SERVER, path, token=REP["phone-photo"])
        self.assertEqual((g.status, g.header("Content-Type"), g.body), (200, "image/jpeg", jpg))
        self.assertEqual(g.header("X-Content-Type-Options"), "nosniff")
        etag = g.header("ETag")
        self.assertTrue(etag)
        self.assertEqual(mshtest.api(SERVER, path, token=OPS).body, jpg)
        self.assertEqual(mshtest.api(SERVER, path, token=REP["phone-a"]).status, 404)
        self.assertEqual(mshtest.api(SERVER, path, token=None).status, 401)
        self.assertEqual(mshtest.api(SERVER, path, token=REP["phone-photo"], headers={"If-None-Match": etag}).status, 304)
        t = mshtest.api(SERVER, path + "?size=thumb", token=REP["phone-photo"])
        self.assertEqual((t.status, t.header("Content-Type")), (200, "image/jpeg"), t.body[:200])
        self.assertEqual(size_of(t.body), (256, 192, "JPEG"))
        self.assertNotEqual(t.header("ETag"), etag)
        self.assertEqual(mshtest.api(SERVER, path + "?size=big", token=OPS).status, 400)
        # a PNG with alpha: a PNG thumbnail, never enlarged
        png = image("png", 100, 40, bands=4)
        r = attach(fid, png, "image/png", REP["phone-photo"])
        self.assertEqual(r.status, 201, r.body)
        t = mshtest.api(SERVER, r.header("Location")[r.header("Location").index("/ogc/"):] + "?size=thumb", token=OPS)
        self.assertEqual((t.header("Content-Type"), size_of(t.body)), ("image/png", (100, 40, "PNG")))
        listing = mshtest.api(SERVER, "%s/%d/attachments" % (ITEMS, fid), token=REP["phone-photo"]).json()
        self.assertEqual([a["type"] for a in listing["attachments"]], ["image/jpeg", "image/png"])
        with mshtest.Store(DB) as s:
            self.assertEqual(s.sql("SELECT count(*), sum(length(bytes)) FROM msh_report_photos WHERE report = ?", fid),
                             [(2, len(jpg) + len(png))])
        # at most 5 photos a report
        for _ in range(3):
            self.assertEqual(attach(fid, jpg, "image/jpeg", REP["phone-photo"]).status, 201)
        r = attach(fid, jpg, "image/jpeg", REP["phone-photo"])
        self.assertEqual(r.status, 409, r.body)

    def test_hostile_photos(self):
        tok = REP["phone-photo"]
        fid = create(tok, category="other")["id"]
        jpg, png = image("jpg"), image("png")
        ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
        huge = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 10)) + \
            png_chunk(b"IEND", b"")
        # a whole, valid PNG of 8,000 x 8,000 one-bit pixels in 8 kB: 64 megapixels, past the cap
        bomb = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8000, 8000, 1, 0, 0, 0, 0)) + \
            png_chunk(b"IDAT", zlib.compress(b"\0" * (1001 * 8000), 9)) + png_chunk(b"IEND", b"")
        bad_crc = bytearray(png)
        bad_crc[30] ^= 0xFF
        cases = [
            (jpg, "text/plain", 415),
            (jpg, "image/gif", 415),
            (jpg, None, 415),
            (png, "image/jpeg", 400),                                   # a PNG labelled JPEG
            (jpg, "image/png", 400),
            (jpg[:len(jpg) // 2], "image/jpeg", 400),                   # truncated
            (jpg[:-2], "image/jpeg", 400),                              # no end marker
            (jpg + b"PK\x03\x04" + b"\0" * 100, "image/jpeg", 400),     # a polyglot: a ZIP after the image
            (png + b"<script>alert(1)</script>", "image/png", 400),
            (bytes(bad_crc), "image/png", 400),
            (huge, "image/png", 400),                                   # 10 gigapixels claimed
            (bomb, "image/png", 400),
            (b"", "image/jpeg", 400),
        ]
        for data, ctype, status in cases:
            h = {"Authorization": "Bearer " + tok}
            if ctype:
                h["Content-Type"] = ctype
            r = mshtest.fetch(SERVER.url("%s/%d/attachments" % (ITEMS, fid)), h, "POST", data)
            self.assertEqual(r.status, status, (ctype, len(data), r.body))
        # 5 MB + 1: refused from its Content-Length, before a byte of the body is sent
        self.assertEqual(declared_only(fid, 5 * 1024 * 1024 + 1, tok), 413)
        # ... and a body that turns out longer than it said (chunked): cut and refused
        r = mshtest.fetch(SERVER.url("%s/%d/attachments" % (ITEMS, fid)),
                          {"Authorization": "Bearer " + tok, "Content-Type": "image/jpeg"}, "POST",
                          iter([b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024 - 2)]))
        self.assertEqual(r.status, 413, r.body[:200])
        with mshtest.Store(DB) as s:
            self.assertEqual(s.sql("SELECT count(*) FROM msh_report_photos WHERE report = ?", fid), [(0,)])
        self.assertEqual(attach(fid + 100000, jpg, "image/jpeg", tok).status, 404)
        other = create(REP["phone-b"], category="other")["id"]
        self.assertEqual(attach(other, jpg, "image/jpeg", tok).status, 404)

    def test_photo_budget(self):
        tok = REP["phone-budget"]
        fid = create(tok, category="other")["id"]
        noisy = image("png", 420, 420, noise=True)          # about 530 kB: two of them pass 1 MB
        self.assertGreater(len(noisy), 512 * 1024)
        self.assertEqual(attach(fid, noisy, "image/png", tok).status, 201)
        r = attach(fid, noisy, "image/png", tok)
        self.assertEqual(r.status, 429, r.body)
        self.assertGreaterEqual(int(r.header("Retry-After")), 1)
        with mshtest.Store(DB) as s:
            self.assertEqual(s.sql("SELECT count(*) FROM msh_report_photos WHERE report = ?", fid), [(1,)])
        # a refused photo costs nothing: a bad one does not eat the budget of the hour
        self.assertEqual(mshtest.api(SERVER, "/test/clock?advance_s=3600", "POST", ADMIN).status, 200)
        self.assertEqual(attach(fid, noisy[:-5], "image/png", tok).status, 400)
        self.assertEqual(attach(fid, noisy, "image/png", tok).status, 201)


def escalate(fid, body, token=None):
    return mshtest.api(SERVER, "%s/%d/escalate" % (ITEMS, fid), "POST", token or OPS, body, "application/json")


def an_asset():
    return mshtest.api(SERVER, "/ogc/collections/assets/items?limit=1").json()["features"][0]["properties"]["asset_id"]


class Escalate(unittest.TestCase):
    def test_to_incident_linked_both_ways(self):
        stream = test_events.Stream("?types=report", {"Authorization": "Bearer " + REP["phone-a"]})
        try:
            fid = create(REP["phone-a"], category="medical", text="رجل مسن فاقد للوعي")["id"]
            self.assertEqual(escalate(fid, {"to": "incident"}, REP["phone-a"]).status, 403)
            r = escalate(fid, {"to": "incident", "severity": "high"})
            self.assertEqual(r.status, 201, r.body)
            inc = "INC-REP-%d" % fid
            self.assertTrue(r.header("Location").endswith("/ogc/collections/incidents/items/" + inc))
            p = r.json()["properties"]
            self.assertEqual((p["kind"], p["severity"]), ("medical", "high"))
            self.assertIn("report %d (medical): رجل مسن" % fid, p["description"])
            rep = mshtest.api(SERVER, "%s/%d" % (ITEMS, fid), token=REP["phone-a"]).json()["properties"]
            self.assertEqual((rep["incident"], rep["work_order"], rep["status"]), (inc, None, "new"))
            # the reporter is told of the link
            stream.wait_for(lambda e: e[1] == "report" and e[2]["item"]["properties"]["incident"] == inc, "the link")
            again = escalate(fid, {"to": "work_order", "asset_id": an_asset()})
            self.assertEqual(again.status, 409, again.body)
            self.assertEqual((again.json()["code"], again.json()["incident"]), ("already_escalated", inc))
        finally:
            stream.close()

    def test_to_work_order_linked_both_ways(self):
        fid = create(REP["phone-b"], category="facility_fault", text="Tap broken")["id"]
        asset = an_asset()
        r = escalate(fid, {"to": "work_order", "asset_id": asset})
        self.assertEqual(r.status, 201, r.body)
        wo = r.json()
        self.assertEqual((wo["properties"]["report"], wo["properties"]["asset_id"], wo["properties"]["status"]),
                         (str(fid), asset, "open"))
        self.assertIn("Tap broken", wo["properties"]["fault"])
        self.assertTrue(r.header("Location").endswith("/ogc/collections/work_orders/items/%d" % wo["id"]))
        rep = mshtest.api(SERVER, "%s/%d" % (ITEMS, fid), token=OPS).json()["properties"]
        self.assertEqual(rep["work_order"], str(wo["id"]))
        again = escalate(fid, {"to": "incident"})
        self.assertEqual((again.status, again.json().get("work_order")), (409, str(wo["id"])), again.body)

    def test_refusals_change_nothing(self):
        fid = create(REP["phone-b"], category="other")["id"]
        self.assertEqual(escalate(fid + 100000, {"to": "incident"}).status, 404)
        for body in ({"to": "police"}, {}, {"to": "work_order"}, {"to": "incident", "severity": "extreme"},
                     {"to": "work_order", "asset_id": "NO-SUCH-ASSET"}):
            r = escalate(fid, body)
            self.assertEqual(r.status, 400, (body, r.body))
        r = mshtest.api(SERVER, "%s/%d/escalate" % (ITEMS, fid), "POST", OPS, b"{not json", "application/json")
        self.assertEqual(r.status, 400)
        rep = mshtest.api(SERVER, "%s/%d" % (ITEMS, fid), token=OPS).json()["properties"]
        self.assertEqual((rep["incident"], rep["work_order"]), (None, None))
        # a link is the escalation's alone: not by PATCH
        self.assertEqual(patch(fid, {"incident": "INC-1"}).status, 400)

    def test_work_order_made_before_a_crash(self):
        """The server stopped between the two writes: the work order names the report, the report
        names nothing. A second escalate finds the work order and names it."""
        fid = create(REP["phone-b"], category="facility_fault")["id"]
        r = mshtest.api(SERVER, "/ogc/collections/work_orders/items", "POST", OPS,
                        {"type": "Feature", "properties": {"asset_id": an_asset(), "fault": "x", "report": str(fid)}})
        self.assertEqual(r.status, 201, r.body)
        again = escalate(fid, {"to": "incident"})
        self.assertEqual((again.status, again.json().get("work_order")), (409, str(r.json()["id"])), again.body)


class Kpi(unittest.TestCase):
    """The reports' KPIs in /kpi, on a server of their own (exact counts), the clock moved by hand."""

    def test_counts_sla_and_median(self):
        global SERVER
        db = mshtest.work_path("kpi.sqlite")
        mshtest.import_demo(db, ["service_zones"])
        ops = mshtest.add_token(db, "ops", "ops-kpi")
        admin = mshtest.add_token(db, "admin", "admin-kpi")
        phone = mshtest.add_token(db, "reporter", "phone-kpi")
        main, SERVER = SERVER, mshtest.Server(db, "--test-clock", name="reports-kpi")
        try:
            SERVER.start()
            k = mshtest.api(SERVER, "/kpi").json()["reports"]
            self.assertEqual((k["count"], k["sla_met_share"], k["median_close_s"]), (0, None, None))
            ids = [create(phone, category=c, where=w)["id"] for c, w in
                   (("medical", IN_MINA4), ("medical", IN_MINA4), ("crowding", FAR), ("other", IN_MINA4))]
            global OPS
            main_ops, OPS = OPS, ops
            try:
                for st in ("acknowledged", "resolved"):               # closed at once: within its 15 min
                    self.assertEqual(patch(ids[0], {"status": st}).status, 200)
                self.assertEqual(mshtest.api(SERVER, "/test/clock?advance_s=1200", "POST", admin).status, 200)
                self.assertEqual(patch(ids[1], {"status": "rejected", "note": "duplicate"}).status, 200)  # late
            finally:
                OPS = main_ops
            k = mshtest.api(SERVER, "/kpi").json()["reports"]   # public: counts only
            self.assertEqual((k["count"], k["open"], k["closed"]), (4, 2, 2))
            self.assertEqual(k["by_category"], {"cleanliness": 0, "crowding": 1, "medical": 2, "lost_person": 0,
                                                "facility_fault": 0, "other": 1})
            self.assertEqual(k["by_zone"], {"MINA-04": 3, "": 1})
            # known against the deadline: the two closed, and the crowding report open past its 10 min
            self.assertAlmostEqual(k["sla_met_share"], 1 / 3, places=3)
            self.assertGreater(k["median_close_s"], 595)          # (about 0 s + about 1200 s) / 2
            self.assertLess(k["median_close_s"], 660)
            self.assertNotIn("phone-kpi", json.dumps(k))
        finally:
            rc = SERVER.stop()
            SERVER = main
        self.assertEqual(rc, 0)


if __name__ == "__main__":
    mshtest.main()
