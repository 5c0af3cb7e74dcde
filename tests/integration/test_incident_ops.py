"""Operators on the live incidents: POST creates one (INC-OPS-<n>, durable through the live log,
an `incident` event), PATCH moves it along its lifecycle (If-Match with the ETag GET sends, 412
when stale, 409 invalid_transition, 400 for a missing crew or reason), the feed keeps updating
it, and an acknowledged PATCH survives kill -9 (replay) and a restart from a snapshot.

The server is real (a real port, a real store and live log). No fixed sleeps: events are waited
on as barriers (test_events.Stream).
"""
import json
import unittest

import mshtest
import test_events
from mshtest import now_ms

DB = None
SERVER = None
TOK = {}
ITEMS = "/ogc/collections/incidents/items"


def req(path, method="GET", token=None, body=None, ctype="application/geo+json", headers=None):
    return mshtest.request(SERVER, path, method, token, body, ctype, headers)


def create(kind="medical", severity="high", lon=39.8890, lat=21.4130, token=None, **props):
    props.update(kind=kind, severity=severity)
    return req(ITEMS, "POST", token or TOK["ops"],
               {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props})


def get(iid):
    r = req("%s/%s" % (ITEMS, iid))
    return r, (json.loads(r.body) if r.status == 200 else None)


def patch(iid, body, etag=None, token=None):
    h = {"If-Match": etag if etag is not None else get(iid)[0].header("ETag")}
    return req("%s/%s" % (ITEMS, iid), "PATCH", token or TOK["ops"], body, "application/merge-patch+json", h)


def crews(*records):
    mshtest.post_ok(SERVER, "crews", list(records), TOK["feed"])


