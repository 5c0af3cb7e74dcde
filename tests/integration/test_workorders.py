"""Assets and their work orders (issue 12, the scripted day's asset part), on a real server.

A water point fails (PATCH status faulty), a work order is opened on it, assigned and done; the
asset's status follows (opening on a working asset marks it faulty, done puts it back to working)
in the same transaction as the work order; "the nearest working water point" (/query/nearest with
a CQL2 filter) changes at each step, at once. Invalid transitions answer 409 with the contract's
body, an unknown asset 400, a bad status value 400 naming it, a reporter token 403; the asset's
history lists every change with who made it.

Real port, real SpatiaLite store (the demo assets and walkways). No sleeps: every check reads the
answer of the request after the write's acknowledgement (the write path publishes before it answers).
"""
import json
import unittest
import urllib.parse

import mshtest

DB = None
SERVER = None
TOK = {}
ASSETS = "/ogc/collections/assets/items"
ORDERS = "/ogc/collections/work_orders/items"
WATER = "kind='water_point' AND status='working'"


def req(path, method="GET", token=None, body=None, ctype="application/geo+json", headers=None):
    return mshtest.api(SERVER, path, method, token, body, ctype, headers)


def get(path):
    r = req(path)
    assert r.status == 200, (path, r.status, r.body)
    return json.loads(r.body), r.header("ETag")


def patch(path, props, token, etag=None):
    if etag is None:
        etag = get(path)[1]
    return req(path, "PATCH", token, {"properties": props}, "application/merge-patch+json", {"If-Match": etag})


def nearest_water(lon, lat):
    """The ids of the 3 nearest working water points by walking distance."""
    q = "/query/nearest?lon=%.7f&lat=%.7f&layer=assets&limit=3&filter=%s" % (
        lon, lat, urllib.parse.quote(WATER))
    return [f["id"] for f in get(q)[0]["features"]]


def asset_by_id(asset_id):
    items = get("%s?asset_id=%s" % (ASSETS, asset_id))[0]["features"]
    assert len(items) == 1, items
    return items[0]


def audit_rows(collection):
    with mshtest.Store(DB) as s:
        return s.sql("SELECT seq, fid, op, at_ms, who, role FROM msh_audit WHERE collection = ? ORDER BY seq",
                     collection)


