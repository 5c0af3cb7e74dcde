"""The forecast evaluation harness (bench/forecast.py, bench/lib/fceval.py) against answers known in
closed form.

Metrics alone (no server): a uniform flow along a straight corridor, a block of N = 6 cells of
200 people each (2.5 persons/m2, level F) moving east at the speed that carries it D = 4 cells in
M = 10 minutes. The observation at T+M is the block moved D cells, so
  - persistence: the union of occupied cells is N + D = 10 cells, of which 2D = 8 are wrong by the
    block's density rho: MAE = 8 rho / 10, RMSE = rho sqrt(8 / 10); of the 6 cells forecast at F,
    N - D = 2 are F at T+M: precision = recall = 2/6 (for E or worse and for F);
  - straight-line advection: exact, MAE = RMSE = 0, precision = recall = 1.
A synthetic forecast with hand-worked errors, levels and the occupied-cell rule; Fruin's limits
read from the server's constants; lead times of F onsets from forecasts issued at several horizons.

The ground truth's rules (bench/lib/pedsim.py) on hand-worked cases: a 3 m passage passes its
capacity of 3.9 persons/s and the queue before it grows at inflow minus capacity; a closed gate
stops the flow and its queue packs at jam density; a person alone walks at free speed.

Through a server now (`mashaer serve --test-clock`, no forecast needed): the same uniform flow
posted as positions with speed and heading, observed from the live movement cells as the harness
reads them (OGC items), the test clock moved M minutes and the block posted where its speed puts
it: the harness's persistence and advection from what the server shows give the same closed-form
numbers.

End to end (--with-server, once the forecast model is merged; cmake -DMSH_FORECAST_E2E=ON passes
it): the server's own forecast for a uniform flow walking at Weidmann's speed for its density (40
people a cell, 1.30 m/s, seen moving for 3 minutes; GET /forecast/density?minutes=10 after POST
/forecast/refresh) against the observation 10 minutes later: its density error at least 40% below
persistence (the issue's goal), the people conserved within 10%, cells well formed.
"""
import json
import math
import os
import sys
import unittest

WITH_SERVER = "--with-server" in sys.argv
if WITH_SERVER:
    sys.argv.remove("--with-server")

import mshtest  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import fceval  # noqa: E402
import pedsim  # noqa: E402
import forecast  # noqa: E402

LON0, LAT0 = 39.8900, 21.4200
N, D, M, PER_CELL = 6, 4, 10, 200
ORIGIN = fceval.cell_of(LON0, LAT0)
SIDE = fceval.cell_side(ORIGIN)
U = D * SIDE / (M * 60.0)            # m/s: D cells in M minutes
RHO = PER_CELL / SIDE ** 2


def cell(i):
    return (22, ORIGIN[1] + i, ORIGIN[2])


# the end-to-end flow walks as Weidmann's diagram says it would at its density, so that the observed
# velocity and the physics agree: 40 people a cell (0.5 persons/m2, 1.30 m/s), 88 cells in 10 minutes
E2E_PER_CELL, E2E_D = 40, 88
E2E_U = E2E_D * SIDE / (M * 60.0)


def block_points(shift, per_cell=PER_CELL, speed=U):
    """per_cell people at the centre of each of the N cells from `shift`, walking east at `speed`."""
    pts = []
    for i in range(N):
        lon, lat = fceval.cell_centre(cell(shift + i))
        pts += [(lon, lat, speed, 90.0)] * per_cell
    return pts


