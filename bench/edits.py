#!/usr/bin/python3
"""Edits benchmark (OGC API - Features Part 4): audited, durable PATCHes of the demo assets, one
client after another and several at once, with the time from each PATCH's answer to its `change`
event on /events and to the changed vector tile; and how many cached tiles survive scattered edits.

  python3 bench/edits.py [--edits N] [--clients C] [--mashaer build/mashaer]

Prints the figures; the numbers go into docs/BENCHMARKS.md.
"""
import argparse, atexit, json, os, random, socket, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--edits", type=int, default=300)
ap.add_argument("--clients", type=int, default=4)
scratch.add_build_args(ap)
args = ap.parse_args()

work, db = scratch.store(args, "msh-edits-", ["assets"])
token = scratch.token(args.mashaer, db, "admin")
srv, port = scratch.serve(args, db)
atexit.register(srv.kill)


def call(method, path, body=None, headers=None):
    return scratch.request(port, method, path, body, dict({"Authorization": "Bearer " + token}, **(headers or {})))


def patch(fid, props):
    return call("PATCH", "/ogc/collections/assets/items/%d" % fid, json.dumps({"properties": props}),
                {"Content-Type": "application/merge-patch+json"})


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100 * len(v)))]


feats = json.loads(call("GET", "/ogc/collections/assets/items?limit=10000")[2])["features"]
rnd = random.Random(7)

# 1. one client: latency and edits/s
lat = []
t0 = time.monotonic()
for i in range(args.edits):
    f = rnd.choice(feats)
    s = time.monotonic()
    st, _, _ = patch(f["id"], {"status": rnd.choice(["working", "faulty", "maintenance"])})
    assert st == 200, st
    lat.append(time.monotonic() - s)
one = args.edits / (time.monotonic() - t0)
print("one client: %.0f edits/s, latency p50 %.1f ms, p99 %.1f ms" % (one, pct(lat, 50) * 1e3, pct(lat, 99) * 1e3))

# 2. several clients at once
done = [0]
lock = threading.Lock()


def worker(n):
    r = random.Random(n)
    for _ in range(args.edits // args.clients):
        f = r.choice(feats)
        assert patch(f["id"], {"status": r.choice(["working", "faulty"])})[0] == 200
        with lock:
            done[0] += 1


t0 = time.monotonic()
ts = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
[t.start() for t in ts]
[t.join() for t in ts]
print("%d clients: %.0f edits/s" % (args.clients, done[0] / (time.monotonic() - t0)))

# 3. answer -> change event, answer -> tile showing the edit
sock = socket.create_connection(("127.0.0.1", port))
sock.sendall(b"GET /events?types=change HTTP/1.1\r\nHost: b\r\n\r\n")
buf = [b""]
got = threading.Event()


def reader():
    while True:
        d = sock.recv(65536)
        if not d:
            return
        buf[0] += d
        if b"event: change" in buf[0]:
            got.set()


threading.Thread(target=reader, daemon=True).start()
time.sleep(0.3)  # the subscription is open (bench only; the tests wait on the retry: frame)
ev, tl = [], []
for i in range(50):
    f = rnd.choice(feats)
    name = "bench-%d" % i
    buf[0] = b""
    got.clear()
    st, _, _ = patch(f["id"], {"name": name})
    s = time.monotonic()
    got.wait(5)
    ev.append(time.monotonic() - s)
    x, y = scratch.tile(f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][1], 16)
    s = time.monotonic()
    while name.encode() not in call("GET", "/tiles/assets/16/%d/%d.mvt" % (x, y))[2]:
        pass
    tl.append(time.monotonic() - s)
print("answer -> change event: p50 %.2f ms, p99 %.2f ms; answer -> tile with the edit: p50 %.2f ms, p99 %.2f ms"
      % (pct(ev, 50) * 1e3, pct(ev, 99) * 1e3, pct(tl, 50) * 1e3, pct(tl, 99) * 1e3))

# 4. cache survival: cache every z16 tile of the assets, make scattered edits, count unchanged ETags
tiles = sorted({scratch.tile(f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][1], 16) for f in feats})
etags = {t: call("GET", "/tiles/assets/16/%d/%d.mvt" % t)[1].get("etag") for t in tiles}
edited = rnd.sample(feats, min(100, len(feats)))
touched = {scratch.tile(f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][1], 16) for f in edited}
for f in edited:
    assert patch(f["id"], {"status": "faulty"})[0] == 200
same = sum(1 for t in tiles if call("GET", "/tiles/assets/16/%d/%d.mvt" % t)[1].get("etag") == etags[t])
print("cache survival: %d edits over %d tiles: %d of %d untouched tiles kept their ETag (%d touched)"
      % (len(edited), len(tiles), same, len(tiles) - len(touched), len(touched)))
