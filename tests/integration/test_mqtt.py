"""The live feeds over MQTT: `mashaer serve --mqtt HOST:PORT` against a real Mosquitto broker.

Batches published with mosquitto_pub to mashaer/feeds/{feed} (NDJSON, a GeoJSON
FeatureCollection, FIWARE NGSI notifications of bins) are read back through HTTP (GET /entities/{id} with an ops token, the movement
and incidents tiles decoded by GDAL, /metrics); the per-batch result is read with mosquitto_sub
from mashaer/feeds/{feed}/result. Also: unknown feed topics, oversize payloads, a broker that
restarts, a broker that is down when Mashaer starts, user and password (from a file), a
persistent session that keeps QoS 1 batches while Mashaer is down, retained messages, and the
start-up errors of the options.

Skipped (as a whole, with a message) only when the `mosquitto` broker is not installed.
"""

import itertools
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from mshtest import now_ms  # noqa: E402


def find_mosquitto():
    found = shutil.which("mosquitto")
    if found:
        return found
    for d in ("/usr/sbin", "/usr/local/sbin"):  # not on every user's PATH
        p = os.path.join(d, "mosquitto")
        if os.access(p, os.X_OK):
            return p
    return None


MOSQUITTO = find_mosquitto()
BASE_LEVEL = 22          # the finest density grid of the movement layer
CONNECTED_RE = r"mashaer: mqtt connected to %s"

DB = None
OPS = None               # an ops token, for GET /entities/{id}
BROKER = None
SERVER = None


def setUpModule():
    global DB, OPS, BROKER, SERVER
    if not MOSQUITTO:
        raise unittest.SkipTest("the mosquitto broker is not installed (scripts/setup.sh installs mosquitto and "
                                "mosquitto-clients): MQTT tests skipped")
    for tool in ("mosquitto_pub", "mosquitto_sub"):
        if not shutil.which(tool):
            raise AssertionError("%s not found: install mosquitto-clients (scripts/setup.sh)" % tool)
    DB = mshtest.work_path("mqtt.sqlite")
    mshtest.import_layer(DB, mshtest.demo_path("sites.geojson"), "sites")
    p = mshtest.run_mashaer("token", "add", "--db", DB, "--role", "ops", "--name", "it-mqtt-ops", check=0)
    OPS = p.stdout.splitlines()[0].strip()
    BROKER = Broker("main").start()
    try:
        SERVER = mshtest.Server(DB, "--threads", "2", "--mqtt", BROKER.addr, "--max-body-mb", "1",
                                name="main").start()
        wait_connected(SERVER, BROKER, 1)
    except BaseException:
        BROKER.stop()
        if SERVER:
            SERVER.stop()
        raise


def tearDownModule():
    rc = None
    try:
        if SERVER:
            rc = SERVER.stop()
    finally:
        if BROKER:
            BROKER.stop()
    if rc != 0:
        raise AssertionError("mashaer serve exited %s after SIGTERM; stderr:\n%s" % (rc, SERVER.stderr()))
    # the shutdown says what the MQTT client saw
    if not re.search(r"mashaer: mqtt stopped: \d+ messages, \d+ batches ingested", SERVER.stderr()):
        raise AssertionError("no 'mqtt stopped' line at shutdown; stderr:\n%s" % SERVER.stderr())

# ---------------------------------------------------------------------------
# the broker and its command-line clients


