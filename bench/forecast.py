#!/usr/bin/python3
"""Crowd density forecast evaluation (issue 16): replay scenarios into a real server, keep what each
model forecast at T for T+M, compare with what the live state shows at T+M.

  python3 bench/forecast.py [--scenarios merge,bottleneck,gate,reverse,hajj] [--horizons 5,10,20,30]
                            [--json OUT] [--md OUT] [--mashaer build/mashaer]
  python3 bench/forecast.py --from-json OUT [--md OUT.md]     # the tables again, no run
  python3 bench/forecast.py --from-dump DUMP [--scenarios ..] [--json OUT] [--md OUT.md]  # scored again from --dump

Per scenario: a store in a temporary folder (`mashaer import` of the scenario's walkways with their
widths, its gates as assets of kind gate, one service zone; the demo layers for `hajj`, its walkways
with `--hajj-width` as their width), an admin
token, `mashaer serve --test-clock --k-anon 1 --position-max-age 60` (every person counted: the
evaluation compares counts, k-anonymity is the endpoints' business), and the ground truth played
in: the agent simulator of bench/lib/pedsim.py, or for `hajj` the server's own Hajj simulator
(`mashaer simulate --dry-run --stamp sim`, its records' times moved to the test clock). Time runs on a
grid of --step seconds: POST /test/clock?advance_s=N moves the server's clock to just past each grid
time (the wall time the harness spends is taken off), the simulator is stepped to it, and the
records it emitted (each stamped with its own time) are posted to /feeds/positions.
Every --issue-every seconds (an issue step):
  - POST /forecast/refresh (when the server has the forecast);
  - the observed cells: GET /forecast/density?minutes=0, or without the forecast endpoint the live
    movement cells from /ogc/collections/movement/items (the 8.9 m cells, same counts);
  - for each model and horizon M, what it says for T+M: GET /forecast/density?minutes=M&model=...;
    the baselines `persistence` and `advection` come from the server when it answers `model=` and
    are computed here from the observed cells otherwise (bench/lib/fceval.py; the table says which).
Then each forecast is compared with the observation M minutes later (fceval.compare: the cells,
the levels and the lead-time rule are written there and in docs/BENCHMARKS.md). Output: a text
table per scenario x model x horizon, and the same as JSON (--json).

The server is stopped on every exit path (try/finally; the child also dies with this process:
PR_SET_PDEATHSIG). Measured pedestrian data (the Juelich experiments) is not reachable offline, so
every scenario here is simulated.
"""
import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import fceval  # noqa: E402
import pedsim  # noqa: E402
import scratch  # noqa: E402

MOVING = ["merge", "bottleneck", "gate", "reverse", "hajj"]


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenarios", default=",".join(MOVING))
    ap.add_argument("--models", default="forecast,persistence,advection",
                    help="'forecast' is the server's model (no model= parameter); the others are baselines")
    ap.add_argument("--horizons", default="5,10,20,30", help="minutes ahead (each in 5,10,15,20,30)")
    ap.add_argument("--issue-every", type=int, default=60, help="seconds between issue times")
    ap.add_argument("--step", type=int, default=10, help="seconds the test clock moves at a time")
    ap.add_argument("--minutes", type=float, default=0, help="scenario length in minutes (0: its own)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hajj-pilgrims", type=int, default=30000)
    ap.add_argument("--hajj-report-s", type=int, default=30, help="seconds between a pilgrim's reports")
    ap.add_argument("--hajj-width", type=float, default=21,
                    help="hajj: the walkways' width_m given to the forecast (the simulator's; 0: none, 4 m)")
    ap.add_argument("--hajj-start", default="2026-05-27T06:00:00Z",
                    help="simulated start of the hajj scenario (the 10th, stoning at the Jamarat)")
    ap.add_argument("--json", default="", help="write the results as JSON here")
    ap.add_argument("--md", default="", help="write the results as a Markdown table here")
    ap.add_argument("--from-json", default="", help="no run: print the tables of an earlier --json")
    ap.add_argument("--from-dump", default="", help="no run: score again the --dump files DUMP.SCENARIO.json of "
                    "the scenarios named by --scenarios (the horizons and models asked for)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folders")
    ap.add_argument("--plan", action="store_true",
                    help="give the server the scenario's planned movements: its sources as a --forecast-schedule "
                    "file (group, size, origin, destination, departure window), a reversal as a return group in "
                    "it, and a gate's reopening time as the operator closing it would (reopens_at); for hajj, the "
                    "group departures of the simulator's own run (mashaer simulate --schedule-out)")
    ap.add_argument("--dump", default="", help="write every observed and forecast cell here as JSON, one file a "
                    "scenario (DUMP.SCENARIO.json), for per-cell error analysis (bench/fc_cells.py)")
    scratch.add_build_args(ap)
    return ap.parse_args(argv)


