"""The write path's second round (issue 12): what the first left out.

- `GET .../items?asof=T`: the list as it was at T (deleted since: back; created since: absent;
  changed: their old version), with paging and bbox on it.
- Ids from the body (--access FILE with "ids"): assets keyed by `asset_id` (a duplicate is 409
  duplicate_id), areas by the Feature's `id` member (taken as the item's id; used before: 409).
- MakeValid under a budget: a 2,000-vertex star polygon (millions of self-crossings) answers 422
  geometry_too_complex within about 1.5 s of CPU and the server's memory stays put (the repair runs in
  a child process); a small invalid polygon is still repaired.
- Incident lifecycle history: GET /ogc/collections/incidents/items/{id}/history (ops), paged.
- External edits: an UPDATE of a layer's table by another program (the sqlite3 CLI here, as QGIS
  would; psql on PostgreSQL) is served at once, not at the next periodic check: the item, its ETag
  and its tile change.

The server is real (a real port, a real store: the demo assets in SpatiaLite, or in PostgreSQL with
MSH_TEST_STORE=postgresql). No fixed sleeps: changes are waited on with a deadline
(mshtest.wait_for), and the deadline is the requirement.
"""
import json
import math
import os
import subprocess
import time
import unittest

import mshtest

DB = None
SERVER = None
TOK = {}
ITEMS = "/ogc/collections/assets/items"


def req(path, method="GET", token=None, body=None, ctype="application/geo+json", headers=None):
    return mshtest.api(SERVER, path, method, token, body, ctype, headers)


def get_item(fid, path=ITEMS, query=""):
    r = req("%s/%d%s" % (path, fid, query))
    return r, (json.loads(r.body) if r.status == 200 else None)


def point(lon, lat):
    return {"type": "Point", "coordinates": [lon, lat]}


def external_edit(sql):
    """Another program writing the store: the sqlite3 shell (no SpatiaLite loaded), or psql on
    PostgreSQL (mshtest.store_exec)."""
    if mshtest.STORE_BACKEND == "postgresql":
        mshtest.store_exec(DB, sql)
        return
    p = subprocess.run(["sqlite3", "-bail", DB, sql], capture_output=True, timeout=30)
    if p.returncode:
        raise AssertionError("sqlite3 failed: %s" % p.stderr.decode())


class ExternalEdits(unittest.TestCase):
    def test_external_update_is_served_at_once(self):
        fid = 31
        r, item = get_item(fid)
        lon, lat = item["geometry"]["coordinates"]
        z = 16
        x, y = mshtest.lonlat_to_tile(lon, lat, z)
        t_resp, _ = mshtest.fetch_tile(SERVER, "assets", z, x, y)
        etag, tile_etag = r.header("ETag"), t_resp.header("ETag")
        external_edit("UPDATE assets SET name = 'edited-externally', status = 'faulty' WHERE fid = %d" % fid)
        # the server's periodic check is --reload-ms 600000 here: only the commit itself can wake it
        # (PRAGMA data_version, or on PostgreSQL the msh_changes notification the table's trigger sends,
        # read at every 50 ms step), so a change seen within this deadline (far from ten minutes, far
        # from a loaded machine's delays) is one the server noticed by itself
        changed = mshtest.wait_for(lambda: get_item(fid)[0].header("ETag") != etag and get_item(fid)[1], 60,
                                   "the item to change after an external UPDATE")
        self.assertEqual(changed["properties"]["name"], "edited-externally")
        self.assertEqual(changed["properties"]["status"], "faulty")
        t_resp, tile = mshtest.fetch_tile(SERVER, "assets", z, x, y)
        self.assertNotEqual(t_resp.header("ETag"), tile_etag)
        self.assertIn("edited-externally", [f.attrs.get("name") for f in tile.get("assets", [])])
        with mshtest.Store(DB) as s:
            ext = s.sql("SELECT version FROM msh_external WHERE layer = 'assets'")[0][0]
            self.assertEqual(ext, s.registry()["assets"]["version"])

    def test_own_edits_do_not_look_external(self):
        with mshtest.Store(DB) as s:
            before = s.sql("SELECT coalesce((SELECT version FROM msh_external WHERE layer = 'assets'), 0)")[0][0]
        r = req("%s/%d" % (ITEMS, 32), "PATCH", TOK["ops"], {"properties": {"status": "maintenance"}},
                "application/merge-patch+json", {"If-Match": get_item(32)[0].header("ETag")})
        self.assertEqual(r.status, 200, r.body)
        with mshtest.Store(DB) as s:
            after = s.sql("SELECT coalesce((SELECT version FROM msh_external WHERE layer = 'assets'), 0)")[0][0]
            self.assertEqual(after, before)
            self.assertEqual(s.sql("SELECT count(*) FROM msh_meta WHERE key = 'msh_quiet'")[0][0], 0)


