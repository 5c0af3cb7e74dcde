"""Playback: the density cells of every minute, kept on disk, served with `?time=` on the movement
tiles and the density heatmap, on a real server with an injected clock (--test-clock).

No sleeps: POST /test/clock moves the server's clock and runs the timer pass (which records a
minute just begun) before it answers, so the minute is on disk when the answer arrives.

The crowd: GROUP (6 people, k = 5: shown) and HIDDEN (3 people in a cell of their own: never
shown); in the second minute the group walks to MOVED. A past tile must be the live tile of its
minute (the same cells, geometry and attributes, plus `time`), with the same k-anonymity.
"""
import glob
import json
import os
import unittest

import mshtest

DB = None
LIVE = None
SERVER = None
TOK = {}
K = 5
Z = 17
GROUP = (39.8900, 21.4100)
HIDDEN = (39.8907, 21.4103)
MOVED = (39.8904, 21.4097)
X, Y = mshtest.lonlat_to_tile(GROUP[0], GROUP[1], Z)
TILE = "/tiles/movement/%d/%d/%d.mvt" % (Z, X, Y)
HEAT = "/heatmaps/density/%d/%d/%d.png" % (Z - 1, X // 2, Y // 2)


def req(path, method="GET", token=None, headers=None):
    return mshtest.api(SERVER, path, method, token, headers=headers)


def advance(seconds):
    r = req("/test/clock?advance_s=%d" % seconds, "POST", TOK["admin"])
    assert r.status == 200, r.body
    return json.loads(r.body)["now_ms"]


def to_next_minute():
    """Move the clock to the start of the next minute (the pass records it); returns that minute in ms."""
    now = advance(0)
    now = advance(60 - (now // 1000) % 60)
    return now - now % 60000


def iso(ms):
    import datetime
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def post_people(where, t):
    recs = [{"id": "G-%d" % i, "lon": where[0], "lat": where[1], "time": t} for i in range(6)]
    recs += [{"id": "H-%d" % i, "lon": HIDDEN[0], "lat": HIDDEN[1], "time": t} for i in range(3)]
    mshtest.post_ok(SERVER, "positions", recs, TOK["feed"])


def cells(body, drop_time=True):
    """The decoded movement cells of a tile: sorted (id, attributes, geometry WKT)."""
    feats = mshtest.decode_mvt(body, Z, X, Y).get("movement", [])
    out = []
    for f in feats:
        a = dict(f.attrs)
        if drop_time:
            a.pop("time", None)
        out.append((f.id, sorted(a.items()), f.geom.ExportToWkt()))
    return sorted(out)


def playback():
    r = req("/playback")
    assert r.status == 200, r.body
    return json.loads(r.body)


class Playback(unittest.TestCase):
    def test_1_past_tiles_are_the_live_tiles_of_their_minute(self):
        to_next_minute()
        post_people(GROUP, advance(0))
        live1 = req(TILE)
        self.assertEqual(live1.status, 200, live1.body)
        heat1 = req(HEAT)
        m1 = to_next_minute()  # records the state as it is: GROUP
        post_people(MOVED, advance(0))
        live2 = req(TILE)
        m2 = to_next_minute()  # records MOVED
        self.assertNotEqual(cells(live1.body), cells(live2.body), "the crowd moved between the minutes")
        # the group only: 6 people in one shown cell (the 3 hidden ones never show)
        self.assertEqual([dict(c[1])["count"] for c in cells(live1.body)], [6])

        for t, live, m in ((m1, live1, m1), (m1 + 59000, live1, m1), (m2 + 30000, live2, m2)):
            past = req(TILE + "?time=" + iso(t))
            self.assertEqual(past.status, 200, past.body)
            self.assertEqual(past.header("Mashaer-Time"), iso(m))
            self.assertIn("immutable", past.header("Cache-Control"))
            self.assertEqual(cells(past.body), cells(live.body))
            self.assertEqual({dict(c[1])["time"] for c in cells(past.body, drop_time=False)}, {iso(m)})
        # a past tile's ETag answers 304, and stays what it was as the live state moves on
        past = req(TILE + "?time=" + iso(m1))
        self.assertEqual(req(TILE + "?time=" + iso(m1), headers={"If-None-Match": past.header("ETag")}).status, 304)
        # the heatmap of the minute: the pixels the live heatmap drew then
        ph = req(HEAT + "?time=" + iso(m1))
        self.assertEqual(ph.status, 200, ph.body)
        self.assertEqual(ph.header("Content-Type"), "image/png")
        self.assertEqual(ph.header("Mashaer-Time"), iso(m1))
        self.assertEqual(mshtest.decode_png(ph.body), mshtest.decode_png(heat1.body))
        self.assertNotEqual(mshtest.decode_png(req(HEAT + "?time=" + iso(m2)).body), mshtest.decode_png(heat1.body))
        doc = playback()
        self.assertEqual(doc["last"], iso(m2))
        self.assertGreaterEqual(doc["minutes"], 3)
        self.assertEqual(doc["bytes"], sum(os.path.getsize(p) for p in glob.glob(os.path.join(LIVE, "playback", "*.mpb"))))
        # the occupied cells of a minute count the hidden people too: ops only
        self.assertNotIn("last_minute", doc)
        ops = json.loads(req("/playback", token=TOK["admin"]).body)
        self.assertEqual(ops["last_minute"]["cells"], 2)  # the group's cell and the hidden three's
        Playback.m1 = m1

    def test_2_bad_times_and_the_window(self):
        doc = playback()
        first, last = doc["first"], doc["last"]
        for q in ("2026-13-01T00:00:00Z", "yesterday", "2026-05-26T08:00:00"):
            r = req(TILE + "?time=" + q)
            self.assertEqual(r.status, 400, q)
            self.assertIn(b"time", r.body)
        r = req(TILE + "?time=2001-01-01T00:00:00Z")
        self.assertEqual(r.status, 404)
        self.assertIn(("kept window is %s to %s" % (first, last)).encode(), r.body)
        import datetime
        after = datetime.datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ") + datetime.timedelta(minutes=1)
        self.assertEqual(req(TILE + "?time=" + after.strftime("%Y-%m-%dT%H:%M:%SZ")).status, 404)
        self.assertEqual(req(HEAT + "?time=2001-01-01T00:00:00Z").status, 404)
        self.assertEqual(req("/tiles/movement,flow/%d/%d/%d.mvt?time=%s" % (Z, X, Y, last)).status, 400)
        self.assertEqual(req(TILE + "?time=" + last).status, 200)

    def test_3_restart_and_kill_keep_every_recorded_minute(self):
        global SERVER
        before = playback()
        past = req(TILE + "?time=" + iso(Playback.m1))
        SERVER.stop()
        SERVER = mshtest.Server(*SERVER_ARGS).start()
        after = playback()
        for k in ("first", "last", "minutes", "bytes"):
            self.assertEqual(after[k], before[k], k)
        again = req(TILE + "?time=" + iso(Playback.m1))
        self.assertEqual(again.body, past.body)
        self.assertEqual(again.header("ETag"), past.header("ETag"), "a past tile's ETag holds across restarts")
        # kill -9 just after a minute was recorded, then a torn record at the end of its file (a
        # write cut by a crash): the minutes recorded stay, the torn bytes are cut
        advance(int((before["minutes"] + 3) * 60))  # the clock restarted from the wall clock: past the last minute
        m = to_next_minute()
        doc = playback()
        self.assertEqual(doc["last"], iso(m))
        SERVER.proc.kill()
        SERVER.proc.wait(10)
        files = sorted(glob.glob(os.path.join(LIVE, "playback", "*.mpb")))
        size = os.path.getsize(files[-1])
        with open(files[-1], "ab") as f:
            f.write(b"MPB1" + b"\x07" * 40)
        SERVER = mshtest.Server(*SERVER_ARGS).start()
        after = playback()
        self.assertEqual((after["first"], after["last"], after["minutes"]), (doc["first"], doc["last"], doc["minutes"]))
        self.assertEqual(os.path.getsize(files[-1]), size)
        self.assertIn("cut back", SERVER.stderr())

    def test_4_old_minutes_leave_and_memory_stays_bounded(self):
        # --playback-hours 1: after 61 more minutes the first ones are gone, the window is 60 minutes
        doc = playback()
        advance(int((doc["minutes"] + 3) * 60))
        for _ in range(62):
            last = advance(60)
        doc = playback()
        self.assertEqual(doc["minutes"], 60)
        last -= last % 60000
        self.assertEqual(doc["last"], iso(last))
        self.assertEqual(doc["first"], iso(last - 59 * 60000))
        self.assertLessEqual(doc["files"], 2)
        self.assertEqual(len(glob.glob(os.path.join(LIVE, "playback", "*.mpb"))), doc["files"])
        self.assertEqual(req(TILE + "?time=" + iso(Playback.m1)).status, 404)
        # reading many minutes keeps at most 16 decoded ones
        for i in range(30):
            self.assertEqual(req(HEAT + "?time=" + iso(last - i * 60000)).status, 200)
        doc = playback()
        self.assertLessEqual(doc["cache"]["minutes"], 16)
        self.assertGreater(doc["cache"]["minutes"], 0)
        self.assertLessEqual(doc["cache"]["bytes"], doc["cache"]["cap_bytes"])

    def test_5_off(self):
        off = mshtest.Server(DB, "--playback-hours", "0", "--live-dir", mshtest.work_path("off.live"), name="off").start()
        try:
            r = mshtest.api(off, TILE + "?time=2026-01-01T00:00:00Z")
            self.assertEqual(r.status, 404)
            self.assertIn(b"--playback-hours 0", r.body)
            self.assertEqual(mshtest.api(off, "/playback").status, 404)
        finally:
            off.stop()
        # a playback folder that cannot be opened: the server starts without playback, and says why
        broken = mshtest.work_path("broken.live")
        os.makedirs(broken, exist_ok=True)
        with open(os.path.join(broken, "playback"), "w") as f:
            f.write("not a folder")
        srv = mshtest.Server(DB, "--live-dir", broken, name="broken").start()
        try:
            self.assertEqual(mshtest.api(srv, "/playback").status, 404)
            self.assertEqual(mshtest.api(srv, "/health").status, 200)
            self.assertIn("playback is off", srv.stderr())
        finally:
            srv.stop()


SERVER_ARGS = ()


def setUpModule():
    global DB, LIVE, SERVER, SERVER_ARGS
    DB = mshtest.work_path("playback.sqlite")
    LIVE = mshtest.work_path("playback.live")
    mshtest.import_walkways(DB, [[(39.888, 21.410), (39.892, 21.410)]])
    for role, name in (("feed", "sensor"), ("admin", "root")):
        TOK[role] = mshtest.add_token(DB, role, name)
    SERVER_ARGS = (DB, "--test-clock", "--k-anon", str(K), "--playback-hours", "1", "--live-dir", LIVE)
    SERVER = mshtest.Server(*SERVER_ARGS).start()


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
