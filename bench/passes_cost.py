#!/usr/bin/python3
"""What issue 13's background passes cost at N tracked people: each pass alone, all of them on, the
current build with all of them off, and the build before issue 13, side by side in one run.

  python3 bench/passes_cost.py --base-mashaer OLD/mashaer [--people N] [--reps R] [--paced-s S]
                               [--rate U] [--max-s S] [--tiles T] [--lines L] [--configs a,b,...]
  python3 bench/passes_cost.py --from-log OUTPUT [--people N] [--rate U]   (the table from a run's lines)

Configurations (one `mashaer serve` each, a fresh live folder every time):
  base        the build before issue 13 (--base-mashaer), positions without groups
  off         this build, every pass off: --track-hours 0 --playback-hours 0 --forecast-every 0, no
              counting line drawn, positions without groups (the dispersion pass scans nothing
              until a feed names a group)
  counting    off, plus L counting lines (default 16, 300 m each, drawn across the crowd)
  playback    off, plus --playback-hours 48
  track       off, plus --track-hours 6
  dispersion  off, plus positions that name their group (30,000 groups of 100)
  forecast    off, plus --forecast-every 30
  all         every pass on at once
  all_before  every pass on at once, another build (--before-mashaer: this branch's base, before the
              fixes of the hot paths)
Occupancy per zone and camp has no pass of its own: it is a division per zone inside the KPI
recompute, which every build runs; GET /kpi's compute_ms is printed for each configuration.

Each run: load everyone once (set A, not timed), then
  1. paced: rounds of everyone moved 15 m (sets B, A, B, ... each stamped with the time it is
     posted) at --rate updates/s for --paced-s seconds; the server's CPU seconds per second over
     it (/proc/PID/stat) is what the passes cost at that rate, against `off`;
  2. flat out: --clients connections posting the rounds as fast as they are answered for --max-s
     seconds while one more connection asks --tiles movement tiles (z16, 20 in turn): the ingest
     rate and the tiles' p99 and p50.
Memory is the server's resident size after the load and at the end. The configurations run in turn,
--reps times (base off counting ... all, base off ..., so the machine's load hits each alike); the
load average is printed before and after. Ratios are each configuration's median over `off`'s and
over `base`'s. Standard library only.
"""
import argparse, http.client, json, math, os, random, shutil, statistics, sys, tempfile, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import scratch  # noqa: E402

ALL = ["base", "off", "counting", "playback", "track", "dispersion", "forecast", "all", "all_before"]
ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--base-mashaer", help="the build before issue 13 (without it, `base` is left out)")
ap.add_argument("--before-mashaer", help="another build run as `all_before` (every pass on), e.g. before a change")
ap.add_argument("--people", type=int, default=3000000)
ap.add_argument("--batch", type=int, default=5000)
ap.add_argument("--clients", type=int, default=2)
ap.add_argument("--reps", type=int, default=2)
ap.add_argument("--rate", type=float, default=50000, help="paced updates per second")
ap.add_argument("--paced-s", type=float, default=30)
ap.add_argument("--max-s", type=float, default=15)
ap.add_argument("--tiles", type=int, default=1000)
ap.add_argument("--lines", type=int, default=16)
ap.add_argument("--configs", default=",".join(ALL))
ap.add_argument("--from-log", help="print the table from the `rep N config {...}` lines of an earlier run's output "
                                   "(a run cut short: the runs it finished)")
scratch.add_build_args(ap)
args = ap.parse_args()
configs = [c for c in args.configs.split(",")
           if args.from_log or (c != "base" or args.base_mashaer) and (c != "all_before" or args.before_mashaer)]
for c in configs:
    if c not in ALL:
        raise SystemExit("unknown configuration %r (%s)" % (c, ", ".join(ALL)))

STAMP = b"T" * 13  # replaced by the time of the post, in ms
LAYERS = ["sites", "service_zones", "camps", "site_walkways"]


