"""pedsim.py: an agent-based pedestrian simulator, the ground truth of the forecast evaluation.

Independent of the server's forecast model on purpose (no cells, no flows between cells, no shared
code): each person is an agent walking a route of walkway links, one metre bins along each link
holding who is where. Standard library only; deterministic for a seed.

The rules, per step of DT seconds (agents moved front to back along their routes):
  - speed: the agent's own free speed v0 (normal, mean 1.34 m/s, sd 0.26, clipped to 0.6-2.0)
    times Weidmann's fundamental diagram at the density LOOK metres ahead on its link,
    v = v0 (1 - exp(-1.913 (1/rho - 1/5.4))), 0 at 5.4 persons/m2 (Weidmann 1993);
  - space: a bin holds at most RHO_JAM persons per m2 of the link's width; an agent stops in the
    last bin with room, so a queue packs at jam density and grows backwards;
  - capacity: entering a link costs a token of its entry capacity J_S (1.3 persons per metre of
    width per second, the specific flow of Weidmann's diagram at its peak) x width; a narrow link
    (a bottleneck) or a merge whose inflow is above it makes a queue grow at inflow minus
    capacity upstream; the bucket holds one step's tokens and the fraction of a person left over;
  - gates: a gate at a link's entry closes at a time (capacity 0) and may open again;
  - reversal: at a time every agent on a route turns back along what it walked (a crowd told to
    go back), new arrivals stop.
Each agent reports its position (a fixed lateral offset across the link's width) every 10-30 s
(its own interval and phase), with its speed and heading, as a positions feed record.

A scenario is plain data (make_scenarios): links (polylines in metres east/north of an origin,
width), routes (link sequences), sources (route, rate persons/s, start, end), gates, events.
"""
import math
import random

J_S = 1.3          # persons / (m s): entry capacity per metre of width
RHO_JAM = 5.4      # persons / m2: Weidmann's jam density, the most a bin holds
LOOK = 3.0         # metres ahead read for the speed
DT = 2.0           # seconds per step
LON0, LAT0 = 39.8900, 21.4200  # scenarios are drawn around this point (Mina)
M_PER_DEG_LAT = 110574.0
M_PER_DEG_LON = 111320.0 * math.cos(math.radians(LAT0))


def weidmann(v0, rho):
    """Walking speed (m/s) of a person of free speed v0 at density rho (persons/m2)."""
    if rho <= 0.0:
        return v0
    if rho >= RHO_JAM:
        return 0.0
    return max(0.0, v0 * (1.0 - math.exp(-1.913 * (1.0 / rho - 1.0 / RHO_JAM))))


def to_lonlat(x, y):
    return LON0 + x / M_PER_DEG_LON, LAT0 + y / M_PER_DEG_LAT


class Link:
    def __init__(self, lid, pts, width):
        self.id, self.pts, self.width = lid, pts, float(width)
        self.cum = [0.0]
        for a, b in zip(pts, pts[1:]):
            self.cum.append(self.cum[-1] + math.hypot(b[0] - a[0], b[1] - a[1]))
        self.length = self.cum[-1]
        self.nbins = int(math.ceil(self.length)) + 1
        self.occ = [0] * self.nbins
        self.cap_bin = RHO_JAM * self.width          # persons in a 1 m bin
        self.entry_cap = J_S * self.width             # persons / s
        self.tokens = self.entry_cap * DT
        self.gate_closed = False
        self.entered = 0                              # people who entered the link from another

    def at(self, s):
        """(x, y, unit direction) at s metres from the link's first point."""
        s = min(max(s, 0.0), self.length)
        i = 1
        while i < len(self.cum) - 1 and self.cum[i] < s:
            i += 1
        a, b = self.pts[i - 1], self.pts[i]
        seg = self.cum[i] - self.cum[i - 1] or 1.0
        f = (s - self.cum[i - 1]) / seg
        return a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), ((b[0] - a[0]) / seg, (b[1] - a[1]) / seg)

    def density_ahead(self, s, forward):
        """Persons per m2 in the LOOK metres ahead of s (in the walking direction)."""
        b = int(s)
        rng = range(b + 1, min(b + 1 + int(LOOK), self.nbins)) if forward else range(max(b - int(LOOK), 0), b)
        n = sum(self.occ[i] for i in rng)
        span = max(len(rng), 1)
        return n / (span * self.width)


