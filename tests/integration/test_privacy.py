"""No single pilgrim shows through a public aggregate (issue 17, findings 5 and 8).

A server over the small KPI site of test_kpi.py (zones Z1 and Z2), k = 5, with:
  Z1: one pilgrim alone (LONE);
  Z2: a group of 6 in one 8.9 m cell and one pilgrim alone in another cell (STRAY).
What an anonymous client may learn: Z1 suppressed; Z2 and the overall figure 6 (the stray is a
remainder of 1 next to the group: showing 7 would give it away by subtraction). Checked in /kpi,
/kpi/zones, /kpi/zones/{id}, /kpi/history, the kpi_zones tiles and OGC items, the movement tiles at
every zoom (no difference under k between zooms, peak_density from shown cells only), the density
heatmap's ETags (they follow the picture, not hidden people) and /health.
"""

import json
import math
import os
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from test_kpi import write_site  # noqa: E402

K = 5
LONE = (39.8815, 21.4015)         # in Z1
GROUP = (39.8985, 21.4085)        # in Z2: 6 people
STRAY = (39.8975, 21.4075)        # in Z2, about 140 m from the group
BASE_LEVEL = 22
OLD_T = (int(time.time()) - 120) * 1000
HISTORY_SCHEMA = """CREATE TABLE IF NOT EXISTS msh_kpi_history (t_ms INTEGER NOT NULL, zone_id TEXT NOT NULL,
  peak_density REAL, temperature_max REAL, composite REAL, doc TEXT NOT NULL,
  PRIMARY KEY (zone_id, t_ms)) WITHOUT ROWID;"""
DB = SERVER = None
TOKENS = {}


def setUpModule():
    global DB, SERVER
    DB = mshtest.work_path("privacy.sqlite")
    for name, path in write_site(mshtest.CONFIG.work_dir):
        mshtest.import_layer(DB, path, name)
    for role in ("feed", "ops"):
        TOKENS[role] = mshtest.add_token(DB, role, "privacy-" + role)
    cfg = mshtest.work_path("privacy-kpi.json")
    with open(cfg, "w") as f:
        json.dump({"interval_s": 1}, f)
    # a record from before k-anonymity: a lone pilgrim in Z1, as an older build wrote it
    mshtest.store_exec(DB, HISTORY_SCHEMA)
    mshtest.store_exec(DB, "INSERT INTO msh_kpi_history VALUES (?, 'Z1', 0.0126, NULL, 90, ?)",
                       OLD_T, json.dumps({"crowd": {"peak_los": "A", "people": 1, "peak_density": 0.0126,
                                                 "minutes_los_ef": 0, "share_los_a": 1, "share_los_b": 0,
                                                 "share_los_c": 0, "share_los_d": 0, "share_los_e": 0,
                                                 "share_los_f": 0}}))
    SERVER = mshtest.Server(DB, "--kpi-config", cfg, "--k-anon", str(K), name="privacy").start()
    t = mshtest.now_ms() - 1000
    recs = [{"id": "LONE", "lon": LONE[0], "lat": LONE[1], "time": t},
            {"id": "STRAY", "lon": STRAY[0], "lat": STRAY[1], "time": t}]
    recs += [{"id": "G-%d" % i, "lon": GROUP[0], "lat": GROUP[1], "time": t} for i in range(6)]
    mshtest.post_ok(SERVER, "positions", recs, TOKENS["feed"])


def tearDownModule():
    if SERVER and SERVER.alive():
        SERVER.stop()


def cell_of(lon, lat, level):
    n = 1 << level
    wx = (lon + 180) / 360
    s = math.sin(math.radians(lat))
    wy = 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)
    return int(wx * n), int(wy * n)


def tile_of(lon, lat, z):
    return mshtest.lonlat_to_tile(lon, lat, z)


