#!/usr/bin/python3
"""Heatmap tiles at scale: density heatmaps over 3,000,000 tracked people at Mina and the Jamarat,
uncached (--cache-mb 0), z14..z18 and @2x, kernel heatmaps of the demo assets, then a memory soak.

  python3 bench/heatmap.py [--people N] [--seconds S] [--soak-s S] [--mashaer build/mashaer]

Needs wrk (apt-get install wrk). Prints the figures; the numbers go into docs/BENCHMARKS.md.
"""
import argparse, atexit, http.client, json, math, os, random, re, shutil, signal, subprocess, tempfile, threading, time

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--people", type=int, default=3000000)
ap.add_argument("--seconds", type=float, default=8, help="wrk run per zoom")
ap.add_argument("--soak-s", type=float, default=120, help="memory soak: seconds of rendering")
ap.add_argument("--connections", type=int, default=2)
ap.add_argument("--nice", type=int, default=0,
                help="run the server's threads and wrk at this nice value (e.g. -10 on a box shared with other jobs)")
ap.add_argument("--mashaer", default=os.path.join(os.path.dirname(__file__), "..", "build", "mashaer"))
ap.add_argument("--source-dir", default=os.path.join(os.path.dirname(__file__), ".."))
args = ap.parse_args()

work = tempfile.mkdtemp(prefix="msh-heat-")
db = os.path.join(work, "bench.sqlite")
for layer in ("sites", "assets"):
    subprocess.run([args.mashaer, "import", "-q", "--db", db, "--layer", layer,
                    os.path.join(args.source_dir, "data", "demo", layer + ".geojson")], check=True)
token = subprocess.run([args.mashaer, "token", "add", "--db", db, "--role", "feed", "--name", "bench"],
                       check=True, capture_output=True, text=True).stdout.split("\n")[0].strip()