def free_port():
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Broker:
    """`mosquitto -c CONF` on 127.0.0.1:PORT; with users={name: password} it refuses anonymous clients."""

    def __init__(self, name, port=None, users=None):
        self.name = name
        self.port = port or free_port()
        self.addr = "127.0.0.1:%d" % self.port
        self.users = users
        self.proc = None
        self.log_path = mshtest.work_path("broker-%s.log" % name)
        self.conf = mshtest.work_path("broker-%s.conf" % name)
        lines = ["listener %d 127.0.0.1" % self.port]
        # the default log, and subscriptions: Subscriber waits for its own line
        lines += ["log_type %s" % t for t in ("error", "warning", "notice", "information", "subscribe")]
        if users:
            pw = mshtest.work_path("broker-%s.passwd" % name)
            if os.path.exists(pw):
                os.unlink(pw)
            for i, (user, password) in enumerate(users.items()):
                subprocess.run(["mosquitto_passwd", "-b"] + (["-c"] if i == 0 else []) + [pw, user, password],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
            lines += ["allow_anonymous false", "password_file %s" % pw]
        else:
            lines.append("allow_anonymous true")
        if os.geteuid() == 0:
            lines.append("user root")  # as root it would switch to 'mosquitto', who may not read the work dir
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, timeout=15):
        self._log = open(self.log_path, "ab")
        self.proc = mshtest.spawn([MOSQUITTO, "-c", self.conf], stdout=self._log, stderr=subprocess.STDOUT)

        def listening():
            if self.proc.poll() is not None:
                raise AssertionError("mosquitto exited (%s) at start; log:\n%s" % (self.proc.returncode, self.log()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        try:
            mshtest.wait_for(listening, timeout, "mosquitto listening on %s" % self.addr, interval=0.05)
        except AssertionError as e:
            raise AssertionError("%s; log:\n%s" % (e, self.log())) from None
        return self

    def stop(self):
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        self.proc = None

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def auth_args(self, user):
        return ["-u", user, "-P", self.users[user]] if user else []

    def publish(self, topic, payload, qos=1, retain=False, user=None):
        """mosquitto_pub with the payload on stdin (-s); returns when the broker has it (QoS 1)."""
        payload = mshtest.feed_body(payload)
        cmd = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), "-t", topic, "-q", str(qos), "-s"]
        cmd += (["-r"] if retain else []) + self.auth_args(user)
        p = subprocess.run(cmd, input=payload, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        if p.returncode != 0:
            raise AssertionError("mosquitto_pub -t %s exited %d: %s" % (topic, p.returncode, p.stderr.decode()))

    def subscribe(self, topic, count=1, user=None):
        return Subscriber(self, topic, count, user)


class Subscriber:
    """mosquitto_sub -C COUNT, subscribed before the constructor returns.

    mosquitto_sub says nothing when it has subscribed (and its stdout is block-buffered on a
    pipe), so the broker tells: with `log_type subscribe` it logs "CLIENT-ID QOS TOPIC" while it
    handles the SUBSCRIBE, and it handles one packet at a time, so a publish after that line
    is seen by the subscription."""

    _ids = itertools.count(1)

    def __init__(self, broker, topic, count, user, timeout=20):
        self.topic = topic
        cid = "it-sub-%d-%d" % (os.getpid(), next(self._ids))
        self.proc = mshtest.spawn(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-i", cid,
                                   "-t", topic, "-C", str(count), "-W", "30"] + broker.auth_args(user),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = re.compile(r"(?m)^\d+: %s \d %s$" % (re.escape(cid), re.escape(topic)))
        try:
            mshtest.wait_for(lambda: line.search(broker.log()) or self.proc.poll() is not None, timeout,
                             "mosquitto_sub to subscribe to %s" % topic)
        except AssertionError:
            self.proc.kill()
            self.proc.communicate()
            raise
        if not line.search(broker.log()):
            out, err = self.proc.communicate()
            raise AssertionError("mosquitto_sub exited (%s): %r %r" % (self.proc.returncode, out, err))

    def messages(self, timeout=20):
        """The payloads received (one JSON document each), once mosquitto_sub has its COUNT."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError("no message on %s within %d s; mosquitto_sub printed %r %r"
                                 % (self.topic, timeout, out, err))
        if self.proc.returncode != 0:
            raise AssertionError("mosquitto_sub on %s exited %d: %r %r"
                                 % (self.topic, self.proc.returncode, out, err))
        # each payload is one line of JSON ending in a newline, and mosquitto_sub adds one
        return [json.loads(l) for l in out.decode("utf-8").splitlines() if l.strip()]

    def result(self, timeout=20):
        msgs = self.messages(timeout)
        assert len(msgs) == 1, msgs
        return msgs[0]

# ---------------------------------------------------------------------------
# helpers


def count_lines(server, pattern):
    return len(re.findall(pattern, server.stderr()))


def wait_connected(server, broker, n, timeout=20):
    """Until the server has logged its n-th 'mqtt connected' line (it is written once subscribed)."""
    pat = CONNECTED_RE % re.escape(broker.addr)
    try:
        mshtest.wait_for(lambda: count_lines(server, pat) >= n, timeout, "connection %d to %s" % (n, broker.addr))
    except AssertionError as e:
        raise AssertionError("%s; mashaer stderr:\n%s" % (e, server.stderr()))


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def to_world(lon, lat):
    return (lon + 180.0) / 360.0, (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0


def cell_of(lon, lat, level=BASE_LEVEL):
    wx, wy = to_world(lon, lat)
    return int(math.floor(wx * (1 << level))), int(math.floor(wy * (1 << level)))


def spot(k):
    """Centre of a base cell of the density grid near Makkah, about 2 km apart for each k."""
    wx, wy = to_world(39.70 + 0.02 * k, 21.40)
    n = 1 << BASE_LEVEL
    cx, cy = (math.floor(wx * n) + 0.5) / n, (math.floor(wy * n) + 0.5) / n
    return cx * 360.0 - 180.0, math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * cy))))


def near(lon, lat, i):
    """A point within a metre of (lon, lat): i-th of a small fixed pattern (same density cell)."""
    d = 0.000004 * ((i % 5) - 2)
    return lon + d, lat - d / 2


def entity(server, eid):
    r = server.get("/entities/" + eid, headers={"Authorization": "Bearer " + OPS})
    return r, (r.json() if r.status == 200 else None)


def movement_count(server, lon, lat, z=16):
    """The movement layer's count for the density cell holding (lon, lat), from the z tile (0: no cell)."""
    x, y = mshtest.lonlat_to_tile(lon, lat, z)
    _, dec = mshtest.fetch_tile(server, "movement", z, x, y)
    level = min(z + 6, BASE_LEVEL)
    want = cell_of(lon, lat, level)
    total = 0
    for f in dec.get("movement", []):
        c = f.geom.Centroid()
        wx = (c.GetX() + mshtest.MERC) / (2 * mshtest.MERC)
        wy = (mshtest.MERC - c.GetY()) / (2 * mshtest.MERC)
        if (int(math.floor(wx * (1 << level))), int(math.floor(wy * (1 << level)))) == want:
            total += f.attrs["count"]
    return total


def metric(server, name, **labels):
    return mshtest.metric(mshtest.parse_metrics(server.get("/metrics").body.decode()), name, **labels)


def people(prefix, lon, lat, n, t):
    return [{"id": "%s-%d" % (prefix, i), "lon": near(lon, lat, i)[0], "lat": near(lon, lat, i)[1], "time": t}
            for i in range(n)]

# ---------------------------------------------------------------------------


class Ingest(unittest.TestCase):
    def assert_people_in(self, server, recs):
        for rec in recs:
            with self.subTest(entity=rec["id"]):
                r, e = entity(server, rec["id"])
                self.assertEqual(r.status, 200, r.body)
                glon, glat = e["geometry"]["coordinates"]
                self.assertAlmostEqual(glon, rec["lon"], delta=2e-7)
                self.assertAlmostEqual(glat, rec["lat"], delta=2e-7)
                self.assertEqual(e["properties"]["time"], rec["time"] if isinstance(rec["time"], str)
                                 else iso(rec["time"]))
                self.assertIs(e["properties"]["active"], True)

    def test_ndjson_batch_with_bad_lines(self):
        lon, lat = spot(1)
        t = now_ms() - 5000
        good = people("MQ-A", lon, lat, 6, t)
        good[0]["group"] = "G-MQTT"
        good[1]["time"] = iso(t)
        lines = [
            json.dumps(good[0]),                                                         # 1
            json.dumps({"lon": lon, "lat": lat, "time": t}),                             # 2 no id
            json.dumps(good[1]),                                                         # 3
            '{"id": "MQ-A-BADJSON", "lon": 39.8, ',                                     # 4 not JSON
            json.dumps(good[2]),                                                         # 5
            json.dumps({"id": "MQ-A-BADLON", "lon": 200.0, "lat": lat, "time": t}),      # 6
            json.dumps(good[3]), json.dumps(good[4]), json.dumps(good[5]),               # 7, 8, 9
            json.dumps({"id": "MQ-A-FUTURE", "lon": lon, "lat": lat, "time": now_ms() + 600000}),  # 10
        ]
        expect = {2: r"'id'", 4: r"JSON", 6: r"outside", 10: r"future"}
        acc0 = metric(SERVER, "mashaer_feed_records_total", feed="positions", outcome="accepted")
        rej0 = metric(SERVER, "mashaer_feed_records_total", feed="positions", outcome="rejected")
        sub = BROKER.subscribe("mashaer/feeds/positions/result")
        BROKER.publish("mashaer/feeds/positions", "\n".join(lines) + "\n")
        doc = sub.result()
        self.assertEqual(doc["accepted"], 6, doc)
        self.assertEqual(set(doc), {"accepted", "rejected"}, doc)
        self.assertEqual([x["line"] for x in doc["rejected"]], sorted(expect), doc)
        for x in doc["rejected"]:
            self.assertRegex(x["reason"], expect[x["line"]], x)
        # the records are in the live state: GET /entities/{id}, the movement tile, the metrics
        self.assert_people_in(SERVER, good)
        self.assertEqual(entity(SERVER, "MQ-A-0")[1]["properties"]["group"], "G-MQTT")
        for bad in ("MQ-A-BADJSON", "MQ-A-BADLON", "MQ-A-FUTURE"):
            self.assertEqual(entity(SERVER, bad)[0].status, 404, bad)
        self.assertEqual(movement_count(SERVER, lon, lat), 6)
        self.assertEqual(metric(SERVER, "mashaer_feed_records_total", feed="positions", outcome="accepted") - acc0, 6)
        self.assertEqual(metric(SERVER, "mashaer_feed_records_total", feed="positions", outcome="rejected") - rej0, 4)

    def test_feature_collection_incidents(self):
        lon, lat = spot(2)
        t = now_ms() - 60000

        def feature(props, coords=(lon, lat)):
            return {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(coords)},
                    "properties": props}
        fc = {"type": "FeatureCollection", "features": [
            feature({"id": "INC-MQ-1", "kind": "medical", "severity": "high", "status": "reported",
                     "description": "heat exhaustion", "time": iso(t)}),
            feature({"id": "INC-MQ-2", "kind": "medical", "severity": "apocalyptic", "time": iso(t)}),
            feature({"id": "INC-MQ-3", "category": "fire", "severity": "low", "dateObserved": iso(t)},
                    (lon + 0.0003, lat)),
        ]}
        sub = BROKER.subscribe("mashaer/feeds/incidents/result")
        BROKER.publish("mashaer/feeds/incidents", "  \n" + json.dumps(fc, indent=1))
        doc = sub.result()
        self.assertEqual(doc["accepted"], 2, doc)
        self.assertEqual([x["line"] for x in doc["rejected"]], [2], doc)
        self.assertRegex(doc["rejected"][0]["reason"], "severity")
        x, y = mshtest.lonlat_to_tile(lon, lat, 16)
        _, dec = mshtest.fetch_tile(SERVER, "incidents", 16, x, y)
        got = {f.attrs["id"]: f.attrs for f in dec.get("incidents", [])}
        self.assertEqual(set(got), {"INC-MQ-1", "INC-MQ-3"})
        a = got["INC-MQ-1"]
        self.assertEqual((a["kind"], a["severity"], a["status"], a["description"]),
                         ("medical", "high", "reported", "heat exhaustion"))
        self.assertEqual(a["reported_at"], iso(t))
        self.assertEqual((got["INC-MQ-3"]["kind"], got["INC-MQ-3"]["severity"]), ("fire", "low"))

    def test_unknown_feed_topic_is_ignored(self):
        before = SERVER.stderr().count("ignoring messages on 'mashaer/feeds/parking'")
        self.assertEqual(before, 0)
        for _ in range(3):
            BROKER.publish("mashaer/feeds/parking", '{"id":"X","lon":39.8,"lat":21.4,"time":1}\n')
        # the same broker connection carries on: a real batch after them is ingested
        lon, lat = spot(3)
        recs = people("MQ-U", lon, lat, 2, now_ms() - 1000)
        sub = BROKER.subscribe("mashaer/feeds/crews/result")
        BROKER.publish("mashaer/feeds/crews", recs)
        self.assertEqual(sub.result(), {"accepted": 2, "rejected": []})
        # logged once for the topic, however many messages came
        self.assertEqual(SERVER.stderr().count("ignoring messages on 'mashaer/feeds/parking'"), 1, SERVER.stderr())
        self.assertEqual(entity(SERVER, "X")[0].status, 404)
        self.assertTrue(SERVER.alive())
        self.assertEqual(SERVER.get("/health").status, 200)

    def test_oversize_payload_dropped(self):
        # the server runs with --max-body-mb 1, as POST /feeds would answer 413
        lon, lat = spot(4)
        rec = json.dumps({"id": "MQ-BIG", "lon": lon, "lat": lat, "time": now_ms() - 1000}) + "\n"
        body = rec * ((1 << 20) // len(rec) + 1)
        self.assertGreater(len(body), 1 << 20)
        sub = BROKER.subscribe("mashaer/feeds/positions/result")
        BROKER.publish("mashaer/feeds/positions", body)
        doc = sub.result()
        self.assertEqual(doc["status"], 413, doc)
        self.assertRegex(doc["error"], r"larger than 1048576 bytes")
        self.assertEqual(entity(SERVER, "MQ-BIG")[0].status, 404)
        self.assertIn("dropped a batch on mashaer/feeds/positions", SERVER.stderr())
        # a batch just under the cap goes through
        sub = BROKER.subscribe("mashaer/feeds/positions/result")
        BROKER.publish("mashaer/feeds/positions", rec)
        self.assertEqual(sub.result(), {"accepted": 1, "rejected": []})

    def test_unreadable_feature_collection_answers_400(self):
        sub = BROKER.subscribe("mashaer/feeds/incidents/result")
        BROKER.publish("mashaer/feeds/incidents", '{"type": "FeatureCollection", "features": 7}')
        doc = sub.result()
        self.assertEqual(doc["status"], 400, doc)
        self.assertTrue(SERVER.alive())

    def test_bins_ngsi_notifications(self):
        """FIWARE bins over MQTT: a broker's NGSI-LD and NGSI v2 notifications, pretty-printed over many
        lines (no Content-Type in MQTT: the shape says), through the parser and checks of POST
        /feeds/bins; a truncated one applies nothing, answers 400 and is logged."""
        lon, lat = spot(6)
        t = iso(now_ms() - 3000)

        def where(dx):
            return {"type": "Point", "coordinates": [lon + dx, lat]}
        ld = {"id": "urn:ngsi-ld:Notification:7", "type": "Notification", "notifiedAt": t,
              "subscriptionId": "urn:ngsi-ld:Subscription:bins",
              "data": [{"id": "urn:ngsi-ld:WasteContainer:MQ-B1", "type": "WasteContainer",
                        "fillingLevel": {"type": "Property", "value": 0.83, "observedAt": t},
                        "temperature": {"type": "Property", "value": 41.5},
                        "location": {"type": "GeoProperty", "value": where(0)}},
                       {"id": "urn:ngsi-ld:WasteContainer:MQ-B2", "type": "WasteContainer",
                        "fillingLevel": {"type": "Property", "value": 1.4, "observedAt": t},
                        "location": {"type": "GeoProperty", "value": where(0.001)}}]}
        v2 = {"subscriptionId": "5f2a0c1e9d", "data": [
              {"id": "MQ-B3", "type": "WasteContainer", "fillingLevel": {"type": "Number", "value": 0.25},
               "dateObserved": {"type": "DateTime", "value": t},
               "location": {"type": "geo:json", "value": where(0.002)}}]}
        for body, want in ((ld, {"accepted": 1, "rejected": [{"line": 2, "reason":
                                                                "'fillingLevel' = 1.4 is outside 0..1"}]}),
                           (v2, {"accepted": 1, "rejected": []})):
            sub = BROKER.subscribe("mashaer/feeds/bins/result")
            BROKER.publish("mashaer/feeds/bins", json.dumps(body, indent=2))
            self.assertEqual(sub.result(), want)
        # a notification cut short: its first entity is whole, but nothing of the message is applied
        cut = json.dumps({"subscriptionId": "s", "data": [dict(v2["data"][0], id="MQ-B4"), ld["data"][0]]}, indent=2)
        sub = BROKER.subscribe("mashaer/feeds/bins/result")
        BROKER.publish("mashaer/feeds/bins", cut[:len(cut) - 40])
        doc = sub.result()
        self.assertEqual(doc["status"], 400, doc)
        self.assertIn("unreadable batch on mashaer/feeds/bins, nothing of it applied", SERVER.stderr())
        got = {f["properties"]["id"]: f["properties"] for f in
               SERVER.json("/ogc/collections/bins/items?limit=100")["features"]}
        b1, b3 = got["urn:ngsi-ld:WasteContainer:MQ-B1"], got["MQ-B3"]
        self.assertEqual((b1["fill_level"], b1["temperature"], b1["overflowing"]), (0.83, 41.5, True))
        self.assertEqual(b1["updated_at"][:19], t[:19])
        self.assertEqual((b3["fill_level"], b3["overflowing"], b3["updated_at"][:19]), (0.25, False, t[:19]))
        self.assertFalse({"urn:ngsi-ld:WasteContainer:MQ-B2", "MQ-B4"} & set(got))

    def test_zz_broker_restart(self):
        """Runs last (by name): the broker goes away and comes back on the same port."""
        pat = CONNECTED_RE % re.escape(BROKER.addr)
        n = count_lines(SERVER, pat)
        BROKER.stop()
        mshtest.wait_for(lambda: "mashaer: mqtt disconnected from %s" % BROKER.addr in SERVER.stderr(), 20,
                         "the disconnect line")
        # HTTP carries on without the broker
        self.assertEqual(SERVER.get("/health").status, 200)
        BROKER.start()
        wait_connected(SERVER, BROKER, n + 1)
        lon, lat = spot(5)
        recs = people("MQ-R", lon, lat, 5, now_ms() - 2000)
        sub = BROKER.subscribe("mashaer/feeds/positions/result")
        BROKER.publish("mashaer/feeds/positions", recs + [{"id": "MQ-R-BAD", "lon": lon}])
        doc = sub.result()
        self.assertEqual(doc["accepted"], 5, doc)
        self.assertEqual([x["line"] for x in doc["rejected"]], [6], doc)
        self.assert_people_in(SERVER, recs)
        self.assertEqual(movement_count(SERVER, lon, lat), 5)


class Changes(unittest.TestCase):
    def test_edit_is_published_on_mashaer_changes(self):
        """A Part 4 edit's `change` event goes out on mashaer/changes/{collection} too, the SSE event's JSON."""
        admin = mshtest.run_mashaer("token", "add", "--db", DB, "--role", "admin", "--name", "it-mqtt-admin",
                                    check=0).stdout.splitlines()[0].strip()
        item = SERVER.get("/ogc/collections/sites/items/1")
        self.assertEqual(item.status, 200, item.body)
        sub = BROKER.subscribe("mashaer/changes/sites")
        other = BROKER.subscribe("mashaer/changes/#", count=1)
        r = mshtest.fetch(SERVER.url("/ogc/collections/sites/items/1"), method="PATCH",
                          data=json.dumps({"properties": {"name": "renamed over mqtt"}}).encode(),
                          headers={"Authorization": "Bearer " + admin, "If-Match": item.header("ETag"),
                                   "Content-Type": "application/merge-patch+json"})
        self.assertEqual(r.status, 200, r.body)
        doc = sub.result()
        self.assertEqual(other.result(), doc)
        with mshtest.Store(DB) as s:
            version = s.registry()["sites"]["version"]
        self.assertEqual((doc["collection"], doc["id"], doc["op"], doc["version"]), ("sites", 1, "update", version))
        lon_lat = json.loads(r.body)["geometry"]["coordinates"]
        while isinstance(lon_lat[0], list):
            lon_lat = lon_lat[0]
        self.assertLessEqual(doc["bbox"][0], lon_lat[0])
        self.assertGreaterEqual(doc["bbox"][2], lon_lat[0])

    def test_live_writes_are_published_on_mashaer_changes(self):
        """An operator's write on a live collection sends its `change` event on mashaer/changes/incidents."""
        sub = BROKER.subscribe("mashaer/changes/incidents", count=2)
        auth = {"Authorization": "Bearer " + OPS}
        r = mshtest.fetch(SERVER.url("/ogc/collections/incidents/items"), method="POST",
                          data=json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [39.89, 21.41]},
                                           "properties": {"kind": "fire", "severity": "low"}}).encode(),
                          headers=dict(auth, **{"Content-Type": "application/geo+json"}))
        self.assertEqual(r.status, 201, r.body)
        iid = json.loads(r.body)["properties"]["id"]
        r = mshtest.fetch(SERVER.url("/ogc/collections/incidents/items/" + iid), method="PATCH",
                          data=json.dumps({"status": "cancelled", "reason": "false alarm"}).encode(),
                          headers=dict(auth, **{"If-Match": r.header("ETag"),
                                                "Content-Type": "application/merge-patch+json"}))
        self.assertEqual(r.status, 200, r.body)
        docs = sub.messages()
        self.assertEqual([(d["collection"], d["id"], d["op"]) for d in docs],
                         [("incidents", iid, "create"), ("incidents", iid, "update")])
        self.assertEqual(docs[0]["bbox"], [39.89, 21.41, 39.89, 21.41])
        self.assertEqual(docs[1]["version"], docs[0]["version"] + 1)