class Agent:
    __slots__ = ("pid", "route", "leg", "s", "v0", "lat", "v", "every", "next_report", "done", "heading")

    def __init__(self, pid, route, v0, lat, every, phase):
        self.pid, self.route, self.leg, self.s = pid, route, 0, 0.0
        self.v0, self.lat, self.v, self.every = v0, lat, 0.0, every
        self.next_report, self.done, self.heading = phase, False, 0.0


class Sim:
    """One scenario, stepped by step(); records() yields the reports due up to now."""

    def __init__(self, sc, seed=1):
        self.sc = sc
        self.rng = random.Random(seed)
        self.links = {lid: Link(lid, pts, w) for lid, (pts, w) in sc["links"].items()}
        self.routes = sc["routes"]  # name -> [(link id, forward)]
        self.t = 0.0
        self.agents = []
        self.nid = 0
        self.acc = {i: 0.0 for i in range(len(sc["sources"]))}
        self.reversed = False
        self.out = []

    # -- where an agent is
    def _link(self, a):
        lid, fwd = a.route[a.leg]
        return self.links[lid], fwd

    def _bin(self, a):
        ln, fwd = self._link(a)
        s = a.s if fwd else ln.length - a.s
        return ln, min(int(s), ln.nbins - 1)

    def position(self, a):
        ln, fwd = self._link(a)
        s = a.s if fwd else ln.length - a.s
        x, y, (dx, dy) = ln.at(s)
        if not fwd:
            dx, dy = -dx, -dy
        off = a.lat * ln.width / 2.0
        return x - dy * off, y + dx * off, math.degrees(math.atan2(dx, dy)) % 360.0

    # -- events
    def _events(self):
        for ev in self.sc.get("events", []):
            if ev.get("_done") or self.t < ev["t"]:
                continue
            ev["_done"] = True
            if ev["kind"] == "gate":
                self.links[ev["link"]].gate_closed = ev["closed"]
            elif ev["kind"] == "reverse":
                self.reversed = True
                for a in self.agents:
                    if a.done:
                        continue
                    ln, _ = self._link(a)
                    walked = [(lid, not fwd) for lid, fwd in reversed(a.route[:a.leg + 1])]
                    a.s = ln.length - a.s
                    a.route, a.leg = walked, 0

    def _spawn(self):
        if self.reversed:
            return
        for i, src in enumerate(self.sc["sources"]):
            if not (src["start"] <= self.t < src["end"]):
                continue
            self.acc[i] += src["rate"] * DT
            route = self.routes[src["route"]]
            ln = self.links[route[0][0]]
            while self.acc[i] >= 1.0:
                b = 0 if route[0][1] else ln.nbins - 1
                if ln.occ[b] + 1 > ln.cap_bin:
                    break  # the source is backed up: the person waits off the map
                self.acc[i] -= 1.0
                v0 = min(2.0, max(0.6, self.rng.gauss(1.34, 0.26)))
                every = self.rng.uniform(10.0, 30.0)
                a = Agent("%s-%06d" % (self.sc["name"][:3].upper(), self.nid), route, v0,
                          self.rng.uniform(-0.9, 0.9), every, self.t + self.rng.uniform(0.0, every))
                self.nid += 1
                ln.occ[b] += 1
                self.agents.append(a)

    def step(self):
        self._events()
        self._spawn()
        for ln in self.links.values():
            # a step's tokens plus the fraction left over (whole people enter): the long-run rate is
            # the capacity; a link nobody enters keeps no more than that
            ln.tokens = min(ln.entry_cap * DT + 1.0, ln.tokens + ln.entry_cap * DT)
        live = [a for a in self.agents if not a.done]
        self.rng.shuffle(live)  # fair order at merges
        live.sort(key=lambda a: (len(a.route) - a.leg, -a.s))  # front to back along each route
        for a in live:
            self._move(a)
        self.agents = [a for a in self.agents if not a.done]
        self.t += DT

    def _move(self, a):
        ln, fwd = self._link(a)
        rho = ln.density_ahead(a.s if fwd else ln.length - a.s, fwd)
        a.v = weidmann(a.v0, rho)
        left = a.v * DT
        _, b0 = self._bin(a)
        ln.occ[b0] -= 1
        passed, s_start = 0.0, a.s
        while left > 0.0:
            ln, fwd = self._link(a)
            room_to_end = ln.length - a.s
            if left < room_to_end:
                target = a.s + left
                if not self._room(a, ln, fwd, target):
                    break
                a.s, left = target, 0.0
                break
            # reaching the end of this link
            if a.leg + 1 >= len(a.route):
                a.done = True
                return
            nxt = self.links[a.route[a.leg + 1][0]]
            if nxt.gate_closed or nxt.tokens < 1.0:
                target = ln.length - 1e-6  # wait at the end of the link
                if self._room(a, ln, fwd, target):
                    a.s = target
                break
            nfwd = a.route[a.leg + 1][1]
            eb = 0 if nfwd else nxt.nbins - 1
            if nxt.occ[eb] + 1 > nxt.cap_bin:
                break
            nxt.tokens -= 1.0
            nxt.entered += 1
            left -= room_to_end
            passed += ln.length
            a.leg += 1
            a.s = 0.0
        a.v = max(0.0, passed + a.s - s_start) / DT
        _, b1 = self._bin(a)
        ln, _ = self._link(a)
        ln.occ[b1] += 1

    def _room(self, a, ln, fwd, target):
        """Moves a forward to the furthest bin up to target with room; False when it stays."""
        s_link = target if fwd else ln.length - target
        b = min(int(s_link), ln.nbins - 1)
        if ln.occ[b] + 1 <= ln.cap_bin:
            return True
        # step back bin by bin to the first with room, not behind where a is
        cur = a.s
        step = 1.0
        t = target - step
        while t > cur:
            s2 = t if fwd else ln.length - t
            b2 = min(int(s2), ln.nbins - 1)
            if ln.occ[b2] + 1 <= ln.cap_bin:
                a.s = t
                return False
            t -= step
        return False

    def records(self, t0_ms):
        """Reports due at the current time, as positions feed records (time = t0_ms + sim time)."""
        recs = []
        for a in self.agents:
            if a.next_report > self.t:
                continue
            a.next_report += a.every
            x, y, hd = self.position(a)
            lon, lat = to_lonlat(x, y)
            recs.append({"id": a.pid, "lon": round(lon, 7), "lat": round(lat, 7),
                         "time": int(t0_ms + self.t * 1000), "speed": round(a.v, 2), "heading": round(hd, 1)})
        return recs

    def gate_records(self, t0_ms):
        """The scenario's gates as gates feed records (id, location, capacity), for the live map."""
        out = []
        for g in self.sc.get("gates", []):
            lon, lat = to_lonlat(g["x"], g["y"])
            out.append({"id": g["id"], "lon": round(lon, 7), "lat": round(lat, 7), "capacity": 5000,
                        "in": 0, "out": 0, "time": int(t0_ms + self.t * 1000)})
        return out