def polygon_features(cells):
    """The cells as GeoJSON polygons with count, speed and heading, as the server's cell layers write them."""
    out = []
    for (lv, cx, cy), c in cells.items():
        n = float(1 << lv)
        ring = [list(fceval.world_to_lonlat(x / n, y / n))
                for x, y in [(cx, cy), (cx + 1, cy), (cx + 1, cy + 1), (cx, cy + 1), (cx, cy)]]
        props = {"count": c.count, "speed": math.hypot(c.vx, c.vy),
                 "heading": math.degrees(math.atan2(c.vx, c.vy)) % 360.0}
        out.append({"type": "Feature", "properties": props,
                    "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return out


class UniformFlowMixin:
    def check_closed_form(self, now, later):
        """The persistence and advection numbers of the docstring, from cells observed at T and T+M."""
        self.assertEqual(sorted(now), [cell(i) for i in range(N)])
        self.assertEqual(sorted(later), [cell(D + i) for i in range(N)])
        p = fceval.summarise([fceval.compare(fceval.persistence(now, M), later)])
        self.assertEqual(p["cells"], N + D)
        self.assertAlmostEqual(p["mae"], 2 * D * RHO / (N + D), places=6)
        self.assertAlmostEqual(p["rmse"], RHO * math.sqrt(2 * D / (N + D)), places=6)
        for lv in ("E", "F"):
            self.assertAlmostEqual(p["precision_" + lv], (N - D) / N)
            self.assertAlmostEqual(p["recall_" + lv], (N - D) / N)
        a = fceval.summarise([fceval.compare(fceval.advection(now, M), later)])
        self.assertEqual((a["cells"], a["mae"], a["rmse"]), (N, 0.0, 0.0))
        self.assertEqual((a["precision_F"], a["recall_F"], a["observed_F"]), (1.0, 1.0, N))


class Metrics(UniformFlowMixin, unittest.TestCase):
    def test_uniform_flow_closed_form(self):
        self.assertGreater(RHO, fceval.FRUIN_E_MAX)   # the block is at level F
        now = fceval.cells_from_points(block_points(0))
        later = fceval.cells_from_points(block_points(D))
        self.assertAlmostEqual(now[cell(0)].vx, U)
        self.check_closed_form(now, later)
        # read back from cell polygons, as the harness reads the server's answers
        self.check_closed_form(fceval.cells_from_features(polygon_features(now)),
                               fceval.cells_from_features(polygon_features(later)))

    def test_synthetic_forecast(self):
        area = SIDE ** 2
        # observed densities 3.0 (F), 1.5 (E), 0.5 (C), none; forecast 2.0 (E), 2.0 (E), 0.5, 1.2 (E),
        # and a forecast of 0.4 person where nobody is: not an occupied cell on either side
        obs = {cell(0): fceval.Cell(3.0 * area), cell(1): fceval.Cell(1.5 * area), cell(2): fceval.Cell(0.5 * area)}
        fc = {cell(0): fceval.Cell(2.0 * area), cell(1): fceval.Cell(2.0 * area), cell(2): fceval.Cell(0.5 * area),
              cell(3): fceval.Cell(1.2 * area), cell(9): fceval.Cell(0.4)}
        r = fceval.summarise([fceval.compare(fc, obs)])
        self.assertEqual(r["cells"], 4)
        self.assertAlmostEqual(r["mae"], (1.0 + 0.5 + 0.0 + 1.2) / 4, places=9)
        self.assertAlmostEqual(r["rmse"], math.sqrt((1.0 + 0.25 + 0.0 + 1.44) / 4), places=9)
        self.assertAlmostEqual(r["precision_E"], 2 / 3)   # E+ forecast 0, 1, 3; E+ observed 0, 1
        self.assertEqual(r["recall_E"], 1.0)
        self.assertIsNone(r["precision_F"])               # nothing forecast at F: undefined
        self.assertEqual((r["recall_F"], r["observed_F"]), (0.0, 1))
        # half a person counts as occupied, and sums add up over issue times
        fc[cell(9)] = fceval.Cell(0.5)
        r2 = fceval.summarise([fceval.compare(fc, obs), fceval.compare(obs, obs)])
        self.assertEqual(r2["cells"], 5 + 3)
        self.assertAlmostEqual(r2["mae"], (2.7 + 0.5 / area) / 8, places=9)

    def test_same_cells(self):
        """Two models over the cells of both: each one's error is divided by the same count, so their
        MAEs stand as their summed errors do (by hand)."""
        area = SIDE ** 2
        obs = {cell(0): fceval.Cell(2.0 * area)}
        stay = {cell(0): fceval.Cell(2.0 * area), cell(1): fceval.Cell(1.0 * area)}   # error 1.0 in cell 1
        moved = {cell(5): fceval.Cell(2.0 * area)}                                      # error 2.0 in 0 and in 5
        keys = fceval.common_cells([stay, moved, None], obs)
        self.assertEqual(keys, sorted([cell(0), cell(1), cell(5)]))
        a = fceval.summarise([fceval.compare(stay, obs, keys)])
        b = fceval.summarise([fceval.compare(moved, obs, keys)])
        self.assertEqual((a["cells"], b["cells"]), (3, 3))
        self.assertAlmostEqual(a["mae"], 1.0 / 3, places=9)
        self.assertAlmostEqual(b["mae"], 4.0 / 3, places=9)
        # each over its own cells: 1.0 / 2 and 4.0 / 2
        self.assertAlmostEqual(fceval.summarise([fceval.compare(stay, obs)])["mae"], 0.5, places=9)
        self.assertAlmostEqual(fceval.summarise([fceval.compare(moved, obs)])["mae"], 2.0, places=9)

    def test_levels_are_the_servers(self):
        """Fruin's limits as the server has them (core/msh_constants.h), and which side of each a
        density on the limit falls."""
        import re
        with open(os.path.join(mshtest.CONFIG.source_dir, "layers", "core", "msh_constants.h")) as f:
            lim = dict(re.findall(r"#define MSH_FRUIN_([A-E])_MAX ([0-9.]+)", f.read()))
        self.assertEqual((float(lim["D"]), float(lim["E"])), (fceval.FRUIN_D_MAX, fceval.FRUIN_E_MAX))
        eps = 1e-9
        for name, d in (("A", 0.31 - eps), ("B", 0.31), ("C", 0.43), ("D", 0.72), ("D", float(lim["D"]) - eps),
                        ("E", float(lim["D"])), ("E", float(lim["E"])), ("F", float(lim["E"]) + eps)):
            self.assertEqual(fceval.los(d), name, d)

    def test_lead_times(self):
        f_cell = fceval.Cell(300.0)
        calm = fceval.Cell(10.0)
        a, b, c = cell(0), cell(1), cell(2)
        observed = {k: {a: calm, b: calm, c: calm} for k in range(60)}
        for k in range(40, 60):
            observed[k][a] = f_cell                        # a reaches F at step 40
        for k in range(20, 60):
            observed[k][b] = f_cell                        # b at 20: warned at most 20 min ahead
        for k in range(9, 60):
            observed[k][c] = f_cell                        # c at 9: too early to be warned 10 min ahead
        onsets = fceval.f_onsets(observed)
        self.assertEqual(onsets, {a: 40, b: 20, c: 9})
        forecasts = {
            (10, 30): {a: calm},                                    # 30 min ahead: not warned
            (20, 20): {a: fceval.Cell(10.0, p_f=0.6)},              # 20 min ahead: warned by p_f
            (30, 10): {a: f_cell},                                  # 10 min ahead: warned by level
            (10, 10): {b: fceval.Cell(10.0, p_f=0.49)},             # b: not warned 10 min ahead
            (15, 5): {b: f_cell},                                   # b: warned 5 min ahead
        }
        leads = fceval.lead_times(onsets, forecasts, [5, 10, 20, 30], first_issue=0)
        self.assertEqual(leads, {a: 20, b: 5})
        forecasts[(15, 5)] = {a: f_cell}                            # at the wrong cell
        leads = fceval.lead_times(onsets, forecasts, [5, 10, 20, 30], first_issue=0)
        self.assertEqual(leads, {a: 20, b: 0})
        self.assertEqual(fceval.lead_summary(leads), {"f_onsets": 2, "median_lead_min": 10.0, "warned_10min": 0.5})


class Simulator(unittest.TestCase):
    """The ground truth's rules on hand-worked cases (bench/lib/pedsim.py)."""

    def run_sim(self, sc, seconds, probe=None):
        sim = pedsim.Sim(sc, seed=3)
        while sim.t < seconds:
            sim.step()
            if probe:
                probe(sim)
        return sim

    def test_bottleneck_passes_its_capacity(self):
        # 6 persons/s into a 3 m passage (capacity 1.3 x 3 = 3.9/s): once the queue stands, the passage
        # takes 3.9/s, and the people on the approach grow by inflow minus capacity
        sc = {"name": "t", "links": {"in": ([(0, 0), (150, 0)], 12), "pass": ([(150, 0), (170, 0)], 3),
                                     "out": ([(170, 0), (400, 0)], 12)},
              "routes": {"a": [("in", True), ("pass", True), ("out", True)]},
              "sources": [{"route": "a", "rate": 6.0, "start": 0, "end": 10000}]}
        seen = {}

        def probe(sim):
            if sim.t in (200.0, 400.0):
                links = sim.links
                seen[sim.t] = (links["pass"].entered, sum(1 for a in sim.agents if a.route[a.leg][0] == "in"))
        self.run_sim(sc, 400, probe)
        passed = (seen[400.0][0] - seen[200.0][0]) / 200.0
        self.assertAlmostEqual(passed, 3.9, delta=0.1)
        growth = (seen[400.0][1] - seen[200.0][1]) / 200.0
        self.assertAlmostEqual(growth, 6.0 - 3.9, delta=0.15)

    def test_closed_gate_stops_the_flow(self):
        sc = {"name": "t", "links": {"before": ([(0, 0), (0, 100)], 12), "after": ([(0, 100), (0, 200)], 12)},
              "routes": {"a": [("before", True), ("after", True)]},
              "sources": [{"route": "a", "rate": 4.0, "start": 0, "end": 10000}],
              "events": [{"t": 0, "kind": "gate", "link": "after", "closed": True},
                         {"t": 300, "kind": "gate", "link": "after", "closed": False}]}
        sim = self.run_sim(sc, 300)
        before = sim.links["before"]
        self.assertEqual(sim.links["after"].entered, 0)
        self.assertEqual(sum(before.occ), 4.0 * 300)          # everyone is waiting in front of it
        self.assertEqual(before.occ[-2], int(pedsim.RHO_JAM * 12))  # packed at jam density at the gate
        self.run_sim_more(sim, 360)
        self.assertGreater(sim.links["after"].entered, 0.9 * 1.3 * 12 * 50)  # open: out at capacity

    def run_sim_more(self, sim, seconds):
        while sim.t < seconds:
            sim.step()

    def test_free_speed(self):
        sc = {"name": "t", "links": {"w": ([(0, 0), (1000, 0)], 10)}, "routes": {"a": [("w", True)]},
              "sources": [{"route": "a", "rate": 1.0, "start": 0, "end": 1}]}
        sim = self.run_sim(sc, 100)
        a = sim.agents[0]
        self.assertAlmostEqual(a.s, a.v0 * 100, delta=1e-6)   # alone (Weidmann at 0 is v0), walking from t = 0
        self.assertAlmostEqual(pedsim.weidmann(1.34, 0.5), 1.34 * (1 - math.exp(-1.913 * (2 - 1 / 5.4))))
        self.assertEqual(pedsim.weidmann(1.34, 5.4), 0.0)


def corridor():
    """A 14 m wide walkway along the block's row, from 5 cells before it to 160 after."""
    return [[list(fceval.cell_centre(cell(-5))), list(fceval.cell_centre(cell(160)))]]


class ThroughServer(UniformFlowMixin, unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        db = mshtest.work_path("fc.sqlite")
        path = mshtest.work_path("walkways.geojson")
        with open(path, "w") as f:
            json.dump({"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {"name": "corridor", "width": 14.0},
                 "geometry": {"type": "LineString", "coordinates": corridor()[0]}}]}, f)
        mshtest.import_layer(db, path, "walkways", check=0)
        cls.token = mshtest.add_token(db, "admin", "fceval")
        cls.server = mshtest.Server(db, "--test-clock", "--k-anon", "1", "--position-max-age", "60",
                                    "--snapshot-s", "3600").start()
        cls.h = forecast.Harness.attached(cls.server.port, cls.token)
        lo = fceval.cell_centre(cell(-10))
        hi = fceval.cell_centre(cell(170))
        cls.bbox = (lo[0], lo[1] - 0.0005, hi[0], hi[1] + 0.0005)

    @classmethod
    def tearDownClass(cls):
        mshtest.stop_servers(cls.server)

    def post_block(self, shift, t_ms, per_cell=PER_CELL, speed=U):
        recs = [{"id": "U-%04d" % i, "lon": lon, "lat": lat, "time": t_ms, "speed": sp, "heading": hd}
                for i, (lon, lat, sp, hd) in enumerate(block_points(shift, per_cell, speed))]
        self.h.post_positions(recs)

    def test_uniform_flow_observed_by_the_server(self):
        t = self.h.clock(0)
        self.post_block(0, t)
        now = self.h.movement(self.bbox)
        self.assertEqual(sum(c.count for c in now.values()), N * PER_CELL)
        self.assertAlmostEqual(now[cell(0)].vx, U, places=2)   # the server keeps cm/s
        t2 = self.h.clock(M * 60)
        self.post_block(D, t2)
        later = self.h.movement(self.bbox)
        self.check_closed_form(now, later)

    @unittest.skipUnless(WITH_SERVER, "needs the forecast model's /forecast endpoints: run with --with-server")
    def test_forecast_beats_persistence(self):
        t = self.h.clock(0)
        # walk the block in for three minutes, posting every 10 s, so the server has seen it move
        for s in range(0, 181, 10):
            if s:
                t = self.h.clock(10)
            self.post_block_at(s, t)
        st, body = self.h.req("POST", "/forecast/refresh")
        self.assertEqual(st, 200, body)
        now = self.h.forecast(0, self.bbox)
        fc = self.h.forecast(M, self.bbox)
        self.assertIsNotNone(fc, "GET /forecast/density answered 404")
        st, body = self.h.req("GET", "/forecast/density?minutes=%d&bbox=%s" % (M, ",".join(map(str, self.bbox))))
        doc = json.loads(body)
        self.assertEqual(doc["type"], "FeatureCollection")
        for f in doc["features"]:
            p = f["properties"]
            self.assertEqual(p["minutes"], M)
            self.assertEqual(p["los"], fceval.los(p["density"]))
            self.assertTrue(0.0 <= p["p_e"] <= 1.0 and 0.0 <= p["p_f"] <= 1.0 and p["p_f"] <= p["p_e"], p)
            self.assertIn("T", p["issued_at"])
        for s in range(190, 180 + M * 60 + 1, 10):
            t = self.h.clock(10)
            self.post_block_at(s, t)
        st, body = self.h.req("POST", "/forecast/refresh")   # minutes=0 is the state the last refresh saw
        self.assertEqual(st, 200, body)
        later = self.h.forecast(0, self.bbox)
        model = fceval.summarise([fceval.compare(fc, later)])
        pers = fceval.summarise([fceval.compare(fceval.persistence(now, M), later)])
        self.assertLessEqual(model["mae"], 0.6 * pers["mae"], (model, pers))
        total_fc = sum(c.count for c in fc.values())
        self.assertAlmostEqual(total_fc / (N * E2E_PER_CELL), 1.0, delta=0.1)

    def post_block_at(self, seconds, t_ms):
        """The end-to-end block where E2E_U has carried it after `seconds` (whole cells: the people
        stay at cell centres)."""
        self.post_block(int(E2E_U * seconds / SIDE), t_ms, E2E_PER_CELL, E2E_U)


if __name__ == "__main__":
    mshtest.main()