def position_sets(people, batch, groups):
    """Two lists of NDJSON batch templates, everyone in groups of 100 (members 2 m apart around a spot
    spread over Mina as bench/ingest.py spreads people) and everyone again 15 m on in their group's
    direction; with `groups` each record names its group."""
    rnd = random.Random(11)
    spots = []
    for _ in range((people + 99) // 100):
        a = rnd.uniform(0, 2 * math.pi)
        spots.append((39.8925 + rnd.gauss(0, 0.01), 21.4131 + rnd.gauss(0, 0.006),
                      15 * math.cos(a) / 103600.0, 15 * math.sin(a) / 111000.0, int(math.degrees(a)) % 360))
    sets = ([], [])
    for start in range(0, people, batch):
        for k in (0, 1):
            lines = []
            for i in range(start, min(start + batch, people)):
                lon, lat, dx, dy, hd = spots[i // 100]
                g = ',"group":"G-%05d"' % (i // 100) if groups else ""
                lines.append('{"id":"P-%07d"%s,"lon":%.6f,"lat":%.6f,"time":%s,"speed":1.2,"heading":%d}'
                             % (i, g, lon + (i % 10) * 2e-5 + k * dx, lat + (i % 100 // 10) * 2e-5 + k * dy,
                                STAMP.decode(), hd))
            sets[k].append(("\n".join(lines) + "\n").encode())
    return sets


def counting_lines(n):
    """n lines of 300 m in two segments, at random places in the crowd and random angles."""
    rnd = random.Random(5)
    feats = []
    for i in range(n):
        lon, lat = 39.8925 + rnd.gauss(0, 0.008), 21.4131 + rnd.gauss(0, 0.005)
        a = rnd.uniform(0, math.pi)
        dx, dy = 75 * math.cos(a) / 103600.0, 75 * math.sin(a) / 111000.0
        coords = [[lon - 2 * dx, lat - 2 * dy], [lon + 0.3 * dy * 103600 / 111000, lat], [lon + 2 * dx, lat + 2 * dy]]
        feats.append({"type": "Feature", "properties": {"name": "bench line %d" % i},
                      "geometry": {"type": "LineString", "coordinates": coords}})
    return feats


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def post_rounds(port, token, sets, k, clients, counter, lock, deadline, rate=None):
    """Client k of `clients`: rounds of everyone (sets B, A, B, ...), each batch stamped when posted;
    with `rate`, batch j of a round is posted no sooner than its place in a round at that rate."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    n, rnd, t0 = 0, 0, time.monotonic()
    every = args.batch * clients / rate if rate else 0  # seconds between this client's batches
    sent = 0
    while time.monotonic() < deadline:
        rnd += 1
        bodies = sets[rnd % 2]
        for j in range(k, len(bodies), clients):
            if rate:
                due = t0 + (sent + k / clients) * every
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)  # pacing a load generator, not a synchronization
            if time.monotonic() > deadline:
                break
            stamp = str(int(time.time() * 1000)).encode()
            c.request("POST", "/feeds/positions", bodies[j].replace(STAMP, stamp),
                      {"Authorization": "Bearer " + token, "Content-Type": "application/x-ndjson"})
            r = c.getresponse()
            body = r.read()
            if r.status != 200:
                raise SystemExit("POST /feeds/positions: HTTP %d %r" % (r.status, body[:200]))
            n += json.loads(body)["accepted"]
            sent += 1
    with lock:
        counter[0] += n


def phase(port, token, sets, seconds, rate=None, tiles=0):
    lock, cnt, out = threading.Lock(), [0], {}
    deadline = time.monotonic() + seconds
    ts = [threading.Thread(target=post_rounds, args=(port, token, sets, k, args.clients, cnt, lock, deadline, rate))
          for k in range(args.clients)]
    if tiles:
        ts.append(threading.Thread(target=lambda: out.update(tiles=scratch.tile_latencies(port, scratch.movement_tiles(), tiles))))
    t0 = time.monotonic()
    [t.start() for t in ts]
    [t.join() for t in ts]
    return cnt[0] / (time.monotonic() - t0), out.get("tiles")


def get_json(port, path, token):
    st, _, body = scratch.request(port, "GET", path, headers={"Authorization": "Bearer " + token})
    return json.loads(body) if st == 200 else None


def metric(port, name):
    st, _, body = scratch.request(port, "GET", "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.split()[-1])
    return None


class Store:
    """A store with the demo layers for one binary, its tokens, and (lines=True) counting lines drawn
    at the first start."""

    def __init__(self, mashaer, lines):
        self.mashaer, self.lines = mashaer, lines
        self.work = tempfile.mkdtemp(prefix="msh-passes-")
        self.db = os.path.join(self.work, "bench.sqlite")
        scratch.import_layers(mashaer, self.db, LAYERS, args.source_dir, only_existing=True)
        self.feed = scratch.token(mashaer, self.db, "feed")
        self.admin = scratch.token(mashaer, self.db, "admin", "bench-admin")
        self.drawn = False

    def draw(self, port):
        if self.drawn:
            return
        for f in counting_lines(args.lines):
            st, _, body = scratch.request(port, "POST", "/ogc/collections/counting_lines/items", json.dumps(f).encode(),
                                          {"Authorization": "Bearer " + self.admin, "Content-Type": "application/geo+json"})
            if st != 201:
                raise SystemExit("drawing a counting line: HTTP %d %r" % (st, body[:200]))
        self.drawn = True

    def lines_in_force(self, port):
        doc = get_json(port, "/kpi", self.admin) or {}
        return len(doc.get("counting_lines", []))


# configuration: (flag, value on, value off)
PASS_FLAGS = {"track": ("--track-hours", "6", "0"), "playback": ("--playback-hours", "48", "0"),
              "forecast": ("--forecast-every", "30", "0")}


def flags_of(cfg):
    if cfg == "base":
        return []
    out = []
    for k, (flag, on, off) in PASS_FLAGS.items():
        out += [flag, on if cfg in (k, "all", "all_before") else off]
    return out


def run(cfg, store, sets):
    live = tempfile.mkdtemp(prefix="msh-passes-live-")
    srv, port = scratch.serve(args, store.db, "--snapshot-s", "3600", "--position-max-age", "86400", "--live-dir", live,
                              *flags_of(cfg), mashaer=store.mashaer, die_with_parent=True)
    try:
        r = {"load_avg_start": float(loadavg())}
        if store.lines:
            store.draw(port)
            t = time.monotonic()
            while store.lines_in_force(port) < args.lines:  # the reload thread puts drawn lines in force
                if time.monotonic() - t > 60:
                    raise SystemExit("counting lines not in force after 60 s")
                time.sleep(0.2)
        scratch.load_batches(port, store.feed, [b.replace(STAMP, str(int(time.time() * 1000)).encode()) for b in sets[0]],
                             args.clients)
        r["rss_loaded_mb"] = scratch.memory_kb(srv.pid)["VmRSS"] / 1024
        c0, w0 = cpu_s(srv.pid), time.monotonic()
        r["paced_rate"], _ = phase(port, store.feed, sets, args.paced_s, rate=args.rate)
        r["cpu_per_s"] = (cpu_s(srv.pid) - c0) / (time.monotonic() - w0)
        c0, w0 = cpu_s(srv.pid), time.monotonic()
        r["max_rate"], (r["tile_p99_ms"], r["tile_p50_ms"]) = phase(port, store.feed, sets, args.max_s, tiles=args.tiles)
        r["max_cpu_per_s"] = (cpu_s(srv.pid) - c0) / (time.monotonic() - w0)
        r["rss_end_mb"] = scratch.memory_kb(srv.pid)["VmRSS"] / 1024
        kpi = get_json(port, "/kpi", store.admin) or {}
        r["kpi_compute_ms"] = kpi.get("compute_ms")
        if cfg in ("playback", "all", "all_before"):
            pb = get_json(port, "/playback", store.admin) or {}
            lm = pb.get("last_minute") or {}
            r["playback_cpu_ms"], r["playback_lock_ms"] = lm.get("cpu_ms"), lm.get("lock_ms")
        if cfg in ("forecast", "all", "all_before"):
            cpu = metric(port, "mashaer_forecast_refresh_cpu_seconds")
            r["forecast_cpu_ms"] = cpu * 1000 if cpu is not None else None
        r["load_avg_end"] = float(loadavg())
        return r
    finally:
        scratch.stop(srv)
        shutil.rmtree(live, ignore_errors=True)


def summarize(res, configs, reps):
    def med(cfg, key):
        v = [r[key] for r in res.get(cfg, []) if r.get(key) is not None]
        return statistics.median(v) if v else float("nan")

    rows = [("paced updates/s (asked %d)" % args.rate, "paced_rate", "%.0f"),
            ("server CPU s per s, paced", "cpu_per_s", "%.3f"),
            ("updates/s flat out", "max_rate", "%.0f"),
            ("movement tile p99 ms", "tile_p99_ms", "%.1f"),
            ("movement tile p50 ms", "tile_p50_ms", "%.1f"),
            ("resident MB after the load", "rss_loaded_mb", "%.0f"),
            ("resident MB at the end", "rss_end_mb", "%.0f"),
            ("KPI recompute ms", "kpi_compute_ms", "%.1f")]
    print("\nmedians of the runs (at most %d a configuration: %s), %d people, %d counting lines"
          % (reps, ", ".join("%s %d" % (c, len(res[c])) for c in configs), args.people, args.lines))
    print("%-30s" % "" + "".join("%12s" % c for c in configs))
    for label, key, fmt in rows:
        print("%-30s" % label + "".join("%12s" % (fmt % med(c, key)) for c in configs))
    for ref in ("off", "base"):
        if ref not in res:
            continue
        for label, key in (("CPU/s paced", "cpu_per_s"), ("updates/s flat out", "max_rate"), ("tile p99", "tile_p99_ms")):
            print("%-30s" % ("%s / %s" % (label, ref)) + "".join("%12.2f" % (med(c, key) / med(ref, key)) for c in configs))
    print("%-30s" % "extra CPU s per s over off" + "".join("%12.3f" % (med(c, "cpu_per_s") - med("off", "cpu_per_s")) for c in configs))
    print("%-30s" % "extra MB at the end over off" + "".join("%12.0f" % (med(c, "rss_end_mb") - med("off", "rss_end_mb")) for c in configs))
    for key in ("playback_cpu_ms", "playback_lock_ms", "forecast_cpu_ms"):
        for c in configs:
            if any(r.get(key) is not None for r in res[c]):
                print("%s %s: %s" % (c, key, [r.get(key) for r in res[c]]))


if args.from_log:
    res = {c: [] for c in configs}
    with open(args.from_log) as f:
        for line in f:
            if line.startswith("rep "):
                _, _, cfg, doc = line.split(None, 3)
                if cfg in res:
                    res[cfg].append(json.loads(doc))
    configs = [c for c in configs if res[c]]
    summarize(res, configs, max(len(v) for v in res.values()))
    sys.exit(0)
print("making %d people's positions (two sets, with and without groups) ..." % args.people, flush=True)
plain, grouped = position_sets(args.people, args.batch, False), position_sets(args.people, args.batch, True)
stores = {"cur": Store(args.mashaer, False), "lines": Store(args.mashaer, True)}
if "base" in configs:
    stores["base"] = Store(args.base_mashaer, False)
if "all_before" in configs:
    stores["before"] = Store(args.before_mashaer, True)
res = {c: [] for c in configs}
print("load average at the start: %s" % loadavg(), flush=True)
for rep in range(args.reps):
    for cfg in configs:
        store = stores[{"base": "base", "all_before": "before", "counting": "lines", "all": "lines"}.get(cfg, "cur")]
        r = run(cfg, store, grouped if cfg in ("dispersion", "all", "all_before") else plain)
        res[cfg].append(r)
        print("rep %d %-10s %s" % (rep + 1, cfg, json.dumps(r)), flush=True)
print("load average at the end: %s" % loadavg())
summarize(res, configs, args.reps)
print(json.dumps(res))
for st in stores.values():
    shutil.rmtree(st.work, ignore_errors=True)