class Kpi(unittest.TestCase):
    def check_suppressed(self, crowd, what):
        self.assertIs(crowd["suppressed"], True, what)
        for key in ("people", "peak_density", "share_los_a", "peak_los"):
            self.assertIsNone(crowd[key], (what, key))

    def check_z2(self, crowd, what):
        self.assertIs(crowd["suppressed"], False, what)
        self.assertEqual(crowd["people"], 6, what)  # not 7: the stray is a remainder under k
        self.assertEqual(crowd["share_los_a"], 1, what)

    def test_kpi_documents(self):
        doc = SERVER.json("/kpi")
        self.assertEqual(doc["config"]["k_anon"], K)
        self.assertEqual(doc["overall"]["crowd"]["people"], 6, "overall: 8 people, a remainder of 2 left out")
        self.assertIs(doc["overall"]["crowd"]["suppressed"], False)
        zones = {z["zone_id"]: z["kpi"] for z in SERVER.json("/kpi/zones")["zones"]}
        self.check_suppressed(zones["Z1"]["crowd"], "/kpi/zones Z1")
        self.check_z2(zones["Z2"]["crowd"], "/kpi/zones Z2")
        self.check_suppressed(SERVER.json("/kpi/zones/Z1")["zone"]["kpi"]["crowd"], "/kpi/zones/Z1")
        self.check_z2(SERVER.json("/kpi/zones/Z2")["zone"]["kpi"]["crowd"], "/kpi/zones/Z2")
        for path in ("/kpi", "/kpi/zones", "/kpi/zones/Z1", "/kpi/zones/Z2"):
            body = SERVER.get(path).body.decode()
            for n in (1, 2, 7, 8):
                self.assertNotIn('"people":%d,' % n, body, path)

    def test_kpi_zones_layer(self):
        items = SERVER.json("/ogc/collections/kpi_zones/items?limit=100")
        props = {f["properties"]["zone_id"]: f["properties"] for f in items["features"]}
        self.assertIs(props["Z1"]["crowd_suppressed"], True)
        self.assertIsNone(props["Z1"].get("crowd_people"))
        self.assertIsNone(props["Z1"].get("crowd_peak_density"))
        self.assertEqual(props["Z2"]["crowd_people"], 6)
        z = 14
        x, y = tile_of(LONE[0], LONE[1], z)
        _, tile = mshtest.fetch_tile(SERVER, "kpi_zones", z, x, y)
        feats = {f.attrs["zone_id"]: f.attrs for f in tile.get("kpi_zones", [])}
        self.assertIn("Z1", feats)
        self.assertNotIn("crowd_people", feats["Z1"])
        self.assertTrue(feats["Z1"]["crowd_suppressed"])

    def test_z_history(self):
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
        q = urllib.parse.urlencode({"from": since, "step": "1"})

        def recorded():
            d = SERVER.json("/kpi/history?zone=Z1&" + q)
            return d if d["points"] else None
        doc = mshtest.wait_for(recorded, 30, "a KPI record of Z1 in /kpi/history", interval=0.2)
        self.assertIn(OLD_T, [p["t_ms"] for p in doc["points"]], "the record from before k-anonymity")
        self.assertIn("1 recorded zones of fewer than 5 people suppressed", SERVER.stderr())
        for p in doc["points"]:
            self.check_suppressed(p["kpi"]["crowd"], "history Z1")
        for p in SERVER.json("/kpi/history?zone=Z2&" + q)["points"]:
            self.check_z2(p["kpi"]["crowd"], "history Z2")
        for p in SERVER.json("/kpi/history?" + q)["points"]:
            self.assertEqual(p["kpi"]["crowd"]["people"], 6, "history overall")


def movement(z, x, y):
    r, dec = mshtest.fetch_tile(SERVER, "movement", z, x, y)
    return r, [f.attrs for f in dec.get("movement", [])]


class Movement(unittest.TestCase):
    def test_no_count_under_k_at_any_zoom(self):
        """Every zoom from 8 to 20 shows the group as 6: never 7 or 8 (which, next to the 6 of a
        finer zoom, would reveal the stray or the lone pilgrim), and no cell under k."""
        base_side = 2 * math.pi * 6378137 * math.cos(math.radians(GROUP[1])) / (1 << BASE_LEVEL)
        group_density = 6 / base_side ** 2
        for z in range(8, 21):
            with self.subTest(z=z):
                seen = []
                tiles = {tile_of(*p, z) for p in (LONE, GROUP, STRAY)}
                for x, y in tiles:
                    _, cells = movement(z, x, y)
                    seen += cells
                counts = sorted({c["count"] for c in seen})
                self.assertEqual(counts, [6], counts)
                for c in seen:
                    # the fullest shown cell: the group's, never a hidden one's
                    self.assertAlmostEqual(c["peak_density"], max(group_density, c["density"]), delta=0.002)
        # OGC items at the base grid: the group's cell only
        items = SERVER.json("/ogc/collections/movement/items?limit=1000")
        self.assertEqual([f["properties"]["count"] for f in items["features"]], [6])

    def test_zz_etags_follow_what_is_shown(self):
        """Moving the lone pilgrim (still alone) changes no public ETag; a visible change does."""
        z = 15
        x, y = tile_of(LONE[0], LONE[1], z)
        paths = ["/heatmaps/density/%d/%d/%d.png" % (z, x, y), "/tiles/movement/%d/%d/%d.mvt" % (z, x, y)]
        before = {p: SERVER.get(p) for p in paths}
        for p, r in before.items():
            self.assertIn(r.status, (200, 204), p)
        moved = (LONE[0] + 0.0004, LONE[1] + 0.0003)  # about 50 m: other cells, the same tiles
        self.assertEqual(tile_of(*moved, z), (x, y))
        self.assertNotEqual(cell_of(*moved, z + 7), cell_of(*LONE, z + 7))
        mshtest.post_ok(SERVER, "positions", [{"id": "LONE", "lon": moved[0], "lat": moved[1],
                                               "time": mshtest.now_ms()}], TOKENS["feed"])
        for p, r in before.items():
            with self.subTest(path=p, step="hidden move"):
                again = SERVER.get(p)
                self.assertEqual(again.header("etag"), r.header("etag"), p)
                self.assertEqual(again.body, r.body, p)
                self.assertEqual(SERVER.get(p, headers={"If-None-Match": r.header("etag")}).status, 304, p)
        # five more join the lone pilgrim: a cell of 6 appears, both outputs change
        t = mshtest.now_ms()
        mshtest.post_ok(SERVER, "positions", [{"id": "J-%d" % i, "lon": moved[0], "lat": moved[1], "time": t}
                                              for i in range(5)], TOKENS["feed"])
        for p, r in before.items():
            with self.subTest(path=p, step="visible change"):
                again = SERVER.get(p)
                self.assertEqual(again.status, 200, p)
                self.assertNotEqual(again.header("etag"), r.header("etag"), p)