# ---------------------------------------------------------------- the server
class Harness:
    """One scenario's server: store, token, process; requests with the admin token."""

    def __init__(self, args, work):
        self.args, self.work = args, work
        self.db = os.path.join(work, "fc.sqlite") if work else None
        self.srv = None
        self.notes = []
        self.plan_t0 = None  # with --plan: the scenario start the plan was written for (server ms)
        self.refreshed_ms = None  # the clock at the last POST /forecast/refresh

    @classmethod
    def attached(cls, port, token):
        """A harness for a server started elsewhere (the tests' mshtest.Server)."""
        h = cls(None, None)
        h.port, h.token = port, token
        return h

    def import_fc(self, layer, fc):
        path = os.path.join(self.work, layer + ".geojson")
        with open(path, "w") as f:
            json.dump(fc, f)
        if fc["features"]:
            subprocess.run([self.args.mashaer, "import", "-q", "--db", self.db, "--layer", layer, path], check=True)

    def start(self, schedule=""):
        self.token = scratch.token(self.args.mashaer, self.db, "admin", "fceval")
        helptext = subprocess.run([self.args.mashaer, "serve", "--help"], capture_output=True, text=True).stdout
        flags = ["--test-clock", "--k-anon", "1", "--position-max-age", "60", "--snapshot-s", "3600"]
        if schedule:
            flags += ["--forecast-schedule", schedule]
        if "--forecast-every" in helptext:
            flags += ["--forecast-every", "3600"]  # refreshed by the harness at each issue time
        self.srv, self.port = scratch.serve(self.args, self.db, *flags, die_with_parent=True)

    def stop(self):
        if self.srv is not None:
            scratch.stop(self.srv)
            self.srv = None

    def req(self, method, path, body=None, ctype="application/json"):
        h = {"Authorization": "Bearer " + self.token}
        if body is not None:
            h["Content-Type"] = ctype
        st, hd, data = scratch.request(self.port, method, path, body, h)
        return st, data

    def clock(self, advance_s):
        st, data = self.req("POST", "/test/clock?advance_s=%d" % advance_s)
        if st != 200:
            raise SystemExit("POST /test/clock: %d %r" % (st, data[:200]))
        return json.loads(data)["now_ms"]

    def post_positions(self, recs):
        self.post_feed("positions", recs)

    def post_feed(self, feed, recs):
        """POST the records in batches of 5,000; every one must be accepted."""
        for i in range(0, len(recs), 5000):
            part = recs[i:i + 5000]
            body = ("\n".join(json.dumps(r, separators=(",", ":")) for r in part) + "\n").encode()
            st, data = self.req("POST", "/feeds/" + feed, body, "application/x-ndjson")
            res = json.loads(data) if st == 200 else {}
            if st != 200 or res.get("accepted") != len(part):
                raise SystemExit("POST /feeds/%s: %d %r" % (feed, st, data[:300]))

    def set_gate(self, gid, closed, reopens_ms=None):
        """An operator closes or opens the gate (PATCH with the item's ETag), closing it with the time
        it is planned to reopen when reopens_ms (server ms) is given; a failure is noted."""
        path = "/ogc/collections/gates/items/" + gid
        auth = {"Authorization": "Bearer " + self.token}
        st, hd, _ = scratch.request(self.port, "GET", path, None, auth)
        patch = {"state": "closed" if closed else "open", "reason": "fceval"}
        if closed and reopens_ms is not None:
            patch["reopens_at"] = iso_of(reopens_ms)
        body = json.dumps(patch).encode()
        st, _, data = scratch.request(self.port, "PATCH", path, body, dict(
            auth, **{"If-Match": hd.get("etag", "*"), "Content-Type": "application/merge-patch+json"}))
        if st != 200:
            self.notes.append("gate %s PATCH answered %d %s" % (gid, st, data[:120].decode("utf-8", "replace")))

    def forecast(self, minutes, bbox, model=None):
        """Cells of GET /forecast/density, or None when the server answers 404 (no such model or
        endpoint) or 400 (a model= it does not know)."""
        q = {"minutes": str(minutes), "bbox": ",".join("%.7f" % v for v in bbox)}
        if model:
            q["model"] = model
        st, data = self.req("GET", "/forecast/density?" + urllib.parse.urlencode(q))
        if st in (400, 404):
            return None
        if st != 200:
            raise SystemExit("GET /forecast/density: %d %r" % (st, data[:300]))
        feats = json.loads(data)["features"]
        if minutes and self.refreshed_ms is not None:  # a forecast older than the last refresh is noted
            stale = [f for f in feats if iso_ms((f.get("properties") or {}).get("issued_at", "")) < self.refreshed_ms]
            if stale:
                self.notes.append("%d cells of minutes=%s issued before the refresh" % (len(stale), minutes))
        return fceval.cells_from_features(feats)

    def movement(self, bbox):
        """The live 8.9 m movement cells under bbox (OGC items, every page)."""
        path = "/ogc/collections/movement/items?" + urllib.parse.urlencode(
            {"bbox": ",".join("%.7f" % v for v in bbox), "limit": "10000"})
        feats = []
        while path:
            st, data = self.req("GET", path)
            if st != 200:
                raise SystemExit("GET %s: %d %r" % (path, st, data[:300]))
            doc = json.loads(data)
            feats += doc["features"]
            nxt = [l["href"] for l in doc.get("links", []) if l.get("rel") == "next"]
            path = urllib.parse.urlsplit(nxt[0])._replace(scheme="", netloc="").geturl() if nxt else None
        return fceval.cells_from_features(feats)


