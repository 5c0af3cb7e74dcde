"""Broadcasts to an area (issue 13, part 2): POST/GET/DELETE /broadcasts on a real server.

Create for a zone, a camp and a drawn polygon; list by place and by zone; read one; withdraw it
(an event says so); expiry under the injected clock (`serve --test-clock`, POST /test/clock);
the table survives a restart and expired rows are not loaded; hostile bodies answer 400 naming
the member and store nothing; SSE `/events?types=broadcast&lon=&lat=` and `&zone=` get only the
broadcasts for that place; MQTT `mashaer/broadcasts/{zone}` (when the mosquitto broker is
installed; the rest runs without it).

Real port, real SpatiaLite store (the demo zones and camps). No sleeps: an event that must NOT
reach a stream is checked with a marker published after it (events reach every stream in one
order), and a broadcast is in the table before its 201.
"""
import json
import shutil
import time
import unittest

import mshtest
import test_events
import test_mqtt

DB = None
SERVER = None
BROKER = None
OPS = ADMIN = FEED = None
IN_MINA4 = (39.8870, 21.4290)   # inside service zone MINA-04 (and no camp test uses)
IN_CAMP = (39.8895, 21.4320)    # inside camp M-0001, which lies in MINA-04
FAR = (39.9500, 21.3500)        # in no zone
AR = "تنبيه: ازدحام شديد عند الجمرات"


def iso_in(seconds):
    """An ISO UTC time `seconds` after the server's clock (the test clock only moves forward)."""
    now = mshtest.api(SERVER, "/broadcasts").json()["timeStamp"]
    t = time.mktime(time.strptime(now, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone + seconds
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def square(lon, lat, d=0.001):
    return {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d],
                                                [lon - d, lat + d], [lon - d, lat - d]]]}


def body(target, message=None, severity="warning", expires=3600):
    return {"target": target, "message": message or {"ar": AR, "en": "Heavy crowding", "ur": "شدید ہجوم"},
            "severity": severity, "expires": iso_in(expires) if isinstance(expires, int) else expires}


def create(target, **kw):
    r = mshtest.api(SERVER, "/broadcasts", "POST", OPS, body(target, **kw), "application/json")
    assert r.status == 201, (r.status, r.body)
    return r


def listed(query="", token=None):
    r = mshtest.api(SERVER, "/broadcasts" + query, token=token)
    assert r.status == 200, (query, r.status, r.body)
    return [f["id"] for f in r.json()["features"]]


def rows(where="1 = 1"):
    with mshtest.Store(DB) as s:
        return s.sql("SELECT id, target_kind, target_id, severity, zones, by_name, by_role, withdrawn_ms,"
                     " withdrawn_by_name FROM msh_broadcasts WHERE " + where)


def setUpModule():
    global DB, SERVER, BROKER, OPS, ADMIN, FEED
    DB = mshtest.work_path("bcast.sqlite")
    mshtest.import_demo(DB, ["service_zones", "camps"])
    OPS = mshtest.add_token(DB, "ops", "ops-desk-1")
    ADMIN = mshtest.add_token(DB, "admin", "it-admin")
    FEED = mshtest.add_token(DB, "feed", "it-feed")
    extra = ["--live-dir", mshtest.work_path("bcast.live"), "--test-clock"]
    if test_mqtt.MOSQUITTO and shutil.which("mosquitto_sub"):
        BROKER = test_mqtt.Broker("bcast").start()
        extra += ["--mqtt", BROKER.addr]
    try:
        SERVER = mshtest.Server(DB, *extra, name="bcast").start()
        test_events.SERVER = SERVER  # its Stream reads from this server
        if BROKER:
            test_mqtt.wait_connected(SERVER, BROKER, 1)
    except BaseException:
        mshtest.stop_servers(SERVER)
        if BROKER:
            BROKER.stop()
        raise


def tearDownModule():
    rc = SERVER.stop() if SERVER else None
    if BROKER:
        BROKER.stop()
    if rc != 0:
        raise AssertionError("mashaer serve exited %s; stderr:\n%s" % (rc, SERVER.stderr()))