class Health(unittest.TestCase):
    def test_head_counts_for_ops_only(self):
        anon = SERVER.json("/health")
        self.assertEqual(anon["status"], "ok")
        for key in ("people", "active", "updates", "memory_bytes"):
            self.assertNotIn(key, anon["live"], key)
        self.assertIn("incidents", anon["live"])
        ops = SERVER.get("/health", headers={"Authorization": "Bearer " + TOKENS["ops"]}).json()
        self.assertGreaterEqual(ops["live"]["people"], 8)
        self.assertEqual(ops["live"]["active"], ops["live"]["people"])
        self.assertNotIn(b"mashaer_live_people", SERVER.get("/metrics").body)
        m = SERVER.get("/metrics", headers={"Authorization": "Bearer " + TOKENS["ops"]}).body
        self.assertIn(b"mashaer_live_people", m)


class Secrets(unittest.TestCase):
    def test_simulate_token_file(self):
        """mashaer simulate reads its token from --token-file: it posts, and the token is not on its
        command line (what ps shows); scripts/demo.sh starts it that way."""
        db = mshtest.work_path("sim.sqlite")
        mshtest.import_layer(db, mshtest.demo_path("sites.geojson"), "sites")
        secret = mshtest.add_token(db, "feed", "sim")
        tok = mshtest.work_path("sim.token")
        with open(tok, "w") as f:
            f.write(secret + "\n")
        os.chmod(tok, 0o600)
        srv = mshtest.Server(db, name="privacy-sim").start()
        try:
            p = mshtest.spawn([mshtest.CONFIG.mashaer, "simulate", "--url", "http://127.0.0.1:%d" % srv.port,
                               "--token-file", tok, "--pilgrims", "200", "--ticks", "2", "--fast", "--quiet"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            with open("/proc/%d/cmdline" % p.pid, "rb") as f:
                cmdline = f.read()
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
            self.assertIn(b"--token-file", cmdline)
            self.assertNotIn(secret.encode(), cmdline)
            m = mshtest.parse_metrics(srv.get("/metrics").body.decode())
            accepted = sum(v for (name, labels), v in m.items()
                           if name == "mashaer_feed_records_total" and dict(labels).get("outcome") == "accepted")
            self.assertGreater(accepted, 0, "the simulator's posts were accepted")
        finally:
            srv.stop()
        # a missing or empty file is a usage error naming the file
        empty = mshtest.work_path("empty.token")
        open(empty, "w").close()
        for path in (empty, mshtest.work_path("no-such.token")):
            r = mshtest.run_mashaer("simulate", "--url", "http://127.0.0.1:1", "--token-file", path, check=None)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(os.path.basename(path), r.stderr)
        with open(os.path.join(mshtest.CONFIG.source_dir, "scripts", "demo.sh")) as f:
            demo = f.read()
        sim = [line for line in demo.splitlines() if "build/mashaer simulate" in line]
        self.assertTrue(sim)
        for line in sim:
            self.assertIn("--token-file", line)
            self.assertNotRegex(line, r"--token\s")


if __name__ == "__main__":
    mshtest.main()
