"""The scripted day's emergency part, on a real server with an injected clock (--test-clock):
an incident is reported (POST), its responders are ranked by walking time (the nearest by
walking first, not the nearest in a straight line; busy, other-kind and stale crews left out),
a crew is assigned (dispatched), a critical incident left `reported` is escalated once when the
clock passes --escalate-after, crews that stop reporting turn stale and then leave, the first
incident goes on_scene and resolved and leaves the live map after --incident-retention while
its history stays in the store.

No sleeps: POST /test/clock moves the server's clock and runs the time rules before it answers;
events are waited on as barriers (test_events.Stream).

The walkways: a 1 km east-west street (y = 21.410) and a detour north of its east end, so that
CREW-STRAIGHT stands 167 m from the incident in a straight line but about 970 m away on foot.
"""
import json
import unittest

import mshtest
import test_events

DB = None
SERVER = None
TOK = {}
ITEMS = "/ogc/collections/incidents/items"
INCIDENT = (39.8850, 21.4100)


def req(path, method="GET", token=None, body=None, ctype="application/geo+json", headers=None):
    return mshtest.request(SERVER, path, method, token, body, ctype, headers)


def advance(seconds):
    r = req("/test/clock?advance_s=%d" % seconds, "POST", TOK["admin"])
    assert r.status == 200, r.body
    return json.loads(r.body)


def server_now():
    return advance(0)["now_ms"]


def patch(iid, body):
    etag = req("%s/%s" % (ITEMS, iid)).header("ETag")
    return req("%s/%s" % (ITEMS, iid), "PATCH", TOK["ops"], body, "application/merge-patch+json", {"If-Match": etag})


def responders(iid, **q):
    qs = "&".join("%s=%s" % kv for kv in q.items())
    r = req("/incidents/%s/responders%s" % (iid, "?" + qs if qs else ""), token=TOK["ops"])
    assert r.status == 200, r.body
    return json.loads(r.body)


def crew(cid, lon, lat, status="standby", kind="emergency", t=None):
    return {"id": cid, "lon": lon, "lat": lat, "status": status, "kind": kind, "name": cid.title(),
            "time": t or server_now()}