# ---------------------------------------------------------------- scenarios
def _line(x0, y0, x1, y1):
    return [(x0, y0), (x1, y1)]


def make_scenarios():
    """The four made-up scenarios, small and fast: name -> scenario dict. Times in seconds."""
    sc = {}
    # two flows meeting at a junction J (0, 0) and going on east through one street narrower than
    # both together: a queue forms on both approaches (street 204, 2015)
    sc["merge"] = {
        "name": "merge", "duration": 2400,
        "links": {"north": (_line(-300, 300, 0, 0), 14), "south": (_line(-300, -300, 0, 0), 14),
                  "east": (_line(0, 0, 400, 0), 4)},
        "routes": {"n": [("north", True), ("east", True)], "s": [("south", True), ("east", True)]},
        "sources": [{"route": "n", "rate": 3.5, "start": 0, "end": 900},
                    {"route": "s", "rate": 3.5, "start": 0, "end": 900}],
    }
    # a 12 m street into a 3 m passage: capacity 3.9/s, inflow 6/s for 15 minutes
    sc["bottleneck"] = {
        "name": "bottleneck", "duration": 2400,
        "links": {"approach": (_line(-500, 0, 0, 0), 12), "passage": (_line(0, 0, 60, 0), 3),
                  "exit": (_line(60, 0, 400, 0), 12)},
        "routes": {"a": [("approach", True), ("passage", True), ("exit", True)]},
        "sources": [{"route": "a", "rate": 6.0, "start": 0, "end": 720}],
    }
    # a crowd walking north through a gate that is closed at 6 min and opened at 21 min
    sc["gate"] = {
        "name": "gate", "duration": 2400,
        "links": {"before": (_line(0, -500, 0, 0), 12), "after": (_line(0, 0, 0, 400), 12)},
        "routes": {"a": [("before", True), ("after", True)]},
        "sources": [{"route": "a", "rate": 4.0, "start": 0, "end": 1500}],
        "gates": [{"id": "GATE-FC1", "link": "after", "x": 0.0, "y": 0.0}],
        "events": [{"t": 360, "kind": "gate", "link": "after", "closed": True},
                   {"t": 1260, "kind": "gate", "link": "after", "closed": False}],
    }
    # a crowd walking east along a bent street that turns back at 12 min
    sc["reverse"] = {
        "name": "reverse", "duration": 2400,
        "links": {"street": ([(-600, 0), (0, 0), (300, 300)], 12), "square": (_line(300, 300, 500, 300), 30)},
        "routes": {"a": [("street", True), ("square", True)]},
        "sources": [{"route": "a", "rate": 5.0, "start": 0, "end": 1800}],
        "events": [{"t": 720, "kind": "reverse"}],
    }
    return sc


