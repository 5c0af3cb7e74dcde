"""The flow layer on a real server: a crowd walking east in one 8.9 m cell and another walking west
in the next, inside one flow cell (8 x 8 movement cells), show as one flow arrow with counter_flow;
a single stream shows its heading without it; a cell under k people takes no part (k-anonymity).
Read back through GDAL's MVT driver from /tiles/flow/{z}/{x}/{y}.mvt.
"""
import unittest

import mshtest
from mshtest import now_ms

DB = None
SERVER = None
TOKEN = None
Z = 16
LAT = 21.4100


def stream(tag, lon, n, heading, speed=1.2):
    return [{"id": "%s-%d" % (tag, i), "lon": lon, "lat": LAT, "time": now_ms(), "speed": speed,
             "heading": heading} for i in range(n)]


def flow_at(lon):
    x, y = mshtest.lonlat_to_tile(lon, LAT, Z)
    _, tile = mshtest.fetch_tile(SERVER, "flow", Z, x, y)
    return tile.get("flow", [])


class Flow(unittest.TestCase):
    def test_counter_flow_and_single_stream(self):
        # A: 20 walking east at 39.8801, 20 walking west 9 m further east (the next 8.9 m cell)
        # B: 30 walking north at 39.8901 (a single stream), 3 walking south beside them (under k = 5)
        recs = stream("AE", 39.88010, 20, 90) + stream("AW", 39.88019, 20, 270)
        recs += stream("BN", 39.89010, 30, 0) + stream("BS", 39.89019, 3, 180)
        mshtest.post_ok(SERVER, "positions", recs, TOKEN)
        a = flow_at(39.8801)    # (the two places are in different z16 tiles)
        self.assertEqual(len(a), 1, [f.attrs for f in a])
        p = a[0].attrs          # head on: no net direction, but the axis they meet on
        self.assertEqual((p["count"], p["counter_flow"], p["speed"], p["counter_axis"]), (40, True, 0.0, 90))
        self.assertIsNone(p.get("heading"))
        b = flow_at(39.8901)
        self.assertEqual(len(b), 1, [f.attrs for f in b])
        p = b[0].attrs
        self.assertEqual((p["count"], p["counter_flow"]), (30, False))   # the 3 walking south are hidden
        self.assertEqual(p["heading"], 0)
        self.assertAlmostEqual(p["speed"], 1.2, places=2)


def setUpModule():
    global DB, SERVER, TOKEN
    DB = mshtest.work_path("flow.sqlite")
    mshtest.import_walkways(DB, [((39.879, LAT), (39.892, LAT))])
    TOKEN = mshtest.add_token(DB, "feed", "flow-feed")
    SERVER = mshtest.Server(DB).start()


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
