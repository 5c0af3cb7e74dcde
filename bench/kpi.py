#!/usr/bin/python3
"""KPI benchmark: a full recompute of every KPI of every service zone with N tracked people.

  python3 bench/kpi.py [--people 3000000] [--runs 20] [--mashaer build/mashaer]

Imports the demo site (zones, camps, assets, cleaning routes, walkways), starts `mashaer serve`,
posts N people spread over the service zones (weighted by their population capacity), 300
incidents with their lifecycles, every gate, one sensor per zone and 40 cleaning crews, then asks
GET /kpi `--runs` times, more than a second apart so that each request recomputes. Reports the
server's own compute time (`compute_ms` in the answer: the live copy under the read lock, the zone
lookup of every 8.9 m cell, incidents, gates, sensors, cleaning pieces, the composite) as p50/p99,
the first compute apart (it also walks the network for coverage, then cached), and the request
latency seen by the client.
"""
import argparse, http.client, json, math, os, random, re, shutil, signal, subprocess, sys, tempfile, threading, time

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--people", type=int, default=3000000)
ap.add_argument("--runs", type=int, default=20)
ap.add_argument("--clients", type=int, default=4)
ap.add_argument("--batch", type=int, default=5000)
ap.add_argument("--spread", action="store_true",
                help="everyone alone at a uniform spot of a zone's box (the most occupied cells) instead of in groups")
ap.add_argument("--mashaer", default=os.path.join(os.path.dirname(__file__), "..", "build", "mashaer"))
ap.add_argument("--source-dir", default=os.path.join(os.path.dirname(__file__), ".."))
args = ap.parse_args()

demo = os.path.join(args.source_dir, "data", "demo")
work = tempfile.mkdtemp(prefix="msh-kpi-")
db = os.path.join(work, "bench.sqlite")
for layer in ("service_zones", "camps", "assets", "cleaning_routes", "sites", "walkways", "site_walkways"):
    src = os.path.join(demo, layer + ".geojson")
    if os.path.exists(src):
        subprocess.run([args.mashaer, "import", "-q", "--db", db, "--layer", layer, src], check=True)
token = subprocess.run([args.mashaer, "token", "add", "--db", db, "--role", "feed", "--name", "bench"],
                       check=True, capture_output=True, text=True).stdout.split("\n")[0].strip()
