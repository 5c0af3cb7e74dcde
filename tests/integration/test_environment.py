"""The Hajj environment on a real server: sensor readings carry the NWS heat index, an estimated
WBGT and the levels of heat, air (PM2.5, WHO 2021) and noise (layers/live/envlevels.h) as item
properties; `environment` events are raised, lowered and cleared with hysteresis (a reading that
hovers just under a line does not clear it); a sensor that stops reporting turns `stale` when the
injected clock passes --sensor-stale, and its next reading clears it.

No sleeps: events are waited on as barriers (test_events.Stream), time is moved with
POST /test/clock (--test-clock), which runs the time rules before it answers.
"""
import json
import time
import unittest

import mshtest
import test_events

DB = None
SERVER = None
TOK = {}
ITEMS = "/ogc/collections/sensors/items"
SPOT = (39.8895, 21.4150)


def advance(seconds):
    r = mshtest.request(SERVER, "/test/clock?advance_s=%d" % seconds, "POST", TOK["admin"])
    assert r.status == 200, r.body
    return json.loads(r.body)


def reading(sid, **values):
    rec = {"id": sid, "lon": SPOT[0], "lat": SPOT[1], "time": advance(0)["now_ms"]}
    rec.update(values)
    mshtest.post_ok(SERVER, "sensors", [rec], TOK["feed"])


def props(sid):
    r = SERVER.get("%s/%s" % (ITEMS, sid))
    assert r.status == 200, r.body
    return json.loads(r.body)["properties"]