class BrokerDownAtStart(unittest.TestCase):
    def test_serves_http_then_connects(self):
        broker = Broker("late")  # a port nobody listens on yet
        srv = mshtest.Server(DB, "--mqtt", broker.addr, "--live-dir", mshtest.work_path("late.live"),
                             name="late").start()
        try:
            self.assertEqual(srv.get("/health").status, 200)
            mshtest.wait_for(lambda: "mashaer: mqtt cannot reach %s" % broker.addr in srv.stderr(), 10,
                             "the 'cannot reach' line")
            # it keeps trying in the background: a plain socket listening on the broker's port takes
            # its next attempt (an MQTT CONNECT packet) and closes it; then the port is closed again
            with socket.create_server(("127.0.0.1", broker.port)) as fake:
                fake.settimeout(30)
                conn, _ = fake.accept()
                with conn:
                    conn.settimeout(10)
                    packet_type = conn.recv(1)
            self.assertEqual(packet_type, b"\x10", "the retry is not an MQTT CONNECT")
            self.assertEqual(count_lines(srv, CONNECTED_RE % re.escape(broker.addr)), 0)
            self.assertEqual(srv.get("/catalog").status, 200)
            broker.start()
            wait_connected(srv, broker, 1)
            lon, lat = spot(6)
            recs = people("MQ-L", lon, lat, 1, now_ms() - 1000)
            sub = broker.subscribe("mashaer/feeds/positions/result")
            broker.publish("mashaer/feeds/positions", recs)
            self.assertEqual(sub.result(), {"accepted": 1, "rejected": []})
            self.assertEqual(entity(srv, "MQ-L-0")[0].status, 200)
        finally:
            rc = srv.stop()
            broker.stop()
        self.assertEqual(rc, 0, srv.stderr())


