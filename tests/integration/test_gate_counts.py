"""Gates' history, permit scans and site occupancy (issue 13, section 5).

- `gate_counts`: each gate's counts per 5 minutes (in, out, peak utilisation, scans) as OGC items,
  filtered by `gate=` and `datetime`, paged; durable across kill -9, before and after a snapshot,
  counted once (a restart replaying the log does not count a record again).
- Permit scans: `scans_valid` and `scans_denied` go together (400 otherwise); the `permit` event is
  raised when the denied share of the last 5 minutes passes --permit-denied-share with at least
  --permit-min-scans scans, and clears only under 80% of the threshold.
- Sites: /kpi `sites` and /kpi/sites sum a site's gates' in minus out since the start of the day,
  never below zero (`clamped`); an operator's reset (POST /kpi/sites/{site}/reset) starts it again.

Record times are the server's clock (--test-clock, read with advance_s=0) minus a few minutes, in
whole 5-minute buckets; no sleeps: the snapshot is waited for on its log line.
"""
import json
import unittest

import mshtest
import test_events

DB = None
SERVER = None
TOK = {}
ITEMS = "/ogc/collections/gate_counts/items"
BUCKET = 300000
DAY = 86400000
GATES = [("G-M1", 39.8900, 21.4130, "mina"), ("G-M2", 39.8910, 21.4135, "mina"),
         ("G-A1", 39.9800, 21.3550, "arafat"), ("G-X", 39.8500, 21.4000, None)]
LAST_NOW = 0  # the server's clock just before it was killed (ms)
BASE = None   # the start of a 5-minute bucket 10 minutes before the server's now, after the day began


def server_now():
    r = mshtest.request(SERVER, "/test/clock?advance_s=0", "POST", TOK["admin"])
    assert r.status == 200, r.body
    return json.loads(r.body)["now_ms"]


def day_start(t):
    return (t + 3 * 3600000) // DAY * DAY - 3 * 3600000


def rec(gate, dt_s, **kw):
    g = [x for x in GATES if x[0] == gate][0]
    return dict({"id": gate, "lon": g[1], "lat": g[2], "time": BASE + dt_s * 1000}, **kw)


def items(query=""):
    r = SERVER.get(ITEMS + "?limit=1000" + query)
    assert r.status == 200, r.body
    return json.loads(r.body)


def buckets(gate):
    return {f["properties"]["time"]: f["properties"] for f in items("&gate=" + gate)["features"]}


def iso(ms):
    import datetime
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def site(name):
    doc = SERVER.json("/kpi/sites")
    return {s["site"]: s for s in doc["sites"]}.get(name)


