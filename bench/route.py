#!/usr/bin/env python3
"""route.py: walking routes and nearest-by-walking queries, Mashaer against pgRouting, in one run.

    /usr/bin/python3 bench/route.py [--pairs 500] [--people 200000] [--seconds 10] [--keep]

What it does (every service on a private folder and port, stopped at the end):
  1. imports the walking network (data/demo walkways + site_walkways) and the assets into a
     SpatiaLite store and starts `mashaer serve`;
  2. live costs: posts --people tracked people packed along the walkways near the Grand Mosque
     (many cells reach level of service E and F) and five incidents, and waits until the
     routes use them;
  3. starts PostgreSQL 15 + PostGIS + pgRouting, loads the same edges (spheroid lengths,
     pgr_createTopology);
  4. the same random pairs of network nodes (largest connected part) are routed by
     pgr_dijkstra, one call per route as a routing service makes it, timed by psql, and by
     Mashaer's GET /route over HTTP (keep-alive, one client): p50/p99 and the ratio;
  5. throughput: wrk (2 threads, 8 connections) over the same routes, and over
     GET /query/nearest (3 nearest working water points from random points on the network).
Prints a Markdown table; the figures in docs/BENCHMARKS.md come from it.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import pgsupport  # noqa: E402  (the tests' PostgreSQL helper: one way to run it)


def log(msg):
    print("route.py: " + msg, file=sys.stderr, flush=True)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def start_mashaer(binary, db, work):
    err = open(os.path.join(work, "serve.log"), "wb")
    p = subprocess.Popen([binary, "serve", "--db", db, "--port", "0", "--reload-ms", "200", "--cache-mb", "0",
                          "--rate-per-client", "0", "--rate-per-token", "0", "--max-conn-per-client", "0"],
                         stdout=subprocess.PIPE, stderr=err)
    line = p.stdout.readline().decode()
    m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not m:
        raise SystemExit("mashaer serve did not start: %r" % line)
    return p, int(m.group(1))


def post(port, token, feed, records):
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("POST", "/feeds/" + feed, body=body,
              headers={"Authorization": "Bearer " + token, "Content-Type": "application/x-ndjson"})
    r = c.getresponse()
    doc = json.loads(r.read())
    c.close()
    if r.status != 200:
        raise SystemExit("POST /feeds/%s: %d %r" % (feed, r.status, doc))
    return doc


def wrk(port, paths, seconds, work, name):
    if not shutil.which("wrk"):
        log("wrk not installed (apt-get install wrk): no throughput figure for " + name)
        return None
    f = os.path.join(work, name + ".paths")
    with open(f, "w") as out:
        out.write("\n".join(paths) + "\n")
    p = subprocess.run(["wrk", "-t2", "-c8", "-d%ds" % seconds, "-s", os.path.join(HERE, "tiles.lua"),
                        "http://127.0.0.1:%d" % port, "--", f, "2"], stdout=subprocess.PIPE, text=True)
    m = re.search(r"BENCH (.*)", p.stdout)
    if not m:
        raise SystemExit("wrk output without a BENCH line:\n" + p.stdout)
    return {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mashaer", default=os.path.join(ROOT, "build", "mashaer"))
    ap.add_argument("--pairs", type=int, default=500)
    ap.add_argument("--people", type=int, default=200000)
    ap.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mashaer-bench-route-")
    db = os.path.join(work, "bench.sqlite")
    srv = pg = None
    try:
        for name in ("walkways", "site_walkways", "assets"):
            subprocess.run([a.mashaer, "import", "--db", db, "--layer", name,
                            os.path.join(ROOT, "data", "demo", name + ".geojson")],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        token = subprocess.run([a.mashaer, "token", "add", "--db", db, "--role", "feed", "--name", "bench"],
                               check=True, stdout=subprocess.PIPE, text=True).stdout.split()[0]
        srv, port = start_mashaer(a.mashaer, db, work)
        log("mashaer on port %d" % port)

        log("PostgreSQL + PostGIS + pgRouting")
        pg = pgsupport.Postgres().start()
        pg.psql("postgres", "CREATE DATABASE routes")
        pg.psql("routes", "CREATE EXTENSION postgis; CREATE EXTENSION pgrouting;")
        for name in ("walkways", "site_walkways"):
            pg.load("routes", os.path.join(ROOT, "data", "demo", name + ".geojson"), name, "-nlt", "LINESTRING")
        pg.psql("routes", """
            CREATE TABLE edges AS SELECT row_number() OVER ()::int AS id, geom FROM
              (SELECT geom FROM walkways UNION ALL SELECT geom FROM site_walkways) s;
            ALTER TABLE edges ADD COLUMN source int, ADD COLUMN target int, ADD COLUMN cost float8;
            UPDATE edges SET cost = ST_Length(geom::geography, true);
            SELECT pgr_createTopology('edges', 0.0000001, 'geom', 'id', clean := true);
            CREATE INDEX ON edges (source); CREATE INDEX ON edges (target); ANALYZE edges;""")
        rows = pg.psql("routes", """
            WITH c AS (SELECT * FROM pgr_connectedComponents('SELECT id, source, target, cost, cost AS reverse_cost FROM edges')),
                 big AS (SELECT component FROM c GROUP BY component ORDER BY count(*) DESC LIMIT 1)
            SELECT v.id, ST_X(v.the_geom), ST_Y(v.the_geom) FROM edges_vertices_pgr v JOIN c ON c.node = v.id
             WHERE c.component = (SELECT component FROM big)""")
        nodes = [(int(r[0]), float(r[1]), float(r[2])) for r in rows]
        rnd = random.Random(a.seed)

        # live costs: people along the walkways around the Grand Mosque, some cells at LOS F
        near = [n for n in nodes if abs(n[1] - 39.8262) < 0.012 and abs(n[2] - 21.4225) < 0.012]
        now = int(time.time() * 1000)
        sent = 0
        while sent < a.people:
            batch = []
            for i in range(min(20000, a.people - sent)):
                n = rnd.choice(near)
                batch.append({"id": "B%07d" % (sent + i), "lon": n[1] + rnd.gauss(0, 0.00004),
                              "lat": n[2] + rnd.gauss(0, 0.00004), "time": now})
            post(port, token, "positions", batch)
            sent += len(batch)
        incs = [{"id": "BENCH-INC-%d" % i, "kind": "medical", "severity": "high", "status": "reported",
                 "lon": n[1], "lat": n[2], "time": now} for i, n in enumerate(rnd.sample(near, 5))]
        post(port, token, "incidents", incs)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def get(path):
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            return r.status, body

        probe = "/route?from=%.7f,%.7f&to=%.7f,%.7f" % (near[0][1], near[0][2], near[-1][1], near[-1][2])
        deadline = time.monotonic() + 30
        live = {}
        while time.monotonic() < deadline:
            st, body = get(probe)
            live = json.loads(body)["properties"] if st == 200 else {}
            if live.get("closed_edges"):
                break
            time.sleep(0.3)
        log("live costs: %s" % {k: live.get(k) for k in ("live_costs", "closed_edges", "slowed_edges")})

        pairs = []
        while len(pairs) < a.pairs:
            s, t = rnd.choice(nodes), rnd.choice(nodes)
            if s[0] != t[0]:
                pairs.append((s, t))
        paths = ["/route?from=%.7f,%.7f&to=%.7f,%.7f" % (s[1], s[2], t[1], t[2]) for s, t in pairs]

        log("pgr_dijkstra: %d routes, one call each" % len(pairs))
        sql = "\\timing on\n" + "".join(
            "SELECT sum(cost) FROM pgr_dijkstra('SELECT id, source, target, cost, cost AS reverse_cost FROM edges', "
            "%d, %d, directed => false);\n" % (s[0], t[0]) for s, t in pairs)
        p = subprocess.run(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "routes"],
                           input=sql, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=3600)
        pg_ms = [float(x) for x in re.findall(r"Time: ([0-9.]+) ms", p.stdout)]
        if len(pg_ms) != len(pairs):
            raise SystemExit("psql timings: %d of %d\n%s" % (len(pg_ms), len(pairs), p.stderr[-1000:]))

        log("Mashaer /route: the same %d routes over HTTP" % len(pairs))
        for path in paths[:50]:  # warm the connection and caches
            get(path)
        ms_ms, found, by_len = [], 0, {}
        for path, (s, t) in zip(paths, pairs):
            t0 = time.perf_counter()
            st, body = get(path)
            dt = (time.perf_counter() - t0) * 1000
            ms_ms.append(dt)
            found += st == 200
            if st == 200:
                km = json.loads(body)["properties"]["network_m"] / 1000
                bucket = next(b for b in (1, 2, 4, 8, 16, 1e9) if km < b)
                by_len.setdefault(bucket, []).append(dt)
        wr = wrk(port, paths, a.seconds, work, "route")

        log("Mashaer /query/nearest")
        flt = urllib.parse.quote("kind='water_point' AND status='working'")
        npaths = ["/query/nearest?lon=%.6f&lat=%.6f&layer=assets&limit=3&filter=%s" % (n[1] + rnd.gauss(0, 1e-4),
                                                                                     n[2] + rnd.gauss(0, 1e-4), flt)
                  for n in rnd.sample(nodes, 2000)]
        ok = sum(get(q)[0] == 200 for q in npaths[:200])
        wn = wrk(port, npaths, a.seconds, work, "nearest")
        conn.close()

        def row(name, xs):
            return "| %s | %.2f | %.2f | %.2f |" % (name, statistics.median(xs), pct(xs, 90), pct(xs, 99))

        print("\n### Walking routes: %d random pairs, %d nodes in the largest part, live costs on (%s closed edges, "
              "%s slowed)\n" % (len(pairs), len(nodes), live.get("closed_edges"), live.get("slowed_edges")))
        print("| per route, ms | p50 | p90 | p99 |\n|---|---|---|---|")
        print(row("pgr_dijkstra, one call per route (psql \\timing)", pg_ms))
        print(row("Mashaer GET /route over HTTP (one client, keep-alive)", ms_ms))
        print("\nMashaer answered %d of %d pairs (a closure can cut a pair off). Ratio of medians: **%.1fx** "
              "(goal 20x); Mashaer p50 %.2f ms (goal < 1), p99 %.2f ms (goal < 5)."
              % (found, len(pairs), statistics.median(pg_ms) / statistics.median(ms_ms), statistics.median(ms_ms),
                 pct(ms_ms, 99)))
        print("\nCost grows with the length of the route (A* settles the nodes inside an ellipse around it), "
              "not with the size of the network:\n\n| route length | routes | p50 ms | p99 ms |\n|---|---|---|---|")
        lo = 0
        for b in sorted(by_len):
            xs = by_len[b]
            print("| %s km | %d | %.2f | %.2f |" % ("%g-%g" % (lo, b) if b < 1e9 else "%g+" % lo, len(xs),
                                                   statistics.median(xs), pct(xs, 99)))
            lo = b
        if wr:
            print("\nwrk 2 threads x 8 connections, %d s over the same routes: **%.0f routes/s**, p50 %.2f ms, p99 %.2f ms"
                  % (a.seconds, wr["rps"], wr["p50_us"] / 1000, wr["p99_us"] / 1000))
        if wn:
            print("\nGET /query/nearest (3 nearest working water points, CQL2 filter; %d of 200 probes answered 200): "
                  "wrk 2 x 8, %d s: **%.0f queries/s** (goal 20,000), p50 %.2f ms, p99 %.2f ms, %d errors"
                  % (ok, a.seconds, wn["rps"], wn["p50_us"] / 1000, wn["p99_us"] / 1000,
                     wn["err_status"] + wn["err_other"]))
    finally:
        if srv:
            srv.terminate()
            srv.wait(30)
        if pg:
            pg.stop()
        if a.keep:
            log("scratch kept in " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