# ---------------------------------------------------------------- ground truth sources
class PedSource:
    """pedsim stepped to a time; its records and its events (gate changes) since the last call."""

    def __init__(self, sc, seed):
        self.sc = sc
        self.sim = pedsim.Sim(sc, seed)
        self.duration = sc["duration"]
        self.bbox = pedsim.scenario_bbox(sc)

    def layers(self):
        ways, assets, zones = pedsim.scenario_geojson(self.sc)
        return {"walkways": ways, "assets": assets, "service_zones": zones}

    def plan(self, t0_ms):
        """The scenario's planned movements (a --forecast-schedule JSON list). Each source is a group
        walking its route from the first link's start to the last link's end, size = rate x window. A
        reversal is a planned return: nobody sets out after it, and at its time a return group (size 0:
        only the people on the way) from the route's far end back to its start turns them round."""
        out = []
        turn = next((e["t"] for e in self.sc.get("events", []) if e["kind"] == "reverse"), None)
        for i, so in enumerate(self.sc["sources"]):
            route = self.sc["routes"][so["route"]]
            (l0, f0), (l1, f1) = route[0], route[-1]
            p0 = self.sc["links"][l0][0][0 if f0 else -1]
            p1 = self.sc["links"][l1][0][-1 if f1 else 0]
            end = so["end"] if turn is None else min(so["end"], turn)
            out.append({"group": "S%d" % i, "size": round(so["rate"] * (end - so["start"])),
                        "origin": list(pedsim.to_lonlat(*p0)), "destination": list(pedsim.to_lonlat(*p1)),
                        "depart_from": iso_of(t0_ms + so["start"] * 1000),
                        "depart_to": iso_of(t0_ms + end * 1000)})
            if turn is not None:
                out.append({"group": "S%d-return" % i, "size": 0, "return": True,
                            "origin": list(pedsim.to_lonlat(*p1)), "destination": list(pedsim.to_lonlat(*p0)),
                            "depart_from": iso_of(t0_ms + turn * 1000),
                            "depart_to": iso_of(t0_ms + (turn + 60) * 1000)})
        return out

    def reopening(self, event):
        """With --plan, when a gate closing is followed by its opening: the opening's time (s), else None."""
        later = [e["t"] for e in self.sc.get("events", [])
                 if e["kind"] == "gate" and e["link"] == event["link"] and not e["closed"] and e["t"] > event["t"]]
        return min(later) if later and event["closed"] else None

    def advance(self, t_s, t0_ms):
        recs, events = [], []
        before = {id(e) for e in self.sc.get("events", []) if e.get("_done")}
        while self.sim.t + pedsim.DT <= t_s + 1e-9:
            self.sim.step()
            recs += self.sim.records(t0_ms)
        for e in self.sc.get("events", []):
            if e.get("_done") and id(e) not in before and e["kind"] == "gate":
                events.append(e)
        return recs, events


