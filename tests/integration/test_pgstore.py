"""PostgreSQL + PostGIS as the store (layers/store_pg.h): the same registry, items and tiles as a
SpatiaLite store of the same data; tokens; and a change made by another process (a re-import, a
`layers --drop`, a token, an edit of a table with psql) served by a running server within a
second, through LISTEN/NOTIFY. Live feeds on a PostgreSQL store (`--live-dir` with `--db postgresql://`,
one node, no feed log): a feed post, an incident and its history, an operator's incident numbered
from the database's sequence, a gate's 5-minute count, a sensor reading and KPI history, each read
back from the database's tables and from the server.

The PostgreSQL 15 + PostGIS server is this test's own (mshtest.pg_server: initdb into a fresh
folder, a private port and socket folder, a child of this process that dies with it)."""

import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402

mshtest.spatialite_only("compares a SpatiaLite file with a PostgreSQL database of the same data, each named as such")

PG = None
FILE_DB = None  # the SpatiaLite store of the demo
PG_URL = None   # the PostgreSQL store of the demo
SERVERS = {}


def setUpModule():
    global PG, FILE_DB, PG_URL
    try:
        PG = mshtest.pg_server()
    except AssertionError as e:
        if "not installed" in str(e):
            raise unittest.SkipTest("PostgreSQL is missing: %s" % e)
        raise
    FILE_DB = mshtest.work_path("demo.sqlite")
    PG.psql("postgres", "CREATE DATABASE demo")
    PG_URL = PG.url("demo")
    for db in (FILE_DB, PG_URL):
        mshtest.import_demo(db)
    SERVERS["file"] = mshtest.Server(FILE_DB, "--no-live", name="file").start()
    SERVERS["pg"] = mshtest.Server(PG_URL, name="pg").start()


def tearDownModule():
    mshtest.stop_servers(*SERVERS.values())


def count(server, layer):
    """numberMatched of a collection, or None when the server has no such collection."""
    r = server.get("/ogc/collections/%s/items?limit=1" % layer)
    return r.json()["numberMatched"] if r.status == 200 else None


def served_within(pred, what, limit_s=1.0):
    """Wait for pred() (barrier); fail when it took longer than limit_s from now."""
    t0 = time.monotonic()
    mshtest.wait_for(pred, 10, what, interval=0.01)
    took = time.monotonic() - t0
    mshtest.note("%s: %.3f s" % (what, took))
    assert took < limit_s, "%s took %.3f s, more than %g s" % (what, took, limit_s)


class SameAsSpatiaLite(unittest.TestCase):
    def test_registry_and_layers_listing(self):
        # the demo's layers (the SpatiaLite server adds work_orders; the tests below add layers on PostgreSQL)
        out = {db: [line for line in mshtest.run_mashaer("layers", "--db", db, check=0).stdout.splitlines()
                    if line.split()[0] in mshtest.DEMO_LAYERS + ["layer"]] for db in (FILE_DB, PG_URL)}
        self.assertEqual(len(out[FILE_DB]), len(mshtest.DEMO_LAYERS) + 1)
        self.assertEqual(out[FILE_DB], out[PG_URL])
        self.assertIn("site_walkways            LineString       3290", "\n".join(out[PG_URL]))
        with mshtest.Store(FILE_DB) as st:
            want = st.registry()
        with mshtest.PgStore(PG_URL) as st:
            got = st.registry()
            self.assertEqual(st.count("camps"), want["camps"]["feature_count"])
            self.assertEqual(st.sql("SELECT ST_SRID(geom) FROM camps LIMIT 1")[0][0], 4326)
        for name in mshtest.DEMO_LAYERS:
            w = want[name]
            g = got[name]
            for k in ("kind", "geometry_type", "minzoom", "maxzoom", "fields", "feature_count", "version", "source"):
                self.assertEqual(g[k], w[k], (name, k))
            for k in ("minx", "miny", "maxx", "maxy"):
                self.assertAlmostEqual(g[k], w[k], places=9, msg=(name, k))

    def test_items_and_tiles_are_the_same_bytes(self):
        checked = 0
        for layer in mshtest.DEMO_LAYERS:
            a = SERVERS["file"].get("/ogc/collections/%s/items?limit=50" % layer)
            b = SERVERS["pg"].get("/ogc/collections/%s/items?limit=50" % layer)
            self.assertEqual((a.status, b.status), (200, 200), layer)
            self.assertEqual(a.json()["features"], b.json()["features"], layer)
            self.assertEqual(a.json()["numberMatched"], b.json()["numberMatched"], layer)
            info = json.loads(SERVERS["file"].get("/tiles/%s.json" % layer).body)
            w, s, e, n = info["bounds"]
            for z in (12, 15):
                x, y = mshtest.lonlat_to_tile((w + e) / 2, (s + n) / 2, z)
                (ta, da), (tb, db) = (mshtest.fetch_tile(SERVERS[k], layer, z, x, y) for k in ("file", "pg"))
                self.assertEqual(ta.body, tb.body, (layer, z, x, y))
                checked += ta.status == 200 and len(da.get(layer, [])) > 0
        self.assertGreaterEqual(checked, len(mshtest.DEMO_LAYERS))  # not all empty tiles

    def test_bad_url_is_a_clear_error(self):
        p = mshtest.run_mashaer("layers", "--db", "postgresql://postgres@127.0.0.1:1/none", check=1)
        self.assertIn("cannot open the PostgreSQL store", p.stderr)
        PG.psql("postgres", "CREATE DATABASE empty")
        p = mshtest.run_mashaer("layers", "--db", PG.url("empty"), check=1)
        self.assertIn("not a Mashaer store", p.stderr)