srv = subprocess.Popen([args.mashaer, "serve", "--db", db, "--port", "0", "--snapshot-s", "3600",
                        "--cache-mb", "0", "--max-body-mb", "64",
                        "--rate-per-client", "0", "--rate-per-token", "0", "--max-conn-per-client", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
port = int(re.search(r":(\d+)$", srv.stdout.readline().strip()).group(1))
atexit.register(lambda: srv.poll() is None and srv.kill())


def renice_server():
    """Every thread of the server (Linux sets priorities per thread)."""
    if args.nice:
        for tid in os.listdir("/proc/%d/task" % srv.pid):
            os.setpriority(os.PRIO_PROCESS, int(tid), args.nice)


def cpu_ms():
    """CPU time the server has used (user + system), ms: a per-tile cost that contention does not inflate."""
    with open("/proc/%d/stat" % srv.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


def rss_mb():
    with open("/proc/%d/status" % srv.pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024.0


def tile(lon, lat, z):
    n = 2 ** z
    s = math.sin(math.radians(lat))
    return int((lon + 180) / 360 * n), int((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n)


# the crowd: 40% on and around the Jamarat bridge (long and narrow), 60% over the Mina camps
JAMARAT, MINA = (39.8728, 21.4214), (39.8933, 21.4133)
rnd = random.Random(7)
now = int(time.time() * 1000) - 1000
t0 = time.monotonic()
batches = []
for start in range(0, args.people, 10000):
    lines = []
    for i in range(start, min(start + 10000, args.people)):
        if i % 5 < 2:
            lon, lat = JAMARAT[0] + rnd.gauss(0, 0.0035), JAMARAT[1] + rnd.gauss(0, 0.0012)
        else:
            lon, lat = MINA[0] + rnd.gauss(0, 0.007), MINA[1] + rnd.gauss(0, 0.005)
        lines.append('{"id":"P-%07d","lon":%.6f,"lat":%.6f,"time":%d,"speed":0.8,"heading":%d}'
                     % (i, lon, lat, now, rnd.randrange(360)))
    batches.append(("\n".join(lines) + "\n").encode())


def post(body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("POST", "/feeds/positions", body, {"Authorization": "Bearer " + token})
    r = c.getresponse()
    n = json.loads(r.read())["accepted"]
    c.close()
    return n


accepted = [0, 0]
def poster(k):
    for b in batches[k::2]:
        accepted[k] += post(b)
threads = [threading.Thread(target=poster, args=(k,)) for k in range(2)]
[t.start() for t in threads]
[t.join() for t in threads]
accepted = [sum(accepted)]
print("loaded %d people in %.1f s; server RSS %.0f MB" % (accepted[0], time.monotonic() - t0, rss_mb()))


def paths_for(kind, z, suffix="", query=""):
    x0, y0 = tile(JAMARAT[0] - 0.012, MINA[1] + 0.012, z)
    x1, y1 = tile(MINA[0] + 0.012, MINA[1] - 0.012, z)
    tiles = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    if len(tiles) > 400:  # an even sample at high zoom
        tiles = tiles[::len(tiles) // 400 + 1]
    return ["/heatmaps/%s/%d/%d/%d%s.png%s" % (kind, z, x, y, suffix, query) for (x, y) in tiles]


def wrk(paths, seconds, conns=None):
    lst = os.path.join(work, "paths.txt")
    with open(lst, "w") as f:
        f.write("\n".join(paths) + "\n")
    lua = os.path.join(work, "heat.lua")
    with open(lua, "w") as f:
        f.write('local p = {}\nfor l in io.lines("%s") do p[#p+1] = l end\nlocal i = 0\n'
                'request = function() i = i + 1 return wrk.format("GET", p[(i %% #p) + 1]) end\n'
                'done = function(s, lat, req) io.write(string.format("p50_ms %%.2f p99_ms %%.2f max_ms %%.2f errs %%d\\n", '
                'lat:percentile(50) / 1000, lat:percentile(99) / 1000, lat.max / 1000, '
                's.errors.status + s.errors.connect + s.errors.read + s.errors.timeout)) '
                'io.write(string.format("errors status %%d connect %%d read %%d timeout %%d\\n", s.errors.status, '
                's.errors.connect, s.errors.read, s.errors.timeout)) end\n' % lst)
    c0 = cpu_ms()
    cmd = (["nice", "-n", str(args.nice)] if args.nice else []) + \
        ["wrk", "-t1", "--timeout", "5s", "-c%d" % (conns or args.connections), "-d%ds" % max(1, int(seconds)),
         "-s", lua, "http://127.0.0.1:%d" % port]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    with open(os.path.join(work, "wrk.out"), "w") as f:
        f.write(out)
    used = cpu_ms() - c0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50, p99, mx, errs = re.search(r"p50_ms ([\d.]+) p99_ms ([\d.]+) max_ms ([\d.]+) errs (\d+)", out).groups()
    return rps, float(p50), float(p99), float(mx), int(errs), used / max(1, total)


def size_of(path):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    assert r.status == 200 and body[:4] == b"\x89PNG", (path, r.status, body[:200])
    return len(body)


renice_server()
print("uncached (--cache-mb 0), wrk -t1 -c%d, %g s per row%s" % (args.connections, args.seconds,
                                                               ", server and wrk at nice %d" % args.nice if args.nice else ""))
print("| tiles | z | tiles in the set | mean PNG bytes | requests/s | p50 ms | p99 ms | max ms | server CPU ms/tile |")
print("|---|---|---|---|---|---|---|---|---|")
rows = [("density", z, "", "") for z in (14, 15, 16, 17, 18)]
rows += [("density", 16, "@2x", ""), ("density", 16, "", "?mode=cells")]
rows += [("assets", z, "", "?radius=50") for z in (14, 16, 18)]
rows += [("assets", 14, "", "?radius=200&weight=capacity&max=100")]
worst = 0.0
for kind, z, suffix, query in rows:
    paths = paths_for(kind, z, suffix, query)
    mean = sum(size_of(p) for p in paths[:20]) / min(20, len(paths))
    rps, p50, p99, mx, errs, cpu = wrk(paths, args.seconds)
    if errs:
        print("(wrk in the next row: %s)" % re.search(r"errors status.*", open(os.path.join(work, "wrk.out")).read()).group(0))
    if kind == "density":
        worst = max(worst, p99)
    print("| %s%s%s | %d | %d | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |" % (kind, suffix, query, z, len(paths), mean, rps,
                                                                          p50, p99, mx, cpu))
print("density heatmap p99, worst row: %.2f ms (goal < 30 ms): %s; load average while measuring: %s"
      % (worst, "met" if worst < 30 else "NOT met", open("/proc/loadavg").read().split()[0]))

# memory soak: render density and kernel tiles for soak_s while positions keep arriving
mix = paths_for("density", 15) + paths_for("density", 17) + paths_for("density", 16, "@2x") + \
    paths_for("assets", 16, "", "?radius=80")
stop = threading.Event()
def keep_posting():
    i = 0
    while not stop.is_set():
        post(batches[i % len(batches)])
        i += 1
wrk(mix, 5)  # warm up: allocator pools at their working size
before = rss_mb()
ing = threading.Thread(target=keep_posting)
ing.start()
samples = []
t_end = time.monotonic() + args.soak_s
while time.monotonic() < t_end:
    r = wrk(mix, min(20, max(1, t_end - time.monotonic())))
    samples.append((rss_mb(), r[0]))
stop.set()
ing.join()
after = rss_mb()
if samples:  # --soak-s 0: no soak
    print("memory soak: %.0f s of rendering (%.0f tiles/s) with positions streaming in: RSS %.1f MB before, %.1f MB "
          "after (%+.1f MB); samples %s" % (args.soak_s, sum(s[1] for s in samples) / len(samples), before, after,
                                           after - before, ", ".join("%.0f" % s[0] for s in samples)))
srv.send_signal(signal.SIGTERM)
srv.wait(timeout=120)
shutil.rmtree(work, ignore_errors=True)
