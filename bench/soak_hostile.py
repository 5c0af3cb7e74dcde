#!/usr/bin/python3
"""Hostile soak: the simulator at full rate plus attackers, for a long time; nothing acknowledged lost, memory flat.

  python3 bench/soak_hostile.py [--minutes 30] [--mashaer build/mashaer] [--pilgrims 100000] [--rate 20000]
                                [--slow 2000] [--sse 200] [--expensive 4] [--out FILE.json] [-- serve options]

What runs at once against one `mashaer serve` on a copy of the demo store:
  * `mashaer simulate` at its full rate (crowd, crews, gates, sensors, incidents);
  * a ledger writer: its own people, each moved again and again; every acknowledged position is noted;
  * expensive requests without a token: 60-minute isochrones and long routes from random origins;
  * slow clients from this one address: --slow connections sending a header byte now and then, and
    --sse event-stream subscribers that never read;
  * garbage: malformed and oversized feed bodies, wrong tokens, traversal paths, bad query strings
    (a feed batch answers 200 with its records rejected one by one; any 5xx other than an admission
    503, or a crash, fails the soak).
A probe asks /health and one cached tile on a new connection every second (latency p50/p99/max) and
reads the server's resident memory every 10 s.

At the end the simulator and the attackers stop, the server is killed with SIGKILL and restarted on the
same store and log, and every ledger person must be where its last acknowledged update put it. Memory is
flat when the median of the last fifth of the samples is within 15% of the median of the second fifth
(the first fifth is warm-up: caches and the crowd filling). Exit status 0 when both hold.
"""
import argparse, http.client, json, os, random, shutil, signal, socket, statistics, subprocess, sys
import tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--minutes", type=float, default=30)
scratch.add_build_args(ap)
ap.add_argument("--pilgrims", type=int, default=100000)
ap.add_argument("--rate", type=int, default=20000)
ap.add_argument("--slow", type=int, default=2000, help="slow connections held open from this address")
ap.add_argument("--sse", type=int, default=200, help="event-stream subscribers that never read")
ap.add_argument("--expensive", type=int, default=4, help="threads sending isochrones and routes")
ap.add_argument("--ledger", type=int, default=2000, help="people of the ledger writer")
ap.add_argument("--out", default="", help="write the figures as JSON here too")
ap.add_argument("serve_args", nargs="*", help="extra options for mashaer serve (after --)")
args = ap.parse_args()

MINA = (39.8925, 21.4131)
stop = threading.Event()
lock = threading.Lock()
stats = {"expensive": {}, "garbage": {}, "garbage_5xx": [], "slow_opened": 0, "sse_opened": 0,
         "ledger_acked": 0, "ledger_refused": 0, "probe_fail": 0}
probe_health, probe_tile, rss = [], [], []


def count(group, key):
    with lock:
        stats[group][key] = stats[group].get(key, 0) + 1


def rss_kb(pid):
    return scratch.memory_kb(pid).get("VmRSS", 0)


# ---------------------------------------------------------------- set-up
work = tempfile.mkdtemp(prefix="msh-soak-")
db = os.path.join(work, "soak.sqlite")
live = os.path.join(work, "live")
scratch.import_layers(args.mashaer, db, scratch.demo_layers(args.source_dir), args.source_dir)
feed_token, ledger_token, ops_token = (scratch.token(args.mashaer, db, role, name) for role, name in
                                       (("feed", "soak-sim"), ("feed", "soak-ledger"), ("ops", "soak-ops")))
servers = []


def start_server():
    """The server with its default per-client limits (the attackers share this address with the probe
    and the ledger: what the limits do to them is part of the soak); a restart takes the same port."""
    with open(os.path.join(work, "serve.log"), "a") as log:
        srv, p = scratch.serve(args, db, "--live-dir", live, *args.serve_args, port=port, stderr=log,
                               lift_client_limits=False)
    servers.append(srv)
    return srv, p


port = 0
srv, port = start_server()


def cleanup():
    for p in servers + children:
        if p.poll() is None:
            p.kill()
    shutil.rmtree(work, ignore_errors=True)


children = []
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


# Who is who: the expensive requests and the garbage come from ATTACKER, the probe (another client
# that must keep being answered) from PROBE; the simulator and the ledger post with feed tokens from
# 127.0.0.1; the slow and silent connections from SLOW, so that they do not use up ATTACKER's budget.
ATTACKER, PROBE, SLOW = "127.0.0.3", "127.0.0.2", "127.0.0.4"


def request(method, path, body=None, headers=None, timeout=30, src=ATTACKER):
    status, _, data = scratch.request(port, method, path, body, headers, timeout, src=src)
    return status, data