class ChangesServedWithinASecond(unittest.TestCase):
    """Another process changes the store; the running server on PostgreSQL serves it within 1 s."""

    def test_a_reimport_by_another_process(self):
        path = mshtest.work_path("three_sites.geojson")
        with open(path, "w") as f:
            json.dump({"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {"name": "s%d" % i},
                 "geometry": {"type": "Point", "coordinates": [39.9 + i / 100, 21.4]}} for i in range(3)]}, f)
        self.assertNotEqual(count(SERVERS["pg"], "fresh"), 3)
        mshtest.import_layer(PG_URL, path, "fresh")
        served_within(lambda: count(SERVERS["pg"], "fresh") == 3, "a new layer imported by another process")
        mshtest.run_mashaer("layers", "--db", PG_URL, "--drop", "fresh", check=0)
        served_within(lambda: count(SERVERS["pg"], "fresh") is None, "a layer dropped by another process")

    def test_an_edit_of_a_table_with_psql(self):
        mshtest.import_layer(PG_URL, mshtest.demo_path("service_zones.geojson"), "zones_copy")
        served_within(lambda: count(SERVERS["pg"], "zones_copy"), "a new layer imported by another process")
        before = count(SERVERS["pg"], "zones_copy")
        w, s, e, n = json.loads(SERVERS["pg"].get("/tiles/zones_copy.json").body)["bounds"]
        tile = "/tiles/zones_copy/12/%d/%d.mvt" % mshtest.lonlat_to_tile((w + e) / 2, (s + n) / 2, 12)
        etag = SERVERS["pg"].get(tile).header("ETag")
        self.assertTrue(etag)
        PG.psql("demo", "DELETE FROM zones_copy WHERE fid = (SELECT min(fid) FROM zones_copy)")
        served_within(lambda: count(SERVERS["pg"], "zones_copy") == before - 1, "a row deleted with psql")
        with mshtest.PgStore(PG_URL) as st:
            reg = st.registry()["zones_copy"]
            ext = st.sql("SELECT version FROM msh_external WHERE layer = 'zones_copy'")
        self.assertEqual(ext, [(reg["version"],)])  # the trigger bumped the layer's version and noted it
        self.assertNotEqual(SERVERS["pg"].get(tile).header("ETag"), etag)

    def test_tokens_added_and_revoked_by_another_process(self):
        tok = mshtest.add_token(PG_URL, "ops", "amina")
        auth = {"Authorization": "Bearer " + tok}
        served_within(lambda: SERVERS["pg"].get("/auth/whoami", headers=auth).status == 200, "a new token")
        self.assertEqual(json.loads(SERVERS["pg"].get("/auth/whoami", headers=auth).body),
                         {"name": "amina", "role": "ops"})
        listing = mshtest.run_mashaer("token", "list", "--db", PG_URL, check=0).stdout
        self.assertIn("amina", listing)
        self.assertIn(tok[:8], listing)
        self.assertNotIn(tok, listing)
        mshtest.run_mashaer("token", "revoke", "--db", PG_URL, "amina", check=0)
        served_within(lambda: SERVERS["pg"].get("/auth/whoami", headers=auth).status == 401, "a revoked token")