class WorkOrders(unittest.TestCase):
    def test_layer_created_at_start(self):
        coll = get("/ogc/collections/work_orders?f=json")[0]
        self.assertEqual(coll["id"], "work_orders")
        q = get("/ogc/collections/work_orders/queryables?f=json")[0]["properties"]
        for f in ("asset_id", "fault", "assigned_crew", "status", "opened_at", "assigned_at", "done_at", "note"):
            self.assertIn(f, q)
        with mshtest.Store(DB) as s:
            reg = s.registry()["work_orders"]
            self.assertEqual(reg["geometry_type"], "Point")
            self.assertEqual(reg["kind"], "static")
        imports = [r for r in audit_rows("work_orders") if r[2] == "import"]
        self.assertEqual(len(imports), 1)          # its history starts there
        self.assertEqual(imports[0][5], "import")

    def test_scripted_day(self):
        w = asset_by_id(WATER_ID)
        fid, (lon, lat) = w["id"], w["geometry"]["coordinates"]
        self.assertEqual(w["properties"]["status"], "working")
        self.assertEqual(nearest_water(lon, lat)[0], fid)
        # the water point fails: an operator marks it faulty; nearest working water moves at once
        r = patch("%s/%d" % (ASSETS, fid), {"status": "faulty"}, TOK["ops"])
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn(fid, nearest_water(lon, lat))
        # ... and back to working (so that the work order's opening marks it faulty again)
        self.assertEqual(patch("%s/%d" % (ASSETS, fid), {"status": "working"}, TOK["ops"]).status, 200)
        self.assertEqual(nearest_water(lon, lat)[0], fid)
        # a work order is opened, without a geometry: the asset's point; the asset becomes faulty
        n_before = len(audit_rows("assets"))
        r = req(ORDERS, "POST", TOK["ops"], {"type": "Feature", "properties": {"asset_id": WATER_ID,
                                                                            "fault": "no pressure"}})
        self.assertEqual(r.status, 201, r.body)
        wo = json.loads(r.body)
        wid = wo["id"]
        self.assertTrue(r.header("Location").endswith("%s/%d" % (ORDERS, wid)))
        p = wo["properties"]
        self.assertEqual((p["status"], p["asset_id"], p["fault"]), ("open", WATER_ID, "no pressure"))
        self.assertRegex(p["opened_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertIsNone(p["assigned_at"])
        self.assertIsNone(p["done_at"])
        self.assertEqual(wo["geometry"]["coordinates"], [lon, lat])
        self.assertEqual(asset_by_id(WATER_ID)["properties"]["status"], "faulty")
        self.assertNotIn(fid, nearest_water(lon, lat))
        # the work order and the asset's change: one transaction (same instant, consecutive audit rows)
        a_rows, w_rows = audit_rows("assets"), audit_rows("work_orders")
        self.assertEqual(len(a_rows), n_before + 1)
        self.assertEqual(a_rows[-1][4:], ("ops-alice", "ops"))
        self.assertEqual(w_rows[-1][2], "create")
        self.assertEqual(a_rows[-1][0], w_rows[-1][0] + 1)
        self.assertEqual(a_rows[-1][3], w_rows[-1][3])
        item = "%s/%d" % (ORDERS, wid)
        # open -> done is not a transition: 409 with the contract's body; nothing changes
        r = patch(item, {"status": "done"}, TOK["ops"])
        self.assertEqual(r.status, 409, r.body)
        body = json.loads(r.body)
        self.assertEqual({k: body[k] for k in ("code", "from", "to", "allowed")},
                         {"code": "invalid_transition", "from": "open", "to": "done",
                          "allowed": ["assigned", "cancelled"]})
        self.assertIn("description", body)
        self.assertEqual(get(item)[0]["properties"]["status"], "open")
        # assigning needs a crew; the times belong to the server
        r = patch(item, {"status": "assigned"}, TOK["ops"])
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("assigned_crew", json.loads(r.body)["description"])
        r = patch(item, {"opened_at": "2020-01-01T00:00:00Z"}, TOK["ops"])
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("opened_at", json.loads(r.body)["description"])
        r = patch(item, {"status": "assigned", "assigned_crew": "CREW-07"}, TOK["ops"])
        self.assertEqual(r.status, 200, r.body)
        p2 = json.loads(r.body)["properties"]
        self.assertEqual((p2["status"], p2["assigned_crew"], p2["opened_at"]), ("assigned", "CREW-07", p["opened_at"]))
        self.assertGreaterEqual(p2["assigned_at"], p["opened_at"])
        self.assertEqual(asset_by_id(WATER_ID)["properties"]["status"], "faulty")
        self.assertNotIn(fid, nearest_water(lon, lat))
        # done (by another officer): the asset is working again, audited with that officer's token
        r = patch(item, {"status": "done", "note": "valve replaced"}, TOK["ops2"])
        self.assertEqual(r.status, 200, r.body)
        p3 = json.loads(r.body)["properties"]
        self.assertEqual(p3["status"], "done")
        self.assertGreaterEqual(p3["done_at"], p2["assigned_at"])
        self.assertEqual(asset_by_id(WATER_ID)["properties"]["status"], "working")
        self.assertEqual(nearest_water(lon, lat)[0], fid)
        self.assertEqual(audit_rows("assets")[-1][4:], ("ops-bob", "ops"))
        # done is final
        r = patch(item, {"status": "assigned"}, TOK["ops"])
        self.assertEqual(r.status, 409, r.body)
        self.assertEqual(json.loads(r.body)["allowed"], [])
        # the asset's maintenance history: every change, with who
        r = req("%s/%d/history" % (ASSETS, fid), token=TOK["ops"])
        self.assertEqual(r.status, 200, r.body)
        versions = json.loads(r.body)["versions"]
        self.assertEqual([(v["op"], v["by"]["name"], v["feature"]["properties"]["status"]) for v in versions],
                         [("import", mshtest.demo_path("assets.geojson"), "working"),
                          ("update", "ops-alice", "faulty"), ("update", "ops-alice", "working"),
                          ("update", "ops-alice", "faulty"), ("update", "ops-bob", "working")])
        # and its work orders
        orders = get("%s?asset_id=%s" % (ORDERS, WATER_ID))[0]["features"]
        self.assertEqual([(o["id"], o["properties"]["status"]) for o in orders], [(wid, "done")])

    def test_two_orders_one_asset(self):
        """The asset is working again only when its last open work order is done; cancelling needs a note."""
        aid = OTHER_ID
        mk = lambda fault: req(ORDERS, "POST", TOK["ops"], {"type": "Feature", "properties": {  # noqa: E731
            "asset_id": aid, "fault": fault}})
        r1, r2 = mk("leak"), mk("noise")
        self.assertEqual((r1.status, r2.status), (201, 201), r2.body)
        i1, i2 = ("%s/%s" % (ORDERS, json.loads(r.body)["id"]) for r in (r1, r2))
        self.assertEqual(asset_by_id(aid)["properties"]["status"], "faulty")
        for i in (i1, i2):
            self.assertEqual(patch(i, {"status": "assigned", "assigned_crew": "CREW-01"}, TOK["ops"]).status, 200)
        self.assertEqual(patch(i1, {"status": "done"}, TOK["ops"]).status, 200)
        self.assertEqual(asset_by_id(aid)["properties"]["status"], "faulty")   # the other one is still open
        r = patch(i2, {"status": "cancelled"}, TOK["ops"])
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("note", json.loads(r.body)["description"])
        self.assertEqual(patch(i2, {"status": "cancelled", "note": "duplicate"}, TOK["ops"]).status, 200)
        self.assertEqual(asset_by_id(aid)["properties"]["status"], "faulty")   # cancelling leaves it
        r = patch(i2, {"status": "done"}, TOK["ops"])
        self.assertEqual(r.status, 409, r.body)
        self.assertEqual(json.loads(r.body)["from"], "cancelled")

    def test_refusals_change_nothing(self):
        before = (len(audit_rows("assets")), len(audit_rows("work_orders")))
        # unknown asset
        r = req(ORDERS, "POST", TOK["ops"], {"type": "Feature", "properties": {"asset_id": "A-999999",
                                                                            "fault": "x"}})
        self.assertEqual(r.status, 400, r.body)
        body = json.loads(r.body)
        self.assertEqual(body["code"], "unknown_asset")
        self.assertIn("A-999999", body["description"])
        # no fault; a new order that is not open
        r = req(ORDERS, "POST", TOK["ops"], {"type": "Feature", "properties": {"asset_id": WATER_ID}})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("fault", json.loads(r.body)["description"])
        r = req(ORDERS, "POST", TOK["ops"], {"type": "Feature", "properties": {
            "asset_id": WATER_ID, "fault": "x", "status": "done"}})
        self.assertEqual(r.status, 400, r.body)
        # an asset status outside working|faulty|maintenance: 400 naming it and the allowed ones
        fid = asset_by_id(OTHER_ID)["id"]
        r = patch("%s/%d" % (ASSETS, fid), {"status": "broken"}, TOK["ops"])
        self.assertEqual(r.status, 400, r.body)
        body = json.loads(r.body)
        self.assertIn("'broken'", body["description"])
        self.assertEqual(body["allowed"], ["working", "faulty", "maintenance"])
        r = req(ASSETS, "POST", TOK["ops"], {"type": "Feature", "geometry": {"type": "Point",
                "coordinates": [39.83, 21.42]}, "properties": {"status": "Working"}})
        self.assertEqual(r.status, 400, r.body)
        # a reporter token cannot edit assets nor open work orders
        self.assertEqual(patch("%s/%d" % (ASSETS, fid), {"status": "faulty"}, TOK["reporter"], "*").status, 403)
        r = req(ORDERS, "POST", TOK["reporter"], {"type": "Feature", "properties": {"asset_id": WATER_ID,
                                                                                 "fault": "x"}})
        self.assertEqual(r.status, 403, r.body)
        self.assertEqual((len(audit_rows("assets")), len(audit_rows("work_orders"))), before)


def pick_assets():
    """A working water point for the scripted day and another working asset (from the demo file)."""
    with open(mshtest.demo_path("assets.geojson")) as f:
        feats = json.load(f)["features"]
    water = [p["asset_id"] for p in (x["properties"] for x in feats)
             if p["kind"] == "water_point" and p["status"] == "working"]
    other = [p["asset_id"] for p in (x["properties"] for x in feats)
             if p["kind"] == "toilet" and p["status"] == "working"]
    return water[len(water) // 2], other[0]


WATER_ID = OTHER_ID = None


def setUpModule():
    global DB, SERVER, WATER_ID, OTHER_ID
    WATER_ID, OTHER_ID = pick_assets()
    DB = mshtest.work_path("workorders.sqlite")
    mshtest.import_demo(DB, ["assets", "walkways", "site_walkways"])
    TOK.update({key: mshtest.add_token(DB, role, name) for key, role, name in (
        ("ops", "ops", "ops-alice"), ("ops2", "ops", "ops-bob"), ("reporter", "reporter", "phone"))})
    SERVER = mshtest.Server(DB).start()


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