class AuthAndSessions(unittest.TestCase):
    def setUp(self):
        self.broker = Broker("auth", users={"mashaer": "s3cret pass", "device": "dev-pass"}).start()
        self.addCleanup(self.broker.stop)
        self.pwfile = mshtest.work_path("mqtt-password")
        with open(self.pwfile, "w") as f:
            f.write("s3cret pass\n")
        os.chmod(self.pwfile, 0o600)
        self.db = mshtest.work_path("auth.sqlite")
        if not mshtest.store_exists(self.db):
            mshtest.copy_store(DB, self.db)

    def server(self, name, *extra):
        srv = mshtest.Server(self.db, "--mqtt", self.broker.addr, "--mqtt-user", "mashaer", *extra, name=name)
        return srv.start()

    def test_password_from_file_and_persistent_session(self):
        lon, lat = spot(7)
        # a retained batch is old news replayed by the broker at every subscription: dropped
        self.broker.publish("mashaer/feeds/crews", [{"id": "CREW-RET", "lon": lon, "lat": lat,
                                                     "time": now_ms() - 1000}], retain=True, user="device")
        args = ("--mqtt-password-file", self.pwfile, "--mqtt-client-id", "mashaer-it-session")
        srv = self.server("session1", *args)
        try:
            wait_connected(srv, self.broker, 1)
            mshtest.wait_for(lambda: "ignoring a retained message on mashaer/feeds/crews" in srv.stderr(), 10,
                             "the retained message to be dropped")
            x, y = mshtest.lonlat_to_tile(lon, lat, 16)
            self.assertEqual(mshtest.fetch_tile(srv, "crews", 16, x, y)[1].get("crews", []), [])
            self.assertNotIn("s3cret", srv.stderr())
        finally:
            self.assertEqual(srv.stop(), 0)
        # Mashaer is down: the broker keeps QoS 1 batches for its persistent session
        recs = people("MQ-S", lon, lat, 2, now_ms() - 1000)
        self.broker.publish("mashaer/feeds/positions", recs, qos=1, user="device")
        srv = self.server("session2", *args)
        try:
            wait_connected(srv, self.broker, 1)
            mshtest.wait_for(lambda: entity(srv, "MQ-S-1")[0].status == 200, 10, "the queued batch")
            self.assertEqual(entity(srv, "MQ-S-0")[0].status, 200)
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_wrong_password_is_refused_and_http_serves(self):
        bad = mshtest.work_path("wrong-password")
        with open(bad, "w") as f:
            f.write("not it")
        log_from = len(self.broker.log())   # the log file is shared with earlier tests' brokers
        srv = self.server("wrongpw", "--mqtt-password-file", bad)
        try:
            mshtest.wait_for(lambda: "refused the connection" in srv.stderr(), 10, "the refusal")
            self.assertRegex(srv.stderr(), r"mashaer: mqtt: %s refused the connection: .*authori[sz]ed"
                             % re.escape(self.broker.addr))
            # retries stay quiet: the broker refuses a third attempt, which Mashaer makes only once it
            # has had the answer to the second (the backoff makes this about 3 s)
            mshtest.wait_for(lambda: self.broker.log()[log_from:].count("disconnected, not authorised") >= 3, 30,
                             "the broker to refuse three attempts")
            self.assertEqual(srv.stderr().count("refused the connection"), 1, srv.stderr())
            self.assertEqual(count_lines(srv, CONNECTED_RE % re.escape(self.broker.addr)), 0)
            self.assertEqual(srv.get("/health").status, 200)
        finally:
            self.assertEqual(srv.stop(), 0)