def etag(fid):
    return get_item(fid)[0].header("ETag")


def ids_and_status(doc):
    return {f["id"]: f["properties"]["status"] for f in doc["features"]}


class ItemsAsof(unittest.TestCase):
    def test_list_as_it_was(self):
        lon, lat = get_item(40)[1]["geometry"]["coordinates"]
        bbox = "%.6f,%.6f,%.6f,%.6f" % (lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)
        now_page = json.loads(req(ITEMS + "?limit=1000&bbox=" + bbox).body)
        victim = next(f["id"] for f in now_page["features"] if f["id"] not in (31, 32, 40))
        r = req("%s/40" % ITEMS, "PATCH", TOK["ops"], {"properties": {"status": "faulty"}},
                "application/merge-patch+json", {"If-Match": etag(40)})
        self.assertEqual(r.status, 200, r.body)
        hist = json.loads(req("%s/40/history" % ITEMS, token=TOK["ops"]).body)["versions"]
        t = hist[-1]["at"]                      # just after the first edit
        t_ms = int(time.mktime(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone) * 1000 + int(t[20:23])
        mshtest.wait_for(lambda: mshtest.now_ms() > t_ms + 2, 1, "the clock to pass T")   # later edits are after T
        before = json.loads(req(ITEMS + "?limit=1000&bbox=" + bbox).body)
        self.assertEqual(req("%s/%d" % (ITEMS, victim), "DELETE", TOK["ops"], headers={"If-Match": etag(victim)}).status,
                         204)
        r = req(ITEMS, "POST", TOK["ops"], {"type": "Feature", "geometry": point(lon + 0.0001, lat + 0.0001),
                                            "properties": {"kind": "water", "status": "working",
                                                           "asset_id": "A-ASOF-1"}})
        self.assertEqual(r.status, 201, r.body)
        created = json.loads(r.body)["id"]
        r = req("%s/40" % ITEMS, "PATCH", TOK["ops"], {"properties": {"status": "maintenance"}},
                "application/merge-patch+json", {"If-Match": etag(40)})
        self.assertEqual(r.status, 200, r.body)

        now = json.loads(req(ITEMS + "?limit=1000&bbox=" + bbox).body)
        self.assertNotIn(victim, ids_and_status(now))
        self.assertIn(created, ids_and_status(now))
        self.assertEqual(ids_and_status(now)[40], "maintenance")
        past = json.loads(req(ITEMS + "?limit=1000&bbox=%s&asof=%s" % (bbox, t)).body)
        self.assertEqual(ids_and_status(past), ids_and_status(before))       # exactly the list at T
        self.assertEqual(ids_and_status(past)[40], "faulty")                   # its old version
        self.assertIn(victim, ids_and_status(past))                            # deleted since: back
        self.assertNotIn(created, ids_and_status(past))                        # created since: absent
        self.assertEqual(past["numberMatched"], before["numberMatched"])
        back = next(f for f in past["features"] if f["id"] == victim)
        self.assertEqual(back, next(f for f in before["features"] if f["id"] == victim))
        # paged: limit=2, the next links keep asof
        seen, url = [], SERVER.url(ITEMS + "?limit=2&bbox=%s&asof=%s" % (bbox, t))
        while url:
            page = json.loads(mshtest.fetch(url).body)
            self.assertLessEqual(page["numberReturned"], 2)
            seen += [f["id"] for f in page["features"]]
            url = next((lk["href"] for lk in page["links"] if lk["rel"] == "next"), None)
            if url:
                self.assertIn("asof=", url)
        self.assertEqual(sorted(seen), sorted(ids_and_status(before)))
        # a bbox that holds only the created feature's spot: absent at T
        tiny = "%.6f,%.6f,%.6f,%.6f" % (lon + 0.00009, lat + 0.00009, lon + 0.00011, lat + 0.00011)
        self.assertEqual(json.loads(req(ITEMS + "?bbox=%s&asof=%s" % (tiny, t)).body)["numberMatched"], 0)
        self.assertEqual(json.loads(req(ITEMS + "?bbox=%s" % tiny).body)["numberMatched"], 1)
        # before the import the audit knows nothing: nothing was there
        self.assertEqual(json.loads(req(ITEMS + "?asof=2000-01-01T00:00:00Z").body)["numberMatched"], 0)
        r = req(ITEMS + "?asof=yesterday")
        self.assertEqual(r.status, 400)
        self.assertIn("asof", json.loads(r.body)["error"])


class BodyIds(unittest.TestCase):
    def test_property_id(self):
        def post(aid):
            props = {"kind": "water", "status": "working"}
            if aid is not None:
                props["asset_id"] = aid
            return req(ITEMS, "POST", TOK["ops"], {"type": "Feature", "geometry": point(39.83, 21.42),
                                                   "properties": props})
        with mshtest.Store(DB) as s:
            audit0 = s.sql("SELECT count(*) FROM msh_audit")[0][0]
            taken = s.sql("SELECT fid FROM assets WHERE asset_id = 'A-000001'")[0][0]
        r = post("A-000001")
        self.assertEqual(r.status, 409, r.body)
        doc = json.loads(r.body)
        self.assertEqual((doc["code"], doc["status"]), ("duplicate_id", 409))
        self.assertIn("item %d" % taken, doc["error"])
        r = post(None)
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("asset_id: required", json.loads(r.body)["error"])
        with mshtest.Store(DB) as s:
            self.assertEqual(s.sql("SELECT count(*) FROM msh_audit")[0][0], audit0)     # nothing written
        r = post("A-NEW-1")
        self.assertEqual(r.status, 201, r.body)
        fid = json.loads(r.body)["id"]
        self.assertEqual(json.loads(r.body)["properties"]["asset_id"], "A-NEW-1")
        self.assertEqual(post("A-NEW-1").status, 409)
        # an update may keep its own id, not take another's, nor drop it
        r = req("%s/%d" % (ITEMS, fid), "PATCH", TOK["ops"], {"properties": {"status": "faulty"}},
                "application/merge-patch+json", {"If-Match": etag(fid)})
        self.assertEqual(r.status, 200, r.body)
        r = req("%s/%d" % (ITEMS, fid), "PATCH", TOK["ops"], {"properties": {"asset_id": "A-000002"}},
                "application/merge-patch+json", {"If-Match": etag(fid)})
        self.assertEqual((r.status, json.loads(r.body)["code"]), (409, "duplicate_id"))
        r = req("%s/%d" % (ITEMS, fid), "PATCH", TOK["ops"], {"properties": {"asset_id": None}},
                "application/merge-patch+json", {"If-Match": etag(fid)})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(get_item(fid)[1]["properties"]["asset_id"], "A-NEW-1")

    def test_feature_id_member(self):
        area = {"type": "Polygon", "coordinates": [[[39.80, 21.40], [39.81, 21.40], [39.81, 21.41], [39.80, 21.40]]]}
        path = "/ogc/collections/areas/items"
        r = req(path, "POST", TOK["admin"], {"type": "Feature", "id": 500, "geometry": area, "properties": {}})
        self.assertEqual(r.status, 201, r.body)
        self.assertTrue(r.header("Location").endswith("/ogc/collections/areas/items/500"), r.header("Location"))
        self.assertEqual(json.loads(r.body)["id"], 500)
        r = req(path, "POST", TOK["admin"], {"type": "Feature", "id": 500, "geometry": area, "properties": {}})
        self.assertEqual((r.status, json.loads(r.body)["code"]), (409, "duplicate_id"))
        self.assertEqual(req(path + "/500", "DELETE", TOK["admin"]).status, 204)
        r = req(path, "POST", TOK["admin"], {"type": "Feature", "id": 500, "geometry": area, "properties": {}})
        self.assertEqual((r.status, json.loads(r.body)["code"]), (409, "duplicate_id"))   # never reused
        for bad in ({}, {"id": "x"}, {"id": -3}):
            r = req(path, "POST", TOK["admin"], dict({"type": "Feature", "geometry": area, "properties": {}}, **bad))
            self.assertEqual(r.status, 400, r.body)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def star(n, k, lon, lat, radius):
    """The star polygon {n/k}: one ring whose every edge crosses most of the others."""
    ring = [[lon + radius * math.cos(2 * math.pi * i * k / n), lat + radius * math.sin(2 * math.pi * i * k / n)]
            for i in range(n)]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


class MakeValidBudget(unittest.TestCase):
    AREA = "/ogc/collections/areas/items/1"

    def test_star_polygon_answers_too_complex_quickly(self):
        before = req(self.AREA)
        rss0 = rss_kb(SERVER.proc.pid)
        t0, cpu0 = time.monotonic(), mshtest.cpu_seconds(SERVER.proc.pid)
        r = req(self.AREA, "PATCH", TOK["admin"], {"geometry": star(2001, 1000, 39.85, 21.42, 0.01)},
                "application/merge-patch+json")
        # the repair child is killed after 1 s of wall time; what the server and that child spent is
        # checked in CPU time (the server reaped the child before it answered, so it is counted):
        # without the budget MakeValid runs for minutes
        cpu, elapsed = mshtest.cpu_seconds(SERVER.proc.pid) - cpu0, time.monotonic() - t0
        self.assertEqual(r.status, 422, r.body)
        doc = json.loads(r.body)
        self.assertEqual(doc["code"], "geometry_too_complex")
        self.assertIn("too complex to repair", doc["error"])
        self.assertLess(cpu, 1.5)
        mshtest.note("star polygon PATCH answered 422 in %.3f s (%.3f s of CPU)" % (elapsed, cpu))
        self.assertLess(rss_kb(SERVER.proc.pid) - rss0, 100 * 1024)      # the repair's memory was the child's
        self.assertEqual(req(self.AREA).body, before.body)                 # nothing changed
        self.assertEqual(req(self.AREA).header("ETag"), before.header("ETag"))
        # a small bow tie is still repaired (MakeValid in the child), quickly
        bowtie = {"type": "Polygon", "coordinates": [[[39.80, 21.40], [39.81, 21.41], [39.81, 21.40],
                                                      [39.80, 21.41], [39.80, 21.40]]]}
        t0 = time.monotonic()
        r = req(self.AREA, "PATCH", TOK["admin"], {"geometry": bowtie}, "application/merge-patch+json")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(json.loads(r.body)["geometry"]["type"], "MultiPolygon")
        mshtest.note("bow tie PATCH (repaired in a child) answered in %.3f s" % (time.monotonic() - t0))


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


class IncidentHistory(unittest.TestCase):
    PATH = "/ogc/collections/incidents/items/INC-H-1/history"

    @unittest.skipIf(mshtest.STORE_BACKEND == "postgresql", "live feeds: not on PostgreSQL yet")
    def test_lifecycle_served_paged(self):
        t0 = mshtest.now_ms() - 600 * 1000
        base = {"id": "INC-H-1", "lon": 39.8421, "lat": 21.4129, "kind": "medical", "severity": "high",
                "description": "heat stroke"}
        steps = [("reported", 0), ("dispatched", 60), ("on_scene", 120), ("resolved", 400)]
        for status, dt in steps:
            mshtest.post_ok(SERVER, "incidents", [dict(base, status=status, time=iso(t0 + dt * 1000))], TOK["feed"])

        def full():   # the incident log commits about once a second: wait for its rows
            r = req(self.PATH, token=TOK["ops"])
            return r.status == 200 and len(json.loads(r.body)["versions"]) == 4 and json.loads(r.body)
        doc = mshtest.wait_for(full, 10, "the incident's four versions")
        v = doc["versions"]
        self.assertEqual([x["status"] for x in v], [s for s, _ in steps])
        self.assertEqual([x["at"] for x in v], [iso(t0 + dt * 1000) for _, dt in steps])
        self.assertEqual([x["op"] for x in v], ["create", "update", "update", "update"])
        self.assertEqual(v[0]["feature"]["properties"]["kind"], "medical")
        self.assertEqual(v[3]["feature"]["properties"]["status"], "resolved")
        self.assertEqual(v[0]["feature"]["geometry"]["coordinates"], [39.8421, 21.4129])
        self.assertIsNone(v[0]["by"])
        # paged: 3 then 1
        p1 = json.loads(req(self.PATH + "?limit=3", token=TOK["ops"]).body)
        self.assertEqual([x["status"] for x in p1["versions"]], ["reported", "dispatched", "on_scene"])
        nxt = next(lk["href"] for lk in p1["links"] if lk["rel"] == "next")
        p2 = json.loads(mshtest.fetch(nxt, headers={"Authorization": "Bearer " + TOK["ops"]}).body)
        self.assertEqual([x["status"] for x in p2["versions"]], ["resolved"])
        self.assertEqual(p2["links"], [])
        # who may read it, and what is not there
        self.assertEqual(req(self.PATH).status, 401)
        self.assertEqual(req(self.PATH, token=TOK["reporter"]).status, 403)
        self.assertEqual(req("/ogc/collections/incidents/items/INC-NONE/history", token=TOK["ops"]).status, 404)
        self.assertEqual(req(self.PATH + "?limit=0", token=TOK["ops"]).status, 400)


def setUpModule():
    global DB, SERVER
    DB = mshtest.work_path("edit_gaps.sqlite")
    mshtest.import_demo(DB, ["assets"])
    areas = mshtest.work_path("areas.geojson")
    with open(areas, "w") as f:
        json.dump({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"label": "a"},
                   "geometry": {"type": "Polygon", "coordinates": [[[39.8, 21.4], [39.9, 21.4], [39.9, 21.5],
                                                                    [39.8, 21.4]]]}}]}, f)
    mshtest.import_layer(DB, areas, "areas", check=0)
    for role, name in (("ops", "ops-alice"), ("admin", "root"), ("reporter", "phone"), ("feed", "sensor")):
        TOK[role] = mshtest.add_token(DB, role, name)
    access = mshtest.work_path("access.json")
    with open(os.path.join(mshtest.CONFIG.source_dir, "data", "access.json")) as f:
        rules = json.load(f)
    rules["ids"] = {"assets": {"property": "asset_id"}, "areas": {"member": "id"}}
    with open(access, "w") as f:
        json.dump(rules, f)
    # a periodic store check once in ten minutes: ExternalEdits shows the commit wakes the server
    SERVER = mshtest.Server(DB, "--access", access, "--reload-ms", "600000").start()


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
