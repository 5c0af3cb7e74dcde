"""Operators' writes on the live collections name their author and are announced.

Every operator write on incidents and gates (POST an incident, PATCH its lifecycle, PATCH a gate)
is logged with the token's name and role: the incident history (.../items/{id}/history) serves
them as `by` {name, role} as the static collections' histories do, a feed record's version keeps
`by` null, and the author survives kill -9 right after the answer (the live log's record names
it). Each write sends a `change` event (collection, text id, op, version, bbox of the point) on
/events?types=change&collections=... like a store-layer edit.

The server is real; no fixed sleeps: events are waited on (test_events.Stream), the history as it
fills (the incident log writes about once a second). A gate's operator writes (not its feed
counts) have their history too, at .../gates/items/{id}/history, a closing with its planned
reopening (`reopens_at`); the store's gate history is made here the way a server before
`reopens_at` made it, so the column is added to a table that lacks it.
"""
import json
import time
import unittest

import mshtest
import test_events
from mshtest import now_ms

DB = None
SERVER = None
TOK = {}
ITEMS = "/ogc/collections/incidents/items"


def req(path, *args, **kw):
    """mshtest.api on the current server (method, token, body, ctype, headers)."""
    return mshtest.api(SERVER, path, *args, **kw)


def create(token, lon=39.8890, lat=21.4130):
    r = req(ITEMS, "POST", token, {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                                   "properties": {"kind": "medical", "severity": "high"}})
    assert r.status == 201, r.body
    return json.loads(r.body)["properties"]["id"]


def patch(path, body, token):
    etag = req(path).header("ETag")
    return req(path, "PATCH", token, body, "application/merge-patch+json", {"If-Match": etag})


def history(iid, n):
    """The incident's history once it has n versions."""
    found = {}

    def ready():
        r = req("%s/%s/history" % (ITEMS, iid), token=TOK["alice"])
        if r.status == 200:
            found["v"] = json.loads(r.body)["versions"]
        return len(found.get("v", [])) >= n

    mshtest.wait_for(ready, 20, "%d versions in the history of %s" % (n, iid))
    return found["v"]


def crew(cid):
    mshtest.post_ok(SERVER, "crews", [{"id": cid, "lon": 39.889, "lat": 21.414, "kind": "emergency",
                                       "status": "standby", "time": now_ms()}], TOK["feed"])