def scenario_geojson(sc):
    """(walkways, assets, zones) FeatureCollections of a scenario, in lon/lat: walkways carry
    `width` (m) and `name`; gates are assets of kind `gate`; one service zone covers the area."""
    ways, xs, ys = [], [], []
    for lid, (pts, w) in sc["links"].items():
        ways.append({"type": "Feature", "properties": {"name": lid, "width": float(w)},
                     "geometry": {"type": "LineString", "coordinates": [list(to_lonlat(x, y)) for x, y in pts]}})
        xs += [p[0] for p in pts]
        ys += [p[1] for p in pts]
    assets = [{"type": "Feature", "properties": {"asset_id": g["id"], "kind": "gate", "capacity": 5000},
               "geometry": {"type": "Point", "coordinates": list(to_lonlat(g["x"], g["y"]))}}
              for g in sc.get("gates", [])]
    x0, y0, x1, y1 = min(xs) - 60, min(ys) - 60, max(xs) + 60, max(ys) + 60
    ring = [list(to_lonlat(x, y)) for x, y in [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]]
    zones = [{"type": "Feature", "properties": {"zone_id": sc["name"].upper(), "name": sc["name"]},
              "geometry": {"type": "Polygon", "coordinates": [ring]}}]
    fc = lambda f: {"type": "FeatureCollection", "features": f}  # noqa: E731
    return fc(ways), fc(assets), fc(zones)


def scenario_bbox(sc, margin_m=80.0):
    xs = [p[0] for pts, _ in sc["links"].values() for p in pts]
    ys = [p[1] for pts, _ in sc["links"].values() for p in pts]
    w, s = to_lonlat(min(xs) - margin_m, min(ys) - margin_m)
    e, n = to_lonlat(max(xs) + margin_m, max(ys) + margin_m)
    return w, s, e, n