# ---------------------------------------------------------------- the crowd and the ledger
def simulator():
    env = dict(os.environ, MASHAER_TOKEN=feed_token)
    p = subprocess.Popen([args.mashaer, "simulate", "--url", "http://127.0.0.1:%d" % port, "-q",
                          "--pilgrims", str(args.pilgrims), "--rate", str(args.rate)], env=env,
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "simulate.log"), "w"))
    children.append(p)


last_acked = {}  # ledger id -> (lon, lat) of its last acknowledged update


def ledger():
    rnd = random.Random(11)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    step = 0
    while not stop.is_set():
        step += 1
        batch = {}
        for i in rnd.sample(range(args.ledger), min(500, args.ledger)):
            batch["L-%05d" % i] = (round(MINA[0] + rnd.uniform(-0.02, 0.02), 6), round(MINA[1] + rnd.uniform(-0.012, 0.012), 6))
        now = int(time.time() * 1000)
        body = "".join('{"id":"%s","lon":%.6f,"lat":%.6f,"time":%d}\n' % (k, v[0], v[1], now) for k, v in batch.items())
        try:
            c.request("POST", "/feeds/positions", body, {"Authorization": "Bearer " + ledger_token,
                                                        "Content-Type": "application/x-ndjson"})
            r = c.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        if r.status == 200 and json.loads(data).get("accepted") == len(batch):
            with lock:
                last_acked.update(batch)
                stats["ledger_acked"] += 1
        else:
            with lock:
                stats["ledger_refused"] += 1
        stop.wait(0.2)


# ---------------------------------------------------------------- attackers
def expensive(seed):
    rnd = random.Random(seed)
    while not stop.is_set():
        lon, lat = MINA[0] + rnd.uniform(-0.03, 0.03), MINA[1] + rnd.uniform(-0.02, 0.02)
        if rnd.random() < 0.6:
            path = "/isochrone?lon=%.5f&lat=%.5f&minutes=60" % (lon, lat)
        else:
            path = "/route?from=%.5f,%.5f&to=%.5f,%.5f" % (lon, lat, 39.9840, 21.3549)
        try:
            status, _ = request("GET", path, timeout=120)
            count("expensive", str(status))
        except (OSError, http.client.HTTPException) as e:
            count("expensive", type(e).__name__)
            stop.wait(0.05)


def slow_clients():
    socks = []
    while not stop.is_set():
        while len(socks) < args.slow and not stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(SLOW, 0))
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
                with lock:
                    stats["slow_opened"] += 1
            except OSError:
                break
        alive = []
        for s in socks:  # one more header byte now and then
            try:
                s.sendall(b"X")
                alive.append(s)
            except OSError:
                s.close()
        socks = alive
        stop.wait(5)
    for s in socks:
        s.close()


def sse_clients():
    socks = []
    while not stop.is_set():
        while len(socks) < args.sse and not stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(SLOW, 0))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
                socks.append(s)
                with lock:
                    stats["sse_opened"] += 1
            except OSError:
                break
        stop.wait(10)
    for s in socks:
        s.close()


GARBAGE = [
    ("POST", "/feeds/positions", b'{"id":"x","lon":1e999,"lat":"a"}\n', True),
    ("POST", "/feeds/positions", b"[" * 100000, True),
    ("POST", "/feeds/positions", b'{"id":"' + b"A" * 70000 + b'","lon":39.9,"lat":21.4}\n', True),
    ("POST", "/feeds/positions", b'{"id":"x","lon":39.9,"lat":21.4}\n', False),  # wrong token
    ("POST", "/feeds/nosuchfeed", b'{"id":"x"}\n', True),
    ("GET", "/../../etc/passwd", None, False),
    ("GET", "/%2e%2e/%2e%2e/etc/passwd", None, False),
    ("GET", "/tiles/sites/99/1/1.mvt", None, False),
    ("GET", "/tiles/" + "a," * 5000 + "/1/1/1.mvt", None, False),
    ("GET", "/isochrone?lon=nan&lat=21.4&minutes=10", None, False),
    ("GET", "/route?from=1e308,1e308&to=0,0", None, False),
    ("GET", "/query/nearest?lon=39.9&lat=21.4&layer=assets&k=99999999", None, False),
    ("GET", "/ogc/collections/sites/items?bbox=1,2,3&limit=-5", None, False),
    ("GET", "/entities/P-0000001", None, False),  # no token
]


def garbage():
    rnd = random.Random(5)
    while not stop.is_set():
        method, path, body, good_token = rnd.choice(GARBAGE)
        headers = {"Authorization": "Bearer " + (ledger_token if good_token else "wrong-%d" % rnd.randrange(1 << 30))}
        try:
            status, _ = request(method, path, body, headers)
        except (OSError, http.client.HTTPException) as e:
            count("garbage", type(e).__name__)
            stop.wait(0.05)
            continue
        count("garbage", str(status))
        if status >= 500 and status != 503:
            with lock:
                stats["garbage_5xx"].append("%s %s -> %d" % (method, path[:60], status))
        stop.wait(0.01)


