"""Service zones' companies (issue 13, section 4), on a real server over a real store.

Four zones imported without `service_company` or `contact`: the server adds both fields at start.
An admin writes them through OGC API - Features Part 4 (an ops token may not: 403), and
GET /kpi/companies ranks the companies by their zones' composite index. The zones' only measured
component is their assets' share working: Z1 2 of 2 (composite 100), Z2 2 of 3, Z3 0 of 2, Z4 1 of 1.
Bayt Clean serves Z2 alone, Nadhafa Co Z1 and Z3 (mean 50): Bayt Clean ranks first; Z4 has no
company and is listed as unassigned.
"""
import json
import unittest

import mshtest

DB = None
SERVER = None
TOK = {}
ZONES = {"Z1": 39.80, "Z2": 39.81, "Z3": 39.82, "Z4": 39.83}


def req(path, method="GET", token=None, body=None, ctype="application/geo+json", headers=None):
    return mshtest.api(SERVER, path, method, token, body, ctype, headers)


def get(path):
    r = req(path)
    assert r.status == 200, (path, r.status, r.body)
    return json.loads(r.body)


def zone_fid(zid):
    for f in get("/ogc/collections/service_zones/items?limit=100")["features"]:
        if f["properties"]["zone_id"] == zid:
            return f["id"]
    raise AssertionError(zid)


def set_company(zid, props, token="admin"):
    return req("/ogc/collections/service_zones/items/%s" % zone_fid(zid), "PATCH", TOK[token],
               {"properties": props}, "application/merge-patch+json")


class Companies(unittest.TestCase):
    def test_a_fields_added_at_start(self):
        q = get("/ogc/collections/service_zones/queryables?f=json")["properties"]
        self.assertIn("service_company", q)
        self.assertIn("contact", q)

    def test_b_admin_writes_ops_may_not(self):
        r = set_company("Z1", {"service_company": "Nadhafa Co"}, token="ops")
        self.assertEqual(r.status, 403, r.body)
        for zid, props in (("Z1", {"service_company": "Nadhafa Co", "contact": "+966 12 555 0101"}),
                           ("Z2", {"service_company": "Bayt Clean", "contact": "ops@bayt.example"}),
                           ("Z3", {"service_company": "Nadhafa Co", "contact": "+966 12 555 0199"})):
            r = set_company(zid, props)
            self.assertEqual(r.status, 200, r.body)
        f = [f for f in get("/ogc/collections/service_zones/items?limit=100")["features"]
             if f["properties"]["zone_id"] == "Z2"][0]
        self.assertEqual((f["properties"]["service_company"], f["properties"]["contact"]),
                         ("Bayt Clean", "ops@bayt.example"))

    def test_c_ranking(self):
        def ranked():
            doc = get("/kpi/companies")
            return doc if [c["company"] for c in doc["companies"]] == ["Bayt Clean", "Nadhafa Co"] else None
        doc = mshtest.wait_for(ranked, 30, "the two companies ranked")
        self.assertEqual(doc["ranked_by"], "composite")
        bayt, nadhafa = doc["companies"]
        self.assertEqual((bayt["rank"], nadhafa["rank"]), (1, 2))
        comp = {z: get("/kpi/zones/" + z)["zone"]["kpi"]["index"]["composite"] for z in ZONES}
        self.assertGreater(comp["Z1"], comp["Z2"])
        self.assertGreater(comp["Z2"], comp["Z3"])
        self.assertAlmostEqual(bayt["composite"], comp["Z2"], places=3)
        self.assertAlmostEqual(nadhafa["composite"], (comp["Z1"] + comp["Z3"]) / 2, places=3)
        self.assertEqual(nadhafa["zones"], [{"zone_id": "Z1", "contact": "+966 12 555 0101"},
                                            {"zone_id": "Z3", "contact": "+966 12 555 0199"}])
        self.assertEqual(bayt["zones"], [{"zone_id": "Z2", "contact": "ops@bayt.example"}])
        self.assertEqual(doc["unassigned"], ["Z4"])


def setUpModule():
    global DB, SERVER
    DB = mshtest.work_path("companies.sqlite")
    zones = mshtest.work_path("service_zones.geojson")
    assets = mshtest.work_path("assets.geojson")

    def square(x):
        return [[[x, 21.40], [x + 0.009, 21.40], [x + 0.009, 21.409], [x, 21.409], [x, 21.40]]]
    with open(zones, "w") as f:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"zone_id": z, "name": "Zone " + z, "service": "mixed"},
             "geometry": {"type": "Polygon", "coordinates": square(x)}} for z, x in ZONES.items()]}, f)
    status = {"Z1": ["working", "working"], "Z2": ["working", "working", "faulty"], "Z3": ["faulty", "faulty"],
              "Z4": ["working"]}
    feats = []
    for z, x in ZONES.items():
        for i, s in enumerate(status[z]):
            feats.append({"type": "Feature", "properties": {"asset_id": "%s-%d" % (z, i), "kind": "waste_bin",
                                                            "status": s, "zone_id": z},
                          "geometry": {"type": "Point", "coordinates": [x + 0.001 + 0.001 * i, 21.404]}})
    with open(assets, "w") as f:
        json.dump({"type": "FeatureCollection", "features": feats}, f)
    mshtest.import_layer(DB, zones, "service_zones")
    mshtest.import_layer(DB, assets, "assets")
    for role in ("admin", "ops"):
        TOK[role] = mshtest.add_token(DB, role, "%s-companies" % role)
    SERVER = mshtest.Server(DB, name="companies").start()


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