def hajj_walkways(args, work):
    """The demo's walkways (OpenStreetMap lines, no widths), each given --hajj-width as its `width_m`:
    the width the simulator walks them at (it counts a group's density over the 3 x 3 cells of 20 m
    around it, 35 % of that walkway: 0.35 x 3 x 20 m = 21 m of walkway across them), as a site's
    survey would give the forecast its streets' widths. 0: no width (the forecast's default, 4 m)."""
    path = os.path.join(args.source_dir or os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."),
                        "data", "demo", "walkways.geojson")
    with open(path) as f:
        fc = json.load(f)
    if args.hajj_width > 0:
        for ft in fc["features"]:
            ft["properties"]["width_m"] = args.hajj_width
    return fc


class HajjSource:
    """The server's own Hajj simulator (mashaer simulate --dry-run), its times moved to the test clock."""

    def __init__(self, args, work):
        self.args = args
        self.duration = int(args.minutes * 60) if args.minutes else 2400
        out = os.path.join(work, "hajj.ndjson")
        ticks = self.duration // 10 + 1
        # with --plan the same run writes its group departures onto the walkways as a schedule
        self.schedule = os.path.join(work, "hajj-departures.json") if args.plan else ""
        with open(out, "w") as f:
            subprocess.run([args.mashaer, "simulate", "--dry-run", "--fast", "-q", "--feeds", "positions",
                            "--stamp", "sim", "--pilgrims", str(args.hajj_pilgrims),
                            "--rate", str(max(1, args.hajj_pilgrims // args.hajj_report_s)), "--tick-ms", "10000",
                            "--speedup", "1", "--ticks", str(ticks), "--seed", str(args.seed),
                            "--start", args.hajj_start] + (["--schedule-out", self.schedule] if self.schedule else []),
                           stdout=f, check=True)
        self.recs = []
        start_ms = None
        with open(out) as f:
            for line in f:
                r = json.loads(line)
                t = iso_ms(r["time"])
                start_ms = t if start_ms is None else min(start_ms, t)
                self.recs.append((t, r))
        self.recs.sort(key=lambda tr: tr[0])
        self.start_ms = start_ms - 10000  # the first tick's records are stamped one tick after --start
        self.i = 0
        xs = [r["lon"] for _, r in self.recs]
        ys = [r["lat"] for _, r in self.recs]
        self.bbox = (min(xs) - 0.001, min(ys) - 0.001, max(xs) + 0.001, max(ys) + 0.001)

    def layers(self):
        return None

    def plan(self, t0_ms):
        """The simulator's own plan (`mashaer simulate --schedule-out`): every group departure onto the
        walkways in the window, its times moved onto the test clock as the records' are."""
        with open(self.schedule) as f:
            groups = json.load(f)
        for g in groups:
            for k in ("depart_from", "depart_to"):
                g[k] = iso_of(t0_ms + iso_ms(g[k]) - self.start_ms, frac=True)
        return groups

    def advance(self, t_s, t0_ms):
        out = []
        lim = self.start_ms + t_s * 1000
        while self.i < len(self.recs) and self.recs[self.i][0] <= lim:
            t, r = self.recs[self.i]
            r = dict(r, time=t0_ms + (t - self.start_ms))
            out.append(r)
            self.i += 1
        return out, []


def iso_of(ms, frac=False):
    """ISO 8601 UTC of milliseconds since the epoch (with frac, to the millisecond)."""
    ms = int(ms)
    tail = ".%03dZ" % (ms % 1000) if frac else "Z"
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + tail


def iso_ms(s):
    """Unix ms of an ISO 8601 time with its zone ('Z' or an offset); -1 when it is not one."""
    import datetime
    try:
        t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return -1
    return int(t.timestamp() * 1000) if t.tzinfo else -1


# ---------------------------------------------------------------- one scenario
def run_scenario(args, name, horizons, models):
    work = tempfile.mkdtemp(prefix="msh-fceval-%s-" % name)
    h = Harness(args, work)
    try:
        if name == "hajj":
            src = HajjSource(args, work)
            scratch.import_layers(args.mashaer, h.db, ["assets", "service_zones", "sites"],
                                  args.source_dir, only_existing=True)
            h.import_fc("walkways", hajj_walkways(args, work))
        else:
            sc = pedsim.make_scenarios()[name]
            if args.minutes:
                sc["duration"] = int(args.minutes * 60)
            src = PedSource(sc, args.seed)
            for layer, fc in src.layers().items():
                h.import_fc(layer, fc)
        schedule = ""
        if args.plan:
            # the server's test clock starts at the wall clock; the scenario starts at the first clock
            # call after the start, a few seconds later (the gap is noted)
            h.plan_t0 = int(time.time() * 1000) + 2000
            schedule = os.path.join(work, "plan.json")
            with open(schedule, "w") as f:
                json.dump(src.plan(h.plan_t0), f)
        h.start(schedule)
        return evaluate(args, h, src, horizons, models,
                        dump="%s.%s.json" % (args.dump, name) if args.dump else "")
    finally:
        h.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def dump_cells(path, observed, forecasts):
    """Every observed cell per issue step and every forecast cell per (model, step, horizon), as
    [level, cx, cy, count, p_f] rows."""
    def rows(cells):
        return [[k[0], k[1], k[2], round(c.count, 3), c.p_f] for k, c in sorted(cells.items())]
    doc = {"observed": {str(k): rows(c) for k, c in observed.items()},
           "forecasts": {m: {"%d,%d" % kh: rows(c) for kh, c in fs.items() if c is not None}
                         for m, fs in forecasts.items()}}
    with open(path, "w") as f:
        json.dump(doc, f)


def evaluate(args, h, src, horizons, models, dump=""):
    # the first forecast is made at start, off the request path: wait for one (404: no forecast)
    st, data = h.req("POST", "/forecast/refresh")
    if st not in (200, 404):
        raise SystemExit("POST /forecast/refresh: %d %r" % (st, data[:300]))
    has_fc = h.forecast(0, src.bbox) is not None
    served = {}  # model -> served by the server (True) or computed here (False)
    for m in models:
        if m == "forecast":
            served[m] = has_fc
        else:
            served[m] = has_fc and h.forecast(horizons[0], src.bbox, m) is not None
    t0 = h.clock(0)
    if h.plan_t0:
        h.notes.append("the plan's times are %.1f s off the scenario's" % ((h.plan_t0 - t0) / 1000.0))
    gates_posted = False
    observed, forecasts = {}, {m: {} for m in models}
    step_per_issue = args.issue_every
    k_last = -1
    t, now, mono = 0, t0, time.monotonic()
    while t < src.duration:
        # the scenario runs on a grid of --step seconds; the server's clock (the wall clock plus the
        # test clock's lead) is moved to just past each grid time, so the wall time the harness takes
        # does not shift what is observed when (the run is deterministic for a seed)
        t += args.step
        ahead = now + (time.monotonic() - mono) * 1000.0 - t0  # ms the server is at now
        now = h.clock(max(0, int(math.ceil((t * 1000.0 - ahead) / 1000.0))))
        mono = time.monotonic()
        recs, events = src.advance(t, t0)
        if recs:
            h.post_positions(recs)
        if isinstance(src, PedSource) and not gates_posted and src.sc.get("gates"):
            h.post_feed("gates", src.sim.gate_records(t0))
            gates_posted = True
        for e in events:  # with --plan the operator closing the gate says when it reopens
            back = src.reopening(e) if h.plan_t0 else None
            h.set_gate(src.sc["gates"][0]["id"], e["closed"], None if back is None else t0 + back * 1000)
        k = int(t // step_per_issue)
        if k == k_last:
            continue
        k_last = k
        if has_fc:
            h.refreshed_ms = now - 1000  # issued_at may be rounded down to the second
            st, data = h.req("POST", "/forecast/refresh")
            if st != 200:
                raise SystemExit("POST /forecast/refresh: %d %r" % (st, data[:300]))
            obs = h.forecast(0, src.bbox)
        else:
            obs = h.movement(src.bbox)
        observed[k] = obs
        for m in models:
            for hz in horizons:
                if served[m]:
                    forecasts[m][(k, hz)] = h.forecast(hz, src.bbox, None if m == "forecast" else m)
                elif m in fceval.BASELINES:
                    forecasts[m][(k, hz)] = fceval.BASELINES[m](obs, hz)
    if dump:
        dump_cells(dump, observed, forecasts)
    out, onsets = score(observed, forecasts, [m for m in models if m != "forecast" or served[m]], horizons,
                        served, step_per_issue)
    return {"models": out, "issues": len(observed), "f_cells": len(onsets), "notes": h.notes,
            "forecast_endpoint": has_fc, "plan": bool(h.plan_t0), "seed": args.seed}


def score(observed, forecasts, models, horizons, served, step_per_issue):
    """Every model's errors, levels and lead times; each horizon's also over the cells common to all
    the models (`same_cells`: fceval.common_cells)."""
    first_issue = min(observed)
    onsets = fceval.f_onsets(observed)
    out = {}
    for m in models:
        out[m] = {"served": served[m], "horizons": {}}
        for hz in horizons:
            parts, same = [], []
            for (k, hh), f in forecasts[m].items():
                target = k + hz * 60 // step_per_issue
                if hh == hz and target in observed and f is not None:
                    parts.append(fceval.compare(f, observed[target]))
                    keys = fceval.common_cells([forecasts[o].get((k, hz)) for o in models], observed[target])
                    same.append(fceval.compare(f, observed[target], keys))
            out[m]["horizons"][hz] = fceval.summarise(parts)
            out[m]["horizons"][hz]["same_cells"] = fceval.summarise(same)
        leads = fceval.lead_times(onsets, forecasts[m], horizons, first_issue, step_per_issue)
        out[m]["lead"] = fceval.lead_summary(leads)
    return out, onsets


def from_dump(args, name, horizons, models):
    """A scenario's results again from its --dump file (no server): the same scoring."""
    with open("%s.%s.json" % (args.from_dump, name)) as f:
        doc = json.load(f)

    def cells(rows):
        return {(r[0], r[1], r[2]): fceval.Cell(r[3], 0.0, 0.0, None, r[4]) for r in rows}
    observed = {int(k): cells(v) for k, v in doc["observed"].items()}
    forecasts = {m: {tuple(int(x) for x in k.split(",")): cells(v) for k, v in doc["forecasts"][m].items()}
                 for m in models if m in doc["forecasts"]}
    present = [m for m in models if m in forecasts]
    out, onsets = score(observed, forecasts, present, horizons, {m: True for m in present}, args.issue_every)
    return {"models": out, "issues": len(observed), "f_cells": len(onsets),
            "notes": ["scored again from %s.%s.json" % (os.path.basename(args.from_dump), name)],
            "forecast_endpoint": True}


# ---------------------------------------------------------------- report
def fmt(v, pat="%.3f"):
    return "-" if v is None else pat % v


def table(results, horizons):
    lines = ["%-10s %-12s %3s %6s %7s %7s %6s %6s %6s %6s %6s %8s %7s" % (
        "scenario", "model", "min", "cells", "MAE", "RMSE", "P(E+)", "R(E+)", "P(F)", "R(F)", "F-on",
        "lead-med", "lead10")]
    for sc, res, models in ordered(results):
        for m, mr in models:
            label = m if mr["served"] or m == "forecast" else m + "*"
            for hz in horizons:
                r = mr["horizons"][hz]
                ld = mr["lead"]
                lines.append("%-10s %-12s %3d %6d %7s %7s %6s %6s %6s %6s %6d %8s %7s" % (
                    sc, label, hz, r["cells"], fmt(r["mae"]), fmt(r["rmse"]), fmt(r["precision_E"], "%.2f"),
                    fmt(r["recall_E"], "%.2f"), fmt(r["precision_F"], "%.2f"), fmt(r["recall_F"], "%.2f"),
                    ld["f_onsets"], fmt(ld["median_lead_min"], "%g"), fmt(ld["warned_10min"], "%.2f")))
    lines.append("* computed by the harness from the observed cells (the server has no model= of that name)")
    for sc, res, _ in ordered(results):
        lines.append("%s: %d issue times, %d cells reached F, %.0f s; observed: %s%s" % (
            sc, res["issues"], res["f_cells"], res.get("seconds", 0),
            "GET /forecast/density?minutes=0" if res["forecast_endpoint"]
            else "the live movement cells (/ogc/collections/movement/items; the server has no /forecast)",
            "".join("; " + n for n in res["notes"])))
    return "\n".join(lines)


MODEL_ORDER = ["forecast", "persistence", "advection"]


def ordered(results):
    """(scenario, result, [(model, its result)]) in the order of MOVING and MODEL_ORDER (JSON sorts keys)."""
    rank = lambda name, order: (order.index(name) if name in order else len(order), name)  # noqa: E731
    for sc in sorted(results, key=lambda n: rank(n, MOVING)):
        res = results[sc]
        yield sc, res, sorted(res["models"].items(), key=lambda kv: rank(kv[0], MODEL_ORDER))


def markdown(results, horizons):
    """The table of docs/BENCHMARKS.md: per scenario, horizon and model, with the density error
    relative to persistence's (the goal: -40% or better at 10 and 20 minutes)."""
    out = ["| scenario | min | model | cells | MAE | RMSE | MAE vs persistence | same cells: MAE, vs persistence "
           "| P / R (E+) | P / R (F) | F onsets | median lead | warned >= 10 min |", "|" + "---|" * 13]
    for sc, res, models in ordered(results):
        for hz in horizons:
            ph = res["models"].get("persistence", {}).get("horizons", {}).get(hz, {})
            pers, pers_same = ph.get("mae"), (ph.get("same_cells") or {}).get("mae")
            for m, mr in models:
                r, ld = mr["horizons"][hz], mr["lead"]
                rel = "%+.0f%%" % (100.0 * (r["mae"] / pers - 1.0)) if pers and r["mae"] is not None else "-"
                same = (r.get("same_cells") or {}).get("mae")
                rel_same = "%s, %s" % (fmt(same), "%+.0f%%" % (100.0 * (same / pers_same - 1.0))
                                       if pers_same and same is not None else "-")
                out.append("| %s | %d | %s | %d | %s | %s | %s | %s | %s / %s | %s / %s | %d | %s | %s |" % (
                    sc, hz, m + ("" if mr["served"] or m == "forecast" else "*"), r["cells"], fmt(r["mae"]),
                    fmt(r["rmse"]), rel, rel_same, fmt(r["precision_E"], "%.2f"), fmt(r["recall_E"], "%.2f"),
                    fmt(r["precision_F"], "%.2f"), fmt(r["recall_F"], "%.2f"), ld["f_onsets"],
                    fmt(ld["median_lead_min"], "%g"), fmt(ld["warned_10min"], "%.2f")))
    return "\n".join(out)


def main(argv=None):
    args = parse_args(argv)
    args.mashaer = os.path.abspath(args.mashaer)
    horizons = [int(v) for v in args.horizons.split(",")]
    models = args.models.split(",")
    signal.signal(signal.SIGTERM, lambda *a: sys.exit("stopped by SIGTERM"))
    results = {}
    if args.from_json:
        with open(args.from_json) as f:
            results = json.load(f)
        for res in results.values():  # JSON keys are text
            for mr in res["models"].values():
                mr["horizons"] = {int(k): v for k, v in mr["horizons"].items()}
        horizons = sorted(next(iter(next(iter(results.values()))["models"].values()))["horizons"])
    for name in args.scenarios.split(",") if args.from_dump else []:
        results[name] = from_dump(args, name, horizons, models)
    for name in [] if args.from_json or args.from_dump else args.scenarios.split(","):
        t = time.monotonic()
        results[name] = run_scenario(args, name, horizons, models)
        results[name]["seconds"] = time.monotonic() - t
        sys.stderr.write("%s: %d issue times, %d cells reached F\n" % (name, results[name]["issues"],
                                                                       results[name]["f_cells"]))
    print(table(results, horizons))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    if args.md:
        with open(args.md, "w") as f:
            f.write(markdown(results, horizons) + "\n")
    return results


if __name__ == "__main__":
    main()