class Broadcasts(unittest.TestCase):
    def test_zone_camp_and_polygon_targets(self):
        r = create({"zone": "MINA-04"}, severity="danger")
        f = r.json()
        bid = f["id"]
        self.assertEqual(r.header("Location"), "/broadcasts/" + bid)
        p = f["properties"]
        self.assertEqual((p["status"], p["severity"], p["target"], p["zones"]),
                         ("active", "danger", {"zone": "MINA-04"}, ["MINA-04"]))
        self.assertEqual(p["message"]["ar"], AR)
        self.assertEqual(p["dir"], {"ar": "rtl", "en": "ltr", "ur": "rtl"})
        self.assertEqual(p["author"], {"name": "ops-desk-1", "role": "ops"})
        self.assertEqual(f["geometry"]["type"], "Polygon")        # the zone's own polygon
        ring = f["geometry"]["coordinates"][0]
        self.assertEqual(ring[0], ring[-1])
        # durable before the 201, with its author
        self.assertEqual(rows("id = '%s'" % bid)[0][1:8],
                         ("zone", "MINA-04", "danger", "MINA-04", "ops-desk-1", "ops", None))
        # read back: public, without the author; ops sees it
        one = mshtest.api(SERVER, "/broadcasts/" + bid)
        self.assertEqual(one.status, 200, one.body)
        self.assertNotIn("author", one.json()["properties"])
        self.assertEqual(mshtest.api(SERVER, "/broadcasts/" + bid, token=OPS).json()["properties"]["author"]["name"],
                         "ops-desk-1")
        # by place and by zone
        self.assertIn(bid, listed("?lon=%f&lat=%f" % IN_MINA4))
        self.assertNotIn(bid, listed("?lon=%f&lat=%f" % FAR))
        self.assertIn(bid, listed("?zone=MINA-04"))
        self.assertNotIn(bid, listed("?zone=MINA-01"))
        self.assertIn(bid, listed())
        # a camp: its polygon, and the zone it lies in
        c = create({"camp": "M-0001"}).json()
        self.assertEqual(c["properties"]["zones"], ["MINA-04"])
        self.assertIn(c["id"], listed("?lon=%f&lat=%f" % IN_CAMP))
        self.assertNotIn(c["id"], listed("?lon=%f&lat=%f" % IN_MINA4))   # in the zone, not in the camp
        self.assertIn(c["id"], listed("?zone=MINA-04"))
        # a drawn polygon in no zone
        g = create({"geometry": square(*FAR)}).json()
        self.assertEqual((g["properties"]["zones"], g["properties"]["target"]), ([], {"geometry": True}))
        self.assertEqual(listed("?lon=%f&lat=%f" % FAR), [g["id"]])
        for x in (bid, c["id"], g["id"]):
            self.assertEqual(mshtest.api(SERVER, "/broadcasts/" + x, "DELETE", OPS).status, 200)

    def test_withdraw(self):
        bid = create({"zone": "MINA-04"}).json()["id"]
        stream = test_events.Stream("?types=broadcast&zone=MINA-04")
        try:
            r = mshtest.api(SERVER, "/broadcasts/" + bid, "DELETE", OPS)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["properties"]["status"], "withdrawn")
            ev = stream.wait_for(lambda e: e[1] == "broadcast" and e[2]["action"] == "withdrawn", "the withdrawal")
            self.assertEqual(ev[0][2]["broadcast"]["id"], bid)
        finally:
            stream.close()
        self.assertEqual(mshtest.api(SERVER, "/broadcasts/" + bid).status, 404)
        self.assertNotIn(bid, listed())
        self.assertEqual(mshtest.api(SERVER, "/broadcasts/" + bid, "DELETE", OPS).status, 404)  # not twice
        row = rows("id = '%s'" % bid)[0]
        self.assertIsNotNone(row[7])
        self.assertEqual(row[8], "ops-desk-1")
        self.assertEqual(mshtest.api(SERVER, "/broadcasts/" + bid, "DELETE").status, 401)

    def test_hostile_bodies_are_refused_and_store_nothing(self):
        before = len(rows())
        good = body({"zone": "MINA-04"})
        cases = [
            (b"", "body"), (b"[]", "object"), (b"{", "line"), (b"\"x\"", "JSON"),
            (dict(good, extra=1), "extra"),
            ({k: v for k, v in good.items() if k != "message"}, "message"),
            ({k: v for k, v in good.items() if k != "target"}, "target"),
            (dict(good, target={}), "target"),
            (dict(good, target={"zone": "MINA-04", "camp": "M-0001"}), "target"),
            (dict(good, target={"zone": ""}), "target.zone"),
            (dict(good, target={"zone": 4}), "target.zone"),
            (dict(good, target={"zone": "x" * 65}), "target.zone"),
            (dict(good, target={"building": "B1"}), "target"),
            (dict(good, target={"geometry": {"type": "Point", "coordinates": [39.8, 21.4]}}), "target.geometry"),
            (dict(good, target={"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}}),
             "target.geometry"),       # not closed
            (dict(good, target={"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}}),
             "target.geometry"),       # too few positions
            (dict(good, target={"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [2, 2], [0, 0]]]}}),
             "no area"),               # on one line
            (dict(good, target={"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]}}),
             "target.geometry"),       # longitude out of range
            (dict(good, target={"geometry": {"type": "Polygon", "coordinates": [
                [[i * 1e-5, 0] for i in range(600)] + [[0, 0]]]}}), "target.geometry"),  # too many positions
            (dict(good, message={}), "message"),
            (dict(good, message={"en": "no arabic"}), "message.ar"),
            (dict(good, message={"ar": "x", "xx": "?"}), "message.xx"),
            (dict(good, message={"ar": ""}), "message.ar"),
            (dict(good, message={"ar": 5}), "message.ar"),
            (dict(good, message={"ar": "bell\u0007"}), "message.ar"),
            (dict(good, message={"ar": "x" * 1001}), "message.ar"),
            (dict(good, severity="panic"), "severity"),
            (dict(good, severity=None), "severity"),
            (dict(good, expires="tomorrow"), "expires"),
            (dict(good, expires="2020-01-01T00:00:00Z"), "expires"),
            (dict(good, expires=iso_in(8 * 86400)), "expires"),
            (b'{"target":{"zone":"A"},"target":{"zone":"B"}}', "duplicate"),
        ]
        for b, member in cases:
            r = mshtest.api(SERVER, "/broadcasts", "POST", OPS, b, "application/json")
            self.assertEqual(r.status, 400, (b if isinstance(b, bytes) else json.dumps(b)[:200], r.body))
            self.assertIn(member, r.json()["error"], (b if isinstance(b, bytes) else json.dumps(b)[:200], r.body))
        # unknown zone or camp: 404 naming it
        r = mshtest.api(SERVER, "/broadcasts", "POST", OPS, body({"zone": "NOPE-99"}), "application/json")
        self.assertEqual(r.status, 404, r.body)
        self.assertIn("NOPE-99", r.json()["error"])
        self.assertEqual(mshtest.api(SERVER, "/broadcasts", "POST", OPS, body({"camp": "X-1"}), "application/json").status,
                         404)
        # too large, no token, a lower role
        big = dict(good, message={"ar": "x" * 900, "en": "y" * 900}, pad="z" * 40000)
        self.assertEqual(mshtest.api(SERVER, "/broadcasts", "POST", OPS, big, "application/json").status, 413)
        self.assertEqual(mshtest.api(SERVER, "/broadcasts", "POST", None, good, "application/json").status, 401)
        self.assertEqual(mshtest.api(SERVER, "/broadcasts", "POST", FEED, good, "application/json").status, 403)
        # bad query arguments
        for q in ("?lon=39.8", "?lon=x&lat=21", "?lon=39.8&lat=95", "?zone="):
            self.assertEqual(mshtest.api(SERVER, "/broadcasts" + q).status, 400, q)
        self.assertEqual(len(rows()), before)

    def test_expiry_and_restart(self):
        global SERVER
        short = create({"zone": "MINA-04"}, expires=600).json()["id"]
        long_ = create({"zone": "MINA-04"}, expires=7200).json()["id"]
        gone = create({"geometry": square(*IN_MINA4)}, expires=7200).json()["id"]
        # a row whose time has passed is not loaded again (the clock of a new server is the real one)
        mshtest.store_exec(DB, "UPDATE msh_broadcasts SET expires_ms = 1000 WHERE id = ?", gone)
        SERVER.stop()
        SERVER.start()
        test_events.SERVER = SERVER
        if BROKER:
            test_mqtt.wait_connected(SERVER, BROKER, 1)
        ids = listed("?zone=MINA-04")
        self.assertIn(short, ids)
        self.assertIn(long_, ids)
        self.assertNotIn(gone, listed())
        self.assertEqual(mshtest.api(SERVER, "/broadcasts/" + short).json()["properties"]["message"]["ar"], AR)
        # the injected clock: 15 minutes on, the short one has expired
        r = mshtest.api(SERVER, "/test/clock?advance_s=900", "POST", ADMIN)
        self.assertEqual(r.status, 200, r.body)
        ids = listed("?lon=%f&lat=%f" % IN_MINA4)
        self.assertNotIn(short, ids)
        self.assertIn(long_, ids)
        self.assertEqual(mshtest.api(SERVER, "/broadcasts/" + short).status, 404)
        self.assertEqual(mshtest.api(SERVER, "/broadcasts/" + short, "DELETE", OPS).status, 404)
        mshtest.api(SERVER, "/broadcasts/" + long_, "DELETE", OPS)


class Delivery(unittest.TestCase):
    def test_sse_by_point_and_zone(self):
        inside = test_events.Stream("?types=broadcast&lon=%f&lat=%f" % IN_MINA4)
        outside = test_events.Stream("?types=broadcast&lon=%f&lat=%f" % FAR)
        zone = test_events.Stream("?types=broadcast&zone=MINA-04")
        other_zone = test_events.Stream("?types=broadcast&zone=MINA-01")
        streams = (inside, outside, zone, other_zone)
        try:
            bid = create({"zone": "MINA-04"}).json()["id"]
            got = inside.wait_for(lambda e: e[1] == "broadcast" and e[2]["broadcast"]["id"] == bid, "the broadcast")
            ev = got[0][2]
            self.assertEqual(ev["action"], "created")
            self.assertEqual(ev["broadcast"]["properties"]["message"]["ar"], AR)
            self.assertNotIn("author", ev["broadcast"]["properties"])   # a public stream
            zone.wait_for(lambda e: e[1] == "broadcast" and e[2]["broadcast"]["id"] == bid, "the broadcast by zone")
            # the marker: a broadcast over both far-away subscribers' place (FAR lies in no zone, and
            # MINA-01's stream takes no zone-less broadcast): polygon covering FAR, then one for MINA-01
            m1 = create({"geometry": square(*FAR)}).json()["id"]
            m2 = create({"zone": "MINA-01"}).json()["id"]
            outside.wait_for(lambda e: e[1] == "broadcast" and e[2]["broadcast"]["id"] == m1, "the marker")
            other_zone.wait_for(lambda e: e[1] == "broadcast" and e[2]["broadcast"]["id"] == m2, "the zone marker")
            self.assertEqual([e[2]["broadcast"]["id"] for e in outside.events], [m1])
            self.assertEqual([e[2]["broadcast"]["id"] for e in other_zone.events], [m2])
            m3 = create({"zone": "MINA-04"}).json()["id"]   # and one for the first two
            inside.wait_for(lambda e: e[1] == "broadcast" and e[2]["broadcast"]["id"] == m3, "the inside marker")
            self.assertEqual([e[2]["broadcast"]["id"] for e in inside.events], [bid, m3])
        finally:
            for s in streams:
                s.close()
        bad = mshtest.api(SERVER, "/events?types=broadcast&lon=39.8")
        self.assertEqual(bad.status, 400)
        self.assertIn("lon", bad.json()["error"])
        for x in (bid, m1, m2, m3):
            mshtest.api(SERVER, "/broadcasts/" + x, "DELETE", OPS)

    def test_mqtt_topic_per_zone(self):
        if not BROKER:
            self.skipTest("the mosquitto broker is not installed: MQTT delivery not tested")
        sub = BROKER.subscribe("mashaer/broadcasts/MINA-04", count=1)
        none = BROKER.subscribe("mashaer/broadcasts/none", count=1)
        bid = create({"camp": "M-0001"}).json()["id"]
        doc = sub.result()
        self.assertEqual((doc["action"], doc["broadcast"]["id"]), ("created", bid))
        self.assertEqual(doc["broadcast"]["properties"]["dir"]["ar"], "rtl")
        gid = create({"geometry": square(*FAR)}).json()["id"]
        self.assertEqual(none.result()["broadcast"]["id"], gid)
        for x in (bid, gid):
            mshtest.api(SERVER, "/broadcasts/" + x, "DELETE", OPS)


if __name__ == "__main__":
    mshtest.main()