def start(name="serve"):
    """Start (or restart) the server. A restarted server's test clock begins at the real time again:
    it is moved on to where the last one stood, so records made near the day's start (when
    setUpModule moved the clock past it) are not in the future for the new one."""
    global SERVER
    SERVER = mshtest.Server(DB, "--test-clock", "--snapshot-s", "1", "--permit-min-scans", "50",
                            name=name).start()
    test_events.SERVER = SERVER
    lag = LAST_NOW - server_now()
    if lag > 0:
        mshtest.request(SERVER, "/test/clock?advance_s=%d" % (lag // 1000 + 1), "POST", TOK["admin"])
        assert server_now() >= LAST_NOW


def snapshot_after():
    """Wait for a live snapshot that covers every record posted so far: snapshots are taken when
    something was logged since the last, so the second one after a record of G-X covers all before."""
    global X_DT
    log = lambda: SERVER.stderr().count("live snapshot:")  # noqa: E731
    for k in range(2):
        n = log()
        X_DT += 1
        mshtest.post_ok(SERVER, "gates", [rec("G-X", X_DT, **{"in": 0})], TOK["feed"])
        mshtest.wait_for(lambda: log() > n, 20, "a live snapshot")


X_DT = 600


class GateCounts(unittest.TestCase):
    def test_a_history_items(self):
        mshtest.post_ok(SERVER, "gates", [rec("G-M1", 10, **{"in": 100, "out": 20, "capacity": 3600}),
                                          rec("G-M1", 70, **{"in": 50, "out": 5}),
                                          rec("G-M1", 310, **{"in": 7, "out": 1})], TOK["feed"])
        b = buckets("G-M1")
        self.assertEqual(sorted(b), [iso(BASE), iso(BASE + BUCKET)])
        first = b[iso(BASE)]
        self.assertEqual((first["in"], first["out"], first["net"], first["end"]),
                         (150, 25, 125, iso(BASE + BUCKET)))
        # the second report: 55 people in 60 s = 3300/h against 3600/h (the first has no interval)
        self.assertEqual(first["peak_utilisation"], round(3300 / 3600, 3))
        self.assertEqual((b[iso(BASE + BUCKET)]["in"], b[iso(BASE + BUCKET)]["out"]), (7, 1))
        # datetime picks the bucket; paging by one
        doc = items("&gate=G-M1&datetime=%s/%s" % (iso(BASE + BUCKET), iso(BASE + 2 * BUCKET)))
        self.assertEqual([f["properties"]["in"] for f in doc["features"]], [7])
        r = SERVER.get(ITEMS + "?gate=G-M1&limit=1")
        page = json.loads(r.body)
        self.assertEqual((len(page["features"]), page["numberMatched"]), (1, 2))
        nxt = [ln["href"] for ln in page["links"] if ln["rel"] == "next"]
        page2 = json.loads(mshtest.fetch(nxt[0]).body)
        self.assertEqual(len(page2["features"]), 1)
        self.assertNotEqual(page["features"][0]["id"], page2["features"][0]["id"])
        # another gate's buckets are not mixed in
        self.assertEqual(items("&gate=G-NOBODY")["features"], [])

    def test_b_scans_validated(self):
        r = mshtest.post_feed(SERVER, "gates", [rec("G-A1", 5, **{"in": 1, "scans_valid": 3})], TOK["feed"])
        doc = json.loads(r.body)
        self.assertEqual(doc["accepted"], 0)
        self.assertIn("scans_denied", doc["rejected"][0]["reason"])
        r = mshtest.post_feed(SERVER, "gates", [rec("G-A1", 5, **{"scans_valid": 3, "scans_denied": -1})],
                              TOK["feed"])
        self.assertIn("scans_denied", json.loads(r.body)["rejected"][0]["reason"])
        r = mshtest.post_feed(SERVER, "gates", [rec("G-A1", 5, **{"scans_valid": 3, "scans_denied": 1.5})],
                              TOK["feed"])
        self.assertEqual(json.loads(r.body)["accepted"], 0)

    def test_c_permit_event_hysteresis(self):
        s = test_events.Stream("?types=permit")
        try:
            # 45 scans, 20 denied: over the share but under --permit-min-scans 50: no event yet
            mshtest.post_ok(SERVER, "gates", [rec("G-M2", 400, **{"in": 0, "scans_valid": 25, "scans_denied": 20})],
                            TOK["feed"])
            # 70 valid more: 20 of 115 = 0.174 > 0.05: raised
            mshtest.post_ok(SERVER, "gates", [rec("G-M2", 410, **{"in": 0, "scans_valid": 70, "scans_denied": 0})],
                            TOK["feed"])
            ev = s.wait_for(lambda e: e[1] == "permit", "the permit event")[0][2]
            self.assertEqual((ev["state"], ev["gate"], ev["scans_valid"], ev["scans_denied"]),
                             ("raised", "G-M2", 95, 20))
            self.assertAlmostEqual(ev["denied_share"], 20 / 115, places=4)
            self.assertEqual((ev["window_s"], ev["threshold"]), (300, 0.05))
            # 20 of 445 = 0.045: under the threshold, over 80% of it: still raised
            mshtest.post_ok(SERVER, "gates", [rec("G-M2", 420, **{"in": 0, "scans_valid": 330, "scans_denied": 0})],
                            TOK["feed"])
            # 20 of 600 = 0.033 < 0.04: cleared
            mshtest.post_ok(SERVER, "gates", [rec("G-M2", 430, **{"in": 0, "scans_valid": 155, "scans_denied": 0})],
                            TOK["feed"])
            evs = s.wait_for(lambda e: e[1] == "permit" and e[2]["state"] == "cleared", "the clear")
            permits = [e[2] for e in s.events if e[1] == "permit"]
            self.assertEqual([e["state"] for e in permits], ["raised", "cleared"])
            self.assertEqual(permits[1]["scans_valid"], 580)
            self.assertTrue(evs)
        finally:
            s.close()
        b = buckets("G-M2")[iso(BASE + BUCKET)]
        self.assertEqual((b["scans_valid"], b["scans_denied"]), (580, 20))
        self.assertEqual(b["denied_share"], round(20 / 600, 4))

    def test_d_sites(self):
        # mina: G-M1 (test a) 157 in, 26 out; arafat: more out than in -> held at zero
        mshtest.post_ok(SERVER, "gates", [rec("G-A1", 20, **{"in": 5, "out": 30}),
                                          rec("G-A1", 320, **{"in": 8, "out": 0}),
                                          rec("G-X", 20, **{"in": 1000})], TOK["feed"])
        # /kpi answers are at most a second old: wait for the one that has the records
        m = mshtest.wait_for(lambda: (site("arafat") or {}).get("in") == 13 and site("mina"), 5, "the sites")
        self.assertEqual((m["people"], m["in"], m["out"], m["gates"]), (131, 157, 26, 2))
        self.assertEqual(m["since"], iso(day_start(server_now())))
        a = site("arafat")
        self.assertEqual((a["people"], a["clamped"]), (8, True))   # 5 - 30 -> 0, then + 8
        self.assertEqual(sorted(s["site"] for s in SERVER.json("/kpi")["sites"]), ["arafat", "mina"])
        # a reset by ops: counted from now; not by a feed token; an unknown site is 404
        self.assertEqual(mshtest.request(SERVER, "/kpi/sites/mina/reset", "POST", TOK["feed"]).status, 403)
        self.assertEqual(mshtest.request(SERVER, "/kpi/sites/nowhere/reset", "POST", TOK["ops"]).status, 404)
        r = mshtest.request(SERVER, "/kpi/sites/mina/reset", "POST", TOK["ops"])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(json.loads(r.body)["people"], 0)
        mshtest.post_ok(SERVER, "gates", [rec("G-M1", 605, **{"in": 4, "out": 1})], TOK["feed"])
        mshtest.wait_for(lambda: site("mina")["in"] == 4, 5, "the count after the reset")
        self.assertEqual(site("mina")["people"], 3)

    def test_z_kill9_counts_once(self):
        global LAST_NOW
        before = buckets("G-M1")
        # a record, then a snapshot covering it (its counts must be in the store by then) ...
        mshtest.post_ok(SERVER, "gates", [rec("G-M1", 615, **{"in": 11, "out": 2})], TOK["feed"])
        snapshot_after()
        # ... and one after it (in the log only), then kill -9
        mshtest.post_ok(SERVER, "gates", [rec("G-M1", 625, **{"in": 5, "out": 0})], TOK["feed"])
        LAST_NOW = server_now()
        SERVER.proc.kill()
        SERVER.proc.wait()
        SERVER.stop()
        start("serve2")
        after = buckets("G-M1")
        third = iso(BASE + 2 * BUCKET)
        self.assertEqual((after[third]["in"], after[third]["out"]), (4 + 11 + 5, 1 + 2))
        for t, p in before.items():
            if t != third:
                self.assertEqual((after[t]["in"], after[t]["out"]), (p["in"], p["out"]), t)
        self.assertEqual(mshtest.wait_for(lambda: site("mina"), 5, "the sites")["people"], 3 + 14)    # the reset survived too
        # again: a snapshot of the replayed state (its counts go to the store), kill -9: nothing counted twice
        snapshot_after()
        LAST_NOW = server_now()
        SERVER.proc.kill()
        SERVER.proc.wait()
        SERVER.stop()
        start("serve3")
        self.assertEqual(buckets("G-M1")[third]["in"], 20)


def setUpModule():
    global DB, BASE
    DB = mshtest.work_path("gate_counts.sqlite")
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [g[1], g[2]]},
              "properties": dict({"asset_id": g[0], "kind": "gate", "status": "working", "capacity": 3600},
                                 **({"site": g[3]} if g[3] else {}))} for g in GATES]
    src = mshtest.work_path("gate_counts_assets.geojson")
    with open(src, "w") as f:
        json.dump({"type": "FeatureCollection", "features": feats}, f)
    mshtest.import_layer(DB, src, "assets")
    for role, name in (("ops", "ops-alice"), ("feed", "gatefeed"), ("admin", "root")):
        TOK[role] = mshtest.add_token(DB, role, name)
    start()
    now = server_now()
    if now - day_start(now) < 30 * 60000:   # keep every record inside today
        mshtest.request(SERVER, "/test/clock?advance_s=1800", "POST", TOK["admin"])
        now = server_now()
    BASE = now // BUCKET * BUCKET - 2 * BUCKET


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