def probe():
    tile = "/tiles/sites/14/10007/7193.mvt"
    request("GET", tile, src=PROBE)  # into the cache
    t_rss = 0.0
    while not stop.is_set():
        for path, out in (("/health", probe_health), (tile, probe_tile)):
            t0 = time.monotonic()
            try:
                status, _ = request("GET", path, timeout=60, src=PROBE)
                ok = status == 200
            except (OSError, http.client.HTTPException):
                ok = False
            if ok:
                out.append((time.monotonic() - t0) * 1000)
            else:
                with lock:
                    stats["probe_fail"] += 1
        if time.monotonic() - t_rss >= 10:
            t_rss = time.monotonic()
            rss.append(rss_kb(srv.pid))
        stop.wait(1)


def pct(xs, q):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 1) if xs else None


def progress(t0, total):
    done = time.monotonic() - t0
    bar = int(30 * done / total)
    sys.stderr.write("\rsoak [%s%s] %4.0f/%.0f s  rss %d MB  health p99 %s ms  ledger %d  expensive %s   " % (
        "#" * bar, "." * (30 - bar), done, total, (rss[-1] if rss else 0) // 1024, pct(probe_health[-60:], 0.99),
        stats["ledger_acked"], dict(stats["expensive"])))
    sys.stderr.flush()


def main():
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    simulator()
    threads = [threading.Thread(target=f, args=a, daemon=True) for f, a in
               [(ledger, ()), (slow_clients, ()), (sse_clients, ()), (garbage, ()), (probe, ())] +
               [(expensive, (i,)) for i in range(args.expensive)]]
    for t in threads:
        t.start()
    total = args.minutes * 60
    t0 = time.monotonic()
    while time.monotonic() - t0 < total and srv.poll() is None:
        time.sleep(min(5, max(0.1, total - (time.monotonic() - t0))))
        progress(t0, total)
    sys.stderr.write("\n")
    crashed = srv.poll() is not None
    stop.set()
    children[0].send_signal(signal.SIGINT)
    children[0].wait(timeout=60)
    for t in threads:
        t.join(timeout=130)
    # the test of durability: kill -9, restart on the same store and log, read every ledger person back
    srv.kill()
    srv.wait()
    _, _ = start_server()
    lost = []
    with lock:
        expect = dict(last_acked)
    for pid, (lon, lat) in sorted(expect.items()):
        status, data = request("GET", "/entities/" + pid, headers={"Authorization": "Bearer " + ops_token}, src=PROBE)
        got = json.loads(data) if status == 200 else {}
        geom = got.get("geometry", {}).get("coordinates") or [got.get("lon"), got.get("lat")]
        if status != 200 or geom[0] is None or abs(geom[0] - lon) > 1e-6 or abs(geom[1] - lat) > 1e-6:
            lost.append((pid, status, (lon, lat), geom))
    n = len(rss)
    early = statistics.median(rss[n // 5:2 * n // 5]) if n >= 5 else None
    late = statistics.median(rss[4 * n // 5:]) if n >= 5 else None
    flat = early is not None and late <= early * 1.15
    fig = {
        "minutes": args.minutes, "crashed": crashed,
        "health_ms": {"p50": pct(probe_health, 0.5), "p99": pct(probe_health, 0.99), "max": pct(probe_health, 1.0), "n": len(probe_health)},
        "cached_tile_ms": {"p50": pct(probe_tile, 0.5), "p99": pct(probe_tile, 0.99), "max": pct(probe_tile, 1.0), "n": len(probe_tile)},
        "rss_mb": {"early_median": early and round(early / 1024), "late_median": late and round(late / 1024),
                   "max": rss and round(max(rss) / 1024), "flat": flat},
        "ledger": {"batches_acked": stats["ledger_acked"], "refused": stats["ledger_refused"],
                   "people_checked": len(expect), "lost": len(lost), "first_lost": lost[:5]},
        "expensive": stats["expensive"], "garbage": stats["garbage"], "garbage_5xx": stats["garbage_5xx"][:10],
        "slow_opened": stats["slow_opened"], "sse_opened": stats["sse_opened"], "probe_fail": stats["probe_fail"],
    }
    print(json.dumps(fig, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(fig, f, indent=2)
    ok = not crashed and not lost and flat and not stats["garbage_5xx"]
    print("soak_hostile: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


try:
    sys.exit(main())
finally:
    cleanup()