class LiveAudit(unittest.TestCase):
    def test_history_names_who(self):
        crew("CREW-A1")
        iid = create(TOK["alice"])
        path = "%s/%s" % (ITEMS, iid)
        self.assertEqual(patch(path, {"status": "dispatched", "assigned_crew": "CREW-A1"}, TOK["bob"]).status, 200)
        self.assertEqual(patch(path, {"status": "on_scene"}, TOK["bob"]).status, 200)
        self.assertEqual(patch(path, {"status": "resolved"}, TOK["alice"]).status, 200)
        v = history(iid, 4)
        self.assertEqual([(x["status"], x["by"]) for x in v],
                         [("reported", {"name": "ops-alice", "role": "ops"}),
                          ("dispatched", {"name": "ops-bob", "role": "ops"}),
                          ("on_scene", {"name": "ops-bob", "role": "ops"}),
                          ("resolved", {"name": "ops-alice", "role": "ops"})])
        # a feed's update names no one
        iid2 = create(TOK["bob"])
        mshtest.post_ok(SERVER, "incidents", [{"id": iid2, "lon": 39.8891, "lat": 21.4131, "kind": "medical",
                                               "severity": "critical", "time": now_ms() + 5}], TOK["feed"])
        v = history(iid2, 2)
        self.assertEqual([x["by"] for x in v], [{"name": "ops-bob", "role": "ops"}, None])
        self.assertEqual(v[1]["feature"]["properties"]["severity"], "critical")

    def test_change_events(self):
        mshtest.post_ok(SERVER, "gates", [{"id": "G-AUD", "lon": 39.881, "lat": 21.410, "capacity": 500,
                                           "in": 1, "out": 0, "time": now_ms()}], TOK["feed"])
        s = test_events.Stream("?types=change&collections=incidents,gates")
        other = test_events.Stream("?types=change&collections=sites")
        try:
            iid = create(TOK["alice"], 39.8893, 21.4137)
            r = patch("%s/%s" % (ITEMS, iid), {"status": "cancelled", "reason": "duplicate"}, TOK["bob"])
            self.assertEqual(r.status, 200, r.body)
            r = patch("/ogc/collections/gates/items/G-AUD", {"state": "closed", "reason": "full"}, TOK["bob"])
            self.assertEqual(r.status, 200, r.body)
            got = s.wait_for(lambda e: e[1] == "change" and e[2]["id"] == "G-AUD", "the gate's change event")
            ev = [e[2] for e in s.hits(lambda e: e[1] == "change" and e[2]["id"] in (iid, "G-AUD"))]
            self.assertEqual([(e["collection"], e["id"], e["op"]) for e in ev],
                             [("incidents", iid, "create"), ("incidents", iid, "update"), ("gates", "G-AUD", "update")])
            self.assertEqual(ev[1]["version"], ev[0]["version"] + 1)
            self.assertEqual(ev[0]["bbox"], [39.8893, 21.4137, 39.8893, 21.4137])
            self.assertEqual(ev[2]["bbox"], [39.881, 21.41, 39.881, 21.41])
            self.assertTrue(got)
            # the collections filter holds: a stream on sites saw none of them
            self.assertEqual(other.hits(lambda e: e[1] == "change"), [])
        finally:
            s.close()
            other.close()

    def test_gate_history(self):
        mshtest.post_ok(SERVER, "gates", [{"id": "G-HIS", "lon": 39.882, "lat": 21.411, "capacity": 500,
                                           "in": 1, "out": 0, "time": now_ms()}], TOK["feed"])
        path = "/ogc/collections/gates/items/G-HIS"
        self.assertEqual(req(path + "/history", token=TOK["alice"]).status, 404)  # no operator write yet
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now_ms() // 1000 + 3600))  # to the second
        r = patch(path, {"state": "closed", "reason": "full", "reopens_at": later}, TOK["bob"])
        self.assertEqual(r.status, 200, r.body)
        mshtest.post_ok(SERVER, "gates", [{"id": "G-HIS", "in": 9, "out": 2, "time": now_ms()}], TOK["feed"])
        self.assertEqual(patch(path, {"state": "open"}, TOK["alice"]).status, 200)
        found = {}

        def two():
            r = req(path + "/history", token=TOK["alice"])
            found["v"] = json.loads(r.body)["versions"] if r.status == 200 else []
            return len(found["v"]) >= 2

        mshtest.wait_for(two, 20, "two versions in the gate's history")
        self.assertEqual([(x["state"], x["reason"], x["reopens_at"], x["by"]) for x in found["v"]],
                         [("closed", "full", later, {"name": "ops-bob", "role": "ops"}),
                          ("open", None, None, {"name": "ops-alice", "role": "ops"})])
        self.assertTrue(all(x["at"].endswith("Z") for x in found["v"]))
        self.assertEqual(req(path + "/history").status, 401)

    def test_kill9_keeps_the_author(self):
        crew("CREW-K9")
        iid = create(TOK["alice"])
        r = patch("%s/%s" % (ITEMS, iid), {"status": "dispatched", "assigned_crew": "CREW-K9"}, TOK["bob"])
        self.assertEqual(r.status, 200, r.body)
        SERVER.proc.kill()             # SIGKILL right after the answer: the author comes back from the log
        SERVER.proc.wait()
        SERVER.stop()
        # as if the incident log had not written its rows yet: only the live log's replay can name bob now
        mshtest.store_exec(DB, "DELETE FROM msh_incident_history WHERE id = ?", iid)
        start("serve2")
        v = history(iid, 1)
        self.assertEqual([(x["status"], x["by"]) for x in v], [("dispatched", {"name": "ops-bob", "role": "ops"})])


def start(name="serve"):
    """The server on DB, the one the requests and the event streams go to."""
    global SERVER
    SERVER = mshtest.Server(DB, name=name).start()
    test_events.SERVER = SERVER


def setUpModule():
    global DB
    DB = mshtest.work_path("live_audit.sqlite")
    mshtest.import_demo(DB, ["sites"])
    # the gate history as a server before reopens_at made it
    mshtest.store_exec(DB, "CREATE TABLE msh_gate_history (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, time TEXT NOT NULL,"
                           " state TEXT NOT NULL, reason TEXT, by_name TEXT, by_role TEXT, UNIQUE (id, time, state))")
    for key, role, name in (("alice", "ops", "ops-alice"), ("bob", "ops", "ops-bob"), ("feed", "feed", "sensor")):
        TOK[key] = mshtest.add_token(DB, role, name)
    start()


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
