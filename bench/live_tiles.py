#!/usr/bin/python3
"""Live tiles under load: movement tile latency while positions stream in at full rate,
update-to-tile latency, and ingest with 1,000 idle Server-Sent Events subscribers.

  python3 bench/live_tiles.py [--people N] [--seconds S] [--mashaer build/mashaer]

Needs wrk (apt-get install wrk). Prints the figures; the numbers go into docs/BENCHMARKS.md.
"""
import argparse, http.client, json, math, os, random, re, shutil, signal, socket, subprocess, tempfile, threading, time

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--people", type=int, default=1000000)
ap.add_argument("--seconds", type=float, default=10)
ap.add_argument("--mashaer", default=os.path.join(os.path.dirname(__file__), "..", "build", "mashaer"))
ap.add_argument("--source-dir", default=os.path.join(os.path.dirname(__file__), ".."))
args = ap.parse_args()

work = tempfile.mkdtemp(prefix="msh-live-")
db = os.path.join(work, "bench.sqlite")
subprocess.run([args.mashaer, "import", "-q", "--db", db, "--layer", "sites",
                os.path.join(args.source_dir, "data", "demo", "sites.geojson")], check=True)
token = subprocess.run([args.mashaer, "token", "add", "--db", db, "--role", "feed", "--name", "bench"],
                       check=True, capture_output=True, text=True).stdout.split("\n")[0].strip()
srv = subprocess.Popen([args.mashaer, "serve", "--db", db, "--port", "0", "--snapshot-s", "3600",
                        "--cache-mb", "256", "--rate-per-client", "0", "--rate-per-token", "0", "--max-conn-per-client", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = int(re.search(r":(\d+)$", srv.stdout.readline().strip()).group(1))

def tile(lon, lat, z):
    n = 2 ** z
    s = math.sin(math.radians(lat))
    return z, int((lon + 180) / 360 * n), int((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n)

rnd = random.Random(3)
now = int(time.time() * 1000) - 1000
batches = []
for start in range(0, args.people, 5000):
    lines = ['{"id":"P-%07d","lon":%.6f,"lat":%.6f,"time":%d,"speed":1.0,"heading":%d}'
             % (i, 39.8925 + rnd.gauss(0, 0.006), 21.4131 + rnd.gauss(0, 0.004), now, rnd.randrange(360))
             for i in range(start, min(start + 5000, args.people))]
    batches.append(("\n".join(lines) + "\n").encode())

def post(body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/feeds/positions", body, {"Authorization": "Bearer " + token})
    r = c.getresponse()
    n = json.loads(r.read())["accepted"]
    c.close()
    return n

for b in batches:
    post(b)

stop = threading.Event()
count = [0]
def ingest(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    i = k
    while not stop.is_set():
        c.request("POST", "/feeds/positions", batches[i % len(batches)], {"Authorization": "Bearer " + token})
        r = c.getresponse()
        count[0] += json.loads(r.read())["accepted"]
        i += 2

# movement tiles over the crowd at z14-z16
paths = []
for z in (14, 15, 16):
    _, x0, y0 = tile(39.8925 - 0.012, 21.4131 + 0.008, z)
    _, x1, y1 = tile(39.8925 + 0.012, 21.4131 - 0.008, z)
    paths += ["/tiles/movement/%d/%d/%d.mvt" % (z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
lua = os.path.join(work, "tiles.lua")
with open(os.path.join(work, "paths.txt"), "w") as f:
    f.write("\n".join(paths) + "\n")
with open(lua, "w") as f:
    f.write('local p = {}\nfor l in io.lines("%s") do p[#p+1] = l end\nlocal i = 0\n'
            'request = function() i = i + 1 return wrk.format("GET", p[(i %% #p) + 1]) end\n'
            'done = function(s, lat, req) io.write(string.format("p50_ms %%.2f p99_ms %%.2f\\n", '
            'lat:percentile(50) / 1000, lat:percentile(99) / 1000)) end\n' % os.path.join(work, "paths.txt"))

def wrk(seconds):
    out = subprocess.run(["wrk", "-t1", "-c4", "-d%ds" % seconds, "-s", lua, "http://127.0.0.1:%d" % port],
                         capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50, p99 = map(float, re.search(r"p50_ms ([\d.]+) p99_ms ([\d.]+)", out).groups())
    return rps, p50, p99

idle = wrk(int(args.seconds))
threads = [threading.Thread(target=ingest, args=(k,)) for k in range(2)]
[t.start() for t in threads]
t0 = time.monotonic()
busy = wrk(int(args.seconds))
stop.set()
[t.join() for t in threads]
rate = count[0] / (time.monotonic() - t0)
print("movement tiles (%d tiles z14-z16 over %d people): idle %.0f/s p50 %.2f ms p99 %.2f ms; "
      "while ingesting %.0f updates/s: %.0f/s p50 %.2f ms p99 %.2f ms" % (len(paths), args.people, *idle, rate, *busy))

# update-to-tile latency: a group of 6 appears in an empty spot; poll its z18 tile until it shows
lats = []
for k in range(10):
    lon, lat = 39.95 + k * 0.001, 21.36
    z, x, y = tile(lon, lat, 18)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/tiles/movement/%d/%d/%d.mvt" % (z, x, y))
    r = c.getresponse(); r.read()
    before = r.status
    body = "\n".join('{"id":"U-%d-%d","lon":%.7f,"lat":%.7f,"time":%d}' % (k, i, lon, lat, int(time.time() * 1000))
                     for i in range(6)).encode()
    t0 = time.monotonic()
    post(body)
    while True:
        c.request("GET", "/tiles/movement/%d/%d/%d.mvt" % (z, x, y))
        r = c.getresponse(); r.read()
        if r.status == 200:
            break
        if time.monotonic() - t0 > 5:
            break
    lats.append((time.monotonic() - t0) * 1000)
    c.close()
print("update-to-tile latency (POST acknowledged and the tile shows it): median %.1f ms, max %.1f ms over %d trials"
      % (sorted(lats)[len(lats) // 2], max(lats), len(lats)))

# 1,000 idle SSE subscribers
def ingest_for(seconds):
    n = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        n += post(batches[n // 5000 % len(batches)])
    return n / (time.monotonic() - t0)
base = ingest_for(3)
socks = []
for i in range(1000):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /events HTTP/1.1\r\nHost: b\r\n\r\n")
    socks.append(s)
time.sleep(1)
with_subs = ingest_for(3)
print("ingest with one client: %.0f updates/s alone, %.0f/s with 1,000 idle SSE subscribers (ratio %.2f)"
      % (base, with_subs, with_subs / base))
for s in socks:
    s.close()
srv.send_signal(signal.SIGTERM)
srv.wait(timeout=60)
shutil.rmtree(work, ignore_errors=True)