class EmergencyDay(unittest.TestCase):
    def test_the_day(self):
        t = server_now()
        mshtest.post_ok(SERVER, "crews", [
            crew("CREW-NEAR", 39.8830, 21.4100, t=t),         # 207 m west along the street
            crew("CREW-FAR", 39.8800, 21.4100, t=t),          # 517 m west
            crew("CREW-STRAIGHT", 39.8852, 21.4115, t=t),     # 167 m north, ~970 m on foot
            crew("CREW-BUSY", 39.8848, 21.4100, status="dispatched", t=t),
            crew("CREW-CLEAN", 39.8846, 21.4100, kind="cleaning", t=t)], TOK["feed"])
        s = test_events.Stream("?types=incident,escalation")
        try:
            # reported
            r = req(ITEMS, "POST", TOK["ops"], {"type": "Feature", "properties": {
                "kind": "medical", "severity": "high", "description": "collapsed pilgrim"},
                "geometry": {"type": "Point", "coordinates": list(INCIDENT)}})
            self.assertEqual(r.status, 201, r.body)
            first = json.loads(r.body)["properties"]["id"]
            s.wait_for(lambda e: e[1] == "incident" and e[2]["id"] == first, "the created event")
            # triaged: the responders, by walking time
            doc = responders(first, kind="emergency", limit=5)
            self.assertEqual(doc["incident"], first)
            order = [x["crew"] for x in doc["responders"]]
            self.assertEqual(order, ["CREW-NEAR", "CREW-FAR", "CREW-STRAIGHT"])
            near = doc["responders"][0]
            self.assertAlmostEqual(near["distance_m"], 207, delta=6)
            self.assertAlmostEqual(near["eta_s"], near["distance_m"] / 1.34, delta=3)
            self.assertEqual((near["kind"], near["status"], near["name"]), ("emergency", "standby", "Crew-Near"))
            self.assertGreater(doc["responders"][2]["distance_m"], 900)
            self.assertEqual([x["crew"] for x in responders(first, kind="emergency", limit=1)["responders"]], ["CREW-NEAR"])
            self.assertIn("CREW-CLEAN", [x["crew"] for x in responders(first)["responders"]])   # any kind
            # assigned: dispatched
            r = patch(first, {"status": "dispatched", "assigned_crew": near["crew"]})
            self.assertEqual(r.status, 200, r.body)
            # a crew sent to an open incident is busy until it ends, whatever its own feed still says
            self.assertNotIn(near["crew"], [x["crew"] for x in responders(first, kind="emergency")["responders"]])
            # a critical one left reported is escalated once the clock passes --escalate-after
            r = req(ITEMS, "POST", TOK["ops"], {"type": "Feature", "properties": {"kind": "fire", "severity": "critical"},
                                                "geometry": {"type": "Point", "coordinates": [39.8860, 21.4100]}})
            second = json.loads(r.body)["properties"]["id"]
            self.assertEqual(advance(60)["escalated"], 0)
            tick = advance(61)
            self.assertEqual(tick["escalated"], 1)
            ev = s.wait_for(lambda e: e[1] == "escalation", "the escalation event")
            self.assertEqual([e[2]["id"] for e in ev], [second])
            self.assertEqual((ev[0][2]["severity"], ev[0][2]["status"]), ("critical", "reported"))
            self.assertGreaterEqual(ev[0][2]["waiting_s"], 120)
            self.assertEqual(advance(30)["escalated"], 0)                # once per incident
            # the crews stopped reporting 151 s ago: stale, never offered
            crews = json.loads(req("/ogc/collections/crews/items").body)["features"]
            self.assertTrue(all(f["properties"]["stale"] for f in crews), crews)
            self.assertEqual(responders(second)["responders"], [])
            mshtest.post_ok(SERVER, "crews", [crew("CREW-FAR", 39.8800, 21.4100)], TOK["feed"])
            self.assertEqual([x["crew"] for x in responders(second)["responders"]], ["CREW-FAR"])
            # on scene, resolved
            self.assertEqual(patch(first, {"status": "on_scene"}).status, 200)
            r = patch(first, {"status": "resolved"})
            self.assertEqual(r.status, 200, r.body)
            self.assertTrue(json.loads(r.body)["properties"]["resolved_at"])
            # gone after the retention time; the other incident stays
            tick = advance(1700)
            self.assertEqual(tick["removed"], 0)
            # every crew has now been silent for over --crew-drop: gone from the map
            self.assertEqual(tick["dropped"], 5)
            self.assertEqual(json.loads(req("/ogc/collections/crews/items").body)["features"], [])
            self.assertEqual(req("%s/%s" % (ITEMS, first)).status, 200)
            tick = advance(101)
            self.assertEqual(tick["removed"], 1)
            self.assertEqual(req("%s/%s" % (ITEMS, first)).status, 404)
            ids = [f["properties"]["id"] for f in json.loads(req(ITEMS).body)["features"]]
            self.assertNotIn(first, ids)
            self.assertIn(second, ids)
        finally:
            s.close()
        # the history stays in the store (the incident log writes about once a second)
        with mshtest.Store(DB) as st:
            mshtest.wait_for(lambda: st.sql("SELECT status FROM msh_incidents WHERE id = ?", first) == [("resolved",)],
                             10, "the resolved incident in msh_incidents")

    def test_clock_needs_the_flag_and_admin(self):
        self.assertEqual(req("/test/clock?advance_s=1", "POST", TOK["ops"]).status, 403)
        self.assertEqual(req("/test/clock?advance_s=-5", "POST", TOK["admin"]).status, 400)
        self.assertEqual(req("/incidents/NOPE/responders", token=TOK["ops"]).status, 404)
        self.assertEqual(req("/incidents/NOPE/responders").status, 401)
        self.assertEqual(req("/incidents/NOPE/responders?limit=0", token=TOK["ops"]).status, 400)


def setUpModule():
    global DB, SERVER
    DB = mshtest.work_path("incident_day.sqlite")
    street = [(39.880 + i * 0.001, 21.410) for i in range(11)]
    mshtest.import_walkways(DB, [street, [(39.889, 21.410), (39.889, 21.4115), (39.8852, 21.4115)]])
    for role, name in (("ops", "ops-alice"), ("feed", "sensor"), ("admin", "root")):
        TOK[role] = mshtest.add_token(DB, role, name)
    SERVER = mshtest.Server(DB, "--test-clock", "--escalate-after", "120", "--incident-retention", "1800",
                            "--crew-stale", "120", "--crew-drop", "900").start()
    test_events.SERVER = SERVER


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