class Options(unittest.TestCase):
    def serve(self, *args):
        return mshtest.run_mashaer("serve", "--db", DB, "--port", "0", *args, timeout=60)

    def test_help_lists_the_options(self):
        out = mshtest.run_mashaer("serve", "--help", check=0).stdout
        for opt in ("--mqtt HOST:PORT", "--mqtt-user", "--mqtt-password-file", "--mqtt-client-id", "--mqtt-qos"):
            self.assertIn(opt, out)

    def test_start_errors(self):
        pw = mshtest.work_path("opt-password")
        with open(pw, "w") as f:
            f.write("x\n")
        empty = mshtest.work_path("opt-empty-password")
        open(empty, "w").close()
        cases = [
            (["--mqtt", "localhost"], 1, r"--mqtt takes HOST:PORT"),
            (["--mqtt", "localhost:0"], 1, r"--mqtt takes HOST:PORT"),
            (["--mqtt", ":1883"], 1, r"--mqtt takes HOST:PORT"),
            (["--mqtt", "localhost:99999"], 1, r"--mqtt takes HOST:PORT"),
            (["--mqtt", "127.0.0.1:1883", "--no-live"], 1, r"--no-live"),
            (["--mqtt", "127.0.0.1:1883", "--mqtt-password-file", pw], 1, r"needs --mqtt-user"),
            (["--mqtt", "127.0.0.1:1883", "--mqtt-user", "u", "--mqtt-password-file", pw + ".missing"], 1,
             r"cannot read the MQTT password file"),
            (["--mqtt", "127.0.0.1:1883", "--mqtt-user", "u", "--mqtt-password-file", empty], 1,
             r"holds no password"),
            (["--mqtt", "127.0.0.1:1883", "--mqtt-qos", "2"], 2, r"--mqtt-qos takes a whole number from 0 to 1"),
        ]
        for args, code, msg in cases:
            with self.subTest(args=args):
                p = self.serve("--live-dir", mshtest.work_path("opts.live"), *args)
                self.assertEqual(p.returncode, code, p.stderr)
                self.assertRegex(p.stderr, msg)
                self.assertNotIn("listening", p.stdout)


if __name__ == "__main__":
    mshtest.main()