class IncidentOps(unittest.TestCase):
    def new(self, **kw):
        r = create(**kw)
        self.assertEqual(r.status, 201, r.body)
        return json.loads(r.body)["properties"]["id"]

    def test_create(self):
        s = test_events.Stream("?types=incident")
        try:
            r = create(description="fainted near the Jamarat ramp")
            self.assertEqual(r.status, 201, r.body)
            item = json.loads(r.body)
            iid = item["properties"]["id"]
            self.assertRegex(iid, r"^INC-OPS-\d+$")
            self.assertTrue(r.header("Location").endswith("/ogc/collections/incidents/items/" + iid))
            self.assertTrue(r.header("ETag"))
            p = item["properties"]
            self.assertEqual((p["status"], p["kind"], p["severity"]), ("reported", "medical", "high"))
            self.assertEqual(p["description"], "fainted near the Jamarat ramp")
            self.assertIsNone(p["assigned_crew"])
            self.assertTrue(p["reported_at"].endswith("Z"))
            self.assertEqual(item["geometry"]["coordinates"], [39.889, 21.413])
            # GET by text id and by the numeric feature id: the same item, the same ETag
            g, gi = get(iid)
            self.assertEqual(g.header("ETag"), r.header("ETag"))
            g2, _ = get(gi["id"])
            self.assertEqual(g2.header("ETag"), r.header("ETag"))
            ev = s.wait_for(lambda e: e[1] == "incident" and e[2]["id"] == iid, "the incident event")[0][2]
            self.assertEqual((ev["action"], ev["status"], ev["severity"]), ("created", "reported", "high"))
            # the next one takes the next number
            r2 = create(kind="fire", severity="low")
            n1, n2 = int(iid.rsplit("-", 1)[1]), int(json.loads(r2.body)["properties"]["id"].rsplit("-", 1)[1])
            self.assertEqual(n2, n1 + 1)
        finally:
            s.close()

    def test_bad_bodies_change_nothing(self):
        before = req(ITEMS + "?limit=1000").body
        for body, word in ((b"{", "JSON"), ({"type": "Feature", "geometry": None, "properties": {}}, "Point"),
                           ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [39.8, 21.4]},
                             "properties": {"kind": "alien", "severity": "high"}}, "kind"),
                           ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [39.8, 21.4]},
                             "properties": {"kind": "fire", "severity": "high", "colour": "red"}}, "colour"),
                           ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [39.8, 91]},
                             "properties": {"kind": "fire", "severity": "high"}}, "range")):
            r = req(ITEMS, "POST", TOK["ops"], body)
            self.assertEqual(r.status, 400, body)
            self.assertIn(word, json.loads(r.body)["error"])
        self.assertEqual(create(token=TOK["feed"]).status, 403)
        self.assertEqual(create(token=TOK["reporter"]).status, 403)
        self.assertEqual(req(ITEMS, "POST", None, {}).status, 401)
        self.assertEqual(req(ITEMS + "/INC-1", "DELETE", TOK["ops"]).status, 405)
        self.assertEqual(req(ITEMS + "?limit=1000").body, before)
        # OPTIONS says what the caller may do (the console and QGIS read it)
        allow = lambda path, tok: {m.strip() for m in req(path, "OPTIONS", tok).header("Allow", "").split(",")}
        self.assertIn("POST", allow(ITEMS, TOK["ops"]))
        self.assertNotIn("POST", allow(ITEMS, TOK["reporter"]))
        self.assertIn("PATCH", allow(ITEMS + "/INC-1", TOK["ops"]))
        self.assertNotIn("PATCH", allow(ITEMS + "/INC-1", TOK["feed"]))

    def test_lifecycle_and_refusals(self):
        crews({"id": "CREW-L1", "lon": 39.889, "lat": 21.414, "kind": "emergency", "status": "standby",
               "name": "Lifecycle", "time": now_ms()})
        iid = self.new(severity="critical")
        # If-Match is required, and must be current
        r = req("%s/%s" % (ITEMS, iid), "PATCH", TOK["ops"], {"status": "dispatched"}, "application/merge-patch+json")
        self.assertEqual(r.status, 428)
        r = patch(iid, {"status": "dispatched", "assigned_crew": "CREW-L1"}, etag='"i0000000000000000"')
        self.assertEqual(r.status, 412, r.body)
        doc = json.loads(r.body)
        self.assertEqual(doc["current"]["properties"]["status"], "reported")
        self.assertEqual(doc["etag"], get(iid)[0].header("ETag"))
        # dispatching needs a crew, and one that exists
        r = patch(iid, {"status": "dispatched"})
        self.assertEqual(r.status, 400)
        self.assertIn("assigned_crew", json.loads(r.body)["error"])
        self.assertEqual(patch(iid, {"status": "dispatched", "assigned_crew": "CREW-NOPE"}).status, 400)
        # a jump is 409 invalid_transition with what is allowed
        r = patch(iid, {"status": "resolved"})
        self.assertEqual(r.status, 409)
        doc = json.loads(r.body)
        self.assertEqual((doc["code"], doc["from"], doc["to"], doc["allowed"]),
                         ("invalid_transition", "reported", "resolved", ["dispatched", "cancelled"]))
        r = patch(iid, {"properties": {"status": "dispatched", "assigned_crew": "CREW-L1"}})
        self.assertEqual(r.status, 200, r.body)
        p = json.loads(r.body)["properties"]
        self.assertEqual((p["status"], p["assigned_crew"]), ("dispatched", "CREW-L1"))
        self.assertTrue(p["dispatched_at"].endswith("Z"))
        old = r.header("ETag")
        self.assertEqual(patch(iid, {"status": "on_scene"}).status, 200)
        # the ETag from before the last write is stale now
        self.assertEqual(patch(iid, {"status": "resolved"}, etag=old).status, 412)
        self.assertEqual(patch(iid, {"status": "resolved"}).status, 200)
        p = get(iid)[1]["properties"]
        self.assertEqual(p["status"], "resolved")
        self.assertTrue(p["on_scene_at"] and p["resolved_at"])
        r = patch(iid, {"status": "cancelled", "reason": "late"})
        self.assertEqual(r.status, 409)
        self.assertEqual(json.loads(r.body)["allowed"], [])
        # cancelling needs a reason, and is final
        iid2 = self.new(severity="low")
        self.assertEqual(patch(iid2, {"status": "cancelled"}).status, 400)
        r = patch(iid2, {"status": "cancelled", "reason": "duplicate of " + iid})
        self.assertEqual(r.status, 200, r.body)
        p = json.loads(r.body)["properties"]
        self.assertEqual((p["status"], p["reason"]), ("cancelled", "duplicate of " + iid))
        self.assertTrue(p["cancelled_at"])
        self.assertEqual(patch(iid2, {"status": "dispatched", "assigned_crew": "CREW-L1"}).status, 409)
        self.assertEqual(patch(iid2, {"colour": "red"}).status, 400)

    def test_feed_keeps_updating(self):
        iid = self.new(severity="medium")
        t = now_ms()
        mshtest.post_ok(SERVER, "incidents", [{"id": iid, "lon": 39.8891, "lat": 21.4131, "kind": "medical",
                                               "severity": "medium", "description": "moved by the feed",
                                               "time": t}], TOK["feed"])
        p = get(iid)[1]
        self.assertEqual(p["properties"]["description"], "moved by the feed")
        self.assertEqual(p["properties"]["status"], "reported")
        self.assertEqual(p["geometry"]["coordinates"], [39.8891, 21.4131])

    def test_triage(self):
        # an operator triages: severity and description by merge patch, with the status or alone
        iid = self.new(severity="low", description="someone fell")
        s = test_events.Stream("?types=incident")
        try:
            r = patch(iid, {"properties": {"severity": "critical", "description": "not breathing"}})
            self.assertEqual(r.status, 200, r.body)
            p = json.loads(r.body)["properties"]
            self.assertEqual((p["severity"], p["description"], p["status"]), ("critical", "not breathing", "reported"))
            ev = s.wait_for(lambda e: e[1] == "incident" and e[2]["id"] == iid and e[2].get("severity") == "critical",
                            "the triage's incident event")[0][2]
            self.assertEqual(ev["status"], "reported")
        finally:
            s.close()
        before = get(iid)
        for body, word in (({"severity": "urgent"}, "'severity' must be low, medium, high or critical"),
                           ({"severity": 3}, "'severity'"), ({"description": 5}, "'description'"),
                           ({"description": "x" * 201}, "too long"), ({"kind": "fire"}, "'kind' cannot be changed")):
            r = patch(iid, body)
            self.assertEqual(r.status, 400, body)
            self.assertIn(word, json.loads(r.body)["error"])
        self.assertEqual(get(iid)[0].header("ETag"), before[0].header("ETag"))
        r = patch(iid, {"description": None})
        self.assertEqual(r.status, 200, r.body)
        self.assertIsNone(json.loads(r.body)["properties"].get("description"))
        # a closed incident is not triaged: 409, nothing allowed from there
        self.assertEqual(patch(iid, {"status": "cancelled", "reason": "duplicate"}).status, 200)
        r = patch(iid, {"severity": "high"})
        self.assertEqual(r.status, 409, r.body)
        self.assertEqual(json.loads(r.body)["allowed"], [])
        self.assertEqual(get(iid)[1]["properties"]["severity"], "critical")

    def test_kill9_after_ack_loses_nothing(self):
        global SERVER
        crews({"id": "CREW-K9", "lon": 39.889, "lat": 21.414, "kind": "emergency", "status": "standby",
               "time": now_ms()})
        iid = self.new(severity="high")
        r = patch(iid, {"status": "dispatched", "assigned_crew": "CREW-K9"})
        self.assertEqual(r.status, 200, r.body)
        r = patch(iid, {"severity": "critical", "description": "triaged"})  # replayed from the log too
        self.assertEqual(r.status, 200, r.body)
        etag = r.header("ETag")
        SERVER.proc.kill()             # SIGKILL right after the answer: the state comes back from the log
        SERVER.proc.wait()
        SERVER.stop()
        SERVER = mshtest.Server(DB, name="serve2").start()
        g, item = get(iid)
        self.assertEqual((item["properties"]["status"], item["properties"]["assigned_crew"]), ("dispatched", "CREW-K9"))
        self.assertEqual((item["properties"]["severity"], item["properties"]["description"]), ("critical", "triaged"))
        # the same version (the tag names the host too, and the port changed)
        self.assertEqual(g.header("ETag").split("-h")[0], etag.split("-h")[0])
        r = patch(iid, {"status": "cancelled", "reason": "stood down"}, etag=g.header("ETag"))
        self.assertEqual(r.status, 200, r.body)
        # a clean stop writes a snapshot: the operators' state comes back from it
        SERVER.stop()
        SERVER = mshtest.Server(DB, name="serve3").start()
        test_events.SERVER = SERVER
        p = get(iid)[1]["properties"]
        self.assertEqual((p["status"], p["reason"], p["assigned_crew"]), ("cancelled", "stood down", "CREW-K9"))
        self.assertEqual((p["severity"], p["description"]), ("critical", "triaged"))
        n = int(iid.rsplit("-", 1)[1])
        self.assertEqual(json.loads(create().body)["properties"]["id"], "INC-OPS-%d" % (n + 1))


def setUpModule():
    global DB, SERVER
    DB = mshtest.work_path("incident_ops.sqlite")
    mshtest.import_demo(DB, ["sites"])
    for role, name in (("ops", "ops-alice"), ("reporter", "phone"), ("feed", "sensor")):
        TOK[role] = mshtest.add_token(DB, role, name)
    SERVER = mshtest.Server(DB).start()
    test_events.SERVER = SERVER


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