class LiveFeedsOnPostgres(unittest.TestCase):
    """One server with live feeds on its own database of the same PostgreSQL."""

    @classmethod
    def setUpClass(cls):
        PG.psql("postgres", "CREATE DATABASE live")
        cls.url = PG.url("live")
        mshtest.import_layer(cls.url, mshtest.demo_path("sites.geojson"), "sites")
        cls.feed = mshtest.add_token(cls.url, "feed", "pg-live-feed")
        cls.ops = mshtest.add_token(cls.url, "ops", "pg-live-ops")
        cfg = mshtest.work_path("kpi.json")
        with open(cfg, "w") as f:
            json.dump({"interval_s": 1}, f)
        SERVERS["live"] = cls.s = mshtest.Server(cls.url, "--live-dir", mshtest.work_path("pg.live"), "--snapshot-s",
                                                 "1", "--reload-ms", "200", "--forecast-every", "0", "--kpi-config",
                                                 cfg, name="pglive").start()

    def sql(self, q):
        return PG.psql("live", q)

    def test_feeds_incidents_counts_and_kpis_in_the_database(self):
        s, t = self.s, mshtest.now_ms()
        spot = (39.8262, 21.4225)
        people = [{"id": "P-%d" % i, "lon": spot[0], "lat": spot[1], "time": t} for i in range(3)]
        self.assertEqual(mshtest.post_feed(s, "positions", people, self.feed).json(), {"accepted": 3, "rejected": []})
        inc = {"id": "INC-PG-1", "lon": spot[0], "lat": spot[1], "time": t, "kind": "medical", "severity": "high",
               "status": "reported", "description": "on postgres"}
        gate = {"id": "G-PG", "lon": spot[0], "lat": spot[1], "time": t, "in": 11, "out": 4}
        sensor = {"id": "S-PG", "lon": spot[0], "lat": spot[1], "time": t, "temperature": 41.5}
        for feed, rec in (("incidents", inc), ("gates", gate), ("sensors", sensor)):
            self.assertEqual(mshtest.post_feed(s, feed, [rec], self.feed).json()["accepted"], 1, feed)
        mshtest.wait_for(lambda: self.sql("SELECT id, severity, status, description, ST_AsText(geom) FROM msh_incidents")
                         == [["INC-PG-1", "high", "reported", "on postgres", "POINT(39.8262 21.4225)"]], 30,
                         "the incident in msh_incidents")
        r = mshtest.api(s, "/ogc/collections/incidents/items/INC-PG-1/history", "GET", self.ops)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([(v["op"], v["status"], v["feature"]["properties"]["description"])
                          for v in r.json()["versions"]], [("create", "reported", "on postgres")])
        mshtest.wait_for(lambda: self.sql("SELECT id, temperature FROM msh_sensor_readings") == [["S-PG", "41.5"]], 30,
                         "the sensor reading")
        mshtest.wait_for(lambda: self.sql("SELECT gate, in_n, out_n, start_ms % 300000 FROM msh_gate_counts")
                         == [["G-PG", "11", "4", "0"]], 30, "the gate's 5 minutes (written at a snapshot)")
        # an operator's incident: its number from the database's sequence
        body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(spot)},
                "properties": {"kind": "fire", "severity": "low", "description": "by an operator"}}
        r = mshtest.api(s, "/ogc/collections/incidents/items", "POST", self.ops, body)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["properties"]["id"], "INC-OPS-1")
        self.assertEqual(self.sql("SELECT last_value FROM msh_incident_ops_ids"), [["1"]])
        # KPI history: recorded every second, read back through /kpi/history
        mshtest.wait_for(lambda: int(self.sql("SELECT count(DISTINCT t_ms) FROM msh_kpi_history")[0][0]) >= 2, 30,
                         "two KPI records")
        doc = s.json("/kpi/history?from=%s" % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t / 1000 - 60)))
        self.assertTrue(doc["points"], doc)


if __name__ == "__main__":
    mshtest.main()