srv = subprocess.Popen([args.mashaer, "serve", "--db", db, "--port", "0", "--snapshot-s", "3600",
                        "--position-max-age", "86400",
                        "--rate-per-client", "0", "--rate-per-token", "0", "--max-conn-per-client", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = int(re.search(r":(\d+)$", srv.stdout.readline().strip()).group(1))


def post(conn, feed, body):
    conn.request("POST", "/feeds/" + feed, body, {"Authorization": "Bearer " + token,
                                                 "Content-Type": "application/x-ndjson"})
    r = conn.getresponse()
    res = json.loads(r.read())
    assert r.status == 200, res
    return res["accepted"]


def ndjson(recs):
    return ("\n".join(json.dumps(r, separators=(",", ":")) for r in recs) + "\n").encode()


def bbox(coords):
    xs = [p[0] for ring in coords for p in ring]
    ys = [p[1] for ring in coords for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


try:
    zones = json.load(open(os.path.join(demo, "service_zones.geojson")))["features"]
    boxes, weights = [], []
    for z in zones:
        g = z["geometry"]
        rings = g["coordinates"] if g["type"] == "Polygon" else [r for p in g["coordinates"] for r in p]
        boxes.append(bbox(rings))
        weights.append(z["properties"].get("population_capacity") or 1)
    rnd = random.Random(11)
    now = int(time.time() * 1000) - 2000
    # people: a zone by its capacity, a spot in its box, and a group of 20-250 standing close together
    t0 = time.monotonic()
    batches, cur, n, cells = [], [], 0, set()
    while n < args.people:
        w, s, e, nn = rnd.choices(boxes, weights)[0]
        lon, lat = rnd.uniform(w, e), rnd.uniform(s, nn)
        for _ in range(1 if args.spread else min(rnd.randint(20, 250), args.people - n)):
            x, y = (lon, lat) if args.spread else (lon + rnd.gauss(0, 0.00012), lat + rnd.gauss(0, 0.00012))
            cells.add((int((x + 180) / 360 * 4194304) << 22) |
                      int((1 - math.asinh(math.tan(math.radians(y))) / math.pi) / 2 * 4194304))
            cur.append('{"id":"P-%07d","lon":%.6f,"lat":%.6f,"time":%d}' % (n, x, y, now))
            n += 1
            if len(cur) == args.batch:
                batches.append(("\n".join(cur) + "\n").encode())
                cur = []
    if cur:
        batches.append(("\n".join(cur) + "\n").encode())
    made_s = time.monotonic() - t0
    lock, sent = threading.Lock(), [0]

    def sender(items):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        k = 0
        for body in items:
            k += post(c, "positions", body)
        with lock:
            sent[0] += k

    t0 = time.monotonic()
    ths = [threading.Thread(target=sender, args=(batches[k::args.clients],)) for k in range(args.clients)]
    [t.start() for t in ths]
    [t.join() for t in ths]
    load_s = time.monotonic() - t0
    assert sent[0] == args.people, sent

    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    assets = json.load(open(os.path.join(demo, "assets.geojson")))["features"]
    gates = [a for a in assets if a["properties"]["kind"] == "gate"]
    recs = []
    for gi, gte in enumerate(gates):
        gid, cap = gte["properties"]["asset_id"], gte["properties"].get("capacity") or 1000
        recs.append({"id": gid, "in": 0, "out": 0, "capacity": cap, "time": now - 60000})
        recs.append({"id": gid, "in": rnd.randint(0, cap // 40), "out": rnd.randint(0, cap // 80), "time": now})
    post(c, "gates", ndjson(recs))
    recs = []
    for zi, (w, s, e, nn) in enumerate(boxes):
        recs.append({"id": "SENS-%d" % zi, "lon": (w + e) / 2, "lat": (s + nn) / 2, "time": now,
                     "temperature": round(rnd.uniform(34, 45), 1)})
    post(c, "sensors", ndjson(recs))
    recs = []
    sev = ["informational", "low", "medium", "high", "critical"]
    for i in range(300):
        w, s, e, nn = rnd.choice(boxes)
        lon, lat, rep = rnd.uniform(w, e), rnd.uniform(s, nn), now - rnd.randint(10, 20 * 60) * 60000
        base = {"id": "INC-%04d" % i, "kind": "medical", "severity": rnd.choice(sev), "lon": lon, "lat": lat}
        recs.append(dict(base, status="reported", time=rep))
        if rnd.random() < 0.9:
            recs.append(dict(base, status="on_scene", time=rep + rnd.randint(60, 1200) * 1000))
        if rnd.random() < 0.7:
            recs.append(dict(base, status="resolved", time=rep + rnd.randint(1300, 7200) * 1000))
    post(c, "incidents", ndjson(recs))
    routes = json.load(open(os.path.join(demo, "cleaning_routes.geojson")))["features"]
    for step in range(10):   # 40 crews walking their routes, 10 reports each
        recs = []
        for ci in range(40):
            coords = routes[ci % len(routes)]["geometry"]["coordinates"]
            p = coords[min(step, len(coords) - 1)]
            recs.append({"id": "CREW-%02d" % ci, "kind": "cleaning", "lon": p[0], "lat": p[1],
                         "time": now - (10 - step) * 30000})
        post(c, "crews", ndjson(recs))

    compute, latency, first, waits, copies = [], [], None, [], []
    for i in range(args.runs + 1):
        time.sleep(1.1)   # older than a second: the request recomputes
        t0 = time.monotonic()
        c.request("GET", "/kpi")
        r = c.getresponse()
        doc = json.loads(r.read())
        ms = (time.monotonic() - t0) * 1000
        assert r.status == 200, doc
        if i == 0:
            first = doc["compute_ms"]
            people = doc["overall"]["crowd"]["people"]
            zones_n = doc["zones_count"]
            continue
        compute.append(doc["compute_ms"])
        waits.append(doc["live_wait_ms"])
        copies.append(doc["live_copy_ms"])
        latency.append(ms)

    def pct(v, p):
        v = sorted(v)
        return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]

    print("people %d tracked (%d counted in the KPIs) in %d occupied 8.9 m cells, %d zones; batches made in %.1f s,"
          " posted in %.1f s (%.0f/s)" % (args.people, people, len(cells), zones_n, made_s, load_s, args.people / load_s))
    print("first GET /kpi compute: %.1f ms (network coverage was computed and cached by the recording tick at start)" % first)
    print("full recompute, %d runs: p50 %.1f ms, p99 %.1f ms, max %.1f ms" %
          (len(compute), pct(compute, 50), pct(compute, 99), max(compute)))
    print("  of which waiting for the live read lock: p50 %.1f ms, max %.1f ms; copying cells and items under it:"
          " p50 %.1f ms, max %.1f ms" % (pct(waits, 50), max(waits), pct(copies, 50), max(copies)))
    print("GET /kpi latency (recompute + JSON + HTTP): p50 %.1f ms, p99 %.1f ms" % (pct(latency, 50), pct(latency, 99)))
finally:
    srv.send_signal(signal.SIGTERM)
    try:
        srv.wait(60)
    except subprocess.TimeoutExpired:
        srv.kill()
    shutil.rmtree(work, ignore_errors=True)