class Environment(unittest.TestCase):
    def test_heat_levels_and_events(self):
        s = test_events.Stream("?types=environment")
        try:
            # 45 C at 15 %: heat index 44.4 C (danger), WBGT estimate 35.1 C (black flag)
            reading("SENS-A", temperature=45.0, relativeHumidity=0.15)
            p = props("SENS-A")
            self.assertAlmostEqual(p["heat_index"], 44.45, delta=0.06)   # stored as float32: 0.15 is 0.150000006
            self.assertAlmostEqual(p["wbgt"], 35.1, places=1)
            self.assertEqual((p["heat_risk"], p["wbgt_flag"], p["stale"]), ("danger", "black", False))
            evs = s.wait_for(lambda e: e[2].get("sensor") == "SENS-A" and e[2]["kind"] == "wbgt", "the WBGT event")
            heat = [e[2] for e in s.events if e[1] == "environment" and e[2]["kind"] == "heat"]
            self.assertEqual(len(heat), 1, heat)
            self.assertEqual((heat[0]["state"], heat[0]["level"], heat[0]["previous"]), ("raised", "danger", "none"))
            self.assertAlmostEqual(heat[0]["value"], 44.45, delta=0.06)
            # 40.8 C at 15 % is a heat index of 39.0 C: under danger's 39.4 C line, but within its 1 C
            # margin, so nothing is sent for heat; a noise reading is the barrier that says the
            # reading went through
            reading("SENS-A", temperature=40.8, relativeHumidity=0.15, LAeq=88.0)
            s.wait_for(lambda e: e[2].get("kind") == "noise", "the noise event")
            heat = [e[2] for e in s.events if e[1] == "environment" and e[2]["kind"] == "heat"]
            self.assertEqual(len(heat), 1, heat)
            self.assertEqual(props("SENS-A")["heat_risk"], "extreme_caution")  # the layer shows the reading
            noise = [e[2] for e in s.events if e[2].get("kind") == "noise"][0]
            self.assertEqual((noise["state"], noise["level"]), ("raised", "harmful"))
            # cooler: heat 'lowered' to caution, then cleared; PM2.5 above the WHO's first interim target
            reading("SENS-A", temperature=30.0, relativeHumidity=0.30, pm25=80.0)
            s.wait_for(lambda e: e[2].get("kind") == "pm25", "the PM2.5 event")
            heat = [e[2] for e in s.events if e[1] == "environment" and e[2]["kind"] == "heat"]
            self.assertEqual([(h["state"], h["level"]) for h in heat], [("raised", "danger"), ("lowered", "caution")])
            pm = [e[2] for e in s.events if e[2].get("kind") == "pm25"][0]
            self.assertEqual((pm["state"], pm["level"], pm["value"]), ("raised", "above_it1", 80.0))
            self.assertEqual(props("SENS-A")["pm25_level"], "above_it1")
            reading("SENS-A", temperature=22.0, relativeHumidity=0.30)
            s.wait_for(lambda e: e[2].get("kind") == "heat" and e[2]["state"] == "cleared", "heat cleared")
        finally:
            s.close()

    def test_stale_sensor(self):
        reading("SENS-B", temperature=35.0, relativeHumidity=0.2)
        self.assertFalse(props("SENS-B")["stale"])
        self.assertEqual(advance(899)["stale"], 0)
        self.assertFalse(props("SENS-B")["stale"])
        self.assertGreaterEqual(advance(1)["stale"], 1)
        self.assertTrue(props("SENS-B")["stale"])
        # the KPIs count stale sensors and do not believe their readings: SENS-B's 35 C (and SENS-A's,
        # stale too when the other test ran first) leave the heat index to SENS-C's 33 C at 40 %
        reading("SENS-C", temperature=33.0, relativeHumidity=0.4, pm25=42.0)
        # /kpi answers a result up to 1 s old by the server's clock, and the injected clock stands still:
        # a computation made before SENS-C's reading, at the same instant, would still be "fresh". Two
        # seconds on, the answer is computed after the reading.
        advance(2)
        env = SERVER.json("/kpi")["overall"]["environment"]
        self.assertIn("SENS-B", self.stale_ids())
        self.assertEqual(env["sensors_stale"], len(self.stale_ids()))
        self.assertAlmostEqual(env["heat_index_max"], 33.8, delta=0.1)
        self.assertEqual(env["pm25_max"], 42.0)
        reading("SENS-B", temperature=35.0, relativeHumidity=0.2)
        self.assertFalse(props("SENS-B")["stale"])

    def test_z_history_kept_and_served(self):
        global SERVER
        t0 = advance(0)["now_ms"]
        for i in range(6):          # SENS-H: a reading every 5 minutes, 30 to 35 C
            rec = {"id": "SENS-H", "lon": SPOT[0], "lat": SPOT[1], "time": t0 + i * 300000,
                   "temperature": 30.0 + i, "relativeHumidity": 0.25}
            mshtest.post_ok(SERVER, "sensors", [rec], TOK["feed"])
            advance(300)
        q = "/ogc/collections/sensor_readings/items?limit=100&filter=id%3D'SENS-H'"
        mshtest.wait_for(lambda: json.loads(SERVER.get(q).body)["numberMatched"] == 6, 10,
                         "the six readings committed to the store")
        doc = json.loads(SERVER.get(q).body)
        temps = [f["properties"]["temperature"] for f in doc["features"]]
        self.assertEqual(temps, [30.0, 31.0, 32.0, 33.0, 34.0, 35.0])     # in the order they came
        p = doc["features"][5]["properties"]
        self.assertAlmostEqual(p["heat_index"], 33.7, delta=0.1)         # 35 C at 25 %: 92.7 F
        # a datetime interval: the readings of minutes 5 to 15 (the second to the fourth)
        lo = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((t0 + 300000) // 1000))
        hi = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((t0 + 900000) // 1000))
        doc = json.loads(SERVER.get(q + "&datetime=%s/%s" % (lo, hi)).body)
        self.assertEqual([f["properties"]["temperature"] for f in doc["features"]], [31.0, 32.0, 33.0])
        ids = [f["id"] for f in doc["features"]]
        # the store holds them, and after kill -9 the same readings come back under the same ids
        with mshtest.Store(DB) as st:
            rows = st.sql("SELECT count(*), min(temperature), max(temperature) FROM msh_sensor_readings"
                          " WHERE id = 'SENS-H'")
        self.assertEqual(rows, [(6, 30.0, 35.0)])
        SERVER.proc.kill()
        SERVER.proc.wait()
        SERVER.stop()
        SERVER = mshtest.Server(DB, "--test-clock", "--sensor-stale", "900", name="serve2").start()
        test_events.SERVER = SERVER
        doc = json.loads(SERVER.get(q + "&datetime=%s/%s" % (lo, hi)).body)
        self.assertEqual([f["id"] for f in doc["features"]], ids)
        # paging by cursor walks them in order
        page = json.loads(SERVER.get(q.replace("limit=100", "limit=4")).body)
        nxt = [l["href"] for l in page["links"] if l["rel"] == "next"][0]
        rest = json.loads(mshtest.fetch(nxt).body)
        self.assertEqual([f["properties"]["temperature"] for f in page["features"] + rest["features"]],
                         [30.0, 31.0, 32.0, 33.0, 34.0, 35.0])

    def stale_ids(self):
        doc = json.loads(SERVER.get(ITEMS).body)
        return {f["properties"]["id"] for f in doc["features"] if f["properties"]["stale"]}

    def test_bad_readings_refused(self):
        for bad in ({"relativeHumidity": 1.5}, {"temperature": 95}, {"pm25": -1}, {"LAeq": "loud"}):
            rec = {"id": "SENS-X", "lon": SPOT[0], "lat": SPOT[1], "time": advance(0)["now_ms"]}
            rec.update(bad)
            r = mshtest.post_feed(SERVER, "sensors", [rec], TOK["feed"])
            doc = json.loads(r.body)
            self.assertEqual(doc["accepted"], 0, (bad, doc))
        self.assertEqual(SERVER.get("%s/SENS-X" % ITEMS).status, 404)


def setUpModule():
    global DB, SERVER
    DB = mshtest.work_path("environment.sqlite")
    mshtest.import_walkways(DB, [((39.888, 21.415), (39.891, 21.415))])
    for role, name in (("admin", "admin-env"), ("feed", "sensor-env")):
        TOK[role] = mshtest.add_token(DB, role, name)
    SERVER = mshtest.Server(DB, "--test-clock", "--sensor-stale", "900").start()
    test_events.SERVER = SERVER


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
